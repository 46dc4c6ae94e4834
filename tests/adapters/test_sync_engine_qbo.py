"""The sync engine end to end against the QuickBooks Online sandbox over HTTP: records pushed through the
Records use case, sent by SyncEngine through QboBooks, checked in the sandbox's own store. Storage is the
in-memory fakes (their contract tests run them against DynamoDB too)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from local.qbo import server
from qbsync.adapters.qbo_books import QboBooks
from qbsync.adapters.qbo_http import QboClient
from qbsync.domain.settings import NameClashPolicy, SendMode, SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.payments import PaymentRelay
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import RetryLaterError, SyncEngine
from tests.adapters.test_qbo_client import SandboxTokens, fault
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore, InMemoryTenantLease

TENANT = "acme"


@dataclass
class RecordedEvents:
    sent: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.sent.append((detail_type, tenant_id, detail))

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        for detail_type, detail in events:
            self.publish(detail_type, tenant_id, detail)

    def of(self, detail_type: str) -> list[dict[str, object]]:
        return [d for t, _, d in self.sent if t == detail_type]


@dataclass
class World:
    running: server.RunningSandbox
    realm: str
    records: Records
    engine: SyncEngine
    store: InMemoryRecordStore
    settings: InMemorySettings
    events: RecordedEvents
    clock: FixedClock
    books: QboBooks
    calls: list[str]

    def use(self, **changes: Any) -> None:
        latest = self.settings.latest(TENANT)
        version = latest.version + 1 if latest else 1
        self.settings.add(SettingsVersion(TENANT, version, self.clock.now(), SyncSettings(**changes)))

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> None:
        outcome = self.records.upsert(TENANT, record_type, record_id, data)
        assert outcome.status in ("created", "updated", "unchanged"), outcome

    def sync(self, max_runs: int = 40) -> int:
        """Run the engine until nothing is left to send, as the worker would on re-queued jobs."""
        for run in range(1, max_runs + 1):
            try:
                report = self.engine.run(TENANT)
            except RetryLaterError:
                continue
            if not report.more:
                return run
        raise AssertionError("the sync did not finish")

    def get(self, record_type: str, record_id: str) -> SyncRecord:
        record = self.store.get(TENANT, record_type, record_id)
        assert record is not None
        return record

    def stored(self, entity: str) -> list[dict[str, Any]]:
        url = f"{self.running.url}/_sandbox/companies/{self.realm}/entities/{entity}"
        return httpx.get(url).json()[entity]  # type: ignore[no-any-return]

    def enter(self, entity: str, body: dict[str, Any], operation: str | None = None) -> dict[str, Any]:
        """Enter something in QuickBooks as its user would, not through the app."""
        url = f"{self.running.url}/_sandbox/companies/{self.realm}/entities/{entity}"
        response = httpx.post(url, json=body, params={"operation": operation} if operation else None)
        assert response.status_code in (200, 201), response.text
        return response.json()[entity]  # type: ignore[no-any-return]


@pytest.fixture
def world() -> Iterator[World]:
    running = server.start(port=0)
    realm = next(iter(running.sandbox.companies))
    calls: list[str] = []
    hooks = {"request": [lambda request: calls.append(f"{request.method} {request.url.path}")]}
    clock = FixedClock()
    with httpx.Client(base_url=running.url, timeout=httpx.Timeout(2.0), event_hooks=hooks) as http:
        books = QboBooks(QboClient(http, SandboxTokens(running, realm)))
        tenants = InMemoryTenants()
        tenants.add(Tenant(TENANT, "Acme", Edition.QBO, clock.now()))
        store, runs, settings, events = (
            InMemoryRecordStore(),
            InMemoryTenantLease(),
            InMemorySettings(),
            RecordedEvents(),
        )
        records = Records(tenants, store, settings, InMemoryQueue(), runs, clock)
        engine = SyncEngine(store, books, settings, runs, events, clock)
        yield World(running, realm, records, engine, store, settings, events, clock, books, calls)
    running.stop()


def line(item: str, quantity: str, rate: str) -> dict[str, str]:
    return {"item_id": item, "quantity": quantity, "rate": rate}


def push_books(world: World, customers: int = 4, invoices: int = 12) -> None:
    for n in range(customers):
        world.push("customer", f"c-{n}", {"display_name": f"Customer {n}", "email": f"c{n}@example.com"})
    world.push("item", "i-svc", {"kind": "service", "name": "Labour", "sales_price": "75"})
    world.push("item", "i-part", {"kind": "non_inventory", "name": "Part", "sku": "P-1"})
    for n in range(invoices):
        world.push(
            "invoice",
            f"inv-{n}",
            {
                "customer_id": f"c-{n % customers}",
                "doc_number": f"INV-{n:04d}",
                "lines": [line("i-svc", "2", "75.00"), line("i-part", "3", f"{n}.10")],
            },
        )


def test_records_reach_quickbooks_dependencies_first_in_few_batches(world: World) -> None:
    push_books(world, customers=4, invoices=40)
    world.sync()
    invoices = {i["DocNumber"]: i for i in world.stored("Invoice")}
    customers = {c["DisplayName"]: c["Id"] for c in world.stored("Customer")}
    assert len(invoices) == 40
    for n in range(40):
        stored = world.get("invoice", f"inv-{n}")
        assert stored.state is SyncState.SYNCED
        assert stored.synced_revision == 1
        invoice = invoices[f"INV-{n:04d}"]
        assert invoice["Id"] == stored.qbo_id
        assert Decimal(str(invoice["TotalAmt"])) == Decimal("150.00") + 3 * Decimal(f"{n}.10")
        assert invoice["CustomerRef"]["value"] == customers[f"Customer {n % 4}"]
    # One batch of queries reads the company's accounts, terms and methods (for the items' income account);
    # then one batch of the 6 name-list records, then the 40 invoices in batches of 30 and 10.
    assert world.calls == [world.calls[0]] * 4
    assert world.calls[0].endswith("/batch")
    assert len(world.events.of("record.synced")) == 46


def test_zero_duplicates_when_answers_are_lost_or_fail(world: World) -> None:
    push_books(world, customers=6, invoices=30)
    fault(world.running, kind="lost", path_contains="/batch", rate=0.3, seed=7)
    fault(world.running, kind="status", status=503, path_contains="/batch", rate=0.15, seed=11)
    world.sync(max_runs=80)
    names = Counter(c["DisplayName"] for c in world.stored("Customer"))
    numbers = Counter(i["DocNumber"] for i in world.stored("Invoice"))
    assert max(names.values()) == 1
    assert len(names) == 6
    assert max(numbers.values()) == 1
    assert len(numbers) == 30
    states = Counter(r.state for r in world.store.records.values())
    assert states == Counter({SyncState.SYNCED: 38})
    fired = httpx.get(f"{world.running.url}/_sandbox/faults").json()["faults"]
    assert sum(f["fired"] for f in fired) > 0  # the faults did happen


def test_a_name_quickbooks_already_gives_a_vendor_fails_with_both_actions(world: World) -> None:
    world.enter("Vendor", {"DisplayName": "Acme Supplies"})
    world.push("customer", "c-1", {"display_name": "Acme Supplies"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1", "1", "10")]})
    world.sync()
    customer = world.get("customer", "c-1")
    assert customer.state is SyncState.FAILED
    assert customer.failure is not None
    assert customer.failure.code == "6240"
    assert "vendor" in customer.failure.message
    assert customer.failure.actions == ("rename",)
    waiting = world.get("invoice", "inv-1")
    assert waiting.state is SyncState.PENDING
    assert waiting.waiting_for == ("customer/c-1",)
    assert "failed" in waiting.history[-1].detail
    assert world.events.of("record.failed")[0]["record_id"] == "c-1"


def test_rename_policy_creates_the_name_with_a_suffix(world: World) -> None:
    world.use(name_clash_policy=NameClashPolicy.RENAME_WITH_SUFFIX)
    world.enter("Vendor", {"DisplayName": "Acme Supplies"})
    world.enter("Employee", {"GivenName": "A", "DisplayName": "Acme Supplies (2)"})
    world.push("customer", "c-1", {"display_name": "Acme Supplies"})
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.qbo_name) == (SyncState.SYNCED, "Acme Supplies (3)")
    assert [c["DisplayName"] for c in world.stored("Customer") if c["Id"] == customer.qbo_id] == [
        "Acme Supplies (3)"
    ]


def test_link_policy_maps_to_the_customer_quickbooks_has(world: World) -> None:
    world.use(name_clash_policy=NameClashPolicy.LINK_EXISTING)
    existing = world.enter("Customer", {"DisplayName": "Grace Hopper"})
    world.push("customer", "c-1", {"display_name": "Grace Hopper", "email": "grace@example.com"})
    world.sync()
    customer = world.get("customer", "c-1")
    assert (customer.state, customer.qbo_id) == (SyncState.SYNCED, existing["Id"])
    [stored] = [c for c in world.stored("Customer") if c["DisplayName"] == "Grace Hopper"]
    assert stored["PrimaryEmailAddr"]["Address"] == "grace@example.com"  # our data was applied to it


def test_a_change_made_in_quickbooks_meanwhile_is_reread_and_our_change_applied(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.sync()
    first = world.get("customer", "c-1")
    world.enter("Customer", {"Id": first.qbo_id, "SyncToken": first.sync_token, "sparse": True, "Notes": "x"})
    world.push("customer", "c-1", {"display_name": "Ada", "email": "ada@example.com"})
    world.sync()
    after = world.get("customer", "c-1")
    assert after.state is SyncState.SYNCED
    assert after.synced_revision == 2
    assert any("applying the change again" in t.detail for t in after.history)
    [stored] = [c for c in world.stored("Customer") if c["Id"] == first.qbo_id]
    assert stored["PrimaryEmailAddr"]["Address"] == "ada@example.com"
    assert stored["Notes"] == "x"


def test_deleting_an_invoice_voids_it_and_locks_follow_the_settings(world: World) -> None:
    world.use(lock_after_acceptance=True)
    push_books(world, customers=1, invoices=2)
    world.sync()
    assert world.get("invoice", "inv-0").state is SyncState.LOCKED
    world.records.delete(TENANT, "invoice", "inv-1")
    world.sync()
    voided = world.get("invoice", "inv-1")
    assert voided.state is SyncState.VOIDED
    [stored] = [i for i in world.stored("Invoice") if i["Id"] == voided.qbo_id]
    assert Decimal(str(stored["TotalAmt"])) == 0


def test_throttling_puts_records_back_and_the_next_run_sends_them(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    fault(world.running, kind="throttle", path_contains="/batch")
    with pytest.raises(RetryLaterError) as raised:
        world.engine.run(TENANT)
    assert raised.value.delay.total_seconds() >= 30
    assert world.get("customer", "c-1").state is SyncState.PENDING
    world.sync()
    assert world.get("customer", "c-1").state is SyncState.SYNCED


def test_payments_and_overpayments_apply_to_invoices(world: World) -> None:
    push_books(world, customers=1, invoices=2)
    world.push(
        "payment",
        "p-1",
        {
            "customer_id": "c-0",
            "total_amount": "200.00",
            "applications": [
                {"invoice_id": "inv-0", "amount": "150.00"},
                {"invoice_id": "inv-1", "amount": "40"},
            ],
        },
    )
    world.sync()
    payment = world.get("payment", "p-1")
    assert payment.state is SyncState.SYNCED
    [stored] = [p for p in world.stored("Payment") if p["Id"] == payment.qbo_id]
    assert Decimal(str(stored["UnappliedAmt"])) == Decimal("10.00")
    balances = {i["DocNumber"]: Decimal(str(i["Balance"])) for i in world.stored("Invoice")}
    assert balances == {"INV-0000": Decimal("0.30"), "INV-0001": Decimal("113.30")}


def test_a_payment_entered_in_quickbooks_is_told_once_with_both_invoice_ids(world: World) -> None:
    push_books(world, customers=1, invoices=2)
    world.sync()
    inv0, inv1, cust = (
        world.get("invoice", "inv-0"),
        world.get("invoice", "inv-1"),
        world.get("customer", "c-0"),
    )
    payment = world.enter(
        "Payment",
        {
            "CustomerRef": {"value": cust.qbo_id},
            "TotalAmt": 100,
            "Line": [
                {"Amount": 60, "LinkedTxn": [{"TxnId": inv0.qbo_id, "TxnType": "Invoice"}]},
                {"Amount": 40, "LinkedTxn": [{"TxnId": inv1.qbo_id, "TxnType": "Invoice"}]},
            ],
        },
    )
    relay = PaymentRelay(
        world.books, InMemoryPaymentLog(), world.store, world.settings, world.events, world.clock
    )
    assert relay.on_change(TENANT, payment["Id"], "Create") == "payment.received"
    assert relay.on_change(TENANT, payment["Id"], "Create") is None  # a redelivery
    assert relay.pull(TENANT) == 0  # the pull finds it, already told
    [told] = world.events.of("payment.received")
    assert told["invoice_ids"] == ["inv-0", "inv-1"]
    assert told["customer_id"] == "c-0"
    assert told["total_amount"] == "100.00"


@dataclass
class ChangedWhileSent:
    """QboBooks, with the host app renaming the customer while QuickBooks creates it."""

    books: QboBooks
    change: Callable[[], None]

    def send(self, *args: Any, **kwargs: Any) -> Any:
        result = self.books.send(*args, **kwargs)
        self.change()
        self.change = lambda: None
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.books, name)


def test_a_record_changed_while_it_is_created_is_updated_not_created_again(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.engine.books = ChangedWhileSent(  # type: ignore[assignment]
        world.books, lambda: world.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    )
    world.sync()
    customer = world.get("customer", "c-1")
    assert customer.state is SyncState.SYNCED
    assert customer.synced_revision == 2
    assert [c["DisplayName"] for c in world.stored("Customer") if c["DisplayName"].startswith("Ada")] == [
        "Ada Lovelace"
    ]


def test_a_record_waiting_for_a_draft_says_so(world: World) -> None:
    world.use(send_mode=SendMode.REVIEW)
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.use(send_mode=SendMode.LIVE)
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    world.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [line("i-1", "1", "10")]})
    world.sync()
    invoice = world.get("invoice", "inv-1")
    assert invoice.state is SyncState.PENDING
    assert invoice.waiting_for == ("customer/c-1",)
    assert invoice.history[-1].detail == "waits for customer/c-1 (a draft: send it)"
    assert world.get("item", "i-1").state is SyncState.SYNCED
    world.records.send(TENANT, [("customer", "c-1")])
    world.sync()
    assert world.get("invoice", "inv-1").state is SyncState.SYNCED


def test_a_lost_answer_then_a_throttle_still_looks_the_record_up_before_sending_it_again(
    world: World,
) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    fault(world.running, kind="lost", path_contains="/batch")  # created, answer lost
    fault(world.running, kind="throttle", path_contains="/batch")  # the same batch again: throttled
    with pytest.raises(RetryLaterError):
        world.engine.run(TENANT)
    world.push("customer", "c-2", {"display_name": "Grace"})  # the next batch is not the same batch
    world.sync()
    names = Counter(c["DisplayName"] for c in world.stored("Customer"))
    assert (names["Ada"], names["Grace"]) == (1, 1)
    assert world.get("customer", "c-1").state is SyncState.SYNCED


def test_zero_amount_invoices_store_credit_and_a_bill_from_its_purchase_order(world: World) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.push("vendor", "v-1", {"display_name": "Parts Ltd"})
    world.push("item", "i-1", {"kind": "non_inventory", "name": "Valve", "purchase_cost": "4"})
    world.push("invoice", "inv-0", {"customer_id": "c-1", "lines": [line("i-1", "1", "0")]})
    world.push("credit_memo", "cm-1", {"customer_id": "c-1", "lines": [line("i-1", "1", "25")]})
    world.push("purchase_order", "po-1", {"vendor_id": "v-1", "lines": [line("i-1", "10", "4")]})
    world.push(
        "bill", "b-1", {"vendor_id": "v-1", "purchase_order_id": "po-1", "lines": [line("i-1", "10", "4")]}
    )
    world.sync()
    states = {
        key: world.get(*key.split("/")).state for key in ("invoice/inv-0", "credit_memo/cm-1", "bill/b-1")
    }
    assert set(states.values()) == {SyncState.SYNCED}
    [invoice] = world.stored("Invoice")
    assert Decimal(str(invoice["TotalAmt"])) == 0
    [memo] = world.stored("CreditMemo")
    assert Decimal(str(memo["RemainingCredit"])) == Decimal("25.00")
    [bill] = world.stored("Bill")
    assert {"TxnId": world.get("purchase_order", "po-1").qbo_id, "TxnType": "PurchaseOrder"} in bill[
        "LinkedTxn"
    ]


def test_a_fault_while_looking_up_an_unconfirmed_send_pauses_the_run_and_creates_nothing_twice(
    world: World,
) -> None:
    world.push("customer", "c-1", {"display_name": "Ada"})
    fault(world.running, kind="lost", path_contains="/batch", count=3)  # created; every answer lost
    fault(world.running, kind="status", status=503, path_contains="/batch")  # the look-up before re-sending
    with pytest.raises(RetryLaterError) as raised:
        world.engine.run(TENANT)
    assert raised.value.delay == timedelta(seconds=20)
    waiting = world.get("customer", "c-1")
    assert waiting.state is SyncState.SYNCING
    assert (
        waiting.history[-1].detail == "QuickBooks answered 503 while looking it up; looked up again shortly"
    )
    world.sync()
    assert world.get("customer", "c-1").state is SyncState.SYNCED
    assert Counter(c["DisplayName"] for c in world.stored("Customer"))["Ada"] == 1
