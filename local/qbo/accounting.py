"""The Accounting API v3 under /v3/company/<realm_id>/: authentication, throttles and injected faults, then
the routes (read, write, query, cdc, batch) that hand a Ledger (engine.py) to the work under the sandbox lock.

Injected faults (POST /_sandbox/faults; Sandbox.take_fault picks the one that answers a request, by count or
by rate): `status` and `throttle` answer at once, before any work, so nothing is committed (as Intuit's 5xx
before processing); `timeout` holds the request for `ApiOptions.timeout_seconds` (35 s by default, longer than
a client's timeout), then answers an empty 504 without doing the work; `lost` does the work, commits it (and
keeps the answer for a retry with the same requestid), then answers an empty 502 in place of the result.

`perform` and `write_entity` also serve the sandbox control that enters records as a user of QuickBooks would
(controls.py): the same Ledger, rules and notifications as the API.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from local.qbo import batch, cdc, faults
from local.qbo.engine import Ledger, books
from local.qbo.entities import BY_PATH, EntitySpec, response_time
from local.qbo.faults import authentication_failed, authorization_failed, fault, throttled
from local.qbo.limits import limiter_for
from local.qbo.rules import native
from local.qbo.state import Entity, Fault, Sandbox

bp = Blueprint("accounting", __name__, url_prefix="/v3/company/<realm_id>")
REQUEST_ID_LIMIT = 50
BATCH_REQUEST_ID_LIMIT = 36


@dataclass
class ApiOptions:
    """Knobs tests turn: how long a `timeout` fault holds its request; `wake` ends every hold at once."""

    timeout_seconds: float = 35.0
    wake: threading.Event = field(default_factory=threading.Event)


def options_for(sb: Sandbox) -> ApiOptions:
    if sb.api_options is None:
        sb.api_options = ApiOptions()
    return sb.api_options


def sandbox() -> Sandbox:
    return current_app.config["SANDBOX"]  # type: ignore[no-any-return]


# ------------------------------------------------------------ the gate


@bp.before_request
def authenticate_throttle_and_inject_faults() -> Response | None:
    sb = sandbox()
    realm_id = (request.view_args or {}).get("realm_id", "")
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    access = sb.valid_access_token(token) if token else None
    if access is None:
        return authentication_failed(sb.clock.now(), f"Token expired: {token[:10]}")
    if access.realm_id != realm_id:  # a good token, issued for another company
        return authorization_failed(sb.clock.now())
    if not limiter_for(sb).admit(realm_id, sb.clock.now(), batch=request.endpoint == "accounting.run_batch"):
        return throttled(sb.clock.now())
    g.admitted = realm_id
    injected = sb.take_fault(request.method, request.path)
    if injected is not None:
        g.injected = injected
        return _injected(sb, injected)
    return None


def _injected(sb: Sandbox, injected: Fault) -> Response | None:
    """The answer an injected fault gives before any work is done (`lost` answers after: tag_and_lose)."""
    if injected.kind == "throttle":
        return throttled(sb.clock.now())
    if injected.kind == "status" and injected.code == "10000":
        return fault(
            injected.status,
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error: An unexpected error occurred",
            "SystemFault",
            sb.clock.now(),
        )
    if injected.kind == "status":  # another code, to stand for a refusal of the whole request
        message = f"message=InjectedFault; errorCode={injected.code:0>6}; statusCode={injected.status}"
        return fault(injected.status, injected.code, message, "Injected by /_sandbox/faults", "SERVICE",
                     sb.clock.now())  # fmt: skip
    if injected.kind == "timeout":
        options = options_for(sb)
        options.wake.wait(options.timeout_seconds)
        return Response(b"", status=504)
    return None


@bp.after_request
def tag_and_lose(response: Response) -> Response:
    injected = g.get("injected")
    if injected is not None and injected.kind == "lost":
        response = Response(b"", status=502)  # committed, but the answer never reaches the client
    sb = sandbox()
    with sb.lock:  # what clients were answered, for GET /_sandbox/requests
        realm_id = (request.view_args or {}).get("realm_id", "")
        sb.api_answers[(realm_id, request.method, request.path.rsplit("/", 1)[-1], response.status_code)] += 1
    response.headers["intuit_tid"] = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
    return response


@bp.teardown_request
def release(_error: BaseException | None) -> None:
    realm_id = g.pop("admitted", None)
    if realm_id is not None:
        limiter_for(sandbox()).release(realm_id)


# ------------------------------------------------------------ routes


@bp.get("/<entity>/<entity_id>")
def read(realm_id: str, entity: str, entity_id: str) -> Response:
    spec = BY_PATH.get(entity.lower())
    if spec is None:
        return _error(_unknown_resource())
    return _answer(realm_id, lambda ledger: {spec.name: ledger.read(spec, entity_id)})


@bp.post("/<entity>")
def write(realm_id: str, entity: str) -> Response:
    """Create or update; `?operation=delete`, `?operation=void`, `?operation=update&include=void`."""
    spec = BY_PATH.get(entity.lower())
    if spec is None:
        return _error(_unknown_resource())
    operation = request.args.get("operation", "").lower()
    if operation == "update" and request.args.get("include", "").lower() == "void":
        operation = "void"
    return _answer(
        realm_id,
        lambda ledger: {spec.name: write_entity(ledger, spec, operation, json_body())},
        request_id_limit=REQUEST_ID_LIMIT,
    )


@bp.route("/query", methods=["GET", "POST"])
def run_query(realm_id: str) -> Response:
    """`GET ?query=...`, or `POST` with the query as an application/text body."""
    text = request.args.get("query", "") if request.method == "GET" else request.get_data(as_text=True)
    return _answer(realm_id, lambda ledger: {"QueryResponse": ledger.query(text)})


@bp.get("/cdc")
def change_data_capture(realm_id: str) -> Response:
    args = request.args
    return _answer(
        realm_id, lambda ledger: cdc.changes(ledger, args.get("entities", ""), args.get("changedSince", ""))
    )


@bp.post("/batch")
def run_batch(realm_id: str) -> Response:
    return _answer(
        realm_id, lambda ledger: batch.run(ledger, json_body()), request_id_limit=BATCH_REQUEST_ID_LIMIT
    )


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(realm_id: str, rest: str) -> Response:  # noqa: ARG001
    return _error(_unknown_resource())


# ------------------------------------------------------------ plumbing


def _unknown_resource() -> faults.QboError:
    return faults.unknown_resource(request.path, request.base_url)


def write_entity(ledger: Ledger, spec: EntitySpec, operation: str, body: dict[str, Any]) -> Entity:
    """What a write does with its entity: `delete`, `void`, or save ("", create or update: a create or an
    update, as the body has an Id or not)."""
    if operation == "delete":
        return ledger.delete(spec, body)
    if operation == "void":
        return ledger.void(spec, body)
    if operation in ("", "create", "update"):
        return ledger.save(spec, body)
    raise faults.unsupported_operation(f"Operation {operation} is not supported.")


def perform(
    sb: Sandbox, realm_id: str, work: Callable[[Ledger], dict[str, Any]], *, request_id: str = ""
) -> tuple[int, str]:
    """Run `work` on a Ledger of the realm's company under the lock: (200, its result as JSON) or (status, its
    fault); then tell the listeners what it committed. With a `request_id`, the first answer is kept and given
    again for the same requestid without running the work again (NOTES §3.6)."""
    now = sb.clock.now()
    with sb.lock:
        company = sb.companies[realm_id]
        kept = books(company).request_ids
        if request_id and request_id in kept:
            return kept[request_id]
        ledger = Ledger(company, now)
        try:
            status, body = 200, {**work(ledger), "time": response_time(now)}
        except faults.QboError as error:
            status, body = error.status, error.body(response_time(now))
        text = json.dumps(native(body))
        if request_id:
            kept[request_id] = (status, text)
    for change in ledger.changes:
        sb.notify(realm_id, change.kind, change.entity, change.operation)
    return status, text


def _answer(
    realm_id: str, work: Callable[[Ledger], dict[str, Any]], *, request_id_limit: int | None = None
) -> Response:
    """The API's answer of `work` (perform), with the request's `requestid` where the route honours one."""
    request_id = request.args.get("requestid", "") if request_id_limit else ""
    if len(request_id) > (request_id_limit or 0):
        return _error(faults.request_id_too_long(request_id, request_id_limit or 0))
    status, text = perform(sandbox(), realm_id, work, request_id=request_id)
    return Response(text, status=status, mimetype="application/json")


def _error(error: faults.QboError) -> Response:
    body = error.body(response_time(sandbox().clock.now()))
    return Response(json.dumps(body), status=error.status, mimetype="application/json")


def json_body() -> dict[str, Any]:
    """The request entity; JSON numbers with a fraction are read as Decimal, never float."""
    raw = request.get_data()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise faults.unsupported_operation(
            "Operation com.sun.org.apache.xerces.internal.impl.io.MalformedByteSequenceException: "
            "Invalid byte 1 of 1-byte UTF-8 sequence. is not supported."
        ) from None
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise faults.unreadable_body(f"Unexpected character ({error})") from None
    if not isinstance(body, dict):
        raise faults.unreadable_body("Can not deserialize the entity out of a non-object JSON value")
    return body
