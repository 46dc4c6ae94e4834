"""`make bench` part three: the sync engine alone against the QuickBooks Online sandbox at its real limits.

The engine runs in this process with the in-memory record store, lease and settings (their contract tests run
them against DynamoDB too), and a real `QboBooks` and `QboClient` over HTTP to the sandbox, which throttles
as Intuit does: 500 requests and 40 batches in any rolling minute per company (local/qbo/limits.py). The
client paces itself with an in-memory request budget of the DynamoDB budget's rates
(adapters/request_budget.py), so QuickBooks' limits, not the local DynamoDB stand-in, bound the rate.

Customers and items are pushed through the Records use case and synced first; then the invoices, synced
the way the worker runs a tenant: a paused run (RetryLaterError) waits its delay and runs again, a run that
ran out of time (`more`) runs again, until every record is synced or failed. Then the sandbox's books are
checked: every record once (names, DocNumbers), every invoice's total as pushed.

Time is the sandbox's clock: real time plus every wait the run would sleep (the budget's pacing, a paused
run's delay), which is added to the clock instead of slept. The sandbox's minute windows, the budget's
buckets and the engine's deadlines all read that clock, so they see what a run that slept would show them,
and the rate, per minute of that clock, is the rate a real company sees; the bench itself does not idle.
With the `faults` profile 10 % of batch answers are lost after the change was committed, 5 % are 503s and
3 % are throttled (429).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from bench.sync import company, tally
from local.qbo import server
from local.qbo.state import Sandbox
from qbsync.adapters.qbo_books import QboBooks
from qbsync.adapters.qbo_http import QboClient
from qbsync.adapters.request_budget import BATCHES, REQUESTS, SLOTS, Bucket
from qbsync.domain.connections import TokenSet
from qbsync.domain.sync import SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.records import BULK_MAX, Records
from qbsync.usecases.sync_engine import RetryLaterError, SyncEngine
from tests.unit.fakes import InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.mirror_fakes import InMemoryMirror, read_whole
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease

TENANT = "bench"
RATE_TARGET = 1000  # invoices per minute per company; QuickBooks allows about 1,200 (40 batches of 30)
CALLS_TARGET = 0.05  # QuickBooks calls per record, without faults
FAULTS = (
    {"kind": "lost", "path_contains": "/batch", "method": "POST", "rate": 0.10, "seed": 1},
    {"kind": "status", "status": 503, "path_contains": "/batch", "method": "POST", "rate": 0.05, "seed": 2},
    {"kind": "throttle", "path_contains": "/batch", "method": "POST", "rate": 0.03, "seed": 3},
)
PROFILES: dict[str, tuple[dict[str, object], ...]] = {"plain": (), "faults": FAULTS}
MAX_RUNS = 2000  # a sync that needs more runs than this is stuck


class CompanyClock:
    """The sandbox's clock, shared by everything in the run; `sleep` moves it on instead of waiting."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self.skipped = 0.0  # seconds added instead of slept

    def now(self) -> datetime:
        return self._sandbox.clock.now()

    def sleep(self, seconds: float) -> None:
        with self._sandbox.lock:
            self._sandbox.clock.offset += timedelta(seconds=seconds)
        self.skipped += seconds


@dataclasses.dataclass
class InMemoryRequestBudget:
    """The RequestBudget port with DynamoRequestBudget's token buckets and slots, for one process."""

    clock: CompanyClock
    buckets: tuple[Bucket, Bucket] = (REQUESTS, BATCHES)
    slots: int = SLOTS
    _tokens: dict[tuple[str, str], tuple[float, datetime]] = dataclasses.field(default_factory=dict)
    _held: dict[str, set[str]] = dataclasses.field(default_factory=dict)

    def take(self, realm_id: str, *, batch: bool) -> float:
        requests, batches = self.buckets
        wait = self._take(realm_id, requests)
        if wait == 0 and batch:
            wait = self._take(realm_id, batches)  # the request token stays spent, as in DynamoDB
        return wait

    def _take(self, realm_id: str, bucket: Bucket) -> float:
        now, rate = self.clock.now(), bucket.per_minute / 60.0
        tokens, at = self._tokens.get((realm_id, bucket.name), (bucket.capacity, now))
        tokens = min(bucket.capacity, tokens + max(0.0, (now - at).total_seconds()) * rate)
        if tokens < 1:
            return (1 - tokens) / rate
        self._tokens[(realm_id, bucket.name)] = (tokens - 1, now)
        return 0.0

    def enter(self, realm_id: str) -> str | None:
        held = self._held.setdefault(realm_id, set())
        free = next((str(n) for n in range(self.slots) if str(n) not in held), None)
        if free is not None:
            held.add(free)
        return free

    def leave(self, realm_id: str, slot: str) -> None:
        self._held.get(realm_id, set()).discard(slot)


