"""The sandbox's OAuth 2.0 server through Intuit's own client (intuit-oauth's AuthClient) over real HTTP:
discovery, consent page, the code exchanged once, refresh rotation, expiry, revoke, and the error bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from local.qbo import oauth, server
from local.qbo.state import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
OAUTH_REFERENCE = REFERENCE / "qbo" / "oauth"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"reference material not at {REFERENCE}")

CLIENT_ID = "ABsandboxclient0001"
SECRET = "sandbox-client-secret"
CALLBACK = "https://app.example.test/qbo/callback"
OTHER_CALLBACK = "https://app.example.test/qbo/other-callback"
REALM = server.DEFAULT_REALM


# ---------------------------------------------------------------- the consent page as a browser reads it


@dataclass
class Form:
    action: str = ""
    method: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs and the checked radio
    radios: dict[str, list[str]] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if a.get("type") == "radio":
                form.radios.setdefault(a["name"], []).append(a["value"])
                if "checked" in a:
                    form.fields[a["name"]] = a["value"]
            else:
                form.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.setdefault(a["name"], []).append(a.get("value", ""))


def consent_form(url: str) -> Form:
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parser = FormParser()
    parser.feed(page.text)
    (form,) = parser.forms
    return form


def submit(base: str, form: Form, decision: str, **overrides: str) -> dict[str, list[str]]:
    """Press a button; return the query of the redirect the browser would follow."""
    assert decision in form.buttons["decision"]
    response = requests.request(
        form.method,
        base + form.action,
        data={**form.fields, **overrides, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == form.fields["redirect_uri"]
    return parse_qs(location.query)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def qbo() -> Iterator[server.RunningSandbox]:
    running = server.start(port=0)
    running.sandbox.add_app(CLIENT_ID, SECRET, [CALLBACK, OTHER_CALLBACK])
    yield running
    running.stop()


@pytest.fixture
def make_client(qbo: server.RunningSandbox) -> Callable[..., AuthClient]:
    def make(client_id: str = CLIENT_ID, secret: str = SECRET, redirect_uri: str = CALLBACK) -> AuthClient:
        # intuit-oauth takes the discovery document's URL in place of "sandbox"/"production".
        return AuthClient(
            client_id, secret, redirect_uri, f"{qbo.url}/.well-known/openid_sandbox_configuration/"
        )

    return make


@pytest.fixture
def connect(qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]) -> Callable[..., AuthClient]:
    """The whole flow: authorization URL, consent page, Connect, code exchange; the client, connected."""

    def run(client: AuthClient | None = None) -> AuthClient:
        client = client or make_client()
        code, realm = authorize(qbo, client)
        client.get_bearer_token(code, realm_id=realm)
        return client

    return run


def authorize(qbo: server.RunningSandbox, client: AuthClient, state: str = "state-8f2c") -> tuple[str, str]:
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)
    query = submit(qbo.url, consent_form(url), "connect")
    assert query["state"] == [state]
    return query["code"][0], query["realmId"][0]


def api_status(qbo: server.RunningSandbox, access_token: str, realm: str = REALM) -> tuple[int, Any]:
    """Any Accounting API call: 401 with fault 3200 when the token is not (or no longer) valid."""
    response = requests.get(
        f"{qbo.url}/v3/company/{realm}/companyinfo/{realm}",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=5,
    )
    return response.status_code, response.json()


def assert_unauthorized(qbo: server.RunningSandbox, access_token: str) -> None:
    status, body = api_status(qbo, access_token)
    assert status == 401
    assert body["fault"]["error"][0]["code"] == "3200"
    assert body["fault"]["type"] == "AUTHENTICATION"


def assert_authorized(qbo: server.RunningSandbox, access_token: str) -> None:
    status, _ = api_status(qbo, access_token)
    assert status != 401


def oauth_error(excinfo: pytest.ExceptionInfo[AuthClientError]) -> tuple[int, dict[str, Any]]:
    return excinfo.value.status_code, json.loads(excinfo.value.content)


def token_post(qbo: server.RunningSandbox, form: dict[str, str], **headers: str) -> requests.Response:
    return requests.post(
        f"{qbo.url}/oauth2/v1/tokens/bearer", data=form, auth=(CLIENT_ID, SECRET), headers=headers, timeout=5
    )


# ---------------------------------------------------------------- discovery and consent


@needs_reference
def test_discovery_document_has_intuits_fields_pointing_at_the_sandbox(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    client = make_client()
    assert client.auth_endpoint == f"{qbo.url}/connect/oauth2"
    assert client.token_endpoint == f"{qbo.url}/oauth2/v1/tokens/bearer"
    assert client.revoke_endpoint == f"{qbo.url}/v2/oauth2/tokens/revoke"
    assert client.issuer_uri == f"{qbo.url}/op/v1"
    recorded = json.loads((OAUTH_REFERENCE / "dotnet_sdk_discovery.json").read_text())
    for path in ("/.well-known/openid_sandbox_configuration/", "/.well-known/openid_configuration/"):
        ours = requests.get(qbo.url + path, timeout=5).json()
        assert set(ours) == set(recorded)
        unchanged = {k for k, v in recorded.items() if not isinstance(v, str)}
        assert {k: ours[k] for k in unchanged} == {k: recorded[k] for k in unchanged}


def test_consent_page_connect_redirects_with_code_state_and_realm(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    second = qbo.sandbox.add_company("Second Company", "9130350000000002")
    url = make_client().get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID], state_token="s<t>\"'&")
    form = consent_form(url)
    assert form.method == "post"
    assert form.fields["client_id"] == CLIENT_ID
    assert form.fields["redirect_uri"] == CALLBACK
    assert form.fields["scope"] == "com.intuit.quickbooks.accounting openid"
    assert form.fields["state"] == "s<t>\"'&"  # escaped in the page, intact once parsed
    assert form.radios["realm_id"] == [REALM, second.realm_id]
    assert form.fields["realm_id"] == REALM  # the first company is preselected
    assert form.buttons["decision"] == ["connect", "cancel"]

    query = submit(qbo.url, form, "connect", realm_id=second.realm_id)
    assert query["state"] == ["s<t>\"'&"]
    assert query["realmId"] == [second.realm_id]
    (code,) = query["code"]
    grant = qbo.sandbox.grants[code]
    assert (grant.client_id, grant.realm_id, grant.redirect_uri) == (CLIENT_ID, second.realm_id, CALLBACK)
    assert grant.scopes == ["com.intuit.quickbooks.accounting", "openid"]


def test_cancel_on_the_consent_page_is_access_denied(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    url = make_client().get_authorization_url([Scopes.ACCOUNTING], state_token="st-cancel")
    query = submit(qbo.url, consent_form(url), "cancel")
    assert query == {"error": ["access_denied"], "state": ["st-cancel"]}
    assert qbo.sandbox.grants == {}


def test_authorization_request_errors(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    base = f"{qbo.url}/connect/oauth2"
    good = {"client_id": CLIENT_ID, "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": CALLBACK, "state": "st"}  # fmt: skip

    def get(**changes: str) -> requests.Response:
        return requests.get(base, params={**good, **changes}, allow_redirects=False, timeout=5)

    # Nothing is sent to a redirect URI that is not proven to be the app's.
    assert get(client_id="ABunknown").status_code == 400
    assert "invalid_client" in get(client_id="ABunknown").text
    assert get(redirect_uri="https://evil.example.test/cb").status_code == 400
    for changes, error in (({"scope": "com.intuit.quickbooks.everything"}, "invalid_scope"),
                           ({"scope": ""}, "invalid_scope"),
                           ({"response_type": "token"}, "unsupported_response_type")):  # fmt: skip
        response = get(**changes)
        assert response.status_code == 302
        assert parse_qs(urlsplit(response.headers["Location"]).query) == {"error": [error], "state": ["st"]}


# ---------------------------------------------------------------- the code exchange


@needs_reference
def test_code_exchange_returns_intuits_token_response(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    client = make_client()
    code, realm = authorize(qbo, client)
    response = token_post(qbo, {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    recorded = json.loads((OAUTH_REFERENCE / "dotnet_sdk_success_token_response.json").read_text())
    assert set(body) == set(recorded) - {"id_token"}  # id_token only with the openid scope
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == ACCESS_TOKEN_TTL.total_seconds() == 3600
    assert body["x_refresh_token_expires_in"] == REFRESH_TOKEN_TTL.total_seconds() == 100 * 86400
    assert realm == REALM
    assert_authorized(qbo, body["access_token"])
    assert qbo.sandbox.refresh_tokens[body["refresh_token"]].realm_id == REALM


def test_intuit_client_gets_tokens_that_open_the_api(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    assert client.realm_id == REALM
    assert client.expires_in == 3600
    assert client.x_refresh_token_expires_in == 8640000
    assert client.access_token != client.refresh_token
    assert_authorized(qbo, client.access_token)
    assert_unauthorized(qbo, "eyJnot-a-token")


def test_a_token_used_on_another_company_is_403_application_authorization_failed(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    other = qbo.sandbox.add_company("Other", "9130350000000003").realm_id
    status, body = api_status(qbo, client.access_token, other)
    assert status == 403
    (error,) = body["fault"]["error"]
    assert (error["code"], error["message"]) == (
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
    )
    assert api_status(qbo, client.access_token, "123")[0] == 403  # no such company: the same answer


def test_a_code_exchanged_twice_is_refused_and_revokes_what_it_gave(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    client = make_client()
    code, realm = authorize(qbo, client)
    client.get_bearer_token(code, realm_id=realm)
    first_access, first_refresh = client.access_token, client.refresh_token
    client.refresh()  # the chain goes on: the refreshed tokens descend from the same code
    chained_access, chained_refresh = client.access_token, client.refresh_token

    with pytest.raises(AuthClientError) as excinfo:
        make_client().get_bearer_token(code, realm_id=realm)
    assert oauth_error(excinfo) == (400, {"error": "invalid_grant"})
    for access in (first_access, chained_access):
        assert_unauthorized(qbo, access)
    for refresh in (first_refresh, chained_refresh):
        with pytest.raises(AuthClientError) as excinfo:
            make_client().refresh(refresh_token=refresh)
        assert excinfo.value.status_code == 400
        assert json.loads(excinfo.value.content)["error"] == "invalid_grant"


def test_a_code_exchanged_with_another_redirect_uri_is_refused(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    code, realm = authorize(qbo, make_client(redirect_uri=CALLBACK))
    with pytest.raises(AuthClientError) as excinfo:
        make_client(redirect_uri=OTHER_CALLBACK).get_bearer_token(code, realm_id=realm)
    assert oauth_error(excinfo) == (400, {"error": "invalid_grant"})
    # The mismatch did not use the code up: the right redirect URI still gets tokens.
    client = make_client(redirect_uri=CALLBACK)
    client.get_bearer_token(code, realm_id=realm)
    assert_authorized(qbo, client.access_token)


def test_unknown_expired_or_foreign_codes_are_invalid_grant(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    qbo.sandbox.add_app("ABotherapp", "other-secret", [CALLBACK])
    code, realm = authorize(qbo, make_client())
    with pytest.raises(AuthClientError) as excinfo:
        make_client("ABotherapp", "other-secret").get_bearer_token(code, realm_id=realm)
    assert oauth_error(excinfo) == (400, {"error": "invalid_grant"})
    with pytest.raises(AuthClientError) as excinfo:
        make_client().get_bearer_token("AB11not-a-code", realm_id=realm)
    assert oauth_error(excinfo) == (400, {"error": "invalid_grant"})
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 301}, timeout=5)
    with pytest.raises(AuthClientError) as excinfo:
        make_client().get_bearer_token(code, realm_id=realm)  # codes live 5 minutes
    assert oauth_error(excinfo) == (400, {"error": "invalid_grant"})


@needs_reference
def test_wrong_client_credentials_are_invalid_client(
    qbo: server.RunningSandbox, make_client: Callable[..., AuthClient]
) -> None:
    code, realm = authorize(qbo, make_client())
    recorded = json.loads((OAUTH_REFERENCE / "dotnet_sdk_failure_token_response.json").read_text())
    for client_id, secret in ((CLIENT_ID, "wrong-secret"), ("ABunknown", SECRET)):
        with pytest.raises(AuthClientError) as excinfo:
            make_client(client_id, secret).get_bearer_token(code, realm_id=realm)
        status, body = oauth_error(excinfo)
        assert (status, body) == (401, {"error": "invalid_client"})
        assert set(body) <= set(recorded)
    # No credentials at all.
    response = requests.post(
        f"{qbo.url}/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"}, timeout=5
    )
    assert (response.status_code, response.json()) == (401, {"error": "invalid_client"})
    # client_secret_post works as well as Basic.
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    form |= {"client_id": CLIENT_ID, "client_secret": SECRET}
    assert requests.post(f"{qbo.url}/oauth2/v1/tokens/bearer", data=form, timeout=5).status_code == 200


def test_unsupported_grant_type(qbo: server.RunningSandbox) -> None:
    response = token_post(qbo, {"grant_type": "password", "username": "u", "password": "p"})
    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})


# ---------------------------------------------------------------- refresh and expiry


@needs_reference
def test_refresh_rotates_and_the_old_refresh_token_is_refused(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient], make_client: Callable[..., AuthClient]
) -> None:
    client = connect()
    old_access, old_refresh = client.access_token, client.refresh_token
    response = token_post(qbo, {"grant_type": "refresh_token", "refresh_token": old_refresh})
    assert response.status_code == 200
    body = response.json()
    recorded = json.loads((OAUTH_REFERENCE / "dotnet_sdk_success_refreshtoken_response.json").read_text())
    assert set(body) == set(recorded) - {"id_token"}
    assert body["refresh_token"] != old_refresh
    assert body["access_token"] != old_access
    assert_authorized(qbo, body["access_token"])

    with pytest.raises(AuthClientError) as excinfo:
        make_client().refresh(refresh_token=old_refresh)
    status, error = oauth_error(excinfo)
    assert (status, error["error"]) == (400, "invalid_grant")
    assert set(error) <= {"error", "error_description"}
    # The newest token goes on working, through Intuit's client too.
    client.refresh(refresh_token=body["refresh_token"])
    assert client.refresh_token not in (old_refresh, body["refresh_token"])
    assert_authorized(qbo, client.access_token)
    asked = requests.get(f"{qbo.url}/_sandbox/token-requests", timeout=5).json()["requests"]
    grant_types = [r["grant_type"] for r in asked]
    assert grant_types == ["authorization_code", "refresh_token", "refresh_token", "refresh_token"]


def test_an_access_token_expires_after_an_hour_and_refresh_renews_it(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    advance = requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 3599}, timeout=5)
    assert advance.status_code == 200
    assert_authorized(qbo, client.access_token)
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 2}, timeout=5)
    assert_unauthorized(qbo, client.access_token)
    _, body = api_status(qbo, client.access_token)
    assert body["fault"]["error"][0]["detail"].startswith("Token expired")
    client.refresh()
    assert_authorized(qbo, client.access_token)


def test_a_refresh_token_unused_for_100_days_is_refused(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 99 * 86400}, timeout=5)
    client.refresh()  # rolling: each use starts another 100 days
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 99 * 86400}, timeout=5)
    client.refresh()
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 100 * 86400 + 1}, timeout=5)
    with pytest.raises(AuthClientError) as excinfo:
        client.refresh()
    assert oauth_error(excinfo)[0] == 400
    assert oauth_error(excinfo)[1]["error"] == "invalid_grant"


def test_expire_control_ends_access_tokens_and_optionally_refresh_tokens(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    other_realm = qbo.sandbox.add_company("Untouched", "9130350000000004").realm_id
    other_access, _ = qbo.sandbox.issue_tokens(
        CLIENT_ID, other_realm, ["com.intuit.quickbooks.accounting"], ""
    )

    response = requests.post(f"{qbo.url}/_sandbox/tokens/expire", json={"realm_id": REALM}, timeout=5)
    assert response.json() == {"expired_access_tokens": 1}
    assert_unauthorized(qbo, client.access_token)
    assert api_status(qbo, other_access.token, other_realm)[0] != 401  # other companies keep theirs
    client.refresh()
    assert_authorized(qbo, client.access_token)

    requests.post(
        f"{qbo.url}/_sandbox/tokens/expire", json={"realm_id": REALM, "refresh_tokens": True}, timeout=5
    )
    assert_unauthorized(qbo, client.access_token)
    with pytest.raises(AuthClientError) as excinfo:
        client.refresh()
    assert oauth_error(excinfo)[1]["error"] == "invalid_grant"


def test_hard_expiry_is_reported_only_when_asked_for_and_counts_down(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    assert client.x_refresh_token_hard_expires_in is None
    client.refresh()
    assert client.x_refresh_token_hard_expires_in is None
    client.include_refresh_token_hard_expires_in = True  # intuit-oauth 1.2.7 sends the header
    client.refresh()
    five_years = oauth.HARD_EXPIRY_SECONDS
    assert five_years == 5 * 365 * 86400
    assert five_years - 5 <= client.x_refresh_token_hard_expires_in <= five_years
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 30 * 86400}, timeout=5)
    client.refresh()
    # What remains of the 5 years since the connection began, not 5 years again.
    assert abs(client.x_refresh_token_hard_expires_in - (five_years - 30 * 86400)) <= 5
    response = token_post(
        qbo,
        {"grant_type": "refresh_token", "refresh_token": client.refresh_token},
        **{"x-include-refresh-token-hard-expires-in": "false"},
    )
    assert "x_refresh_token_hard_expires_in" not in response.json()


def test_a_connection_ends_at_its_hard_expiry_however_often_it_is_refreshed(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient]
) -> None:
    client = connect()
    client.include_refresh_token_hard_expires_in = True
    client.refresh()
    while client.x_refresh_token_hard_expires_in > 100 * 86400:
        requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 99 * 86400}, timeout=5)
        client.refresh()
    # Within 100 days of the hard expiry, the refresh token lives only until then.
    assert abs(client.x_refresh_token_expires_in - client.x_refresh_token_hard_expires_in) <= 1
    requests.post(
        f"{qbo.url}/_sandbox/clock",
        json={"advance_seconds": client.x_refresh_token_hard_expires_in - 60},
        timeout=5,
    )
    client.refresh()
    assert 0 < client.x_refresh_token_expires_in <= 61
    requests.post(f"{qbo.url}/_sandbox/clock", json={"advance_seconds": 120}, timeout=5)
    with pytest.raises(AuthClientError) as excinfo:
        client.refresh()
    assert oauth_error(excinfo)[1]["error"] == "invalid_grant"


# ---------------------------------------------------------------- revoke


def test_revoke_ends_every_token_of_the_connection(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient], make_client: Callable[..., AuthClient]
) -> None:
    first = connect()
    first_access = first.access_token
    first.refresh()
    second = connect()  # the same app connected to the same company again: one connection
    qbo.sandbox.add_app("ABotherapp", "other-secret", [CALLBACK])
    other_app = connect(make_client("ABotherapp", "other-secret"))

    assert first.revoke(token=second.refresh_token) is True
    for access in (first_access, first.access_token, second.access_token):
        assert_unauthorized(qbo, access)
    for client in (first, second):
        with pytest.raises(AuthClientError) as excinfo:
            client.refresh()
        assert oauth_error(excinfo)[1]["error"] == "invalid_grant"
    assert_authorized(qbo, other_app.access_token)  # another app's connection is its own
    other_app.refresh()


def test_revoke_with_an_access_token(qbo: server.RunningSandbox, connect: Callable[..., AuthClient]) -> None:
    client = connect()
    assert client.revoke(token=client.access_token) is True
    assert_unauthorized(qbo, client.access_token)
    with pytest.raises(AuthClientError) as excinfo:
        client.refresh()
    assert oauth_error(excinfo)[1]["error"] == "invalid_grant"


def test_revoke_needs_the_apps_credentials_and_touches_only_its_tokens(
    qbo: server.RunningSandbox, connect: Callable[..., AuthClient], make_client: Callable[..., AuthClient]
) -> None:
    victim = connect()
    qbo.sandbox.add_app("ABotherapp", "other-secret", [CALLBACK])
    with pytest.raises(AuthClientError) as excinfo:
        make_client(CLIENT_ID, "wrong-secret").revoke(token=victim.refresh_token)
    assert oauth_error(excinfo) == (401, {"error": "invalid_client"})
    other = make_client("ABotherapp", "other-secret")
    assert other.revoke(token=victim.refresh_token) is True  # 200, as for any token it does not own
    assert other.revoke(token=victim.access_token) is True
    assert_authorized(qbo, victim.access_token)
    victim.refresh()
    assert_authorized(qbo, victim.access_token)
    response = requests.post(
        f"{qbo.url}/v2/oauth2/tokens/revoke", data=b"not json", auth=(CLIENT_ID, SECRET), timeout=5
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})
