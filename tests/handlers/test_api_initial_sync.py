"""The initial sync through ApiFunction, on moto: the dry run's summary, starting a run (409 while one runs),
its state with progress per type and errors, and bad input answered as problems."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from local.lambdas import LocalFunction
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from tests.conftest import load_event
from tests.handlers.conftest import call

TENANT = "acme-42"
PATH = f"/v1/tenants/{TENANT}/initial-sync"


def lists_read(*entries: ListEntry) -> None:
    from qbsync.composition import container

    mirror = container().mirror
    mirror.put_many(TENANT, list(entries))
    for list_type in (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE, ListType.ITEM):
        mirror.save_mark(TENANT, ReadMark(list_type, loaded=True))


def test_the_sample_event_answers_the_dry_runs_summary(api: LocalFunction) -> None:
    lists_read(ListEntry(ListType.CUSTOMER, "58", "Analytical Engines Ltd", email="ada@engines.test"))
    status, _, _ = call(api, "PUT", f"/v1/tenants/{TENANT}/settings", {"send_mode": "review"})
    assert status == 200
    for rid, name in (("cust-1001", "Analytical Engines Ltd"), ("cust-1002", "Difference Co")):
        status, _, _ = call(
            api, "PUT", f"/v1/tenants/{TENANT}/records/customer/{rid}", {"display_name": name}
        )
        assert status == 201
    result = api.invoke(load_event("api_post_initial_sync.json"))
    assert result["statusCode"] == 200
    summary = json.loads(result["body"])
    assert summary["dry_run"] is True
    assert summary["lists_read"] is True
    assert summary["counts"]["customer"] == {
        "in_quickbooks": 1,
        "in_app": 2,
        "matched": 1,
        "to_review": 0,
        "to_create_in_quickbooks": 1,
        "to_create_in_app": 0,
        "ignored": 0,
        "ignored_by_reason": {},
    }
    assert summary["counts"]["invoice"]["in_quickbooks"] is None


def test_a_run_starts_once_reports_progress_and_a_second_start_is_409(
    api: LocalFunction, run_jobs: Callable[[], int]
) -> None:
    lists_read()
    call(api, "PUT", f"/v1/tenants/{TENANT}/settings", {"send_mode": "review", "only_in_app": "ignore"})
    call(api, "PUT", f"/v1/tenants/{TENANT}/records/customer/c-1", {"display_name": "Solo"})
    status, _, started = call(api, "POST", PATH)  # no body: start it
    assert status == 202
    assert (started["state"], started["step"]) == ("running", "matching")  # the worker matches
    assert "Matching" in started["note"]
    assert call(api, "POST", PATH, {"dry_run": False})[0] == 409
    run_jobs()
    status, _, started = call(api, "GET", PATH)
    assert (started["state"], started["step"]) == ("done", "done")  # ignored: nothing to send
    assert started["summary"]["customer"]["ignored_by_reason"] == {"only_in_app": 1}
    assert started["progress"]["customer"] == {
        "in_scope": 1,
        "synced": 0,
        "failed": 0,
        "ignored": 1,
        "waiting": 0,
        "left": 0,
        "percent": 100,
    }
    status, _, shown = call(api, "GET", PATH)
    assert status == 200
    assert shown["state"] == "done"
    status, _, again = call(api, "POST", PATH, {"dry_run": False})
    assert (status, again["step"]) == (202, "matching")  # a done run may be started again
    run_jobs()
    assert call(api, "GET", PATH)[2]["state"] == "done"


def test_while_a_run_waits_for_the_lists_another_start_is_a_409_problem(api: LocalFunction) -> None:
    status, _, started = call(api, "POST", PATH, {})
    assert status == 202
    assert (started["state"], started["step"]) == ("running", "reading")
    assert "Reading the company's customers" in started["note"]
    status, content_type, problem = call(api, "POST", PATH, {"dry_run": False})
    assert status == 409
    assert content_type == "application/problem+json"
    assert "is running" in problem["detail"]


def test_failed_records_are_listed_with_their_actions_a_page_at_a_time(
    api: LocalFunction, run_jobs: Callable[[], int]
) -> None:
    lists_read(
        ListEntry(ListType.CUSTOMER, "58", "Acme Plumbing"),
        ListEntry(ListType.CUSTOMER, "59", "ACME Plumbing Inc"),
    )
    call(api, "PUT", f"/v1/tenants/{TENANT}/settings", {"send_mode": "review"})
    for rid, name in (("c-1", "Acme Plumbing LLC"), ("c-2", "Acme Plumbing Co")):
        call(api, "PUT", f"/v1/tenants/{TENANT}/records/customer/{rid}", {"display_name": name})
    call(api, "POST", PATH)
    run_jobs()
    status, _, first = call(api, "GET", f"{PATH}?errors_limit=1")
    assert status == 200
    [error] = first["errors"]
    assert error["failure"]["code"] == "match_to_review"
    assert "link_existing" in error["failure"]["actions"]
    assert {c["quickbooks_id"] for c in error["failure"]["candidates"]} == {"58", "59"}
    cursor = first["errors_next_cursor"]
    assert cursor
    _, _, second = call(api, "GET", f"{PATH}?errors_limit=1&errors_cursor={cursor}")
    assert [e["record_id"] for e in first["errors"] + second["errors"]] in (["c-1", "c-2"], ["c-2", "c-1"])


@pytest.mark.parametrize(
    ("method", "path", "body", "raw", "expected"),
    [
        ("POST", PATH, {"dry_run": "maybe"}, None, 422),
        ("POST", PATH, {"dry_run": True, "extra": 1}, None, 422),
        ("POST", PATH, None, "{not json", 400),
        ("GET", f"{PATH}?errors_limit=0", None, None, 422),
        ("POST", "/v1/tenants/nobody/initial-sync", {"dry_run": True}, None, 404),
        ("GET", PATH, None, None, 404),  # none started yet
    ],
)
def test_bad_input_is_a_problem_never_a_500(
    api: LocalFunction, method: str, path: str, body: Any, raw: str | None, expected: int
) -> None:
    status, content_type, problem = call(api, method, path, body, raw)
    assert status == expected
    assert content_type == "application/problem+json"
    assert problem["status"] == expected


def test_an_errors_cursor_this_service_did_not_give_is_422(api: LocalFunction) -> None:
    call(api, "POST", PATH)
    status, content_type, problem = call(api, "GET", f"{PATH}?errors_cursor=garbage")
    assert (status, content_type) == (422, "application/problem+json")
    assert problem["status"] == 422
