"""Runs Lambda handlers in-process, loaded from CodeUri/Handler exactly as the Lambda runtime loads them."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import pkgutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local import meter
from local import template as tpl
from local.aws import ACCOUNT_ID, REGION

_env_lock = threading.Lock()


@dataclass
class LambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ while the block runs (one block at a time). Only those keys are put back after:
    other threads keep reading the shared variables, which never disappear meanwhile."""
    with _env_lock:
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


Handler = Callable[[Any, Any], Any]


@dataclass
class LocalFunction:
    """One function of the template, run as Lambda runs it: an instance (the handler's module loaded once,
    with its own module globals) serves one event at a time; an event arriving while every instance is busy
    gets a new instance (a cold start), and the pool keeps it for later events.

    `handler` is the first instance; `cold_start` loads another (without it, every event shares `handler`).
    """

    spec: tpl.Function
    name: str
    handler: Handler
    cold_start: Callable[[], Handler] | None = None
    instances: int = 1
    _idle: list[Handler] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._idle.append(self.handler)

    def invoke(self, event: Any) -> Any:
        context = LambdaContext(self.name, self.spec.memory, self.spec.timeout)
        handler = self._acquire()
        route = event.get("routeKey") if isinstance(event, dict) else None
        try:
            with meter.origin(f"{self.spec.logical_id} {route}" if route else self.spec.logical_id):
                return handler(event, context)
        finally:
            with self._lock:
                self._idle.append(handler)

    def _acquire(self) -> Handler:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self.cold_start is None:
                return self.handler
            self.instances += 1
        return self.cold_start()


# What handlers import at their first call, beside the qbsync package (functions/*/app.py).
FIRST_CALL_IMPORTS = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch",
    "jinja2",
)


@functools.cache
def preload() -> None:
    """Import the qbsync package whole, and what handlers import at their first call, once per process and
    before any function runs. Handlers import lazily: in Lambda, a process runs one event at a time. Here
    functions run on several threads at once, and two first calls importing the same modules at the same
    moment can meet a half-imported one (Python's import locks break such a cycle with a partially
    initialised module: "cannot import name ... (most likely due to a circular import)")."""
    import qbsync

    for module in pkgutil.walk_packages(qbsync.__path__, "qbsync."):
        importlib.import_module(module.name)
    for name in FIRST_CALL_IMPORTS:
        importlib.import_module(name)


def fresh_clients() -> None:
    """Drop the AWS clients the functions made in this process: their composition root (built once per
    process, as in a Lambda container) and Powertools' secret providers. A stack started earlier in this
    process (tests and the benchmark do that) must not hand on clients of its endpoint."""
    from aws_lambda_powertools.utilities import parameters

    from qbsync import composition

    composition.container.cache_clear()
    parameters.clear_caches()


def load(spec: tpl.Function, name: str, environment: Mapping[str, str]) -> LocalFunction:
    """The function, its first instance loaded; more are loaded as concurrent events need them."""
    preload()

    def cold_start() -> Handler:
        return load_instance(spec, environment)

    return LocalFunction(spec=spec, name=name, handler=cold_start(), cold_start=cold_start)


def load_instance(spec: tpl.Function, environment: Mapping[str, str]) -> Handler:
    """Import the handler module with the function's own environment in place, as its cold start would see it.

    Each call is a new module object (not registered in sys.modules), so each instance has its own globals:
    its resolver, its logger's keys, its batch processor. Variables every function shares (Globals) stay in
    the process environment; those a function sets for itself (its Powertools service name) are read when its
    module is imported.
    """
    module_name, _, attr = spec.handler.rpartition(".")
    path = spec.code_uri / (module_name.replace(".", "/") + ".py")
    unique = f"lambda_{spec.logical_id}_{module_name.replace('.', '_')}"
    loader_spec = importlib.util.spec_from_file_location(unique, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(loader_spec)
    with patched_environ(environment):
        loader_spec.loader.exec_module(module)
    handler: Handler = getattr(module, attr)
    return handler
