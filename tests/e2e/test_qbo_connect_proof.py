"""A connection is claimed only for the company its tokens open, and ends as soon as QuickBooks refuses it:
the local stack as `make run` starts it, the callback and the API over HTTP against the QBO sandbox."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from local import stack as local_stack
from local.connect import connect_qbo, consent
from qbsync import composition
from qbsync.domain.connections import ConnectionStatus, QboAuthenticationError

pytestmark = pytest.mark.e2e


def register(stack: local_stack.RunningStack, tenant_id: str) -> None:
    httpx.post(
        f"{stack.api_url}/v1/tenants",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        json={"id": tenant_id, "name": tenant_id, "edition": "qbo"},
    ).raise_for_status()


def with_realm(callback_url: str, realm_id: str) -> str:
    parts = urlsplit(callback_url)
    query = {**dict(parse_qsl(parts.query)), "realmId": realm_id}
    return parts._replace(query=urlencode(query)).geturl()


def connection(stack: local_stack.RunningStack, tenant_id: str) -> dict[str, object]:
    answer = httpx.get(
        f"{stack.api_url}/v1/tenants/{tenant_id}/connection",
        headers={"Authorization": f"Bearer {stack.api_key}"},
    )
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


def test_a_callback_with_another_companys_realm_id_is_refused_and_claims_nothing(
    running: local_stack.RunningStack,
) -> None:
    sandbox = running.qbo.sandbox
    victim_books = sandbox.add_company("Victim Books").realm_id
    own_books = sandbox.add_company("Mallory Books").realm_id
    register(running, "victim")
    register(running, "mallory")

    # Mallory approves her own company at Intuit, then edits realmId in the callback to the victim's.
    forged = httpx.get(with_realm(consent(running, "mallory", own_books), victim_books))
    assert forged.status_code == 403
    assert "QuickBooks did not confirm this company" in forged.text
    assert "Nothing was stored" in forged.text
    assert composition.container().qbo_tokens.load("mallory") is None
    assert composition.container().realms.tenant_for_realm(victim_books) is None  # webhooks go nowhere
    refused = connection(running, "mallory")
    assert (refused["status"], refused["realm_id"]) == ("not_connected", None)

    # The company's owner connects it as if nothing had happened.
    answer = httpx.get(consent(running, "victim", victim_books))
    assert answer.status_code == 200, answer.text
    assert "Victim Books" in answer.text
    assert composition.container().realms.tenant_for_realm(victim_books) == "victim"


def test_an_api_401_right_after_a_refresh_moves_the_connection_to_needs_reauth(
    running: local_stack.RunningStack,
) -> None:
    realm = connect_qbo(running, "refused")
    before = [e for e in running.qbo.sandbox.token_requests if e["grant_type"] == "refresh_token"]
    # QuickBooks refuses the tenant's access token, and the one the refresh gives too.
    fault = {"kind": "status", "status": 401, "count": 2, "path_contains": "/companyinfo/"}
    assert httpx.post(f"{running.qbo.url}/_sandbox/faults", json=fault).status_code == 201
    with pytest.raises(QboAuthenticationError):
        composition.container().qbo.get("refused", f"companyinfo/{realm}")
    after = [e for e in running.qbo.sandbox.token_requests if e["grant_type"] == "refresh_token"]
    assert len(after) - len(before) == 1
    stored = composition.container().connections.get("refused")
    assert stored.status is ConnectionStatus.NEEDS_REAUTH
    assert stored.last_error is not None
    assert stored.last_error.code == "access_refused"
    assert connection(running, "refused")["status"] == "needs_reauth"
    feed = httpx.get(
        f"{running.api_url}/v1/tenants/refused/events",
        headers={"Authorization": f"Bearer {running.api_key}"},
    ).json()["items"]
    changes = [e["detail"]["status"] for e in feed if e["type"] == "connection.changed"]
    assert changes[-1] == "needs_reauth"
