"""The sync engine's specification (tests/unit/engine_spec.py) as a contract of QuickBooks Online: the same
scenarios the engine meets on the scriptable fake, here through QboBooks against the local sandbox over HTTP
(faults injected with the sandbox's /_sandbox/faults, objects entered and read with its controls). Then the
scenarios that only Online has: documents of zero, store credit, a bill from its purchase order, payments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from local.qbo import server
from qbsync.adapters.qbo_books import UNKNOWN_RETRIES, QboBooks
from qbsync.adapters.qbo_faults import NO_ANSWER_DELAY, SERVER_ERROR_DELAY, THROTTLED_DELAY
from qbsync.adapters.qbo_http import QboClient
from qbsync.adapters.qbo_mapping import ENTITIES
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import Batch, EditionProfile, Outcomes, SyncState
from qbsync.usecases.payments import PaymentRelay
from tests.adapters.test_qbo_client import SandboxTokens
from tests.unit.engine_spec import (
    FAULT_AT_SITE,
    SCENARIOS,
    TENANT,
    Held,
    Told,
    WholeFault,
    World,
    every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing,
    line,
    push_books,
)
from tests.unit.fakes import FixedClock
from tests.unit.sync_fakes import InMemoryPaymentLog

# How the sandbox is made to answer a whole request, and what QuickBooks Online's adapter tells the engine.
_LOST = {"kind": "lost", "count": UNKNOWN_RETRIES + 1}  # the adapter asks again at once, twice
INJECTED: dict[WholeFault, tuple[dict[str, Any], Told]] = {
    WholeFault.SERVER_ERROR: ({"kind": "status", "status": 503}, Told("10000", SERVER_ERROR_DELAY)),
    WholeFault.THROTTLED: ({"kind": "throttle"}, Told("3001", THROTTLED_DELAY)),
    WholeFault.NO_ANSWER: (_LOST, Told("no_answer", NO_ANSWER_DELAY)),
    WholeFault.RECONNECT: ({"kind": "status", "status": 403, "code": "3100"}, Told("3100", None)),
    WholeFault.REFUSED: ({"kind": "status", "status": 400, "code": "2020"}, Told("2020", None)),
}
_KINDS = {"write": "writes", "look_up": "look_ups", "reread": "rereads", "name_holders": "name_holders"}


@dataclass
class SandboxQuickBooks:
    """A company of the sandbox, behind QboBooks: the `QuickBooks` world of the engine's specification.
    Faults asked for a kind of operation are injected into the sandbox just before a batch carrying it goes
    (after the company's lists are read, so that they hit the batch itself)."""

    running: server.RunningSandbox
    realm: str
    books: QboBooks
    calls: list[str]  # the requests QboBooks made
    control: httpx.Client  # the sandbox's controls (one client: a new one costs an SSL context)
    armed: list[tuple[str, WholeFault]] = field(default_factory=list)
    lost: list[WholeFault | None] = field(default_factory=list)

    @property
    def profile(self) -> EditionProfile:
        return self.books.profile

    def send(self, batch: Batch, settings: SyncSettings) -> Outcomes:
        carried = {kind for kind, name in _KINDS.items() if getattr(batch, name)}
        armed = next(((k, f) for k, f in self.armed if k in carried), None)
        if armed is not None or (batch.writes and self.lost):
            self.books.lists(batch.tenant_id)
        if armed is not None:
            self.armed.remove(armed)
            self._inject(INJECTED[armed[1]][0])
        elif batch.writes and self.lost:
            then = self.lost.pop(0)
            if then is None:
                self._inject(_LOST)
            else:
                self._inject({"kind": "lost"})
                self._inject(INJECTED[then][0])
        return self.books.send(batch, settings)

    def _inject(self, spec: dict[str, Any]) -> None:
        response = self.control.post("/_sandbox/faults", json={**spec, "path_contains": "/batch"})
        assert response.status_code == 201, response.text

    def _url(self, record_type: str) -> str:
        return f"/_sandbox/companies/{self.realm}/entities/{ENTITIES[record_type]}"

    def enter(self, record_type: str, name: str, key: str | None = None) -> Held:
        body: dict[str, Any]
        if record_type == "item":
            body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": "1001"}}
            if key is not None:
                body["Sku"] = key
        else:
            body = {"DisplayName": name}
            if key is not None:
                body["PrimaryEmailAddr"] = {"Address": key}
        if record_type == "employee":
            body["GivenName"] = "A"
        return _held(self._entered(record_type, body))

    def change(self, record_type: str, quickbooks_id: str) -> None:
        [current] = [e for e in self._stored(record_type) if e["Id"] == quickbooks_id]
        note = "Notes" if record_type in ("customer", "vendor", "employee") else "PrivateNote"
        self._entered(
            record_type,
            {"Id": quickbooks_id, "SyncToken": current["SyncToken"], "sparse": True, note: "changed"},
        )

    def _entered(self, record_type: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.control.post(self._url(record_type), json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()[ENTITIES[record_type]]  # type: ignore[no-any-return]

    def lose_answers(self, batches: int, then: WholeFault | None = None) -> None:
        self.lost += [then] * batches

    def fail_next(self, kind: str, fault: WholeFault) -> Told:
        assert kind in _KINDS
        self.armed.append((kind, fault))
        return INJECTED[fault][1]

    def flaky(self, lost: float, server_errors: float, seed: int) -> None:
        self._inject({"kind": "lost", "rate": lost, "seed": seed})
        self._inject({"kind": "status", "status": 503, "rate": server_errors, "seed": seed + 4})

    def _stored(self, record_type: str) -> list[dict[str, Any]]:
        return self.control.get(self._url(record_type)).json()[ENTITIES[record_type]]  # type: ignore[no-any-return]

    def held(self, record_type: str) -> list[Held]:
        return [_held(entity) for entity in self._stored(record_type)]

    def requests(self) -> int:
        return sum(call.endswith("/batch") for call in self.calls)

    def faults_fired(self) -> int:
        listed = self.control.get("/_sandbox/faults").json()
        return sum(f["fired"] for f in listed["faults"] + listed["spent"])


def _held(entity: dict[str, Any]) -> Held:
    name = entity.get("DisplayName") or entity.get("Name") or entity.get("DocNumber") or ""
    amount = entity.get("TotalAmt")
    party = entity.get("CustomerRef") or entity.get("VendorRef") or {}
    return Held(
        str(entity["Id"]),
        str(name),
        str(entity.get("SyncToken", "")),
        None if amount is None else Decimal(str(amount)),
        None if party.get("value") is None else str(party["value"]),
    )


@pytest.fixture(scope="module")
def running() -> Iterator[server.RunningSandbox]:
    running = server.start(port=0)
    yield running
    running.stop()


@pytest.fixture
def world(running: server.RunningSandbox) -> Iterator[World]:
    """A new company of the shared sandbox for each test, and no fault left from another."""
    realm = running.sandbox.add_company("Engine Spec Company").realm_id
    calls: list[str] = []
    hooks = {"request": [lambda request: calls.append(f"{request.method} {request.url.path}")]}
    with (
        httpx.Client(base_url=running.url, timeout=httpx.Timeout(2.0), event_hooks=hooks) as http,
        httpx.Client(base_url=running.url, timeout=httpx.Timeout(5.0)) as control,
    ):
        control.delete("/_sandbox/faults")
        books = QboBooks(QboClient(http, SandboxTokens(running, realm)))
        yield World.on(SandboxQuickBooks(running, realm, books, calls, control), FixedClock())


def sandbox_of(world: World) -> SandboxQuickBooks:
    assert isinstance(world.qb, SandboxQuickBooks)
    return world.qb


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_engine_keeps_its_guarantee_on_quickbooks_online(world: World, scenario: Any) -> None:
    scenario(world)


@pytest.mark.parametrize(("site", "fault"), FAULT_AT_SITE, ids=[f"{s}-{f}" for s, f in FAULT_AT_SITE])
def test_every_fault_at_every_kind_of_operation_ends_the_run_cleanly_on_quickbooks_online(
    world: World, site: str, fault: WholeFault
) -> None:
    every_fault_at_every_kind_of_operation_ends_the_run_cleanly_and_loses_nothing(world, site, fault)


# ------------------------------------------------------------------------------------------ Online only


def stored(world: World, entity: str) -> list[dict[str, Any]]:
    qb = sandbox_of(world)
    return qb.control.get(f"/_sandbox/companies/{qb.realm}/entities/{entity}").json()[entity]  # type: ignore[no-any-return]


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
    [invoice] = stored(world, "Invoice")
    assert Decimal(str(invoice["TotalAmt"])) == 0
    [memo] = stored(world, "CreditMemo")
    assert Decimal(str(memo["RemainingCredit"])) == Decimal("25.00")
    [bill] = stored(world, "Bill")
    assert {"TxnId": world.get("purchase_order", "po-1").quickbooks_id, "TxnType": "PurchaseOrder"} in bill[
        "LinkedTxn"
    ]


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
    [held] = [p for p in stored(world, "Payment") if p["Id"] == payment.quickbooks_id]
    assert Decimal(str(held["UnappliedAmt"])) == Decimal("10.00")
    balances = {i["DocNumber"]: Decimal(str(i["Balance"])) for i in stored(world, "Invoice")}
    assert balances == {"INV-0000": Decimal("0.30"), "INV-0001": Decimal("113.30")}


def test_a_payment_entered_in_quickbooks_is_told_once_with_both_invoice_ids(world: World) -> None:
    push_books(world, customers=1, invoices=2)
    world.sync()
    inv0, inv1, cust = (
        world.get("invoice", "inv-0"),
        world.get("invoice", "inv-1"),
        world.get("customer", "c-0"),
    )
    qb = sandbox_of(world)
    body = {
        "CustomerRef": {"value": cust.quickbooks_id},
        "TotalAmt": 100,
        "Line": [
            {"Amount": 60, "LinkedTxn": [{"TxnId": inv0.quickbooks_id, "TxnType": "Invoice"}]},
            {"Amount": 40, "LinkedTxn": [{"TxnId": inv1.quickbooks_id, "TxnType": "Invoice"}]},
        ],
    }
    response = qb.control.post(f"/_sandbox/companies/{qb.realm}/entities/Payment", json=body)
    assert response.status_code == 201, response.text
    payment = response.json()["Payment"]
    relay = PaymentRelay(
        qb.books, InMemoryPaymentLog(), world.store, world.settings, world.events, world.clock
    )
    assert relay.on_change(TENANT, payment["Id"], "Create") == "payment.received"
    assert relay.on_change(TENANT, payment["Id"], "Create") is None  # a redelivery
    assert relay.pull(TENANT) == 0  # the pull finds it, already told
    [told] = world.events.of("payment.received")
    assert told["invoice_ids"] == ["inv-0", "inv-1"]
    assert told["customer_id"] == "c-0"
    assert told["total_amount"] == "100.00"


def test_the_sandbox_world_counts_what_the_sandbox_counts(world: World) -> None:
    """The contract's own instruments agree with the sandbox: requests by its request log."""
    world.push("customer", "c-1", {"display_name": "Ada"})
    world.sync()
    qb = sandbox_of(world)
    answers = qb.control.get("/_sandbox/requests", params={"realm_id": qb.realm}).json()
    batches = sum(a["count"] for a in answers["answers"] if a["resource"] == "batch")
    assert qb.requests() == batches == 1
    assert world.clock.now() - FixedClock().now() == timedelta(0)  # no pause: nothing waited


def test_an_invoice_without_terms_takes_its_customers_terms_and_the_default_only_when_it_has_none(
    world: World,
) -> None:
    """QuickBooks Online does not copy a customer's terms onto an invoice created without SalesTermRef (the
    sandbox neither): the invoice carries its customer's, and the tenant's default only when it has none."""
    world.use(default_payment_terms="Net 30")
    world.push("customer", "c-15", {"display_name": "Ada", "terms": "Net 15"})
    world.push("customer", "c-none", {"display_name": "Grace"})
    world.push("item", "i-1", {"kind": "service", "name": "Labour"})
    for invoice_id, customer_id, terms in (
        ("inv-customers", "c-15", None),
        ("inv-default", "c-none", None),
        ("inv-own", "c-15", "Due on receipt"),
    ):
        data: dict[str, Any] = {
            "customer_id": customer_id,
            "doc_number": invoice_id,
            "txn_date": "2024-03-01",
            "lines": [line("i-1", "1", "10")],
        }
        if terms is not None:
            data["terms"] = terms
        world.push("invoice", invoice_id, data)
    world.sync()
    term_names = {t["Id"]: t["Name"] for t in stored(world, "Term")}
    [customer] = [c for c in stored(world, "Customer") if c["DisplayName"] == "Ada"]
    assert term_names[customer["SalesTermRef"]["value"]] == "Net 15"
    invoices = {i["DocNumber"]: i for i in stored(world, "Invoice")}
    assert {number: term_names[i["SalesTermRef"]["value"]] for number, i in invoices.items()} == {
        "inv-customers": "Net 15",
        "inv-default": "Net 30",
        "inv-own": "Due on receipt",
    }
    assert invoices["inv-customers"]["DueDate"] == "2024-03-16"
