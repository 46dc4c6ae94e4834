"""The sync engine: a tenant's pending records go to QuickBooks in batches, dependencies first, never twice.

The engine plans and settles; an edition's driver carries batches to QuickBooks and back:

    run = engine.begin(tenant_id)                    # the tenant's lease, its settings, a deadline
    while (batch := engine.next_batch(run)) is not None:
        engine.settle(run, batch, books.send(batch, run.settings))
    engine.end(run)                                   # the lease back; what paused the run is raised

QuickBooks Online does this in one worker (`run`); the Web Connector will do it across its callbacks, one
batch per exchange. Nothing the engine needs between two batches lives anywhere but the records: a run can
end after any batch and the next one takes over.

A run works in rounds: each reads the pending records, keeps those whose dependencies QuickBooks already has,
and sends them in batches of the edition's size, customers, vendors and items before the documents that use
them. A batch is either writes or questions, never both. The questions a round asks first are follow-ups of
earlier answers, each batched like writes:
- a record whose send had no known outcome (a lost answer, a crashed worker) is looked up before it is
  created again;
- a record whose QuickBooks version was out of date is read again, and the change re-applied;
- a record whose name QuickBooks holds for another record: who holds it decides (the name-clash policy).

No duplicates, whatever fails:
- before a batch is sent, its records are stored as `syncing`; the batch carries a request id derived from
  what it sends, so sending the same batch again is answered with the first result where the edition can;
- a record found `syncing`, or sent before without a known outcome, is looked up before it is created again;
- every save is conditional on the revision and state that were read: a change the host app made meanwhile
  is never overwritten, and is sent next as an update of what QuickBooks holds.

What QuickBooks answers arrives as `Fault`s the edition's adapter classified: retry later (the run pauses
with a delay), outcome unknown (looked up next round; two unanswered batches in a row pause the run),
reconnect (every pending record waits for the connection), or the records concerned fail with the reason.
A run never aborts on one record's data: a record that cannot be parsed fails with its reason, the others go.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from qbsync.domain.connections import EventPublisher
from qbsync.domain.metrics import (
    LISTS_UNREAD,
    NO_METRICS,
    RECORDS_DEFERRED,
    RECORDS_FAILED,
    RECORDS_SYNCED,
    SYNC_RUN_DURATION,
    Metric,
    Metrics,
)
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, ListType, MirrorStore
from qbsync.domain.ports import Clock
from qbsync.domain.records import RECORD_TYPES, Invoice, kept_out, lockable, parse_record, references
from qbsync.domain.settings import NameClashPolicy, SettingsRepository, SyncSettings
from qbsync.domain.sync import (
    EDIT,
    Batch,
    Books,
    Candidate,
    EditionProfile,
    Failure,
    Fault,
    FaultAction,
    FollowUp,
    FollowUpKind,
    Found,
    Operation,
    Outcomes,
    RecordStore,
    SyncRecord,
    SyncState,
    TenantLease,
    Write,
    WriteResult,
    ref_key,
)
from qbsync.observability import log_keys
from qbsync.usecases.links import Linking, LinkRefusedError
from qbsync.usecases.settings import settings_in_force

log = logging.getLogger(__name__)

PAGE = 500
MODELS_KEPT = 20_000  # parsed models kept between rounds (2-5 kB each: under 100 MB); all dropped past it
MAX_ATTEMPTS = 5  # sends of one revision that QuickBooks answered "try later" before it is failed
MAX_RENAMES = 20
UNANSWERED_IN_A_ROW_MAX = 2  # batches left unanswered before the run pauses
DEFAULT_DELAY = timedelta(seconds=30)  # a pause whose fault named no time
LISTS_WAIT = timedelta(seconds=5)  # a create waits this long for the lists connecting reads (seconds)
CONNECTION = "connection"  # in waiting_for: the tenant's QuickBooks connection
RECORD_SYNCED = "record.synced"
RECORD_FAILED = "record.failed"
RECORD_IGNORED = "record.ignored"  # kept out of QuickBooks by the tenant's settings (its `reason` says which)
_DONE = (SyncState.SYNCED, SyncState.LOCKED, SyncState.VOIDED)
# Faults that leave a record for later (pending, or syncing to be looked up) rather than failing it.
_SET_ASIDE = (FaultAction.OUTCOME_UNKNOWN, FaultAction.RETRY_LATER, FaultAction.RECONNECT)
_NEEDS_THE_TENANT = (SyncState.DRAFT, SyncState.IGNORED)  # a dependency that goes only once the tenant acts
# The types whose creates look for their key in the mirror first (the issue: "an exact SKU or email match
# links instead of creating a duplicate"); vendors and employees are matched by name only by default.
LOOKED_UP_BEFORE_CREATE = ("customer", "item")


class TenantBusyError(Exception):
    """Another worker is running this tenant's sync; try again shortly."""


class WaitingForConnectionError(Exception):
    """QuickBooks does not accept the tenant's connection: its records wait, pending, until the tenant
    connects again, which requests a new run (no job is re-queued meanwhile)."""


class RetryLaterError(Exception):
    """QuickBooks is throttling or failing; the run stopped and should be retried after `delay`."""

    def __init__(self, reason: str, delay: timedelta) -> None:
        super().__init__(reason)
        self.delay = delay


Pause = RetryLaterError | WaitingForConnectionError


@dataclass(frozen=True)
class RunReport:
    sent: int = 0
    synced: int = 0
    failed: int = 0
    waiting: int = 0
    rounds: int = 0
    more: bool = False  # stopped by the time budget with records still to send


