"""The sandbox's webhook sender against a real loopback receiver: signature, both formats, retries on
Intuit's schedule (scaled down), order, aggregation, and that qbsync's own receiver accepts what it sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.qbo import server, webhooks
from local.qbo.state import Sandbox
from qbsync.domain.webhooks import Operation, WebhookSignatureError
from qbsync.usecases.webhooks import WebhookReceiver
from tests.unit.fakes import FixedClock, InMemoryQueue

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
WEBHOOK_REFERENCE = REFERENCE / "qbo" / "webhooks"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"reference material not at {REFERENCE}")

CLIENT_ID = "ABwebhookclient"
TOKEN = "sandbox-verifier-token-1"
REALM = server.DEFAULT_REALM
FAST = webhooks.Settings(time_scale=0.001, ack_timeout=1.0, window=0.3)
# For tests whose changes must fall in one window: wide enough for a busy machine between two HTTP calls.
ROOMY = webhooks.Settings(time_scale=0.001, ack_timeout=1.0, window=1.5)


# ---------------------------------------------------------------- a receiver on loopback


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers with the queued statuses (a float means: sleep that long, then 200)."""

    requests: list[Received] = field(default_factory=list)
    script: deque[int | float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, *outcomes: int | float) -> None:
        with self.lock:
            self.script.extend(outcomes)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        with self.lock:
            raise AssertionError(f"expected {count} deliveries, got {len(self.requests)}")

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.requests.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                )
                outcome = receiver.script.popleft() if receiver.script else 200
            status = 200
            if isinstance(outcome, float):
                time.sleep(outcome)
            else:
                status = outcome
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:  # the sender gave up waiting and closed the connection
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[], Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def make() -> Receiver:
        receiver = Receiver()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        receiver.url = f"http://127.0.0.1:{httpd.server_port}/qbo/webhooks"
        servers.append(httpd)
        return receiver

    yield make
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def receiver(receiver_factory: Callable[[], Receiver]) -> Receiver:
    return receiver_factory()


@pytest.fixture
def qbo() -> Iterator[server.RunningSandbox]:
    running = server.start(port=0)
    running.webhooks.stop()  # each test starts the sender it needs, with its own timing
    yield running
    running.stop()


@pytest.fixture
def start_sender(qbo: server.RunningSandbox) -> Iterator[Callable[..., webhooks.WebhookSender]]:
    senders: list[webhooks.WebhookSender] = []

    def start(settings: webhooks.Settings = FAST) -> webhooks.WebhookSender:
        sender = webhooks.attach(qbo.sandbox, settings)
        senders.append(sender)
        return sender

    yield start
    for sender in senders:
        sender.stop()


def connect(sb: Sandbox, client_id: str = CLIENT_ID, realm: str = REALM) -> str:
    """An app connected to a company, as a finished OAuth flow leaves it (test_oauth.py covers the flow);
    returns the access token."""
    if client_id not in sb.apps:
        sb.add_app(client_id, "secret", ["http://127.0.0.1/callback"])
    access, _ = sb.issue_tokens(client_id, realm, ["com.intuit.quickbooks.accounting"], f"grant-{client_id}")
    return access.token


def subscribe(
    qbo: server.RunningSandbox, url: str, fmt: str = "cloudevents", client_id: str = CLIENT_ID
) -> None:
    response = httpx.post(
        f"{qbo.url}/_sandbox/apps/{client_id}/webhooks",
        json={"url": url, "format": fmt, "verifier_token": TOKEN},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"client_id": client_id, "url": url, "format": fmt, "verifier_token": TOKEN}


def change(qbo: server.RunningSandbox, entity: str, entity_id: str, operation: str, **extra: Any) -> None:
    response = httpx.post(
        f"{qbo.url}/_sandbox/companies/{REALM}/changes",
        json={"entity": entity, "id": entity_id, "operation": operation, **extra},
    )
    assert response.status_code == 202, response.text


