"""Web Connector sessions on the shared engine: the simulated Web Connector runs the product's /qbwc service
(SOAP codec, DesktopSync, the sync engine, the qbXML codec) against the simulated company."""

from __future__ import annotations

from decimal import Decimal

from local.qbd.webconnector import Ending
from qbsync.adapters.qbxml.mapping import external_guid
from qbsync.adapters.qbxml.read import read_message
from qbsync.domain.sync import SyncState
from tests.qbd.desktop_world import DesktopWorld

ACCOUNTS = {"default_income_account": "Sales", "default_expense_account": "Cost of Goods Sold"}


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
    # names and items in the first message, the invoices (which need their ids) in the second
    kinds = [[r.tag for r in read_message(m).requests] for m in w.messages]
    assert kinds == [["CustomerAddRq", "CustomerAddRq", "ItemServiceAddRq"], ["InvoiceAddRq", "InvoiceAddRq"]]
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
    assert len(percents) == 2


def test_a_tenant_with_nothing_to_send_is_told_none_and_sends_nothing() -> None:
    w = world()
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
