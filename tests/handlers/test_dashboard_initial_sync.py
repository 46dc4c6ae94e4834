"""The dashboard's Initial sync page through the local API Gateway: the dry run's summary before starting, the
Start button (POST /initial-sync), then the run's step, progress per type and errors."""

from __future__ import annotations

import json
import re

from tests.handlers.conftest import Gateway
from tests.handlers.test_dashboard import (
    create_tenant,
    csrf_of,
    failed_customer,
    header,
    refused_read_only,
    signed_in,
)

PATH = "/dashboard/initial-sync"


def lists_read(tenant_id: str, customers: tuple[str, ...] = ()) -> None:
    """The company's customers, vendors, employees and items read whole, as at connect."""
    from qbsync.composition import container
    from qbsync.domain.mirror import ListEntry, ListRead, ListType

    side = container().quickbooks_side
    for list_type in (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE, ListType.ITEM):
        names = customers if list_type is ListType.CUSTOMER else ()
        entries = [ListEntry(list_type, f"q{n}", name) for n, name in enumerate(names, 1)]
        side.take(tenant_id, ListRead(list_type, entries, complete=True))


def worker_matches(tenant_id: str) -> None:
    """What the worker's `initial_sync` job does: the matching step."""
    from qbsync.composition import container

    container().initial_syncs.advance(tenant_id, match=True)


