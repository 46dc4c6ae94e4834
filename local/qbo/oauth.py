"""Intuit's OAuth 2.0 server: discovery, the consent page, the token endpoint and revoke."""

from __future__ import annotations

import base64
import binascii
import html
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request

from local.qbo.faults import json_response
from local.qbo.state import ACCESS_TOKEN_TTL, App, Sandbox

bp = Blueprint("oauth", __name__)
KNOWN_SCOPES = {
    "com.intuit.quickbooks.accounting",
    "com.intuit.quickbooks.payment",
    "openid",
    "profile",
    "email",
    "phone",
    "address",
}
HARD_EXPIRY_SECONDS = 5 * 365 * 24 * 3600
HARD_EXPIRY = timedelta(seconds=HARD_EXPIRY_SECONDS)


def sandbox() -> Sandbox:
    return current_app.config["SANDBOX"]  # type: ignore[no-any-return]


@bp.get("/.well-known/openid_sandbox_configuration/")
@bp.get("/.well-known/openid_configuration/")
def discovery() -> Response:
    base = request.host_url.rstrip("/")
    sb = sandbox()
    with sb.lock:
        sb.discovery_requests += 1
    return json_response(
        200,
        {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        },
    )


def _page(title: str, body: str, status: int = 200) -> Response:
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
        "button{padding:.5rem 1.2rem;margin-right:.5rem}</style></head><body>"
        "<p><strong>Intuit (local sandbox)</strong></p><h1>"
        + html.escape(title)
        + "</h1>"
        + body
        + "</body></html>"
    )
    return Response(page, status=status, mimetype="text/html")


def _authorize_params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {k: source.get(k, "") for k in ("client_id", "response_type", "scope", "redirect_uri", "state")}


def _redirect_with(redirect_uri: str, **params: str) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}", code=302)  # type: ignore[return-value]


@bp.route("/connect/oauth2", methods=["GET", "POST"])
def authorize() -> Response:  # noqa: PLR0911 - one answer per case of Intuit's flow
    params = _authorize_params()
    sb = sandbox()
    app = sb.apps.get(params["client_id"])
    if app is None:
        return _page(
            "Something went wrong", "<p>The app's client id is not recognised (invalid_client).</p>", 400
        )
    if params["redirect_uri"] not in app.redirect_uris:
        return _page(
            "Something went wrong",
            "<p>The redirect_uri is not one of the app's redirect URIs (invalid redirect_uri).</p>",
            400,
        )
    scopes = params["scope"].split()
    if params["response_type"] != "code":
        return _redirect_with(
            params["redirect_uri"], error="unsupported_response_type", state=params["state"]
        )
    if not scopes or not set(scopes) <= KNOWN_SCOPES:
        return _redirect_with(params["redirect_uri"], error="invalid_scope", state=params["state"])
    if request.method == "POST":
        if request.form.get("decision") != "connect":
            return _redirect_with(params["redirect_uri"], error="access_denied", state=params["state"])
        realm_id = request.form.get("realm_id", "")
        if realm_id not in sb.companies:
            return _page("Choose a company", "<p>Pick one of your companies to connect.</p>", 400)
        grant = sb.issue_code(app.client_id, realm_id, params["redirect_uri"], scopes)
        return _redirect_with(
            params["redirect_uri"], code=grant.code, state=params["state"], realmId=realm_id
        )
    options = "".join(
        f"<p><label><input type='radio' name='realm_id' value='{html.escape(c.realm_id)}'"
        f"{' checked' if i == 0 else ''}> {html.escape(c.name)}</label></p>"
        for i, c in enumerate(sb.companies.values())
    )
    hidden = "".join(
        f"<input type='hidden' name='{k}' value='{html.escape(v, quote=True)}'>" for k, v in params.items()
    )
    body = (
        "<form method='post' action='/connect/oauth2'>"
        "<p>An app wants to access your QuickBooks company data.</p>"
        f"{options}{hidden}"
        "<button type='submit' name='decision' value='connect' id='connect'>Connect</button>"
        "<button type='submit' name='decision' value='cancel' id='cancel'>Cancel</button></form>"
    )
    return _page("Connect your QuickBooks company", body)


