"""Messages as QuickBooks' request processor takes them: refused whole (0x80040400, nothing applied) or run in
order under onError; Intuit's own request samples execute."""

from __future__ import annotations

from decimal import Decimal

import pytest

from local.qbd.company import PRO_2006, Company, RequestProcessorError
from tests.qbd.qbxml import customer_add, message, run
from tests.qbxml_reference import QBWC, requires_schema

PARSE = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
SAMPLES = QBWC / "intuit-samples"
requires_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"Intuit's qbXML samples are not at {SAMPLES}"
)


def refused(company: Company, text: str) -> tuple[str, str]:
    with pytest.raises(RequestProcessorError) as caught:
        company.open_session().process(text)
    return caught.value.hresult, caught.value.message


@requires_schema
def test_a_message_with_two_elements_swapped_is_refused_whole_and_nothing_is_applied() -> None:
    company = Company()
    swapped = (
        '<CustomerAddRq requestID="2"><CustomerAdd><Name>Second</Name><Phone>555</Phone>'
        "<CompanyName>Swapped Inc</CompanyName></CustomerAdd></CustomerAddRq>"
    )

    assert refused(company, message(customer_add("First"), swapped)) == PARSE
    assert company.find("Customer", "First") is None
    assert (company.counters["messages"], company.counters["refused"], company.counters["CustomerAddRq"]) == (
        1,
        1,
        0,
    )


@requires_schema
def test_a_string_longer_than_the_schema_allows_refuses_the_message() -> None:
    company = Company()

    assert refused(company, message(customer_add("N" * 42))) == PARSE
    assert run(company.open_session(), customer_add("N" * 41)).status()[0] == 0


def test_a_message_that_is_not_well_formed_is_refused() -> None:
    assert refused(Company(), message("<CustomerAddRq><CustomerAdd><Name>A</Name></CustomerAddRq>")) == PARSE


def test_a_qbxml_version_above_what_the_product_supports_is_refused() -> None:
    company = Company(product=PRO_2006)

    assert refused(company, message(customer_add("Ada"), version="13.0")) == PARSE
    assert 'statusCode="0"' in company.open_session().process(message(customer_add("Ada"), version="5.0"))


def test_a_character_outside_latin_1_refuses_the_message_and_a_character_reference_becomes_a_question() -> (
    None
):
    company = Company()

    assert refused(company, message(customer_add("Пётр"))) == PARSE
    answer = run(company.open_session(), customer_add("P&#1105;tr &#233;t&#233;"))
    assert answer.text("CustomerRet/Name") == "P?tr été"


def test_stop_on_error_stops_after_the_first_error_and_continue_on_error_runs_all() -> None:
    session = Company().open_session()
    requests = (customer_add("Ada", "1"), customer_add("ada", "2"), customer_add("Bob", "3"))

    stopped = run(session, *requests, on_error="stopOnError")
    session.company.deactivate(session.company.find("Customer", "Ada").id)  # type: ignore[union-attr]
    continued = run(session, customer_add("Cy", "1"), customer_add("ADA", "2"), customer_add("Bob", "3"))

    assert [rs.get("requestID") for rs in stopped.responses] == ["1", "2"]
    assert [continued.status(i)[0] for i in range(3)] == [0, 3100, 0]  # an inactive name is still in use


@requires_samples
def test_the_intuit_customer_add_sample_executes() -> None:
    answer = Company().open_session().process((SAMPLES / "CustomerAddRq.xml").read_text(encoding="utf-8"))

    assert answer.count('statusCode="0"') == 2
    assert "<FullName>Joe Customer:Equipment Installation</FullName>" in answer


@requires_samples
def test_the_intuit_host_query_sample_executes() -> None:
    answer = Company().open_session().process((SAMPLES / "HostQuery.xml").read_text(encoding="utf-8"))

    assert '<HostQueryRs requestID="0" statusCode="0"' in answer
    assert "<ProductName>QuickBooks Pro 2014</ProductName>" in answer


@requires_samples
def test_the_intuit_receive_payment_sample_executes_against_an_invoice_of_that_job() -> None:
    company = Company()
    session = company.open_session()
    company.add_entry("Customer", "Ecker Designs")
    company.add_entry("Customer", "Office Repairs", parent="Ecker Designs")
    company.add_entry("ItemService", "Repairs", SalesOrPurchase={"Price": "100.00", "AccountRef": "Services"})
    invoice = run(
        session,
        "<InvoiceAddRq><InvoiceAdd>"
        "<CustomerRef><FullName>Ecker Designs:Office Repairs</FullName></CustomerRef>"
        "<InvoiceLineAdd><ItemRef><FullName>Repairs</FullName></ItemRef></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>",
    ).text("InvoiceRet/TxnID")
    sample = (SAMPLES / "ReceivePaymentAddRq.xml").read_text(encoding="utf-8")

    as_written = session.process(sample)
    answer = session.process(sample.replace("44F3-1071525107", invoice))

    assert 'statusCode="3120"' in as_written  # the sample's TxnID is from Intuit's own company file
    assert 'statusCode="0"' in answer
    balance = run(session, f"<InvoiceQueryRq><TxnID>{invoice}</TxnID></InvoiceQueryRq>").text(
        "InvoiceRet/BalanceRemaining"
    )
    assert Decimal(balance) == 0


def test_counters_count_messages_and_requests_by_kind() -> None:
    company = Company()

    run(company.open_session(), customer_add("Ada", "1"), customer_add("Bob", "2"), "<CustomerQueryRq/>")

    assert company.counters["messages"] == 1
    assert company.counters["CustomerAddRq"] == 2
    assert company.counters["CustomerQueryRq"] == 1


def test_records_locked_by_a_user_refuse_writes_with_3170_or_3175_at_the_set_rate() -> None:
    company = Company()
    company.lock_records(rate=1.0, seed=7)

    answer = run(company.open_session(), customer_add("Ada"), "<CustomerQueryRq/>")

    assert answer.status(0)[0] in (3170, 3175)
    assert "QuickBooks error message:" in answer.status(0)[2]
    assert answer.status(1)[0] == 1  # nothing was added; queries are not locked out
