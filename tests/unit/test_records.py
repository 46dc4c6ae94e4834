"""Canonical records: parsing what the host app pushes, the rules every edition shares, and dependencies."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from qbsync.domain.json_input import load_json
from qbsync.domain.records import (
    MONEY_MAX,
    RECORD_TYPES,
    Bill,
    CreditMemo,
    Customer,
    Invoice,
    Item,
    ItemKind,
    Payment,
    PurchaseOrder,
    PurchaseOrderStatus,
    Vendor,
    line_amount,
    parse_record,
    record_type_of,
    references,
)

GOOD: dict[str, dict[str, Any]] = {
    "customer": {
        "display_name": "Acme Corp",
        "company_name": "Acme Corporation",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@acme.example",
        "phone": "+1 555 0100",
        "billing_address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
        "shipping_address": {"line1": "2 Dock Rd", "country": "US"},
        "active": True,
        "notes": "Prefers email",
    },
    "vendor": {"display_name": "Paper Supply", "account_number": "A-77", "address": {"city": "Scranton"}},
    "employee": {"display_name": "Grace Hopper", "given_name": "Grace", "family_name": "Hopper"},
    "item": {
        "kind": "inventory",
        "name": "Widget",
        "sku": "W-1",
        "description": "A widget",
        "sales_price": "12.50",
        "purchase_cost": "7.125",
        "income_account": "Sales",
        "expense_account": "Cost of Goods Sold",
        "asset_account": "Inventory Asset",
        "quantity_on_hand": "40",
        "quantity_as_of": "2024-01-01",
        "taxable": True,
    },
    "invoice": {
        "customer_id": "cust-1",
        "doc_number": "INV-1001",
        "txn_date": "2024-03-01",
        "due_date": "2024-03-31",
        "terms": "Net 30",
        "memo": "March work",
        "lines": [
            {
                "item_id": "item-1",
                "description": "Consulting",
                "quantity": "2",
                "rate": "75.00",
                "tax_code": "NON",
            },
            {"item_id": "item-2", "amount": "10.00", "tax_code": "TAX"},
        ],
    },
    "payment": {
        "customer_id": "cust-1",
        "txn_date": "2024-03-15",
        "total_amount": "160.00",
        "method": "Check",
        "reference_number": "5521",
        "applications": [{"invoice_id": "inv-1", "amount": "160.00"}],
    },
    "credit_memo": {"customer_id": "cust-1", "lines": [{"item_id": "item-1", "amount": "25.00"}]},
    "purchase_order": {
        "vendor_id": "vend-1",
        "status": "open",
        "lines": [
            {"item_id": "item-1", "quantity": "10", "rate": "3.50"},
            {"account": "Freight", "amount": "12.00"},
        ],
    },
    "bill": {
        "vendor_id": "vend-1",
        "purchase_order_id": "po-1",
        "txn_date": "2024-04-01",
        "due_date": "2024-05-01",
        "lines": [{"item_id": "item-1", "quantity": "10", "rate": "3.50"}],
    },
}


def invoice(*lines: dict[str, Any], **fields: Any) -> Invoice:
    return Invoice.model_validate({"customer_id": "cust-1", "lines": list(lines), **fields})


def payment(total: str, *applications: dict[str, Any]) -> Payment:
    return Payment.model_validate(
        {"customer_id": "cust-1", "total_amount": total, "applications": list(applications)}
    )


# --- parsing ----------------------------------------------------------------------------------------------


def test_the_registry_names_every_record_type_by_its_url_name() -> None:
    assert set(RECORD_TYPES) == {
        "customer",
        "vendor",
        "employee",
        "item",
        "invoice",
        "payment",
        "credit_memo",
        "purchase_order",
        "bill",
    }
    assert set(GOOD) == set(RECORD_TYPES)


@pytest.mark.parametrize("record_type", sorted(GOOD))
def test_a_good_record_parses_from_json_and_round_trips(record_type: str) -> None:
    model = RECORD_TYPES[record_type].model
    record = model.model_validate_json(json.dumps(GOOD[record_type]))
    assert record_type_of(record) == record_type
    again = model.model_validate_json(record.model_dump_json())
    assert again == record


def test_money_keeps_its_decimal_digits_exactly() -> None:
    record = invoice({"item_id": "a", "amount": "0.10"}, {"item_id": "b", "amount": "0.20"})
    assert record.lines[0].amount == Decimal("0.10")
    assert str(record.total) == "0.30"
    assert record.total == Decimal("0.30")
    assert isinstance(record.total, Decimal)


def test_json_numbers_become_exact_decimals_at_cents() -> None:
    record = Invoice.model_validate_json(
        '{"customer_id": "c", "lines": [{"item_id": "a", "amount": 0.10}, {"item_id": "b", "amount": 0.2},'
        ' {"item_id": "c", "amount": 1e2}]}'
    )
    assert [str(line.amount) for line in record.lines] == ["0.10", "0.20", "100.00"]
    assert record.total == Decimal("100.30")


def test_no_model_field_is_a_float() -> None:
    def annotations(model: Any) -> list[str]:
        return [str(info.annotation) for info in model.model_fields.values()]

    for model in (spec.model for spec in RECORD_TYPES.values()):
        assert not [a for a in annotations(model) if "float" in a], model


@pytest.mark.parametrize(
    "amount",
    [0.1 + 0.2, "0.30000000000000004", "1.005", "NaN", "Infinity", True, "12345678901.00"],
    ids=["float-sum", "many-decimals", "three-decimals", "nan", "infinity", "bool", "too-many-digits"],
)
def test_money_with_more_than_cents_or_not_a_finite_number_is_refused(amount: object) -> None:
    with pytest.raises(ValidationError):
        invoice({"item_id": "a", "amount": amount})


def test_a_binary_float_with_many_decimals_is_refused_from_json() -> None:
    with pytest.raises(ValidationError, match="digits"):
        Invoice.model_validate_json(
            '{"customer_id": "c", "lines": [{"item_id": "a", "amount": 0.30000000000000004}]}'
        )


@pytest.mark.parametrize("zero", ["-0", "-0.00", Decimal("-0"), Decimal("-0.000"), -0.0])
def test_a_negative_zero_is_stored_as_zero(zero: object) -> None:
    record = invoice({"item_id": "a", "amount": zero}, {"item_id": "b", "quantity": zero, "rate": zero})
    stored = record.model_dump(mode="json")
    assert [line["amount"] for line in stored["lines"]] == ["0.00", "0.00"]
    assert stored["lines"][1]["quantity"] in {"0", "0.00", "0.000", "0.0"}
    assert stored["lines"][1]["rate"] == stored["lines"][1]["quantity"]
    assert str(invoice({"item_id": "a", "quantity": "0", "rate": "-5"}).lines[0].amount) == "0.00"


def test_an_amount_too_small_for_a_cent_is_refused_however_it_is_written() -> None:
    for written in ("1E-400", "0.001", "1e-3"):
        data = load_json('{"customer_id": "c", "lines": [{"item_id": "a", "amount": ' + written + "}]}")
        with pytest.raises(ValidationError) as caught:
            parse_record("invoice", data)
        assert [e["loc"] for e in caught.value.errors()] == [("lines", 0, "amount")], written


def test_quantities_and_rates_keep_up_to_five_decimals() -> None:
    record = invoice({"item_id": "a", "quantity": "1.5", "rate": "0.33333"})
    assert record.lines[0].rate == Decimal("0.33333")
    assert record.lines[0].amount == Decimal("0.50")
    with pytest.raises(ValidationError):
        invoice({"item_id": "a", "quantity": "1", "rate": "0.333333"})


@pytest.mark.parametrize(
    ("record_type", "patch"),
    [
        ("invoice", {"lines": [{"item_id": "a", "quantity": "-1", "rate": "5"}]}),
        ("purchase_order", {"lines": [{"item_id": "a", "quantity": "-2", "rate": "5"}]}),
        ("item", {"quantity_on_hand": "-1"}),
        ("item", {"sales_price": "-1"}),
        ("payment", {"total_amount": "-5.00", "applications": []}),
        ("payment", {"applications": [{"invoice_id": "inv-1", "amount": "0.00"}]}),
    ],
    ids=["invoice-qty", "po-qty", "on-hand", "price", "payment-total", "zero-application"],
)
def test_negative_numbers_are_refused_where_they_make_no_sense(
    record_type: str, patch: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        RECORD_TYPES[record_type].model.model_validate({**GOOD[record_type], **patch})


def test_a_discount_line_may_be_negative_but_not_the_whole_invoice() -> None:
    record = invoice(
        {"item_id": "a", "quantity": "1", "rate": "100"},
        {"item_id": "discount", "quantity": "1", "rate": "-10"},
    )
    assert record.total == Decimal("90.00")
    with pytest.raises(ValidationError, match="cannot be negative"):
        invoice({"item_id": "discount", "amount": "-10.00"})


@pytest.mark.parametrize(
    ("record_type", "extra"),
    [
        ("customer", {"nickname": "Ace"}),
        ("invoice", {"lines": [{"item_id": "a", "amount": "1.00", "colour": "red"}]}),
        ("customer", {"billing_address": {"street": "Main"}}),
        ("payment", {"applications": [{"invoice_id": "i", "amount": "1.00", "note": "x"}]}),
    ],
    ids=["top-level", "line", "address", "application"],
)
def test_unknown_fields_are_refused(record_type: str, extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        RECORD_TYPES[record_type].model.model_validate({**GOOD[record_type], **extra})
    assert any(error["type"] == "extra_forbidden" for error in caught.value.errors())


@pytest.mark.parametrize(
    ("record_type", "missing"),
    [
        ("customer", "display_name"),
        ("item", "kind"),
        ("item", "name"),
        ("invoice", "customer_id"),
        ("invoice", "lines"),
        ("payment", "total_amount"),
        ("purchase_order", "vendor_id"),
        ("bill", "lines"),
    ],
)
def test_missing_required_fields_are_refused(record_type: str, missing: str) -> None:
    data = {k: v for k, v in GOOD[record_type].items() if k != missing}
    with pytest.raises(ValidationError) as caught:
        RECORD_TYPES[record_type].model.model_validate(data)
    assert any(error["loc"][:1] == (missing,) for error in caught.value.errors())


def test_an_invoice_needs_at_least_one_line_and_may_total_zero() -> None:
    with pytest.raises(ValidationError):
        invoice()
    free = invoice({"item_id": "a", "quantity": "1", "rate": "0"})
    assert free.total == Decimal("0.00")


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "x" * 65, " padded", "a b", "a#b", "a?b", "a/b", "a%20b", "café", "-a", ".", "..", "a\x00"],
)
def test_record_ids_are_one_to_64_letters_digits_dots_underscores_or_hyphens(bad: str) -> None:
    with pytest.raises(ValidationError):
        invoice({"item_id": "a", "amount": "1.00"}, customer_id=bad)
    for good in (
        "x" * 64,
        "cust-1001",
        "inv-7",
        "svc-1",
        "7",
        "A.b_c-D",
        "9f1c0e7a-2b3d-4c8e-9a61-0d2f3b4c5e6f",
    ):
        assert invoice({"item_id": "a", "amount": "1.00"}, customer_id=good).customer_id == good


def test_dates_are_iso_dates_not_numbers_or_times() -> None:
    assert invoice({"item_id": "a", "amount": "1"}, txn_date="2024-02-29").txn_date == date(2024, 2, 29)
    for bad in (1709164800, "2024-02-30", "29/02/2024"):
        with pytest.raises(ValidationError):
            invoice({"item_id": "a", "amount": "1"}, txn_date=bad)
    with pytest.raises(ValidationError, match="due_date is before txn_date"):
        invoice({"item_id": "a", "amount": "1"}, txn_date="2024-03-02", due_date="2024-03-01")


def test_blank_optional_text_means_not_given_and_text_is_stripped() -> None:
    record = Customer.model_validate({"display_name": "  Acme  ", "email": "  ", "notes": ""})
    assert record.display_name == "Acme"
    assert record.email is None
    assert record.notes is None
    with pytest.raises(ValidationError):
        Customer.model_validate({"display_name": "   "})


def test_a_customers_terms_are_a_list_name_of_at_most_31_characters_as_in_the_settings() -> None:
    assert Customer.model_validate({"display_name": "Acme", "terms": " Net 15 "}).terms == "Net 15"
    assert Customer.model_validate({"display_name": "Acme", "terms": " "}).terms is None
    assert Customer.model_validate({"display_name": "Acme", "terms": "x" * 31}).terms == "x" * 31
    for bad in ("x" * 32, "Net\t15", "Net\n15"):
        with pytest.raises(ValidationError):
            Customer.model_validate({"display_name": "Acme", "terms": bad})


# --- line amounts -----------------------------------------------------------------------------------------


def test_the_amount_is_computed_from_quantity_and_rate_rounded_half_up() -> None:
    assert line_amount(Decimal("1"), Decimal("0.125")) == Decimal("0.13")  # banker's rounding would give 0.12
    assert line_amount(Decimal("3"), Decimal("0.335")) == Decimal("1.01")
    record = invoice({"item_id": "a", "quantity": "1", "rate": "0.125"})
    assert record.lines[0].amount == Decimal("0.13")


def test_a_given_amount_must_equal_quantity_times_rate() -> None:
    assert invoice({"item_id": "a", "quantity": "3", "rate": "0.335", "amount": "1.01"}).total == Decimal(
        "1.01"
    )
    with pytest.raises(ValidationError, match="does not equal quantity x rate"):
        invoice({"item_id": "a", "quantity": "3", "rate": "0.335", "amount": "1.00"})


def test_an_item_line_needs_an_amount_or_quantity_and_rate() -> None:
    assert invoice({"item_id": "a", "amount": "5"}).total == Decimal("5.00")
    with pytest.raises(ValidationError, match="give the amount"):
        invoice({"item_id": "a", "quantity": "2"})


def test_a_line_without_an_item_is_description_only() -> None:
    record = invoice({"item_id": "a", "amount": "5"}, {"description": "Thanks for your business"})
    assert record.lines[1].amount is None
    assert record.total == Decimal("5.00")
    with pytest.raises(ValidationError, match="description-only"):
        invoice({"description": "x", "amount": "5"})
    with pytest.raises(ValidationError, match="item_id or a description"):
        invoice({"tax_code": "TAX"})


def test_a_line_whose_quantity_times_rate_exceeds_the_money_limit_is_refused_on_its_amount() -> None:
    for record_type, line in [
        ("invoice", {"item_id": "a", "quantity": "100000", "rate": "100000"}),
        ("credit_memo", {"item_id": "a", "quantity": "100000", "rate": "-100000"}),
        ("bill", {"item_id": "a", "quantity": "9999999999.99999", "rate": "9999999999.99999"}),
    ]:
        data = {**GOOD[record_type], "lines": [{"item_id": "b", "amount": "1.00"}, line]}
        with pytest.raises(ValidationError, match=r"at most 9999999999\.99") as caught:
            parse_record(record_type, data)
        assert [e["loc"] for e in caught.value.errors()] == [("lines", 1, "amount")], record_type


def test_a_document_whose_lines_add_up_beyond_the_money_limit_is_refused() -> None:
    for record_type in ("invoice", "credit_memo", "purchase_order", "bill"):
        lines = [{"item_id": "a", "amount": str(MONEY_MAX)}, {"item_id": "b", "amount": "0.01"}]
        with pytest.raises(ValidationError, match=r"total of the lines is 10000000000\.00") as caught:
            parse_record(record_type, {**GOOD[record_type], "lines": lines})
        assert [e["loc"] for e in caught.value.errors()] == [("lines",)], record_type


def test_payment_sums_beyond_the_money_limit_are_refused() -> None:
    big = str(MONEY_MAX)
    with pytest.raises(ValidationError, match=r"applied to invoices is 19999999999\.98"):
        payment(
            "0.00",
            {"invoice_id": "inv-1", "amount": big},
            {"invoice_id": "inv-2", "amount": big},
            {"credit_memo_id": "cm-1", "amount": big},
            {"credit_memo_id": "cm-2", "amount": big},
        )


EXTREMES: list[tuple[str, dict[str, Any]]] = [
    # quantity x rate landing exactly on the limit, and the largest quantity and rate with a small partner
    ("invoice", {"lines": [{"item_id": "a", "quantity": "99999.99999", "rate": "99999.99999"}]}),
    ("invoice", {"lines": [{"item_id": "a", "quantity": "999999999.999", "rate": "10"}]}),
    ("invoice", {"lines": [{"item_id": "a", "quantity": "9999999999.99999", "rate": "0.00001"}]}),
    ("invoice", {"lines": [{"item_id": "a", "quantity": "0.00001", "rate": "9999999999.99999"}]}),
    ("bill", {"lines": [{"item_id": "a", "quantity": "9999999999.99", "rate": "1"}]}),
    # a total exactly at the limit, reached through a discount line at minus the limit
    (
        "credit_memo",
        {
            "lines": [
                {"item_id": "a", "amount": str(MONEY_MAX)},
                {"item_id": "b", "amount": str(MONEY_MAX)},
                {"item_id": "discount", "quantity": "1", "rate": str(-MONEY_MAX)},
            ]
        },
    ),
    ("purchase_order", {"lines": [{"account": "Freight", "amount": str(MONEY_MAX)}]}),
    (
        "payment",
        {
            "total_amount": str(MONEY_MAX),
            "applications": [
                {"invoice_id": "inv-1", "amount": str(MONEY_MAX)},
                {"credit_memo_id": "cm-1", "amount": str(MONEY_MAX)},
            ],
        },
    ),
    ("item", {"sales_price": "9999999999.99999", "quantity_on_hand": "9999999999.99999"}),
]


@pytest.mark.parametrize(("record_type", "patch"), EXTREMES, ids=[t for t, _ in EXTREMES])
def test_a_record_at_the_money_limits_parses_again_from_what_is_stored(
    record_type: str, patch: dict[str, Any]
) -> None:
    record = parse_record(record_type, {**GOOD[record_type], **patch})
    stored = json.loads(json.dumps(record.model_dump(mode="json")))  # what the store keeps, as it reads it
    assert parse_record(record_type, stored) == record


def test_every_line_that_parses_also_parses_again_from_what_is_stored() -> None:
    edges = ["0.00001", "0.005", "1", "99999.99999", "100000", "999999999.999", "9999999999.99999"]
    for quantity in edges:
        for rate in [*edges, *(f"-{e}" for e in edges)]:
            for record_type in ("invoice", "bill"):
                line = {"item_id": "a", "quantity": quantity, "rate": rate}
                data = {**GOOD[record_type], "lines": [line, {"item_id": "b", "amount": str(MONEY_MAX)}]}
                try:
                    record = parse_record(record_type, data)
                except ValidationError:
                    continue  # refused at push: never stored
                stored = json.loads(json.dumps(record.model_dump(mode="json")))
                assert parse_record(record_type, stored) == record, (record_type, quantity, rate)


def test_purchase_lines_are_items_or_accounts() -> None:
    po = PurchaseOrder.model_validate(GOOD["purchase_order"])
    assert po.total == Decimal("47.00")
    assert po.status is PurchaseOrderStatus.OPEN
    with pytest.raises(ValidationError, match="exactly one of item_id and account"):
        PurchaseOrder.model_validate(
            {"vendor_id": "v", "lines": [{"item_id": "a", "account": "x", "amount": 1}]}
        )
    with pytest.raises(ValidationError, match="amount only"):
        Bill.model_validate({"vendor_id": "v", "lines": [{"account": "x", "quantity": 1, "rate": 1}]})


def test_stock_is_tracked_by_inventory_items_only() -> None:
    item = Item.model_validate(GOOD["item"])
    assert item.kind is ItemKind.INVENTORY
    assert item.quantity_on_hand == Decimal("40")
    service = {"kind": "service", "name": "Consulting"}
    assert Item.model_validate(service).quantity_on_hand is None
    with pytest.raises(ValidationError, match="only inventory items"):
        Item.model_validate({**service, "quantity_on_hand": "1", "quantity_as_of": "2024-01-01"})
    with pytest.raises(ValidationError, match="together"):
        Item.model_validate({"kind": "inventory", "name": "Widget", "quantity_on_hand": "1"})


# --- payments ---------------------------------------------------------------------------------------------


def test_unapplied_is_total_minus_applied() -> None:
    record = payment(
        "100.00", {"invoice_id": "inv-1", "amount": "60.00"}, {"invoice_id": "inv-2", "amount": "0.10"}
    )
    assert record.applied == Decimal("60.10")
    assert record.unapplied == Decimal("39.90")
    assert payment("25").unapplied == Decimal("25.00")


def test_a_payment_cannot_apply_more_than_its_total() -> None:
    assert (
        payment(
            "0.30", {"invoice_id": "a", "amount": "0.10"}, {"invoice_id": "b", "amount": "0.20"}
        ).unapplied
        == 0
    )
    with pytest.raises(ValidationError, match="more than the payment"):
        payment("0.30", {"invoice_id": "a", "amount": "0.10"}, {"invoice_id": "b", "amount": "0.21"})


def test_credit_memos_used_in_a_payment_add_to_what_it_can_pay() -> None:
    record = payment(
        "70.00", {"invoice_id": "inv-1", "amount": "100.00"}, {"credit_memo_id": "cm-1", "amount": "30"}
    )
    assert record.applied == Decimal("70.00")
    assert record.unapplied == Decimal("0.00")
    with pytest.raises(ValidationError, match="credit memo can only pay invoices"):
        payment("0", {"credit_memo_id": "cm-1", "amount": "30"})


def test_an_application_names_exactly_one_invoice_or_credit_memo() -> None:
    for bad in ({"amount": "1"}, {"invoice_id": "i", "credit_memo_id": "c", "amount": "1"}):
        with pytest.raises(ValidationError, match="exactly one"):
            payment("10", bad)


def test_a_blank_deposit_account_means_undeposited_funds() -> None:
    assert Payment.model_validate({**GOOD["payment"], "deposit_account": ""}).deposit_account is None
    assert (
        Payment.model_validate({**GOOD["payment"], "deposit_account": "Checking"}).deposit_account
        == "Checking"
    )


# --- references -------------------------------------------------------------------------------------------


def test_a_sub_customer_depends_on_its_parent() -> None:
    assert references(Customer.model_validate({"display_name": "Job 1", "parent_id": "cust-1"})) == [
        ("customer", "cust-1")
    ]
    assert references(Customer.model_validate(GOOD["customer"])) == []


def test_an_invoice_depends_on_its_customer_then_its_items_once_each() -> None:
    record = invoice(
        {"item_id": "item-2", "amount": "1"},
        {"description": "note"},
        {"item_id": "item-1", "amount": "1"},
        {"item_id": "item-2", "amount": "1"},
    )
    assert references(record) == [("customer", "cust-1"), ("item", "item-2"), ("item", "item-1")]
    memo = CreditMemo.model_validate(GOOD["credit_memo"])
    assert references(memo) == [("customer", "cust-1"), ("item", "item-1")]


def test_a_payment_depends_on_its_customer_and_what_it_applies_to() -> None:
    record = payment(
        "80", {"invoice_id": "inv-1", "amount": "100"}, {"credit_memo_id": "cm-1", "amount": "20"}
    )
    assert references(record) == [("customer", "cust-1"), ("invoice", "inv-1"), ("credit_memo", "cm-1")]


def test_a_bill_depends_on_its_vendor_purchase_order_and_items() -> None:
    assert references(Bill.model_validate(GOOD["bill"])) == [
        ("vendor", "vend-1"),
        ("purchase_order", "po-1"),
        ("item", "item-1"),
    ]
    assert references(PurchaseOrder.model_validate(GOOD["purchase_order"])) == [
        ("vendor", "vend-1"),
        ("item", "item-1"),
    ]


def test_list_records_without_parents_depend_on_nothing() -> None:
    for record_type in ("vendor", "employee", "item"):
        assert references(RECORD_TYPES[record_type].model.model_validate(GOOD[record_type])) == []


def test_parse_record_picks_the_model_by_url_name() -> None:
    assert isinstance(parse_record("vendor", GOOD["vendor"]), Vendor)
    with pytest.raises(ValueError, match="unknown record type"):
        parse_record("estimate", {})