def test_the_dry_run_summary_and_the_settings_it_follows_are_shown_before_starting(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    lists_read("acme", customers=("Grace Hopper",))
    for record_id, name in (("c-1", "Ada Lovelace"), ("c-2", "Grace Hopper")):
        status, _ = gateway.json(
            "PUT", f"/v1/tenants/acme/records/customer/{record_id}", {"display_name": name}
        )
        assert status == 201
    gateway.json(
        "PUT", "/v1/tenants/acme/settings", {"sync_since": "2026-01-01", "only_in_quickbooks": "create"}
    )
    _, dry = gateway.json("POST", "/v1/tenants/acme/initial-sync", {"dry_run": True})
    browser = signed_in(gateway, "acme")
    status, html = browser.page(PATH)
    assert status == 200
    row = re.search(r'<tr data-type="customer">(.*?)</tr>', html, re.S)
    assert row is not None
    shown = dict(re.findall(r'data-count="(\w+)">([^<]*)<', row.group(1)))
    expected = dry["counts"]["customer"]
    assert shown == {k: str(v) for k, v in expected.items() if k != "ignored_by_reason"}
    assert shown["in_app"] == "2"
    assert shown["matched"] == "1"  # Grace Hopper is already in QuickBooks
    invoice = re.search(r'<tr data-type="invoice">(.*?)</tr>', html, re.S)
    assert invoice is not None
    assert 'data-count="in_quickbooks">-<' in invoice.group(1)  # QuickBooks' documents are not read
    follows = re.search(r'<dl class="facts" id="follows">(.*?)</dl>', html, re.S)
    assert follows is not None
    assert "<dd>2026-01-01</dd>" in follows.group(1)
    assert "<dd>Create them in the app</dd>" in follows.group(1)
    assert 'href="/dashboard/settings"' in html
    assert 'action="/dashboard/initial-sync/start"' in html
    assert 'id="step"' not in html  # nothing runs yet
    assert gateway.json("GET", "/v1/tenants/acme/initial-sync")[0] == 404  # the page started nothing


def test_start_runs_the_initial_sync_then_the_page_shows_its_step_progress_and_a_refresh_link(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    lists_read("acme")
    gateway.json("PUT", "/v1/tenants/acme/records/customer/c-1", {"display_name": "Ada Lovelace"})
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(PATH)[1])
    answer = browser.go("POST", f"{PATH}/start", {"csrf_token": token})
    assert answer.status == 303
    assert header(answer, "Location") == PATH
    status, api = gateway.json("GET", "/v1/tenants/acme/initial-sync")
    assert (status, api["state"]) == (200, "running")
    html = browser.page(PATH)[1]
    assert re.search(r'<dd id="step">Matching</dd>', html)
    assert "Matching the app&#39;s records with QuickBooks&#39; lists" in html
    assert 'data-live="/dashboard/initial-sync.json" data-every="2000"' in html
    assert f'<a href="{PATH}">Refresh</a>' in html
    assert 'action="/dashboard/initial-sync/start"' not in html  # no Start while it runs
    # Before it sends, the records' states say nothing of its progress (a draft counts as settled): no value.
    assert '<progress id="progress-customer" max="100" aria-valuetext="Customer: not sending yet">' in html

    worker_matches("acme")
    html = browser.page(PATH)[1]
    assert re.search(r'<dd id="step">Sending</dd>', html)
    assert "1 record(s) left to send." in html
    bar = re.search(
        r'<label for="progress-customer">Customer</label>\s*<progress id="progress-customer" max="100" '
        r'value="(\d+)" aria-valuetext="Customer: 0 % done">',
        html,
    )
    assert bar is not None
    assert bar.group(1) == "0"
    doc = json.loads(browser.page(f"{PATH}.json")[1])
    assert doc["running"] is True
    assert doc["text"]["step"] == "Sending"
    assert doc["text"]["percent-customer"] == "0 %"
    assert doc["text"]["tally-customer"].startswith("0 synced, 0 failed, 0 ignored")
    assert doc["bars"] == {
        "progress-customer": {"value": 0, "text": "0 %", "valuetext": "Customer: 0 % done"}
    }


def test_starting_while_a_run_is_running_is_refused_in_words(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(PATH)[1])
    assert browser.go("POST", f"{PATH}/start", {"csrf_token": token}).status == 303
    answer = browser.go("POST", f"{PATH}/start", {"csrf_token": token})
    assert answer.status == 409
    html = answer.body.decode()
    assert re.search(r'role="alert"[^>]*>An initial sync is running already: it was not started again', html)
    assert re.search(r'<dd id="step">Reading QuickBooks&#39; lists</dd>', html)


def test_a_finished_initial_sync_says_done_at_100_percent(gateway: Gateway) -> None:
    from qbsync.composition import container

    create_tenant(gateway, "acme", "Acme Plumbing")
    lists_read("acme")
    gateway.json("PUT", "/v1/tenants/acme/records/customer/c-1", {"display_name": "Ada Lovelace"})
    browser = signed_in(gateway, "acme")
    assert browser.go("POST", f"{PATH}/start", {"csrf_token": csrf_of(browser.page(PATH)[1])}).status == 303
    worker_matches("acme")
    store = container().record_store
    record = store.get("acme", "customer", "c-1")
    assert record is not None
    synced = record.copy()
    synced.quickbooks_id = "58"
    synced.move(synced.state.SYNCED, record.updated_at, "accepted")
    store.save(synced, record.revision, record.state)
    html = browser.page(PATH)[1]
    assert re.search(r'<dd id="step">Done</dd>', html)
    assert 'value="100" aria-valuetext="Customer: 100 % done">100 %</progress>' in html
    assert "Done: every record is synced" in html
    assert "What running it again would do" in html  # and it may be started again
    assert json.loads(browser.page(f"{PATH}.json")[1])["running"] is False


def test_the_errors_list_is_paged_and_links_each_failed_record(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    for n in range(22):
        failed_customer(gateway, "acme", f"c-{n:02}", f"Customer {n:02}")
    browser = signed_in(gateway, "acme")
    assert browser.go("POST", f"{PATH}/start", {"csrf_token": csrf_of(browser.page(PATH)[1])}).status == 303
    html = browser.page(PATH)[1]
    first = re.findall(r'<li class="failure" data-record="customer/(c-\d+)">', html)
    assert len(first) == 20
    assert '<a href="/dashboard/records/customer/c-00">Customer “Customer 00”</a>' in html
    assert "Another customer is already called Customer 00." in html
    following = re.search(
        r'<a href="(/dashboard/initial-sync\?errors=[^"]+)" rel="next">Next errors</a>', html
    )
    assert following is not None
    html = browser.page(following.group(1).replace("&amp;", "&"))[1]
    rest = re.findall(r'<li class="failure" data-record="customer/(c-\d+)">', html)
    assert len(rest) == 2
    assert not set(rest) & set(first)
    status, html = browser.page(f"{PATH}?errors=not-a-cursor")
    assert status == 400
    assert "This page of errors does not exist" in html


def test_a_desktop_tenants_initial_sync_says_it_waits_for_the_web_connector(gateway: Gateway) -> None:
    create_tenant(gateway, "acme-qbd", "Acme Desktop", edition="qbd")
    browser = signed_in(gateway, "acme-qbd")
    assert browser.go("POST", f"{PATH}/start", {"csrf_token": csrf_of(browser.page(PATH)[1])}).status == 303
    html = browser.page(PATH)[1]
    assert "Waiting for the Web Connector" in html


def test_start_needs_the_csrf_token_and_a_session_that_may_change(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    for form in ({}, {"csrf_token": "0" * 64}):
        assert browser.go("POST", f"{PATH}/start", form).status == 403
    refused_read_only(gateway, "acme", PATH, f"{PATH}/start", {})
    assert gateway.json("GET", "/v1/tenants/acme/initial-sync")[0] == 404


def test_the_initial_sync_page_and_its_progress_show_only_the_sessions_tenant(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    create_tenant(gateway, "bravo", "Bravo Bakery")
    failed_customer(gateway, "bravo", "bravo-c1", "Grace Hopper")
    assert gateway.json("POST", "/v1/tenants/bravo/initial-sync")[0] == 202
    browser = signed_in(gateway, "acme")
    html = browser.page(PATH)[1]
    assert "Grace Hopper" not in html
    assert 'id="step"' not in html  # bravo's run is not acme's
    assert browser.page(f"{PATH}.json")[0] == 404
    assert browser.go("GET", f"{PATH}.json").status == 404
    anonymous = signed_in(gateway, "acme")
    anonymous.cookies.clear()
    assert anonymous.page(f"{PATH}.json")[0] == 401
