"""Start the local stack as `make run` does, and use it over HTTP as the host app would."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.e2e.conftest import LocalProcess, start_local_stack

pytestmark = pytest.mark.e2e


def test_prints_where_everything_is(stack: LocalProcess) -> None:
    text = "".join(stack.output)
    labels = ("OpenAPI docs", "Health", "Web Connector", "QBD stand-ins", "Desktop demo", "AWS (moto)")
    for label in (*labels, "Queue pollers", "Schedules"):
        assert label in text
    assert "SyncWorkerFunction" in text
    assert "Heartbeat rate(5 minutes), TokenUpkeep rate(1 day)" in text
    assert "State          in memory only:" in text  # a restart starts empty, and the banner says so


def test_health_answers_and_the_worker_pipeline_has_run(stack: LocalProcess) -> None:
    deadline = time.monotonic() + 15
    body = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.api}/health")
        assert response.status_code == 200
        body = response.json()
        if body["status"] == "ok":
            break
        time.sleep(0.2)
    assert body["status"] == "ok", body  # scheduler → SQS → worker → DynamoDB, all in the local stack
    assert body["worker"]["stale"] is False


def test_create_and_read_a_tenant_with_the_key(stack: LocalProcess) -> None:
    headers = {"Authorization": f"Bearer {stack.key}"}
    created = httpx.post(
        f"{stack.api}/v1/tenants",
        headers=headers,
        json={"id": "e2e-tenant", "name": "E2E Books", "edition": "qbd"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/tenants/e2e-tenant"
    read = httpx.get(f"{stack.api}/v1/tenants/e2e-tenant", headers=headers)
    assert read.status_code == 200
    assert read.json() == created.json()
    listed = httpx.get(f"{stack.api}/v1/tenants", headers=headers, params={"limit": 100})
    assert "e2e-tenant" in [t["id"] for t in listed.json()["items"]]


def test_a_desktop_tenants_record_waits_for_the_web_connector_and_never_reaches_the_online_worker(
    stack: LocalProcess,
) -> None:
    headers = {"Authorization": f"Bearer {stack.key}"}
    tenant = {"id": "e2e-desktop", "name": "Desktop Books", "edition": "qbd"}
    assert httpx.post(f"{stack.api}/v1/tenants", headers=headers, json=tenant).status_code == 201
    url = f"{stack.api}/v1/tenants/e2e-desktop/records/customer/c-1"
    assert httpx.put(url, headers=headers, json={"display_name": "Ada"}).status_code == 201
    time.sleep(3)  # the queue poller long-polls every second: a job would have been run by now
    record = httpx.get(url, headers=headers).json()
    assert record["state"] == "pending"
    assert record["waiting_for"] == ["web_connector"]
    # Only what the push itself wrote: no run of the Online worker passed over it.
    assert [h["detail"][:27] for h in record["history"]] == ["received", "waits for the Web Connector"]


def test_without_a_key_api_gateway_answers_401(stack: LocalProcess) -> None:
    response = httpx.get(f"{stack.api}/v1/tenants/e2e-tenant")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_with_a_wrong_key_the_authorizer_denies_and_api_gateway_answers_403(stack: LocalProcess) -> None:
    response = httpx.post(
        f"{stack.api}/v1/tenants",
        headers={"Authorization": "Bearer qbs_nope_nope"},
        json={"id": "sneaky", "name": "S", "edition": "qbo"},
    )
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
    good = httpx.get(f"{stack.api}/v1/tenants/sneaky", headers={"Authorization": f"Bearer {stack.key}"})
    assert good.status_code == 404  # nothing was stored


def test_bad_input_gets_a_problem_body(stack: LocalProcess) -> None:
    response = httpx.post(
        f"{stack.api}/v1/tenants",
        headers={"Authorization": f"Bearer {stack.key}"},
        json={"id": "x", "edition": "qbo"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["name"]


def test_docs_and_openapi_are_public(stack: LocalProcess) -> None:
    assert httpx.get(f"{stack.api}/docs").status_code == 200
    assert "/v1/tenants" in httpx.get(f"{stack.api}/openapi.json").json()["paths"]


def test_unknown_paths_get_api_gateways_404(stack: LocalProcess) -> None:
    response = httpx.get(f"{stack.api}/nothing")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_the_desktop_demos_web_connector_has_run_an_update_through_qbwc(stack: LocalProcess) -> None:
    assert "(companies: Desktop Demo Co)" in "".join(stack.output)
    runs: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while not runs and time.monotonic() < deadline:  # its first update starts with the stack
        runs = httpx.get(f"{stack.qbd}/_qbd/connectors/1/runs").json()["runs"]
        time.sleep(0.2)
    assert runs, "the demo Web Connector has not run"
    (first, *_) = runs
    assert first["user_name"] == "demo-qbd"
    assert first["operations"][:4] == ["serverVersion", "clientVersion", "authenticate", "sendRequestXML"]
    assert first["operations"][-1] == "closeConnection"
    connector = httpx.get(f"{stack.qbd}/_qbd/connectors/1").json()
    assert (connector["running"], connector["run_every_seconds"]) == (True, 60)


def test_the_key_is_printed_once_and_never_logged(stack: LocalProcess) -> None:
    # Collect what the stack logged while serving the calls above, then stop it with Ctrl-C.
    everything = stack.stop()
    assert stack.process.returncode == 0
    assert "stopped" in everything.splitlines()
    assert everything.count(stack.key) == 1
    assert everything.count(stack.printed(r"logs in as demo-qbd / (\S+),")) == 1  # the Web Connector password


def _as_a_background_job() -> None:
    """The signal state a non-interactive shell gives a job it starts with `&`: SIGINT ignored (and, as some
    parents leave it, blocked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def test_ctrl_c_stops_the_stack_even_when_it_was_started_with_sigint_ignored() -> None:
    started = start_local_stack(preexec_fn=_as_a_background_job)
    try:
        assert "stopped" in started.stop(timeout=30).splitlines()
        assert started.process.returncode == 0
    finally:
        started.kill()