@dataclass
class SyncRun:
    """One run of one tenant's sync: what the engine plans and settles against, from `begin` to `end`."""

    tenant_id: str
    settings: SyncSettings
    owner: str  # holds the tenant's lease
    deadline: datetime  # no batch is started after it
    batch_max: int
    sent: int = 0
    synced: int = 0
    failed: int = 0
    waiting: int = 0
    rounds: int = 0
    batches: int = 0  # requests this run (this callback, for a driver that resumes it) has made
    more: bool = False
    unanswered_in_a_row: int = 0  # write batches left unanswered since the last answer
    pause: Pause | None = None  # set when the run must stop; `end` raises it
    queue: list[Write] = field(default_factory=list)  # the round's writes not batched yet
    deferred: set[str] = field(default_factory=set)  # records told "try later": left for the next run
    lists_read: set[ListType] = field(default_factory=set)  # lists the mirror has read whole, once seen

    def stop(self, pause: Pause) -> None:
        """Stop after this batch: waiting for the connection wins over a delay; the longest delay wins."""
        current = self.pause
        if current is None or isinstance(pause, WaitingForConnectionError):
            self.pause = pause
        elif isinstance(current, RetryLaterError) and isinstance(pause, RetryLaterError):
            current.delay = max(current.delay, pause.delay)

    def report(self) -> RunReport:
        return RunReport(self.sent, self.synced, self.failed, self.waiting, self.rounds, self.more)


@dataclass
class _Changes:
    """Records changed while planning or settling, stored together, each only if the stored one is still
    the one read."""

    items: list[tuple[SyncRecord, SyncRecord]] = field(default_factory=list)  # (changed, as read)

    def put(self, changed: SyncRecord, read: SyncRecord) -> None:
        self.items.append((changed, read))

    def fail(self, read: SyncRecord, failure: Failure, now: datetime, *, answered: bool = True) -> None:
        """Fail the record. `answered`: QuickBooks refused it for sure, so it holds nothing of this send;
        otherwise the send count stays, and the record is looked up before it is created again."""
        failed = read.copy()
        if answered:
            failed.attempts = 0
        failed.fail(failure, now)
        self.put(failed, read)

    def set_aside(
        self, read: SyncRecord, why: str, now: datetime, *, maybe_applied: bool, connection: bool = False
    ) -> None:
        """Nothing of this send is known to be in QuickBooks: pending again, and the send is not counted.
        If an answer was lost, QuickBooks may hold it: it stays `syncing` (and cannot be deleted meanwhile)
        with the reason, counted, to be looked up before it is created again."""
        back = read.copy()
        if maybe_applied:
            back.move(SyncState.SYNCING, now, why)
        else:
            back.attempts = max(0, back.attempts - 1)
            back.move(SyncState.PENDING, now, why)
            if connection:
                back.waiting_for = (CONNECTION,)
        self.put(back, read)

    def explain(self, read: SyncRecord, why: str, now: datetime) -> None:
        """Say why it did not move on, leaving its state as it is."""
        explained = read.copy()
        explained.move(explained.state, now, why)
        self.put(explained, read)


