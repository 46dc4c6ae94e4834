"""The sync engine's specification, on a scriptable QuickBooks (tests/unit/books_fake.py): every guarantee as
a scenario, with no network. Faults are the edition-neutral `Fault`s an adapter hands the engine (each
adapter's own test proves its translation: tests/unit/test_qbo_faults.py for QuickBooks Online).

Every kind of fault, at every kind of operation (the write, the look-up of an unconfirmed send, the re-read
after a stale version, the question of who holds a clashing name), ends the run in one of three ways (retry
later with the fault's delay, wait for the connection, or the records concerned fail with the reason), never
with a raw error; no record is left `syncing` without saying why; and once QuickBooks is well again
everything settles with nothing created twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.sync import Fault, FaultAction, SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import RetryLaterError, SyncEngine, WaitingForConnectionError
from tests.unit.books_fake import Entry, FakeBooks
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"


@dataclass
class Events:
    sent: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    requests: int = 0  # publish_many calls: one per batch that settled something

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.sent.append((detail_type, tenant_id, detail))

    def publish_many(self, tenant_id: str, events: Any) -> None:
        self.requests += 1
        for detail_type, detail in events:
            self.publish(detail_type, tenant_id, detail)


@dataclass
class World:
    books: FakeBooks
    records: Records
    engine: SyncEngine
    store: InMemoryRecordStore
    settings: InMemorySettings
    clock: FixedClock

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        outcome = self.records.upsert(TENANT, record_type, record_id, data)
        assert outcome.status in ("created", "updated"), outcome

    def get(self, record_type: str, record_id: str) -> SyncRecord:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record

    def settle(self, runs: int = 20) -> None:
        for _ in range(runs):
            try:
                report = self.engine.run(TENANT)
            except RetryLaterError:
                self.clock.advance(timedelta(minutes=1))
                continue
            if not report.more:
                return
        raise AssertionError("the sync did not settle")


@pytest.fixture
def world() -> World:
    clock = FixedClock()
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
    store, runs, settings, books = (
        InMemoryRecordStore(),
        InMemoryTenantLease(),
        InMemorySettings(),
        FakeBooks(clock),
    )
    settings.add(SettingsVersion(TENANT, 1, clock.now(), SyncSettings()))
    records = Records(tenants, store, settings, InMemoryQueue(), runs, clock)
    engine = SyncEngine(store, books, settings, runs, Events(), clock)
    return World(books, records, engine, store, settings, clock)


def _fault(action: FaultAction, code: str, seconds: int | None = None) -> Fault:
    delay = None if seconds is None else timedelta(seconds=seconds)
    return Fault(action, code, f"QuickBooks answered {code}", "", delay)


# Each kind of fault, and how a run that meets it must end (the exception, and its delay).
KINDS: dict[str, tuple[Fault, type[Exception] | None, timedelta | None]] = {
    "server error": (_fault(FaultAction.RETRY_LATER, "503", 20), RetryLaterError, timedelta(seconds=20)),
    "throttled": (_fault(FaultAction.RETRY_LATER, "429", 60), RetryLaterError, timedelta(seconds=60)),
    "retry later, no time said": (
        _fault(FaultAction.RETRY_LATER, "x"),
        RetryLaterError,
        timedelta(seconds=30),
    ),
    "no answer": (
        _fault(FaultAction.OUTCOME_UNKNOWN, "no_answer", 30),
        RetryLaterError,
        timedelta(seconds=30),
    ),
    "reconnect": (_fault(FaultAction.RECONNECT, "not_connected"), WaitingForConnectionError, None),
    "refused": (_fault(FaultAction.FIX_RECORD, "4000"), None, None),
}


def _unconfirmed_customer(world: World) -> None:
    """A customer whose create QuickBooks applied while every answer was lost: it must be looked up."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.books.lose_answers = 1  # the wait for it spends the run's time
    assert world.engine.run(TENANT).more  # the run's time is up; the next run looks it up first
    assert world.get("customer", "c-1").state is SyncState.SYNCING


