"""Records entered as a user of QuickBooks would (POST /_sandbox/companies/<realm>/entities/<Entity>): the
API's rules and faults, the commit, the notifications (webhooks) and CDC, and void or delete of what was
entered."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from werkzeug.test import TestResponse

from local.qbo import webhooks
from local.qbo.limits import limiter_for
from tests.sandbox.test_accounting_helpers import REALM, Api


@pytest.fixture
def api() -> Api:
    return Api()


def enter(api: Api, entity: str, body: Any, realm: str = REALM, **params: str) -> TestResponse:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.client.post(
        f"/_sandbox/companies/{realm}/entities/{entity}",
        data=data,
        query_string=params,
        content_type="application/json",
    )


def pay(customer: str, total: float, *applied: tuple[str, float]) -> dict[str, Any]:
    lines = [
        {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        for invoice_id, amount in applied
    ]
    return {"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": lines}


def ids(entity: dict[str, Any]) -> dict[str, str]:
    return {"Id": entity["Id"], "SyncToken": entity["SyncToken"]}


def cdc_payments(api: Api, since: str) -> list[dict[str, Any]]:
    response = api.get("cdc", entities="Payment", changedSince=since)
    assert response.status_code == 200, response.get_data(as_text=True)
    [answer] = response.get_json()["CDCResponse"][0]["QueryResponse"]
    return answer.get("Payment", [])  # type: ignore[no-any-return]


@pytest.fixture
def two_invoices(api: Api) -> tuple[str, str, str]:
    """A customer with invoices of 100 and 50, made through the API; the events they sent are forgotten."""
    customer = api.customer()["Id"]
    first = api.invoice(customer, 100)["Id"]
    second = api.invoice(customer, 50)["Id"]
    api.events.clear()
    return customer, first, second


# ------------------------------------------------------------------------------ entering


def test_a_payment_entered_by_a_user_pays_two_invoices_and_is_notified(
    api: Api, two_invoices: tuple[str, str, str]
) -> None:
    customer, first, second = two_invoices
    response = enter(api, "Payment", pay(customer, 130, (first, 100), (second, 30)))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert set(answer) == {"Payment", "time"}
    payment = answer["Payment"]
    assert (payment["SyncToken"], payment["TotalAmt"], payment["UnappliedAmt"]) == ("0", 130, 0)
    assert [line["LinkedTxn"] for line in payment["Line"]] == [
        [{"TxnId": first, "TxnType": "Invoice"}],
        [{"TxnId": second, "TxnType": "Invoice"}],
    ]
    assert api.sb.companies[REALM].of("Payment")[payment["Id"]] == payment
    assert api.read("Payment", payment["Id"]) == payment  # the API reads what the user entered
    assert (api.read("Invoice", first)["Balance"], api.read("Invoice", second)["Balance"]) == (0, 20)
    assert api.read("Invoice", second)["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert api.read("Customer", customer)["Balance"] == 20
    assert api.events == [("Payment", payment["Id"], "Create")]


def test_cdc_shows_a_payment_entered_by_a_user(api: Api, two_invoices: tuple[str, str, str]) -> None:
    customer, first, second = two_invoices
    earlier = api.create("Payment", pay(customer, 10, (first, 10)))  # through the API, before `since`
    api.sb.clock.offset += timedelta(minutes=10)
    since = api.sb.clock.now().isoformat(timespec="seconds")
    entered = enter(api, "Payment", pay(customer, 50, (first, 20), (second, 30))).get_json()["Payment"]
    assert [p["Id"] for p in cdc_payments(api, since)] == [entered["Id"]]
    assert earlier["Id"] != entered["Id"]


def test_a_user_entry_is_refused_by_the_api_rules_with_the_api_fault(
    api: Api, two_invoices: tuple[str, str, str]
) -> None:
    customer, first, _ = two_invoices
    too_much = pay(customer, 500, (first, 100.01))
    refused = enter(api, "Payment", too_much)
    assert refused.status_code == 400
    through_api = api.post("payment", too_much)
    assert refused.get_json()["Fault"] == through_api.get_json()["Fault"]
    assert refused.get_json()["Fault"]["Error"][0]["code"] == "6000"
    assert api.sb.companies[REALM].of("Payment") == {}
    assert api.events == []
    unreadable = enter(api, "Payment", "{not json")
    assert (unreadable.status_code, unreadable.get_json()["Fault"]["type"]) == (400, "ValidationFault")
    unknown = enter(api, "Payment", pay(customer, 10, (first, 10)), operation="merge")
    assert unknown.status_code == 400
    assert unknown.get_json()["Fault"]["Error"][0]["Detail"] == "Operation merge is not supported."


def test_entering_in_an_unknown_company_or_entity_is_not_found(api: Api) -> None:
    assert enter(api, "Customer", {"DisplayName": "Nobody"}, realm="1").status_code == 404
    assert enter(api, "Gizmo", {"Name": "Nothing"}).status_code == 404
    assert api.events == []


def test_a_user_changes_a_record_with_its_sync_token(api: Api) -> None:
    customer = api.customer("Old Name")
    renamed = enter(api, "Customer", {**ids(customer), "DisplayName": "New Name", "sparse": True})
    assert renamed.status_code == 200
    assert (renamed.get_json()["Customer"]["DisplayName"], renamed.get_json()["Customer"]["SyncToken"]) == (
        "New Name",
        "1",
    )
    stale = enter(api, "Customer", {**ids(customer), "DisplayName": "Newer Name", "sparse": True})
    assert (stale.status_code, stale.get_json()["Fault"]["Error"][0]["code"]) == (400, "5010")
    assert api.events[-1] == ("Customer", customer["Id"], "Update")


def test_a_user_voids_a_payment_and_the_invoices_reopen(api: Api, two_invoices: tuple[str, str, str]) -> None:
    customer, first, second = two_invoices
    payment = enter(api, "Payment", pay(customer, 150, (first, 100), (second, 50))).get_json()["Payment"]
    stale = enter(api, "Payment", {"Id": payment["Id"], "SyncToken": "7"}, operation="void")
    assert (stale.status_code, stale.get_json()["Fault"]["Error"][0]["code"]) == (400, "5010")
    response = enter(api, "Payment", ids(payment), operation="void")
    assert response.status_code == 200
    voided = response.get_json()["Payment"]
    assert (voided["TotalAmt"], voided["PrivateNote"], voided["SyncToken"]) == (0, "Voided", "1")
    assert (api.read("Invoice", first)["Balance"], api.read("Invoice", second)["Balance"]) == (100, 50)
    assert [op for *_, op in api.events] == ["Create", "Void"]


def test_a_user_deletes_a_payment_and_cdc_shows_it_gone(api: Api, two_invoices: tuple[str, str, str]) -> None:
    customer, first, _ = two_invoices
    since = api.sb.clock.now().isoformat(timespec="seconds")
    payment = enter(api, "Payment", pay(customer, 100, (first, 100))).get_json()["Payment"]
    response = enter(api, "Payment", ids(payment), operation="delete")
    assert response.status_code == 200
    assert response.get_json()["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
    assert api.read("Invoice", first)["Balance"] == 100
    [gone] = cdc_payments(api, since)
    assert (gone["Id"], gone["status"]) == (payment["Id"], "Deleted")
    assert api.events == [("Payment", payment["Id"], "Create"), ("Payment", payment["Id"], "Delete")]


def test_injected_faults_and_throttles_do_not_touch_a_users_entry(api: Api) -> None:
    for spec in ({"kind": "status", "status": 503, "rate": 1}, {"kind": "lost", "rate": 1}):
        assert api.client.post("/_sandbox/faults", json=spec).status_code == 201
    entered = enter(api, "Customer", {"DisplayName": "Typed In"})
    assert entered.status_code == 201
    assert [f["fired"] for f in api.client.get("/_sandbox/faults").get_json()["faults"]] == [0, 0]
    customer_id = entered.get_json()["Customer"]["Id"]
    assert api.get(f"customer/{customer_id}").status_code == 503  # the API still meets them
    limiter_for(api.sb).per_minute = 0
    assert api.get(f"customer/{customer_id}").status_code == 429
    assert enter(api, "Customer", {"DisplayName": "Typed In Too"}).status_code == 201


# ------------------------------------------------------------------------------ webhooks


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    arrived = threading.Event()

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers.get("content-length", "0"))))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
        self.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": [], "arrived": threading.Event()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/webhooks", handler
    httpd.shutdown()
    httpd.server_close()


def test_a_payment_entered_by_a_user_is_sent_as_a_webhook(
    api: Api, two_invoices: tuple[str, str, str], receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    app = api.sb.add_app("ABentryclient", "secret", ["http://127.0.0.1/callback"])
    app.webhook_url = url
    api.sb.issue_tokens(app.client_id, REALM, ["com.intuit.quickbooks.accounting"], "grant-entry")
    sender = webhooks.attach(api.sb, webhooks.Settings(time_scale=0.001, ack_timeout=1.0, window=0.05))
    try:
        customer, first, _ = two_invoices
        payment = enter(api, "Payment", pay(customer, 40, (first, 40))).get_json()["Payment"]
        assert handler.arrived.wait(5)
    finally:
        sender.stop()
    [event] = json.loads(handler.bodies[0])
    assert (event["type"], event["intuitentityid"], event["intuitaccountid"]) == (
        "qbo.payment.created.v1",
        payment["Id"],
        REALM,
    )
