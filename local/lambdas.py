"""Runs Lambda handlers in-process, loaded from CodeUri/Handler exactly as the Lambda runtime loads them."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

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
    with _env_lock:
        saved = dict(os.environ)
        os.environ.update(values)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@dataclass
class LocalFunction:
    spec: tpl.Function
    name: str
    handler: Callable[[Any, Any], Any]

    def invoke(self, event: Any) -> Any:
        context = LambdaContext(self.name, self.spec.memory, self.spec.timeout)
        return self.handler(event, context)


def load(spec: tpl.Function, name: str, environment: Mapping[str, str]) -> LocalFunction:
    """Import the handler module with the function's own environment in place, as its cold start would see it.

    Variables every function shares (Globals) stay in the process environment; those a function sets for
    itself (its Powertools service name) are read when its module is imported.
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
    return LocalFunction(spec=spec, name=name, handler=getattr(module, attr))
