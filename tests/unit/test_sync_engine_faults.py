"""Every kind of trouble a call to QuickBooks can raise, injected at every call site of the sync engine: the
look-up of an unconfirmed send, the write, the re-read after a stale SyncToken (5010) and the name search
after a name clash (6240). Whatever is raised where, the run ends in one of three ways (retry later with a
delay, wait for the connection, or the records concerned fail with the reason), never with the raw error;
no record is left `syncing` without saying why; and once QuickBooks is well again everything settles with
nothing created twice. Also: a record whose stored data cannot be parsed fails alone.

The books are a scriptable fake of the `Books` port (tests/adapters/test_sync_engine_qbo.py runs the engine
against the QuickBooks Online sandbox over HTTP); the faults are the exceptions the real adapters raise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from qbsync.domain.connections import OAuthProviderError, QboAuthenticationError
from qbsync.domain.qbo_faults import (
    FaultDetail,
    QboFaultError,
    QboOutcomeUnknownError,
    RequestBudgetExceededError,
)
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.sync import Found, SyncRecord, SyncState, Write, WriteResult
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import (
    RetryLaterError,
    SyncEngine,
    WaitingForConnectionError,
)
from qbsync.usecases.tokens import NotConnectedError
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"
PEOPLE = ("customer", "vendor", "employee")


@dataclass
class Entry:
    entity: str
    qbo_id: str
    sync_token: str
    name: str


@dataclass
class ScriptedBooks:
    """QuickBooks as the engine sees it: names unique across customers, vendors and employees (6240), a
    SyncToken per object (5010 when stale), a requestid answered again with its first result, and answers
    that can be lost after the write was applied. `faults[site]` are raised, in order, by the next calls."""

    entries: dict[str, Entry] = field(default_factory=dict)  # by QuickBooks id
    answered: dict[str, list[WriteResult]] = field(default_factory=dict)  # by requestid
    faults: dict[str, list[Exception]] = field(default_factory=dict)
    lose_answers: int = 0  # the next writes are applied, and their answer is lost
    creates: Counter[str] = field(default_factory=Counter)  # name -> times created
    calls: Counter[str] = field(default_factory=Counter)
    clock: FixedClock | None = None  # advanced by the time a lost answer is waited for

    def _trouble(self, site: str) -> None:
        self.calls[site] += 1
        queued = self.faults.get(site)
        if queued:
            raise queued.pop(0)

    def write(
        self, tenant_id: str, writes: list[Write], settings: SyncSettings, request_id: str
    ) -> list[WriteResult]:
        self._trouble("write")
        if request_id not in self.answered:
            self.answered[request_id] = [self._apply(w) for w in writes]
        if self.lose_answers:
            self.lose_answers -= 1
            if self.clock is not None:
                self.clock.advance(timedelta(seconds=20))  # the client's timeout
            raise QboOutcomeUnknownError("the answer was lost")
        return self.answered[request_id]

    def _apply(self, write: Write) -> WriteResult:
        record = write.record
        name = write.name or str(record.data.get("doc_number") or record.key)
        if record.qbo_id is None:
            if record.record_type in PEOPLE and any(
                e.name == name and e.entity in PEOPLE for e in self.entries.values()
            ):
                return WriteResult(record.key, fault=_fault(400, "6240", "Duplicate Name Exists"))
            qbo_id = str(len(self.entries) + 1)
            self.entries[qbo_id] = Entry(record.record_type, qbo_id, "0", name)
            self.creates[name] += 1
            return WriteResult(record.key, qbo_id, "0")
        entry = self.entries[record.qbo_id]
        if entry.sync_token != record.sync_token:
            return WriteResult(record.key, fault=_fault(400, "5010", "Stale Object Error"))
        entry.sync_token = str(int(entry.sync_token) + 1)
        entry.name = name
        return WriteResult(record.key, entry.qbo_id, entry.sync_token)

    def find(self, tenant_id: str, writes: list[Write]) -> list[Found | None]:
        self._trouble("find")
        found: list[Found | None] = []
        for write in writes:
            name = write.name or str(write.record.data.get("doc_number") or write.record.key)
            match = [
                e for e in self.entries.values() if e.name == name and e.entity == write.record.record_type
            ]
            found.append(
                Found(match[0].entity, match[0].qbo_id, match[0].sync_token, name) if match else None
            )
        return found

    def read(self, tenant_id: str, record_type: str, qbo_id: str) -> Found | None:
        self._trouble("read")
        entry = self.entries.get(qbo_id)
        return None if entry is None else Found(entry.entity, entry.qbo_id, entry.sync_token, entry.name)

    def find_name(self, tenant_id: str, name: str) -> list[Found]:
        self._trouble("find_name")
        return [
            Found(e.entity, e.qbo_id, e.sync_token, e.name) for e in self.entries.values() if e.name == name
        ]


def _fault(status: int, code: str = "", message: str = "") -> QboFaultError:
    return QboFaultError(status, (FaultDetail(code, message),) if code else ())


@dataclass
class Events:
    sent: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.sent.append((detail_type, tenant_id, detail))


@dataclass
class World:
    books: ScriptedBooks
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
        ScriptedBooks(),
    )
    settings.add(SettingsVersion(TENANT, 1, clock.now(), SyncSettings()))
    records = Records(tenants, store, settings, InMemoryQueue(), runs, clock)
    engine = SyncEngine(store, books, settings, runs, Events(), clock)  # type: ignore[arg-type]
    return World(books, records, engine, store, settings, clock)


# What each kind of trouble is, as the adapters raise it, and how a run that meets it must end.
KINDS: dict[str, tuple[Callable[[], Exception], type[Exception] | None, timedelta | None]] = {
    "server error 503": (lambda: _fault(503), RetryLaterError, timedelta(seconds=20)),
    "bad gateway 502": (lambda: _fault(502), RetryLaterError, timedelta(seconds=20)),
    "throttled 429": (
        lambda: _fault(429, "3001", "ThrottleExceeded"),
        RetryLaterError,
        timedelta(seconds=60),
    ),
    "no answer (timeout)": (
        lambda: QboOutcomeUnknownError("ReadTimeout"),
        RetryLaterError,
        timedelta(seconds=30),
    ),
    "request budget spent": (
        lambda: RequestBudgetExceededError(7.5),
        RetryLaterError,
        timedelta(seconds=7.5),
    ),
    "token refresh failed": (
        lambda: OAuthProviderError("Intuit answered 503"),
        RetryLaterError,
        timedelta(30),
    ),
    "refresh still running": (lambda: TimeoutError("token refresh"), RetryLaterError, timedelta(seconds=30)),
    "not connected": (lambda: NotConnectedError("no connection"), WaitingForConnectionError, None),
    "unauthorized after refresh": (lambda: QboAuthenticationError("401"), WaitingForConnectionError, None),
    "forbidden 403": (
        lambda: _fault(403, "3100", "ApplicationAuthorizationFailed"),
        WaitingForConnectionError,
        None,
    ),
    "refused 400": (lambda: _fault(400, "4000", "Error parsing query"), None, None),
}
KINDS["token refresh failed"] = (KINDS["token refresh failed"][0], RetryLaterError, timedelta(seconds=30))


def _unconfirmed_customer(world: World) -> None:
    """A customer whose create QuickBooks applied while every answer was lost: it must be looked up."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.books.lose_answers = 3  # the first send and both of its repeats, a minute spent waiting on them
    world.books.clock = world.clock
    assert world.engine.run(TENANT).more  # the run's time is up; the next run looks it up first
    assert world.get("customer", "c-1").state is SyncState.SYNCING


