"""A tenant's sync status in one answer, shaped for a dashboard to draw: the connection, counts and percent
per record type, the oldest waiting record and why, what runs now, and the latest failures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.api.routes.connections import ConnectionOut, DesktopConnectionOut, connection_of
from qbsync.api.routes.matches import RunOut
from qbsync.api.routes.records import FailureOut
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition
from qbsync.usecases.initial_sync import Status as InitialSyncStatus
from qbsync.usecases.status import FAILURES_DEFAULT, FAILURES_MAX, TenantStatus, TypeStatus

router = Router()  # type: ignore[no-untyped-call]


class TypeStatusOut(BaseModel):
    total: int
    states: dict[SyncState, int] = Field(description="Records in each state; every state, zeros too.")
    percent_synced: int = Field(
        description="Synced or locked, of the records meant for QuickBooks (all but voided and ignored), "
        "0 to 100, rounded down; 100 when there are none."
    )

    @classmethod
    def of(cls, status: TypeStatus) -> TypeStatusOut:
        return cls(total=status.total, states=dict(status.states), percent_synced=status.percent_synced)


class WaitingOut(BaseModel):
    record_type: str
    record_id: str
    since: datetime = Field(description="When it last changed.")
    waiting_for: list[str] = Field(
        description="Records as 'customer/c-1', 'connection' or 'web_connector'; empty: its turn is coming."
    )
    why: str = Field(description="The last line of its history, in words.")

    @classmethod
    def of(cls, record: SyncRecord) -> WaitingOut:
        return cls(
            record_type=record.record_type,
            record_id=record.record_id,
            since=record.updated_at,
            waiting_for=list(record.waiting_for),
            why=record.history[-1].detail if record.history else "",
        )


class SyncRunOut(BaseModel):
    running: bool = Field(description="A sync run holds the tenant now.")
    until: datetime | None = Field(description="When its hold lapses at the latest, while it runs.")
    requested_at: datetime | None = Field(description="A run asked for then and not started yet.")


class InitialSyncOut(BaseModel):
    step: str = Field(description="reading, matching, payments, sending or done.")
    note: str = Field(description="What it waits for, in words.")
    started_at: datetime
    percent: dict[str, int] = Field(description="Per record type, the records settled of those in scope.")

    @classmethod
    def of(cls, status: InitialSyncStatus) -> InitialSyncOut:
        return cls(
            step=status.sync.step.value,
            note=status.note,
            started_at=status.sync.started_at,
            percent={t: p.percent for t, p in status.progress.items()},
        )


class RunsOut(BaseModel):
    sync: SyncRunOut
    match: RunOut | None = Field(description="The latest automatch run, finished or not (GET .../matches).")
    initial_sync: InitialSyncOut | None = Field(
        description="While an initial sync runs (GET .../initial-sync has the rest); null otherwise."
    )


class FailedOut(BaseModel):
    record_type: str
    record_id: str
    failed_at: datetime
    failure: FailureOut


class StatusOut(BaseModel):
    tenant_id: str
    edition: Edition
    connection: DesktopConnectionOut | ConnectionOut = Field(
        description="As GET /v1/tenants/{tenant_id}/connection answers it."
    )
    records: dict[str, TypeStatusOut] = Field(description="Per record type.")
    last_synced_at: datetime | None = Field(description="When a record last turned synced.")
    oldest_pending: WaitingOut | None = Field(
        description="The pending record that has waited the longest, and why it waits."
    )
    runs: RunsOut
    failures: list[FailedOut] = Field(
        description="The latest failed records, newest first (failures_limit of them at most), with what "
        "to do about each; GET .../records/{type}?state=failed lists them all."
    )

    @classmethod
    def of(cls, status: TenantStatus, connection: DesktopConnectionOut | ConnectionOut) -> StatusOut:
        return cls(
            tenant_id=status.tenant.id,
            edition=status.tenant.edition,
            connection=connection,
            records={t: TypeStatusOut.of(s) for t, s in status.records.items()},
            last_synced_at=status.last_synced_at,
            oldest_pending=WaitingOut.of(status.oldest_pending) if status.oldest_pending else None,
            runs=RunsOut(
                sync=SyncRunOut(
                    running=status.sync_running,
                    until=status.sync_run.held_until if status.sync_running else None,
                    requested_at=status.sync_run.requested_at,
                ),
                match=RunOut.of(status.match_run) if status.match_run else None,
                initial_sync=InitialSyncOut.of(status.initial_sync) if status.initial_sync else None,
            ),
            failures=[
                FailedOut(
                    record_type=r.record_type,
                    record_id=r.record_id,
                    failed_at=r.updated_at,
                    failure=FailureOut(**r.failure.as_dict()),
                )
                for r in status.failures
                if r.failure is not None
            ],
        )


@router.get(
    "/v1/tenants/<tenant_id>/status",
    summary="The tenant's sync status: connection, counts per type and state, what waits, runs, failures",
    tags=["status"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def get_status(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    failures_limit: Annotated[int, Query(ge=1, le=FAILURES_MAX)] = FAILURES_DEFAULT,
) -> Response[str]:
    status = c.statuses.status(tenant_id, failures_limit)
    body = StatusOut.of(status, connection_of(c, tenant_id))
    return Response(status_code=200, content_type="application/json", body=body.model_dump_json())
