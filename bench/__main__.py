"""`make bench`: import time and peak memory of every function's handler, next to a bare interpreter and a
plain import of every runtime dependency (each run a fresh subprocess; figures are medians); then a whole sync
of 1,300 records against the local stack, plain and with faults injected (bench/sync.py); then the sync
engine alone against the sandbox at QuickBooks' limits: its rate, and 10,000 records with faults
(bench/engine.py); then QuickBooks Desktop through the simulated Web Connector: the same 1,300 records in one
update, and 10,000 records with faults (bench/desktop.py); with --matching, automatch on the planted company
and the sync of its drafts, on QuickBooks Online and on QuickBooks Desktop side by side (bench/matching.py:
precision, recall, ambiguous listed, duplicates created)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from bench import desktop, engine, matching, measure, report, sync, webhook


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--runs",
        type=_count,
        default=7,
        help="runs per target; the median is shown (default 7; 0: no import figures)",
    )
    parser.add_argument(
        "--import-python",
        default=sys.executable,
        type=os.path.abspath,  # the children run in each function's directory
        help="the interpreter the handlers' imports are measured with, with the layer's requirements "
        "installed (`make bench` passes a python3.13 one, Lambda's runtime, when there is one)",
    )
    parser.add_argument(
        "--webhook-deliveries",
        type=int,
        default=1000,
        help="signed deliveries for the webhook's warm acknowledgement (0: none)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument(
        "--sync",
        choices=("none", "plain", "faults", "heavy", "both", "all"),
        default="all",
        help="which sync runs to measure: plain, with some faults, with 60%% of answers lost, plain and "
        "faults (both), or all three (the default); the run with 60%% lost answers sends half the invoices",
    )
    parser.add_argument("--invoices", type=_positive, default=1000, help="invoices of the sync run")
    parser.add_argument("--customers", type=_positive, default=200, help="customers of the sync run")
    parser.add_argument("--items", type=_positive, default=100, help="items of the sync run")
    parser.add_argument(
        "--engine",
        choices=("none", "plain", "faults", "both"),
        default="both",
        help="which engine runs against the sandbox at its limits: plain (the rate, in invoices a minute), "
        "with faults, or both (the default)",
    )
    parser.add_argument(
        "--engine-invoices", type=_positive, default=3000, help="invoices of the plain engine run"
    )
    parser.add_argument(
        "--engine-records",
        type=_positive,
        default=10_000,
        help="records of the engine run with faults: the customers, the items, and invoices for the rest",
    )
    parser.add_argument(
        "--desktop",
        choices=("none", "plain", "faults", "both"),
        default="both",
        help="QuickBooks Desktop through the simulated Web Connector: one update of the sync run's records "
        "(its round trips and messages), and --desktop-records with faults",
    )
    parser.add_argument(
        "--desktop-records",
        type=_positive,
        default=10_000,
        help="records of the Desktop run with faults: the customers, the items, and invoices for the rest",
    )
    parser.add_argument(
        "--matching",
        choices=("none", "full"),
        default="none",
        help="automatch on the local stack: the issue's planted company (500 customers, 300 items, 200 "
        "vendors) matched, its proposals decided and its drafts sent (`make bench` runs it)",
    )
    parser.add_argument(
        "--matching-editions",
        choices=("both", "online", "desktop"),
        default="both",
        help="the editions --matching runs in, each on a stack of its own: the QuickBooks Online sandbox, "
        "the Desktop stand-in through the simulated Web Connector, or both (the default)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=measure.TIMEOUT_SECONDS,
        help="seconds one import may take before it counts as failed (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.engine in ("faults", "both") and args.engine_records <= args.customers + args.items:
        parser.error("--engine-records must be more than --customers plus --items")
    if args.desktop in ("faults", "both") and args.desktop_records <= args.customers + args.items:
        parser.error("--desktop-records must be more than --customers plus --items")

    targets = measure.targets() if args.runs else []
    measure.precompile(targets, args.import_python)
    measurements = measure.run_all(
        targets,
        args.runs,
        timeout=args.timeout,
        progress=lambda done, total: print(f"bench: round {done}/{total}", file=sys.stderr, flush=True),
        python=args.import_python,
    )
    result = report.summarize(measurements, python=measure.version_of(args.import_python), runs=args.runs)
    profiles = {"none": (), "both": ("plain", "faults"), "all": ("plain", "faults", "heavy")}.get(
        args.sync, (args.sync,)
    )
    figures = [
        sync.run_quietly(
            customers=args.customers,
            items=args.items,
            invoices=max(1, args.invoices // 2) if profile == "heavy" else args.invoices,
            profile=profile,
        )
        for profile in profiles
    ]
    engine_runs = [
        engine.run_reporting(
            customers=args.customers,
            items=args.items,
            invoices=args.engine_invoices
            if profile == "plain"
            else args.engine_records - args.customers - args.items,
            profile=profile,
        )
        for profile in _profiles(args.engine)
    ]
    desktop_runs = [
        desktop.run_reporting(
            customers=args.customers,
            items=args.items,
            invoices=args.invoices
            if profile == "plain"
            else args.desktop_records - args.customers - args.items,
            profile=profile,
        )
        for profile in _profiles(args.desktop)
    ]
    editions = {"both": ("qbo", "qbd"), "online": ("qbo",), "desktop": ("qbd",)}[args.matching_editions]
    matching_runs = (
        [matching.run_quietly(edition=edition) for edition in editions] if args.matching == "full" else []
    )
    webhook_runs = [webhook.run(args.webhook_deliveries)] if args.webhook_deliveries else []
    runs = Runs(figures, engine_runs, desktop_runs, matching_runs, webhook_runs)
    _show(args.json, result, measurements, runs)
    return 1 if result.failed or not runs.ok else 0


@dataclasses.dataclass(frozen=True)
class Runs:
    sync: list[sync.SyncFigures]
    engine: list[engine.EngineFigures]
    desktop: list[desktop.DesktopFigures]
    matching: list[matching.MatchingFigures]
    webhook: list[webhook.WebhookFigures]

    @property
    def ok(self) -> bool:
        parts: list[Any] = [*self.sync, *self.engine, *self.desktop, *self.matching, *self.webhook]
        return all(part.ok for part in parts)


def _show(as_json: bool, result: report.Report, measurements: list[Any], runs: Runs) -> None:
    figures, engine_runs, desktop_runs, matching_runs = runs.sync, runs.engine, runs.desktop, runs.matching
    if as_json:
        document = report.to_json(result, measurements)
        document["matching"] = [
            {**dataclasses.asdict(m), "precision": m.precision, "recall": m.recall, "ok": m.ok}
            for m in matching_runs
        ]
        document["sync"] = [
            {
                **dataclasses.asdict(f),
                "faults": f.faults,
                "calls_per_record": f.calls_per_record,
                "dynamodb_per_synced_record": f.dynamodb_per_synced_record,
                "ok": f.ok,
            }
            for f in figures
        ]
        document["engine"] = [engine.to_json(e) for e in engine_runs]
        document["desktop"] = [desktop.to_json(d) for d in desktop_runs]
        document["webhook"] = [{**dataclasses.asdict(w), "ok": w.ok} for w in runs.webhook]
        print(json.dumps(document, indent=2))
    else:
        print(report.format_table(result))
        for f in figures:
            print()
            print(sync.format_figures(f))
        for e in engine_runs:
            print()
            print(engine.format_figures(e))
        for d in desktop_runs:
            print()
            print(desktop.format_figures(d))
        if matching_runs:
            print()
            print(matching.format_figures(matching_runs))
        for w in runs.webhook:
            print()
            print(webhook.format_figures(w))


def _profiles(choice: str) -> tuple[str, ...]:
    """The runs an --engine or --desktop choice asks for: none, plain, faults, or both of them."""
    return {"none": (), "both": ("plain", "faults")}.get(choice, (choice,))


if __name__ == "__main__":
    sys.exit(main())
