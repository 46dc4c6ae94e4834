"""The product's qbXML codec against the simulated company: every record type added, changed and removed as
the engine will do it, each answer read back with the product's reader and classified by its status table.

The codec and the stand-in were written independently (the stand-in never imports the codec), so a message
shape one gets wrong and the other gets right fails here; both are held to Intuit's schema by the autouse
checks (tests/conftest.py for every message built, tests/qbd/conftest.py for every answer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from local.qbd.company import Company, CompanySession
from qbsync.adapters.qbxml import envelope
from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.mapping import OrderLine, external_guid, order_lines, to_qbxml
from qbsync.adapters.qbxml.read import Message, Response, read_message
from qbsync.adapters.qbxml.status import Op, fault_of
from qbsync.domain.records import parse_record, references
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import Failure, FaultAction, Operation, SyncRecord, SyncState, Write, ref_key
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import validate

TENANT = "t-desk"
NOW = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
SETTINGS = SyncSettings(
    default_income_account="Sales",
    default_expense_account="Cost of Goods Sold",
    default_asset_account="Inventory Asset",
)


class Books:
    """One tenant's records as the engine keeps them, sent through the codec to one company session."""

    def __init__(self, session: CompanySession) -> None:
        self.session = session
        self.records: dict[str, SyncRecord] = {}
        self.ids: dict[str, str] = {}
        self.sequence = 0

    def record(self, record_type: str, record_id: str, data: dict[str, Any]) -> SyncRecord:
        key = ref_key(record_type, record_id)
        known = self.records.get(key)
        record = SyncRecord(
            tenant_id=TENANT,
            record_type=record_type,
            record_id=record_id,
            data=data,
            state=SyncState.SYNCING,
            updated_at=NOW,
            quickbooks_id=known.quickbooks_id if known else None,
            quickbooks_version=known.quickbooks_version if known else None,
        )
        self.records[key] = record
        return record

    def write(self, record: SyncRecord, name: str | None = None) -> Write:
        model = parse_record(record.record_type, record.data)
        assert validate(record.record_type, model, Edition.QBD) == []
        ids = {ref_key(*ref): self.ids[ref_key(*ref)] for ref in references(model)}
        return Write(record=record, model=model, ids=ids, name=name)

    def exchange(self, requests: list[Any]) -> Message:
        return read_message(self.session.process(envelope.message(requests)))

    def order_lines(self, record: SyncRecord) -> tuple[OrderLine, ...] | None:
        """A new bill's purchase order lines, read from QuickBooks first as the engine will."""
        order_id = record.data.get("purchase_order_id")
        if record.record_type != "bill" or order_id is None or record.quickbooks_id is not None:
            return None
        txn_id = self.ids[ref_key("purchase_order", order_id)]
        query = rq.txn_query("PurchaseOrder", "po-lines", txn_ids=[txn_id], include_line_items=True)
        [order] = self.exchange([query]).responses[0].rets
        return order_lines(order)

    def send(self, *records: SyncRecord, op: Op = Op.ADD) -> list[Response]:
        """One message with a request per record; each record takes the ids its answer returns."""
        requests = []
        for record in records:
            self.sequence += 1
            request = to_qbxml(
                self.write(record),
                SETTINGS,
                tenant_id=TENANT,
                request_id=f"w{self.sequence}",
                purchase_order_lines=self.order_lines(record),
            )
            assert not isinstance(request, Failure), request
            requests.append(request)
        answer = self.exchange(requests)
        responses = [answer.response(r.get("requestID")) for r in requests]
        for record, response in zip(records, responses, strict=True):
            assert response is not None
            if fault_of(response.status, op) is None and response.rets:
                [ret] = response.rets
                record.quickbooks_id, record.quickbooks_version = ret.id, ret.edit_sequence
                self.ids[record.key] = str(ret.id)
        return [r for r in responses if r is not None]

    def add(self, record_type: str, record_id: str, data: dict[str, Any]) -> Response:
        [response] = self.send(self.record(record_type, record_id, data))
        assert fault_of(response.status, Op.ADD) is None, response.status
        return response


@pytest.fixture
def books() -> Books:
    company = Company("Round Trip Co", clock=lambda: NOW)
    return Books(company.open_session())


