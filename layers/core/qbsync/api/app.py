"""The host-app API as a Powertools resolver: routes from the routers, errors mapped to problems here only."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync import __version__
from qbsync.api.models import Problem, ProblemField
from qbsync.api.routes import (
    connections,
    dashboard,
    initial_sync,
    links,
    matches,
    quickbooks,
    records,
    system,
    tenants,
    web_connector,
)
from qbsync.api.routes import settings as settings_routes
from qbsync.api.routes import status as status_routes
from qbsync.composition import from_context
from qbsync.domain.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from qbsync.domain.json_input import JsonInputError, load_json
from qbsync.domain.records import RECORD_ID_PATTERN, RECORD_TYPES
from qbsync.domain.settings import StaleVersionError
from qbsync.domain.sync import RecordLockedError
from qbsync.domain.tenants import is_valid_tenant_id
from qbsync.observability import add_log_keys
from qbsync.problems import problem_response

log = logging.getLogger(__name__)
_RECORD_ID = re.compile(RECORD_ID_PATTERN)

PROBLEM_JSON = "application/problem+json"
TITLE = "qbsync API"
_STATUS: dict[type[DomainError], HTTPStatus] = {
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    InvalidInputError: HTTPStatus.UNPROCESSABLE_ENTITY,
    StaleVersionError: HTTPStatus.PRECONDITION_FAILED,
    RecordLockedError: HTTPStatus.CONFLICT,
}


def problem(status: HTTPStatus, detail: str, errors: list[ProblemField] | None = None) -> Response[str]:
    body = Problem(title=status.phrase, status=status.value, detail=detail, errors=errors or [])
    return Response(
        status_code=status.value, content_type=PROBLEM_JSON, body=body.model_dump_json(exclude_none=True)
    )


def _field_name(loc: tuple[str | int, ...]) -> str:
    # Powertools reports ("body", "name") or ("query", "limit"); the caller knows its fields by name.
    parts = (
        [str(p) for p in loc[1:]]
        if len(loc) > 1 and loc[0] in {"body", "query", "path", "header"}
        else list(map(str, loc))
    )
    return ".".join(parts) or "body"


JSON = "application/json"


def _json_body(text: str) -> Any:
    """Powertools' body parser: bounded JSON (`load_json`); what it refuses is a 400 problem."""
    try:
        return load_json(text)
    except JsonInputError as exc:
        raise BadRequestError(str(exc)) from exc


def _unreadable_body(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """A problem answer for a body this API cannot read as JSON, before Powertools tries to.

    Powertools' validation picks a parser by a case-sensitive prefix of Content-Type and answers what it
    cannot read with exceptions no route sees: `RequestUnsupportedContentType` (text/plain, application/xml,
    application/octet-stream), a bare ValueError (multipart/form-data without a boundary), or it parses
    forms and multipart into fields. Every route here reads JSON, so any other media type is a 415, and a
    base64 body (API Gateway's way of passing bytes) must decode to UTF-8 text.
    """
    body = event.get("body")
    if not body:
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    if media_type not in {"", JSON}:
        return problem_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"This API reads JSON bodies only; send the body as {JSON}, not {media_type}.",
        )
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return problem_response(HTTPStatus.BAD_REQUEST, "The body is not JSON: it is not UTF-8 text.")
    return None


class HostAppResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver that reads JSON bodies only, refusing the rest with a problem answer."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = _unreadable_body(event)
        if refused is not None:
            return refused
        if event.get("body"):
            # Media types are case-insensitive (RFC 9110 §8.3.1); Powertools compares "application/json".
            headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
            event = {**event, "headers": {**headers, "content-type": JSON}}
        return super().resolve(event, context)


def _log_keys(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """A request's lines about a tenant carry its id and edition, and, on a record's routes, the record's
    (ids the routes would refuse are left out)."""
    args: Mapping[str, object] = app.context.get("_route_args", {})  # the path's parameters, by name
    tenant_id, record_type, record_id = args.get("tenant_id"), args.get("record_type"), args.get("record_id")
    if isinstance(tenant_id, str) and is_valid_tenant_id(tenant_id):
        add_log_keys(**from_context(app.context).tenant_log_keys.of(tenant_id))
        if record_type in RECORD_TYPES and isinstance(record_id, str) and _RECORD_ID.fullmatch(record_id):
            add_log_keys(record_type=record_type, record_id=record_id)
    return next_middleware(app)


def build_api() -> APIGatewayHttpResolver:
    app = HostAppResolver(enable_validation=True, json_body_deserializer=_json_body)
    app.use(middlewares=[_log_keys])
    app.include_router(system.router)
    app.include_router(tenants.router)
    app.include_router(connections.router)
    app.include_router(dashboard.router)
    app.include_router(web_connector.router)
    app.include_router(settings_routes.router)
    app.include_router(records.router)
    app.include_router(quickbooks.router)
    app.include_router(links.router)
    app.include_router(initial_sync.router)
    app.include_router(matches.router)
    app.include_router(status_routes.router)
    # include_router copies the routers' context, which is that of the resolver last built in this process,
    # mid-event if it is handling one (its `_request` included): this resolver starts with its own.
    app.clear_context()  # type: ignore[no-untyped-call]

    app.configure_openapi(
        title=TITLE,
        version=__version__,
        summary="Sync your tenants' books with QuickBooks Online and QuickBooks Desktop.",
    )
    app.enable_swagger(path="/docs", title=TITLE, version=__version__)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> Response[str]:
        return Response(
            status_code=200,
            content_type="application/json",
            body=app.get_openapi_json_schema(title=TITLE, version=__version__),
        )

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        errors = [
            ProblemField(field=_field_name(tuple(e.get("loc", ()))), message=e.get("msg", "invalid"))
            for e in exc.errors()
        ]
        return problem(HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid; see errors.", errors)

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), HTTPStatus.BAD_REQUEST)
        errors = [ProblemField.of(p) for p in getattr(exc, "problems", [])]
        return problem(status, exc.detail, errors)

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response[str]:
        return problem(HTTPStatus(exc.status_code), str(exc.msg))

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return problem(
            HTTPStatus.NOT_FOUND, f"No route for {app.current_event.http_method} {app.current_event.path}."
        )

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[str]:
        log.exception("unhandled error")
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side; it was logged. Retry later."
        )

    return app
