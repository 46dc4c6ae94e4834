"""`make bench`'s Desktop bench runs for real at a small size (the simulated Web Connector, plain and
with faults), and checks the books."""

from __future__ import annotations

import pytest

from tests.infra.bench_runs import SMALL_SYNC, bench_json

pytestmark = pytest.mark.slow


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
