"""A tenant opens its dashboard in a real browser, against the stack started as `make run` starts it: sees its
connection and counts, sends a failed record again, and the page passes axe-core's checks. The screenshots in
docs/screenshots/ are made here."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import LocalProcess
from tests.e2e.dashboard_pages import (
    api,
    assert_accessible,
    connect_online,
    dashboard,
    screenshot,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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
    screenshot(page, "overview-online")

    item.get_by_role("button", name="Send again Customer Ada Lovelace").click()
    page.wait_for_url(f"{stack.api}/dashboard?sent=customer/c-1")
    assert "was sent again" in page.get_by_role("status").inner_text()
    assert page.locator('li[data-record="customer/c-1"]').count() == 0
    # The page's script keeps the counts live: blank the figures before it first asks (5 seconds after the
    # page loads), and it writes them again, without a reload, until nothing is pending.
    page.evaluate(
        "document.querySelectorAll('#counts td[data-count]').forEach(c => { c.textContent = '?'; })"
    )
    wait_for_state(stack, record, "synced")
    synced = row.locator('[data-count="synced"]')
    page.wait_for_function(
        "cell => cell.textContent === '2'", arg=synced.element_handle(), timeout=15_000
    )  # it asks every 5 seconds while records are pending, and once after the page loads
    assert page.locator("#percent-customer").inner_text() == "100 %"
    assert page.locator("#bar-customer").get_attribute("aria-valuetext") == "100 %"
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
    path = "/v1/tenants/demo-qbd/records/customer/d-overview"
    assert api(stack, "PUT", path, {"display_name": "Overview Customer"}).is_success
    counted = api(stack, "GET", "/v1/tenants/demo-qbd/status").json()["records"]["customer"]
    total = counted["total"] - counted["states"].get("voided", 0)  # the Overview leaves voided records out
    page = dashboard(stack, browser, "demo-qbd")
    assert page.locator("#connection-state").inner_text() == "Connected"
    cells = page.locator('#counts tr[data-type="customer"] [data-count]').all_inner_texts()
    assert sum(int(n) for n in cells) == total >= 1  # states move at Web Connector runs; the total does not
    assert "demo-qbd" in page.locator("main").inner_text()
    assert page.locator("#qwc").get_attribute("href") == "/dashboard/web-connector.qwc"
    assert_accessible(page)
    screenshot(page, "overview-desktop")
    page.close()
