"""A tenant sets its sync settings, runs the initial sync after its dry-run summary and works its review
queue, in a real browser, against the stack started as `make run` starts it: an Online tenant connected
through the sandbox and the Desktop demo tenant, whose Web Connector the test runs. Each page passes
axe-core's checks; the screenshots in docs/screenshots/ are made here."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import LocalProcess
from tests.e2e.dashboard_pages import (
    api,
    assert_accessible,
    connect_online,
    dashboard,
    fits_320_pixels,
    screenshot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DEMO = "demo-qbd"


@pytest.fixture(scope="module")
def online(stack: LocalProcess) -> str:
    """An Online tenant connected through the sandbox, its lists read."""
    created = api(stack, "POST", "/v1/tenants", {"id": "acme", "name": "Acme Plumbing", "edition": "qbo"})
    assert created.status_code == 201
    connect_online(stack, "acme")
    until(lambda: dry_run(stack, "acme")["lists_read"], "the sandbox's lists were not read")
    return "acme"


@pytest.fixture(scope="module")
def desktop(stack: LocalProcess) -> str:
    """The Desktop demo tenant, connected and its lists read at a Web Connector run."""
    until(
        lambda: web_connector_run(stack) and dry_run(stack, DEMO)["lists_read"],
        "the demo's lists were not read",
    )
    return DEMO


def until(done: Any, what: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def dry_run(stack: LocalProcess, tenant_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api(
        stack, "POST", f"/v1/tenants/{tenant_id}/initial-sync", {"dry_run": True}
    ).json()
    return answer


def web_connector_run(stack: LocalProcess) -> bool:
    """One run of the demo's Web Connector now, as if its schedule had come."""
    return httpx.post(f"{stack.qbd}/_qbd/connectors/1/run", timeout=60).status_code == 200


def settings(stack: LocalProcess, tenant_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api(stack, "GET", f"/v1/tenants/{tenant_id}/settings").json()
    return answer


def change_settings(stack: LocalProcess, browser: Browser, tenant_id: str, edition: str) -> None:
    """Review mode, the company's first terms, and (Desktop) the Web Connector interval; saved and stored."""
    before = settings(stack, tenant_id)
    page = dashboard(stack, browser, tenant_id, "/dashboard/settings")
    assert page.locator("h1").inner_text() == "Sync settings"
    page.get_by_label("Review: they wait as drafts in the review queue until you send them").check()
    terms = page.get_by_label("Terms of invoices that name none")
    first_terms = terms.locator("option").nth(1).get_attribute("value")
    assert first_terms, "the company's terms are offered"
    terms.select_option(first_terms)
    if edition == "desktop":
        page.get_by_label("Web Connector runs every (minutes)").fill("2")
    assert_accessible(page)
    screenshot(page, f"settings-{edition}")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url(f"{stack.api}/dashboard/settings?saved=1")
    version = before["version"] + 1
    assert page.get_by_role("status").inner_text() == f"Your settings were saved as version {version}."
    after = settings(stack, tenant_id)
    assert after["version"] == version
    assert after["settings"]["send_mode"] == "review"
    assert after["settings"]["default_payment_terms"] == first_terms
    if edition == "desktop":
        assert after["settings"]["web_connector_interval_minutes"] == 2
        assert after["settings"]["default_income_account"] == "Sales"  # kept as it was
    assert page.locator('input[value="review"]').is_checked()
    page.close()


def initial_sync(stack: LocalProcess, browser: Browser, tenant_id: str, edition: str) -> None:
    """Two customers waiting as drafts, the dry run's summary, Start, and the progress reaching 100 %."""
    for n, name in enumerate(("Ada Lovelace", "Grace Hopper"), 1):
        path = f"/v1/tenants/{tenant_id}/records/customer/{edition}-c{n}"
        assert api(stack, "PUT", path, {"display_name": f"{name} ({edition})"}).status_code == 201
        assert api(stack, "GET", path).json()["state"] == "draft"  # review mode: they wait
    page = dashboard(stack, browser, tenant_id, "/dashboard/initial-sync")
    row = page.locator('#summary tr[data-type="customer"]')
    assert int(row.locator('[data-count="to_create_in_quickbooks"]').inner_text()) >= 2
    assert (
        page.get_by_role("link", name="Change these settings").get_attribute("href") == "/dashboard/settings"
    )
    assert_accessible(page)
    screenshot(page, f"initial-sync-{edition}")

    page.get_by_role("button", name="Start the initial sync").click()
    page.wait_for_url(f"{stack.api}/dashboard/initial-sync")
    bar = page.locator("#progress-customer")
    assert bar.count() == 1
    deadline = time.monotonic() + 45
    step = page.locator("#step")
    while step.inner_text() != "Done":  # the page's script updates the step and the bars
        assert time.monotonic() < deadline, page.locator("#note").inner_text()
        if edition == "desktop":
            web_connector_run(stack)  # the Web Connector reads and sends at its runs
        time.sleep(0.5)
    assert bar.get_attribute("value") == "100"
    assert bar.text_content() == "100 %"
    status = api(stack, "GET", f"/v1/tenants/{tenant_id}/initial-sync").json()
    assert status["state"] == "done"
    for n in (1, 2):
        record = api(stack, "GET", f"/v1/tenants/{tenant_id}/records/customer/{edition}-c{n}").json()
        assert record["state"] == "synced", record
    page.close()


def review_queue(stack: LocalProcess, browser: Browser, tenant_id: str, edition: str) -> None:
    """A draft waits in the review queue; the tenant ticks it and sends it, and it reaches QuickBooks."""
    path = f"/v1/tenants/{tenant_id}/records/customer/{edition}-c3"
    assert api(stack, "PUT", path, {"display_name": f"Alan Turing ({edition})"}).status_code == 201
    page = dashboard(stack, browser, tenant_id, "/dashboard/review?type=customer")
    page.get_by_label(f"Select Alan Turing ({edition})").check()
    assert_accessible(page)
    screenshot(page, f"review-{edition}")
    page.get_by_role("button", name="Send selected").click()
    page.wait_for_url(f"{stack.api}/dashboard/review?**")
    said = page.locator("#results").inner_text()
    assert f"Customer Alan Turing ({edition}): sent" in said
    deadline = time.monotonic() + 30
    while api(stack, "GET", path).json()["state"] != "synced":
        assert time.monotonic() < deadline, api(stack, "GET", path).json()
        if edition == "desktop":
            web_connector_run(stack)
        time.sleep(0.5)
    page.close()


def test_an_online_tenant_changes_a_setting_runs_the_initial_sync_to_100_percent_and_sends_a_draft(
    stack: LocalProcess, browser: Browser, online: str
) -> None:
    change_settings(stack, browser, online, "online")
    initial_sync(stack, browser, online, "online")
    review_queue(stack, browser, online, "online")


def test_a_desktop_tenant_changes_a_setting_runs_the_initial_sync_to_100_percent_and_sends_a_draft(
    stack: LocalProcess, browser: Browser, desktop: str
) -> None:
    change_settings(stack, browser, desktop, "desktop")
    initial_sync(stack, browser, desktop, "desktop")
    review_queue(stack, browser, desktop, "desktop")


def test_the_settings_initial_sync_and_review_pages_fit_a_320_pixel_screen(
    stack: LocalProcess, browser: Browser, online: str
) -> None:
    page = dashboard(stack, browser, online, width=320)
    fits_320_pixels(page, ("/dashboard/settings", "/dashboard/initial-sync", "/dashboard/review"), stack.api)
    page.close()
