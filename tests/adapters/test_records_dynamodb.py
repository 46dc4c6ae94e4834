"""The contract of the sync-state ports (RecordStore, EventFeed, TenantLease), run against DynamoDB (moto) and
against the in-memory fakes the use-case tests use: the same test functions, so the fakes cannot drift."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from local.aws import LocalStack
from qbsync.adapters import dynamodb
from qbsync.adapters.dynamodb import to_item
from qbsync.adapters.records_dynamodb import (
    EVENT_GAP_HOLD,
    DynamoEventFeed,
    DynamoRecordStore,
    DynamoTenantLease,
)
from qbsync.domain.errors import InvalidInputError
from qbsync.domain.paging import Page
from qbsync.domain.records import RecordFilter
from qbsync.domain.sync import (
    Candidate,
    EventFeed,
    Failure,
    FollowUp,
    FollowUpKind,
    NameClaim,
    Operation,
    RecordLockedError,
    RecordStore,
    RunNote,
    StaleRecordError,
    SyncEvent,
    SyncRecord,
    SyncState,
    TenantLease,
    Transition,
    ref_key,
)
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.records import RecordProblemsError, Records
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryEventFeed, InMemoryRecordStore, InMemoryTenantLease

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TENANT = "acme-42"
OTHER = "acme-4"  # its partition names are prefixes of TENANT's: isolation must not rest on prefixes
PENDING, SYNCING, SYNCED, FAILED = SyncState.PENDING, SyncState.SYNCING, SyncState.SYNCED, SyncState.FAILED


@dataclass
class Ports:
    records: RecordStore
    feed: EventFeed
    lease: TenantLease


@pytest.fixture(params=["dynamodb", "memory"])
def ports(request: pytest.FixtureRequest) -> Ports:
    if request.param == "memory":
        return Ports(InMemoryRecordStore(), InMemoryEventFeed(), InMemoryTenantLease())
    stack: LocalStack = request.getfixturevalue("aws_env")
    client, table = boto3.client("dynamodb"), str(stack.ref("Table"))
    return Ports(
        DynamoRecordStore(client, table),
        DynamoEventFeed(client, table, clock=FixedClock(T0)),
        DynamoTenantLease(client, table),
    )


class SavingAll:
    """A RecordStore whose `save` is a save_all of one entry: every contract test of `save` holds for it."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        if self._store.save_all([(record, expected_revision, expected_state)]) != [True]:
            raise StaleRecordError(f"{record.key} changed since it was read")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture(params=["save", "save_all"])
def store(ports: Ports, request: pytest.FixtureRequest) -> RecordStore:
    return ports.records if request.param == "save" else cast("RecordStore", SavingAll(ports.records))


@pytest.fixture
def feed(ports: Ports) -> EventFeed:
    return ports.feed


@pytest.fixture
def lease(ports: Ports) -> TenantLease:
    return ports.lease


def rec(
    record_id: str = "c-1",
    record_type: str = "customer",
    tenant: str = TENANT,
    state: SyncState = PENDING,
    at: datetime = T0,
    **changes: Any,
) -> SyncRecord:
    data = {"display_name": f"Customer {record_id}"}
    return SyncRecord(tenant, record_type, record_id, data, state, at, **changes)


ANY = RecordFilter()


def only(*states: SyncState) -> RecordFilter:
    return RecordFilter(frozenset(states))


def every_field() -> SyncRecord:
    cest = timezone(timedelta(hours=2))
    return SyncRecord(
        tenant_id=TENANT,
        record_type="invoice",
        record_id="inv-1001/ä",
        data={
            "customer_id": "c-1",
            "doc_number": "1001",
            "lines": [
                {
                    "description": "Küche \u2013 Ø 12 mm 🛠",
                    "amount": "1234.50",
                    "quantity": "1.000",
                    "rate": None,
                },
                {"description": "", "amount": "-0.01", "tags": [], "extra": {}},
            ],
            "memo": "",
            "nested": {"a": {"b": {"c": ["x", 1, 2.5, True, None]}}},
            "ratio": 0.1,
            "count": 3,
        },
        state=FAILED,
        updated_at=datetime(2026, 11, 23, 11, 30, 15, 123456, tzinfo=cest),
        revision=3,
        operation=Operation.DELETE,
        quickbooks_id="145",
        quickbooks_version="2",
        quickbooks_name="Acme (2)",
        failure=Failure(
            "6240",
            "Duplicate Name Exists Error: “Acme”",
            ("rename", "link_existing"),
            "display_name",
            (Candidate("58", "Acme", "customer"), Candidate("80000001-1", "Acme:Roof", "customer")),
        ),
        waiting_for=("customer/c-1", "item/i-9"),
        history=[
            Transition(PENDING, T0, ""),
            Transition(SYNCING, datetime(2026, 11, 23, 10, 0, tzinfo=cest), "batch 1"),
            Transition(FAILED, T0 + timedelta(hours=1, microseconds=1), "6240: Duplicate Name Exists Error"),
        ],
        synced_revision=2,
        attempts=4,
        force=True,
        follow_up=FollowUp(FollowUpKind.NAME_HOLDERS, "6240"),
        generation=2,
    )


def all_pages(read: Callable[[str | None], Any]) -> tuple[list[Any], list[int]]:
    """Every item of a listing, following cursors, and the size of each page."""
    items: list[Any] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = read(cursor)
        items += page.items
        sizes.append(len(page.items))
        if page.next_cursor is None:
            return items, sizes
        assert len(sizes) < 50, "the cursor does not advance"
        cursor = page.next_cursor


# ---------------------------------------------------------------- records: saving and reading


def test_every_field_round_trips_exactly(store: RecordStore) -> None:
    record = every_field()
    store.save(record, None, None)
    got = store.get(TENANT, "invoice", "inv-1001/ä")
    assert got == record
    assert got is not None
    assert got.data == record.data
    assert list(got.data) == list(record.data)  # key order kept too
    assert isinstance(got.waiting_for, tuple)
    assert isinstance(got.failure, Failure)
    assert isinstance(got.failure.actions, tuple)
    assert isinstance(got.failure.candidates, tuple)
    # The same instants, in UTC.
    assert got.updated_at == record.updated_at
    assert got.updated_at.utcoffset() == timedelta(0)
    assert [t.at.utcoffset() for t in got.history] == [timedelta(0)] * 3
    assert got.history[2].at.microsecond == 1


def test_a_record_with_nothing_optional_round_trips(store: RecordStore) -> None:
    record = SyncRecord(TENANT, "vendor", "v-1", {}, SyncState.DRAFT, T0)
    store.save(record, None, None)
    assert store.get(TENANT, "vendor", "v-1") == record
    empty = SyncRecord(
        TENANT, "vendor", "v-2", {"x": ""}, PENDING, T0, failure=Failure("c", "m"), quickbooks_name=""
    )
    store.save(empty, None, None)
    assert store.get(TENANT, "vendor", "v-2") == empty


def test_what_is_read_is_a_copy(store: RecordStore) -> None:
    record = every_field()
    store.save(record, None, None)
    got = store.get(TENANT, "invoice", "inv-1001/ä")
    assert got is not None
    got.data["lines"][0]["amount"] = "0.00"
    got.history.append(Transition(SYNCED, T0, ""))
    record.data["memo"] = "changed after the save"
    assert store.get(TENANT, "invoice", "inv-1001/ä") == every_field()


def test_nothing_stored_reads_as_none(store: RecordStore) -> None:
    store.save(rec(), None, None)
    assert store.get(TENANT, "customer", "c-2") is None
    assert store.get(TENANT, "vendor", "c-1") is None
    assert store.get(OTHER, "customer", "c-1") is None


