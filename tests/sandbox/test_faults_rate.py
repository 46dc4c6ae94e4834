"""Injected faults by rate (POST /_sandbox/faults with `rate` and `seed`) next to those by count: each
fault's own seeded die, the order in which matching faults are asked, GET and DELETE of /_sandbox/faults, and
what each kind leaves behind: a 503 commits nothing, a lost answer was committed and a requestid retry gets
it."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.sandbox.test_accounting_helpers import REALM, Api, fault


@pytest.fixture
def api() -> Api:
    return Api()


def add_fault(api: Api, **spec: Any) -> dict[str, Any]:
    response = api.client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["fault"]  # type: ignore[no-any-return]


def listed(api: Api) -> dict[str, Any]:
    response = api.client.get("/_sandbox/faults")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def company_info(api: Api) -> int:
    return api.get(f"companyinfo/{REALM}").status_code


def rolls(seed: int, rate: float, count: int) -> list[bool]:
    """What a fault with this seed and rate decides for its next `count` matching requests."""
    die = random.Random(seed)
    return [die.random() < rate for _ in range(count)]


def customer_count(api: Api) -> int:
    answer = api.query("select count(*) from Customer").get_json()["QueryResponse"]
    return int(answer.get("totalCount", 0))


# ------------------------------------------------------------------------------ the control


def test_a_rate_fault_is_described_back_and_listed(api: Api) -> None:
    spec = {
        "kind": "status",
        "status": 503,
        "rate": 0.1,
        "seed": 3,
        "method": "post",
        "path_contains": "/customer",
    }
    response = api.client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 201
    described = {
        "id": 1,
        "kind": "status",
        "path_contains": "/customer",
        "method": "POST",
        "status": 503,
        "code": "10000",
        "rate": 0.1,
        "seed": 3,
        "remaining": None,
        "fired": 0,
    }
    assert response.get_json() == {"queued": True, "fault": described}
    second = add_fault(api, kind="lost")
    assert (second["id"], second["remaining"], second["rate"], second["status"]) == (2, 1, None, None)
    assert listed(api) == {"faults": [described, second], "spent": []}


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"kind": "explode"},
        {"kind": "status", "rate": 0},
        {"kind": "status", "rate": 1.5},
        {"kind": "status", "rate": "0.5"},
        {"kind": "status", "rate": True},
        {"kind": "status", "seed": 4},
        {"kind": "status", "rate": 0.5, "seed": "4"},
        {"kind": "status", "count": 0},
        {"kind": "status", "count": None},
        {"kind": "status", "rate": 0.5, "count": -1},
        {"kind": "status", "count": 1.5},
        {"kind": "status", "status": 200},
        {"kind": "status", "status": "503"},
        {"kind": "status", "code": 3100},
        {"kind": "status", "code": "ThrottleExceeded"},
        {"kind": "lost", "method": ""},
        {"kind": "lost", "path_contains": 7},
    ],
)
def test_a_fault_that_cannot_be_is_refused(api: Api, spec: dict[str, Any]) -> None:
    response = api.client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 400
    assert isinstance(response.get_json()["error"], str)
    assert listed(api)["faults"] == []


def test_delete_removes_every_fault(api: Api) -> None:
    add_fault(api, kind="status", status=503, rate=1)
    add_fault(api, kind="throttle", count=3)
    add_fault(api, kind="status", count=1, path_contains="/companyinfo")
    assert company_info(api) == 503  # the first, unlimited
    response = api.client.delete("/_sandbox/faults")
    assert (response.status_code, response.get_json()) == (200, {"cleared": 3})
    assert listed(api) == {"faults": [], "spent": []}
    assert company_info(api) == 200


# ------------------------------------------------------------------------------ which requests they answer


def test_a_rate_fault_fires_as_its_seeded_die_says_and_repeats_with_the_seed() -> None:
    expected = [503 if hit else 200 for hit in rolls(seed=7, rate=0.3, count=60)]
    runs = []
    for _ in range(2):
        api = Api()
        add_fault(api, kind="status", status=503, rate=0.3, seed=7, path_contains="/companyinfo")
        runs.append([company_info(api) for _ in range(60)])
        [active] = listed(api)["faults"]
        assert (active["fired"], active["remaining"]) == (expected.count(503), None)
    assert runs == [expected, expected]
    assert 0 < expected.count(503) < 60


def test_requests_a_fault_does_not_match_leave_its_die_alone(api: Api) -> None:
    add_fault(api, kind="status", status=503, rate=0.5, seed=5, path_contains="/companyinfo", method="GET")
    assert api.query("select count(*) from Item").status_code == 200  # another path
    assert api.post("customer", {"DisplayName": "Posted"}).status_code == 200  # another path and method
    assert [company_info(api) for _ in range(20)] == [503 if hit else 200 for hit in rolls(5, 0.5, 20)]


def test_count_caps_a_rate_fault_which_is_then_spent(api: Api) -> None:
    add_fault(api, kind="status", status=503, rate=1, count=3)
    assert [company_info(api) for _ in range(5)] == [503, 503, 503, 200, 200]
    state = listed(api)
    assert state["faults"] == []
    [spent] = state["spent"]
    assert (spent["fired"], spent["remaining"], spent["rate"]) == (3, 0, 1.0)


def test_a_status_fault_answers_with_the_fault_code_it_was_given(api: Api) -> None:
    add_fault(api, kind="status", status=403, code="3100", path_contains="/companyinfo")
    add_fault(api, kind="status", status=503, path_contains="/companyinfo")
    answers = [api.get(f"companyinfo/{REALM}") for _ in range(2)]
    codes = [(a.status_code, a.get_json()["Fault"]["Error"][0]["code"]) for a in answers]
    assert codes == [(403, "3100"), (503, "10000")]


def test_a_fault_without_rate_answers_the_next_count_requests_as_before(api: Api) -> None:
    add_fault(api, kind="status", status=503, count=2, path_contains="/companyinfo")
    add_fault(api, kind="throttle")  # count 1 by default
    [first, second] = listed(api)["faults"]
    assert (first["remaining"], first["rate"], second["remaining"]) == (2, None, 1)
    assert [company_info(api) for _ in range(4)] == [503, 503, 429, 200]
    assert [(f["kind"], f["fired"]) for f in listed(api)["spent"]] == [("status", 2), ("throttle", 1)]


def test_matching_faults_are_asked_in_the_order_added_each_rolling_its_own_die(api: Api) -> None:
    add_fault(api, kind="status", status=503, rate=0.5, seed=1, path_contains="/companyinfo")
    add_fault(api, kind="status", status=500, rate=0.5, seed=2)
    add_fault(api, kind="throttle", rate=1, path_contains="/query")  # matches none of these requests
    first, second = random.Random(1), random.Random(2)
    expected = []
    for _ in range(40):
        if first.random() < 0.5:
            expected.append(503)
        else:  # the second fault's die is rolled only for requests the first one let through
            expected.append(500 if second.random() < 0.5 else 200)
    assert [company_info(api) for _ in range(40)] == expected
    fired = [f["fired"] for f in listed(api)["faults"]]
    assert fired == [expected.count(503), expected.count(500), 0]


# ------------------------------------------------------------------------------ what each kind leaves behind


def test_a_503_answers_before_any_work_so_nothing_is_committed(api: Api) -> None:
    add_fault(api, kind="status", status=503, rate=1, count=1, method="POST", path_contains="/customer")
    refused = api.post("customer", {"DisplayName": "Not Yet"}, requestid="s-1")
    assert refused.status_code == 503
    assert fault(refused)["code"] == "10000"
    assert customer_count(api) == 0
    assert api.events == []
    assert "s-1" not in api.books.request_ids  # nothing kept: the retry does the work
    retried = api.post("customer", {"DisplayName": "Not Yet"}, requestid="s-1")
    assert retried.status_code == 200
    assert customer_count(api) == 1
    assert [op for *_, op in api.events] == ["Create"]


def test_a_lost_write_was_committed_and_each_requestid_retry_replays_it(api: Api) -> None:
    add_fault(api, kind="lost", rate=1, method="POST", path_contains="/customer")  # no limit
    lost = api.post("customer", {"DisplayName": "Committed Once"}, requestid="l-1")
    assert (lost.status_code, lost.get_data()) == (502, b"")
    [stored] = api.sb.companies[REALM].of("Customer").values()
    assert stored["DisplayName"] == "Committed Once"
    assert api.events == [("Customer", stored["Id"], "Create")]
    again = api.post("customer", {"DisplayName": "Committed Once"}, requestid="l-1")
    assert (again.status_code, again.get_data()) == (502, b"")  # lost again, and still not done twice
    assert api.client.delete("/_sandbox/faults").status_code == 200
    answered = api.post("customer", {"DisplayName": "Committed Once"}, requestid="l-1")
    assert answered.status_code == 200
    assert answered.get_json()["Customer"]["Id"] == stored["Id"]
    assert customer_count(api) == 1
    assert len(api.events) == 1


def test_a_lost_batch_was_committed_and_the_requestid_retry_replays_it(api: Api) -> None:
    batch = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
            {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "Batch Two"}},
        ]
    }
    add_fault(api, kind="lost", rate=1, count=1, path_contains="/batch")
    lost = api.post("batch", batch, requestid="batch-1")
    assert (lost.status_code, lost.get_data()) == (502, b"")
    stored = {c["DisplayName"]: c["Id"] for c in api.sb.companies[REALM].of("Customer").values()}
    assert sorted(stored) == ["Batch One", "Batch Two"]
    assert [op for *_, op in api.events] == ["Create", "Create"]
    retried = api.post("batch", batch, requestid="batch-1")
    assert retried.status_code == 200
    items = retried.get_json()["BatchItemResponse"]
    assert [(i["bId"], i["Customer"]["DisplayName"], i["Customer"]["Id"]) for i in items] == [
        ("b1", "Batch One", stored["Batch One"]),
        ("b2", "Batch Two", stored["Batch Two"]),
    ]
    assert customer_count(api) == 2
    assert len(api.events) == 2
    without_id = api.post("batch", batch).get_json()["BatchItemResponse"]
    assert [i["Fault"]["Error"][0]["code"] for i in without_id] == [
        "6240",
        "6240",
    ]  # what a plain retry meets


def test_a_long_run_under_several_rate_faults_creates_each_record_once(api: Api) -> None:
    """10 % of writes lost after the commit, 5 % answered 503, 5 % throttled; a client that retries with the
    same requestid until it gets an answer ends with each record created exactly once."""
    add_fault(api, kind="lost", rate=0.1, seed=11, method="POST", path_contains="/customer")
    add_fault(api, kind="status", status=503, rate=0.05, seed=12, method="POST", path_contains="/customer")
    add_fault(api, kind="throttle", rate=0.05, seed=13, method="POST", path_contains="/customer")
    seen: Counter[int] = Counter()
    for number in range(80):
        for _ in range(20):
            response: TestResponse = api.post(
                "customer", {"DisplayName": f"Customer {number}"}, requestid=f"run-{number}"
            )
            seen[response.status_code] += 1
            if response.status_code == 200:
                break
        else:
            pytest.fail(f"Customer {number} never got an answer")
    assert customer_count(api) == 80
    assert [op for *_, op in api.events] == ["Create"] * 80
    fired = {f["kind"]: f["fired"] for f in listed(api)["faults"]}
    assert fired == {"lost": seen[502], "status": seen[503], "throttle": seen[429]}
    assert all(fired.values())  # with these seeds each kind fires in this run
    assert seen[200] == 80
