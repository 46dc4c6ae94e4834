"""GET /v1/tenants/{id}/quickbooks/{list_type} through API Gateway and ApiFunction, on moto: the mirror of the
company's lists, each parameter, each refusal, and one tenant never seeing another's."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest

from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.sync import SyncRecord, SyncState
from tests.handlers.conftest import Gateway

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TENANT, OTHER = "acme-42", "acme-4"
CUSTOMERS = "/v1/tenants/acme-42/quickbooks/customer"


def seed(tenant: str, entries: list[ListEntry], links: dict[str, str] | None = None) -> None:
    """The tenant's mirror holds `entries`; `links`: QuickBooks id -> id of the host customer linked to it."""
    from qbsync.composition import container

    c = container()
    c.mirror.put_many(tenant, entries)
    for quickbooks_id, record_id in (links or {}).items():
        record = SyncRecord(
            tenant, "customer", record_id, {}, SyncState.SYNCED, T0, quickbooks_id=quickbooks_id
        )
        c.record_store.save(record, None, None)


@pytest.fixture
def tenants(gateway: Gateway) -> Gateway:
    for tenant in (TENANT, OTHER):
        status, _ = gateway.json("POST", "/v1/tenants", {"id": tenant, "name": tenant, "edition": "qbo"})
        assert status == 201
    return gateway


def customers(**kw: Any) -> list[ListEntry]:
    return [
        ListEntry(
            ListType.CUSTOMER, "1", "Café Noir", email="Billing@CafeNoir.example", modified_at=T0, **kw
        ),
        ListEntry(ListType.CUSTOMER, "2", "Zoë's Bakery", modified_at=T0 + timedelta(days=2), **kw),
        ListEntry(ListType.CUSTOMER, "3", "Acme", active=False, modified_at=T0 + timedelta(days=1), **kw),
        ListEntry(ListType.CUSTOMER, "4", "Acme:Job 7", parent_id="3", modified_at=T0, **kw),
    ]


def ids(gateway: Gateway, query: str, path: str = CUSTOMERS) -> list[str]:
    status, body = gateway.json("GET", f"{path}?{query}")
    assert status == 200, body
    assert body["next_cursor"] is None
    return [e["quickbooks_id"] for e in body["items"]]


def refused(gateway: Gateway, path: str, status: int) -> dict[str, Any]:
    answer, content_type, raw = gateway.request("GET", path)
    assert (answer, content_type) == (status, "application/problem+json"), raw
    problem: dict[str, Any] = json.loads(raw)
    assert problem["status"] == status
    return problem


def test_the_listing_shows_each_entry_with_its_linked_record_and_how_far_the_list_was_read(
    tenants: Gateway,
) -> None:
    from qbsync.composition import container

    item = ListEntry(
        ListType.ITEM,
        "80000001-1",
        "Labour",
        sku="LAB-1",
        kind="service",
        price=Decimal("75.50"),
        modified_at=T0,
    )
    seed(TENANT, [*customers(), item], links={"1": "cust-1001"})
    status, body = tenants.json("GET", CUSTOMERS)
    assert status == 200
    assert [e["name"] for e in body["items"]] == ["Acme", "Acme:Job 7", "Café Noir", "Zoë's Bakery"]
    assert body["items"][2] == {
        **customers()[0].as_dict(),
        "modified_at": "2026-11-01T09:00:00Z",
        "record_type": "customer",
        "record_id": "cust-1001",
    }
    assert body["items"][1]["parent_id"] == "3"
    assert body["items"][0]["record_id"] is None
    assert (body["loaded"], body["through"], body["next_cursor"]) == (False, None, None)  # still reading

    container().mirror.save_mark(TENANT, ReadMark(ListType.CUSTOMER, True, T0 + timedelta(days=2)))
    status, body = tenants.json("GET", CUSTOMERS)
    assert (body["loaded"], body["through"]) == (True, "2026-11-03T09:00:00Z")

    status, body = tenants.json("GET", "/v1/tenants/acme-42/quickbooks/item")
    assert status == 200
    assert body["items"] == [
        {**item.as_dict(), "modified_at": "2026-11-01T09:00:00Z", "record_type": "item", "record_id": None}
    ]
    assert body["items"][0]["price"] == "75.50"  # money as a decimal string
    assert body["loaded"] is False  # each list has its own mark


def test_the_listing_shows_when_quickbooks_created_each_entry_and_null_when_not_known(
    tenants: Gateway,
) -> None:
    created = datetime(2019, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=-8)))
    old, unknown, *_ = customers()
    seed(TENANT, [replace(old, created_at=created), unknown])
    status, body = tenants.json("GET", CUSTOMERS)
    assert status == 200, body
    assert {e["quickbooks_id"]: e["created_at"] for e in body["items"]} == {
        "1": "2019-03-01T08:00:00-08:00",
        "2": None,
    }


