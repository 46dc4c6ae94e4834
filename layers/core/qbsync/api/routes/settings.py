"""A tenant's sync settings: read the version in force, replace it with a new version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import BaseModel, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId, error_responses
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.usecases import settings as usecase

router = Router()  # type: ignore[no-untyped-call]

# `3` or the entity tag `"3"`, as the ETag header of GET and PUT gives it.
VERSION_TAG = r'^(\d{1,9}|"\d{1,9}")$'
_RESPONSES = error_responses({404: "Unknown tenant", 422: "Invalid input"})


class SettingsOut(BaseModel):
    version: int = Field(description="1, 2, 3 … for each change; 0 before the first, with the defaults.")
    updated_at: datetime | None = Field(description="When this version was stored; null for version 0.")
    settings: SyncSettings

    @classmethod
    def of(cls, entry: SettingsVersion) -> SettingsOut:
        return cls(version=entry.version, updated_at=entry.updated_at, settings=entry.settings)


def _answer(entry: SettingsVersion) -> Response[SettingsOut]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=SettingsOut.of(entry),
        headers={"ETag": f'"{entry.version}"'},
    )


@router.get(
    "/v1/tenants/<tenant_id>/settings",
    summary="Read a tenant's sync settings",
    tags=["settings"],
    responses=_RESPONSES,
)
def get_settings(c: Handed, tenant_id: Annotated[TenantId, Path()]) -> Response[SettingsOut]:
    return _answer(usecase.get_settings(c.tenants, c.tenant_settings, tenant_id))


@router.put(
    "/v1/tenants/<tenant_id>/settings",
    summary="Replace a tenant's sync settings (stored as a new version)",
    tags=["settings"],
    responses=error_responses(
        {404: "Unknown tenant", 412: "If-Match is not the current version", 422: "Invalid input"}
    ),
)
def put_settings(
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    body: SyncSettings,
    if_match: Annotated[
        str | None,
        Header(
            pattern=VERSION_TAG,
            description="The version your change is based on (the ETag of your GET). When it is no longer "
            "current, nothing is stored and the answer is 412. Without it, the last write wins.",
            examples=['"3"'],
        ),
    ] = None,
) -> Response[SettingsOut]:
    expected = int(if_match.strip('"')) if if_match is not None else None
    entry = usecase.put_settings(
        c.tenants, c.tenant_settings, c.clock, tenant_id=tenant_id, settings=body, expected_version=expected
    )
    return _answer(entry)
