"""Automatch through ApiFunction, on moto: POST /matches answers its run at once (202) and the worker does it;
GET shows the run's counts and pages the results with the names of both sides, accept links and reject
remembers; every refusal is a problem document."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from local.lambdas import LocalFunction
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from tests.conftest import load_event
from tests.handlers.conftest import call

TENANT = "acme-42"
MATCHES = f"/v1/tenants/{TENANT}/matches"
PROBLEM = "application/problem+json"


def quickbooks_has(*entries: ListEntry) -> None:
    from qbsync.composition import container

    mirror = container().mirror
    mirror.put_many(TENANT, list(entries))
    for list_type in {e.list_type for e in entries}:
        mirror.save_mark(TENANT, ReadMark(list_type, loaded=True))


def seed(api: LocalFunction) -> None:
    """The records wait as drafts (review mode): nothing but the match links them."""
    assert call(api, "PUT", f"/v1/tenants/{TENANT}/settings", {"send_mode": "review"})[0] == 200
    quickbooks_has(
        ListEntry(ListType.CUSTOMER, "58", "Ada Lovelace Ltd", email="ada@example.com", version="2"),
        ListEntry(ListType.CUSTOMER, "59", "Grace Hopper Consulting", version="1"),
        ListEntry(ListType.CUSTOMER, "60", "Acme Plumbing", version="1"),
        ListEntry(ListType.CUSTOMER, "61", "ACME Plumbing, Inc.", version="1"),
        ListEntry(ListType.ITEM, "7", "Copper Pipe", sku="CP-1", version="1"),
    )
    for record_id, data in [
        ("c-ada", {"display_name": "Ada L.", "email": "ada@example.com"}),
        ("c-grace", {"display_name": "Grase Hoper Consulting"}),
        ("c-acme", {"display_name": "Acme Plumbing"}),
    ]:
        assert call(api, "PUT", f"/v1/tenants/{TENANT}/records/customer/{record_id}", data)[0] in (200, 201)
    item = {"kind": "non_inventory", "name": "Pipe, copper", "sku": "cp-1"}
    assert call(api, "PUT", f"/v1/tenants/{TENANT}/records/item/i-pipe", item)[0] in (200, 201)


def matched(api: LocalFunction, run_jobs: Callable[[], int], body: Any) -> dict[str, Any]:
    """POST /matches, the worker's jobs, then the run as GET /matches shows it."""
    status, _, asked = call(api, "POST", MATCHES, body)
    assert status == 202, asked
    assert (asked["state"], asked["by_type"], asked["finished_at"]) == ("queued", {}, None)
    assert run_jobs() >= 1
    status, _, page = call(api, "GET", f"{MATCHES}?limit=1")
    assert status == 200, page
    run: dict[str, Any] = page["run"]
    assert (run["run_id"], run["state"]) == (asked["run_id"], "done")
    return run


def test_a_run_answers_the_counts_and_the_listing_shows_both_sides(
    api: LocalFunction, run_jobs: Callable[[], int]
) -> None:
    seed(api)
    summary = matched(api, run_jobs, {"record_types": ["customer", "item"]})
    assert summary["by_type"]["customer"]["found"] == {
        "linked": 0, "matched": 2, "ambiguous": 1, "not_found": 0, "missing_key": 0,
    }  # fmt: skip
    assert summary["by_type"]["customer"]["auto_linked"] == 1
    assert summary["by_type"]["item"]["auto_linked"] == 1
    status, _, page = call(api, "GET", f"{MATCHES}?record_type=customer&outcome=ambiguous")
    assert status == 200, page
    [acme] = page["items"]
    assert (acme["match_id"], acme["name"], acme["state"]) == ("customer.c-acme", "Acme Plumbing", "pick")
    assert [(c["quickbooks_id"], c["name"], c["same_name_as"]) for c in acme["candidates"]] == [
        ("60", "Acme Plumbing", ["61"]),
        ("61", "ACME Plumbing, Inc.", ["60"]),
    ]
    status, _, duplicates = call(api, "GET", f"{MATCHES}/duplicate-names?record_type=customer")
    assert status == 200, duplicates
    assert duplicates["items"] == [
        {"quickbooks_id": "60", "name": "Acme Plumbing", "active": True, "same_name_as": ["61"]},
        {"quickbooks_id": "61", "name": "ACME Plumbing, Inc.", "active": True, "same_name_as": ["60"]},
    ]
    assert call(api, "GET", f"{MATCHES}/duplicate-names?record_type=item")[2]["items"] == []
    status, _, first = call(api, "GET", f"{MATCHES}?limit=2")
    status, _, rest = call(api, "GET", f"{MATCHES}?limit=2&cursor={first['next_cursor']}")
    ids = [m["match_id"] for m in first["items"] + rest["items"]]
    assert ids == ["customer.c-acme", "customer.c-ada", "customer.c-grace", "item.i-pipe"]
    assert rest["next_cursor"] is None


