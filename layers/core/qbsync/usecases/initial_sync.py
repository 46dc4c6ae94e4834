"""The initial sync of a tenant (and later re-syncs): a dry run's summary, then a run that advances in steps.

    POST /initial-sync {"dry_run": true}   the plan's counts (domain/initial_sync.py), nothing changed
    POST /initial-sync                     a run starts (409 while one runs), and advances as far as it can

A run is one item per tenant, saved conditionally on its version, and goes through its steps, each of which
can be done again without harm (whoever saves the step's end first wins; the others' saves are refused):

    reading   the company's customers, vendors, employees and items read whole once (Online: jobs at
              connect; Desktop: the Web Connector's next session)
    matching  done by the worker (the `initial_sync` job; in slices, each planning again from what is linked
              by then), as linking may take longer than an API request or a Web Connector callback may;
              the plan: pairs automatch accepts are linked (Links.link), proposals fail `match_to_review` with
              their candidates, records found only in the app go pending (create) or ignored (ignore), and so
              do records before the since date and the dependants of ignored ones; the summary is stored, and
              its saver tells each object found only in QuickBooks as `quickbooks.changed` created (once)
    payments  the payments cursor goes back to the since date, so that payments received since are told
    sending   until every record is synced, failed, ignored, locked, or waits for the tenant (a draft, a
              record that depends on a failed one); `initial_sync.progress` at most every PROGRESS_EVERY,
              kept in the item (not in memory), and `initial_sync.done` once

Who advances it: the POST; the GET (reading the state brings it up to date, so a tenant who fixed the last
failure by linking sees it done); QuickBooks Online's worker after each list read and each sync run; the
Desktop session once its lists are read (it sends nothing while the run is matching, so that what the
matching links is not created) and when it closes; and the `initial_sync` job for the matching step. Those
are the only places where what a run waits for changes (lists read, records sent), so no scheduled tick is
needed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from qbsync.domain.connections import Connection, ConnectionStatus, EventPublisher
from qbsync.domain.errors import ConflictError, NotFoundError
from qbsync.domain.initial_sync import (
    LIST_TYPES,
    MATCH_TO_REVIEW,
    PLAN_TYPES,
    Action,
    Decision,
    InitialSync,
    InitialSyncStore,
    Plan,
    Step,
    TypeCounts,
    candidates_of,
    plan,
)
from qbsync.domain.jobs import INITIAL_SYNC_JOB, new_job
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, ListType, MirrorStore
from qbsync.domain.paging import Page
from qbsync.domain.payments import PaymentLog
from qbsync.domain.ports import Clock, JobQueue, TenantRepository
from qbsync.domain.records import RecordFilter
from qbsync.domain.settings import SettingsRepository, SyncSettings
from qbsync.domain.sync import Failure, RecordStore, SyncRecord, SyncState, TenantLease
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.links import Links
from qbsync.usecases.payments import INITIAL_LOOKBACK
from qbsync.usecases.quickbooks_side import QUICKBOOKS_CHANGED
from qbsync.usecases.records import WAITS_FOR_WEB_CONNECTOR, WEB_CONNECTOR
from qbsync.usecases.run_requests import RunRequests
from qbsync.usecases.settings import settings_in_force, settings_version
from qbsync.usecases.sync_engine import ignored_event
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)

INITIAL_SYNC_PROGRESS = "initial_sync.progress"
INITIAL_SYNC_DONE = "initial_sync.done"
FirstLoad = Literal["reading", "done"]
PROGRESS_EVERY = timedelta(seconds=5)  # progress events of one tenant at most this often
# A matching step that has not moved for this long is asked of the worker again: its job was lost (the
# worker's timeout is 150 s, and each slice saves the run).
MATCHING_STALE = timedelta(minutes=15)
PAGE = 500  # records read at a time
ERRORS_MAX = 100  # errors a page of the status holds at most
REVIEW_ACTIONS = ("link_existing", "send")


@dataclass(frozen=True)
class TypeProgress:
    """Where the records of one type stand, from their states."""

    in_scope: int  # host records (deleted ones aside)
    synced: int  # synced or locked
    failed: int
    ignored: int
    waiting: int  # waits for the tenant: a draft, or a record that depends on a failed or unsent one
    left: int  # still to be sent

    @property
    def percent(self) -> int:
        settled = self.in_scope - self.left
        return 100 if self.in_scope == 0 else settled * 100 // self.in_scope


@dataclass(frozen=True)
class Summary:
    """The dry run's answer: the plan's counts; `lists_read` false while the company's lists are still being
    read (their `in_quickbooks` is then null and nothing can be matched yet)."""

    lists_read: bool
    counts: Mapping[str, TypeCounts]


@dataclass(frozen=True)
class Status:
    sync: InitialSync
    progress: Mapping[str, TypeProgress]
    note: str  # what the run waits for, in words
    errors: Page[SyncRecord]


@dataclass
class InitialSyncs:
    tenants: TenantRepository
    store: InitialSyncStore
    records: RecordStore
    mirror: MirrorStore
    links: Links
    settings: SettingsRepository
    payments: PaymentLog
    runs: TenantLease
    jobs: JobQueue
    events: EventPublisher
    clock: Clock

    # ------------------------------------------------------------------ the API

    def dry_run(self, tenant_id: str) -> Summary:
        """What a run would do now, changing nothing."""
        get_tenant(self.tenants, tenant_id)
        _, settings = settings_in_force(self.settings, tenant_id)
        the_plan, read, _ = self._plan(tenant_id, settings)
        return Summary(read, the_plan.counts)

    def start(self, tenant_id: str) -> Status:
        """Start a run (ConflictError while one runs) and advance it as far as it goes now."""
        get_tenant(self.tenants, tenant_id)
        version, _ = settings_in_force(self.settings, tenant_id)
        now = self.clock.now()
        sync = InitialSync(tenant_id, Step.READING, now, now, version)
        if not self.store.start(sync):
            raise ConflictError(
                f"An initial sync of tenant {tenant_id!r} is running; GET /v1/tenants/{tenant_id}/"
                "initial-sync shows how far it is. Start another once it is done."
            )
        log.info("initial sync started", extra={"tenant_id": tenant_id, "settings_version": version})
        return self.status(tenant_id)

    def status(self, tenant_id: str, errors_cursor: str | None = None, limit: int = ERRORS_MAX) -> Status:
        """The run brought up to date: its step, its summary, progress per type, a page of errors."""
        tenant = get_tenant(self.tenants, tenant_id)
        sync = self.advance(tenant_id)
        if sync is None:
            raise NotFoundError(
                f"Tenant {tenant_id!r} has no initial sync; POST /v1/tenants/{tenant_id}/initial-sync "
                "starts one."
            )
        progress = self._progress(tenant_id)
        errors = self.records.in_state(tenant_id, SyncState.FAILED, limit, errors_cursor)
        return Status(sync, progress, _note(sync, tenant, progress), errors)

    def running(self, tenant_id: str) -> Status | None:
        """The run's status, brought up to date, while one runs (its first error at most); None when the
        tenant has none or it was done already: a done run's progress is not counted again."""
        sync = self.store.get(tenant_id)
        if sync is None or not sync.running:
            return None
        return self.status(tenant_id, limit=1)

    # ------------------------------------------------------------------ advancing

    def advance(
        self, tenant_id: str, *, settle: bool = True, match: bool = False, until: datetime | None = None
    ) -> InitialSync | None:
        """Take the tenant's run as far as it goes now; None when the tenant has none. `settle` False stops
        before the records' states are counted (a Web Connector message, a list read: cheap callers).
        `match`: this caller is the worker, which does the matching step (linking may take longer than an
        API request or a Web Connector callback may) until `until`; others ask the worker for it."""
        for _ in range(len(Step) + 2):  # each pass saves one step or returns
            sync = self.store.get(tenant_id)
            if sync is None or sync.step is Step.DONE:
                return sync
            if sync.step is Step.READING:
                if not self._lists_read(tenant_id):
                    return sync
                if self._save(sync, step=Step.MATCHING) is not None and not match:
                    self._ask_matching(tenant_id)
            elif sync.step is Step.MATCHING:
                if not self._matched(sync, match, until):
                    return self.store.get(tenant_id)
            elif sync.step is Step.PAYMENTS:
                self._payments_back(sync)
                self._save(sync, step=Step.SENDING)
            elif sync.step is Step.SENDING:
                if not settle:
                    return sync
                self._settle(sync)
                return self.store.get(tenant_id)
        return self.store.get(tenant_id)

    def _matched(self, sync: InitialSync, match: bool, until: datetime | None) -> bool:
        """The matching step done here (True), or left to the worker: asked of it again when its job was
        lost, or by the worker itself when its time is up."""
        if not match:
            stale = self.clock.now() - sync.updated_at >= MATCHING_STALE
            if stale and self._save(sync) is not None:
                self._ask_matching(sync.tenant_id)
            return False
        if self._match(sync, until):
            return True
        if self._save(sync) is not None:  # the next job goes on from what is linked by then
            self._ask_matching(sync.tenant_id)
        return False

    def _ask_matching(self, tenant_id: str) -> None:
        self.jobs.send(new_job(INITIAL_SYNC_JOB, self.clock.now(), tenant_id=tenant_id))

    def _save(self, sync: InitialSync, **changes: object) -> InitialSync | None:
        """Store the changes if nobody saved the run since it was read; the run as stored, or None."""
        changed = replace(sync, updated_at=self.clock.now(), **changes)  # type: ignore[arg-type]
        if not self.store.save(changed):
            return None
        return replace(changed, version=sync.version + 1)

    def _match(self, sync: InitialSync, until: datetime | None) -> bool:
        """The matching step, to its end (True), or until `until` (False: the next call plans again from
        what is linked by then)."""
        tenant = get_tenant(self.tenants, sync.tenant_id)
        settings = self._settings(sync)
        the_plan, _, records = self._plan(sync.tenant_id, settings)
        if not self._apply(tenant, the_plan, records, until):
            return False
        saved = self._save(sync, step=Step.PAYMENTS, summary=dict(the_plan.counts))
        if saved is not None:  # this call ended the step: it alone tells
            self._tell(sync.tenant_id, the_plan.to_tell)
            log.info(
                "initial sync matched",
                extra={"tenant_id": sync.tenant_id, "told": len(the_plan.to_tell)},
            )
        return True

    def _payments_back(self, sync: InitialSync) -> None:
        """Payments received in QuickBooks since the since date are told: the cursor goes back there (without
        one, INITIAL_LOOKBACK back, for both editions)."""
        settings = self._settings(sync)
        if not settings.sync_payments_from_quickbooks:
            return
        if settings.sync_since is not None:
            start = datetime.combine(settings.sync_since, time(), UTC)
        else:
            start = self.clock.now() - INITIAL_LOOKBACK
        self.payments.rewind(sync.tenant_id, start)

    def _settle(self, sync: InitialSync) -> None:
        progress = self._progress(sync.tenant_id)
        now = self.clock.now()
        if all(p.left == 0 for p in progress.values()):
            if self._save(sync, step=Step.DONE, finished_at=now, progress_told_at=now) is not None:
                self.events.publish(INITIAL_SYNC_DONE, sync.tenant_id, _event(sync, progress))
                log.info("initial sync done", extra={"tenant_id": sync.tenant_id})
            return
        told = sync.progress_told_at
        due = told is None or now - told >= PROGRESS_EVERY
        if due and self._save(sync, progress_told_at=now) is not None:
            self.events.publish(INITIAL_SYNC_PROGRESS, sync.tenant_id, _event(sync, progress))

    # ------------------------------------------------------------------ the plan

    def _settings(self, sync: InitialSync) -> SyncSettings:
        """The settings the run started under (a later change applies to the next run)."""
        return settings_version(self.settings, sync.tenant_id, sync.settings_version) or SyncSettings()

    def first_load(self, connection: Connection) -> FirstLoad | None:
        """How far a connected tenant's first read of its customers, vendors, employees and items is: the
        connection's `first_load` (its `status` stays `connected`: the host app's contract, the scheduler's
        fan-out and the records waiting for the connection all go by it)."""
        if connection.status is not ConnectionStatus.CONNECTED:
            return None
        return "done" if self._lists_read(connection.tenant_id) else "reading"

    def _lists_read(self, tenant_id: str) -> bool:
        marks = self.mirror.marks(tenant_id)
        return all((m := marks.get(LIST_OF_RECORD_TYPE[t])) is not None and m.loaded for t in LIST_TYPES)

    def _plan(self, tenant_id: str, settings: SyncSettings) -> tuple[Plan, bool, dict[str, SyncRecord]]:
        """The plan; whether the lists it matches with are read; the records it was made of, by key."""
        records = {t: list(self._all(tenant_id, t)) for t in PLAN_TYPES}
        marks = self.mirror.marks(tenant_id)
        entries: dict[ListType, list[ListEntry]] = {}
        for record_type in LIST_TYPES:
            list_type = LIST_OF_RECORD_TYPE[record_type]
            mark = marks.get(list_type)
            if mark is not None and mark.loaded:
                entries[list_type] = list(self.mirror.entries(tenant_id, list_type))
        received = {r.key: _received_on(r) for rs in records.values() for r in rs}
        by_key = {r.key: r for rs in records.values() for r in rs}
        return plan(records, entries, settings, received), len(entries) == len(LIST_TYPES), by_key

    def _all(self, tenant_id: str, record_type: str) -> Iterator[SyncRecord]:
        cursor: str | None = None
        while True:
            page = self.records.list(tenant_id, record_type, RecordFilter(), PAGE, cursor)
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                return

    def _apply(
        self, tenant: Tenant, the_plan: Plan, records: Mapping[str, SyncRecord], until: datetime | None
    ) -> bool:
        """Do what the plan decided for each record; what changed meanwhile (a push, a send) is left as it is
        now. Records to create go pending and a run is asked for. False, with nothing but some links done,
        when `until` comes before the links are all made."""
        now = self.clock.now()
        saves: list[tuple[SyncRecord, int | None, SyncState | None]] = []
        for decision in the_plan.decisions:
            record = records.get(decision.key)
            if record is None:
                continue
            if decision.action is Action.LINK and decision.quickbooks_id is not None:
                if until is not None and self.clock.now() >= until:
                    return False
                try:
                    self.links.link(tenant.id, record.record_type, record.record_id, decision.quickbooks_id)
                except ConflictError as refused:  # changed meanwhile, or its name is held: it stays as it is
                    log.info(
                        "initial sync could not link",
                        extra={
                            "record_type": record.record_type,
                            "record_id": record.record_id,
                            "why": str(refused),
                        },
                    )
                continue
            changed = self._decided(tenant, record, decision, now)
            if changed is not None:
                saves.append((changed, record.revision, record.state))
        stored = self.records.save_all(saves)
        ignored = [
            ignored_event(r)
            for (r, _, was), ok in zip(saves, stored, strict=True)
            if ok and r.state is SyncState.IGNORED and was is not SyncState.IGNORED
        ]
        for start in range(0, len(ignored), PAGE):
            self.events.publish_many(tenant.id, ignored[start : start + PAGE])
        pending = any(
            ok and r.state is SyncState.PENDING for (r, _, _), ok in zip(saves, stored, strict=True)
        )
        if pending:
            RunRequests(self.runs, self.jobs, self.clock).request(tenant.id, edition=tenant.edition)
        return True

    def _decided(
        self, tenant: Tenant, record: SyncRecord, decision: Decision, now: datetime
    ) -> SyncRecord | None:
        """The record as the decision leaves it; None when it stays as it is."""
        changed = record.copy()
        if decision.action is Action.REVIEW:
            if record.state is SyncState.FAILED and record.failure and record.failure.code == MATCH_TO_REVIEW:
                return None
            entries = self.mirror.get_many(
                tenant.id, LIST_OF_RECORD_TYPE[record.record_type], list(decision.candidates)
            )
            changed.fail(
                Failure(
                    MATCH_TO_REVIEW, decision.detail, REVIEW_ACTIONS, "", candidates_of(decision, entries)
                ),
                now,
            )
            return changed
        if decision.action is Action.IGNORE:
            if (
                record.state is SyncState.IGNORED
                and record.history
                and record.history[-1].detail == decision.detail
            ):
                return None
            changed.move(SyncState.IGNORED, now, decision.detail)
            return changed
        if decision.action is Action.CREATE and record.state in (SyncState.DRAFT, SyncState.IGNORED):
            changed.move(SyncState.PENDING, now, "sent by the initial sync")
            if tenant.edition is Edition.QBD:
                changed.move(SyncState.PENDING, now, WAITS_FOR_WEB_CONNECTOR)
                changed.waiting_for = (WEB_CONNECTOR,)
            return changed
        return None

    def _tell(self, tenant_id: str, entries: Sequence[ListEntry]) -> None:
        """Each object found only in QuickBooks, told as created so that the host app creates its record."""
        told: list[tuple[str, dict[str, object]]] = [
            (
                QUICKBOOKS_CHANGED,
                {
                    "list_type": e.list_type.value,
                    "change": "created",
                    "quickbooks_id": e.quickbooks_id,
                    "name": e.name,
                    "active": e.active,
                    "record_type": e.record_type,
                    "record_id": None,
                    "initial_sync": True,
                },
            )
            for e in entries
        ]
        for start in range(0, len(told), PAGE):
            self.events.publish_many(tenant_id, told[start : start + PAGE])

    # ------------------------------------------------------------------ progress

    def _progress(self, tenant_id: str) -> dict[str, TypeProgress]:
        return {t: _tally(self._all(tenant_id, t)) for t in PLAN_TYPES}


