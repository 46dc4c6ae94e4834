"""The sync engine's specification: every guarantee of SyncEngine stated once, as a scenario on a `World`.

A scenario pushes records through the Records use case, runs SyncEngine as the worker does, and acts on the
tenant's QuickBooks through the small `QuickBooks` protocol below (name a vendor, change an object so that
the version we hold is stale, lose answers, fail a whole batch, read what QuickBooks holds). The same
scenario functions run on the scriptable fake in tests/unit/test_sync_engine.py (no network, milliseconds)
and, as a contract, on QuickBooks Online's adapter and sandbox over HTTP in
tests/adapters/test_sync_engine_qbo.py: what holds on the fake holds on the real edition. A Desktop driver
will be held to the same scenarios.

Storage is the in-memory fakes (their contract tests run them against DynamoDB too)."""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import pytest

from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.records import RecordFilter
from qbsync.domain.settings import NameClashPolicy, SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import Batch, Books, Candidate, EditionProfile, Outcomes, SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.links import Links
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import RetryLaterError, RunReport, SyncEngine, WaitingForConnectionError
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.mirror_fakes import InMemoryMirror, read_whole
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"
# The kinds of operation a batch carries (Batch.writes, .look_ups, .rereads, .name_holders).
KINDS_OF_OPERATION = ("write", "look_up", "reread", "name_holders")


class WholeFault(StrEnum):
    """How QuickBooks can answer a whole batch."""

    SERVER_ERROR = "server_error"  # nothing applied; try again shortly
    THROTTLED = "throttled"  # nothing applied; try again after the throttle's window
    NO_ANSWER = "no_answer"  # no answer at all
    RECONNECT = "reconnect"  # the company no longer accepts the connection
    REFUSED = "refused"  # the request as a whole is refused


@dataclass(frozen=True)
class Told:
    """What the engine is told by a whole-batch fault: the fault's code, and the delay it names."""

    code: str
    delay: timedelta | None


@dataclass(frozen=True)
class Held:
    """An object QuickBooks holds: name (DisplayName, Name, or a document's number), version, a document's
    amount (0 once voided) and the QuickBooks id of its customer or vendor."""

    quickbooks_id: str
    name: str
    version: str
    amount: Decimal | None = None
    party: str | None = None


class QuickBooks(Books, Protocol):
    """The tenant's QuickBooks company as a scenario sees it: the `Books` the engine sends through, and what
    someone (a QuickBooks user, a network, QuickBooks itself) does to it meanwhile."""

    def enter(self, record_type: str, name: str, key: str | None = None) -> Held:
        """A user of QuickBooks enters a customer, vendor or employee with this name (and `key` as its
        email), or an item (`key`: its SKU)."""

    def change(self, record_type: str, quickbooks_id: str) -> None:
        """A user of QuickBooks changes the object: the version the app holds is out of date."""

    def lose_answers(self, batches: int, then: WholeFault | None = None) -> None:
        """The next `batches` write batches are applied and their answers lost (with `then`, asking again
        is answered with that fault)."""

    def fail_next(self, kind: str, fault: WholeFault) -> Told:
        """The next batch carrying `kind` (KINDS_OF_OPERATION) of operation fails as a whole."""

    def flaky(self, lost: float, server_errors: float, seed: int) -> None:
        """From now on, answers are lost after the writes are applied, or batches answered with a server
        error, at these rates (repeatable with `seed`)."""

    def held(self, record_type: str) -> list[Held]:
        """What QuickBooks holds of this record type."""

    def requests(self) -> int:
        """Requests QuickBooks received so far."""

    def faults_fired(self) -> int:
        """Requests answered with a fault a scenario asked for."""


@dataclass
class RecordedEvents:
    sent: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.sent.append((detail_type, tenant_id, detail))

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        for detail_type, detail in events:
            self.publish(detail_type, tenant_id, detail)

    def of(self, detail_type: str) -> list[dict[str, object]]:
        return [d for t, _, d in self.sent if t == detail_type]


@dataclass
class Observed:
    """The engine's view of the books: each batch it sent, in order; each answer takes `latency` of the run's
    time; `meanwhile` runs once after the next answer arrives, before the engine settles it."""

    quickbooks: QuickBooks
    clock: FixedClock
    batches: list[Batch] = field(default_factory=list)
    latency: timedelta = timedelta(0)
    meanwhile: list[Callable[[], None]] = field(default_factory=list)

    @property
    def profile(self) -> EditionProfile:
        return self.quickbooks.profile

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        self.batches.append(batch)
        outcomes = self.quickbooks.send(batch, settings)
        self.clock.advance(self.latency)
        while self.meanwhile:
            self.meanwhile.pop(0)()
        return outcomes


