"""The Books port on QuickBooks Online, against the local sandbox over real HTTP: every mapped record type is
accepted, batches answer per item, look-ups find what a lost answer hid, payments come back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from local.qbo import server
from qbsync.adapters.qbo_books import QboBooks, quote
from qbsync.adapters.qbo_faults import FaultAction, QboOutcomeUnknownError
from qbsync.adapters.qbo_http import QboClient
from qbsync.domain.records import parse_record
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import Batch, Found, Operation, SyncRecord, SyncState, Write, WriteResult
from tests.adapters.test_qbo_client import SandboxTokens, fault

TENANT = "acme"
SETTINGS = SyncSettings()


class CountingClient(QboClient):
    """The real client over HTTP, noting each call's method and path (and query text) as it goes."""

    calls: list[str]

    def get(self, tenant_id: str, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        self.calls.append(f"GET {path} {(params or {}).get('query', '')}".strip())
        return super().get(tenant_id, path, params)

    def post(
        self,
        tenant_id: str,
        path: str,
        body: Mapping[str, Any],
        *,
        request_id: str,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        self.calls.append(f"POST {path}")
        return super().post(tenant_id, path, body, request_id=request_id, params=params)


@dataclass
class StepClock:
    at: datetime = datetime(2026, 5, 5, 10, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class Env:
    running: server.RunningSandbox
    client: CountingClient
    books: QboBooks
    clock: StepClock
    ids: dict[str, str] = field(default_factory=dict)  # ref_key -> QuickBooks Id of what was written

    def write(self, record_type: str, record_id: str, data: dict[str, Any], **kw: Any) -> Write:
        """A Write of this record, its references resolved from what this test already wrote."""
        record = SyncRecord(
            TENANT,
            record_type,
            record_id,
            data,
            SyncState.SYNCING,
            self.clock.now(),
            operation=kw.pop("operation", Operation.UPSERT),
            quickbooks_id=kw.pop("quickbooks_id", None),
            quickbooks_version=kw.pop("quickbooks_version", None),
        )
        return Write(record, parse_record(record_type, data), dict(self.ids), kw.pop("name", None))

    def send(self, *writes: Write, settings: SyncSettings = SETTINGS) -> list[WriteResult]:
        """Write them in one batch; each must be accepted. Their Ids are remembered."""
        results = self.books.write(TENANT, list(writes), settings, uuid.uuid4().hex)
        for write, result in zip(writes, results, strict=True):
            assert (result.key, result.fault) == (write.record.key, None), result
            assert result.quickbooks_id is not None
            self.ids[write.record.key] = result.quickbooks_id
        return results

    def current(self, record_type: str, quickbooks_id: str) -> Found | None:
        """The object as QuickBooks has it now, asked as the engine asks it: a re-read in a batch."""
        record = SyncRecord(
            TENANT, record_type, "x-1", {}, SyncState.PENDING, self.clock.now(), quickbooks_id=quickbooks_id
        )
        write = Write(record, parse_record("customer", {"display_name": "unused"}), {})
        outcomes = self.books.send(Batch(TENANT, "q", rereads=(write,)), SETTINGS)
        assert outcomes.fault is None, outcomes.fault
        return outcomes.current[write.record.key]

    def holders(self, *names: str) -> dict[str, tuple[Found, ...]]:
        writes = tuple(
            self.write("customer", f"c-{n}", {"display_name": name}, name=name)
            for n, name in enumerate(names)
        )
        outcomes = self.books.send(Batch(TENANT, "q", name_holders=writes), SETTINGS)
        assert outcomes.fault is None, outcomes.fault
        return dict(outcomes.holders)

    def read(self, entity: str, key: str) -> dict[str, Any]:
        return self.client.get(TENANT, f"{entity.lower()}/{self.ids[key]}")[entity]  # type: ignore[no-any-return]

    def stored(self, entity: str) -> list[dict[str, Any]]:
        realm = next(iter(self.running.sandbox.companies))
        answer = httpx.get(f"{self.running.url}/_sandbox/companies/{realm}/entities/{entity}").json()
        return answer[entity]  # type: ignore[no-any-return]


@pytest.fixture
def env() -> Iterator[Env]:
    running = server.start(port=0)
    tokens = SandboxTokens(running, next(iter(running.sandbox.companies)))
    clock = StepClock()
    with httpx.Client(base_url=running.url, timeout=httpx.Timeout(5.0)) as http:
        client = CountingClient(http, tokens)
        client.calls = []
        yield Env(running, client, QboBooks(client, clock), clock)
    running.stop()


def names_and_items(env: Env) -> None:
    env.send(
        env.write("customer", "c-1", {"display_name": "Ada Plumbing", "email": "ada@example.com"}),
        env.write("vendor", "v-1", {"display_name": "Norton Lumber", "account_number": "A-17"}),
        env.write("item", "i-1", {"kind": "service", "name": "Design", "sales_price": "75"}),
        env.write("item", "i-2", {"kind": "non_inventory", "name": "Nails", "purchase_cost": "0.05"}),
    )


# ------------------------------------------------------------------------------------------ every record type


def test_every_record_type_is_accepted_with_its_totals_and_links(env: Env) -> None:
    env.send(
        env.write("customer", "c-1", {"display_name": "Ada Plumbing", "billing_address": {"city": "Reno"}}),
        env.write("vendor", "v-1", {"display_name": "Norton Lumber", "address": {"line1": "1 Mill Rd"}}),
        env.write("employee", "e-1", {"display_name": "Emily Platt", "given_name": "Emily"}),
        env.write("item", "i-1", {"kind": "service", "name": "Design", "sales_price": "75", "sku": "D-1"}),
        env.write("item", "i-2", {"kind": "non_inventory", "name": "Nails", "purchase_cost": "0.05"}),
        env.write(
            "item",
            "i-3",
            {"kind": "inventory", "name": "Pump", "quantity_on_hand": "12", "quantity_as_of": "2026-01-01"},
        ),
    )
    env.send(env.write("customer", "c-2", {"display_name": "Basement job", "parent_id": "c-1"}))
    invoice = {
        "customer_id": "c-2", "doc_number": "INV-1", "txn_date": "2026-04-01", "terms": "Net 15",
        "memo": "Hi",
        "lines": [
            {"item_id": "i-1", "quantity": "4.5", "rate": "75", "tax_code": "NON"},
            {"item_id": "i-2", "quantity": "3", "rate": "0.10"},
            {"description": "Thank you"},
        ],
    }  # fmt: skip
    env.send(
        env.write("invoice", "inv-1", invoice),
        env.write(
            "credit_memo", "cm-1", {"customer_id": "c-2", "lines": [{"item_id": "i-1", "amount": "37.80"}]}
        ),
        env.write(
            "purchase_order",
            "po-1",
            {
                "vendor_id": "v-1",
                "doc_number": "PO-1",
                "lines": [{"item_id": "i-3", "quantity": "2", "rate": "40"}],
            },
        ),
    )
    payment = {
        "customer_id": "c-2", "txn_date": "2026-04-02", "total_amount": "300", "method": "Check",
        "reference_number": "1042", "deposit_account": "Checking",
        "applications": [
            {"invoice_id": "inv-1", "amount": "337.80"}, {"credit_memo_id": "cm-1", "amount": "37.80"},
        ],
    }  # fmt: skip
    bill = {
        "vendor_id": "v-1", "purchase_order_id": "po-1", "txn_date": "2026-04-03", "terms": "Net 30",
        "lines": [
            {"item_id": "i-3", "quantity": "2", "rate": "40"},
            {"account": "Cost of Goods Sold", "amount": "9.99"},
        ],
    }  # fmt: skip
    env.send(env.write("payment", "p-1", payment), env.write("bill", "b-1", bill))

    job = env.read("Customer", "customer/c-2")
    assert (job["ParentRef"]["value"], job["Job"], job["BillWithParent"]) == (
        env.ids["customer/c-1"],
        True,
        True,
    )
    assert job["FullyQualifiedName"] == "Ada Plumbing:Basement job"
    assert env.read("Vendor", "vendor/v-1")["BillAddr"]["Line1"] == "1 Mill Rd"
    assert env.read("Employee", "employee/e-1")["GivenName"] == "Emily"
    pump = env.read("Item", "item/i-3")
    assert (pump["Type"], pump["QtyOnHand"], pump["AssetAccountRef"]["value"]) == ("Inventory", 12, "81")
    assert env.read("Item", "item/i-2")["ExpenseAccountRef"]["value"] == "80"

    sold = env.read("Invoice", "invoice/inv-1")
    assert (sold["DocNumber"], sold["TotalAmt"], sold["Balance"], sold["DueDate"]) == (
        "INV-1", Decimal("337.8"), 0, "2026-04-16",
    )  # fmt: skip
    assert [line["Amount"] for line in sold["Line"]] == [
        Decimal("337.5"),
        Decimal("0.3"),
        0,
        Decimal("337.8"),
    ]
    assert sold["SalesTermRef"]["value"] == "2"
    assert {"TxnId": env.ids["payment/p-1"], "TxnType": "Payment"} in sold["LinkedTxn"]
    received = env.read("Payment", "payment/p-1")
    assert (received["TotalAmt"], received["UnappliedAmt"], received["DepositToAccountRef"]["value"]) == (
        300,
        0,
        "1",
    )
    assert [link["LinkedTxn"][0]["TxnType"] for link in received["Line"]] == ["Invoice", "CreditMemo"]
    assert env.read("CreditMemo", "credit_memo/cm-1")["RemainingCredit"] == 0
    order = env.read("PurchaseOrder", "purchase_order/po-1")
    assert (order["TotalAmt"], order["POStatus"]) == (80, "Closed")
    billed = env.read("Bill", "bill/b-1")
    assert (billed["TotalAmt"], billed["DueDate"]) == (Decimal("89.99"), "2026-05-03")
    assert billed["LinkedTxn"] == [{"TxnId": env.ids["purchase_order/po-1"], "TxnType": "PurchaseOrder"}]


def test_updates_and_every_kind_of_delete_are_accepted(env: Env) -> None:
    names_and_items(env)
    lines = [{"item_id": "i-1", "amount": "10"}]
    env.send(
        env.write("invoice", "inv-1", {"customer_id": "c-1", "lines": lines}),
        env.write("credit_memo", "cm-1", {"customer_id": "c-1", "lines": lines}),
        env.write(
            "purchase_order", "po-1", {"vendor_id": "v-1", "lines": [{"item_id": "i-2", "amount": "5"}]}
        ),
        env.write(
            "bill", "b-1", {"vendor_id": "v-1", "lines": [{"account": "Cost of Goods Sold", "amount": "5"}]}
        ),
        env.write("payment", "p-1", {"customer_id": "c-1", "total_amount": "4"}),
    )
    renamed = env.write(
        "customer", "c-1", {"display_name": "Ada Plumbing Co", "notes": "moved"},
        quickbooks_id=env.ids["customer/c-1"],
        quickbooks_version="0",
    )  # fmt: skip
    [result] = env.send(renamed)
    assert result.quickbooks_version == "1"
    assert env.read("Customer", "customer/c-1")["DisplayName"] == "Ada Plumbing Co"
    gone = {"operation": Operation.DELETE, "quickbooks_version": "0"}
    results = env.books.write(
        TENANT,
        [
            env.write(kind, rid, data, quickbooks_id=env.ids[f"{kind}/{rid}"], **gone)
            for kind, rid, data in (
                ("invoice", "inv-1", {"customer_id": "c-1", "lines": lines}),
                ("payment", "p-1", {"customer_id": "c-1", "total_amount": "4"}),
                ("credit_memo", "cm-1", {"customer_id": "c-1", "lines": lines}),
                ("purchase_order", "po-1", {"vendor_id": "v-1", "lines": lines}),
                ("bill", "b-1", {"vendor_id": "v-1", "lines": [{"account": "x", "amount": "5"}]}),
                ("vendor", "v-1", {"display_name": "Norton Lumber"}),
                ("item", "i-2", {"kind": "non_inventory", "name": "Nails"}),
            )
        ],
        SETTINGS,
        "deletes-1",
    )
    assert [(r.key, r.fault) for r in results if r.fault is not None] == []
    assert [r.quickbooks_version for r in results] == ["1", "1", None, None, None, "1", "1"]
    voided = env.read("Invoice", "invoice/inv-1")
    assert (voided["TotalAmt"], voided["PrivateNote"]) == (0, "Voided")
    assert env.read("Payment", "payment/p-1")["TotalAmt"] == 0
    assert env.current("credit_memo", env.ids["credit_memo/cm-1"]) is None
    assert env.current("bill", env.ids["bill/b-1"]) is None
    assert env.read("Vendor", "vendor/v-1")["Active"] is False
    assert env.read("Item", "item/i-2")["Active"] is False


def test_money_arrives_exactly(env: Env) -> None:
    names_and_items(env)
    lines = [
        {"item_id": "i-2", "quantity": "3", "rate": "0.10"},
        {"item_id": "i-1", "amount": "9999999998.83"},
        {"item_id": "i-2", "quantity": "1.23456", "rate": "0.7"},
    ]  # the total is the most an amount can be: 9999999999.99
    env.send(env.write("invoice", "inv-1", {"customer_id": "c-1", "lines": lines}))
    rows = env.client.query(TENANT, f"SELECT * FROM Invoice WHERE Id = {quote(env.ids['invoice/inv-1'])}")
    [stored] = rows["QueryResponse"]["Invoice"]
    assert [line["Amount"] for line in stored["Line"]][:3] == [
        Decimal("0.3"),
        Decimal("9999999998.83"),
        Decimal("0.86"),
    ]
    assert stored["TotalAmt"] == Decimal("9999999999.99")
    assert stored["Line"][2]["SalesItemLineDetail"]["Qty"] == Decimal("1.23456")


# ------------------------------------------------------------------------------------------ batches


def test_a_batch_of_30_mixed_writes_is_one_request_answered_item_by_item(env: Env) -> None:
    names_and_items(env)
    env.send(
        env.write("invoice", "inv-0", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "5"}]})
    )
    env.client.calls.clear()
    w = env.write
    writes = [
        *(env.write("customer", f"c-{n}", {"display_name": f"Customer {n}"}) for n in range(10, 20)),
        *(env.write("vendor", f"v-{n}", {"display_name": f"Vendor {n}"}) for n in range(10, 15)),
        *(env.write("item", f"i-{n}", {"kind": "service", "name": f"Item {n}"}) for n in range(10, 18)),
        env.write("employee", "e-1", {"display_name": "Emily Platt"}),
        *(
            w("invoice", f"inv-{n}", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": n}]})
            for n in (1, 2, 3)
        ),
        env.write("payment", "p-1", {"customer_id": "c-1", "total_amount": "2", "method": "Cash"}),
        env.write("customer", "c-1", {"display_name": "Ada Plumbing", "phone": "555"},
                  quickbooks_id=env.ids["customer/c-1"], quickbooks_version="0"),
        env.write(
            "invoice",
            "inv-0",
            {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "5"}]},
            quickbooks_id=env.ids["invoice/inv-0"],
            quickbooks_version="0",
            operation=Operation.DELETE,
        ),
    ]  # fmt: skip
    assert len(writes) == 30
    results = env.send(*writes)
    assert [r.key for r in results] == [w.record.key for w in writes]
    assert env.client.calls == ["POST batch"]  # the lists were read a moment ago
    assert len([c for c in env.stored("Customer") if c["DisplayName"].startswith("Customer ")]) == 10
    assert env.read("Customer", "customer/c-1")["PrimaryPhone"] == {"FreeFormNumber": "555"}
    assert env.read("Invoice", "invoice/inv-0")["PrivateNote"] == "Voided"


