"""`make bench`'s sync bench runs for real at a small size (the local stack, plain and with faults), and
checks the books."""

from __future__ import annotations

import pytest

from tests.infra.bench_runs import SMALL_SYNC, bench_json

pytestmark = pytest.mark.slow


def test_the_sync_bench_checks_the_books_and_counts_dynamodb_requests():
    # The plain profile only: the engine and Desktop benches' tests run theirs with faults too.
    [plain] = bench_json("--sync", "plain", "--engine", "none", "--desktop", "none", *SMALL_SYNC)["sync"]
    assert plain["records"] == 135
    assert plain["synced"] == 135
    assert plain["duplicates"] == 0
    assert plain["wrong_totals"] == 0
    assert plain["calls_per_record"] <= 0.1
    assert plain["ok"] is True
    assert plain["profile"] == "plain"
    assert plain["answered_429"] == 0
    # DynamoDB requests of the push and sync, counted at moto, by operation, per synced record.
    assert {"BatchGetItem", "Query"} <= set(plain["dynamodb"])
    total = sum(plain["dynamodb"].values())
    assert plain["dynamodb_per_synced_record"] == total / plain["synced"]
    assert plain["dynamodb_per_synced_record"] <= 3  # issue 9: events and saves of a batch written together
