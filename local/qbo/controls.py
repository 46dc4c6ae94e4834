"""Test controls under /_sandbox/: what tests and the demo use to set up and inspect the sandbox.

Not part of Intuit's API; never used by qbsync itself.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, request

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
        return json_response(200, {"companies": [
            {"realm_id": c.realm_id, "name": c.name} for c in sandbox().companies.values()]})


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
    fault = Fault(kind=kind, path_contains=str(body.get("path_contains", "")), method=body.get("method"),
                  remaining=int(body.get("count", 1)), status=int(body.get("status", 500)))
    with sandbox().lock:
        sandbox().faults.append(fault)
    return json_response(201, {"queued": True})
