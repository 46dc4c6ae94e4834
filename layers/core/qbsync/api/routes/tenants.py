"""Tenants: the host app registers each of its customers that syncs with QuickBooks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, TenantIn, TenantOut, TenantPage, error_responses
from qbsync.usecases import tenants

router = Router()  # type: ignore[no-untyped-call]
_LIST = error_responses({422: "Invalid input"})


@router.post(
    "/v1/tenants",
    summary="Register a tenant",
    tags=["tenants"],
    responses={
        201: {"description": "Created"},
        **error_responses({409: "Id already used", 422: "Invalid input"}),
    },
)
def create_tenant(c: Handed, body: TenantIn) -> Response[TenantOut]:
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
    responses=error_responses({404: "Unknown tenant", 422: "Invalid input"}),
)
def get_tenant(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> TenantOut:
    return TenantOut.of(tenants.get_tenant(c.tenants, tenant_id))


@router.get("/v1/tenants", summary="List tenants, ordered by id", tags=["tenants"], responses=_LIST)
def list_tenants(
    c: Handed,
    limit: Annotated[int, Query(ge=1, le=tenants.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TenantPage:
    page = tenants.list_tenants(c.tenants, limit=limit, cursor=cursor)
    return TenantPage(items=[TenantOut.of(t) for t in page.items], next_cursor=page.next_cursor)
