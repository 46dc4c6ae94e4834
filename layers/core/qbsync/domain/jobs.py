"""Jobs: units of background work carried by the queue to the sync worker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

# Every kind of job, here only; the worker's table (worker.HANDLERS) maps each to its handler.
HEARTBEAT_JOB = "heartbeat"  # the schedule's proof that the queue and the worker are alive
SYNC_RUN_JOB = "sync.run"  # one sync run of a QuickBooks Online tenant (usecases/run_requests.py asks for it)
# Entities of one type a QuickBooks Online webhook delivery said changed: `changes`, each with its
# `entity_id`, `operation`, `event_id`, `last_updated` (and a merge's `deleted_id`).
ENTITY_CHANGED_JOB = "qbo.entity_changed"
TOKEN_UPKEEP_JOB = "qbo.token_upkeep"  # noqa: S105 - a job kind, not a secret
PAYMENTS_PULL_JOB = "qbo.payments_pull"  # Change Data Capture of a tenant's payments (and of its lists)
# A full read of a QuickBooks Online tenant's lists into the mirror: of `list_type`, or, without one, of
# every list (one job per list is sent for it).
READ_QUICKBOOKS_LISTS_JOB = "read_quickbooks_lists"
MATCH_JOB = "match"  # a tenant's match run `run_id` (usecases/matches.py), a step or a slice of it
INITIAL_SYNC_JOB = "initial_sync"  # the matching step of a tenant's initial sync (usecases/initial_sync.py)


class Job(BaseModel):
    """One unit of work. `kind` selects the handler; unknown kinds fail loudly and end in the DLQ."""

    kind: str = Field(min_length=1, max_length=64)
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    tenant_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime


class UnknownJobError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(f"no handler for job kind {kind!r}")
        self.kind = kind


def new_job(kind: str, now: datetime, tenant_id: str | None = None, **payload: Any) -> Job:
    return Job(kind=kind, tenant_id=tenant_id, payload=payload, created_at=now)