@dataclass
class World:
    qb: QuickBooks
    books: Observed
    records: Records
    engine: SyncEngine
    store: InMemoryRecordStore
    settings: InMemorySettings
    events: RecordedEvents
    clock: FixedClock
    mirror: InMemoryMirror
    links: Links

    @classmethod
    def on(cls, qb: QuickBooks, clock: FixedClock) -> World:
        tenants = InMemoryTenants()
        tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
        store, runs, settings, events = (
            InMemoryRecordStore(),
            InMemoryTenantLease(),
            InMemorySettings(),
            RecordedEvents(),
        )
        settings.add(SettingsVersion(TENANT, 1, clock.now(), SyncSettings()))
        mirror = read_whole(InMemoryMirror(), TENANT)  # the company's lists, read at connect
        links = Links(tenants, store, mirror, events, clock)
        records = Records(tenants, store, settings, InMemoryQueue(), runs, clock, links=links)
        books = Observed(qb, clock)
        engine = SyncEngine(store, books.profile, settings, runs, events, clock, mirror)
        return cls(qb, books, records, engine, store, settings, events, clock, mirror, links)

    def read_into_mirror(self, record_type: str, held: Held, **fields: Any) -> None:
        """An object QuickBooks holds, as a read of its list leaves it in the mirror (with `fields`: its
        email, its SKU ...)."""
        list_type = ListType(record_type)
        entry = ListEntry(list_type, held.quickbooks_id, held.name, version=held.version, **fields)
        self.mirror.put_many(TENANT, [entry])
        self.mirror.save_mark(TENANT, ReadMark(list_type, loaded=True))

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        outcome = self.records.upsert(TENANT, record_type, record_id, data)
        assert outcome.status in ("created", "updated", "unchanged"), outcome

    def get(self, record_type: str, record_id: str) -> SyncRecord:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record

    def run(self) -> RunReport:
        return self.engine.run(TENANT, self.books)

    def sync(self, max_runs: int = 40) -> int:
        """Run the engine until nothing is left to send, as the worker does on re-queued jobs (a pause waits
        out a minute); the number of runs it took."""
        for run in range(1, max_runs + 1):
            try:
                report = self.run()
            except RetryLaterError:
                self.clock.advance(timedelta(minutes=1))
                continue
            if not report.more:
                return run
        raise AssertionError("the sync did not finish")

    def names(self, record_type: str) -> Counter[str]:
        """How many objects QuickBooks holds by each name: above 1 is a duplicate."""
        return Counter(held.name for held in self.qb.held(record_type))

    def sent(self, kind: str) -> list[Batch]:
        """The batches the engine sent carrying this kind of operation."""
        return [b for b in self.books.batches if getattr(b, _FIELDS[kind])]


_FIELDS = {"write": "writes", "look_up": "look_ups", "reread": "rereads", "name_holders": "name_holders"}


def line(item: str, quantity: str, rate: str) -> dict[str, str]:
    return {"item_id": item, "quantity": quantity, "rate": rate}


def push_books(world: World, customers: int = 4, invoices: int = 12) -> None:
    for n in range(customers):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}", "email": f"c{n}@example.com"})
    world.push("item", "i-svc", {"kind": "service", "name": "Labour", "sales_price": "75"})
    world.push("item", "i-part", {"kind": "non_inventory", "name": "Part", "sku": "P-1"})
    for n in range(invoices):
        world.push(
            "invoice",
            f"inv-{n}",
            {
                "customer_id": f"c-{n % customers}",
                "doc_number": f"INV-{n:04d}",
                "lines": [line("i-svc", "2", "75.00"), line("i-part", "3", f"{n}.10")],
            },
        )


# ---------------------------------------------------------------------------------------------- scenarios


def records_reach_quickbooks_dependencies_first_in_few_batches(world: World) -> None:
    push_books(world, customers=4, invoices=40)
    world.sync()
    customers = {held.name: held.quickbooks_id for held in world.qb.held("customer")}
    invoices = {held.name: held for held in world.qb.held("invoice")}
    assert len(invoices) == 40
    for n in range(40):
        stored = world.get("invoice", f"inv-{n}")
        assert (stored.state, stored.synced_revision) == (SyncState.SYNCED, 1)
        invoice = invoices[f"INV-{n:04d}"]
        assert invoice.quickbooks_id == stored.quickbooks_id
        assert invoice.amount == Decimal("150.00") + 3 * Decimal(f"{n}.10")
        assert invoice.party == customers[f"Customer {n % 4}"]
    # The 6 name-list records in one batch, then the 40 invoices in batches of 30 and 10; nothing else but,
    # where the edition needs it, one read of the company's lists.
    assert [len(b.writes) for b in world.books.batches] == [6, 30, 10]
    assert {w.record.record_type for w in world.books.batches[0].writes} == {"customer", "item"}
    assert world.qb.requests() <= len(world.books.batches) + 1
    assert len(world.events.of("record.synced")) == 46