@dataclass
class SyncEngine:
    store: RecordStore
    profile: EditionProfile  # of the edition whose driver works the runs
    settings: SettingsRepository
    runs: TenantLease
    events: EventPublisher
    clock: Clock
    mirror: MirrorStore  # the QuickBooks side as last read: looked at before a customer or item is created
    metrics: Metrics = NO_METRICS  # records synced, failed and deferred, and how long runs take, by edition
    # Parsed models by (tenant, record key, revision): a revision's data never changes, and a run (a Web
    # Connector session above all) plans the same records again and again.
    _models: dict[tuple[str, str, int], BaseModel] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ the run

    def run(self, tenant_id: str, books: Books) -> RunReport:
        """A whole run in this process, for an edition whose books answer at once (QuickBooks Online)."""
        run = self.begin(tenant_id)
        began = self.clock.now()
        try:
            try:
                while (batch := self.next_batch(run)) is not None:
                    self.settle(run, batch, books.send(batch, run.settings))
            except BaseException:
                self.runs.release(tenant_id, run.owner)
                raise
            return self.end(run)
        finally:
            self.timed(tenant_id, began)

    def timed(self, tenant_id: str, began: datetime) -> None:
        """Record how long a run of the tenant took, from `began` (when its driver began it) until now."""
        seconds = (self.clock.now() - began).total_seconds()
        self._measure(SYNC_RUN_DURATION, tenant_id, max(0.0, seconds))

    def _measure(self, metric: Metric, tenant_id: str, value: float, **dimensions: str) -> None:
        self.metrics.add(metric, value, tenant_id=tenant_id, edition=self.profile.edition.value, **dimensions)

    def _deferred(self, tenant_id: str, reason: str, records: int) -> None:
        """Records this run put off for later, and why (a FaultAction's value, or LISTS_UNREAD)."""
        if records:
            self._measure(RECORDS_DEFERRED, tenant_id, records, reason=reason)

    def begin(self, tenant_id: str, owner: str | None = None) -> SyncRun:
        """Take the tenant's lease (TenantBusyError if another run holds it) and start a run."""
        owner = owner or uuid.uuid4().hex
        now = self.clock.now()
        if not self.runs.acquire(tenant_id, owner, now, self.profile.lease):
            raise TenantBusyError(f"tenant {tenant_id} is being synced by another worker")
        try:
            self.runs.take_request(tenant_id)
            return self.resume(tenant_id, owner)
        except BaseException:
            self.runs.release(tenant_id, owner)
            raise

    def resume(self, tenant_id: str, owner: str) -> SyncRun:
        """Go on with a run `owner` began, in another process (a Web Connector session's next callback): its
        lease renewed (TenantBusyError if it lapsed and another run took it), its settings read again, its
        counters left for the caller to restore."""
        now = self.clock.now()
        if not self.runs.acquire(tenant_id, owner, now, self.profile.lease):
            raise TenantBusyError(f"tenant {tenant_id} is being synced by another worker")
        _, settings = settings_in_force(self.settings, tenant_id)
        return SyncRun(tenant_id, settings, owner, now + self.profile.run_budget, self.profile.batch_max)

    def release(self, run: SyncRun) -> None:
        """Give the lease back without settling anything more (a driver whose run was cut short)."""
        self.runs.release(run.tenant_id, run.owner)

    def ready(self, run: SyncRun) -> int:
        """How many records a next batch could carry now (questions and writes), planned as `next_batch`
        would plan them; nothing is marked. A driver that must say whether work remains asks this."""
        if run.pause is not None:
            return 0
        return len(run.queue) or len(self._plan(run, self._open(run)))

    def _open(self, run: SyncRun) -> list[SyncRecord]:
        """The records this run may still send: pending or syncing, and not left for the next run."""
        return [r for r in self._candidates(run.tenant_id) if r.key not in run.deferred]

    def end(self, run: SyncRun) -> RunReport:
        """Give the lease back. A run paused by QuickBooks raises why (RetryLaterError with its delay, or
        WaitingForConnectionError once every pending record says it waits for the connection)."""
        try:
            if isinstance(run.pause, WaitingForConnectionError):
                self._all_wait_for_connection(run, str(run.pause))
        finally:
            self.runs.release(run.tenant_id, run.owner)
        if run.pause is not None:
            raise run.pause
        return run.report()

    def fail_stuck(self, tenant_id: str, reason: str) -> int:
        """Mark failed every record a run that kept crashing left pending or syncing, with the reason."""
        failure = Failure("internal_error", f"Sending stopped on an error: {reason[:500]}", ("send_again",))
        now = self.clock.now()
        changes = _Changes()
        for record in self._candidates(tenant_id):
            changes.fail(record, failure, now, answered=False)
        self._store(None, tenant_id, changes)
        return len(changes.items)

    # ------------------------------------------------------------------ planning

    def next_batch(self, run: SyncRun) -> Batch | None:
        """The next request to make, its writes stored `syncing` first; None when the run is over (nothing
        left it can send, its time is up, or QuickBooks paused it). A run's first batch goes whatever the
        time: planning alone may outlast the budget (a big company, a slow day), and a run that then sent
        nothing would leave the next run in the same place, for ever."""
        while run.pause is None:
            if not run.queue:
                questions = self._round(run)
                if questions is not None or not run.queue:
                    run.batches += questions is not None
                    return questions
            if run.batches and self.clock.now() >= run.deadline:
                run.more, run.queue = True, []
                return None
            chunk, run.queue = run.queue[: run.batch_max], run.queue[run.batch_max :]
            writes = self._mark_syncing(run, chunk)
            if writes:  # else every one changed meanwhile: the next round sends the new revisions
                run.sent += len(writes)
                run.batches += 1
                return Batch(run.tenant_id, batch_request_id(run.tenant_id, writes), writes=tuple(writes))
        return None

    def _round(self, run: SyncRun) -> Batch | None:
        """Plan a round: the questions it must ask first as a batch, else its writes queued on the run."""
        ready = self._plan(run, self._open(run))
        if not ready:
            return None
        if run.batches and self.clock.now() >= run.deadline:
            run.more = True
            return None
        run.rounds += 1
        look_ups = [w for w in ready if _unconfirmed(w.record)]
        rereads = [w for w in ready if _follow_up(w.record) is FollowUpKind.REREAD]
        holders = [
            w
            for w in ready
            if _follow_up(w.record) is FollowUpKind.NAME_HOLDERS
            or (self.profile.check_names_first and _unchecked_name(w))
        ]
        if look_ups or rereads or holders:
            # Answered before anything of the round is written; the round is then planned again.
            m = run.batch_max
            asked = [*look_ups[:m], *rereads[:m], *holders[:m]]
            return Batch(
                run.tenant_id,
                batch_request_id(run.tenant_id, asked),
                look_ups=tuple(look_ups[:m]),
                rereads=tuple(rereads[:m]),
                name_holders=tuple(holders[:m]),
            )
        ready.sort(key=lambda w: (RECORD_TYPES[w.record.record_type].rank, w.record.updated_at, w.record.key))
        run.queue = ready
        return None

    def _candidates(self, tenant_id: str) -> Iterator[SyncRecord]:
        for state in (SyncState.SYNCING, SyncState.PENDING):
            cursor: str | None = None
            while True:
                page = self.store.in_state(tenant_id, state, PAGE, cursor)
                yield from page.items
                cursor = page.next_cursor
                if cursor is None:
                    break

    def _plan(self, run: SyncRun, candidates: list[SyncRecord]) -> list[Write]:
        """The records whose dependencies QuickBooks has; the others are marked with what they wait for. A
        record whose stored data no longer parses fails with the reason; it stops no other record."""
        now = self.clock.now()
        changes = _Changes()
        models = self._parsed(candidates, changes, now)
        needed = {
            ref
            for record in candidates
            if record.key in models and record.operation is Operation.UPSERT
            for ref in references(models[record.key])
        }
        known = self.store.get_many(run.tenant_id, sorted(needed)) if needed else {}
        ready: list[Write] = []
        run.waiting = 0
        for record in (r for r in candidates if r.key in models):
            model = models[record.key]
            kept = kept_out(model, run.settings) if record.operation is Operation.UPSERT else None
            if kept is not None and record.state is SyncState.PENDING:  # a syncing one is settled first
                ignored = record.copy()
                ignored.move(SyncState.IGNORED, now, kept)
                changes.put(ignored, record)
                continue
            deps = references(model) if record.operation is Operation.UPSERT else []
            ids: dict[str, str] = {}
            blocked: list[str] = []
            failed: list[str] = []
            gone: list[str] = []
            for kind, dep_id in deps:
                dep = known.get(ref_key(kind, dep_id))
                if dep is None or dep.state is SyncState.VOIDED:
                    gone.append(ref_key(kind, dep_id))
                elif dep.state in (SyncState.SYNCED, SyncState.LOCKED) and dep.quickbooks_id:
                    ids[dep.key] = dep.quickbooks_id
                else:
                    (failed if dep.state is SyncState.FAILED else blocked).append(dep.key)
            if gone:
                changes.fail(record, Failure("dependency_missing", f"It refers to {', '.join(gone)}, which "
                             "was deleted.", ("edit",)), now)  # fmt: skip
            elif failed or blocked:
                run.waiting += 1
                # Only what needs the tenant is written down: a failed, unsent (draft) or ignored
                # dependency. One that is merely pending goes out in this run, before this record.
                if failed or any(known[k].state in _NEEDS_THE_TENANT for k in blocked):
                    _wait(record, failed, blocked, known, changes=changes, now=now)
            else:
                ready.append(Write(record, model, ids, _name(record, model), _customer_terms(model, known)))
        self._store(run, run.tenant_id, changes)
        ready, linked = self._look_before_create(run, ready, now)
        if linked:  # what waited for them may go now: planned again, without them
            return self._plan(run, self._open(run))
        return ready

    def _look_before_create(self, run: SyncRun, ready: list[Write], now: datetime) -> tuple[list[Write], int]:
        """A customer or item about to be created whose key (the settings' match_rules: billing email, SKU)
        one active object of the mirror has, and no other record is linked to, is linked to that object
        instead, as the link route would link it; with two or more such objects it fails naming them
        (`ambiguous_match`, to link one by hand). The writes left to send, and how many were linked."""
        if not run.settings.link_on_exact_key:
            return ready, 0
        ready = self._wait_for_unread_lists(run, ready, now)
        found: dict[str, tuple[Write, str, list[ListEntry]]] = {}
        for write in ready:
            looked = self._key_holders(run, write)
            if looked is not None:
                found[write.record.key] = (write, *looked)
        if not found:
            return ready, 0
        linking = Linking(self.store, self.events, self.clock)
        links, fails = _Changes(), _Changes()
        released: list[str | None] = []
        taken: set[str] = set()  # linked in this round: another record's now
        decided: set[str] = set()
        for write, key, entries in found.values():
            record = write.record
            free = [e for e in entries if e.quickbooks_id not in taken]
            if free:
                decided.add(record.key)
            if len(free) == 1:
                (entry,) = free
                linked = record.copy()
                try:
                    released.append(linking.apply(linked, entry, record, f"same {key}"))
                except LinkRefusedError as refused:
                    problem = refused.problems[0]
                    fails.fail(record, Failure(problem.code, refused.detail, problem.actions, key), now)
                    continue
                taken.add(entry.quickbooks_id)
                links.put(linked, record)
            elif free:
                fails.fail(record, _ambiguous(record.record_type, key, free), now)
        self._store(run, run.tenant_id, fails)
        stored = self._store(run, run.tenant_id, links)
        done = 0
        for (linked, _), ok, gave_up in zip(links.items, stored, released, strict=True):
            if ok:
                linking.after_link(linked, gave_up)
                done += 1
        run.synced += done
        if done:
            self._measure(RECORDS_SYNCED, run.tenant_id, done)
        return [w for w in ready if w.record.key not in decided], done

    def _wait_for_unread_lists(self, run: SyncRun, ready: list[Write], now: datetime) -> list[Write]:
        """The writes that may go now: a create to look up in a list QuickBooks has not been read whole from
        yet (connect reads them; on Desktop, the session before it sends) waits for the next run, so that it
        is not created beside the object it would have found."""
        looked_up = [(w, lt) for w in ready if (lt := self._looked_up_in(run, w)) is not None]
        if not looked_up or all(lt in run.lists_read for _, lt in looked_up):
            return ready
        marks = self.mirror.marks(run.tenant_id)
        run.lists_read = {lt for lt, mark in marks.items() if mark.loaded}
        waiting = [(w, lt) for w, lt in looked_up if lt not in run.lists_read]
        if not waiting:
            return ready
        changes = _Changes()
        self._deferred(run.tenant_id, LISTS_UNREAD, len(waiting))
        for write, list_type in waiting:
            record = write.record
            run.deferred.add(record.key)
            why = (
                f"waits for QuickBooks' {list_type.value}s to be read: it is looked up there before it "
                "is created"
            )
            if not (record.history and record.history[-1].detail == why):
                changes.explain(record, why, now)
        self._store(run, run.tenant_id, changes)
        if self.profile.record_retry_pauses_run:
            run.stop(RetryLaterError("the company's lists are being read", LISTS_WAIT))
        held = {w.record.key for w, _ in waiting}
        return [w for w in ready if w.record.key not in held]

    def _looked_up_in(self, run: SyncRun, write: Write) -> ListType | None:
        """The list a create of a customer or item with a key is looked up in before it is sent; else None."""
        record = write.record
        list_type = LIST_OF_RECORD_TYPE.get(record.record_type)
        if (
            record.record_type not in LOOKED_UP_BEFORE_CREATE
            or list_type is None
            or record.operation is not Operation.UPSERT
            or record.quickbooks_id is not None
            or _unconfirmed(record)
        ):
            return None
        key = run.settings.match_rules.of(record.record_type).key
        value = getattr(write.model, key.value, None) if key is not None else None
        if key is None or not isinstance(value, str) or not value.strip():
            return None
        return list_type

    def _key_holders(self, run: SyncRun, write: Write) -> tuple[str, list[ListEntry]] | None:
        """For a create of a customer or item with a key: the key's name and the active objects of the
        mirror that have it and that no other record is linked to (maybe none); else None."""
        record = write.record
        list_type = self._looked_up_in(run, write)
        if list_type is None:
            return None
        key = run.settings.match_rules.of(record.record_type).key
        assert key is not None  # _looked_up_in said it has one
        value = str(getattr(write.model, key.value))
        entries = [e for e in self.mirror.find(run.tenant_id, list_type, key, value) if e.active]
        linked = self.store.linked(run.tenant_id, record.record_type, [e.quickbooks_id for e in entries])
        free = [e for e in entries if linked.get(e.quickbooks_id, record.record_id) == record.record_id]
        return key.value, sorted(free, key=lambda e: e.quickbooks_id)

    def _parsed(self, candidates: list[SyncRecord], changes: _Changes, now: datetime) -> dict[str, BaseModel]:
        """Each record's canonical model, by key; a record whose stored data no longer parses (stored under
        older rules) fails with the reason instead."""
        if len(self._models) > MODELS_KEPT:
            self._models.clear()
        models: dict[str, BaseModel] = {}
        for record in candidates:
            cached = (record.tenant_id, record.key, record.revision)
            model = self._models.get(cached)
            if model is None:
                try:
                    model = parse_record(record.record_type, record.data)
                except ValueError as error:  # pydantic's ValidationError is a ValueError
                    changes.fail(record, _unreadable(error), now, answered=False)
                    continue
                self._models[cached] = model
            models[record.key] = model
        return models

    def _mark_syncing(self, run: SyncRun, chunk: list[Write]) -> list[Write]:
        now = self.clock.now()
        changes = _Changes()
        for write in chunk:
            marked = write.record.copy()
            marked.attempts += 1
            marked.move(SyncState.SYNCING, now, "sent to QuickBooks")
            changes.put(marked, write.record)
        stored = self._store(run, run.tenant_id, changes)
        return [
            dataclasses.replace(write, record=marked)
            for write, (marked, _), ok in zip(chunk, changes.items, stored, strict=True)
            if ok
        ]

    def _all_wait_for_connection(self, run: SyncRun, why: str) -> None:
        """Without a connection nothing of the tenant's can go: every pending record says so, not only the
        batch that found out (an invoice waiting for its customer waits for the connection as much)."""
        now = self.clock.now()
        changes = _Changes()
        for record in self._candidates(run.tenant_id):
            if record.state is SyncState.PENDING and record.waiting_for != (CONNECTION,):
                waiting = record.copy()
                waiting.move(SyncState.PENDING, now, why)
                waiting.waiting_for = (CONNECTION,)
                changes.put(waiting, record)
        self._store(run, run.tenant_id, changes)

    # ------------------------------------------------------------------ settling

    def settle(self, run: SyncRun, batch: Batch, outcomes: Outcomes) -> None:
        """Store what became of a batch; decide what follows (a follow-up question, a pause)."""
        changes = _Changes()
        if batch.writes:
            self._settle_writes(run, batch.writes, outcomes, changes)
        else:
            self._settle_questions(run, batch, outcomes, changes)
        self._store(run, run.tenant_id, changes)

    def _settle_writes(
        self, run: SyncRun, writes: Sequence[Write], outcomes: Outcomes, changes: _Changes
    ) -> None:
        now = self.clock.now()
        if outcomes.fault is not None:
            self._whole_write_fault(run, writes, outcomes.fault, outcomes.maybe_applied, changes)
            return
        run.unanswered_in_a_row = 0
        for write in writes:
            result = outcomes.written.get(write.record.key)
            with log_keys(**_record_keys(write.record)):
                if result is None:  # the answer says nothing of it: as if it were lost
                    changes.set_aside(write.record, "QuickBooks' answer left it out", now, maybe_applied=True)
                    self._deferred(run.tenant_id, FaultAction.OUTCOME_UNKNOWN.value, 1)
                else:
                    changes.put(self._after_write(run, write, result, now), write.record)

    def _whole_write_fault(
        self, run: SyncRun, writes: Sequence[Write], fault: Fault, maybe: bool, changes: _Changes
    ) -> None:
        now = self.clock.now()
        records = [write.record for write in writes]
        if fault.action in _SET_ASIDE:
            self._deferred(run.tenant_id, fault.action.value, len(records))
        if fault.action is FaultAction.OUTCOME_UNKNOWN:
            why = f"{fault.message}; it is looked up before it is sent again"
            for record in records:
                changes.set_aside(record, why, now, maybe_applied=True)
            run.unanswered_in_a_row += 1  # the next round looks these up; only another such batch pauses
            if run.unanswered_in_a_row >= UNANSWERED_IN_A_ROW_MAX:
                run.stop(RetryLaterError(fault.message, fault.retry_after or DEFAULT_DELAY))
        elif fault.action is FaultAction.RETRY_LATER:
            for record in records:
                changes.set_aside(record, f"{fault.message}; sent again shortly", now, maybe_applied=maybe)
            run.stop(RetryLaterError(fault.message, fault.retry_after or DEFAULT_DELAY))
        elif fault.action is FaultAction.RECONNECT:
            for record in records:
                changes.set_aside(record, fault.message, now, maybe_applied=maybe, connection=True)
            run.stop(WaitingForConnectionError(fault.message))
        else:  # the whole request refused: its records fail, the run goes on
            for record in records:
                changes.fail(record, _failure(fault), now, answered=not maybe)

    def _after_write(self, run: SyncRun, write: Write, result: WriteResult, now: datetime) -> SyncRecord:
        record = write.record
        if result.fault is None:
            return _synced(record, result, run.settings, now)
        fault = result.fault
        again = record.copy()
        if fault.action is FaultAction.RESOLVE_NAME_CLASH and _name_field(record):
            again.attempts = 0  # QuickBooks answered: this send created nothing
            again.move(SyncState.PENDING, now, f"QuickBooks has the name {write.name!r}; asking who has it")
            again.follow_up = FollowUp(FollowUpKind.NAME_HOLDERS, fault.code)
        elif fault.action is FaultAction.REREAD_AND_REAPPLY and record.quickbooks_id:
            again.attempts = 0  # refused for its stale version: nothing of it was applied
            again.move(SyncState.PENDING, now, "changed in QuickBooks meanwhile; reading it again")
            again.follow_up = FollowUp(FollowUpKind.REREAD, fault.code)
        elif fault.action is FaultAction.RETRY_LATER and record.attempts < MAX_ATTEMPTS:
            # Later, not at once: sent again in the same run, it would be asked (and answered) in a loop.
            self._deferred(run.tenant_id, fault.action.value, 1)
            if self.profile.record_retry_pauses_run:
                again.move(SyncState.PENDING, now, f"{fault.message}; retrying")
                run.stop(RetryLaterError(fault.message, fault.retry_after or DEFAULT_DELAY))
            else:
                again.move(SyncState.PENDING, now, f"{fault.message}; retrying at the next run")
                run.deferred.add(record.key)
        else:
            again.attempts = 0
            again.fail(_failure(fault), now)
        return again

    def _settle_questions(self, run: SyncRun, batch: Batch, outcomes: Outcomes, changes: _Changes) -> None:
        now = self.clock.now()
        asked = [
            *((w, "looking up whether an earlier send created it") for w in batch.look_ups),
            *((w, "reading it again after a change in QuickBooks") for w in batch.rereads),
            *((w, f"looking up who has the name {w.name!r}") for w in batch.name_holders),
        ]
        fault = outcomes.fault
        if fault is not None:
            if fault.action in _SET_ASIDE:
                why = f"{fault.message} while looking it up; looked up again shortly"
                self._deferred(run.tenant_id, fault.action.value, len(asked))
                for write, _doing in asked:
                    changes.explain(write.record, why, now)
                run.stop(
                    WaitingForConnectionError(fault.message)
                    if fault.action is FaultAction.RECONNECT
                    else RetryLaterError(fault.message, fault.retry_after or DEFAULT_DELAY)
                )
            else:  # refused: the records fail (one to be looked up still is, if it is sent again)
                for write, doing in asked:
                    failure = _while(_failure(fault), doing)
                    changes.fail(write.record, failure, now, answered=write.record.quickbooks_id is not None)
            return
        for write in batch.look_ups:
            changes.put(_looked_up(write.record, outcomes.found.get(write.record.key), now), write.record)
        for write in batch.rereads:
            changes.put(_reread(write.record, outcomes.current.get(write.record.key), now), write.record)
        for write in batch.name_holders:
            holders = outcomes.holders.get(write.name or "", ())
            changes.put(self._after_holders(run, write, holders, now), write.record)

    def _after_holders(
        self, run: SyncRun, write: Write, holders: Sequence[Found], now: datetime
    ) -> SyncRecord:
        """The name-clash policy, once QuickBooks said who holds the name."""
        record, settings, name = write.record, run.settings, write.name or ""
        code = record.follow_up.code if record.follow_up else ""
        same_kind = [f for f in holders if f.entity == record.record_type]
        other = next((f for f in holders if f.entity != record.record_type), None)
        policy = settings.name_clash_policy
        again = record.copy()
        again.follow_up = None
        if record.follow_up is None and not holders:  # asked before its create: the name is free
            again.follow_up = FollowUp(FollowUpKind.NAME_FREE, "")
            again.move(SyncState.PENDING, now, f"nobody in QuickBooks has the name {name!r}")
            return again
        if policy is NameClashPolicy.LINK_EXISTING and same_kind:
            linked = self.store.find_by_quickbooks_id(
                record.tenant_id, record.record_type, same_kind[0].quickbooks_id
            )
            if linked is None or linked.key == record.key:
                again.quickbooks_id, again.quickbooks_version = (
                    same_kind[0].quickbooks_id,
                    same_kind[0].quickbooks_version,
                )
                again.move(
                    SyncState.PENDING, now, f"linked to the {record.record_type} QuickBooks has as {name!r}"
                )
                return again
        if policy is NameClashPolicy.RENAME_WITH_SUFFIX:
            tries = _rename_count(record, settings) + 1
            if tries <= MAX_RENAMES:
                base = str(getattr(write.model, _name_field(record)))
                again.quickbooks_name = settings.renamed(base, tries + 1)
                again.move(
                    SyncState.PENDING,
                    now,
                    f"{name!r} is taken in QuickBooks; trying {again.quickbooks_name!r}",
                )
                return again
        # The tenant may link it to one of its kind that no other record is linked to.
        free = [
            f
            for f in same_kind
            if (held := self.store.find_by_quickbooks_id(record.tenant_id, f.entity, f.quickbooks_id)) is None
            or held.key == record.key
        ]
        again.fail(_clash_failure(name, record.record_type, other, same_kind, code, free=free), now)
        return again

    # ------------------------------------------------------------------ storing

    def _store(self, run: SyncRun | None, tenant_id: str, changes: _Changes) -> list[bool]:
        """Store the changes (each only if its record is still as read) and tell what they settled: one
        event per record synced or failed, sent together."""
        if not changes.items:
            return []
        stored = self.store.save_all([(new, read.revision, read.state) for new, read in changes.items])
        told: list[tuple[str, dict[str, object]]] = []
        for (new, read), ok in zip(changes.items, stored, strict=True):
            if not ok:
                with log_keys(**_record_keys(read)):
                    log.info("record changed while syncing; the newer revision follows")
                if new.quickbooks_id and new.quickbooks_id != read.quickbooks_id:
                    self._keep_id(read, new)
                continue
            if new.state is SyncState.FAILED and read.state is not SyncState.FAILED:
                with log_keys(**_record_keys(new)):
                    log.info("record failed", extra={"code": new.failure.code if new.failure else None})
                told.append((RECORD_FAILED, _detail(new)))
                code = new.failure.code if new.failure is not None else ""
                self._measure(RECORDS_FAILED, tenant_id, 1, code=code)
                if run is not None:
                    run.failed += 1
            elif new.state in _DONE and read.state is SyncState.SYNCING:
                told.append((RECORD_SYNCED, _detail(new)))
                self._measure(RECORDS_SYNCED, tenant_id, 1)
                if run is not None:
                    run.synced += 1
            elif new.state is SyncState.IGNORED and read.state is not SyncState.IGNORED:
                told.append(ignored_event(new))
        if told:
            self.events.publish_many(tenant_id, told)
        return stored

    def _keep_id(self, sent: SyncRecord, learned: SyncRecord) -> None:
        """The host app changed the record while QuickBooks created it (or while it was looked up): the
        newer revision is still to be sent, as an update of what QuickBooks has, never as a second create."""
        for _ in range(3):
            current = self.store.get(sent.tenant_id, sent.record_type, sent.record_id)
            if current is None or current.quickbooks_id is not None:
                return
            kept = current.copy()
            kept.quickbooks_id, kept.quickbooks_version = learned.quickbooks_id, learned.quickbooks_version
            if self.store.save_all([(kept, current.revision, current.state)])[0]:
                return