def deliveries(qbo: server.RunningSandbox) -> list[dict[str, Any]]:
    response = httpx.get(f"{qbo.url}/_sandbox/webhooks/deliveries")
    assert response.status_code == 200
    return response.json()["deliveries"]  # type: ignore[no-any-return]


def expected_signature(body: bytes, token: str = TOKEN) -> str:
    """Computed here from Intuit's description, independently of the sandbox and of qbsync."""
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def qbsync_receives(body: bytes, signature: str, token: str = TOKEN) -> list[dict[str, Any]]:
    """What qbsync's webhook use case makes of a delivery: the changes of the jobs it queues, each with its
    job's realm and entity type."""
    queue = InMemoryQueue()

    class Events:
        def __init__(self) -> None:
            self.claimed: set[str] = set()

        def claim(self, event_id: str, now: datetime) -> bool:
            fresh = event_id not in self.claimed
            self.claimed.add(event_id)
            return fresh

        def release(self, event_id: str) -> None:
            self.claimed.discard(event_id)

    class Realms:
        def tenant_for_realm(self, realm_id: str) -> str | None:
            return "acme-42" if realm_id == REALM else None

    receipt = WebhookReceiver(lambda: token, Events(), Realms(), queue, FixedClock()).receive(body, signature)
    assert receipt.skipped == 0
    assert receipt.unknown_realm_changes == 0
    return [
        {"realm_id": job.payload["realm_id"], "entity": job.payload["entity"], **change}
        for job, _ in queue.sent
        for change in job.payload["changes"]
    ]


# ---------------------------------------------------------------- formats and signature


def test_cloudevents_delivery_is_signed_and_qbsync_accepts_it(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url, "cloudevents")
    start_sender(ROOMY)  # both changes fall in one window even on a busy machine
    change(qbo, "Customer", "42", "Create")
    change(qbo, "Invoice", "7", "Update")

    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["content-type"] == "application/cloudevents+json"
    assert delivery.headers["user-agent"] == "intuit_notification_server/0.1"
    assert delivery.headers["intuit-signature"] == expected_signature(delivery.body)
    assert uuid.UUID(delivery.headers["intuit-t-id"])
    assert datetime.fromisoformat(delivery.headers["intuit-created-time"]).tzinfo is not None

    events = delivery.json()
    assert [(e["type"], e["intuitentityid"], e["intuitaccountid"]) for e in events] == [
        ("qbo.customer.created.v1", "42", REALM),
        ("qbo.invoice.updated.v1", "7", REALM),
    ]
    for event in events:
        assert event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json"
        assert event["source"].startswith("intuit.")
        assert event["data"] == {}
        assert str(uuid.UUID(event["id"])) == event["id"]
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
    assert events[0]["id"] != events[1]["id"]

    jobs = qbsync_receives(delivery.body, delivery.headers["intuit-signature"])
    assert [(j["realm_id"], j["entity"], j["entity_id"], j["operation"], j["event_id"]) for j in jobs] == [
        (REALM, "Customer", "42", Operation.CREATE.value, events[0]["id"]),
        (REALM, "Invoice", "7", Operation.UPDATE.value, events[1]["id"]),
    ]
    assert all(j["last_updated"] for j in jobs)
    with pytest.raises(WebhookSignatureError):
        qbsync_receives(delivery.body, delivery.headers["intuit-signature"], token="another-apps-token")


