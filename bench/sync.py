"""`make bench` part two: a whole sync against the local stack, started as `make run` starts it.

One tenant connects to a fresh sandbox company, then the host app pushes 100 items, 200 customers and 1,000
invoices through the API (bulk POSTs). The worker sends them; the benchmark waits until every record is
synced or failed, then checks the sandbox's books: every record once, with the right totals and links. It
reports the QuickBooks API calls per record (target at most 0.1) and the 429s QuickBooks answered (target 0,
under the sandbox's real limits). With `--faults`, 10 % of batch answers are lost after the change was
committed, 5 % are 503s, and 3 % are throttled; the figures must show zero duplicates all the same.
It also counts the DynamoDB requests moto answered from the first push until all settled, by operation (its
own reads through the API, the GET requests it polls with, left out), per synced record (target at most 3).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx

from local import meter
from local import stack as local_stack
from local.connect import connect_qbo
from qbsync.adapters.qbo_lists import ONLINE_LISTS

TENANT = "bench"
BULK = 500
FAULTS = (
    {"kind": "lost", "path_contains": "/batch", "method": "POST", "rate": 0.10, "seed": 1},
    {"kind": "status", "status": 503, "path_contains": "/batch", "method": "POST", "rate": 0.05, "seed": 2},
    {"kind": "throttle", "path_contains": "/batch", "method": "POST", "rate": 0.03, "seed": 3},
)
# QuickBooks at its worst: 60 % of batch answers lost after the change was committed, 503s, throttling.
HEAVY_FAULTS = ({**FAULTS[0], "rate": 0.60}, *FAULTS[1:])
# No record moved for this long: a run waited out the queue's 900 s visibility timeout, or worse.
STALL_SECONDS = 300
DYNAMODB_TARGET = 3  # DynamoDB requests per synced record (issue 9)
PROFILES: dict[str, tuple[dict[str, object], ...]] = {"plain": (), "faults": FAULTS, "heavy": HEAVY_FAULTS}


@dataclass(frozen=True)
class SyncFigures:
    records: int
    synced: int
    failed: int
    api_calls: int
    answered_429: int
    duplicates: int
    wrong_totals: int
    push_seconds: float
    sync_seconds: float
    profile: str  # plain, faults or heavy (PROFILES)
    fired: dict[str, int]  # faults the sandbox answered with, by kind
    longest_still_seconds: float  # the longest time no record changed state while some were on their way
    dynamodb: dict[str, int]  # DynamoDB requests of the push and sync, by operation

    @property
    def faults(self) -> bool:
        return self.profile != "plain"

    @property
    def calls_per_record(self) -> float:
        return self.api_calls / self.records

    @property
    def dynamodb_per_synced_record(self) -> float:
        return sum(self.dynamodb.values()) / max(1, self.synced)

    @property
    def ok(self) -> bool:
        settled = self.synced + self.failed == self.records
        return (
            settled
            and self.duplicates == 0
            and self.wrong_totals == 0
            # With most answers lost, every lost batch costs a look-up: the call target is for the others.
            and (self.profile == "heavy" or self.calls_per_record <= 0.1)
            and (self.faults or self.answered_429 == 0)
            and (self.faults or self.dynamodb_per_synced_record <= DYNAMODB_TARGET)
            and self.longest_still_seconds < STALL_SECONDS
        )


def _longest_still(client: httpx.Client, since: str) -> float:
    """The longest gap between two state changes of any record after `since` (ISO time): how long the sync
    stood still at its worst. A run stuck until the queue gives its job back shows as 900 s or more."""
    stamps: list[datetime] = [datetime.fromisoformat(since)]
    for record_type in ("item", "customer", "invoice"):
        cursor: str | None = None
        while True:
            params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
            page = client.get(f"/v1/tenants/{TENANT}/records/{record_type}", params=params).json()
            stamps += [datetime.fromisoformat(t["at"]) for r in page["items"] for t in r["history"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    after = sorted(t for t in stamps if t >= stamps[0])
    return max((b - a).total_seconds() for a, b in pairwise(after)) if len(after) > 1 else 0.0


Entries = list[tuple[str, dict[str, Any]]]  # (record id, record body)


def company(items: int, customers: int, invoices: int, doc_prefix: str) -> dict[str, Entries]:
    """The benches' books, by record type in the order they are pushed: invoice n is DocNumber
    `{doc_prefix}-{n:05d}` for customer n mod `customers`, its total `expected_total(n)`."""
    return {
        "item": [(f"item-{n}", {"kind": "service", "name": f"Service {n:03d}"}) for n in range(items)],
        "customer": [
            (f"cust-{n}", {"display_name": f"Customer {n:04d}", "email": f"c{n}@example.com"})
            for n in range(customers)
        ],
        "invoice": [
            (
                f"inv-{n}",
                {
                    "customer_id": f"cust-{n % customers}",
                    "doc_number": f"{doc_prefix}-{n:05d}",
                    "lines": [
                        {
                            "item_id": f"item-{n % items}",
                            "quantity": str(1 + n % 3),
                            "rate": f"{10 + n % 100}.25",
                        },
                        {
                            "item_id": f"item-{(n * 7) % items}",
                            "quantity": "1",
                            "rate": "5.00",
                            "tax_code": "NON",
                        },
                    ],
                },
            )
            for n in range(invoices)
        ],
    }


def expected_total(n: int) -> Decimal:
    return (1 + n % 3) * Decimal(f"{10 + n % 100}.25") + Decimal("5.00")


def _push(client: httpx.Client, record_type: str, records: list[tuple[str, dict[str, Any]]]) -> None:
    for start in range(0, len(records), BULK):
        page = [{"id": rid, "data": data} for rid, data in records[start : start + BULK]]
        answer = client.post(f"/v1/tenants/{TENANT}/records/{record_type}", json={"records": page})
        answer.raise_for_status()
        refused = [r for r in answer.json()["results"] if r["status"] not in ("created", "updated")]
        if refused:
            raise RuntimeError(f"{record_type}: {refused[:3]}")


def _settled(client: httpx.Client) -> tuple[int, int, int]:
    """Records synced, failed, and still on their way, across the three types."""
    counts: Counter[str] = Counter()
    for record_type in ("item", "customer", "invoice"):
        for state in ("pending", "syncing", "synced", "failed"):
            cursor, params = None, {"state": state, "limit": "500"}
            while True:
                page = client.get(
                    f"/v1/tenants/{TENANT}/records/{record_type}",
                    params={**params, **({"cursor": cursor} if cursor else {})},
                ).json()
                counts[state] += len(page["items"])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
    return counts["synced"], counts["failed"], counts["pending"] + counts["syncing"]


def _polled(origin: str) -> bool:
    """Whether a request came from serving a GET of the API: the benchmark's own reads, not the sync's."""
    return origin.split(" ")[1:2] == ["GET"]


def _lists_read(api: httpx.Client, timeout: float = 120.0) -> None:
    """Wait until the mirror has read each of the company's lists once (the reads connecting asked for)."""
    deadline = time.monotonic() + timeout
    for list_type in ONLINE_LISTS:
        while not api.get(f"/v1/tenants/{TENANT}/quickbooks/{list_type.value}", params={"limit": 1}).json()[
            "loaded"
        ]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {list_type.value} list was not read within {timeout:.0f} s")
            time.sleep(0.2)