# ---------------------------------------------------------------------------------------------- helpers


def _unconfirmed(record: SyncRecord) -> bool:
    """Sent before without a known outcome: it may be in QuickBooks already, so it is looked up first."""
    return bool(record.attempts) and record.operation is Operation.UPSERT and not record.quickbooks_id


def _unchecked_name(write: Write) -> bool:
    """A create of a name not yet asked for (a job's name is its own under its parent: never asked)."""
    record = write.record
    return (
        record.operation is Operation.UPSERT
        and record.quickbooks_id is None
        and not record.attempts
        and record.follow_up is None
        and bool(_name_field(record))
        and getattr(write.model, "parent_id", None) is None
    )


def _follow_up(record: SyncRecord) -> FollowUpKind | None:
    if record.follow_up is None or _unconfirmed(record):
        return None
    if record.follow_up.kind is FollowUpKind.REREAD and not record.quickbooks_id:
        return None
    return record.follow_up.kind


def _wait(
    record: SyncRecord,
    failed: list[str],
    blocked: list[str],
    known: dict[str, SyncRecord],
    *,
    changes: _Changes,
    now: datetime,
) -> None:
    waits = tuple(failed + blocked)
    if failed:
        reasons = "; ".join(_failed_because(key, known[key].failure) for key in failed)
        detail = f"waits for {', '.join(failed)}, which failed ({reasons}); fix it and this follows"
    else:
        named = [_blocking(k, known[k]) for k in blocked]
        detail = f"waits for {', '.join(named)}"
    if (
        record.state is SyncState.PENDING
        and record.waiting_for == waits
        and record.history[-1:]
        and (record.history[-1].detail == detail)
    ):
        return
    updated = record.copy()
    updated.move(SyncState.PENDING, now, detail)
    updated.waiting_for = waits
    changes.put(updated, record)


