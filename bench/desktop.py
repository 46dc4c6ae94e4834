"""QuickBooks Desktop through the Web Connector: round trips and messages of a whole sync, and no duplicates
under the Web Connector's faults.

The product's /qbwc service (SOAP codec, DesktopSync, the sync engine, the qbXML codec) runs over in-memory
stores; the simulated Web Connector calls it and carries each message to the simulated company
(local/qbd), which runs it as QuickBooks would. Each update comes at the Web Connector's interval on the
shared clock, never waited for.

- plain: 100 items, 200 customers and 1,000 three-line invoices in one update, the company's lists read
  first as in every session: its round trips (target ≤ 10), requests per message, and the largest message
  (target ≤ 1.5 MB as the Web Connector receives it, inside the SOAP envelope);
- faults: 10,000 records with 10 % of answers dropped after QuickBooks committed them, 5 % of sessions
  killed mid-message and 3 % of writes refused as locked: 0 duplicates (by ExternalGUID and by RefNumber),
  0 lost, every total right, and at most 3 updates more than the same sync without faults takes besides
  those the faults cut short (each fault ends its update, as a PC going off does).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from bench.sync import company
from local.qbd.books import lines_total
from local.qbd.webconnector import Ending, Faults
from qbsync.domain.sync import SyncState
from qbsync.usecases.records import BULK_MAX
from tests.qbd.desktop_world import DesktopWorld

ROUND_TRIPS_TARGET = 10
MESSAGE_BYTES_TARGET = 1_500_000
EXTRA_RUNS_TARGET = 3
MAX_RUNS = 60
FAULTS = {"drop_answer": 0.10, "kill_mid_message": 0.05}
LOCKED = 0.03


@dataclasses.dataclass
class DesktopFigures:
    profile: str
    items: int
    customers: int
    invoices: int
    synced: int
    failed: int
    runs: int
    cut_short: int  # updates a fault ended (the PC went off, QuickBooks died mid-message)
    round_trips: int  # messages handed out (sendRequestXML answered with one)
    requests: int
    largest_message_bytes: int  # the sendRequestXML answer as sent: the qbXML inside its SOAP envelope
    duplicates: int
    wrong_totals: int
    runs_without_faults: int  # the same sync without faults, for the faults profile
    wall_seconds: float
    fired: dict[str, int]

    @property
    def records(self) -> int:
        return self.items + self.customers + self.invoices

    @property
    def lost(self) -> int:
        return self.records - self.synced

    @property
    def ok(self) -> bool:
        clean = self.duplicates == 0 and self.lost == 0 and self.wrong_totals == 0
        if self.profile == "plain":
            return (
                clean
                and self.runs == 1
                and self.round_trips <= ROUND_TRIPS_TARGET
                and self.largest_message_bytes <= MESSAGE_BYTES_TARGET
            )
        return clean and self.extra_runs <= EXTRA_RUNS_TARGET

    @property
    def extra_runs(self) -> int:
        """Updates beyond those the same sync takes without faults and those the faults cut short."""
        return self.runs - self.cut_short - self.runs_without_faults


def three_lines(items: int, customers: int, invoices: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The benches' books (bench.sync.company) with a third line on every invoice."""
    books = company(items, customers, invoices, "D")
    for n, (_, data) in enumerate(books["invoice"]):
        data["lines"].append({"item_id": f"item-{(n * 3) % items}", "amount": "1.50", "tax_code": "NON"})
    return books


def _world(books: dict[str, list[tuple[str, dict[str, Any]]]]) -> DesktopWorld:
    w = DesktopWorld.create("bench-desk", default_income_account="Sales", sync_payments_from_quickbooks=False)
    for record_type in ("item", "customer", "invoice"):
        entries = books[record_type]
        for start in range(0, len(entries), BULK_MAX):
            outcomes = w.records.upsert_many(w.tenant_id, record_type, entries[start : start + BULK_MAX])
            refused = [o for o in outcomes if o.status not in ("created", "updated")]
            if refused:
                raise RuntimeError(f"{record_type}: {refused[:3]}")
    return w


CUT_SHORT = (Ending.ANSWER_DROPPED, Ending.SESSION_KILLED, Ending.REQUEST_LOST)


def _sync(w: DesktopWorld) -> tuple[int, int]:
    """Updates until nothing is pending: how many it took, and how many of them a fault cut short (the PC
    went off: an update is lost with it, whatever the service does)."""
    cut_short = 0
    for runs in range(1, MAX_RUNS + 1):
        run = w.run()
        if run.ended in CUT_SHORT:
            cut_short += 1
            continue
        if not any(r.state in (SyncState.PENDING, SyncState.SYNCING) for r in w.store.records.values()):
            return runs, cut_short
    raise RuntimeError(f"the sync did not settle in {MAX_RUNS} updates")


