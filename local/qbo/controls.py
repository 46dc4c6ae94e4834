"""Test controls under /_sandbox/: what tests and the demo use to set up and inspect the sandbox.

Not part of Intuit's API; never used by qbsync itself.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from local.qbo import webhooks
from local.qbo.faults import json_response
from local.qbo.state import Fault, Sandbox

bp = Blueprint("controls", __name__, url_prefix="/_sandbox")
FAULT_KINDS = {"status", "timeout", "lost", "throttle"}


def sandbox() -> Sandbox:
    return current_app.config["SANDBOX"]  # type: ignore[no-any-return]


@bp.post("/companies")
def create_company() -> Response:
    body = request.get_json(force=True, silent=True) or {}
    name = str(body.get("name") or "Sandbox Company")
    company = sandbox().add_company(name, body.get("realm_id"), str(body.get("country", "US")))
    return json_response(201, {"realm_id": company.realm_id, "name": company.name})


@bp.get("/companies")
def list_companies() -> Response:
    with sandbox().lock:
        return json_response(
            200,
            {"companies": [{"realm_id": c.realm_id, "name": c.name} for c in sandbox().companies.values()]},
        )


@bp.get("/companies/<realm_id>/entities/<kind>")
def read_store(realm_id: str, kind: str) -> Response:
    sb = sandbox()
    with sb.lock:
        if realm_id not in sb.companies:
            return json_response(404, {"error": "no such company"})
        return json_response(200, {kind: list(sb.companies[realm_id].of(kind).values())})


@bp.post("/clock")
def move_clock() -> Response:
    body = request.get_json(force=True, silent=True) or {}
    sb = sandbox()
    with sb.lock:
        sb.clock.offset += timedelta(seconds=float(body.get("advance_seconds", 0)))
        return json_response(200, {"now": sb.clock.now().isoformat()})


@bp.post("/tokens/expire")
def expire_tokens() -> Response:
    body = request.get_json(force=True, silent=True) or {}
    count = sandbox().expire_tokens(body.get("realm_id"), refresh_too=bool(body.get("refresh_tokens", False)))
    return json_response(200, {"expired_access_tokens": count})


@bp.get("/token-requests")
def token_requests() -> Response:
    with sandbox().lock:
        return json_response(200, {"requests": list(sandbox().token_requests)})


@bp.post("/faults")
def inject_fault() -> Response:
    body = request.get_json(force=True, silent=True) or {}
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        return json_response(400, {"error": f"kind must be one of {sorted(FAULT_KINDS)}"})
    fault = Fault(
        kind=kind,
        path_contains=str(body.get("path_contains", "")),
        method=body.get("method"),
        remaining=int(body.get("count", 1)),
        status=int(body.get("status", 500)),
    )
    with sandbox().lock:
        sandbox().faults.append(fault)
    return json_response(201, {"queued": True})


# ---------------------------------------------------------------------- webhooks (local/qbo/webhooks.py)


@bp.post("/apps/<client_id>/webhooks")
def configure_webhooks(client_id: str) -> Response:
    """Subscribe an app as the developer portal does: {"url", "format": "cloudevents"|"legacy",
    "verifier_token"?}. A null url deletes the subscription; the answer shows the verifier token."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return json_response(400, {"error": "the body must be a JSON object"})
    url = body.get("url")
    if url is not None and (
        not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc
    ):
        return json_response(400, {"error": "url must be an http(s) URL, or null to unsubscribe"})
    token = body.get("verifier_token")
    if token is not None and (not isinstance(token, str) or not token.strip()):
        return json_response(400, {"error": "verifier_token must be a non-empty string"})
    sb = sandbox()
    with sb.lock:
        app = sb.apps.get(client_id)
        if app is None:
            return json_response(404, {"error": f"no app with client id {client_id!r}"})
        fmt = body.get("format", app.webhook_format)
        if fmt not in webhooks.FORMATS:
            return json_response(400, {"error": f"format must be one of {list(webhooks.FORMATS)}"})
        app.webhook_url = url
        app.webhook_format = fmt
        if token is not None:
            app.verifier_token = token
        return json_response(
            200,
            {"client_id": client_id, "url": url, "format": fmt, "verifier_token": app.verifier_token},
        )


@bp.get("/webhooks/deliveries")
def webhook_deliveries() -> Response:
    """Every delivery attempt, oldest first: status, attempt number, event ids (`?client_id=` filters)."""
    client_id = request.args.get("client_id")
    with sandbox().lock:
        attempts = [
            dict(attempt)
            for attempt in sandbox().webhook_deliveries
            if client_id in (None, attempt["client_id"])
        ]
    return json_response(200, {"deliveries": attempts})


@bp.post("/companies/<realm_id>/changes")
def emit_change(realm_id: str) -> Response:
    """Announce a change as if the API had committed it: {"entity", "id", "operation", "deleted_id"?}."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return json_response(400, {"error": "the body must be a JSON object"})
    kind, entity_id, operation = body.get("entity"), body.get("id"), body.get("operation")
    if kind not in webhooks.WEBHOOK_ENTITIES:
        return json_response(400, {"error": f"entity must be one of {sorted(webhooks.WEBHOOK_ENTITIES)}"})
    if not isinstance(entity_id, str | int) or not str(entity_id):
        return json_response(400, {"error": "id must be the entity's Id"})
    if not isinstance(operation, str) or webhooks.operation_names(operation) is None:
        return json_response(
            400, {"error": "operation must be Create, Update, Delete, Merge, Void or Emailed"}
        )
    sb = sandbox()
    with sb.lock:
        if realm_id not in sb.companies:
            return json_response(404, {"error": "no such company"})
        stored = sb.companies[realm_id].of(kind).get(str(entity_id))
        entity = dict(stored) if stored is not None else {"Id": str(entity_id)}
        if body.get("deleted_id"):
            entity["deletedId"] = str(body["deleted_id"])
    sb.notify(realm_id, kind, entity, operation)
    return json_response(
        202, {"realm_id": realm_id, "entity": kind, "id": str(entity_id), "operation": operation}
    )
