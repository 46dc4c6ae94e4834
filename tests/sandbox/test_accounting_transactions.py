"""Invoices, payments, credit memos, purchase orders and bills: amounts in Decimal, balances, links, void and
delete, and the notifications every committed change sends."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.test_accounting_helpers import NANGO, Api, code_of, fault, needs_reference, recorded


@pytest.fixture
def api() -> Api:
    return Api()


def _ids(entity: dict[str, Any]) -> dict[str, Any]:
    return {"Id": entity["Id"], "SyncToken": entity["SyncToken"]}


def _pay(customer: str, total: float, *applied: tuple[str, str, float]) -> dict[str, Any]:
    lines = [
        {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": kind}]}
        for kind, txn_id, amount in applied
    ]
    return {"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": lines}


def test_invoice_totals_are_exact_decimal_sums_with_a_subtotal_line(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, "0.10", "0.20", "1234567.89")  # 0.1 + 0.2 is not 0.3 in floats
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("1234568.19")
    assert Decimal(str(invoice["Balance"])) == Decimal("1234568.19")
    lines = invoice["Line"]
    assert [line.get("Id") for line in lines] == ["1", "2", "3", None]
    assert [line.get("LineNum") for line in lines] == [1, 2, 3, None]
    assert lines[-1] == {"Amount": 1234568.19, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert invoice["TxnTaxDetail"] == {"TotalTax": 0}


def test_invoice_dates_default_to_today_and_terms(api: Api) -> None:
    customer = api.customer()["Id"]
    plain = api.invoice(customer, 10, TxnDate="2024-01-15")
    assert plain["DueDate"] == "2024-02-14"  # nango create-invoice: no terms, due in 30 days
    net15 = api.invoice(customer, 10, TxnDate="2024-01-15", SalesTermRef={"value": "2"})
    assert net15["DueDate"] == "2024-01-30"
    assert net15["SalesTermRef"] == {"value": "2", "name": "Net 15"}
    today = api.invoice(customer, 10)
    assert date.fromisoformat(today["TxnDate"]) in {date.today() + timedelta(days=d) for d in (-1, 0, 1)}
    assert code_of(api.post("invoice", {**_line_body(customer), "TxnDate": "15/01/2024"})) == (400, "2010")


def _line_body(customer: str) -> dict[str, Any]:
    line = {
        "Amount": 1,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
    }
    return {"CustomerRef": {"value": customer}, "Line": [line]}


def test_a_payment_applied_to_an_invoice_moves_balances_and_links_them(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 100, DocNumber="1031")
    payment = api.create("Payment", _pay(customer, 150, ("Invoice", invoice["Id"], 60)))
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (150, 90)
    assert payment["DepositToAccountRef"] == {"value": "4"}  # Undeposited Funds (nango create-payment)
    assert payment["ProcessPayment"] is False
    [line] = payment["Line"]
    assert line["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert [(nv["value"]["Name"], nv["value"]["Value"]) for nv in line["LineEx"]["any"]] == [
        ("txnId", invoice["Id"]),
        ("txnOpenBalance", "100.00"),
        ("txnReferenceNumber", "1031"),
    ]
    after = api.read("Invoice", invoice["Id"])
    assert after["Balance"] == 40
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert after["SyncToken"] == invoice["SyncToken"]
    assert api.read("Customer", customer)["Balance"] == 40 - 90  # open invoices less unapplied payments


@needs_reference
def test_a_payment_line_answers_line_extras_shaped_as_recorded(api: Api) -> None:
    document = json.loads((NANGO / "update-payment.test.json").read_text(encoding="utf-8"))
    theirs = next(iter(document["api"]["post"].values()))["response"]["Payment"]["Line"][0]["LineEx"]["any"]
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 387, DocNumber="1031")
    ours = api.create("Payment", _pay(customer, 387, ("Invoice", invoice["Id"], 387)))["Line"][0]["LineEx"][
        "any"
    ]
    assert [{**nv, "value": None} for nv in ours] == [{**nv, "value": None} for nv in theirs]
    assert [nv["value"]["Name"] for nv in ours] == [nv["value"]["Name"] for nv in theirs]


def test_split_payments_and_credit_memos(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 100)
    line = {
        "Amount": 30,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
    }
    credit = api.create("CreditMemo", {"CustomerRef": {"value": customer}, "Line": [line]})
    assert (credit["TotalAmt"], credit["Balance"], credit["RemainingCredit"]) == (30, 30, 30)
    first = api.create(
        "Payment", _pay(customer, 20, ("Invoice", invoice["Id"], 50), ("CreditMemo", credit["Id"], 30))
    )
    assert first["UnappliedAmt"] == 0
    second = api.create("Payment", _pay(customer, 50, ("Invoice", invoice["Id"], 50)))
    paid = api.read("Invoice", invoice["Id"])
    assert paid["Balance"] == 0
    assert paid["LinkedTxn"] == [
        {"TxnId": first["Id"], "TxnType": "Payment"},
        {"TxnId": second["Id"], "TxnType": "Payment"},
    ]
    assert api.read("CreditMemo", credit["Id"])["RemainingCredit"] == 0
    assert api.read("Customer", customer)["Balance"] == 0


def test_a_payment_cannot_apply_more_than_is_open_or_than_it_holds(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 100)
    assert code_of(api.post("payment", _pay(customer, 500, ("Invoice", invoice["Id"], 100.01)))) == (
        400,
        "6000",
    )
    assert code_of(api.post("payment", _pay(customer, 50, ("Invoice", invoice["Id"], 60)))) == (400, "6000")
    other = api.customer("Someone Else")["Id"]
    assert code_of(api.post("payment", _pay(other, 10, ("Invoice", invoice["Id"], 10)))) == (400, "6000")
    assert code_of(api.post("payment", _pay(customer, 10, ("Invoice", "999999", 10)))) == (400, "2500")
    assert api.read("Invoice", invoice["Id"])["Balance"] == 100
    assert [kind for kind, *_ in api.events].count("Payment") == 0


def test_updating_and_deleting_a_payment_re_applies_it(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 100)
    payment = api.create("Payment", _pay(customer, 100, ("Invoice", invoice["Id"], 100)))
    assert api.read("Invoice", invoice["Id"])["Balance"] == 0
    smaller = api.create("Payment", {**_pay(customer, 100, ("Invoice", invoice["Id"], 40)), **_ids(payment)})
    assert (smaller["SyncToken"], smaller["UnappliedAmt"]) == ("1", 60)
    assert api.read("Invoice", invoice["Id"])["Balance"] == 60
    response = api.post("payment", _ids(smaller), operation="delete")
    assert response.get_json()["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
    reopened = api.read("Invoice", invoice["Id"])
    assert (reopened["Balance"], reopened["LinkedTxn"]) == (100, [])


@needs_reference
def test_voiding_an_invoice_zeroes_it_as_recorded(api: Api) -> None:
    invoice = api.invoice(api.customer()["Id"], 100)
    response = api.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    theirs = recorded("void__invoice__1")["response"]["body_json"]["Invoice"]
    ours = response.get_json()["Invoice"]
    assert response.status_code == 200
    for key in ("SyncToken", "PrivateNote", "TotalAmt", "Balance", "TxnTaxDetail"):
        assert ours[key] == theirs[key], key
    assert [line["Amount"] for line in ours["Line"]] == [line["Amount"] for line in theirs["Line"]] == [0, 0]
    assert api.events[-1] == ("Invoice", invoice["Id"], "Void")


def test_voiding_a_payment_reopens_what_it_paid(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 80)
    payment = api.create("Payment", _pay(customer, 80, ("Invoice", invoice["Id"], 80)))
    assert code_of(api.post("invoice", _ids(api.read("Invoice", invoice["Id"])), operation="void")) == (
        400,
        "6000",
    )
    response = api.post("payment", {**_ids(payment), "sparse": True}, operation="update", include="void")
    voided = response.get_json()["Payment"]
    assert (voided["TotalAmt"], voided["UnappliedAmt"], voided["PrivateNote"], voided["SyncToken"]) == (
        0,
        0,
        "Voided",
        "1",
    )
    assert api.read("Invoice", invoice["Id"])["Balance"] == 80
    assert code_of(api.post("bill", {"Id": "1", "SyncToken": "0"}, operation="void")) == (400, "500")


def test_purchase_orders_close_when_a_bill_links_them_and_reopen_when_it_goes(api: Api) -> None:
    vendor = api.create("Vendor", {"DisplayName": "Norton Lumber", "TermRef": {"value": "3"}})
    line = {"Amount": 150, "DetailType": "ItemBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2, "UnitPrice": 75}}  # fmt: skip
    order = api.create("PurchaseOrder", {"VendorRef": {"value": vendor["Id"]}, "Line": [line]})
    assert (order["POStatus"], order["TotalAmt"], order["LinkedTxn"]) == ("Open", 150, [])
    assert order["APAccountRef"] == {"value": "33", "name": "Accounts Payable (A/P)"}
    assert order["Line"][0]["ItemBasedExpenseLineDetail"]["BillableStatus"] == "NotBillable"
    bill = api.create(
        "Bill",
        {"VendorRef": {"value": vendor["Id"]}, "TxnDate": "2026-04-08", "Line": [line],
         "LinkedTxn": [{"TxnId": order["Id"], "TxnType": "PurchaseOrder"}]},
    )  # fmt: skip
    assert (bill["Balance"], bill["DueDate"]) == (150, "2026-05-08")  # the vendor's Net 30
    closed = api.read("PurchaseOrder", order["Id"])
    assert (closed["POStatus"], closed["LinkedTxn"]) == ("Closed", [{"TxnId": bill["Id"], "TxnType": "Bill"}])
    assert api.read("Vendor", vendor["Id"])["Balance"] == 150
    assert code_of(api.post("purchaseorder", _ids(closed), operation="delete")) == (400, "6000")
    api.post("bill", _ids(bill), operation="delete")
    reopened = api.read("PurchaseOrder", order["Id"])
    assert (reopened["POStatus"], reopened["LinkedTxn"]) == ("Open", [])
    assert api.read("Vendor", vendor["Id"])["Balance"] == 0


def test_bills_need_a_vendor_and_lines_with_accounts(api: Api) -> None:
    vendor = api.create("Vendor", {"DisplayName": "V"})["Id"]
    no_account = {
        "Amount": 5,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {},
    }
    error = fault(api.post("bill", {"VendorRef": {"value": vendor}, "Line": [no_account]}))
    assert (error["code"], error["Detail"]) == (
        "2020",
        "Required parameter Line.AccountBasedExpenseLineDetail.AccountRef is missing in the request",
    )
    assert code_of(api.post("bill", {"VendorRef": {"value": "424242"}, "Line": [no_account]})) == (
        400,
        "2500",
    )


@pytest.mark.parametrize("entity", ["Invoice", "Payment", "Customer"])
def test_writing_back_what_was_read_changes_nothing(api: Api, entity: str) -> None:
    customer = api.customer(BillAddr={"Line1": "4581 Finch St."}, ShipAddr={"Line1": "Dock 3"})
    invoice = api.invoice(customer["Id"], "12.75", 100)
    payment = api.create("Payment", _pay(customer["Id"], 50, ("Invoice", invoice["Id"], 40)))
    stored = api.read(entity, {"Invoice": invoice, "Payment": payment, "Customer": customer}[entity]["Id"])
    api.sb.clock.offset += timedelta(minutes=1)
    echoed = api.create(entity, stored)
    assert echoed == stored
    assert [op for kind, _id, op in api.events if kind == entity and op != "Create"] == []


def test_every_committed_change_is_notified_once_and_failures_never(api: Api) -> None:
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 10)
    api.create("Invoice", {**_ids(invoice), "sparse": True, "PrivateNote": "changed"})
    api.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")  # stale: no change
    api.post("invoice", {"Id": invoice["Id"], "SyncToken": "1"}, operation="void")
    api.post("invoice", {"Id": invoice["Id"], "SyncToken": "2"}, operation="delete")
    assert api.events == [
        ("Customer", customer, "Create"),
        ("Invoice", invoice["Id"], "Create"),
        ("Invoice", invoice["Id"], "Update"),
        ("Invoice", invoice["Id"], "Void"),
        ("Invoice", invoice["Id"], "Delete"),
    ]