def _client() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return client_id, secret
    if "client_id" in request.form:
        return request.form["client_id"], request.form.get("client_secret", "")
    return None


def _authenticated_app(sb: Sandbox) -> App | None:
    """The app whose client id and secret the request carries (Basic auth or form fields), if they match."""
    credentials = _client()
    app = sb.apps.get(credentials[0]) if credentials else None
    if app is None or credentials is None or credentials[1] != app.client_secret:
        return None
    return app


def _oauth_error(status: int, error: str, description: str | None = None) -> Response:
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(status, body)


def _token_response(access: Any, refresh: Any, now: datetime, hard_expires_at: datetime) -> Response:
    # The refresh token lives 100 days from its issue, but never past the chain's hard expiry; both
    # `..._expires_in` fields are what remains of them (Intuit's RefreshTokenHardExpirationService sample).
    refresh.hard_expires_at = hard_expires_at
    refresh.expires_at = min(refresh.expires_at, hard_expires_at)
    body: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": access.token,
        "refresh_token": refresh.token,
        "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
        "x_refresh_token_expires_in": int((refresh.expires_at - now).total_seconds()),
    }
    if request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true":
        body["x_refresh_token_hard_expires_in"] = int((hard_expires_at - now).total_seconds())
    return json_response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


@bp.post("/oauth2/v1/tokens/bearer")
def token() -> Response:  # noqa: PLR0911 - one answer per grant type and error
    sb = sandbox()
    with sb.lock:
        app = _authenticated_app(sb)
        if app is None:
            return _oauth_error(401, "invalid_client")
        grant_type = request.form.get("grant_type", "")
        sb.token_requests.append({"grant_type": grant_type, "client_id": app.client_id})
        now = sb.clock.now()
        if grant_type == "authorization_code":
            grant = sb.grants.get(request.form.get("code", ""))
            if grant is None or grant.client_id != app.client_id or grant.expires_at <= now:
                return _oauth_error(400, "invalid_grant")
            if grant.used:  # a second exchange: Intuit treats it as fraud and revokes what the code gave
                for descendant in sb.refresh_tokens.values():
                    if descendant.grant_code == grant.code:
                        sb.revoke_family(descendant)
                return _oauth_error(400, "invalid_grant")
            if request.form.get("redirect_uri", "") != grant.redirect_uri:
                return _oauth_error(400, "invalid_grant")
            grant.used = True
            access, refresh = sb.issue_tokens(app.client_id, grant.realm_id, grant.scopes, grant.code)
            return _token_response(access, refresh, now, now + HARD_EXPIRY)
        if grant_type == "refresh_token":
            old = sb.refresh_tokens.get(request.form.get("refresh_token", ""))
            if old is None or old.client_id != app.client_id:
                return _oauth_error(400, "invalid_grant", "Incorrect or invalid refresh token")
            if old.replaced or old.revoked or old.expires_at <= now:
                return _oauth_error(400, "invalid_grant", "Token invalid")
            old.replaced = True
            access, refresh = sb.issue_tokens(app.client_id, old.realm_id, old.scopes, old.grant_code)
            return _token_response(access, refresh, now, old.hard_expires_at or now + HARD_EXPIRY)
        return _oauth_error(400, "unsupported_grant_type")


@bp.post("/v2/oauth2/tokens/revoke")
def revoke() -> Response:
    sb = sandbox()
    with sb.lock:
        app = _authenticated_app(sb)
        if app is None:
            return _oauth_error(401, "invalid_client")
        try:
            value = json.loads(request.get_data() or b"{}").get("token", "")
        except (ValueError, AttributeError):
            return _oauth_error(400, "invalid_request")
        refresh = sb.refresh_tokens.get(value)
        access = sb.access_tokens.get(value) if refresh is None else None
        if access is not None and access.client_id == app.client_id:  # only the app's own tokens
            refresh = next((r for r in sb.refresh_tokens.values() if value in r.access_tokens), None)
            access.revoked = True
        if refresh is not None and refresh.client_id == app.client_id:
            # Revoking disconnects the app from the company: every token of that connection stops working.
            for other in sb.refresh_tokens.values():
                if other.realm_id == refresh.realm_id and other.client_id == app.client_id:
                    sb.revoke_family(other)
        return json_response(200, {})
