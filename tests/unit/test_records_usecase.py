"""Records pushed by the host app: checks before storing, sync states, review mode, locks, sends, unpends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, cast

import pytest

from qbsync.domain.errors import ConflictError, NotFoundError
from qbsync.domain.jobs import SYNC_RUN_JOB
from qbsync.domain.settings import NameClashPolicy, SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import (
    NameClaim,
    Operation,
    RecordLockedError,
    RecordStore,
    SyncRecord,
    SyncState,
)
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.records import RecordProblemsError, Records
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"


@dataclass
class World:
    records: Records
    store: InMemoryRecordStore
    queue: InMemoryQueue
    runs: InMemoryTenantLease
    settings: InMemorySettings
    clock: FixedClock

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))


@pytest.fixture
def world() -> World:
    clock = FixedClock()
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
    tenants.add(Tenant("other", "Other", Edition.QBD, clock.now()))
    store, queue, runs, settings = (
        InMemoryRecordStore(),
        InMemoryQueue(),
        InMemoryTenantLease(),
        InMemorySettings(),
    )
    return World(Records(tenants, store, settings, queue, runs, clock), store, queue, runs, settings, clock)


def customer(name: str = "Ada Lovelace", **extra: Any) -> dict[str, Any]:
    return {"display_name": name, **extra}


def invoice(customer_id: str = "c-1", item_id: str = "i-1", **extra: Any) -> dict[str, Any]:
    line = {"item_id": item_id, "quantity": "2", "rate": "10.50"}
    return {"customer_id": customer_id, "lines": [line], **extra}


ITEM = {"kind": "service", "name": "Consulting"}


def test_a_new_record_is_pending_in_live_mode_and_one_run_is_requested(world: World) -> None:
    first = world.records.upsert(TENANT, "customer", "c-1", customer())
    second = world.records.upsert(TENANT, "customer", "c-2", customer("Grace Hopper"))
    assert (first.status, first.record and first.record.state) == ("created", SyncState.PENDING)
    assert second.record is not None
    assert second.record.revision == 1
    assert [job.kind for job, _ in world.queue.sent] == [SYNC_RUN_JOB]  # one outstanding request is enough
    world.runs.take_request(TENANT)
    world.records.upsert(TENANT, "customer", "c-3", customer("Alan Turing"))
    assert len(world.queue.sent) == 2
    history = world.records.get(TENANT, "customer", "c-1").history
    assert [(t.state, t.detail) for t in history] == [(SyncState.PENDING, "received")]


def test_review_mode_keeps_drafts_until_they_are_sent_with_their_dependencies(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    assert world.queue.sent == []
    assert world.records.get(TENANT, "invoice", "inv-1").state is SyncState.DRAFT
    [outcome] = world.records.send(TENANT, [("invoice", "inv-1")])
    assert outcome.status == "updated"
    states = {k: world.records.get(TENANT, *k).state for k in [("customer", "c-1"), ("item", "i-1")]}
    assert set(states.values()) == {SyncState.PENDING}  # the drafts it depends on go with it
    assert [job.kind for job, _ in world.queue.sent] == [SYNC_RUN_JOB]


def test_unpend_takes_back_pending_records_only(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "customer", "c-2", customer("Grace"))
    _being_sent(world, "customer", "c-2")
    taken, busy, missing = world.records.unpend(
        TENANT, [("customer", "c-1"), ("customer", "c-2"), ("customer", "nope")]
    )
    assert (taken.status, taken.record and taken.record.state) == ("updated", SyncState.DRAFT)
    assert busy.status == "unchanged"
    assert "can no longer be taken back" in busy.detail
    assert missing.status == "refused"


def test_problems_are_all_listed_with_limits_and_actions_and_nothing_is_stored(world: World) -> None:
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "customer", "c-1", customer("x" * 501 + ":"))
    problems = {p.code: p for p in raised.value.problems}
    assert problems["too_long"].limit == 500
    assert problems["too_long"].actual == 502
    assert problems["too_long"].actions == ("rename", "link_existing")
    assert "forbidden_character" in problems
    assert world.store.get(TENANT, "customer", "c-1") is None
    assert world.queue.sent == []


def test_shape_errors_name_the_field(world: World) -> None:
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "invoice", "inv-1", {"customer_id": "c-1", "lines": [{"quantity": 1}]})
    assert any(p.field.startswith("lines.0") for p in raised.value.problems)


def test_references_must_exist_and_not_be_deleted(world: World) -> None:
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    assert {(p.field, p.code) for p in raised.value.problems} == {
        ("customer_id", "reference_not_found"),
        ("lines.0.item_id", "reference_not_found"),
    }
    assert raised.value.problems[0].actions == ("push_it_first", "edit")
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.delete(TENANT, "item", "i-1")  # never sent: voided at once
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    assert [p.code for p in raised.value.problems] == ["reference_deleted"]


def test_a_name_used_by_a_vendor_is_refused_before_it_is_sent(world: World) -> None:
    world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Acme Supplies"})
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, "customer", "c-1", customer("  acme   SUPPLIES "))
    [problem] = raised.value.problems
    assert (problem.field, problem.code, problem.actions) == (
        "display_name",
        "name_clash",
        ("rename", "link_existing"),
    )
    assert "vendor 'v-1'" in problem.message
    # Renaming the vendor frees the name.
    world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Acme Supplies Ltd"})
    assert world.records.upsert(TENANT, "customer", "c-1", customer("Acme Supplies")).status == "created"
    # Another tenant has its own names.
    assert (
        world.records.upsert("other", "vendor", "v-9", {"display_name": "Acme Supplies"}).status == "created"
    )


def _clash(world: World, record_type: str, record_id: str, name: str) -> str:
    """The name_clash message a push of this name gets (the test fails if it is stored)."""
    with pytest.raises(RecordProblemsError) as raised:
        world.records.upsert(TENANT, record_type, record_id, {"display_name": name})
    assert [p.code for p in raised.value.problems] == ["name_clash"]
    return raised.value.problems[0].message


def test_a_rename_that_changes_only_case_or_spacing_keeps_the_name_reserved(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer("Acme"))
    world.records.upsert(TENANT, "customer", "c-1", customer("ACME "))
    assert "customer 'c-1'" in _clash(world, "vendor", "v-1", "acme")


def test_a_name_claimed_for_a_save_that_never_landed_is_free_after_a_minute(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer("Acme"))
    # A rename of c-1 to revision 2 claimed "Globex" and its request ended before the save.
    world.store.claim_name(TENANT, "globex", NameClaim("customer/c-1", 2, world.clock.now()))
    assert "customer 'c-1'" in _clash(world, "vendor", "v-1", "Globex")  # its save may still land
    world.clock.advance(timedelta(seconds=61))
    assert world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Globex"}).status == "created"
    assert "customer 'c-1'" in _clash(world, "vendor", "v-2", "Acme")  # what c-1 carries stays its own


def test_a_name_claimed_for_a_save_another_change_overtook_is_free_at_once(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer("Acme"))
    # Two renames read revision 1; the one to "Globex" claimed its name, the one to "Initech" saved first.
    world.store.claim_name(TENANT, "globex", NameClaim("customer/c-1", 2, world.clock.now()))
    world.records.upsert(TENANT, "customer", "c-1", customer("Initech"))
    assert world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Globex"}).status == "created"
    assert world.records.upsert(TENANT, "vendor", "v-2", {"display_name": "Acme"}).status == "created"
    assert "customer 'c-1'" in _clash(world, "vendor", "v-3", "initech")


def test_an_unchanged_record_is_not_a_new_revision_a_changed_one_is(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer(email="ada@example.com"))
    again = world.records.upsert(TENANT, "customer", "c-1", customer(email=" ada@example.com "))
    assert again.status == "unchanged"
    changed = world.records.upsert(TENANT, "customer", "c-1", customer(email="ada@example.org"))
    assert changed.status == "updated"
    assert changed.record is not None
    assert changed.record.revision == 2


def _accept(
    world: World,
    record_type: str,
    record_id: str,
    state: SyncState = SyncState.SYNCED,
    tenant: str = TENANT,
) -> None:
    stored = world.store.get(tenant, record_type, record_id)
    assert stored is not None
    done = stored.copy()
    done.quickbooks_id, done.quickbooks_version, done.synced_revision = "101", "0", stored.revision
    done.move(state, world.clock.now(), "accepted by QuickBooks")
    world.store.save(done, stored.revision, stored.state)


def test_a_locked_invoice_refuses_changes_unless_forced(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    _accept(world, "invoice", "inv-1", SyncState.LOCKED)
    with pytest.raises(RecordLockedError, match="lock_after_acceptance"):
        world.records.upsert(TENANT, "invoice", "inv-1", invoice(memo="changed"))
    forced = world.records.upsert(TENANT, "invoice", "inv-1", invoice(memo="changed"), force=True)
    assert forced.record is not None
    assert forced.record.state is SyncState.PENDING
    assert forced.record.force


def test_force_sends_a_synced_record_again(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    _accept(world, "customer", "c-1")
    [plain] = world.records.send(TENANT, [("customer", "c-1")])
    assert plain.status == "unchanged"
    assert "force" in plain.detail
    [forced] = world.records.send(TENANT, [("customer", "c-1")], force=True)
    assert forced.record is not None
    assert (forced.record.state, forced.record.force) == (
        SyncState.PENDING,
        True,
    )


def test_delete_voids_what_quickbooks_has_and_drops_what_it_never_had(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    _accept(world, "invoice", "inv-1")
    deleted = world.records.delete(TENANT, "invoice", "inv-1")
    assert (deleted.state, deleted.operation) == (SyncState.PENDING, Operation.DELETE)
    _being_sent(world, "invoice", "inv-1")
    with pytest.raises(ConflictError, match="being sent"):
        world.records.delete(TENANT, "invoice", "inv-1")
    never_sent = world.records.delete(TENANT, "customer", "c-1")
    assert never_sent.state is SyncState.VOIDED
    # Its name is free again.
    assert world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Ada Lovelace"}).status == "created"


def _being_sent(world: World, record_type: str, record_id: str) -> None:
    stored = world.store.get(TENANT, record_type, record_id)
    assert stored is not None
    busy = stored.copy()
    busy.move(SyncState.SYNCING, world.clock.now(), "sent to QuickBooks")
    world.store.save(busy, stored.revision, stored.state)


def test_bulk_answers_each_record_and_requests_one_run(world: World) -> None:
    outcomes = world.records.upsert_many(
        TENANT,
        "customer",
        [("c-1", customer()), ("c-2", customer("b" * 600)), ("c-3", customer("Grace"))],
    )
    assert [o.status for o in outcomes] == ["created", "invalid", "created"]
    assert outcomes[1].problems[0].code == "too_long"
    assert len(world.queue.sent) == 1


def test_unknown_tenant_type_and_record_are_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.records.upsert("ghost", "customer", "c-1", customer())
    with pytest.raises(NotFoundError):
        world.records.get(TENANT, "estimate", "e-1")
    with pytest.raises(NotFoundError):
        world.records.get(TENANT, "customer", "nope")


def test_a_lost_run_request_is_made_again_once_stale(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.clock.advance(timedelta(minutes=21))
    world.records.upsert(TENANT, "customer", "c-2", customer("Grace"))
    assert len(world.queue.sent) == 2


def test_name_clash_policy_does_not_change_what_is_refused_up_front(world: World) -> None:
    world.use(name_clash_policy=NameClashPolicy.LINK_EXISTING)
    world.records.upsert(TENANT, "employee", "e-1", {"display_name": "Sam"})
    with pytest.raises(RecordProblemsError):
        world.records.upsert(TENANT, "customer", "c-1", customer("Sam"))


@dataclass
class CountingStore(InMemoryRecordStore):
    reads: int = 0

    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord | None:
        self.reads += 1
        return super().get(tenant_id, record_type, record_id)

    def get_many(self, tenant_id: str, keys: list[tuple[str, str]]) -> dict[str, SyncRecord]:
        self.reads += 1
        return super().get_many(tenant_id, keys)


def test_a_bulk_reads_what_it_needs_once(world: World) -> None:
    store = CountingStore()
    world.records.store = store
    world.records.upsert_many(TENANT, "customer", [(f"c-{n}", customer(f"Customer {n}")) for n in range(5)])
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    store.reads = 0
    outcomes = world.records.upsert_many(
        TENANT, "invoice", [(f"inv-{n}", invoice(customer_id=f"c-{n % 5}")) for n in range(100)]
    )
    assert {o.status for o in outcomes} == {"created"}
    assert store.reads <= 1 + 5  # the invoices in one go, then each customer (and the item) once


@dataclass
class CountingWrites(CountingStore):
    saves: int = 0  # calls of save by the use case (not those the fake's save_all makes)
    save_alls: list[int] = field(default_factory=list)
    in_save_all: bool = False

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        self.saves += not self.in_save_all
        super().save(record, expected_revision, expected_state)

    def save_all(self, saves: Sequence[tuple[SyncRecord, int | None, SyncState | None]]) -> list[bool]:
        self.save_alls.append(len(saves))
        self.in_save_all = True
        try:
            return super().save_all(saves)
        finally:
            self.in_save_all = False


def test_a_bulk_reads_its_records_and_what_they_refer_to_in_one_go_and_stores_them_in_one_go(
    world: World,
) -> None:
    store = CountingWrites()
    world.records.store = store
    world.records.upsert_many(TENANT, "customer", [(f"c-{n}", customer(f"Customer {n}")) for n in range(50)])
    world.records.upsert_many(TENANT, "item", [(f"i-{n}", {**ITEM, "name": f"Item {n}"}) for n in range(20)])
    world.records.upsert_many(TENANT, "invoice", [(f"inv-{n}", invoice("c-0", "i-0")) for n in range(5)])
    store.reads, store.saves, store.save_alls = 0, 0, []
    entries = [(f"inv-{n}", invoice(f"c-{n % 50}", f"i-{n % 20}")) for n in range(200)]
    entries[7] = ("inv-7", invoice("c-404"))  # refers to no customer: answered, not stored
    outcomes = world.records.upsert_many(TENANT, "invoice", entries)
    assert [o.status for o in outcomes].count("created") == 194
    assert [o.status for o in outcomes[:5]] == ["unchanged", "updated", "updated", "updated", "updated"]
    assert outcomes[7].status == "invalid"
    assert store.reads == 1  # the invoices, their customers and items: one get_many
    assert (store.saves, store.save_alls) == (0, [198])
    assert store.get(TENANT, "invoice", "inv-199").data["customer_id"] == "c-49"  # type: ignore[union-attr]
    assert store.get(TENANT, "invoice", "inv-3").revision == 2  # type: ignore[union-attr]


@dataclass
class ChangedBeforeTheSave(InMemoryRecordStore):
    """Another writer changes `target` after the bulk read it and before the bulk's save_all."""

    target: str = ""

    def save_all(self, saves: Sequence[tuple[SyncRecord, int | None, SyncState | None]]) -> list[bool]:
        for record, _, _ in saves:
            if record.record_id == self.target:
                current = self.get(record.tenant_id, record.record_type, record.record_id)
                assert current is not None
                changed = current.copy()
                changed.revision += 1
                changed.data = {**changed.data, "memo": "changed by another request"}
                self.save(changed, current.revision, current.state)
        return super().save_all(saves)