def test_times_without_a_zone_are_refused_and_nothing_is_stored(store: RecordStore) -> None:
    naive = datetime(2026, 11, 23, 9, 30)
    with pytest.raises(ValueError, match="time zone"):
        store.save(rec(at=naive), None, None)
    with pytest.raises(ValueError, match="time zone"):
        store.save(rec(history=[Transition(PENDING, naive)]), None, None)
    assert store.get(TENANT, "customer", "c-1") is None


def test_data_that_is_not_json_ready_is_refused(store: RecordStore) -> None:
    bad = rec()
    bad.data["amount"] = Decimal("1.50")  # the canonical data carries money as strings
    with pytest.raises(TypeError):
        store.save(bad, None, None)
    assert store.get(TENANT, "customer", "c-1") is None


def test_a_new_record_is_refused_if_one_is_stored(store: RecordStore) -> None:
    store.save(rec(), None, None)
    again = rec(state=SYNCED)
    again.data["display_name"] = "Someone else"
    with pytest.raises(StaleRecordError):
        store.save(again, None, None)
    assert store.get(TENANT, "customer", "c-1") == rec()
    store.save(rec(tenant=OTHER), None, None)  # the same key in another tenant is another record
    assert store.get(OTHER, "customer", "c-1") == rec(tenant=OTHER)


def test_a_save_must_expect_the_stored_revision_and_state(store: RecordStore) -> None:
    with pytest.raises(StaleRecordError):
        store.save(rec(), 1, None)  # nothing stored to expect
    store.save(rec(), None, None)
    changed = rec(revision=2)
    changed.data["display_name"] = "Acme Ltd"
    with pytest.raises(StaleRecordError):
        store.save(changed, 2, None)
    with pytest.raises(StaleRecordError):
        store.save(changed, 1, SYNCING)
    with pytest.raises(StaleRecordError):
        store.save(changed, 0, PENDING)
    assert store.get(TENANT, "customer", "c-1") == rec()

    store.save(changed, 1, PENDING)
    assert store.get(TENANT, "customer", "c-1") == changed
    with pytest.raises(StaleRecordError):
        store.save(rec(revision=3), 1, None)  # a writer still holding revision 1
    moved = changed.copy()
    moved.move(SYNCING, T0 + timedelta(minutes=1))
    store.save(moved, 2, None)  # without an expected state, the revision alone decides
    assert store.get(TENANT, "customer", "c-1") == moved


def test_get_many_with_no_one_and_many_keys(store: RecordStore) -> None:
    assert store.get_many(TENANT, []) == {}
    ids = [f"c-{n:03d}" for n in range(130)]
    for record_id in ids:
        store.save(rec(record_id), None, None)
        store.save(rec(record_id, tenant=OTHER, state=SYNCED), None, None)
    store.save(rec("v-1", "vendor"), None, None)

    assert store.get_many(TENANT, [("customer", "c-007")]) == {"customer/c-007": rec("c-007")}
    assert store.get_many(TENANT, [("customer", "nope")]) == {}

    keys = [("customer", i) for i in ids] + [("customer", f"missing-{n}") for n in range(20)]
    keys += [("customer", "c-001"), ("customer", "c-129"), ("vendor", "c-001"), ("vendor", "v-1")]
    found = store.get_many(TENANT, keys)  # 153 distinct keys: more than one BatchGetItem takes
    assert found == {ref_key("customer", i): rec(i) for i in ids} | {"vendor/v-1": rec("v-1", "vendor")}
    assert {r.state for r in store.get_many(OTHER, keys).values()} == {SYNCED}


# ---------------------------------------------------------------- records: listings


def test_in_state_lists_oldest_change_first_across_pages(store: RecordStore) -> None:
    minutes = [7, 3, 9, 1, 5, 2, 8]
    for n, minute in enumerate(minutes):
        store.save(rec(f"c-{n}", at=T0 + timedelta(minutes=minute)), None, None)
    store.save(rec("b-1", "bill", at=T0 + timedelta(minutes=5)), None, None)  # a tie with c-4: bill first
    store.save(rec("c-9", state=SYNCED, at=T0), None, None)
    store.save(rec("c-0", tenant=OTHER, at=T0 - timedelta(days=1)), None, None)

    items, sizes = all_pages(lambda cursor: store.in_state(TENANT, PENDING, 3, cursor))
    assert [r.key for r in items] == [
        "customer/c-3",
        "customer/c-5",
        "customer/c-1",
        "bill/b-1",
        "customer/c-4",
        "customer/c-0",
        "customer/c-6",
        "customer/c-2",
    ]
    assert sizes == [3, 3, 2]
    assert items[0] == rec("c-3", at=T0 + timedelta(minutes=1))

    exact, sizes = all_pages(lambda cursor: store.in_state(TENANT, PENDING, 4, cursor))
    assert exact == items
    assert sizes == [4, 4]  # no empty page after a full last one
    assert store.in_state(TENANT, FAILED, 10, None).items == []
    assert store.in_state(TENANT, FAILED, 10, None).next_cursor is None
    assert [r.key for r in store.in_state(TENANT, SYNCED, 10, None).items] == ["customer/c-9"]


def test_times_in_other_zones_list_in_instant_order(store: RecordStore) -> None:
    tokyo, new_york = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
    store.save(rec("c-late", at=datetime(2026, 11, 23, 19, 0, tzinfo=tokyo)), None, None)  # 10:00 UTC
    store.save(rec("c-early", at=datetime(2026, 11, 23, 4, 45, tzinfo=new_york)), None, None)  # 09:45 UTC
    assert [r.record_id for r in store.in_state(TENANT, PENDING, 10, None).items] == ["c-early", "c-late"]


def test_a_state_change_moves_the_record_between_listings(store: RecordStore) -> None:
    store.save(rec("c-1"), None, None)
    store.save(rec("c-2", at=T0 + timedelta(seconds=1)), None, None)
    moved = rec("c-1")
    moved.move(SYNCING, T0 + timedelta(minutes=1), "batch 1")
    store.save(moved, 1, PENDING)
    assert [r.record_id for r in store.in_state(TENANT, PENDING, 10, None).items] == ["c-2"]
    assert store.in_state(TENANT, SYNCING, 10, None).items == [moved]
    back = moved.copy()
    back.move(PENDING, T0 + timedelta(minutes=2))
    store.save(back, 1, SYNCING)
    assert [r.record_id for r in store.in_state(TENANT, PENDING, 10, None).items] == ["c-2", "c-1"]
    assert store.in_state(TENANT, SYNCING, 10, None).items == []


def test_a_cursor_survives_its_last_record_moving_away(store: RecordStore) -> None:
    for n in range(4):
        store.save(rec(f"c-{n}", at=T0 + timedelta(minutes=n)), None, None)
    first = store.in_state(TENANT, PENDING, 2, None)
    for record in first.items:  # a sync run moves what it read before it reads on
        moved = record.copy()
        moved.move(SYNCED, T0 + timedelta(hours=1))
        store.save(moved, 1, PENDING)
    rest = store.in_state(TENANT, PENDING, 2, first.next_cursor)
    assert [r.record_id for r in rest.items] == ["c-2", "c-3"]
    assert rest.next_cursor is None


