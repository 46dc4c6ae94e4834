"""`make bench` runs for real: every function of the template imports in a fresh interpreter, with no AWS."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import pytest

from bench import measure
from bench.report import FUNCTION
from local import template as tpl


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


# What the Web Connector's first call needs and its import must not load (its cold start, ≤ 150 ms in `make
# bench`): the AWS SDK, lxml, pydantic, Powertools' resolver and the X-Ray SDK. (Powertools' package imports
# botocore's `__init__` alone, for its user agent: a millisecond.)
DEFERRED = ("boto3", "botocore.", "lxml", "pydantic", "aws_xray_sdk", "aws_lambda_powertools.event_handler")


def test_the_web_connector_handler_imports_nothing_its_first_call_loads():
    target = measure.function_target(tpl.functions(tpl.load())["QbwcFunction"])
    check = (
        f"_loaded = sorted(m for m in sys.modules if m.startswith({DEFERRED!r}))\n"
        "if _loaded:\n"
        "    raise SystemExit('loaded at import: ' + ' '.join(_loaded[:20]))\n"
    )
    measure.run_once(dataclasses.replace(target, body=f"{target.body}{check}"), timeout=60)


SMALL_SYNC = ("--invoices", "120", "--customers", "10", "--items", "5")


def bench_json(*args: str) -> dict[str, Any]:
    """`python -m bench --runs 1 --json` with `args`: what it printed, once it exited with 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--runs", "1", "--json", *args],
        cwd=tpl.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def test_the_sync_bench_checks_the_books_plain_and_with_faults():
    plain, faulty = bench_json("--sync", "both", "--engine", "none", "--desktop", "none", *SMALL_SYNC)["sync"]
    for figures in (plain, faulty):
        assert figures["records"] == 135
        assert figures["synced"] == 135
        assert figures["duplicates"] == 0
        assert figures["wrong_totals"] == 0
        assert figures["calls_per_record"] <= 0.1
        assert figures["ok"] is True
        # DynamoDB requests of the push and sync, counted at moto, by operation, per synced record.
        assert {"BatchGetItem", "Query"} <= set(figures["dynamodb"])
        total = sum(figures["dynamodb"].values())
        assert figures["dynamodb_per_synced_record"] == total / figures["synced"]
    assert plain["answered_429"] == 0
    assert plain["dynamodb_per_synced_record"] <= 3  # issue 9: events and saves of a batch written together
    assert faulty["faults"] is True
    assert faulty["profile"] == "faults"
    assert sum(faulty["fired"].values()) > 0


def test_the_engine_bench_syncs_against_the_sandbox_limits_plain_and_with_faults():
    # Small runs: a rate over a few batches says little (make bench sends 3,000 invoices for it).
    engine_only = (
        "--sync",
        "none",
        "--engine",
        "both",
        "--engine-invoices",
        "120",
        "--engine-records",
        "300",
        "--desktop",
        "none",
    )
    plain, faulty = bench_json(*engine_only, *SMALL_SYNC)["engine"]
    for figures in (plain, faulty):
        assert figures["synced"] == figures["records"]
        assert (figures["lost"], figures["duplicates"], figures["wrong_totals"]) == (0, 0, 0)
        assert figures["invoices_per_minute"] > 0
    assert (plain["records"], faulty["records"]) == (135, 300)
    assert plain["answered_429"] == 0
    assert plain["calls_per_record"] <= 0.05
    assert faulty["profile"] == "faults"
    assert sum(faulty["fired"].values()) > 0


def test_the_desktop_bench_syncs_through_the_simulated_web_connector_plain_and_with_faults():
    desktop_only = ("--sync", "none", "--engine", "none", "--desktop", "both", "--desktop-records", "300")
    plain, faulty = bench_json(*desktop_only, *SMALL_SYNC)["desktop"]
    for figures in (plain, faulty):
        assert figures["synced"] == figures["records"]
        assert (figures["lost"], figures["duplicates"], figures["wrong_totals"]) == (0, 0, 0)
        assert figures["ok"] is True
    assert (plain["records"], faulty["records"]) == (135, 300)
    assert plain["runs"] == 1
    assert plain["round_trips"] <= 10
    assert 0 < plain["largest_message_bytes"] <= 1_500_000
    assert faulty["profile"] == "faults"
    assert sum(faulty["fired"].values()) > 0
