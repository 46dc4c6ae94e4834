"""Aggregation and output: medians over runs, figures over the bare interpreter, a table and JSON."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

BARE = "bare"  # kind of the `python -c pass` row
BASELINE = "baseline"  # kind of the "every runtime dependency" row
FUNCTION = "function"  # kind of a handler row

# What a handler's import may take (median, ms, its interpreter's start-up excluded) and its peak RSS: the
# functions Intuit calls (its webhooks; the Web Connector, whose calls time out) at most 150 ms, every other
# at most 300 ms, each within 100 MiB.
IMPORT_TARGETS_MS = {"QboWebhookFunction": 150.0, "QbwcFunction": 150.0}
IMPORT_TARGET_MS = 300.0
RSS_TARGET_KB = 100 * 1024


def import_target_ms(name: str) -> float:
    return IMPORT_TARGETS_MS.get(name, IMPORT_TARGET_MS)


@dataclass(frozen=True)
class Sample:
    """One run of one target in a fresh subprocess."""

    import_ms: float  # measured inside the child, around the import only
    wall_ms: float  # the whole subprocess, measured by the parent
    maxrss_kb: int  # the child's peak resident set size
    modules: int = 0  # modules the import added to sys.modules


@dataclass(frozen=True)
class Measurement:
    name: str
    kind: str
    samples: tuple[Sample, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    runs: int
    import_ms: float | None = None
    import_ms_min: float | None = None
    import_ms_max: float | None = None
    wall_ms: float | None = None
    wall_over_bare_ms: float | None = None
    maxrss_kb: int | None = None
    maxrss_over_bare_kb: int | None = None
    modules: int | None = None
    of_baseline: float | None = None  # import_ms as a fraction of the baseline's
    error: str | None = None


@dataclass(frozen=True)
class Report:
    python: str
    runs: int
    rows: tuple[Row, ...]

    def row(self, kind: str) -> Row | None:
        return next((r for r in self.rows if r.kind == kind), None)

    @property
    def functions(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.kind == FUNCTION)

    @property
    def failed(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.error is not None)

    def missed(self) -> list[str]:
        """The handlers over their targets, each with its figure."""
        missed = []
        for r in self.functions:
            if r.error is not None:
                missed.append(f"{r.name} not measured")
            if r.import_ms is not None and r.import_ms > import_target_ms(r.name):
                missed.append(f"{r.name} imports in {r.import_ms:.0f} ms (≤ {import_target_ms(r.name):.0f})")
            if r.maxrss_kb is not None and r.maxrss_kb > RSS_TARGET_KB:
                missed.append(f"{r.name} peaks at {r.maxrss_kb / 1024:.0f} MiB (≤ {RSS_TARGET_KB // 1024})")
        return missed


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def _minus(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def summarize(measurements: Sequence[Measurement], *, python: str, runs: int) -> Report:
    """Medians per target, then the differences to the bare interpreter and the ratio to the baseline."""
    rows = []
    for m in measurements:
        if m.error is not None or not m.samples:
            rows.append(Row(name=m.name, kind=m.kind, runs=len(m.samples), error=m.error or "no samples"))
            continue
        imports = [s.import_ms for s in m.samples]
        rows.append(
            Row(
                name=m.name,
                kind=m.kind,
                runs=len(m.samples),
                import_ms=median(imports),
                import_ms_min=min(imports),
                import_ms_max=max(imports),
                wall_ms=median([s.wall_ms for s in m.samples]),
                maxrss_kb=round(median([s.maxrss_kb for s in m.samples])),
                modules=round(median([s.modules for s in m.samples])),
            )
        )
    bare = next((r for r in rows if r.kind == BARE and r.error is None), None)
    baseline = next((r for r in rows if r.kind == BASELINE and r.error is None), None)
    final = []
    for r in rows:
        changes: dict[str, Any] = {}
        if r.error is None and bare is not None:
            changes["wall_over_bare_ms"] = _minus(r.wall_ms, bare.wall_ms)
            changes["maxrss_over_bare_kb"] = _minus(r.maxrss_kb, bare.maxrss_kb)
        if r.error is None and r.import_ms is not None and baseline is not None and baseline.import_ms:
            changes["of_baseline"] = r.import_ms / baseline.import_ms
        final.append(replace(r, **changes))
    return Report(python=python, runs=runs, rows=tuple(final))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _mib(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f}"


def _range(row: Row) -> str:
    if row.import_ms_min is None or row.import_ms_max is None:
        return "-"
    return f"{row.import_ms_min:.0f}-{row.import_ms_max:.0f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


HEADERS = (
    "target",
    "import ms",
    "≤",
    "range",
    "of base",
    "wall ms",
    "wall-bare",
    "RSS MiB",
    "RSS-bare",
    "modules",
)


def format_table(report: Report) -> str:
    """An aligned plain-text table, one line per target, with what the columns mean underneath."""
    lines = [
        [
            r.name,
            _ms(r.import_ms),
            f"{import_target_ms(r.name):.0f}" if r.kind == FUNCTION else "",
            _range(r),
            _percent(r.of_baseline),
            _ms(r.wall_ms),
            _ms(r.wall_over_bare_ms),
            _mib(r.maxrss_kb),
            _mib(r.maxrss_over_bare_kb),
            "-" if r.modules is None else str(r.modules),
        ]
        for r in report.rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(HEADERS)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [
        f"Cold-start imports, median of {report.runs} run(s) each, {report.python}",
        "",
        fmt(HEADERS),
        fmt(["-" * w for w in widths]),
    ]
    out.extend(fmt(line) for line in lines)
    out += [
        "",
        "import ms  time to import the handler module (or the dependencies) in a fresh interpreter,",
        "           its own start-up excluded; range: the fastest and the slowest run.",
        "≤          the import's target (ms); every handler's peak RSS: ≤ 100 MiB.",
        "of base    import ms as a share of the plain import of all runtime dependencies (to beat).",
        "wall-bare  subprocess wall time minus that of `python -c pass`; includes the interpreter's exit.",
        "RSS        peak resident memory (max RSS); RSS-bare: what the import adds to `python -c pass`.",
    ]
    baseline = report.row(BASELINE)
    if baseline is not None and baseline.import_ms is not None:
        slower = [
            r.name for r in report.functions if r.import_ms is not None and r.import_ms > baseline.import_ms
        ]
        out.append("")
        out.append(
            "Handlers slower to import than the baseline: " + (", ".join(slower) if slower else "none") + "."
        )
    missed = report.missed()
    out.append(
        "Targets: " + ("every handler within its own." if not missed else "missed: " + "; ".join(missed))
    )
    for r in report.failed:
        out += ["", f"FAILED {r.name}: {r.error}"]
    return "\n".join(out)


def to_json(report: Report, measurements: Sequence[Measurement] = ()) -> dict[str, Any]:
    """Machine-readable figures; the raw samples are included when the measurements are passed."""
    samples = {m.name: [asdict(s) for s in m.samples] for m in measurements}
    return {
        "python": report.python,
        "runs": report.runs,
        "targets": [{**asdict(r), "samples": samples.get(r.name, [])} for r in report.rows],
        "targets_missed": report.missed(),
    }
