"""The contract of the mirror's store (domain.mirror.MirrorStore), run against DynamoDB (moto) and against the
in-memory fake the use-case tests use: the same test functions, so the fake cannot drift."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters import dynamodb, mirror_dynamodb
from qbsync.adapters.mirror_dynamodb import DynamoMirrorStore
from qbsync.domain.errors import InvalidInputError
from qbsync.domain.mirror import (
    ListEntry,
    ListFilter,
    ListRead,
    ListType,
    MatchKey,
    MirrorStore,
    ReadMark,
    fold,
)
from qbsync.domain.sync import SyncRecord, SyncState
from tests.unit.mirror_fakes import InMemoryMirror

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TENANT = "acme-42"
OTHER = "acme-4"  # its partition names are prefixes of TENANT's: isolation must not rest on prefixes
CUSTOMER, VENDOR, ITEM = ListType.CUSTOMER, ListType.VENDOR, ListType.ITEM


@pytest.fixture(params=["dynamodb", "memory"])
def mirror(request: pytest.FixtureRequest) -> MirrorStore:
    if request.param == "memory":
        return InMemoryMirror()
    stack: LocalStack = request.getfixturevalue("aws_env")
    return DynamoMirrorStore(boto3.client("dynamodb"), str(stack.ref("Table")))


def cust(qid: str, name: str, **kw: Any) -> ListEntry:
    return ListEntry(CUSTOMER, qid, name, **kw)


def item(qid: str, name: str, **kw: Any) -> ListEntry:
    return ListEntry(ITEM, qid, name, **kw)


def every_field() -> ListEntry:
    return ListEntry(
        list_type=ITEM,
        quickbooks_id="80000001-1234567890",
        name="Küche:Ø 12 mm Rohr 🛠",
        active=False,
        modified_at=datetime(2026, 11, 1, 11, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
        created_at=datetime(2019, 3, 1, 8, 0, 1, tzinfo=timezone(timedelta(hours=-8))),
        version="7",
        parent_id="80000000-1234567890",
        company_name="",
        email=None,
        phone="+49 30 1234",
        sku="RO-12",
        kind="inventory",
        sub_kind="x",
        price=Decimal("1234.50"),
        income_account="Sales:Parts",
        expense_account="Cost of Goods Sold",
        asset_account="Inventory Asset",
    )


def all_pages(mirror: MirrorStore, list_type: ListType, keep: ListFilter, limit: int) -> list[list[str]]:
    """The ids of each page of a listing, following cursors."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = mirror.page(TENANT, list_type, keep, limit, cursor)
        pages.append([e.quickbooks_id for e in page.items])
        if page.next_cursor is None:
            return pages
        assert len(pages) < 200, "the cursor does not advance"
        cursor = page.next_cursor


def in_order(entries: list[ListEntry]) -> list[str]:
    """The listing's order as the port states it: by name ignoring case (and accents), then id."""
    return [e.quickbooks_id for e in sorted(entries, key=lambda e: (fold(e.name), e.quickbooks_id))]


# ---------------------------------------------------------------- storing and reading


def test_every_field_round_trips_exactly(mirror: MirrorStore) -> None:
    entry = every_field()
    mirror.put_many(TENANT, [entry])
    assert mirror.get_many(TENANT, ITEM, [entry.quickbooks_id]) == {entry.quickbooks_id: entry}
    assert list(mirror.entries(TENANT, ITEM)) == [entry]
    bare = cust("1", "Ada")
    mirror.put_many(TENANT, [bare])
    assert mirror.get_many(TENANT, CUSTOMER, ["1"]) == {"1": bare}


def test_the_time_quickbooks_created_an_entry_reads_back_with_its_offset_from_every_read(
    mirror: MirrorStore,
) -> None:
    created = datetime(2019, 3, 1, 8, 0, 1, 250000, tzinfo=timezone(timedelta(hours=-8)))
    entry = cust("58", "Old Timer", email="ap@old.example", created_at=created)
    mirror.put_many(TENANT, [entry, cust("59", "No Time Known")])
    reads = [
        mirror.get_many(TENANT, CUSTOMER, ["58"])["58"],
        *mirror.entries(TENANT, CUSTOMER),
        *mirror.page(TENANT, CUSTOMER, ListFilter(), 10, None).items,
        *mirror.find(TENANT, CUSTOMER, MatchKey.EMAIL, "ap@old.example"),
    ]
    assert {(e.quickbooks_id, e.created_at) for e in reads} == {("58", created), ("59", None)}
    read = mirror.get_many(TENANT, CUSTOMER, ["58"])["58"]
    assert read.created_at is not None
    assert read.created_at.utcoffset() == timedelta(hours=-8)


