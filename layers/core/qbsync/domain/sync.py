"""Sync state: where each record the host app pushed stands on its way to QuickBooks; the ports keeping it.

    draft ──sync──► pending ──worker──► syncing ──► synced ──(lock policy)──► locked
      ▲               │  ▲  │               │
      └────unpend─────┘  │  └─(settings)─► ignored ──send / push again──► pending
                         └──retry / change──┴──► failed (QuickBooks code, message, action)
    a deleted record: pending (operation void/delete) ──► voided

`ignored`: the tenant's settings keep the record out of QuickBooks (a payment whose method is not in
`payment_methods_to_sync`); its history says which setting. What depends on it waits, pending.

A change to the record's data makes a new `revision`; the worker sends the revision it read, and a result for
an older revision never overwrites a newer one. Every state change is kept in `history` with its time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from qbsync.domain.errors import DomainError
from qbsync.domain.paging import Page
from qbsync.domain.ports import Lease
from qbsync.domain.settings import SyncSettings
from qbsync.domain.tenants import Edition

if TYPE_CHECKING:  # the sync state builds on the records: their module imports this one
    from qbsync.domain.records import RecordFilter

HISTORY_MAX = 50  # the newest state changes kept on a record; older ones are dropped


class SyncState(StrEnum):
    DRAFT = "draft"  # waiting for the tenant to send it (review mode)
    PENDING = "pending"  # queued to be sent
    SYNCING = "syncing"  # handed to QuickBooks; the outcome is not known yet
    SYNCED = "synced"
    FAILED = "failed"  # QuickBooks (or a check before it) refused it; `failure` says why and what to do
    LOCKED = "locked"  # synced, and the tenant's policy refuses later changes
    VOIDED = "voided"  # deleted in the host app, voided or made inactive in QuickBooks
    IGNORED = "ignored"  # kept out of QuickBooks by the tenant's settings; the history says which setting


class Operation(StrEnum):
    UPSERT = "upsert"  # create it in QuickBooks, or update what is there
    DELETE = "delete"  # void a transaction, delete a draft-like one, or make a name-list entry inactive


@dataclass(frozen=True)
class Candidate:
    """An object QuickBooks has that a failed record could be linked to (the `link_existing` action): PUT
    /v1/tenants/{id}/records/{type}/{record_id}/link with its `quickbooks_id`."""

    quickbooks_id: str
    name: str
    list_type: str  # the mirror's list it is in (domain/mirror.py ListType): "customer", "vendor", ...

    def as_dict(self) -> dict[str, str]:
        return {"quickbooks_id": self.quickbooks_id, "name": self.name, "list_type": self.list_type}


@dataclass(frozen=True)
class Failure:
    """Why a record is not in QuickBooks and what fixes it. `code` is QuickBooks' fault code, or ours
    ("dependency_failed", "name_clash", ...) when it never got that far. `candidates`: the objects the
    `link_existing` action would link it to."""

    code: str
    message: str
    actions: tuple[str, ...] = ()
    field: str = ""
    candidates: tuple[Candidate, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "actions": list(self.actions),
            "field": self.field,
            "candidates": [c.as_dict() for c in self.candidates],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Failure:
        """The inverse of `as_dict` (a failure stored before candidates existed has none)."""
        return cls(
            str(data["code"]),
            str(data["message"]),
            tuple(data.get("actions", ())),
            str(data.get("field", "")),
            tuple(
                Candidate(str(c["quickbooks_id"]), str(c["name"]), str(c["list_type"]))
                for c in data.get("candidates", ())
            ),
        )


# What a tenant can do about a Failure a mapping to either edition gives (Failure.actions).
EDIT = "edit"
EDIT_SETTINGS = "edit_settings"
CREATE_IN_QUICKBOOKS = "create_in_quickbooks"
ACTIVATE_IN_QUICKBOOKS = "make_active_in_quickbooks"


class FollowUpKind(StrEnum):
    REREAD = "reread"  # its QuickBooks version is out of date: read the object again, then re-apply
    NAME_HOLDERS = "name_holders"  # its name is taken: find who holds it, then apply the name-clash policy
    NAME_FREE = "name_free"  # its name was checked before its create and nobody holds it: create it


@dataclass(frozen=True)
class FollowUp:
    """QuickBooks answered the record's last send with a fault that needs one more question before the
    record can go again; `code` is that answer's code (what the record fails with if the question settles
    nothing). Kept on the record, so a follow-up survives the run that found it."""

    kind: FollowUpKind
    code: str


@dataclass(frozen=True)
class Transition:
    state: SyncState
    at: datetime
    detail: str = ""


@dataclass
class SyncRecord:
    """One host-app record and its sync state. `data` is the canonical record as JSON-ready values."""

    tenant_id: str
    record_type: str
    record_id: str
    data: dict[str, Any]
    state: SyncState
    updated_at: datetime
    revision: int = 1
    operation: Operation = Operation.UPSERT
    quickbooks_id: str | None = None
    quickbooks_version: str | None = None
    quickbooks_name: str | None = None  # the name QuickBooks knows it by, when a clash made us rename it
    failure: Failure | None = None
    waiting_for: tuple[str, ...] = ()  # "customer/c-1": dependencies this record waits for
    history: list[Transition] = field(default_factory=list)
    synced_revision: int = 0  # the revision QuickBooks has; 0 before the first sync
    attempts: int = 0  # sends of the current revision; the requestid of a create is stable across them
    force: bool = False  # re-send even if QuickBooks already has this revision
    follow_up: FollowUp | None = None  # pending: the question to ask QuickBooks before it is sent again
    # Which QuickBooks object of this record a create makes: 0 for the first; one more each time the record is
    # created again after its object was deleted in QuickBooks. Desktop's ExternalGUID is derived from it.
    generation: int = 0

    @property
    def key(self) -> str:
        return ref_key(self.record_type, self.record_id)

    def move(self, state: SyncState, at: datetime, detail: str = "") -> None:
        """Change state and remember it; a change to the same state with the same detail is not repeated."""
        last = self.history[-1] if self.history else None
        if last is None or last.state is not state or last.detail != detail:
            self.history.append(Transition(state, at, detail))
            del self.history[:-HISTORY_MAX]
        self.state = state
        self.updated_at = at
        if state is not SyncState.FAILED:
            self.failure = None
        if state is not SyncState.PENDING:
            self.waiting_for = ()
            self.follow_up = None

    def fail(self, failure: Failure, at: datetime) -> None:
        self.move(SyncState.FAILED, at, f"{failure.code}: {failure.message}")
        self.failure = failure

    def copy(self) -> SyncRecord:
        return dataclasses.replace(self, history=list(self.history))


def ref_key(record_type: str, record_id: str) -> str:
    return f"{record_type}/{record_id}"


class RecordLockedError(DomainError):
    """QuickBooks accepted the record and the tenant's policy keeps it as it was (HTTP 409)."""

    title = "Record locked"


