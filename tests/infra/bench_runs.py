"""Running `python -m bench` in a child process at small sizes, for the tests of its sync benches (one module
each, so that the suite's workers run them side by side)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from local import template as tpl

SMALL_SYNC = ("--invoices", "120", "--customers", "10", "--items", "5")


def bench_json(*args: str) -> dict[str, Any]:
    """`python -m bench --json` with `args`: what it printed, once it exited with 0. No import figures
    (test_bench_imports.py has them) and no webhook run (test_bench_webhook.py)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--runs", "0", "--json", "--webhook-deliveries", "0", *args],
        cwd=tpl.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document: dict[str, Any] = json.loads(proc.stdout)
    return document