def test_a_put_replaces_the_entry_of_its_list_and_id_only(mirror: MirrorStore) -> None:
    mirror.put_many(TENANT, [cust("1", "Ada"), cust("2", "Grace"), ListEntry(VENDOR, "1", "Ada Supplies")])
    mirror.put_many(TENANT, [cust("1", "Ada King", email="ada@example.com")])
    assert mirror.get_many(TENANT, CUSTOMER, ["1", "2", "404"]) == {
        "1": cust("1", "Ada King", email="ada@example.com"),
        "2": cust("2", "Grace"),
    }
    assert mirror.get_many(TENANT, VENDOR, ["1", "2"]) == {"1": ListEntry(VENDOR, "1", "Ada Supplies")}
    assert mirror.get_many(TENANT, CUSTOMER, []) == {}


def test_an_entry_given_twice_in_one_put_is_stored_as_the_last(mirror: MirrorStore) -> None:
    mirror.put_many(TENANT, [cust("1", "Ada", email="a@x.example"), cust("1", "Ada", email="b@x.example")])
    assert mirror.get_many(TENANT, CUSTOMER, ["1"])["1"].email == "b@x.example"
    assert mirror.find(TENANT, CUSTOMER, MatchKey.EMAIL, "a@x.example") == []


def test_remove_forgets_entries_and_ignores_ids_not_stored(mirror: MirrorStore) -> None:
    mirror.put_many(TENANT, [cust("1", "Ada", email="ada@example.com"), cust("2", "Grace")])
    mirror.remove(TENANT, CUSTOMER, ["1", "404"])
    assert set(mirror.get_many(TENANT, CUSTOMER, ["1", "2"])) == {"2"}
    assert [e.quickbooks_id for e in mirror.entries(TENANT, CUSTOMER)] == ["2"]
    assert mirror.find(TENANT, CUSTOMER, MatchKey.EMAIL, "ada@example.com") == []
    assert [e.quickbooks_id for e in mirror.page(TENANT, CUSTOMER, ListFilter(), 10, None).items] == ["2"]
    mirror.remove(TENANT, CUSTOMER, [])


def test_many_entries_at_once_are_all_stored_read_and_removed(mirror: MirrorStore) -> None:
    entries = [item(f"{n}", f"Part {n}", sku=f"P-{n % 40}") for n in range(260)]  # past 100 and 25 a batch
    mirror.put_many(TENANT, entries)
    ids = [e.quickbooks_id for e in entries]
    assert mirror.get_many(TENANT, ITEM, ids) == {e.quickbooks_id: e for e in entries}
    assert sorted(e.quickbooks_id for e in mirror.entries(TENANT, ITEM)) == sorted(ids)
    assert len(mirror.find(TENANT, ITEM, MatchKey.SKU, "p-7")) == 7  # 7, 47, ... 247
    mirror.remove(TENANT, ITEM, ids[:200])
    assert sorted(e.quickbooks_id for e in mirror.entries(TENANT, ITEM)) == sorted(ids[200:])


# ---------------------------------------------------------------- the listing


def test_the_listing_is_by_name_ignoring_case_and_accents_then_id(mirror: MirrorStore) -> None:
    entries = [
        cust("5", "Acme Inc"),
        cust("3", "acme"),
        cust("2", "Ácme"),
        cust("9", "Acme!"),
        cust("1", "Zoë"),
        cust("4", "zoe"),
        cust("8", "Bob's Plumbing"),
        cust("7", "bob"),
        cust("6", "Acme:Job 1"),
    ]
    mirror.put_many(TENANT, entries)
    assert all_pages(mirror, CUSTOMER, ListFilter(), 100) == [["2", "3", "5", "9", "6", "7", "8", "1", "4"]]
    assert [i for p in all_pages(mirror, CUSTOMER, ListFilter(), 2) for i in p] == in_order(entries)
    assert all_pages(mirror, CUSTOMER, ListFilter(), 3) == [["2", "3", "5"], ["9", "6", "7"], ["8", "1", "4"]]