class StaleRecordError(Exception):
    """The record changed since it was read; read it again (raised by RecordStore.save)."""


@dataclass(frozen=True)
class NameClaim:
    """A customer, vendor or employee name reserved for one record ("vendor/v-1"), by the revision of it that
    claimed the name, `at` that time. It holds while that record carries the name, and while the save of that
    revision may still land. A claim whose save lost (the record reached that revision without the name, or
    never reached it) may be taken by another record, so a save that fails leaves nothing to clean up."""

    owner: str
    revision: int
    at: datetime


@dataclass(frozen=True)
class SyncEvent:
    """Something the host app hears about: on the bus and in the tenant's feed."""

    type: str  # record.synced, record.failed, payment.received, payment.updated, payment.voided, ...
    tenant_id: str
    at: datetime
    detail: dict[str, Any]
    id: str = ""  # given by the feed when stored; ordered within a tenant


class RecordStore(Protocol):
    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord | None: ...

    def get_many(self, tenant_id: str, keys: list[tuple[str, str]]) -> dict[str, SyncRecord]:
        """The records found among `keys` ((record_type, record_id)), by `ref_key`; missing ones absent."""

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        """Store `record`. With `expected_revision`, only if the stored one still has that revision (and
        `expected_state`, when given), else StaleRecordError. `expected_revision=None`: it must be new."""

    def save_all(self, saves: Sequence[tuple[SyncRecord, int | None, SyncState | None]]) -> list[bool]:
        """Each (record, expected_revision, expected_state) stored as `save` stores it, in as few requests as
        the store allows; per entry, True if stored, False where `save` would raise StaleRecordError (never
        raised here). An entry's failed condition stops no other entry."""

    def in_state(self, tenant_id: str, state: SyncState, limit: int, cursor: str | None) -> Page[SyncRecord]:
        """Records of one tenant in one state, oldest change first."""

    def newest_in_state(self, tenant_id: str, state: SyncState, limit: int) -> list[SyncRecord]:
        """Up to `limit` records of one tenant in one state, the newest change first."""

    def count_states(self, tenant_id: str) -> dict[str, dict[SyncState, int]]:
        """How many records of the tenant each type has in each state (types and states without any absent),
        exact as of the call."""

    def list(
        self, tenant_id: str, record_type: str, where: RecordFilter, limit: int, cursor: str | None
    ) -> Page[SyncRecord]:
        """Records of one type that `where` keeps, by record id."""

    def find_by_quickbooks_id(
        self, tenant_id: str, record_type: str, quickbooks_id: str
    ) -> SyncRecord | None:
        """The record mapped to this QuickBooks id, if any."""

    def linked(self, tenant_id: str, record_type: str, quickbooks_ids: Sequence[str]) -> dict[str, str]:
        """The ids of the records linked to these QuickBooks ids, by QuickBooks id: as find_by_quickbooks_id
        finds them (the record must still carry that id), for many ids at once; ids linked to none absent."""

    def claim_name(
        self, tenant_id: str, name_key: str, claim: NameClaim, replacing: NameClaim | None = None
    ) -> NameClaim | None:
        """Reserve a name for `claim.owner`: None when it is the owner's now, else the other owner's claim
        (and nothing changed). The owner's own earlier claim takes this one's revision and time; a later one
        stays. With `replacing` (another owner's claim the caller found lost), that claim is replaced if it is
        still exactly the stored one."""

    def release_name(self, tenant_id: str, name_key: str, owner: str, below_revision: int) -> None:
        """Drop `owner`'s claim of the name if a revision below `below_revision` made it."""

    def name_claim(self, tenant_id: str, name_key: str) -> NameClaim | None:
        """The stored claim of a name, if any, as `claim_name` finds it; it only reads (a dry run checks)."""