def test_list_by_type_with_and_without_a_state(store: RecordStore) -> None:
    ids = [f"c-{n:02d}" for n in range(12)]
    for n, record_id in enumerate(reversed(ids)):
        store.save(rec(record_id, state=FAILED if n % 4 == 3 else SYNCED), None, None)
    for n in range(3):
        store.save(rec(f"v-{n}", "vendor", state=FAILED), None, None)
    store.save(rec("c-99", tenant=OTHER, state=FAILED), None, None)

    everything, sizes = all_pages(lambda cursor: store.list(TENANT, "customer", ANY, 5, cursor))
    assert [r.record_id for r in everything] == ids
    assert sizes == [5, 5, 2]
    failed, sizes = all_pages(lambda cursor: store.list(TENANT, "customer", only(FAILED), 2, cursor))
    assert [r.record_id for r in failed] == ["c-00", "c-04", "c-08"]
    assert sizes == [2, 1]
    exact = store.list(TENANT, "customer", only(FAILED), 3, None)
    assert [r.record_id for r in exact.items] == ["c-00", "c-04", "c-08"]
    assert exact.next_cursor is None
    assert store.list(TENANT, "customer", only(PENDING), 5, None).items == []
    assert [r.record_id for r in store.list(TENANT, "vendor", ANY, 10, None).items] == ["v-0", "v-1", "v-2"]
    assert store.list(TENANT, "bill", ANY, 10, None).items == []
    assert [r.record_id for r in store.list(OTHER, "customer", ANY, 10, None).items] == ["c-99"]


