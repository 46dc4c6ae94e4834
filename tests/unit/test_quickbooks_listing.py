"""The listing of the mirror: pages of one list, each entry with its linked host record, filtered by link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbsync.domain.errors import InvalidInputError, NotFoundError
from qbsync.domain.mirror import ListEntry, ListFilter, ListType, ReadMark
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases import quickbooks_side
from qbsync.usecases.quickbooks_side import Listing, QuickBooksListing
from tests.unit.fakes import InMemoryTenants
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryRecordStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TENANT = "acme-42"


@pytest.fixture
def listing() -> QuickBooksListing:
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, T0))
    return QuickBooksListing(tenants, InMemoryMirror(), InMemoryRecordStore())


def link(
    listing: QuickBooksListing, record_id: str, quickbooks_id: str, record_type: str = "customer"
) -> None:
    """Store the record carrying `quickbooks_id` (a new revision of it if it is stored already)."""
    stored = listing.records.get(TENANT, record_type, record_id)
    revision = stored.revision + 1 if stored else 1
    record = SyncRecord(
        TENANT,
        record_type,
        record_id,
        {},
        SyncState.SYNCED,
        T0,
        revision=revision,
        quickbooks_id=quickbooks_id,
    )
    listing.records.save(record, stored.revision if stored else None, None)


def pages(listing: QuickBooksListing, list_type: str, **kw: object) -> list[list[tuple[str, str | None]]]:
    """Each page's (quickbooks_id, record_id), following cursors."""
    out: list[list[tuple[str, str | None]]] = []
    cursor: str | None = None
    while True:
        page: Listing = listing.page(TENANT, list_type, cursor=cursor, **kw)  # type: ignore[arg-type]
        out.append([(i.entry.quickbooks_id, i.record_id) for i in page.items])
        if page.next_cursor is None:
            return out
        assert len(out) < 100
        cursor = page.next_cursor


def flat(pages: list[list[tuple[str, str | None]]]) -> list[tuple[str, str | None]]:
    return [entry for page in pages for entry in page]


def test_each_entry_names_its_linked_record_and_the_linked_filter_pages_exactly(
    listing: QuickBooksListing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quickbooks_side, "LINKED_PAGE", 3)  # many reads of the mirror per page
    listing.mirror.put_many(TENANT, [ListEntry(ListType.CUSTOMER, f"{n}", f"C {n:02d}") for n in range(30)])
    linked_ids = {2, 3, 4, 11, 17, 18, 29}
    for n in linked_ids:
        link(listing, f"c-{n}", f"{n}")
    link(listing, "c-moved", "5")
    link(listing, "c-moved", "6")  # the record moved on to 6: 5 is linked to nothing any more

    everything = pages(listing, "customer", keep=ListFilter(), linked=None, limit=7)
    assert [len(p) for p in everything] == [7, 7, 7, 7, 2]
    listed = dict(flat(everything))
    assert listed["2"] == "c-2"
    assert listed["5"] is None
    assert listed["6"] == "c-moved"

    for limit in (1, 2, 4, 50):
        linked = pages(listing, "customer", keep=ListFilter(), linked=True, limit=limit)
        assert flat(linked) == [(f"{n}", "c-moved" if n == 6 else f"c-{n}") for n in sorted(linked_ids | {6})]
        assert all(len(p) == limit for p in linked[:-1])
        assert linked[-1]  # no empty last page: "more" is exact
        unlinked = pages(listing, "customer", keep=ListFilter(), linked=False, limit=limit)
        assert [q for q, _ in flat(unlinked)] == [f"{n}" for n in range(30) if n not in linked_ids | {6}]
        assert all(r is None for _, r in flat(unlinked))


def test_the_filters_combine_and_the_page_says_how_far_the_list_was_read(listing: QuickBooksListing) -> None:
    listing.mirror.put_many(
        TENANT,
        [
            ListEntry(ListType.ITEM, "1", "Café crème", sku="CAF-1"),
            ListEntry(ListType.ITEM, "2", "Cafetière", sku="CAF-2", active=False),
            ListEntry(ListType.ITEM, "3", "Espresso", sku="ESP-CAFE"),
            ListEntry(ListType.ITEM, "4", "Tea", sku="TEA"),
        ],
    )
    link(listing, "i-3", "3", "item")
    page = listing.page(
        TENANT, "item", keep=ListFilter(text="CAFE", active=True), linked=False, limit=10, cursor=None
    )
    assert [i.entry.quickbooks_id for i in page.items] == ["1"]
    assert page.mark == ReadMark(ListType.ITEM)  # never read: not loaded
    listing.mirror.save_mark(TENANT, ReadMark(ListType.ITEM, True, T0))
    page = listing.page(TENANT, "item", keep=ListFilter(), linked=None, limit=10, cursor=None)
    assert page.mark == ReadMark(ListType.ITEM, True, T0)
    assert [(i.entry.quickbooks_id, i.record_id) for i in page.items] == [
        ("1", None),
        ("2", None),
        ("3", "i-3"),
        ("4", None),
    ]


def test_lists_without_links_list_without_record_ids_and_refuse_the_linked_filter(
    listing: QuickBooksListing,
) -> None:
    listing.mirror.put_many(TENANT, [ListEntry(ListType.ACCOUNT, "1", "Sales", kind="Income")])
    page = listing.page(TENANT, "account", keep=ListFilter(), linked=None, limit=5, cursor=None)
    assert [(i.entry.name, i.record_id) for i in page.items] == [("Sales", None)]
    with pytest.raises(InvalidInputError) as refused:
        listing.page(TENANT, "account", keep=ListFilter(), linked=True, limit=5, cursor=None)
    assert refused.value.problems[0].field == "linked"
    assert "customer, vendor, employee, item" in refused.value.detail


def test_unknown_tenants_and_lists_are_not_found_and_limits_are_bounded(listing: QuickBooksListing) -> None:
    with pytest.raises(NotFoundError, match="tenant"):
        listing.page("nobody", "customer", keep=ListFilter(), linked=None, limit=5, cursor=None)
    with pytest.raises(NotFoundError, match="customer, vendor, employee, item, account, term"):
        listing.page(TENANT, "customers", keep=ListFilter(), linked=None, limit=5, cursor=None)
    for limit in (0, 501):
        with pytest.raises(InvalidInputError):
            listing.page(TENANT, "customer", keep=ListFilter(), linked=None, limit=limit, cursor=None)
