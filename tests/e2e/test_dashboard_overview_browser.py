"""A tenant opens its dashboard in a real browser, against the stack started as `make run` starts it: sees its
connection and counts, sends a failed record again, and the page passes axe-core's checks. The screenshots in
docs/screenshots/ are made here."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ROOT, LocalProcess, start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCREENSHOTS = ROOT / "docs" / "screenshots"
SANDBOX_REALM = "9341453009463815"  # Sandbox Company_US_1


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalProcess]:
    started = start_local_stack()
    yield started
    started.kill()


def api(stack: LocalProcess, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{stack.api}{path}", headers=stack.headers(), json=body, timeout=30)


def connect_online(stack: LocalProcess, tenant_id: str) -> None:
    """Connect through the connect link and the sandbox's consent page, as the tenant's browser would."""
    link = api(stack, "POST", f"/v1/tenants/{tenant_id}/connect-links").json()["url"]
    to_intuit = httpx.get(f"{link}/start").headers["location"]
    form = dict(re.findall(r"name='(\w+)' value='([^']*)'", httpx.get(to_intuit).text))
    form |= {"realm_id": SANDBOX_REALM, "decision": "connect"}
    callback = httpx.post(f"{stack.qbo}/connect/oauth2", data=form).headers["location"]
    assert httpx.get(callback).status_code == 200


def wait_for_state(stack: LocalProcess, path: str, state: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record: dict[str, Any] = api(stack, "GET", path).json()
        if record["state"] == state or time.monotonic() > deadline:
            assert record["state"] == state, record
            return record
        time.sleep(0.5)


def assert_accessible(page: Page) -> None:
    """axe-core in the page: no violation of impact serious or critical."""
    results = Axe().run(page)
    grave = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not grave, results.generate_report()


def dashboard(stack: LocalProcess, browser: Browser, tenant_id: str, width: int = 1024) -> Page:
    link = api(stack, "POST", f"/v1/tenants/{tenant_id}/dashboard-links").json()["url"]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(link)
    assert page.url == f"{stack.api}/dashboard"
    return page


def test_a_tenant_sees_its_connection_and_counts_and_sends_a_failed_record_again(
    stack: LocalProcess, browser: Browser
) -> None:
    created = api(stack, "POST", "/v1/tenants", {"id": "acme", "name": "Acme Plumbing", "edition": "qbo"})
    assert created.status_code == 201
    connect_online(stack, "acme")
    # QuickBooks refuses the first customer once (a business validation error: the record fails, to fix).
    fault = {"kind": "status", "status": 400, "code": "6000", "count": 1, "path_contains": "batch"}
    assert httpx.post(f"{stack.qbo}/_sandbox/faults", json=fault).status_code == 201
    record = "/v1/tenants/acme/records/customer/c-1"
    assert api(stack, "PUT", record, {"display_name": "Ada Lovelace"}).status_code == 201
    failed = wait_for_state(stack, record, "failed")
    assert api(
        stack, "PUT", "/v1/tenants/acme/records/customer/c-2", {"display_name": "Grace Hopper"}
    ).is_success
    wait_for_state(stack, "/v1/tenants/acme/records/customer/c-2", "synced")

    page = dashboard(stack, browser, "acme")
    assert page.locator("h1").inner_text() == "QuickBooks sync for Acme Plumbing"
    assert page.locator("#connection-state").inner_text() == "Connected"
    assert page.locator("#company").inner_text() == "Sandbox Company_US_1"
    row = page.locator('#counts tr[data-type="customer"]')
    assert row.locator('[data-count="synced"]').inner_text() == "1"
    assert row.locator('[data-count="failed"]').inner_text() == "1"
    item = page.locator('li[data-record="customer/c-1"]')
    assert failed["failure"]["message"] in item.inner_text()
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "overview-online.png"), full_page=True)

    item.get_by_role("button", name="Send again Customer Ada Lovelace").click()
    page.wait_for_url(f"{stack.api}/dashboard?sent=customer/c-1")
    assert "was sent again" in page.get_by_role("status").inner_text()
    assert page.locator('li[data-record="customer/c-1"]').count() == 0
    wait_for_state(stack, record, "synced")
    page.close()


def test_the_overview_fits_a_320_pixel_screen_and_passes_axe(stack: LocalProcess, browser: Browser) -> None:
    page = dashboard(stack, browser, "acme", width=320)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.close()


def test_a_desktop_tenant_sees_its_web_connector(stack: LocalProcess, browser: Browser) -> None:
    deadline = time.monotonic() + 90  # the demo's Web Connector runs every minute; its first run connects
    while api(stack, "GET", "/v1/tenants/demo-qbd/connection").json()["status"] != "connected":
        assert time.monotonic() < deadline, "the demo Web Connector did not run"
        time.sleep(1)
    page = dashboard(stack, browser, "demo-qbd")
    assert page.locator("#connection-state").inner_text() == "Connected"
    assert "demo-qbd" in page.locator("main").inner_text()
    assert page.locator("#qwc").get_attribute("href") == "/dashboard/web-connector.qwc"
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "overview-desktop.png"), full_page=True)
    page.close()
