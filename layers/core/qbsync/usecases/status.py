"""A tenant's sync status in one answer, for a dashboard: what each type's records are doing, the oldest
record still waiting and why, what runs now, and the latest failures with what to do about them.

The connection is not here: the API answers it as GET .../connection does, from the same use cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from qbsync.domain.match_results import MatchRun
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.sync import RecordStore, RunNote, SyncRecord, SyncState, TenantLease
from qbsync.domain.tenants import Tenant
from qbsync.usecases.initial_sync import InitialSyncs
from qbsync.usecases.initial_sync import Status as InitialSyncStatus
from qbsync.usecases.matches import Matches
from qbsync.usecases.tenants import get_tenant

FAILURES_DEFAULT = 10
FAILURES_MAX = 100
# Out of what a type's percent counts: deleted records, and those the settings keep out of QuickBooks.
NOT_TO_SYNC = frozenset({SyncState.VOIDED, SyncState.IGNORED})
SYNCED_STATES = frozenset({SyncState.SYNCED, SyncState.LOCKED})


@dataclass(frozen=True)
class TypeStatus:
    """Where the records of one type stand: how many in each state (every state, zeros too)."""

    states: Mapping[SyncState, int]

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def percent_synced(self) -> int:
        """Synced or locked, of the records meant for QuickBooks (all but voided and ignored); 100 when none
        is, rounded down so that 100 means every one."""
        wanted = self.total - sum(self.states[s] for s in NOT_TO_SYNC)
        synced = sum(self.states[s] for s in SYNCED_STATES)
        return 100 if wanted == 0 else synced * 100 // wanted


@dataclass(frozen=True)
class TenantStatus:
    tenant: Tenant
    records: Mapping[str, TypeStatus]  # every record type, in the registry's order
    last_synced_at: datetime | None  # when a record last turned synced (a later change may have moved it)
    oldest_pending: SyncRecord | None  # the pending record unchanged the longest
    sync_run: RunNote
    sync_running: bool
    match_run: MatchRun | None  # the latest, finished or not
    initial_sync: InitialSyncStatus | None  # while one runs
    failures: list[SyncRecord]  # the newest first


@dataclass
class Statuses:
    tenants: TenantRepository
    records: RecordStore
    runs: TenantLease
    matches: Matches
    initial_syncs: InitialSyncs
    clock: Clock

    def status(self, tenant_id: str, failures_limit: int = FAILURES_DEFAULT) -> TenantStatus:
        """The tenant's status now. Counting reads each record's type and state once (RecordStore
        .count_states says what that costs); the rest are a few small reads."""
        tenant = get_tenant(self.tenants, tenant_id)
        counted = self.records.count_states(tenant_id)
        records = {t: TypeStatus({s: counted.get(t, {}).get(s, 0) for s in SyncState}) for t in RECORD_TYPES}
        pending = self.records.in_state(tenant_id, SyncState.PENDING, 1, None).items
        synced = self.records.newest_in_state(tenant_id, SyncState.SYNCED, 1)
        note = self.runs.note(tenant_id)
        return TenantStatus(
            tenant=tenant,
            records=records,
            last_synced_at=synced[0].updated_at if synced else None,
            oldest_pending=pending[0] if pending else None,
            sync_run=note,
            sync_running=note.running(self.clock.now()),
            match_run=self.matches.run(tenant_id),
            initial_sync=self.initial_syncs.running(tenant_id),
            failures=self.records.newest_in_state(tenant_id, SyncState.FAILED, failures_limit),
        )
