"""Automatch as a service: match a tenant's host records with the QuickBooks objects the mirror holds, keep
the results, and let a person accept or reject what automatch proposed.

A match is asked for (`request`, POST /matches: answered at once) and done by the worker (`perform`, the
`match` job), because linking what it accepts automatically takes longer than an API request may:

    queued    asked for; refused (409) before anything is stored if a list to match has not been read whole
              yet (matching it would find nothing and propose creating what QuickBooks has), or while another
              run of the tenant is unfinished (one that has not moved for RUN_STALE is taken over)
    matching  per type (customer, vendor, employee, item), every host record that is not voided against the
              mirror's entries of its list (domain/matching.py `automatch`, by the tenant's settings); a
              record linked already is `linked` and not matched again; the results replace the type's
              previous ones; rejected pairs are never proposed again
    linking   the matches accepted automatically are linked through `Links.link`, a slice at a time (the
              worker queues the next slice when its time is up); a refusal is kept on the result
    done      with the counts per type (`TypeSummary`); `failed` with the error when the job gave up

Each step is saved conditionally on the run's version, and each can be done again without harm.
`results` pages the results, each with its candidates' names as the mirror has them now; `accept` links the
record to the proposal (an ambiguous one: to the candidate a person picked); `reject` says it is none of them.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from qbsync.domain.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from qbsync.domain.jobs import MATCH_JOB, new_job
from qbsync.domain.match_results import (
    Found,
    MatchResult,
    MatchRun,
    MatchStore,
    Refusal,
    RunState,
    TypeSummary,
    split_match_id,
)
from qbsync.domain.matching import MODEL_OF_TYPE, HostRecord, RecordMatch, automatch
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, ListType, MirrorStore
from qbsync.domain.ports import Clock, JobQueue, TenantRepository
from qbsync.domain.records import RECORD_TYPES, Item, RecordFilter, parse_record
from qbsync.domain.settings import SettingsRepository, SyncSettings
from qbsync.domain.sync import Operation, RecordStore, SyncRecord, SyncState
from qbsync.domain.tenants import Edition
from qbsync.usecases.links import QUICKBOOKS_ID_FIELD, LinkRefusedError, Links
from qbsync.usecases.settings import settings_in_force
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)

MATCHED_TYPES = tuple(MODEL_OF_TYPE)  # customer, vendor, employee, item
PAGE = 500  # host records read at a time
RESULTS_MAX = 500  # results a page holds at most
# An unfinished run that has not moved for this long is taken over by the next request: its job was lost
# (the worker's timeout is 150 s and each slice of linking saves the run).
RUN_STALE = timedelta(minutes=15)


class ListNotReadError(ConflictError):
    """A list to match has not been read whole from QuickBooks yet (HTTP 409)."""


@dataclass(frozen=True)
class Named:
    """A candidate of a result as the tenant sees it: the mirror's name and whether it is active now, and
    the other objects of its list with the same name."""

    quickbooks_id: str
    name: str | None  # None: no longer in the mirror
    active: bool | None
    same_name_as: tuple[str, ...]


@dataclass(frozen=True)
class ShownResult:
    result: MatchResult
    candidates: tuple[Named, ...]


@dataclass(frozen=True)
class ResultsPage:
    items: list[ShownResult]
    next_cursor: str | None


@dataclass
class Matches:
    tenants: TenantRepository
    records: RecordStore
    mirror: MirrorStore
    store: MatchStore
    links: Links
    settings: SettingsRepository
    jobs: JobQueue
    clock: Clock

    # ------------------------------------------------------------------ running

    def request(self, tenant_id: str, record_types: Sequence[str] = MATCHED_TYPES) -> MatchRun:
        """Ask for a match of these types, done by the worker; ListNotReadError if the mirror has not read
        one of their lists whole yet, ConflictError while another run is unfinished."""
        tenant = get_tenant(self.tenants, tenant_id)
        types = tuple(dict.fromkeys(record_types))
        for record_type in types:
            _matched_type(record_type)
        marks = self.mirror.marks(tenant_id)
        unread = [t for t in types if not (m := marks.get(LIST_OF_RECORD_TYPE[t])) or not m.loaded]
        if unread:
            lists = ", ".join(f"{t}s" for t in unread)
            when = "at the next Web Connector run" if tenant.edition is Edition.QBD else "at connect"
            raise ListNotReadError(
                f"QuickBooks' {lists} have not been read yet ({when}); match them once they are: "
                f"GET /v1/tenants/{tenant_id}/quickbooks/{{type}} says loaded=true.",
                "list_not_read",
            )
        now = self.clock.now()
        current = self.store.run(tenant_id)
        if current is not None and current.unfinished and now - current.updated_at < RUN_STALE:
            raise ConflictError(
                f"A match of tenant {tenant_id!r} is {current.state.value}; GET /v1/tenants/{tenant_id}/"
                "matches shows its run. Ask for another once it is done.",
                "match_unfinished",
            )
        run = MatchRun(
            uuid.uuid4().hex,
            types,
            RunState.QUEUED,
            now,
            now,
            version=0 if current is None else current.version,
        )
        if not self.store.save_run(tenant_id, run):
            raise ConflictError(
                f"A match of tenant {tenant_id!r} was asked for at the same time; see its run.",
                "match_unfinished",
            )
        self.jobs.send(new_job(MATCH_JOB, now, tenant_id=tenant_id, run_id=run.run_id))
        log.info("match asked", extra={"tenant_id": tenant_id, "run_id": run.run_id, "types": list(types)})
        return replace(run, version=run.version + 1)

    def run(self, tenant_id: str) -> MatchRun | None:
        """The tenant's latest match run."""
        get_tenant(self.tenants, tenant_id)
        return self.store.run(tenant_id)

    def perform(self, tenant_id: str, run_id: str, until: datetime | None = None) -> bool:
        """Take the run as far as it goes by `until` (None: to its end); True when linking is left for
        another call. A job of a run that is not the latest, or is finished, does nothing."""
        for _ in range(len(RunState)):
            run = self.store.run(tenant_id)
            if run is None or run.run_id != run_id or not run.unfinished:
                return False
            if run.state is RunState.QUEUED:
                self._save_run(tenant_id, run, state=RunState.MATCHING)
            elif run.state is RunState.MATCHING:
                _, settings = settings_in_force(self.settings, tenant_id)
                summary = {t: self._match_type(tenant_id, t, settings) for t in run.record_types}
                self._save_run(tenant_id, run, state=RunState.LINKING, summary=summary)
            else:
                if not self._link_accepted(tenant_id, run, until):
                    return self._save_run(tenant_id, run)  # moved on: not taken for lost; False: taken over
                summary = {t: self._linked_counts(tenant_id, t, run.summary[t]) for t in run.record_types}
                finished = self._save_run(
                    tenant_id, run, state=RunState.DONE, summary=summary, finished_at=self.clock.now()
                )
                if finished:
                    log.info("match done", extra={"tenant_id": tenant_id, "run_id": run_id})
                return False
        return False

    def fail(self, tenant_id: str, run_id: str, error: str) -> None:
        """The worker gave the run up: it is failed, with why, so that another can be asked for."""
        run = self.store.run(tenant_id)
        if run is not None and run.run_id == run_id and run.unfinished:
            self._save_run(tenant_id, run, state=RunState.FAILED, error=error, finished_at=self.clock.now())

    def _save_run(self, tenant_id: str, run: MatchRun, **changes: object) -> bool:
        changed = replace(run, updated_at=self.clock.now(), **changes)  # type: ignore[arg-type]
        return self.store.save_run(tenant_id, changed)

    def _match_type(self, tenant_id: str, record_type: str, settings: SyncSettings) -> TypeSummary:
        now = self.clock.now()
        models: list[tuple[str, HostRecord]] = []
        names: dict[str, str] = {}
        linked: dict[str, str] = {}  # quickbooks id -> record id
        results: list[MatchResult] = []
        skipped = 0
        for record in self._live_records(tenant_id, record_type):
            if record.quickbooks_id is not None:
                linked[record.quickbooks_id] = record.record_id
                name = _name_in_data(record)
                results.append(
                    MatchResult(
                        record_type, record.record_id, Found.LINKED, name, now, linked_to=record.quickbooks_id
                    )
                )
                continue
            try:
                model = parse_record(record_type, record.data)
            except ValueError:  # stored under older rules; pushing it again fixes it
                skipped += 1
                continue
            assert isinstance(model, MODEL_OF_TYPE[record_type])
            models.append((record.record_id, model))
            names[record.record_id] = model.name if isinstance(model, Item) else model.display_name
        entries = list(self.mirror.entries(tenant_id, LIST_OF_RECORD_TYPE[record_type]))
        rejected = self.store.rejected(tenant_id, record_type)
        report = automatch(record_type, models, entries, settings, linked, rejected=rejected)
        results += [_result(record_type, found, names[found.record_id], now) for found in report.records]
        self.store.replace(tenant_id, record_type, results, report.duplicate_names)
        counts = Counter(r.found.value for r in results)
        summary = TypeSummary(
            {f.value: counts.get(f.value, 0) for f in Found},
            skipped=skipped,
            duplicate_names=len(report.duplicate_names),
        )
        log.info(
            "records matched",
            extra={"tenant_id": tenant_id, "record_type": record_type, **summary.found, "skipped": skipped},
        )
        return summary

    def _link_accepted(self, tenant_id: str, run: MatchRun, until: datetime | None) -> bool:
        """Link the run's matches accepted automatically and not linked, refused or rejected yet; False when
        `until` came first."""
        for record_type in run.record_types:
            for result in self._matched(tenant_id, record_type):
                if not (result.auto_accepted and result.open and result.refusal is None):
                    continue
                if until is not None and self.clock.now() >= until:
                    return False
                self.store.save(tenant_id, self._link(tenant_id, result, result.candidates[0].quickbooks_id))
        return True

    def _linked_counts(self, tenant_id: str, record_type: str, summary: TypeSummary) -> TypeSummary:
        accepted = [r for r in self._matched(tenant_id, record_type) if r.auto_accepted]
        return replace(
            summary,
            auto_linked=sum(r.linked_to is not None for r in accepted),
            refused=sum(r.refusal is not None for r in accepted),
        )

    def _matched(self, tenant_id: str, record_type: str) -> Iterator[MatchResult]:
        cursor: str | None = None
        while True:
            page = self.store.page(tenant_id, record_type, Found.MATCHED, PAGE, cursor)
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                return

    def _live_records(self, tenant_id: str, record_type: str) -> Iterator[SyncRecord]:
        """The type's records that are not deleted."""
        cursor: str | None = None
        while True:
            page = self.records.list(tenant_id, record_type, RecordFilter(), PAGE, cursor)
            for record in page.items:
                if record.state is not SyncState.VOIDED and record.operation is not Operation.DELETE:
                    yield record
            cursor = page.next_cursor
            if cursor is None:
                return

    def _link(self, tenant_id: str, result: MatchResult, quickbooks_id: str) -> MatchResult:
        """Link the result's record to the object; a refusal is kept on the result, never raised."""
        try:
            self.links.link(tenant_id, result.record_type, result.record_id, quickbooks_id)
        except LinkRefusedError as refused:
            return replace(result, refusal=Refusal(refused.problems[0].code, refused.detail))
        except (NotFoundError, ConflictError) as error:  # gone, or kept changing, meanwhile
            return replace(result, refusal=Refusal("changed", error.detail))
        return result.linked(quickbooks_id)

    # ------------------------------------------------------------------ reading

    def results(
        self,
        tenant_id: str,
        *,
        record_type: str | None,
        found: Found | None,
        limit: int,
        cursor: str | None,
    ) -> ResultsPage:
        """A page of the latest results, each with its candidates' names as the mirror has them now."""
        get_tenant(self.tenants, tenant_id)
        if record_type is not None:
            _matched_type(record_type)
        if not 1 <= limit <= RESULTS_MAX:
            raise InvalidInputError(
                f"limit is 1 to {RESULTS_MAX}.",
                [FieldProblem("limit", f"1 to {RESULTS_MAX}", "out_of_range")],
            )
        page = self.store.page(tenant_id, record_type, found, limit, cursor)
        shown: list[ShownResult] = []
        by_type: dict[str, list[MatchResult]] = {}
        for result in page.items:
            by_type.setdefault(result.record_type, []).append(result)
        named: dict[tuple[str, str], Named] = {}
        for kind, results in by_type.items():
            named |= self._named(tenant_id, kind, results)
        for result in page.items:
            shown.append(
                ShownResult(result, tuple(named[(result.record_type, i)] for i in _shown_ids(result)))
            )
        return ResultsPage(shown, page.next_cursor)

    def _shown(self, tenant_id: str, result: MatchResult) -> ShownResult:
        named = self._named(tenant_id, result.record_type, [result])
        return ShownResult(result, tuple(named[(result.record_type, i)] for i in _shown_ids(result)))

    def _named(
        self, tenant_id: str, record_type: str, results: list[MatchResult]
    ) -> dict[tuple[str, str], Named]:
        ids = sorted(
            {c.quickbooks_id for r in results for c in r.candidates}
            | {r.linked_to for r in results if r.linked_to is not None}
        )
        entries = self.mirror.get_many(tenant_id, LIST_OF_RECORD_TYPE[record_type], ids) if ids else {}
        duplicates = {d.quickbooks_id: d.same_name_as for d in self.store.duplicates(tenant_id, record_type)}
        out: dict[tuple[str, str], Named] = {}
        for quickbooks_id in ids:
            entry: ListEntry | None = entries.get(quickbooks_id)
            out[(record_type, quickbooks_id)] = Named(
                quickbooks_id,
                None if entry is None else entry.name,
                None if entry is None else entry.active,
                duplicates.get(quickbooks_id, ()),
            )
        return out

    def duplicate_names(self, tenant_id: str, record_type: str) -> list[Named]:
        """The QuickBooks objects of the type's last run whose names others share, by QuickBooks id, each
        with its name and state as the mirror has them now (a person merges or renames them in QuickBooks)."""
        get_tenant(self.tenants, tenant_id)
        list_type = _matched_type(record_type)
        duplicates = self.store.duplicates(tenant_id, record_type)
        ids = [d.quickbooks_id for d in duplicates]
        entries = self.mirror.get_many(tenant_id, list_type, ids) if ids else {}
        return [
            Named(
                d.quickbooks_id,
                None if (entry := entries.get(d.quickbooks_id)) is None else entry.name,
                None if entry is None else entry.active,
                d.same_name_as,
            )
            for d in duplicates
        ]

    # ------------------------------------------------------------------ deciding

    def accept(self, tenant_id: str, match_id: str, quickbooks_id: str | None = None) -> ShownResult:
        """Link the record to its proposal; an ambiguous result needs the pick (`quickbooks_id`), one of its
        candidates. Accepting what is linked to that object already changes nothing."""
        result = self._result(tenant_id, match_id)
        ids = [c.quickbooks_id for c in result.candidates]
        pick = quickbooks_id
        if result.found not in (Found.MATCHED, Found.AMBIGUOUS):
            raise ConflictError(
                f"{match_id} is {result.found.value}: there is no proposal to accept. Link the record with "
                f"PUT /v1/tenants/{tenant_id}/records/{result.record_type}/{result.record_id}/link.",
                "no_proposal",
            )
        if pick is None:
            if result.found is Found.AMBIGUOUS:
                raise InvalidInputError(
                    f"{match_id} is ambiguous: pick one of its candidates ({', '.join(ids)}).",
                    [FieldProblem(QUICKBOOKS_ID_FIELD, f"One of {', '.join(ids)}.", "pick_required")],
                )
            pick = ids[0]
        elif pick not in ids:
            raise InvalidInputError(
                f"QuickBooks {result.record_type} {pick} is not a candidate of {match_id} "
                f"({', '.join(ids)}); link it with PUT .../records/{result.record_type}/{result.record_id}"
                "/link if it is the one.",
                [FieldProblem(QUICKBOOKS_ID_FIELD, f"One of {', '.join(ids)}.", "not_a_candidate")],
            )
        if result.linked_to == pick:
            return self._shown(tenant_id, result)
        if result.rejected:
            raise ConflictError(
                f"{match_id} was rejected; link the record with PUT /v1/tenants/{tenant_id}/records/"
                f"{result.record_type}/{result.record_id}/link if it is that object after all.",
                "proposal_rejected",
            )
        try:
            self.links.link(tenant_id, result.record_type, result.record_id, pick)
        except LinkRefusedError as refused:
            self.store.save(
                tenant_id, replace(result, refusal=Refusal(refused.problems[0].code, refused.detail))
            )
            raise
        accepted = result.linked(pick)
        self.store.save(tenant_id, accepted)
        return self._shown(tenant_id, accepted)

    def reject(self, tenant_id: str, match_id: str) -> ShownResult:
        """Say the record is none of the result's candidates: no later run proposes them for it again."""
        result = self._result(tenant_id, match_id)
        if result.found not in (Found.MATCHED, Found.AMBIGUOUS):
            raise ConflictError(
                f"{match_id} is {result.found.value}: there is no proposal to reject.", "no_proposal"
            )
        if result.linked_to is not None:
            raise ConflictError(
                f"{match_id} is linked to QuickBooks {result.record_type} {result.linked_to}; unlink it with "
                f"DELETE /v1/tenants/{tenant_id}/records/{result.record_type}/{result.record_id}/link.",
                "linked_already",
            )
        self.store.reject(
            tenant_id, result.record_type, result.record_id, [c.quickbooks_id for c in result.candidates]
        )
        rejected = replace(result, rejected=True)
        self.store.save(tenant_id, rejected)
        return self._shown(tenant_id, rejected)

    def _result(self, tenant_id: str, match_id: str) -> MatchResult:
        get_tenant(self.tenants, tenant_id)
        split = split_match_id(match_id)
        if split is None or split[0] not in MODEL_OF_TYPE:
            raise NotFoundError(
                f"No match {match_id!r}: a match id is the record type and the record id, as 'customer.c-1'."
            )
        result = self.store.get(tenant_id, *split)
        if result is None:
            raise NotFoundError(
                f"No match {match_id!r} for tenant {tenant_id!r}; match its type first with "
                f"POST /v1/tenants/{tenant_id}/matches."
            )
        return result


