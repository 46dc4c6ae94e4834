"""Test controls under /_sandbox/: what tests and the demo use to set up and inspect the sandbox.

Not part of Intuit's API; never used by qbsync itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from local.qbo import accounting, webhooks
from local.qbo.engine import Ledger
from local.qbo.entities import spec_named
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
    """Add a fault: {"kind", "path_contains"?, "method"?, "status"?, "code"?, "count"?, "rate"?, "seed"?}.
    Without a rate it answers the next `count` (default 1) matching requests; with a rate (0 < rate <= 1)
    each matching request has that chance of being answered with it, `count` times at most (no limit when left
    out), drawn from a random.Random(seed) of its own. A status fault answers with fault `code` (default
    10000, SystemFault)."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        body = {}
    made = _fault_from(body)
    if isinstance(made, str):
        return json_response(400, {"error": made})
    fault = sandbox().add_fault(made)
    with sandbox().lock:
        return json_response(201, {"queued": True, "fault": fault.describe()})


@bp.get("/faults")
def list_faults() -> Response:
    """The active faults in the order they are asked, and the spent ones (count ran out), with `fired`."""
    sb = sandbox()
    with sb.lock:
        return json_response(
            200,
            {
                "faults": [fault.describe() for fault in sb.faults],
                "spent": [fault.describe() for fault in sb.spent_faults],
            },
        )


@bp.delete("/faults")
def clear_faults() -> Response:
    return json_response(200, {"cleared": sandbox().clear_faults()})


def _fault_from(body: dict[str, Any]) -> Fault | str:
    """The Fault a POST /faults body asks for, or what is wrong with it."""
    kind, path_contains, method = body.get("kind"), body.get("path_contains", ""), body.get("method")
    status, code = body.get("status", 500), body.get("code", "10000")
    rate, seed = body.get("rate"), body.get("seed")
    count = body.get("count", None if rate is not None else 1)
    problems = (
        (kind not in FAULT_KINDS, f"kind must be one of {sorted(FAULT_KINDS)}"),
        (not isinstance(path_contains, str), "path_contains must be a string"),
        (
            method is not None and not (isinstance(method, str) and method.strip()),
            "method must be an HTTP method, or left out for any",
        ),
        (not (_is_int(status) and 400 <= status <= 599), "status must be an HTTP error status, 400 to 599"),
        (not (isinstance(code, str) and code.isdigit()), "code must be a QuickBooks fault code, digits only"),
        (
            rate is not None and not (_is_number(rate) and 0 < rate <= 1),
            "rate must be a number above 0 and at most 1",
        ),
        (
            seed is not None and (rate is None or not _is_int(seed)),
            "seed must be an integer, and is for a fault with a rate",
        ),
        (
            (count is not None or rate is None) and not (_is_int(count) and count >= 1),
            "count must be a positive integer (a fault with a rate may leave it out: no limit)",
        ),
    )
    wrong = next((message for failed, message in problems if failed), None)
    if wrong is not None:
        return wrong
    return Fault(
        kind=str(kind),
        path_contains=path_contains,
        method=method.strip().upper() if isinstance(method, str) else None,
        remaining=count,
        status=status,
        code=code,
        rate=float(rate) if rate is not None else None,
        seed=seed,
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return _is_int(value) or isinstance(value, float)


# ---------------------------------------------------------------------- records entered by a user


@bp.post("/companies/<realm_id>/entities/<kind>")
def enter(realm_id: str, kind: str) -> Response:
    """Enter a record as a user of QuickBooks would, not through the API: the body is the entity (as the API
    takes it); `?operation=void` or `?operation=delete` with {"Id", "SyncToken"}, and a body with Id and
    SyncToken updates. The API's Ledger applies its rules (a refusal answers 400 with the API's Fault),
    commits, and tells the listeners (webhooks); no injected fault, throttle or requestid applies. Answers
    201 {"<Entity>": stored, "time"} for a new record, 200 for a change."""
    spec = spec_named(kind)
    if spec is None:
        return json_response(404, {"error": f"no entity named {kind!r}"})
    sb = sandbox()
    with sb.lock:
        if realm_id not in sb.companies:
            return json_response(404, {"error": "no such company"})
    operation = request.args.get("operation", "").lower()
    created = False

    def run(ledger: Ledger) -> dict[str, Any]:
        nonlocal created
        entity = accounting.write_entity(ledger, spec, operation, accounting.json_body())
        created = any(c.operation == "Create" and c.entity["Id"] == entity.get("Id") for c in ledger.changes)
        return {spec.name: entity}

    status, text = accounting.perform(sb, realm_id, run)
    if status == 200 and created:
        status = 201
    return Response(text, status=status, mimetype="application/json")


@bp.get("/requests")
def api_requests() -> Response:
    """Accounting API answers, counted: {"total", "by_status": {"200": n, ...}, "answers": [...]};
    `?realm_id=` keeps one company's."""
    realm = request.args.get("realm_id")
    with sandbox().lock:
        answers = [
            {"realm_id": r, "method": m, "resource": p, "status": s, "count": n}
            for (r, m, p, s), n in sandbox().api_answers.items()
            if realm in (None, r)
        ]
    by_status: dict[str, int] = {}
    for answer in answers:
        by_status[str(answer["status"])] = by_status.get(str(answer["status"]), 0) + int(answer["count"])
    return json_response(200, {"total": sum(by_status.values()), "by_status": by_status, "answers": answers})


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