def run(
    *, customers: int = 200, items: int = 100, invoices: int = 1000, profile: str = "plain"
) -> SyncFigures:
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    try:
        realm = connect_qbo(stack, TENANT, name="Bench Books")
        qbo = httpx.Client(base_url=stack.qbo.url)
        for spec in PROFILES[profile]:
            qbo.post("/_sandbox/faults", json=spec).raise_for_status()
        api = httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=120
        )
        _lists_read(api)  # connecting reads the company's lists: not part of the sync measured here
        calls_before = qbo.get("/_sandbox/requests", params={"realm_id": realm}).json()["total"]
        requests_before = stack.aws_requests.snapshot()
        started = time.monotonic()
        for record_type, entries in company(items, customers, invoices, "B").items():
            _push(api, record_type, entries)
        pushed = time.monotonic()
        pushed_at = datetime.now(UTC).isoformat()
        while True:
            synced, failed, moving = _settled(api)
            if not moving:
                break
            time.sleep(1)
        done = time.monotonic()
        requests = stack.aws_requests.snapshot()
        requests.subtract(requests_before)
        dynamodb = meter.dynamodb_operations(requests, leave_out=_polled)
        books = tally(qbo, realm)
        return SyncFigures(
            records=customers + items + invoices,
            synced=synced,
            failed=failed,
            api_calls=books.api_calls - calls_before,
            answered_429=books.answered_429,
            duplicates=books.duplicates,
            wrong_totals=books.wrong_totals,
            push_seconds=pushed - started,
            sync_seconds=done - pushed,
            profile=profile,
            fired=books.fired,
            longest_still_seconds=_longest_still(api, pushed_at),
            dynamodb=dict(dynamodb.most_common()),
        )
    finally:
        stack.stop()


