"""Records: the host app pushes customers, items, invoices, payments ... and reads their sync state."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from qbsync.api.handed import Handed
from qbsync.api.idempotency import HEADER, KEY_PATTERN, run_once
from qbsync.api.models import ProblemField, TenantId, error_responses
from qbsync.domain.records import RECORD_TYPES, RecordFilter, RecordId
from qbsync.domain.sync import SyncEvent, SyncRecord, SyncState
from qbsync.domain.validation import field_limits
from qbsync.usecases import events as feed_usecase
from qbsync.usecases.records import BULK_MAX, Outcome

router = Router()  # type: ignore[no-untyped-call]

RecordType = Annotated[str, StringConstraints(pattern=f"^({'|'.join(RECORD_TYPES)})$")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description="Any unique string (a UUID): a retry with the same key and body gets the first answer "
        "and changes nothing. Kept 24 hours.",
    ),
]
_TYPES = ", ".join(RECORD_TYPES)
TEXT_MAX = 500  # the longest name a record has (QuickBooks Online's DisplayName): `q` is a part of one


class CandidateOut(BaseModel):
    quickbooks_id: str
    name: str
    list_type: str = Field(description="The QuickBooks list it is in: customer, vendor, employee, item.")


class FailureOut(BaseModel):
    code: str = Field(description="QuickBooks' fault code (6240, 610 ...) or ours (dependency_missing ...).")
    message: str
    actions: list[str] = Field(description="What fixes it: edit, rename, link_existing, reconnect, ...")
    field: str
    candidates: list[CandidateOut] = Field(
        default_factory=list,
        description="For link_existing: the objects QuickBooks has that it may be linked to "
        "(PUT .../records/{type}/{id}/link with one's quickbooks_id).",
    )


class TransitionOut(BaseModel):
    state: SyncState
    at: datetime
    detail: str


class RecordOut(BaseModel):
    type: str
    id: str
    state: SyncState
    revision: int = Field(description="1 for the first version, +1 for each change the host app made.")
    synced_revision: int = Field(description="The revision QuickBooks has; 0 before the first sync.")
    deleted: bool
    quickbooks_id: str | None = Field(
        description="The record's id in QuickBooks once it has one: Online's Id, Desktop's ListID or TxnID."
    )
    quickbooks_name: str | None = Field(
        description="The name QuickBooks knows it by, when a clash renamed it."
    )
    failure: FailureOut | None
    waiting_for: list[str] = Field(
        description="What this one waits for: records as 'customer/c-1', 'connection' or 'web_connector'."
    )
    updated_at: datetime
    data: dict[str, Any]
    history: list[TransitionOut] = Field(description="State changes, oldest first (the last 50).")

    @classmethod
    def of(cls, record: SyncRecord) -> RecordOut:
        return cls(
            type=record.record_type,
            id=record.record_id,
            state=record.state,
            revision=record.revision,
            synced_revision=record.synced_revision,
            deleted=record.operation.value == "delete",
            quickbooks_id=record.quickbooks_id,
            quickbooks_name=record.quickbooks_name,
            failure=FailureOut(**record.failure.as_dict()) if record.failure else None,
            waiting_for=list(record.waiting_for),
            updated_at=record.updated_at,
            data=record.data,
            history=[TransitionOut(state=t.state, at=t.at, detail=t.detail) for t in record.history],
        )


class ResultOut(BaseModel):
    id: str
    status: str = Field(description="created, updated, unchanged, invalid or refused.")
    detail: str = ""
    errors: list[ProblemField] = Field(default_factory=list)
    record: RecordOut | None = None

    @classmethod
    def of(cls, outcome: Outcome) -> ResultOut:
        return cls(
            id=outcome.record_id,
            status=outcome.status,
            detail=outcome.detail,
            errors=[ProblemField.of(p) for p in outcome.problems],
            record=RecordOut.of(outcome.record) if outcome.record else None,
        )


class Results(BaseModel):
    results: list[ResultOut]


class BulkEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: RecordId
    data: dict[str, Any]


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[BulkEntry] = Field(min_length=1, max_length=BULK_MAX)


class RecordRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: RecordType
    id: RecordId


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[RecordRef] = Field(min_length=1, max_length=BULK_MAX)
    force: bool = Field(default=False, description="Send records QuickBooks already has again.")


class UnpendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[RecordRef] = Field(min_length=1, max_length=BULK_MAX)


class ValidationOut(BaseModel):
    valid: bool = Field(description="true: a push of this body would be stored.")
    problems: list[ProblemField] = Field(
        description="What a push would be refused with: the same field, code, limit, actual and actions."
    )


class RecordPage(BaseModel):
    items: list[RecordOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: str = Field(description="Increasing within the tenant; pass the last one you handled as `after`.")
    type: str
    at: datetime
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: SyncEvent) -> EventOut:
        return cls(id=event.id, type=event.type, at=event.at, detail=event.detail)


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null when none is left.")


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=body.model_dump_json())


def _answer(answer: dict[str, Any]) -> Response[str]:
    return Response(status_code=answer["status"], content_type="application/json", body=answer["body"])


@router.put(
    "/v1/tenants/<tenant_id>/records/<record_type>/<record_id>",
    summary="Create or replace one record",
    description=f"Record types: {_TYPES}. The body is the record itself, as the JSON Schema of its type "
    "(GET /v1/schemas/records/{record_type}) describes it. Checked against the tenant's QuickBooks edition "
    "before anything is stored.",
    tags=["records"],
    responses={
        200: {"description": "Updated, or unchanged"},
        201: {"description": "Created"},
        **error_responses({404: "Unknown tenant", 409: "Locked in QuickBooks", 422: "The record's problems"}),
    },
)
def put_record(  # noqa: PLR0917 - Powertools passes each path, query, header and body parameter
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    record_id: Annotated[RecordId, Path()],
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: IdempotencyKey = None,
    force: Annotated[bool, Query(description="Change a locked or deleted record anyway.")] = False,
) -> Response[str]:
    def work() -> dict[str, Any]:
        outcome = c.records.upsert(tenant_id, record_type, record_id, body, force=force)
        status = 201 if outcome.status == "created" else 200
        assert outcome.record is not None  # upsert raises for invalid and refused records
        return {"status": status, "body": RecordOut.of(outcome.record).model_dump_json()}

    route = f"PUT records/{record_type}/{record_id}?force={force}"
    return _answer(
        run_once(c.idempotency, tenant_id=tenant_id, route=route, key=idempotency_key, body=body, work=work)
    )


LIMITS_KEYWORD = "x-qbsync-limits"


@router.get(
    "/v1/schemas/records/<record_type>",
    summary="The JSON Schema of one record type: its fields, types and rules, and each field's limits per "
    "edition",
    description=f"`{LIMITS_KEYWORD}` maps a field's dotted path (`*` for each element of a list: "
    '`lines.*.description`) to its longest length in each edition: `{"qbo": {"maxLength": 100}, '
    '"qbd": {"maxLength": 41}}`; an edition that sets no length is left out. A push to a tenant of that '
    "edition is refused (422 too_long) beyond it.",
    tags=["records"],
    responses=error_responses({422: "Unknown record type"}),
)
def record_schema(record_type: Annotated[RecordType, Path()]) -> Response[str]:
    schema = RECORD_TYPES[record_type].model.model_json_schema()
    schema[LIMITS_KEYWORD] = {
        path: {edition.value: {"maxLength": most} for edition, most in per_edition.items()}
        for path, per_edition in field_limits(record_type).items()
    }
    return Response(status_code=200, content_type="application/schema+json", body=json.dumps(schema))


@router.post(
    "/v1/tenants/<tenant_id>/records/<record_type>/validate",
    summary="Check a record as a push would, storing nothing",
    description="The body is a record as PUT takes it. It is checked against the tenant's edition, the "
    "records it refers to and the names other records hold, as a push is; nothing is stored, reserved or "
    "sent. `record_id`: the id it would be pushed under, so that its own name is no clash.",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def validate_record(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    body: Annotated[dict[str, Any], Body()],
    record_id: Annotated[RecordId | None, Query()] = None,
) -> Response[str]:
    problems = c.records.validate(tenant_id, record_type, body, record_id)
    return _json(200, ValidationOut(valid=not problems, problems=[ProblemField.of(p) for p in problems]))


@router.post(
    "/v1/tenants/<tenant_id>/records/<record_type>",
    summary=f"Create or replace up to {BULK_MAX} records of one type",
    description="Each record is answered on its own: a bad one stops no other.",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def post_records(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    body: BulkIn,
    idempotency_key: IdempotencyKey = None,
) -> Response[str]:
    def work() -> dict[str, Any]:
        outcomes = c.records.upsert_many(tenant_id, record_type, [(e.id, e.data) for e in body.records])
        return {"status": 200, "body": Results(results=[ResultOut.of(o) for o in outcomes]).model_dump_json()}

    payload = body.model_dump(mode="json")
    route = f"POST records/{record_type}"
    return _answer(
        run_once(
            c.idempotency, tenant_id=tenant_id, route=route, key=idempotency_key, body=payload, work=work
        )
    )


@router.get(
    "/v1/tenants/<tenant_id>/records/<record_type>/<record_id>",
    summary="Read one record with its sync state and history",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant or record", 422: "Invalid input"}),
)
def get_record(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    record_id: Annotated[RecordId, Path()],
) -> Response[str]:
    return _json(200, RecordOut.of(c.records.get(tenant_id, record_type, record_id)))


@router.get(
    "/v1/tenants/<tenant_id>/records/<record_type>",
    summary="List records of one type by id, optionally in some states or holding a text",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def list_records(  # noqa: PLR0917 - Powertools passes each parameter by name
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    state: Annotated[
        list[SyncState] | None,
        Query(description="Only records in these states: state=failed&state=draft, or state=failed,draft."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=TEXT_MAX,
            description="Only records whose id, or name (a document's number), holds this text, ignoring "
            "case and accents.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=BULK_MAX)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    where = RecordFilter(frozenset(state or ()), q)
    page = c.records.list_records(tenant_id, record_type, where, limit, cursor)
    return _json(200, RecordPage(items=[RecordOut.of(r) for r in page.items], next_cursor=page.next_cursor))


@router.delete(
    "/v1/tenants/<tenant_id>/records/<record_type>/<record_id>",
    summary="Delete a record: void it, delete it, or make it inactive in QuickBooks, as the entity allows",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant or record", 409: "Being sent right now"}),
)
def delete_record(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    record_id: Annotated[RecordId, Path()],
) -> Response[str]:
    return _json(200, RecordOut.of(c.records.delete(tenant_id, record_type, record_id)))


@router.post(
    "/v1/tenants/<tenant_id>/sync",
    summary="Send chosen records now (drafts, failed or ignored ones; with force, synced ones again)",
    description="The drafts a chosen record depends on (its customer, its items) are sent with it.",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def send_records(c: Handed, tenant_id: Annotated[TenantId, Path()], body: SendIn) -> Response[str]:
    outcomes = c.records.send(tenant_id, [(r.type, r.id) for r in body.records], force=body.force)
    return _json(200, Results(results=[ResultOut.of(o) for o in outcomes]))


@router.post(
    "/v1/tenants/<tenant_id>/unpend",
    summary="Take pending records back to draft before they are sent",
    tags=["records"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def unpend_records(c: Handed, tenant_id: Annotated[TenantId, Path()], body: UnpendIn) -> Response[str]:
    outcomes = c.records.unpend(tenant_id, [(r.type, r.id) for r in body.records])
    return _json(200, Results(results=[ResultOut.of(o) for o in outcomes]))


@router.get(
    "/v1/tenants/<tenant_id>/events",
    summary="The tenant's events, oldest first: record.synced, record.failed, payment.received, ...",
    tags=["events"],
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def list_events(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    after: Annotated[str | None, Query(max_length=64, pattern=r"^\d{1,20}$")] = None,
    limit: Annotated[int, Query(ge=1, le=feed_usecase.FEED_PAGE_MAX)] = 100,
) -> Response[str]:
    page = feed_usecase.read_feed(c.tenants, c.event_feed, tenant_id, after, limit)
    return _json(200, EventPage(items=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor))