def _shown_ids(result: MatchResult) -> list[str]:
    """The objects a result shows: its candidates, then the object it is linked to if not one of them."""
    ids = [c.quickbooks_id for c in result.candidates]
    if result.linked_to is not None and result.linked_to not in ids:
        ids.append(result.linked_to)
    return ids


def _matched_type(record_type: str) -> ListType:
    if record_type not in MODEL_OF_TYPE:
        raise InvalidInputError(
            f"{record_type!r} records are not matched; the types are {', '.join(MATCHED_TYPES)}.",
            [FieldProblem("record_type", f"One of {', '.join(MATCHED_TYPES)}.", "not_matched")],
        )
    return LIST_OF_RECORD_TYPE[record_type]


def _name_in_data(record: SyncRecord) -> str:
    name_field = RECORD_TYPES[record.record_type].name_field
    value = record.data.get(name_field) if name_field else None
    return value if isinstance(value, str) else ""


def _result(record_type: str, found: RecordMatch, name: str, at: datetime) -> MatchResult:
    candidates = (found.match,) if found.match is not None else found.candidates
    return MatchResult(
        record_type,
        found.record_id,
        Found(found.outcome.value),
        name,
        at,
        candidates=candidates,
        rivals=found.rivals,
        auto_accepted=found.auto_accepted,
    )