class EventFeed(Protocol):
    def append(self, event: SyncEvent) -> SyncEvent:
        """Store the event; return it with its feed id (increasing per tenant)."""

    def append_many(self, events: Sequence[SyncEvent]) -> list[SyncEvent]:
        """Store events of one tenant, in order, taking their feed ids at once; return them with their ids."""

    def after(self, tenant_id: str, after: str | None, limit: int) -> Page[SyncEvent]:
        """Events newer than `after` (a feed id; None: from the oldest kept), oldest first."""


@dataclass(frozen=True)
class RunNote:
    """A tenant's sync run as its lease shows it: held until `held_until` (None: never held, or released;
    a time past: lapsed), and a run asked for at `requested_at` and not started yet (None: none)."""

    held_until: datetime | None = None
    requested_at: datetime | None = None

    def running(self, now: datetime) -> bool:
        return self.held_until is not None and self.held_until > now


class TenantLease(Lease, Protocol):
    """One sync run per tenant at a time, across every worker: a `Lease` keyed by tenant id, and the note that
    a run is wanted, kept beside it."""

    def note(self, tenant_id: str) -> RunNote:
        """The lease and the run request as stored; reads only."""

    def request_run(self, tenant_id: str, now: datetime, stale_after: timedelta) -> bool:
        """Note that a run is wanted. True when no run was requested since the last one started (or that
        request is older than `stale_after`, its job presumably lost): the caller enqueues a job then."""

    def take_request(self, tenant_id: str) -> None:
        """Clear the note; a run does this before it reads the pending records."""


# ------------------------------------------------------------ the edition's books


class FaultAction(StrEnum):
    """What a fault means for the records it is about, whichever edition answered it."""

    RETRY_LATER = "retry_later"  # nothing was applied; the same request may succeed later
    OUTCOME_UNKNOWN = "outcome_unknown"  # no answer: it may or may not have been applied
    RECONNECT = "reconnect"  # the company no longer accepts the connection: the tenant must connect again
    REREAD_AND_REAPPLY = "reread_and_reapply"  # the object changed in QuickBooks since it was read
    RESOLVE_NAME_CLASH = "resolve_name_clash"  # the name is held by another customer, vendor or employee
    FIX_RECORD = "fix_record"  # the record breaks a rule: the tenant must edit it or what it refers to