def zero_duplicates_when_answers_are_lost_or_fail(world: World) -> None:
    push_books(world, customers=6, invoices=30)
    world.qb.flaky(lost=0.3, server_errors=0.15, seed=7)
    world.sync(max_runs=80)
    assert world.names("customer") == Counter({f"Customer {n}": 1 for n in range(6)})
    assert world.names("invoice") == Counter({f"INV-{n:04d}": 1 for n in range(30)})
    assert Counter(r.state for r in world.store.records.values()) == Counter({SyncState.SYNCED: 38})
    assert world.qb.faults_fired() > 0  # the faults did happen


def a_record_found_on_look_up_is_updated_not_created_again(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.qb.lose_answers(1)  # created, the answer lost
    world.sync()
    customer = world.get("customer", "c-1")
    assert customer.state is SyncState.SYNCED
    assert any(t.detail.startswith("found in QuickBooks after an unknown outcome") for t in customer.history)
    assert len(world.sent("look_up")) == 1
    assert world.names("customer") == Counter({"Ada": 1})


def one_unanswered_batch_is_looked_up_in_one_batch_and_nothing_is_created_twice(world: World) -> None:
    for n in range(31):  # two batches: 30 and 1
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    world.qb.lose_answers(1)  # the first batch: applied, never answered
    world.sync()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
    [look_ups] = world.sent("look_up")  # the unanswered 30 were looked up together, not created again
    assert len(look_ups.look_ups) == 30
    assert world.names("customer") == Counter({f"Customer {n}": 1 for n in range(31)})


def two_unanswered_batches_in_a_row_pause_the_run_and_the_next_run_settles_them(world: World) -> None:
    for n in range(31):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    world.sync()
    for n in range(31):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}", "email": f"c{n}@example.com"})
    told = world.qb.fail_next("write", WholeFault.NO_ANSWER)  # QuickBooks answers nothing, three times
    world.qb.fail_next("write", WholeFault.NO_ANSWER)
    world.qb.fail_next("write", WholeFault.NO_ANSWER)
    before = len(world.sent("write"))
    with pytest.raises(RetryLaterError) as raised:
        world.run()
    assert raised.value.delay == told.delay
    assert len(world.sent("write")) - before == 2  # both batches unanswered, then the run pauses
    for n in range(31):
        customer = world.get("customer", f"c-{n}")
        assert customer.state is SyncState.SYNCING
        assert customer.history[-1].detail.endswith("; it is looked up before it is sent again")
    world.sync()
    assert {world.get("customer", f"c-{n}").state for n in range(31)} == {SyncState.SYNCED}
    assert world.names("customer") == Counter({f"Customer {n}": 1 for n in range(31)})


