"""The initial sync: what a tenant's first sync (or a later re-sync) does with each record on either side.

A plan is computed from the mirror of the company's lists, the host app's records and automatch, by the
tenant's settings (BPro's first-sync page, shared/products/bpro-desktop-settings.txt, is what users expect):

- a host record that has a QuickBooks object already (created by qbsync, or linked) is `matched` and kept;
- a customer, vendor, employee or item that automatch pairs with an object and auto-accepts is linked to it;
  one it proposes, or finds ambiguous, fails with `match_to_review` and the candidates, for a person to link
  (or send, to create it);
- a record found only in the app is created (`only_in_app: create`) or ignored (`ignore`); a customer
  created, or an invoice or payment dated, before `sync_since` is ignored ("before the since date"), and so
  is a payment the settings' `payment_methods_to_sync` keep out;
- a record that depends on an ignored one (an invoice of an ignored customer) is ignored too, saying which;
- an object found only in QuickBooks (active, linked to no record, no candidate of any match) is told to the
  host app (`only_in_quickbooks: create`), which creates the record and pushes it back with its
  `quickbooks_id`, or left as it is (`ignore`); a customer created in QuickBooks before `sync_since` (its
  mirror entry's `created_at`) is left as it is and counted "before the since date", as a host record is.

Documents (invoices, credit memos, payments, purchase orders, bills) are the host app's only: QuickBooks'
own are not read, so their `in_quickbooks` count is null.

Pure: the same records, entries and settings give the same plan, so the dry run's counts are what the run
then does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, cast

from qbsync.domain.matching import HostRecord, Outcome, RecordMatch, automatch
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, ListType
from qbsync.domain.records import RECORD_TYPES, Customer, Invoice, Payment, kept_out, parse_record, references
from qbsync.domain.settings import OneSideOnly, SyncSettings
from qbsync.domain.sync import Candidate, Operation, SyncRecord, SyncState, ref_key

# The record types in the order a plan goes through them (a type's dependencies come before it).
PLAN_TYPES: tuple[str, ...] = tuple(sorted(RECORD_TYPES, key=lambda t: (RECORD_TYPES[t].rank, t)))
LIST_TYPES: tuple[str, ...] = tuple(t for t in PLAN_TYPES if t in LIST_OF_RECORD_TYPE)
# What `sync_since` applies to (BPro: "it only affects Customers, Invoices and Payments").
SINCE_TYPES = frozenset({"customer", "invoice", "payment"})
MATCH_TO_REVIEW = "match_to_review"


class Action(StrEnum):
    KEEP = "keep"  # it has a QuickBooks object already (or is being sent): left as it is
    LINK = "link"  # automatch paired it with an object and accepted the pair
    REVIEW = "review"  # automatch proposed objects a person must pick from: it fails with the candidates
    CREATE = "create"  # sent to QuickBooks
    IGNORE = "ignore"  # kept out of QuickBooks; `reason` says why


class Why(StrEnum):
    """Why a record (or a QuickBooks object) is ignored, as the counts name it."""

    ONLY_IN_APP = "only_in_app"  # the setting only_in_app is ignore
    ONLY_IN_QUICKBOOKS = "only_in_quickbooks"  # the setting only_in_quickbooks is ignore
    BEFORE_SINCE = "before_since"  # created or dated before sync_since
    PAYMENT_METHOD = "payment_method"  # payment_methods_to_sync keeps it out
    DEPENDS_ON_IGNORED = "depends_on_ignored"  # it refers to an ignored record


@dataclass(frozen=True)
class Decision:
    """What the initial sync does with one host record."""

    record_type: str
    record_id: str
    action: Action
    why: Why | None = None  # IGNORE: the reason's code
    detail: str = ""  # IGNORE, REVIEW: in words, for the record's history or failure
    quickbooks_id: str | None = None  # LINK: the object
    candidates: tuple[str, ...] = ()  # REVIEW: the objects to pick from, best first; LINK: its object

    @property
    def key(self) -> str:
        return ref_key(self.record_type, self.record_id)


@dataclass(frozen=True)
class TypeCounts:
    """The summary of one record type, as the dry run answers it and the run then does it."""

    in_quickbooks: int | None  # active objects of its QuickBooks list; None for documents (not read)
    in_app: int  # host records (deleted ones aside)
    matched: int  # records with a QuickBooks object already, and the pairs automatch accepts
    to_review: int  # pairs automatch proposed, or could not decide: a person links them
    to_create_in_quickbooks: int  # host records to send
    to_create_in_app: int  # QuickBooks objects told to the host app
    ignored: int  # host records and QuickBooks objects left out, by reason in `ignored_by_reason`
    ignored_by_reason: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_quickbooks": self.in_quickbooks,
            "in_app": self.in_app,
            "matched": self.matched,
            "to_review": self.to_review,
            "to_create_in_quickbooks": self.to_create_in_quickbooks,
            "to_create_in_app": self.to_create_in_app,
            "ignored": self.ignored,
            "ignored_by_reason": dict(sorted(self.ignored_by_reason.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TypeCounts:
        return cls(
            in_quickbooks=data["in_quickbooks"],
            in_app=int(data["in_app"]),
            matched=int(data["matched"]),
            to_review=int(data["to_review"]),
            to_create_in_quickbooks=int(data["to_create_in_quickbooks"]),
            to_create_in_app=int(data["to_create_in_app"]),
            ignored=int(data["ignored"]),
            ignored_by_reason={str(k): int(v) for k, v in data.get("ignored_by_reason", {}).items()},
        )


@dataclass(frozen=True)
class Plan:
    decisions: tuple[Decision, ...]  # one per host record in scope, in PLAN_TYPES order, then by id
    to_tell: tuple[ListEntry, ...]  # objects only in QuickBooks, told as created (only_in_quickbooks: create)
    counts: Mapping[str, TypeCounts]  # per record type (every type of PLAN_TYPES)


def plan(
    records: Mapping[str, Sequence[SyncRecord]],
    entries: Mapping[ListType, Sequence[ListEntry]],
    settings: SyncSettings,
    received_on: Mapping[str, date] | None = None,
) -> Plan:
    """The initial sync's plan. `records`: the tenant's host records by type (deleted ones are left out here);
    `entries`: the mirror's lists of customers, vendors, employees and items, those read whole only (a list
    not read yet counts as None in `in_quickbooks`); `received_on`: the day qbsync
    first stored each record (by ref_key), what `sync_since` compares for a customer without `created_on`
    and a document without `txn_date` (absent: in scope)."""
    received_on = received_on or {}
    live = {t: [r for r in records.get(t, ()) if _alive(r)] for t in PLAN_TYPES}
    decisions: dict[str, Decision] = {}
    models = {r.key: parse_record(r.record_type, r.data) for t in PLAN_TYPES for r in live[t]}
    paired: dict[str, set[str]] = {t: set() for t in LIST_TYPES}  # QuickBooks ids taken or proposed, by type
    for record_type in PLAN_TYPES:
        list_type = LIST_OF_RECORD_TYPE.get(record_type)
        open_records = []
        for record in live[record_type]:
            if _has_object(record):
                decisions[record.key] = Decision(record_type, record.record_id, Action.KEEP)
                if list_type is not None and record.quickbooks_id:
                    paired[record_type].add(record.quickbooks_id)
            else:
                open_records.append(record)
        found = {}
        if list_type is not None and open_records:
            links = {r.quickbooks_id: r.record_id for r in live[record_type] if r.quickbooks_id}
            report = automatch(
                record_type,
                [(r.record_id, cast(HostRecord, models[r.key])) for r in open_records],
                entries.get(list_type, ()),
                settings,
                links,
            )
            found = {m.record_id: m for m in report.records}
        for record in open_records:
            decision = _decided(
                record, found.get(record.record_id), models[record.key], settings, received_on
            )
            decisions[record.key] = decision
            paired.setdefault(record_type, set()).update(decision.candidates)
    _ignore_dependants(decisions, models)
    to_tell: list[ListEntry] = []
    told: Counter[str] = Counter()  # objects only in QuickBooks, by record type: told, or left out (why)
    left_out: dict[str, Counter[str]] = {t: Counter() for t in PLAN_TYPES}
    for record_type in LIST_TYPES:
        for entry in sorted(entries.get(LIST_OF_RECORD_TYPE[record_type], ()), key=lambda e: e.quickbooks_id):
            if not entry.active or entry.quickbooks_id in paired[record_type]:
                continue
            why = _left_in_quickbooks(record_type, entry, settings)
            if why is None:
                to_tell.append(entry)
                told[record_type] += 1
            else:
                left_out[record_type][why.value] += 1
    ordered = tuple(decisions[r.key] for t in PLAN_TYPES for r in sorted(live[t], key=lambda r: r.record_id))
    counts = {t: _counts(t, ordered, entries, told[t], left_out[t]) for t in PLAN_TYPES}
    return Plan(ordered, tuple(to_tell), counts)


def _decided(
    record: SyncRecord,
    match: RecordMatch | None,
    model: Any,
    settings: SyncSettings,
    received_on: Mapping[str, date],
) -> Decision:
    """The decision for a record without a QuickBooks object, from what automatch found for it. The objects
    it names (`candidates`; a LINK's one object too) are no longer only in QuickBooks."""
    if match is not None and match.outcome is Outcome.MATCHED and match.match is not None:
        qid = match.match.quickbooks_id
        if match.auto_accepted:
            return Decision(
                record.record_type, record.record_id, Action.LINK, quickbooks_id=qid, candidates=(qid,)
            )
        return _review(record, (qid,))
    if match is not None and match.outcome is Outcome.AMBIGUOUS and match.candidates:
        return _review(record, tuple(c.quickbooks_id for c in match.candidates))
    return _only_in_app(record, model, settings, received_on)


def _left_in_quickbooks(record_type: str, entry: ListEntry, settings: SyncSettings) -> Why | None:
    """Why an object found only in QuickBooks is not told to the host app; None when it is told. As for a host
    record, the since date comes first: a customer created before `sync_since` (the day of its `created_at`
    in the offset QuickBooks wrote it in, the company's own day) is left out by it. One whose creation time
    qbsync does not know (read before the mirror kept it) is inside the window, as a host record without a
    day is."""
    since = settings.sync_since
    created = entry.created_at
    if since is not None and record_type in SINCE_TYPES and created is not None and created.date() < since:
        return Why.BEFORE_SINCE
    if settings.only_in_quickbooks is OneSideOnly.IGNORE:
        return Why.ONLY_IN_QUICKBOOKS
    return None


def _alive(record: SyncRecord) -> bool:
    return record.state is not SyncState.VOIDED and record.operation is Operation.UPSERT


def _has_object(record: SyncRecord) -> bool:
    """Whether QuickBooks has (or may have) the record's object: it has an id, or a send of it is in flight or
    had no known outcome (the engine looks it up before it creates anything)."""
    return bool(record.quickbooks_id) or record.state is SyncState.SYNCING or record.attempts > 0


def _review(record: SyncRecord, candidates: tuple[str, ...]) -> Decision:
    what = "one of " if len(candidates) > 1 else ""
    detail = (
        f"automatch found {what}QuickBooks {record.record_type} {', '.join(candidates)} like it but could "
        "not decide on its own: link it to the right one, or send it to create it in QuickBooks"
    )
    return Decision(record.record_type, record.record_id, Action.REVIEW, detail=detail, candidates=candidates)


def day_of(record: SyncRecord, model: Any, received_on: Mapping[str, date]) -> date | None:
    """The day `sync_since` compares: a customer's `created_on`, a document's `txn_date`, else the day qbsync
    first stored it."""
    if isinstance(model, Customer) and model.created_on is not None:
        return model.created_on
    if isinstance(model, Invoice | Payment) and model.txn_date is not None:
        return model.txn_date
    return received_on.get(record.key)


def _only_in_app(
    record: SyncRecord, model: Any, settings: SyncSettings, received_on: Mapping[str, date]
) -> Decision:
    since = settings.sync_since
    rid, kind = record.record_id, record.record_type
    if since is not None and kind in SINCE_TYPES:
        day = day_of(record, model, received_on)
        if day is not None and day < since:
            detail = (
                f"kept out of QuickBooks by the initial sync: before the since date ({day.isoformat()} is "
                f"before sync_since {since.isoformat()})"
            )
            return Decision(kind, rid, Action.IGNORE, Why.BEFORE_SINCE, detail)
    if settings.only_in_app is OneSideOnly.IGNORE:
        detail = (
            "kept out of QuickBooks by the initial sync: found only in the app, and the setting only_in_app "
            "is ignore; send it to create it in QuickBooks"
        )
        return Decision(kind, rid, Action.IGNORE, Why.ONLY_IN_APP, detail)
    kept = kept_out(model, settings)
    if kept is not None:
        return Decision(kind, rid, Action.IGNORE, Why.PAYMENT_METHOD, kept)
    return Decision(kind, rid, Action.CREATE)


def _ignore_dependants(decisions: dict[str, Decision], models: Mapping[str, Any]) -> None:
    """A record to create that refers to an ignored one is ignored too, naming it; in type order, so that
    what an ignored dependant holds up follows it (a payment of an invoice of an ignored customer)."""
    changed = True
    while changed:  # a sub-customer of a sub-customer: until nothing changes
        changed = False
        for key, decision in decisions.items():
            if decision.action is not Action.CREATE:
                continue
            ignored = [
                ref_key(*ref)
                for ref in references(models[key])
                if (d := decisions.get(ref_key(*ref))) is not None and d.action is Action.IGNORE
            ]
            if ignored:
                detail = (
                    f"kept out of QuickBooks by the initial sync: it depends on {', '.join(ignored)}, which "
                    "is ignored"
                )
                decisions[key] = Decision(
                    decision.record_type, decision.record_id, Action.IGNORE, Why.DEPENDS_ON_IGNORED, detail
                )
                changed = True


def _counts(
    record_type: str,
    decisions: Iterable[Decision],
    entries: Mapping[ListType, Sequence[ListEntry]],
    told: int,
    left_out: Counter[str],
) -> TypeCounts:
    """A type's counts: its host records' decisions, and its objects found only in QuickBooks, `told` to the
    host app or `left_out` (by reason), in the same `ignored_by_reason` as the host records."""
    mine = [d for d in decisions if d.record_type == record_type]
    by_action = Counter(d.action for d in mine)
    reasons = Counter(d.why.value for d in mine if d.why is not None) + left_out
    list_type = LIST_OF_RECORD_TYPE.get(record_type)
    return TypeCounts(
        in_quickbooks=None
        if list_type is None or list_type not in entries
        else sum(1 for e in entries[list_type] if e.active),
        in_app=len(mine),
        matched=by_action[Action.KEEP] + by_action[Action.LINK],
        to_review=by_action[Action.REVIEW],
        to_create_in_quickbooks=by_action[Action.CREATE],
        to_create_in_app=told,
        ignored=sum(reasons.values()),
        ignored_by_reason=dict(reasons),
    )


def candidates_of(decision: Decision, entries: Mapping[str, ListEntry]) -> tuple[Candidate, ...]:
    """A REVIEW decision's candidates as a failure names them (for the `link_existing` action)."""
    return tuple(
        Candidate(e.quickbooks_id, e.name, e.list_type.value)
        for qid in decision.candidates
        if (e := entries.get(qid)) is not None
    )


# ------------------------------------------------------------------ the run, as stored


class Step(StrEnum):
    """Where a run stands; each step advances idempotently to the next."""

    READING = "reading"  # waits for the first complete read of the company's lists
    MATCHING = "matching"  # link the pairs automatch accepts, decide every other record; then tell the
    # objects found only in QuickBooks, once (by whoever stores the step's end)
    PAYMENTS = "payments"  # payments back from the since date
    SENDING = "sending"  # waits until every record in scope is synced, failed, ignored or locked
    DONE = "done"


@dataclass(frozen=True)
class InitialSync:
    """A tenant's initial sync as stored: one per tenant, the latest. `version` counts its saves (each save
    is conditional on the version read). `summary`: the plan's counts, once matched."""

    tenant_id: str
    step: Step
    started_at: datetime
    updated_at: datetime
    settings_version: int
    summary: Mapping[str, TypeCounts] | None = None
    progress_told_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 0

    @property
    def running(self) -> bool:
        return self.step is not Step.DONE

    @property
    def matching(self) -> bool:
        """At the matching step, done by the worker: no record of the tenant should be sent meanwhile."""
        return self.step is Step.MATCHING


class InitialSyncStore(Protocol):
    """Each tenant's initial sync (contract: tests/adapters/test_initial_sync_store.py)."""

    def get(self, tenant_id: str) -> InitialSync | None: ...

    def start(self, sync: InitialSync) -> bool:
        """Store a new run (version 1) if the tenant has none, or only one that is done; False otherwise."""

    def save(self, sync: InitialSync) -> bool:
        """Store `sync` with its version plus one, if the stored one still has `sync.version`; else False."""
