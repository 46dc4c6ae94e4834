"""The qbXML codec's requests, held to Intuit's qbXML 13.0 schema and OSR sample (../shared/reference).

Every message built here (and anywhere in the suite) is validated against the schema by the autouse fixture
in tests/conftest.py; the tests below also read the values back. The module's last tests check what all
the earlier ones built: no element the OSR marks "not in QBD", and every request kind built at least once
(pytest-xdist's --dist loadscope keeps a module on one worker, in file order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from lxml import etree
from pydantic import BaseModel

from qbsync.adapters.qbxml import envelope
from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.mapping import OrderLine, SalesTaxCodes, external_guid, order_lines, to_qbxml
from qbsync.adapters.qbxml.read import read_message
from qbsync.domain.desktop_text import desktop_text
from qbsync.domain.records import RECORD_TYPES, parse_record, references
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import Failure, MissingReferenceError, Operation, SyncRecord, SyncState, Write
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import LENGTH_LIMITS, validate
from tests.qbxml_reference import OSR, XSD, requires_schema, schema_errors

TENANT = "acme"
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
SETTINGS = SyncSettings(
    default_income_account="Sales",
    default_expense_account="Cost of Goods Sold",
    default_asset_account="Inventory Asset",
)
LIST_ID = "80000099-1700000000"
EDIT_SEQUENCE = "1700000001"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

# Every message this module builds, in order (the module's last tests look at all of them).
BUILT: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def _keep_messages() -> Iterator[None]:
    envelope.observers.append(BUILT.append)
    yield
    envelope.observers.remove(BUILT.append)


# ------------------------------------------------------------------------------------------ records


# XML's five, accents, typographic punctuation: curly quotes, an en dash, an ellipsis (three dots when sent)
SPECIAL = "Ö&<>\"'\u2019\u201c\u201d\u2013é\u2026"


def at_limit(limit: int) -> str:
    """Text QuickBooks Desktop stores in exactly `limit` characters, as full of trouble as fits."""
    text = ""
    for c in SPECIAL:
        if len(desktop_text(text + c)) > limit:
            break
        text += c
    text += "x" * (limit - len(desktop_text(text)))
    assert len(desktop_text(text)) == limit
    return text


def set_path(data: dict[str, Any], path: str, value: str) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        data[head] = value
    elif rest.startswith("*."):  # the lines that have the field (a bill's account lines have an account)
        for line in data[head]:
            if rest[2:].partition(".")[0] in line:
                set_path(line, rest[2:], value)
    else:
        set_path(data.setdefault(head, {}), rest, value)


ADDRESS = {
    "line1": "1 Main St",
    "line2": "Suite 2",
    "line3": "Floor 3",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "country": "US",
}
BIG_PRICE = "1234567890.12345"  # PRICETYPE / QUANTYPE: 10 digits and 5 decimals

MINIMAL: dict[str, tuple[str, dict[str, Any]]] = {
    "customer": ("customer", {"display_name": "Ann"}),
    "job": ("customer", {"display_name": "Kitchen", "parent_id": "c-parent"}),
    "vendor": ("vendor", {"display_name": "Vic"}),
    "employee": ("employee", {"display_name": "Eve", "given_name": "Eve"}),
    "item.service": ("item", {"kind": "service", "name": "Labor"}),
    "item.non_inventory": ("item", {"kind": "non_inventory", "name": "Nails"}),
    "item.inventory": ("item", {"kind": "inventory", "name": "Widget"}),
    "invoice": ("invoice", {"customer_id": "c-1", "lines": [{"description": "Thanks"}]}),
    "credit_memo": ("credit_memo", {"customer_id": "c-1", "lines": [{"item_id": "i-1", "amount": "5"}]}),
    "payment": ("payment", {"customer_id": "c-1", "total_amount": "0"}),
    "purchase_order": ("purchase_order", {"vendor_id": "v-1", "lines": [{"item_id": "i-1", "amount": "1"}]}),
    "bill": ("bill", {"vendor_id": "v-1", "lines": [{"account": "Rent", "amount": "1"}]}),
}

SALES_LINES = [
    {"item_id": "i-1", "description": "d", "quantity": "3", "rate": "33.33333", "tax_code": "TAX"},
    {"description": "d"},
    {"item_id": "i-2", "description": "d", "amount": "-10.50", "tax_code": "NON"},
]
PURCHASE_LINES = [
    {"item_id": "i-1", "description": "d", "quantity": BIG_PRICE[:9], "rate": "0.00001"},
    {"item_id": "i-2", "description": "d", "amount": "20"},
]
FULL: dict[str, tuple[str, dict[str, Any]]] = {
    "customer": (
        "customer",
        {
            "display_name": "n",
            "company_name": "n",
            "given_name": "n",
            "family_name": "n",
            "email": "n",
            "phone": "n",
            "notes": "n",
            "terms": "n",
            "billing_address": dict(ADDRESS),
            "shipping_address": dict(ADDRESS),
            "parent_id": "c-parent",
            "active": False,
        },
    ),
    "vendor": (
        "vendor",
        {
            "display_name": "n",
            "company_name": "n",
            "given_name": "n",
            "family_name": "n",
            "email": "n",
            "phone": "n",
            "account_number": "n",
            "notes": "n",
            "address": dict(ADDRESS),
        },
    ),
    "employee": (
        "employee",
        {
            "display_name": "Eve Example-Person",
            "given_name": "n",
            "family_name": "n",
            "email": "n",
            "phone": "n",
            "address": {k: v for k, v in ADDRESS.items() if k not in ("line3", "country")},
        },
    ),
    **{
        f"item.{kind}": (
            "item",
            {
                "kind": kind,
                "name": "n",
                "description": "n",
                "sales_price": BIG_PRICE,
                "purchase_cost": "0.00001",
                "income_account": "n",
                "expense_account": "n",
                "taxable": True,
            }
            | ({"sku": "n"} if kind != "service" else {})
            | (
                {"asset_account": "n", "quantity_on_hand": BIG_PRICE, "quantity_as_of": "2024-01-31"}
                if kind == "inventory"
                else {}
            ),
        )
        for kind in ("service", "non_inventory", "inventory")
    },
    "invoice": (
        "invoice",
        {
            "customer_id": "c-1",
            "doc_number": "n",
            "txn_date": "2024-02-01",
            "due_date": "2024-03-02",
            "terms": "n",
            "memo": "n",
            "lines": [dict(line) for line in SALES_LINES],
        },
    ),
    "credit_memo": (
        "credit_memo",
        {
            "customer_id": "c-1",
            "doc_number": "n",
            "txn_date": "2024-02-01",
            "memo": "n",
            "lines": [dict(line) for line in SALES_LINES],
        },
    ),
    "payment": (
        "payment",
        {
            "customer_id": "c-1",
            "txn_date": "2024-02-01",
            "total_amount": "9999999999.99",
            "method": "n",
            "reference_number": "n",
            "deposit_account": "n",
            "memo": "n",
            "applications": [
                {"invoice_id": "inv-1", "amount": "60"},
                {"invoice_id": "inv-2", "amount": "40"},
                {"credit_memo_id": "cm-1", "amount": "30"},
                {"credit_memo_id": "cm-2", "amount": "50"},
            ],
        },
    ),
    "purchase_order": (
        "purchase_order",
        {
            "vendor_id": "v-1",
            "doc_number": "n",
            "txn_date": "2024-02-01",
            "memo": "n",
            "lines": [dict(line) for line in PURCHASE_LINES],
        },
    ),
    "bill": (
        "bill",
        {
            "vendor_id": "v-1",
            "purchase_order_id": "po-1",
            "doc_number": "n",
            "txn_date": "2024-02-01",
            "due_date": "2024-03-02",
            "terms": "n",
            "memo": "n",
            "lines": [
                {"account": "n", "description": "d", "amount": "12.30"},
                *(dict(line) for line in PURCHASE_LINES),
            ],
        },
    ),
}
FULL["job"] = FULL["customer"]


def maximal(key: str) -> tuple[str, dict[str, Any]]:
    """The full record of `key`, every field at its QuickBooks Desktop limit (validation.LENGTH_LIMITS)."""
    record_type, template = FULL[key]
    data: dict[str, Any] = _copy(template)
    for rule in LENGTH_LIMITS[Edition.QBD][key if key != "job" else "customer"]:
        set_path(data, rule.field, "TAX" if rule.field.endswith("tax_code") else at_limit(rule.limit))
    return record_type, data


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def quickbooks_id(record_type: str, record_id: str) -> str:
    number = sorted(RECORD_TYPES).index(record_type) * 0x100 + sum(map(ord, record_id))
    return f"{number:X}-1700000000"


def write_of(
    record_type: str,
    data: dict[str, Any],
    *,
    existing: bool = False,
    operation: Operation = Operation.UPSERT,
    name: str | None = None,
    generation: int = 0,
) -> Write:
    model = parse_record(record_type, data)
    assert validate(record_type, model, Edition.QBD) == []
    record = SyncRecord(
        tenant_id=TENANT,
        record_type=record_type,
        record_id=f"{record_type}-7",
        data=data,
        state=SyncState.SYNCING,
        updated_at=NOW,
        operation=operation,
        quickbooks_id=LIST_ID if existing else None,
        quickbooks_version=EDIT_SEQUENCE if existing else None,
        generation=generation,
    )
    ids = {f"{kind}/{rid}": quickbooks_id(kind, rid) for kind, rid in references(model)}
    return Write(record=record, model=model, ids=ids, name=name)


# The lines of purchase order po-1 as QuickBooks has them (the engine reads them before a new bill is sent).
ORDER_LINES = (
    OrderLine("PL-1", quickbooks_id("item", "i-1"), Decimal(100)),
    OrderLine("PL-2", quickbooks_id("item", "i-2"), Decimal(1)),
)


def build(write: Write, **kwargs: Any) -> Any:
    kwargs.setdefault("purchase_order_lines", ORDER_LINES)
    request = to_qbxml(write, kwargs.pop("settings", SETTINGS), tenant_id=TENANT, request_id="w1", **kwargs)
    assert not isinstance(request, Failure), request
    return request


def sent(*requests: Any) -> Any:
    """The requests as QuickBooks receives them: in a message, parsed back; the QBXMLMsgsRq element."""
    text = envelope.message(requests)
    if XSD.is_file():
        assert schema_errors(text) == []
    return etree.fromstring(text.encode("utf-8"), PARSER)[0]


def texts(element: Any) -> list[str]:
    return [e.text for e in element.iter() if isinstance(e.tag, str) and e.text is not None]


def child(element: Any, path: str) -> str:
    found = element.find(path)
    assert found is not None, f"no {path} in {etree.tostring(element, encoding='unicode')}"
    return str(found.text)


def children(element: Any) -> list[str]:
    return [c.tag for c in element]


# Text the codec writes as it is; ids become ListID/TxnID references, and an employee's display name has no
# place in QuickBooks Desktop (EmployeeAdd's Name is "not in QBD").
NOT_TEXT = {"customer_id", "vendor_id", "item_id", "parent_id", "invoice_id", "credit_memo_id"}
NOT_TEXT |= {"purchase_order_id", "kind", "status", "tax_code"}


def text_values(model: BaseModel, record_type: str) -> Iterator[tuple[str, str]]:
    for name, value in model:
        if name in NOT_TEXT or (record_type == "employee" and name == "display_name"):
            continue
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, BaseModel):
            yield from text_values(value, record_type)
        elif isinstance(value, list):
            for element in value:
                if isinstance(element, BaseModel):
                    yield from text_values(element, record_type)


AMOUNT = re.compile(r"^-?\d{1,13}\.\d\d$")
PRICE = re.compile(r"^-?\d{1,10}(\.\d{0,4}[1-9])?$")  # no exponent, no trailing zeros
GUID = re.compile(r"^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$")
DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
FORMATS = {
    **dict.fromkeys(("Amount", "TotalAmount", "PaymentAmount", "AppliedAmount"), AMOUNT),
    **dict.fromkeys(("Quantity", "Rate", "Cost", "Price", "SalesPrice", "PurchaseCost"), PRICE),
    "QuantityOnHand": PRICE,
    "ExternalGUID": GUID,
    **dict.fromkeys(("TxnDate", "DueDate", "InventoryDate"), DAY),
    **dict.fromkeys(("IsActive", "IsAutoApply", "IsManuallyClosed"), re.compile("^(true|false)$")),
}

ENTITIES = {
    "customer": "Customer",
    "job": "Customer",
    "vendor": "Vendor",
    "employee": "Employee",
    "item.service": "ItemService",
    "item.non_inventory": "ItemNonInventory",
    "item.inventory": "ItemInventory",
    "invoice": "Invoice",
    "credit_memo": "CreditMemo",
    "payment": "ReceivePayment",
    "purchase_order": "PurchaseOrder",
    "bill": "Bill",
}
REMOVALS = {
    "invoice": ("TxnVoidRq", "TxnVoidType", "Invoice"),
    "credit_memo": ("TxnVoidRq", "TxnVoidType", "CreditMemo"),
    "bill": ("TxnVoidRq", "TxnVoidType", "Bill"),
    "payment": ("TxnDelRq", "TxnDelType", "ReceivePayment"),
    "purchase_order": ("TxnDelRq", "TxnDelType", "PurchaseOrder"),
}


# ------------------------------------------------------------------------------------------ the table


@pytest.mark.parametrize("operation", ["add", "mod", "delete"])
@pytest.mark.parametrize("size", ["minimal", "maximal"])
@pytest.mark.parametrize("key", list(ENTITIES))
def test_every_record_type_is_written_as_a_schema_valid_request_that_carries_all_its_values(
    key: str, size: str, operation: str
) -> None:
    record_type, data = MINIMAL[key] if size == "minimal" else maximal(key)
    write = write_of(
        record_type,
        data,
        existing=operation != "add",
        operation=Operation.DELETE if operation == "delete" else Operation.UPSERT,
    )
    msgs = sent(build(write))
    (request,) = msgs
    entity = ENTITIES[key]

    if operation == "delete":
        if record_type in REMOVALS:
            tag, type_tag, txn_type = REMOVALS[record_type]
            assert (request.tag, children(request)) == (tag, [type_tag, "TxnID"])
            assert (child(request, type_tag), child(request, "TxnID")) == (txn_type, LIST_ID)
        else:  # a list entry is made inactive by its Mod
            assert request.tag == f"{entity}ModRq"
            assert children(request[0]) == ["ListID", "EditSequence", "IsActive"]
            assert texts(request[0]) == [LIST_ID, EDIT_SEQUENCE, "false"]
        return

    body = request[0]
    assert request.tag == f"{entity}{'Add' if operation == 'add' else 'Mod'}Rq"
    assert request.get("requestID") == "w1"
    if operation == "mod":
        id_tag = "ListID" if record_type in ("customer", "vendor", "employee", "item") else "TxnID"
        assert children(body)[:2] == [id_tag, "EditSequence"]
        assert texts(body)[:2] == [LIST_ID, EDIT_SEQUENCE]
        assert body.find("ExternalGUID") is None
    else:
        guid = external_guid(TENANT, record_type, f"{record_type}-7", 0)
        assert child(body, "ExternalGUID") == guid
    written = set(texts(body))
    for field, value in text_values(write.model, record_type):
        assert desktop_text(value) in written, f"{field} {value!r} is not in the request"
    for element in body.iter():
        pattern = FORMATS.get(element.tag)
        if pattern is not None:
            assert pattern.match(element.text or ""), f"{element.tag} {element.text!r}"


# ------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("150.5", "150.50"),
        ("0", "0.00"),
        ("-10", "-10.00"),
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_amounts_are_written_with_exactly_two_decimals(value: str, text: str) -> None:
    assert rq.amount(Decimal(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1.50000", "1.5"),
        ("100", "100"),
        ("1E+2", "100"),
        ("0.00001", "0.00001"),
        ("-2.25", "-2.25"),
        ("0.000", "0"),
        (BIG_PRICE, BIG_PRICE),
    ],
)
def test_prices_and_quantities_are_written_with_up_to_five_decimals_and_no_exponent(
    value: str, text: str
) -> None:
    assert rq.price(Decimal(value)) == text


@pytest.mark.parametrize(
    ("write", "value"),
    [(rq.amount, "1.005"), (rq.amount, "1" * 14), (rq.price, "0.000001"), (rq.price, "1" * 11)],
)
def test_a_number_qbxml_cannot_hold_is_refused_rather_than_rounded(write: Any, value: str) -> None:
    with pytest.raises(ValueError, match=r"decimals|digits|cents"):
        write(Decimal(value))


def test_filter_times_are_company_local_without_an_offset() -> None:
    assert rq.local_time(datetime(2024, 3, 10, 8, 5, 9)) == "2024-03-10T08:05:09"
    with pytest.raises(ValueError, match="company-local"):
        rq.local_time(NOW)


def test_the_external_guid_is_deterministic_braced_and_distinct_per_tenant_record_and_generation() -> None:
    guid = external_guid("acme", "invoice", "inv-1", 0)
    assert GUID.match(guid)
    assert guid == external_guid("acme", "invoice", "inv-1", 0)
    others = {
        external_guid("other", "invoice", "inv-1", 0),
        external_guid("acme", "credit_memo", "inv-1", 0),
        external_guid("acme", "invoice", "inv-2", 0),
        external_guid("acme", "invoice", "inv-1", 1),
    }
    assert guid not in others
    assert len(others) == 4


def test_a_record_created_again_gets_the_guid_of_its_new_generation() -> None:
    (request,) = sent(build(write_of("customer", {"display_name": "Ann"}, generation=2)))
    assert child(request, "CustomerAdd/ExternalGUID") == external_guid(TENANT, "customer", "customer-7", 2)


# ------------------------------------------------------------------------------------------ mapping


def test_an_invoice_line_is_written_in_schema_order_with_the_companys_tax_codes() -> None:
    record_type, data = FULL["invoice"]
    (request,) = sent(build(write_of(record_type, data), sales_tax_codes=SalesTaxCodes("T", "N")))
    body = request[0]
    assert children(body) == [
        "CustomerRef",
        "TxnDate",
        "RefNumber",
        "TermsRef",
        "DueDate",
        "Memo",
        "ExternalGUID",
        "InvoiceLineAdd",
        "InvoiceLineAdd",
        "InvoiceLineAdd",
    ]
    first, description_only, by_amount = body.findall("InvoiceLineAdd")
    assert children(first) == ["ItemRef", "Desc", "Quantity", "Rate", "Amount", "SalesTaxCodeRef"]
    assert texts(first) == [quickbooks_id("item", "i-1"), "d", "3", "33.33333", "100.00", "T"]
    assert (children(description_only), texts(description_only)) == (["Desc"], ["d"])
    assert texts(by_amount) == [quickbooks_id("item", "i-2"), "d", "-10.50", "N"]
    assert child(body, "CustomerRef/ListID") == quickbooks_id("customer", "c-1")


def test_tax_codes_are_tax_and_non_by_default_and_other_codes_go_as_named() -> None:
    lines = [
        {"item_id": "i-1", "amount": "1", "tax_code": "TAX"},
        {"item_id": "i-1", "amount": "1", "tax_code": "NON"},
        {"item_id": "i-1", "amount": "1", "tax_code": "OOS"},
    ]
    (request,) = sent(build(write_of("invoice", {"customer_id": "c-1", "lines": lines})))
    codes = [e.text for e in request.iter("FullName")]
    assert codes == ["Tax", "Non", "OOS"]


def test_an_invoice_without_terms_takes_the_default_terms_of_the_settings() -> None:
    settings = SETTINGS.model_copy(update={"default_payment_terms": "Net 30"})
    write = write_of("invoice", MINIMAL["invoice"][1])
    (request,) = sent(build(write, settings=settings))
    assert child(request, "InvoiceAdd/TermsRef/FullName") == "Net 30"


def test_an_invoice_mod_rewrites_every_line_as_a_new_line_at_the_records_edit_sequence() -> None:
    record_type, data = FULL["invoice"]
    (request,) = sent(build(write_of(record_type, data, existing=True)))
    body = request[0]
    assert (child(body, "TxnID"), child(body, "EditSequence")) == (LIST_ID, EDIT_SEQUENCE)
    lines = body.findall("InvoiceLineMod")
    assert len(lines) == 3
    assert [line[0].tag for line in lines] == ["TxnLineID"] * 3
    assert [line[0].text for line in lines] == ["-1"] * 3


def test_a_job_is_a_customer_under_its_parents_list_id() -> None:
    (request,) = sent(build(write_of(*MINIMAL["job"])))
    assert children(request[0])[:3] == ["Name", "IsActive", "ParentRef"]
    assert child(request, "CustomerAdd/ParentRef/ListID") == quickbooks_id("customer", "c-parent")
    assert child(request, "CustomerAdd/Name") == "Kitchen"


def test_the_name_a_clash_renamed_the_record_to_wins_over_its_own() -> None:
    (request,) = sent(build(write_of("vendor", {"display_name": "Acme"}, name="Acme (2)")))
    assert child(request, "VendorAdd/Name") == "Acme (2)"


def test_a_rename_longer_than_quickbooks_allows_fails_the_record_instead_of_breaking_the_message() -> None:
    write = write_of("item", {"kind": "service", "name": "x" * 31}, name="x" * 31 + " (2)")
    failure = to_qbxml(write, SETTINGS, tenant_id=TENANT, request_id="w1")
    assert isinstance(failure, Failure)
    assert (failure.code, failure.field) == ("too_long", "name")
    assert "at most 31" in failure.message


def test_a_payment_without_applications_is_not_auto_applied() -> None:
    (request,) = sent(build(write_of(*MINIMAL["payment"])))
    assert children(request[0])[-1] == "IsAutoApply"
    assert child(request, "ReceivePaymentAdd/IsAutoApply") == "false"
    assert child(request, "ReceivePaymentAdd/TotalAmount") == "0.00"


def test_credits_used_in_a_payment_go_greedily_to_the_invoices_it_pays() -> None:
    (request,) = sent(build(write_of(*FULL["payment"])))
    first, second = request[0].findall("AppliedToTxnAdd")
    assert texts(first) == [
        quickbooks_id("invoice", "inv-1"),
        "0.00",
        quickbooks_id("credit_memo", "cm-1"),
        "30.00",
        quickbooks_id("credit_memo", "cm-2"),
        "30.00",
    ]
    assert texts(second) == [
        quickbooks_id("invoice", "inv-2"),
        "20.00",
        quickbooks_id("credit_memo", "cm-2"),
        "20.00",
    ]
    assert request[0].find("IsAutoApply") is None


def test_a_payment_mod_applies_to_the_same_invoices_with_applied_to_txn_mod() -> None:
    (request,) = sent(build(write_of(*FULL["payment"], existing=True)))
    assert [e.tag for e in request[0] if e.tag.startswith("AppliedToTxn")] == ["AppliedToTxnMod"] * 2


def test_a_bill_links_each_item_line_to_its_purchase_order_line_after_its_other_elements() -> None:
    (request,) = sent(build(write_of(*FULL["bill"])))
    body = request[0]
    order = quickbooks_id("purchase_order", "po-1")
    assert body.find("LinkToTxnID") is None  # never the whole order: its lines would come in too
    tags = children(body)
    assert tags[tags.index("ExternalGUID") + 1 :] == ["ExpenseLineAdd", "ItemLineAdd", "ItemLineAdd"]
    assert texts(body.find("ExpenseLineAdd")) == ["n", "12.30", "d"]
    first, second = body.findall("ItemLineAdd")
    assert children(first) == ["ItemRef", "Desc", "Quantity", "Cost", "Amount", "LinkToTxn"]
    assert children(second) == ["ItemRef", "Desc", "Amount", "LinkToTxn"]
    assert [texts(line.find("LinkToTxn")) for line in (first, second)] == [[order, "PL-1"], [order, "PL-2"]]


def test_each_bill_item_line_takes_the_first_unused_open_order_line_of_its_item() -> None:
    i1, i2 = quickbooks_id("item", "i-1"), quickbooks_id("item", "i-2")
    order = (
        OrderLine("received", i1, Decimal(0)),  # all received: nothing to link to
        OrderLine("other-item", i2, Decimal(5)),
        OrderLine("first", i1, Decimal(3)),
        OrderLine("second", i1, Decimal("0.5")),
    )
    data = {
        "vendor_id": "v-1",
        "purchase_order_id": "po-1",
        "lines": [
            {"account": "Rent", "amount": "7"},
            {"item_id": "i-1", "quantity": "2", "rate": "1"},
            {"item_id": "i-1", "quantity": "9", "rate": "1"},
            {"item_id": "i-1", "quantity": "1", "rate": "1"},  # i-1's open lines are used up
            {"item_id": "i-3", "amount": "4"},  # not on the order
        ],
    }
    (request,) = sent(build(write_of("bill", data), purchase_order_lines=order))
    links = [line.findtext("LinkToTxn/TxnLineID") for line in request[0].findall("ItemLineAdd")]
    assert links == ["first", "second", None, None]
    assert request[0].find("ExpenseLineAdd/LinkToTxn") is None


def test_a_new_bill_whose_purchase_order_lines_were_not_read_is_a_bug_of_the_caller() -> None:
    with pytest.raises(ValueError, match="purchase_order_lines"):
        to_qbxml(write_of(*FULL["bill"]), SETTINGS, tenant_id=TENANT, request_id="w1")
    # without a purchase order there is nothing to read
    assert not isinstance(
        to_qbxml(write_of(*MINIMAL["bill"]), SETTINGS, tenant_id=TENANT, request_id="w1"), Failure
    )


def test_a_bill_mod_never_links_its_lines() -> None:
    (request,) = sent(build(write_of(*FULL["bill"], existing=True)))
    assert request.find(".//LinkToTxn") is None
    assert request.find(".//LinkToTxnID") is None
    # a Mod needs no order lines: it never reads them
    assert request.tag == "BillModRq"
    unread = to_qbxml(write_of(*FULL["bill"], existing=True), SETTINGS, tenant_id=TENANT, request_id="w1")
    assert not isinstance(unread, Failure)
    assert unread.find(".//LinkToTxn") is None


@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [
        (rq.bill, {"modify": rq.Modify("1-1", "1"), "item_lines": "lines"}),
        (rq.invoice, {"customer": rq.Ref(list_id="1-1"), "lines": "lines"}),
        (rq.purchase_order, {"vendor": rq.Ref(list_id="1-1"), "lines": "lines"}),
    ],
)
def test_only_a_bill_add_item_line_can_carry_a_link(builder: Any, kwargs: dict[str, Any]) -> None:
    line = rq.Line(item=rq.Ref(list_id="2-2"), amount=Decimal(1), link=rq.LinkToTxn("3-3", "4-4"))
    arguments = {key: [line] if value == "lines" else value for key, value in kwargs.items()}
    with pytest.raises(ValueError, match="ItemLineAdd"):
        builder("r1", **arguments)


def test_an_order_line_is_open_for_what_is_not_yet_received_nor_closed() -> None:
    answer = read_message(
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><PurchaseOrderQueryRs requestID="q" statusCode="0">'
        "<PurchaseOrderRet><TxnID>9-1</TxnID>"
        "<PurchaseOrderLineRet><TxnLineID>A</TxnLineID><ItemRef><ListID>I-1</ListID>"
        "<FullName>Gloves</FullName></ItemRef><Quantity>10</Quantity><ReceivedQuantity>4</ReceivedQuantity>"
        "</PurchaseOrderLineRet>"
        "<PurchaseOrderLineRet><TxnLineID>B</TxnLineID><ItemRef><ListID>I-2</ListID></ItemRef>"
        "<Amount>5.00</Amount></PurchaseOrderLineRet>"
        "<PurchaseOrderLineRet><TxnLineID>C</TxnLineID><ItemRef><ListID>I-1</ListID></ItemRef>"
        "<Quantity>3</Quantity><IsManuallyClosed>true</IsManuallyClosed></PurchaseOrderLineRet>"
        "<PurchaseOrderLineRet><TxnLineID>D</TxnLineID><Desc>Deliver by noon</Desc></PurchaseOrderLineRet>"
        "</PurchaseOrderRet></PurchaseOrderQueryRs></QBXMLMsgsRs></QBXML>"
    )
    (order,) = answer.responses[0].rets
    assert order_lines(order) == (
        OrderLine("A", "I-1", Decimal(6)),
        OrderLine("B", "I-2", Decimal(1)),  # ordered by amount: one to receive
        OrderLine("C", "I-1", Decimal(0)),
        OrderLine("D", None, Decimal(1)),  # a description line matches no item
    )


def test_a_bill_mod_clears_the_kind_of_line_it_no_longer_has() -> None:
    (request,) = sent(build(write_of(*MINIMAL["bill"], existing=True)))
    body = request[0]
    assert child(body, "ClearItemLines") == "true"
    assert body.find("ClearExpenseLines") is None
    assert child(body, "ExpenseLineMod/TxnLineID") == "-1"


def test_a_purchase_order_is_closed_by_its_mod() -> None:
    data = dict(MINIMAL["purchase_order"][1], status="closed")
    (request,) = sent(build(write_of("purchase_order", data, existing=True)))
    assert child(request, "PurchaseOrderMod/IsManuallyClosed") == "true"


def test_inventory_items_set_their_opening_quantity_on_add_only() -> None:
    record_type, data = FULL["item.inventory"]
    (added,) = sent(build(write_of(record_type, data)))
    assert child(added, "ItemInventoryAdd/QuantityOnHand") == BIG_PRICE
    assert child(added, "ItemInventoryAdd/InventoryDate") == "2024-01-31"
    (modified,) = sent(build(write_of(record_type, data, existing=True)))
    assert modified[0].find("QuantityOnHand") is None


def test_an_item_with_a_cost_is_bought_and_sold_and_one_without_is_sold_only() -> None:
    (both,) = sent(build(write_of(*FULL["item.service"])))
    assert children(both[0].find("SalesAndPurchase")) == [
        "SalesDesc",
        "SalesPrice",
        "IncomeAccountRef",
        "PurchaseCost",
        "ExpenseAccountRef",
    ]
    assert child(both, "ItemServiceAdd/SalesTaxCodeRef/FullName") == "Tax"
    (sold,) = sent(build(write_of(*MINIMAL["item.non_inventory"])))
    assert child(sold, "ItemNonInventoryAdd/SalesOrPurchase/AccountRef/FullName") == "Sales"
    assert child(sold, "ItemNonInventoryAdd/SalesTaxCodeRef/FullName") == "Non"


def test_an_employee_is_written_by_first_and_last_name_never_by_display_name() -> None:
    (request,) = sent(build(write_of(*FULL["employee"])))
    assert request[0].find("Name") is None
    assert "Eve Example-Person" not in texts(request)


@pytest.mark.parametrize(
    ("record_type", "data", "code", "field"),
    [
        ("item", {"kind": "service", "name": "Labor"}, "missing_account", "income_account"),
        (
            "item",
            {"kind": "inventory", "name": "W", "income_account": "S"},
            "missing_account",
            "expense_account",
        ),
        ("purchase_order", dict(MINIMAL["purchase_order"][1], status="closed"), "not_supported", "status"),
    ],
)
def test_a_record_desktop_cannot_express_fails_with_a_reason_the_tenant_can_act_on(
    record_type: str, data: dict[str, Any], code: str, field: str
) -> None:
    failure = to_qbxml(write_of(record_type, data), SyncSettings(), tenant_id=TENANT, request_id="w1")
    assert isinstance(failure, Failure)
    assert (failure.code, failure.field) == (code, field)
    assert failure.actions


def test_an_employee_cannot_take_a_clash_rename_and_says_so() -> None:
    write = write_of("employee", {"display_name": "Eve", "given_name": "Eve"}, name="Eve (2)")
    failure = to_qbxml(write, SETTINGS, tenant_id=TENANT, request_id="w1")
    assert isinstance(failure, Failure)
    assert (failure.code, failure.field) == ("not_supported", "display_name")


def test_a_tax_code_on_a_company_without_sales_tax_fails_the_record() -> None:
    write = write_of(*FULL["invoice"])
    failure = to_qbxml(write, SETTINGS, tenant_id=TENANT, request_id="w1", sales_tax_codes=None)
    assert isinstance(failure, Failure)
    assert (failure.code, failure.field) == ("sales_tax_off", "lines.0.tax_code")
    (item,) = sent(build(write_of(*FULL["item.service"]), sales_tax_codes=None))
    assert item[0].find("SalesTaxCodeRef") is None


def test_a_reference_without_a_quickbooks_id_is_a_bug_of_the_caller() -> None:
    write = write_of(*MINIMAL["credit_memo"])
    with pytest.raises(MissingReferenceError, match="item/i-1"):
        to_qbxml(Write(write.record, write.model, ids={}), SETTINGS, tenant_id=TENANT, request_id="w1")


def test_another_tenants_record_is_never_written() -> None:
    with pytest.raises(ValueError, match="belongs to tenant"):
        to_qbxml(write_of(*MINIMAL["customer"]), SETTINGS, tenant_id="other", request_id="w1")


# ------------------------------------------------------------------------------------------ envelope


def test_a_message_declares_qbxml_13_and_continues_on_error() -> None:
    text = envelope.message([rq.host_query("h")], new_message_set_id="set-1")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>')
    root = etree.fromstring(text.encode("utf-8"), PARSER)
    assert root.tag == "QBXML"
    assert dict(root[0].attrib) == {"newMessageSetID": "set-1", "onError": "continueOnError"}


def test_an_empty_message_with_the_old_set_id_asks_for_the_stored_answer() -> None:
    text = envelope.message([], old_message_set_id="set-1", new_message_set_id="set-1")
    msgs = etree.fromstring(text.encode("utf-8"), PARSER)[0]
    assert dict(msgs.attrib) == {
        "oldMessageSetID": "set-1",
        "newMessageSetID": "set-1",
        "onError": "continueOnError",
    }
    assert len(msgs) == 0


@pytest.mark.parametrize(("request_id", "match"), [("", "no requestID"), ("r" * 51, "51 characters")])
def test_a_request_without_a_request_id_of_at_most_50_characters_is_refused(
    request_id: str, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        envelope.message([rq.host_query(request_id)])


def test_every_message_built_is_shown_to_the_observers() -> None:
    seen: list[str] = []
    envelope.observers.append(seen.append)
    try:
        text = envelope.message([rq.preferences_query("p")])
    finally:
        envelope.observers.remove(seen.append)
    assert seen == [text]


def test_text_is_escaped_by_the_xml_writer_and_read_back_as_sent() -> None:
    name = "A&B <Tools> \"Co\" 'X' \u2013 \u2019"
    (request,) = sent(build(write_of("customer", {"display_name": name})))
    assert child(request, "CustomerAdd/Name") == "A&B <Tools> \"Co\" 'X' - '"


# ------------------------------------------------------------------------------------------ queries

MODIFIED = (datetime(2024, 3, 9, 8, 30), datetime(2024, 3, 10, 8, 30))


@pytest.mark.parametrize("entity", sorted(rq.LIST_QUERIES))
def test_list_queries_go_by_list_ids_by_full_names_or_by_modified_date(entity: str) -> None:
    with_owner = entity not in ("Terms", "PaymentMethod", "SalesTaxCode", "Class")
    by_id, by_name, by_date = sent(
        rq.list_query(entity, "q1", list_ids=["1-1", "2-2"], include=["ListID", "FullName"]),
        rq.list_query(entity, "q2", full_names=["A & B:Job"], owner_ids=["0"] if with_owner else ()),
        rq.list_query(entity, "q3", active_status="All", modified_from=MODIFIED[0], modified_to=MODIFIED[1]),
    )
    assert children(by_id) == ["ListID", "ListID", "IncludeRetElement", "IncludeRetElement"]
    assert texts(by_name)[0] == "A & B:Job"
    assert texts(by_date) == ["All", "2024-03-09T08:30:00", "2024-03-10T08:30:00"]
    assert by_date.get("iterator") is None


def test_list_deleted_query_names_its_list_types_then_the_date_range_then_what_to_return() -> None:
    (deleted, everything) = sent(
        rq.list_deleted_query(
            "q1", list_types=["Customer", "ItemService"], deleted_from=MODIFIED[0], include=["ListID"]
        ),
        rq.list_deleted_query("q2", list_types=["Class"]),
    )
    assert children(deleted) == ["ListDelType", "ListDelType", "DeletedDateRangeFilter", "IncludeRetElement"]
    assert texts(deleted) == ["Customer", "ItemService", "2024-03-09T08:30:00", "ListID"]
    assert children(everything) == ["ListDelType"]
    with pytest.raises(ValueError, match="ListDelType"):
        rq.list_deleted_query("q3", list_types=[])


@pytest.mark.parametrize("entity", sorted(rq.TXN_QUERIES))
def test_transaction_queries_go_by_txn_ids_by_ref_numbers_or_by_modified_date(entity: str) -> None:
    by_id, by_number, by_date = sent(
        rq.txn_query(entity, "q1", txn_ids=["1-1"], include_line_items=True, include=["TxnID"]),
        rq.txn_query(entity, "q2", ref_numbers=["A-1", "A-2"], owner_ids=["0"]),
        rq.txn_query(entity, "q3", modified_from=MODIFIED[0], modified_to=MODIFIED[1]),
    )
    assert children(by_id) == ["TxnID", "IncludeLineItems", "IncludeRetElement"]
    assert children(by_number) == ["RefNumber", "RefNumber", "OwnerID"]
    assert children(by_date) == ["ModifiedDateRangeFilter"]
    assert texts(by_date) == ["2024-03-09T08:30:00", "2024-03-10T08:30:00"]


@pytest.mark.parametrize("entity", sorted(rq.ITERATING))
def test_queries_with_an_iterator_page_their_answer_with_start_and_continue(entity: str) -> None:
    query = rq.list_query if entity in rq.LIST_QUERIES else rq.txn_query
    start, more = sent(
        query(entity, "q1", paging=rq.Paging(500), modified_from=MODIFIED[0]),
        query(entity, "q2", paging=rq.Paging(500, "{eb05f701-e727-472f-8ade-6753c4f67a46}")),
    )
    assert (start.get("iterator"), start.get("iteratorID")) == ("Start", None)
    assert (more.get("iterator"), more.get("iteratorID")) == (
        "Continue",
        "{eb05f701-e727-472f-8ade-6753c4f67a46}",
    )
    assert child(start, "MaxReturned") == child(more, "MaxReturned") == "500"


@pytest.mark.parametrize("entity", sorted((rq.LIST_QUERIES | rq.TXN_QUERIES) - rq.ITERATING))
def test_a_query_without_an_iterator_in_the_schema_is_never_paged(entity: str) -> None:
    query = rq.list_query if entity in rq.LIST_QUERIES else rq.txn_query
    with pytest.raises(ValueError, match="no iterator"):
        query(entity, "q", paging=rq.Paging(100))


@requires_schema
def test_the_queries_paged_are_exactly_those_the_schema_gives_an_iterator() -> None:
    ops = etree.parse(str(XSD), PARSER).getroot()
    xs = "{http://www.w3.org/2001/XMLSchema}"
    with_iterator = {
        str(t.get("name")).removesuffix("QueryRqType")
        for t in ops.iter(f"{xs}complexType")
        if str(t.get("name")).endswith("QueryRqType")
        and any(a.get("name") == "iterator" for a in t.iter(f"{xs}attribute"))
    }
    assert with_iterator & (rq.LIST_QUERIES | rq.TXN_QUERIES) == rq.ITERATING


def test_a_query_takes_ids_names_or_a_filter_but_never_two_of_them() -> None:
    with pytest.raises(ValueError, match="one of"):
        rq.list_query("Customer", "q", list_ids=["1"], full_names=["A"])
    with pytest.raises(ValueError, match="one of"):
        rq.txn_query("Invoice", "q", ref_numbers=["1"], paging=rq.Paging(10))


def test_company_facts_are_asked_with_the_owner_id_that_brings_back_the_file_id() -> None:
    owner = "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}"
    host, company, preferences, deleted = sent(
        rq.host_query("h"),
        rq.company_query("c", owner_ids=[owner]),
        rq.preferences_query("p", include=["SalesTaxPreferences"]),
        rq.txn_deleted_query(
            "d", txn_types=["ReceivePayment"], deleted_from=MODIFIED[0], deleted_to=MODIFIED[1]
        ),
    )
    assert (host.tag, len(host)) == ("HostQueryRq", 0)
    assert child(company, "OwnerID") == owner
    assert texts(preferences) == ["SalesTaxPreferences"]
    assert children(deleted) == ["TxnDelType", "DeletedDateRangeFilter"]
    assert texts(deleted) == ["ReceivePayment", "2024-03-09T08:30:00", "2024-03-10T08:30:00"]


# ------------------------------------------------------------------------------------------ the references


@requires_schema
def test_the_schema_check_refuses_a_message_with_two_elements_swapped() -> None:
    text = envelope.message([build(write_of(*FULL["customer"]))])
    assert schema_errors(text) == []
    root = etree.fromstring(text.encode("utf-8"), PARSER)
    body = root.find("QBXMLMsgsRq/CustomerAddRq/CustomerAdd")
    name, active = body[0], body[1]
    body.remove(active)
    name.addprevious(active)  # IsActive before Name
    swapped = etree.tostring(root, encoding="unicode")
    errors = schema_errors(swapped)
    assert errors
    assert any("IsActive" in error for error in errors)


@cache
def not_in_desktop() -> frozenset[tuple[str, ...]]:
    """Paths (request element first) of every element the OSR sample marks "not in QBD": its comment
    follows the element on the same line ("<!-- opt, not in QBD|QBOE, v6.0 -->")."""
    root = etree.parse(str(OSR), PARSER).getroot()
    paths: set[tuple[str, ...]] = set()
    for comment in root.iter(etree.Comment):
        match = re.search(r"not in ([A-Z|]+)", comment.text or "")
        if not match or "QBD" not in match.group(1).split("|"):
            continue
        previous = comment.getprevious()
        while previous is not None and not isinstance(previous.tag, str):
            previous = previous.getprevious()
        if previous is not None and previous.sourceline == comment.sourceline:
            element = previous  # <Leaf>TYPE</Leaf> <!-- ... -->
        elif comment.getparent().sourceline == comment.sourceline:
            element = comment.getparent()  # <Aggregate> <!-- ... -->
        else:
            continue
        path = [element.tag]
        for ancestor in element.iterancestors():
            if str(ancestor.tag).endswith("Rq"):
                paths.add((ancestor.tag, *reversed(path)))
                break
            path.append(ancestor.tag)
    return frozenset(paths)


def desktop_violations(text: str) -> list[tuple[str, ...]]:
    root = etree.fromstring(text.encode("utf-8"), PARSER)
    found = []
    forbidden = not_in_desktop()
    for request in root[0]:
        for element in request.iter():
            path = tuple(e.tag for e in reversed([element, *element.iterancestors()]))
            path = path[path.index(request.tag) :]
            if path in forbidden:
                found.append(path)
    return found


@pytest.mark.skipif(not OSR.is_file(), reason=f"the OSR sample is not at {OSR}")
def test_the_osr_reader_finds_the_elements_known_not_to_be_in_desktop() -> None:
    forbidden = not_in_desktop()
    assert ("EmployeeAddRq", "EmployeeAdd", "Name") in forbidden
    assert ("ItemServiceAddRq", "ItemServiceAdd", "IsTaxIncluded") in forbidden
    assert ("CustomerAddRq", "CustomerAdd", "Suffix") in forbidden
    assert ("CustomerAddRq", "CustomerAdd", "Name") not in forbidden
    named = etree.Element("EmployeeAddRq", requestID="1")
    etree.SubElement(etree.SubElement(named, "EmployeeAdd"), "Name").text = "Eve"
    assert desktop_violations(_unchecked_message(named)) == [("EmployeeAddRq", "EmployeeAdd", "Name")]


def _unchecked_message(request: Any) -> str:
    """A message with an element the OSR forbids (schema-valid, but not for Desktop), kept from observers."""
    saved = list(envelope.observers)
    envelope.observers.clear()
    try:
        return envelope.message([request])
    finally:
        envelope.observers.extend(saved)


@pytest.mark.skipif(not OSR.is_file(), reason=f"the OSR sample is not at {OSR}")
def test_no_message_built_here_has_an_element_the_osr_marks_not_in_desktop() -> None:
    assert len(BUILT) > 100
    violations = {path for text in BUILT for path in desktop_violations(text)}
    assert violations == set()


REQUIRED_REQUESTS = [
    *(f"{entity}{op}Rq" for entity in sorted(set(ENTITIES.values())) for op in ("Add", "Mod")),
    "TxnVoidRq",
    "TxnDelRq",
    *(f"{entity}QueryRq" for entity in ("Customer", "Vendor", "Employee", "Item", "Invoice", "CreditMemo")),
    *(f"{entity}QueryRq" for entity in ("ReceivePayment", "PurchaseOrder", "Bill", "Account", "Terms")),
    *(
        f"{entity}QueryRq"
        for entity in ("PaymentMethod", "SalesTaxCode", "ItemSalesTax", "ItemSalesTaxGroup", "Class")
    ),
    "HostQueryRq",
    "CompanyQueryRq",
    "PreferencesQueryRq",
    "TxnDeletedQueryRq",
    "ListDeletedQueryRq",
]
# How each query was asked: by ids, names or numbers, by modified date, and paged.
REQUIRED_QUERY_FORMS = [
    *((f"{e}QueryRq", form) for e in sorted(rq.LIST_QUERIES) for form in ("ListID", "FullName", "modified")),
    *((f"{e}QueryRq", form) for e in sorted(rq.TXN_QUERIES) for form in ("TxnID", "RefNumber", "modified")),
    *((f"{e}QueryRq", form) for e in sorted(rq.ITERATING) for form in ("Start", "Continue")),
]


def query_forms(text: str) -> Iterator[tuple[str, str]]:
    for request in etree.fromstring(text.encode("utf-8"), PARSER)[0]:
        if not request.tag.endswith("QueryRq"):
            continue
        if request.get("iterator"):
            yield request.tag, request.get("iterator")
        first = request[0].tag if len(request) else ""
        if first in ("ListID", "FullName", "TxnID", "RefNumber"):
            yield request.tag, first
        if request.find(".//FromModifiedDate") is not None:
            yield request.tag, "modified"


def test_every_request_kind_of_the_codec_was_built_and_checked_at_least_once() -> None:
    built = {request.tag for text in BUILT for request in etree.fromstring(text.encode("utf-8"), PARSER)[0]}
    assert [kind for kind in REQUIRED_REQUESTS if kind not in built] == []
    forms = {form for text in BUILT for form in query_forms(text)}
    assert [form for form in REQUIRED_QUERY_FORMS if form not in forms] == []