def test_faults_of_single_items_are_those_writes_faults_and_problems_are_never_sent(env: Env) -> None:
    names_and_items(env)
    gone = {"quickbooks_id": env.ids["item/i-2"], "quickbooks_version": "0", "operation": Operation.DELETE}
    env.send(env.write("item", "i-2", {"kind": "non_inventory", "name": "Nails"}, **gone))
    before = len(env.stored("Item"))
    results = env.books.write(
        TENANT,
        [
            env.write("customer", "c-2", {"display_name": "norton lumber"}),  # the vendor's name: 6240
            env.write(
                "invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-2", "amount": "1"}]}
            ),
            env.write("item", "i-9", {"kind": "service", "name": "Fees", "income_account": "Consulting"}),
            env.write("customer", "c-3", {"display_name": "Grace Hopper"}),
        ],
        SETTINGS,
        "faults-1",
    )
    clash, inactive, unknown, fine = results
    assert clash.fault is not None
    assert (clash.fault.code, clash.fault.action) == ("6240", FaultAction.RESOLVE_NAME_CLASH)
    assert inactive.fault is not None
    assert inactive.fault.code == "610"  # the item was made inactive
    assert "inactive" in inactive.fault.message
    assert inactive.fault.actions == ("edit", "reactivate_in_quickbooks")
    assert unknown.quickbooks_id is None
    assert unknown.fault is not None
    assert (unknown.fault.code, unknown.fault.field, unknown.fault.action) == (
        "unknown_account",
        "income_account",
        FaultAction.FIX_RECORD,
    )
    assert len(env.stored("Item")) == before  # never sent
    assert (fine.fault, fine.quickbooks_version) == (None, "0")
    assert fine.quickbooks_id in {
        c["Id"] for c in env.stored("Customer") if c["DisplayName"] == "Grace Hopper"
    }