def test_a_bulk_record_changed_before_its_save_is_decided_again_on_what_is_stored(world: World) -> None:
    store = ChangedBeforeTheSave()
    world.records.store = store
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert_many(TENANT, "invoice", [("inv-1", invoice()), ("inv-2", invoice())])
    store.target = "inv-1"
    outcomes = world.records.upsert_many(
        TENANT, "invoice", [("inv-1", invoice(memo="the bulk's")), ("inv-2", invoice(memo="the bulk's"))]
    )
    assert [o.status for o in outcomes] == ["updated", "updated"]
    first = store.get(TENANT, "invoice", "inv-1")
    assert first is not None
    assert (first.revision, first.data["memo"]) == (3, "the bulk's")  # over the other change, not lost
    assert outcomes[0].record == first
    second = store.get(TENANT, "invoice", "inv-2")
    assert second is not None
    assert (second.revision, second.data["memo"]) == (2, "the bulk's")


def test_a_bulk_may_hold_a_parent_before_its_sub_customer(world: World) -> None:
    outcomes = world.records.upsert_many(
        TENANT,
        "customer",
        [
            ("c-1", customer("Parent")),
            ("c-2", customer("Job", parent_id="c-1")),
            ("c-3", customer("Orphan job", parent_id="c-9")),
        ],
    )
    assert [o.status for o in outcomes] == ["created", "created", "invalid"]


