"""The dashboard's Settings page through the local API Gateway: the tenant's settings as a form whose
drop-downs come from the company's own lists, saved as PUT /settings saves them (a new version)."""

from __future__ import annotations

import re

from tests.handlers.conftest import Gateway
from tests.handlers.test_dashboard import create_tenant, header, refused_read_only, signed_in

PATH = "/dashboard/settings"


def company_lists(tenant_id: str) -> None:
    """The company's accounts, terms and payment methods as QuickBooks answered them (an inactive one too)."""
    from qbsync.composition import container
    from qbsync.domain.mirror import ListEntry, ListRead, ListType

    side = container().quickbooks_side
    lists = {
        ListType.ACCOUNT: ["Sales", "Sales:Parts", "Cost of Goods Sold", "Inventory Asset", "Checking"],
        ListType.TERM: ["Net 15", "Net 30"],
        ListType.PAYMENT_METHOD: ["Cash", "Check", "Visa"],
    }
    for list_type, names in lists.items():
        entries = [ListEntry(list_type, str(n), name) for n, name in enumerate(names, 1)]
        entries.append(ListEntry(list_type, "99", f"Old {list_type.value}", active=False))
        side.take(tenant_id, ListRead(list_type, entries, complete=True))


def form_of(html: str) -> dict[str, str | list[str]]:
    """What the browser would post for the page's form as drawn: every field's current value."""
    form: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name:
            continue
        kind = re.search(r'type="(\w+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        v = value.group(1) if value else "on"
        if name.group(1) == "payment_methods_to_sync":
            form.setdefault("payment_methods_to_sync", [])
            assert isinstance(form["payment_methods_to_sync"], list)
            form["payment_methods_to_sync"].append(v)
        else:
            form[name.group(1)] = v
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form[name] = chosen.group(1) if chosen else ""
    return form


def stored(tenant_id: str) -> tuple[int, dict[str, object]]:
    from qbsync.composition import container
    from qbsync.usecases.settings import get_settings

    c = container()
    entry = get_settings(c.tenants, c.tenant_settings, tenant_id)
    return entry.version, entry.settings.model_dump(mode="json")


def test_the_settings_page_offers_the_companys_active_accounts_terms_and_methods_with_the_current_selected(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    company_lists("acme")
    status, _ = gateway.json(
        "PUT",
        "/v1/tenants/acme/settings",
        {
            "default_payment_terms": "Net 30",
            "payment_methods_to_sync": ["Visa"],
            "default_income_account": "Sales",
        },
    )
    assert status == 200
    browser = signed_in(gateway, "acme")
    status, html = browser.page(PATH)
    assert status == 200
    terms = re.search(r'<select id="default_payment_terms".*?</select>', html, re.S)
    assert terms is not None
    assert re.findall(r"<option [^>]*>([^<]*)</option>", terms.group(0)) == ["None", "Net 15", "Net 30"]
    assert '<option value="Net 30" selected>' in terms.group(0)
    assert "Old term" not in html  # inactive entries are not offered
    assert '<option value="Sales" selected>Sales</option>' in html
    assert '<option value="Sales:Parts">Sales:Parts</option>' in html
    assert re.search(r'value="Visa" checked>', html)
    assert not re.search(r'value="Cash" checked>', html)
    assert "Left empty, payments go to Undeposited Funds." in html
    deposit = re.search(r'<select id="payment_deposit_account".*?</select>', html, re.S)
    assert deposit is not None
    assert '<option value="" selected>Undeposited Funds</option>' in deposit.group(0)
    assert 'type="date" id="sync_since"' in html
    assert "web_connector_interval_minutes" not in html  # an Online tenant has no Web Connector
    assert "has not been read yet" not in html


def test_a_list_not_read_yet_is_said_so_on_the_settings_page(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    html = signed_in(gateway, "acme").page(PATH)[1]
    assert "QuickBooks&#39; list of terms has not been read yet" in html
    assert "QuickBooks&#39; list of payment methods has not been read yet" in html


def test_saving_the_settings_stores_a_new_version_and_says_so_after_the_redirect(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    company_lists("acme")
    gateway.json("PUT", "/v1/tenants/acme/settings", {"match_threshold": 70, "match_auto_accept": 90})
    browser = signed_in(gateway, "acme")
    form = form_of(browser.page(PATH)[1])
    assert form["version"] == "1"
    form |= {
        "send_mode": "review",
        "lock_after_acceptance": "on",
        "name_clash_policy": "rename_with_suffix",
        "rename_suffix": " - {n}",
        "default_payment_terms": "Net 15",
        "payment_deposit_account": "Checking",
        "payment_methods_to_sync": ["Cash", "Check"],
        "only_in_quickbooks": "create",
        "only_in_app": "ignore",
        "sync_since": "2026-01-01",
    }
    form.pop("sync_payments_from_quickbooks")  # unticked
    answer = browser.go("POST", PATH, form)
    assert answer.status == 303, answer.body.decode()
    assert header(answer, "Location") == f"{PATH}?saved=1"
    version, settings = stored("acme")
    assert version == 2
    assert settings | {"match_rules": None} == {
        "send_mode": "review",
        "lock_after_acceptance": True,
        "name_clash_policy": "rename_with_suffix",
        "rename_suffix": " - {n}",
        "default_income_account": None,
        "default_expense_account": None,
        "default_asset_account": None,
        "payment_deposit_account": "Checking",
        "default_payment_terms": "Net 15",
        "sync_payments_from_quickbooks": False,
        "web_connector_interval_minutes": 10,
        "payment_methods_to_sync": ["Cash", "Check"],
        "only_in_quickbooks": "create",
        "only_in_app": "ignore",
        "sync_since": "2026-01-01",
        "link_on_exact_key": True,
        "match_threshold": 70,  # fields the page does not show keep their values
        "match_auto_accept": 90,
        "match_rules": None,
        "record_url_template": None,
    }
    html = browser.page(f"{PATH}?saved=1")[1]
    assert re.search(r'role="status"[^>]*>Your settings were saved as version 2.<', html)
    _, api = gateway.json("GET", "/v1/tenants/acme/settings")
    assert api["version"] == 2
    assert api["settings"]["payment_methods_to_sync"] == ["Cash", "Check"]


def test_a_desktop_tenant_sets_its_web_connector_interval_and_its_qwc_file_takes_it(gateway: Gateway) -> None:
    create_tenant(gateway, "acme-qbd", "Acme Desktop", edition="qbd")
    status, _ = gateway.json("POST", "/v1/tenants/acme-qbd/web-connector")
    assert status == 201
    browser = signed_in(gateway, "acme-qbd")
    form = form_of(browser.page(PATH)[1])
    assert form["web_connector_interval_minutes"] == "10"
    form["web_connector_interval_minutes"] = "3"
    assert browser.go("POST", PATH, form).status == 303
    assert stored("acme-qbd")[1]["web_connector_interval_minutes"] == 3
    assert b"<RunEveryNMinutes>3</RunEveryNMinutes>" in browser.go("GET", "/dashboard/web-connector.qwc").body


def test_invalid_settings_are_drawn_again_with_each_problem_beside_its_field_and_nothing_stored(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme-qbd", "Acme Desktop", edition="qbd")
    browser = signed_in(gateway, "acme-qbd")
    form = form_of(browser.page(PATH)[1])
    form |= {
        "sync_since": "31/12/2025",
        "rename_suffix": " (2)",
        "web_connector_interval_minutes": "0",
        "send_mode": "sometimes",
    }
    answer = browser.go("POST", PATH, form)
    html = answer.body.decode()
    assert answer.status == 422
    assert "Nothing was saved: 4 setting(s) need your attention." in html
    problems = {
        "sync_since": "Give a day as YYYY-MM-DD",
        "rename_suffix": "must contain {n} exactly once",
        "web_connector_interval_minutes": "Give a number from 1 to 1440.",
        "send_mode": "Choose one of the options.",
    }
    for field, words in problems.items():
        assert re.search(rf'id="{field}-problem">[^<]*{re.escape(words)}', html), field
        assert re.search(rf'aria-describedby="[^"]*{field}-problem"', html), field
    assert 'value="31/12/2025"' in html  # what was typed stays, to be corrected

    # What the tenant's edition refuses, once the rest is valid: QuickBooks Desktop names an account in 31
    # characters a level.
    form = form_of(browser.page(PATH)[1]) | {"default_income_account": "A" * 40}
    answer = browser.go("POST", PATH, form)
    assert answer.status == 422
    assert re.search(
        r'id="default_income_account-problem">[^<]*at most 31 characters per level', answer.body.decode()
    )
    assert stored("acme-qbd")[0] == 0


def test_a_save_based_on_an_older_version_is_refused_and_says_someone_else_saved(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    form = form_of(browser.page(PATH)[1])
    assert gateway.json("PUT", "/v1/tenants/acme/settings", {"send_mode": "review"})[0] == 200
    form["lock_after_acceptance"] = "on"
    answer = browser.go("POST", PATH, form)
    assert answer.status == 409
    assert "Someone else saved these settings meanwhile (now version 1)" in answer.body.decode()
    version, settings = stored("acme")
    assert (version, settings["lock_after_acceptance"], settings["send_mode"]) == (1, False, "review")


def test_settings_are_saved_only_with_the_csrf_token_and_never_in_a_read_only_session(
    gateway: Gateway,
) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    form = form_of(browser.page(PATH)[1])
    form["send_mode"] = "review"
    for token in ("", "0" * 64):
        answer = browser.go("POST", PATH, {**form, "csrf_token": token})
        assert answer.status == 403
    refused_read_only(gateway, "acme", PATH, PATH, form)
    assert stored("acme")[0] == 0


def test_a_settings_form_with_many_payment_methods_is_read_whole(gateway: Gateway) -> None:
    """A form of more than 20 fields (the settings with many payment methods ticked) was refused before."""
    create_tenant(gateway, "acme", "Acme Plumbing")
    browser = signed_in(gateway, "acme")
    form = form_of(browser.page(PATH)[1])
    methods = [f"Card {n}" for n in range(30)]
    form["payment_methods_to_sync"] = methods
    assert browser.go("POST", PATH, form).status == 303
    assert stored("acme")[1]["payment_methods_to_sync"] == methods


def test_the_settings_page_shows_only_the_sessions_tenants_lists_and_settings(gateway: Gateway) -> None:
    create_tenant(gateway, "acme", "Acme Plumbing")
    create_tenant(gateway, "bravo", "Bravo Bakery")
    company_lists("bravo")
    gateway.json("PUT", "/v1/tenants/bravo/settings", {"default_payment_terms": "Net 15"})
    browser = signed_in(gateway, "acme")
    html = browser.page(PATH)[1]
    for other in ("Net 15", "Visa", "Sales:Parts", "Bravo"):
        assert other not in html
    form = form_of(html)
    form["send_mode"] = "review"
    assert browser.go("POST", PATH, form).status == 303
    assert stored("bravo")[1]["send_mode"] == "live"
    assert stored("acme")[1]["send_mode"] == "review"
