"""Wire models of the host-app API. They generate the OpenAPI document, so the docs follow the code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseContentSchema,
)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from qbsync.domain.errors import FieldProblem
from qbsync.domain.tenants import TENANT_ID_PATTERN, TENANT_NAME_MAX, Edition, Tenant

TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: TenantId = Field(
        description="The host app's own id for this tenant: 1 to 64 letters, digits, '.', '_' or '-'.",
        examples=["acme-42"],
    )
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TENANT_NAME_MAX)
    ] = Field(description="Display name shown on the connect pages.", examples=["Acme Plumbing"])
    edition: Edition = Field(description="qbo: QuickBooks Online; qbd: QuickBooks Desktop.")


class TenantOut(BaseModel):
    id: str
    name: str
    edition: Edition
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(id=tenant.id, name=tenant.name, edition=tenant.edition, created_at=tenant.created_at)


class TenantPage(BaseModel):
    items: list[TenantOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class WorkerStatus(BaseModel):
    last_heartbeat_at: datetime | None
    age_seconds: int | None
    stale: bool


class Health(BaseModel):
    status: str = Field(examples=["ok", "degraded"])
    version: str
    worker: WorkerStatus


class ProblemField(BaseModel):
    field: str = Field(description="The field at fault, as a dotted path: 'lines.2.description'.")
    message: str
    code: str | None = Field(default=None, description="too_long, required, name_clash, not_found, ...")
    limit: int | None = Field(
        default=None, description="The most QuickBooks allows, when a length is at stake."
    )
    actual: int | None = Field(default=None, description="The length of the value sent.")
    actions: list[str] = Field(
        default_factory=list, description="What fixes it: edit, rename, link_existing, push_it_first, ..."
    )

    @classmethod
    def of(cls, problem: FieldProblem) -> ProblemField:
        return cls(
            field=problem.field,
            message=problem.message,
            code=problem.code or None,
            limit=problem.limit,
            actual=problem.actual,
            actions=list(problem.actions),
        )


class Problem(BaseModel):
    """An RFC 9457 problem document: every error this API returns has this shape."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemField] = Field(default_factory=list)


def error_responses(problems: dict[int, str]) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of an authenticated route: API Gateway's 401 and 403, then our problem documents."""
    content: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
        "application/problem+json": {"schema": Problem.model_json_schema()}
    }
    gateway: dict[int, OpenAPIResponse] = {
        401: {"description": "Missing API key"},
        403: {"description": "Unknown or revoked API key"},
    }
    return gateway | {status: {"description": text, "content": content} for status, text in problems.items()}
