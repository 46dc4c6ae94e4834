from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.lambdas import LocalFunction
from tests.conftest import load_event


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["ApiFunction"]


def call(api: LocalFunction, name: str, **changes: Any) -> tuple[int, dict[str, str], Any]:
    event = copy.deepcopy(load_event(name))
    for key, value in changes.items():
        event[key] = value
    result = api.invoke(event)
    headers = {k.lower(): v for k, v in result.get("headers", {}).items()}
    body = result.get("body") or ""
    parsed = json.loads(body) if "json" in headers.get("content-type", "") else body
    return result["statusCode"], headers, parsed


def test_health_reports_a_worker_that_never_ran_as_degraded(api: LocalFunction) -> None:
    status, _, body = call(api, "api_health.json")
    assert status == 200
    assert body["status"] == "degraded"
    assert body["worker"] == {"last_heartbeat_at": None, "age_seconds": None, "stale": True}


def test_create_read_and_list_a_tenant(api: LocalFunction) -> None:
    status, headers, created = call(api, "api_create_tenant.json")
    assert status == 201
    assert headers["location"] == "/v1/tenants/acme-42"
    assert created["id"] == "acme-42"
    assert created["name"] == "Acme Plumbing"
    assert created["edition"] == "qbo"

    status, _, read = call(api, "api_get_tenant.json")
    assert (status, read) == (200, created)

    status, _, page = call(api, "api_list_tenants.json")
    assert status == 200
    assert page == {"items": [created], "next_cursor": None}


def test_creating_twice_is_a_409_problem(api: LocalFunction) -> None:
    call(api, "api_create_tenant.json")
    status, headers, body = call(api, "api_create_tenant.json")
    assert status == 409
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 409
    assert "acme-42" in body["detail"]


def test_bad_body_is_a_422_naming_each_field(api: LocalFunction) -> None:
    body = json.dumps({"id": "has space", "name": "", "edition": "xero", "extra": 1})
    status, headers, problem = call(api, "api_create_tenant.json", body=body)
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"id", "name", "edition", "extra"}
    assert all(e["message"] for e in problem["errors"])


def test_body_that_is_not_json_is_a_422(api: LocalFunction) -> None:
    status, _, problem = call(api, "api_create_tenant.json", body="{not json")
    assert status == 422
    assert problem["title"] == "Unprocessable Entity"


def test_nothing_is_stored_when_the_body_is_bad(api: LocalFunction) -> None:
    body = json.dumps({"id": "acme-42", "name": "x" * 201, "edition": "qbo"})
    assert call(api, "api_create_tenant.json", body=body)[0] == 422
    assert call(api, "api_get_tenant.json")[0] == 404


def test_unknown_tenant_is_a_404_problem(api: LocalFunction) -> None:
    status, headers, body = call(api, "api_get_tenant.json")
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert "POST /v1/tenants" in body["detail"]


def test_unknown_route_under_v1_is_a_404_problem(api: LocalFunction) -> None:
    event = load_event("api_get_tenant.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/nothing/here"
    result = api.invoke(event)
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["status"] == 404


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc"])
def test_out_of_range_limit_is_a_422(api: LocalFunction, query: str) -> None:
    event = load_event("api_list_tenants.json")
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict([query.split("=")])
    result = api.invoke(event)
    assert result["statusCode"] == 422
    assert json.loads(result["body"])["errors"][0]["field"] == "limit"


def test_openapi_document_is_generated_from_the_models(api: LocalFunction) -> None:
    event = load_event("api_health.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/openapi.json"
    result = api.invoke(event)
    assert result["statusCode"] == 200
    doc = json.loads(result["body"])
    assert set(doc["paths"]) >= {"/v1/tenants", "/v1/tenants/{tenant_id}", "/health"}
    schema = doc["components"]["schemas"]["TenantIn"]
    assert schema["required"] == ["id", "name", "edition"]
    assert schema["properties"]["name"]["maxLength"] == 200


def test_swagger_ui_is_served_without_external_assets(api: LocalFunction) -> None:
    event = load_event("api_health.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/docs"
    result = api.invoke(event)
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in result["body"]
    assert "unpkg.com" not in result["body"]