def test_legacy_delivery_is_signed_and_qbsync_accepts_it(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url, "legacy")
    start_sender(ROOMY)  # both changes fall in one window even on a busy machine
    change(qbo, "Customer", "42", "Create")
    change(qbo, "Vendor", "9", "Merge", deleted_id="11")

    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["content-type"] == "application/json; charset=utf-8"
    assert delivery.headers["intuit-notification-schema-version"] == "0.1"
    assert delivery.headers["intuit-signature"] == expected_signature(delivery.body)
    doc = delivery.json()
    (notification,) = doc["eventNotifications"]
    assert notification["realmId"] == REALM
    entities = notification["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Customer", "42", "Create"),
        ("Vendor", "9", "Merge"),
    ]
    assert entities[1]["deletedId"] == "11"
    assert all(datetime.fromisoformat(e["lastUpdated"]).tzinfo is not None for e in entities)

    jobs = qbsync_receives(delivery.body, delivery.headers["intuit-signature"])
    assert [(j["entity"], j["entity_id"], j["operation"]) for j in jobs] == [
        ("Customer", "42", "Create"),
        ("Vendor", "9", "Merge"),
    ]


@needs_reference
def test_deliveries_have_the_shape_and_headers_of_intuits_samples(
    qbo: server.RunningSandbox, receiver_factory: Callable[[], Receiver], start_sender: Callable[..., Any]
) -> None:
    modern, legacy = receiver_factory(), receiver_factory()
    connect(qbo.sandbox)
    connect(qbo.sandbox, "ABlegacyclient")
    subscribe(qbo, modern.url, "cloudevents")
    subscribe(qbo, legacy.url, "legacy", client_id="ABlegacyclient")
    start_sender()
    change(qbo, "Account", "1234", "Create")

    (event,) = modern.wait_for(1)[0].json()
    (sample,) = json.loads((WEBHOOK_REFERENCE / "cloudevents_intuit_blog_sample.json").read_text())
    assert set(event) == set(sample)

    sent = legacy.wait_for(1)[0]
    legacy_sample = json.loads((WEBHOOK_REFERENCE / "legacy_docs_sample_payload.json").read_text())
    doc = sent.json()
    assert set(doc) == set(legacy_sample)
    assert set(doc["eventNotifications"][0]) == set(legacy_sample["eventNotifications"][0])
    sample_entity = legacy_sample["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
    assert set(doc["eventNotifications"][0]["dataChangeEvent"]["entities"][0]) == set(sample_entity)
    # Every header of Intuit's documented request, except those the HTTP client and the network add.
    documented = {
        line.split(":", 1)[0]
        for line in (WEBHOOK_REFERENCE / "webhook_request_headers_docs_sample.txt").read_text().splitlines()
        if line.strip()
    }
    assert documented - {"host", "proxy-connection", "content-length"} <= set(sent.headers)
    assert sent.headers["content-length"] == str(len(sent.body))


def test_void_from_the_api_path_carries_the_entitys_last_updated_time(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    """Sandbox.notify is what the Accounting API calls after a commit."""
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    start_sender()
    invoice = {"Id": "130", "SyncToken": "3", "MetaData": {"LastUpdatedTime": "2026-05-05T02:05:12-07:00"}}
    qbo.sandbox.notify(REALM, "Invoice", invoice, "Void")

    (event,) = receiver.wait_for(1)[0].json()
    assert event["type"] == "qbo.invoice.voided.v1"
    assert event["intuitentityid"] == "130"
    assert datetime.fromisoformat(event["time"]) == datetime(2026, 5, 5, 9, 5, 12, tzinfo=UTC)
    (job,) = qbsync_receives(receiver.received()[0].body, receiver.received()[0].headers["intuit-signature"])
    assert (job["operation"], job["last_updated"]) == ("Void", "2026-05-05T09:05:12+00:00")


def test_changes_made_through_the_accounting_api_are_delivered_in_order(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    token = connect(qbo.sandbox)
    subscribe(qbo, receiver.url, "legacy")
    sender = start_sender()
    api = httpx.Client(
        base_url=f"{qbo.url}/v3/company/{REALM}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    created = api.post("/customer", json={"DisplayName": "Webhook Customer"})
    assert created.status_code == 200, created.text
    customer = created.json()["Customer"]
    sparse = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "changed"}
    updated = api.post("/customer", json=sparse)
    assert updated.status_code == 200, updated.text
    refused = api.post("/customer", json={"DisplayName": "Webhook Customer"})  # 6240: nothing committed
    assert refused.status_code == 400

    assert sender.wait_idle(5)
    entities = [
        entity
        for request in receiver.received()
        for notification in request.json()["eventNotifications"]
        for entity in notification["dataChangeEvent"]["entities"]
    ]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Customer", customer["Id"], "Create"),
        ("Customer", customer["Id"], "Update"),
    ]
    last_updated = datetime.fromisoformat(updated.json()["Customer"]["MetaData"]["LastUpdatedTime"])
    assert datetime.fromisoformat(entities[1]["lastUpdated"]) == last_updated


# ---------------------------------------------------------------- retries, order, aggregation


def test_a_500_is_retried_on_the_scaled_schedule_until_acknowledged(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    receiver.answer(500, 503, 500, 200)
    sender = start_sender(webhooks.Settings(time_scale=0.002, ack_timeout=1.0, window=0.01))
    change(qbo, "Payment", "170", "Create")

    first, second, third, fourth = receiver.wait_for(4)
    assert sender.wait_idle(5)
    assert first.body == second.body == third.body == fourth.body  # the same delivery, byte for byte
    assert {r.headers["intuit-signature"] for r in (first, second, third, fourth)} == {
        expected_signature(first.body)
    }
    assert len({r.headers["intuit-t-id"] for r in (first, second, third, fourth)}) == 4
    # Intuit's schedule: 0 s, 10 s, 20 s, 30 s ... here x 0.002 = 20 ms, 40 ms, 60 ms.
    assert second.at - first.at >= 0.02 * 0.9
    assert third.at - second.at >= 0.04 * 0.9
    assert fourth.at - third.at >= 0.06 * 0.9

    attempts = deliveries(qbo)
    assert [(a["attempt"], a["status"], a["acknowledged"], a["delay_seconds"]) for a in attempts] == [
        (1, 500, False, 0.0),
        (2, 503, False, 10.0),
        (3, 500, False, 20.0),
        (4, 200, True, 30.0),
    ]
    assert len({a["delivery_id"] for a in attempts}) == 1
    assert {tuple(a["event_ids"]) for a in attempts} == {(first.json()[0]["id"],)}
    assert attempts[0]["error"] == "HTTP 500 is not an acknowledgement"
    assert attempts[3]["error"] is None
    assert len(receiver.received()) == 4  # nothing after the acknowledgement


def test_the_schedule_is_intuits() -> None:
    settings = webhooks.Settings()
    assert [settings.delay_before(n) for n in range(1, 12)] == [
        0, 10, 20, 30, 300, 1200, 7200, 14400, 21600, 21600, 21600,
    ]  # fmt: skip


def test_no_answer_within_the_ack_timeout_is_retried(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    receiver.answer(0.6)  # sleeps past the ack timeout, then answers 200: too late
    sender = start_sender(webhooks.Settings(time_scale=0.001, ack_timeout=0.2, window=0.01))
    change(qbo, "Customer", "1", "Update")

    receiver.wait_for(2)
    assert sender.wait_idle(5)
    first, second = deliveries(qbo)
    assert (first["status"], first["acknowledged"]) == (None, False)
    assert first["error"] == "no answer within 0.2 s"
    assert (second["attempt"], second["status"], second["acknowledged"]) == (2, 200, True)
    assert first["event_ids"] == second["event_ids"]


def test_later_events_wait_until_the_earlier_delivery_is_acknowledged(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    receiver.answer(500, 500, 500)
    sender = start_sender(webhooks.Settings(time_scale=0.003, ack_timeout=1.0, window=0.5))
    change(qbo, "Invoice", "1", "Create")
    receiver.wait_for(1)  # the first delivery failed once; it is being retried
    change(qbo, "Invoice", "2", "Create")
    change(qbo, "Invoice", "3", "Create")

    requests = receiver.wait_for(5)
    assert sender.wait_idle(5)
    ids = [[event["intuitentityid"] for event in r.json()] for r in requests]
    assert ids == [["1"], ["1"], ["1"], ["1"], ["2", "3"]]
    assert len(receiver.received()) == 5


def test_events_are_gathered_for_the_window_up_to_max_events_in_order(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    sender = start_sender(webhooks.Settings(time_scale=0.001, ack_timeout=1.0, window=0.5, max_events=3))
    for n in range(1, 8):
        qbo.sandbox.notify(REALM, "Item", {"Id": str(n)}, "Create")

    requests = receiver.wait_for(3)
    assert sender.wait_idle(5)
    assert [[event["intuitentityid"] for event in r.json()] for r in requests] == [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7"],
    ]
    assert len(receiver.received()) == 3


def test_changes_further_apart_than_the_window_are_separate_deliveries(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    start_sender(ROOMY)
    change(qbo, "Customer", "1", "Create")
    receiver.wait_for(1)
    change(qbo, "Customer", "1", "Update")
    change(qbo, "Customer", "1", "Delete")

    requests = receiver.wait_for(2)
    assert [[e["type"] for e in r.json()] for r in requests] == [
        ["qbo.customer.created.v1"],
        ["qbo.customer.updated.v1", "qbo.customer.deleted.v1"],
    ]


def test_a_legacy_delivery_covers_one_realm_and_cloudevents_mix_realms(
    qbo: server.RunningSandbox, receiver_factory: Callable[[], Receiver], start_sender: Callable[..., Any]
) -> None:
    other = qbo.sandbox.add_company("Second Company", "9130350000000001").realm_id
    modern, legacy = receiver_factory(), receiver_factory()
    for client_id in (CLIENT_ID, "ABlegacyclient"):
        connect(qbo.sandbox, client_id)
        connect(qbo.sandbox, client_id, other)
    subscribe(qbo, modern.url, "cloudevents")
    subscribe(qbo, legacy.url, "legacy", client_id="ABlegacyclient")
    sender = start_sender(webhooks.Settings(time_scale=0.001, ack_timeout=1.0, window=0.3))
    qbo.sandbox.notify(REALM, "Bill", {"Id": "1"}, "Create")
    qbo.sandbox.notify(other, "Bill", {"Id": "2"}, "Create")
    qbo.sandbox.notify(REALM, "Bill", {"Id": "3"}, "Create")

    assert sender.wait_idle(5)
    (mixed,) = modern.received()
    assert [(e["intuitaccountid"], e["intuitentityid"]) for e in mixed.json()] == [
        (REALM, "1"),
        (other, "2"),
        (REALM, "3"),
    ]
    per_realm = [
        [
            (n["realmId"], [e["id"] for e in n["dataChangeEvent"]["entities"]])
            for n in r.json()["eventNotifications"]
        ]
        for r in legacy.received()
    ]
    assert per_realm == [[(REALM, ["1"])], [(other, ["2"])], [(REALM, ["3"])]]


# ---------------------------------------------------------------- who receives, and who never waits


def test_only_subscribed_apps_connected_to_the_company_receive_its_events(
    qbo: server.RunningSandbox, receiver_factory: Callable[[], Receiver], start_sender: Callable[..., Any]
) -> None:
    connected, unconnected, revoked, unsubscribed = (receiver_factory() for _ in range(4))
    sb = qbo.sandbox
    connect(sb)
    sb.add_app("ABunconnected", "secret", ["http://127.0.0.1/callback"])
    connect(sb, "ABrevoked")
    for token in sb.refresh_tokens.values():
        if token.client_id == "ABrevoked":
            sb.revoke_family(token)
    connect(sb, "ABunsubscribed")
    subscribe(qbo, connected.url)
    subscribe(qbo, unconnected.url, client_id="ABunconnected")
    subscribe(qbo, revoked.url, client_id="ABrevoked")
    subscribe(qbo, unsubscribed.url, client_id="ABunsubscribed")
    response = httpx.post(f"{qbo.url}/_sandbox/apps/ABunsubscribed/webhooks", json={"url": None})
    assert response.json()["url"] is None
    sender = start_sender()
    sb.notify(REALM, "TaxCode", {"Id": "TAX"}, "Update")  # Intuit sends no webhooks for tax codes
    change(qbo, "Vendor", "56", "Update")

    assert sender.wait_idle(5)
    ((event,),) = [r.json() for r in connected.received()]
    assert event["type"] == "qbo.vendor.updated.v1"
    assert (unconnected.received(), revoked.received(), unsubscribed.received()) == ([], [], [])
    assert {a["client_id"] for a in deliveries(qbo)} == {CLIENT_ID}


def test_a_change_never_waits_for_the_receiver(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    receiver.answer(1.0)
    sender = start_sender(webhooks.Settings(time_scale=0.001, ack_timeout=2.0, window=0.01))
    change(qbo, "Customer", "1", "Create")
    receiver.wait_for(1)  # the receiver is now sitting on the first delivery
    started = time.monotonic()
    change(qbo, "Customer", "2", "Create")
    qbo.sandbox.notify(REALM, "Customer", {"Id": "3"}, "Create")
    assert time.monotonic() - started < 0.5
    assert sender.wait_idle(5)
    assert [[e["intuitentityid"] for e in r.json()] for r in receiver.received()] == [["1"], ["2", "3"]]


def test_a_stopped_sender_stops_listening(
    qbo: server.RunningSandbox, receiver: Receiver, start_sender: Callable[..., webhooks.WebhookSender]
) -> None:
    connect(qbo.sandbox)
    subscribe(qbo, receiver.url)
    sender = start_sender()
    assert sender.on_change in qbo.sandbox.listeners
    sender.stop()
    assert sender.on_change not in qbo.sandbox.listeners
    change(qbo, "Customer", "1", "Create")
    time.sleep(0.2)
    assert receiver.received() == []


# ---------------------------------------------------------------- controls


def test_controls_refuse_bad_input(qbo: server.RunningSandbox) -> None:
    connect(qbo.sandbox)
    base = f"{qbo.url}/_sandbox"
    bad = [
        (f"{base}/apps/nobody/webhooks", {"url": "http://127.0.0.1:1/x"}, 404),
        (f"{base}/apps/{CLIENT_ID}/webhooks", {"url": "ftp://127.0.0.1/x"}, 400),
        (f"{base}/apps/{CLIENT_ID}/webhooks", {"url": "http://127.0.0.1:1/x", "format": "xml"}, 400),
        (f"{base}/apps/{CLIENT_ID}/webhooks", {"url": "http://127.0.0.1:1/x", "verifier_token": ""}, 400),
        (f"{base}/companies/{REALM}/changes", {"entity": "Widget", "id": "1", "operation": "Create"}, 400),
        (f"{base}/companies/{REALM}/changes", {"entity": "Invoice", "id": "1", "operation": "Explode"}, 400),
        (f"{base}/companies/{REALM}/changes", {"entity": "Invoice", "operation": "Create"}, 400),
        (f"{base}/companies/404/changes", {"entity": "Invoice", "id": "1", "operation": "Create"}, 404),
    ]
    for url, body, status in bad:
        response = httpx.post(url, json=body)
        assert response.status_code == status, (url, body, response.text)
        assert response.json()["error"]
    app = qbo.sandbox.apps[CLIENT_ID]
    assert (app.webhook_url, app.webhook_format) == (None, "cloudevents")
    response = httpx.post(f"{base}/apps/{CLIENT_ID}/webhooks", json={"url": "http://127.0.0.1:1/x"})
    assert response.json()["verifier_token"] == app.verifier_token  # generated when not given
    assert len(app.verifier_token) >= 16
