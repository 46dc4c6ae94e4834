"""The sync run: send a tenant's pending records to QuickBooks in batches, dependencies first, never twice.

One run per tenant at a time (a lease across every worker). A run repeats rounds until nothing is left that it
can send: each round reads the pending records, keeps those whose dependencies QuickBooks already has, and
sends them in batches of at most 30, customers, vendors and items before the documents that use them.

No duplicates, whatever fails:
- before a batch is sent, its records are stored as `syncing`; the batch carries a requestid derived from what
  it sends, so sending the same batch again is answered by QuickBooks with the first result;
- a record found `syncing` when a round starts had an unknown outcome (a lost answer, a crashed worker): it is
  looked up in QuickBooks (by DocNumber or name) before it is created again;
- a stale SyncToken (5010) is read again and the change re-applied in the next round.

Every call to QuickBooks (look-up, write, re-read, name search) goes through one classification
(`trouble_of`): try again later with a delay (throttled, a server error, no answer, the request budget
spent), wait for the connection (the tenant must connect again), or fail the records it was about. A run
never aborts on one record's data: a record that cannot be parsed or mapped fails with its reason, and the
others go.
Throttling and server errors end the run early; the worker asks for the next run with a delay.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from qbsync.domain.connections import EventPublisher, OAuthProviderError, QboAuthenticationError
from qbsync.domain.ports import Clock
from qbsync.domain.qbo_faults import (
    FaultAction,
    QboFaultError,
    QboOutcomeUnknownError,
    RequestBudgetExceededError,
)
from qbsync.domain.records import parse_record, references
from qbsync.domain.settings import NameClashPolicy, SettingsRepository, SyncSettings
from qbsync.domain.sync import (
    Books,
    Failure,
    Found,
    Operation,
    RecordStore,
    StaleRecordError,
    SyncRecord,
    SyncState,
    TenantLease,
    Write,
    WriteResult,
    ref_key,
)
from qbsync.usecases.records import lockable
from qbsync.usecases.settings import settings_in_force
from qbsync.usecases.tokens import NotConnectedError

log = logging.getLogger(__name__)

BATCH_MAX = 30  # NOTES §3.4
LEASE = timedelta(minutes=3)  # longer than the worker's timeout: a crashed run's lease lapses by itself
PAGE = 500
MAX_ATTEMPTS = 5  # sends of one revision that QuickBooks answered "try later" before it is failed
MAX_RENAMES = 20
UNKNOWN_RETRIES = 2  # the same batch, same requestid, sent again at once after a lost answer
UNANSWERED_IN_A_ROW_MAX = 2  # batches left unanswered after their repeats before the run pauses
CONNECTION = "connection"  # in waiting_for: the tenant's QuickBooks connection
WAITS_FOR_CONNECTION = "waits for QuickBooks: the tenant must connect (or reconnect) the company"
RECORD_SYNCED = "record.synced"
RECORD_FAILED = "record.failed"
# Sending order: a record's dependencies are always of an earlier rank.
RANK = {
    "customer": 0, "vendor": 0, "employee": 0, "item": 0,
    "invoice": 1, "credit_memo": 1, "purchase_order": 1,
    "payment": 2, "bill": 2,
}  # fmt: skip
NAME_FIELD = {
    "customer": "display_name",
    "vendor": "display_name",
    "employee": "display_name",
    "item": "name",
}


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


class Verdict(StrEnum):
    """What a call to QuickBooks that did not succeed means for the records it was about."""

    RETRY_LATER = "retry_later"  # nothing of it was applied; the same call may succeed later
    OUTCOME_UNKNOWN = "outcome_unknown"  # it may or may not have been applied: look before sending again
    WAIT_FOR_CONNECTION = "wait_for_connection"  # the tenant must connect (again)
    FAIL = "fail"  # QuickBooks refused it: the records fail with its reason


@dataclass(frozen=True)
class Trouble:
    """A call to QuickBooks that did not succeed, classified."""

    verdict: Verdict
    reason: str  # plain words for the records' history: "QuickBooks answered 503"
    delay: timedelta = timedelta(0)
    failure: Failure | None = None  # for FAIL

    def pause(self) -> RetryLaterError | WaitingForConnectionError:
        """The exception that ends the run for this trouble (not for FAIL: the run goes on)."""
        if self.verdict is Verdict.WAIT_FOR_CONNECTION:
            return WaitingForConnectionError(self.reason)
        return RetryLaterError(self.reason, self.delay)


NO_ANSWER_DELAY = timedelta(seconds=30)
THROTTLED_DELAY = timedelta(seconds=60)
SERVER_ERROR_DELAY = timedelta(seconds=20)
TOKEN_DELAY = timedelta(seconds=30)  # Intuit's token endpoint failed, or another worker's refresh is slow


# Errors a call to QuickBooks raises, other than its faults, and what they mean.
_CALL_ERRORS: tuple[tuple[tuple[type[Exception], ...], Verdict, str, timedelta], ...] = (
    ((QboOutcomeUnknownError,), Verdict.OUTCOME_UNKNOWN, "QuickBooks did not answer", NO_ANSWER_DELAY),
    (
        (QboAuthenticationError, NotConnectedError),
        Verdict.WAIT_FOR_CONNECTION,
        WAITS_FOR_CONNECTION,
        timedelta(0),
    ),
    (
        (OAuthProviderError, TimeoutError),
        Verdict.RETRY_LATER,
        "the connection's tokens could not be refreshed",
        TOKEN_DELAY,
    ),
)


def trouble_of(error: Exception) -> Trouble | None:
    """The one classification of what a call to QuickBooks raised; None for anything else (a bug: it
    propagates). Every call site of the engine uses it, so a fault means the same wherever it happens."""
    if isinstance(error, QboFaultError):
        said = f"QuickBooks answered {error.status}"
        if error.action is FaultAction.RETRY_LATER:
            delay = THROTTLED_DELAY if error.status == 429 else SERVER_ERROR_DELAY
            return Trouble(Verdict.RETRY_LATER, said, delay)
        if error.action is FaultAction.REAUTHORIZE:
            return Trouble(Verdict.WAIT_FOR_CONNECTION, WAITS_FOR_CONNECTION)
        return Trouble(Verdict.FAIL, said, failure=failure_of(error))
    if isinstance(error, RequestBudgetExceededError):
        delay = timedelta(seconds=max(1.0, error.retry_after))
        return Trouble(Verdict.RETRY_LATER, "the company's request budget is spent", delay)
    for kinds, verdict, reason, delay in _CALL_ERRORS:
        if isinstance(error, kinds):
            return Trouble(verdict, reason, delay)
    return None


def _classified(error: Exception) -> Trouble:
    trouble = trouble_of(error)
    if trouble is None:
        raise error
    log.info(
        "QuickBooks call did not succeed", extra={"verdict": trouble.verdict.value, "reason": trouble.reason}
    )
    return trouble


@dataclass(frozen=True)
class RunReport:
    sent: int = 0
    synced: int = 0
    failed: int = 0
    waiting: int = 0
    rounds: int = 0
    more: bool = False  # stopped by the time budget with records still to send


@dataclass
class _Tally:
    sent: int = 0
    synced: int = 0
    failed: int = 0
    rounds: int = 0
    unanswered_in_a_row: int = 0  # batches whose every attempt went unanswered, since the last answer
    # Set while results are applied when a re-read or a name search could not be made: the batch's other
    # results are stored first, then the run ends with it.
    pause: RetryLaterError | WaitingForConnectionError | None = None


@dataclass
class SyncEngine:
    store: RecordStore
    books: Books
    settings: SettingsRepository
    runs: TenantLease
    events: EventPublisher
    clock: Clock
    budget: timedelta = timedelta(seconds=50)  # stop starting batches after this; the worker re-queues
    _tally: _Tally = field(default_factory=_Tally)

    def run(self, tenant_id: str) -> RunReport:
        owner = uuid.uuid4().hex
        if not self.runs.acquire(tenant_id, owner, self.clock.now(), LEASE):
            raise TenantBusyError(f"tenant {tenant_id} is being synced by another worker")
        try:
            self.runs.take_request(tenant_id)
            _, settings = settings_in_force(self.settings, tenant_id)
            return self._rounds(tenant_id, settings)
        finally:
            self.runs.release(tenant_id, owner)

    def fail_stuck(self, tenant_id: str, reason: str) -> int:
        """Mark failed every record a run that kept crashing left pending or syncing, with the reason."""
        failure = Failure("internal_error", f"Sending stopped on an error: {reason[:500]}", ("send_again",))
        now = self.clock.now()
        stuck = list(self._candidates(tenant_id))
        for record in stuck:
            self._fail(record, failure, now, answered=False)
        return len(stuck)

    def _rounds(self, tenant_id: str, settings: SyncSettings) -> RunReport:
        self._tally = tally = _Tally()
        deadline = self.clock.now() + self.budget
        waiting = 0
        while True:
            candidates = list(self._candidates(tenant_id))
            ready, waiting = self._plan(tenant_id, candidates)
            if not ready:
                break
            if self.clock.now() >= deadline:
                return RunReport(tally.sent, tally.synced, tally.failed, waiting, tally.rounds, more=True)
            tally.rounds += 1
            ready.sort(key=lambda w: (RANK[w.record.record_type], w.record.updated_at, w.record.key))
            for start in range(0, len(ready), BATCH_MAX):
                if start and self.clock.now() >= deadline:
                    return RunReport(tally.sent, tally.synced, tally.failed, waiting, tally.rounds, more=True)
                try:
                    self._send(tenant_id, settings, ready[start : start + BATCH_MAX])
                except WaitingForConnectionError:
                    self._all_wait_for_connection(tenant_id)
                    raise
        return RunReport(tally.sent, tally.synced, tally.failed, waiting, tally.rounds)

    def _all_wait_for_connection(self, tenant_id: str) -> None:
        """Without a connection nothing of the tenant's can go: every pending record says so, not only the
        batch that found out (an invoice waiting for its customer waits for the connection as much)."""
        now = self.clock.now()
        for record in list(self._candidates(tenant_id)):
            if record.state is SyncState.PENDING and record.waiting_for != (CONNECTION,):
                waiting = record.copy()
                waiting.move(SyncState.PENDING, now, WAITS_FOR_CONNECTION)
                waiting.waiting_for = (CONNECTION,)
                self._save(waiting, record)

    # ------------------------------------------------------------------ planning

    def _candidates(self, tenant_id: str) -> Iterator[SyncRecord]:
        for state in (SyncState.SYNCING, SyncState.PENDING):
            cursor: str | None = None
            while True:
                page = self.store.in_state(tenant_id, state, PAGE, cursor)
                yield from page.items
                cursor = page.next_cursor
                if cursor is None:
                    break

    def _plan(self, tenant_id: str, candidates: list[SyncRecord]) -> tuple[list[Write], int]:
        """The writes whose dependencies QuickBooks has; the others are marked with what they wait for. A
        record whose stored data no longer parses fails with the reason; it stops no other record."""
        now = self.clock.now()
        models = self._parsed(candidates, now)
        needed = {
            ref
            for record in candidates
            if record.key in models and record.operation is Operation.UPSERT
            for ref in references(models[record.key])
        }
        known = self.store.get_many(tenant_id, sorted(needed)) if needed else {}
        ready: list[Write] = []
        waiting = 0
        for record in (r for r in candidates if r.key in models):
            model = models[record.key]
            deps = references(model) if record.operation is Operation.UPSERT else []
            ids: dict[str, str] = {}
            blocked: list[str] = []
            failed: list[str] = []
            gone: list[str] = []
            for kind, dep_id in deps:
                dep = known.get(ref_key(kind, dep_id))
                if dep is None or dep.state is SyncState.VOIDED:
                    gone.append(ref_key(kind, dep_id))
                elif dep.state in (SyncState.SYNCED, SyncState.LOCKED) and dep.qbo_id:
                    ids[dep.key] = dep.qbo_id
                else:
                    (failed if dep.state is SyncState.FAILED else blocked).append(dep.key)
            if gone:
                self._fail(record, Failure("dependency_missing", f"It refers to {', '.join(gone)}, which "
                           "was deleted.", ("edit",)), now)  # fmt: skip
            elif failed or blocked:
                waiting += 1
                # Only what needs the tenant is written down: a failed or unsent (draft) dependency. One
                # that is merely pending goes out in this run, before this record.
                if failed or any(known[k].state is SyncState.DRAFT for k in blocked):
                    self._wait(record, failed, blocked, known, now)
            else:
                ready.append(Write(record, model, ids, self._name(record, model)))
        return ready, waiting

    def _parsed(self, candidates: list[SyncRecord], now: datetime) -> dict[str, BaseModel]:
        """Each record's canonical model, by key; a record whose stored data no longer parses (stored under
        older rules) fails with the reason instead."""
        models: dict[str, BaseModel] = {}
        for record in candidates:
            try:
                models[record.key] = parse_record(record.record_type, record.data)
            except ValueError as error:  # pydantic's ValidationError is a ValueError
                self._fail(record, _unreadable(error), now, answered=False)
        return models

    def _wait(
        self,
        record: SyncRecord,
        failed: list[str],
        blocked: list[str],
        known: dict[str, SyncRecord],
        now: datetime,
    ) -> None:
        waits = tuple(failed + blocked)
        if failed:
            reasons = "; ".join(_failed_because(key, known[key].failure) for key in failed)
            detail = f"waits for {', '.join(failed)}, which failed ({reasons}); fix it and this follows"
        else:
            named = [f"{k} (a draft: send it)" if known[k].state is SyncState.DRAFT else k for k in blocked]
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
        self._save(updated, record)

    def _name(self, record: SyncRecord, model: BaseModel) -> str | None:
        field_name = NAME_FIELD.get(record.record_type)
        if field_name is None:
            return None
        return record.qbo_name or str(getattr(model, field_name))

    # ------------------------------------------------------------------ sending

    def _send(self, tenant_id: str, settings: SyncSettings, chunk: list[Write]) -> None:
        chunk = self._look_up_unconfirmed(tenant_id, chunk)
        now = self.clock.now()
        writes: list[Write] = []
        for write in chunk:
            marked = write.record.copy()
            marked.attempts += 1
            marked.move(SyncState.SYNCING, now, "sent to QuickBooks")
            if not self._save(marked, write.record):
                continue  # changed meanwhile: the next round sends the new revision
            writes.append(Write(marked, write.model, write.ids, write.name))
        if not writes:
            return
        self._tally.sent += len(writes)
        results = self._write(tenant_id, settings, writes)
        if results is None:
            return  # refused as a whole (its records failed), or unanswered (they are looked up next round)
        for write, result in zip(writes, results, strict=True):
            self._apply(tenant_id, settings, write, result)
        if self._tally.pause is not None:
            pause, self._tally.pause = self._tally.pause, None
            raise pause

    def _look_up_unconfirmed(self, tenant_id: str, chunk: list[Write]) -> list[Write]:
        """The chunk, with what an unconfirmed earlier send created linked, so that it is updated rather than
        created twice. A look-up QuickBooks refuses fails those records (they stay to be looked up again when
        sent again); one that cannot be made now ends the run."""
        unconfirmed = [
            w
            for w in chunk
            if w.record.attempts and w.record.operation is Operation.UPSERT and not w.record.qbo_id
        ]
        if not unconfirmed:
            return chunk
        found = self._find(tenant_id, unconfirmed)
        if isinstance(found, Trouble):
            trouble = found
            keys = {w.record.key for w in unconfirmed}
            if trouble.verdict is Verdict.FAIL:
                assert trouble.failure is not None
                failure = _while(trouble.failure, "looking up whether an earlier send created it")
                now = self.clock.now()
                for write in unconfirmed:
                    self._fail(write.record, failure, now, answered=False)
                return [w for w in chunk if w.record.key not in keys]
            self._explain(unconfirmed, f"{trouble.reason} while looking it up; looked up again shortly")
            raise trouble.pause()
        by_key = dict(zip((w.record.key for w in unconfirmed), found, strict=True))
        return [_linked(w, by_key.get(w.record.key)) for w in chunk]

    def _find(self, tenant_id: str, writes: list[Write]) -> list[Found | None] | Trouble:
        """The look-up, asked again at once when its answer is lost (a read changes nothing)."""
        for attempt in range(UNKNOWN_RETRIES + 1):
            try:
                return self.books.find(tenant_id, writes)
            except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
                trouble = _classified(error)
            if trouble.verdict is not Verdict.OUTCOME_UNKNOWN or attempt == UNKNOWN_RETRIES:
                return trouble
        raise AssertionError("unreachable: the last attempt returns")

    def _write(self, tenant_id: str, settings: SyncSettings, writes: list[Write]) -> list[WriteResult] | None:
        request_id = batch_request_id(tenant_id, writes)
        # Once an attempt's answer is lost, QuickBooks may hold these records whatever later attempts say.
        maybe_applied = False
        for attempt in range(UNKNOWN_RETRIES + 1):
            try:
                results = self.books.write(tenant_id, writes, settings, request_id)
            except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
                trouble = _classified(error)
            else:
                self._tally.unanswered_in_a_row = 0
                return results
            if trouble.verdict is Verdict.OUTCOME_UNKNOWN:
                maybe_applied = True
                if attempt < UNKNOWN_RETRIES:
                    continue
                why = f"{trouble.reason}; it is looked up before it is sent again"
                self._set_aside(writes, why, maybe_applied=True)
                # The next round looks these up; only QuickBooks answering nothing again ends the run.
                self._tally.unanswered_in_a_row += 1
                if self._tally.unanswered_in_a_row >= UNANSWERED_IN_A_ROW_MAX:
                    raise trouble.pause()
                return None
            if (
                trouble.verdict is Verdict.FAIL
            ):  # the whole request refused: its records fail, the run goes on
                assert trouble.failure is not None
                now = self.clock.now()
                for write in writes:
                    self._fail(write.record, trouble.failure, now, answered=not maybe_applied)
                return None
            connection = trouble.verdict is Verdict.WAIT_FOR_CONNECTION
            why = trouble.reason if connection else f"{trouble.reason}; sent again shortly"
            self._set_aside(writes, why, maybe_applied=maybe_applied, connection=connection)
            raise trouble.pause()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _set_aside(
        self, writes: list[Write], why: str, *, maybe_applied: bool, connection: bool = False
    ) -> None:
        """Nothing of this send is known to be in QuickBooks: pending again, and the send is not counted.
        If an attempt's answer was lost, QuickBooks may hold them: they stay `syncing` (and cannot be deleted
        meanwhile) with the reason, counted, to be looked up before they are created again."""
        now = self.clock.now()
        for write in writes:
            back = write.record.copy()
            if maybe_applied:
                back.move(SyncState.SYNCING, now, why)
            else:
                back.attempts = max(0, back.attempts - 1)
                back.move(SyncState.PENDING, now, why)
                if connection:
                    back.waiting_for = (CONNECTION,)
            self._save(back, write.record)

    def _explain(self, writes: Sequence[Write], why: str) -> None:
        """Say on each record why it did not move on, leaving its state as it is."""
        now = self.clock.now()
        for write in writes:
            explained = write.record.copy()
            explained.move(explained.state, now, why)
            self._save(explained, write.record)

    # ------------------------------------------------------------------ results

    def _apply(self, tenant_id: str, settings: SyncSettings, write: Write, result: WriteResult) -> None:
        record, now = write.record, self.clock.now()
        if result.problem is not None:
            self._fail(record, result.problem, now)
        elif result.fault is not None:
            self._fault(tenant_id, settings, write, result.fault)
        else:
            self._synced(record, result, settings, now)

    def _synced(self, record: SyncRecord, result: WriteResult, settings: SyncSettings, now: datetime) -> None:
        done = record.copy()
        done.qbo_id = result.qbo_id or record.qbo_id
        done.sync_token = result.sync_token
        done.synced_revision = record.revision
        done.attempts = 0
        done.force = False
        if record.operation is Operation.DELETE:
            done.move(SyncState.VOIDED, now, "voided in QuickBooks")
        elif lockable(record, settings):
            done.move(SyncState.LOCKED, now, "accepted by QuickBooks; locked by the tenant's settings")
        else:
            done.move(SyncState.SYNCED, now, "accepted by QuickBooks")
        if self._save(done, record):
            self._tally.synced += 1
            self.events.publish(RECORD_SYNCED, record.tenant_id, _detail(done))
        elif result.qbo_id and result.qbo_id != record.qbo_id:
            self._keep_id(record, result)

    def _keep_id(self, sent: SyncRecord, result: WriteResult) -> None:
        """The host app changed the record while QuickBooks created it: the newer revision is still to be
        sent, but as an update of what QuickBooks now has, never as a second create."""
        for _ in range(3):
            current = self.store.get(sent.tenant_id, sent.record_type, sent.record_id)
            if current is None or current.qbo_id is not None:
                return
            kept = current.copy()
            kept.qbo_id, kept.sync_token = result.qbo_id, result.sync_token
            if self._save(kept, current):
                return

    def _fault(self, tenant_id: str, settings: SyncSettings, write: Write, fault: QboFaultError) -> None:
        record, now = write.record, self.clock.now()
        action = fault.action
        if action is FaultAction.RESOLVE_NAME_CLASH and record.record_type in NAME_FIELD:
            self._name_clash(tenant_id, settings, write, fault)
        elif action is FaultAction.REREAD_AND_REAPPLY and record.qbo_id:
            try:
                current = self.books.read(tenant_id, record.record_type, record.qbo_id)
            except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
                self._not_now(record, _classified(error), "reading it again after a change in QuickBooks")
                return
            again = record.copy()
            if current is None:
                again.qbo_id = again.sync_token = None
                self._fail(again, Failure(
                    "deleted_in_quickbooks",
                    "It was deleted in QuickBooks. Send it again to create it anew.",
                    ("send_again",),
                ), now)  # fmt: skip
                return
            again.sync_token = current.sync_token
            again.move(SyncState.PENDING, now, "changed in QuickBooks meanwhile; applying the change again")
            self._save(again, record)
        elif action is FaultAction.RETRY_LATER and record.attempts < MAX_ATTEMPTS:
            again = record.copy()
            again.move(SyncState.PENDING, now, f"QuickBooks answered {fault.codes or fault.status}; retrying")
            self._save(again, record)
        else:
            self._fail(record, failure_of(fault), now)

    def _not_now(self, record: SyncRecord, trouble: Trouble, doing: str) -> None:
        """QuickBooks answered the record's write with a fault that needs one more call, and that call did not
        succeed: the record fails with the call's reason, or goes back to pending and the run ends after
        this batch's other results are stored."""
        now = self.clock.now()
        if trouble.verdict is Verdict.FAIL:
            assert trouble.failure is not None
            self._fail(record, _while(trouble.failure, doing), now)
            return
        back = record.copy()
        back.attempts = 0  # QuickBooks answered the write with a fault: it created nothing
        if trouble.verdict is Verdict.WAIT_FOR_CONNECTION:
            back.move(SyncState.PENDING, now, trouble.reason)
            back.waiting_for = (CONNECTION,)
        else:
            back.move(SyncState.PENDING, now, f"{trouble.reason} while {doing}; sent again shortly")
        self._save(back, record)
        current = self._tally.pause
        if current is None or isinstance(trouble.pause(), WaitingForConnectionError):
            self._tally.pause = trouble.pause()
        elif isinstance(current, RetryLaterError):
            current.delay = max(current.delay, trouble.delay)

    def _name_clash(self, tenant_id: str, settings: SyncSettings, write: Write, fault: QboFaultError) -> None:
        record, now = write.record, self.clock.now()
        name = write.name or ""
        try:
            holders = self.books.find_name(tenant_id, name)
        except Exception as error:  # noqa: BLE001 - classified; anything else is raised again
            self._not_now(record, _classified(error), f"looking up who has the name {name!r}")
            return
        same_kind = [f for f in holders if f.entity == record.record_type]
        other = next((f for f in holders if f.entity != record.record_type), None)
        policy = settings.name_clash_policy
        again = record.copy()
        again.attempts = 0  # QuickBooks answered: this send created nothing, so nothing is to be looked up
        if policy is NameClashPolicy.LINK_EXISTING and same_kind:
            linked = self.store.find_by_qbo_id(tenant_id, record.record_type, same_kind[0].qbo_id)
            if linked is None or linked.key == record.key:
                again.qbo_id, again.sync_token = same_kind[0].qbo_id, same_kind[0].sync_token
                again.move(
                    SyncState.PENDING, now, f"linked to the {record.record_type} QuickBooks has as {name!r}"
                )
                self._save(again, record)
                return
        if policy is NameClashPolicy.RENAME_WITH_SUFFIX:
            tries = _rename_count(record, settings) + 1
            if tries <= MAX_RENAMES:
                base = str(getattr(write.model, NAME_FIELD[record.record_type]))
                again.qbo_name = settings.renamed(base, tries + 1)
                again.move(
                    SyncState.PENDING, now, f"{name!r} is taken in QuickBooks; trying {again.qbo_name!r}"
                )
                self._save(again, record)
                return
        self._fail(record, _clash_failure(name, record.record_type, other, same_kind, fault), now)

    # ------------------------------------------------------------------ storing

    def _fail(self, record: SyncRecord, failure: Failure, now: datetime, *, answered: bool = True) -> None:
        """Fail the record. `answered`: QuickBooks refused it for sure, so it holds nothing of this send;
        otherwise the send count stays, and the record is looked up before it is created again."""
        failed = record.copy()
        if answered:
            failed.attempts = 0
        failed.fail(failure, now)
        if self._save(failed, record):
            self._tally.failed += 1
            self.events.publish(RECORD_FAILED, record.tenant_id, _detail(failed))

    def _save(self, record: SyncRecord, read: SyncRecord) -> bool:
        """Store `record` if the stored one is still `read`; False when the host app changed it meanwhile."""
        try:
            self.store.save(record, read.revision, read.state)
        except StaleRecordError:
            log.info("record changed while syncing; the newer revision follows", extra={"record": read.key})
            return False
        return True


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


