"""QuickBooks Online webhooks: signature, both payload formats, deduplication and routing, on fakes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qbsync.domain.jobs import ENTITY_CHANGED_JOB, Job
from qbsync.domain.webhooks import (
    EntityChange,
    Operation,
    WebhookPayloadError,
    WebhookSignatureError,
    legacy_event_id,
)
from qbsync.metrics import EmfMetrics
from qbsync.usecases.webhooks import (
    RecentRealms,
    WebhookReceipt,
    WebhookReceiver,
    parse_payload,
    route_changes,
    sign,
    signature_matches,
)
from tests.unit.fakes import FixedClock, InMemoryQueue
from tests.unit.published_metrics import during_an_invocation

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
WEBHOOK_REFERENCE = REFERENCE / "qbo" / "webhooks"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"reference material not present at {REFERENCE} (official vectors and samples)",
)

TOKEN = "unit-test-verifier-token"
NOW = FixedClock().now()
REALM = "9341453050298464"


# ---------------------------------------------------------------- fakes


class FakeEventLog:
    def __init__(self) -> None:
        self.claimed: dict[str, datetime] = {}

    def claim(self, event_id: str, now: datetime) -> bool:
        if event_id in self.claimed:
            return False
        self.claimed[event_id] = now
        return True

    def release(self, event_id: str) -> None:
        self.claimed.pop(event_id, None)


class FakeRealms:
    def __init__(self, tenants: dict[str, str]) -> None:
        self.tenants = tenants
        self.lookups: list[str] = []

    def tenant_for_realm(self, realm_id: str) -> str | None:
        self.lookups.append(realm_id)
        return self.tenants.get(realm_id)


class FlakyQueue(InMemoryQueue):
    fail: bool = False
    fail_after: int | None = None  # fail once this many jobs are sent

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        if self.fail or (self.fail_after is not None and len(self.sent) >= self.fail_after):
            raise ConnectionError("queue unavailable")
        super().send(job, delay_seconds)

    @property
    def jobs(self) -> list[Job]:
        return [job for job, _ in self.sent]


class Harness:
    def __init__(self, tenants: dict[str, str] | None = None, token: str = TOKEN) -> None:
        self.events = FakeEventLog()
        self.realms = FakeRealms(tenants if tenants is not None else {REALM: "acme-42"})
        self.queue = FlakyQueue()
        self.token_reads = 0
        self.token = token

    def _token(self) -> str:
        self.token_reads += 1
        return self.token

    def deliver(self, body: bytes, signature: str | None = None) -> WebhookReceipt:
        receiver = WebhookReceiver(
            self._token, self.events, self.realms, self.queue, FixedClock(), EmfMetrics()
        )
        return receiver.receive(body, sign(self.token, body) if signature is None else signature)


def cloudevent(event_id: str, type_: str, entity_id: str, realm: str = REALM, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "intuit.test",
        "type": type_,
        "time": "2026-11-23T10:59:58.123456789Z",
        "intuitentityid": entity_id,
        "intuitaccountid": realm,
        "data": {},
        **extra,
    }


def body_of(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def reference_bytes(name: str) -> bytes:
    return (WEBHOOK_REFERENCE / name).read_bytes()


@pytest.fixture
def qbsync_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """qbsync's records, even once a handler module has made the package logger stop propagating."""
    monkeypatch.setattr(logging.getLogger("qbsync"), "propagate", True)
    caplog.set_level(logging.INFO, logger="qbsync")
    return caplog


# ---------------------------------------------------------------- signature


@needs_reference
def test_signature_matches_every_official_vector() -> None:
    vectors = json.loads(reference_bytes("signature_test_vectors.json"))
    assert len(vectors) >= 3
    for vector in vectors:
        body = vector["raw_body"].encode("utf-8")
        ok = signature_matches(vector["verifier_token"], body, vector["intuit_signature"])
        assert ok is vector["expected_valid"], vector["name"]


@needs_reference
def test_signature_is_over_the_exact_body_files() -> None:
    vectors = {v["name"]: v for v in json.loads(reference_bytes("signature_test_vectors.json"))}
    vector = vectors["dotnet_sdk_legacy_vendor_customer"]
    body = reference_bytes("dotnet_sdk_legacy_vendor_customer.body.json")
    assert sign(vector["verifier_token"], body) == "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
    # The same JSON re-serialised (different bytes) no longer matches: only the raw body may be verified.
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    assert not signature_matches(vector["verifier_token"], reserialised, vector["intuit_signature"])
    # A different token does not match either.
    assert not signature_matches("another-token", body, vector["intuit_signature"])