def _blocking(key: str, dependency: SyncRecord) -> str:
    """A dependency not in QuickBooks, as a waiting record names it: with what the tenant can do about it."""
    if dependency.state is SyncState.DRAFT:
        return f"{key} (a draft: send it)"
    if dependency.state is SyncState.IGNORED:
        return f"{key} (kept out of QuickBooks by the tenant's settings: see its history)"
    return key


def _name_field(record: SyncRecord) -> str:
    """The field QuickBooks knows the record by; "" for a type without a name."""
    return RECORD_TYPES[record.record_type].name_field or ""


def _customer_terms(model: BaseModel, known: dict[str, SyncRecord]) -> str | None:
    """An invoice's customer's terms, as its record names them (that record is synced: QuickBooks has the
    same); None for other records."""
    if not isinstance(model, Invoice):
        return None
    customer = known.get(ref_key("customer", model.customer_id))
    terms = customer.data.get("terms") if customer is not None else None
    return terms if isinstance(terms, str) else None


def _name(record: SyncRecord, model: BaseModel) -> str | None:
    field_name = _name_field(record)
    if not field_name:
        return None
    return record.quickbooks_name or str(getattr(model, field_name))


def _synced(record: SyncRecord, result: WriteResult, settings: SyncSettings, now: datetime) -> SyncRecord:
    done = record.copy()
    done.quickbooks_id = result.quickbooks_id or record.quickbooks_id
    done.quickbooks_version = result.quickbooks_version
    done.synced_revision = record.revision
    done.attempts = 0
    done.force = False
    if record.operation is Operation.DELETE:
        done.move(SyncState.VOIDED, now, "voided in QuickBooks")
    elif lockable(record, settings):
        done.move(SyncState.LOCKED, now, "accepted by QuickBooks; locked by the tenant's settings")
    else:
        done.move(SyncState.SYNCED, now, "accepted by QuickBooks")
    return done


