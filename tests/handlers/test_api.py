from __future__ import annotations

import base64
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


def test_body_that_is_not_json_is_a_400_saying_where(api: LocalFunction) -> None:
    status, _, problem = call(api, "api_create_tenant.json", body="{not json")
    assert status == 400
    assert problem["title"] == "Bad Request"
    assert problem["detail"] == (
        "The body is not JSON: Expecting property name enclosed in double quotes at line 1, column 2."
    )


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


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def with_body(name: str, body: str | bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    event["headers"].pop("content-length", None)
    event["headers"].pop("content-type", None)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    return event


def answer(api: LocalFunction, event: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    result = api.invoke(event)
    headers = {k.lower(): v for k, v in result.get("headers", {}).items()}
    return result["statusCode"], headers.get("content-type", ""), json.loads(result["body"])


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("name", ["api_create_tenant.json", "api_put_settings.json", "api_put_record.json"])
def test_json_nested_deeper_than_32_levels_is_a_400_problem(
    api: LocalFunction, name: str, depth: int
) -> None:
    call(api, "api_create_tenant.json")
    status, content_type, problem = answer(api, with_body(name, '{"a": ' + nested(depth - 1) + "}"))
    assert (status, content_type) == (400, "application/problem+json")
    assert problem["detail"] == "The body is nested more than 32 levels deep; at most 32 are accepted."


def test_deep_data_in_a_bulk_entry_is_a_400_problem_and_32_levels_are_read(api: LocalFunction) -> None:
    call(api, "api_create_tenant.json")
    # {"records": [{"data": {"notes": [...]}}]}: data is level 4, so 28 arrays in notes make 32 levels.
    for depth, expected in [(300, 400), (28, 200)]:
        body = '{"records": [{"id": "c-1", "data": {"display_name": "A", "notes": ' + nested(depth) + "}}]}"
        event = with_body("api_post_records.json", body)
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/tenants/acme-42/records/customer"
        status, _, problem = answer(api, event)
        assert status == expected, problem
    assert problem["results"][0]["errors"][0]["field"] == "notes"  # 32 levels read: the record's own 422


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"id": "acme-42", "name": "Acme", "edition": "qbo"}'),
        ("application/xml", "<tenant><id>acme-42</id></tenant>"),
        ("application/octet-stream", b'{"id": "acme-42", "name": "Acme", "edition": "qbo"}'),
        (
            "multipart/form-data",
            b"--x\r\nContent-Disposition: form-data; name=id\r\n\r\nacme-42\r\n--x--\r\n",
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=id\r\n\r\na\r\n--x--\r\n",
        ),
        ("application/x-www-form-urlencoded", "id=acme-42&name=Acme&edition=qbo"),
    ],
    ids=["text", "xml", "octet-stream", "multipart-no-boundary", "multipart", "form"],
)
def test_a_body_that_is_not_json_is_a_415_problem(
    api: LocalFunction, content_type: str, body: str | bytes
) -> None:
    status, content_type_out, problem = answer(api, with_body("api_create_tenant.json", body, content_type))
    assert (status, content_type_out) == (415, "application/problem+json")
    assert problem["title"] == "Unsupported Media Type"
    assert "application/json" in problem["detail"]
    assert call(api, "api_get_tenant.json")[0] == 404


@pytest.mark.parametrize("content_type", ["Application/JSON; charset=UTF-8", None])
def test_a_json_body_is_read_whatever_the_case_of_its_media_type_or_without_one(
    api: LocalFunction, content_type: str | None
) -> None:
    body = '{"id": "acme-42", "name": "Acme", "edition": "qbo"}'
    assert answer(api, with_body("api_create_tenant.json", body, content_type))[0] == 201


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"id": "\xff"}', "The body is not JSON: it is not UTF-8 text."),
        ('{"id": "a", "name": "\\ud800", "edition": "qbo"}', "unpaired surrogate ('\\ud800')"),
        ('{"id": "a", "name": "b", "edition": ' + "9" * 5000 + "}", "a number with too many digits"),
    ],
    ids=["latin-1", "lone-surrogate", "huge-integer"],
)
def test_json_text_that_cannot_be_read_is_a_400_problem(
    api: LocalFunction, body: str | bytes, detail: str
) -> None:
    status, content_type, problem = answer(api, with_body("api_create_tenant.json", body))
    assert (status, content_type) == (400, "application/problem+json")
    assert detail in problem["detail"]