def a_change_made_in_quickbooks_meanwhile_is_reread_and_our_change_applied(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.sync()
    first = world.get("customer", "c-1")
    assert first.quickbooks_id is not None
    assert first.quickbooks_version is not None
    world.qb.change("customer", first.quickbooks_id)
    world.push("customer", "c-1", {"display_name": "Ada", "email": "ada@example.com"})
    world.sync()
    after = world.get("customer", "c-1")
    assert (after.state, after.synced_revision) == (SyncState.SYNCED, 2)
    assert any("applying the change again" in t.detail for t in after.history)
    assert len(world.sent("reread")) == 1
    [held] = [h for h in world.qb.held("customer") if h.quickbooks_id == first.quickbooks_id]
    assert int(held.version) == int(first.quickbooks_version) + 2  # their change, then ours on top of it
    assert after.quickbooks_version == held.version


def a_name_quickbooks_gives_a_vendor_fails_offering_a_rename(world: World) -> None:
    world.qb.enter("vendor", "Acme Supplies")
    world.push("customer", "c-1", {"display_name": "Acme Supplies"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1", "1", "10")]})
    world.sync()
    customer = world.get("customer", "c-1")
    assert customer.state is SyncState.FAILED
    assert customer.failure is not None
    assert "vendor" in customer.failure.message
    assert (customer.failure.actions, customer.failure.field) == (("rename",), "display_name")
    waiting = world.get("invoice", "inv-1")
    assert (waiting.state, waiting.waiting_for) == (SyncState.PENDING, ("customer/c-1",))
    assert "failed" in waiting.history[-1].detail
    assert [e["record_id"] for e in world.events.of("record.failed")] == ["c-1"]
    assert world.names("customer") == Counter()


def the_rename_policy_creates_the_name_with_the_first_free_suffix(world: World) -> None:
    world.use(name_clash_policy=NameClashPolicy.RENAME_WITH_SUFFIX)
    world.qb.enter("vendor", "Acme Supplies")
    world.qb.enter("employee", "Acme Supplies (2)")
    world.push("customer", "c-1", {"display_name": "Acme Supplies"})
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.quickbooks_name) == (SyncState.SYNCED, "Acme Supplies (3)")
    assert [h.name for h in world.qb.held("customer") if h.quickbooks_id == customer.quickbooks_id] == [
        "Acme Supplies (3)"
    ]


def the_link_policy_maps_to_the_customer_quickbooks_has_and_applies_our_data(world: World) -> None:
    world.use(name_clash_policy=NameClashPolicy.LINK_EXISTING)
    existing = world.qb.enter("customer", "Grace Hopper")
    world.push("customer", "c-1", {"display_name": "Grace Hopper", "email": "grace@example.com"})
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.quickbooks_id) == (SyncState.SYNCED, existing.quickbooks_id)
    [held] = world.qb.held("customer")
    assert int(held.version) == int(existing.version) + 1  # our data was applied to it


def a_clash_with_one_of_its_kind_names_the_candidate_and_linking_it_updates_that_object(world: World) -> None:
    existing = world.qb.enter("customer", "Grace Hopper")
    world.push("customer", "c-1", {"display_name": "Grace Hopper"})
    world.sync()
    failed = world.get("customer", "c-1")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert "link_existing" in failed.failure.actions
    assert failed.failure.candidates == (Candidate(existing.quickbooks_id, "Grace Hopper", "customer"),)
    world.read_into_mirror("customer", existing)
    linked = world.links.link(TENANT, "customer", "c-1", existing.quickbooks_id)
    assert (linked.state, linked.failure) == (SyncState.SYNCED, None)
    world.push("customer", "c-1", {"display_name": "Grace Hopper", "email": "grace@example.com"})
    world.sync()
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    [held] = world.qb.held("customer")  # updated, not created again
    assert (held.quickbooks_id, held.name) == (existing.quickbooks_id, "Grace Hopper")
    assert int(held.version) == int(existing.version) + 1


def a_record_linked_on_arrival_updates_the_object_quickbooks_has_under_its_name(world: World) -> None:
    existing = world.qb.enter("customer", "Lovelace Consulting Ltd")
    world.read_into_mirror("customer", existing)
    world.push("customer", "c-1", {"display_name": "Ada Lovelace", "quickbooks_id": existing.quickbooks_id})
    world.sync()
    assert world.sent("write") == []  # linked: QuickBooks has it already
    world.push("customer", "c-1", {"display_name": "Ada Lovelace", "email": "ada@example.com"})
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.quickbooks_id) == (SyncState.SYNCED, existing.quickbooks_id)
    [held] = world.qb.held("customer")
    assert (held.quickbooks_id, held.name) == (existing.quickbooks_id, "Lovelace Consulting Ltd")
    assert int(held.version) == int(existing.version) + 1


