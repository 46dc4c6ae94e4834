"""Queries: by id and name, trimmed answers, iterators that die with the session, modified-date filters in the
company's local time."""

from __future__ import annotations

from datetime import UTC, datetime

from local.qbd.company import Company
from tests.qbd.qbxml import customer_add, run


def test_an_iterator_pages_through_continue_until_nothing_remains() -> None:
    session = Company().open_session()
    run(session, *(customer_add(f"Customer {n:02d}", str(n)) for n in range(5)))

    first = run(
        session,
        '<CustomerQueryRq requestID="s" iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>',
    )
    iterator_id = first.responses[0].get("iteratorID")
    pages = [first]
    while pages[-1].responses[0].get("iteratorRemainingCount") != "0":
        pages.append(
            run(
                session,
                f'<CustomerQueryRq requestID="c" iterator="Continue" iteratorID="{iterator_id}">'
                "<MaxReturned>2</MaxReturned></CustomerQueryRq>",
            )
        )

    names = [ret.findtext("Name") for page in pages for ret in page.rets()]
    assert names == [f"Customer {n:02d}" for n in range(5)]
    assert [page.responses[0].get("iteratorRemainingCount") for page in pages] == ["3", "1", "0"]


def test_an_iterator_is_not_valid_in_a_later_session() -> None:
    company = Company()
    session = company.open_session()
    run(session, *(customer_add(f"Customer {n}", str(n)) for n in range(3)))
    first = run(session, '<CustomerQueryRq iterator="Start"><MaxReturned>1</MaxReturned></CustomerQueryRq>')
    iterator_id = first.responses[0].get("iteratorID")
    session.close()

    later = run(
        company.open_session(),
        f'<CustomerQueryRq iterator="Continue" iteratorID="{iterator_id}">'
        "<MaxReturned>1</MaxReturned></CustomerQueryRq>",
    )

    assert later.status() == (3391, "Error", f'The iteratorID "{iterator_id}" is not valid.')


def test_a_query_that_finds_nothing_answers_status_1_as_information() -> None:
    answer = run(
        Company().open_session(),
        '<CustomerQueryRq requestID="1"><MaxReturned>10</MaxReturned></CustomerQueryRq>',
    )

    assert answer.status() == (1, "Info", "A query request did not find a matching object in QuickBooks")


def test_a_name_list_partly_found_answers_500_with_what_was_found() -> None:
    session = Company().open_session()
    run(session, customer_add("Ada"))

    answer = run(
        session, "<CustomerQueryRq><FullName>Ada</FullName><FullName>bleech</FullName></CustomerQueryRq>"
    )

    assert answer.status() == (
        500,
        "Warn",
        "The query request has not been fully completed. "
        'There was a required element ("bleech") that could not be found in QuickBooks.',
    )
    assert [ret.findtext("Name") for ret in answer.rets()] == ["Ada"]


def test_include_ret_element_trims_the_answer_to_the_named_elements() -> None:
    session = Company().open_session()
    run(session, customer_add("Ada", extra="<CompanyName>Engines</CompanyName>"))

    answer = run(
        session,
        "<CustomerQueryRq><FullName>Ada</FullName><IncludeRetElement>ListID</IncludeRetElement>"
        "<IncludeRetElement>EditSequence</IncludeRetElement></CustomerQueryRq>",
    )

    assert [child.tag for child in answer.ret()] == ["ListID", "EditSequence"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.value = now

    def __call__(self) -> datetime:
        return self.value


def test_modified_date_filters_read_company_local_time_across_the_start_of_daylight_saving_time() -> None:
    # US Pacific moved from PST to PDT at 2024-03-10 02:00 local (10:00 UTC).
    clock = Clock(datetime(2024, 3, 10, 9, 30, tzinfo=UTC))  # 01:30 PST
    company = Company(clock=clock)
    session = company.open_session()
    run(session, customer_add("Before"))
    clock.value = datetime(2024, 3, 10, 10, 30, tzinfo=UTC)  # 03:30 PDT
    after = run(session, customer_add("After"))

    since = run(
        session, "<CustomerQueryRq><FromModifiedDate>2024-03-10T02:30:00</FromModifiedDate></CustomerQueryRq>"
    )
    until = run(
        session, "<CustomerQueryRq><ToModifiedDate>2024-03-10T01:59:59</ToModifiedDate></CustomerQueryRq>"
    )

    assert [ret.findtext("Name") for ret in since.rets()] == ["After"]
    assert [ret.findtext("Name") for ret in until.rets()] == ["Before"]
    # local wall time with the zone's standard offset, as the captured ReceivePaymentRet of October 2010 shows
    assert after.text("CustomerRet/TimeModified") == "2024-03-10T03:30:00-08:00"


def test_a_company_can_write_the_true_offset_during_daylight_saving_time() -> None:
    company = Company(clock=Clock(datetime(2024, 7, 1, 19, 0, tzinfo=UTC)), standard_offset_in_dst=False)

    answer = run(company.open_session(), customer_add("Summer"))

    assert answer.text("CustomerRet/TimeCreated") == "2024-07-01T12:00:00-07:00"
    assert answer.text("CustomerRet/EditSequence") == str(
        int(datetime(2024, 7, 1, 19, 0, tzinfo=UTC).timestamp())
    )
    assert answer.text("CustomerRet/ListID").endswith(
        f"-{int(datetime(2024, 7, 1, 19, 0, tzinfo=UTC).timestamp())}"
    )


def test_a_transaction_query_by_ref_number_returns_those_numbers() -> None:
    session = Company().open_session()
    run(session, customer_add("Ada"))
    for number in ("1001", "1002", "1003"):
        run(
            session,
            "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
            f"<RefNumber>{number}</RefNumber></InvoiceAdd></InvoiceAddRq>",
        )

    answer = run(
        session, "<InvoiceQueryRq><RefNumber>1001</RefNumber><RefNumber>1003</RefNumber></InvoiceQueryRq>"
    )

    assert [ret.findtext("RefNumber") for ret in answer.rets()] == ["1001", "1003"]
