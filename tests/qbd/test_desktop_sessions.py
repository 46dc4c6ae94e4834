"""Web Connector sessions on the shared engine: the simulated Web Connector runs the product's /qbwc service
(SOAP codec, DesktopSync, the sync engine, the qbXML codec) against the simulated company."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from local.qbd.books import lines_total
from local.qbd.model import Obj
from local.qbd.webconnector import Ending, Faults
from qbsync.adapters.qbxml import lists
from qbsync.adapters.qbxml.mapping import external_guid
from qbsync.adapters.qbxml.read import read_message
from qbsync.domain.sync import SyncState
from qbsync.qbwc.service import UNKNOWN_SESSION
from tests.qbd.desktop_world import DesktopWorld

ACCOUNTS = {"default_income_account": "Sales", "default_expense_account": "Cost of Goods Sold"}
# Every update that opens reads the company's lists first: one message, here (later ones ask for changes).
LIST_READ = [f"{query}QueryRq" for query in lists.QUERIES] + ["ListDeletedQueryRq"]


def world(**settings: object) -> DesktopWorld:
    return DesktopWorld.create(**{**ACCOUNTS, "sync_payments_from_quickbooks": False, **settings})


def seed(w: DesktopWorld, invoices: int = 2) -> None:
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    w.push("customer", "c-2", {"display_name": "Charles Babbage"})
    w.push("item", "i-1", {"kind": "service", "name": "Consulting", "sales_price": "150"})
    for n in range(1, invoices + 1):
        w.push(
            "invoice",
            f"inv-{n}",
            {"customer_id": f"c-{1 + n % 2}", "doc_number": f"100{n}",
             "lines": [{"item_id": "i-1", "quantity": "2", "rate": "150"}]},
        )  # fmt: skip


def test_pending_records_are_written_to_quickbooks_in_one_update_dependencies_first() -> None:
    w = world()
    seed(w)
    run = w.run()
    assert run.ended is Ending.DONE, run.message
    assert set(w.states("customer").values()) == {SyncState.SYNCED}
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    assert w.states("item") == {"i-1": SyncState.SYNCED}
    # who has the new names, asked first; then names and items; the invoices (which need their ids) last
    kinds = [[r.tag for r in read_message(m).requests] for m in w.messages]
    assert kinds == [
        LIST_READ,
        ["ItemQueryRq", "CustomerQueryRq", "VendorQueryRq", "EmployeeQueryRq", "OtherNameQueryRq"],
        ["CustomerAddRq", "CustomerAddRq", "ItemServiceAddRq"],
        ["InvoiceAddRq", "InvoiceAddRq"],
    ]
    invoice = w.get("invoice", "inv-1")
    held = w.company.objects[invoice.quickbooks_id or ""]
    assert held.spec.kind == "Invoice"
    assert w.company.customer_balance(
        w.company.objects[w.get("customer", "c-2").quickbooks_id or ""]
    ) == Decimal("300.00")
    assert run.result_of("closeConnection") == "qbsync: 5 sent, 5 synced, 0 failed"
    assert w.event_types().count("record.synced") == 5


def test_every_object_created_carries_the_external_guid_of_its_record() -> None:
    w = world()
    seed(w, invoices=1)
    w.run()
    for record_type, record_id in (("customer", "c-1"), ("item", "i-1"), ("invoice", "inv-1")):
        record = w.get(record_type, record_id)
        held = w.company.objects[record.quickbooks_id or ""]
        guid = external_guid(w.tenant_id, record_type, record_id, 0)
        assert held.fields["ExternalGUID"] == [guid]


def test_receive_response_answers_a_percentage_below_100_until_the_last_message() -> None:
    w = world()
    seed(w, invoices=3)
    run = w.run()
    percents = [c.result for c in run.calls if c.operation == "receiveResponseXML"]
    assert percents[-1] == 100
    assert all(isinstance(p, int) and 0 <= p < 100 for p in percents[:-1])
    assert len(percents) == 4  # the lists, the names, the names and items, the invoices


def test_a_tenant_with_nothing_to_send_is_told_none_once_its_company_was_seen() -> None:
    w = world()
    first = w.run()  # not connected yet: the session reads QuickBooks' description of the company, its lists
    assert first.operations[2:] == [
        "authenticate", "sendRequestXML", "receiveResponseXML",
        "sendRequestXML", "getLastError", "closeConnection",
    ]  # fmt: skip
    assert [[r.tag for r in read_message(m).requests] for m in w.messages] == [LIST_READ]
    w.messages.clear()
    run = w.run()
    assert run.result_of("authenticate") == ["", "none"]
    assert w.messages == []


def test_records_pending_before_the_update_and_unpended_stay_out_of_quickbooks() -> None:
    w = world()
    seed(w, invoices=5)
    w.records.unpend(w.tenant_id, [("invoice", "inv-2"), ("invoice", "inv-4")])
    w.run()
    assert w.states("invoice") == {
        "inv-1": SyncState.SYNCED,
        "inv-2": SyncState.DRAFT,
        "inv-3": SyncState.SYNCED,
        "inv-4": SyncState.DRAFT,
        "inv-5": SyncState.SYNCED,
    }
    assert len(w.company.by_kind["Invoice"]) == 3


def on_the_first_write(kind: str) -> Faults:
    """The fault, first drawn for the third message of an update: the first reads the company's lists, the
    second asks who has the new names, the third writes."""
    for candidate in range(1000):
        draws = random.Random(f"{candidate}:{kind}")
        if draws.random() >= 0.5 and draws.random() >= 0.5 > draws.random():
            return Faults(rates={kind: 0.5}, seed=candidate)
    raise AssertionError("no seed")


def record_messages(w: DesktopWorld) -> list[list[str]]:
    """The requests of each message handed out but the reads of the company's lists (LIST_READ)."""
    tags = [[r.tag for r in read_message(m).requests] for m in w.messages]
    return [t for t in tags if t != LIST_READ]


