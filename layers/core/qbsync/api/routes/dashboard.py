"""Dashboard links: the host app asks for one and hands it to the tenant, who opens the hosted dashboard with
it (no API key in it). Made as connect links are: random, stored as a digest, expiring."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, ConfigDict, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.api.routes.connections import public_base_url
from qbsync.domain.dashboard import LINK_TTL_DEFAULT, LINK_TTL_MAX, LINK_TTL_MIN

router = Router()  # type: ignore[no-untyped-call]


class DashboardLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read_only: bool = Field(
        default=False, description="The tenant may look but not change anything: no buttons, no forms."
    )
    ttl_seconds: int = Field(
        default=int(LINK_TTL_DEFAULT.total_seconds()),
        ge=int(LINK_TTL_MIN.total_seconds()),
        le=int(LINK_TTL_MAX.total_seconds()),
        description="How long the link may be opened, in seconds (60 to 86400, default 3600).",
    )


class DashboardLinkOut(BaseModel):
    url: str = Field(
        description="Open it in the tenant's browser, or as the src of an iframe on a page of an origin in "
        "the stack's DashboardFrameAncestors. It may be opened again until it expires; each opening starts "
        "a session of at most 8 hours that ends with the link."
    )
    expires_at: datetime
    read_only: bool


@router.post(
    "/v1/tenants/<tenant_id>/dashboard-links",
    summary="Create a dashboard link for a tenant",
    tags=["connection"],
    responses={
        201: {"description": "Created"},
        **error_responses({404: "Unknown tenant", 422: "Invalid input"}),
    },
)
def create_dashboard_link(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    body: Annotated[DashboardLinkIn | None, Body()] = None,
) -> Response[DashboardLinkOut]:
    asked = body or DashboardLinkIn()
    link = c.dashboard.create_link(
        tenant_id, public_base_url(), read_only=asked.read_only, ttl=timedelta(seconds=asked.ttl_seconds)
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=DashboardLinkOut(url=link.url, expires_at=link.expires_at, read_only=link.read_only),
    )
