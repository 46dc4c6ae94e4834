"""Linking on QuickBooks Desktop: a name clash with a customer the company has names it as the candidate
(from the look-up of names before an add), and a record linked to it is modified there, never added."""

from __future__ import annotations

from qbsync.adapters.qbxml.read import read_message
from qbsync.domain.mirror import ListEntry, ListType, ReadMark
from qbsync.domain.sync import Candidate, SyncState
from qbsync.usecases.links import Links
from tests.qbd.desktop_world import DesktopWorld
from tests.unit.mirror_fakes import InMemoryMirror

ACCOUNTS = {"default_income_account": "Sales", "default_expense_account": "Cost of Goods Sold"}


def requests(w: DesktopWorld, tag: str) -> int:
    return sum(1 for m in w.messages for r in read_message(m).requests if r.tag == tag)


def test_a_desktop_name_clash_names_the_customer_and_linking_it_modifies_that_customer() -> None:
    w = DesktopWorld.create(**ACCOUNTS, sync_payments_from_quickbooks=False)
    list_id = w.company.add_entry("Customer", "Acme Supplies")
    w.push("customer", "c-acme", {"display_name": "Acme Supplies"})
    w.run()
    failed = w.get("customer", "c-acme")
    assert failed.state is SyncState.FAILED
    assert failed.failure is not None
    assert failed.failure.candidates == (Candidate(list_id, "Acme Supplies", "customer"),)
    held = w.company.objects[list_id]
    mirror = InMemoryMirror()  # as a read of the customer list leaves it
    mirror.put_many(
        w.tenant_id, [ListEntry(ListType.CUSTOMER, list_id, held.name, version=str(held.edit_sequence))]
    )
    mirror.save_mark(w.tenant_id, ReadMark(ListType.CUSTOMER, loaded=True))
    links = Links(w.tenants, w.store, mirror, w.events, w.clock)
    linked = links.link(w.tenant_id, "customer", "c-acme", list_id)
    assert (linked.state, linked.failure) == (SyncState.SYNCED, None)
    w.push("customer", "c-acme", {"display_name": "Acme Supplies", "email": "ap@acme.test"})
    run = w.run()
    assert run.result_of("closeConnection") == "qbsync: 1 sent, 1 synced, 0 failed"
    assert (requests(w, "CustomerAddRq"), requests(w, "CustomerModRq")) == (0, 1)
    assert [c.id for c in w.company.by_kind["Customer"]] == [list_id]
    assert "ap@acme.test" in str(w.company.objects[list_id].fields.get("Email"))


def test_a_customer_with_an_existing_email_and_an_item_with_an_existing_sku_are_linked_not_added() -> None:
    """The issue's probe on the Desktop stand-in: once the lists are read, a host customer whose email and a
    host item whose SKU (Desktop's ManufacturerPartNumber) the company has are linked, never added."""
    w = DesktopWorld.create(lists=True, **ACCOUNTS, sync_payments_from_quickbooks=False)
    customer_id = w.company.add_entry("Customer", "Ada Lovelace Consulting", Email="ada@example.com")
    item_id = w.company.add_entry(
        "ItemNonInventory",
        "Copper Pipe",
        ManufacturerPartNumber="CP-12",
        SalesOrPurchase={"Price": "10.00", "AccountRef": "Sales"},
    )
    w.run()  # the first update reads the company's lists
    w.push("customer", "c-ada", {"display_name": "Ada Lovelace", "email": "ADA@example.com"})
    w.push("item", "i-pipe", {"kind": "non_inventory", "name": "Pipe, copper", "sku": "cp-12"})
    w.push(
        "invoice",
        "inv-1",
        {"customer_id": "c-ada", "lines": [{"item_id": "i-pipe", "quantity": "2", "rate": "10"}]},
    )
    w.run()
    ada, pipe = w.get("customer", "c-ada"), w.get("item", "i-pipe")
    assert (ada.state, ada.quickbooks_id) == (SyncState.SYNCED, customer_id)
    assert (pipe.state, pipe.quickbooks_id) == (SyncState.SYNCED, item_id)
    assert ada.history[-1].detail.endswith("(Ada Lovelace Consulting): same email")
    assert (requests(w, "CustomerAddRq"), requests(w, "ItemNonInventoryAddRq")) == (0, 0)
    assert [c.id for c in w.company.by_kind["Customer"]] == [customer_id]
    assert w.get("invoice", "inv-1").state is SyncState.SYNCED