def _looked_up(record: SyncRecord, found: Found | None, now: datetime) -> SyncRecord:
    """An unconfirmed send looked up: what it created is updated from now on, or it is sent again."""
    again = record.copy()
    if found is None:
        again.attempts = 0  # QuickBooks holds nothing of the earlier sends
        again.move(SyncState.PENDING, now, "not found in QuickBooks after an unknown outcome; sent again")
    else:
        again.quickbooks_id, again.quickbooks_version = found.quickbooks_id, found.quickbooks_version
        again.move(SyncState.PENDING, now, "found in QuickBooks after an unknown outcome; sent as an update")
        log.info("found in QuickBooks after an unknown outcome", extra=_record_keys(record))
    return again


def _record_keys(record: SyncRecord) -> dict[str, str]:
    """The log keys of a line about one record."""
    return {"record_type": record.record_type, "record_id": record.record_id}


def _reread(record: SyncRecord, current: Found | None, now: datetime) -> SyncRecord:
    again = record.copy()
    again.follow_up = None
    if current is None:
        again.quickbooks_id = again.quickbooks_version = None
        again.fail(Failure(
            "deleted_in_quickbooks", "It was deleted in QuickBooks. Send it again to create it anew.",
            ("send_again",),
        ), now)  # fmt: skip
        return again
    again.quickbooks_version = current.quickbooks_version
    again.move(SyncState.PENDING, now, "changed in QuickBooks meanwhile; applying the change again")
    return again


