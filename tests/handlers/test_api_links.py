"""Linking records to QuickBooks objects through ApiFunction, on moto: the link route and each of its
refusals, unlinking, clearing a type's links with its confirmation, and pushes that link on arrival."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.lambdas import LocalFunction
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.sync import SyncState
from tests.conftest import load_event
from tests.handlers.conftest import call

TENANT = "acme-42"
RECORDS = f"/v1/tenants/{TENANT}/records"


def quickbooks_has(list_type: ListType, quickbooks_id: str, name: str, **kw: Any) -> None:
    """An object of the company's lists, as a read of that list leaves it in the mirror."""
    from qbsync.composition import container

    mirror = container().mirror
    mirror.put_many(TENANT, [ListEntry(list_type, quickbooks_id, name, version="4", **kw)])
    mirror.save_mark(TENANT, ReadMark(list_type, loaded=True))


def push(api: LocalFunction, record_type: str, record_id: str, data: dict[str, Any]) -> tuple[int, Any]:
    status, _, body = call(api, "PUT", f"{RECORDS}/{record_type}/{record_id}", data)
    return status, body


def link(api: LocalFunction, record_type: str, record_id: str, quickbooks_id: Any) -> tuple[int, str, Any]:
    return call(api, "PUT", f"{RECORDS}/{record_type}/{record_id}/link", {"quickbooks_id": quickbooks_id})


def events_of(api: LocalFunction, kind: str) -> list[dict[str, Any]]:
    _, _, page = call(api, "GET", f"/v1/tenants/{TENANT}/events?limit=500")
    return [e["detail"] for e in page["items"] if e["type"] == kind]


def test_the_sample_link_event_links_a_customer_to_the_quickbooks_customer(api: LocalFunction) -> None:
    quickbooks_has(ListType.CUSTOMER, "58", "Analytical Engines Ltd")
    assert api.invoke(load_event("api_put_record.json"))["statusCode"] == 201
    answer = api.invoke(load_event("api_link_record.json"))
    assert answer["statusCode"] == 200
    linked = json.loads(answer["body"])
    assert (linked["state"], linked["quickbooks_id"], linked["quickbooks_name"]) == (
        "synced",
        "58",
        "Analytical Engines Ltd",
    )
    assert linked["synced_revision"] == linked["revision"] == 1
    assert linked["history"][-1]["detail"] == "linked to QuickBooks customer 58 (Analytical Engines Ltd)"
    status, _, read = call(api, "GET", f"{RECORDS}/customer/cust-1001")
    assert (status, read["quickbooks_id"]) == (200, "58")
    assert [e["record_id"] for e in events_of(api, "record.linked")] == ["cust-1001"]
    assert link(api, "customer", "cust-1001", "58")[:2] == (200, "application/json")  # again: unchanged


def _other_kind(api: LocalFunction) -> None:
    quickbooks_has(ListType.CUSTOMER, "58", "Acme")
    quickbooks_has(ListType.VENDOR, "90", "Parts Co")


def _inactive(api: LocalFunction) -> None:
    quickbooks_has(ListType.CUSTOMER, "90", "Gone Ltd", active=False)


def _linked_elsewhere(api: LocalFunction) -> None:
    quickbooks_has(ListType.CUSTOMER, "90", "Taken Ltd")
    push(api, "customer", "c-other", {"display_name": "Other"})
    assert link(api, "customer", "c-other", "90")[0] == 200


def _has_its_own(api: LocalFunction) -> None:
    quickbooks_has(ListType.CUSTOMER, "90", "Second Ltd")
    quickbooks_has(ListType.CUSTOMER, "91", "First Ltd")
    assert link(api, "customer", "c-1", "91")[0] == 200


def _being_sent(api: LocalFunction) -> None:
    from qbsync.composition import container

    quickbooks_has(ListType.CUSTOMER, "90", "Acme")
    store = container().record_store
    record = store.get(TENANT, "customer", "c-1")
    assert record is not None
    sending = record.copy()
    sending.attempts = 1
    sending.move(SyncState.SYNCING, record.updated_at, "sent to QuickBooks")
    store.save(sending, record.revision, record.state)