def a_customer_with_an_existing_email_and_an_item_with_an_existing_sku_are_linked_not_created(
    world: World,
) -> None:
    """The issue's probe: "a host item with an existing SKU and a customer with an existing email each
    created a duplicate in QuickBooks Online". Their keys are found in the mirror before they are created."""
    ada = world.qb.enter("customer", "Ada Lovelace Consulting", "ada@example.com")
    pipe = world.qb.enter("item", "Copper Pipe 1/2 in", "CP-12")
    world.read_into_mirror("customer", ada, email="ada@example.com")
    world.read_into_mirror("item", pipe, sku="CP-12")
    world.push("customer", "c-1", {"display_name": "Ada Lovelace", "email": " ADA@example.com"})
    world.push("item", "i-1", {"kind": "non_inventory", "name": "Pipe, copper, 1/2", "sku": "cp-12"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1", "2", "10.00")]})
    world.sync()
    customer, item = world.get("customer", "c-1"), world.get("item", "i-1")
    assert (customer.state, customer.quickbooks_id) == (SyncState.SYNCED, ada.quickbooks_id)
    assert (item.state, item.quickbooks_id) == (SyncState.SYNCED, pipe.quickbooks_id)
    assert customer.history[-1].detail == (
        f"linked to QuickBooks customer {ada.quickbooks_id} (Ada Lovelace Consulting): same email"
    )
    assert customer.quickbooks_name == "Ada Lovelace Consulting"
    assert {w.record.record_type for b in world.sent("write") for w in b.writes} == {"invoice"}
    assert world.names("customer") == Counter({"Ada Lovelace Consulting": 1})  # 0 created
    items = world.names("item")  # a sandbox company comes with items of its own
    assert (items["Copper Pipe 1/2 in"], items["Pipe, copper, 1/2"]) == (1, 0)
    [invoice] = world.qb.held("invoice")
    assert invoice.party == ada.quickbooks_id
    assert [d["record_id"] for d in world.events.of("record.linked")] == ["c-1", "i-1"]


def a_create_waits_for_its_list_to_be_read_then_links_to_what_it_finds_there(world: World) -> None:
    """A record sent before the company's customers are read (at connect; Desktop: in the session) would
    not find the customer QuickBooks has by its email: it waits, and the others go on."""
    del world.mirror.read_marks[TENANT][ListType.CUSTOMER]
    ada = world.qb.enter("customer", "Ada Lovelace Consulting", "ada@example.com")
    world.push("customer", "c-1", {"display_name": "Ada Lovelace", "email": "ada@example.com"})
    world.push("customer", "c-2", {"display_name": "Grace Hopper"})  # no email: nothing to look up
    with contextlib.suppress(RetryLaterError):
        world.run()
    waiting = world.get("customer", "c-1")
    assert waiting.state is SyncState.PENDING
    assert waiting.history[-1].detail == (
        "waits for QuickBooks' customers to be read: it is looked up there before it is created"
    )
    assert world.get("customer", "c-2").state is SyncState.SYNCED
    assert world.names("customer")["Ada Lovelace"] == 0
    world.read_into_mirror("customer", ada, email="ada@example.com")  # the read ends
    world.sync()
    linked = world.get("customer", "c-1")
    assert (linked.state, linked.quickbooks_id) == (SyncState.SYNCED, ada.quickbooks_id)
    assert world.names("customer") == Counter({"Ada Lovelace Consulting": 1, "Grace Hopper": 1})


def a_key_two_objects_share_fails_naming_them_and_the_setting_off_creates_it(world: World) -> None:
    first = world.qb.enter("customer", "Grace Hopper", "grace@example.com")
    second = world.qb.enter("customer", "Grace Hopper Consulting", "grace@example.com")
    world.read_into_mirror("customer", first, email="grace@example.com")
    world.read_into_mirror("customer", second, email="grace@example.com")
    world.push("customer", "c-1", {"display_name": "G. Hopper", "email": "grace@example.com"})
    world.sync()
    failed = world.get("customer", "c-1")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert (failed.failure.code, failed.failure.field) == ("ambiguous_match", "email")
    assert "link_existing" in failed.failure.actions
    assert failed.failure.candidates == (
        Candidate(first.quickbooks_id, "Grace Hopper", "customer"),
        Candidate(second.quickbooks_id, "Grace Hopper Consulting", "customer"),
    )
    assert world.sent("write") == []
    world.use(link_on_exact_key=False)
    world.records.send(TENANT, [("customer", "c-1")])
    world.sync()
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    assert world.names("customer")["G. Hopper"] == 1


def an_unlinked_record_sent_again_is_never_handed_its_old_object(world: World) -> None:
    """Sent again at the same revision, its create would carry the request id of its first one, which
    QuickBooks answers with the object it made then: the record would be linked back to it unseen."""
    world.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    world.sync()
    old = world.get("customer", "c-1").quickbooks_id
    assert old is not None
    world.links.unlink(TENANT, "customer", "c-1")
    world.records.send(TENANT, [("customer", "c-1")])
    world.sync()
    again = world.get("customer", "c-1")
    assert again.quickbooks_id is None  # QuickBooks has "Ada Lovelace" already: the tenant picks
    assert again.failure is not None
    assert [c.quickbooks_id for c in again.failure.candidates] == [old]
    assert world.names("customer") == Counter({"Ada Lovelace": 1})


def many_clashing_names_cost_about_one_question_batch_per_thirty_names(world: World) -> None:
    """Who holds a name is asked for 30 names at a time (a clash used to cost a request of its own)."""
    names = 400
    for n in range(names):
        world.qb.enter("vendor", f"Supplier {n}")
    for n in range(names):
        world.push("customer", f"c-{n}", {"display_name": f"Supplier {n}"})
    before = world.qb.requests()
    world.sync()
    assert {world.get("customer", f"c-{n}").state for n in range(names)} == {SyncState.FAILED}
    per_batch = world.engine.profile.batch_max
    batches = math.ceil(names / per_batch)
    assert len(world.sent("name_holders")) == batches
    assert len(world.sent("write")) == batches
    assert world.qb.requests() - before <= 2 * batches + 1  # the writes, the questions, maybe the lists
    assert world.names("customer") == Counter()


def deleting_an_invoice_voids_it_and_locks_follow_the_settings(world: World) -> None:
    world.use(lock_after_acceptance=True)
    push_books(world, customers=1, invoices=2)
    world.sync()
    assert world.get("invoice", "inv-0").state is SyncState.LOCKED
    world.records.delete(TENANT, "invoice", "inv-1")
    world.sync()
    voided = world.get("invoice", "inv-1")
    assert voided.state is SyncState.VOIDED
    [held] = [h for h in world.qb.held("invoice") if h.quickbooks_id == voided.quickbooks_id]
    assert held.amount == 0


def a_record_changed_while_it_is_created_is_updated_not_created_again(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.books.meanwhile.append(lambda: world.push("customer", "c-1", {"display_name": "Ada Lovelace"}))
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.synced_revision) == (SyncState.SYNCED, 2)
    assert world.names("customer") == Counter({"Ada Lovelace": 1})


def a_record_waiting_for_a_draft_says_so_and_follows_once_it_is_sent(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.use(send_mode=SendMode.LIVE)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1", "1", "10")]})
    world.sync()
    invoice = world.get("invoice", "inv-1")
    assert (invoice.state, invoice.waiting_for) == (SyncState.PENDING, ("customer/c-1",))
    assert invoice.history[-1].detail == "waits for customer/c-1 (a draft: send it)"
    assert world.get("item", "i-1").state is SyncState.SYNCED
    world.records.send(TENANT, [("customer", "c-1")])
    world.sync()
    assert world.get("invoice", "inv-1").state is SyncState.SYNCED


def a_lost_answer_then_a_throttle_still_looks_the_record_up_before_sending_it_again(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.qb.lose_answers(1, then=WholeFault.THROTTLED)  # created; asked again: throttled
    with pytest.raises(RetryLaterError):
        world.run()
    assert world.get("customer", "c-1").state is SyncState.SYNCING
    world.push("customer", "c-2", {"display_name": "Grace"})  # the next batch is not the same batch
    world.sync()
    assert world.names("customer") == Counter({"Ada": 1, "Grace": 1})
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    assert [w.record.record_id for b in world.sent("look_up") for w in b.look_ups] == ["c-1"]


def a_record_whose_stored_data_no_longer_parses_fails_alone(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "10"}]})
    # Stored by an older version under looser rules: an amount beyond QuickBooks' 10 digits.
    broken = world.get("invoice", "inv-1")
    changed = broken.copy()
    changed.data["lines"][0]["amount"] = "10000000000.00"
    world.store.save(changed, broken.revision, broken.state)
    world.push("invoice", "inv-2", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "20"}]})
    world.sync()
    failed = world.get("invoice", "inv-1")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert (failed.failure.code, failed.failure.field, failed.failure.actions) == (
        "invalid_record",
        "lines.0.amount",
        ("edit",),
    )
    others = (("customer", "c-1"), ("item", "i-1"), ("invoice", "inv-2"))
    assert {world.get(*key).state for key in others} == {SyncState.SYNCED}


