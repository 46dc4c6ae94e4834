"""A tenant's QuickBooks Online connection: connect links for the tenant, status, and disconnect."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.domain.connections import Connection, ConnectionStatus

router = Router()  # type: ignore[no-untyped-call]


class ConnectLinkOut(BaseModel):
    url: str = Field(
        description="Give this to the tenant; it opens the hosted connect page. No API key in it."
    )
    expires_at: datetime


class ConnectionErrorOut(BaseModel):
    code: str
    message: str
    action: str = Field(description="What fixes it, in words a bookkeeper can act on.")


class ConnectionOut(BaseModel):
    tenant_id: str
    status: ConnectionStatus
    realm_id: str | None
    company_name: str | None
    connected_since: datetime | None
    last_error: ConnectionErrorOut | None

    @classmethod
    def of(cls, c: Connection) -> ConnectionOut:
        error = c.last_error
        return cls(
            tenant_id=c.tenant_id,
            status=c.status,
            realm_id=c.realm_id,
            company_name=c.company_name,
            connected_since=c.connected_since,
            last_error=ConnectionErrorOut(code=error.code, message=error.message, action=error.action)
            if error
            else None,
        )


def public_base_url() -> str:
    """Where the API is reached from outside: API Gateway's domain (a custom domain when one is set)."""
    event = router.current_event
    proto = event.headers.get("x-forwarded-proto", "https")
    return f"{proto}://{event.raw_event['requestContext']['domainName']}"


@router.post(
    "/v1/tenants/<tenant_id>/connect-links",
    summary="Create a connect link for a tenant",
    tags=["connection"],
    responses={
        201: {"description": "Created"},
        **error_responses({404: "Unknown tenant", 422: "Invalid input"}),
    },
)
def create_connect_link(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> Response[ConnectLinkOut]:
    link = c.onboarding.create_link(tenant_id, public_base_url())
    return Response(
        status_code=201,
        content_type="application/json",
        body=ConnectLinkOut(url=link.url, expires_at=link.expires_at),
    )


@router.get(
    "/v1/tenants/<tenant_id>/connection", summary="The tenant's QuickBooks connection", tags=["connection"]
)
def get_connection(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> ConnectionOut:
    return ConnectionOut.of(c.onboarding.connection(tenant_id))


@router.delete(
    "/v1/tenants/<tenant_id>/connection",
    summary="Disconnect: revoke at Intuit and forget the tokens",
    tags=["connection"],
)
def delete_connection(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> ConnectionOut:
    return ConnectionOut.of(c.onboarding.disconnect(tenant_id))