def test_a_filtered_listing_pages_many_pages_without_skipping_or_repeating(
    mirror: MirrorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB applies Limit before any filter: with 5 entries read per query most reads keep nothing.
    monkeypatch.setattr(dynamodb, "FILTERED_PAGE", 5)
    entries = [
        cust(
            f"{n}",
            f"{'Café' if n % 7 == 0 else 'Shop'} {n % 13:02d}",
            email=f"owner{n}@{'CAFE' if n % 11 == 0 else 'shop'}.example",
            active=n % 3 != 0,
            modified_at=T0 + timedelta(minutes=n),
        )
        for n in range(60)
    ]
    mirror.put_many(TENANT, entries)
    filters = [
        ListFilter(text="cafe"),
        ListFilter(text="CAFÉ", active=True),
        ListFilter(active=False),
        ListFilter(modified_since=T0 + timedelta(minutes=45)),
        ListFilter(text="café", active=False, modified_since=T0 + timedelta(minutes=30)),
        ListFilter(text="nowhere"),
    ]
    for keep in filters:
        expected = in_order([e for e in entries if keep.keeps(e)])
        for limit in (2, 9):
            pages = all_pages(mirror, CUSTOMER, keep, limit)
            assert [i for p in pages for i in p] == expected, (keep, limit)
            assert all(len(p) == limit for p in pages[:-1])
            assert 1 <= len(pages[-1]) <= limit or expected == []  # "more" is exact: no empty last page


def test_a_cursor_resumes_right_after_its_entry_whatever_changed_since(mirror: MirrorStore) -> None:
    mirror.put_many(TENANT, [cust(f"{n}", f"Name {n}") for n in range(6)])
    first = mirror.page(TENANT, CUSTOMER, ListFilter(), 2, None)
    assert [e.quickbooks_id for e in first.items] == ["0", "1"]
    mirror.remove(TENANT, CUSTOMER, ["1"])  # the cursor's own entry is gone
    mirror.put_many(TENANT, [cust("0", "Name 9"), cust("10", "Name 0a")])  # one moved on, one came in after
    rest = mirror.page(TENANT, CUSTOMER, ListFilter(), 10, first.next_cursor)
    assert [e.quickbooks_id for e in rest.items] == ["2", "3", "4", "5", "0"]


def test_a_cursor_after_any_entry_resumes_right_after_it(mirror: MirrorStore) -> None:
    entries = [cust(f"{n}", f"Name {n % 4}") for n in range(10)]
    mirror.put_many(TENANT, entries)
    ordered = in_order(entries)
    stored = mirror.get_many(TENANT, CUSTOMER, ordered)
    for index, qid in enumerate(ordered):
        cursor = mirror.cursor_after(TENANT, stored[qid])
        page = mirror.page(TENANT, CUSTOMER, ListFilter(), 100, cursor)
        assert [e.quickbooks_id for e in page.items] == ordered[index + 1 :]


def test_cursors_of_other_tenants_and_lists_are_refused(mirror: MirrorStore) -> None:
    for tenant in (TENANT, OTHER):
        mirror.put_many(tenant, [cust(f"{n}", f"C {n}") for n in range(3)])
        mirror.put_many(tenant, [ListEntry(VENDOR, f"{n}", f"V {n}") for n in range(3)])
    customers = mirror.page(TENANT, CUSTOMER, ListFilter(), 1, None).next_cursor
    assert customers is not None
    after = mirror.cursor_after(TENANT, cust("0", "C 0"))
    for tenant, list_type, cursor in [
        (OTHER, CUSTOMER, customers),
        (TENANT, VENDOR, customers),
        (OTHER, CUSTOMER, after),
        (TENANT, ITEM, after),
        (TENANT, CUSTOMER, "not-a-cursor"),
        (TENANT, CUSTOMER, "eyJwayI6IDF9"),
        (TENANT, CUSTOMER, ""),
    ]:
        with pytest.raises(InvalidInputError) as refused:
            mirror.page(tenant, list_type, ListFilter(), 1, cursor)
        assert refused.value.problems[0].field == "cursor"
    # A cursor of the unfiltered listing pages its filtered listing too.
    page = mirror.page(TENANT, CUSTOMER, ListFilter(text="c 2"), 5, customers)
    assert [e.quickbooks_id for e in page.items] == ["2"]


def test_a_page_needs_a_limit(mirror: MirrorStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        mirror.page(TENANT, CUSTOMER, ListFilter(), 0, None)


def test_an_empty_list_is_one_empty_page(mirror: MirrorStore) -> None:
    page = mirror.page(TENANT, CUSTOMER, ListFilter(text="x"), 10, None)
    assert (page.items, page.next_cursor) == ([], None)
    assert list(mirror.entries(TENANT, CUSTOMER)) == []


def test_each_tenant_has_its_own_mirror(mirror: MirrorStore) -> None:
    mirror.put_many(TENANT, [cust("1", "Ada", email="ada@example.com")])
    mirror.put_many(OTHER, [cust("1", "Mallory", email="ada@example.com"), cust("2", "Eve")])
    mirror.save_mark(OTHER, ReadMark(CUSTOMER, True, T0))
    assert mirror.get_many(TENANT, CUSTOMER, ["1", "2"]) == {"1": cust("1", "Ada", email="ada@example.com")}
    assert [e.name for e in mirror.entries(TENANT, CUSTOMER)] == ["Ada"]
    assert [e.name for e in mirror.page(TENANT, CUSTOMER, ListFilter(), 10, None).items] == ["Ada"]
    assert [e.name for e in mirror.find(TENANT, CUSTOMER, MatchKey.EMAIL, "ada@example.com")] == ["Ada"]
    assert mirror.marks(TENANT) == {}
    mirror.remove(OTHER, CUSTOMER, ["1"])
    assert set(mirror.get_many(TENANT, CUSTOMER, ["1"])) == {"1"}


# ---------------------------------------------------------------- finding by email or SKU


def test_find_compares_folded_keys_and_follows_them_as_they_change(mirror: MirrorStore) -> None:
    mirror.put_many(
        TENANT,
        [
            cust("1", "Ada", email=" Ada@Example.COM "),
            cust("2", "Ada's Twin", email="ada@example.com"),
            cust("3", "Grace", email="grace@example.com"),
            cust("4", "No mail", email="  "),
            item("5", "Café crème", sku="CAFÉ-1"),
            item("6", "Espresso", sku="ESP-1"),
            ListEntry(VENDOR, "7", "Ada Supplies", email="ada@example.com"),
        ],
    )

    def found(list_type: ListType, key: MatchKey, value: str) -> list[str]:
        return sorted(e.quickbooks_id for e in mirror.find(TENANT, list_type, key, value))

    assert found(CUSTOMER, MatchKey.EMAIL, "ADA@example.com") == ["1", "2"]
    assert found(VENDOR, MatchKey.EMAIL, "ada@example.com") == ["7"]
    assert found(ITEM, MatchKey.SKU, " cafe-1") == ["5"]
    assert found(ITEM, MatchKey.EMAIL, "cafe-1") == []
    assert found(CUSTOMER, MatchKey.EMAIL, "ada@example") == []  # equal, not contained
    assert found(CUSTOMER, MatchKey.EMAIL, "") == []
    assert found(CUSTOMER, MatchKey.EMAIL, "  ") == []

    mirror.put_many(TENANT, [cust("1", "Ada", email="ada@lovelace.example"), item("5", "Café crème")])
    assert found(CUSTOMER, MatchKey.EMAIL, "ada@example.com") == ["2"]
    assert found(CUSTOMER, MatchKey.EMAIL, "ADA@LOVELACE.example") == ["1"]
    assert found(ITEM, MatchKey.SKU, "cafe-1") == []
    mirror.remove(TENANT, CUSTOMER, ["2"])
    assert found(CUSTOMER, MatchKey.EMAIL, "ada@example.com") == []


# ---------------------------------------------------------------- how far each list has been read


def test_marks_are_kept_per_list_and_replaced(mirror: MirrorStore) -> None:
    assert mirror.marks(TENANT) == {}
    mirror.save_mark(TENANT, ReadMark(CUSTOMER))
    mirror.save_mark(TENANT, ReadMark(ITEM, True, datetime(2026, 11, 1, 10, 0, 0, 1, tzinfo=UTC)))
    assert mirror.marks(TENANT) == {
        CUSTOMER: ReadMark(CUSTOMER),
        ITEM: ReadMark(ITEM, True, T0 + timedelta(hours=1, microseconds=1)),
    }
    cest = timezone(timedelta(hours=2))
    read_at = datetime(2026, 11, 1, 14, 0, tzinfo=cest)
    mirror.save_mark(TENANT, ReadMark(CUSTOMER, True, datetime(2026, 11, 1, 13, 0, tzinfo=cest), read_at))
    marks = mirror.marks(TENANT)
    assert marks[CUSTOMER] == ReadMark(CUSTOMER, True, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    assert marks[CUSTOMER].through is not None
    assert marks[CUSTOMER].through.utcoffset() is not None
    assert marks[CUSTOMER].read_at is not None
    assert marks[CUSTOMER].read_at.utcoffset() is not None
    assert marks[ITEM].loaded


def test_a_mark_needs_an_aware_time(mirror: MirrorStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        mirror.save_mark(TENANT, ReadMark(CUSTOMER, True, datetime(2026, 11, 1, 9, 0)))
    with pytest.raises(ValueError, match="time zone"):
        mirror.save_mark(TENANT, ReadMark(CUSTOMER, True, T0, datetime(2026, 11, 1, 9, 0)))


# ---------------------------------------------------------------- DynamoDB only: items and limits


@pytest.fixture
def client(aws_env: LocalStack) -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


def raw(client: Any, table: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(
        TableName=table, Key={"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": sk}}
    ).get("Item")
    return item


def test_items_use_the_documented_keys(client: Any, table: str) -> None:
    store = DynamoMirrorStore(client, table)
    store.put_many(TENANT, [every_field(), cust("58", "Café Noir", email="Billing@CafeNoir.example")])
    entry = raw(client, table, "QB#item#80000001-1234567890")
    assert entry is not None
    assert entry["gsi1pk"] == {"S": f"TENANT#{TENANT}#QB#item"}
    assert entry["gsi1sk"] == {"S": "kuche:ø 12 mm rohr 🛠\x0080000001-1234567890"}
    assert entry["price"] == {"S": "1234.50"}
    assert entry["modified_at"] == {"S": "2026-11-01T11:30:15.123456+02:00"}
    assert entry["created_at"] == {"S": "2019-03-01T08:00:01-08:00"}
    assert entry["active"] == {"BOOL": False}
    assert "email" not in entry
    digest = hashlib.sha256(b"billing@cafenoir.example").hexdigest()
    key = raw(client, table, f"QBKEY#customer#email#{digest}#58")
    assert key is not None
    assert key["quickbooks_id"] == {"S": "58"}
    digest = hashlib.sha256(b"ro-12").hexdigest()
    assert raw(client, table, f"QBKEY#item#sku#{digest}#80000001-1234567890") is not None

    store.save_mark(TENANT, ReadMark(CUSTOMER, True, T0, T0 + timedelta(minutes=5)))
    marks = raw(client, table, "QB#MARKS")
    assert marks is not None
    assert marks["customer"] == {
        "M": {
            "loaded": {"BOOL": True},
            "through": {"S": "2026-11-01T09:00:00.000000Z"},
            "read_at": {"S": "2026-11-01T09:05:00.000000Z"},
        }
    }


def test_a_name_of_any_length_and_script_fits_the_sort_key_and_lists_by_id_past_it(
    client: Any, table: str
) -> None:
    store = DynamoMirrorStore(client, table)
    long_names = [cust(f"{n}", "顧客" * 300 + f"{9 - n}") for n in range(3)]  # 1,800 bytes of UTF-8 each
    store.put_many(TENANT, [*long_names, cust("9", "顧客"), cust("8", "😀" * 400)])
    page = store.page(TENANT, CUSTOMER, ListFilter(), 10, None)
    assert [e.quickbooks_id for e in page.items] == ["9", "0", "1", "2", "8"]
    assert page.items[1] == long_names[0]  # stored whole; only the sort key is cut
    for qid in ("0", "8"):
        stored = raw(client, table, f"QB#customer#{qid}")
        assert stored is not None
        assert len(stored["gsi1sk"]["S"].encode()) <= mirror_dynamodb.SORT_KEY_BYTES
    with pytest.raises(ValueError, match="255 bytes"):
        store.put_many(TENANT, [cust("1" * 256, "Too long an id"), cust("10", "Fine")])
    assert store.get_many(TENANT, CUSTOMER, ["10"]) == {}  # refused before anything was written


def test_an_entry_stored_before_creation_times_were_kept_reads_back_without_one(
    client: Any, table: str
) -> None:
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": f"TENANT#{TENANT}"},
            "sk": {"S": "QB#customer#58"},
            "gsi1pk": {"S": f"TENANT#{TENANT}#QB#customer"},
            "gsi1sk": {"S": "ada\x0058"},
            "list_type": {"S": "customer"},
            "quickbooks_id": {"S": "58"},
            "name": {"S": "Ada"},
            "active": {"BOOL": True},
            "modified_at": {"S": "2026-11-01T09:00:00+00:00"},
            "version": {"S": "3"},
        },
    )  # as the mirror wrote it before it kept `created_at`
    store = DynamoMirrorStore(client, table)
    expected = cust("58", "Ada", modified_at=T0, version="3")
    assert store.get_many(TENANT, CUSTOMER, ["58"]) == {"58": expected}
    assert store.page(TENANT, CUSTOMER, ListFilter(), 10, None).items == [expected]


def test_an_index_item_a_write_cut_short_left_finds_nothing(client: Any, table: str) -> None:
    store = DynamoMirrorStore(client, table)
    store.put_many(TENANT, [cust("1", "Ada", email="ada@example.com")])
    digest = hashlib.sha256(b"old@example.com").hexdigest()
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": f"TENANT#{TENANT}"},
            "sk": {"S": f"QBKEY#customer#email#{digest}#1"},
            "quickbooks_id": {"S": "1"},
        },
    )  # as if the put that changed Ada's email stopped before deleting it
    assert store.find(TENANT, CUSTOMER, MatchKey.EMAIL, "old@example.com") == []
    assert [e.quickbooks_id for e in store.find(TENANT, CUSTOMER, MatchKey.EMAIL, "ada@example.com")] == ["1"]