def guids(w: DesktopWorld, kind: str) -> list[str]:
    return [g for obj in w.company.by_kind.get(kind, []) for g in obj.fields.get("ExternalGUID", [])]


def test_an_invoice_edited_in_quickbooks_then_updated_by_the_host_is_reread_and_modified_at_once() -> None:
    w = world()
    seed(w, invoices=1)
    w.run()
    invoice = w.get("invoice", "inv-1")
    w.company.edit_transaction(invoice.quickbooks_id or "", Memo="changed at the counter")
    w.push(
        "invoice",
        "inv-1",
        {
            "customer_id": "c-2",
            "doc_number": "1001",
            "lines": [{"item_id": "i-1", "quantity": "3", "rate": "150"}],
        },
    )
    before = len(w.messages)
    run = w.run()
    assert run.ended is Ending.DONE, run.message
    assert w.get("invoice", "inv-1").state is SyncState.SYNCED
    sent = [[r.tag for r in read_message(m).requests] for m in w.messages[before:]]
    assert sent == [LIST_READ, ["InvoiceModRq"], ["InvoiceQueryRq"], ["InvoiceModRq"]]
    customer = w.company.objects[w.get("customer", "c-2").quickbooks_id or ""]
    assert w.company.customer_balance(customer) == Decimal("450.00")
    assert run.result_of("closeConnection") == "qbsync: 2 sent, 1 synced, 0 failed"
    assert "record.failed" not in w.event_types()