def test_accept_links_the_pick_and_reject_is_remembered(
    api: LocalFunction, run_jobs: Callable[[], int]
) -> None:
    seed(api)
    assert call(api, "POST", MATCHES, {})[0] == 409  # all four types: vendors and employees not read yet
    from qbsync.composition import container

    for list_type in (ListType.VENDOR, ListType.EMPLOYEE):  # read, and empty
        container().mirror.save_mark(TENANT, ReadMark(list_type, loaded=True))
    summary = matched(api, run_jobs, {})
    assert sorted(summary["by_type"]) == ["customer", "employee", "item", "vendor"]
    status, content_type, problem = call(api, "POST", f"{MATCHES}/customer.c-acme/accept")
    assert (status, content_type) == (422, PROBLEM)
    assert problem["errors"][0]["code"] == "pick_required"
    status, _, accepted = call(api, "POST", f"{MATCHES}/customer.c-acme/accept", {"quickbooks_id": "61"})
    assert status == 200, accepted
    assert (accepted["state"], accepted["linked_to"]) == ("linked", "61")
    record = call(api, "GET", f"/v1/tenants/{TENANT}/records/customer/c-acme")[2]
    assert record["quickbooks_id"] == "61"
    status, _, rejected = call(api, "POST", f"{MATCHES}/customer.c-grace/reject")
    assert (status, rejected["state"]) == (200, "rejected")
    assert call(api, "POST", f"{MATCHES}/customer.c-grace/accept")[0] == 409


def test_refusals_are_problem_documents(api: LocalFunction, run_jobs: Callable[[], int]) -> None:
    status, content_type, problem = call(api, "POST", MATCHES, {"record_types": ["customer"]})
    assert (status, content_type) == (409, PROBLEM)
    assert "QuickBooks' customers have not been read yet" in problem["detail"]
    seed(api)
    assert call(api, "POST", MATCHES, {"record_types": ["customer"]})[0] == 202
    status, content_type, problem = call(api, "POST", MATCHES, {"record_types": ["item"]})
    assert (status, content_type) == (409, PROBLEM)
    assert "is queued" in problem["detail"]
    run_jobs()
    for method, path, body, expected in [
        ("POST", MATCHES, {"record_types": ["invoice"]}, 422),
        ("POST", MATCHES, {"record_types": []}, 422),
        ("POST", MATCHES, {"types": ["customer"]}, 422),
        ("GET", f"{MATCHES}?outcome=maybe", None, 422),
        ("GET", f"{MATCHES}/duplicate-names", None, 422),
        ("GET", f"{MATCHES}/duplicate-names?record_type=invoice", None, 422),
        ("GET", f"{MATCHES}?cursor=nonsense", None, 422),
        ("POST", f"{MATCHES}/customer.nobody/accept", None, 404),
        ("POST", f"{MATCHES}/c-acme/accept", None, 422),
        ("POST", f"{MATCHES}/customer.c-acme/accept", {"quickbooks_id": "58"}, 422),
        ("POST", f"{MATCHES}/customer.c-ada/reject", None, 409),
        ("POST", "/v1/tenants/nobody/matches", {}, 404),
    ]:
        status, content_type, problem = call(api, method, path, body)
        assert (status, content_type) == (expected, PROBLEM), (method, path, problem)
        assert problem["detail"]


def test_the_routes_are_in_the_openapi_document(api: LocalFunction) -> None:
    event = copy.deepcopy(load_event("api_run_matches.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/openapi.json"
    event["requestContext"]["http"]["method"] = "GET"
    event["body"] = None
    paths = json.loads(api.invoke(event)["body"])["paths"]
    assert {"get", "post"} <= set(paths["/v1/tenants/{tenant_id}/matches"])
    assert "post" in paths["/v1/tenants/{tenant_id}/matches/{match_id}/accept"]
    assert "post" in paths["/v1/tenants/{tenant_id}/matches/{match_id}/reject"]