def test_a_batch_of_31_or_a_long_requestid_is_refused_before_sending(env: Env) -> None:
    writes = [env.write("customer", f"c-{n}", {"display_name": f"C {n}"}) for n in range(31)]
    with pytest.raises(ValueError, match="at most 30"):
        env.books.write(TENANT, writes, SETTINGS, "r-31")
    with pytest.raises(ValueError, match="1 to 36"):
        env.books.write(TENANT, writes[:1], SETTINGS, "r" * 37)
    assert env.client.calls == []
    assert env.stored("Customer") == []


def test_problems_and_deletions_of_what_quickbooks_never_had_send_nothing(env: Env) -> None:
    [result] = env.books.write(
        TENANT,
        [env.write("item", "i-1", {"kind": "service", "name": "x", "income_account": "Nope"})],
        SETTINGS,
        "r",
    )
    assert result.fault is not None
    assert env.client.calls[-1].startswith("POST batch")  # the lists, read once
    assert len(env.client.calls) == 1
    never_sent = env.write("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"description": "x"}]},
                           operation=Operation.DELETE)  # fmt: skip
    assert env.books.write(TENANT, [never_sent], SETTINGS, "r") == [WriteResult("invoice/inv-1")]
    assert len(env.client.calls) == 1  # nothing in QuickBooks to void