def test_a_filtered_list_reads_on_past_pages_the_filter_emptied(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB applies Limit before the filter: pages of 3 items, most of them synced, must still fill a page.
    monkeypatch.setattr(dynamodb, "FILTERED_PAGE", 3)
    for n in range(20):
        store.save(rec(f"c-{n:02d}", state=FAILED if n in (2, 13, 14, 19) else SYNCED), None, None)
    first = store.list(TENANT, "customer", only(FAILED), 2, None)
    assert [r.record_id for r in first.items] == ["c-02", "c-13"]
    second = store.list(TENANT, "customer", only(FAILED), 2, first.next_cursor)
    assert [r.record_id for r in second.items] == ["c-14", "c-19"]
    assert second.next_cursor is None


def test_list_keeps_records_in_any_of_several_states(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "FILTERED_PAGE", 3)
    states = [SYNCED, FAILED, SyncState.DRAFT, PENDING, FAILED, SYNCED, SyncState.DRAFT, SYNCED]
    for n, state in enumerate(states):
        store.save(rec(f"c-{n}", state=state), None, None)
    store.save(rec("c-9", tenant=OTHER, state=FAILED), None, None)
    wanted = only(FAILED, SyncState.DRAFT)
    listed, sizes = all_pages(lambda cursor: store.list(TENANT, "customer", wanted, 2, cursor))
    assert [(r.record_id, r.state) for r in listed] == [
        ("c-1", FAILED),
        ("c-2", SyncState.DRAFT),
        ("c-4", FAILED),
        ("c-6", SyncState.DRAFT),
    ]
    assert sizes == [2, 2]


def test_list_keeps_records_whose_id_or_name_holds_a_text_ignoring_case_and_accents(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "FILTERED_PAGE", 3)
    names = {"c-1": "Café Noir", "c-2": "Ada Lovelace", "cafe-3": "Someone", "c-4": "CAFÉ ROUGE", "c-5": "Bo"}
    for record_id, name in names.items():
        store.save(replace(rec(record_id, state=FAILED), data={"display_name": name}), None, None)
    store.save(replace(rec("c-6", tenant=OTHER), data={"display_name": "Cafe Other"}), None, None)
    invoice = replace(rec("inv-1", "invoice"), data={"customer_id": "c-1", "doc_number": "CAFE-1001"})
    store.save(invoice, None, None)
    listed, sizes = all_pages(lambda c: store.list(TENANT, "customer", RecordFilter(text="cafe"), 2, c))
    assert [r.record_id for r in listed] == ["c-1", "c-4", "cafe-3"]
    assert sizes == [2, 1]
    both = RecordFilter(frozenset({FAILED}), "é r")
    assert [r.record_id for r in store.list(TENANT, "customer", both, 10, None).items] == ["c-4"]
    assert store.list(TENANT, "customer", RecordFilter(frozenset({PENDING}), "cafe"), 10, None).items == []
    numbered = store.list(TENANT, "invoice", RecordFilter(text="café-10"), 10, None).items
    assert [r.record_id for r in numbered] == ["inv-1"]


def test_newest_in_state_gives_the_latest_changes_first(store: RecordStore) -> None:
    for n in range(5):
        store.save(rec(f"c-{n}", state=FAILED, at=T0 + timedelta(minutes=n)), None, None)
    store.save(rec("c-9", state=SYNCED, at=T0 + timedelta(hours=1)), None, None)
    store.save(rec("c-8", tenant=OTHER, state=FAILED, at=T0 + timedelta(hours=1)), None, None)
    newest = store.newest_in_state(TENANT, FAILED, 3)
    assert [r.record_id for r in newest] == ["c-4", "c-3", "c-2"]
    assert [r.record_id for r in store.newest_in_state(TENANT, FAILED, 10)] == [
        f"c-{n}" for n in range(4, -1, -1)
    ]
    assert store.newest_in_state(TENANT, PENDING, 10) == []


def test_count_states_counts_each_type_s_records_in_each_state(store: RecordStore) -> None:
    assert store.count_states(TENANT) == {}
    for n in range(7):
        store.save(rec(f"c-{n}", state=SYNCED if n % 3 else FAILED), None, None)
    store.save(rec("v-1", "vendor", state=SyncState.DRAFT), None, None)
    store.save(rec("c-99", tenant=OTHER), None, None)
    store.claim_name(TENANT, "acme", claim("customer/c-1"))  # not a record: not counted
    assert store.count_states(TENANT) == {
        "customer": {SYNCED: 4, FAILED: 3},
        "vendor": {SyncState.DRAFT: 1},
    }
    moved = store.get(TENANT, "customer", "c-0")
    assert moved is not None
    failed_before = moved.copy()
    moved.move(PENDING, T0 + timedelta(minutes=1))
    store.save(moved, failed_before.revision, FAILED)
    assert store.count_states(TENANT)["customer"] == {SYNCED: 4, FAILED: 2, PENDING: 1}
    assert store.count_states(OTHER) == {"customer": {PENDING: 1}}


def test_cursors_of_other_listings_and_tenants_are_refused(store: RecordStore) -> None:
    for n in range(3):
        store.save(rec(f"c-{n}"), None, None)
        store.save(rec(f"c-{n}", tenant=OTHER), None, None)
        store.save(rec(f"v-{n}", "vendor"), None, None)
    pending = store.in_state(TENANT, PENDING, 1, None).next_cursor
    customers = store.list(TENANT, "customer", ANY, 1, None).next_cursor
    assert pending is not None
    assert customers is not None
    for refused in [
        lambda: store.in_state(OTHER, PENDING, 1, pending),
        lambda: store.in_state(TENANT, SYNCED, 1, pending),
        lambda: store.list(TENANT, "customer", ANY, 1, pending),
        lambda: store.list(OTHER, "customer", ANY, 1, customers),
        lambda: store.list(TENANT, "vendor", ANY, 1, customers),
        lambda: store.in_state(TENANT, PENDING, 1, customers),
        lambda: store.in_state(TENANT, PENDING, 1, "not-a-cursor"),
        lambda: store.list(TENANT, "customer", ANY, 1, "eyJwayI6IDF9"),
    ]:
        with pytest.raises(InvalidInputError):
            refused()
    # A cursor of the unfiltered listing of a type still pages its filtered listing.
    assert [r.record_id for r in store.list(TENANT, "customer", only(PENDING), 5, customers).items] == [
        "c-1",
        "c-2",
    ]


def test_a_page_needs_a_limit(store: RecordStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.in_state(TENANT, PENDING, 0, None)
    with pytest.raises(ValueError, match="limit"):
        store.list(TENANT, "customer", ANY, 0, None)


# ---------------------------------------------------------------- records: QuickBooks ids and names


def test_find_by_quickbooks_id_follows_the_id_as_it_is_set_changed_and_cleared(store: RecordStore) -> None:
    store.save(rec(), None, None)
    assert store.find_by_quickbooks_id(TENANT, "customer", "58") is None
    linked = rec(quickbooks_id="58", quickbooks_version="0", state=SYNCED)
    store.save(linked, 1, PENDING)
    assert store.find_by_quickbooks_id(TENANT, "customer", "58") == linked
    assert store.find_by_quickbooks_id(TENANT, "vendor", "58") is None
    assert store.find_by_quickbooks_id(OTHER, "customer", "58") is None

    relinked = rec(quickbooks_id="59", quickbooks_version="3", state=SYNCED)
    store.save(relinked, 1, SYNCED)
    assert store.find_by_quickbooks_id(TENANT, "customer", "58") is None
    assert store.find_by_quickbooks_id(TENANT, "customer", "59") == relinked

    unlinked = rec(state=PENDING)
    store.save(unlinked, 1, SYNCED)
    assert store.find_by_quickbooks_id(TENANT, "customer", "59") is None

    born_linked = rec("c-2", quickbooks_id="60")
    store.save(born_linked, None, None)
    assert store.find_by_quickbooks_id(TENANT, "customer", "60") == born_linked


def test_a_refused_save_maps_no_qbo_id(store: RecordStore) -> None:
    store.save(rec(), None, None)
    with pytest.raises(StaleRecordError):
        store.save(rec(quickbooks_id="70"), None, None)  # not new
    with pytest.raises(StaleRecordError):
        store.save(rec(quickbooks_id="71"), 5, None)  # wrong revision
    assert store.find_by_quickbooks_id(TENANT, "customer", "70") is None
    assert store.find_by_quickbooks_id(TENANT, "customer", "71") is None
    assert store.get(TENANT, "customer", "c-1") == rec()


def test_a_quickbooks_id_another_record_took_over_stays_with_it(store: RecordStore) -> None:
    store.save(rec("c-1", quickbooks_id="7"), None, None)
    store.save(rec("c-2", quickbooks_id="7"), None, None)
    assert store.find_by_quickbooks_id(TENANT, "customer", "7") == rec("c-2", quickbooks_id="7")
    store.save(rec("c-1", quickbooks_id="8"), 1, None)  # must not take c-2's mapping with it
    assert store.find_by_quickbooks_id(TENANT, "customer", "7") == rec("c-2", quickbooks_id="7")
    assert store.find_by_quickbooks_id(TENANT, "customer", "8") == rec("c-1", quickbooks_id="8")


def test_linked_answers_many_quickbooks_ids_as_find_by_quickbooks_id_does(store: RecordStore) -> None:
    store.save(rec("c-1", quickbooks_id="58"), None, None)
    store.save(rec("c-2", quickbooks_id="59"), None, None)
    store.save(rec("c-3", quickbooks_id="60"), None, None)
    store.save(rec("c-3", quickbooks_id="61"), 1, None)  # moved on: 60 links to nothing now
    store.save(rec("c-4", quickbooks_id="62"), None, None)
    store.save(rec("c-4"), 1, None)  # unlinked
    store.save(rec("c-5", quickbooks_id="7"), None, None)
    store.save(rec("c-6", quickbooks_id="7"), None, None)  # took 7 over
    store.save(rec("v-1", "vendor", quickbooks_id="63"), None, None)
    store.save(rec("c-9", tenant=OTHER, quickbooks_id="64"), None, None)
    asked = ["58", "59", "60", "61", "62", "7", "63", "64", "404", "58"]
    assert store.linked(TENANT, "customer", asked) == {"58": "c-1", "59": "c-2", "61": "c-3", "7": "c-6"}
    for qid in asked:
        found = store.find_by_quickbooks_id(TENANT, "customer", qid)
        assert store.linked(TENANT, "customer", [qid]) == ({qid: found.record_id} if found else {})
    assert store.linked(TENANT, "vendor", ["63", "58"]) == {"63": "v-1"}
    assert store.linked(OTHER, "customer", ["58", "64"]) == {"64": "c-9"}
    assert store.linked(TENANT, "customer", []) == {}


def test_linked_reads_hundreds_of_ids_at_once(store: RecordStore) -> None:
    for n in range(0, 240, 2):  # every other id linked
        store.save(rec(f"c-{n:03d}", quickbooks_id=f"{n}"), None, None)
    linked = store.linked(TENANT, "customer", [f"{n}" for n in range(240)])
    assert linked == {f"{n}": f"c-{n:03d}" for n in range(0, 240, 2)}


# ---------------------------------------------------------------- records: many saves at once


def test_save_all_stores_each_entry_as_save_would_and_answers_which_were_stale(ports: Ports) -> None:
    store = ports.records
    store.save(rec("c-1"), None, None)
    store.save(rec("c-2", quickbooks_id="20"), None, None)
    store.save(rec("c-3"), None, None)
    synced = rec("c-1", state=SYNCED, quickbooks_id="10", quickbooks_version="0")
    moved = rec("c-2", state=SYNCED, quickbooks_id="21")
    results = store.save_all(
        [
            (synced, 1, PENDING),  # stored: c-1 maps to 10
            (moved, 1, PENDING),  # stored: its id moves from 20 to 21
            (rec("c-3", revision=2), 1, SYNCING),  # stale: c-3 is pending
            (rec("c-4", quickbooks_id="40"), None, None),  # new: stored, mapped
            (rec("c-1", state=FAILED), None, None),  # stale: c-1 is not new
            (rec("c-5"), 1, None),  # stale: nothing stored to expect
        ]
    )
    assert results == [True, True, False, True, False, False]
    assert store.get(TENANT, "customer", "c-1") == synced
    assert store.get(TENANT, "customer", "c-2") == moved
    assert store.get(TENANT, "customer", "c-3") == rec("c-3")
    assert store.get(TENANT, "customer", "c-5") is None
    assert store.find_by_quickbooks_id(TENANT, "customer", "10") == synced
    assert store.find_by_quickbooks_id(TENANT, "customer", "20") is None
    assert store.find_by_quickbooks_id(TENANT, "customer", "21") == moved
    assert store.find_by_quickbooks_id(TENANT, "customer", "40") == rec("c-4", quickbooks_id="40")
    assert store.save_all([]) == []


def test_save_all_of_more_than_one_transaction_holds_stores_every_entry(ports: Ports) -> None:
    store = ports.records
    ids = [f"c-{n:03d}" for n in range(130)]
    assert store.save_all([(rec(i), None, None) for i in ids]) == [True] * 130
    # 130 records, each with a new QuickBooks id: 260 writes, more than one transaction of 100 holds.
    done = [rec(i, state=SYNCED, quickbooks_id=str(1000 + n)) for n, i in enumerate(ids)]
    stale = {7, 64, 129}
    saves = [(r, 2 if n in stale else 1, PENDING) for n, r in enumerate(done)]
    assert store.save_all(saves) == [n not in stale for n in range(130)]
    for n, i in enumerate(ids):
        expected = rec(i) if n in stale else done[n]
        assert store.get(TENANT, "customer", i) == expected
        assert store.find_by_quickbooks_id(TENANT, "customer", str(1000 + n)) == (
            None if n in stale else done[n]
        )


def test_save_all_of_one_record_twice_answers_the_second_save_stale(ports: Ports) -> None:
    store = ports.records
    store.save(rec(), None, None)
    first, second = rec(state=SYNCING), rec(state=FAILED)
    assert store.save_all([(first, 1, PENDING), (second, 1, PENDING)]) == [True, False]
    assert store.get(TENANT, "customer", "c-1") == first
    assert store.save_all([(rec("c-9"), None, None), (rec("c-9", state=SYNCED), None, None)]) == [True, False]
    assert store.get(TENANT, "customer", "c-9") == rec("c-9")


def test_save_all_refuses_what_storage_refuses_before_storing_anything(ports: Ports) -> None:
    store = ports.records
    naive = rec("c-2", at=datetime(2026, 11, 23, 9, 30))
    with pytest.raises(ValueError, match="time zone"):
        store.save_all([(rec("c-1"), None, None), (naive, None, None)])
    assert store.get_many(TENANT, [("customer", "c-1"), ("customer", "c-2")]) == {}


def claim(owner: str, revision: int = 1, at: datetime = T0) -> NameClaim:
    return NameClaim(owner, revision, at)


def test_a_name_is_claimed_by_one_record_until_it_releases_it(store: RecordStore) -> None:
    c1, v1 = claim("customer/c-1"), claim("vendor/v-1")
    assert store.claim_name(TENANT, "acme plumbing", c1) is None
    assert store.claim_name(TENANT, "acme plumbing", c1) is None  # its own: still None
    assert store.claim_name(TENANT, "acme plumbing", v1) == c1
    store.release_name(TENANT, "acme plumbing", "vendor/v-1", 9)  # not its name: no effect
    assert store.claim_name(TENANT, "acme plumbing", v1) == c1
    assert store.claim_name(OTHER, "acme plumbing", v1) is None  # another tenant's books
    store.release_name(TENANT, "acme plumbing", "customer/c-1", 2)
    assert store.claim_name(TENANT, "acme plumbing", v1) is None
    assert store.claim_name(TENANT, "acme plumbing", c1) == v1
    store.release_name(TENANT, "never claimed", "customer/c-1", 2)
    assert store.claim_name(TENANT, "acme plumbing \u2013 Zürich", claim("employee/e-1")) is None


def test_a_name_s_claim_is_read_without_claiming_it(store: RecordStore) -> None:
    assert store.name_claim(TENANT, "acme plumbing") is None
    assert store.name_claim(TENANT, "acme plumbing") is None  # reading claimed nothing
    assert store.claim_name(TENANT, "acme plumbing", claim("vendor/v-1")) is None
    c1 = claim("customer/c-1", 3, T0 + timedelta(seconds=1))
    assert store.claim_name(TENANT, "acme plumbing", c1) == claim("vendor/v-1")
    assert store.name_claim(TENANT, "acme plumbing") == claim("vendor/v-1")
    assert store.name_claim(OTHER, "acme plumbing") is None  # another tenant's books
    store.release_name(TENANT, "acme plumbing", "vendor/v-1", 2)
    assert store.name_claim(TENANT, "acme plumbing") is None


def test_a_claim_keeps_the_newest_revision_of_its_record_and_release_spares_it(store: RecordStore) -> None:
    assert store.claim_name(TENANT, "acme", claim("customer/c-1", 3)) is None
    assert store.claim_name(TENANT, "acme", claim("customer/c-1", 2)) is None  # an older save: still its own
    later = claim("customer/c-1", 5, T0 + timedelta(seconds=1))
    assert store.claim_name(TENANT, "acme", later) is None
    assert store.claim_name(TENANT, "acme", claim("vendor/v-1")) == later
    store.release_name(TENANT, "acme", "customer/c-1", 5)  # a save of revision 5 releasing what 4 held
    assert store.claim_name(TENANT, "acme", claim("vendor/v-1")) == later
    store.release_name(TENANT, "acme", "customer/c-1", 6)
    assert store.claim_name(TENANT, "acme", claim("vendor/v-1")) is None


def test_a_claim_is_replaced_only_if_it_is_still_the_one_found(store: RecordStore) -> None:
    lost = claim("customer/c-1", 2)
    store.claim_name(TENANT, "acme", lost)
    newer = claim("customer/c-1", 3, T0 + timedelta(seconds=1))
    store.claim_name(TENANT, "acme", newer)  # its record claimed it again meanwhile
    assert store.claim_name(TENANT, "acme", claim("vendor/v-1"), replacing=lost) == newer
    assert store.claim_name(TENANT, "acme", claim("vendor/v-1"), replacing=newer) is None
    assert store.claim_name(TENANT, "acme", claim("customer/c-1", 4)) == claim("vendor/v-1")


@pytest.mark.parametrize(
    "name", ["\U0001f600" * 500, "\u6f22" * 500, "a" * 500], ids=["emoji", "cjk", "ascii"]
)
def test_a_name_of_500_characters_of_any_script_is_claimed_like_a_short_one(
    store: RecordStore, name: str
) -> None:
    # 500 characters is QuickBooks' DisplayName limit; 500 emoji are 2,000 bytes of UTF-8, twice a sort key.
    assert store.claim_name(TENANT, name, claim("customer/c-1")) is None
    assert store.claim_name(TENANT, name, claim("vendor/v-1")) == claim("customer/c-1")
    assert store.claim_name(TENANT, name[:-1], claim("vendor/v-1")) is None  # a different name
    store.release_name(TENANT, name, "customer/c-1", 2)
    assert store.claim_name(TENANT, name, claim("vendor/v-1")) is None


class _SlowReads:
    """A store whose reads take a round trip's time, so that racing writers read the same revision (as they do
    against DynamoDB) whichever store is under it."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord | None:
        record = self._store.get(tenant_id, record_type, record_id)
        time.sleep(0.002)  # the answer on its way back: another writer may save meanwhile
        return record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_racing_renames_of_one_customer_leave_only_its_final_name_reserved(ports: Ports) -> None:
    # Issue 8, item 6: 20 concurrent renames left 17 names reserved, and later pushes got a false name_clash.
    store = ports.records
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, T0))
    slow = cast("RecordStore", _SlowReads(store))
    records = Records(
        tenants, slow, InMemorySettings(), InMemoryQueue(), InMemoryTenantLease(), FixedClock(T0)
    )
    records.upsert(TENANT, "customer", "c-1", {"display_name": "Start"})
    names = [f"Name {n}" for n in range(20)]
    start = threading.Barrier(len(names))

    def rename(name: str) -> str:
        start.wait()
        try:
            return records.upsert(TENANT, "customer", "c-1", {"display_name": name}).status
        except RecordLockedError:  # it kept changing: a 409 asking to retry
            return "refused"

    with ThreadPoolExecutor(len(names)) as pool:
        statuses = list(pool.map(rename, names))
    assert "updated" in statuses
    final = records.get(TENANT, "customer", "c-1").data["display_name"]
    for n, name in enumerate(["Start", *names]):
        if name != final:
            taken = records.upsert(TENANT, "vendor", f"v-{n}", {"display_name": name})
            assert taken.status == "created", name
    with pytest.raises(RecordProblemsError) as clash:
        records.upsert(TENANT, "vendor", "v-final", {"display_name": final})
    assert [p.code for p in clash.value.problems] == ["name_clash"]
    assert "customer 'c-1'" in clash.value.problems[0].message


# ---------------------------------------------------------------- event feed


def event(n: int, tenant: str = TENANT, **detail: Any) -> SyncEvent:
    return SyncEvent("record.synced", tenant, T0 + timedelta(seconds=n), {"record_id": f"c-{n}", **detail})


def test_appended_events_get_increasing_ids_and_read_back_oldest_first(feed: EventFeed) -> None:
    stored = [feed.append(event(n)) for n in range(12)]
    ids = [e.id for e in stored]
    assert all(len(i) == 12 and i.isdigit() for i in ids)
    assert ids == sorted(ids)  # past 9 and 10: string order is numeric order
    assert len(set(ids)) == 12
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert stored[3] == SyncEvent(
        "record.synced", TENANT, T0 + timedelta(seconds=3), {"record_id": "c-3"}, ids[3]
    )

    page = feed.after(TENANT, None, 100)
    assert page.items == stored
    assert page.next_cursor is None
    first = feed.after(TENANT, None, 5)
    assert first.items == stored[:5]
    assert first.next_cursor == ids[4]
    read, sizes = all_pages(lambda cursor: feed.after(TENANT, cursor, 4))
    assert read == stored
    assert sizes == [4, 4, 4]
    assert feed.after(TENANT, ids[6], 2).items == stored[7:9]
    assert feed.after(TENANT, ids[-1], 10) == Page([], None)


def test_an_event_round_trips_its_detail_and_time(feed: EventFeed) -> None:
    cet = timezone(timedelta(hours=1))
    detail = {
        "record_type": "invoice",
        "failure": {
            "code": "6240",
            "message": "Doppelter Name \u2013 “Müller”",
            "actions": ["rename"],
            "field": "",
        },
        "quickbooks_id": None,
        "revision": 3,
        "amount": Decimal("12.50"),  # stored as the bus sends it: as a string
    }
    stored = feed.append(
        SyncEvent("record.failed", TENANT, datetime(2026, 11, 23, 10, 30, tzinfo=cet), detail)
    )
    got = feed.after(TENANT, None, 1).items[0]
    assert got.id == stored.id
    assert got.type == "record.failed"
    assert got.tenant_id == TENANT
    assert got.at == T0
    assert got.at.utcoffset() == timedelta(0)
    assert got.detail == {**detail, "amount": "12.50"}


def test_feed_ids_that_were_never_issued_are_refused(feed: EventFeed) -> None:
    feed.append(event(1))
    for bad in ["", "1", "abc", "-00000000001", "0000000000011", "00000000000x"]:
        with pytest.raises(InvalidInputError):
            feed.after(TENANT, bad, 10)
    assert len(feed.after(TENANT, "000000000000", 10).items) == 1


def test_each_tenant_has_its_own_feed(feed: EventFeed) -> None:
    mine = [feed.append(event(n)) for n in range(3)]
    theirs = [feed.append(event(n, OTHER)) for n in range(2)]
    assert feed.after(TENANT, None, 10).items == mine
    assert feed.after(OTHER, None, 10).items == theirs
    assert feed.after("nobody", None, 10).items == []


def test_events_appended_together_take_consecutive_ids_in_order(feed: EventFeed) -> None:
    before = feed.append(event(0))
    assert feed.append_many([]) == []
    batch = [event(n, outcome=n % 3) for n in range(1, 61)]  # more than one BatchWriteItem of 25
    stored = feed.append_many(batch)
    assert [e.id for e in stored] == [f"{int(before.id) + n:012d}" for n in range(1, 61)]
    assert [replace(e, id="") for e in stored] == batch
    after = feed.append(event(61))
    assert int(after.id) == int(before.id) + 61
    read, _ = all_pages(lambda cursor: feed.after(TENANT, cursor, 25))
    assert read == [before, *stored, after]


def test_events_appended_together_must_be_one_tenants_and_storable(feed: EventFeed) -> None:
    with pytest.raises(ValueError, match="one tenant"):
        feed.append_many([event(1), event(2, OTHER)])
    naive = SyncEvent("record.synced", TENANT, datetime(2026, 11, 23, 9, 30), {})
    with pytest.raises(ValueError, match="time zone"):
        feed.append_many([event(1), naive])
    # Nothing was stored and no id was taken: the feed goes on without a gap.
    assert feed.append_many([event(3)])[0].id == "000000000001"
    assert [e.id for e in feed.after(TENANT, None, 10).items] == ["000000000001"]


# ------------------------------------------- run requests, beside the run lease (its contract: test_lease.py)


def test_a_run_is_requested_once_until_it_is_taken_or_goes_stale(lease: TenantLease) -> None:
    stale = timedelta(minutes=5)
    assert lease.request_run(TENANT, T0, stale)
    assert not lease.request_run(TENANT, T0 + timedelta(minutes=1), stale)
    assert lease.request_run(OTHER, T0 + timedelta(minutes=1), stale)
    lease.take_request(TENANT)
    assert lease.request_run(TENANT, T0 + timedelta(minutes=2), stale)
    assert not lease.request_run(TENANT, T0 + timedelta(minutes=7), stale)  # exactly stale_after old
    assert lease.request_run(TENANT, T0 + timedelta(minutes=7, microseconds=1), stale)  # its job was lost
    assert not lease.request_run(TENANT, T0 + timedelta(minutes=8), stale)
    lease.take_request("nobody")
    assert lease.request_run("nobody", T0, stale)


def test_the_lease_and_the_run_request_do_not_touch_each_other(lease: TenantLease) -> None:
    hour = timedelta(hours=1)
    assert lease.acquire(TENANT, "w1", T0, hour)
    assert lease.request_run(TENANT, T0, hour)
    lease.take_request(TENANT)
    assert not lease.acquire(TENANT, "w2", T0, hour)
    assert lease.request_run(TENANT, T0, hour)
    lease.release(TENANT, "w1")
    assert not lease.request_run(TENANT, T0, hour)
    assert lease.acquire(TENANT, "w2", T0, hour)


def test_the_note_shows_the_lease_and_the_run_request_as_stored(lease: TenantLease) -> None:
    assert lease.note(TENANT) == RunNote()
    hour = timedelta(hours=1)
    assert lease.request_run(TENANT, T0, hour)
    assert lease.note(TENANT) == RunNote(None, T0)
    assert lease.acquire(TENANT, "w1", T0, hour)
    lease.take_request(TENANT)
    note = lease.note(TENANT)
    assert note == RunNote(T0 + hour, None)
    assert note.running(T0 + timedelta(minutes=59))
    assert not note.running(T0 + hour)  # lapsed
    assert lease.note(OTHER) == RunNote()
    lease.release(TENANT, "w1")
    assert lease.note(TENANT) == RunNote()


def test_lease_times_need_a_zone(lease: TenantLease) -> None:
    naive = datetime(2026, 11, 23, 9, 30)
    with pytest.raises(ValueError, match="time zone"):
        lease.acquire(TENANT, "w1", naive, timedelta(seconds=30))
    with pytest.raises(ValueError, match="time zone"):
        lease.request_run(TENANT, naive, timedelta(seconds=30))


# ---------------------------------------------------------------- DynamoDB only: items and retries


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


@pytest.fixture
def client(aws_env: LocalStack):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb")


def raw(client, table: str, pk: str, sk: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    return client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def test_items_use_the_documented_keys(client, table: str) -> None:  # type: ignore[no-untyped-def]
    store = DynamoRecordStore(client, table)
    record = every_field()
    store.save(record, None, None)
    item = raw(client, table, f"TENANT#{TENANT}", "RECORD#invoice#inv-1001/ä")
    assert item is not None
    assert item["gsi1pk"] == {"S": f"TENANT#{TENANT}#STATE#failed"}
    assert item["gsi1sk"] == {"S": "2026-11-23T09:30:15.123456Z#invoice#inv-1001/ä"}
    assert item["updated_at"] == {"S": "2026-11-23T09:30:15.123456Z"}
    assert "S" in item["data"]  # JSON text: no float or empty-value quirks
    assert item["revision"] == {"N": "3"}
    assert item["history"]["L"][1]["M"]["at"] == {"S": "2026-11-23T08:00:00.000000Z"}
    assert raw(client, table, f"TENANT#{TENANT}", "QBOID#invoice#145")["record_id"] == {"S": "inv-1001/ä"}  # type: ignore[index]

    store.claim_name(TENANT, "acme", claim("customer/c-1", 4))
    name = raw(client, table, f"TENANT#{TENANT}", f"NAME#{hashlib.sha256(b'acme').hexdigest()}")
    assert name is not None
    assert (name["owner"], name["name_key"]) == ({"S": "customer/c-1"}, {"S": "acme"})
    assert (name["revision"], name["claimed_at"]) == ({"N": "4"}, {"S": "2026-11-23T09:30:00.000000Z"})

    feed = DynamoEventFeed(client, table, retention=timedelta(days=30), clock=FixedClock(T0))
    feed.append(event(1))
    stored = raw(client, table, f"TENANT#{TENANT}", "EVENT#000000000001")
    assert stored is not None
    assert stored["expires_at"] == {"N": str(int((T0 + timedelta(days=30)).timestamp()))}
    assert raw(client, table, f"TENANT#{TENANT}", "EVENTSEQ")["seq"] == {"N": "1"}  # type: ignore[index]

    runs = DynamoTenantLease(client, table)
    runs.take_request(TENANT)
    runs.release(TENANT, "w1")
    assert raw(client, table, f"TENANT#{TENANT}", "SYNC#RUN") is None  # nothing to take: no item made
    runs.acquire(TENANT, "w1", T0, timedelta(seconds=30))
    runs.request_run(TENANT, T0, timedelta(minutes=5))
    run = raw(client, table, f"TENANT#{TENANT}", "SYNC#RUN")
    assert run is not None
    assert run["lease_owner"] == {"S": "w1"}
    assert run["lease_until"] == {"S": "2026-11-23T09:30:30.000000Z"}
    assert run["requested_at"] == {"S": "2026-11-23T09:30:00.000000Z"}


def test_two_appenders_share_the_tenants_counter(client, table: str) -> None:  # type: ignore[no-untyped-def]
    first, second = DynamoEventFeed(client, table), DynamoEventFeed(client, table)
    ids = [(first if n % 2 else second).append(event(n)).id for n in range(6)]
    assert ids == [f"{n:012d}" for n in range(1, 7)]


class _Throttled:
    """A DynamoDB client whose first BatchGetItem leaves half its keys unprocessed, as when throttled."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.batches.append(len(keys))
        if len(self.batches) > 1:
            return self._client.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        half = len(keys) // 2
        response = self._client.batch_get_item(RequestItems={table: {**request, "Keys": keys[:half]}})
        response["UnprocessedKeys"] = {table: {**request, "Keys": keys[half:]}}
        return response  # type: ignore[no-any-return]


def test_get_many_reads_the_keys_dynamodb_left_unprocessed(client, table: str) -> None:  # type: ignore[no-untyped-def]
    plain = DynamoRecordStore(client, table)
    for n in range(150):
        plain.save(rec(f"c-{n:03d}"), None, None)
    throttled = _Throttled(client)
    found = DynamoRecordStore(throttled, table).get_many(  # type: ignore[arg-type]
        TENANT, [("customer", f"c-{n:03d}") for n in range(150)]
    )
    assert len(found) == 150
    assert throttled.batches == [100, 50, 50]


class _Interleaved(DynamoRecordStore):
    """Runs `meanwhile` once, between a save's read of the stored record and its write."""

    meanwhile: Callable[[], object] | None = None

    def _stored(self, record: SyncRecord) -> dict[str, Any] | None:
        stored = super()._stored(record)
        if self.meanwhile:
            run, self.meanwhile = self.meanwhile, None
            run()
        return stored


def test_a_save_racing_another_save_of_the_same_revision_keeps_the_id_mappings_right(  # type: ignore[no-untyped-def]
    client, table: str
) -> None:
    plain, racing = DynamoRecordStore(client, table), _Interleaved(client, table)
    plain.save(rec(state=SYNCING), None, None)
    racing.meanwhile = lambda: plain.save(rec(state=SYNCING, quickbooks_id="11"), 1, SYNCING)
    racing.save(
        rec(state=SYNCED, quickbooks_id="10"), 1, SYNCING
    )  # read quickbooks_id None; it is "11" when it writes
    assert plain.get(TENANT, "customer", "c-1") == rec(state=SYNCED, quickbooks_id="10")
    assert raw(client, table, f"TENANT#{TENANT}", "QBOID#customer#11") is None
    assert plain.find_by_quickbooks_id(TENANT, "customer", "10") == rec(state=SYNCED, quickbooks_id="10")

    racing.meanwhile = lambda: plain.save(rec(state=FAILED, quickbooks_id="10"), 1, SYNCED)
    with pytest.raises(StaleRecordError):  # this time the state moved on: stale
        racing.save(rec(state=SYNCED, quickbooks_id="12"), 1, SYNCED)
    # The mapping written before the lost save may stay behind; it finds nothing.
    assert plain.find_by_quickbooks_id(TENANT, "customer", "12") is None
    assert plain.get(TENANT, "customer", "c-1") == rec(state=FAILED, quickbooks_id="10")


class _Counting:
    """A DynamoDB client counting the requests made through it, by operation; it keeps the transactions."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.transactions: list[list[dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def counted(**kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "transact_write_items":
                self.transactions.append(kwargs["TransactItems"])
            return method(**kwargs)

        return counted


def test_save_all_of_a_batch_is_one_read_and_one_transaction(client, table: str) -> None:  # type: ignore[no-untyped-def]
    DynamoRecordStore(client, table).save_all([(rec(f"c-{n}"), None, None) for n in range(30)])
    counting = _Counting(client)
    store = DynamoRecordStore(counting, table)  # type: ignore[arg-type]
    saves = [(rec(f"c-{n}", state=SYNCED, quickbooks_id=str(n)), 1, PENDING) for n in range(30)]
    assert store.save_all(saves) == [True] * 30
    assert counting.calls == Counter({"batch_get_item": 1, "transact_write_items": 1})
    assert len(counting.transactions[0]) == 60  # each record and its QuickBooks id mapping


def test_save_all_keeps_each_transaction_within_dynamodbs_four_megabytes(client, table: str) -> None:  # type: ignore[no-untyped-def]
    counting = _Counting(client)
    store = DynamoRecordStore(counting, table)  # type: ignore[arg-type]
    big = [rec(f"c-{n}") for n in range(30)]
    for r in big:
        r.data["notes"] = "x" * 300_000  # an item holds 400 KB; 30 of these are 9 MB
    assert store.save_all([(r, None, None) for r in big]) == [True] * 30
    sizes = [len(json.dumps(t)) for t in counting.transactions]
    assert len(sizes) >= 3
    assert max(sizes) <= 4_000_000
    assert store.get(TENANT, "customer", "c-29") == big[29]


def test_a_bulk_push_of_200_invoices_is_a_handful_of_dynamodb_requests(client, table: str) -> None:  # type: ignore[no-untyped-def]
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, T0))
    counting = _Counting(client)
    records = Records(
        tenants,
        DynamoRecordStore(counting, table),  # type: ignore[arg-type]
        InMemorySettings(),
        InMemoryQueue(),
        InMemoryTenantLease(),
        FixedClock(T0),
    )
    records.upsert_many(
        TENANT, "customer", [(f"c-{n}", {"display_name": f"Customer {n}"}) for n in range(20)]
    )
    records.upsert_many(
        TENANT, "item", [(f"i-{n}", {"kind": "service", "name": f"Item {n}"}) for n in range(10)]
    )
    counting.calls.clear()
    line = {"quantity": "1", "rate": "10.25"}
    invoices = [
        (f"inv-{n}", {"customer_id": f"c-{n % 20}", "lines": [{**line, "item_id": f"i-{n % 10}"}]})
        for n in range(200)
    ]
    assert {o.status for o in records.upsert_many(TENANT, "invoice", invoices)} == {"created"}
    # The invoices, customers and items read in BatchGetItem of 100; the invoices written in 2 transactions.
    assert counting.calls == Counter({"batch_get_item": 3, "transact_write_items": 2})
    assert (
        len(DynamoRecordStore(client, table).list(TENANT, "invoice", only(PENDING), 500, None).items) == 200
    )


class _RacedSaveAll(DynamoRecordStore):
    """Runs `meanwhile` once, between save_all's read of the stored records and its transaction."""

    meanwhile: Callable[[], object] | None = None

    def _read_many(self, keys: list[dict[str, str]], what: str) -> dict[tuple[str, str], dict[str, Any]]:
        read = super()._read_many(keys, what)
        if self.meanwhile:
            run, self.meanwhile = self.meanwhile, None
            run()
        return read


def test_save_all_drops_what_changed_under_it_and_writes_the_rest_again(client, table: str) -> None:  # type: ignore[no-untyped-def]
    plain, racing = DynamoRecordStore(client, table), _RacedSaveAll(client, table)
    plain.save_all([(rec(f"c-{n}", state=SYNCING), None, None) for n in range(3)])
    # The host app changes c-1, and another save gives c-2 a QuickBooks id, after save_all read them.
    racing.meanwhile = lambda: plain.save_all(
        [(rec("c-1", revision=2), 1, SYNCING), (rec("c-2", state=SYNCING, quickbooks_id="22"), 1, SYNCING)]
    )
    done = [rec(f"c-{n}", state=SYNCED, quickbooks_id=str(10 + n)) for n in range(3)]
    assert racing.save_all([(r, 1, SYNCING) for r in done]) == [True, False, True]
    assert plain.get(TENANT, "customer", "c-0") == done[0]
    assert plain.get(TENANT, "customer", "c-1") == rec("c-1", revision=2)
    assert plain.get(TENANT, "customer", "c-2") == done[2]  # read again: only its id had moved
    assert plain.find_by_quickbooks_id(TENANT, "customer", "11") is None
    assert plain.find_by_quickbooks_id(TENANT, "customer", "12") == done[2]
    assert raw(client, table, f"TENANT#{TENANT}", "QBOID#customer#22") is None


class _Conflicting:
    """A DynamoDB client whose first transaction is cancelled by a conflicting one, as DynamoDB may."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.transactions = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.transactions += 1
        if self.transactions == 1:
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(TransactItems) - 1)
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")  # type: ignore[typeddict-unknown-key]
        return self._client.transact_write_items(TransactItems=TransactItems)  # type: ignore[no-any-return]


def test_save_all_retries_a_transaction_a_conflict_cancelled(client, table: str) -> None:  # type: ignore[no-untyped-def]
    conflicting = _Conflicting(client)
    store = DynamoRecordStore(conflicting, table)  # type: ignore[arg-type]
    assert store.save_all([(rec(f"c-{n}"), None, None) for n in range(3)]) == [True] * 3
    assert conflicting.transactions == 2
    assert len(store.get_many(TENANT, [("customer", f"c-{n}") for n in range(3)])) == 3


def test_events_appended_together_are_one_counter_update_and_batches_of_25(client, table: str) -> None:  # type: ignore[no-untyped-def]
    counting = _Counting(client)
    feed = DynamoEventFeed(counting, table, clock=FixedClock(T0))  # type: ignore[arg-type]
    feed.append_many([event(n) for n in range(60)])
    assert counting.calls == Counter({"update_item": 1, "batch_write_item": 3})
    assert raw(client, table, f"TENANT#{TENANT}", "EVENTSEQ")["seq"] == {"N": "60"}  # type: ignore[index]


class _UnprocessedWrites:
    """A DynamoDB client whose first BatchWriteItem leaves half its items unprocessed, as when throttled."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, writes),) = RequestItems.items()
        self.batches.append(len(writes))
        if len(self.batches) > 1:
            return self._client.batch_write_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        half = len(writes) // 2
        response = self._client.batch_write_item(RequestItems={table: writes[:half]})
        response["UnprocessedItems"] = {table: writes[half:]}
        return response  # type: ignore[no-any-return]


def test_events_dynamodb_left_unprocessed_are_written_again(client, table: str) -> None:  # type: ignore[no-untyped-def]
    throttled = _UnprocessedWrites(client)
    feed = DynamoEventFeed(throttled, table, clock=FixedClock(T0))  # type: ignore[arg-type]
    stored = feed.append_many([event(n) for n in range(10)])
    assert throttled.batches == [10, 5]
    assert feed.after(TENANT, None, 20).items == stored


def test_a_reader_never_passes_an_event_still_being_written(client, table: str) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    feed = DynamoEventFeed(client, table, clock=clock)
    first = feed.append(SyncEvent("record.synced", TENANT, T0, {"n": 1}))
    # A second writer has taken the next id and not yet written its event; a third has written.
    client.update_item(
        TableName=table,
        Key={"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": "EVENTSEQ"}},
        UpdateExpression="ADD seq :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    third = feed.append(SyncEvent("payment.received", TENANT, T0, {"n": 3}))
    page = feed.after(TENANT, first.id, 10)
    assert (page.items, page.next_cursor) == ([], None)  # not past the gap: poll again
    assert [e.id for e in feed.after(TENANT, None, 10).items] == [first.id]
    # The second writer finishes: all three, in order.
    gap = f"{int(first.id) + 1:012d}"
    client.put_item(
        TableName=table,
        Item=to_item(
            {
                "pk": f"TENANT#{TENANT}",
                "sk": f"EVENT#{gap}",
                "id": gap,
                "tenant_id": TENANT,
                "type": "record.failed",
                "at": "2026-11-23T09:30:00.000000Z",
                "detail": '{"n": 2}',
                "written_at": "2026-11-23T09:30:00.000000Z",
            }
        ),
    )
    assert [e.detail["n"] for e in feed.after(TENANT, first.id, 10).items] == [2, 3]
    # A gap whose writer died is passed once it is older than the hold.
    client.update_item(
        TableName=table,
        Key={"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": "EVENTSEQ"}},
        UpdateExpression="ADD seq :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    fifth = feed.append(SyncEvent("record.synced", TENANT, T0, {"n": 5}))
    assert feed.after(TENANT, third.id, 10).items == []
    clock.advance(EVENT_GAP_HOLD + timedelta(seconds=1))
    assert [e.id for e in feed.after(TENANT, third.id, 10).items] == [fifth.id]


def test_linked_is_batch_reads_of_the_mappings_then_of_the_records_ids_alone(client, table: str) -> None:  # type: ignore[no-untyped-def]
    plain = DynamoRecordStore(client, table)
    big = {"display_name": "Big", "notes": "x" * 300_000}  # a record's data is not read to answer
    for n in range(150):
        plain.save(
            SyncRecord(TENANT, "customer", f"c-{n:03d}", big, SYNCED, T0, quickbooks_id=f"{n}"), None, None
        )
    counting = _Counting(client)
    linked = DynamoRecordStore(counting, table).linked(TENANT, "customer", [f"{n}" for n in range(200)])  # type: ignore[arg-type]
    assert len(linked) == 150
    assert counting.calls == Counter({"batch_get_item": 4})  # 100 + 100 mappings, 100 + 50 records