def test_answers_lost_after_quickbooks_committed_are_looked_up_and_never_written_twice() -> None:
    w = world()
    seed(w, invoices=6)
    w.connector.faults = on_the_first_write("drop_answer")
    lost = w.run()
    assert lost.ended is Ending.ANSWER_DROPPED
    assert set(w.states("customer").values()) == {SyncState.SYNCING}  # committed, not confirmed
    w.connector.faults = Faults()
    for _ in range(3):
        w.run()
    assert set(w.states("customer").values()) == {SyncState.SYNCED}
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    assert len(guids(w, "Customer")) == len(set(guids(w, "Customer"))) == 2
    assert len(guids(w, "Invoice")) == len(set(guids(w, "Invoice"))) == 6
    assert len(w.company.by_kind["ItemService"]) == 1
    # after the names were asked for: one look-up per unconfirmed create, matched on its ExternalGUID
    look_ups = [tag for tags in record_messages(w)[1:] for tag in tags if tag.endswith("QueryRq")]
    assert look_ups == ["CustomerQueryRq", "CustomerQueryRq", "ItemQueryRq"]


def test_a_session_killed_mid_message_leaves_no_duplicate_and_the_next_updates_finish() -> None:
    w = world()
    seed(w, invoices=12)
    w.connector.faults = on_the_first_write("kill_mid_message")
    killed = w.run()
    assert killed.ended is Ending.SESSION_KILLED
    w.connector.faults = Faults()
    for _ in range(3):
        w.run()
    for kind, count in (("Customer", 2), ("ItemService", 1), ("Invoice", 12)):
        assert len(w.company.by_kind[kind]) == count, kind
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    refs = [obj.fields["RefNumber"][0] for obj in w.company.by_kind["Invoice"]]
    assert len(refs) == len(set(refs))


def test_a_message_that_never_reached_quickbooks_is_looked_up_and_sent_once() -> None:
    w = world()
    seed(w, invoices=2)
    w.connector.faults = on_the_first_write("drop_request")
    assert w.run().ended is Ending.REQUEST_LOST
    w.connector.faults = Faults()
    w.run()
    w.run()
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    assert len(w.company.by_kind["Customer"]) == 2
    assert len(w.company.by_kind["Invoice"]) == 2


def test_records_locked_in_quickbooks_wait_for_the_next_update_while_the_others_go_on() -> None:
    w = world()
    seed(w, invoices=0)
    w.run()
    for n in range(1, 21):
        w.push("invoice", f"inv-{n}", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "10"}]})
    w.company.lock_records(0.3, seed=7)
    first = w.run()
    assert first.ended is Ending.DONE
    states = w.states("invoice")
    waiting = [i for i, s in states.items() if s is SyncState.PENDING]
    assert waiting, "some invoice was locked"
    assert any(s is SyncState.SYNCED for s in states.values())
    for record_id in waiting:
        assert "retrying at the next run" in w.get("invoice", record_id).history[-1].detail
    w.company.lock_records(0.0)
    w.run()
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    assert len(w.company.by_kind["Invoice"]) == 20


def adds(w: DesktopWorld, tag: str) -> int:
    return sum(1 for m in w.messages for r in read_message(m).requests if r.tag == tag)


def test_a_customer_named_like_a_vendor_fails_with_rename_naming_the_vendor_and_no_add_is_sent() -> None:
    w = world()
    vendor = w.company.add_entry("Vendor", "Acme Supplies")
    w.push("customer", "c-acme", {"display_name": "Acme Supplies"})
    run = w.run()
    assert run.ended is Ending.DONE, run.message
    failed = w.get("customer", "c-acme")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert failed.failure.actions == ("rename",)
    assert f"a vendor (QuickBooks id {vendor})" in failed.failure.message
    assert "'Acme Supplies'" in failed.failure.message
    assert adds(w, "CustomerAddRq") == 0
    assert run.result_of("closeConnection") == "qbsync: 0 sent, 0 synced, 1 failed"


def test_with_the_rename_policy_a_customer_named_like_an_employee_is_created_once_with_a_suffix() -> None:
    w = world(name_clash_policy="rename_with_suffix")
    w.company.add_entry("Employee", "Grace Hopper", FirstName="Grace", LastName="Hopper")
    w.push("customer", "c-grace", {"display_name": "Grace Hopper"})
    w.run()
    renamed = w.get("customer", "c-grace")
    assert renamed.state is SyncState.SYNCED
    assert renamed.quickbooks_name == "Grace Hopper (2)"
    assert [c.name for c in w.company.by_kind["Customer"]] == ["Grace Hopper (2)"]
    assert adds(w, "CustomerAddRq") == 1


