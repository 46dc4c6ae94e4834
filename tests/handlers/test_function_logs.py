"""Each function's log lines carry its own name and service, also those the qbsync package writes, as on AWS
where every function has a process of its own."""

from __future__ import annotations

import inspect
import io
import json
import logging
from pathlib import Path

from aws_lambda_powertools import Logger

from local.lambdas import LocalFunction
from qbsync.domain.jobs import TOKEN_UPKEEP_JOB
from tests.conftest import EVENTS, load_event

EVENT_PREFIX = {
    "ApiFunction": "api_",
    "ConnectFunction": "connect_",
    "QbwcFunction": "qbwc_",
    "SchedulerFunction": "scheduler_",
    "SyncWorkerFunction": "sync_worker_",
}


def test_package_lines_carry_the_name_and_service_of_the_function_that_wrote_them(
    functions: dict[str, LocalFunction],
) -> None:
    captured: dict[str, io.StringIO] = {}
    for name, function in functions.items():
        logger = inspect.unwrap(function.handler).__globals__["logger"]
        assert isinstance(logger, Logger)
        handler = logger.registered_handler
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(captured.setdefault(name, io.StringIO()))
    for name, prefix in EVENT_PREFIX.items():
        for path in sorted(Path(EVENTS).glob(f"{prefix}*.json")):
            functions[name].invoke(load_event(path.name))
    upkeep = load_event("sync_worker_heartbeat.json")  # a job the worker logs about: a tenant not connected
    job = json.loads(upkeep["Records"][0]["body"])
    upkeep["Records"][0]["body"] = json.dumps({**job, "kind": TOKEN_UPKEEP_JOB, "tenant_id": "nobody"})
    functions["SyncWorkerFunction"].invoke(upkeep)

    signed: dict[str, set[tuple[str, str]]] = {}
    for line in "".join(s.getvalue() for s in captured.values()).splitlines():
        record = json.loads(line)
        if record.get("name", "").startswith("qbsync."):
            signed.setdefault(record["name"], set()).add((record["service"], record.get("function_name", "")))
    writers = {function_name for pairs in signed.values() for _, function_name in pairs}
    assert len(writers) >= 2, signed  # the package wrote lines for several functions
    service_of = {f.name: f.spec.environment["POWERTOOLS_SERVICE_NAME"] for f in functions.values()}
    for logger_name, pairs in signed.items():
        for service, function_name in pairs:
            assert service_of.get(function_name) == service, (logger_name, function_name, service)