# ---------------------------------------------------------------- races with the worker and with the host app


class _Meanwhile:
    """The store, with something else (the worker, another request) changing one record between this request's
    read of it and its next save: `change` runs once, just before that save."""

    def __init__(self, world: World, key: str, change: Callable[[], None]) -> None:
        self._store, self._key, self._change = world.store, key, change
        self.happened = False

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        if record.key == self._key and not self.happened:
            self.happened = True
            self._change()
        self._store.save(record, expected_revision, expected_state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _racing(world: World, key: str, change: Callable[[], None]) -> Records:
    return replace(world.records, store=cast("RecordStore", _Meanwhile(world, key, change)))


def test_a_delete_the_worker_overtakes_is_a_conflict_saying_the_record_is_being_sent(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    racing = _racing(world, "customer/c-1", lambda: _being_sent(world, "customer", "c-1"))
    with pytest.raises(ConflictError, match="being sent to QuickBooks right now"):
        racing.delete(TENANT, "customer", "c-1")
    assert world.store.get(TENANT, "customer", "c-1").state is SyncState.SYNCING  # type: ignore[union-attr]


def test_a_delete_a_change_overtakes_deletes_the_changed_record(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    racing = _racing(
        world, "customer/c-1", lambda: world.records.upsert(TENANT, "customer", "c-1", customer("Ada Byron"))
    )
    deleted = racing.delete(TENANT, "customer", "c-1")
    assert (deleted.state, deleted.revision, deleted.data["display_name"]) == (
        SyncState.VOIDED,
        3,
        "Ada Byron",
    )
    assert world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Ada Byron"}).status == "created"


def test_send_naming_a_record_twice_and_its_draft_dependency_answers_each_once(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    keys = [("invoice", "inv-1"), ("customer", "c-1"), ("invoice", "inv-1"), ("item", "i-1")]
    outcomes = world.records.send(TENANT, keys)
    assert [(o.record_id, o.status) for o in outcomes] == [
        ("inv-1", "updated"),
        ("c-1", "updated"),
        ("i-1", "updated"),
    ]
    for record_type, record_id in keys:
        assert world.records.get(TENANT, record_type, record_id).state is SyncState.PENDING
    history = world.records.get(TENANT, "customer", "c-1").history
    assert [t.detail for t in history] == ["received", "sent with a record that depends on it"]


def test_send_racing_a_change_sends_the_changed_record(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.records.upsert(TENANT, "customer", "c-1", customer())
    racing = _racing(
        world, "customer/c-1", lambda: world.records.upsert(TENANT, "customer", "c-1", customer("Ada Byron"))
    )
    [sent] = racing.send(TENANT, [("customer", "c-1")])
    assert sent.status == "updated"
    assert sent.record is not None
    assert (sent.record.state, sent.record.data["display_name"]) == (SyncState.PENDING, "Ada Byron")


def test_unpend_naming_a_record_twice_or_racing_the_worker_answers_without_an_error(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "customer", "c-2", customer("Grace Hopper"))
    twice = world.records.unpend(TENANT, [("customer", "c-1"), ("customer", "c-1")])
    assert [(o.record_id, o.status) for o in twice] == [("c-1", "updated")]
    racing = _racing(world, "customer/c-2", lambda: _being_sent(world, "customer", "c-2"))
    [taken] = racing.unpend(TENANT, [("customer", "c-2")])
    assert (taken.status, taken.detail) == (
        "unchanged",
        "QuickBooks is receiving it right now; it can no longer be taken back.",
    )


# ------------------------------------------------------------ a deleted record comes back only when forced


def _voided_in_quickbooks(world: World, record_type: str, record_id: str, tenant: str = TENANT) -> None:
    """Synced, deleted by the host app, and the worker voided (deleted, made inactive) it in QuickBooks."""
    _accept(world, record_type, record_id, tenant=tenant)
    world.records.delete(tenant, record_type, record_id)
    _accept(world, record_type, record_id, SyncState.VOIDED, tenant=tenant)


BILL = {"vendor_id": "v-1", "lines": [{"account": "Office Supplies", "amount": "12.00"}]}


@pytest.mark.parametrize(
    ("record_type", "data", "says", "quickbooks_id"),
    [
        ("invoice", invoice(memo="again"), "voided in QuickBooks.*to un-void it there", "101"),
        ("payment", None, "voided in QuickBooks.*to un-void it there", "101"),
        ("bill", {**BILL, "memo": "again"}, "so was its copy in QuickBooks.*to create it", None),
        ("customer", customer("Ada King"), "inactive in QuickBooks.*active there again", "101"),
    ],
)
def test_a_put_of_a_record_voided_in_quickbooks_is_refused_unless_forced(
    world: World, record_type: str, data: dict[str, Any] | None, says: str, quickbooks_id: str | None
) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.upsert(TENANT, "vendor", "v-1", {"display_name": "Stationers"})
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    world.records.upsert(TENANT, "invoice", "inv-1", invoice())
    _accept(world, "invoice", "inv-1")
    payment = {"customer_id": "c-1", "total_amount": "21.00"}
    data = data or {**payment, "memo": "again"}
    record_id = {"invoice": "inv-1", "customer": "c-1"}.get(record_type, "r-1")
    if record_type in ("payment", "bill"):
        world.records.upsert(TENANT, record_type, record_id, payment if record_type == "payment" else BILL)
    _voided_in_quickbooks(world, record_type, record_id)
    with pytest.raises(RecordLockedError, match=f"was deleted.*{says}") as refused:
        world.records.upsert(TENANT, record_type, record_id, data)
    assert "force=true" in refused.value.detail
    assert world.records.get(TENANT, record_type, record_id).state is SyncState.VOIDED
    [bulk] = world.records.upsert_many(TENANT, record_type, [(record_id, data)])
    assert (bulk.status, bulk.record and bulk.record.state) == ("refused", SyncState.VOIDED)
    forced = world.records.upsert(TENANT, record_type, record_id, data, force=True)
    assert forced.record is not None
    assert (forced.record.state, forced.record.operation) == (SyncState.PENDING, Operation.UPSERT)
    assert forced.record.quickbooks_id == quickbooks_id  # updated in QuickBooks, or created there again


@pytest.mark.parametrize(
    ("tenant", "record_type", "says", "quickbooks_id"),
    [
        (TENANT, "bill", "so was its copy in QuickBooks.*to create it", None),
        ("other", "bill", "voided in QuickBooks.*to un-void it there", "101"),
        (TENANT, "payment", "voided in QuickBooks.*to un-void it there", "101"),
        ("other", "payment", "so was its copy in QuickBooks.*to create it", None),
    ],
    ids=["online-bill", "desktop-bill", "online-payment", "desktop-payment"],
)
def test_what_a_forced_put_of_a_deleted_record_does_follows_the_tenants_edition(
    world: World, tenant: str, record_type: str, says: str, quickbooks_id: str | None
) -> None:
    """Desktop voids bills (qbXML TxnVoidType has Bill) and deletes payments (it has no ReceivePayment)."""
    world.records.upsert(tenant, "customer", "c-1", customer())
    world.records.upsert(tenant, "vendor", "v-1", {"display_name": "Stationers"})
    data = BILL if record_type == "bill" else {"customer_id": "c-1", "total_amount": "21.00"}
    world.records.upsert(tenant, record_type, "r-1", data)
    _voided_in_quickbooks(world, record_type, "r-1", tenant)
    with pytest.raises(RecordLockedError, match=f"was deleted.*{says}"):
        world.records.upsert(tenant, record_type, "r-1", {**data, "memo": "again"})
    forced = world.records.upsert(tenant, record_type, "r-1", {**data, "memo": "again"}, force=True)
    assert forced.record is not None
    assert forced.record.quickbooks_id == quickbooks_id  # un-voided in QuickBooks, or created there again


def test_a_record_deleted_before_quickbooks_had_it_comes_back_only_when_forced_and_with_its_name(
    world: World,
) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    world.records.delete(TENANT, "customer", "c-1")
    with pytest.raises(RecordLockedError, match=r"deleted before QuickBooks had it.*force=true"):
        world.records.upsert(TENANT, "customer", "c-1", customer())
    back = world.records.upsert(TENANT, "customer", "c-1", customer(), force=True)
    assert back.record is not None
    assert back.record.state is SyncState.PENDING
    assert "customer 'c-1'" in _clash(world, "vendor", "v-1", "Ada Lovelace")


def test_a_put_while_the_delete_waits_to_be_sent_cancels_the_delete(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    _accept(world, "customer", "c-1")
    world.records.delete(TENANT, "customer", "c-1")
    kept = world.records.upsert(TENANT, "customer", "c-1", customer(email="ada@example.com"))
    assert kept.record is not None
    assert (kept.record.state, kept.record.operation) == (SyncState.PENDING, Operation.UPSERT)


# ------------------------------------------------------------------ QuickBooks Desktop tenants


DESKTOP = "other"  # a qbd tenant of the world fixture


def test_a_desktop_tenants_record_waits_for_the_web_connector_and_queues_no_online_job(world: World) -> None:
    outcome = world.records.upsert(DESKTOP, "customer", "c-1", customer())
    assert outcome.record is not None
    assert outcome.record.state is SyncState.PENDING
    assert outcome.record.waiting_for == ("web_connector",)
    stored = world.store.get(DESKTOP, "customer", "c-1")
    assert stored is not None
    assert stored.waiting_for == ("web_connector",)
    assert stored.history[-1].detail.startswith("waits for the Web Connector")
    assert world.queue.sent == []  # the Online worker never sees it
    assert DESKTOP in world.runs.requests  # the Web Connector's next run finds work waiting


def test_a_desktop_tenants_bulk_push_and_send_wait_for_the_web_connector_too(world: World) -> None:
    world.records.upsert_many(DESKTOP, "customer", [(f"c-{n}", customer(f"Name {n}")) for n in range(3)])
    world.records.delete(DESKTOP, "customer", "c-0")  # never in QuickBooks: voided at once
    assert {world.store.get(DESKTOP, "customer", f"c-{n}").waiting_for for n in (1, 2)} == {  # type: ignore[union-attr]
        ("web_connector",)
    }
    world.settings.add(
        SettingsVersion(DESKTOP, 1, world.clock.now(), SyncSettings(send_mode=SendMode.REVIEW))
    )
    world.records.upsert(DESKTOP, "item", "i-1", ITEM)
    assert world.store.get(DESKTOP, "item", "i-1").state is SyncState.DRAFT  # type: ignore[union-attr]
    [sent] = world.records.send(DESKTOP, [("item", "i-1")])
    assert sent.record is not None
    assert sent.record.waiting_for == ("web_connector",)
    assert world.queue.sent == []


def test_a_desktop_tenants_push_is_stored_once_already_saying_it_waits(world: World) -> None:
    saved: list[str] = []
    save, save_all = world.store.save, world.store.save_all

    def counted_save(record: SyncRecord, *expected: Any) -> None:
        saved.append(record.key)
        save(record, *expected)

    def counted_save_all(entries: Any) -> list[bool]:
        saved.extend(entry[0].key for entry in entries)
        return save_all(entries)

    world.store.save, world.store.save_all = counted_save, counted_save_all  # type: ignore[method-assign]
    world.records.upsert(DESKTOP, "customer", "c-1", customer())
    world.records.upsert(DESKTOP, "customer", "c-1", customer("Renamed"))
    assert saved == ["customer/c-1", "customer/c-1"]
    stored = world.store.get(DESKTOP, "customer", "c-1")
    assert stored is not None
    assert stored.waiting_for == ("web_connector",)


# ---------------------------------------------------------------------- validate: a push's checks, dry


def test_validate_answers_a_push_s_problems_and_stores_claims_and_queues_nothing(world: World) -> None:
    problems = world.records.validate("other", "customer", customer("N" * 42))
    assert [(p.field, p.code, p.limit, p.actual) for p in problems] == [("display_name", "too_long", 41, 42)]
    assert world.records.validate(TENANT, "customer", customer("N" * 42)) == []  # Online takes 500
    assert (world.store.records, world.store.names, world.queue.sent) == ({}, {}, [])


def test_validate_finds_the_name_another_record_holds_but_not_the_record_s_own(world: World) -> None:
    world.records.upsert(TENANT, "vendor", "v-1", customer("Ada Lovelace"))
    [clash] = world.records.validate(TENANT, "customer", customer("ada  LOVELACE"))
    assert (clash.field, clash.code, clash.actions) == (
        "display_name",
        "name_clash",
        ("rename", "link_existing"),
    )
    assert world.records.validate(TENANT, "vendor", customer("Ada Lovelace"), "v-1") == []
    assert (
        world.records.validate("other", "customer", customer("Ada Lovelace")) == []
    )  # another tenant's name
    # Nothing was claimed: the name is still free for a push of another record.
    assert world.records.validate(TENANT, "customer", customer("Grace Hopper")) == []
    assert world.records.upsert(TENANT, "customer", "c-1", customer("Grace Hopper")).status == "created"


def test_validate_checks_the_records_it_refers_to_as_a_push_does(world: World) -> None:
    world.records.upsert(TENANT, "customer", "c-1", customer())
    [missing] = world.records.validate(TENANT, "invoice", invoice())
    assert (missing.field, missing.code, missing.actions) == (
        "lines.0.item_id",
        "reference_not_found",
        ("push_it_first", "edit"),
    )
    world.records.upsert(TENANT, "item", "i-1", ITEM)
    assert world.records.validate(TENANT, "invoice", invoice()) == []
    bad = world.records.validate(TENANT, "invoice", {"customer_id": "c-1"})
    assert [(p.field, p.code) for p in bad] == [("lines", "missing")]
    with pytest.raises(NotFoundError):
        world.records.validate("ghost", "customer", customer())
