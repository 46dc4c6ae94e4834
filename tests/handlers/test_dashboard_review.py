"""The dashboard's Review queue through the local API Gateway: in review send mode, the drafts and pending
records of a type, paged and found by text, sent or taken back to draft many at once, each outcome said."""

from __future__ import annotations

import re

from tests.handlers.conftest import Gateway
from tests.handlers.test_dashboard import create_tenant, csrf_of, header, refused_read_only, signed_in

PATH = "/dashboard/review"


def review_mode(gateway: Gateway, tenant_id: str) -> None:
    assert gateway.json("PUT", f"/v1/tenants/{tenant_id}/settings", {"send_mode": "review"})[0] == 200


def customer(gateway: Gateway, tenant_id: str, record_id: str, name: str) -> None:
    path = f"/v1/tenants/{tenant_id}/records/customer/{record_id}"
    assert gateway.json("PUT", path, {"display_name": name})[0] == 201


def state_of(gateway: Gateway, tenant_id: str, record_id: str) -> str:
    return str(gateway.json("GET", f"/v1/tenants/{tenant_id}/records/customer/{record_id}")[1]["state"])


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-record="customer/([^"]+)">', html)


def test_in_live_mode_the_queue_says_it_is_for_review_mode_and_links_to_settings(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    customer(gateway, "acme", "c-1", "Ada Lovelace")  # pending, in live mode
    html = signed_in(gateway, "acme").page(PATH)[1]
    assert "The review queue is used only in review mode" in html
    assert 'href="/dashboard/settings"' in html
    assert "Ada Lovelace" not in html
    assert 'action="/dashboard/review"' not in html


def test_the_queue_lists_drafts_and_pending_records_by_type_and_finds_them_by_text(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    review_mode(gateway, "acme")
    for n, name in enumerate(("Ada Lovelace", "Grace Hopper", "Alan Turing"), 1):
        customer(gateway, "acme", f"c-{n}", name)
    assert (
        gateway.json("PUT", "/v1/tenants/acme/records/item/i-1", {"kind": "service", "name": "Repair"})[0]
        == 201
    )
    browser = signed_in(gateway, "acme")
    status, html = browser.page(PATH)
    assert status == 200
    assert sorted(listed(html)) == ["c-1", "c-2", "c-3"]
    assert '<a href="/dashboard/review?type=customer" aria-current="page">Customer (3)</a>' in html
    assert '<a href="/dashboard/review?type=item">Item (1)</a>' in html
    assert 'aria-label="Select Ada Lovelace"' in html
    assert listed(browser.page(f"{PATH}?type=customer&q=hopper")[1]) == ["c-2"]
    found = browser.page(f"{PATH}?type=item")[1]
    assert re.findall(r'<tr data-record="item/([^"]+)">', found) == ["i-1"]
    assert "No draft or pending record matches your search." in browser.page(f"{PATH}?q=nobody")[1]


def test_the_queue_is_paged(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    review_mode(gateway, "acme")
    status, _ = gateway.json(
        "POST",
        "/v1/tenants/acme/records/customer",
        {"records": [{"id": f"c-{n:02}", "data": {"display_name": f"Customer {n:02}"}} for n in range(55)]},
    )
    assert status in (200, 207), status
    browser = signed_in(gateway, "acme")
    html = browser.page(PATH)[1]
    first = listed(html)
    assert len(first) == 50
    following = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
    assert following is not None
    rest = listed(browser.page(following.group(1).replace("&amp;", "&"))[1])
    assert len(rest) == 5
    assert not set(rest) & set(first)
    status, html = browser.page(f"{PATH}?type=customer&cursor=not-a-cursor")
    assert status == 400
    assert "This page of the queue does not exist" in html


def test_send_selected_sends_the_chosen_drafts_and_says_what_became_of_each(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    review_mode(gateway, "acme")
    for n, name in enumerate(("Ada Lovelace", "Grace Hopper", "Alan Turing"), 1):
        customer(gateway, "acme", f"c-{n}", name)
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(PATH)[1])
    form = {
        "csrf_token": token,
        "action": "send",
        "type": "customer",
        "record": ["customer/c-1", "customer/c-2", "customer/nobody"],
    }
    answer = browser.go("POST", PATH, form)
    assert answer.status == 303
    location = header(answer, "Location")
    assert location.startswith(f"{PATH}?type=customer&done=send&result=")
    assert [state_of(gateway, "acme", f"c-{n}") for n in (1, 2, 3)] == ["pending", "pending", "draft"]

    html = browser.page(location)[1]
    results = re.search(
        r'<section aria-labelledby="results-heading" role="status" id="results">(.*?)</section>', html, re.S
    )
    assert results is not None
    said = re.findall(r"<li [^>]*>([^<]*)</li>", results.group(1))
    assert said == [
        "Customer Ada Lovelace: sent; it waits its turn to reach QuickBooks.",
        "Customer Grace Hopper: sent; it waits its turn to reach QuickBooks.",
        "nobody: not found, so nothing was done.",
    ]

    # Sent again: refused, with why.
    answer = browser.go("POST", PATH, {**form, "record": ["customer/c-1"]})
    html = browser.page(header(answer, "Location"))[1]
    assert "Customer Ada Lovelace: not sent: it is pending already." in html


def test_back_to_draft_takes_pending_records_back_and_says_which_were_not(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    customer(gateway, "acme", "c-1", "Ada Lovelace")  # pending, sent in live mode
    review_mode(gateway, "acme")
    customer(gateway, "acme", "c-2", "Grace Hopper")  # a draft
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(PATH)[1])
    answer = browser.go(
        "POST", PATH, {"csrf_token": token, "action": "unpend", "record": ["customer/c-1", "customer/c-2"]}
    )
    assert answer.status == 303
    assert state_of(gateway, "acme", "c-1") == "draft"
    html = browser.page(header(answer, "Location"))[1]
    assert "Customer Ada Lovelace: taken back to draft." in html
    assert "Customer Grace Hopper: not taken back: it is draft, not pending." in html


def test_a_post_without_a_choice_or_an_action_is_a_page_saying_so(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    review_mode(gateway, "acme")
    customer(gateway, "acme", "c-1", "Ada Lovelace")
    browser = signed_in(gateway, "acme")
    token = csrf_of(browser.page(PATH)[1])
    answer = browser.go("POST", PATH, {"csrf_token": token, "action": "send"})
    assert answer.status == 422
    assert "Select one to 50 records first: nothing was changed." in answer.body.decode()
    answer = browser.go("POST", PATH, {"csrf_token": token, "action": "delete", "record": "customer/c-1"})
    assert answer.status == 422
    assert "Choose Send selected or Back to draft" in answer.body.decode()
    assert state_of(gateway, "acme", "c-1") == "draft"


def test_the_queue_needs_the_csrf_token_and_a_session_that_may_change(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    review_mode(gateway, "acme")
    customer(gateway, "acme", "c-1", "Ada Lovelace")
    form = {"action": "send", "record": "customer/c-1"}
    browser = signed_in(gateway, "acme")
    for token in ("", "0" * 64):
        assert browser.go("POST", PATH, {**form, "csrf_token": token}).status == 403
    html = refused_read_only(gateway, "acme", PATH, PATH, form)  # not even the search form is drawn
    assert listed(html) == ["c-1"]
    assert state_of(gateway, "acme", "c-1") == "draft"


def test_the_queue_never_shows_or_sends_another_tenants_records(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    create_tenant(gateway, "bravo", "Bravo Bakery")
    for tenant_id in ("acme", "bravo"):
        review_mode(gateway, tenant_id)
    customer(gateway, "acme", "c-1", "Ada Lovelace")
    customer(gateway, "bravo", "b-1", "Grace Hopper")
    browser = signed_in(gateway, "acme")
    html = browser.page(PATH)[1]
    assert "Grace Hopper" not in html
    token = csrf_of(html)
    answer = browser.go("POST", PATH, {"csrf_token": token, "action": "send", "record": "customer/b-1"})
    assert state_of(gateway, "bravo", "b-1") == "draft"
    html = browser.page(header(answer, "Location"))[1]
    assert "b-1: not found, so nothing was done." in html
    assert "Grace Hopper" not in browser.page(f"{PATH}?done=send&result=customer/b-1:updated")[1]
