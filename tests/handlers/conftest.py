"""The host-app API behind the local API Gateway, in-process, with the gateway's own path and body rules."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest

from local import template as tpl
from local.apigw import HttpApi
from local.aws import LocalStack
from local.lambdas import LocalFunction
from tests.conftest import load_event


@dataclass
class Gateway:
    """Requests as a host app sends them (with its API key), answered through API Gateway."""

    api: HttpApi
    key: str

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | Any = b"",
        *,
        content_type: str | None = "application/json",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> tuple[int, str, bytes]:
        """(status, content type, body bytes). A body that is not bytes or str is sent as JSON."""
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else body
        sent = [("host", "localhost:3000"), ("authorization", f"Bearer {self.key}")]
        if content_type is not None and raw:
            sent.append(("content-type", content_type))
        answer = self.api.handle(method, path, [*sent, *headers], raw)
        content = next((v for k, v in answer.headers if k.lower() == "content-type"), "")
        return answer.status, content, answer.body

    def json(self, method: str, path: str, body: Any = b"") -> tuple[int, Any]:
        status, _, raw = self.request(method, path, body)
        return status, json.loads(raw) if raw else None


@pytest.fixture
def gateway(aws_env: LocalStack, functions: dict[str, LocalFunction]) -> Gateway:
    from qbsync.composition import container
    from qbsync.usecases.apikeys import issue_api_key

    c = container()
    key, _ = issue_api_key(c.api_keys, c.clock, label="host-app")
    template = tpl.load()
    return Gateway(HttpApi(tpl.routes(template), tpl.http_api_auth(template)[1], functions), key)


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    """ApiFunction, with the tenant of events/api_create_tenant.json created."""
    api = functions["ApiFunction"]
    assert api.invoke(load_event("api_create_tenant.json"))["statusCode"] == 201
    return api


def call(
    api: LocalFunction, method: str, path: str, body: Any = None, raw: str | None = None
) -> tuple[int, str, Any]:
    """(status, content type, JSON body) of a request to ApiFunction, as API Gateway hands it over; `raw`, a
    body sent as it is."""
    event = copy.deepcopy(load_event("api_link_record.json"))
    route, _, query = path.partition("?")
    event["rawPath"] = event["requestContext"]["http"]["path"] = route
    event["pathParameters"] = {"proxy": route.removeprefix("/v1/")}
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    event["body"] = raw if raw is not None else (None if body is None else json.dumps(body))
    event["headers"].pop("content-length", None)
    result = api.invoke(event)
    text = result.get("body") or ""
    content_type = {k.lower(): v for k, v in (result.get("headers") or {}).items()}.get("content-type", "")
    return result["statusCode"], content_type, json.loads(text) if text.startswith("{") else text