REFUSALS = {
    "not_in_quickbooks": (
        lambda api: quickbooks_has(ListType.CUSTOMER, "58", "Acme"),
        "QuickBooks has no customer 90",
    ),
    "other_kind": (_other_kind, "QuickBooks vendor 90 (Parts Co)"),
    "list_not_read": (lambda api: None, "has not read the company's customer list"),
    "inactive": (_inactive, "is inactive"),
    "linked_elsewhere": (_linked_elsewhere, "already linked to customer 'c-other'"),
    "has_its_own": (_has_its_own, "unlink it first"),
    "being_sent": (_being_sent, "a send is in flight"),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_each_refused_link_is_a_409_problem_saying_why_and_changes_nothing(
    api: LocalFunction, code: str
) -> None:
    push(api, "customer", "c-1", {"display_name": "Acme"})
    arrange, says = REFUSALS[code]
    arrange(api)
    _, _, before = call(api, "GET", f"{RECORDS}/customer/c-1")
    status, content_type, problem = link(api, "customer", "c-1", "90")
    assert (status, content_type) == (409, "application/problem+json")
    assert problem["status"] == 409
    assert says in problem["detail"]
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("quickbooks_id", code)]
    assert call(api, "GET", f"{RECORDS}/customer/c-1")[2] == before


def test_a_link_to_a_missing_record_a_document_or_a_bad_id_is_refused_before_anything(
    api: LocalFunction,
) -> None:
    quickbooks_has(ListType.CUSTOMER, "58", "Acme")
    status, content_type, missing = link(api, "customer", "nope", "58")
    assert (status, content_type, missing["status"]) == (404, "application/problem+json", 404)
    status, _, document = link(api, "invoice", "inv-1", "58")
    assert status == 400
    assert "only customer, employee, item, vendor are" in document["detail"]
    assert link(api, "estimate", "e-1", "58")[0] == 422
    push(api, "customer", "c-1", {"display_name": "Acme"})
    status, _, bad = link(api, "customer", "c-1", "58 OR 1=1")
    assert (status, bad["errors"][0]["field"]) == (422, "quickbooks_id")
    assert link(api, "customer", "c-1", None)[0] == 422
    status, _, extra = call(api, "PUT", f"{RECORDS}/customer/c-1/link", {"quickbooks_id": "58", "x": 1})
    assert (status, extra["errors"][0]["field"]) == (422, "x")


def test_unlinking_forgets_the_object_and_leaves_a_draft(api: LocalFunction) -> None:
    quickbooks_has(ListType.ITEM, "7", "Valve")
    push(api, "item", "i-1", {"kind": "service", "name": "Valve"})
    link(api, "item", "i-1", "7")
    status, _, unlinked = call(api, "DELETE", f"{RECORDS}/item/i-1/link")
    assert status == 200
    assert (unlinked["state"], unlinked["quickbooks_id"]) == ("draft", None)
    assert "unlinked from QuickBooks item 7 (Valve)" in unlinked["history"][-1]["detail"]
    [told] = events_of(api, "record.unlinked")
    assert (told["record_id"], told["unlinked_from"]) == ("i-1", "7")
    assert link(api, "item", "i-1", "7")[0] == 200  # linked again
    assert call(api, "DELETE", f"{RECORDS}/item/nope/link")[0] == 404