def seed_people_and_items(books: Books) -> None:
    books.add("customer", "c-1", {"display_name": "Ada\u2019s Café", "email": "ada@example.com"})
    books.add("customer", "c-1-job", {"display_name": "Kitchen", "parent_id": "c-1"})
    books.add("vendor", "v-1", {"display_name": "Acme Supplies"})
    books.add(
        "employee", "e-1", {"display_name": "Grace Hopper", "given_name": "Grace", "family_name": "Hopper"}
    )
    books.add("item", "i-svc", {"kind": "service", "name": "Consulting", "sales_price": "150"})
    books.add(
        "item", "i-non", {"kind": "non_inventory", "name": "Gloves", "sku": "GL-1", "purchase_cost": "2.5"}
    )
    books.add(
        "item",
        "i-inv",
        {"kind": "inventory", "name": "Widget", "sales_price": "9.99", "purchase_cost": "4.125",
         "quantity_on_hand": "10", "quantity_as_of": "2026-06-30"},
    )  # fmt: skip


def test_every_record_type_is_added_in_one_message_and_carries_its_external_guid(books: Books) -> None:
    seed_people_and_items(books)
    invoice = books.add(
        "invoice",
        "inv-1",
        {"customer_id": "c-1-job", "doc_number": "1001", "txn_date": "2026-07-01", "terms": "Net 30",
         "memo": "July \u2013 \u201con site\u201d\u2026",
         "lines": [{"item_id": "i-svc", "quantity": "2", "rate": "150"},
                   {"item_id": "i-inv", "quantity": "3", "rate": "9.99", "tax_code": "TAX"},
                   {"description": "Thank you"}]},
    )  # fmt: skip
    books.add(
        "credit_memo", "cm-1", {"customer_id": "c-1-job", "lines": [{"item_id": "i-svc", "amount": "20"}]}
    )
    books.add(
        "purchase_order", "po-1",
        {"vendor_id": "v-1", "doc_number": "PO-7",
         "lines": [{"item_id": "i-non", "quantity": "100", "rate": "2.5"}]},
    )  # fmt: skip
    books.add(
        "payment",
        "pay-1",
        {"customer_id": "c-1-job", "total_amount": "100", "method": "Check", "reference_number": "4411",
         "applications": [{"invoice_id": "inv-1", "amount": "120"},
                          {"credit_memo_id": "cm-1", "amount": "20"}]},
    )  # fmt: skip
    bill = books.add(
        "bill", "b-1",
        {"vendor_id": "v-1", "purchase_order_id": "po-1",
         "lines": [{"account": "Office Supplies", "amount": "12.5"},
                   {"item_id": "i-non", "quantity": "100", "rate": "2.5"}]},
    )  # fmt: skip

    [ret] = invoice.rets
    assert ret.external_guid == external_guid(TENANT, "invoice", "inv-1", 0)
    assert ret.ref_number == "1001"
    # Read back the whole invoice: what QuickBooks stores is what the host pushed, in Latin-1.
    answer = books.exchange([rq.txn_query("Invoice", "q1", txn_ids=[ret.id or ""], include_line_items=True)])
    [stored] = answer.responses[0].rets
    assert stored.text_of("CustomerRef/FullName") == "Ada's Café:Kitchen"
    assert stored.text_of("Memo") == 'July - "on site"...'
    assert stored.decimal_of("Subtotal") == Decimal("329.97")
    assert stored.decimal_of("BalanceRemaining") == Decimal("209.97")  # 329.97 - 100 paid - 20 credit
    assert stored.text_of("TermsRef/FullName") == "Net 30"
    # The bill received its purchase order line by line: its total is the host's, the order is received.
    [bill_ret] = bill.rets
    answer = books.exchange(
        [rq.txn_query("Bill", "q2", txn_ids=[bill_ret.id or ""], include_line_items=True)]
    )
    [stored_bill] = answer.responses[0].rets
    assert stored_bill.decimal_of("AmountDue") == Decimal("262.50")  # 12.50 + 100 x 2.50
    assert len(stored_bill.rets("ItemLine")) == 1
    order = rq.txn_query(
        "PurchaseOrder", "q3", txn_ids=[books.ids["purchase_order/po-1"]], include_line_items=True
    )
    [received] = books.exchange([order]).responses[0].rets
    assert [line.decimal_of("ReceivedQuantity") for line in received.rets("PurchaseOrderLine")] == [100]
    assert received.bool_of("IsFullyReceived") is True


