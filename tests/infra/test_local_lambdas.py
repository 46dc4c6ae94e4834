"""Functions run locally as Lambda runs them: one event at a time per instance, more instances for
concurrency, each with its own module globals; concurrent requests through the local gateway stay apart."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from local import lambdas
from local import template as tpl

PROBE = """
import os
import threading
import time

SERVICE = os.environ["POWERTOOLS_SERVICE_NAME"]
serving = 0


def handler(event, context):
    global serving
    serving += 1
    try:
        event["arrived"].wait(5)  # every event is in flight at once
        time.sleep(0.05)
        return {"instance": id(globals()), "serving": serving, "service": SERVICE}
    finally:
        serving -= 1
"""


def test_concurrent_events_get_one_instance_each_with_its_own_globals(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(PROBE, encoding="utf-8")
    spec = tpl.Function("Probe", tmp_path, "app.handler", 30, 128, {})
    function = lambdas.load(spec, "probe", {"POWERTOOLS_SERVICE_NAME": "probe"})
    arrived = threading.Barrier(6)
    gate = threading.Event()

    def invoke(_: int) -> dict[str, Any]:
        if arrived.wait() == 0:
            gate.set()
        return function.invoke({"arrived": gate})  # type: ignore[no-any-return]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(invoke, range(6)))
    assert [r["serving"] for r in results] == [1] * 6  # no instance ever served two events at once
    assert len({r["instance"] for r in results}) == 6
    assert function.instances == 6
    assert {r["service"] for r in results} == {"probe"}  # each cold start saw the function's environment
    # Later events reuse the warm instances.
    for _ in range(3):
        function.invoke({"arrived": gate})
    assert function.instances == 6


def test_concurrent_requests_through_the_gateway_each_get_their_own_answer(
    http_gateway: tuple[str, str], functions: dict[str, lambdas.LocalFunction]
) -> None:
    url, key = http_gateway
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        client.post("/v1/tenants", json={"id": "t-c", "name": "C", "edition": "qbo"}).raise_for_status()

    def request(n: int) -> tuple[int, int, str]:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            if n % 3 == 0:
                answer = client.get("/health")
                return n, answer.status_code, "health"
            if n % 3 == 1:
                answer = client.get("/v1/tenants/t-c")
                return n, answer.status_code, answer.json().get("id", "")
            answer = client.get(f"/v1/tenants/missing-{n}")
            return n, answer.status_code, answer.json().get("detail", "")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(request, range(120)))
    assert [a for a in answers if a[1] >= 500] == []
    for n, status, said in answers:
        if n % 3 == 1:
            assert (status, said) == (200, "t-c")
        elif n % 3 == 2:
            assert status == 404
            assert f"missing-{n}" in said  # the answer to this request, not to another thread's
    assert functions["ApiFunction"].instances > 1
