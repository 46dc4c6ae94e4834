"""The Accounting API v3 under /v3/company/<realm_id>/: authentication, injected faults, then the entity routes."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from local.qbo.faults import authentication_failed, fault, json_response, throttled
from local.qbo.state import Company, Sandbox

bp = Blueprint("accounting", __name__, url_prefix="/v3/company/<realm_id>")


def sandbox() -> Sandbox:
    return current_app.config["SANDBOX"]  # type: ignore[no-any-return]


def company() -> Company:
    return g.company  # type: ignore[no-any-return]


@bp.before_request
def authenticate_and_inject_faults() -> Response | None:
    sb = sandbox()
    realm_id = (request.view_args or {}).get("realm_id", "")
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    if not token or sb.valid_access_token(token, realm_id) is None:
        return authentication_failed(sb.clock.now(), f"Token expired: {token[:10]}")
    g.company = sb.companies[realm_id]
    injected = sb.take_fault(request.method, request.path)
    if injected is not None:
        g.injected = injected
        if injected.kind == "throttle":
            return throttled(sb.clock.now())
        if injected.kind == "status":
            return fault(injected.status, "10000", "An application error has occurred while processing your "
                         "request", "System Failure Error: An unexpected error occurred", "SystemFault",
                         sb.clock.now())
    return None


@bp.get("/companyinfo/<entity_id>")
def read_company_info(realm_id: str, entity_id: str) -> Response:
    info = company().of("CompanyInfo").get(entity_id)
    if info is None:
        return fault(400, "610", "Object Not Found", f"Object Not Found : Something you're trying to use has been "
                     "made inactive. Check the fields with accounts, customers, items, vendors or employees.",
                     "ValidationFault", sandbox().clock.now())
    return json_response(200, {"CompanyInfo": info, "time": sandbox().clock.now().astimezone().isoformat()})
