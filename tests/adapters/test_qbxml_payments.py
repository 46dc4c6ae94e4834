"""The qbXML codec's payments back: the queries a Web Connector session sends for payments changed and deleted
in QuickBooks Desktop (held to Intuit's schema by the autouse check of tests/conftest.py), and their answers
read into ReceivedPayment: QuickBooks' captured answers with their exact values, and hand-written Rets for
what no capture shows (credits, deletions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from qbsync.adapters.qbxml import envelope
from qbsync.adapters.qbxml.payments import (
    MAX_RETURNED,
    company_time,
    deleted_payments,
    latest_modified,
    payment_queries,
    payment_query,
    received_payment,
)
from qbsync.adapters.qbxml.read import QbxmlReadError, read_message
from qbsync.domain.payments import AppliedLine, ReceivedPayment
from tests.adapters.test_qbxml_read import captured
from tests.qbxml_reference import requires_captures

PACIFIC_STANDARD = timedelta(hours=-8)  # the offset QuickBooks writes on a US Pacific company's stamps
OK = 'statusCode="0" statusSeverity="Info" statusMessage="Status OK"'


def answer(body: str) -> str:
    return f'<?xml version="1.0" ?><QBXML><QBXMLMsgsRs onError="continueOnError">{body}</QBXMLMsgsRs></QBXML>'


@requires_captures
def test_the_captured_receive_payment_query_reads_into_a_received_payment_with_its_exact_values() -> None:
    [response] = captured("qbxml_gem__receive_payment_query_rs.xml").responses
    [ret] = response.rets

    assert received_payment(ret) == ReceivedPayment(
        quickbooks_id="2484-1263499231",
        quickbooks_version="1286158535",
        customer_quickbooks_id="800002FB-1263497272",
        total_amount=Decimal("112.35"),
        unapplied_amount=Decimal("0.00"),
        txn_date=date(2009, 10, 2),
        method_quickbooks_id="80000005-1257354059",
        reference_number="101",
        deposit_account_quickbooks_id="8000006A-1257362708",
        lines=(AppliedLine("Invoice", "244B-1263497335", Decimal("112.35")),),
        voided=False,
        last_updated=datetime(2010, 10, 3, 19, 15, 35, tzinfo=timezone(timedelta(hours=-8))),
        method_name="Visa",
    )


@requires_captures
def test_the_captured_unapplied_payment_reads_with_all_of_it_unused_and_no_lines() -> None:
    [response] = captured("receive_payment_add_rs.xml").responses

    payment = received_payment(response.rets[0])

    assert (payment.quickbooks_id, payment.total_amount, payment.unapplied_amount, payment.lines) == (
        "B7-1417040299",
        Decimal("210.00"),
        Decimal("210.00"),
        (),
    )
    assert (payment.method_name, payment.reference_number) == ("Check", "R154817935")


def test_the_queries_ask_from_the_wall_time_quickbooks_stamped_with_its_own_offset() -> None:
    # 16:00 UTC in July is 09:00 PDT, which QuickBooks stamps "08:00:00-08:00": the filter must say 08:00.
    since = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)

    payments, deleted = payment_queries(
        since, utc_offset=PACIFIC_STANDARD, payments_request_id="pay", deleted_request_id="gone"
    )
    text = envelope.message([payments, deleted])  # checked against Intuit's schema

    assert payments.get("iterator") == "Start"
    assert payments.findtext("MaxReturned") == str(MAX_RETURNED) == "200"
    assert payments.findtext("ModifiedDateRangeFilter/FromModifiedDate") == "2026-07-01T08:00:00"
    assert payments.findtext("IncludeLineItems") == "true"
    assert "AppliedToTxnRet" in [e.text for e in payments.findall("IncludeRetElement")]
    assert [e.text for e in deleted.findall("TxnDelType")] == ["ReceivePayment"]
    assert deleted.findtext("DeletedDateRangeFilter/FromDeletedDate") == "2026-07-01T08:00:00"
    assert 'requestID="pay"' in text
    assert 'requestID="gone"' in text


def test_the_continue_form_repeats_the_query_under_the_iterator_quickbooks_gave() -> None:
    since = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    start = payment_query("pay", since, utc_offset=PACIFIC_STANDARD)
    more = payment_query("pay-2", since, utc_offset=PACIFIC_STANDARD, iterator_id="{eb05f701-e727}")
    envelope.message([more])  # checked against Intuit's schema

    assert (more.get("iterator"), more.get("iteratorID")) == ("Continue", "{eb05f701-e727}")
    assert [e.tag for e in more] == [e.tag for e in start]
    assert etree.tostring(more.find("ModifiedDateRangeFilter")) == etree.tostring(
        start.find("ModifiedDateRangeFilter")
    )


def test_company_time_refuses_a_time_without_a_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        company_time(datetime(2026, 7, 1, 16, 0), PACIFIC_STANDARD)


def test_credits_used_towards_an_invoice_are_lines_of_their_own_and_part_of_the_invoices_line() -> None:
    message = read_message(
        answer(
            f"<ReceivePaymentQueryRs {OK}>"
            "<ReceivePaymentRet><TxnID>9-1</TxnID><TimeModified>2026-07-01T08:00:00-08:00</TimeModified>"
            "<EditSequence>7</EditSequence><CustomerRef><ListID>80000001-1</ListID></CustomerRef>"
            "<TotalAmount>70.00</TotalAmount><UnusedPayment>0.00</UnusedPayment>"
            "<AppliedToTxnRet><TxnID>1-1</TxnID><TxnType>Invoice</TxnType><Amount>70.00</Amount>"
            "<LinkedTxn><TxnID>5-1</TxnID><TxnType>CreditMemo</TxnType><TxnDate>2026-06-30</TxnDate>"
            "<LinkType>AMTTYPE</LinkType><Amount>-30.00</Amount></LinkedTxn></AppliedToTxnRet>"
            "</ReceivePaymentRet></ReceivePaymentQueryRs>"
        )
    )

    payment = received_payment(message.responses[0].rets[0])

    assert payment.lines == (
        AppliedLine("Invoice", "1-1", Decimal("100.00")),
        AppliedLine("CreditMemo", "5-1", Decimal("30.00")),
    )
    assert (payment.total_amount, payment.unapplied_amount, payment.method_name) == (
        Decimal("70.00"),
        Decimal("0.00"),
        None,
    )


def test_a_ret_that_does_not_name_its_payment_is_a_read_error() -> None:
    message = read_message(
        answer(
            f"<ReceivePaymentQueryRs {OK}>"
            "<ReceivePaymentRet><TxnID>9-1</TxnID><EditSequence>7</EditSequence></ReceivePaymentRet>"
            "</ReceivePaymentQueryRs>"
        )
    )

    with pytest.raises(QbxmlReadError, match="CustomerRef"):
        received_payment(message.responses[0].rets[0])


def test_deleted_payments_and_the_latest_stamp_of_an_answer() -> None:
    message = read_message(
        answer(
            f"<ReceivePaymentQueryRs {OK}>"
            "<ReceivePaymentRet><TxnID>9-1</TxnID><TimeModified>2026-07-01T08:00:00-08:00</TimeModified>"
            "</ReceivePaymentRet></ReceivePaymentQueryRs>"
            f"<TxnDeletedQueryRs {OK}>"
            "<TxnDeletedRet><TxnDelType>ReceivePayment</TxnDelType><TxnID>4-1</TxnID>"
            "<TimeDeleted>2026-07-01T08:30:00-08:00</TimeDeleted></TxnDeletedRet>"
            "<TxnDeletedRet><TxnDelType>Invoice</TxnDelType><TxnID>1-1</TxnID>"
            "<TimeDeleted>2026-07-01T09:00:00-08:00</TimeDeleted></TxnDeletedRet>"
            "</TxnDeletedQueryRs>"
        )
    )
    since = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
    [payments, deleted] = message.responses

    assert deleted_payments(deleted) == ["4-1"]
    latest = latest_modified([payments, deleted], since)
    assert latest == datetime(2026, 7, 1, 16, 30, tzinfo=UTC)  # the payment's deletion, not the invoice's
    assert latest.utcoffset() == PACIFIC_STANDARD  # QuickBooks' own offset, for the next query
    assert latest_modified([], since) is since
