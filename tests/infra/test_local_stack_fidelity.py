"""The local stack serves what the template declares, and the code's routes are reachable through it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import template as tpl
from local.apigw import HttpApi
from local.invoke import invoke

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = tpl.load()
EVENT_FUNCTION = {
    "api_": "ApiFunction",
    "authorizer_": "AuthorizerFunction",
    "connect_": "ConnectFunction",
    "qbo_webhook_": "QboWebhookFunction",
    "qbwc_": "QbwcFunction",
    "sync_worker_": "SyncWorkerFunction",
    "scheduler_": "SchedulerFunction",
}


@pytest.fixture
def restored_environ() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def function_of(event_file: Path) -> str:
    return next(f for prefix, f in EVENT_FUNCTION.items() if event_file.name.startswith(prefix))


def test_every_function_has_at_least_one_sample_event() -> None:
    covered = {function_of(p) for p in (ROOT / "events").glob("*.json")}
    assert covered == set(tpl.functions(TEMPLATE))


@pytest.mark.parametrize("event_file", sorted((ROOT / "events").glob("*.json")), ids=lambda p: p.name)
def test_every_event_runs_through_make_invoke(event_file: Path, restored_environ: None) -> None:
    result = invoke(function_of(event_file), event_file)
    assert result is not None
    if isinstance(result, dict) and "statusCode" in result:
        assert result["statusCode"] < 500, result


def test_every_route_of_the_api_code_is_reachable_through_the_gateway() -> None:
    from qbsync.api.app import build_api

    gateway = HttpApi(tpl.routes(TEMPLATE), tpl.http_api_auth(TEMPLATE)[1], {})
    app = build_api()
    code_routes = []
    for route in app._static_routes + app._dynamic_routes:  # Powertools keeps its compiled routes here
        path = re.sub(r"<(\w+)>", r"sample", route.path)
        methods = [route.method] if isinstance(route.method, str) else route.method
        code_routes += [(m, path, route.path) for m in methods]
    assert code_routes
    for method, sample_path, declared in code_routes:
        found = gateway.match(method, sample_path)
        assert found is not None, f"{method} {declared} is in the code but API Gateway would 404 it"
        assert found[0].route.function == "ApiFunction"


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/health", "ApiFunction", {}),
        ("GET", "/v1/tenants/acme", "ApiFunction", {"proxy": "tenants/acme"}),
        ("DELETE", "/v1/tenants/acme/connection", "ApiFunction", {"proxy": "tenants/acme/connection"}),
        ("GET", "/connect/abc", "ConnectFunction", {"proxy": "abc"}),
        ("POST", "/qbwc", "QbwcFunction", {}),
        ("GET", "/qbwc", "QbwcFunction", {}),
        ("POST", "/qbo/webhooks", "QboWebhookFunction", {}),
    ],
)
def test_gateway_routes_as_the_template_says(
    method: str, path: str, function: str, params: dict[str, str]
) -> None:
    gateway = HttpApi(tpl.routes(TEMPLATE), tpl.http_api_auth(TEMPLATE)[1], {})
    found = gateway.match(method, path)
    assert found is not None
    assert (found[0].route.function, found[1]) == (function, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/qbo/webhooks"), ("DELETE", "/health"), ("GET", "/v2/tenants")],
)
def test_undeclared_routes_are_not_served(method: str, path: str) -> None:
    gateway = HttpApi(tpl.routes(TEMPLATE), tpl.http_api_auth(TEMPLATE)[1], {})
    assert gateway.match(method, path) is None


def test_the_gateway_decodes_the_path_once_and_keeps_the_query_string_as_sent() -> None:
    seen: list[dict[str, object]] = []

    class Capture:
        def invoke(self, event: dict[str, object]) -> dict[str, object]:
            seen.append(event)
            return {"statusCode": 200, "body": ""}

    functions = {"ConnectFunction": Capture()}
    gateway = HttpApi(tpl.routes(TEMPLATE), tpl.http_api_auth(TEMPLATE)[1], functions)  # type: ignore[arg-type]
    assert gateway.handle("GET", "/connect/a%20b%2Fc%2520d?q=%20x", [], b"").status == 200
    [event] = seen
    assert event["rawPath"] == "/connect/a b/c%20d"
    assert event["pathParameters"] == {"proxy": "a b/c%20d"}
    assert event["requestContext"]["http"]["path"] == "/connect/a b/c%20d"  # type: ignore[index]
    assert (event["rawQueryString"], event["queryStringParameters"]) == ("q=%20x", {"q": " x"})


def test_a_caller_that_hangs_up_before_the_answer_leaves_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket
    import threading
    import time

    from local.apigw import GatewayResponse, serve

    answered = threading.Event()

    class SlowApi:
        def handle(self, *_: object) -> GatewayResponse:
            time.sleep(0.3)  # the caller's timeout is shorter than this
            answered.set()
            return GatewayResponse(200, [("content-type", "application/json")], b"{}" * 200_000)

    server = serve("127.0.0.1", 0)
    server.api = SlowApi()  # type: ignore[assignment]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(server.server_address[:2]) as caller:
            caller.sendall(b"POST /qbo/webhooks HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
            caller.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert answered.wait(5)
        time.sleep(0.3)
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capsys.readouterr().err
