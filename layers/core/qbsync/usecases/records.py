"""Records pushed by the host app: check them, store them with their sync state, and ask for a sync run.

Nothing here calls QuickBooks: a record is checked against the tenant's edition (lengths, characters, required
fields), against what is stored (the records it refers to exist; its name is not already a vendor's), then
stored as a draft (review mode) or pending (live mode), and one sync run is requested for the tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from qbsync.domain.errors import ConflictError, FieldProblem, InvalidInputError, NotFoundError
from qbsync.domain.paging import Page
from qbsync.domain.ports import Clock, JobQueue, TenantRepository
from qbsync.domain.records import (
    RECORD_TYPES,
    RecordFilter,
    Removal,
    lockable,
    parse_record,
    reference_fields,
    references,
)
from qbsync.domain.settings import SendMode, SettingsRepository, SyncSettings
from qbsync.domain.sync import (
    Operation,
    RecordLockedError,
    RecordStore,
    StaleRecordError,
    SyncRecord,
    SyncState,
    TenantLease,
    ref_key,
)
from qbsync.domain.tenants import Edition, Tenant
from qbsync.domain.validation import validate
from qbsync.usecases.links import QUICKBOOKS_ID_FIELD, LinkRefusedError, Links, asked_quickbooks_id
from qbsync.usecases.name_claims import NameClaims, NameTakenError, held_name, name_key_of
from qbsync.usecases.run_requests import RunRequests
from qbsync.usecases.settings import settings_in_force
from qbsync.usecases.tenants import get_tenant

BULK_MAX = 500  # records in one POST; the one-time export of a whole list is sent in pages of this size
SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """The answer for one record: what happened and where it stands."""

    record_id: str
    status: str  # created, updated, unchanged, invalid, refused
    record: SyncRecord | None = None
    problems: list[FieldProblem] = field(default_factory=list)
    detail: str = ""


@dataclass(frozen=True)
class _Plan:
    """A record save decided on: its outcome once stored, what the save expects (revision, state; None, None
    for a new record), and the name it gives up once stored."""

    outcome: Outcome
    expected: tuple[int | None, SyncState | None]
    release: str | None = None
    linked: bool = False  # a link the push asked for: told once it is stored

    @property
    def record(self) -> SyncRecord:
        assert self.outcome.record is not None  # a plan always stores a record
        return self.outcome.record


class RecordProblemsError(InvalidInputError):
    """The record would be refused by QuickBooks or refers to what does not exist (HTTP 422)."""


@dataclass
class Records:
    tenants: TenantRepository
    store: RecordStore
    settings: SettingsRepository
    jobs: JobQueue
    runs: TenantLease
    clock: Clock

    # Linking a record on arrival (`quickbooks_id` pushed beside its fields); functions that take no pushes
    # do without.
    links: Links | None = None

    @property
    def _names(self) -> NameClaims:
        return NameClaims(self.store, self.clock)

    @property
    def _linking(self) -> Links:
        if self.links is None:
            raise RuntimeError("this Records was built without Links: it cannot link a pushed record")
        return self.links

    # ------------------------------------------------------------------ reading

    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord:
        get_tenant(self.tenants, tenant_id)
        return self._existing(tenant_id, record_type, record_id)

    def _existing(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord:
        _known_type(record_type)
        record = self.store.get(tenant_id, record_type, record_id)
        if record is None:
            raise NotFoundError(f"Tenant {tenant_id!r} has no {record_type} {record_id!r}.")
        return record

    def list_records(
        self, tenant_id: str, record_type: str, where: RecordFilter, limit: int, cursor: str | None
    ) -> Page[SyncRecord]:
        get_tenant(self.tenants, tenant_id)
        _known_type(record_type)
        return self.store.list(tenant_id, record_type, where, limit, cursor)

    def validate(
        self, tenant_id: str, record_type: str, data: Any, record_id: str | None = None
    ) -> list[FieldProblem]:
        """The problems a push of `data` would be refused with (none: it would be stored), found by the checks
        a push makes: the canonical model, the tenant's edition, the records it refers to, the link asked and
        the name it would take. `record_id`: the id it would be pushed under (its own name and link are then
        no clash). Stores, claims and queues nothing."""
        tenant = get_tenant(self.tenants, tenant_id)
        _known_type(record_type)
        link = _link_of(data)
        canonical = self._checked(
            tenant, record_type, record_id or "", _parsed(record_type, data), {}, link=link
        )
        if isinstance(canonical, Outcome):
            return canonical.problems
        existing = self.store.get(tenant_id, record_type, record_id) if record_id else None
        if isinstance(link, str):
            try:
                self._linking.entry_to_link(tenant_id, record_type, existing, link)
            except LinkRefusedError as refused:
                return refused.problems
            return []
        if existing is None:
            now = self.clock.now()
            record = SyncRecord(tenant_id, record_type, record_id or "", canonical, SyncState.DRAFT, now)
        else:
            record = existing.copy()
            record.data, record.revision = canonical, existing.revision + 1
        taken = self._names.check(record)
        return [taken] if taken is not None else []

    # ------------------------------------------------------------------ writing

    def upsert(
        self, tenant_id: str, record_type: str, record_id: str, data: Any, *, force: bool = False
    ) -> Outcome:
        """Store one record; RecordProblemsError lists what is wrong with it, RecordLockedError if locked."""
        tenant = get_tenant(self.tenants, tenant_id)
        _known_type(record_type)
        _, settings = settings_in_force(self.settings, tenant_id)
        outcome = self._upsert(tenant, settings, record_type, record_id, data, force=force)
        if outcome.status == "invalid":
            raise RecordProblemsError(outcome.detail, outcome.problems)
        if outcome.status == "refused":
            if outcome.problems:  # a link asked with the push was refused
                [refused] = outcome.problems
                raise LinkRefusedError(outcome.detail, refused.code, refused.actions)
            raise RecordLockedError(outcome.detail)
        self._request_run_if_pending(tenant, [outcome])
        return outcome

    def upsert_many(self, tenant_id: str, record_type: str, entries: list[tuple[str, Any]]) -> list[Outcome]:
        """Store many records of one type; each is answered on its own and a bad one stops no other."""
        tenant = get_tenant(self.tenants, tenant_id)
        _known_type(record_type)
        if len(entries) > BULK_MAX:
            raise InvalidInputError(
                f"At most {BULK_MAX} records per request; send the rest in further requests.",
                [FieldProblem("records", f"{len(entries)} records", "too_many", BULK_MAX, len(entries))],
            )
        ids = [record_id for record_id, _ in entries]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise InvalidInputError(
                "Each record may appear once per request.",
                [FieldProblem("records", f"{i!r} appears more than once", "duplicate") for i in repeated],
            )
        _, settings = settings_in_force(self.settings, tenant_id)
        # What this request reads, read once and in bulk: the records it replaces, and the records they refer
        # to (a thousand invoices of two hundred customers). Then every record is checked and planned, and the
        # planned saves are stored together; a record whose save lost a race goes the one-by-one way.
        models = {rid: _parsed(record_type, data) for rid, data in entries}
        links = {rid: _link_of(data) for rid, data in entries}
        wanted = [(record_type, rid) for rid in ids]
        wanted += [
            (k, i) for m in models.values() if isinstance(m, BaseModel) for _, k, i in reference_fields(m)
        ]
        seen: dict[str, SyncRecord | None] = dict.fromkeys((ref_key(k, i) for k, i in wanted), None)
        seen |= self.store.get_many(tenant_id, list(dict.fromkeys(wanted)))
        outcomes: list[Outcome] = []
        planned: list[tuple[int, _Plan]] = []
        linking: dict[str, str] = {}  # QuickBooks id -> the record of this request linked to it
        for rid in ids:
            canonical = self._checked(tenant, record_type, rid, models[rid], seen, link=links[rid])
            if isinstance(canonical, Outcome):
                outcomes.append(canonical)
                continue
            link = links[rid]
            if isinstance(link, str) and linking.setdefault(link, rid) != rid:
                why = f"QuickBooks {record_type} {link} is linked to {linking[link]!r} by this same request."
                refused = LinkRefusedError(why, "linked_elsewhere")
                existing = seen[ref_key(record_type, rid)]
                outcomes.append(Outcome(rid, "refused", existing, refused.problems, why))
                continue
            existing = seen[ref_key(record_type, rid)]
            plan = self._planned(
                tenant, settings, record_type, rid, canonical=canonical, existing=existing, link=links[rid]
            )
            if isinstance(plan, Outcome):
                outcomes.append(plan)
                continue
            seen[ref_key(record_type, rid)] = plan.record
            planned.append((len(outcomes), plan))
            outcomes.append(plan.outcome)
        stored = self.store.save_all([(p.record, *p.expected) for _, p in planned])
        data_of = dict(entries)
        for (index, plan), saved in zip(planned, stored, strict=True):
            if saved:
                self._after_save(plan)
            else:  # changed meanwhile: read it again and decide again, as a single PUT does
                rid = plan.record.record_id
                outcomes[index] = self._upsert(tenant, settings, record_type, rid, data_of[rid])
        self._request_run_if_pending(tenant, outcomes)
        return outcomes

    def delete(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord:
        """Void or delete the record in QuickBooks as the entity allows; at once if QuickBooks never had it.
        A record the worker picks up meanwhile is answered as one being sent (ConflictError, 409)."""
        tenant = get_tenant(self.tenants, tenant_id)
        record = self._existing(tenant_id, record_type, record_id)
        _, settings = settings_in_force(self.settings, tenant_id)
        for _ in range(SAVE_ATTEMPTS):
            if record.state is SyncState.VOIDED:
                return record
            if record.state is SyncState.SYNCING:
                raise ConflictError(
                    f"{record.key} is being sent to QuickBooks right now; delete it once it is synced."
                )
            now = self.clock.now()
            updated = record.copy()
            updated.operation = Operation.DELETE
            updated.revision += 1
            if record.quickbooks_id is None:
                updated.move(SyncState.VOIDED, now, "deleted before QuickBooks had it")
            elif settings.send_mode is SendMode.REVIEW:
                updated.move(
                    SyncState.DRAFT, now, "deleted in the host app; send it to void it in QuickBooks"
                )
            else:
                updated.move(SyncState.PENDING, now, "deleted in the host app")
            try:
                self.store.save(updated, record.revision, record.state)
            except StaleRecordError:
                record = self._existing(tenant_id, record_type, record_id)  # changed: decide again
                continue
            if updated.state is SyncState.VOIDED:
                self._names.release(updated, name_key_of(updated), updated.revision)
            self._request_run_if_pending(tenant, [Outcome(record_id, "updated", updated)])
            return updated
        raise ConflictError(f"{record.key} kept changing while it was deleted; delete it again.")

    def send(self, tenant_id: str, keys: list[tuple[str, str]], *, force: bool = False) -> list[Outcome]:
        """Send the chosen records now (drafts, failed or ignored ones; synced ones too with `force`), with
        the drafts they depend on. A record named twice is answered once."""
        now = self.clock.now()
        movable = {SyncState.DRAFT, SyncState.FAILED, SyncState.IGNORED} | (
            {SyncState.SYNCED, SyncState.LOCKED} if force else set()
        )
        sent: dict[str, SyncRecord] = {}  # moved by this request, a dependency of an earlier one included
        outcomes: list[Outcome] = []
        tenant = get_tenant(self.tenants, tenant_id)
        for record_type, record_id, record in self._requested(tenant_id, keys):
            if record is None:
                outcomes.append(_missing(record_type, record_id))
                continue
            if record.key in sent:
                outcomes.append(Outcome(record_id, "updated", sent[record.key]))
                continue
            if record.state in movable:
                for dependency in self._draft_dependencies(record):
                    if dependency.key not in sent:
                        moved, now_is = self._move_if(
                            dependency,
                            {SyncState.DRAFT},
                            SyncState.PENDING,
                            now,
                            "sent with a record that depends on it",
                        )
                        if moved:
                            sent[dependency.key] = now_is
            moved, current = self._move_if(
                record, movable, SyncState.PENDING, now, "sent by the tenant", force=force
            )
            if moved:
                sent[current.key] = current
                outcomes.append(Outcome(record_id, "updated", current))
            else:
                outcomes.append(
                    Outcome(record_id, "unchanged", current, detail=_why_not_sent(current, force))
                )
        self._request_run_if_pending(tenant, outcomes)
        return outcomes

    def unpend(self, tenant_id: str, keys: list[tuple[str, str]]) -> list[Outcome]:
        """Take records back to draft while they are still waiting to be sent. A record named twice is
        answered once."""
        now = self.clock.now()
        outcomes: list[Outcome] = []
        get_tenant(self.tenants, tenant_id)
        for record_type, record_id, record in self._requested(tenant_id, keys):
            if record is None:
                outcomes.append(_missing(record_type, record_id))
                continue
            moved, current = self._move_if(
                record, {SyncState.PENDING}, SyncState.DRAFT, now, "taken back by the tenant"
            )
            if moved:
                outcomes.append(Outcome(record_id, "updated", current))
                continue
            detail = (
                "QuickBooks is receiving it right now; it can no longer be taken back."
                if current.state is SyncState.SYNCING
                else f"It is {current.state.value}, not pending."
            )
            outcomes.append(Outcome(record_id, "unchanged", current, detail=detail))
        return outcomes

    # ------------------------------------------------------------------ internals

    def _requested(
        self, tenant_id: str, keys: list[tuple[str, str]]
    ) -> Iterator[tuple[str, str, SyncRecord | None]]:
        """Each (record_type, record_id) asked for, once, with its record or None, read in one go."""
        keys = list(dict.fromkeys(keys))
        found = self.store.get_many(tenant_id, keys)
        for record_type, record_id in keys:
            yield record_type, record_id, found.get(ref_key(record_type, record_id))

    def _upsert(
        self,
        tenant: Tenant,
        settings: SyncSettings,
        record_type: str,
        record_id: str,
        data: Any,
        *,
        force: bool = False,
    ) -> Outcome:
        """Check and store one record, reading it again and deciding again while its save loses races."""
        seen: dict[str, SyncRecord | None] = {}
        link = _link_of(data)
        model = _parsed(record_type, data)
        canonical = self._checked(tenant, record_type, record_id, model, seen, link=link)
        if isinstance(canonical, Outcome):
            return canonical
        for _ in range(SAVE_ATTEMPTS):
            existing = self.store.get(tenant.id, record_type, record_id)
            plan = self._planned(
                tenant,
                settings,
                record_type,
                record_id,
                canonical=canonical,
                existing=existing,
                force=force,
                link=link,
            )
            if isinstance(plan, Outcome):
                return plan
            try:
                self.store.save(plan.record, *plan.expected)
            except StaleRecordError:
                continue
            self._after_save(plan)
            return plan.outcome
        return Outcome(record_id, "refused", detail="The record kept changing while it was stored; retry.")

    def _checked(
        self,
        tenant: Tenant,
        record_type: str,
        record_id: str,
        model: BaseModel | ValidationError,
        seen: dict[str, SyncRecord | None],
        *,
        link: str | FieldProblem | None = None,
    ) -> dict[str, Any] | Outcome:
        """The record's canonical data, or its "invalid" outcome. `seen`: records this request
        already read (None: not stored); the records it refers to are read into it. `link`: the
        `quickbooks_id` pushed with it, or what is wrong with it."""
        asked = [link] if isinstance(link, FieldProblem) else []
        if isinstance(model, ValidationError):
            problems = _pydantic_problems(model) + asked
            return Outcome(record_id, "invalid", problems=problems, detail=_INVALID)
        problems = asked + [p.as_field_problem() for p in validate(record_type, model, tenant.edition)]
        problems += self._reference_problems(tenant.id, record_type, record_id, model, seen)
        if problems:
            return Outcome(record_id, "invalid", problems=problems, detail=_INVALID)
        return model.model_dump(mode="json")

    def _planned(
        self,
        tenant: Tenant,
        settings: SyncSettings,
        record_type: str,
        record_id: str,
        *,
        canonical: dict[str, Any],
        existing: SyncRecord | None,
        force: bool = False,
        link: str | FieldProblem | None = None,
    ) -> _Plan | Outcome:
        """What storing the checked record over `existing` means: the save to make, or an outcome without
        one (unchanged, refused, a name another record holds, a link refused)."""
        try:
            return self._plan(
                tenant,
                settings,
                record_type=record_type,
                record_id=record_id,
                canonical=canonical,
                existing=existing,
                force=force,
                quickbooks_id=link if isinstance(link, str) else None,
            )
        except NameTakenError as taken:
            return Outcome(record_id, "invalid", problems=[taken.problem], detail=_INVALID)
        except LinkRefusedError as refused:  # nothing is stored; in a bulk, it stops no other record
            return Outcome(record_id, "refused", existing, refused.problems, refused.detail)
        except RecordLockedError as kept:  # in a bulk, one kept record stops no other
            return Outcome(record_id, "refused", record=existing, detail=kept.detail)

    def _after_save(self, plan: _Plan) -> None:
        if plan.linked:
            self._linking.after_link(plan.record, plan.release)
        elif plan.release is not None:
            self.store.release_name(
                plan.record.tenant_id, plan.release, plan.record.key, plan.record.revision
            )

    def _plan(
        self,
        tenant: Tenant,
        settings: SyncSettings,
        *,
        record_type: str,
        record_id: str,
        canonical: dict[str, Any],
        existing: SyncRecord | None,
        force: bool,
        quickbooks_id: str | None,
    ) -> _Plan | Outcome:
        now = self.clock.now()
        live = settings.send_mode is SendMode.LIVE
        removal = RECORD_TYPES[record_type].removal[tenant.edition]
        entry = None  # the object of the company's lists it is linked to, when the push asks for a new link
        if quickbooks_id is not None:
            entry = self._linking.entry_to_link(tenant.id, record_type, existing, quickbooks_id)
        if existing is None:
            record = SyncRecord(tenant.id, record_type, record_id, canonical, SyncState.DRAFT, now)
            if entry is not None:
                self._linking.apply(record, entry, None)
                return _Plan(Outcome(record_id, "created", record), (None, None), linked=True)
            self._names.claim(record)
            record.move(SyncState.PENDING if live else SyncState.DRAFT, now, "received")
            _wait_for_its_web_connector(record, tenant, now)
            return _Plan(Outcome(record_id, "created", record), (None, None))
        same = existing.data == canonical and existing.operation is Operation.UPSERT and not force
        if entry is not None:  # linked at its revision: a change with it is QuickBooks' already
            record = existing.copy()
            if not same:
                record.data, record.operation, record.follow_up = canonical, Operation.UPSERT, None
                record.revision += 1
            released = self._linking.apply(record, entry, existing)
            expected = (existing.revision, existing.state)
            return _Plan(Outcome(record_id, "updated", record), expected, released, linked=True)
        # Unchanged: nothing to do, unless it failed or was ignored and the tenant sends on change (then this
        # is a retry: the settings may let it go now).
        if same and (existing.state not in (SyncState.FAILED, SyncState.IGNORED) or not live):
            return Outcome(record_id, "unchanged", existing)
        if existing.state is SyncState.LOCKED and not force:
            raise _locked(existing)
        if existing.state is SyncState.VOIDED and not force:
            raise _deleted(existing, removal)
        if existing.state is SyncState.SYNCING and existing.operation is Operation.DELETE:
            raise _locked(existing, "it is being voided in QuickBooks right now")
        record = existing.copy()
        record.data = canonical
        record.operation = Operation.UPSERT
        record.revision += 1
        record.force = record.force or force
        record.follow_up = None  # asked about the old revision (its name, its version): sent afresh
        if existing.state is SyncState.VOIDED and removal is Removal.DELETE:
            # Brought back: QuickBooks has nothing left to update, so it is created there again.
            record.quickbooks_id = record.quickbooks_version = None
            record.synced_revision = record.attempts = 0
        old_name = held_name(existing)
        new_name = name_key_of(record)
        if new_name is not None and new_name != old_name:
            self._names.claim(record)
        # Review mode: an unsent or accepted record waits as a draft again; a pending one stays pending.
        keep_pending = existing.state in (SyncState.PENDING, SyncState.SYNCING)
        state = SyncState.PENDING if live or keep_pending else SyncState.DRAFT
        record.move(state, now, "changed")
        _wait_for_its_web_connector(record, tenant, now)
        released = old_name if old_name is not None and old_name != new_name else None
        return _Plan(Outcome(record_id, "updated", record), (existing.revision, existing.state), released)

    def _reference_problems(
        self,
        tenant_id: str,
        record_type: str,
        record_id: str,
        model: BaseModel,
        seen: dict[str, SyncRecord | None],
    ) -> list[FieldProblem]:
        fields = list(reference_fields(model))
        unread = list(dict.fromkeys((k, i) for _, k, i in fields if ref_key(k, i) not in seen))
        if unread:
            seen |= dict.fromkeys((ref_key(k, i) for k, i in unread), None)
            seen |= self.store.get_many(tenant_id, unread)
        problems: list[FieldProblem] = []
        for where, kind, target_id in fields:
            target = seen[ref_key(kind, target_id)]
            if (kind, target_id) == (record_type, record_id):
                problems.append(_reference(where, kind, target_id, "refers to itself", "self_reference"))
            elif target is None:
                problems.append(
                    _reference(where, kind, target_id, "does not exist; push it first", "not_found")
                )
            elif target.state is SyncState.VOIDED or target.operation is Operation.DELETE:
                problems.append(_reference(where, kind, target_id, "was deleted", "deleted"))
        return problems

    def _draft_dependencies(self, record: SyncRecord) -> list[SyncRecord]:
        """Drafts this record needs in QuickBooks first, depth first, each once."""
        seen: dict[str, SyncRecord] = {}

        def walk(current: SyncRecord) -> None:
            if current.operation is Operation.DELETE:
                return
            model = parse_record(current.record_type, current.data)
            wanted = [k for k in references(model) if ref_key(*k) not in seen]
            for dependency in self.store.get_many(current.tenant_id, wanted).values():
                if dependency.state is SyncState.DRAFT and dependency.key not in seen:
                    seen[dependency.key] = dependency
                    walk(dependency)

        walk(record)
        return list(seen.values())

    def _move_if(
        self,
        record: SyncRecord,
        movable: set[SyncState],
        state: SyncState,
        now: datetime,
        detail: str,
        *,
        force: bool = False,
    ) -> tuple[bool, SyncRecord]:
        """Move `record` to `state` if it is in a `movable` state; read again and decide again when it changed
        meanwhile (the worker picked it up, the host app changed it). Whether it moved, and the record now."""
        for _ in range(SAVE_ATTEMPTS):
            if record.state not in movable:
                return False, record
            moved = record.copy()
            moved.force = force
            moved.move(state, now, detail)
            try:
                self.store.save(moved, record.revision, record.state)
            except StaleRecordError:
                current = self.store.get(record.tenant_id, record.record_type, record.record_id)
                if current is None:  # records are never removed; a store that lost it is a bug
                    raise
                record = current
                continue
            return True, moved
        raise ConflictError(f"{record.key} kept changing while it was moved to {state.value}; try again.")

    def _request_run_if_pending(self, tenant: Tenant, outcomes: Iterable[Outcome]) -> None:
        """Ask for a run of the tenant's edition when any of these records is pending. A QuickBooks Desktop
        tenant's records say they wait for its Web Connector, which collects them when it next runs."""
        pending = [o.record for o in outcomes if o.record is not None and o.record.state is SyncState.PENDING]
        if not pending:
            return
        RunRequests(self.runs, self.jobs, self.clock).request(tenant.id, edition=tenant.edition)
        if tenant.edition is Edition.QBD:
            self._wait_for_web_connector(pending)

    def _wait_for_web_connector(self, pending: list[SyncRecord]) -> None:
        now = self.clock.now()
        saves: list[tuple[SyncRecord, SyncRecord]] = []
        for record in pending:
            if record.waiting_for == (WEB_CONNECTOR,):
                continue
            waiting = record.copy()
            waiting.move(SyncState.PENDING, now, WAITS_FOR_WEB_CONNECTOR)
            waiting.waiting_for = (WEB_CONNECTOR,)
            saves.append((record, waiting))
        stored = self.store.save_all([(w, r.revision, r.state) for r, w in saves])
        for (record, waiting), saved in zip(saves, stored, strict=True):
            if saved:  # else it changed meanwhile: that change says so in turn
                record.history, record.waiting_for, record.updated_at = (
                    waiting.history,
                    waiting.waiting_for,
                    now,
                )


