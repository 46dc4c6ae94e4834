"""The tenant's dashboard through the local API Gateway, as a browser uses it: a link from the host app, the
session cookie it sets, pages that show the session's tenant only, and forms that need the session's CSRF
token."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import boto3
import pytest

from local import template as tpl
from local.apigw import GatewayResponse, HttpApi
from local.aws import LocalStack, provision
from local.lambdas import LocalFunction
from local.stack import load_functions, shared_environment
from tests.handlers.conftest import Gateway

ORIGIN = "https://app.example.com"


@dataclass
class TenantBrowser:
    """A browser on the dashboard: it keeps the session cookie it is given and sends it back."""

    api: HttpApi
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    def go(
        self, method: str, path: str, form: Mapping[str, str | list[str]] | None = None
    ) -> GatewayResponse:
        headers = [("host", "localhost:3000")]
        if self.cookies:
            headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()  # a list: one field per value (checkboxes)
            headers.append(("content-type", "application/x-www-form-urlencoded"))
        answer = self.api.handle(method, path, headers, body)
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                self.set_cookies.append(value)
                cookie_name, _, cookie_value = value.split(";", 1)[0].partition("=")
                self.cookies[cookie_name] = cookie_value
        return answer

    def page(self, path: str) -> tuple[int, str]:
        answer = self.go("GET", path)
        return answer.status, answer.body.decode()

    def open(self, url: str) -> GatewayResponse:
        return self.go("GET", re.sub(r"^https?://[^/]+", "", url))


def header(answer: GatewayResponse, name: str) -> str:
    return next(v for k, v in answer.headers if k.lower() == name.lower())


def create_tenant(gateway: Gateway, tenant_id: str, name: str, edition: str = "qbo") -> None:
    status, _ = gateway.json("POST", "/v1/tenants", {"id": tenant_id, "name": name, "edition": edition})
    assert status == 201


def dashboard_link(gateway: Gateway, tenant_id: str, **body: object) -> str:
    status, link = gateway.json("POST", f"/v1/tenants/{tenant_id}/dashboard-links", body or b"")
    assert status == 201, link
    return str(link["url"])


def failed_customer(gateway: Gateway, tenant_id: str, record_id: str, name: str) -> None:
    """A customer QuickBooks refused: its name is taken."""
    from qbsync.composition import container
    from qbsync.domain.sync import Failure

    status, _ = gateway.json(
        "PUT", f"/v1/tenants/{tenant_id}/records/customer/{record_id}", {"display_name": name}
    )
    assert status == 201
    store = container().record_store
    record = store.get(tenant_id, "customer", record_id)
    assert record is not None
    failed = record.copy()
    failed.fail(
        Failure(
            "6240", f"Another customer is already called {name}.", ("rename", "link_existing"), "display_name"
        ),
        record.updated_at,
    )
    store.save(failed, record.revision, record.state)


def signed_in(gateway: Gateway, tenant_id: str, **link: object) -> TenantBrowser:
    browser = TenantBrowser(gateway.api)
    answer = browser.open(dashboard_link(gateway, tenant_id, **link))
    assert answer.status == 303
    return browser


def refused_read_only(
    gateway: Gateway, tenant_id: str, page: str, action: str, form: Mapping[str, str]
) -> str:
    """A read-only session of the tenant: its `page`, which draws no form or button, and a POST of `form` to
    `action` with the session's own CSRF token, refused (403, said in words). The page's HTML."""
    from qbsync.composition import container
    from qbsync.usecases.dashboard import csrf_token

    reader = signed_in(gateway, tenant_id, read_only=True)
    html = reader.page(page)[1]
    assert "<form" not in html
    assert "<button" not in html
    session = container().dashboard.session(reader.cookies["qbsync_session"])
    assert session is not None
    assert session.read_only
    answer = reader.go("POST", action, {**form, "csrf_token": csrf_token(session)})  # even the right token
    assert answer.status == 403
    assert "This dashboard is read-only" in answer.body.decode()
    return html


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return unescape(found.group(1))


@pytest.fixture
def embedded(aws_env: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """The stack deployed with DashboardFrameAncestors naming the host app's origin."""
    from qbsync import composition
    from qbsync.composition import container
    from qbsync.usecases.apikeys import issue_api_key

    stack = provision(
        boto3.Session(), stack_name="qbsync-embedded", parameters={"DashboardFrameAncestors": ORIGIN}
    )
    for key, value in shared_environment(stack).items():
        monkeypatch.setenv(key, value)
    composition.container.cache_clear()
    functions: dict[str, LocalFunction] = load_functions(stack)
    c = container()
    key, _ = issue_api_key(c.api_keys, c.clock, label="host-app")
    template = tpl.load()
    return Gateway(HttpApi(tpl.routes(template), tpl.http_api_auth(template)[1], functions), key)


