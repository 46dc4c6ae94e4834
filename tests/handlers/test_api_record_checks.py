"""What a host form needs before it pushes, through ApiFunction on moto: each field's limits per edition in
the record schema, a dry run of a push's checks, and record lists filtered by several states and by text."""

from __future__ import annotations

from typing import Any

import pytest

from local.lambdas import LocalFunction
from qbsync.adapters.qbxml.mapping import NAME_MAX
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import LENGTH_LIMITS
from tests.handlers.conftest import Gateway
from tests.handlers.test_api_records import call, jobs_on_queue


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["ApiFunction"]


def schema_limits(api: LocalFunction, record_type: str) -> dict[str, Any]:
    status, schema = call(api, "api_get_record.json", path=f"/v1/schemas/records/{record_type}")
    assert status == 200
    limits: dict[str, Any] = schema["x-qbsync-limits"]
    return limits


@pytest.mark.parametrize("record_type", list(RECORD_TYPES))
def test_the_schema_gives_each_limit_the_push_enforces_in_each_edition(
    api: LocalFunction, record_type: str
) -> None:
    limits = schema_limits(api, record_type)
    expected: dict[str, dict[str, dict[str, int]]] = {}
    for edition, table in LENGTH_LIMITS.items():
        for key, rules in table.items():
            if key.split(".")[0] != record_type:
                continue
            for rule in rules:
                expected.setdefault(rule.field, {})[edition.value] = {"maxLength": rule.limit}
    assert limits == expected
    assert limits  # every record type has at least one limited field


def test_a_customer_name_may_be_500_characters_online_and_41_on_desktop(api: LocalFunction) -> None:
    limits = schema_limits(api, "customer")
    assert limits["display_name"] == {"qbo": {"maxLength": 500}, "qbd": {"maxLength": 41}}
    assert limits["billing_address.postal_code"] == {"qbo": {"maxLength": 30}, "qbd": {"maxLength": 13}}
    invoice = schema_limits(api, "invoice")
    assert invoice["lines.*.description"] == {"qbo": {"maxLength": 4000}, "qbd": {"maxLength": 4095}}
    assert invoice["terms"] == {"qbd": {"maxLength": 31}}  # Online sets no length for it


def test_the_desktop_rename_limits_are_the_schema_limits(api: LocalFunction) -> None:
    for record_type, most in NAME_MAX.items():
        name_field = RECORD_TYPES[record_type].name_field
        assert name_field is not None
        assert schema_limits(api, record_type)[name_field][Edition.QBD.value] == {"maxLength": most}


def create_tenant(api: LocalFunction, tenant_id: str, edition: str) -> None:
    body = {"id": tenant_id, "name": tenant_id.title(), "edition": edition}
    assert call(api, "api_create_tenant.json", body=body)[0] == 201


def validate(
    api: LocalFunction, tenant_id: str, record_type: str, body: Any, query: str | None = None
) -> tuple[int, Any]:
    path = f"/v1/tenants/{tenant_id}/records/{record_type}/validate"
    return call(api, "api_post_records.json", path=path, body=body, query=query)


def test_validate_answers_the_problems_a_push_gets_and_stores_nothing(api: LocalFunction) -> None:
    create_tenant(api, "desk", "qbd")
    create_tenant(api, "online", "qbo")
    long_name = {"display_name": "N" * 42, "email": "ada@example.com"}
    status, answer = validate(api, "desk", "customer", long_name)
    assert status == 200
    assert answer == {
        "valid": False,
        "problems": [
            {
                "field": "display_name",
                "message": answer["problems"][0]["message"],
                "code": "too_long",
                "limit": 41,
                "actual": 42,
                "actions": ["rename", "link_existing"],
            }
        ],
    }
    put = call(api, "api_put_record.json", path="/v1/tenants/desk/records/customer/c-1", body=long_name)
    assert put[0] == 422
    assert put[1]["errors"] == answer["problems"]  # one way to check: the push's own problems
    assert validate(api, "online", "customer", long_name) == (200, {"valid": True, "problems": []})
    # Nothing stored, nothing queued, no name reserved.
    for tenant_id in ("desk", "online"):
        listing = call(api, "api_get_record.json", path=f"/v1/tenants/{tenant_id}/records/customer")
        assert listing == (200, {"items": [], "next_cursor": None})
    assert jobs_on_queue() == []
    vendor = "/v1/tenants/online/records/vendor/v-1"
    assert call(api, "api_put_record.json", path=vendor, body=long_name)[0] == 201


def test_validate_finds_a_name_clash_and_missing_references_of_its_own_tenant_only(
    api: LocalFunction,
) -> None:
    create_tenant(api, "online", "qbo")
    create_tenant(api, "elsewhere", "qbo")
    vendor = "/v1/tenants/online/records/vendor/v-1"
    assert call(api, "api_put_record.json", path=vendor, body={"display_name": "Ada Lovelace"})[0] == 201
    status, answer = validate(api, "online", "customer", {"display_name": "Ada Lovelace"})
    assert (status, answer["valid"], [p["code"] for p in answer["problems"]]) == (200, False, ["name_clash"])
    own = validate(api, "online", "vendor", {"display_name": "Ada Lovelace"}, query="record_id=v-1")
    assert own == (200, {"valid": True, "problems": []})
    assert validate(api, "elsewhere", "customer", {"display_name": "Ada Lovelace"})[1]["valid"] is True
    invoice = {"customer_id": "v-1", "lines": [{"description": "Call-out"}]}
    status, answer = validate(api, "online", "invoice", invoice)
    assert [(p["field"], p["code"], p["actions"]) for p in answer["problems"]] == [
        ("customer_id", "reference_not_found", ["push_it_first", "edit"])
    ]


