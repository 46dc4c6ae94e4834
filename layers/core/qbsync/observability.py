"""Logging shared by every function: Powertools' structured logger, also used by the qbsync package.

The package's own loggers (`qbsync.*`) write through the Logger of the function whose invocation runs on the
current thread, so each of their lines carries that function's service, name and request. On AWS a process
runs one function; the local stack runs every function in one process, where copying one function's handlers
to the package logger made the last function loaded (SchedulerFunction) sign every line.

What a line is about (`tenant_id`, `edition`, `record_type`, `record_id`, `job_id`) goes into every line
written while it is known: `log_keys` for a block (a job, a record), `add_log_keys` for the rest of the
invocation (once a handler has resolved the tenant). Unlike Logger.append_keys, which lasts as long as the
container, they end with their block or invocation: one tenant's keys never sign the next invocation's lines.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools import Logger

PACKAGE_LOGGER = "qbsync"
_running: ContextVar[FunctionLogger | None] = ContextVar("qbsync_function_logger", default=None)
_latest: list[FunctionLogger] = []  # outside an invocation (a cold start), the function loaded last speaks
_keys: ContextVar[dict[str, object]] = ContextVar("qbsync_log_keys", default={})  # noqa: B039 - never mutated


@contextmanager
def log_keys(**keys: object) -> Iterator[None]:
    """Every line written in the block (on this thread) carries `keys`; so do keys added in it, until it ends.
    Keys whose value is None are left out."""
    token = _keys.set({**_keys.get(), **{k: v for k, v in keys.items() if v is not None}})
    try:
        yield
    finally:
        _keys.reset(token)


def add_log_keys(**keys: object) -> None:
    """Every line written until the enclosing `log_keys` block (or the invocation) ends carries `keys`."""
    _keys.set({**_keys.get(), **{k: v for k, v in keys.items() if v is not None}})


class _WithLogKeys(logging.Filter):
    """Puts the current log keys on each record; keys the line gives itself (its `extra`) win."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _keys.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


class FunctionLogger(Logger):
    """A function's Logger: while a handler it decorates with `inject_lambda_context` runs, the package's
    lines on that thread go through it."""

    def inject_lambda_context(
        self,
        lambda_handler: Any = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Any:
        options: dict[str, Any] = {
            "log_event": log_event,
            "correlation_id_path": correlation_id_path,
            "clear_state": clear_state,
            "flush_buffer_on_uncaught_error": flush_buffer_on_uncaught_error,
        }
        if lambda_handler is None:  # used with options: @logger.inject_lambda_context(...)
            return functools.partial(self.inject_lambda_context, **options)
        injected = super().inject_lambda_context(lambda_handler, **options)

        @functools.wraps(lambda_handler)
        def running(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            token = _running.set(self)
            try:
                with log_keys():  # what the invocation adds ends with it
                    return injected(event, context, *args, **kwargs)
            finally:
                _running.reset(token)

        return running


class _ThroughRunningFunction(logging.Handler):
    """Hands a record of the package to the handlers of the function running on this thread."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = _running.get() or (_latest[0] if _latest else None)
        if logger is not None and record.levelno >= logger.registered_handler.level:
            logger.registered_handler.handle(record)


def function_logger() -> FunctionLogger:
    """The function's Logger (service from POWERTOOLS_SERVICE_NAME); qbsync's own loggers write through it."""
    logger = FunctionLogger()
    logger.append_keys(name="%(name)s")  # which module wrote the line
    handler = logger.registered_handler  # one per service, shared by the instances of a function
    if not any(isinstance(f, _WithLogKeys) for f in handler.filters):
        handler.addFilter(_WithLogKeys())
    _latest[:] = [logger]
    package = logging.getLogger(PACKAGE_LOGGER)
    package.setLevel(logger.log_level)
    package.propagate = False
    if not any(isinstance(h, _ThroughRunningFunction) for h in package.handlers):
        package.handlers = [_ThroughRunningFunction()]
    return logger


Handler = Callable[[Any, Any], Any]


def traced(*, capture_response: bool = True) -> Callable[[Handler], Handler]:
    """Powertools' `Tracer.capture_lambda_handler`, with the Tracer made at the first call, not at import.

    Making a Tracer loads the X-Ray SDK and patches the HTTP clients (about 300 ms on a cold start); a
    function whose import must stay light (the Web Connector's) pays it with its first call instead. Where
    tracing is off (POWERTOOLS_TRACE_DISABLED, or outside Lambda: the Tracer's own rule), there is nothing to
    capture and the SDK is not loaded at all.
    """

    def decorate(handler: Handler) -> Handler:
        traced_handler: list[Handler] = []

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            if not traced_handler:
                from aws_lambda_powertools import Tracer

                if Tracer._is_tracer_disabled():  # Powertools' own rule for when tracing is off
                    traced_handler.append(handler)
                else:
                    traced_handler.append(
                        Tracer().capture_lambda_handler(handler, capture_response=capture_response)
                    )
            return traced_handler[0](event, context)

        return run

    return decorate