@dataclass(frozen=True)
class Tally:
    """What the sandbox company holds after a bench's sync, and what the sandbox answered and injected."""

    duplicates: int  # customers and items by name, invoices by number, beyond the first of each
    wrong_totals: int  # invoices whose total is not the one pushed
    api_calls: int
    answered_429: int
    fired: dict[str, int]  # injected faults that fired, by kind ("status 503", "drop_answer", ...)


def tally(qbo: httpx.Client, realm: str) -> Tally:
    """The company pushed by `company` as the sandbox (at `qbo`) has it: duplicates, wrong totals, calls, and
    the faults that fired."""
    books = {
        kind: qbo.get(f"/_sandbox/companies/{realm}/entities/{kind}").json()[kind]
        for kind in ("Item", "Customer", "Invoice")
    }
    names = Counter(c["DisplayName"] for c in books["Customer"]) + Counter(i["Name"] for i in books["Item"])
    numbers = Counter(i["DocNumber"] for i in books["Invoice"])
    wrong = sum(
        1 for i in books["Invoice"] if Decimal(str(i["TotalAmt"])) != expected_total(int(i["DocNumber"][2:]))
    )
    answers = qbo.get("/_sandbox/requests", params={"realm_id": realm}).json()
    listed = qbo.get("/_sandbox/faults").json()
    fired: Counter[str] = Counter()
    for fault in [*listed["faults"], *listed["spent"]]:
        kind = f"{fault['kind']} {fault['status']}" if fault["kind"] == "status" else fault["kind"]
        fired[kind] += int(fault["fired"])
    return Tally(
        duplicates=sum(n - 1 for n in (names + numbers).values() if n > 1),
        wrong_totals=wrong,
        api_calls=answers["total"],
        answered_429=answers["by_status"].get("429", 0),
        fired=dict(fired),
    )


# Left open: the stack's threads may still log a line while they stop.
_SINK = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def run_quietly(**kwargs: Any) -> SyncFigures:
    """`run`, with the stack's logs (JSON lines on stdout) kept out of the report."""
    print(f"bench: sync ({kwargs.get('profile', 'plain')})...", file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(_SINK):
        return run(**kwargs)


def _dynamodb(f: SyncFigures) -> str:
    per = max(1, f.synced)
    each = ", ".join(f"{op} {n / per:.2f}" for op, n in f.dynamodb.items())
    return f"{f.dynamodb_per_synced_record:.2f} ({each}) (target ≤ {DYNAMODB_TARGET})"


def format_figures(f: SyncFigures) -> str:
    title = {
        "plain": "sync",
        "faults": "sync, with faults injected",
        "heavy": "sync, with 60 % of answers lost, 503s and throttling",
    }[f.profile]
    fired = ", ".join(f"{kind} {n}" for kind, n in sorted(f.fired.items())) or "none"
    rows = [
        ("records pushed", f"{f.records}"),
        ("synced / failed", f"{f.synced} / {f.failed}"),
        ("QuickBooks API calls", f"{f.api_calls}"),
        ("calls per record", f"{f.calls_per_record:.3f} (target ≤ 0.1)"),
        ("DynamoDB requests per synced record", _dynamodb(f)),
        ("429 answered", f"{f.answered_429}" + ("" if f.faults else " (target 0)")),
        ("duplicates in QuickBooks", f"{f.duplicates} (target 0)"),
        ("invoices with a wrong total", f"{f.wrong_totals}"),
        ("push through the API", f"{f.push_seconds:.1f} s"),
        ("until all settled", f"{f.sync_seconds:.1f} s"),
        ("faults answered", fired),
        ("longest standstill", f"{f.longest_still_seconds:.1f} s (target < {STALL_SECONDS} s)"),
        ("result", "ok" if f.ok else "FAILED"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join([title, *(f"  {k.ljust(width)}  {v}" for k, v in rows)])