def a_run_ends_at_its_time_budget_and_the_next_run_picks_up(world: World) -> None:
    for n in range(100):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    world.books.latency = timedelta(seconds=20)  # a 50-second budget starts three batches of 30
    report = world.run()
    assert report.more
    assert (report.sent, report.synced) == (90, 90)
    assert sum(world.get("customer", f"c-{n}").state is SyncState.PENDING for n in range(100)) == 10
    world.sync()
    assert {world.get("customer", f"c-{n}").state for n in range(100)} == {SyncState.SYNCED}
    assert world.names("customer") == Counter({f"Customer {n}": 1 for n in range(100)})


def a_run_whose_planning_outlasts_its_budget_still_sends_its_first_batch(world: World) -> None:
    """A big company on a slow day: reading what is pending takes longer than the whole run may (Desktop: a
    callback's 15 s). A run that dropped what it planned would send nothing, run after run, for ever; each
    run sends its first batch whatever the time, and stops after it."""
    for n in range(40):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    reads = world.engine.store.in_state

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        world.clock.advance(timedelta(minutes=2))  # longer than any edition's run budget
        return reads(*args, **kwargs)

    world.engine.store.in_state = slow_read  # type: ignore[method-assign]
    report = world.run()
    assert report.more
    assert report.sent > 0
    world.sync()
    assert {world.get("customer", f"c-{n}").state for n in range(40)} == {SyncState.SYNCED}
    assert world.names("customer") == Counter({f"Customer {n}": 1 for n in range(40)})


