"""A person connects a tenant in a real browser, against the stack started as `make run` starts it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import LocalProcess

pytestmark = pytest.mark.e2e


def new_link(stack: LocalProcess, tenant_id: str) -> str:
    created = httpx.post(
        f"{stack.api}/v1/tenants",
        headers=stack.headers(),
        json={"id": tenant_id, "name": f"{tenant_id.title()} Plumbing", "edition": "qbo"},
    )
    assert created.status_code == 201, created.text
    link = httpx.post(f"{stack.api}/v1/tenants/{tenant_id}/connect-links", headers=stack.headers())
    assert link.status_code == 201, link.text
    return str(link.json()["url"])


def test_a_tenant_connects_in_the_browser(stack: LocalProcess, browser: Browser) -> None:
    url = new_link(stack, "acme")
    page = browser.new_page()
    page.goto(url)
    assert page.locator("h1").inner_text() == "Connect Acme Plumbing to QuickBooks Online"
    page.click("#connect")
    page.wait_for_url(f"{stack.qbo}/connect/oauth2*")
    assert "Sandbox Company_US_1" in page.content()
    page.click("#connect")
    page.wait_for_url(f"{stack.api}/qbo/callback*")
    assert page.locator("h1").inner_text() == "Connected to QuickBooks"
    assert "Sandbox Company_US_1" in page.locator("main").inner_text()
    replay_url = page.url
    page.close()

    connection = httpx.get(f"{stack.api}/v1/tenants/acme/connection", headers=stack.headers()).json()
    assert connection["status"] == "connected"
    assert connection["company_name"] == "Sandbox Company_US_1"
    assert connection["realm_id"] == "9341453009463815"

    # Going back to the callback (a refresh, a double click) cannot exchange the code again.
    again = httpx.get(replay_url)
    assert again.status_code == 400
    assert "expired or was already used" in again.text
    assert httpx.get(f"{stack.api}/v1/tenants/acme/connection", headers=stack.headers()).json() == connection


def test_cancelling_at_intuit_says_so_and_offers_a_retry(stack: LocalProcess, browser: Browser) -> None:
    url = new_link(stack, "bravo")
    page = browser.new_page()
    page.goto(url)
    page.click("#connect")
    page.wait_for_url(f"{stack.qbo}/connect/oauth2*")
    page.click("#cancel")
    page.wait_for_url(f"{stack.api}/qbo/callback*")
    assert page.locator("h1").inner_text() == "QuickBooks was not connected"
    page.click("#retry")
    assert page.locator("h1").inner_text() == "Connect Bravo Plumbing to QuickBooks Online"
    page.close()
    connection = httpx.get(f"{stack.api}/v1/tenants/bravo/connection", headers=stack.headers()).json()
    assert connection["status"] == "not_connected"
    assert connection["last_error"]["code"] == "access_denied"


def test_tampered_state_is_refused_with_a_clear_page_and_nothing_stored(
    stack: LocalProcess, browser: Browser
) -> None:
    new_link(stack, "charlie")
    page = browser.new_page()
    page.goto(f"{stack.api}/qbo/callback?code=AB11forged&state=forged-state&realmId=9341453009463815")
    assert page.locator("h1").inner_text() == "This sign-in has expired or was already used"
    page.close()
    connection = httpx.get(f"{stack.api}/v1/tenants/charlie/connection", headers=stack.headers()).json()
    assert connection["status"] == "not_connected"


def test_an_unknown_link_gets_a_clear_page(stack: LocalProcess, browser: Browser) -> None:
    page = browser.new_page()
    response = page.goto(f"{stack.api}/connect/not-a-real-link")
    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This connect link is not valid"
    page.close()


def test_no_token_code_or_secret_reaches_the_logs(stack: LocalProcess) -> None:
    issued = httpx.get(f"{stack.qbo}/_sandbox/issued").json()
    secrets_seen = [
        *issued["codes"],
        *issued["access_tokens"],
        *issued["refresh_tokens"],
        *issued["client_secrets"],
    ]
    assert len(issued["codes"]) >= 1
    assert len(issued["refresh_tokens"]) >= 1
    logs = stack.stop()
    assert '"message":"API key accepted"' in logs  # the logs were captured, and they are the JSON lines
    for secret in secrets_seen:
        assert secret not in logs
    assert logs.count(stack.key) == 1  # printed once at start, never logged