@dataclasses.dataclass
class SandboxTokens:
    """The token port, issued by the sandbox itself; a refused token is replaced by a new one."""

    sandbox: Sandbox
    realm_id: str
    clock: CompanyClock
    current: dict[str, TokenSet] = dataclasses.field(default_factory=dict)  # by tenant

    def access_token(self, tenant_id: str) -> TokenSet:
        if tenant_id not in self.current:
            access, refresh = self.sandbox.issue_tokens("bench", self.realm_id, ["accounting"], "bench")
            self.current[tenant_id] = TokenSet(
                self.realm_id,
                access.token,
                refresh.token,
                access.expires_at,
                self.clock.now() + timedelta(days=100),
            )
        return self.current[tenant_id]

    def after_unauthorized(self, tenant_id: str, used: TokenSet) -> TokenSet:
        if self.current.get(tenant_id) == used:
            del self.current[tenant_id]
        return self.access_token(tenant_id)

    def refused_after_refresh(self, tenant_id: str, used: TokenSet) -> None:
        raise RuntimeError(f"the sandbox refused {tenant_id}'s token for {used.realm_id} just issued")


class Events:
    """The engine's events, counted by tenant and type."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.publish_many(tenant_id, [(detail_type, detail)])

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        self.counts.update((tenant_id, detail_type) for detail_type, _ in events)


@dataclasses.dataclass(frozen=True)
class EngineFigures:
    profile: str  # plain or faults (PROFILES)
    customers: int
    items: int
    invoices: int
    synced: int
    failed: int
    api_calls: int
    answered_429: int
    duplicates: int
    wrong_totals: int
    invoice_seconds: float  # on the company clock, from the invoices' first run until all settled
    company_seconds: float  # on the company clock, the whole sync (customers and items too)
    waited_seconds: float  # of company_seconds: waits added to the clock instead of slept
    wall_seconds: float
    runs: int
    fired: dict[str, int]  # faults the sandbox answered with, by kind

    @property
    def faults(self) -> bool:
        return self.profile != "plain"

    @property
    def records(self) -> int:
        return self.customers + self.items + self.invoices

    @property
    def lost(self) -> int:
        """Records that did not end synced (failed ones included)."""
        return self.records - self.synced

    @property
    def calls_per_record(self) -> float:
        return self.api_calls / self.records

    @property
    def invoices_per_minute(self) -> float:
        return self.invoices * 60 / self.invoice_seconds if self.invoice_seconds else 0.0

    @property
    def ok(self) -> bool:
        books_right = self.lost == 0 and self.duplicates == 0 and self.wrong_totals == 0
        if self.faults:
            return books_right
        return (
            books_right
            and self.answered_429 == 0
            and self.calls_per_record <= CALLS_TARGET
            and self.invoices_per_minute >= RATE_TARGET
        )


def _push(records: Records, record_type: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
    for start in range(0, len(entries), BULK_MAX):
        outcomes = records.upsert_many(TENANT, record_type, entries[start : start + BULK_MAX])
        refused = [o for o in outcomes if o.status not in ("created", "updated")]
        if refused:
            raise RuntimeError(f"{record_type}: {refused[:3]}")


def _sync(engine: SyncEngine, books: QboBooks, clock: CompanyClock) -> int:
    """Run the tenant's sync as the worker would until nothing is left to send; the runs it took."""
    for runs in range(1, MAX_RUNS + 1):
        try:
            report = engine.run(TENANT, books)
        except RetryLaterError as pause:  # the worker asks for the next run after the delay
            clock.sleep(pause.delay.total_seconds())
            continue
        if not report.more:
            return runs
    raise RuntimeError(f"the sync did not settle in {MAX_RUNS} runs")