def a_payment_with_a_method_the_settings_leave_out_is_ignored_until_they_let_it_go(world: World) -> None:
    """payment_methods_to_sync keeps payments of other methods out of QuickBooks ("not be imported or
    exported"), names compared ignoring case; one ignored goes out once the settings allow it and the tenant
    sends it, or pushes it again."""
    world.use(payment_methods_to_sync=["Check"])
    push_books(world, customers=1, invoices=1)
    paying = {
        "customer_id": "c-0",
        "total_amount": "10",
        "applications": [{"invoice_id": "inv-0", "amount": "10"}],
    }
    world.push("payment", "p-check", {**paying, "method": "CHECK"})
    world.push("payment", "p-cash", {**paying, "method": "Cash"})
    world.push("payment", "p-none", paying)
    world.sync()
    assert world.get("payment", "p-check").state is SyncState.SYNCED
    for payment_id, said in (("p-cash", "its method 'Cash'"), ("p-none", "it has no method")):
        ignored = world.get("payment", payment_id)
        assert (ignored.state, ignored.quickbooks_id) == (SyncState.IGNORED, None)
        assert ignored.history[-1].detail.startswith(
            "kept out of QuickBooks by the setting payment_methods_to_sync"
        )
        assert said in ignored.history[-1].detail
    assert len(world.qb.held("payment")) == 1
    assert (
        len(
            world.records.list_records(
                TENANT, "payment", RecordFilter(frozenset({SyncState.IGNORED})), 10, None
            ).items
        )
        == 2
    )
    told = world.events.of("record.ignored")
    assert sorted(d["record_id"] for d in told) == ["p-cash", "p-none"]
    assert all(str(d["reason"]).startswith("kept out of QuickBooks by the setting") for d in told)

    world.use(payment_methods_to_sync=["check", "cash"])
    [sent] = world.records.send(TENANT, [("payment", "p-cash")])
    assert (sent.status, sent.record and sent.record.state) == ("updated", SyncState.PENDING)
    world.push("payment", "p-none", paying)  # the same data again: sent again, still without a method
    world.sync()
    assert world.get("payment", "p-cash").state is SyncState.SYNCED
    assert world.get("payment", "p-none").state is SyncState.IGNORED
    world.use()  # every method synced
    world.push("payment", "p-none", paying)
    world.sync()
    assert world.get("payment", "p-none").state is SyncState.SYNCED
    assert len(world.qb.held("payment")) == 3


SCENARIOS: tuple[Callable[[World], None], ...] = (
    records_reach_quickbooks_dependencies_first_in_few_batches,
    zero_duplicates_when_answers_are_lost_or_fail,
    a_record_found_on_look_up_is_updated_not_created_again,
    one_unanswered_batch_is_looked_up_in_one_batch_and_nothing_is_created_twice,
    two_unanswered_batches_in_a_row_pause_the_run_and_the_next_run_settles_them,
    a_change_made_in_quickbooks_meanwhile_is_reread_and_our_change_applied,
    a_name_quickbooks_gives_a_vendor_fails_offering_a_rename,
    the_rename_policy_creates_the_name_with_the_first_free_suffix,
    the_link_policy_maps_to_the_customer_quickbooks_has_and_applies_our_data,
    many_clashing_names_cost_about_one_question_batch_per_thirty_names,
    a_clash_with_one_of_its_kind_names_the_candidate_and_linking_it_updates_that_object,
    a_record_linked_on_arrival_updates_the_object_quickbooks_has_under_its_name,
    an_unlinked_record_sent_again_is_never_handed_its_old_object,
    a_customer_with_an_existing_email_and_an_item_with_an_existing_sku_are_linked_not_created,
    a_key_two_objects_share_fails_naming_them_and_the_setting_off_creates_it,
    a_create_waits_for_its_list_to_be_read_then_links_to_what_it_finds_there,
    deleting_an_invoice_voids_it_and_locks_follow_the_settings,
    a_record_changed_while_it_is_created_is_updated_not_created_again,
    a_record_waiting_for_a_draft_says_so_and_follows_once_it_is_sent,
    a_lost_answer_then_a_throttle_still_looks_the_record_up_before_sending_it_again,
    a_record_whose_stored_data_no_longer_parses_fails_alone,
    a_run_ends_at_its_time_budget_and_the_next_run_picks_up,
    a_run_whose_planning_outlasts_its_budget_still_sends_its_first_batch,
    a_payment_with_a_method_the_settings_leave_out_is_ignored_until_they_let_it_go,
)


