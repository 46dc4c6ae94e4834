"""The records API through ApiFunction, on moto: push, read, bulk, idempotency, sync/unpend, events feed."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from local.lambdas import LocalFunction
from tests.conftest import load_event


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["ApiFunction"]


def call(
    api: LocalFunction,
    name: str,
    *,
    path: str | None = None,
    method: str | None = None,
    body: Any = None,
    headers: dict[str, str | None] | None = None,
    query: str | None = None,
) -> tuple[int, Any]:
    event = copy.deepcopy(load_event(name))
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"] = {"proxy": path.removeprefix("/v1/")}
    if method is not None:
        event["requestContext"]["http"]["method"] = method
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        event["headers"].pop("content-length", None)
    if query is not None:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else {}
    for key, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(key, None)
        else:
            event["headers"][key] = value
    result = api.invoke(event)
    text = result.get("body") or ""
    return result["statusCode"], json.loads(text) if text.startswith(("{", "[")) else text


@pytest.fixture
def tenant(api: LocalFunction) -> None:
    assert call(api, "api_create_tenant.json")[0] == 201


def jobs_on_queue() -> list[dict[str, Any]]:
    import os

    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=os.environ["JOBS_QUEUE_URL"], MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in messages]


@pytest.mark.usefixtures("tenant")
def test_put_creates_then_get_shows_the_sync_state(api: LocalFunction) -> None:
    status, body = call(api, "api_put_record.json")
    assert status == 201
    assert (body["type"], body["id"], body["state"], body["revision"]) == (
        "customer",
        "cust-1001",
        "pending",
        1,
    )
    assert body["data"]["billing_address"]["city"] == "London"
    assert [h["state"] for h in body["history"]] == ["pending"]
    status, read = call(api, "api_get_record.json")
    assert status == 200
    assert read["state"] == "pending"
    assert read["quickbooks_id"] is None
    assert [job["kind"] for job in jobs_on_queue()] == ["sync.run"]


@pytest.mark.usefixtures("tenant")
def test_the_same_idempotency_key_answers_the_first_result_and_changes_nothing(api: LocalFunction) -> None:
    first = call(api, "api_put_record.json")
    again = call(api, "api_put_record.json")
    assert first == again  # 201 twice, the same body: the retry was not run again
    status, problem = call(api, "api_put_record.json", body={"display_name": "Someone Else"})
    assert status == 422
    assert problem["errors"][0]["code"] == "idempotency_key_reused"
    # Another tenant using the same key gets its own answer.
    assert (
        call(api, "api_create_tenant.json", body={"id": "zeta", "name": "Zeta", "edition": "qbo"})[0] == 201
    )
    status, other = call(api, "api_put_record.json", path="/v1/tenants/zeta/records/customer/cust-1001")
    assert status == 201
    assert other["id"] == "cust-1001"
    assert call(api, "api_get_record.json")[1]["revision"] == 1


@pytest.mark.usefixtures("tenant")
def test_problems_come_back_with_field_limit_length_and_actions(api: LocalFunction) -> None:
    status, problem = call(
        api, "api_put_record.json", body={"display_name": "x" * 501}, headers={"idempotency-key": None}
    )
    assert status == 422
    [error] = problem["errors"]
    assert error == {
        "field": "display_name",
        "message": error["message"],
        "code": "too_long",
        "limit": 500,
        "actual": 501,
        "actions": ["rename", "link_existing"],
    }
    assert call(api, "api_get_record.json")[0] == 404


@pytest.mark.usefixtures("tenant")
def test_a_customer_named_like_a_vendor_is_refused(api: LocalFunction) -> None:
    vendor = "/v1/tenants/acme-42/records/vendor/v-1"
    assert call(api, "api_put_record.json", path=vendor, body={"display_name": "Ada Lovelace"})[0] == 201
    status, problem = call(api, "api_put_record.json", headers={"idempotency-key": None})
    assert status == 422
    assert problem["errors"][0]["code"] == "name_clash"
    assert problem["errors"][0]["actions"] == ["rename", "link_existing"]


@pytest.mark.usefixtures("tenant")
def test_bulk_answers_each_record(api: LocalFunction) -> None:
    status, body = call(api, "api_post_records.json")
    assert status == 200
    assert [(r["id"], r["status"]) for r in body["results"]] == [
        ("item-consulting", "created"),
        ("item-widget", "created"),
    ]
    bad = {
        "records": [
            {"id": "i-3", "data": {"kind": "service"}},
            {"id": "i-4", "data": {"kind": "service", "name": "Ok"}},
        ]
    }
    status, body = call(api, "api_post_records.json", body=bad)
    assert [r["status"] for r in body["results"]] == ["invalid", "created"]
    assert body["results"][0]["errors"][0]["field"] == "name"
    status, listing = call(
        api, "api_get_record.json", path="/v1/tenants/acme-42/records/item", query="state=pending"
    )
    assert status == 200
    assert sorted(r["id"] for r in listing["items"]) == [
        "i-4",
        "item-consulting",
        "item-widget",
    ]


@pytest.mark.usefixtures("tenant")
def test_review_mode_sync_and_unpend(api: LocalFunction) -> None:
    settings = {"send_mode": "review"}
    assert call(api, "api_put_settings.json", body=settings, headers={"if-match": None})[0] == 200
    assert call(api, "api_put_record.json")[1]["state"] == "draft"
    status, sent = call(api, "api_send_records.json")
    assert status == 200
    assert sent["results"][0]["record"]["state"] == "pending"
    status, back = call(
        api,
        "api_send_records.json",
        path="/v1/tenants/acme-42/unpend",
        body={"records": [{"type": "customer", "id": "cust-1001"}]},
    )
    assert status == 200
    assert back["results"][0]["record"]["state"] == "draft"


@pytest.mark.usefixtures("tenant")
def test_sync_naming_a_record_twice_answers_it_once(api: LocalFunction) -> None:
    assert (
        call(api, "api_put_settings.json", body={"send_mode": "review"}, headers={"if-match": None})[0] == 200
    )
    call(api, "api_put_record.json")
    twice = {"records": [{"type": "customer", "id": "cust-1001"}] * 2}
    status, sent = call(api, "api_send_records.json", body=twice)
    assert status == 200
    assert [(r["id"], r["status"]) for r in sent["results"]] == [("cust-1001", "updated")]


@pytest.mark.usefixtures("tenant")
def test_unknown_type_record_and_tenant(api: LocalFunction) -> None:
    assert call(api, "api_get_record.json", path="/v1/tenants/acme-42/records/estimate/e-1")[0] == 422
    assert call(api, "api_get_record.json", path="/v1/tenants/acme-42/records/customer/nope")[0] == 404
    assert call(api, "api_get_record.json", path="/v1/tenants/ghost/records/customer/c-1")[0] == 404


@pytest.mark.usefixtures("tenant")
def test_delete_of_a_record_quickbooks_never_had_voids_it_at_once(api: LocalFunction) -> None:
    call(api, "api_put_record.json")
    status, body = call(api, "api_get_record.json", method="DELETE")
    assert status == 200
    assert (body["state"], body["deleted"]) == ("voided", True)


@pytest.mark.usefixtures("tenant")
def test_a_put_of_a_deleted_record_is_a_conflict_unless_forced(api: LocalFunction) -> None:
    call(api, "api_put_record.json")
    call(api, "api_get_record.json", method="DELETE")
    status, refused = call(api, "api_put_record.json", headers={"idempotency-key": None})
    assert status == 409
    assert refused["status"] == 409
    assert "force=true" in refused["detail"]
    status, back = call(api, "api_put_record.json", headers={"idempotency-key": None}, query="force=true")
    assert status == 200
    assert (back["state"], back["deleted"]) == ("pending", False)


@pytest.mark.usefixtures("tenant")
def test_the_events_feed_pages_with_after(api: LocalFunction, functions: dict[str, LocalFunction]) -> None:
    from qbsync.composition import container

    for n in range(3):
        container().events.publish("record.synced", "acme-42", {"n": n})
    container().events.publish("record.synced", "zeta", {"n": 99})
    status, page = call(api, "api_get_events.json", query="limit=2")
    assert status == 200
    assert [e["detail"]["n"] for e in page["items"]] == [0, 1]
    status, rest = call(api, "api_get_events.json", query=f"limit=2&after={page['next_cursor']}")
    assert [e["detail"]["n"] for e in rest["items"]] == [2]
    assert rest["next_cursor"] is None
    assert call(api, "api_get_events.json", query="after=abc")[0] == 422


def test_each_record_type_has_a_json_schema(api: LocalFunction) -> None:
    status, schema = call(api, "api_get_record.json", path="/v1/schemas/records/invoice")
    assert status == 200
    assert set(schema["required"]) == {"customer_id", "lines"}
    assert "due_date" in schema["properties"]
    assert call(api, "api_get_record.json", path="/v1/schemas/records/estimate")[0] == 422


@pytest.mark.usefixtures("tenant")
def test_an_invoice_line_beyond_the_money_limit_is_refused_naming_the_line(api: LocalFunction) -> None:
    line = {"item_id": "svc-1", "quantity": 100000, "rate": 100000}
    invoice = {"customer_id": "cust-1001", "lines": [line]}
    path = "/v1/tenants/acme-42/records/invoice/inv-7"
    status, problem = call(api, "api_put_record.json", path=path, body=invoice)
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["lines.0.amount"]
    assert "at most 9999999999.99" in problem["errors"][0]["message"]
    assert call(api, "api_get_record.json", path=path)[0] == 404


@pytest.mark.usefixtures("tenant")
def test_an_amount_below_a_cent_is_refused_and_a_negative_zero_is_stored_as_zero(api: LocalFunction) -> None:
    assert call(api, "api_put_record.json")[0] == 201  # customer cust-1001
    assert call(api, "api_post_records.json")[0] == 200  # items item-consulting, item-widget
    path = "/v1/tenants/acme-42/records/invoice/inv-7"
    event = copy.deepcopy(load_event("api_put_record.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["headers"].pop("idempotency-key")
    template = '{"customer_id": "cust-1001", "lines": [{"item_id": "item-consulting", "amount": %s}]}'

    event["body"] = template % "1E-400"
    result = api.invoke(event)
    assert result["statusCode"] == 422
    assert [e["field"] for e in json.loads(result["body"])["errors"]] == ["lines.0.amount"]

    event["body"] = template % "-0.0"
    result = api.invoke(event)
    assert result["statusCode"] == 201
    assert json.loads(result["body"])["data"]["lines"][0]["amount"] == "0.00"


@pytest.mark.usefixtures("tenant")
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"display_name": "Ada\u0000 Lovelace"}, "display_name"),
        ({"display_name": "Ada", "billing_address": {"city": "Lon\u202edon"}}, "billing_address.city"),
        ({"display_name": "Ada", "notes": "Tab\tand\nnew line are fine, \ufffe is not"}, "notes"),
    ],
    ids=["nul-in-name", "bidi-in-city", "fffe-in-notes"],
)
def test_a_character_quickbooks_cannot_store_is_refused_naming_the_field(
    api: LocalFunction, data: dict[str, Any], field: str
) -> None:
    status, problem = call(api, "api_put_record.json", body=data, headers={"idempotency-key": None})
    assert status == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, "forbidden_character")]
    assert call(api, "api_get_record.json")[0] == 404


def test_a_character_desktop_cannot_store_is_refused_at_push_naming_the_field(api: LocalFunction) -> None:
    body = {"id": "desk", "name": "Desk Co", "edition": "qbd"}
    assert call(api, "api_create_tenant.json", body=body)[0] == 201
    path = "/v1/tenants/desk/records/customer/c-1"
    status, problem = call(
        api, "api_put_record.json", path=path, body={"display_name": "Z\u00fcrich \u2013 \u65e5\u672c"},
        headers={"idempotency-key": None},
    )  # fmt: skip
    assert status == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("display_name", "unsupported_character")]
    assert call(api, "api_get_record.json", path=path, method="GET")[0] == 404
    status, _ = call(
        api, "api_put_record.json", path=path, body={"display_name": "Z\u00fcrich \u2013 M\u00fcller\u2019s"},
        headers={"idempotency-key": None},
    )  # fmt: skip
    assert status in (200, 201)
