"""Sync state: where each record the host app pushed stands on its way to QuickBooks; the ports keeping it.

    draft ──sync──► pending ──worker──► syncing ──► synced ──(lock policy)──► locked
      ▲               │  ▲                  │
      └────unpend─────┘  └──retry / change──┴──► failed (QuickBooks code, message, action)
    a deleted record: pending (operation void/delete) ──► voided

A change to the record's data makes a new `revision`; the worker sends the revision it read, and a result for
an older revision never overwrites a newer one. Every state change is kept in `history` with its time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel

from qbsync.domain.errors import DomainError
from qbsync.domain.paging import Page
from qbsync.domain.qbo_faults import QboFaultError
from qbsync.domain.settings import SyncSettings

HISTORY_MAX = 50  # the newest state changes kept on a record; older ones are dropped


class SyncState(StrEnum):
    DRAFT = "draft"  # waiting for the tenant to send it (review mode)
    PENDING = "pending"  # queued to be sent
    SYNCING = "syncing"  # handed to QuickBooks; the outcome is not known yet
    SYNCED = "synced"
    FAILED = "failed"  # QuickBooks (or a check before it) refused it; `failure` says why and what to do
    LOCKED = "locked"  # synced, and the tenant's policy refuses later changes
    VOIDED = "voided"  # deleted in the host app, voided or made inactive in QuickBooks


class Operation(StrEnum):
    UPSERT = "upsert"  # create it in QuickBooks, or update what is there
    DELETE = "delete"  # void a transaction, delete a draft-like one, or make a name-list entry inactive


@dataclass(frozen=True)
class Failure:
    """Why a record is not in QuickBooks and what fixes it. `code` is QuickBooks' fault code, or ours
    ("dependency_failed", "name_clash", ...) when it never got that far."""

    code: str
    message: str
    actions: tuple[str, ...] = ()
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "actions": list(self.actions),
            "field": self.field,
        }


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
    qbo_id: str | None = None
    sync_token: str | None = None
    qbo_name: str | None = None  # the name QuickBooks knows it by, when a clash made us rename it
    failure: Failure | None = None
    waiting_for: tuple[str, ...] = ()  # "customer/c-1": dependencies this record waits for
    history: list[Transition] = field(default_factory=list)
    synced_revision: int = 0  # the revision QuickBooks has; 0 before the first sync
    attempts: int = 0  # sends of the current revision; the requestid of a create is stable across them
    force: bool = False  # re-send even if QuickBooks already has this revision

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

    def in_state(self, tenant_id: str, state: SyncState, limit: int, cursor: str | None) -> Page[SyncRecord]:
        """Records of one tenant in one state, oldest change first."""

    def list(
        self, tenant_id: str, record_type: str, state: SyncState | None, limit: int, cursor: str | None
    ) -> Page[SyncRecord]: ...

    def find_by_qbo_id(self, tenant_id: str, record_type: str, qbo_id: str) -> SyncRecord | None:
        """The record mapped to this QuickBooks id, if any."""

    def claim_name(
        self, tenant_id: str, name_key: str, claim: NameClaim, replacing: NameClaim | None = None
    ) -> NameClaim | None:
        """Reserve a name for `claim.owner`: None when it is the owner's now, else the other owner's claim
        (and nothing changed). The owner's own earlier claim takes this one's revision and time; a later one
        stays. With `replacing` (another owner's claim the caller found lost), that claim is replaced if it is
        still exactly the stored one."""

    def release_name(self, tenant_id: str, name_key: str, owner: str, below_revision: int) -> None:
        """Drop `owner`'s claim of the name if a revision below `below_revision` made it."""


class EventFeed(Protocol):
    def append(self, event: SyncEvent) -> SyncEvent:
        """Store the event; return it with its feed id (increasing per tenant)."""

    def after(self, tenant_id: str, after: str | None, limit: int) -> Page[SyncEvent]:
        """Events newer than `after` (a feed id; None: from the oldest kept), oldest first."""


class TenantLease(Protocol):
    """One sync run per tenant at a time, across every worker."""

    def acquire(self, tenant_id: str, owner: str, now: datetime, duration: timedelta) -> bool: ...

    def release(self, tenant_id: str, owner: str) -> None: ...

    def request_run(self, tenant_id: str, now: datetime, stale_after: timedelta) -> bool:
        """Note that a run is wanted. True when no run was requested since the last one started (or that
        request is older than `stale_after`, its job presumably lost): the caller enqueues a job then."""

    def take_request(self, tenant_id: str) -> None:
        """Clear the note; a run does this before it reads the pending records."""


# ------------------------------------------------------------ the edition's books (QuickBooks Online here)


@dataclass(frozen=True)
class Write:
    """One record to write in a batch: its stored state, the parsed canonical model, and the QuickBooks ids of
    the records it refers to (by `ref_key`), all synced before it."""

    record: SyncRecord
    model: BaseModel
    ids: Mapping[str, str]
    name: str | None = None  # for customers, vendors, employees and items: the name to write (after a rename)


@dataclass(frozen=True)
class WriteResult:
    """What became of one Write: QuickBooks' Id and SyncToken, its fault, or a problem found before sending
    (an account or term name QuickBooks does not have)."""

    key: str  # the record's ref_key
    qbo_id: str | None = None
    sync_token: str | None = None
    fault: QboFaultError | None = None
    problem: Failure | None = None


@dataclass(frozen=True)
class Found:
    """An object QuickBooks already has."""

    entity: str  # "customer", "vendor", "employee", "item", "invoice", ... (our record type names)
    qbo_id: str
    sync_token: str
    name: str = ""


class Books(Protocol):
    def write(
        self, tenant_id: str, writes: list[Write], settings: SyncSettings, request_id: str
    ) -> list[WriteResult]:
        """Send up to 30 writes as one request carrying `request_id` (the same id for a retry of the same
        writes). One result per write, in order. Raises QboOutcomeUnknownError when nothing is known of the
        whole request, QboFaultError when the whole request was refused (throttled, unauthorized)."""

    def find(self, tenant_id: str, writes: list[Write]) -> list[Found | None]:
        """For each write, the object an earlier, unconfirmed create of it made, if any (by DocNumber for
        transactions, by name for name-list entries), asked in as few requests as possible."""

    def read(self, tenant_id: str, record_type: str, qbo_id: str) -> Found | None:
        """The object as QuickBooks has it now (for its SyncToken after a 5010); None if deleted."""

    def find_name(self, tenant_id: str, name: str) -> list[Found]:
        """Customers, vendors and employees (active or not) named `name` (DisplayName), and items so named."""
