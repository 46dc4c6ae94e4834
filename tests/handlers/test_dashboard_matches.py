"""The match tabs and the record page's actions through the local API Gateway, as a browser uses them: each
form needs the session's CSRF token and a session that may change things, shows the session's tenant only,
and a refusal or bad input is a page saying what is wrong, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

import pytest

from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from tests.handlers.conftest import Gateway
from tests.handlers.test_dashboard import (
    TenantBrowser,
    create_tenant,
    csrf_of,
    failed_customer,
    header,
    signed_in,
)

TAB = "/dashboard/matches/customer"


def quickbooks_has(tenant_id: str, *entries: ListEntry) -> None:
    from qbsync.composition import container

    mirror = container().mirror
    mirror.put_many(tenant_id, list(entries))
    for list_type in {e.list_type for e in entries}:
        mirror.save_mark(tenant_id, ReadMark(list_type, loaded=True))


def stored(tenant_id: str, record_id: str, record_type: str = "customer"):  # type: ignore[no-untyped-def]
    from qbsync.composition import container

    record = container().record_store.get(tenant_id, record_type, record_id)
    assert record is not None
    return record


def seed(gateway: Gateway, tenant_id: str = "acme") -> None:
    """Records waiting as drafts (review mode), and QuickBooks' customers: Ada is found by email (linked at
    once), Grace by a similar name (a proposal), Acme by two equal names (a pick)."""
    assert gateway.json("PUT", f"/v1/tenants/{tenant_id}/settings", {"send_mode": "review"})[0] == 200
    quickbooks_has(
        tenant_id,
        ListEntry(ListType.CUSTOMER, "58", "Ada Lovelace Ltd", email="ada@example.com", version="2"),
        ListEntry(ListType.CUSTOMER, "59", "Grace Hopper Consulting", version="1"),
        ListEntry(ListType.CUSTOMER, "60", "Acme Plumbing", version="1"),
        ListEntry(ListType.CUSTOMER, "61", "ACME Plumbing, Inc.", version="1"),
        ListEntry(ListType.CUSTOMER, "62", "Old Customer", active=False, version="1"),
    )
    for record_id, data in [
        ("c-ada", {"display_name": "Ada L.", "email": "ada@example.com"}),
        ("c-grace", {"display_name": "Grase Hoper Consulting"}),
        ("c-acme", {"display_name": "Acme Plumbing"}),
        ("c-new", {"display_name": "Brand New Bakery"}),
    ]:
        status, _ = gateway.json("PUT", f"/v1/tenants/{tenant_id}/records/customer/{record_id}", data)
        assert status in (200, 201)


def matched(browser: TenantBrowser, run_jobs: Callable[[], int]) -> str:
    """Run automatch from the tab, let the worker do it, and answer the tab as it is then."""
    token = csrf_of(browser.page(TAB)[1])
    answer = browser.go("POST", f"{TAB}/run", {"csrf_token": token})
    assert answer.status == 303
    assert header(answer, "Location") == f"{TAB}?done=asked"
    status, html = browser.page(f"{TAB}?done=asked")
    assert status == 200
    assert "Automatch is waiting to start." in html
    assert 'data-live="/dashboard/match-run.json" data-every="2000" data-reload-when-done' in html
    live = json.loads(browser.page("/dashboard/match-run.json")[1])
    assert live == {
        "running": True,
        "text": {"match-run-state": "Automatch is waiting to start."},
        "bars": {},
    }
    assert run_jobs() >= 1
    status, html = browser.page(TAB)
    assert status == 200
    assert "Automatch is done." in html
    return html


def block_of(html: str, record_id: str) -> str:
    found = re.search(rf'<li class="failure" data-record="{record_id}">(.*?)</li>\n', html, re.S)
    assert found, html
    return unescape(found.group(1))


# ---------------------------------------------------------------------- the record page


def test_a_failed_record_renamed_on_its_page_is_pushed_with_the_new_name_and_waits_to_be_sent(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    browser = signed_in(gateway, "acme")
    status, html = browser.page("/dashboard/records/customer/c-1")
    assert status == 200
    assert 'action="/dashboard/records/customer/c-1/rename"' in html
    assert 'value="Ada Lovelace"' in html
    action = "/dashboard/records/customer/c-1/rename"
    assert browser.go("POST", action, {"name": "Ada Lovelace (London)"}).status == 403
    assert stored("acme", "c-1").data["display_name"] == "Ada Lovelace"

    answer = browser.go("POST", action, {"csrf_token": csrf_of(html), "name": " Ada Lovelace (London) "})
    assert answer.status == 303
    assert header(answer, "Location") == "/dashboard/records/customer/c-1?done=renamed"
    record = stored("acme", "c-1")
    assert record.data["display_name"] == "Ada Lovelace (London)"
    assert record.state.value == "pending"
    status, html = browser.page("/dashboard/records/customer/c-1?done=renamed")
    assert "The record was renamed." in html
    assert 'role="status"' in html


def test_a_rename_to_an_empty_or_taken_name_is_the_record_page_saying_why(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    assert (
        gateway.json("PUT", "/v1/tenants/acme/records/vendor/v-1", {"display_name": "Grace Hopper"})[0] == 201
    )
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page("/dashboard/records/customer/c-1")[1])
    action = "/dashboard/records/customer/c-1/rename"
    for form, status, words in (
        ({"name": "  "}, 422, "Give a new name of 1 to 500 characters."),
        ({}, 422, "Give a new name"),
        ({"name": "Grace Hopper"}, 422, "Grace Hopper"),
        ({"name": "Tab\there"}, 422, "control character"),  # the push's own checks
    ):
        answer = browser.go("POST", action, {"csrf_token": token, **form})
        html = unescape(answer.body.decode())
        assert answer.status == status, (form, html)
        assert 'role="alert"' in html
        assert words in html, form
    record = stored("acme", "c-1")
    assert (record.data["display_name"], record.state.value) == ("Ada Lovelace", "failed")


def test_the_record_page_finds_quickbooks_records_by_search_and_links_the_one_picked(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    seed(gateway)
    browser = signed_in(gateway, "acme")
    page = "/dashboard/records/customer/c-new"
    status, html = browser.page(page)
    assert status == 200
    assert 'role="search"' in html
    assert 'name="quickbooks_id"' not in html  # nothing searched yet
    status, html = browser.page(f"{page}?q=acme")
    assert status == 200
    found = re.findall(r'name="quickbooks_id" id="[^"]+" value="([^"]+)"', html)
    assert found == ["60", "61"]
    assert (
        "No active, unlinked QuickBooks record" in browser.page(f"{page}?q=Old")[1]
    )  # inactive: not offered
    assert browser.page(f"{page}?q={'x' * 101}")[0] == 422

    token = csrf_of(html)
    action = f"{page}/link"
    assert browser.go("POST", action, {"quickbooks_id": "60"}).status == 403
    for form, status, words in (
        ({}, 422, "Pick one of the QuickBooks records found."),
        ({"quickbooks_id": "no such id!"}, 422, "Pick one"),
        ({"quickbooks_id": "62"}, 409, "That QuickBooks record is inactive. Make it active in QuickBooks"),
        (
            {"quickbooks_id": "999"},
            409,
            "QuickBooks has no such record, as of qbsync's last read of its list.",
        ),
    ):
        answer = browser.go("POST", action, {"csrf_token": token, **form})
        assert answer.status == status, form
        assert words in unescape(answer.body.decode()), form
    assert stored("acme", "c-new").quickbooks_id is None

    answer = browser.go("POST", action, {"csrf_token": token, "quickbooks_id": "60"})
    assert answer.status == 409  # customer c-acme holds that name
    assert "is already the name of customer 'c-acme'" in unescape(answer.body.decode())
    answer = browser.go("POST", action, {"csrf_token": token, "quickbooks_id": "59"})
    assert answer.status == 303
    assert header(answer, "Location") == f"{page}?done=linked"
    assert stored("acme", "c-new").quickbooks_id == "59"
    html = browser.page(f"{page}?done=linked")[1]
    assert "The record is linked to the QuickBooks record you picked." in html
    assert 'role="search"' not in html  # linked: nothing more to link
    answer = browser.go(
        "POST", "/dashboard/records/customer/c-grace/link", {"csrf_token": token, "quickbooks_id": "59"}
    )
    assert answer.status == 409
    assert "already linked to customer 'c-new'" in unescape(answer.body.decode())


def test_open_in_the_app_fills_the_hosts_record_url_template(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    failed_customer(gateway, "acme", "c-1", "Ada Lovelace")
    browser = signed_in(gateway, "acme")
    assert 'id="open-in-app"' not in browser.page("/dashboard/records/customer/c-1")[1]
    for bad in ("http://app.example.com/{id}", "https://app.example.com/{name}", "https://app.example.com/x"):
        status, problem = gateway.json("PUT", "/v1/tenants/acme/settings", {"record_url_template": bad})
        assert status == 422, bad
        assert problem["errors"][0]["field"] == "record_url_template"
    template = "https://app.example.com/{type}s/{id}"
    assert gateway.json("PUT", "/v1/tenants/acme/settings", {"record_url_template": template})[0] == 200
    html = browser.page("/dashboard/records/customer/c-1")[1]
    assert 'id="open-in-app" href="https://app.example.com/customers/c-1"' in html
    assert 'rel="noopener noreferrer"' in html


# ---------------------------------------------------------------------- the match tabs


def test_a_match_tab_runs_automatch_then_accepts_picks_and_rejects_proposals(
    gateway: Gateway, run_jobs: Callable[[], int]
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    seed(gateway)
    browser = signed_in(gateway, "acme")
    status, html = browser.page(TAB)
    assert status == 200
    assert f'<a href="{TAB}" aria-current="page">Customers</a>' in html
    assert '<a href="/dashboard/matches/item">Items</a>' in html
    assert "Automatch has not run yet." in html
    html = matched(browser, run_jobs)
    assert "Linked to Ada Lovelace Ltd (QuickBooks id 58)." in block_of(html, "c-ada")
    grace = block_of(html, "c-grace")
    assert "Grace Hopper Consulting (id 59):" in grace
    assert "by similar name" in grace
    acme = block_of(html, "c-acme")
    assert "Several QuickBooks records fit: pick one." in acme
    assert acme.count('type="radio"') == 2
    assert "Same name as another QuickBooks record" in acme
    assert "Not found, and it lacks the key" in block_of(html, "c-new")  # customers: email first
    objects = html[html.index('id="objects"') :]
    assert "Ada Lovelace Ltd" in objects
    assert '<a href="/dashboard/records/customer/c-ada">c-ada</a>' in objects
    assert objects.count("Same name as another QuickBooks record") == 2  # 60 and 61

    token = csrf_of(html)
    assert browser.go("POST", f"{TAB}/c-grace/accept", {}).status == 403
    answer = browser.go("POST", f"{TAB}/c-grace/accept", {"csrf_token": token})
    assert (answer.status, header(answer, "Location")) == (303, f"{TAB}?done=accepted")
    assert stored("acme", "c-grace").quickbooks_id == "59"
    answer = browser.go("POST", f"{TAB}/c-acme/accept", {"csrf_token": token})
    assert answer.status == 422
    assert "Pick one of the candidates first." in unescape(answer.body.decode())
    answer = browser.go("POST", f"{TAB}/c-acme/accept", {"csrf_token": token, "quickbooks_id": "58"})
    assert answer.status == 422
    assert (
        browser.go("POST", f"{TAB}/c-acme/accept", {"csrf_token": token, "quickbooks_id": "61"}).status == 303
    )
    assert stored("acme", "c-acme").quickbooks_id == "61"
    answer = browser.go("POST", f"{TAB}/c-new/reject", {"csrf_token": token})
    assert answer.status == 409
    assert "Automatch proposed nothing for this record." in unescape(answer.body.decode())
    assert "Linked to Grace Hopper Consulting (QuickBooks id 59)." in block_of(
        browser.page(TAB)[1], "c-grace"
    )


def test_a_tab_drawn_while_its_run_finishes_never_says_done_beside_no_results(
    gateway: Gateway, run_jobs: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbsync.usecases.matches import Matches

    create_tenant(gateway, "acme", "Acme Plumbing")
    seed(gateway)
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(TAB)[1])
    assert browser.go("POST", f"{TAB}/run", {"csrf_token": token}).status == 303
    read_results = Matches.results

    def results_then_the_worker_finishes(self: Matches, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        page = read_results(self, *args, **kwargs)  # type: ignore[arg-type]
        run_jobs()  # the worker finishes the run between the page's reads
        return page

    monkeypatch.setattr(Matches, "results", results_then_the_worker_finishes)
    _, html = browser.page(TAB)
    assert "Automatch is waiting to start." in html  # as it was before its results were read
    assert "data-reload-when-done" in html
    monkeypatch.undo()
    _, html = browser.page(TAB)
    assert "Automatch is done." in html
    assert "Grace Hopper Consulting (id 59):" in block_of(html, "c-grace")


def test_a_rejected_proposal_is_remembered_and_the_record_can_be_linked_by_hand(
    gateway: Gateway, run_jobs: Callable[[], int]
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    seed(gateway)
    browser = signed_in(gateway, "acme")
    token = csrf_of(matched(browser, run_jobs))
    assert browser.go("POST", f"{TAB}/c-grace/reject", {"csrf_token": token}).status == 303
    grace = block_of(browser.page(TAB)[1], "c-grace")
    assert "Rejected: none of the proposals is this record." in grace
    assert 'href="/dashboard/records/customer/c-grace?q=Grase%20Hoper%20Consulting#link"' in grace
    assert stored("acme", "c-grace").quickbooks_id is None


def test_hide_synchronized_unlink_and_clear_all_links(gateway: Gateway, run_jobs: Callable[[], int]) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    seed(gateway)
    browser = signed_in(gateway, "acme")
    token = csrf_of(matched(browser, run_jobs))
    assert browser.go("POST", f"{TAB}/c-grace/accept", {"csrf_token": token}).status == 303
    status, html = browser.page(f"{TAB}?hide=synced")
    assert status == 200
    assert 'data-record="c-ada"' not in html
    assert 'data-record="c-new"' in html
    objects = html[html.index('id="objects"') :]
    assert "Ada Lovelace Ltd" not in objects
    assert "Acme Plumbing" in objects

    answer = browser.go("POST", f"{TAB}/c-grace/unlink", {"csrf_token": token})
    assert (answer.status, header(answer, "Location")) == (303, f"{TAB}?done=unlinked")
    assert stored("acme", "c-grace").quickbooks_id is None

    status, html = browser.page(f"{TAB}/clear")
    assert status == 200
    assert "This unlinks 1 Customers from their QuickBooks records." in html  # Ada only
    assert stored("acme", "c-ada").quickbooks_id == "58"
    assert browser.go("POST", f"{TAB}/clear", {}).status == 403
    answer = browser.go("POST", f"{TAB}/clear", {"csrf_token": csrf_of(html)})
    assert (answer.status, header(answer, "Location")) == (303, f"{TAB}?done=cleared")
    assert stored("acme", "c-ada").quickbooks_id is None
    assert "No Customers are linked" in browser.page(f"{TAB}/clear")[1]


def test_match_tabs_refuse_read_only_sessions_unknown_types_and_another_tenants_records(
    gateway: Gateway, run_jobs: Callable[[], int]
) -> None:
    from qbsync.composition import container
    from qbsync.usecases.dashboard import csrf_token

    create_tenant(gateway, "acme", "Acme Plumbing")
    create_tenant(gateway, "bravo", "Bravo Bakery")
    seed(gateway, "bravo")
    bravo = signed_in(gateway, "bravo")
    matched(bravo, run_jobs)

    browser = signed_in(gateway, "acme")
    status, html = browser.page(TAB)
    assert status == 200
    for other in ("Grase Hoper", "Ada Lovelace Ltd", "c-grace", "Bravo Bakery"):
        assert other not in html
    assert "Automatch has not run yet." in html
    assert json.loads(browser.page("/dashboard/match-run.json")[1]) == {
        "running": False,
        "text": {},
        "bars": {},
    }
    token = csrf_of(html)
    assert browser.go("POST", f"{TAB}/c-grace/accept", {"csrf_token": token}).status == 404
    assert browser.go("POST", f"{TAB}/c-grace/reject", {"csrf_token": token}).status == 404
    assert browser.go("POST", f"{TAB}/c-ada/unlink", {"csrf_token": token}).status == 404
    link = {"csrf_token": token, "quickbooks_id": "59"}
    assert browser.go("POST", "/dashboard/records/customer/c-grace/link", link).status == 404
    assert stored("bravo", "c-ada").quickbooks_id == "58"
    assert stored("bravo", "c-grace").quickbooks_id is None
    assert browser.page("/dashboard/matches/invoice")[0] == 404
    assert browser.go("POST", "/dashboard/matches/invoice/run", {"csrf_token": token}).status == 404
    answer = browser.go("POST", f"{TAB}/run", {"csrf_token": token})  # acme's list was never read
    assert answer.status == 409
    assert "qbsync has not read this list from QuickBooks yet" in unescape(answer.body.decode())
    assert browser.page(f"{TAB}?cursor=garbage")[0] in (200, 422)

    viewer = signed_in(gateway, "bravo", read_only=True)
    status, html = viewer.page(TAB)
    assert status == 200
    assert '<form method="post"' not in html
    assert "Clear all links" not in html
    assert viewer.page(f"{TAB}/clear")[0] == 404
    session = container().dashboard.session(viewer.cookies["qbsync_session"])
    assert session is not None
    for path in (
        f"{TAB}/run",
        f"{TAB}/c-grace/accept",
        f"{TAB}/clear",
        "/dashboard/records/customer/c-new/rename",
    ):
        assert viewer.go("POST", path, {"csrf_token": csrf_token(session), "name": "X"}).status == 403, path
    assert stored("bravo", "c-grace").quickbooks_id is None


@pytest.mark.parametrize("path", ["/dashboard/matches/customer", "/dashboard/match-run.json"])
def test_match_pages_without_a_session_ask_to_open_the_link_again(gateway: Gateway, path: str) -> None:
    assert TenantBrowser(gateway.api).page(path)[0] == 401