def test_a_name_taken_between_the_check_and_the_add_is_still_caught_by_quickbooks() -> None:
    w = world()
    w.push("customer", "c-1", {"display_name": "Late Comer"})
    real = w.desktop.codec.encode

    def vendor_enters_it_meanwhile(*args: object, **kwargs: object) -> object:
        encoded = real(*args, **kwargs)  # type: ignore[arg-type]
        if "CustomerAddRq" in encoded.message and not w.company.find("Vendor", "Late Comer"):
            w.company.add_entry("Vendor", "Late Comer")
        return encoded

    w.desktop.codec.encode = vendor_enters_it_meanwhile  # type: ignore[method-assign]
    w.run()
    failed = w.get("customer", "c-1")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert failed.failure.code == "3100"
    assert "a vendor" in failed.failure.message
    assert w.company.find("Customer", "Late Comer") is None


def test_payments_entered_in_quickbooks_come_back_once_each_through_the_next_updates() -> None:
    w = world(sync_payments_from_quickbooks=True)
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    w.push("customer", "c-2", {"display_name": "Charles Babbage"})
    w.push("item", "i-1", {"kind": "service", "name": "Consulting"})
    for n in (1, 2, 3):
        w.push("invoice", f"inv-{n}", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "100"}]})
    w.run()
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}
    txn = {n: w.get("invoice", f"inv-{n}").quickbooks_id or "" for n in (1, 2, 3)}
    early = w.company.receive_payment("Charles Babbage", Decimal("5"))
    w.run()
    assert [d["quickbooks_payment_id"] for d in w.events.of("payment.received")] == [early]

    partial = w.company.receive_payment("Ada Lovelace", Decimal("40"), {txn[1]: Decimal("40")})
    split = w.company.receive_payment(
        "Ada Lovelace", Decimal("150"), {txn[2]: Decimal("100"), txn[3]: Decimal("50")}
    )
    unapplied = w.company.receive_payment("Charles Babbage", Decimal("20"))
    w.company.delete_payment(early)
    before = len(w.events.sent)
    w.run()
    told = w.events.sent[before:]
    received = {d["quickbooks_payment_id"]: d for kind, _, d in told if kind == "payment.received"}
    assert sorted(kind for kind, _, _ in told) == ["payment.deleted"] + ["payment.received"] * 3
    assert set(received) == {partial, split, unapplied}
    assert received[split]["invoice_ids"] == ["inv-2", "inv-3"]
    assert received[partial]["invoice_ids"] == ["inv-1"]
    assert received[partial]["customer_id"] == "c-1"
    assert received[unapplied]["unapplied_amount"] == "20.00"
    assert [d["quickbooks_payment_id"] for d in w.events.of("payment.deleted")] == [early]
    for _ in range(2):
        before = len(w.events.sent)
        w.run()
        assert [kind for kind, _, _ in w.events.sent[before:] if kind.startswith("payment.")] == []


def test_payments_the_host_app_pushed_are_not_told_back() -> None:
    w = world(sync_payments_from_quickbooks=True)
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    w.push("item", "i-1", {"kind": "service", "name": "Consulting"})
    w.push("invoice", "inv-1", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "100"}]})
    w.run()
    w.push(
        "payment",
        "p-1",
        {
            "customer_id": "c-1",
            "total_amount": "100",
            "applications": [{"invoice_id": "inv-1", "amount": "100"}],
        },
    )
    w.run()
    w.run()
    assert w.get("payment", "p-1").state is SyncState.SYNCED
    assert w.events.of("payment.received") == []