def _failure(fault: Fault) -> Failure:
    """The failure a record gets from a fault: its code, its words, and what the tenant can do."""
    return Failure(fault.code, fault.message, fault.actions or ("edit",), fault.field)


def _unreadable(error: ValueError) -> Failure:
    """The failure of a record whose stored data does not parse (it was stored under older rules)."""
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False)[0] if error.error_count() else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        said = f"{where}: {first['msg']}" if first and where else (first["msg"] if first else str(error))
    else:
        where, said = "", str(error)
    return Failure(
        "invalid_record",
        f"It cannot be sent as stored ({said[:300]}). Push it again with this fixed.",
        ("edit",),
        where,
    )


def _while(failure: Failure, doing: str) -> Failure:
    return Failure(failure.code, f"{failure.message} (while {doing})", failure.actions, failure.field)


def batch_request_id(tenant_id: str, writes: Sequence[Write]) -> str:
    """The request id of a batch: the same writes always get the same id (≤ 36 characters), and a re-applied
    change (new version), a rename, a new revision or a new generation (a record unlinked from the object it
    had, to be created anew) gets a new one. QuickBooks Online answers a request id it has seen with its
    first answer ("requestid", Intuit's Accounting API idempotency): an unlinked record sent with its old
    create's id would be given the old object again."""
    material = "\x1e".join(
        "\x1f".join(
            (
                w.record.key,
                str(w.record.revision),
                w.record.operation.value,
                w.record.quickbooks_id or "",
                w.record.quickbooks_version or "",
                w.name or "",
                *([str(w.record.generation)] if w.record.generation else []),  # ids of generation 0 kept
            )
        )
        for w in writes
    )
    return "qbs-" + hashlib.sha256(f"{tenant_id}\x1d{material}".encode()).hexdigest()[:32]