def _linked(write: Write, found: Found | None) -> Write:
    """The write, as an update of what QuickBooks already has when an earlier send created it."""
    if found is None:
        return write
    linked = write.record.copy()
    linked.qbo_id, linked.sync_token = found.qbo_id, found.sync_token
    log.info("found in QuickBooks after an unknown outcome", extra={"record": linked.key})
    return Write(linked, write.model, write.ids, write.name)


def batch_request_id(tenant_id: str, writes: list[Write]) -> str:
    """The requestid of a batch: the same writes always get the same id (≤ 36 characters in a batch), and a
    re-applied change (new SyncToken), a rename or a new revision gets a new one."""
    material = "\x1e".join(
        "\x1f".join(
            (
                w.record.key,
                str(w.record.revision),
                w.record.operation.value,
                w.record.qbo_id or "",
                w.record.sync_token or "",
                w.name or "",
            )
        )
        for w in writes
    )
    return "qbs-" + hashlib.sha256(f"{tenant_id}\x1d{material}".encode()).hexdigest()[:32]


def failure_of(fault: QboFaultError) -> Failure:
    """A plain failure from QuickBooks' answer: its code, what it said, and what the tenant can do."""
    first = fault.errors[0] if fault.errors else None
    code = first.code if first and first.code else str(fault.status)
    said = ". ".join(x for x in ((first.message, first.detail) if first else ()) if x) or str(fault)
    actions = _ACTIONS.get(fault.action, ("edit",))
    if code == "610":
        actions = ("edit", "reactivate_in_quickbooks")
    return Failure(code, f"QuickBooks refused it: {said}", actions, first.element if first else "")


