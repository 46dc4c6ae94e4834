"""How often the Overview's script asks for the counts: each answer reads every record of the tenant, so the
interval grows with them and the reads an open page costs stay about the same."""

from __future__ import annotations

import pytest

from qbsync.pages.routes import LIVE_EVERY_MAX, counts_every


@pytest.mark.parametrize(
    ("records", "every"),
    [(0, 5000), (1, 5000), (1000, 5000), (1001, 10_000), (2500, 15_000), (10_000, 50_000), (50_000, 60_000)],
)
def test_the_counts_are_asked_for_less_often_the_more_records_they_count(records: int, every: int) -> None:
    assert counts_every(records) == every


def test_records_read_per_second_stay_bounded_until_the_minute_cap() -> None:
    for records in (1000, 3000, 7000, 12_000):
        assert 180 <= records / (counts_every(records) / 1000) <= 200
    assert counts_every(10**6) == LIVE_EVERY_MAX