def _clash_failure(
    name: str, record_type: str, other: Found | None, same_kind: list[Found], code: str, *, free: list[Found]
) -> Failure:
    """A name clash: who holds the name, and the holders of the record's kind it may be linked to instead
    (`free`: none that another record is linked to already)."""
    if other is not None:
        whose = f"a {other.entity} (QuickBooks id {other.quickbooks_id})"
        actions: tuple[str, ...] = ("rename",)
    elif same_kind:
        whose = f"another {record_type} (QuickBooks id {same_kind[0].quickbooks_id})"
        actions = ("rename", "link_existing")
    else:
        whose = "another customer, vendor or employee, perhaps inactive"
        actions = ("rename", "link_existing")
    listed = LIST_OF_RECORD_TYPE.get(record_type)
    list_type = listed.value if listed is not None else record_type
    return Failure(
        code or "name_clash",
        f"QuickBooks already uses the name {name!r} for {whose}; names are unique across customers, "
        "vendors and employees.",
        actions,
        RECORD_TYPES[record_type].name_field or "",
        tuple(Candidate(f.quickbooks_id, f.name or name, list_type) for f in free)
        if "link_existing" in actions
        else (),
    )


def _ambiguous(record_type: str, key: str, entries: list[ListEntry]) -> Failure:
    """A create whose key several objects QuickBooks has share: a person links the right one."""
    listed = ", ".join(f"{e.quickbooks_id} ({e.name})" for e in entries)
    kind = record_type.replace("_", " ")
    return Failure(
        "ambiguous_match",
        f"QuickBooks has {len(entries)} {kind}s with this {key}: {listed}. Link the record to the one it is "
        f"(or change its {key}); it is not created, so as not to add another.",
        ("link_existing", EDIT),
        key,
        tuple(Candidate(e.quickbooks_id, e.name, e.list_type.value) for e in entries),
    )


def _failed_because(key: str, failure: Failure | None) -> str:
    return f"{key} failed: {failure.message}" if failure else f"{key} failed"


def _rename_count(record: SyncRecord, settings: SyncSettings) -> int:
    """How many renamed tries were made: 0 before the first (quickbooks_name unset), then 1, 2, ..."""
    if record.quickbooks_name is None:
        return 0
    for n in range(2, MAX_RENAMES + 2):
        if record.quickbooks_name.endswith(settings.rename_suffix.replace("{n}", str(n))):
            return n - 1
    return MAX_RENAMES


def ignored_event(record: SyncRecord) -> tuple[str, dict[str, Any]]:
    """`record.ignored` of a record just kept out of QuickBooks, with why (its history's last line)."""
    return RECORD_IGNORED, {**_detail(record), "reason": record.history[-1].detail if record.history else ""}


def _detail(record: SyncRecord) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "record_type": record.record_type,
        "record_id": record.record_id,
        "state": record.state.value,
        "revision": record.revision,
        "quickbooks_id": record.quickbooks_id,
    }
    if record.failure is not None:
        detail["failure"] = record.failure.as_dict()
    if record.quickbooks_name is not None:
        detail["quickbooks_name"] = record.quickbooks_name
    return detail
