"""The company's lists read into the mirror in Web Connector sessions: the simulated Web Connector runs the
product's /qbwc service (DesktopSync, the qbXML codec, QuickBooksSide over the in-memory mirror) against the
simulated company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from local.qbd.company import Company
from local.qbd.webconnector import Ending, Faults, Run
from qbsync.adapters.qbxml import lists
from qbsync.adapters.qbxml.read import read_message
from qbsync.domain.mirror import ListEntry, ListType
from qbsync.domain.sync import SyncState
from qbsync.qbwc.service import NOTHING_TO_DO
from qbsync.usecases.desktop_sync import LISTS_REFRESH
from tests.qbd.desktop_world import INTERVAL, DesktopWorld

SETTINGS: dict[str, Any] = {
    "default_income_account": "Sales",
    "default_expense_account": "Cost of Goods Sold",
    "sync_payments_from_quickbooks": False,
}


def company() -> Company:
    """A company file with some of everything: a customer and its job, an inactive customer, a vendor, an
    employee, items of four kinds, a class and its sub-class (and the accounts, terms, payment methods, sales
    tax codes, sales tax items and group every new company starts with)."""
    c = Company("Lists Co")
    c.add_entry(
        "Customer", "Acme Corp", CompanyName="Acme Corporation", Phone="555-0100", Email="ap@acme.test"
    )
    c.add_entry("Customer", "Warehouse", parent="Acme Corp")
    c.deactivate(c.add_entry("Customer", "Old Client"))
    c.add_entry("Vendor", "Paper Supply", CompanyName="Paper Supply LLC", Email="sales@paper.test")
    c.add_entry("Employee", "Grace Hopper", Phone="555-0199")
    c.add_entry("ItemService", "Consulting", SalesOrPurchase={"Price": "150.00", "AccountRef": "Services"})
    c.add_entry(
        "ItemNonInventory",
        "Widget",
        ManufacturerPartNumber="W-1",
        SalesAndPurchase={
            "SalesPrice": "12.50",
            "IncomeAccountRef": "Sales",
            "PurchaseCost": "5.00",
            "ExpenseAccountRef": "Cost of Goods Sold",
        },
    )
    c.add_entry(
        "ItemInventory",
        "Gadget",
        ManufacturerPartNumber="G-1",
        SalesPrice="30.00",
        IncomeAccountRef="Sales",
        COGSAccountRef="Cost of Goods Sold",
        AssetAccountRef="Inventory Asset",
    )
    c.add_entry("ItemOtherCharge", "Delivery", SalesOrPurchase={"Price": "25.00", "AccountRef": "Sales"})
    c.add_entry("Class", "Residential")
    c.add_entry("Class", "Remodel", parent="Residential")
    return c


def world(c: Company | None = None, **kwargs: Any) -> DesktopWorld:
    return DesktopWorld.create(company=c or company(), **{**SETTINGS, **kwargs})


def finished(run: Run) -> bool:
    """The update went through: it ended at 100, or with nothing left to send (getLastError says so)."""
    return run.ended is Ending.DONE or (run.ended is Ending.LAST_ERROR and run.message == NOTHING_TO_DO)


def entries(w: DesktopWorld, list_type: ListType) -> dict[str, ListEntry]:
    assert w.mirror is not None
    return {e.name: e for e in w.mirror.entries(w.tenant_id, list_type)}


def list_id(c: Company, kind: str, name: str) -> str:
    found = c.find(kind, name)
    assert found is not None
    return found.id


def reread(w: DesktopWorld) -> Run:
    """The next update that reads the lists of a tenant with payments back off and nothing to send: the
    first LISTS_REFRESH after their last read (the updates between answer "none")."""
    w.clock.advance(LISTS_REFRESH - INTERVAL)
    return w.run()


def changes(w: DesktopWorld) -> list[tuple[object, object, object]]:
    return [(d["list_type"], d["change"], d["name"]) for d in w.events.of("quickbooks.changed")]


def test_the_first_update_reads_every_list_of_the_company_into_the_mirror_with_its_fields() -> None:
    c = company()
    w = world(c)
    run = w.run()
    assert finished(run), run.message
    customers = entries(w, ListType.CUSTOMER)
    assert set(customers) == {"Acme Corp", "Acme Corp:Warehouse", "Old Client"}
    acme = customers["Acme Corp"]
    assert (acme.company_name, acme.email, acme.phone, acme.active) == (
        "Acme Corporation",
        "ap@acme.test",
        "555-0100",
        True,
    )
    assert acme.quickbooks_id == list_id(c, "Customer", "Acme Corp")
    assert acme.modified_at is not None
    assert acme.modified_at.utcoffset() is not None
    assert customers["Acme Corp:Warehouse"].parent_id == acme.quickbooks_id
    assert customers["Old Client"].active is False
    assert entries(w, ListType.VENDOR)["Paper Supply"].email == "sales@paper.test"
    assert entries(w, ListType.EMPLOYEE)["Grace Hopper"].phone == "555-0199"
    items = entries(w, ListType.ITEM)
    assert {name: (e.kind, e.sku, e.price) for name, e in items.items()} == {
        "Consulting": ("service", None, Decimal("150.00")),
        "Widget": ("non_inventory", "W-1", Decimal("12.50")),
        "Gadget": ("inventory", "G-1", Decimal("30.00")),
        "Delivery": ("other_charge", None, Decimal("25.00")),
    }
    assert (items["Consulting"].income_account, items["Consulting"].expense_account) == ("Services", None)
    assert (items["Widget"].income_account, items["Widget"].expense_account) == (
        "Sales",
        "Cost of Goods Sold",
    )
    gadget = items["Gadget"]
    assert (gadget.income_account, gadget.expense_account, gadget.asset_account) == (
        "Sales",
        "Cost of Goods Sold",
        "Inventory Asset",
    )
    rates = entries(w, ListType.SALES_TAX_RATE)
    assert {name: e.price for name, e in rates.items()} == {
        "Out of State": Decimal("0.0"),
        "San Tomas": Decimal("7.75"),
    }
    assert set(entries(w, ListType.SALES_TAX_GROUP)) == {"Bay Area"}
    accounts = entries(w, ListType.ACCOUNT)
    assert accounts["Accounts Receivable"].kind == "accounts_receivable"  # Online's "Accounts Receivable" too
    assert accounts["Sales"].kind == "income"
    terms = entries(w, ListType.TERM)
    assert terms["Net 30"].kind == "standard"
    assert terms["Due 15th"].kind == "date_driven"
    assert entries(w, ListType.PAYMENT_METHOD)["Visa"].kind == "Visa"
    codes = entries(w, ListType.SALES_TAX_CODE)
    assert (codes["Tax"].kind, codes["Non"].kind) == ("taxable", "non_taxable")
    classes = entries(w, ListType.CLASS)
    assert classes["Residential:Remodel"].parent_id == classes["Residential"].quickbooks_id
    # a first load tells nothing: it is where the listing and the initial sync start from
    assert changes(w) == []
    assert w.mirror is not None
    assert all(mark.loaded for mark in w.mirror.marks(w.tenant_id).values())
    assert set(w.mirror.marks(w.tenant_id)) == set(ListType)


def test_each_entry_is_read_with_the_time_quickbooks_created_it_in_the_companys_offset() -> None:
    c = Company("Dated Co", clock=lambda: datetime(2019, 1, 15, 18, 30, tzinfo=UTC))
    c.add_entry("Customer", "Old Timer")
    w = world(c)
    c.clock = w.clock.now
    c.add_entry("Customer", "New Face")
    c.rename(list_id(c, "Customer", "Old Timer"), "Old Timer Sr")  # a later change moves TimeModified only
    entered = w.clock.now()
    run = w.run()
    assert finished(run), run.message
    customers = entries(w, ListType.CUSTOMER)
    old = customers["Old Timer Sr"].created_at
    assert old == datetime(2019, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=-8)))  # Pacific, as written
    assert old is not None
    assert old.utcoffset() == timedelta(hours=-8)
    assert customers["Old Timer Sr"].modified_at == entered
    assert customers["New Face"].created_at == entered


def test_a_rename_in_quickbooks_is_told_as_updated_at_the_next_read() -> None:
    c = company()
    w = world(c)
    w.run()
    c.rename(list_id(c, "Vendor", "Paper Supply"), "Paper Supplies")
    run = reread(w)
    assert finished(run), run.message
    assert changes(w) == [("vendor", "updated", "Paper Supplies")]
    assert "Paper Supplies" in entries(w, ListType.VENDOR)


def test_an_entry_deleted_in_quickbooks_is_told_as_deleted_and_leaves_the_mirror() -> None:
    c = company()
    w = world(c)
    w.run()
    c.delete_entry(list_id(c, "Class", "Residential:Remodel"))
    reread(w)
    assert changes(w) == [("class", "deleted", "Residential:Remodel")]
    assert set(entries(w, ListType.CLASS)) == {"Residential"}


def test_later_updates_read_only_what_changed_in_one_message_before_the_records() -> None:
    c = company()
    w = world(c)
    w.run()
    c.add_entry("Customer", "New Client", Email="hi@new.test")
    w.push("customer", "c-1", {"display_name": "Ada Lovelace"})
    w.messages.clear()
    run = w.run()
    assert finished(run), run.message
    first = read_message(w.messages[0])
    assert [r.tag for r in first.requests] == [f"{q}QueryRq" for q in lists.QUERIES] + ["ListDeletedQueryRq"]
    asked = {r.tag: r for r in first.requests}
    assert asked["CustomerQueryRq"].text_of("FromModifiedDate") is not None
    assert changes(w) == [("customer", "created", "New Client")]
    assert w.states("customer") == {"c-1": SyncState.SYNCED}
    # the lists came first, the customer's add after them
    adds = [
        i for i, m in enumerate(w.messages) if any(r.tag == "CustomerAddRq" for r in read_message(m).requests)
    ]
    assert adds
    assert adds[0] > 0


def test_a_quiet_tenant_with_payments_off_gets_none_until_its_lists_were_read_an_hour_ago() -> None:
    c = company()
    w = world(c)
    assert finished(w.run())  # the first load
    c.add_entry("Vendor", "Ink Supply")
    quiet = [w.run() for _ in range(5)]  # 10 to 50 minutes after it: QuickBooks is not opened
    assert [run.ended for run in quiet] == [Ending.NO_WORK] * 5
    assert [run.result_of("authenticate")[1] for run in quiet] == ["none"] * 5  # type: ignore[index]
    w.messages.clear()
    run = w.run()  # an hour after it: the lists alone open the session, and only changes are read
    assert finished(run), run.message
    (message,) = w.messages
    assert read_message(message).requests[0].text_of("FromModifiedDate") is not None
    assert changes(w) == [("vendor", "created", "Ink Supply")]
    assert w.run().ended is Ending.NO_WORK


def test_a_big_list_is_read_page_by_page_and_the_progress_counts_the_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    c = company()
    for n in range(5):
        c.add_entry("Customer", f"Customer {n}")
    w = world(c)
    run = w.run()
    assert finished(run), run.message
    assert len(entries(w, ListType.CUSTOMER)) == 8
    assert len(entries(w, ListType.ITEM)) == 4
    continued = [
        r.attributes.get("iterator") for m in w.messages for r in read_message(m).requests
        if r.tag == "CustomerQueryRq"
    ]  # fmt: skip
    assert continued == ["Start", "Continue", "Continue", "Continue"]
    percents = [call.result for call in run.calls if call.operation == "receiveResponseXML"]
    assert len(percents) == 4  # a message per page of customers; the other lists came with the first
    assert all(isinstance(p, int) and 0 < p < 100 for p in percents)
    assert percents == sorted(percents)
    assert percents[0] < percents[-1]


@dataclass
class DropAnswer(Faults):
    """The PC goes off after QuickBooks answered the `nth` message of the next update (and only then)."""

    nth: int = 1
    seen: int = 0

    def fires(self, kind: str) -> bool:
        if kind != "drop_answer":
            return False
        self.seen += 1
        return self.seen == self.nth


def test_a_session_cut_short_mid_read_is_finished_by_the_next_without_duplicates_or_loss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    c = company()
    for n in range(5):
        c.add_entry("Customer", f"Customer {n}")
    w = world(c)
    w.connector.faults = DropAnswer(nth=3)  # answered: pages 1 and 2 of the customers; page 3 is lost
    cut = w.run()
    assert cut.ended is Ending.ANSWER_DROPPED
    assert w.mirror is not None
    assert len(entries(w, ListType.CUSTOMER)) == 4
    assert not w.mirror.marks(w.tenant_id)[ListType.CUSTOMER].loaded
    w.connector.faults = Faults()
    c.rename(list_id(c, "Customer", "Customer 4"), "Customer Four")
    run = w.run()
    assert finished(run), run.message
    assert sorted(entries(w, ListType.CUSTOMER)) == sorted(
        ["Acme Corp", "Acme Corp:Warehouse", "Old Client", "Customer 0", "Customer 1", "Customer 2",
         "Customer 3", "Customer Four"]
    )  # fmt: skip
    assert changes(w) == []  # still the first load: nothing told
    c.rename(list_id(c, "Customer", "Customer 0"), "Customer Zero")
    reread(w)
    assert changes(w) == [("customer", "updated", "Customer Zero")]