def test_a_record_that_cannot_be_mapped_fails_alone_and_the_rest_of_the_batch_is_sent(env: Env) -> None:
    # An invoice referring to a customer this write has no QuickBooks id for cannot become a request.
    unmappable = env.write("invoice", "inv-1", {"customer_id": "c-9", "lines": [{"description": "x"}]})
    good = env.write("customer", "c-1", {"display_name": "Ada Mapped"})
    bad_result, good_result = env.books.write(TENANT, [unmappable, good], SETTINGS, "r-map")
    assert bad_result.fault is not None
    assert (bad_result.fault.code, bad_result.fault.actions) == ("mapping_failed", ("edit",))
    assert "customer/c-9" in bad_result.fault.message
    assert good_result.quickbooks_id is not None
    assert [c["DisplayName"] for c in env.stored("Customer") if c["Id"] == good_result.quickbooks_id] == [
        "Ada Mapped"
    ]


# ------------------------------------------------------------------------------------------ reference lists


def test_the_lists_are_read_once_per_tenant_for_five_minutes_and_again_for_a_missing_name(env: Env) -> None:
    env.send(env.write("item", "i-1", {"kind": "service", "name": "A"}))
    env.send(env.write("item", "i-2", {"kind": "service", "name": "B"}))
    assert env.client.calls == ["POST batch", "POST batch", "POST batch"]  # lists once, then two writes
    env.client.calls.clear()
    env.clock.at += timedelta(minutes=5)
    env.send(env.write("item", "i-3", {"kind": "service", "name": "C"}))
    assert env.client.calls == ["POST batch", "POST batch"]  # stale: read again
    env.client.calls.clear()
    env.client.post(TENANT, "account", {"Name": "Consulting", "AccountType": "Income"}, request_id="acct-1")
    env.send(env.write("item", "i-4", {"kind": "service", "name": "D", "income_account": "consulting"}))
    assert env.client.calls == ["POST account", "POST batch", "POST batch"]  # missing: read again once
    assert env.read("Item", "item/i-4")["IncomeAccountRef"]["name"] == "Consulting"
    assert env.books.payment_method_name(TENANT, "3") == "Visa"
    assert env.books.payment_method_name(TENANT, "99") is None


