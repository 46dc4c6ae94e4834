"""An API Gateway HTTP API in front of in-process handlers: route matching, the Lambda authorizer, and
payload format 2.0 both ways, with the status codes and bodies API Gateway itself answers with."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local import template as tpl
from local.aws import ACCOUNT_ID, REGION
from local.lambdas import LocalFunction

log = logging.getLogger("local.apigw")
TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|soap\+xml|x-www-form-urlencoded|problem\+json|javascript))"
)
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _message(status: int, message: str) -> GatewayResponse:
    return GatewayResponse(
        status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
    )


def _as_text(body: bytes) -> str | None:
    """The body as text if it is UTF-8; anything else (a UTF-16 envelope, Latin-1 JSON) reaches the function
    base64-encoded with `isBase64Encoded` set, as API Gateway passes a body it cannot pass as text."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class CompiledRoute:
    route: tpl.Route
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    specificity: tuple[int, int, int]

    @classmethod
    def of(cls, route: tpl.Route) -> CompiledRoute:
        params: list[str] = []
        regex = ""
        greedy = 0
        for segment in route.path.strip("/").split("/"):
            m = re.fullmatch(r"\{([^}+]+)(\+?)\}", segment)
            if m and m.group(2):
                params.append(m.group(1))
                regex += r"/(.+)"
                greedy = 1
            elif m:
                params.append(m.group(1))
                regex += r"/([^/]+)"
            else:
                regex += "/" + re.escape(segment)
        literal = sum(1 for s in route.path.split("/") if s and not s.startswith("{"))
        return cls(route, re.compile(regex + "$"), tuple(params), (-greedy, literal, route.method != "ANY"))


class HttpApi:
    """Routes requests like API Gateway: the most specific route wins; authorizers run before the handler."""

    def __init__(
        self,
        routes: list[tpl.Route],
        authorizers: Mapping[str, tpl.Authorizer],
        functions: Mapping[str, LocalFunction],
    ) -> None:
        self._routes = sorted(
            (CompiledRoute.of(r) for r in routes), key=lambda c: c.specificity, reverse=True
        )
        self._authorizers = authorizers
        self._functions = functions
        self._auth_cache: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any] | None]] = {}
        self._cache_lock = threading.Lock()

    def match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in ("ANY", method):
                continue
            m = compiled.pattern.match(path)
            if m:
                return compiled, dict(zip(compiled.params, m.groups(), strict=True))
        return None

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> GatewayResponse:
        split = urlsplit(raw_path)
        # HTTP APIs percent-decode the path once, before routing: `rawPath`, `requestContext.http.path` and
        # `pathParameters` all carry it decoded (a request for /a%2Fb arrives as rawPath "/a/b", captured in
        # fastify/aws-lambda-fastify#169 and honojs/hono#2156); the query string stays as sent.
        path = unquote(split.path) or "/"
        found = self.match(method, path)
        if found is None:
            return _message(404, "Not Found")
        compiled, path_params = found
        route = compiled.route
        route_key = f"{route.method} {route.path}"
        event = self._event(
            method=method,
            path=path,
            query=split.query,
            headers=headers,
            body=body,
            route_key=route_key,
            path_params=path_params,
            source_ip=source_ip,
        )
        if route.authorizer:
            denied, context = self._authorize(route.authorizer, event)
            if denied:
                return denied
            event["requestContext"]["authorizer"] = {"lambda": context or {}}
        try:
            result = self._functions[route.function].invoke(event)
        except Exception:
            log.exception("%s raised; API Gateway answers 500", route.function)
            return _message(500, "Internal Server Error")
        return self._response(result)

    def _authorize(
        self, name: str, event: dict[str, Any]
    ) -> tuple[GatewayResponse | None, dict[str, Any] | None]:
        authorizer = self._authorizers[name]
        identity = tuple(event["headers"].get(h, "") for h in authorizer.identity_headers)
        if not all(identity):
            return _message(401, "Unauthorized"), None
        cache_key = (name, identity)
        with self._cache_lock:
            cached = self._auth_cache.get(cache_key)
        if cached and cached[0] > time.monotonic():
            decision = cached[1]
        else:
            auth_event = {
                **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
                "type": "REQUEST",
                "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/$default/"
                f"{event['requestContext']['http']['method']}{event['rawPath']}",
                "identitySource": list(identity),
            }
            try:
                result = self._functions[authorizer.function].invoke(auth_event)
            except Exception:
                log.exception("authorizer %s raised; API Gateway answers 500", name)
                return _message(500, "Internal Server Error"), None
            if not isinstance(result, dict) or not isinstance(result.get("isAuthorized"), bool):
                log.error("authorizer %s returned a malformed response", name)
                return _message(500, "Internal Server Error"), None
            decision = result.get("context", {}) if result["isAuthorized"] else None
            if authorizer.ttl_seconds > 0:
                with self._cache_lock:
                    self._auth_cache[cache_key] = (time.monotonic() + authorizer.ttl_seconds, decision)
        if decision is None:
            return _message(403, "Forbidden"), None
        return None, decision

    @staticmethod
    def _event(
        *,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        route_key: str,
        path_params: dict[str, str],
        source_ip: str,
    ) -> dict[str, Any]:
        merged: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in headers:
            key = name.lower()
            if key == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        # API Gateway adds these; locally the scheme is plain http.
        merged["x-forwarded-for"] = source_ip
        merged["x-forwarded-proto"] = "http"
        merged["x-forwarded-port"] = merged.get("host", "").rpartition(":")[2] or "80"
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        content_type = merged.get("content-type", "")
        text = _as_text(body) if TEXT_TYPES.match(content_type) else None
        is_text = not body or text is not None
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": merged,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": "local",
                "domainName": merged.get("host", "localhost"),
                "domainPrefix": merged.get("host", "localhost").split(".")[0],
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": merged.get("user-agent", ""),
                },
                "requestId": uuid.uuid4().hex[:16],
                "routeKey": route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": not is_text,
        }
        if cookies:
            event["cookies"] = cookies
        if params:
            event["queryStringParameters"] = params
        if path_params:
            event["pathParameters"] = path_params
        if body:
            event["body"] = text if text is not None else base64.b64encode(body).decode()
        return event

    @staticmethod
    def _response(result: Any) -> GatewayResponse:
        if not isinstance(result, dict) or "statusCode" not in result:
            # Payload 2.0: a result without statusCode is taken as a 200 JSON body.
            return GatewayResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
        headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((k, str(v)) for v in values)
        headers.extend(("set-cookie", c) for c in result.get("cookies") or [])
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return GatewayResponse(int(result["statusCode"]), headers, raw)


class ApiServer(ThreadingHTTPServer):
    """Binds its port first (port 0 picks one), so the URL is known before the API behind it is built."""

    daemon_threads = True
    api: HttpApi | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def serve(host: str, port: int) -> ApiServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            api = self.server.api  # type: ignore[attr-defined]
            if api is None:
                response = _message(503, "Service Unavailable")
            elif length > MAX_BODY:
                response = _message(413, "Request Entity Too Large")
            else:
                body = self.rfile.read(length) if length else b""
                response = api.handle(
                    self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                )
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
            try:
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                # The caller gave up waiting (a webhook sender's short timeout): nobody is left to answer.
                log.info("%s %s: the caller closed the connection before the answer", self.command, self.path)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return ApiServer((host, port), Handler)
