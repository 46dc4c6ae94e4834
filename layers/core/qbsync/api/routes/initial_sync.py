"""The initial sync: a dry run's summary, starting a run, and how far it is (progress per type, errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.api.routes.records import FailureOut
from qbsync.domain.initial_sync import TypeCounts
from qbsync.usecases.initial_sync import ERRORS_MAX, Status, Summary, TypeProgress

router = Router()  # type: ignore[no-untyped-call]

_PATH = "/v1/tenants/<tenant_id>/initial-sync"
CURSOR_MAX = 2048


class InitialSyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(
        default=False,
        description="true: answer the summary of what a run would do now, changing nothing. false (or no "
        "body): start the run.",
    )


class CountsOut(BaseModel):
    in_quickbooks: int | None = Field(
        description="Active objects of its QuickBooks list; null for documents (QuickBooks' own are not "
        "read) and for a list not read yet."
    )
    in_app: int = Field(description="The host app's records (deleted ones aside).")
    matched: int = Field(
        description="Records with a QuickBooks object already, and the pairs automatch accepts."
    )
    to_review: int = Field(
        description="Pairs automatch proposed or could not decide: they fail match_to_review."
    )
    to_create_in_quickbooks: int
    to_create_in_app: int = Field(
        description="Objects only in QuickBooks, told as quickbooks.changed created."
    )
    ignored: int
    ignored_by_reason: dict[str, int] = Field(
        description="only_in_app, only_in_quickbooks, before_since, payment_method, depends_on_ignored."
    )

    @classmethod
    def of(cls, counts: TypeCounts) -> CountsOut:
        return cls(**counts.as_dict())


class SummaryOut(BaseModel):
    dry_run: bool = True
    lists_read: bool = Field(
        description="false while the company's customers, vendors, employees and items are still being read "
        "(Desktop: at the Web Connector's next run): nothing can be matched yet."
    )
    counts: dict[str, CountsOut]

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        return cls(
            lists_read=summary.lists_read,
            counts={t: CountsOut.of(c) for t, c in summary.counts.items()},
        )


class ProgressOut(BaseModel):
    in_scope: int
    synced: int
    failed: int
    ignored: int
    waiting: int = Field(description="Waiting for the tenant: drafts, records that depend on a failed one.")
    left: int = Field(description="Still to be sent.")
    percent: int = Field(description="Settled (all but `left`) of `in_scope`, 0 to 100.")

    @classmethod
    def of(cls, progress: TypeProgress) -> ProgressOut:
        return cls(
            in_scope=progress.in_scope,
            synced=progress.synced,
            failed=progress.failed,
            ignored=progress.ignored,
            waiting=progress.waiting,
            left=progress.left,
            percent=progress.percent,
        )


class ErrorOut(BaseModel):
    record_type: str
    record_id: str
    failure: FailureOut


class StatusOut(BaseModel):
    state: str = Field(description="running or done.")
    step: str = Field(description="reading, matching, payments, sending or done.")
    note: str = Field(description="What it waits for, in words.")
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, CountsOut] | None = Field(description="The counts of its plan, once matched.")
    progress: dict[str, ProgressOut]
    errors: list[ErrorOut] = Field(description="Failed records, with what to do about each.")
    errors_next_cursor: str | None = Field(description="Pass as errors_cursor for the next page of errors.")

    @classmethod
    def of(cls, status: Status) -> StatusOut:
        sync = status.sync
        return cls(
            state="running" if sync.running else "done",
            step=sync.step.value,
            note=status.note,
            started_at=sync.started_at,
            finished_at=sync.finished_at,
            summary=None if sync.summary is None else {t: CountsOut.of(c) for t, c in sync.summary.items()},
            progress={t: ProgressOut.of(p) for t, p in status.progress.items()},
            errors=[
                ErrorOut(
                    record_type=r.record_type,
                    record_id=r.record_id,
                    failure=FailureOut(**r.failure.as_dict()),
                )
                for r in status.errors.items
                if r.failure is not None
            ],
            errors_next_cursor=status.errors.next_cursor,
        )


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=body.model_dump_json())


@router.post(
    _PATH,
    summary="Start the initial sync, or with dry_run, answer the summary of what it would do",
    description="The settings only_in_quickbooks, only_in_app and sync_since decide what it does. A run "
    "links the pairs automatch accepts, sends records found only in the app (or ignores them and what "
    "depends on them), tells objects found only in QuickBooks as quickbooks.changed created, and reads "
    "payments back from the since date.",
    tags=["initial sync"],
    responses=error_responses(
        {404: "Unknown tenant", 409: "An initial sync of the tenant is running", 422: "Invalid input"}
    ),
)
def post_initial_sync(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    body: Annotated[InitialSyncIn | None, Body()] = None,
) -> Response[str]:
    if body is not None and body.dry_run:
        return _json(200, SummaryOut.of(c.initial_syncs.dry_run(tenant_id)))
    return _json(202, StatusOut.of(c.initial_syncs.start(tenant_id)))


@router.get(
    _PATH,
    summary="How far the initial sync is: its step, summary, progress per type and errors",
    tags=["initial sync"],
    responses=error_responses({404: "Unknown tenant, or no initial sync", 422: "Invalid input"}),
)
def get_initial_sync(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    errors_cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    errors_limit: Annotated[int, Query(ge=1, le=ERRORS_MAX)] = ERRORS_MAX,
) -> Response[str]:
    status = c.initial_syncs.status(tenant_id, errors_cursor, errors_limit)
    return _json(200, StatusOut.of(status))
