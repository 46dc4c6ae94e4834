"""A tenant's status for a dashboard, on the in-memory fakes: counts equal to the records' states after a
sync, the oldest pending record and why, the runs going on, the latest failures, and nothing of another
tenant."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qbsync.domain.errors import NotFoundError
from qbsync.domain.mirror import ListType, ReadMark
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.settings import SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.initial_sync import InitialSyncs
from qbsync.usecases.links import Links
from qbsync.usecases.matches import Matches
from qbsync.usecases.records import Records
from qbsync.usecases.status import Statuses, TypeStatus
from qbsync.usecases.sync_engine import SyncEngine
from tests.unit.books_fake import FakeBooks
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.initial_sync_fakes import InMemoryInitialSyncs
from tests.unit.match_fakes import InMemoryMatchStore
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore, InMemoryTenantLease

TENANT, OTHER = "acme", "zeta"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    statuses: Statuses
    records: Records
    store: InMemoryRecordStore
    lease: InMemoryTenantLease
    settings: InMemorySettings
    mirror: InMemoryMirror
    matches: Matches
    syncs: InitialSyncs
    engine: SyncEngine
    books: FakeBooks
    clock: FixedClock

    def push(self, record_type: str, record_id: str, data: dict[str, Any], tenant: str = TENANT) -> None:
        assert self.records.upsert(tenant, record_type, record_id, data).status == "created"

    def sync(self) -> None:
        for _ in range(10):
            if not self.engine.run(TENANT, self.books).more:
                return
        raise AssertionError("the sync did not finish")

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))

    def lists_read(self) -> None:
        for list_type in (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE, ListType.ITEM):
            self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True, through=T0))


@pytest.fixture
def world() -> World:
    clock = FixedClock(T0)
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
    tenants.add(Tenant(OTHER, "Zeta", Edition.QBO, clock.now()))
    store, mirror, events, settings = (
        InMemoryRecordStore(),
        InMemoryMirror(),
        RecordingEvents(),
        InMemorySettings(),
    )
    lease, queue = InMemoryTenantLease(), InMemoryQueue()
    links = Links(tenants, store, mirror, events, clock)
    records = Records(tenants, store, settings, queue, lease, clock, links=links)
    books = FakeBooks()
    engine = SyncEngine(store, books.profile, settings, lease, events, clock, mirror)
    matches = Matches(tenants, store, mirror, InMemoryMatchStore(), links, settings, queue, clock)
    syncs = InitialSyncs(
        tenants,
        InMemoryInitialSyncs(),
        store,
        mirror,
        links,
        settings,
        InMemoryPaymentLog(),
        lease,
        queue,
        events,
        clock,
    )
    statuses = Statuses(tenants, store, lease, matches, syncs, clock)
    return World(statuses, records, store, lease, settings, mirror, matches, syncs, engine, books, clock)


def line(item: str) -> dict[str, str]:
    return {"item_id": item, "quantity": "1", "rate": "10"}


def test_the_counts_are_the_records_states_after_a_sync(world: World) -> None:
    world.books.enter("vendor", "Acme Supplies")  # a customer of that name fails as a clash
    world.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    world.push("customer", "c-2", {"display_name": "Acme Supplies"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1")]})
    world.push("invoice", "inv-2", {"customer_id": "c-2", "lines": [line("i-1")]})  # waits for c-2
    world.push("customer", "c-9", {"display_name": "Someone Else"}, tenant=OTHER)
    world.sync()
    world.clock.advance(timedelta(minutes=1))
    world.use(send_mode=SendMode.REVIEW)
    world.push("vendor", "v-1", {"display_name": "Paper Co"})  # a draft

    status = world.statuses.status(TENANT)

    stored = Counter((r.record_type, r.state) for (t, _, _), r in world.store.records.items() if t == TENANT)
    assert {(t, s): n for t, c in status.records.items() for s, n in c.states.items() if n} == dict(stored)
    assert list(status.records) == list(RECORD_TYPES)  # every type, every state, zeros too
    assert all(set(c.states) == set(SyncState) for c in status.records.values())
    assert status.records["customer"].states[SyncState.SYNCED] == 1
    assert status.records["customer"].states[SyncState.FAILED] == 1
    assert (status.records["customer"].total, status.records["customer"].percent_synced) == (2, 50)
    assert status.records["bill"].percent_synced == 100  # nothing to sync
    assert status.last_synced_at == T0
    waiting = status.oldest_pending
    assert waiting is not None
    assert (waiting.key, waiting.waiting_for) == ("invoice/inv-2", ("customer/c-2",))
    assert "c-2" in waiting.history[-1].detail
    [failed] = status.failures
    assert failed.key == "customer/c-2"
    assert failed.failure is not None
    assert "rename" in failed.failure.actions
    assert (status.sync_running, status.match_run, status.initial_sync) == (False, None, None)


def test_the_latest_failures_come_newest_first_up_to_the_limit(world: World) -> None:
    for n in range(4):
        world.books.enter("vendor", f"Taken {n}")
        world.push("customer", f"c-{n}", {"display_name": f"Taken {n}"})
        world.sync()
        world.clock.advance(timedelta(minutes=1))
    failures = world.statuses.status(TENANT, failures_limit=3).failures
    assert [r.record_id for r in failures] == ["c-3", "c-2", "c-1"]


def test_the_runs_going_on_are_shown(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    assert world.lease.acquire(TENANT, "worker-1", T0, timedelta(minutes=5))
    status = world.statuses.status(TENANT)
    assert (status.sync_running, status.sync_run.held_until) == (True, T0 + timedelta(minutes=5))
    assert status.sync_run.requested_at == T0  # the push asked for a run
    world.clock.advance(timedelta(minutes=6))
    assert not world.statuses.status(TENANT).sync_running  # its hold lapsed

    world.lists_read()
    world.matches.request(TENANT, ["customer"])
    world.syncs.start(TENANT)
    status = world.statuses.status(TENANT)
    assert status.match_run is not None
    assert status.match_run.state.value == "queued"
    assert status.initial_sync is not None
    assert status.initial_sync.sync.step.value == "matching"
    assert status.initial_sync.note.startswith("Matching")
    assert set(status.initial_sync.progress) >= {"customer", "item", "invoice"}


def test_another_tenant_s_records_are_never_counted_and_an_unknown_tenant_is_not_found(world: World) -> None:
    world.push("customer", "c-9", {"display_name": "Someone Else"}, tenant=OTHER)
    status = world.statuses.status(TENANT)
    assert all(c.total == 0 for c in status.records.values())
    assert (status.oldest_pending, status.failures, status.sync_running) == (None, [], False)
    assert world.statuses.status(OTHER).records["customer"].states[SyncState.PENDING] == 1
    with pytest.raises(NotFoundError):
        world.statuses.status("ghost")


def test_percent_synced_leaves_out_voided_and_ignored_records() -> None:
    states = dict.fromkeys(SyncState, 0) | {
        SyncState.SYNCED: 2,
        SyncState.LOCKED: 1,
        SyncState.FAILED: 1,
        SyncState.PENDING: 2,
        SyncState.VOIDED: 5,
        SyncState.IGNORED: 3,
    }
    assert TypeStatus(states).percent_synced == 50  # 3 of 6
    assert TypeStatus(dict.fromkeys(SyncState, 0) | {SyncState.VOIDED: 2}).percent_synced == 100
    assert (
        TypeStatus(dict.fromkeys(SyncState, 0) | {SyncState.SYNCED: 2, SyncState.PENDING: 1}).percent_synced
        == 66
    )
