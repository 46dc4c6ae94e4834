"""What the dashboard's browser tests share: calls to the running stack's API, connecting an Online tenant
through the sandbox's consent page, opening a tenant's dashboard from its link, axe-core's check, and the
screenshots of docs/screenshots/ (what changes from run to run masked, so that a run leaves the files
unchanged unless a page changed)."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import ROOT, LocalProcess

SCREENSHOTS = ROOT / "docs" / "screenshots"
SANDBOX_REALM = "9341453009463815"  # Sandbox Company_US_1
# What differs from one run to the next: the times shown, and Desktop's ids (a ListID or TxnID ends with the
# Unix time of its creation: "8000001E-1796089254").
TIMES = "time, #as-of, #run-finished"
DESKTOP_ID = re.compile(r"\b[0-9A-F]{8}-\d{10}\b")


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


def dashboard(
    stack: LocalProcess, browser: Browser, tenant_id: str, path: str = "/dashboard", width: int = 1024
) -> Page:
    """A new page signed in through a fresh dashboard link, at `path`."""
    link = api(stack, "POST", f"/v1/tenants/{tenant_id}/dashboard-links").json()["url"]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(link)
    assert page.url == f"{stack.api}/dashboard"  # the link answers 303 to the Overview with the cookie
    if path != "/dashboard":
        page.goto(f"{stack.api}{path}")
    return page


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png: the whole page, what changes from run to run masked."""
    changing = [page.locator(TIMES), page.get_by_text(DESKTOP_ID)]
    path = str(SCREENSHOTS / f"{name}.png")
    page.screenshot(path=path, full_page=True, mask=changing, mask_color="#e4e4e4")


def fits_320_pixels(page: Page, paths: tuple[str, ...], base: str) -> None:
    """Each page of `paths`, 320 pixels wide, scrolls nowhere sideways."""
    page.set_viewport_size({"width": 320, "height": 900})
    for path in paths:
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