# ------------------------------------------------------------------------------------------ look-ups


def test_find_after_a_create_whose_answer_was_lost(env: Env) -> None:
    names_and_items(env)
    env.books.lists(TENANT)  # read now, so that the lost answer is the write's
    twenty, thirty = [{"item_id": "i-1", "amount": "20"}], [{"item_id": "i-1", "amount": "30"}]
    writes = [
        env.write("customer", "c-2", {"display_name": "Amy's Bird Sanctuary"}),
        env.write("invoice", "inv-1", {"customer_id": "c-1", "doc_number": "1001", "lines": twenty}),
        env.write("invoice", "inv-2", {"customer_id": "c-1", "txn_date": "2026-04-01", "lines": thirty}),
        env.write("payment", "p-1", {"customer_id": "c-1", "txn_date": "2026-04-02", "total_amount": "7.25",
                                     "method": "Visa"}),
        env.write("bill", "b-1", {"vendor_id": "v-1", "doc_number": "B-7",
                                  "lines": [{"account": "Checking", "amount": "3"}]}),
        env.write("item", "i-3", {"kind": "service", "name": "Repairs"}),
    ]  # fmt: skip
    fault(env.running, kind="lost", path_contains="/batch")
    with pytest.raises(QboOutcomeUnknownError):
        env.books.write(TENANT, writes, SETTINGS, "lost-1")
    calls = len(env.client.calls)
    found = env.books.find(TENANT, writes)
    assert len(env.client.calls) == calls + 1  # every look-up in one batch of queries
    assert all(isinstance(f, Found) for f in found), found
    assert [f.entity for f in found if f] == ["customer", "invoice", "invoice", "payment", "bill", "item"]
    assert found[0] == Found("customer", env.stored("Customer")[-1]["Id"], "0", "Amy's Bird Sanctuary")
    # The same requestid again is answered with the first result: nothing new is created.
    again = env.books.write(TENANT, writes, SETTINGS, "lost-1")
    assert [r.quickbooks_id for r in again] == [f.quickbooks_id for f in found if f]
    assert len([c for c in env.stored("Customer") if c["DisplayName"].startswith("Amy")]) == 1


