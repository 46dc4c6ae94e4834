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
Throttling and server errors end the run early; the worker puts the job back with a delay.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from qbsync.domain.connections import EventPublisher, QboAuthenticationError
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
        """The writes whose dependencies QuickBooks has; the others are marked with what they wait for."""
        models: dict[str, BaseModel] = {}
        needed: set[tuple[str, str]] = set()
        for record in candidates:
            model = parse_record(record.record_type, record.data)
            models[record.key] = model
            if record.operation is Operation.UPSERT:
                needed.update(references(model))
        known = self.store.get_many(tenant_id, sorted(needed)) if needed else {}
        ready: list[Write] = []
        waiting = 0
        now = self.clock.now()
        for record in candidates:
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
        now = self.clock.now()
        writes: list[Write] = []
        # An unconfirmed earlier send may have created these: look them up rather than create them twice.
        unconfirmed = [
            w
            for w in chunk
            if w.record.attempts and w.record.operation is Operation.UPSERT and not w.record.qbo_id
        ]
        found = dict(
            zip((w.record.key for w in unconfirmed), self.books.find(tenant_id, unconfirmed), strict=True)
        )
        for planned in chunk:
            write = _linked(planned, found.get(planned.record.key))
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
        for write, result in zip(writes, results, strict=True):
            self._apply(tenant_id, settings, write, result)

    def _write(self, tenant_id: str, settings: SyncSettings, writes: list[Write]) -> list[WriteResult]:
        request_id = batch_request_id(tenant_id, writes)
        # Once an attempt's answer is lost, QuickBooks may hold these records whatever later attempts say.
        maybe_applied = False
        for attempt in range(UNKNOWN_RETRIES + 1):
            try:
                return self.books.write(tenant_id, writes, settings, request_id)
            except QboOutcomeUnknownError:
                maybe_applied = True
                if attempt == UNKNOWN_RETRIES:
                    # Left `syncing`: the next round looks each one up before sending it again.
                    raise RetryLaterError("QuickBooks did not answer", timedelta(seconds=30)) from None
            except QboFaultError as fault:
                self._whole_batch_fault(writes, fault, maybe_applied=maybe_applied)
                raise AssertionError("unreachable") from fault
            except RequestBudgetExceededError as exc:
                why = "the company's request budget is spent; sent shortly"
                self._back_to_pending(writes, why, maybe_applied=maybe_applied)
                raise RetryLaterError(str(exc), timedelta(seconds=max(1.0, exc.retry_after))) from None
            except (QboAuthenticationError, NotConnectedError) as exc:
                self._back_to_pending(
                    writes, WAITS_FOR_CONNECTION, maybe_applied=maybe_applied, connection=True
                )
                raise WaitingForConnectionError(str(exc)) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _whole_batch_fault(self, writes: list[Write], fault: QboFaultError, *, maybe_applied: bool) -> None:
        now = self.clock.now()
        if fault.action is FaultAction.RETRY_LATER:
            why = f"QuickBooks answered {fault.status}; sent again shortly"
            self._back_to_pending(writes, why, maybe_applied=maybe_applied)
            delay = timedelta(seconds=60 if fault.status == 429 else 20)
            raise RetryLaterError(str(fault), delay)
        if fault.action is FaultAction.REAUTHORIZE:
            self._back_to_pending(writes, WAITS_FOR_CONNECTION, maybe_applied=maybe_applied, connection=True)
            raise WaitingForConnectionError(str(fault))
        for write in writes:
            self._fail(write.record, failure_of(fault), now, answered=not maybe_applied)
        raise RetryLaterError(str(fault), timedelta(seconds=30))

    def _back_to_pending(
        self, writes: list[Write], why: str, *, maybe_applied: bool, connection: bool = False
    ) -> None:
        """Nothing of this send is known to be in QuickBooks: pending again. The send is not counted unless
        an earlier attempt's answer was lost (then the record is looked up before it is created again)."""
        now = self.clock.now()
        for write in writes:
            back = write.record.copy()
            if not maybe_applied:
                back.attempts = max(0, back.attempts - 1)
            back.move(SyncState.PENDING, now, why)
            if connection:
                back.waiting_for = (CONNECTION,)
            self._save(back, write.record)

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
            with asking_quickbooks():
                current = self.books.read(tenant_id, record.record_type, record.qbo_id)
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

    def _name_clash(self, tenant_id: str, settings: SyncSettings, write: Write, fault: QboFaultError) -> None:
        record, now = write.record, self.clock.now()
        name = write.name or ""
        with asking_quickbooks():
            holders = self.books.find_name(tenant_id, name)
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


@contextmanager
def asking_quickbooks() -> Iterator[None]:
    """Around a read of QuickBooks during a run: what a later run can retry ends this one, to be re-queued."""
    try:
        yield
    except QboOutcomeUnknownError:
        raise RetryLaterError("QuickBooks did not answer", timedelta(seconds=30)) from None
    except RequestBudgetExceededError as exc:
        raise RetryLaterError(str(exc), timedelta(seconds=max(1.0, exc.retry_after))) from None
    except QboFaultError as fault:
        if fault.action is not FaultAction.RETRY_LATER:
            raise
        raise RetryLaterError(str(fault), timedelta(seconds=60 if fault.status == 429 else 20)) from None
    except (QboAuthenticationError, NotConnectedError) as exc:
        raise WaitingForConnectionError(str(exc)) from None


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
