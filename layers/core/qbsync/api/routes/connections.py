"""A tenant's QuickBooks connection: connect links for the tenant, status, and disconnect. Online and Desktop
tenants share the states; a Desktop tenant's connection also says what its Web Connector found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.composition import Container
from qbsync.domain.connections import Connection, ConnectionStatus
from qbsync.usecases.desktop_connection import DesktopConnection
from qbsync.usecases.initial_sync import FirstLoad

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
    first_load: FirstLoad | None = Field(
        default=None,
        description="While connected: reading until the company's customers, vendors, employees and items "
        "have been read whole once (Online: in the minutes after connecting; Desktop: at the Web Connector's "
        "next run), then done. Start the initial sync once it is done to see QuickBooks' counts at once. "
        "null when not connected.",
    )

    @classmethod
    def of(cls, c: Connection, first_load: FirstLoad | None = None) -> ConnectionOut:
        error = c.last_error
        return cls(
            first_load=first_load,
            tenant_id=c.tenant_id,
            status=c.status,
            realm_id=c.realm_id,
            company_name=c.company_name,
            connected_since=c.connected_since,
            last_error=ConnectionErrorOut(code=error.code, message=error.message, action=error.action)
            if error
            else None,
        )


class DesktopConnectionOut(ConnectionOut):
    """A QuickBooks Desktop tenant's connection (`realm_id` is always null): what QuickBooks said of itself
    at the Web Connector's last good session."""

    company_file: str | None = Field(description="The company file open in QuickBooks (its path on the PC).")
    product_name: str | None = Field(description='The QuickBooks product, e.g. "QuickBooks Pro 2014".')
    quickbooks_version: str | None = Field(description='QuickBooks\' own release number, e.g. "24.0".')
    country: str | None = Field(description='The edition\'s country: "US".')
    last_run_at: datetime | None = Field(description="When the Web Connector last ran.")
    stale_since: datetime | None = Field(
        description="Set while the Web Connector has not run for 3 times its interval "
        "(`web_connector_interval_minutes`): when that began. Nobody is collecting the tenant's records."
    )

    @classmethod
    def of_desktop(cls, d: DesktopConnection, first_load: FirstLoad | None = None) -> DesktopConnectionOut:
        desktop = d.connection.desktop
        return cls(
            **ConnectionOut.of(d.connection, first_load).model_dump(),
            company_file=desktop.file_path if desktop else None,
            product_name=desktop.product_name if desktop else None,
            quickbooks_version=desktop.quickbooks_version if desktop else None,
            country=desktop.country if desktop else None,
            last_run_at=desktop.last_run_at if desktop else None,
            stale_since=d.stale_since,
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
    "/v1/tenants/<tenant_id>/connection",
    summary="The tenant's QuickBooks connection",
    description="A QuickBooks Desktop tenant's connection adds what its Web Connector found: the company "
    "file, the QuickBooks product, version and country, the last run, and `stale_since` when it went silent.",
    tags=["connection"],
    responses={
        200: {"description": "The connection; a Desktop tenant's with its Web Connector's findings"},
        **error_responses({404: "Unknown tenant", 422: "Invalid input"}),
    },
)
def get_connection(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> DesktopConnectionOut | ConnectionOut:
    return connection_of(c, tenant_id)


def connection_of(c: Container, tenant_id: str) -> DesktopConnectionOut | ConnectionOut:
    """The tenant's connection as GET .../connection answers it (the status answers it the same way)."""
    desktop = c.desktop_connections.connection(tenant_id)
    if desktop is not None:
        return DesktopConnectionOut.of_desktop(desktop, c.initial_syncs.first_load(desktop.connection))
    connection = c.onboarding.connection(tenant_id)
    return ConnectionOut.of(connection, c.initial_syncs.first_load(connection))


@router.delete(
    "/v1/tenants/<tenant_id>/connection",
    summary="Disconnect the tenant from QuickBooks",
    description="QuickBooks Online: revoke the tokens at Intuit, forget them and free the company for "
    "another tenant. QuickBooks Desktop: retire the Web Connector login (the Web Connector is then told "
    "`nvu` and sends nothing more; issue a new login to connect again). Either way the connection becomes "
    "`disconnected`; a tenant that never connected is left as it is.",
    tags=["connection"],
    responses={
        200: {"description": "The connection after the disconnect"},
        **error_responses({404: "Unknown tenant", 422: "Invalid input"}),
    },
)
def delete_connection(
    c: Handed, tenant_id: Annotated[TenantId, Path()]
) -> DesktopConnectionOut | ConnectionOut:
    desktop = c.desktop_connections.disconnect(tenant_id)
    if desktop is not None:
        return DesktopConnectionOut.of_desktop(desktop)
    return ConnectionOut.of(c.onboarding.disconnect(tenant_id))
