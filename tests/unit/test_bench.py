"""`make bench`: aggregation and formatting on synthetic measurements, and its targets; no subprocess."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bench import measure
from bench.desktop import DesktopFigures
from bench.desktop import format_figures as format_desktop
from bench.matching import Held, MatchingFigures, count_duplicates
from bench.matching import format_figures as format_matching
from bench.report import (
    BARE,
    BASELINE,
    FUNCTION,
    Measurement,
    Sample,
    format_table,
    median,
    summarize,
    to_json,
)
from local import template as tpl


def _samples(
    imports: list[float], walls: list[float], rss: list[int], modules: int = 0
) -> tuple[Sample, ...]:
    return tuple(
        Sample(import_ms=i, wall_ms=w, maxrss_kb=r, modules=modules)
        for i, w, r in zip(imports, walls, rss, strict=True)
    )


MEASUREMENTS = [
    Measurement("python -c pass", BARE, _samples([0.0, 0.0, 0.0], [21.0, 19.0, 20.0], [9000, 9216, 9100])),
    Measurement(
        "all runtime dependencies",
        BASELINE,
        _samples([710.0, 650.0, 700.0], [900.0, 1000.0, 950.0], [92160, 90000, 91000], modules=800),
    ),
    Measurement(
        "ApiFunction",
        FUNCTION,
        _samples([320.0, 280.0, 300.0], [420.0, 400.0, 410.0], [61440, 60000, 62000], modules=500),
    ),
    Measurement(
        "HeavyFunction",
        FUNCTION,
        _samples([800.0, 760.0, 790.0], [980.0, 990.0, 1000.0], [100000, 100000, 100000], modules=900),
    ),
    Measurement("BrokenFunction", FUNCTION, error="exit 1: ModuleNotFoundError: No module named 'nope'"),
]


@pytest.fixture
def report():
    return summarize(MEASUREMENTS, python="Python 3.x (test)", runs=3)


def test_median_of_odd_and_even_counts():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_rows_hold_medians_and_figures_over_bare_and_baseline(report):
    bare, baseline, api, heavy, broken = report.rows
    assert bare.wall_ms == 20.0
    assert bare.maxrss_kb == 9100
    assert bare.wall_over_bare_ms == 0.0

    assert baseline.import_ms == 700.0
    assert (baseline.import_ms_min, baseline.import_ms_max) == (650.0, 710.0)
    assert baseline.wall_over_bare_ms == 930.0
    assert baseline.maxrss_over_bare_kb == 91000 - 9100
    assert baseline.of_baseline == 1.0

    assert api.import_ms == 300.0
    assert api.wall_ms == 410.0
    assert api.wall_over_bare_ms == 390.0
    assert api.maxrss_kb == 61440
    assert api.maxrss_over_bare_kb == 61440 - 9100
    assert api.modules == 500
    assert api.of_baseline == pytest.approx(300 / 700)

    assert heavy.import_ms == 790.0
    assert broken.error is not None
    assert broken.import_ms is None
    assert report.failed == (broken,)


def test_table_is_aligned_and_shows_every_target(report):
    table = format_table(report)
    lines = table.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("target"))
    body = lines[header : header + 2 + len(MEASUREMENTS)]
    assert len({len(line) for line in body}) == 1, "columns are aligned"
    assert "median of 3 run(s)" in lines[0]

    api = next(line for line in body if line.startswith("ApiFunction"))
    assert api.split() == [
        "ApiFunction",
        "300.0",
        "300",  # its target
        "280-320",
        "43",
        "%",
        "410.0",
        "390.0",
        "60.0",
        "51.1",
        "500",
    ]
    baseline = next(line for line in body if line.startswith("all runtime dependencies"))
    assert "700.0" in baseline
    assert "100 %" in baseline
    broken = next(line for line in body if line.startswith("BrokenFunction"))
    assert broken.split()[1:] == ["-", "300", *["-"] * 7]

    assert "Handlers slower to import than the baseline: HeavyFunction." in table
    assert (
        "Targets: missed: HeavyFunction imports in 790 ms (≤ 300); BrokenFunction not measured" in table
    )  # ApiFunction's 300 ms is within its 300, its 60 MiB within 100
    assert "FAILED BrokenFunction: exit 1: ModuleNotFoundError" in table


def test_a_handler_intuit_calls_is_held_to_150_ms_and_every_handler_to_100_mib() -> None:
    measured = [
        Measurement("QboWebhookFunction", FUNCTION, _samples([160.0], [200.0], [50_000])),
        Measurement("QbwcFunction", FUNCTION, _samples([140.0], [200.0], [50_000])),
        Measurement("SchedulerFunction", FUNCTION, _samples([200.0], [250.0], [110 * 1024])),
    ]
    assert summarize(measured, python="Python 3.x (test)", runs=1).missed() == [
        "QboWebhookFunction imports in 160 ms (≤ 150)",
        "SchedulerFunction peaks at 110 MiB (≤ 100)",
    ]


def test_json_carries_figures_and_raw_samples(report):
    doc = json.loads(json.dumps(to_json(report, MEASUREMENTS)))
    by_name = {t["name"]: t for t in doc["targets"]}
    assert doc["runs"] == 3
    assert by_name["ApiFunction"]["import_ms"] == 300.0
    assert by_name["ApiFunction"]["wall_over_bare_ms"] == 390.0
    assert [s["import_ms"] for s in by_name["ApiFunction"]["samples"]] == [320.0, 280.0, 300.0]
    assert by_name["BrokenFunction"]["error"].startswith("exit 1")
    assert by_name["BrokenFunction"]["samples"] == []


def test_without_a_bare_row_there_is_nothing_to_subtract():
    only = summarize(MEASUREMENTS[2:3], python="x", runs=3)
    (api,) = only.rows
    assert api.import_ms == 300.0
    assert api.wall_over_bare_ms is None
    assert api.of_baseline is None
    assert "ApiFunction" in format_table(only)


def test_targets_cover_every_function_of_the_template():
    functions = tpl.functions(tpl.load())
    targets = measure.targets()
    assert [t.kind for t in targets[:2]] == [BARE, BASELINE]
    by_name = {t.name: t for t in targets if t.kind == FUNCTION}
    assert set(by_name) == set(functions)
    for lid, spec in functions.items():
        target = by_name[lid]
        assert target.cwd == spec.code_uri
        assert target.env["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert target.env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert target.env["POWERTOOLS_SERVICE_NAME"] == spec.environment["POWERTOOLS_SERVICE_NAME"]
        assert target.env["PYTHONPATH"] == str(tpl.ROOT / "layers" / "core")
        assert not any(k.startswith("AWS_ACCESS") or k == "AWS_ENDPOINT_URL" for k in target.env)
        assert str(spec.code_uri / "app.py") in target.child_code()
    for target in targets:
        compile(target.child_code(), target.name, "exec")  # the child program is valid Python


def desktop_figures(**changes: Any) -> DesktopFigures:
    base = DesktopFigures(
        profile="plain", items=100, customers=200, invoices=1000, synced=1300, failed=0, runs=1, cut_short=0,
        round_trips=8, requests=1300, largest_message_bytes=330_000, duplicates=0, wrong_totals=0,
        runs_without_faults=0, wall_seconds=10.0, fired={},
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_the_desktop_run_meets_its_targets_only_within_every_one_of_them() -> None:
    assert desktop_figures().ok
    assert not desktop_figures(round_trips=11).ok
    assert not desktop_figures(largest_message_bytes=1_500_001).ok
    assert not desktop_figures(runs=2).ok  # one update for the whole sync
    assert not desktop_figures(duplicates=1).ok
    assert not desktop_figures(synced=1299, failed=1).ok  # a failed record is a lost one
    faults = desktop_figures(profile="faults", runs=14, cut_short=10, runs_without_faults=1)
    assert faults.extra_runs == 3
    assert faults.ok
    assert not dataclasses.replace(faults, runs=15).ok
    shown = format_desktop(faults)
    assert "14: 10 cut short by faults, 1 without faults, 3 extra (target ≤ 3)" in shown


def matching_figures(**changes: Any) -> MatchingFigures:
    base = MatchingFigures(
        edition="qbo", records=1000, matched=800, right=800, decidable=820, right_decidable=800,
        ambiguous_planted=40, ambiguous_listed=40, accepted=120, created=150, duplicates=0, failed=30,
        seconds=300.0, phases={"seeded and read": 20.0, "sent": 300.0},
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_the_matching_runs_of_both_editions_are_shown_side_by_side_against_the_same_targets() -> None:
    online, desktop = matching_figures(), matching_figures(edition="qbd", duplicates=1, seconds=250.0)
    assert online.ok
    assert not desktop.ok
    lines = format_matching([online, desktop]).splitlines()
    assert lines[1].split() == [
        "QuickBooks",
        "Online",
        "(sandbox)",
        "QuickBooks",
        "Desktop",
        "(stand-in)",
        "target",
    ]
    assert lines[3].split() == ["precision", "1.000", "(800/800)", "1.000", "(800/800)", "≥", "0.99"]
    assert "duplicates        0" in lines[8]
    assert lines[8].split()[1:] == ["0", "1", "0"]
    assert lines[11].split() == ["result", "ok", "FAILED"]
    assert lines[12].startswith("  QuickBooks Online (sandbox): seeded and read at 20.0 s")


def test_a_created_object_sharing_a_normalised_name_an_email_or_a_sku_with_another_is_a_duplicate() -> None:
    held = {
        "customer": [
            Held("1", "Acme Plumbing, Inc.", "acme@example.com"),
            Held("2", "ACME PLUMBING"),  # created: the same name once normalised
            Held("3", "Zenith Bakery", "ACME@example.com "),  # created: the same email
            Held("4", "Harbor View Roofing", "harbor@example.com"),  # created: nothing shared
        ],
        "item": [
            Held("10", "Copper Pipe", sku="CP-1"),
            Held("11", "Brass Valve", sku="cp-1"),  # created: the same SKU (Desktop: ManufacturerPartNumber)
        ],
        "vendor": [Held("20", "Acme Plumbing")],  # another list: no duplicate of the customer
    }
    assert count_duplicates(held, seeded={"1", "10", "20"}) == (4, 3)
