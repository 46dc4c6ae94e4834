"""The initial sync: the dry run's counts, then a run that links, creates, ignores and tells what they said,
advancing step by step, idempotently, one at a time per tenant."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from qbsync.domain.errors import ConflictError, NotFoundError
from qbsync.domain.initial_sync import MATCH_TO_REVIEW, Step
from qbsync.domain.jobs import INITIAL_SYNC_JOB, Job
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.records import RecordFilter
from qbsync.domain.settings import SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.initial_sync import (
    INITIAL_SYNC_DONE,
    INITIAL_SYNC_PROGRESS,
    MATCHING_STALE,
    PROGRESS_EVERY,
    InitialSyncs,
)
from qbsync.usecases.links import Links
from qbsync.usecases.quickbooks_side import QUICKBOOKS_CHANGED
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import SyncEngine
from tests.unit.books_fake import FakeBooks
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.initial_sync_fakes import InMemoryInitialSyncs
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
LISTS = (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE, ListType.ITEM)


@dataclass
class World:
    syncs: InitialSyncs
    records: Records
    store: InMemoryRecordStore
    mirror: InMemoryMirror
    events: RecordingEvents
    settings: InMemorySettings
    runs: InMemoryInitialSyncs
    payments: InMemoryPaymentLog
    engine: SyncEngine
    books: FakeBooks
    clock: FixedClock

    def quickbooks_has(self, list_type: ListType, quickbooks_id: str, name: str, **kw: Any) -> None:
        self.mirror.put_many(TENANT, [ListEntry(list_type, quickbooks_id, name, modified_at=T0, **kw)])

    def lists_read(self) -> None:
        for list_type in LISTS:
            self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True, through=T0))

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        self.records.upsert(TENANT, record_type, record_id, data)

    def state(self, record_type: str, record_id: str) -> SyncState:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record.state

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))

    def told(self, kind: str) -> list[dict[str, object]]:
        return [d for t, _, d in self.events.published if t == kind]

    def sync_runs(self) -> None:
        self.engine.run(TENANT, self.books)


@dataclass
class WorkerQueue(InMemoryQueue):
    """A queue whose `initial_sync` jobs the worker runs as they are sent (the local stack's worker takes
    them within moments): the matching step is done by then."""

    syncs: InitialSyncs | None = None

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        super().send(job, delay_seconds)
        if job.kind == INITIAL_SYNC_JOB and self.syncs is not None and job.tenant_id is not None:
            self.syncs.advance(job.tenant_id, settle=False, match=True)


def make_world(edition: Edition = Edition.QBO, *, worker: bool = True) -> World:
    clock = FixedClock(T0)
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", edition, clock.now()))
    store, mirror, events, settings = (
        InMemoryRecordStore(),
        InMemoryMirror(),
        RecordingEvents(),
        InMemorySettings(),
    )
    lease, queue, runs, payments = (
        InMemoryTenantLease(),
        WorkerQueue(),
        InMemoryInitialSyncs(),
        InMemoryPaymentLog(),
    )
    links = Links(tenants, store, mirror, events, clock)
    records = Records(tenants, store, settings, queue, lease, clock, links=links)
    books = FakeBooks()
    engine = SyncEngine(store, books.profile, settings, lease, events, clock, mirror)
    syncs = InitialSyncs(tenants, runs, store, mirror, links, settings, payments, lease, queue, events, clock)
    queue.syncs = syncs if worker else None
    return World(syncs, records, store, mirror, events, settings, runs, payments, engine, books, clock)


@pytest.fixture
def world() -> World:
    return make_world()


def seeded(world: World) -> None:
    """QuickBooks has three customers and two items; the host app has customers matching two of them (one by
    email, one by name), one of its own, an item by SKU and one of its own, and invoices of both kinds."""
    world.quickbooks_has(ListType.CUSTOMER, "58", "Café Noir", email="ap@cafenoir.test")
    world.quickbooks_has(ListType.CUSTOMER, "59", "Brick & Co")
    world.quickbooks_has(ListType.CUSTOMER, "60", "Only In QuickBooks Ltd")
    world.quickbooks_has(ListType.ITEM, "7", "Valve", sku="V-1")
    world.quickbooks_has(ListType.ITEM, "8", "Gasket")
    world.quickbooks_has(ListType.VENDOR, "90", "Old Vendor", active=False)  # inactive: no count, no tell
    world.lists_read()
    world.use(send_mode=SendMode.REVIEW)  # pushed records wait as drafts: only the initial sync sends them
    world.push("customer", "c-cafe", {"display_name": "Cafe Noir Inc.", "email": "AP@cafenoir.test"})
    world.push("customer", "c-brick", {"display_name": "Brick and Co."})
    world.push("customer", "c-new", {"display_name": "Newcomer"})
    world.push("item", "i-valve", {"kind": "service", "name": "Valve 1/2in", "sku": "v-1"})
    world.push("item", "i-labour", {"kind": "service", "name": "Labour"})
    line = [{"item_id": "i-labour", "quantity": "1", "rate": "10"}]
    world.push("invoice", "inv-cafe", {"customer_id": "c-cafe", "lines": line})
    world.push("invoice", "inv-new", {"customer_id": "c-new", "lines": line})


def tally(world: World, record_type: str) -> Counter[str]:
    page = world.store.list(TENANT, record_type, RecordFilter(), 500, None)
    return Counter(r.state.value for r in page.items)


# ------------------------------------------------------------------------------------------------ dry run


def test_the_dry_run_counts_each_side_and_changes_nothing(world: World) -> None:
    seeded(world)
    world.use(send_mode=SendMode.REVIEW, only_in_quickbooks="create")
    summary = world.syncs.dry_run(TENANT)
    assert summary.lists_read is True
    customers = summary.counts["customer"].as_dict()
    assert customers == {
        "in_quickbooks": 3,
        "in_app": 3,
        "matched": 2,
        "to_review": 0,
        "to_create_in_quickbooks": 1,
        "to_create_in_app": 1,
        "ignored": 0,
        "ignored_by_reason": {},
    }
    items = summary.counts["item"]
    assert (items.in_quickbooks, items.matched, items.to_create_in_quickbooks, items.to_create_in_app) == (
        2,
        1,
        1,
        1,
    )
    vendors = summary.counts["vendor"]
    assert (vendors.in_quickbooks, vendors.in_app, vendors.to_create_in_app) == (0, 0, 0)
    invoices = summary.counts["invoice"]
    assert (invoices.in_quickbooks, invoices.in_app, invoices.to_create_in_quickbooks) == (None, 2, 2)
    assert tally(world, "customer") == {"draft": 3}  # nothing changed
    assert world.runs.get(TENANT) is None
    assert world.told(QUICKBOOKS_CHANGED) == []


def test_before_the_lists_are_read_the_dry_run_says_so_and_quickbooks_counts_are_null(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    summary = world.syncs.dry_run(TENANT)
    assert summary.lists_read is False
    assert summary.counts["customer"].in_quickbooks is None
    assert summary.counts["customer"].in_app == 1


# ------------------------------------------------------------------------------------------------ the run


def test_the_worker_does_the_matching_in_slices_and_an_api_call_only_asks_it_of_the_worker() -> None:
    world = make_world(worker=False)
    seeded(world)
    queue = world.syncs.jobs
    assert isinstance(queue, WorkerQueue)
    status = world.syncs.start(TENANT)  # the API: matching is asked of the worker, not done here
    assert status.sync.step is Step.MATCHING
    assert "Matching the app's records" in status.note
    assert [j.kind for j, _ in queue.sent] == [INITIAL_SYNC_JOB]
    world.syncs.status(TENANT)
    world.clock.advance(MATCHING_STALE - timedelta(seconds=1))
    world.syncs.status(TENANT)
    assert len(queue.sent) == 1  # a job is on its way: not asked again
    assert world.store.get(TENANT, "customer", "c-cafe").quickbooks_id is None  # type: ignore[union-attr]

    # The worker's time is up before its first link: it saves the run and asks for the next slice.
    sliced = world.syncs.advance(TENANT, settle=False, match=True, until=world.clock.now())
    assert sliced is not None
    assert sliced.step is Step.MATCHING
    assert [j.kind for j, _ in queue.sent] == [INITIAL_SYNC_JOB] * 2
    world.clock.advance(MATCHING_STALE - timedelta(seconds=1))  # it saved the run: not taken for lost
    world.syncs.status(TENANT)
    assert len(queue.sent) == 2
    world.clock.advance(timedelta(seconds=1))  # that job was lost: the next look asks again
    world.syncs.status(TENANT)
    assert len(queue.sent) == 3

    done = world.syncs.advance(TENANT, settle=False, match=True)
    assert done is not None
    assert done.step is Step.SENDING
    assert world.store.get(TENANT, "customer", "c-cafe").quickbooks_id == "58"  # type: ignore[union-attr]


def test_the_run_does_what_the_dry_run_counted_and_ends_done_at_100_percent(world: World) -> None:
    seeded(world)
    # found only in QuickBooks and created there before the since date: counted, never told
    world.quickbooks_has(
        ListType.CUSTOMER, "61", "Old Only In QuickBooks", created_at=datetime(2019, 3, 1, tzinfo=UTC)
    )
    world.use(send_mode=SendMode.REVIEW, only_in_quickbooks="create", sync_since="2026-01-01")
    dry = world.syncs.dry_run(TENANT)
    assert dry.counts["customer"].ignored_by_reason == {"before_since": 1}
    left_in_quickbooks = {"customer": 1}  # of the ignored, objects of QuickBooks rather than host records
    status = world.syncs.start(TENANT)
    assert status.sync.step is Step.SENDING
    assert status.sync.summary == dry.counts
    assert world.store.get(TENANT, "customer", "c-cafe").quickbooks_id == "58"  # type: ignore[union-attr]
    assert world.store.get(TENANT, "customer", "c-brick").quickbooks_id == "59"  # type: ignore[union-attr]
    assert world.store.get(TENANT, "item", "i-valve").quickbooks_id == "7"  # type: ignore[union-attr]
    assert world.state("customer", "c-new") is SyncState.PENDING
    world.sync_runs()
    status = world.syncs.status(TENANT)
    assert status.sync.step is Step.DONE
    for record_type, counts in dry.counts.items():
        states = tally(world, record_type)
        assert states["synced"] == counts.matched + counts.to_create_in_quickbooks, record_type
        assert states["ignored"] == counts.ignored - left_in_quickbooks.get(record_type, 0)
        assert status.progress[record_type].percent == 100
    created = world.told(QUICKBOOKS_CHANGED)
    assert sorted((d["list_type"], d["quickbooks_id"]) for d in created) == [
        ("customer", "60"),
        ("item", "8"),
    ]
    assert all(d["change"] == "created" and d["record_id"] is None for d in created)
    [done] = world.told(INITIAL_SYNC_DONE)
    assert done["percent"] == dict.fromkeys(status.progress, 100)


def test_a_since_date_leaves_older_customers_invoices_and_payments_untouched_and_counted(
    world: World,
) -> None:
    world.lists_read()
    world.use(send_mode=SendMode.REVIEW, sync_since="2026-06-01")
    world.push("customer", "c-old", {"display_name": "Old Timer", "created_on": "2019-03-01"})
    world.push("customer", "c-new", {"display_name": "New Face", "created_on": "2026-07-01"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    line = [{"item_id": "i-1", "quantity": "1", "rate": "10"}]
    world.push("invoice", "inv-old", {"customer_id": "c-new", "txn_date": "2026-05-31", "lines": line})
    world.push("invoice", "inv-new", {"customer_id": "c-new", "txn_date": "2026-06-01", "lines": line})
    world.push("invoice", "inv-of-old", {"customer_id": "c-old", "txn_date": "2026-08-01", "lines": line})
    world.push("payment", "p-old", {"customer_id": "c-new", "txn_date": "2026-01-02", "total_amount": "5"})
    dry = world.syncs.dry_run(TENANT)
    assert dry.counts["customer"].ignored_by_reason == {"before_since": 1}
    assert dry.counts["invoice"].ignored_by_reason == {"before_since": 1, "depends_on_ignored": 1}
    assert dry.counts["payment"].ignored_by_reason == {"before_since": 1}
    assert dry.counts["item"].ignored == 0  # items always sync
    world.syncs.start(TENANT)
    world.sync_runs()
    assert world.syncs.status(TENANT).sync.step is Step.DONE
    for key in (("customer", "c-old"), ("invoice", "inv-old"), ("payment", "p-old")):
        record = world.store.get(TENANT, *key)
        assert record is not None
        assert (record.state, record.quickbooks_id) == (SyncState.IGNORED, None)
        assert "before the since date" in record.history[-1].detail
    assert world.state("invoice", "inv-of-old") is SyncState.IGNORED
    assert world.state("invoice", "inv-new") is SyncState.SYNCED
    assert world.books.held("customer")
    assert [h.name for h in world.books.held("customer")] == ["New Face"]


def test_app_only_records_under_ignore_are_kept_out_with_their_dependants_and_the_reason(
    world: World,
) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    world.quickbooks_has(ListType.ITEM, "7", "Labour")
    world.lists_read()
    world.use(send_mode=SendMode.REVIEW, only_in_app="ignore")
    world.push("customer", "c-acme", {"display_name": "Acme Ltd"})
    world.push("customer", "c-solo", {"display_name": "Solo Trader"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    line = [{"item_id": "i-1", "quantity": "1", "rate": "10"}]
    world.push("invoice", "inv-solo", {"customer_id": "c-solo", "lines": line})
    applied = [{"invoice_id": "inv-solo", "amount": "10"}]
    world.push(
        "payment", "pay-solo", {"customer_id": "c-solo", "total_amount": "10", "applications": applied}
    )
    dry = world.syncs.dry_run(TENANT)
    assert dry.counts["customer"].ignored_by_reason == {"only_in_app": 1}
    assert dry.counts["invoice"].ignored_by_reason == {"only_in_app": 1}
    world.syncs.start(TENANT)
    world.sync_runs()
    assert world.state("customer", "c-acme") is SyncState.SYNCED  # linked: found on both sides
    solo = world.store.get(TENANT, "customer", "c-solo")
    assert solo is not None
    assert solo.state is SyncState.IGNORED
    assert "only_in_app is ignore" in solo.history[-1].detail
    assert world.state("invoice", "inv-solo") is SyncState.IGNORED
    assert world.books.held("customer") == []
    assert world.syncs.status(TENANT).sync.step is Step.DONE
    told = {(d["record_type"], d["record_id"]): d["reason"] for d in world.told("record.ignored")}
    assert set(told) == {("customer", "c-solo"), ("invoice", "inv-solo"), ("payment", "pay-solo")}
    assert "only_in_app is ignore" in str(told[("customer", "c-solo")])
    world.syncs.start(TENANT)  # a re-sync keeps them ignored: nothing told again
    assert len(world.told("record.ignored")) == 3


def test_an_invoice_of_a_customer_ignored_by_the_since_date_says_it_depends_on_it(world: World) -> None:
    world.lists_read()
    world.use(send_mode=SendMode.REVIEW, sync_since="2026-06-01")
    world.push("customer", "c-old", {"display_name": "Old Timer", "created_on": "2019-03-01"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    line = [{"item_id": "i-1", "quantity": "1", "rate": "10"}]
    world.push("invoice", "inv-1", {"customer_id": "c-old", "txn_date": "2026-08-01", "lines": line})
    world.syncs.start(TENANT)
    invoice = world.store.get(TENANT, "invoice", "inv-1")
    assert invoice is not None
    assert invoice.state is SyncState.IGNORED
    assert "depends on customer/c-old, which is ignored" in invoice.history[-1].detail


def test_a_pair_automatch_cannot_decide_fails_for_review_with_candidates_and_is_listed(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "58", "Acme Plumbing")
    world.quickbooks_has(ListType.CUSTOMER, "59", "ACME Plumbing Inc")
    world.lists_read()
    world.use(send_mode=SendMode.REVIEW)
    world.push("customer", "c-1", {"display_name": "Acme Plumbing LLC"})
    assert world.syncs.dry_run(TENANT).counts["customer"].to_review == 1
    status = world.syncs.start(TENANT)
    assert status.sync.step is Step.DONE  # nothing left to send: the tenant picks
    [error] = status.errors.items
    assert error.failure is not None
    assert (error.record_id, error.failure.code) == ("c-1", MATCH_TO_REVIEW)
    assert "link_existing" in error.failure.actions
    assert sorted(c.quickbooks_id for c in error.failure.candidates) == ["58", "59"]
    assert status.progress["customer"].failed == 1


def test_quickbooks_only_objects_are_told_once_however_often_the_run_advances(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "60", "Only In QuickBooks Ltd")
    world.lists_read()
    world.use(only_in_quickbooks="create")
    world.syncs.start(TENANT)
    for _ in range(3):
        world.syncs.advance(TENANT)
        world.syncs.status(TENANT)
    assert [d["quickbooks_id"] for d in world.told(QUICKBOOKS_CHANGED)] == ["60"]


def test_quickbooks_only_objects_under_ignore_are_counted_and_not_told(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "60", "Only In QuickBooks Ltd")
    world.lists_read()
    counts = world.syncs.dry_run(TENANT).counts["customer"]
    assert (counts.to_create_in_app, counts.ignored, counts.ignored_by_reason) == (
        0,
        1,
        {"only_in_quickbooks": 1},
    )
    world.syncs.start(TENANT)
    assert world.told(QUICKBOOKS_CHANGED) == []


def test_a_customer_found_only_in_quickbooks_created_before_the_since_date_is_counted_and_not_told(
    world: World,
) -> None:
    pacific = timezone(timedelta(hours=-8))
    world.quickbooks_has(
        ListType.CUSTOMER, "61", "Old Timer", created_at=datetime(2019, 3, 1, tzinfo=pacific)
    )
    # the last evening before the since date, in the company's own offset (already June 1st in UTC)
    world.quickbooks_has(
        ListType.CUSTOMER, "62", "Eve", created_at=datetime(2026, 5, 31, 23, 0, tzinfo=pacific)
    )
    world.quickbooks_has(ListType.CUSTOMER, "63", "New Face", created_at=datetime(2026, 6, 1, tzinfo=pacific))
    world.quickbooks_has(ListType.CUSTOMER, "64", "Read Before Creation Times Were Kept")  # created_at None
    world.quickbooks_has(ListType.VENDOR, "90", "Old Vendor", created_at=datetime(2019, 3, 1, tzinfo=pacific))
    world.lists_read()
    world.use(only_in_quickbooks="create", sync_since="2026-06-01")

    counts = world.syncs.dry_run(TENANT).counts
    customers = counts["customer"]
    assert (customers.in_quickbooks, customers.to_create_in_app, customers.ignored) == (4, 2, 2)
    assert customers.ignored_by_reason == {"before_since": 2}
    assert counts["vendor"].to_create_in_app == 1  # the since date is for customers, invoices and payments

    assert world.syncs.start(TENANT).sync.summary == counts
    told = {(d["list_type"], d["quickbooks_id"]) for d in world.told(QUICKBOOKS_CHANGED)}
    assert told == {("customer", "63"), ("customer", "64"), ("vendor", "90")}


def test_without_a_since_date_a_customer_found_only_in_quickbooks_is_told_however_old(world: World) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "61", "Old Timer", created_at=datetime(2009, 3, 1, tzinfo=UTC))
    world.lists_read()
    world.use(only_in_quickbooks="create")
    assert world.syncs.dry_run(TENANT).counts["customer"].to_create_in_app == 1
    world.syncs.start(TENANT)
    assert [d["quickbooks_id"] for d in world.told(QUICKBOOKS_CHANGED)] == ["61"]


def test_under_ignore_an_older_customer_found_only_in_quickbooks_is_counted_by_the_since_date_first(
    world: World,
) -> None:
    world.quickbooks_has(ListType.CUSTOMER, "61", "Old Timer", created_at=datetime(2019, 3, 1, tzinfo=UTC))
    world.quickbooks_has(ListType.CUSTOMER, "63", "New Face", created_at=datetime(2026, 7, 1, tzinfo=UTC))
    world.lists_read()
    world.use(sync_since="2026-06-01")  # only_in_quickbooks: ignore, the default
    customers = world.syncs.dry_run(TENANT).counts["customer"]
    assert customers.ignored_by_reason == {"before_since": 1, "only_in_quickbooks": 1}
    assert customers.to_create_in_app == 0


def test_advancing_again_changes_nothing_more(world: World) -> None:
    seeded(world)
    world.syncs.start(TENANT)
    before = {r.key: (r.revision, len(r.history)) for r in world.store.records.values()}
    saves = world.runs.saves
    world.syncs.advance(TENANT, settle=False)
    world.syncs.advance(TENANT, settle=False)
    assert {r.key: (r.revision, len(r.history)) for r in world.store.records.values()} == before
    assert world.runs.saves == saves


def test_one_initial_sync_at_a_time_and_another_once_it_is_done(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.syncs.start(TENANT)  # waits for the lists
    with pytest.raises(ConflictError, match="is running"):
        world.syncs.start(TENANT)
    world.lists_read()
    world.sync_runs()
    assert world.syncs.status(TENANT).sync.step is Step.DONE
    assert world.syncs.start(TENANT).sync.step is Step.DONE  # a re-sync with nothing left to do


def test_it_waits_for_the_lists_then_goes_on_when_advanced(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.push("customer", "c-1", {"display_name": "Ada"})
    status = world.syncs.start(TENANT)
    assert status.sync.step is Step.READING
    assert "Reading the company's customers" in status.note
    assert world.state("customer", "c-1") is SyncState.DRAFT
    world.lists_read()
    assert world.syncs.advance(TENANT) is not None
    assert world.state("customer", "c-1") is SyncState.PENDING


def test_progress_is_told_at_most_every_few_seconds(world: World) -> None:
    world.lists_read()
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.syncs.start(TENANT)
    world.syncs.advance(TENANT)
    world.clock.advance(PROGRESS_EVERY - timedelta(seconds=1))
    world.syncs.advance(TENANT)
    assert len(world.told(INITIAL_SYNC_PROGRESS)) == 1
    world.clock.advance(timedelta(seconds=1))
    world.syncs.advance(TENANT)
    [_, second] = world.told(INITIAL_SYNC_PROGRESS)
    assert second["percent"]["customer"] == 0  # type: ignore[index]


def test_payments_received_since_the_since_date_are_read_back(world: World) -> None:
    world.payments.advance(TENANT, T0)  # the relay read up to now
    world.lists_read()
    world.use(sync_since="2026-03-15")
    world.syncs.start(TENANT)
    assert world.payments.pulled_until(TENANT) == datetime(2026, 3, 15, tzinfo=UTC)


def test_an_unknown_tenant_or_one_without_an_initial_sync_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.syncs.dry_run("nobody")
    with pytest.raises(NotFoundError, match="has no initial sync"):
        world.syncs.status(TENANT)


def test_on_desktop_the_run_waits_for_the_web_connector_and_says_so() -> None:
    world = make_world(Edition.QBD)
    world.use(send_mode=SendMode.REVIEW)
    world.push("customer", "c-1", {"display_name": "Ada"})
    assert "Web Connector" in world.syncs.start(TENANT).note
    world.lists_read()  # the session read them
    status = world.syncs.status(TENANT)
    record = world.store.get(TENANT, "customer", "c-1")
    assert record is not None
    assert record.waiting_for == ("web_connector",)
    assert "wait for the Web Connector" in status.note
    assert status.progress["customer"].percent == 0


def test_a_customer_carries_the_day_the_host_app_created_it() -> None:
    from qbsync.domain.records import Customer

    assert Customer(display_name="Ada", created_on="2019-03-01").created_on == date(2019, 3, 1)  # type: ignore[arg-type]


def test_a_connected_tenants_first_load_reads_reading_until_its_lists_are_read_then_done(
    world: World,
) -> None:
    from qbsync.domain.connections import Connection, ConnectionStatus

    connected = Connection(TENANT, ConnectionStatus.CONNECTED, realm_id="9341")
    assert world.syncs.first_load(connected) == "reading"
    world.lists_read()
    assert world.syncs.first_load(connected) == "done"
    assert world.syncs.first_load(Connection(TENANT, ConnectionStatus.NEEDS_REAUTH)) is None