def test_signature_refuses_garbage_without_raising() -> None:
    body = b'{"eventNotifications":[]}'
    good = sign(TOKEN, body)
    assert signature_matches(TOKEN, body, good)
    for bad in ("", "1234", good[:-2], good.lower(), "é" * 44, good + " "):
        assert not signature_matches(TOKEN, body, bad), bad


# ---------------------------------------------------------------- payload formats


@needs_reference
def test_cloudevents_blog_sample_is_read() -> None:
    parsed = parse_payload(reference_bytes("cloudevents_intuit_blog_sample.json"))
    assert parsed.skipped == 0
    assert parsed.changes == [
        EntityChange(
            event_id="88cd52aa-33b6-4351-9aa4-47572edbd068",
            realm_id="310687",
            entity="Account",
            entity_id="1234",
            operation=Operation.CREATE,
            last_updated=datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=UTC),
        )
    ]


@needs_reference
def test_cloudevents_dotnet_sample_is_read() -> None:
    (change,) = parse_payload(reference_bytes("DERIVED_cloudevents_dotnet.body.json")).changes
    assert (change.event_id, change.realm_id, change.entity, change.entity_id, change.operation) == (
        "d1a3aedd-9670-41bf-a4f9-c148a1cc4e03",
        "310687",
        "Class",
        "1234",
        Operation.CREATE,
    )


@needs_reference
def test_legacy_docs_sample_is_read() -> None:
    parsed = parse_payload(reference_bytes("legacy_docs_sample_payload.json"))
    pacific = datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)
    assert [(c.realm_id, c.entity, c.entity_id, c.operation, c.last_updated) for c in parsed.changes] == [
        ("1185883450", "Customer", "1", Operation.CREATE, pacific),
        ("1185883450", "Vendor", "1", Operation.CREATE, pacific),
    ]
    customer, vendor = parsed.changes
    assert customer.event_id == legacy_event_id(
        "1185883450", "Customer", "1", "Create", "2015-10-05T14:42:19-0700"
    )
    assert customer.event_id != vendor.event_id


@needs_reference
def test_legacy_dotnet_sample_is_read() -> None:
    changes = parse_payload(reference_bytes("dotnet_sdk_legacy_vendor_customer.body.json")).changes
    assert [(c.realm_id, c.entity, c.entity_id, c.operation) for c in changes] == [
        ("1269959970", "Vendor", "40", Operation.UPDATE),
        ("1269959970", "Customer", "43", Operation.CREATE),
    ]
    assert changes[0].last_updated == datetime(2016, 10, 5, 3, 9, 4, tzinfo=UTC)


@needs_reference
def test_both_formats_of_the_same_event_mean_the_same_change() -> None:
    (legacy,) = parse_payload(reference_bytes("legacy_intuit_blog_sample_same_event.json")).changes
    (cloud,) = parse_payload(reference_bytes("cloudevents_intuit_blog_sample.json")).changes
    same = ("realm_id", "entity", "entity_id", "operation")
    assert {k: getattr(legacy, k) for k in same} == {k: getattr(cloud, k) for k in same}


def test_legacy_event_id_is_stable_and_distinguishes_changes() -> None:
    doc = {
        "eventNotifications": [
            {
                "realmId": REALM,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "7",
                            "operation": "Update",
                            "lastUpdated": "2026-11-23T10:00:00.000Z",
                        },
                        {
                            "name": "Invoice",
                            "id": "7",
                            "operation": "Update",
                            "lastUpdated": "2026-11-23T10:05:00.000Z",
                        },
                    ]
                },
            }
        ]
    }
    first = [c.event_id for c in parse_payload(body_of(doc)).changes]
    again = [c.event_id for c in parse_payload(json.dumps(doc, indent=4).encode()).changes]
    assert first == again  # the id depends on the change, not on the formatting of the delivery
    assert first[0] != first[1]  # a later update of the same invoice is a new event
    assert all(i.startswith("legacy-") and len(i) == len("legacy-") + 64 for i in first)