_ACTIONS: dict[FaultAction, tuple[str, ...]] = {
    FaultAction.FIX_RECORD: ("edit",),
    FaultAction.REAUTHORIZE: ("reconnect", "send_again"),
    FaultAction.RETRY_LATER: ("send_again",),
    FaultAction.RESOLVE_NAME_CLASH: ("rename", "link_existing"),
    FaultAction.REREAD_AND_REAPPLY: ("send_again",),
}


def _clash_failure(
    name: str, record_type: str, other: Found | None, same_kind: list[Found], fault: QboFaultError
) -> Failure:
    if other is not None:
        whose = f"a {other.entity} (QuickBooks id {other.qbo_id})"
        actions: tuple[str, ...] = ("rename",)
    elif same_kind:
        whose = f"another {record_type} (QuickBooks id {same_kind[0].qbo_id})"
        actions = ("rename", "link_existing")
    else:
        whose = "another customer, vendor or employee, perhaps inactive"
        actions = ("rename", "link_existing")
    code = fault.codes[0] if fault.codes else "6240"
    return Failure(
        code,
        f"QuickBooks already uses the name {name!r} for {whose}; names are unique across customers, "
        "vendors and employees.",
        actions,
        NAME_FIELD.get(record_type, ""),
    )


def _failed_because(key: str, failure: Failure | None) -> str:
    return f"{key} failed: {failure.message}" if failure else f"{key} failed"


def _rename_count(record: SyncRecord, settings: SyncSettings) -> int:
    """How many renamed tries were made: 0 before the first (qbo_name unset), then 1, 2, ..."""
    if record.qbo_name is None:
        return 0
    for n in range(2, MAX_RENAMES + 2):
        if record.qbo_name.endswith(settings.rename_suffix.replace("{n}", str(n))):
            return n - 1
    return MAX_RENAMES


def _detail(record: SyncRecord) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "record_type": record.record_type,
        "record_id": record.record_id,
        "state": record.state.value,
        "revision": record.revision,
        "qbo_id": record.qbo_id,
    }
    if record.failure is not None:
        detail["failure"] = record.failure.as_dict()
    if record.qbo_name is not None:
        detail["qbo_name"] = record.qbo_name
    return detail
