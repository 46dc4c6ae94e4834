"""GET /v1/tenants/{id}/status through API Gateway and ApiFunction, on moto: the connection as
GET .../connection answers it, counts per type and state equal to the stored records, the oldest pending
record and why it waits, the latest failures, nothing of another tenant, and 4xx problems for bad requests."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.sync import Failure, SyncRecord, SyncState
from tests.handlers.conftest import Gateway


def create_tenant(gateway: Gateway, tenant_id: str, edition: str = "qbo") -> None:
    body = {"id": tenant_id, "name": tenant_id.title(), "edition": edition}
    assert gateway.json("POST", "/v1/tenants", body)[0] == 201


def put(gateway: Gateway, tenant_id: str, record_type: str, record_id: str, data: dict[str, Any]) -> None:
    assert gateway.json("PUT", f"/v1/tenants/{tenant_id}/records/{record_type}/{record_id}", data)[0] == 201


def fail(tenant_id: str, record_id: str, at: datetime, code: str) -> None:
    """A customer QuickBooks refused, stored as the worker stores one."""
    from qbsync.composition import container

    record = SyncRecord(tenant_id, "customer", record_id, {"display_name": record_id}, SyncState.PENDING, at)
    record.fail(Failure(code, f"QuickBooks refused {record_id}.", ("edit",), "display_name"), at)
    container().record_store.save(record, None, None)


@pytest.mark.usefixtures("aws_env")
def test_the_status_counts_the_records_and_shows_what_waits_and_what_failed(gateway: Gateway) -> None:
    create_tenant(gateway, "acme")
    create_tenant(gateway, "zeta")
    put(gateway, "acme", "customer", "c-1", {"display_name": "Ada Lovelace"})
    put(gateway, "acme", "item", "i-1", {"kind": "service", "name": "Labour"})
    put(gateway, "zeta", "customer", "c-1", {"display_name": "Someone Else"})
    assert gateway.json("PUT", "/v1/tenants/acme/settings", {"send_mode": "review"})[0] == 200
    put(gateway, "acme", "vendor", "v-1", {"display_name": "Paper Co"})
    now = datetime.now(UTC)
    fail("acme", "c-8", now - timedelta(minutes=2), "6240")
    fail("acme", "c-9", now - timedelta(minutes=1), "6000")

    status, answer = gateway.json("GET", "/v1/tenants/acme/status")

    assert status == 200
    assert (answer["tenant_id"], answer["edition"]) == ("acme", "qbo")
    assert answer["connection"] == gateway.json("GET", "/v1/tenants/acme/connection")[1]
    listed: Counter[tuple[str, str]] = Counter()
    for record_type in RECORD_TYPES:
        _, page = gateway.json("GET", f"/v1/tenants/acme/records/{record_type}")
        listed.update((record_type, r["state"]) for r in page["items"])
    counted = {(t, s): n for t, c in answer["records"].items() for s, n in c["states"].items() if n}
    assert counted == dict(listed)
    assert counted == {
        ("customer", "pending"): 1,
        ("customer", "failed"): 2,
        ("item", "pending"): 1,
        ("vendor", "draft"): 1,
    }
    assert answer["records"]["customer"] == {
        "total": 3,
        "states": {s.value: {"pending": 1, "failed": 2}.get(s.value, 0) for s in SyncState},
        "percent_synced": 0,
    }
    waiting = answer["oldest_pending"]
    assert (waiting["record_type"], waiting["record_id"]) == ("customer", "c-1")
    assert (waiting["waiting_for"], waiting["why"]) == ([], "received")  # no run has looked at it yet
    assert [(f["record_id"], f["failure"]["code"]) for f in answer["failures"]] == [
        ("c-9", "6000"),
        ("c-8", "6240"),
    ]
    assert answer["failures"][0]["failure"]["actions"] == ["edit"]
    assert answer["runs"]["sync"]["running"] is False
    assert (answer["runs"]["match"], answer["runs"]["initial_sync"], answer["last_synced_at"]) == (
        None,
        None,
        None,
    )

    _, limited = gateway.json("GET", "/v1/tenants/acme/status?failures_limit=1")
    assert [f["record_id"] for f in limited["failures"]] == ["c-9"]
    _, other = gateway.json("GET", "/v1/tenants/zeta/status")
    assert {(t, s): n for t, c in other["records"].items() for s, n in c["states"].items() if n} == {
        ("customer", "pending"): 1
    }
    assert other["failures"] == []


@pytest.mark.usefixtures("aws_env")
def test_a_desktop_tenant_s_status_has_its_web_connector_connection(gateway: Gateway) -> None:
    create_tenant(gateway, "desk", "qbd")
    put(gateway, "desk", "customer", "c-1", {"display_name": "Ada Lovelace"})
    _, answer = gateway.json("GET", "/v1/tenants/desk/status")
    assert answer["connection"] == gateway.json("GET", "/v1/tenants/desk/connection")[1]
    assert "stale_since" in answer["connection"]
    assert answer["oldest_pending"]["waiting_for"] == ["web_connector"]


@pytest.mark.usefixtures("aws_env")
def test_bad_status_requests_are_problems(gateway: Gateway) -> None:
    create_tenant(gateway, "acme")
    status, problem = gateway.json("GET", "/v1/tenants/ghost/status")
    assert (status, problem["status"]) == (404, 404)
    for query in ("failures_limit=0", "failures_limit=101", "failures_limit=ten"):
        status, problem = gateway.json("GET", f"/v1/tenants/acme/status?{query}")
        assert (status, [e["field"] for e in problem["errors"]]) == (422, ["failures_limit"]), query