def test_the_container_takes_reads_into_the_table_and_tells_changes_with_the_linked_record(
    aws_env: LocalStack, client: Any, table: str
) -> None:
    from qbsync.composition import container

    c = container()
    c.quickbooks_side.take(TENANT, ListRead(CUSTOMER, [cust("58", "Ada")], complete=True, through=T0))
    record = SyncRecord(TENANT, "customer", "c-1", {}, SyncState.SYNCED, T0, quickbooks_id="58")
    c.record_store.save(record, None, None)
    later = T0 + timedelta(hours=1)
    read_from = c.clock.now()
    c.quickbooks_side.take(TENANT, ListRead(CUSTOMER, [cust("58", "Ada King")], through=later))

    assert DynamoMirrorStore(client, table).get_many(TENANT, CUSTOMER, ["58"]) == {
        "58": cust("58", "Ada King")
    }
    (mark,) = c.mirror.marks(TENANT).values()
    assert (mark.list_type, mark.loaded, mark.through) == (CUSTOMER, True, later)
    assert mark.read_at is not None
    assert read_from <= mark.read_at <= c.clock.now()
    events = c.event_feed.after(TENANT, None, 10).items
    assert [(e.type, e.detail["change"], e.detail["record_id"]) for e in events] == [
        ("quickbooks.changed", "updated", "c-1")
    ]


def test_the_longest_cursor_fits_the_listings_cursor_parameter(client: Any, table: str) -> None:
    from qbsync.api.routes.quickbooks import CURSOR_MAX

    store = DynamoMirrorStore(client, table)
    longest = ListEntry(ListType.SALES_TAX_GROUP, "1" * mirror_dynamodb.ID_BYTES_MAX, "😀" * 600)
    assert len(store.cursor_after("t" * 64, longest)) <= CURSOR_MAX