# In waiting_for: a QuickBooks Desktop tenant's records wait for its Web Connector to collect them.
WEB_CONNECTOR = "web_connector"
WAITS_FOR_WEB_CONNECTOR = (
    "waits for the Web Connector: QuickBooks Desktop collects it when the Web Connector on the tenant's PC "
    "next runs"
)

_INVALID = "The record would be refused; see errors. Nothing was stored."


def _wait_for_its_web_connector(record: SyncRecord, tenant: Tenant, now: datetime) -> None:
    """A QuickBooks Desktop tenant's pending record says, as it is stored, that its Web Connector collects
    it (saved once, not stored and then changed to say so)."""
    if tenant.edition is Edition.QBD and record.state is SyncState.PENDING:
        record.move(SyncState.PENDING, now, WAITS_FOR_WEB_CONNECTOR)
        record.waiting_for = (WEB_CONNECTOR,)


def _link_of(data: Any) -> str | FieldProblem | None:
    """The `quickbooks_id` pushed beside the record's fields (None: none), or what is wrong with it."""
    if not isinstance(data, dict):
        return None
    try:
        return asked_quickbooks_id(data.get(QUICKBOOKS_ID_FIELD))
    except InvalidInputError as bad:
        return bad.problems[0]


def _parsed(record_type: str, data: Any) -> BaseModel | ValidationError:
    if isinstance(data, dict) and QUICKBOOKS_ID_FIELD in data:  # not a field of the record: the link asked
        data = {k: v for k, v in data.items() if k != QUICKBOOKS_ID_FIELD}
    try:
        return parse_record(record_type, data)
    except ValidationError as exc:
        return exc