@pytest.mark.parametrize(
    ("type_", "entity", "operation"),
    [
        ("qbo.invoice.created.v1", "Invoice", Operation.CREATE),
        ("qbo.purchaseorder.updated.v1", "PurchaseOrder", Operation.UPDATE),
        ("qbo.billpayment.deleted.v1", "BillPayment", Operation.DELETE),
        ("qbo.customer.merged.v1", "Customer", Operation.MERGE),
        ("qbo.payment.voided.v1", "Payment", Operation.VOID),
        ("qbo.invoice.void.v1", "Invoice", Operation.VOID),
        ("qbo.creditmemo.emailed.v1", "CreditMemo", Operation.EMAILED),
    ],
)
def test_cloudevents_types_map_to_entity_and_operation(type_: str, entity: str, operation: Operation) -> None:
    (change,) = parse_payload(body_of([cloudevent("e-1", type_, "12")])).changes
    assert (change.entity, change.operation) == (entity, operation)


def test_unreadable_events_are_skipped_and_the_rest_kept() -> None:
    doc = [
        cloudevent("e-1", "qbo.invoice.created.v1", "12"),
        {"id": "e-2", "type": "qbo.invoice.created.v1"},  # no realm, no entity id
        cloudevent("e-3", "qbo.invoice.teleported.v1", "13"),
        cloudevent("e-4", "intuit.something.else", "14"),
        "not an event",
        cloudevent("e-5", "qbo.customer.updated.v1", "15", time="not a time"),
    ]
    parsed = parse_payload(body_of(doc))
    assert [c.event_id for c in parsed.changes] == ["e-1", "e-5"]
    assert parsed.changes[1].last_updated is None
    assert parsed.skipped == 4


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe\x00garbage",
        b'{"hello": "world"}',
        b'"text"',
        b'{"eventNotifications": {"realmId": "1"}}',
    ],
)
def test_bodies_in_neither_format_are_refused(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_payload(body)


# ---------------------------------------------------------------- receive: verify, dedupe, route


def test_missing_signature_is_refused_before_anything_is_read() -> None:
    h = Harness()
    with pytest.raises(WebhookSignatureError, match="no intuit-signature"):
        h.deliver(body_of([cloudevent("e-1", "qbo.invoice.created.v1", "12")]), signature="")
    assert h.token_reads == 0
    assert h.realms.lookups == []
    assert h.queue.jobs == []


def test_wrong_signature_is_refused_and_nothing_routed() -> None:
    h = Harness()
    body = body_of([cloudevent("e-1", "qbo.invoice.created.v1", "12")])
    with pytest.raises(WebhookSignatureError, match="does not match"):
        h.deliver(body, signature=sign("someone-else", body))
    assert h.events.claimed == {}
    assert h.queue.jobs == []


def test_unparseable_body_with_a_valid_signature_raises_payload_error() -> None:
    h = Harness()
    with pytest.raises(WebhookPayloadError):
        h.deliver(b"[{broken")
    assert h.queue.jobs == []


def test_each_delivery_is_counted_accepted_refused_or_unreadable() -> None:
    h = Harness()
    body = body_of([cloudevent("e-1", "qbo.invoice.created.v1", "12")])

    def deliveries() -> None:
        h.deliver(body)
        h.deliver(body)  # a redelivery is accepted too (and routes nothing)
        with pytest.raises(WebhookSignatureError):
            h.deliver(body, signature=sign("someone-else", body))
        with pytest.raises(WebhookSignatureError):
            h.deliver(body, signature="")
        with pytest.raises(WebhookPayloadError):
            h.deliver(b"[{broken")

    published = during_an_invocation(deliveries)
    outcomes = ("accepted", "refused", "unreadable")
    assert [published.total("WebhookDeliveries", outcome=o) for o in outcomes] == [2, 2, 1]


def test_known_realm_enqueues_one_job_per_entity_type_with_its_changes_in_order() -> None:
    h = Harness()
    receipt = h.deliver(
        body_of(
            [
                cloudevent("e-1", "qbo.invoice.created.v1", "1042"),
                cloudevent("e-2", "qbo.customer.updated.v1", "58"),
                cloudevent("e-3", "qbo.customer.created.v1", "59"),
            ]
        )
    )
    assert [j.kind for j in h.queue.jobs] == [ENTITY_CHANGED_JOB, ENTITY_CHANGED_JOB]
    assert [j.tenant_id for j in h.queue.jobs] == ["acme-42", "acme-42"]
    at = "2026-11-23T10:59:58.123456+00:00"
    assert [j.payload for j in h.queue.jobs] == [
        {
            "realm_id": REALM,
            "entity": "Invoice",
            "changes": [{"entity_id": "1042", "operation": "Create", "event_id": "e-1", "last_updated": at}],
        },
        {
            "realm_id": REALM,
            "entity": "Customer",
            "changes": [
                {"entity_id": "58", "operation": "Update", "event_id": "e-2", "last_updated": at},
                {"entity_id": "59", "operation": "Create", "event_id": "e-3", "last_updated": at},
            ],
        },
    ]
    assert all(j.created_at == NOW for j in h.queue.jobs)
    assert h.realms.lookups == [REALM]  # one lookup per realm, not per event
    assert set(h.events.claimed) == {"e-1", "e-2", "e-3"}
    assert (receipt.changes, len(receipt.jobs), receipt.duplicates) == (3, 2, 0)


def test_a_job_has_one_tenants_changes_only() -> None:
    h = Harness(tenants={REALM: "acme-42", "777": "bravo"})
    h.deliver(
        body_of(
            [
                cloudevent("e-1", "qbo.customer.created.v1", "1"),
                cloudevent("e-2", "qbo.customer.created.v1", "1", realm="777"),
                cloudevent("e-3", "qbo.customer.created.v1", "2"),
            ]
        )
    )
    assert [
        (j.tenant_id, j.payload["realm_id"], [c["entity_id"] for c in j.payload["changes"]])
        for j in h.queue.jobs
    ] == [("acme-42", REALM, ["1", "2"]), ("bravo", "777", ["1"])]


@needs_reference
def test_legacy_reference_payload_is_routed_per_entity() -> None:
    h = Harness(tenants={"1269959970": "northwind"})
    body = reference_bytes("dotnet_sdk_legacy_vendor_customer.body.json")
    h.deliver(body)
    assert [
        (j.tenant_id, j.payload["entity"], c["entity_id"], c["operation"])
        for j in h.queue.jobs
        for c in j.payload["changes"]
    ] == [("northwind", "Vendor", "40", "Update"), ("northwind", "Customer", "43", "Create")]


def test_redelivery_of_the_same_events_enqueues_nothing_new() -> None:
    h = Harness()
    body = body_of([cloudevent("e-1", "qbo.invoice.created.v1", "1042")])
    first = h.deliver(body)
    second = h.deliver(body)
    assert len(first.jobs) == 1
    assert (len(second.jobs), second.duplicates) == (0, 1)
    assert len(h.queue.jobs) == 1


def test_duplicates_within_one_delivery_are_dropped() -> None:
    h = Harness()
    entity = {"name": "Invoice", "id": "7", "operation": "Update", "lastUpdated": "2026-11-23T10:00:00.000Z"}
    doc = {
        "eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [entity, dict(entity)]}}]
    }
    receipt = h.deliver(body_of(doc))
    assert (len(h.queue.jobs), receipt.duplicates) == (1, 1)


def test_unknown_realm_is_acknowledged_without_jobs(qbsync_logs: pytest.LogCaptureFixture) -> None:
    h = Harness(tenants={})
    receipt = h.deliver(
        body_of(
            [
                cloudevent("e-1", "qbo.invoice.created.v1", "1042", realm="555"),
                cloudevent("e-2", "qbo.invoice.updated.v1", "1042", realm="555"),
            ]
        )
    )
    assert h.queue.jobs == []
    assert h.events.claimed == {}
    assert receipt.unknown_realm_changes == 2
    unknown = [r for r in qbsync_logs.records if "no tenant has connected" in r.getMessage()]
    assert [getattr(r, "realm_id", None) for r in unknown] == ["555"]  # logged once per realm, by id only


def test_mixed_realms_route_only_the_connected_one() -> None:
    h = Harness(tenants={REALM: "acme-42"})
    h.deliver(
        body_of(
            [
                cloudevent("e-1", "qbo.invoice.created.v1", "1", realm="555"),
                cloudevent("e-2", "qbo.invoice.created.v1", "2"),
            ]
        )
    )
    assert [(j.tenant_id, [c["entity_id"] for c in j.payload["changes"]]) for j in h.queue.jobs] == [
        ("acme-42", ["2"])
    ]


def test_a_failed_enqueue_releases_the_claim_so_the_retry_is_routed() -> None:
    h = Harness()
    body = body_of([cloudevent("e-1", "qbo.invoice.created.v1", "1042")])
    h.queue.fail = True
    with pytest.raises(ConnectionError):
        h.deliver(body)
    assert h.events.claimed == {}
    h.queue.fail = False
    receipt = h.deliver(body)
    assert [c["event_id"] for j in receipt.jobs for c in j.payload["changes"]] == ["e-1"]


def test_a_failed_enqueue_releases_the_claims_of_the_changes_not_queued_only() -> None:
    h = Harness()
    body = body_of(
        [
            cloudevent("e-1", "qbo.invoice.created.v1", "1042"),
            cloudevent("e-2", "qbo.customer.created.v1", "58"),
            cloudevent("e-3", "qbo.item.created.v1", "7"),
        ]
    )
    h.queue.fail_after = 1
    with pytest.raises(ConnectionError):
        h.deliver(body)
    assert set(h.events.claimed) == {"e-1"}  # its job went
    h.queue.fail_after = None
    retry = h.deliver(body)  # Intuit's retry of the whole delivery
    assert retry.duplicates == 1
    assert [(j.payload["entity"], [c["event_id"] for c in j.payload["changes"]]) for j in h.queue.jobs] == [
        ("Invoice", ["e-1"]),
        ("Customer", ["e-2"]),
        ("Item", ["e-3"]),
    ]


def test_entity_change_refuses_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="time zone"):
        EntityChange("e", REALM, "Invoice", "1", Operation.CREATE, datetime(2026, 1, 1))
    aware = EntityChange("e", REALM, "Invoice", "1", Operation.CREATE, NOW - timedelta(seconds=1))
    assert aware.last_updated is not None


