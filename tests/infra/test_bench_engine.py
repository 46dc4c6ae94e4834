"""`make bench`'s engine bench runs for real at a small size (the sandbox's limits, plain and with faults),
and checks the books."""

from __future__ import annotations

import pytest

from tests.infra.bench_runs import SMALL_SYNC, bench_json

pytestmark = pytest.mark.slow


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