# ---------------------------------------------------------------------- links


def test_a_dashboard_link_is_created_for_an_hour_unless_asked_otherwise(gateway: Gateway) -> None:
    from qbsync.composition import container

    create_tenant(gateway, "acme", "Acme Plumbing")
    before = container().clock.now()
    status, link = gateway.json("POST", "/v1/tenants/acme/dashboard-links")
    assert status == 201
    assert set(link) == {"url", "expires_at", "read_only"}
    assert re.fullmatch(r"https?://[^/]+/dashboard/[A-Za-z0-9_-]{43}", link["url"]), link["url"]
    assert link["read_only"] is False
    from datetime import datetime

    lasts = datetime.fromisoformat(link["expires_at"]) - before
    assert timedelta(minutes=59) < lasts <= timedelta(hours=1, seconds=5)

    status, short = gateway.json(
        "POST", "/v1/tenants/acme/dashboard-links", {"read_only": True, "ttl_seconds": 60}
    )
    assert (status, short["read_only"]) == (201, True)
    assert datetime.fromisoformat(short["expires_at"]) - before <= timedelta(seconds=65)
    assert short["url"] != link["url"]


def test_a_dashboard_link_for_an_unknown_tenant_is_404(gateway: Gateway) -> None:
    status, content_type, body = gateway.request("POST", "/v1/tenants/nobody/dashboard-links", b"")
    assert (status, content_type) == (404, "application/problem+json")
    assert "No tenant with id 'nobody'" in json.loads(body)["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"ttl_seconds": 59},
        {"ttl_seconds": 86401},
        {"ttl_seconds": "soon"},
        {"read_only": "maybe"},
        {"scope": 1},
    ],
)
def test_a_dashboard_link_with_a_bad_lifetime_or_field_is_422(
    gateway: Gateway, body: dict[str, object]
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    status, content_type, raw = gateway.request("POST", "/v1/tenants/acme/dashboard-links", body)
    assert (status, content_type) == (422, "application/problem+json")
    assert json.loads(raw)["errors"]


# ---------------------------------------------------------------------- the first visit


def test_the_first_visit_sets_a_lax_session_cookie_and_redirects_to_the_overview(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = TenantBrowser(gateway.api)
    answer = browser.open(dashboard_link(gateway, "acme"))
    assert answer.status == 303
    assert header(answer, "Location") == "/dashboard"
    (cookie,) = browser.set_cookies
    name_value, *attributes = [part.strip() for part in cookie.split(";")]
    assert re.fullmatch(r"qbsync_session=[A-Za-z0-9_-]{43}", name_value)
    assert {"Path=/dashboard", "HttpOnly", "Secure", "SameSite=Lax"} <= set(attributes)
    assert "Partitioned" not in attributes
    max_age = int(next(a for a in attributes if a.startswith("Max-Age=")).removeprefix("Max-Age="))
    assert 3500 < max_age <= 3600  # the link's hour, within the session's 8 hours

    status, html = browser.page("/dashboard")
    assert status == 200
    assert "QuickBooks sync for Acme Plumbing" in html


def test_an_embeddable_dashboard_sets_a_partitioned_cross_site_cookie_and_names_the_host_in_its_csp(
    embedded: Gateway,
) -> None:
    create_tenant(embedded, "acme", "Acme Plumbing")
    browser = TenantBrowser(embedded.api)
    answer = browser.open(dashboard_link(embedded, "acme"))
    assert answer.status == 303
    attributes = {part.strip() for part in browser.set_cookies[0].split(";")}
    assert {"HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/dashboard"} <= attributes
    page = browser.go("GET", "/dashboard")
    assert page.status == 200
    csp = header(page, "Content-Security-Policy")
    assert f"frame-ancestors {ORIGIN};" in csp
    assert "default-src 'self'" in csp
    assert not any(k.lower() == "x-frame-options" for k, _ in page.headers)


def test_every_dashboard_answer_carries_the_security_headers(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    for answer in (
        browser.go("GET", "/dashboard"),
        browser.go("GET", "/dashboard/progress.json"),
        browser.go("GET", "/dashboard/not-a-link"),
        TenantBrowser(gateway.api).go("GET", "/dashboard"),
    ):
        assert "default-src 'self'; frame-ancestors 'none';" in header(answer, "Content-Security-Policy")
        assert "unsafe-inline" not in header(answer, "Content-Security-Policy")
        assert header(answer, "X-Content-Type-Options") == "nosniff"
        assert header(answer, "Referrer-Policy") == "no-referrer"
        assert header(answer, "Cache-Control") == "no-store"
        assert header(answer, "X-Frame-Options") == "DENY"


def test_a_forged_or_unknown_dashboard_link_gets_a_page_saying_to_ask_for_a_new_one(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    real = dashboard_link(gateway, "acme").rsplit("/", 1)[1]
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    for token in (forged, "not-a-real-link"):
        browser = TenantBrowser(gateway.api)
        answer = browser.go("GET", f"/dashboard/{token}")
        assert answer.status == 404
        assert "This dashboard link is not valid" in answer.body.decode()
        assert "Ask qbsync for a new dashboard link" in answer.body.decode()
        assert browser.set_cookies == []


def test_an_expired_dashboard_link_is_refused(gateway: Gateway) -> None:
    from qbsync.composition import container
    from qbsync.domain.dashboard import DashboardLink
    from qbsync.usecases.connect import digest

    create_tenant(gateway, "acme", "Acme Plumbing")
    c = container()
    c.dashboard.links.add(
        DashboardLink(digest("expired-token"), "acme", c.clock.now() - timedelta(seconds=1), False)
    )
    browser = TenantBrowser(gateway.api)
    answer = browser.go("GET", "/dashboard/expired-token")
    assert answer.status == 404
    assert "This dashboard link is not valid" in answer.body.decode()
    assert browser.set_cookies == []


def test_a_connect_link_does_not_open_the_dashboard(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    status, link = gateway.json("POST", "/v1/tenants/acme/connect-links")
    assert status == 201
    token = link["url"].rsplit("/", 1)[1]
    assert TenantBrowser(gateway.api).go("GET", f"/dashboard/{token}").status == 404


# ---------------------------------------------------------------------- sessions


def test_a_page_without_a_live_session_asks_to_open_the_link_again(gateway: Gateway) -> None:
    from qbsync.composition import container
    from qbsync.domain.dashboard import DashboardSession
    from qbsync.usecases.connect import digest

    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    c = container()
    c.dashboard.sessions.add(
        DashboardSession(digest("ended"), "acme", c.clock.now() - timedelta(seconds=1), False, "secret")
    )
    for cookies in ({}, {"qbsync_session": "made-up"}, {"qbsync_session": "ended"}):
        browser = TenantBrowser(gateway.api, dict(cookies))
        for path in ("/dashboard", "/dashboard/records/customer/c-1"):
            status, html = browser.page(path)
            assert status == 401, (cookies, path)
            assert "Please open your dashboard link again" in html
            assert "Ada Lovelace" not in html
        assert browser.go("GET", "/dashboard/progress.json").status == 401


def test_a_link_opened_twice_opens_two_sessions_of_its_tenant(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    url = dashboard_link(gateway, "acme")
    first, second = TenantBrowser(gateway.api), TenantBrowser(gateway.api)
    assert first.open(url).status == second.open(url).status == 303
    assert first.cookies["qbsync_session"] != second.cookies["qbsync_session"]
    assert "Acme Plumbing" in second.page("/dashboard")[1]


# ---------------------------------------------------------------------- forms


def test_send_again_needs_the_sessions_csrf_token_and_then_sends_the_record(gateway: Gateway) -> None:
    from qbsync.composition import container

    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    browser = signed_in(gateway, "acme")
    status, html = browser.page("/dashboard")
    assert status == 200
    token = csrf_of(html)
    action = "/dashboard/records/customer/c-1/send"
    assert f'action="{action}"' in html

    other = signed_in(gateway, "acme")  # another session of the same tenant: another token
    other_token = csrf_of(other.page("/dashboard")[1])
    assert other_token != token
    for form in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": other_token}):
        answer = browser.go("POST", action, form)
        assert answer.status == 403, form
        assert "This form could not be sent" in answer.body.decode()
    stored = container().record_store.get("acme", "customer", "c-1")
    assert stored is not None
    assert stored.state.value == "failed"

    answer = browser.go("POST", action, {"csrf_token": token})
    assert answer.status == 303
    assert header(answer, "Location") == "/dashboard?sent=customer/c-1"
    stored = container().record_store.get("acme", "customer", "c-1")
    assert stored is not None
    assert stored.state.value == "pending"
    assert stored.history[-1].detail == "sent by the tenant"
    status, html = browser.page("/dashboard?sent=customer/c-1")
    assert 'role="status"' in html
    assert "was sent again" in html
    assert 'data-record="customer/c-1"' not in html
    assert "No record has failed." in html


def test_a_read_only_session_draws_no_form_and_cannot_post(gateway: Gateway) -> None:
    from qbsync.composition import container
    from qbsync.usecases.dashboard import csrf_token

    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    browser = signed_in(gateway, "acme", read_only=True)
    status, html = browser.page("/dashboard")
    assert status == 200
    assert "<form" not in html
    assert "<button" not in html
    assert "read-only" in html
    assert "<form" not in browser.page("/dashboard/records/customer/c-1")[1]
    c = container()
    session = c.dashboard.session(browser.cookies["qbsync_session"])
    assert session is not None
    assert session.read_only
    for path in ("/dashboard/records/customer/c-1/send", "/dashboard/reconnect"):
        answer = browser.go("POST", path, {"csrf_token": csrf_token(session)})  # even with the right token
        assert answer.status == 403
        assert "This dashboard is read-only" in answer.body.decode()
    stored = c.record_store.get("acme", "customer", "c-1")
    assert stored is not None
    assert stored.state.value == "failed"


def test_reconnect_gives_a_fresh_connect_link_of_the_sessions_tenant(gateway: Gateway) -> None:
    from qbsync.composition import container

    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page("/dashboard")[1])
    answer = browser.go("POST", "/dashboard/reconnect", {"csrf_token": token})
    assert answer.status == 303
    location = header(answer, "Location")
    assert re.fullmatch(r"https?://[^/]+/connect/[A-Za-z0-9_-]{43}", location), location
    tenant = container().onboarding.tenant_of_link(location.rsplit("/", 1)[1])
    assert tenant is not None
    assert tenant.id == "acme"


# ---------------------------------------------------------------------- one tenant's data only


def test_a_tenants_pages_never_show_another_tenants_records(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    create_tenant(gateway, "bravo", "Bravo Bakery")
    failed_customer(gateway, "acme", "acme-c1", "Ada Lovelace")
    failed_customer(gateway, "bravo", "bravo-c1", "Grace Hopper")
    status, _ = gateway.json(
        "PUT", "/v1/tenants/bravo/records/item/bravo-i1", {"kind": "service", "name": "Sourdough"}
    )
    assert status == 201
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page("/dashboard")[1])
    seen = [
        browser.page("/dashboard")[1],
        browser.page("/dashboard/records/customer/acme-c1")[1],
        browser.page("/dashboard/progress.json")[1],
        browser.page("/dashboard?sent=customer/bravo-c1")[1],
    ]
    for text in seen:
        for other in ("bravo", "Bravo Bakery", "Grace Hopper", "Sourdough", '"item"'):
            assert other not in text
    assert "Ada Lovelace" in seen[0]
    assert browser.page("/dashboard/records/customer/bravo-c1")[0] == 404
    assert (
        browser.go("POST", "/dashboard/records/customer/bravo-c1/send", {"csrf_token": token}).status == 404
    )
    from qbsync.composition import container

    untouched = container().record_store.get("bravo", "customer", "bravo-c1")
    assert untouched is not None
    assert untouched.state.value == "failed"


# ---------------------------------------------------------------------- what the Overview shows


def test_the_overview_counts_records_by_type_and_state(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    for record_id in ("c-2", "c-3"):
        status, _ = gateway.json(
            "PUT", f"/v1/tenants/acme/records/customer/{record_id}", {"display_name": record_id}
        )
        assert status == 201
    browser = signed_in(gateway, "acme")
    html = browser.page("/dashboard")[1]
    assert "<caption" in html
    row = re.search(r'<tr data-type="customer">(.*?)</tr>', html, re.S)
    assert row is not None
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', row.group(1)))
    assert counts == {"synced": "0", "pending": "2", "failed": "1", "draft": "0", "ignored": "0"}
    status, raw = browser.page("/dashboard/progress.json")
    doc = json.loads(raw)
    assert doc["running"] is True  # the script asks again while records are pending
    counts = {key: value for key, value in doc["text"].items() if key.startswith("count-customer-")}
    assert counts == {
        "count-customer-synced": "0",
        "count-customer-pending": "2",
        "count-customer-failed": "1",
        "count-customer-draft": "0",
        "count-customer-ignored": "0",
    }
    assert doc["bars"] == {"bar-customer": {"value": 0, "text": "0 %", "valuetext": "0 %"}}
    assert doc["every"] == 5000  # 3 records: the page asks every 5 seconds


def test_a_desktop_tenants_overview_shows_its_web_connector_and_offers_the_qwc(gateway: Gateway) -> None:
    create_tenant(gateway, "acme-qbd", "Acme Desktop", edition="qbd")
    browser = signed_in(gateway, "acme-qbd")
    html = browser.page("/dashboard")[1]
    assert "No Web Connector password has been issued yet" in html
    assert "/dashboard/reconnect" not in html
    assert browser.go("GET", "/dashboard/web-connector.qwc").status == 404
    status, _ = gateway.json("POST", "/v1/tenants/acme-qbd/web-connector")
    assert status == 201
    html = browser.page("/dashboard")[1]
    assert "<code>acme-qbd</code>" in html
    assert "10 min" in html
    assert 'href="/dashboard/web-connector.qwc"' in html
    download = browser.go("GET", "/dashboard/web-connector.qwc")
    assert download.status == 200
    assert header(download, "Content-Disposition") == 'attachment; filename="acme-qbd.qwc"'
    assert b"<UserName>acme-qbd</UserName>" in download.body


def test_the_stylesheet_and_script_are_served_from_the_dashboard(gateway: Gateway) -> None:
    browser = TenantBrowser(gateway.api)
    css = browser.go("GET", "/dashboard/assets/dashboard.css")
    js = browser.go("GET", "/dashboard/assets/dashboard.js")
    assert (css.status, header(css, "Content-Type")) == (200, "text/css; charset=utf-8")
    assert (js.status, header(js, "Content-Type")) == (200, "text/javascript; charset=utf-8")
    assert b":focus-visible" in css.body
    assert b'getAttribute("data-live")' in js.body  # it reads the address from the page
