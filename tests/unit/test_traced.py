"""`traced`: the X-Ray SDK loads at a function's first call where tracing is on, and never where it is off
(the local stack, tests): each run in a fresh interpreter, as a cold start is."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local import template as tpl

FIRST_CALL = """
import sys
from qbsync.observability import traced

@traced()
def handler(event, context):
    return {"echo": event}

assert "aws_xray_sdk" not in sys.modules
print(handler(1, None)["echo"], "aws_xray_sdk.core" in sys.modules)
"""


@pytest.mark.parametrize(
    ("environment", "loaded"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, "True"),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, "False"),
        ({}, "False"),  # outside Lambda, where no X-Ray daemon listens
    ],
)
def test_the_xray_sdk_loads_at_the_first_call_only_where_tracing_is_on(
    environment: dict[str, str], loaded: str
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL")
    }
    env.update(environment, PYTHONPATH=str(tpl.ROOT / "layers" / "core"))
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", loaded]