def test_find_counts_only_an_unambiguous_match(env: Env) -> None:
    names_and_items(env)
    same = {"customer_id": "c-1", "txn_date": "2026-04-01", "lines": [{"item_id": "i-1", "amount": "30"}]}
    env.send(env.write("invoice", "inv-1", same))
    assert env.books.find(TENANT, [env.write("invoice", "inv-9", same)])[0] is not None
    env.send(env.write("invoice", "inv-2", same))
    assert (
        env.books.find(TENANT, [env.write("invoice", "inv-9", same)])[0] is None
    )  # two alike: not this one's
    other = {**same, "lines": [{"item_id": "i-1", "amount": "31"}]}
    assert env.books.find(TENANT, [env.write("invoice", "inv-9", other)])[0] is None
    assert env.books.find(TENANT, [env.write("customer", "c-9", {"display_name": "Nobody"})])[0] is None
    # A customer made inactive is found too (its name is still taken).
    env.send(env.write("customer", "c-5", {"display_name": "Grace Hopper"}))
    gone = {
        "quickbooks_id": env.ids["customer/c-5"],
        "quickbooks_version": "0",
        "operation": Operation.DELETE,
    }
    env.send(env.write("customer", "c-5", {"display_name": "Grace Hopper"}, **gone))
    found = env.books.find(TENANT, [env.write("customer", "c-5", {"display_name": "grace hopper"})])[0]
    assert found is not None
    assert found.quickbooks_id == env.ids["customer/c-5"]