@dataclass(frozen=True)
class Fault:
    """A request, or one operation of it, that QuickBooks did not carry out, in the edition's own words
    (`code`, `message`) and in the engine's (`action`). Each edition's adapter classifies its own codes."""

    action: FaultAction
    code: str
    message: str  # plain words for the tenant: "QuickBooks refused it: ...", "QuickBooks answered 503"
    field: str = ""  # the record's field it is about, when QuickBooks says
    retry_after: timedelta | None = None  # for RETRY_LATER and OUTCOME_UNKNOWN: when to ask again
    actions: tuple[str, ...] = ()  # what the tenant can do when it fails a record; () for the action's own


@dataclass(frozen=True)
class EditionProfile:
    """How an edition's driver works a run: how much one request carries, how long a run holds the
    tenant's lease (longer than the run can last, so a crashed run's lease lapses by itself), and how long a
    run starts new batches."""

    batch_max: int
    lease: timedelta
    run_budget: timedelta
    edition: Edition  # whose runs these are: the `edition` of the engine's metrics
    # A record QuickBooks answered "try later" (RETRY_LATER) pauses the whole run (Online: throttling), or
    # only waits for the next run while the others go on (Desktop: someone has it open in QuickBooks).
    record_retry_pauses_run: bool = True
    # Whether a new name is looked up before its create (Desktop: a name taken in the one list of names is
    # refused with 3100 only after QuickBooks tried it, and a clash is cheaper to find out by asking first).
    check_names_first: bool = False


@dataclass(frozen=True)
class Write:
    """One record to write in a batch: its stored state, the parsed canonical model, and the QuickBooks ids of
    the records it refers to (by `ref_key`), all synced before it."""

    record: SyncRecord
    model: BaseModel
    ids: Mapping[str, str]
    name: str | None = None  # for customers, vendors, employees and items: the name to write (after a rename)
    # For an invoice: the terms its customer's record names (None: none), for `records.invoice_terms`.
    customer_terms: str | None = None


class MissingReferenceError(ValueError):
    """A record a Write refers to has no QuickBooks id in `Write.ids`: a bug of the caller (the engine sends
    those first)."""


@dataclass(frozen=True)
class Batch:
    """One request to QuickBooks, planned by the engine: either writes, or questions (never both, so that a
    write never depends on an answer of its own request). `request_id` is derived from what the batch
    carries: the same batch sent again carries the same id."""

    tenant_id: str
    request_id: str
    writes: tuple[Write, ...] = ()
    look_ups: tuple[Write, ...] = ()  # what an earlier, unconfirmed create of each of these made, if anything
    rereads: tuple[Write, ...] = ()  # each record's object as QuickBooks has it now
    name_holders: tuple[Write, ...] = ()  # who holds each of these records' names (`Write.name`)

    @property
    def records(self) -> tuple[SyncRecord, ...]:
        return tuple(w.record for w in (*self.writes, *self.look_ups, *self.rereads, *self.name_holders))


@dataclass(frozen=True)
class WriteResult:
    """What became of one Write: QuickBooks' id and version of the object, or its fault (a problem found
    before sending, such as an account QuickBooks does not have, is a FIX_RECORD fault too)."""

    key: str  # the record's ref_key
    quickbooks_id: str | None = None
    quickbooks_version: str | None = None
    fault: Fault | None = None


@dataclass(frozen=True)
class Found:
    """An object QuickBooks already has."""

    entity: str  # "customer", "vendor", "employee", "item", "invoice", ... (our record type names)
    quickbooks_id: str
    quickbooks_version: str
    name: str = ""


@dataclass(frozen=True)
class Outcomes:
    """What became of a batch. With `fault`, the request as a whole did not succeed and nothing is known per
    operation; `maybe_applied` then says whether its writes may be in QuickBooks anyway (an answer was lost
    on the way). Otherwise one entry per operation, by the record's `ref_key` (holders by name)."""

    written: Mapping[str, WriteResult] = field(default_factory=dict)
    found: Mapping[str, Found | None] = field(default_factory=dict)  # look-ups
    current: Mapping[str, Found | None] = field(default_factory=dict)  # re-reads; None: deleted
    holders: Mapping[str, tuple[Found, ...]] = field(default_factory=dict)  # by name
    fault: Fault | None = None
    maybe_applied: bool = False


class Books(Protocol):
    """The tenant's company in one edition of QuickBooks, as the sync engine sees it."""

    @property
    def profile(self) -> EditionProfile: ...

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        """Carry out the batch (at most `profile.batch_max` operations of each kind) and say what became of
        it. Never raises for what QuickBooks or the connection did: that is a Fault in the outcomes."""