def test_validate_refuses_what_is_not_a_record_request(api: LocalFunction) -> None:
    create_tenant(api, "online", "qbo")
    status, problem = validate(api, "ghost", "customer", {"display_name": "Ada"})
    assert (status, problem["status"]) == (404, 404)
    assert validate(api, "online", "estimate", {"display_name": "Ada"})[0] == 422
    status, problem = validate(api, "online", "customer", ["not", "a", "record"])
    assert (status, problem["title"]) == (422, "Unprocessable Entity")
    assert validate(api, "online", "customer", {"display_name": "Ada"}, query="record_id=bad%20id")[0] == 422
    status, answer = validate(api, "online", "customer", {"display_name": 7})
    assert (status, answer["valid"], answer["problems"][0]["field"]) == (200, False, "display_name")


def listed(gateway: Gateway, query: str, tenant_id: str = "online") -> tuple[int, Any]:
    status, page = gateway.json("GET", f"/v1/tenants/{tenant_id}/records/customer?{query}")
    if status != 200:
        return status, page
    return status, [(r["id"], r["state"]) for r in page["items"]]


@pytest.fixture
def customers(api: LocalFunction, gateway: Gateway) -> None:
    """Customers of tenant online in review mode (drafts), one sent (pending), one of another tenant."""
    create_tenant(api, "online", "qbo")
    create_tenant(api, "elsewhere", "qbo")
    review = {"send_mode": "review"}
    for tenant_id in ("online", "elsewhere"):
        assert gateway.json("PUT", f"/v1/tenants/{tenant_id}/settings", review)[0] == 200
    names = {"c-1": "Café Noir", "c-2": "Ada Lovelace", "cafe-3": "Grace Hopper", "c-4": "Smith, John"}
    for record_id, name in names.items():
        path = f"/v1/tenants/online/records/customer/{record_id}"
        assert gateway.json("PUT", path, {"display_name": name})[0] == 201
    other = "/v1/tenants/elsewhere/records/customer/c-9"
    assert gateway.json("PUT", other, {"display_name": "Cafe Elsewhere"})[0] == 201
    sent = {"records": [{"type": "customer", "id": "c-2"}]}
    assert gateway.json("POST", "/v1/tenants/online/sync", sent)[0] == 200


@pytest.mark.usefixtures("customers")
def test_a_list_takes_several_states_repeated_or_comma_separated(gateway: Gateway) -> None:
    drafts = [("c-1", "draft"), ("c-4", "draft"), ("cafe-3", "draft")]
    assert listed(gateway, "state=draft") == (200, drafts)
    everything = [("c-1", "draft"), ("c-2", "pending"), ("c-4", "draft"), ("cafe-3", "draft")]
    assert listed(gateway, "state=draft&state=pending") == (200, everything)
    assert listed(gateway, "state=pending,draft&limit=2")[1] == everything[:2]
    assert listed(gateway, "state=failed&state=synced") == (200, [])


@pytest.mark.usefixtures("customers")
def test_a_list_keeps_records_whose_id_or_name_holds_the_text(gateway: Gateway) -> None:
    assert listed(gateway, "q=CAFE") == (200, [("c-1", "draft"), ("cafe-3", "draft")])
    assert listed(gateway, "q=caf%C3%A9&state=draft") == (200, [("c-1", "draft"), ("cafe-3", "draft")])
    assert listed(gateway, "q=lovelace&state=draft") == (200, [])
    assert listed(gateway, "q=h%2C%20j") == (200, [("c-4", "draft")])  # "h, j": a comma is kept
    _, page = gateway.json("GET", "/v1/tenants/online/records/customer?q=c&limit=2")
    assert [r["id"] for r in page["items"]] == ["c-1", "c-2"]
    _, rest = gateway.json("GET", f"/v1/tenants/online/records/customer?q=c&cursor={page['next_cursor']}")
    assert [r["id"] for r in rest["items"]] == ["c-4", "cafe-3"]
    assert listed(gateway, "q=cafe", tenant_id="elsewhere") == (200, [("c-9", "draft")])


@pytest.mark.usefixtures("customers")
def test_bad_list_filters_are_422_problems(gateway: Gateway) -> None:
    for query, field in [("state=draft,lost", "state.1"), ("q=", "q"), (f"q={'x' * 501}", "q")]:
        status, problem = gateway.json("GET", f"/v1/tenants/online/records/customer?{query}")
        assert (status, problem["status"]) == (422, 422), query
        assert [e["field"] for e in problem["errors"]] == [field], query
    assert gateway.json("GET", "/v1/tenants/ghost/records/customer?state=draft")[0] == 404
