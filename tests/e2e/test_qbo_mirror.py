"""The mirror of a QuickBooks Online company's lists on the local stack as `make run` starts it: connecting
reads every list through the worker; a customer renamed in QuickBooks is renamed in the mirror through
Intuit's webhook and told as `quickbooks.changed`; with webhooks off, the scheduled pull brings a new
vendor."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest

from local import stack as local_stack
from local.connect import connect_qbo
from local.stack import LOCAL_QBO_CLIENT_ID
from qbsync.adapters.qbo_lists import ONLINE_LISTS
from qbsync.domain.mirror import ListEntry, ListType, MirrorStore
from tests.e2e.test_qbo_sync import api, wait_for

pytestmark = pytest.mark.e2e
TENANT = "lists"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[local_stack.RunningStack, str]]:
    saved = dict(os.environ)
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    realm = connect_qbo(stack, TENANT)
    yield stack, realm
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)


def mirror() -> MirrorStore:
    from qbsync.composition import container

    return container().mirror


def entry(list_type: ListType, quickbooks_id: str) -> ListEntry | None:
    return mirror().get_many(TENANT, list_type, [quickbooks_id]).get(quickbooks_id)


def changed(stack: local_stack.RunningStack) -> list[dict[str, Any]]:
    answer = api(stack).get(f"/v1/tenants/{TENANT}/events", params={"limit": 500})
    answer.raise_for_status()
    return [e["detail"] for e in answer.json()["items"] if e["type"] == "quickbooks.changed"]


def enter(stack: local_stack.RunningStack, realm: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{stack.qbo.url}/_sandbox/companies/{realm}/entities/{entity}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()[entity]  # type: ignore[no-any-return]


def test_connecting_reads_every_list_into_the_mirror(running) -> None:  # type: ignore[no-untyped-def]
    def loaded() -> bool:
        marks = mirror().marks(TENANT)
        return all(lt in marks and marks[lt].loaded for lt in ONLINE_LISTS)

    assert wait_for(loaded, "every list to be read")
    accounts = {e.name for e in mirror().entries(TENANT, ListType.ACCOUNT)}
    assert {"Undeposited Funds", "Checking", "Services"} <= accounts
    assert {e.name for e in mirror().entries(TENANT, ListType.TERM)} == {"Due on receipt", "Net 15", "Net 30"}
    assert {e.name for e in mirror().entries(TENANT, ListType.SALES_TAX_CODE)} == {"TAX", "NON"}
    items = {e.quickbooks_id: e for e in mirror().entries(TENANT, ListType.ITEM)}
    assert (items["1"].name, items["1"].kind, items["1"].income_account) == (
        "Services",
        "service",
        "Services",
    )
    assert changed(running[0]) == []  # a first read tells nothing


def test_a_customer_renamed_in_quickbooks_is_renamed_in_the_mirror_and_told(running) -> None:  # type: ignore[no-untyped-def]
    stack, realm = running
    wait_for(lambda: mirror().marks(TENANT).get(ListType.CUSTOMER), "the customers to be read")
    ada = enter(stack, realm, "Customer", {"DisplayName": "Ada Plumbing"})
    wait_for(lambda: entry(ListType.CUSTOMER, ada["Id"]), "the new customer in the mirror")
    enter(stack, realm, "Customer", {**ada, "DisplayName": "Ada Plumbing & Heating", "sparse": True})

    def renamed() -> list[dict[str, Any]]:
        return [d for d in changed(stack) if d["quickbooks_id"] == ada["Id"] and d["change"] == "updated"]

    [told] = wait_for(renamed, "quickbooks.changed for the rename")
    assert (told["list_type"], told["name"], told["record_id"]) == (
        "customer",
        "Ada Plumbing & Heating",
        None,
    )
    found = entry(ListType.CUSTOMER, ada["Id"])
    assert found is not None
    assert found.name == "Ada Plumbing & Heating"


def test_the_customers_one_delivery_names_are_read_in_one_query(  # type: ignore[no-untyped-def]
    running, caplog: pytest.LogCaptureFixture
) -> None:
    stack, realm = running
    wait_for(lambda: mirror().marks(TENANT).get(ListType.CUSTOMER), "the customers to be read")
    caplog.set_level(logging.INFO, logger="httpx")  # the functions' requests to QuickBooks
    names = ("Birch Roofing", "Cedar Glass", "Alder Tiles")
    ids = {enter(stack, realm, "Customer", {"DisplayName": name})["Id"] for name in names}
    wait_for(
        lambda: set(mirror().get_many(TENANT, ListType.CUSTOMER, sorted(ids))) == ids, "them in the mirror"
    )

    deliveries = httpx.get(f"{stack.qbo.url}/_sandbox/webhooks/deliveries").json()
    carrying = {
        d["delivery_id"]
        for d in deliveries["deliveries"]
        if any(e.split("/")[1:3] == ["Customer", i] for e in d["entities"] for i in ids)
    }
    requests = [unquote_plus(r.getMessage()) for r in caplog.records if r.name == "httpx"]
    reads = [r for r in requests if "FROM Customer WHERE Id IN" in r and any(f"'{i}'" in r for i in ids)]
    # Each delivery's customers in one read, however the sandbox gathered the changes into deliveries.
    assert len(reads) == len(carrying)
    assert all(f"'{i}'" in " ".join(reads) for i in ids)


def test_with_webhooks_off_the_scheduled_pull_brings_a_new_vendor(running) -> None:  # type: ignore[no-untyped-def]
    stack, realm = running
    wait_for(lambda: mirror().marks(TENANT).get(ListType.VENDOR), "the vendors to be read")
    httpx.post(
        f"{stack.qbo.url}/_sandbox/apps/{LOCAL_QBO_CLIENT_ID}/webhooks", json={"url": None}
    ).raise_for_status()
    vendor = enter(stack, realm, "Vendor", {"DisplayName": "Norton Lumber"})
    [pull] = [s for s in stack.schedules if s.schedule.name == "PaymentsPull"]
    pull.fire()

    found = wait_for(lambda: entry(ListType.VENDOR, vendor["Id"]), "the vendor from the pull")
    assert found.name == "Norton Lumber"
    assert [d["change"] for d in changed(stack) if d["quickbooks_id"] == vendor["Id"]] == ["created"]