def test_q_active_modified_since_and_linked_each_narrow_the_listing(tenants: Gateway) -> None:
    seed(TENANT, customers(), links={"1": "cust-1001", "4": "job-7"})
    assert ids(tenants, "q=CAFE") == ["1"]  # case and accents ignored
    assert ids(tenants, "q=cafenoir.example") == ["1"]  # the email
    assert ids(tenants, "q=" + quote("zoë")) == ["2"]
    assert ids(tenants, "q=acme") == ["3", "4"]
    assert ids(tenants, "active=false") == ["3"]
    assert ids(tenants, "active=true") == ["4", "1", "2"]
    assert ids(tenants, "modified_since=2026-11-02T09:00:00Z") == ["3", "2"]
    assert ids(tenants, "modified_since=" + quote("2026-11-02T11:00:00+02:00")) == ["3", "2"]
    assert ids(tenants, "modified_since=2026-11-02T09:00:01Z") == ["2"]
    assert ids(tenants, "linked=true") == ["4", "1"]
    assert ids(tenants, "linked=false") == ["3", "2"]
    assert ids(tenants, "linked=false&active=true&q=a") == ["2"]

    seed(TENANT, [ListEntry(ListType.ITEM, "9", "Espresso beans", sku="CAFE-BEANS")])
    assert ids(tenants, "q=cafe-b", "/v1/tenants/acme-42/quickbooks/item") == ["9"]  # the SKU


def test_limit_and_cursor_page_the_listing_with_and_without_the_linked_filter(tenants: Gateway) -> None:
    entries = [ListEntry(ListType.CUSTOMER, f"{n}", f"Customer {n:03d}") for n in range(25)]
    seed(TENANT, entries, links={f"{n}": f"c-{n}" for n in range(0, 25, 3)})
    for query, expected in [
        ("limit=4", [f"{n}" for n in range(25)]),
        ("limit=4&linked=true", [f"{n}" for n in range(0, 25, 3)]),
        ("limit=2&linked=false", [f"{n}" for n in range(25) if n % 3]),
    ]:
        listed: list[str] = []
        cursor = ""
        for _ in range(20):
            status, body = tenants.json("GET", f"{CUSTOMERS}?{query}{cursor}")
            assert status == 200, body
            listed += [e["quickbooks_id"] for e in body["items"]]
            if body["next_cursor"] is None:
                break
            cursor = "&cursor=" + quote(body["next_cursor"])
        assert listed == expected, query
    status, body = tenants.json("GET", f"{CUSTOMERS}?limit=500")
    assert (status, len(body["items"])) == (200, 25)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("linked=maybe", "linked"),
        ("active=perhaps", "active"),
        ("modified_since=2026-11-01T09:00:00", "modified_since"),  # no zone
        ("modified_since=yesterday", "modified_since"),
        ("modified_since=2026-13-01T09:00:00Z", "modified_since"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "x" * 4097, "cursor"),
        ("q=" + "a" * 501, "q"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(tenants: Gateway, query: str, field: str) -> None:
    problem = refused(tenants, f"{CUSTOMERS}?{query}", 422)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_linked_is_refused_for_lists_without_links(tenants: Gateway) -> None:
    seed(TENANT, [ListEntry(ListType.ACCOUNT, "1", "Sales", kind="Income")])
    problem = refused(tenants, "/v1/tenants/acme-42/quickbooks/account?linked=true", 422)
    assert [e["field"] for e in problem["errors"]] == ["linked"]
    assert "customer, vendor, employee, item" in problem["detail"]
    assert ids(tenants, "", "/v1/tenants/acme-42/quickbooks/account") == ["1"]


def test_unknown_lists_and_tenants_are_not_found(tenants: Gateway) -> None:
    problem = refused(tenants, "/v1/tenants/acme-42/quickbooks/customers", 404)
    assert "customer, vendor, employee, item, account, term, payment_method" in problem["detail"]
    problem = refused(tenants, "/v1/tenants/nobody/quickbooks/customer", 404)
    assert "nobody" in problem["detail"]
    refused(tenants, "/v1/tenants/bad%20id/quickbooks/customer", 422)
    status, _, _ = tenants.request("GET", CUSTOMERS, headers=(("authorization", "Bearer qbs_wrong"),))
    assert status == 403


def test_a_tenant_sees_only_its_own_mirror_and_links_and_cannot_page_with_anothers_cursor(
    tenants: Gateway,
) -> None:
    seed(TENANT, customers(), links={"1": "cust-1001"})
    seed(OTHER, [ListEntry(ListType.CUSTOMER, f"{n}", f"Mallory {n}") for n in range(3)], links={"2": "m-2"})
    assert ids(tenants, "", "/v1/tenants/acme-4/quickbooks/customer") == ["0", "1", "2"]
    status, body = tenants.json("GET", "/v1/tenants/acme-4/quickbooks/customer?linked=true")
    assert [(e["quickbooks_id"], e["record_id"]) for e in body["items"]] == [("2", "m-2")]
    status, body = tenants.json("GET", f"{CUSTOMERS}?q=mallory")
    assert (status, body["items"]) == (200, [])

    status, body = tenants.json("GET", "/v1/tenants/acme-4/quickbooks/customer?limit=1")
    cursor = quote(body["next_cursor"])
    problem = refused(tenants, f"{CUSTOMERS}?cursor={cursor}", 422)
    assert [e["field"] for e in problem["errors"]] == ["cursor"]
    refused(tenants, f"/v1/tenants/acme-4/quickbooks/vendor?cursor={cursor}", 422)  # nor another list's