def test_an_external_guid_finds_an_add_whose_answer_was_lost(books: Books) -> None:
    """The PC went off after QuickBooks committed the add: the modified-date query finds it by its GUID."""
    seed_people_and_items(books)
    record = books.record(
        "invoice", "inv-lost", {"customer_id": "c-1", "lines": [{"item_id": "i-svc", "amount": "1"}]}
    )
    request = to_qbxml(books.write(record), SETTINGS, tenant_id=TENANT, request_id="lost")
    books.session.process(envelope.message([request]))  # the answer never reaches us

    query = rq.txn_query(
        "Invoice",
        "find",
        modified_from=datetime(2026, 7, 1, 9, 0),
        include=("TxnID", "EditSequence", "ExternalGUID"),
    )
    found = books.exchange([query]).responses[0].rets
    mine = [r for r in found if r.external_guid == external_guid(TENANT, "invoice", "inv-lost", 0)]
    assert len(mine) == 1
    assert mine[0].id
    assert mine[0].edit_sequence


def test_a_stale_edit_sequence_is_reread_and_reapplied(books: Books) -> None:
    seed_people_and_items(books)
    customer = books.records["customer/c-1"]
    stale = customer.quickbooks_version
    books.session.company.rename(customer.quickbooks_id or "", "Ada's Cafe & Bar")  # a user edits it

    changed = books.record("customer", "c-1", {"display_name": "Ada\u2019s Café", "phone": "555-0100"})
    [response] = books.send(changed, op=Op.MOD)
    fault = fault_of(response.status, Op.MOD)
    assert fault is not None
    assert (fault.action, fault.code) == (FaultAction.REREAD_AND_REAPPLY, "3200")
    assert stale
    assert stale in response.status.message

    reread = books.exchange([rq.list_query("Customer", "r1", list_ids=[changed.quickbooks_id or ""])])
    [current] = reread.responses[0].rets
    changed.quickbooks_version = current.edit_sequence
    [response] = books.send(changed, op=Op.MOD)
    assert fault_of(response.status, Op.MOD) is None
    assert response.rets[0].full_name == "Ada's Café"


def test_a_customer_named_like_a_vendor_is_a_name_clash_and_the_holder_is_found(books: Books) -> None:
    seed_people_and_items(books)
    [response] = books.send(books.record("customer", "c-acme", {"display_name": "ACME supplies"}))
    fault = fault_of(response.status, Op.ADD)
    assert fault is not None
    assert (fault.action, fault.code) == (FaultAction.RESOLVE_NAME_CLASH, "3100")
    assert 'The name "ACME supplies" of the list element is already in use.' in response.status.message

    holders = books.exchange(
        [rq.list_query(kind, f"h{kind}", full_names=["ACME supplies"], include=("ListID", "Name", "FullName"))
         for kind in ("Customer", "Vendor", "Employee")]
    )  # fmt: skip
    found = {
        r.kind: [ret.full_name or ret.name for ret in r.rets] for r in holders.responses
    }  # vendors: Name
    assert found == {"CustomerQuery": [], "VendorQuery": ["Acme Supplies"], "EmployeeQuery": []}
    assert [fault_of(r.status, Op.QUERY) for r in holders.responses] == [None, None, None]

    # The name-clash policy rename_with_suffix: the same record, under the next free name.
    rename = to_qbxml(
        books.write(books.records["customer/c-acme"], name="ACME supplies (2)"),
        SETTINGS, tenant_id=TENANT, request_id="rename",
    )  # fmt: skip
    [ok] = books.exchange([rename]).responses
    assert fault_of(ok.status, Op.ADD) is None
    assert ok.rets[0].name == "ACME supplies (2)"


