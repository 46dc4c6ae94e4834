from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.lambdas import LocalFunction
from tests.conftest import load_event

DEFAULTS = {
    "send_mode": "live",
    "lock_after_acceptance": False,
    "name_clash_policy": "fail",
    "rename_suffix": " ({n})",
    "default_income_account": None,
    "default_expense_account": None,
    "default_asset_account": None,
    "payment_deposit_account": None,
    "default_payment_terms": None,
    "sync_payments_from_quickbooks": True,
    "web_connector_interval_minutes": 10,
    "payment_methods_to_sync": [],
    "only_in_quickbooks": "ignore",
    "only_in_app": "create",
    "sync_since": None,
    "link_on_exact_key": True,
    "match_threshold": 85,
    "match_auto_accept": 95,
    "match_rules": {
        "customer": {"key": "email", "names": "similar"},
        "vendor": {"key": None, "names": "similar"},
        "employee": {"key": None, "names": "similar"},
        "item": {"key": "sku", "names": "exact"},
    },
    "record_url_template": None,
}


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["ApiFunction"]


def call(
    api: LocalFunction, name: str, *, headers: dict[str, str | None] | None = None, **changes: Any
) -> tuple[int, dict[str, str], Any]:
    event = copy.deepcopy(load_event(name))
    event.update(changes)
    for key, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(key, None)
        else:
            event["headers"][key] = value
    result = api.invoke(event)
    got = {k.lower(): v for k, v in result.get("headers", {}).items()}
    body = result.get("body") or ""
    return result["statusCode"], got, json.loads(body) if "json" in got.get("content-type", "") else body


def put_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event("api_put_settings.json")["body"])
    return body


@pytest.fixture
def tenant(api: LocalFunction) -> None:
    assert call(api, "api_create_tenant.json")[0] == 201


@pytest.mark.usefixtures("tenant")
def test_before_any_put_the_defaults_are_version_0(api: LocalFunction) -> None:
    status, headers, body = call(api, "api_get_settings.json")
    assert status == 200
    assert headers["etag"] == '"0"'
    assert body == {"version": 0, "updated_at": None, "settings": DEFAULTS}


@pytest.mark.usefixtures("tenant")
def test_put_then_get_returns_the_new_version(api: LocalFunction) -> None:
    status, headers, stored = call(api, "api_put_settings.json")  # If-Match: "0"
    assert status == 200
    assert headers["etag"] == '"1"'
    assert stored["version"] == 1
    assert stored["updated_at"]
    assert stored["settings"] == {**DEFAULTS, **put_body()}  # omitted fields take their defaults

    assert call(api, "api_get_settings.json")[2] == stored

    status, headers, second = call(
        api, "api_put_settings.json", headers={"if-match": "1"}, body=json.dumps({"send_mode": "live"})
    )
    assert (status, headers["etag"], second["version"]) == (200, '"2"', 2)
    assert second["settings"] == DEFAULTS  # PUT replaces the whole document


@pytest.mark.usefixtures("tenant")
def test_put_without_if_match_is_accepted(api: LocalFunction) -> None:
    for expected in (1, 2):
        status, _, body = call(api, "api_put_settings.json", headers={"if-match": None})
        assert (status, body["version"]) == (200, expected)


@pytest.mark.usefixtures("tenant")
def test_stale_if_match_is_a_412_problem_and_stores_nothing(api: LocalFunction) -> None:
    assert call(api, "api_put_settings.json")[0] == 200
    status, headers, problem = call(api, "api_put_settings.json", body=json.dumps({"send_mode": "live"}))
    assert status == 412
    assert headers["content-type"] == "application/problem+json"
    assert problem["title"] == "Precondition Failed"
    assert "version 1, not 0" in problem["detail"]
    _, _, current = call(api, "api_get_settings.json")
    assert (current["version"], current["settings"]["send_mode"]) == (1, "review")


@pytest.mark.usefixtures("tenant")
def test_an_if_match_that_is_not_a_version_is_a_422(api: LocalFunction) -> None:
    status, _, problem = call(api, "api_put_settings.json", headers={"if-match": "W/abc"})
    assert status == 422
    # api/app.py strips the location only from body, query and path fields, so headers keep theirs.
    assert [e["field"] for e in problem["errors"]] == ["if-match"]


@pytest.mark.usefixtures("tenant")
def test_bad_body_is_a_422_naming_each_field_and_stores_nothing(api: LocalFunction) -> None:
    body = {
        **put_body(),
        "send_mode": "later",
        "rename_suffix": " (2)",
        "payment_methods_to_sync": ["Check", "CHECK"],
        "auto_send": True,
    }
    status, headers, problem = call(api, "api_put_settings.json", body=json.dumps(body))
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"send_mode", "rename_suffix", "payment_methods_to_sync", "auto_send"}
    assert call(api, "api_get_settings.json")[2]["version"] == 0


@pytest.mark.usefixtures("tenant")
def test_an_auto_accept_level_below_the_match_threshold_is_a_422_naming_it(api: LocalFunction) -> None:
    body = {**put_body(), "match_threshold": 90, "match_auto_accept": 80}
    status, headers, problem = call(api, "api_put_settings.json", body=json.dumps(body))
    assert (status, headers["content-type"]) == (422, "application/problem+json")
    assert [e["field"] for e in problem["errors"]] == ["match_auto_accept"]
    assert "at least match_threshold (90)" in problem["errors"][0]["message"]
    assert call(api, "api_get_settings.json")[2]["version"] == 0


def test_account_names_are_checked_against_the_tenants_edition(api: LocalFunction) -> None:
    desktop = json.dumps({"id": "acme-42", "name": "Acme Plumbing", "edition": "qbd"})
    assert call(api, "api_create_tenant.json", body=desktop)[0] == 201
    body = {**put_body(), "default_expense_account": "Cost of Goods Sold (everything we buy)"}  # 39 > 31
    status, _, problem = call(api, "api_put_settings.json", body=json.dumps(body))
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["default_expense_account"]
    assert "31" in problem["errors"][0]["message"]
    assert call(api, "api_put_settings.json")[0] == 200  # the sample's names fit QuickBooks Desktop


@pytest.mark.parametrize("event", ["api_get_settings.json", "api_put_settings.json"])
def test_unknown_tenant_is_a_404_problem(api: LocalFunction, event: str) -> None:
    status, headers, problem = call(api, event)
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert "acme-42" in problem["detail"]


def test_the_settings_routes_are_in_the_openapi_document(api: LocalFunction) -> None:
    event = load_event("api_health.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/openapi.json"
    doc = json.loads(api.invoke(event)["body"])
    path = doc["paths"]["/v1/tenants/{tenant_id}/settings"]
    assert set(path) == {"get", "put"}
    assert "412" in path["put"]["responses"]
    assert any(p["name"] == "if-match" and p["in"] == "header" for p in path["put"]["parameters"])
    schema = doc["components"]["schemas"]["SyncSettings"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["send_mode"]["default"] == "live"