def test_clearing_a_types_links_needs_confirm_true_and_answers_how_many_it_unlinked(
    api: LocalFunction,
) -> None:
    for n in range(3):
        quickbooks_has(ListType.VENDOR, str(n), f"Vendor {n}")
        push(api, "vendor", f"v-{n}", {"display_name": f"Vendor {n}"})
        link(api, "vendor", f"v-{n}", str(n))
    push(api, "vendor", "v-9", {"display_name": "Never linked"})
    status, content_type, unconfirmed = call(api, "DELETE", f"/v1/tenants/{TENANT}/links/vendor")
    assert (status, content_type) == (400, "application/problem+json")
    assert "all 3 vendor records" in unconfirmed["detail"]
    assert "confirm=true" in unconfirmed["detail"]
    assert call(api, "GET", f"{RECORDS}/vendor/v-0")[2]["quickbooks_id"] == "0"
    assert call(api, "DELETE", f"/v1/tenants/{TENANT}/links/vendor?confirm=false")[0] == 400
    status, _, cleared = call(api, "DELETE", f"/v1/tenants/{TENANT}/links/vendor?confirm=true")
    assert (status, cleared) == (200, {"record_type": "vendor", "unlinked": 3, "left": {}})
    assert {call(api, "GET", f"{RECORDS}/vendor/v-{n}")[2]["state"] for n in range(3)} == {"draft"}
    assert call(api, "DELETE", f"/v1/tenants/{TENANT}/links/invoice?confirm=true")[0] == 400
    assert call(api, "DELETE", "/v1/tenants/ghost/links/vendor?confirm=true")[0] == 404


def test_a_put_with_a_quickbooks_id_links_on_arrival_and_a_refused_one_stores_nothing(
    api: LocalFunction,
) -> None:
    quickbooks_has(ListType.CUSTOMER, "58", "Acme Ltd")
    status, created = push(api, "customer", "c-1", {"display_name": "Acme", "quickbooks_id": "58"})
    assert (status, created["state"], created["quickbooks_id"]) == (201, "synced", "58")
    assert "quickbooks_id" not in created["data"]
    status, content_type, refused = call(
        api, "PUT", f"{RECORDS}/customer/c-2", {"display_name": "Grace", "quickbooks_id": "58"}
    )
    assert (status, content_type) == (409, "application/problem+json")
    assert refused["errors"][0]["code"] == "linked_elsewhere"
    assert call(api, "GET", f"{RECORDS}/customer/c-2")[0] == 404


def test_a_bulk_push_links_each_entry_on_its_own(api: LocalFunction) -> None:
    quickbooks_has(ListType.ITEM, "7", "Valve")
    body = {
        "records": [
            {"id": "i-1", "data": {"kind": "service", "name": "Valve", "quickbooks_id": "7"}},
            {"id": "i-2", "data": {"kind": "service", "name": "Pump", "quickbooks_id": "8"}},
            {"id": "i-3", "data": {"kind": "service", "name": "Hose"}},
        ]
    }
    status, _, answer = call(api, "POST", f"{RECORDS}/item", body)
    assert status == 200
    results = {r["id"]: r for r in answer["results"]}
    assert (results["i-1"]["status"], results["i-1"]["record"]["state"]) == ("created", "synced")
    assert (results["i-2"]["status"], results["i-2"]["errors"][0]["code"]) == ("refused", "not_in_quickbooks")
    assert (results["i-3"]["status"], results["i-3"]["record"]["state"]) == ("created", "pending")
    assert call(api, "GET", f"{RECORDS}/item/i-2")[0] == 404


def test_a_failed_records_candidates_are_shown_with_its_failure(api: LocalFunction) -> None:
    from qbsync.composition import container
    from qbsync.domain.sync import Candidate, Failure

    push(api, "customer", "c-1", {"display_name": "Acme"})
    store = container().record_store
    record = store.get(TENANT, "customer", "c-1")
    assert record is not None
    failed = record.copy()
    candidates = (Candidate("58", "Acme", "customer"),)
    failure = Failure(
        "6240", "QuickBooks has the name", ("rename", "link_existing"), "display_name", candidates
    )
    failed.fail(failure, record.updated_at)
    store.save(failed, record.revision, record.state)
    _, _, read = call(api, "GET", f"{RECORDS}/customer/c-1")
    assert read["failure"]["candidates"] == [{"quickbooks_id": "58", "name": "Acme", "list_type": "customer"}]
    quickbooks_has(ListType.CUSTOMER, "58", "Acme")
    status, _, linked = link(api, "customer", "c-1", "58")
    assert (status, linked["state"], linked["failure"]) == (200, "synced", None)
