"""`make bench` measures for real: every function of the template imports in a fresh interpreter, with no
AWS."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from bench import measure
from bench.report import FUNCTION
from local import template as tpl


@pytest.mark.slow
def test_bench_measures_every_function_of_the_template():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--runs",
            "1",
            "--json",
            "--sync",
            "none",
            "--engine",
            "none",
            "--desktop",
            "none",
            "--webhook-deliveries",
            "0",
        ],
        cwd=tpl.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    by_name = {t["name"]: t for t in doc["targets"]}
    assert set(tpl.functions(tpl.load())) <= set(by_name)
    assert {t["kind"] for t in doc["targets"]} == {"bare", "baseline", "function"}
    for target in doc["targets"]:
        assert target["error"] is None, target
        assert target["runs"] == 1
        assert target["wall_ms"] > 0
        assert target["maxrss_kb"] > 0
        if target["kind"] != "bare":
            assert target["import_ms"] > 0, target
            assert target["wall_over_bare_ms"] is not None, target
            assert target["maxrss_kb"] > by_name["python -c pass"]["maxrss_kb"], target


def test_a_handler_that_reaches_the_network_at_import_fails_instead_of_hanging():
    target = measure.Target(
        name="Chatty",
        kind=FUNCTION,
        # The child's audit hook refuses the name lookup before any packet leaves (192.0.2.1 is TEST-NET-1).
        body="import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=5)",
        cwd=tpl.ROOT,
        env=measure.base_environment("chatty"),
    )
    with pytest.raises(measure.MeasureError, match="network access during import"):
        measure.run_once(target, timeout=30)


# What a handler's first call needs and its import must not load (its cold start: ≤ 150 ms in `make bench` for
# the webhook and the Web Connector, ≤ 300 ms for the others): the AWS SDK, lxml, pydantic, Powertools'
# resolver and the X-Ray SDK. (Powertools' package imports botocore's `__init__` alone, for its user agent: a
# millisecond.)
DEFERRED = ("boto3", "botocore.", "lxml", "pydantic", "aws_xray_sdk", "aws_lambda_powertools.event_handler")


@pytest.mark.parametrize("function", sorted(tpl.functions(tpl.load())))
def test_no_handler_imports_what_its_first_call_loads(function: str) -> None:
    target = measure.function_target(tpl.functions(tpl.load())[function])
    check = (
        f"_loaded = sorted(m for m in sys.modules if m.startswith({DEFERRED!r}))\n"
        "if _loaded:\n"
        "    raise SystemExit('loaded at import: ' + ' '.join(_loaded[:20]))\n"
    )
    measure.run_once(dataclasses.replace(target, body=f"{target.body}{check}"), timeout=60)