def test_read_after_a_stale_sync_token_gives_the_current_one(env: Env) -> None:
    names_and_items(env)
    quickbooks_id = env.ids["customer/c-1"]
    env.send(
        env.write(
            "customer",
            "c-1",
            {"display_name": "Ada Plumbing", "notes": "a"},
            quickbooks_id=quickbooks_id,
            quickbooks_version="0",
        )
    )
    [stale] = env.books.write(
        TENANT,
        [
            env.write(
                "customer",
                "c-1",
                {"display_name": "Ada Plumbing", "notes": "b"},
                quickbooks_id=quickbooks_id,
                quickbooks_version="0",
            )
        ],
        SETTINGS,
        "stale-1",
    )
    assert stale.fault is not None
    assert (stale.fault.code, stale.fault.action) == ("5010", FaultAction.REREAD_AND_REAPPLY)
    current = env.current("customer", quickbooks_id)
    assert current == Found("customer", quickbooks_id, "1", "Ada Plumbing")
    env.send(
        env.write(
            "customer",
            "c-1",
            {"display_name": "Ada Plumbing", "notes": "b"},
            quickbooks_id=quickbooks_id,
            quickbooks_version="1",
        )
    )
    assert env.read("Customer", "customer/c-1")["Notes"] == "b"
    assert env.current("invoice", "987654") is None


def test_find_name_looks_across_customers_vendors_employees_and_items(env: Env) -> None:
    names_and_items(env)
    env.send(
        env.write("item", "i-3", {"kind": "service", "name": "Norton Lumber"}),
        env.write("employee", "e-1", {"display_name": "O'Brien"}),
    )
    gone = {
        "quickbooks_id": env.ids["customer/c-1"],
        "quickbooks_version": "0",
        "operation": Operation.DELETE,
    }
    env.send(env.write("customer", "c-1", {"display_name": "Ada Plumbing"}, **gone))
    env.client.calls.clear()
    holders = env.holders("norton lumber", "Ada Plumbing", "O'Brien", "Nobody")
    assert env.client.calls == ["POST batch"]  # four queries for the four names, one request
    assert sorted((f.entity, f.quickbooks_id, f.name) for f in holders["norton lumber"]) == [
        ("item", env.ids["item/i-3"], "Norton Lumber"),
        ("vendor", env.ids["vendor/v-1"], "Norton Lumber"),
    ]
    assert [(f.entity, f.name) for f in holders["Ada Plumbing"]] == [("customer", "Ada Plumbing")]
    assert [(f.entity, f.name) for f in holders["O'Brien"]] == [("employee", "O'Brien")]
    assert holders["Nobody"] == ()


def test_the_holders_of_ninety_names_are_asked_in_one_request(env: Env) -> None:
    """A name clash costs about one request per 30 names, not one each (issue: 400 clashes took 400 calls)."""
    env.send(*(env.write("vendor", f"v-{n}", {"display_name": f"Vendor {n}"}) for n in range(90)[:30]))
    env.client.calls.clear()
    holders = env.holders(*(f"Vendor {n}" for n in range(90)))
    assert env.client.calls == ["POST batch"]  # 12 queries: four lists for each 30 names
    assert [len(holders[f"Vendor {n}"]) for n in range(90)] == [1] * 30 + [0] * 60