def _stale_customer(world: World) -> None:
    """A synced customer changed in QuickBooks meanwhile, then in the host app: the update gets 5010."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.settle()
    qbo_id = world.get("customer", "c-1").qbo_id
    assert qbo_id is not None
    world.books.entries[qbo_id].sync_token = "7"
    world.push("customer", "c-1", {"display_name": "Ada", "email": "ada@example.com"})


def _clashing_customer(world: World) -> None:
    """A customer whose name QuickBooks already gives a vendor: the create gets 6240."""
    world.books.entries["99"] = Entry("vendor", "99", "0", "Ada")
    world.push("customer", "c-1", {"display_name": "Ada"})


SITES: dict[str, Callable[[World], None]] = {
    "find": _unconfirmed_customer,
    "write": lambda world: world.push("customer", "c-1", {"display_name": "Ada"}),
    "read": _stale_customer,
    "find_name": _clashing_customer,
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("site", list(SITES))
def test_every_fault_at_every_call_site_ends_the_run_cleanly_and_loses_nothing(
    world: World, site: str, kind: str
) -> None:
    make, ending, delay = KINDS[kind]
    SITES[site](world)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})  # another record of the same run
    # Enough of it that the write's own repeats after a lost answer meet it too.
    world.books.faults[site] = [make() for _ in range(3)]
    if kind == "no answer (timeout)" and site == "write":
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
    expected = SyncState.FAILED if site == "find_name" else SyncState.SYNCED  # the vendor still has the name
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
    world.books.lose_answers = 3  # the first batch and both of its repeats: applied, never answered
    world.settle()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
    assert world.books.calls["find"] == 1  # the unanswered 30 were looked up, not created again
    assert max(world.books.creates.values()) == 1

    for n in range(31):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}", "email": f"c{n}@example.com"})
    down = [QboOutcomeUnknownError("ReadTimeout") for _ in range(6)]  # QuickBooks answers nothing
    world.books.faults["write"] = down
    before = world.books.calls["write"]
    with pytest.raises(RetryLaterError) as raised:
        world.engine.run(TENANT)
    assert raised.value.delay == timedelta(seconds=30)
    assert world.books.calls["write"] - before == 6  # 3 tries of each batch, then the run pauses
    details = {world.get("customer", f"c-{n}").history[-1].detail for n in range(31)}
    assert details == {"QuickBooks did not answer; it is looked up before it is sent again"}
    world.settle()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