def _stale_customer(world: World) -> None:
    """A synced customer changed in QuickBooks meanwhile, then in the host app: the update gets 5010."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.settle()
    qbo_id = world.get("customer", "c-1").qbo_id
    assert qbo_id is not None
    world.books.entries[qbo_id].version = "7"
    world.push("customer", "c-1", {"display_name": "Ada", "email": "ada@example.com"})


def _clashing_customer(world: World) -> None:
    """A customer whose name QuickBooks already gives a vendor: the create gets 6240."""
    world.books.entries["99"] = Entry("vendor", "99", "0", "Ada")
    world.push("customer", "c-1", {"display_name": "Ada"})


SITES: dict[str, Callable[[World], None]] = {
    "look_up": _unconfirmed_customer,
    "write": lambda world: world.push("customer", "c-1", {"display_name": "Ada"}),
    "reread": _stale_customer,
    "name_holders": _clashing_customer,
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("site", list(SITES))
def test_every_fault_at_every_call_site_ends_the_run_cleanly_and_loses_nothing(
    world: World, site: str, kind: str
) -> None:
    fault, ending, delay = KINDS[kind]
    SITES[site](world)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})  # another record of the same run
    world.books.faults[site] = [fault]
    if kind == "no answer" and site == "write":
        ending = None  # an unanswered batch is looked up in the next round; the run goes on
    if ending is None:
        world.engine.run(TENANT)
    else:
        with pytest.raises(ending) as ended:
            world.engine.run(TENANT)
        if delay is not None:
            assert isinstance(ended.value, RetryLaterError)
            assert ended.value.delay == delay
    assert world.books.calls[site] >= 1  # the fault was met where it was put
    customer = world.get("customer", "c-1")
    if customer.state is SyncState.SYNCING:
        assert customer.history[-1].detail != "sent to QuickBooks", customer.history  # says why it waits
    if ending is WaitingForConnectionError and customer.state is SyncState.PENDING:
        assert customer.waiting_for == ("connection",)
    if ending is None and site != "write":
        assert customer.state is SyncState.FAILED
        assert customer.failure is not None
        assert customer.failure.code == "4000"
    world.books.faults.clear()
    world.records.send(TENANT, [("customer", "c-1"), ("item", "i-1")])  # the tenant sends failed ones again
    world.settle()
    assert world.get("item", "i-1").state is SyncState.SYNCED
    customer = world.get("customer", "c-1")
    expected = (
        SyncState.FAILED if site == "name_holders" else SyncState.SYNCED
    )  # the vendor still has the name
    assert customer.state is expected, customer.history
    assert max(world.books.creates.values()) == 1  # nothing created twice


def test_a_record_whose_stored_data_no_longer_parses_fails_alone(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "10"}]})
    # Stored by an older version under looser rules: an amount beyond QuickBooks' 10 digits.
    broken = world.get("invoice", "inv-1")
    changed = broken.copy()
    changed.data["lines"][0]["amount"] = "10000000000.00"
    world.store.save(changed, broken.revision, broken.state)
    world.push("invoice", "inv-2", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "20"}]})
    world.settle()
    failed = world.get("invoice", "inv-1")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert (failed.failure.code, failed.failure.field, failed.failure.actions) == (
        "invalid_record",
        "lines.0.amount",
        ("edit",),
    )
    assert {world.get(*k).state for k in (("customer", "c-1"), ("item", "i-1"), ("invoice", "inv-2"))} == {
        SyncState.SYNCED
    }


def test_one_unanswered_batch_is_looked_up_next_round_and_two_in_a_row_pause_the_run(world: World) -> None:
    for n in range(31):  # two batches: 30 and 1
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    world.books.lose_answers = 1  # the first batch: applied, never answered
    world.settle()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
    assert (
        world.books.calls["look_up"] == 1
    )  # the unanswered 30 were looked up in one batch, not created again
    assert max(world.books.creates.values()) == 1

    for n in range(31):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}", "email": f"c{n}@example.com"})
    world.books.faults["write"] = [KINDS["no answer"][0]] * 3  # QuickBooks answers nothing
    before = world.books.calls["write"]
    with pytest.raises(RetryLaterError) as raised:
        world.engine.run(TENANT)
    assert raised.value.delay == timedelta(seconds=30)
    assert world.books.calls["write"] - before == 2  # both batches unanswered, then the run pauses
    details = {world.get("customer", f"c-{n}").history[-1].detail for n in range(31)}
    assert details == {"QuickBooks answered no_answer; it is looked up before it is sent again"}
    world.settle()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