# ------------------------------------------------------------------------------------------ payments back


def test_payments_from_further_back_than_cdc_looks_are_read_by_a_query_of_their_modified_time(
    env: Env,
) -> None:
    names_and_items(env)
    env.clock.at = datetime.now(UTC)
    env.running.sandbox.clock.offset -= timedelta(days=40)  # a payment entered 40 days ago
    try:
        env.send(env.write("payment", "p-old", {"customer_id": "c-1", "total_amount": "40.00"}))
    finally:
        env.running.sandbox.clock.offset += timedelta(days=40)
    env.send(env.write("payment", "p-new", {"customer_id": "c-1", "total_amount": "1.00"}))
    env.client.calls = []

    since = env.clock.now() - timedelta(days=45)  # an initial sync's since date: CDC refuses it
    changed, deleted, answered = env.books.changed_payments(TENANT, since)

    assert sorted(p.quickbooks_id for p in changed) == sorted(
        [env.ids["payment/p-old"], env.ids["payment/p-new"]]
    )
    assert deleted == []
    assert env.clock.now() - timedelta(minutes=1) < answered  # QuickBooks' time of the answer
    assert [c.split(" WHERE ")[0] for c in env.client.calls] == ["GET query SELECT * FROM Payment"]
    later = env.books.changed_payments(TENANT, env.clock.now() - timedelta(days=10))[0]  # CDC again
    assert [p.quickbooks_id for p in later] == [env.ids["payment/p-new"]]


def test_payments_read_back_and_their_changes_through_cdc(env: Env) -> None:
    names_and_items(env)
    env.send(
        env.write(
            "invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "100.10"}]}
        )
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    paid = {
        "customer_id": "c-1", "total_amount": "120.10", "method": "Check", "reference_number": "77",
        "deposit_account": "Checking", "applications": [{"invoice_id": "inv-1", "amount": "100.10"}],
    }  # fmt: skip
    env.send(
        env.write("payment", "p-1", paid),
        env.write("payment", "p-2", {"customer_id": "c-1", "total_amount": "5"}),
    )
    quickbooks_id = env.ids["payment/p-1"]
    payment = env.books.read_payment(TENANT, quickbooks_id)
    assert payment is not None
    assert (payment.total_amount, payment.unapplied_amount) == (Decimal("120.10"), Decimal("20.00"))
    assert (payment.customer_quickbooks_id, payment.method_quickbooks_id, payment.reference_number) == (
        env.ids["customer/c-1"], "2", "77",
    )  # fmt: skip
    assert payment.deposit_account_quickbooks_id == "1"
    assert [(line.txn_type, line.txn_id, line.amount) for line in payment.lines] == [
        ("Invoice", env.ids["invoice/inv-1"], Decimal("100.10"))
    ]
    assert payment.voided is False
    assert payment.last_updated is not None
    assert payment.last_updated.tzinfo is not None

    changed, deleted, server_time = env.books.changed_payments(TENANT, since)
    assert sorted(p.quickbooks_id for p in changed) == sorted([quickbooks_id, env.ids["payment/p-2"]])
    assert deleted == []
    assert server_time.tzinfo is not None
    assert server_time >= since

    env.send(
        env.write(
            "payment",
            "p-1",
            paid,
            quickbooks_id=quickbooks_id,
            quickbooks_version="0",
            operation=Operation.DELETE,
        )
    )
    other = env.ids["payment/p-2"]
    env.client.post(
        TENANT,
        "payment",
        {"Id": other, "SyncToken": "0"},
        request_id="del-p2",
        params={"operation": "delete"},
    )
    changed, deleted, later = env.books.changed_payments(TENANT, server_time - timedelta(seconds=1))
    assert [(p.quickbooks_id, p.voided, p.total_amount) for p in changed] == [
        (quickbooks_id, True, Decimal("0.00"))
    ]
    assert deleted == [other]
    assert later >= server_time
    assert env.books.read_payment(TENANT, other) is None
    with pytest.raises(ValueError, match="time zone"):
        env.books.changed_payments(TENANT, datetime(2026, 5, 1))
