"""`make bench`: import time and peak memory of every function's handler, next to a bare interpreter and a
plain import of every runtime dependency. Each run is a fresh subprocess; figures are medians."""

from __future__ import annotations

import argparse
import json
import platform
import sys

from bench import measure, report


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--runs", type=_positive, default=7, help="runs per target; the median is shown (default 7)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument(
        "--timeout",
        type=float,
        default=measure.TIMEOUT_SECONDS,
        help="seconds one import may take before it counts as failed (default %(default)s)",
    )
    args = parser.parse_args(argv)

    targets = measure.targets()
    measure.precompile(targets)
    measurements = measure.run_all(
        targets,
        args.runs,
        timeout=args.timeout,
        progress=lambda done, total: print(f"bench: round {done}/{total}", file=sys.stderr, flush=True),
    )
    python = f"Python {platform.python_version()} ({sys.executable})"
    result = report.summarize(measurements, python=python, runs=args.runs)
    if args.json:
        print(json.dumps(report.to_json(result, measurements), indent=2))
    else:
        print(report.format_table(result))
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
