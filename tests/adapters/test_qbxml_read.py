"""The qbXML reader against what QuickBooks really answers: every XML capture in
shared/reference/qbwc/captures, the captured Web Connector log and Intuit's samples read, including the ones
that break Intuit's schema; and anything that is not a qbXML message is refused with one error type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from qbsync.adapters.qbxml.read import Message, QbxmlReadError, Ret, read_message
from qbsync.qbwc import soap
from tests.qbxml_reference import CAPTURES, QBWC, requires_captures, requires_schema, schema_errors

SAMPLES = QBWC / "intuit-samples"


def capture_files() -> list[Path]:
    return sorted(CAPTURES.glob("*.xml")) if CAPTURES.is_dir() else []


def captured(name: str) -> Message:
    """A capture as the reader gets it: a receiveResponseXML envelope gives up its `response` first."""
    data = (CAPTURES / name).read_bytes()
    if b"schemas.xmlsoap.org/soap/envelope/" in data:
        return read_message(soap.parse_request(data).params["response"])
    return read_message(data)


def offset(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# ---------------------------------------------------------------- every capture reads


@requires_captures
@pytest.mark.parametrize("path", capture_files(), ids=lambda p: p.name)
def test_every_xml_capture_reads_with_the_reader(path: Path) -> None:
    message = captured(path.name)
    assert message.responses or message.requests
    for response in message.responses:
        assert response.kind
        assert response.node.tag == f"{response.kind}Rs"
        for ret in response.rets:
            assert ret.id, f"{ret.tag} without ListID or TxnID"
            for moment in (ret.time_created, ret.time_modified):
                assert moment is None or moment.utcoffset() is not None


@requires_captures
def test_all_eighteen_xml_captures_are_read() -> None:
    assert len(capture_files()) == 18


@requires_captures
def test_a_batch_with_an_error_in_the_middle_reads_each_status_and_the_created_customers() -> None:
    message = captured("customer-batch-mixed.response.xml")
    assert [(r.request_id, r.status.code, r.status.severity) for r in message.responses] == [
        ("ext-mix-1", 0, "Info"),
        ("ext-mix-2", 3100, "Error"),
        ("ext-mix-3", 3250, "Error"),
        ("ext-mix-4", 3130, "Error"),
        ("ext-mix-5", 0, "Info"),
    ]
    clash = message.response("ext-mix-2")
    assert clash is not None
    assert (
        clash.status.message == 'The name "HG-BATCH-MIX-1785964184-1" of the list element is already in use.'
    )
    assert clash.rets == ()
    (created,) = message.responses[0].rets
    assert (created.kind, created.list_id, created.txn_id) == ("Customer", "8000274C-1785964190", None)
    assert (created.id, created.edit_sequence) == ("8000274C-1785964190", "1785964190")
    assert (created.name, created.full_name, created.is_active) == (
        "HG-BATCH-MIX-1785964184-1",
        "HG-BATCH-MIX-1785964184-1",
        True,
    )
    # CompanyName before Sublevel breaks the XSD's order (NOTES §5.3): read all the same.
    assert created.text_of("CompanyName") == "Valid first"
    assert created.int_of("Sublevel") == 0
    assert created.time_created == datetime(2026, 8, 5, 16, 43, 30, tzinfo=offset(-4))
    assert created.time_modified == datetime(2026, 8, 5, 20, 43, 30, tzinfo=UTC)
    assert message.response("ext-mix-5") is message.responses[4]
    assert message.response("no-such-request") is None


@requires_captures
def test_the_invalid_reference_text_of_a_3140_reads_with_its_quotes_and_without_the_comment() -> None:
    message = captured("sales_order_add_rs_invalid_record_ref.xml")
    (response,) = message.responses
    assert (response.kind, response.request_id, response.status.code) == ("SalesOrderAdd", None, 3140)
    assert response.status.message == (
        'There is an invalid reference to QuickBooks Customer "Joe Smith" in the SalesOrder.  '
        "QuickBooks error message: Invalid argument.  The specified record does not exist in the list."
    )


@requires_captures
def test_a_query_reads_its_iterator() -> None:
    (started,) = captured("qbxml_gem__customer_query_terator_rs.xml").responses
    assert (started.kind, started.iterator_id, started.iterator_remaining_count) == (
        "CustomerQuery",
        "{eb05f701-e727-472f-8ade-6753c4f67a46}",
        18,
    )
    (last,) = captured("qbxml_gem__purchase_order_query_rs.xml").responses
    assert (last.iterator_id, last.iterator_remaining_count) == ("{ee76b904-7ef8-4b83-9841-63d4715a273b}", 0)
    (po,) = last.rets
    assert (po.kind, po.txn_id, po.edit_sequence) == ("PurchaseOrder", "30-1285640333", "1285640392")


@requires_captures
def test_an_invoice_reads_its_ids_references_amounts_and_lines() -> None:
    (response,) = captured("invoice_add_rs.xml").responses  # escaped inside a real receiveResponseXML
    (invoice,) = response.rets
    assert (invoice.kind, invoice.txn_id, invoice.edit_sequence) == ("Invoice", "C5-1417118624", "1417118624")
    assert invoice.ref_number == "R1TT46883"
    assert invoice.external_guid is None
    assert invoice.time_created == datetime(2014, 11, 27, 18, 3, 44, tzinfo=offset(-2))
    customer = invoice.ref("CustomerRef")
    assert customer is not None
    assert (customer.list_id, customer.full_name) == ("80000013-1416570432", "spree@example.com")
    assert invoice.ref("ClassRef") is None
    assert invoice.decimal_of("BalanceRemaining") == Decimal("206.00")
    assert invoice.date_of("TxnDate") == datetime(2014, 2, 3).date()
    assert invoice.bool_of("IsPaid") is False
    assert invoice.text_of("BillAddress/City") == "Hollywood"
    (line,) = invoice.rets("InvoiceLine")
    assert (line.kind, line.text_of("TxnLineID")) == ("InvoiceLine", "C7-1417118624")
    assert (line.decimal_of("Quantity"), line.decimal_of("Rate")) == (Decimal(2), Decimal("103.00"))
    assert line.text_of("SalesTaxCodeRef/FullName") == "Non"


@requires_captures
def test_a_received_payment_reads_what_it_was_applied_to() -> None:
    (response,) = captured("qbxml_gem__receive_payment_query_rs.xml").responses  # breaks the XSD
    (payment,) = response.rets
    assert (payment.kind, payment.txn_id, payment.ref_number) == ("ReceivePayment", "2484-1263499231", "101")
    assert payment.time_modified == datetime(2010, 10, 3, 19, 15, 35, tzinfo=offset(-8))
    assert payment.decimal_of("TotalAmount") == Decimal("112.35")
    assert payment.text_of("PaymentMethodRef/FullName") == "Visa"
    (applied,) = payment.rets("AppliedToTxn")
    assert (applied.txn_id, applied.text_of("TxnType"), applied.ref_number) == (
        "244B-1263497335",
        "Invoice",
        "OP13988",
    )
    assert applied.decimal_of("Amount") == Decimal("112.35")
    assert payment.rets("DataExt") == ()
    (added,) = captured("receive_payment_add_rs.xml").responses
    assert added.request_id == "0bb737ee-2862-4ab7-8d35-f551f84793c9"
    assert added.rets[0].decimal_of("UnusedPayment") == Decimal("210.00")


@requires_captures
def test_a_customer_list_reads_jobs_under_their_parents() -> None:
    (response,) = captured("customers.xml").responses
    assert len(response.rets) == 146
    assert {r.kind for r in response.rets} == {"Customer"}
    job = next(r for r in response.rets if r.full_name == "Abercrombie, Kristy:Family Room")
    assert (job.name, job.list_id, job.int_of("Sublevel")) == ("Family Room", "160000-933272658", 1)
    parent = job.ref("ParentRef")
    assert parent is not None
    assert (parent.list_id, parent.full_name) == ("150000-933272658", "Abercrombie, Kristy")
    first = response.rets[0]
    assert first.text_of("Email") == "kristy@samplename.com"
    assert first.time_created == datetime(1999, 7, 29, 14, 24, 18, tzinfo=offset(-5))


@requires_captures
def test_item_bill_and_account_queries_read_their_kinds() -> None:
    (items,) = captured("item_inventory_query_rs_raw.xml").responses
    assert (items.kind, len(items.rets), items.rets[0].kind) == ("ItemInventoryQuery", 16, "ItemInventory")
    assert items.rets[0].full_name == "12797"
    (bills,) = captured("LastResponse.xml").responses
    assert [b.txn_id for b in bills.rets] == ["7-1646382259", "16-1646632498", "19-1646632525"]
    assert bills.rets[1].decimal_of("OpenAmount") == Decimal("120.00")
    (accounts,) = captured("qbxml_gem__account_query_rs.xml").responses
    assert [(a.full_name, a.text_of("AccountType")) for a in accounts.rets] == [
        ("Checking", "Bank"),
        ("Accounts Receivable UPDATED", "AccountsReceivable"),
    ]
    assert accounts.rets[1].text_of("Desc") == "Unpaid or unapplied customer "  # values keep their spaces


@requires_captures
def test_the_logged_session_reads_its_hcp_and_its_customer_add_answer() -> None:
    from tests.adapters.test_qbwc_soap import logged_requests

    calls = [soap.parse_request(body) for body in logged_requests()]
    hcp = read_message(calls[3].params["strHCPResponse"])
    assert [r.kind for r in hcp.responses] == ["HostQuery", "CompanyQuery", "PreferencesQuery"]
    assert [r.request_id for r in hcp.responses] == ["0", "1", "2"]
    host = hcp.responses[0].rets[0]
    assert (host.kind, host.text_of("ProductName")) == ("Host", "QuickBooks Pro 2006")
    file_id = next(
        e for e in hcp.responses[1].rets[0].rets("DataExt") if e.text_of("DataExtName") == "FileID"
    )
    assert file_id.text_of("DataExtValue") == "{ee032e95-47f7-2564-096f-2d4545fcb021}"
    (added,) = read_message(calls[10].params["response"]).responses
    assert (added.kind, added.status.code) == ("CustomerAdd", 0)
    assert added.rets[0].list_id


# ---------------------------------------------------------------- message sets and requests


def test_an_error_recovery_answer_reads_its_message_set_status() -> None:
    # Asked with ErrRecovery2's oldMessageSetID = newMessageSetID, when QuickBooks kept nothing (600: "no
    # cleared state to return", NOTES §3.4, §3.6).
    nothing = (
        '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs newMessageSetID="AB1F2395" messageSetStatusCode="600"/>'
        "</QBXML>"
    )
    message = read_message(nothing)
    assert (message.new_message_set_id, message.message_set_status_code, message.responses) == (
        "AB1F2395",
        600,
        (),
    )
    kept = (
        '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs newMessageSetID="AB1F2395" messageSetStatusCode="0">'
        '<CheckAddRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><CheckRet>'
        "<TxnID>1C4-1002340000</TxnID><TimeCreated>2001-10-14T10:00:00-07:00</TimeCreated>"
        "<TimeModified>2001-10-14T10:00:00-07:00</TimeModified><EditSequence>1002340000</EditSequence>"
        "</CheckRet></CheckAddRs></QBXMLMsgsRs></QBXML>"
    )
    stored = read_message(kept)
    assert stored.message_set_status_code == 0
    assert stored.responses[0].rets[0].txn_id == "1C4-1002340000"


@requires_schema
def test_the_error_recovery_answers_built_here_are_what_intuits_schema_allows() -> None:
    assert (
        schema_errors('<QBXML><QBXMLMsgsRs newMessageSetID="AB1F2395" messageSetStatusCode="600"/></QBXML>')
        == []
    )


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"Intuit's samples are not at {SAMPLES}")
def test_intuits_samples_read_as_request_messages() -> None:
    recovery = read_message((SAMPLES / "ErrRecovery2.xml").read_bytes())
    assert (recovery.old_message_set_id, recovery.new_message_set_id, recovery.requests) == (
        "AB1F2395",
        "AB1F2395",
        (),
    )
    check = read_message((SAMPLES / "ErrRecovery1.xml").read_bytes())
    assert (check.new_message_set_id, check.old_message_set_id, check.on_error) == (
        "AB1F2395",
        None,
        "continueOnError",
    )
    assert [(r.tag, r.attributes["requestID"]) for r in check.requests] == [("CheckAddRq", "1")]
    assert check.requests[0].text_of("CheckAdd/ExpenseLineAdd/Amount") == "520.00"
    (host,) = read_message((SAMPLES / "HostQuery.xml").read_bytes()).requests
    assert (host.tag, host.attributes) == ("HostQueryRq", {"requestID": "0"})
    for name in ("CustomerAddRq.xml", "ReceivePaymentAddRq.xml", "ErrRecovery3.xml"):
        assert read_message((SAMPLES / name).read_bytes()).responses == ()


# ---------------------------------------------------------------- lenient, within limits


def test_unknown_and_out_of_order_elements_are_read_without_complaint() -> None:
    message = read_message(
        "<QBXML><SignonMsgsRs/><QBXMLMsgsRs><VendorAddRs statusCode='0' requestID='v1' retCount='1'>"
        "<Surprise>ignored</Surprise><VendorRet><IsActive>false</IsActive><Name>Acme</Name>"
        "<ExternalGUID>{0ac3d0de-7f4b-5c1a-9e2b-1d3c5e7f9a0b}</ExternalGUID><ListID>80000001-1700000000</ListID>"
        "<NewField2031>x</NewField2031></VendorRet></VendorAddRs></QBXMLMsgsRs></QBXML>"
    )
    (response,) = message.responses
    assert (response.kind, response.ret_count, response.status.severity, response.status.message) == (
        "VendorAdd",
        1,
        "",
        "",
    )
    (vendor,) = response.rets
    assert (vendor.list_id, vendor.is_active, vendor.name) == ("80000001-1700000000", False, "Acme")
    assert vendor.external_guid == "{0ac3d0de-7f4b-5c1a-9e2b-1d3c5e7f9a0b}"
    assert vendor.text_of("NewField2031") == "x"
    assert response.node.text_of("Surprise") == "ignored"


def test_a_removal_answer_reads_its_ids_from_the_response_itself() -> None:
    (voided,) = read_message(
        '<QBXML><QBXMLMsgsRs><TxnDelRs requestID="d1" statusCode="0" statusSeverity="Info">'
        "<TxnDelType>ReceivePayment</TxnDelType><TxnID>B7-1417040299</TxnID>"
        "<TimeDeleted>2026-01-02T03:04:05-05:00</TimeDeleted></TxnDelRs></QBXMLMsgsRs></QBXML>"
    ).responses
    assert voided.rets == ()
    assert voided.node.text_of("TxnID") == "B7-1417040299"
    assert voided.node.datetime_of("TimeDeleted") == datetime(2026, 1, 2, 8, 4, 5, tzinfo=UTC)


def test_a_message_given_as_text_or_bytes_reads_the_same_whatever_its_declaration_says() -> None:
    body = (
        "<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode='0'><CustomerRet><ListID>1-2</ListID>"
        "<Name>Café Noël</Name></CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
    )
    utf8 = '<?xml version="1.0" encoding="utf-8"?>' + body
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    for message in (
        read_message(utf8),
        read_message(latin1),  # a str is already decoded: its declaration no longer applies
        read_message(utf8.encode("utf-8")),
        read_message(latin1.encode("latin-1")),
    ):
        assert message.responses[0].rets[0].name == "Café Noël"


def test_typed_fields_that_are_not_what_they_say_raise_only_when_read() -> None:
    (response,) = read_message(
        "<QBXML><QBXMLMsgsRs><InvoiceQueryRs statusCode='0'><InvoiceRet><TxnID>5-6</TxnID>"
        "<TimeModified>2026-01-02T03:04:05</TimeModified><TimeCreated>yesterday</TimeCreated>"
        "<Subtotal>NaN</Subtotal><IsPaid>maybe</IsPaid><TxnDate>2026-13-01</TxnDate>"
        "</InvoiceRet></InvoiceQueryRs></QBXMLMsgsRs></QBXML>"
    ).responses
    (invoice,) = response.rets
    assert invoice.txn_id == "5-6"  # the rest of the Ret is still there
    with pytest.raises(QbxmlReadError, match="TimeModified has no UTC offset"):
        _ = invoice.time_modified
    with pytest.raises(QbxmlReadError, match="TimeCreated is not a date and time"):
        _ = invoice.time_created
    with pytest.raises(QbxmlReadError, match="Subtotal is not a number"):
        invoice.decimal_of("Subtotal")
    with pytest.raises(QbxmlReadError, match="IsPaid is not true or false"):
        invoice.bool_of("IsPaid")
    with pytest.raises(QbxmlReadError, match="TxnDate is not a date"):
        invoice.date_of("TxnDate")
    assert isinstance(invoice, Ret)


NOT_QBXML = {
    "empty": "",
    "blank": "  \n ",
    "not XML": "QuickBooks found an error when parsing the provided XML text stream.",
    "truncated": "<QBXML><QBXMLMsgsRs><CustomerAddRs statusCode='0'>",
    "a SOAP envelope": '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>',
    "an HTML page": "<html><body>502 Bad Gateway</body></html>",
    "no message set": "<QBXML><SignonMsgsRs/></QBXML>",
    "an entity bomb": (
        '<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
        "<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode='0' statusMessage='&b;'/></QBXMLMsgsRs></QBXML>"
    ),
    "an external entity": (
        '<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode='0' statusMessage='&x;'/></QBXMLMsgsRs></QBXML>"
    ),
    "a bare DOCTYPE": "<!DOCTYPE QBXML><QBXML><QBXMLMsgsRs/></QBXML>",
    "a response without a status": "<QBXML><QBXMLMsgsRs><CustomerAddRs requestID='1'/></QBXMLMsgsRs></QBXML>",
    "a status that is not a number": (
        "<QBXML><QBXMLMsgsRs><CustomerAddRs statusCode='OK'/></QBXMLMsgsRs></QBXML>"
    ),
    "a bad iterator count": (
        "<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode='0' iteratorRemainingCount='many'/>"
        "</QBXMLMsgsRs></QBXML>"
    ),
    "a bad message set status": "<QBXML><QBXMLMsgsRs messageSetStatusCode='x'/></QBXML>",
}


@pytest.mark.parametrize("text", NOT_QBXML.values(), ids=NOT_QBXML.keys())
def test_what_is_not_a_readable_qbxml_message_raises_the_one_read_error(text: str) -> None:
    with pytest.raises(QbxmlReadError) as raised:
        read_message(text)
    assert str(raised.value)
    assert "root:" not in str(raised.value)  # never the file it would have read