def run(
    *, items: int = 100, customers: int = 200, invoices: int = 1000, profile: str = "plain"
) -> DesktopFigures:
    started = time.monotonic()
    books = three_lines(items, customers, invoices)
    baseline = 0
    if profile == "faults":
        baseline, _ = _sync(_world(books))
    w = _world(books)
    if profile == "faults":
        w.connector.faults = Faults(rates=dict(FAULTS), seed=11)
        w.company.lock_records(LOCKED, seed=11)
    runs, cut_short = _sync(w)
    expected = {
        data["doc_number"]: sum(
            (
                Decimal(line.get("quantity", "1")) * Decimal(line["rate"])
                if "rate" in line
                else Decimal(line["amount"])
            )
            for line in data["lines"]
        )
        for _, data in books["invoice"]
    }
    held = w.company.by_kind.get("Invoice", [])
    refs = Counter(obj.fields["RefNumber"][0] for obj in held)
    guids = Counter(
        g
        for kind in ("Customer", "ItemService", "Invoice")
        for o in w.company.by_kind.get(kind, [])
        for g in o.fields.get("ExternalGUID", [])
    )
    names = Counter(o.name for kind in ("Customer", "ItemService") for o in w.company.by_kind.get(kind, []))
    duplicates = (
        sum(n - 1 for n in refs.values())
        + sum(n - 1 for n in guids.values())
        + sum(n - 1 for n in names.values())
    )
    wrong = sum(1 for obj in held if lines_total(obj) != expected.get(obj.fields["RefNumber"][0]))
    states = Counter(r.state for r in w.store.records.values())
    fired = dict(w.connector.faults.fired)
    if profile == "faults":
        fired["locked"] = int(w.company.counters.get("locked", 0))
    return DesktopFigures(
        profile=profile,
        items=items,
        customers=customers,
        invoices=invoices,
        synced=states[SyncState.SYNCED],
        failed=states[SyncState.FAILED],
        runs=runs,
        cut_short=cut_short,
        round_trips=len(w.messages),
        requests=sum(m.count("requestID=") for m in w.messages),
        largest_message_bytes=max(w.message_bytes, default=0),
        duplicates=duplicates,
        wrong_totals=wrong,
        runs_without_faults=baseline,
        wall_seconds=time.monotonic() - started,
        fired=fired,
    )


def run_reporting(**kwargs: Any) -> DesktopFigures:
    print(f"bench: desktop ({kwargs.get('profile', 'plain')})...", file=sys.stderr, flush=True)
    return run(**kwargs)


def to_json(f: DesktopFigures) -> dict[str, Any]:
    return {**dataclasses.asdict(f), "records": f.records, "lost": f.lost, "ok": f.ok}


def format_figures(f: DesktopFigures) -> str:
    title = {
        "plain": "QuickBooks Desktop through the Web Connector (simulated), one update",
        "faults": "QuickBooks Desktop through the Web Connector (simulated), with faults injected",
    }[f.profile]
    plain = f.profile == "plain"
    per_message = f.requests / f.round_trips if f.round_trips else 0.0
    rows = [
        (
            "records pushed",
            f"{f.records} ({f.customers} customers, {f.items} items, {f.invoices} 3-line invoices)",
        ),
        ("synced / failed", f"{f.synced} / {f.failed}"),
        (
            "updates",
            f"{f.runs} (target 1)"
            if plain
            else f"{f.runs}: {f.cut_short} cut short by faults, {f.runs_without_faults} without faults, "
            f"{f.extra_runs} extra (target ≤ {EXTRA_RUNS_TARGET})",
        ),
        (
            "round trips (messages)",
            f"{f.round_trips}" + (f" (target ≤ {ROUND_TRIPS_TARGET})" if plain else ""),
        ),
        ("requests per message", f"{per_message:.0f}"),
        (
            "largest message",
            f"{f.largest_message_bytes / 1e6:.2f} MB (target ≤ {MESSAGE_BYTES_TARGET / 1e6} MB)",
        ),
        ("duplicates in QuickBooks", f"{f.duplicates} (target 0; by ExternalGUID, RefNumber and name)"),
        ("lost (not synced)", f"{f.lost} (target 0)"),
        ("invoices with a wrong total", f"{f.wrong_totals} (target 0)"),
        ("wall time", f"{f.wall_seconds:.1f} s"),
        ("faults", ", ".join(f"{k} {n}" for k, n in sorted(f.fired.items())) or "none"),
        ("result", "ok" if f.ok else "FAILED"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join([title, *(f"  {k.ljust(width)}  {v}" for k, v in rows)])
