"""A Web Connector service that follows a script, for the simulated Web Connector's tests.

The product's /qbwc hands out no work yet (the next issue adds it), so the paths that need qbXML requests
(answers dropped, sessions killed, requests lost, NoOp, percentages) are driven by this service: the product's
own SOAP codec (qbsync.qbwc.soap) on a loopback HTTP server, with each callback's answer taken from a script,
and every call it received kept in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from qbsync.qbwc import soap
from qbsync.qbwc.errors import FaultCode

Answer = str | int | list[str]


@dataclass
class ScriptedService:
    """Answers: `authenticate` (a list), `messages` handed out in turn by sendRequestXML ("" when none are
    left), `percents` returned by receiveResponseXML in turn (100 when none are left), `last_errors` by
    getLastError in turn ("Nothing to do" when none are left), `connection_error` for every connectionError.
    `faults` names callbacks answered with a SOAP fault instead."""

    authenticate: list[str] = field(default_factory=lambda: ["ticket", ""])
    messages: list[str] = field(default_factory=list)
    percents: list[int] = field(default_factory=list)
    last_errors: list[str] = field(default_factory=list)
    connection_error: str = "done"
    faults: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tickets: int = 0

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]

    def params_of(self, operation: str) -> list[dict[str, str]]:
        return [params for op, params in self.calls if op == operation]

    def answer(self, operation: str, params: dict[str, str]) -> Answer:
        with self._lock:
            self.calls.append((operation, params))
            if operation == "authenticate":
                self._tickets += 1
                ticket, *rest = self.authenticate
                return [f"{ticket}-{self._tickets}" if ticket else "", *rest]
            answers: dict[str, Callable[[], Answer]] = {
                "serverVersion": lambda: "scripted 1.0",
                "clientVersion": lambda: "",
                "sendRequestXML": lambda: _next(self.messages, ""),
                "receiveResponseXML": lambda: _next(self.percents, 100),
                "getLastError": lambda: _next(self.last_errors, "Nothing to do"),
                "connectionError": lambda: self.connection_error,
                "closeConnection": lambda: "OK",
            }
            return answers[operation]()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        call = soap.parse_request(request.get_data())
        if call.operation in self.faults:
            with self._lock:
                self.calls.append((call.operation, call.params))
            body, status = soap.build_fault(FaultCode.SERVER, f"{call.operation} failed"), 500
        else:
            body, status = soap.build_response(call.operation, self.answer(call.operation, call.params)), 200
        return Response(body, status=status, content_type=soap.CONTENT_TYPE)(environ, start_response)


def _next(queue: list[Any], default: Answer) -> Answer:
    return queue.pop(0) if queue else default


@contextmanager
def serving(service: ScriptedService) -> Iterator[str]:
    """The service on a loopback port for the block; its /qbwc URL."""
    server = make_server("127.0.0.1", 0, service, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/qbwc"
    finally:
        server.shutdown()
        server.server_close()
