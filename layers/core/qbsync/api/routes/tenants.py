"""Tenants: the host app registers each of its customers that syncs with QuickBooks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from qbsync.api.models import Problem, TenantId, TenantIn, TenantOut, TenantPage
from qbsync.composition import container
from qbsync.usecases import tenants

router = Router()  # type: ignore[no-untyped-call]
_PROBLEMS: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing API key"},
    403: {"description": "Unknown or revoked API key"},
    422: {
        "description": "Invalid input",
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    },
}


@router.post(
    "/v1/tenants",
    summary="Register a tenant",
    tags=["tenants"],
    responses={201: {"description": "Created"}, 409: {"description": "Id already used"}, **_PROBLEMS},
)
def create_tenant(body: TenantIn) -> Response[TenantOut]:
    c = container()
    tenant = tenants.create_tenant(
        c.tenants, c.clock, tenant_id=body.id, name=body.name, edition=body.edition
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=TenantOut.of(tenant),
        headers={"Location": f"/v1/tenants/{tenant.id}"},
    )


@router.get(
    "/v1/tenants/<tenant_id>",
    summary="Read a tenant",
    tags=["tenants"],
    responses={404: {"description": "Unknown tenant"}, **_PROBLEMS},
)
def get_tenant(tenant_id: Annotated[TenantId, Path()]) -> TenantOut:
    return TenantOut.of(tenants.get_tenant(container().tenants, tenant_id))


@router.get("/v1/tenants", summary="List tenants, ordered by id", tags=["tenants"], responses=_PROBLEMS)
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=tenants.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TenantPage:
    page = tenants.list_tenants(container().tenants, limit=limit, cursor=cursor)
    return TenantPage(items=[TenantOut.of(t) for t in page.items], next_cursor=page.next_cursor)