def _tally(records: Iterator[SyncRecord]) -> TypeProgress:
    synced = failed = ignored = waiting = left = scope = 0
    for record in records:
        if record.state is SyncState.VOIDED:
            continue
        scope += 1
        if record.state in (SyncState.SYNCED, SyncState.LOCKED):
            synced += 1
        elif record.state is SyncState.FAILED:
            failed += 1
        elif record.state is SyncState.IGNORED:
            ignored += 1
        elif record.state is SyncState.DRAFT or _waits_for_the_tenant(record):
            waiting += 1
        else:
            left += 1
    return TypeProgress(scope, synced, failed, ignored, waiting, left)


def _waits_for_the_tenant(record: SyncRecord) -> bool:
    """A pending record that waits for records (by key, "customer/c-1": failed, drafts, ignored ones), not
    for the connection or the Web Connector: it goes only once the tenant acts."""
    return (
        record.state is SyncState.PENDING
        and bool(record.waiting_for)
        and all("/" in w for w in record.waiting_for)
    )


def _received_on(record: SyncRecord) -> date:
    """The day qbsync first stored the record, as far as its history remembers."""
    return (record.history[0].at if record.history else record.updated_at).date()


def _note(sync: InitialSync, tenant: Tenant, progress: Mapping[str, TypeProgress]) -> str:
    desktop = tenant.edition is Edition.QBD
    if sync.step is Step.READING:
        if desktop:
            return (
                "Waiting for the Web Connector: QuickBooks Desktop's customers, vendors, employees and items "
                "are read at its next run."
            )
        return "Reading the company's customers, vendors, employees and items from QuickBooks."
    if sync.step is Step.MATCHING:
        sent = "at the Web Connector's next run" if desktop else "then"
        return f"Matching the app's records with QuickBooks' lists; records to create are sent {sent}."
    if sync.step is Step.DONE:
        return "Done."
    left = sum(p.left for p in progress.values())
    if desktop and left:
        return (
            f"{left} records wait for the Web Connector: QuickBooks Desktop receives them at its next runs."
        )
    return f"{left} records left to send."


def _event(sync: InitialSync, progress: Mapping[str, TypeProgress]) -> dict[str, object]:
    return {
        "started_at": sync.started_at.isoformat(),
        "percent": {t: p.percent for t, p in progress.items()},
        "failed": sum(p.failed for p in progress.values()),
    }