def run(
    *, customers: int = 200, items: int = 100, invoices: int = 3000, profile: str = "plain"
) -> EngineFigures:
    started = time.monotonic()
    running = server.start(port=0)
    try:
        sandbox = running.sandbox
        realm = next(iter(sandbox.companies))
        clock = CompanyClock(sandbox)
        control = httpx.Client(base_url=running.url, timeout=30)
        for spec in PROFILES[profile]:
            control.post("/_sandbox/faults", json=spec).raise_for_status()
        store, lease, settings, events = (
            InMemoryRecordStore(),
            InMemoryTenantLease(),
            InMemorySettings(),
            Events(),
        )
        tenants = InMemoryTenants()
        tenants.add(Tenant(TENANT, "Bench Books", Edition.QBO, clock.now()))
        records = Records(tenants, store, settings, InMemoryQueue(), lease, clock)
        with httpx.Client(base_url=running.url, timeout=httpx.Timeout(15.0)) as http:
            client = QboClient(
                http, SandboxTokens(sandbox, realm, clock), InMemoryRequestBudget(clock), sleep=clock.sleep
            )
            books = QboBooks(client, clock)
            # The company's lists, read at connect (an empty company): creates are looked up, then go.
            mirror = read_whole(InMemoryMirror(), TENANT)
            engine = SyncEngine(store, books.profile, settings, lease, events, clock, mirror)
            began = clock.now()
            pushed = company(items, customers, invoices, "E")
            _push(records, "item", pushed["item"])
            _push(records, "customer", pushed["customer"])
            runs = _sync(engine, books, clock)
            _push(records, "invoice", pushed["invoice"])
            invoices_began = clock.now()
            runs += _sync(engine, books, clock)
            ended = clock.now()
        states = Counter(r.state for r in store.records.values())
        books = tally(control, realm)
        control.close()
        return EngineFigures(
            profile=profile,
            customers=customers,
            items=items,
            invoices=invoices,
            synced=states[SyncState.SYNCED],
            failed=states[SyncState.FAILED],
            api_calls=books.api_calls,
            answered_429=books.answered_429,
            duplicates=books.duplicates,
            wrong_totals=books.wrong_totals,
            invoice_seconds=(ended - invoices_began).total_seconds(),
            company_seconds=(ended - began).total_seconds(),
            waited_seconds=clock.skipped,
            wall_seconds=time.monotonic() - started,
            runs=runs,
            fired=books.fired,
        )
    finally:
        running.stop()


def run_reporting(**kwargs: Any) -> EngineFigures:
    """`run`, saying on stderr which one starts."""
    print(f"bench: engine ({kwargs.get('profile', 'plain')})...", file=sys.stderr, flush=True)
    return run(**kwargs)


def to_json(f: EngineFigures) -> dict[str, Any]:
    derived = ("faults", "records", "lost", "calls_per_record", "invoices_per_minute", "ok")
    return {**dataclasses.asdict(f), **{name: getattr(f, name) for name in derived}}


def format_figures(f: EngineFigures) -> str:
    title = {
        "plain": "engine against the sandbox at its real limits",
        "faults": "engine against the sandbox at its real limits, with faults injected",
    }[f.profile]
    fired = ", ".join(f"{kind} {n}" for kind, n in sorted(f.fired.items())) or "none"
    plain = not f.faults
    throttled = f.fired.get("throttle", 0)
    rows = [
        ("records pushed", f"{f.records} ({f.customers} customers, {f.items} items, {f.invoices} invoices)"),
        ("synced / failed", f"{f.synced} / {f.failed}"),
        (
            "invoices per minute",
            f"{f.invoices_per_minute:.0f}" + (f" (target ≥ {RATE_TARGET})" if plain else ""),
        ),
        ("QuickBooks API calls", f"{f.api_calls}"),
        ("calls per record", f"{f.calls_per_record:.3f}" + (f" (target ≤ {CALLS_TARGET})" if plain else "")),
        ("429 answered", f"{f.answered_429} " + ("(target 0)" if plain else f"({throttled} injected)")),
        ("duplicates in QuickBooks", f"{f.duplicates} (target 0)"),
        ("lost (not synced)", f"{f.lost} (target 0)"),
        ("invoices with a wrong total", f"{f.wrong_totals} (target 0)"),
        ("company time", f"{f.company_seconds:.0f} s, of which {f.waited_seconds:.0f} s waiting, not slept"),
        ("wall time", f"{f.wall_seconds:.1f} s"),
        ("runs", f"{f.runs}"),
        ("faults answered", fired),
        ("result", "ok" if f.ok else "FAILED"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join([title, *(f"  {k.ljust(width)}  {v}" for k, v in rows)])
