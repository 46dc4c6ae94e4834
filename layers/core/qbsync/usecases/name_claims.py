"""Names of customers, vendors and employees, reserved for the host record that carries them.

QuickBooks keeps customers, vendors and employees in one list of names (NameGroup.PEOPLE), so two host
records with one name would clash there. A record reserves its name (a `NameClaim`, by the revision that
claimed it) before it is stored: the name its data gives it, or the name QuickBooks knows it by
(`quickbooks_name`: after a clash renamed it, or once it is linked to an object QuickBooks already had, which
keeps its own name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from qbsync.domain.errors import FieldProblem
from qbsync.domain.ports import Clock
from qbsync.domain.records import RECORD_TYPES, NameGroup
from qbsync.domain.sync import NameClaim, RecordStore, SyncRecord, SyncState
from qbsync.domain.validation import name_key

CLAIM_ATTEMPTS = 3
# A claimed name whose save has not landed after this long was lost with its request (API Gateway ends a
# request after 30 seconds: "Amazon API Gateway quotas", integration timeout); another record may take it.
CLAIM_HOLD = timedelta(minutes=1)


class NameTakenError(Exception):
    """Another record holds the name; `problem` says which and what to do."""

    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def people_name(record: SyncRecord) -> str | None:
    """The record's name in the one list of names customers, vendors and employees share: the name QuickBooks
    knows it by when that is not its own, else its own; None for the other types."""
    spec = RECORD_TYPES[record.record_type]
    if spec.name_group is not NameGroup.PEOPLE or spec.name_field is None:
        return None
    if record.quickbooks_name:
        return record.quickbooks_name
    name = record.data.get(spec.name_field)
    return name if isinstance(name, str) else None


def name_key_of(record: SyncRecord) -> str | None:
    name = people_name(record)
    return None if name is None else name_key(name)


def held_name(record: SyncRecord) -> str | None:
    """The name key this customer, vendor or employee holds in the tenant's one list of names: none once it
    was deleted before QuickBooks had it (an inactive one keeps its name in QuickBooks)."""
    if record.state is SyncState.VOIDED and record.quickbooks_id is None:
        return None
    return name_key_of(record)


@dataclass
class NameClaims:
    store: RecordStore
    clock: Clock

    def claim(self, record: SyncRecord) -> None:
        """Reserve the record's name for the revision about to be saved; NameTakenError if another record
        holds it. A claim another record holds only while its save may land (NameClaim) is taken over; a save
        of this one that fails needs no clean-up."""
        name = people_name(record)
        if name is None:
            return
        key = name_key(name)
        claim = NameClaim(record.key, record.revision, self.clock.now())
        holder = self.store.claim_name(record.tenant_id, key, claim)
        for _ in range(CLAIM_ATTEMPTS):
            if holder is None:
                return
            if self._holds(record.tenant_id, key, holder, claim.at):
                break
            holder = self.store.claim_name(record.tenant_id, key, claim, replacing=holder)
        if holder is None:
            return
        raise NameTakenError(_taken(record, name, holder))

    def check(self, record: SyncRecord) -> FieldProblem | None:
        """What `claim` would refuse the record with, reserving nothing (a dry run of a push)."""
        name = people_name(record)
        if name is None:
            return None
        key = name_key(name)
        holder = self.store.name_claim(record.tenant_id, key)
        if holder is None or holder.owner == record.key:
            return None
        if not self._holds(record.tenant_id, key, holder, self.clock.now()):
            return None
        return _taken(record, name, holder)

    def release(self, record: SyncRecord, key: str | None, below_revision: int) -> None:
        """Give up the record's claim of `key` made by a revision below `below_revision` (once the save that
        leaves the name has landed)."""
        if key is not None:
            self.store.release_name(record.tenant_id, key, record.key, below_revision)

    def _holds(self, tenant_id: str, key: str, claim: NameClaim, now: datetime) -> bool:
        """Whether `claim` still reserves the name: its record carries it, or its revision's save may land."""
        kind, _, owner_id = claim.owner.partition("/")
        owner = self.store.get(tenant_id, kind, owner_id)
        if owner is not None and held_name(owner) == key:
            return True
        saved = owner.revision if owner is not None else 0
        return saved < claim.revision and now - claim.at < CLAIM_HOLD


def _taken(record: SyncRecord, name: str, holder: NameClaim) -> FieldProblem:
    kind, _, other_id = holder.owner.partition("/")
    return FieldProblem(
        "display_name",
        f"QuickBooks keeps customers, vendors and employees in one list of names, and "
        f"{name!r} is already the name of {kind} {other_id!r}. Rename this "
        f"{record.record_type}, or link it to that {kind}.",
        "name_clash",
        actions=("rename", "link_existing"),
    )