def test_removals_void_delete_and_deactivate_as_the_registry_says(books: Books) -> None:
    seed_people_and_items(books)
    books.add("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-svc", "amount": "50"}]})
    books.add(
        "payment",
        "pay-1",
        {
            "customer_id": "c-1",
            "total_amount": "50",
            "applications": [{"invoice_id": "inv-1", "amount": "50"}],
        },
    )
    books.add("purchase_order", "po-1", {"vendor_id": "v-1", "lines": [{"item_id": "i-non", "amount": "5"}]})
    removals = []
    for key in ("payment/pay-1", "invoice/inv-1", "purchase_order/po-1", "item/i-svc"):
        record = books.records[key]
        record.operation = Operation.DELETE
        removals.append(record)
    responses = books.send(*removals, op=Op.REMOVE)
    assert [(r.kind, fault_of(r.status, Op.REMOVE)) for r in responses] == [
        ("TxnDel", None), ("TxnVoid", None), ("TxnDel", None), ("ItemServiceMod", None),
    ]  # fmt: skip

    invoice_id = books.ids["invoice/inv-1"]
    [voided] = books.exchange([rq.txn_query("Invoice", "v", txn_ids=[invoice_id])]).responses[0].rets
    assert voided.decimal_of("Subtotal") == Decimal("0.00")
    deleted = books.exchange([rq.txn_deleted_query("d", txn_types=["ReceivePayment"])]).responses[0]
    assert [ret.text_of("TxnID") for ret in deleted.rets] == [books.ids["payment/pay-1"]]
    item = (
        books.exchange([rq.list_query("Item", "i", list_ids=[books.ids["item/i-svc"]])]).responses[0].rets[0]
    )
    assert item.is_active is False
    # Removing again what is gone counts as done (3120 on a removal), so a lost answer is harmless.
    again = books.send(books.records["payment/pay-1"], op=Op.REMOVE)[0]
    assert again.status.code == 3120
    assert fault_of(again.status, Op.REMOVE) is None


def test_records_locked_by_a_user_are_retried_later_and_a_bad_reference_is_the_tenants_to_fix(
    books: Books,
) -> None:
    seed_people_and_items(books)
    books.session.company.lock_records(rate=1.0, seed=7)
    [locked] = books.send(books.record("customer", "c-9", {"display_name": "Locked Out"}))
    fault = fault_of(locked.status, Op.ADD)
    assert fault is not None
    assert fault.action is FaultAction.RETRY_LATER
    assert fault.code in ("3170", "3175")
    books.session.company.lock_records(rate=0.0)

    books.ids["customer/c-gone"] = "80FFFFFF-1700000000"
    record = books.record(
        "invoice", "inv-x", {"customer_id": "c-gone", "lines": [{"item_id": "i-svc", "amount": "1"}]}
    )
    [refused] = books.send(record)
    fault = fault_of(refused.status, Op.ADD)
    assert fault is not None
    assert (fault.action, fault.code) == (FaultAction.FIX_RECORD, "3140")


def test_modified_records_are_paged_with_an_iterator_that_dies_with_the_session() -> None:
    company = Company("Paging Co", clock=lambda: NOW)
    books = Books(company.open_session())
    for n in range(7):
        books.add("customer", f"c-{n}", {"display_name": f"Customer {n}"})
    since = (NOW - timedelta(hours=1)).astimezone(company.time_zone).replace(tzinfo=None)
    first = books.exchange(
        [rq.list_query("Customer", "p1", modified_from=since, paging=rq.Paging(3))]
    ).responses[0]
    assert (len(first.rets), first.iterator_remaining_count) == (3, 4)
    iterator = first.iterator_id or ""
    second = books.exchange(
        [rq.list_query("Customer", "p2", paging=rq.Paging(3, iterator_id=iterator))]
    ).responses[0]
    assert (len(second.rets), second.iterator_remaining_count) == (3, 1)

    books.session.close()
    later = Books(company.open_session())
    dead = later.exchange(
        [rq.list_query("Customer", "p3", paging=rq.Paging(3, iterator_id=iterator))]
    ).responses[0]
    assert dead.status.code == 3391
    fault = fault_of(dead.status, Op.QUERY)
    assert fault is not None
    assert fault.action is FaultAction.RETRY_LATER
