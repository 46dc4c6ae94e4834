"""A QuickBooks Desktop tenant's Web Connector login and .qwc file, for a host app with its own set-up UI."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses

router = Router()  # type: ignore[no-untyped-call]
QWC_MEDIA_TYPE = "application/xml"


def _base_url(request: Request) -> str:
    """Where the API is reached from outside, read from the event being handled (API Gateway's domain)."""
    event: Any = request.resolved_event
    proto = event.headers.get("x-forwarded-proto", "https")
    return f"{proto}://{event.request_context.domain_name}"


BaseUrl = Annotated[str, Depends(_base_url)]


class WebConnectorLoginOut(BaseModel):
    user_name: str = Field(description="The Web Connector user name; it is also in the .qwc file.")
    password: str = Field(
        description="Shown this once, stored only as a hash: the tenant types it into the Web Connector. "
        "Issuing again gives a new one and the old one stops working."
    )
    qwc: str = Field(description="The .qwc file to add to the Web Connector (XML; no password in it).")
    run_every_minutes: int = Field(description="How often the Web Connector runs, from the sync settings.")


@router.post(
    "/v1/tenants/<tenant_id>/web-connector",
    summary="Issue (or re-issue) a Desktop tenant's Web Connector login and .qwc file",
    tags=["connection"],
    responses={
        201: {"description": "Issued; the password is shown this once"},
        **error_responses(
            {404: "Unknown tenant", 409: "Not a QuickBooks Desktop tenant", 422: "Invalid input"}
        ),
    },
)
def issue_web_connector_login(
    c: Handed, base_url: BaseUrl, tenant_id: Annotated[TenantId, Path()]
) -> Response[WebConnectorLoginOut]:
    issued = c.web_connector_logins.issue(tenant_id, base_url)
    return Response(
        status_code=201,
        content_type="application/json",
        body=WebConnectorLoginOut(
            user_name=issued.user_name,
            password=issued.password,
            qwc=issued.qwc,
            run_every_minutes=issued.run_every_minutes,
        ),
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/v1/tenants/<tenant_id>/web-connector/qwc",
    summary="Download a Desktop tenant's .qwc file again (no password in it)",
    tags=["connection"],
    responses={
        200: {
            "description": "The .qwc file, as an attachment named <tenant>.qwc",
            "content": {QWC_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **error_responses(
            {
                404: "Unknown tenant, or no login issued yet",
                409: "Not a QuickBooks Desktop tenant",
                422: "Invalid input",
            }
        ),
    },
)
def get_qwc(c: Handed, base_url: BaseUrl, tenant_id: Annotated[TenantId, Path()]) -> Response[str]:
    return Response(
        status_code=200,
        content_type=QWC_MEDIA_TYPE,
        body=c.web_connector_logins.qwc(tenant_id, base_url),
        headers={"Content-Disposition": f'attachment; filename="{tenant_id}.qwc"'},
    )
