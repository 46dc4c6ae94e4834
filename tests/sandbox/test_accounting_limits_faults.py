"""requestid idempotency, Intuit's throttles (per minute, concurrent, batch), and the injected faults a client
must survive: `timeout` (nothing committed) and `lost` (committed, answer lost)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from local.qbo import server
from local.qbo.accounting import options_for
from local.qbo.limits import limiter_for
from local.qbo.state import Fault
from tests.sandbox.test_accounting_helpers import REALM, Api, fault


@pytest.fixture
def api() -> Api:
    return Api()


def _customers(api: Api) -> list[str]:
    found = api.query("select * from Customer").get_json()["QueryResponse"]
    return [c["DisplayName"] for c in found.get("Customer", [])]


# ------------------------------------------------------------------------------ requestid


def test_a_repeated_requestid_answers_the_first_response_without_doing_it_again(api: Api) -> None:
    first = api.post("customer", {"DisplayName": "Once"}, requestid="a90bfae9-9c6b-4179-9c7e-d8f538d09f6f")
    api.sb.clock.offset += timedelta(seconds=5)
    again = api.post("customer", {"DisplayName": "Once"}, requestid="a90bfae9-9c6b-4179-9c7e-d8f538d09f6f")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_data() == first.get_data()  # the same body, down to its `time`
    assert _customers(api) == ["Once"]
    assert [op for *_, op in api.events] == ["Create"]
    other = api.post("customer", {"DisplayName": "Once"}, requestid="another-one")
    assert fault(other)["code"] == "6240"  # a new requestid is a new request
    assert api.post("customer", {"DisplayName": "Twice"}, requestid="").status_code == 200  # empty: no id


def test_a_refused_request_is_replayed_refused(api: Api) -> None:
    body = {"DisplayName": "Late"}
    assert fault(api.post("invoice", body, requestid="r-1"))["code"] == "2010"
    assert fault(api.post("invoice", body, requestid="r-1"))["code"] == "2010"


def test_requestids_are_at_most_fifty_characters(api: Api) -> None:
    too_long = "x" * 51
    error = fault(api.post("customer", {"DisplayName": "A"}, requestid=too_long))
    assert (error["status"], error["code"]) == (400, "6000")
    assert error["Message"] == "A business validation error has occurred while processing your request"
    assert error["Detail"] == (
        "Business Validation Error: You cannot enter more than 50 characters in the request_id field. "
        "You tried entering xxxxxxxxxx..., which is 51 characters."
    )
    assert api.post("customer", {"DisplayName": "A"}, requestid="y" * 50).status_code == 200


# ------------------------------------------------------------------------------ throttles


def test_each_realm_gets_its_requests_per_rolling_minute(api: Api) -> None:
    limiter_for(api.sb).per_minute = 3
    statuses = [api.get("companyinfo/" + REALM).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = api.get("companyinfo/" + REALM)
    assert throttled.mimetype == "application/xml"  # XML even when JSON was asked for
    assert b'<Fault type="SERVICE"><Error code="3001">' in throttled.get_data()
    other = api.sb.add_company("Another Co", "9130355555555556")
    token = api.sb.issue_tokens("test-client", other.realm_id, ["com.intuit.quickbooks.accounting"], "c2")[
        0
    ].token
    assert (
        api.client.get(
            f"/v3/company/{other.realm_id}/companyinfo/{other.realm_id}",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    api.sb.clock.offset += timedelta(seconds=61)
    assert api.get("companyinfo/" + REALM).status_code == 200


def test_batch_requests_have_their_own_smaller_budget(api: Api) -> None:
    limiter_for(api.sb).batch_per_minute = 2
    batch = {"BatchItemRequest": [{"bId": "1", "Query": "select count(*) from Item"}]}
    assert [api.post("batch", batch).status_code for _ in range(3)] == [200, 200, 429]
    assert api.query("select count(*) from Item").status_code == 200


@pytest.fixture
def live() -> Iterator[tuple[server.RunningSandbox, dict[str, str]]]:
    """The sandbox on a loopback port, with a bearer token for the test company."""
    api = Api()
    running = server.start(port=0, sb=api.sb)
    try:
        yield running, api.headers
    finally:
        options_for(api.sb).wake.set()  # end any request a `timeout` fault still holds
        running.stop()


def test_at_most_ten_requests_of_a_realm_run_at_once(
    live: tuple[server.RunningSandbox, dict[str, str]],
) -> None:
    running, headers = live
    options_for(running.sandbox).timeout_seconds = 1.5  # each of the first ten is held that long
    running.sandbox.faults.append(Fault(kind="timeout", remaining=10))
    start = threading.Barrier(11)
    url = f"{running.url}/v3/company/{REALM}/companyinfo/{REALM}"

    def call(_: int) -> int:
        with httpx.Client(timeout=10) as client:
            start.wait()
            return client.get(url, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=11) as pool:
        statuses = sorted(pool.map(call, range(11)))
    assert statuses == [429] + [504] * 10
    assert limiter_for(running.sandbox).in_flight(REALM) == 0
    assert httpx.get(url, headers=headers).status_code == 200


def test_concurrent_writes_of_one_name_create_it_once(
    live: tuple[server.RunningSandbox, dict[str, str]],
) -> None:
    """The sandbox lock makes check-then-store atomic: racing creates of one name give one record."""
    running, headers = live
    start = threading.Barrier(8)
    url = f"{running.url}/v3/company/{REALM}/customer"

    def create(_: int) -> tuple[int, str]:
        with httpx.Client(timeout=10) as client:
            start.wait()
            answer = client.post(url, json={"DisplayName": "Racing Customer"}, headers=headers)
            body = answer.json()
            return answer.status_code, body["Fault"]["Error"][0]["code"] if "Fault" in body else "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = sorted(pool.map(create, range(8)))
    assert results == [(200, "created")] + [(400, "6240")] * 7
    assert len(running.sandbox.companies[REALM].of("Customer")) == 1


# ------------------------------------------------------------------------------ injected faults


def test_a_timeout_fault_holds_the_request_and_commits_nothing(
    live: tuple[server.RunningSandbox, dict[str, str]],
) -> None:
    running, headers = live
    options_for(running.sandbox).timeout_seconds = 5.0
    queued = httpx.post(
        f"{running.url}/_sandbox/faults", json={"kind": "timeout", "path_contains": "/customer"}
    )
    assert queued.status_code == 201
    url = f"{running.url}/v3/company/{REALM}/customer"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            url, json={"DisplayName": "Never"}, headers=headers, params={"requestid": "t-1"}, timeout=1.0
        )
    query = f"{running.url}/v3/company/{REALM}/query"
    found = httpx.get(query, params={"query": "select count(*) from Customer"}, headers=headers, timeout=5)
    assert found.json()["QueryResponse"] == {"totalCount": 0}
    retried = httpx.post(
        url, json={"DisplayName": "Never"}, headers=headers, params={"requestid": "t-1"}, timeout=5
    )
    assert retried.status_code == 200  # the retry with the same requestid does the work, once
    assert retried.json()["Customer"]["DisplayName"] == "Never"


def test_a_timeout_fault_answers_504_once_the_hold_ends(api: Api) -> None:
    options_for(api.sb).timeout_seconds = 0.01
    api.sb.faults.append(Fault(kind="timeout", path_contains="/invoice", method="POST"))
    customer = api.customer()["Id"]
    line = {
        "Amount": 5,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
    }
    response = api.post("invoice", {"CustomerRef": {"value": customer}, "Line": [line]})
    assert (response.status_code, response.get_data()) == (504, b"")
    assert api.query("select count(*) from Invoice").get_json()["QueryResponse"] == {"totalCount": 0}
    assert [kind for kind, *_ in api.events] == ["Customer"]


def test_a_lost_answer_was_committed_and_the_requestid_retry_gets_it(api: Api) -> None:
    api.sb.faults.append(Fault(kind="lost", path_contains="/customer", method="POST"))
    lost = api.post("customer", {"DisplayName": "Committed"}, requestid="lost-1")
    assert (lost.status_code, lost.get_data()) == (502, b"")
    assert _customers(api) == ["Committed"]
    assert [op for *_, op in api.events] == ["Create"]  # the change happened, webhooks included
    retried = api.post("customer", {"DisplayName": "Committed"}, requestid="lost-1")
    assert retried.status_code == 200
    assert retried.get_json()["Customer"]["DisplayName"] == "Committed"
    assert _customers(api) == ["Committed"]  # no duplicate
    without_id = api.post("customer", {"DisplayName": "Committed"})
    assert fault(without_id)["code"] == "6240"  # what a retry without the requestid runs into
