"""Canonical records to QuickBooks Online JSON and payments back: pure mapping, no I/O."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from local.qbo import seed
from qbsync.adapters.qbo_http import encode_json
from qbsync.adapters.qbo_mapping import (
    Lists,
    QboWrite,
    needs_lists,
    payment_from_qbo,
    to_qbo,
)
from qbsync.domain.records import parse_record
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import Failure, MissingReferenceError, Operation, SyncRecord, SyncState, Write
from tests.sandbox.test_accounting_helpers import NANGO, needs_reference

NOW = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
DEFAULTS = SyncSettings()
# The sandbox's seeded chart of accounts, terms and payment methods, plus a sub-account and inactive entries.
LISTS = Lists.from_qbo(
    [
        *(
            {"Id": i, "FullyQualifiedName": n, "AccountType": t, "AccountSubType": s, "Active": True}
            for i, n, t, s in seed.ACCOUNTS
        ),
        {"Id": "90", "FullyQualifiedName": "Sales:Parts", "AccountType": "Income", "AccountSubType": "x"},
        {"Id": "91", "FullyQualifiedName": "Old Sales", "AccountType": "Income", "Active": False},
    ],
    [
        {"Id": "1", "Name": "Due on receipt"},
        {"Id": "3", "Name": "Net 30"},
        {"Id": "9", "Name": "Net 90", "Active": False},
    ],
    [{"Id": "1", "Name": "Cash"}, {"Id": "2", "Name": "Check"}, {"Id": "3", "Name": "Visa"}],
)
IDS = {
    "customer/c-1": "58",
    "customer/parent": "57",
    "vendor/v-1": "70",
    "item/i-1": "5",
    "item/i-2": "6",
    "invoice/inv-1": "130",
    "credit_memo/cm-1": "131",
    "purchase_order/po-1": "140",
}


def write(
    record_type: str,
    data: dict[str, Any],
    *,
    quickbooks_id: str | None = None,
    quickbooks_version: str | None = None,
    operation: Operation = Operation.UPSERT,
    name: str | None = None,
    ids: dict[str, str] | None = None,
) -> Write:
    record = SyncRecord(
        "acme", record_type, "r-1", data, SyncState.SYNCING, NOW, operation=operation,
        quickbooks_id=quickbooks_id, quickbooks_version=quickbooks_version,
    )  # fmt: skip
    return Write(record, parse_record(record_type, data), IDS if ids is None else ids, name)


def mapped(w: Write, settings: SyncSettings = DEFAULTS, lists: Lists = LISTS) -> QboWrite:
    result = to_qbo(w, lists, settings)
    assert isinstance(result, QboWrite), result
    return result


def problem(w: Write, settings: SyncSettings = DEFAULTS) -> Failure:
    result = to_qbo(w, LISTS, settings)
    assert isinstance(result, Failure), result
    return result


def wire(body: dict[str, Any]) -> dict[str, Any]:
    """What QuickBooks reads: the encoded body parsed back with every fraction as Decimal."""
    return json.loads(encode_json(body), parse_float=Decimal)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------ names


def test_a_customer_with_addresses_and_contact_details() -> None:
    result = mapped(
        write(
            "customer",
            {
                "display_name": "Ada Plumbing", "given_name": "Ada", "family_name": "Lovelace",
                "company_name": "Ada Plumbing LLC", "email": "ada@example.com", "phone": "555-0100",
                "notes": "Prefers email", "shipping_address": {"line1": "2 Dock"},
                "billing_address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                    "postal_code": "62701", "country": "USA"},
            },
        )
    )  # fmt: skip
    assert (result.entity, result.operation, result.options) == ("Customer", "create", None)
    assert result.body == {
        "DisplayName": "Ada Plumbing",
        "GivenName": "Ada",
        "FamilyName": "Lovelace",
        "CompanyName": "Ada Plumbing LLC",
        "Notes": "Prefers email",
        "PrimaryEmailAddr": {"Address": "ada@example.com"},
        "PrimaryPhone": {"FreeFormNumber": "555-0100"},
        "Active": True,
        "BillAddr": {
            "Line1": "1 Main St", "City": "Springfield", "CountrySubDivisionCode": "IL",
            "PostalCode": "62701", "Country": "USA",
        },
        "ShipAddr": {"Line1": "2 Dock"},
    }  # fmt: skip
    assert result.batch_item("b0") == {"bId": "b0", "operation": "create", "Customer": result.body}


def test_a_sub_customer_is_a_job_billed_with_its_parent_and_a_renamed_customer_uses_the_new_name() -> None:
    result = mapped(write("customer", {"display_name": "Ada", "parent_id": "parent"}, name="Ada (2)"))
    assert result.body["DisplayName"] == "Ada (2)"
    assert (result.body["ParentRef"], result.body["Job"], result.body["BillWithParent"]) == (
        {"value": "57"},
        True,
        True,
    )


def test_vendors_and_employees() -> None:
    vendor = mapped(
        write(
            "vendor", {"display_name": "Norton Lumber", "account_number": "A-17", "address": {"city": "Reno"}}
        )
    )
    assert vendor.entity == "Vendor"
    assert (vendor.body["AcctNum"], vendor.body["BillAddr"]) == ("A-17", {"City": "Reno"})
    employee = mapped(
        write("employee", {"display_name": "Emily Platt", "given_name": "Emily", "address": {"line1": "x"}})
    )
    assert employee.entity == "Employee"
    assert employee.body == {
        "DisplayName": "Emily Platt",
        "GivenName": "Emily",
        "Active": True,
        "PrimaryAddr": {"Line1": "x"},
    }


# ------------------------------------------------------------------------------------------ items


def test_a_service_item_sells_into_the_first_income_account_by_id_unless_told_otherwise() -> None:
    data = {"kind": "service", "name": "Design", "sku": "D-1", "description": "Hourly", "sales_price": "75.5"}
    result = mapped(write("item", data))
    assert result.body == {
        "Name": "Design",
        "Type": "Service",
        "Sku": "D-1",
        "Description": "Hourly",
        "UnitPrice": Decimal("75.5"),
        "Taxable": False,
        "Active": True,
        "IncomeAccountRef": {"value": "79"},  # Id 79 before 1001: numeric order, not text order
    }
    by_setting_settings = SyncSettings(default_income_account="services")
    by_setting = mapped(write("item", data), by_setting_settings)
    assert by_setting.body["IncomeAccountRef"] == {"value": "1001"}
    named = mapped(write("item", {**data, "income_account": "sales : parts"}), by_setting_settings)
    assert named.body["IncomeAccountRef"] == {"value": "90"}  # the item's own account wins; levels stripped


def test_a_non_inventory_item_also_gets_a_cost_of_goods_sold_account_for_purchases() -> None:
    result = mapped(write("item", {"kind": "non_inventory", "name": "Nails", "purchase_cost": "0.05"}))
    assert (result.body["Type"], result.body["PurchaseCost"]) == ("NonInventory", Decimal("0.05"))
    assert (result.body["IncomeAccountRef"], result.body["ExpenseAccountRef"]) == (
        {"value": "79"},
        {"value": "80"},
    )
    assert "AssetAccountRef" not in result.body


def test_an_inventory_item_tracks_its_quantity_in_the_inventory_asset_account() -> None:
    data = {"kind": "inventory", "name": "Pump", "quantity_on_hand": "12.5", "quantity_as_of": "2024-01-31"}
    result = mapped(write("item", data))
    assert {k: result.body[k] for k in ("Type", "TrackQtyOnHand", "QtyOnHand", "InvStartDate")} == {
        "Type": "Inventory",
        "TrackQtyOnHand": True,
        "QtyOnHand": Decimal("12.5"),
        "InvStartDate": "2024-01-31",
    }
    # Account 4 (Undeposited Funds) is an Other Current Asset too, but not an inventory one.
    assert (result.body["ExpenseAccountRef"], result.body["AssetAccountRef"]) == (
        {"value": "80"},
        {"value": "81"},
    )
    started = mapped(write("item", {"kind": "inventory", "name": "Pump"}))
    assert (started.body["QtyOnHand"], started.body["InvStartDate"]) == (Decimal(0), "2024-03-01")
    updated = mapped(
        write("item", {"kind": "inventory", "name": "Pump"}, quickbooks_id="7", quickbooks_version="2")
    )
    assert "QtyOnHand" not in updated.body
    assert "InvStartDate" not in updated.body


def test_an_item_update_keeps_the_accounts_quickbooks_has_unless_some_are_named() -> None:
    unnamed = write("item", {"kind": "inventory", "name": "Pump"}, quickbooks_id="7", quickbooks_version="2")
    assert not needs_lists(unnamed, DEFAULTS)
    assert not {"IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"} & set(mapped(unnamed).body)
    settings = SyncSettings(default_income_account="Sales of Product Income")
    assert needs_lists(unnamed, settings)
    assert mapped(unnamed, settings).body["IncomeAccountRef"] == {"value": "79"}
    assert "AssetAccountRef" not in mapped(unnamed, settings).body


def test_an_inventory_item_needs_accounts_of_the_types_quickbooks_requires() -> None:
    failure = problem(write("item", {"kind": "inventory", "name": "Pump", "income_account": "Checking"}))
    assert (failure.code, failure.field, failure.actions) == (
        "wrong_account_type",
        "income_account",
        ("edit",),
    )
    assert "Checking" in failure.message
    assert "Income or Other Income" in failure.message


def test_no_income_account_at_all_is_a_failure_naming_the_setting() -> None:
    no_income = Lists(accounts={k: v for k, v in LISTS.accounts.items() if v.account_type != "Income"})
    result = to_qbo(write("item", {"kind": "service", "name": "x"}), no_income, DEFAULTS)
    assert isinstance(result, Failure)
    assert (result.code, result.field) == ("unknown_account", "income_account")
    assert "default_income_account" in result.message


# ------------------------------------------------------------------------------------------ sales


INVOICE = {
    "customer_id": "c-1",
    "doc_number": "INV-1",
    "txn_date": "2024-02-01",
    "due_date": "2024-03-02",
    "memo": "Thanks",
    "lines": [
        {"item_id": "i-1", "description": "Design", "quantity": "4.5", "rate": "75", "tax_code": "TAX"},
        {"item_id": "i-2", "amount": "10.10"},
        {"description": "Delivered Tuesday"},
    ],
}


def test_an_invoice_with_item_and_description_lines() -> None:
    result = mapped(write("invoice", {**INVOICE, "terms": "net 30"}))
    assert (result.entity, result.operation) == ("Invoice", "create")
    assert result.body == {
        "CustomerRef": {"value": "58"},
        "DocNumber": "INV-1",
        "TxnDate": "2024-02-01",
        "PrivateNote": "Thanks",
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": Decimal("337.50"),
                "Description": "Design",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "5"},
                    "Qty": Decimal("4.5"),
                    "UnitPrice": Decimal("75"),
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": Decimal("10.10"),
                "SalesItemLineDetail": {"ItemRef": {"value": "6"}},
            },
            {
                "DetailType": "DescriptionOnly",
                "Description": "Delivered Tuesday",
                "DescriptionLineDetail": {},
            },
        ],
        "DueDate": "2024-03-02",
        "SalesTermRef": {"value": "3"},
    }


def test_invoice_terms_come_from_the_settings_when_the_invoice_names_none() -> None:
    result = mapped(write("invoice", INVOICE), SyncSettings(default_payment_terms="Due on receipt"))
    assert result.body["SalesTermRef"] == {"value": "1"}
    assert "SalesTermRef" not in mapped(write("invoice", INVOICE)).body


def test_a_credit_memo_has_an_invoices_lines_but_no_terms() -> None:
    data = {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "25"}]}
    result = mapped(write("credit_memo", data), SyncSettings(default_payment_terms="Net 30"))
    assert result.entity == "CreditMemo"
    assert result.body == {
        "CustomerRef": {"value": "58"},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": Decimal("25.00"),
                "SalesItemLineDetail": {"ItemRef": {"value": "5"}},
            }
        ],
    }


def test_a_payment_applied_to_an_invoice_and_a_credit_memo() -> None:
    data = {
        "customer_id": "c-1", "txn_date": "2024-02-05", "total_amount": "300", "method": "CHECK",
        "reference_number": "1042", "memo": "Thanks", "applications": [
            {"invoice_id": "inv-1", "amount": "337.50"}, {"credit_memo_id": "cm-1", "amount": "37.50"},
        ],
    }  # fmt: skip
    result = mapped(write("payment", data))
    assert result.body == {
        "CustomerRef": {"value": "58"},
        "TotalAmt": Decimal("300.00"),
        "TxnDate": "2024-02-05",
        "PaymentMethodRef": {"value": "2"},
        "PaymentRefNum": "1042",
        "PrivateNote": "Thanks",
        "Line": [
            {"Amount": Decimal("337.50"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
            {"Amount": Decimal("37.50"), "LinkedTxn": [{"TxnId": "131", "TxnType": "CreditMemo"}]},
        ],
    }  # no DepositToAccountRef: QuickBooks puts it in Undeposited Funds


def test_a_payment_is_deposited_where_the_payment_or_the_settings_say() -> None:
    data = {"customer_id": "c-1", "total_amount": "10"}
    checking = SyncSettings(payment_deposit_account="Checking")
    assert mapped(write("payment", data), checking).body["DepositToAccountRef"] == {"value": "1"}
    own = mapped(write("payment", {**data, "deposit_account": "Undeposited Funds"}), checking)
    assert own.body["DepositToAccountRef"] == {"value": "4"}
    wrong = problem(write("payment", data), SyncSettings(payment_deposit_account="Services"))
    assert (wrong.code, wrong.field, wrong.actions) == (
        "wrong_account_type",
        "settings.payment_deposit_account",
        ("edit_settings",),
    )
    assert "Bank or Other Current Asset" in wrong.message


# ------------------------------------------------------------------------------------------ purchases


PURCHASE_LINES = [
    {"item_id": "i-1", "quantity": "2", "rate": "75", "description": "Pumps"},
    {"account": "Cost of Goods Sold", "amount": "12.34"},
]


def test_a_purchase_order_with_item_and_account_lines() -> None:
    data = {"vendor_id": "v-1", "doc_number": "PO-1", "status": "closed", "lines": PURCHASE_LINES}
    result = mapped(write("purchase_order", data))
    assert (result.entity, result.operation) == ("PurchaseOrder", "create")
    assert result.body == {
        "VendorRef": {"value": "70"},
        "DocNumber": "PO-1",
        "Line": [
            {
                "DetailType": "ItemBasedExpenseLineDetail",
                "Amount": Decimal("150.00"),
                "Description": "Pumps",
                "ItemBasedExpenseLineDetail": {
                    "ItemRef": {"value": "5"},
                    "Qty": Decimal("2"),
                    "UnitPrice": Decimal("75"),
                },
            },
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": Decimal("12.34"),
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "80"}},
            },
        ],
        "POStatus": "Closed",
    }


def test_a_bill_links_its_purchase_order_and_has_terms_and_a_due_date() -> None:
    data = {
        "vendor_id": "v-1", "purchase_order_id": "po-1", "txn_date": "2024-02-01", "due_date": "2024-03-01",
        "terms": "Net 30", "memo": "Partial", "lines": PURCHASE_LINES,
    }  # fmt: skip
    result = mapped(write("bill", data), SyncSettings(default_payment_terms="Due on receipt"))
    assert result.entity == "Bill"
    assert {k: v for k, v in result.body.items() if k != "Line"} == {
        "VendorRef": {"value": "70"},
        "TxnDate": "2024-02-01",
        "PrivateNote": "Partial",
        "DueDate": "2024-03-01",
        "SalesTermRef": {"value": "3"},
        "LinkedTxn": [{"TxnId": "140", "TxnType": "PurchaseOrder"}],
    }
    no_terms = mapped(write("bill", {**data, "terms": None}), SyncSettings(default_payment_terms="Net 30"))
    assert "SalesTermRef" not in no_terms.body  # the default terms are the invoices'


def test_an_unknown_expense_account_names_the_line() -> None:
    lines = [PURCHASE_LINES[0], {"account": "Travel", "amount": "5"}]
    failure = problem(write("bill", {"vendor_id": "v-1", "lines": lines}))
    assert (failure.code, failure.field) == ("unknown_account", "lines.1.account")
    assert "'Travel'" in failure.message
    assert failure.actions == ("edit", "create_in_quickbooks")


# ------------------------------------------------------------------------------------------ unknown names


@pytest.mark.parametrize(
    ("record_type", "data", "settings", "expected"),
    [
        ("item", {"kind": "service", "name": "x", "income_account": "Sales:Labor"}, DEFAULTS,
         ("unknown_account", "income_account", ("edit", "create_in_quickbooks"))),
        ("item", {"kind": "service", "name": "x"}, SyncSettings(default_income_account="Fees"),
         ("unknown_account", "settings.default_income_account", ("edit_settings", "create_in_quickbooks"))),
        ("item", {"kind": "service", "name": "x", "income_account": "old sales"}, DEFAULTS,
         ("inactive_account", "income_account", ("edit", "make_active_in_quickbooks"))),
        ("invoice", {**INVOICE, "terms": "Net 45"}, DEFAULTS,
         ("unknown_term", "terms", ("edit", "create_in_quickbooks"))),
        ("invoice", INVOICE, SyncSettings(default_payment_terms="Net 90"),
         ("inactive_term", "settings.default_payment_terms", ("edit_settings", "make_active_in_quickbooks"))),
        ("payment", {"customer_id": "c-1", "total_amount": "1", "method": "Bitcoin"}, DEFAULTS,
         ("unknown_payment_method", "method", ("edit", "create_in_quickbooks"))),
        ("payment", {"customer_id": "c-1", "total_amount": "1", "deposit_account": "Vault"}, DEFAULTS,
         ("unknown_account", "deposit_account", ("edit", "create_in_quickbooks"))),
    ],
)  # fmt: skip
def test_a_name_quickbooks_lacks_is_a_failure_with_its_field_and_what_to_do(
    record_type: str, data: dict[str, Any], settings: SyncSettings, expected: tuple[str, str, tuple[str, ...]]
) -> None:
    failure = problem(write(record_type, data), settings)
    assert (failure.code, failure.field, failure.actions) == expected
    assert "QuickBooks" in failure.message


def test_a_missing_reference_is_an_error_of_the_caller() -> None:
    with pytest.raises(MissingReferenceError, match="customer/c-1"):
        to_qbo(write("invoice", INVOICE, ids={}), LISTS, DEFAULTS)


def test_only_writes_that_name_something_or_need_a_default_read_the_lists() -> None:
    assert not needs_lists(write("customer", {"display_name": "A"}), DEFAULTS)
    assert not needs_lists(write("invoice", INVOICE), DEFAULTS)
    assert needs_lists(write("invoice", INVOICE), SyncSettings(default_payment_terms="Net 30"))
    assert needs_lists(write("item", {"kind": "service", "name": "x"}), DEFAULTS)
    assert not needs_lists(write("payment", {"customer_id": "c-1", "total_amount": "1"}), DEFAULTS)
    assert needs_lists(
        write("payment", {"customer_id": "c-1", "total_amount": "1", "method": "Cash"}), DEFAULTS
    )
    assert needs_lists(write("bill", {"vendor_id": "v-1", "lines": PURCHASE_LINES}), DEFAULTS)
    deleting = write(
        "item",
        {"kind": "service", "name": "x"},
        quickbooks_id="5",
        quickbooks_version="1",
        operation=Operation.DELETE,
    )
    assert not needs_lists(deleting, DEFAULTS)


# ------------------------------------------------------------------------------------------ updates, deletes


def test_an_update_is_sparse_with_the_stored_id_and_sync_token() -> None:
    result = mapped(write("invoice", INVOICE, quickbooks_id="130", quickbooks_version="3"))
    assert result.operation == "update"
    assert list(result.body)[:3] == ["Id", "SyncToken", "sparse"]
    assert (result.body["Id"], result.body["SyncToken"], result.body["sparse"]) == ("130", "3", True)
    with pytest.raises(ValueError, match="no SyncToken"):
        to_qbo(write("invoice", INVOICE, quickbooks_id="130"), LISTS, DEFAULTS)


@pytest.mark.parametrize(
    ("record_type", "data", "expected"),
    [
        ("invoice", INVOICE, ("Invoice", "update", "void", {"Id": "9", "SyncToken": "2"})),
        ("payment", {"customer_id": "c-1", "total_amount": "5"},
         ("Payment", "update", "void", {"Id": "9", "SyncToken": "2", "sparse": True})),
        ("credit_memo", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "1"}]},
         ("CreditMemo", "delete", None, {"Id": "9", "SyncToken": "2"})),
        ("purchase_order", {"vendor_id": "v-1", "lines": PURCHASE_LINES},
         ("PurchaseOrder", "delete", None, {"Id": "9", "SyncToken": "2"})),
        ("bill", {"vendor_id": "v-1", "lines": PURCHASE_LINES},
         ("Bill", "delete", None, {"Id": "9", "SyncToken": "2"})),
        ("customer", {"display_name": "A"},
         ("Customer", "update", None, {"Id": "9", "SyncToken": "2", "sparse": True, "Active": False})),
        ("vendor", {"display_name": "A"},
         ("Vendor", "update", None, {"Id": "9", "SyncToken": "2", "sparse": True, "Active": False})),
        ("employee", {"display_name": "A"},
         ("Employee", "update", None, {"Id": "9", "SyncToken": "2", "sparse": True, "Active": False})),
        ("item", {"kind": "service", "name": "A"},
         ("Item", "update", None, {"Id": "9", "SyncToken": "2", "sparse": True, "Active": False})),
    ],
)  # fmt: skip
def test_deleting_voids_deletes_or_deactivates(
    record_type: str, data: dict[str, Any], expected: tuple[str, str, str | None, dict[str, Any]]
) -> None:
    result = mapped(
        write(record_type, data, quickbooks_id="9", quickbooks_version="2", operation=Operation.DELETE),
        lists=Lists(),
    )
    assert (result.entity, result.operation, result.options, result.body) == expected
    if result.options:
        assert result.batch_item("b3")["optionsData"] == "void"


def test_a_record_quickbooks_does_not_have_cannot_be_deleted_there() -> None:
    with pytest.raises(ValueError, match="cannot be voided or deleted"):
        to_qbo(write("invoice", INVOICE, operation=Operation.DELETE), LISTS, DEFAULTS)


# ------------------------------------------------------------------------------------------ exact money


def test_money_and_quantities_reach_quickbooks_as_the_exact_decimal_literals() -> None:
    data = {
        "customer_id": "c-1",
        "lines": [
            {"item_id": "i-1", "quantity": "3", "rate": "0.10"},  # 0.1 * 3 is 0.30000000000000004 in floats
            {"item_id": "i-2", "amount": "9999999999.99"},  # 12 digits: the largest amount a record may hold
            {"item_id": "i-1", "quantity": "1.23456", "rate": "-99999.99999", "amount": "-123456.00"},
        ],
    }  # a discount line keeps the total within the largest amount too
    result = mapped(write("invoice", data))
    text = encode_json(result.body).decode()
    assert '"Amount":0.30' in text
    assert '"UnitPrice":0.10' in text
    assert '"Amount":9999999999.99' in text
    assert '"Qty":1.23456,"UnitPrice":-99999.99999' in text
    back = wire(result.body)["Line"]
    assert [line["Amount"] for line in back] == [
        Decimal("0.30"),
        Decimal("9999999999.99"),
        Decimal("-123456.00"),
    ]
    assert sum(line["Amount"] for line in back) == Decimal("9999876544.29")


def test_the_encoder_refuses_floats_and_non_finite_numbers() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        encode_json({"Amount": 0.1})
    with pytest.raises(ValueError, match="cannot be sent"):
        encode_json({"Amount": Decimal("NaN")})
    assert encode_json({"a": [Decimal("1E+2"), Decimal("-0.00"), True, None, 'é"']}) == (
        '{"a":[100,-0.00,true,null,"é\\""]}'.encode()
    )


# ------------------------------------------------------------------------------------------ payments back


def _nango(name: str) -> dict[str, Any]:
    recording = json.loads((NANGO / name).read_text(encoding="utf-8"), parse_float=Decimal)
    [calls] = recording["api"].values()
    [call] = calls.values()
    return call["response"]["Payment"]  # type: ignore[no-any-return]


@needs_reference
def test_a_recorded_payment_reads_as_a_received_payment() -> None:
    payment = payment_from_qbo(_nango("update-payment.test.json"))
    assert payment.quickbooks_id == "128"
    assert payment.quickbooks_version == "3"
    assert payment.customer_quickbooks_id == "8"
    assert (payment.total_amount, payment.unapplied_amount) == (Decimal("387.00"), Decimal("0.00"))
    assert str(payment.total_amount) == "387.00"
    assert payment.txn_date == date(2026, 4, 8)
    assert payment.deposit_account_quickbooks_id == "4"
    assert (payment.method_quickbooks_id, payment.reference_number) == (None, None)
    assert [(line.txn_type, line.txn_id, line.amount) for line in payment.lines] == [
        ("Invoice", "96", Decimal("387.00"))
    ]
    assert payment.voided is False
    assert payment.last_updated == datetime(2026, 5, 5, 9, 12, 8, tzinfo=UTC)
    assert payment.last_updated.utcoffset() == timedelta(hours=-7)


def test_a_payment_read_with_floats_keeps_exact_cents_and_a_voided_one_is_voided() -> None:
    entity = {
        "Id": "170", "SyncToken": "1", "CustomerRef": {"value": "2", "name": "Bill's"}, "TotalAmt": 337.5,
        "UnappliedAmt": 0.1, "TxnDate": "2026-05-05", "PaymentMethodRef": {"value": "3"},
        "PaymentRefNum": "77",
        "Line": [
            {"Amount": 300.2, "LinkedTxn": [{"TxnId": "96", "TxnType": "Invoice"}]},
            {"Amount": 37.2, "LinkedTxn": [{"TxnId": "97", "TxnType": "CreditMemo"}]},
        ],
        "MetaData": {"LastUpdatedTime": "2026-05-05T03:08:49-07:00"},
    }  # fmt: skip
    payment = payment_from_qbo(entity)
    assert (payment.total_amount, payment.unapplied_amount) == (Decimal("337.50"), Decimal("0.10"))
    assert [line.amount for line in payment.lines] == [Decimal("300.20"), Decimal("37.20")]
    assert (payment.method_quickbooks_id, payment.reference_number) == ("3", "77")
    voided = payment_from_qbo(
        {**entity, "TotalAmt": 0, "UnappliedAmt": 0, "Line": [], "PrivateNote": "Voided"}
    )
    assert voided.voided
    assert (voided.total_amount, voided.lines) == (Decimal("0.00"), ())
    assert not payment_from_qbo({**entity, "TotalAmt": 0, "UnappliedAmt": 0, "Line": []}).voided
