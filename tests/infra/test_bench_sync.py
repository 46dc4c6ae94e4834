"""`make bench`'s sync bench runs for real at a small size (the local stack, plain and with faults), and
checks the books."""

from __future__ import annotations

import pytest

from tests.infra.bench_runs import SMALL_SYNC, bench_json

pytestmark = pytest.mark.slow


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