def _known_type(record_type: str) -> None:
    if record_type not in RECORD_TYPES:
        raise NotFoundError(f"Unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}.")


def _reference(where: str, kind: str, target_id: str, what: str, code: str) -> FieldProblem:
    return FieldProblem(
        where,
        f"The {kind.replace('_', ' ')} {target_id!r} {what}.",
        f"reference_{code}",
        actions=("push_it_first", "edit") if code == "not_found" else ("edit",),
    )


def _pydantic_problems(exc: ValidationError) -> list[FieldProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        problems.append(FieldProblem(where, str(error.get("msg", "invalid")), str(error.get("type", ""))))
    return problems


def _missing(record_type: str, record_id: str) -> Outcome:
    return Outcome(
        record_id,
        "refused",
        problems=[FieldProblem("records", f"No {record_type} {record_id!r}.", "not_found")],
        detail=f"No {record_type} {record_id!r}.",
    )


def _why_not_sent(record: SyncRecord, force: bool) -> str:
    if record.state in (SyncState.SYNCED, SyncState.LOCKED) and not force:
        return "QuickBooks already has this revision; send it with force to send it again."
    return f"It is already {record.state.value}."


def _locked(record: SyncRecord, why: str | None = None) -> RecordLockedError:
    reason = why or (
        "QuickBooks accepted it and the tenant's settings lock accepted invoices "
        "(lock_after_acceptance), so later changes are not sent"
    )
    return RecordLockedError(
        f"{record.record_type} {record.record_id!r} cannot be changed: {reason}. Change it in QuickBooks, "
        "or send the change with force=true to overwrite it."
    )


def _deleted(record: SyncRecord, removal: Removal) -> RecordLockedError:
    """A deleted record is brought back only with force, never by a plain PUT (a late retry of an old one).
    `removal`: what the deletion did to it in the tenant's QuickBooks."""
    what = f"{record.record_type} {record.record_id!r}"
    if record.quickbooks_id is None:
        why, back = "was deleted before QuickBooks had it", "to push it again"
    elif removal is Removal.DELETE:
        why, back = "was deleted, and so was its copy in QuickBooks", "to create it in QuickBooks again"
    elif removal is Removal.DEACTIVATE:
        why, back = (
            "was deleted and is inactive in QuickBooks",
            "to make it active there again with this data",
        )
    else:
        why, back = "was deleted and is voided in QuickBooks", "to un-void it there with this data"
    return RecordLockedError(f"{what} {why}. Send the change with force=true {back}.")


__all__ = ["BULK_MAX", "Outcome", "RecordProblemsError", "Records", "lockable"]
