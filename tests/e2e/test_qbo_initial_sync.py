"""The initial sync on the local stack as `make run` starts it, for QuickBooks Online: a sandbox company
seeded with customers and items (one entered years ago), a host app with records matching some of them and
not others; the dry run's counts, then the run through the API, the worker and the sandbox, to 100 % with
nothing created twice, and with the customers found only in QuickBooks told, except the one created before
the since date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local import stack as local_stack
from local.connect import consent
from tests.e2e.test_qbo_sync import api, wait_for

pytestmark = pytest.mark.e2e
TENANT = "first-sync"
PATH = f"/v1/tenants/{TENANT}/initial-sync"
YEARS_AGO = timedelta(days=3 * 365)  # when the oldest customer was entered in QuickBooks
SINCE = (datetime.now(UTC) - timedelta(days=365)).date()  # the host records, received today, are after it


def enter(stack: local_stack.RunningStack, realm: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{stack.qbo.url}/_sandbox/companies/{realm}/entities/{entity}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()[entity]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[local_stack.RunningStack, str]]:
    saved = dict(os.environ)
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    client = api(stack)
    client.post("/v1/tenants", json={"id": TENANT, "name": "First Sync", "edition": "qbo"}).raise_for_status()
    settings = {"send_mode": "review", "only_in_quickbooks": "create", "sync_since": SINCE.isoformat()}
    client.put(f"/v1/tenants/{TENANT}/settings", json=settings).raise_for_status()
    realm = stack.qbo.sandbox.add_company("First Sync Books").realm_id
    stack.qbo.sandbox.clock.offset -= YEARS_AGO  # entered years ago: its MetaData.CreateTime says so
    enter(stack, realm, "Customer", {"DisplayName": "Old Only In QuickBooks"})
    stack.qbo.sandbox.clock.offset += YEARS_AGO
    enter(
        stack,
        realm,
        "Customer",
        {"DisplayName": "Café Noir", "PrimaryEmailAddr": {"Address": "ap@noir.test"}},
    )
    enter(stack, realm, "Customer", {"DisplayName": "Brick & Co"})
    enter(stack, realm, "Customer", {"DisplayName": "Only In QuickBooks Ltd"})
    enter(
        stack,
        realm,
        "Item",
        {"Name": "Valve", "Sku": "V-1", "Type": "Service", "IncomeAccountRef": {"value": "1"}},
    )
    answer = httpx.get(consent(stack, TENANT, realm))
    assert answer.status_code == 200, answer.text
    yield stack, realm
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)


def quickbooks(stack: local_stack.RunningStack, realm: str, entity: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.qbo.url}/_sandbox/companies/{realm}/entities/{entity}")
    answer.raise_for_status()
    return answer.json()[entity]  # type: ignore[no-any-return]


def customers_told(client: httpx.Client) -> list[str]:
    """The names of the customers the initial sync told the host app to create."""
    page = client.get(f"/v1/tenants/{TENANT}/events", params={"limit": 500})
    page.raise_for_status()
    return sorted(
        e["detail"]["name"]
        for e in page.json()["items"]
        if e["type"] == "quickbooks.changed"
        and e["detail"].get("initial_sync")
        and e["detail"]["list_type"] == "customer"
    )


def test_the_dry_run_counts_equal_what_the_run_does_and_progress_reaches_100(running) -> None:  # type: ignore[no-untyped-def]
    stack, realm = running
    client = api(stack)
    for rid, body in (
        ("c-noir", {"display_name": "Cafe Noir Inc.", "email": "AP@noir.test"}),
        ("c-brick", {"display_name": "Brick and Co."}),
        ("c-new", {"display_name": "Newcomer"}),
    ):
        client.put(f"/v1/tenants/{TENANT}/records/customer/{rid}", json=body).raise_for_status()
    client.put(
        f"/v1/tenants/{TENANT}/records/item/i-valve", json={"kind": "service", "name": "Valve", "sku": "v-1"}
    ).raise_for_status()
    line = [{"item_id": "i-valve", "quantity": "1", "rate": "20"}]
    client.put(
        f"/v1/tenants/{TENANT}/records/invoice/inv-1", json={"customer_id": "c-new", "lines": line}
    ).raise_for_status()

    def read() -> dict[str, Any] | None:
        summary = client.post(PATH, json={"dry_run": True}).json()
        return summary if summary["lists_read"] else None

    dry = wait_for(read, "the company's lists to be read")
    connection = client.get(f"/v1/tenants/{TENANT}/connection").json()
    assert (connection["status"], connection["first_load"]) == ("connected", "done")
    customers = dry["counts"]["customer"]
    assert (customers["in_quickbooks"], customers["matched"], customers["to_create_in_quickbooks"]) == (
        4,
        2,
        1,
    )
    assert (customers["to_create_in_app"], customers["ignored_by_reason"]) == (1, {"before_since": 1})
    assert dry["counts"]["item"]["matched"] == 1
    assert dry["counts"]["invoice"]["to_create_in_quickbooks"] == 1

    started = client.post(PATH)
    assert started.status_code == 202, started.text
    assert started.json()["step"] == "matching"  # the worker matches and links
    assert client.post(PATH).status_code in (202, 409)  # done already, or 409 while it runs

    def done() -> dict[str, Any] | None:
        status = client.get(PATH).json()
        return status if status["state"] == "done" else None

    status = wait_for(done, "the initial sync to finish", timeout=60)
    assert status["summary"] == dry["counts"]
    assert {t: p["percent"] for t, p in status["progress"].items()} == dict.fromkeys(status["progress"], 100)
    assert status["errors"] == []
    assert status["progress"]["customer"]["synced"] == 3
    names = sorted(c["DisplayName"] for c in quickbooks(stack, realm, "Customer"))
    assert names == [
        "Brick & Co",
        "Café Noir",
        "Newcomer",
        "Old Only In QuickBooks",
        "Only In QuickBooks Ltd",
    ]  # no duplicate
    assert len(quickbooks(stack, realm, "Invoice")) == 1
    assert customers_told(client) == ["Only In QuickBooks Ltd"]  # not the one older than the since date