# ------------------------------------------------------------------ every fault at every kind of operation


def _unconfirmed_customer(world: World) -> None:
    """A customer whose create QuickBooks applied while the answer was lost, when the run's time ran out:
    the next run must look it up."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.qb.lose_answers(1)
    world.books.latency = timedelta(minutes=1)  # the wait for the answer spends the run's time
    assert world.run().more
    world.books.latency = timedelta(0)
    assert world.get("customer", "c-1").state is SyncState.SYNCING


def _stale_customer(world: World) -> None:
    """A synced customer changed in QuickBooks meanwhile, then in the host app: the update is stale."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.sync()
    quickbooks_id = world.get("customer", "c-1").quickbooks_id
    assert quickbooks_id is not None
    world.qb.change("customer", quickbooks_id)
    world.push("customer", "c-1", {"display_name": "Ada", "email": "ada@example.com"})


def _clashing_customer(world: World) -> None:
    """A customer whose name QuickBooks already gives a vendor: the create is a name clash."""
    world.qb.enter("vendor", "Ada")
    world.push("customer", "c-1", {"display_name": "Ada"})


SITES: dict[str, Callable[[World], None]] = {
    "look_up": _unconfirmed_customer,
    "write": lambda world: world.push("customer", "c-1", {"display_name": "Ada"}),
    "reread": _stale_customer,
    "name_holders": _clashing_customer,
}
FAULT_AT_SITE = [(site, fault) for site in SITES for fault in WholeFault]


def every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing(
    world: World, site: str, fault: WholeFault
) -> None:
    """Every kind of fault, at every kind of operation (the write, the look-up of an unconfirmed send, the
    re-read after a stale version, the question of who holds a clashing name), ends the run in one of three
    ways (retry later with the fault's delay, wait for the connection, or the records concerned fail with
    the reason), never with a raw error; no record is left `syncing` without saying why; and once QuickBooks
    is well again everything settles with nothing created twice."""
    SITES[site](world)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})  # another record of the same run
    before = len(world.sent(site))
    told = world.qb.fail_next(site, fault)
    ending: type[Exception] | None = {
        WholeFault.RECONNECT: WaitingForConnectionError,
        WholeFault.REFUSED: None,
    }.get(fault, RetryLaterError)
    if fault is WholeFault.NO_ANSWER and site == "write":
        ending = None  # an unanswered batch is looked up in the next round; the run goes on
    if ending is None:
        world.run()
    else:
        with pytest.raises(ending) as ended:
            world.run()
        if isinstance(ended.value, RetryLaterError):
            assert ended.value.delay == told.delay
    assert len(world.sent(site)) > before  # the fault was met where it was put
    customer = world.get("customer", "c-1")
    if customer.state is SyncState.SYNCING:
        assert customer.history[-1].detail != "sent to QuickBooks", customer.history  # says why it waits
    if fault in (WholeFault.SERVER_ERROR, WholeFault.THROTTLED) and site == "write":
        assert customer.state is SyncState.PENDING  # nothing applied: it goes again as it was
    if ending is WaitingForConnectionError and customer.state is SyncState.PENDING:
        assert customer.waiting_for == ("connection",)
    if fault is WholeFault.REFUSED:
        assert customer.state is SyncState.FAILED
        assert customer.failure is not None
        assert customer.failure.code == told.code
    world.records.send(TENANT, [("customer", "c-1"), ("item", "i-1")])  # the tenant sends failed ones again
    world.sync()
    assert world.get("item", "i-1").state is SyncState.SYNCED
    customer = world.get("customer", "c-1")
    expected = SyncState.FAILED if site == "name_holders" else SyncState.SYNCED  # the vendor keeps the name
    assert customer.state is expected, customer.history
    assert max(world.names("customer").values(), default=1) == 1  # nothing created twice
