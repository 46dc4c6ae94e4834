"""Links: a host record that is an object QuickBooks already has; unlinking one, or all of a type."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.api.routes.records import RecordOut, RecordType
from qbsync.domain.records import RecordId
from qbsync.usecases.links import QUICKBOOKS_ID

router = Router()  # type: ignore[no-untyped-call]

QuickBooksId = Annotated[str, StringConstraints(pattern=f"^{QUICKBOOKS_ID.pattern}$")]
_LINK = "/v1/tenants/<tenant_id>/records/<record_type>/<record_id>/link"


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quickbooks_id: QuickBooksId = Field(
        description="The object's id in QuickBooks, as GET /v1/tenants/{id}/quickbooks/{type} lists it.",
        examples=["58"],
    )


class ClearedOut(BaseModel):
    record_type: str
    unlinked: int = Field(description="Records that no longer have a QuickBooks object.")
    left: dict[str, int] = Field(
        description="Records left linked, by why: being_sent (link them again once sent), deleted."
    )


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=body.model_dump_json())


@router.put(
    _LINK,
    summary="Link a customer, vendor, employee or item to an object QuickBooks already has",
    description="The record becomes that object: synced at its current revision, its later changes update "
    "it, and it keeps the name QuickBooks has. Linking it to the object it has already changes nothing.",
    tags=["links"],
    responses=error_responses(
        {
            400: "Records of this type are not linked",
            404: "Unknown tenant or record",
            409: "Refused: QuickBooks has no such object in that list, it is inactive or linked to another "
            "record, or the record has an object of its own or is being sent (`errors[0].code` says which)",
            422: "Invalid input",
        }
    ),
)
def link_record(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    record_id: Annotated[RecordId, Path()],
    body: LinkIn,
) -> Response[str]:
    return _json(200, RecordOut.of(c.links.link(tenant_id, record_type, record_id, body.quickbooks_id)))


@router.delete(
    _LINK,
    summary="Unlink a record from its QuickBooks object (nothing is changed in QuickBooks)",
    description="The record forgets its object and waits as a draft: send it to create it in QuickBooks, "
    "or link it again.",
    tags=["links"],
    responses=error_responses(
        {400: "Records of this type are not linked", 404: "Unknown tenant or record", 409: "Being sent"}
    ),
)
def unlink_record(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    record_id: Annotated[RecordId, Path()],
) -> Response[str]:
    return _json(200, RecordOut.of(c.links.unlink(tenant_id, record_type, record_id)))


@router.delete(
    "/v1/tenants/<tenant_id>/links/<record_type>",
    summary="Unlink every record of a type from its QuickBooks object (with confirm=true)",
    description="Nothing is changed in QuickBooks. Without confirm=true, answers 400 saying how many "
    "records it would unlink.",
    tags=["links"],
    responses=error_responses(
        {400: "Not confirmed, or records of this type are not linked", 404: "Unknown tenant"}
    ),
)
def clear_links(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    record_type: Annotated[RecordType, Path()],
    confirm: Annotated[bool, Query(description="true: do it.")] = False,
) -> Response[str]:
    cleared = c.links.clear(tenant_id, record_type, confirm=confirm)
    return _json(200, ClearedOut(record_type=record_type, unlinked=cleared.unlinked, left=cleared.left))
