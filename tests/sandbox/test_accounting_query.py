"""The query language: the pure parser and evaluator, then `/query` as the recorded traffic uses it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from local.qbo.query import Condition, Order, Query, QuerySyntaxError, QueryValidationError, evaluate, parse
from tests.sandbox.test_accounting_helpers import VCR, Api, code_of, fault, needs_reference, recorded

ZONE = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def api() -> Api:
    return Api()


# ------------------------------------------------------------------------------ parser (pure)


def test_parse_reads_every_clause_case_insensitively() -> None:
    query = parse(
        "select * FROM Customer where Id IN ('5', '6') and Active in ( true, false ) AND Balance >= 10.5 "
        "and Metadata.LastUpdatedTime > '2020-09-29T04:46:06-07:00' orderby DisplayName desc, Id "
        "MAXRESULTS 2 STARTPOSITION 3"
    )
    assert query == Query(
        entity="Customer",
        where=(
            Condition("Id", "in", ("5", "6")),
            Condition("Active", "in", (True, False)),
            Condition("Balance", ">=", (Decimal("10.5"),)),
            Condition("Metadata.LastUpdatedTime", ">", ("2020-09-29T04:46:06-07:00",)),
        ),
        order=(Order("DisplayName", descending=True), Order("Id")),
        start=3,
        max_results=2,
    )


def test_parse_reads_escaped_quotes_count_and_projections() -> None:
    assert parse(r"SELECT * FROM Customer WHERE DisplayName = 'Amy\'s Bird Sanctuary'").where == (
        Condition("DisplayName", "=", ("Amy's Bird Sanctuary",)),
    )
    assert parse("SELECT COUNT(*) FROM Customer").count is True
    assert parse("SELECT *, Sku FROM Item").fields == ("Sku",)
    projection = parse("select Id, DisplayName from Vendor")
    assert (projection.star, projection.fields) == (False, ("Id", "DisplayName"))
    assert parse("select * from Item maxresults 5000").max_results == 1000


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELECT * FROM", 'Encountered "<EOF>" at line 1, column 14.'),
        ("SELECT * FROM Customer WHERE", 'Encountered "<EOF>" at line 1, column 29.'),
        ("SELECT * FROM Invoice WHERE TxnDate = 5 6", 'Encountered " <INTEGER> "6 "" at line 1, column 41.'),
        (
            "SELECT * FROM Invoice WHERE TxnDate != '2020-01-01'",
            'Encountered " "!=" "!= "" at line 1, column 37.',
        ),
        ("SELECT * FROM Customer WHERE DisplayName = 'open", None),
        ("SELECT * FROM Customer LIMIT 5", 'Encountered " <ID> "LIMIT "" at line 1, column 24.'),
    ],
)
def test_malformed_queries_are_syntax_errors(text: str, detail: str | None) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse(text)
    if detail is not None:
        assert str(raised.value) == detail


def test_or_is_refused_as_an_invalid_query() -> None:
    with pytest.raises(QueryValidationError):
        parse("SELECT * FROM Customer WHERE Id = '1' OR Id = '2'")


def test_evaluate_compares_numbers_dates_references_and_text() -> None:
    records = [
        {"Id": "10", "TotalAmt": 300.0, "TxnDate": "2020-01-02", "CustomerRef": {"value": "7"},
         "DocNumber": "A-1",
         "MetaData": {"LastUpdatedTime": "2020-09-29T04:46:06-07:00"}},
        {"Id": "9", "TotalAmt": 337.5, "TxnDate": "2020-01-01", "CustomerRef": {"value": "8"},
         "DocNumber": "b-2",
         "MetaData": {"LastUpdatedTime": "2020-09-29T12:46:05+01:00"}},
    ]  # fmt: skip

    def ids(text: str) -> list[str]:
        page, _ = evaluate(parse(text), records, zone=ZONE)
        return [r["Id"] for r in page]

    assert ids("select * from Invoice where TotalAmt > '300.00'") == ["9"]
    assert ids("select * from Invoice where CustomerRef = '7'") == ["10"]
    assert ids("select * from Invoice where TxnDate <= '2020-01-01'") == ["9"]
    assert ids("select * from Invoice where MetaData.LastUpdatedTime >= '2020-09-29T04:46:06-07:00'") == [
        "10"
    ]
    assert ids("select * from Invoice where DocNumber like 'B%'") == ["9"]
    assert ids("select * from Invoice orderby Id") == ["9", "10"]  # numerically, not as text
    assert ids("select * from Invoice orderby MetaData.LastUpdatedTime desc") == ["10", "9"]
    page, total = evaluate(
        parse("select * from Invoice orderby Id startposition 2 maxresults 1"), records, zone=ZONE
    )
    assert ([r["Id"] for r in page], total) == (["10"], 2)


# ------------------------------------------------------------------------------ /query


@needs_reference
def test_every_recorded_query_parses() -> None:
    texts = []
    for path in sorted(VCR.glob("*.json")):
        uri = recorded(path.stem)["request"]["uri"]
        texts.extend(parse_qs(urlsplit(uri).query).get("query", []))
    texts.append(recorded("batch__basic__0")["request"]["body"].split('"Query":"')[1].split('"')[0])
    assert len(texts) >= 15
    for text in texts:
        parse(text)


@needs_reference
def test_an_unknown_entity_answers_the_recorded_fault(api: Api) -> None:
    response = api.query("SELECT * FROM Custmoer")
    theirs = recorded("error__400__1")["response"]["body_json"]
    assert response.status_code == 400
    assert response.get_json()["Fault"] == theirs["Fault"]


@needs_reference
def test_an_empty_page_answers_the_recorded_empty_query_response(api: Api) -> None:
    response = api.query(
        "SELECT * FROM Customer WHERE Id IN ('5', '6') AND Active IN ( true, false ) MAXRESULTS 2"
    )
    assert set(response.get_json()) == set(recorded("all__alt_select__4")["response"]["body_json"])
    assert response.get_json()["QueryResponse"] == {}


def test_pages_count_and_positions(api: Api) -> None:
    for name in ("Delta", "alpha", "Charlie", "bravo", "Echo"):
        api.customer(name)
    body = api.query("SELECT * FROM Customer MAXRESULTS 2 STARTPOSITION 3").get_json()["QueryResponse"]
    assert [c["DisplayName"] for c in body["Customer"]] == ["Charlie", "Delta"]  # by name, case-insensitively
    assert (body["startPosition"], body["maxResults"]) == (3, 2)
    assert api.query("select count(*) from Customer").get_json()["QueryResponse"] == {"totalCount": 5}
    last = api.query("SELECT * FROM Customer STARTPOSITION 5").get_json()["QueryResponse"]
    assert (len(last["Customer"]), last["maxResults"]) == (1, 1)


def test_name_lists_answer_active_records_unless_asked(api: Api) -> None:
    active, gone = api.customer("Active One"), api.customer("Gone One")
    api.create("Customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False})

    def names(text: str) -> list[str]:
        return [c["Id"] for c in api.query(text).get_json()["QueryResponse"].get("Customer", [])]

    assert names("select * from Customer") == [active["Id"]]
    assert names("select * from Customer where Active IN (true, false)") == [active["Id"], gone["Id"]]
    assert names("select * from Customer where Active = false") == [gone["Id"]]


def test_escaped_quotes_like_and_post_with_application_text(api: Api) -> None:
    amy = api.customer("Amy's Bird Sanctuary")
    api.customer("Robertson & Associates")
    found = api.query(r"SELECT * FROM Customer WHERE DisplayName = 'Amy\'s Bird Sanctuary'").get_json()
    assert [c["Id"] for c in found["QueryResponse"]["Customer"]] == [amy["Id"]]
    posted = api.client.post(
        api.url("query"),
        data="select * from customer where displayname like '%& assoc%'",
        headers={**api.headers, "Content-Type": "application/text"},
        query_string={"minorversion": "75"},
    )
    assert [c["DisplayName"] for c in posted.get_json()["QueryResponse"]["Customer"]] == [
        "Robertson & Associates"
    ]


def test_incremental_pulls_by_last_updated_time(api: Api) -> None:
    customer = api.customer()["Id"]
    old = api.invoice(customer, 1)
    api.sb.clock.offset += timedelta(minutes=30)
    new = api.invoice(customer, 2)
    cursor = old["MetaData"]["LastUpdatedTime"]
    text = (
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{cursor}' ORDERBY MetaData.LastUpdatedTime"
    )
    assert [i["Id"] for i in api.query(text).get_json()["QueryResponse"]["Invoice"]] == [new["Id"]]
    utc = (api.sb.clock.now() - timedelta(minutes=10)).isoformat()  # another offset, the same instant
    text = f"select * from Invoice where Metadata.LastUpdatedTime >= '{utc}'"
    assert [i["Id"] for i in api.query(text).get_json()["QueryResponse"]["Invoice"]] == [new["Id"]]


def test_query_faults(api: Api) -> None:
    assert code_of(api.query("SELECT * FROM Customer WHERE Id = '1' OR Id = '2'")) == (400, "4001")
    error = fault(api.query("SELECT * FROM Customer WHERE Nickname = 'x'"))
    assert (error["code"], error["Message"], error["Detail"]) == (
        "4001",
        "Invalid query",
        "QueryValidationError: Property Nickname not found for Entity Customer",
    )
    error = fault(api.query("SELECT * FROM Customer WHERE"))
    assert (error["status"], error["code"], error["Message"]) == (400, "4000", "Error parsing query")
    assert error["Detail"].startswith("QueryParserError: Encountered")
    assert code_of(api.query("")) == (400, "4000")


def test_projections_answer_sparse_records(api: Api) -> None:
    customer = api.customer("Only Names", Notes="hidden")
    [found] = api.query("select Id, DisplayName from Customer").get_json()["QueryResponse"]["Customer"]
    assert found == {
        "domain": "QBO",
        "sparse": True,
        "Id": customer["Id"],
        "SyncToken": "0",
        "DisplayName": "Only Names",
    }


def test_tax_codes_and_rates_answer_active_ones_unless_asked(api: Api) -> None:
    """NOTES §3.2 names TaxCode among the lists that answer only active records unless asked."""
    with api.sb.lock:
        company = next(iter(api.sb.companies.values()))
        company.of("TaxCode")["NON"]["Active"] = False
        company.of("TaxRate")["3"]["Active"] = False

    def ids(text: str, entity: str) -> list[str]:
        return [c["Id"] for c in api.query(text).get_json()["QueryResponse"].get(entity, [])]

    assert ids("select * from TaxCode", "TaxCode") == ["TAX"]
    assert sorted(ids("select * from TaxCode where Active IN (true, false)", "TaxCode")) == ["NON", "TAX"]
    assert ids("select * from TaxRate", "TaxRate") == []
    assert ids("select * from TaxRate where Active IN (true, false)", "TaxRate") == ["3"]


def test_an_items_sku_comes_only_when_named_after_the_star(api: Api) -> None:
    """python-quickbooks asks `SELECT *, Sku FROM Item` to read it (NOTES §4.5)."""
    item = api.create("Item", {"Name": "Design", "Sku": "D-1", "IncomeAccountRef": {"value": "1001"}})
    assert item["Sku"] == "D-1"
    [star] = [
        i
        for i in api.query("select * from Item").get_json()["QueryResponse"]["Item"]
        if i["Id"] == item["Id"]
    ]
    assert "Sku" not in star
    named = api.query("select *, Sku from Item where Name = 'Design'").get_json()["QueryResponse"]["Item"]
    assert [i["Sku"] for i in named] == ["D-1"]


def test_classes_are_a_name_list_with_sub_classes_and_change_data_capture(api: Api) -> None:
    region = api.create("Class", {"Name": "West"})
    city = api.create("Class", {"Name": "Reno", "ParentRef": {"value": region["Id"]}})
    assert (city["FullyQualifiedName"], city["SubClass"], region["SubClass"]) == ("West:Reno", True, False)
    api.create("Class", {"Id": city["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    found = api.query("select * from Class").get_json()["QueryResponse"]["Class"]
    assert [c["Name"] for c in found] == ["West"]
    since = (api.sb.clock.now() - timedelta(minutes=1)).isoformat()
    changed = api.get("cdc", entities="Class", changedSince=since).get_json()
    [response] = changed["CDCResponse"][0]["QueryResponse"]
    assert {c["Name"] for c in response["Class"]} == {"West", "Reno"}
