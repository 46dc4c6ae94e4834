"""The Desktop stand-ins' controls under /_qbd/: each route, and bad input answered with a 4xx."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.qbd.company import Company
from local.qbd.server import DEMO_COMPANY, QUERIES, Desktop, create_app
from local.qbd.webconnector import qwc_text
from tests.qbd import qbxml
from tests.qbd.scripted_service import ScriptedService, serving
from tests.qbd.test_webconnector_runs import customer_add, message

OWNER_ID = "{2f0b8c4e-6a1d-4c3b-9e57-5d1a7c9e0b3f}"
FILE_ID = "{9b1e4f7a-0c2d-4e8b-a5f3-6d7c8e9f0a1b}"


@pytest.fixture
def state() -> Iterator[Desktop]:
    desktop = Desktop()
    desktop.add_company(DEMO_COMPANY)
    yield desktop
    desktop.stop()


@pytest.fixture
def client(state: Desktop) -> FlaskClient:
    return create_app(state).test_client()


@pytest.fixture
def service() -> ScriptedService:
    return ScriptedService()


@pytest.fixture
def url(service: ScriptedService) -> Iterator[str]:
    with serving(service) as address:
        yield address


def qwc(url: str, **options: Any) -> str:
    return qwc_text(app_url=url, user_name="pc-user", owner_id=OWNER_ID, file_id=FILE_ID, **options)


def add_connector(client: FlaskClient, url: str, **body: Any) -> dict[str, Any]:
    answer = client.post(
        "/_qbd/connectors",
        json={"qwc": qwc(url), "password": "secret", "company": "desktop-demo-co", "noop_pause_seconds": 0}
        | body,
    )
    assert answer.status_code == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def test_companies_are_listed_and_created(client: FlaskClient) -> None:
    assert client.get("/_qbd/companies").json == {
        "companies": [{"id": "desktop-demo-co", "name": DEMO_COMPANY}]
    }
    created = client.post("/_qbd/companies", json={"name": "Acme Plumbing, Inc."})
    assert created.status_code == 201
    assert created.json == {"id": "acme-plumbing-inc", "name": "Acme Plumbing, Inc."}
    assert [c["id"] for c in client.get("/_qbd/companies").json["companies"]] == [
        "desktop-demo-co", "acme-plumbing-inc",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({}, 400, "name must be"),
        ({"name": "   "}, 400, "name must be"),
        ({"name": "!!!"}, 400, "letter or digit"),
        ({"name": "x" * 101}, 400, "1 to 100"),
        ({"name": 7}, 400, "name must be"),
        ({"name": "Desktop Demo Co"}, 409, "exists"),
    ],
)
def test_a_company_with_a_bad_or_taken_name_is_refused(
    client: FlaskClient, body: dict[str, Any], status: int, says: str
) -> None:
    answer = client.post("/_qbd/companies", json=body)
    assert answer.status_code == status
    assert says in answer.json["error"]


def test_a_body_that_is_not_a_json_object_is_refused(client: FlaskClient) -> None:
    for path in ("/_qbd/companies", "/_qbd/connectors"):
        answer = client.post(path, data="[1, 2]", content_type="application/json")
        assert answer.status_code == 400
        assert answer.json == {"error": "the body must be a JSON object"}


def test_a_connector_is_added_from_a_qwc_and_a_password_and_runs_on_demand(
    client: FlaskClient, url: str, service: ScriptedService
) -> None:
    added = add_connector(client, url)
    assert added["id"] == "1"
    assert added["user_name"] == "pc-user"
    assert added["company"] == "desktop-demo-co"
    assert added["running"] is False
    assert added["last_run"] is None
    service.messages = [message(customer_add("Ada"))]
    run = client.post("/_qbd/connectors/1/run")
    assert run.status_code == 200
    assert run.json["ended"] == "done"
    assert run.json["operations"] == [
        "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
        "closeConnection",
    ]  # fmt: skip
    assert "secret" not in run.get_data(as_text=True)
    assert client.get("/_qbd/connectors/1").json["last_run"]["number"] == 1
    assert [c["id"] for c in client.get("/_qbd/connectors").json["connectors"]] == ["1"]
    client.post("/_qbd/connectors/1/run")
    runs = client.get("/_qbd/connectors/1/runs").json["runs"]
    assert [r["number"] for r in runs] == [1, 2]
    assert [r["number"] for r in client.get("/_qbd/connectors/1/runs?limit=1").json["runs"]] == [2]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"qwc": 5}, "qwc must be the text"),
        ({"qwc": "<QBWCXML><AppName>x</AppName></QBWCXML>"}, "lacks"),
        ({"password": ""}, "password must be"),
        ({"company": "nope"}, "company must be the id"),
        ({"every_seconds": 0}, "every_seconds must be"),
        ({"start": "yes"}, "start must be"),
        ({"start": True}, "no Scheduler"),
        ({"noop_pause_seconds": -1}, "noop_pause_seconds must be"),
    ],
)
def test_a_connector_with_bad_settings_is_refused(
    client: FlaskClient, url: str, change: dict[str, Any], says: str
) -> None:
    body = {"qwc": qwc(url), "password": "secret", "company": "desktop-demo-co"} | change
    answer = client.post("/_qbd/connectors", json=body)
    assert answer.status_code == 400
    assert says in answer.json["error"]
    assert client.get("/_qbd/connectors").json == {"connectors": []}


def test_a_connector_runs_on_its_schedule_until_stopped(client: FlaskClient, url: str) -> None:
    add_connector(client, url)
    assert client.post("/_qbd/connectors/1/start", json={"every_seconds": 0}).status_code == 400
    assert client.post("/_qbd/connectors/1/start").status_code == 400  # its .qwc has no Scheduler
    started = client.post("/_qbd/connectors/1/start", json={"every_seconds": 0.05})
    assert started.status_code == 200
    assert started.json["running"] is True
    for _ in range(200):
        if client.get("/_qbd/connectors/1").json["runs"] >= 2:
            break
        time.sleep(0.02)
    stopped = client.post("/_qbd/connectors/1/stop")
    assert stopped.json["running"] is False
    assert stopped.json["runs"] >= 2


def test_a_connector_with_a_schedule_in_its_qwc_starts_on_it(client: FlaskClient, url: str) -> None:
    body = {"qwc": qwc(url, run_every_minutes=5), "password": "secret", "company": "desktop-demo-co"}
    answer = client.post("/_qbd/connectors", json=body | {"start": True})
    assert answer.status_code == 201
    assert answer.json["run_every_seconds"] == 300
    assert answer.json["running"] is True
    assert client.delete("/_qbd/connectors/1").json == {"removed": "1"}
    assert client.get("/_qbd/connectors/1").status_code == 404


def test_connector_faults_are_set_read_and_fire(
    client: FlaskClient, url: str, service: ScriptedService
) -> None:
    add_connector(client, url)
    set_ = client.put("/_qbd/connectors/1/faults", json={"rates": {"qb_not_open": 1}, "seed": 4})
    assert set_.status_code == 200
    assert set_.json == {"rates": {"qb_not_open": 1.0}, "seed": 4, "fired": {}}
    run = client.post("/_qbd/connectors/1/run").json
    assert run["ended"] == "connection_error"
    assert run["faults"] == ["qb_not_open"]
    assert client.get("/_qbd/connectors/1/faults").json["fired"] == {"qb_not_open": 1}
    assert service.operations[-1] == "connectionError"
    cleared = client.put("/_qbd/connectors/1/faults", json={"rates": {}})
    assert cleared.json == {"rates": {}, "seed": None, "fired": {}}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"rates": {"meteor": 0.1}}, "unknown fault 'meteor'"),
        ({"rates": {"drop_answer": 1.5}}, "from 0 to 1"),
        ({"rates": {"drop_answer": True}}, "from 0 to 1"),
        ({"rates": [1]}, "rates must be"),
        ({"rates": {}, "seed": "x"}, "seed must be"),
    ],
)
def test_bad_faults_are_refused(client: FlaskClient, url: str, body: dict[str, Any], says: str) -> None:
    add_connector(client, url)
    answer = client.put("/_qbd/connectors/1/faults", json=body)
    assert answer.status_code == 400
    assert says in answer.json["error"]


def test_unknown_connectors_and_paths_answer_404_in_json(client: FlaskClient) -> None:
    for method, path in [
        ("get", "/_qbd/connectors/9"),
        ("post", "/_qbd/connectors/9/run"),
        ("get", "/_qbd/connectors/9/runs"),
        ("post", "/_qbd/connectors/9/start"),
        ("post", "/_qbd/connectors/9/stop"),
        ("put", "/_qbd/connectors/9/faults"),
        ("get", "/_qbd/connectors/9/faults"),
        ("delete", "/_qbd/connectors/9"),
        ("get", "/_qbd/nothing"),
    ]:
        answer = getattr(client, method)(path)
        assert answer.status_code == 404, path
        assert "error" in answer.json
    assert client.delete("/_qbd/companies").status_code == 405


def test_a_bad_runs_limit_is_refused(client: FlaskClient, url: str) -> None:
    add_connector(client, url)
    assert client.get("/_qbd/connectors/1/runs?limit=0").status_code == 400
    assert client.get("/_qbd/connectors/1/runs?limit=x").json == {"error": "limit must be a positive integer"}


# ------------------------------------------------------------- the company: entities, entries, faults


def company_of(state: Desktop) -> Company:
    return state.companies["desktop-demo-co"]


def entities(client: FlaskClient, kind: str) -> list[dict[str, Any]]:
    answer = client.get(f"/_qbd/companies/desktop-demo-co/entities/{kind}")
    assert answer.status_code == 200, answer.json
    return answer.json[kind]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", sorted(QUERIES))
def test_every_kind_of_entity_can_be_read(client: FlaskClient, kind: str) -> None:
    assert isinstance(entities(client, kind), list)


def test_entities_are_read_as_quickbooks_writes_them_without_counting_as_messages(
    client: FlaskClient, state: Desktop
) -> None:
    accounts = entities(client, "accounts")
    receivable = next(a for a in accounts if a["Name"] == "Accounts Receivable")
    assert receivable["AccountType"] == "AccountsReceivable"
    assert re.fullmatch(r"[0-9A-F]+-\d{10}", receivable["ListID"])
    assert client.get("/_qbd/companies/desktop-demo-co/counters").json == {
        "messages": 0, "refused": 0, "requests": 0, "by_kind": {},
    }  # fmt: skip
    assert client.get("/_qbd/companies/nope/entities/accounts").status_code == 404
    unknown = client.get("/_qbd/companies/desktop-demo-co/entities/widgets")
    assert unknown.status_code == 404
    assert "customers" in unknown.json["error"]


def test_a_user_enters_renames_and_deactivates_a_customer(client: FlaskClient) -> None:
    added = client.post(
        "/_qbd/companies/desktop-demo-co/lists/customers",
        json={"name": "Ada Lovelace", "fields": {"CompanyName": "Analytical Engines", "Phone": "555-0100"}},
    )
    assert added.status_code == 201, added.json
    list_id = added.json["list_id"]
    (ada,) = entities(client, "customers")
    assert (ada["ListID"], ada["Name"], ada["CompanyName"]) == (list_id, "Ada Lovelace", "Analytical Engines")
    job = client.post(
        "/_qbd/companies/desktop-demo-co/lists/customers", json={"name": "Kitchen", "parent": "Ada Lovelace"}
    )
    assert job.status_code == 201
    assert "Ada Lovelace:Kitchen" in [c["FullName"] for c in entities(client, "customers")]
    renamed = client.post(
        f"/_qbd/companies/desktop-demo-co/lists/{list_id}/rename", json={"name": "Ada King"}
    )
    assert renamed.json == {"list_id": list_id, "name": "Ada King"}
    ada_now = next(c for c in entities(client, "customers") if c["ListID"] == list_id)
    assert ada_now["Name"] == "Ada King"
    assert ada_now["EditSequence"] != ada["EditSequence"]
    assert client.post(f"/_qbd/companies/desktop-demo-co/lists/{list_id}/deactivate").status_code == 200
    assert next(c for c in entities(client, "customers") if c["ListID"] == list_id)["IsActive"] == "false"


def test_a_name_in_use_or_an_unknown_record_is_refused_with_quickbooks_code(client: FlaskClient) -> None:
    client.post("/_qbd/companies/desktop-demo-co/lists/customers", json={"name": "Acme Supplies"})
    clash = client.post("/_qbd/companies/desktop-demo-co/lists/vendors", json={"name": "acme supplies"})
    assert clash.status_code == 409
    assert clash.json["code"] == 3100
    assert "already in use" in clash.json["error"]
    missing = client.post(
        "/_qbd/companies/desktop-demo-co/lists/80000999-1234567890/rename", json={"name": "X"}
    )
    assert (missing.status_code, missing.json["code"]) == (404, 3120)
    assert client.post("/_qbd/companies/desktop-demo-co/transactions/99-1234567890/void").status_code == 404
    assert client.delete("/_qbd/companies/desktop-demo-co/transactions/99-1234567890").status_code == 404


def invoice(state: Desktop, customer: str, amount: str) -> str:
    """An invoice the application sent (through a session, as the Web Connector hands it over)."""
    company = company_of(state)
    if company.find("ItemService", "Labor") is None:
        company.add_entry("ItemService", "Labor", SalesOrPurchase={"Price": "1.00", "AccountRef": "Services"})
    session = company.open_session()
    try:
        answer = qbxml.run(
            session,
            '<InvoiceAddRq requestID="1"><InvoiceAdd>'
            f"<CustomerRef><FullName>{customer}</FullName></CustomerRef>"
            f"<InvoiceLineAdd><ItemRef><FullName>Labor</FullName></ItemRef><Amount>{amount}</Amount>"
            "</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>",
        )
    finally:
        session.close()
    assert answer.status()[0] == 0, answer.status()
    return str(answer.text("InvoiceRet/TxnID"))


def test_a_payment_received_at_the_counter_pays_the_invoice_and_can_be_deleted(
    client: FlaskClient, state: Desktop
) -> None:
    client.post("/_qbd/companies/desktop-demo-co/lists/customers", json={"name": "Ada Lovelace"})
    txn_id = invoice(state, "Ada Lovelace", "130.00")
    paid = client.post(
        "/_qbd/companies/desktop-demo-co/payments",
        json={
            "customer": "Ada Lovelace",
            "total": "100.00",
            "applied_to": {txn_id: "100.00"},
            "ref_number": "1042",
        },
    )
    assert paid.status_code == 201, paid.json
    (payment,) = entities(client, "payments")
    assert (payment["TxnID"], payment["TotalAmount"], payment["RefNumber"]) == (
        paid.json["txn_id"],
        "100.00",
        "1042",
    )
    (open_invoice,) = entities(client, "invoices")
    assert open_invoice["BalanceRemaining"] == "30.00"
    deleted = client.delete(f"/_qbd/companies/desktop-demo-co/transactions/{paid.json['txn_id']}")
    assert deleted.json == {"txn_id": paid.json["txn_id"], "deleted": True}
    assert entities(client, "payments") == []
    assert entities(client, "invoices")[0]["BalanceRemaining"] == "130.00"


def test_an_invoice_edited_then_voided_by_a_user(client: FlaskClient, state: Desktop) -> None:
    client.post("/_qbd/companies/desktop-demo-co/lists/customers", json={"name": "Ada Lovelace"})
    txn_id = invoice(state, "Ada Lovelace", "80.00")
    before = entities(client, "invoices")[0]
    edited = client.post(
        f"/_qbd/companies/desktop-demo-co/transactions/{txn_id}/edit", json={"Memo": "Called"}
    )
    assert edited.status_code == 200, edited.json
    after = entities(client, "invoices")[0]
    assert after["Memo"] == "Called"
    assert after["EditSequence"] != before["EditSequence"]
    assert client.post(f"/_qbd/companies/desktop-demo-co/transactions/{txn_id}/void").json["voided"] is True
    assert entities(client, "invoices")[0]["BalanceRemaining"] == "0.00"


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("lists/customers", {"name": ""}, "name must be"),
        ("lists/customers", {"name": "A", "parent": 3}, "parent must be"),
        ("lists/customers", {"name": "A", "fields": [1]}, "fields must be"),
        ("lists/80000001-1/rename", {}, "name must be"),
        ("payments", {"customer": "A", "total": "1.234"}, "total must be"),
        ("payments", {"customer": "A", "total": "-5"}, "total must be"),
        ("payments", {"customer": "A", "total": True}, "total must be"),
        ("payments", {"total": "5"}, "customer must be"),
        ("payments", {"customer": "A", "total": "5", "applied_to": {"1-1": "0"}}, "each applied amount"),
        ("payments", {"customer": "A", "total": "5", "applied_to": []}, "applied_to must be"),
        ("payments", {"customer": "A", "total": "5", "txn_date": "5/1/2026"}, "txn_date must be"),
        ("payments", {"customer": "A", "total": "5", "method": 3}, "method must be"),
        ("transactions/1-1/edit", {}, "element names"),
    ],
)
def test_bad_entries_are_refused(client: FlaskClient, path: str, body: dict[str, Any], says: str) -> None:
    answer = client.post(f"/_qbd/companies/desktop-demo-co/{path}", json=body)
    assert answer.status_code == 400
    assert says in answer.json["error"]


def test_an_entry_quickbooks_refuses_answers_its_code(client: FlaskClient) -> None:
    answer = client.post(
        "/_qbd/companies/desktop-demo-co/payments", json={"customer": "Nobody", "total": "5"}
    )
    assert answer.status_code == 400
    assert answer.json["code"] == 3140
    assert client.post("/_qbd/companies/desktop-demo-co/lists/widgets", json={"name": "A"}).status_code == 404
    assert (
        client.post("/_qbd/companies/nope/payments", json={"customer": "A", "total": "5"}).status_code == 404
    )


def test_counters_count_the_messages_and_requests_the_web_connector_brought(
    client: FlaskClient, url: str, service: ScriptedService
) -> None:
    add_connector(client, url)
    service.messages = [message(customer_add("Ada", 1), customer_add("Grace", 2)), "<QBXML>not closed"]
    service.percents = [50]
    client.post("/_qbd/connectors/1/run")
    assert client.get("/_qbd/companies/desktop-demo-co/counters").json == {
        "messages": 2, "refused": 1, "requests": 2, "by_kind": {"CustomerAddRq": 2},
    }  # fmt: skip
    assert client.get("/_qbd/companies/nope/counters").status_code == 404


def test_records_locked_by_a_user_are_set_through_the_company_faults(
    client: FlaskClient, url: str, service: ScriptedService
) -> None:
    set_ = client.put("/_qbd/companies/desktop-demo-co/faults", json={"locked_records": 1, "seed": 3})
    assert set_.json == {"locked_records": 1.0, "seed": 3}
    add_connector(client, url)
    service.messages = [message(customer_add("Ada"))]
    client.post("/_qbd/connectors/1/run")
    assert re.search(r'statusCode="317[05]"', service.params_of("receiveResponseXML")[0]["response"])
    assert entities(client, "customers") == []
    assert client.put("/_qbd/companies/desktop-demo-co/faults", json={"locked_records": 0}).status_code == 200


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"locked_records": 2}, "from 0 to 1"),
        ({"locked_records": 0.5, "seed": 1.5}, "seed must be"),
        ({"meteors": 1}, "unknown field 'meteors'"),
    ],
)
def test_bad_company_faults_are_refused(client: FlaskClient, body: dict[str, Any], says: str) -> None:
    answer = client.put("/_qbd/companies/desktop-demo-co/faults", json=body)
    assert answer.status_code == 400
    assert says in answer.json["error"]
    assert client.put("/_qbd/companies/nope/faults", json={}).status_code == 404