def test_a_merge_names_the_entity_merged_away_in_either_format_and_its_job_carries_it() -> None:
    legacy = {
        "eventNotifications": [
            {
                "realmId": REALM,
                "dataChangeEvent": {
                    "entities": [
                        {"name": "Customer", "id": "9", "operation": "Merge", "deletedId": "11"},
                        {"name": "Vendor", "id": "4", "operation": "Merge", "deletedID": "5"},
                    ]
                },
            }
        ]
    }
    cloud = [
        {
            "specversion": "1.0",
            "id": "e-1",
            "type": "qbo.customer.merged.v1",
            "intuitentityid": "9",
            "intuitaccountid": REALM,
            "data": {"deletedid": "11"},
        },
        {
            "specversion": "1.0",
            "id": "e-2",
            "type": "qbo.customer.updated.v1",
            "intuitentityid": "9",
            "intuitaccountid": REALM,
            "data": [],
        },
    ]
    assert [c.deleted_id for c in parse_payload(json.dumps(legacy).encode()).changes] == ["11", "5"]
    parsed = parse_payload(json.dumps(cloud).encode())
    assert [c.deleted_id for c in parsed.changes] == ["11", None]
    queue = InMemoryQueue()
    route_changes(
        parsed.changes,
        events=FakeEventLog(),
        realms=FakeRealms({REALM: "t1"}),
        jobs=queue,
        clock=FixedClock(),
    )
    [(job, _)] = queue.sent
    assert [change.get("deleted_id") for change in job.payload["changes"]] == ["11", None]


def test_a_connected_company_is_looked_up_once_a_minute_and_one_not_connected_every_time() -> None:
    realms, clock = FakeRealms({"111": "acme"}), FixedClock()
    recent = RecentRealms(realms, clock)
    assert [recent.tenant_for_realm("111") for _ in range(3)] == ["acme"] * 3
    assert [recent.tenant_for_realm("222") for _ in range(2)] == [None, None]
    assert realms.lookups == ["111", "222", "222"]  # a company connected a moment ago is found at once
    realms.tenants["222"] = "bravo"
    assert recent.tenant_for_realm("222") == "bravo"
    clock.advance(timedelta(seconds=59))
    assert recent.tenant_for_realm("111") == "acme"
    assert realms.lookups == ["111", "222", "222", "222"]
    clock.advance(timedelta(seconds=1))
    del realms.tenants["111"]  # disconnected: found out once the minute is up
    assert recent.tenant_for_realm("111") is None
    assert realms.lookups[-1] == "111"