def test_two_tenants_updating_at_once_each_write_only_to_their_own_company() -> None:
    w = world()
    other = w.add_tenant("desk-2", "Other Books Co")
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    outcome = w.records.upsert("desk-2", "customer", "c-1", {"display_name": "Grace Hopper"})
    assert outcome.status == "created"
    w.clock.advance(timedelta(minutes=10))
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda connector: connector.run_once(), [w.connector, other]))
    assert [r.ended for r in runs] == [Ending.DONE, Ending.DONE]
    assert [c.name for c in w.company.by_kind["Customer"]] == ["Ada Lovelace"]
    assert [c.name for c in other.company.by_kind["Customer"]] == ["Grace Hopper"]
    assert w.get("customer", "c-1").quickbooks_id in w.company.objects
    grace = w.store.get("desk-2", "customer", "c-1")
    assert grace is not None
    assert grace.quickbooks_id in other.company.objects


def test_a_ticket_works_only_for_its_own_session_and_not_once_closed() -> None:
    w = world()
    seed(w, invoices=1)
    run = w.run()
    ticket = run.result_of("authenticate")[0]  # type: ignore[index]
    assert w.service.call("getLastError", {"ticket": ticket}) == UNKNOWN_SESSION
    assert w.service.call("sendRequestXML", {"ticket": ticket}) == ""
    assert w.service.call("receiveResponseXML", {"ticket": ticket, "response": "<QBXML/>"}) == -1


def test_a_record_quickbooks_received_cannot_be_taken_back_until_its_outcome_is_known() -> None:
    w = world()
    seed(w, invoices=1)
    w.connector.faults = on_the_first_write("drop_answer")
    w.run()
    [outcome] = w.records.unpend(w.tenant_id, [("customer", "c-1")])
    assert outcome.status == "unchanged"
    assert outcome.detail == "QuickBooks is receiving it right now; it can no longer be taken back."
    w.connector.faults = Faults()
    w.run()
    assert w.get("customer", "c-1").state is SyncState.SYNCED
    assert len(w.company.by_kind["Customer"]) == 2


def test_a_bill_receives_its_purchase_order_line_by_line_in_the_update_that_creates_both() -> None:
    w = world(default_expense_account="Cost of Goods Sold")
    w.push("vendor", "v-1", {"display_name": "Acme Supplies"})
    w.push("item", "i-1", {"kind": "non_inventory", "name": "Gloves", "purchase_cost": "2.5"})
    w.push(
        "purchase_order",
        "po-1",
        {"vendor_id": "v-1", "lines": [{"item_id": "i-1", "quantity": "100", "rate": "2.5"}]},
    )
    w.push(
        "bill",
        "b-1",
        {"vendor_id": "v-1", "purchase_order_id": "po-1",
         "lines": [{"account": "Office Supplies", "amount": "12.5"},
                   {"item_id": "i-1", "quantity": "100", "rate": "2.5"}]},
    )  # fmt: skip
    run = w.run()
    assert run.ended is Ending.DONE, run.message
    assert w.get("bill", "b-1").state is SyncState.SYNCED
    tags = [[r.tag for r in read_message(m).requests] for m in w.messages]
    assert ["PurchaseOrderQueryRq"] in tags
    assert tags.index(["PurchaseOrderQueryRq"]) < tags.index(["BillAddRq"])
    order = w.company.objects[w.get("purchase_order", "po-1").quickbooks_id or ""]
    assert [line.fields["ReceivedQuantity"] for line in order.lines] == [["100"]]
    bill = w.company.objects[w.get("bill", "b-1").quickbooks_id or ""]
    assert lines_total(bill) == Decimal("262.50")


def test_more_payments_than_a_page_are_all_read_in_the_same_update() -> None:
    w = world(sync_payments_from_quickbooks=True)
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    w.run()
    for _ in range(450):
        w.company.receive_payment("Ada Lovelace", Decimal("1"))
    run = w.run()
    assert run.ended is Ending.DONE, run.message
    assert len(w.events.of("payment.received")) == 450
    pages = [m for m in w.messages if "ReceivePaymentQueryRq" in m]
    assert [('iterator="Continue"' in m) for m in pages[-3:]] == [False, True, True]
    before = len(w.events.sent)
    w.run()
    assert [kind for kind, _, _ in w.events.sent[before:]] == []


