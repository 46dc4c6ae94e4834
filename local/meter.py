"""Counts the AWS requests the local stack's moto answers, by operation and by what made them.

Each in-process function invocation names itself (`origin`: the function, and the route for an API event);
every boto3 request made meanwhile on that thread carries the name in a header, and the meter wrapped around
moto's WSGI app counts (origin, operation) as the requests arrive at the endpoint. `make bench` reads it to
report DynamoDB requests per synced record.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

ORIGIN_HEADER = "X-Local-Origin"
_ORIGIN_ENVIRON = "HTTP_" + ORIGIN_HEADER.upper().replace("-", "_")
_current = threading.local()

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@contextmanager
def origin(label: str) -> Iterator[None]:
    """AWS requests this thread makes inside the block are counted under `label`."""
    outer = getattr(_current, "label", "")
    _current.label = label
    try:
        yield
    finally:
        _current.label = outer


def _tag(request: Any, **_: Any) -> None:
    """botocore `before-send`: name the request's origin (returning None lets the request go on)."""
    request.headers[ORIGIN_HEADER] = getattr(_current, "label", "")


def tag_requests(session: boto3.Session | None = None) -> None:
    """Tag every request of clients made from now on from `session` (boto3's default session if None)."""
    if session is None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("before-send", _tag, unique_id="local-meter-origin")


class RequestMeter:
    """Requests seen at the endpoint, as (origin, operation) -> count; operation is the X-Amz-Target
    ("DynamoDB_20120810.PutItem") of JSON-protocol services, else the form's Action, else the method."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def wrap(self, app: WsgiApp) -> WsgiApp:
        def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            operation = environ.get("HTTP_X_AMZ_TARGET") or environ.get("REQUEST_METHOD", "")
            with self._lock:
                self._counts[(environ.get(_ORIGIN_ENVIRON, ""), operation)] += 1
            return app(environ, start_response)

        return counting

    def snapshot(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counts)


def dynamodb_operations(
    counts: Counter[tuple[str, str]], *, leave_out: Callable[[str], bool] = lambda _: False
) -> Counter[str]:
    """The DynamoDB requests among `counts` by operation ("PutItem"), those of origins `leave_out` names
    left out."""
    by_operation: Counter[str] = Counter()
    for (source, operation), n in counts.items():
        if n <= 0:
            continue
        service, _, name = operation.partition(".")
        if service.startswith("DynamoDB_") and not leave_out(source):
            by_operation[name] += n
    return by_operation