def test_a_record_whose_update_was_lost_then_refused_as_stale_still_has_its_retries_when_locked() -> None:
    """Sends lost, then refused for a stale EditSequence, are not retries: a record open in QuickBooks
    afterwards waits for the next update instead of failing."""
    w = world()
    seed(w, invoices=1)
    w.run()
    invoice = w.get("invoice", "inv-1")
    for n in range(4):  # each time: the host changes it, a user edits it, and the update's answer is lost
        w.push("invoice", "inv-1", {"customer_id": "c-2", "doc_number": "1001", "memo": f"v{n}",
                                    "lines": [{"item_id": "i-1", "amount": f"{100 + n}"}]})  # fmt: skip
        w.company.edit_transaction(invoice.quickbooks_id or "", Memo=f"at the counter {n}")
        w.connector.faults = on_the_first_write("drop_answer")
        w.run()
    w.connector.faults = Faults()
    w.company.lock_records(1.0, seed=1)
    w.run()
    assert w.get("invoice", "inv-1").state is SyncState.PENDING
    w.company.lock_records(0.0)
    w.run()
    assert w.get("invoice", "inv-1").state is SyncState.SYNCED
    assert len(w.company.by_kind["Invoice"]) == 1


def test_a_web_connector_shut_down_mid_update_stops_at_its_next_call() -> None:
    w = world()
    seed(w, invoices=3)
    call = w.service.call

    def shut_down_after_the_first_answer(operation: str, params: dict[str, str]) -> object:
        result = call(operation, params)
        if operation == "receiveResponseXML":
            w.connector._closing.set()
        return result

    w.service.call = shut_down_after_the_first_answer  # type: ignore[method-assign,assignment]
    run = w.run()
    assert run.ended is Ending.UNREACHABLE
    assert run.operations[-2:] == ["receiveResponseXML", "sendRequestXML"]
    assert run.calls[-1].error == "the Web Connector was shut down"


def test_an_invoice_without_terms_takes_its_customers_terms_and_the_default_only_when_it_has_none() -> None:
    w = world(default_payment_terms="Net 30")
    w.push("customer", "c-15", {"display_name": "Ada Lovelace", "terms": "Net 15"})
    w.push("customer", "c-none", {"display_name": "Charles Babbage"})
    w.push("item", "i-1", {"kind": "service", "name": "Consulting"})
    for invoice_id, customer_id, terms in (
        ("inv-1", "c-15", None),
        ("inv-2", "c-none", None),
        ("inv-3", "c-15", "Due on receipt"),
    ):
        data: dict[str, object] = {
            "customer_id": customer_id,
            "txn_date": "2024-03-01",
            "lines": [{"item_id": "i-1", "amount": "10"}],
        }
        if terms is not None:
            data["terms"] = terms
        w.push("invoice", invoice_id, data)
    assert w.run().ended is Ending.DONE
    assert set(w.states("invoice").values()) == {SyncState.SYNCED}

    def held(record_type: str, record_id: str) -> Obj:
        return w.company.objects[w.get(record_type, record_id).quickbooks_id or ""]

    def terms_of(obj: Obj) -> str | None:
        terms = obj.ref("TermsRef")
        return None if terms is None else terms.name

    assert terms_of(held("customer", "c-15")) == "Net 15"
    assert terms_of(held("customer", "c-none")) is None
    assert {n: terms_of(held("invoice", f"inv-{n}")) for n in (1, 2, 3)} == {
        1: "Net 15",
        2: "Net 30",
        3: "Due on receipt",
    }
    assert held("invoice", "inv-1").text("DueDate") == "2024-03-16"
