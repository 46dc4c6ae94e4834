"""Builders of the qbXML 13.0 requests the service sends to QuickBooks Desktop, one `...Rq` element each.

Every builder writes its children in exactly the order of the request's `xsd:sequence` in Intuit's
qbxmlops130.xsd / qbxml130.xsd (shared/reference/qbxml/13.0): QuickBooks refuses a whole message with one
misplaced element (HRESULT 0x80040400, qbwc/qbwc#74; shared/reference/qbwc/NOTES.md §3.5). Only elements
the OSR sample (qbxmlops130.osr.xml) does not mark "not in QBD" are written. Values take the schema's forms:

- AMTTYPE (amounts): exactly two decimals, "150.50" (the pattern allows 0 or 2; "150.5" is refused);
- PRICETYPE / QUANTYPE (prices, costs, quantities): up to 10 digits and 5 decimals, no exponent;
- DATETYPE: YYYY-MM-DD; DATETIMETYPE in filters: company-local time without an offset, YYYY-MM-DDThh:mm:ss;
- GUIDTYPE: {8-4-4-4-12} in braces; BOOLTYPE: true / false.

Every text value goes through `desktop_text` (typographic punctuation as ASCII: what validation measured).
A Mod writes only what it is given: QuickBooks keeps what a Mod leaves out, except lines (`Line`): the lines
of a Mod replace the transaction's lines, `TxnLineID` -1 adding each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from qbsync.domain.desktop_text import desktop_text

NEW_LINE = "-1"  # the TxnLineID of a line a Mod adds
CENT = Decimal("0.01")
AMOUNT_DIGITS = 13  # AMTTYPE: [+-]?[0-9]{1,13}(\.[0-9]{2})?
PRICE_DIGITS = 10  # PRICETYPE and QUANTYPE: [+-]?[0-9]{1,10}(\.[0-9]{1,5})?
PRICE_DECIMALS = 5

# Queries whose answers can be paged with iterator="Start" / "Continue" (they have the iterator attribute).
ITERATING = frozenset(
    {
        "Customer",
        "Vendor",
        "Item",
        "ItemSalesTax",
        "ItemSalesTaxGroup",
        "Invoice",
        "CreditMemo",
        "ReceivePayment",
        "PurchaseOrder",
        "Bill",
    }
)
LIST_QUERIES = frozenset(
    {
        "Customer",
        "Vendor",
        "Employee",
        "OtherName",
        "Item",
        "Account",
        "Terms",
        "PaymentMethod",
        "SalesTaxCode",
        "ItemSalesTax",
        "ItemSalesTaxGroup",
        "Class",
    }
)
TXN_QUERIES = frozenset({"Invoice", "CreditMemo", "ReceivePayment", "PurchaseOrder", "Bill"})
# Queries with OwnerID (which custom fields, DataExt, come back): TermsQuery, PaymentMethodQuery,
# SalesTaxCodeQuery and ClassQuery have none.
_OWNER_ID = frozenset((LIST_QUERIES | TXN_QUERIES) - {"Terms", "PaymentMethod", "SalesTaxCode", "Class"})
_LINKED_TXNS = frozenset({"Invoice", "CreditMemo", "PurchaseOrder", "Bill"})  # all but ReceivePayment
# TxnVoidType and the part of TxnDelType the service uses (qbxml130.xsd).
VOIDABLE = frozenset({"Invoice", "CreditMemo", "Bill"})
DELETABLE = frozenset({"ReceivePayment", "PurchaseOrder", "Invoice", "CreditMemo", "Bill"})


# ------------------------------------------------------------------------------------------ values


def amount(value: Decimal) -> str:
    """AMTTYPE: exactly two decimals. ValueError for more cents or more digits than QuickBooks keeps."""
    cents = value.quantize(CENT)
    if cents != value or not cents.is_finite():
        raise ValueError(f"{value} is not an amount in cents")
    text = f"{abs(cents):f}"
    if len(text.partition(".")[0]) > AMOUNT_DIGITS:
        raise ValueError(f"{value} has more than {AMOUNT_DIGITS} digits before the point")
    return ("-" if cents < 0 else "") + text


def price(value: Decimal) -> str:
    """PRICETYPE / QUANTYPE: up to five decimals, trailing zeros dropped, never an exponent."""
    if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-PRICE_DECIMALS)):
        raise ValueError(f"{value} has more than {PRICE_DECIMALS} decimals")
    text = f"{abs(value).normalize():f}"
    if len(text.partition(".")[0]) > PRICE_DIGITS:
        raise ValueError(f"{value} has more than {PRICE_DIGITS} digits before the point")
    return ("-" if value < 0 else "") + text


def boolean(value: bool) -> str:
    return "true" if value else "false"


def day(value: date) -> str:
    return value.isoformat()


def local_time(value: datetime) -> str:
    """A filter's date and time as the company's clock reads it, without an offset (QuickBooks compares it
    with its local times). ValueError for an aware datetime: convert it to company-local time first."""
    if value.tzinfo is not None:
        raise ValueError("qbXML filters take company-local time: pass a naive datetime")
    return value.strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------------------------------ parts


@dataclass(frozen=True)
class Ref:
    """A reference to a list entry: by ListID, or by FullName ("Parent:Child")."""

    list_id: str | None = None
    full_name: str | None = None


@dataclass(frozen=True)
class Modify:
    """What turns an Add into a Mod: the object's ListID or TxnID, and the EditSequence it was read at."""

    id: str
    edit_sequence: str


@dataclass(frozen=True)
class Address:
    """Addr1..Addr5 (EmployeeAddress: Addr1, Addr2), City, State, PostalCode, Country."""

    lines: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class LinkToTxn:
    """The purchase order line a bill's item line receives: the order's TxnID and the line's TxnLineID."""

    txn_id: str
    txn_line_id: str


@dataclass(frozen=True)
class Line:
    """An invoice, credit memo or purchase order line, or a bill's item line (where `rate` is the Cost). A
    line with no item is a description-only line. `txn_line_id` is used in Mods only; `link` in a BillAdd's
    item lines only (ItemLineMod has no LinkToTxn: a bill is linked when it is added)."""

    item: Ref | None = None
    desc: str | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None
    sales_tax_code: Ref | None = None  # invoice and credit memo lines only
    txn_line_id: str = NEW_LINE
    link: LinkToTxn | None = None


@dataclass(frozen=True)
class ExpenseLine:
    """A bill's expense line: an account and an amount."""

    account: Ref
    amount: Decimal
    memo: str | None = None
    txn_line_id: str = NEW_LINE


@dataclass(frozen=True)
class Credit:
    """A credit memo used in a payment, towards one invoice (SetCredit)."""

    credit_txn_id: str
    applied_amount: Decimal


@dataclass(frozen=True)
class AppliedToTxn:
    """Part of a payment applied to one invoice: cash (`payment_amount`) and credits."""

    txn_id: str
    payment_amount: Decimal | None = None
    credits: tuple[Credit, ...] = ()


@dataclass(frozen=True)
class SalesOrPurchase:
    """An item that is only sold or only bought: one description, price and account."""

    desc: str | None = None
    price: Decimal | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class SalesAndPurchase:
    """An item that is both sold and bought: each side with its own description, price and account."""

    sales_desc: str | None = None
    sales_price: Decimal | None = None
    income_account: Ref | None = None
    purchase_desc: str | None = None
    purchase_cost: Decimal | None = None
    expense_account: Ref | None = None


@dataclass(frozen=True)
class Paging:
    """Iterate over a query's answer, `max_returned` at a time: iterator="Start" without an `iterator_id`,
    "Continue" with the one QuickBooks returned (valid in that session only)."""

    max_returned: int
    iterator_id: str | None = None


# ------------------------------------------------------------------------------------------ writing


def _request(name: str, request_id: str) -> Any:
    return etree.Element(f"{name}Rq", requestID=request_id)


def _object(request: Any, entity: str, modify: Modify | None, id_tag: str) -> Any:
    """`<EntityAdd>` in the request, or `<EntityMod>` starting with its ListID/TxnID and EditSequence."""
    if modify is None:
        return etree.SubElement(request, f"{entity}Add")
    body = etree.SubElement(request, f"{entity}Mod")
    _text(body, id_tag, modify.id)
    _text(body, "EditSequence", modify.edit_sequence)
    return body


def _text(parent: Any, tag: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = desktop_text(value)


def _amount(parent: Any, tag: str, value: Decimal | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = amount(value)


def _price(parent: Any, tag: str, value: Decimal | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = price(value)


def _bool(parent: Any, tag: str, value: bool | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = boolean(value)


def _day(parent: Any, tag: str, value: date | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = day(value)


def _time(parent: Any, tag: str, value: datetime | None) -> None:
    if value is not None:
        etree.SubElement(parent, tag).text = local_time(value)


def _guid(parent: Any, tag: str, value: str | None, modify: Modify | None) -> None:
    """ExternalGUID: set when an object is added; no Mod has it."""
    if value is not None and modify is None:
        etree.SubElement(parent, tag).text = value


def _ref(parent: Any, tag: str, ref: Ref | None) -> None:
    if ref is None:
        return
    if (ref.list_id is None) == (ref.full_name is None):
        raise ValueError(f"{tag} needs a ListID or a FullName")
    element = etree.SubElement(parent, tag)
    _text(element, "ListID", ref.list_id)
    _text(element, "FullName", ref.full_name)


def _address(parent: Any, tag: str, address: Address | None, most_lines: int = 5) -> None:
    if address is None:
        return
    if len(address.lines) > most_lines:
        raise ValueError(f"{tag} has at most {most_lines} address lines")
    element = etree.SubElement(parent, tag)
    for number, line in enumerate(address.lines, start=1):
        _text(element, f"Addr{number}", line)
    _text(element, "City", address.city)
    _text(element, "State", address.state)
    _text(element, "PostalCode", address.postal_code)
    _text(element, "Country", address.country)


def _include(parent: Any, include: Sequence[str]) -> None:
    for name in include:
        _text(parent, "IncludeRetElement", name)


def _name_required(entity: str, name: str | None, modify: Modify | None) -> None:
    if name is None and modify is None:
        raise ValueError(f"{entity}Add needs a Name")


# ------------------------------------------------------------------------------------------ names


def customer(
    request_id: str,
    *,
    modify: Modify | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    parent: Ref | None = None,
    company_name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    bill_address: Address | None = None,
    ship_address: Address | None = None,
    phone: str | None = None,
    email: str | None = None,
    terms: Ref | None = None,
    notes: str | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """CustomerAddRq / CustomerModRq; a job (sub-customer) has its parent customer in `parent`."""
    _name_required("Customer", name, modify)
    request = _request("CustomerMod" if modify else "CustomerAdd", request_id)
    body = _object(request, "Customer", modify, "ListID")
    _text(body, "Name", name)
    _bool(body, "IsActive", is_active)
    _ref(body, "ParentRef", parent)
    _text(body, "CompanyName", company_name)
    _text(body, "FirstName", first_name)
    _text(body, "LastName", last_name)
    _address(body, "BillAddress", bill_address)
    _address(body, "ShipAddress", ship_address)
    _text(body, "Phone", phone)
    _text(body, "Email", email)
    _ref(body, "TermsRef", terms)  # after CommInfo (Email), before Notes: CustomerAdd's order in qbxml130.xsd
    _text(body, "Notes", notes)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


def vendor(
    request_id: str,
    *,
    modify: Modify | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    company_name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    address: Address | None = None,
    phone: str | None = None,
    email: str | None = None,
    account_number: str | None = None,
    notes: str | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """VendorAddRq / VendorModRq."""
    _name_required("Vendor", name, modify)
    request = _request("VendorMod" if modify else "VendorAdd", request_id)
    body = _object(request, "Vendor", modify, "ListID")
    _text(body, "Name", name)
    _bool(body, "IsActive", is_active)
    _text(body, "CompanyName", company_name)
    _text(body, "FirstName", first_name)
    _text(body, "LastName", last_name)
    _address(body, "VendorAddress", address)
    _text(body, "Phone", phone)
    _text(body, "Email", email)
    _text(body, "AccountNumber", account_number)
    _text(body, "Notes", notes)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


def employee(
    request_id: str,
    *,
    modify: Modify | None = None,
    is_active: bool | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    address: Address | None = None,
    phone: str | None = None,
    email: str | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """EmployeeAddRq / EmployeeModRq. QuickBooks Desktop names an employee by its first, middle and last
    names: EmployeeAdd's Name is "not in QBD" (OSR), so there is none here. EmployeeAddress has two lines."""
    request = _request("EmployeeMod" if modify else "EmployeeAdd", request_id)
    body = _object(request, "Employee", modify, "ListID")
    _bool(body, "IsActive", is_active)
    _text(body, "FirstName", first_name)
    _text(body, "LastName", last_name)
    _address(body, "EmployeeAddress", address, most_lines=2)
    _text(body, "Phone", phone)
    _text(body, "Email", email)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


# ------------------------------------------------------------------------------------------ items


def _sales_or_purchase(body: Any, modify: Modify | None, part: SalesOrPurchase | SalesAndPurchase) -> None:
    suffix = "Mod" if modify else ""
    if isinstance(part, SalesOrPurchase):
        element = etree.SubElement(body, f"SalesOrPurchase{suffix}")
        _text(element, "Desc", part.desc)
        _price(element, "Price", part.price)
        _ref(element, "AccountRef", part.account)
        return
    element = etree.SubElement(body, f"SalesAndPurchase{suffix}")
    _text(element, "SalesDesc", part.sales_desc)
    _price(element, "SalesPrice", part.sales_price)
    _ref(element, "IncomeAccountRef", part.income_account)
    _text(element, "PurchaseDesc", part.purchase_desc)
    _price(element, "PurchaseCost", part.purchase_cost)
    _ref(element, "ExpenseAccountRef", part.expense_account)


def item_service(
    request_id: str,
    *,
    modify: Modify | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    sales_tax_code: Ref | None = None,
    sales: SalesOrPurchase | SalesAndPurchase | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """ItemServiceAddRq / ItemServiceModRq (a service item has no ManufacturerPartNumber in qbXML 13.0)."""
    _name_required("ItemService", name, modify)
    if sales is None and modify is None:
        raise ValueError("ItemServiceAdd needs SalesOrPurchase or SalesAndPurchase")
    request = _request("ItemServiceMod" if modify else "ItemServiceAdd", request_id)
    body = _object(request, "ItemService", modify, "ListID")
    _text(body, "Name", name)
    _bool(body, "IsActive", is_active)
    _ref(body, "SalesTaxCodeRef", sales_tax_code)
    if sales is not None:
        _sales_or_purchase(body, modify, sales)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


def item_non_inventory(
    request_id: str,
    *,
    modify: Modify | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    manufacturer_part_number: str | None = None,
    sales_tax_code: Ref | None = None,
    sales: SalesOrPurchase | SalesAndPurchase | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """ItemNonInventoryAddRq / ItemNonInventoryModRq."""
    _name_required("ItemNonInventory", name, modify)
    if sales is None and modify is None:
        raise ValueError("ItemNonInventoryAdd needs SalesOrPurchase or SalesAndPurchase")
    request = _request("ItemNonInventoryMod" if modify else "ItemNonInventoryAdd", request_id)
    body = _object(request, "ItemNonInventory", modify, "ListID")
    _text(body, "Name", name)
    _bool(body, "IsActive", is_active)
    _text(body, "ManufacturerPartNumber", manufacturer_part_number)
    _ref(body, "SalesTaxCodeRef", sales_tax_code)
    if sales is not None:
        _sales_or_purchase(body, modify, sales)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


def item_inventory(
    request_id: str,
    *,
    modify: Modify | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    manufacturer_part_number: str | None = None,
    sales_tax_code: Ref | None = None,
    sales_desc: str | None = None,
    sales_price: Decimal | None = None,
    income_account: Ref | None = None,
    purchase_desc: str | None = None,
    purchase_cost: Decimal | None = None,
    cogs_account: Ref | None = None,
    asset_account: Ref | None = None,
    quantity_on_hand: Decimal | None = None,
    inventory_date: date | None = None,
    external_guid: str | None = None,
    include: Sequence[str] = (),
) -> Any:
    """ItemInventoryAddRq / ItemInventoryModRq. The quantity on hand and its date are the opening balance,
    set by the Add only (ItemInventoryMod has neither: later changes are inventory adjustments)."""
    _name_required("ItemInventory", name, modify)
    if modify is not None and (quantity_on_hand is not None or inventory_date is not None):
        raise ValueError("ItemInventoryMod cannot set the quantity on hand")
    request = _request("ItemInventoryMod" if modify else "ItemInventoryAdd", request_id)
    body = _object(request, "ItemInventory", modify, "ListID")
    _text(body, "Name", name)
    _bool(body, "IsActive", is_active)
    _text(body, "ManufacturerPartNumber", manufacturer_part_number)
    _ref(body, "SalesTaxCodeRef", sales_tax_code)
    _text(body, "SalesDesc", sales_desc)
    _price(body, "SalesPrice", sales_price)
    _ref(body, "IncomeAccountRef", income_account)
    _text(body, "PurchaseDesc", purchase_desc)
    _price(body, "PurchaseCost", purchase_cost)
    _ref(body, "COGSAccountRef", cogs_account)
    _ref(body, "AssetAccountRef", asset_account)
    _price(body, "QuantityOnHand", quantity_on_hand)
    _day(body, "InventoryDate", inventory_date)
    _guid(body, "ExternalGUID", external_guid, modify)
    _include(request, include)
    return request


# ------------------------------------------------------------------------------------------ transactions


def _line(body: Any, tag: str, modify: Modify | None, line: Line, rate_tag: str = "Rate") -> None:
    """One line: ItemRef, Desc, Quantity, Rate (a bill's Cost), Amount[, SalesTaxCodeRef][, LinkToTxn].
    LinkToTxn is written in a BillAdd's ItemLineAdd only, where qbxml130.xsd places it (after
    OverrideItemAccountRef, which is never written)."""
    kind = f"{tag}{'Mod' if modify else 'Add'}"
    if line.link is not None and kind != "ItemLineAdd":
        raise ValueError(f"only a BillAdd's ItemLineAdd links to a purchase order line, not {kind}")
    element = etree.SubElement(body, kind)
    if modify is not None:
        _text(element, "TxnLineID", line.txn_line_id)
    _ref(element, "ItemRef", line.item)
    _text(element, "Desc", line.desc)
    _price(element, "Quantity", line.quantity)
    _price(element, rate_tag, line.rate)
    _amount(element, "Amount", line.amount)
    _ref(element, "SalesTaxCodeRef", line.sales_tax_code)
    if line.link is not None:
        link = etree.SubElement(element, "LinkToTxn")
        _text(link, "TxnID", line.link.txn_id)
        _text(link, "TxnLineID", line.link.txn_line_id)


def _sales_document(
    entity: str,
    request_id: str,
    *,
    modify: Modify | None,
    customer: Ref | None,
    txn_date: date | None,
    ref_number: str | None,
    terms: Ref | None,
    due_date: date | None,
    memo: str | None,
    external_guid: str | None,
    lines: Sequence[Line],
    include: Sequence[str],
) -> Any:
    if customer is None and modify is None:
        raise ValueError(f"{entity}Add needs a CustomerRef")
    request = _request(f"{entity}{'Mod' if modify else 'Add'}", request_id)
    body = _object(request, entity, modify, "TxnID")
    _ref(body, "CustomerRef", customer)
    _day(body, "TxnDate", txn_date)
    _text(body, "RefNumber", ref_number)
    _ref(body, "TermsRef", terms)
    _day(body, "DueDate", due_date)
    _text(body, "Memo", memo)
    _guid(body, "ExternalGUID", external_guid, modify)
    for line in lines:
        _line(body, f"{entity}Line", modify, line)
    _include(request, include)
    return request


def invoice(
    request_id: str,
    *,
    modify: Modify | None = None,
    customer: Ref | None = None,
    txn_date: date | None = None,
    ref_number: str | None = None,
    terms: Ref | None = None,
    due_date: date | None = None,
    memo: str | None = None,
    external_guid: str | None = None,
    lines: Sequence[Line] = (),
    include: Sequence[str] = (),
) -> Any:
    """InvoiceAddRq / InvoiceModRq."""
    return _sales_document(
        "Invoice",
        request_id,
        modify=modify,
        customer=customer,
        txn_date=txn_date,
        ref_number=ref_number,
        terms=terms,
        due_date=due_date,
        memo=memo,
        external_guid=external_guid,
        lines=lines,
        include=include,
    )


def credit_memo(
    request_id: str,
    *,
    modify: Modify | None = None,
    customer: Ref | None = None,
    txn_date: date | None = None,
    ref_number: str | None = None,
    memo: str | None = None,
    external_guid: str | None = None,
    lines: Sequence[Line] = (),
    include: Sequence[str] = (),
) -> Any:
    """CreditMemoAddRq / CreditMemoModRq."""
    if not lines and modify is None:
        raise ValueError("CreditMemoAdd needs at least one line")
    return _sales_document(
        "CreditMemo",
        request_id,
        modify=modify,
        customer=customer,
        txn_date=txn_date,
        ref_number=ref_number,
        terms=None,
        due_date=None,
        memo=memo,
        external_guid=external_guid,
        lines=lines,
        include=include,
    )


def receive_payment(
    request_id: str,
    *,
    modify: Modify | None = None,
    customer: Ref | None = None,
    txn_date: date | None = None,
    ref_number: str | None = None,
    total_amount: Decimal | None = None,
    payment_method: Ref | None = None,
    memo: str | None = None,
    deposit_to_account: Ref | None = None,
    external_guid: str | None = None,
    applied: Sequence[AppliedToTxn] = (),
    include: Sequence[str] = (),
) -> Any:
    """ReceivePaymentAddRq / ReceivePaymentModRq. An Add applies the payment to `applied` invoices, or with
    none says IsAutoApply false (the Add needs one or the other; false keeps it all as the customer's
    credit rather than letting QuickBooks choose invoices)."""
    if customer is None and modify is None:
        raise ValueError("ReceivePaymentAdd needs a CustomerRef")
    request = _request("ReceivePaymentMod" if modify else "ReceivePaymentAdd", request_id)
    body = _object(request, "ReceivePayment", modify, "TxnID")
    _ref(body, "CustomerRef", customer)
    _day(body, "TxnDate", txn_date)
    _text(body, "RefNumber", ref_number)
    _amount(body, "TotalAmount", total_amount)
    _ref(body, "PaymentMethodRef", payment_method)
    _text(body, "Memo", memo)
    _ref(body, "DepositToAccountRef", deposit_to_account)
    _guid(body, "ExternalGUID", external_guid, modify)
    if not applied and modify is None:
        _bool(body, "IsAutoApply", False)
    for application in applied:
        element = etree.SubElement(body, f"AppliedToTxn{'Mod' if modify else 'Add'}")
        _text(element, "TxnID", application.txn_id)
        _amount(element, "PaymentAmount", application.payment_amount)
        for credit in application.credits:
            set_credit = etree.SubElement(element, "SetCredit")
            _text(set_credit, "CreditTxnID", credit.credit_txn_id)
            _amount(set_credit, "AppliedAmount", credit.applied_amount)
    _include(request, include)
    return request


def purchase_order(
    request_id: str,
    *,
    modify: Modify | None = None,
    vendor: Ref | None = None,
    txn_date: date | None = None,
    ref_number: str | None = None,
    is_manually_closed: bool | None = None,
    memo: str | None = None,
    external_guid: str | None = None,
    lines: Sequence[Line] = (),
    include: Sequence[str] = (),
) -> Any:
    """PurchaseOrderAddRq / PurchaseOrderModRq. Only a Mod can close a purchase order (IsManuallyClosed)."""
    if modify is None and (vendor is None or not lines):
        raise ValueError("PurchaseOrderAdd needs a VendorRef and at least one line")
    if modify is None and is_manually_closed is not None:
        raise ValueError("PurchaseOrderAdd has no IsManuallyClosed")
    request = _request("PurchaseOrderMod" if modify else "PurchaseOrderAdd", request_id)
    body = _object(request, "PurchaseOrder", modify, "TxnID")
    _ref(body, "VendorRef", vendor)
    _day(body, "TxnDate", txn_date)
    _text(body, "RefNumber", ref_number)
    _bool(body, "IsManuallyClosed", is_manually_closed)
    _text(body, "Memo", memo)
    _guid(body, "ExternalGUID", external_guid, modify)
    for line in lines:
        if line.sales_tax_code is not None:
            raise ValueError("purchase order lines have no SalesTaxCodeRef")
        _line(body, "PurchaseOrderLine", modify, line)
    _include(request, include)
    return request


def bill(
    request_id: str,
    *,
    modify: Modify | None = None,
    vendor: Ref | None = None,
    txn_date: date | None = None,
    due_date: date | None = None,
    ref_number: str | None = None,
    terms: Ref | None = None,
    memo: str | None = None,
    external_guid: str | None = None,
    expense_lines: Sequence[ExpenseLine] = (),
    item_lines: Sequence[Line] = (),
    clear_expense_lines: bool = False,
    clear_item_lines: bool = False,
    include: Sequence[str] = (),
) -> Any:
    """BillAddRq / BillModRq. The Add links item lines to purchase order lines one by one (`Line.link`,
    ItemLineAdd/LinkToTxn), never a whole order: BillAdd's LinkToTxnID "links in all line items from a
    PurchaseOrder" (https://developer.intuit.com/app/developer/qbdesktop/docs/api-reference/qbdesktop/billadd),
    which would add the order's lines to the bill's own. A Mod cannot link. A Mod's ClearExpenseLines /
    ClearItemLines delete every line of that kind."""
    if vendor is None and modify is None:
        raise ValueError("BillAdd needs a VendorRef")
    if modify is None and (clear_expense_lines or clear_item_lines):
        raise ValueError("only BillMod clears lines")
    request = _request("BillMod" if modify else "BillAdd", request_id)
    body = _object(request, "Bill", modify, "TxnID")
    _ref(body, "VendorRef", vendor)
    _day(body, "TxnDate", txn_date)
    _day(body, "DueDate", due_date)
    _text(body, "RefNumber", ref_number)
    _ref(body, "TermsRef", terms)
    _text(body, "Memo", memo)
    _guid(body, "ExternalGUID", external_guid, modify)
    if clear_expense_lines:
        _bool(body, "ClearExpenseLines", True)
    for expense in expense_lines:
        element = etree.SubElement(body, f"ExpenseLine{'Mod' if modify else 'Add'}")
        if modify is not None:
            _text(element, "TxnLineID", expense.txn_line_id)
        _ref(element, "AccountRef", expense.account)
        _amount(element, "Amount", expense.amount)
        _text(element, "Memo", expense.memo)
    if clear_item_lines:
        _bool(body, "ClearItemLines", True)
    for line in item_lines:
        if line.sales_tax_code is not None:
            raise ValueError("bill item lines have no SalesTaxCodeRef")
        _line(body, "ItemLine", modify, line, rate_tag="Cost")
    _include(request, include)
    return request


def txn_void(request_id: str, txn_type: str, txn_id: str) -> Any:
    """TxnVoidRq: the transaction stays, its amounts at zero (TxnVoidType: Invoice, CreditMemo, Bill, ...)."""
    if txn_type not in VOIDABLE:
        raise ValueError(f"QuickBooks Desktop cannot void a {txn_type}; one of {sorted(VOIDABLE)}")
    request = _request("TxnVoid", request_id)
    _text(request, "TxnVoidType", txn_type)
    _text(request, "TxnID", txn_id)
    return request


def txn_del(request_id: str, txn_type: str, txn_id: str) -> Any:
    """TxnDelRq: the transaction is gone (ReceivePayment has no void in TxnVoidType, 13.0 or 16.0)."""
    if txn_type not in DELETABLE:
        raise ValueError(f"{txn_type} is not a transaction the service deletes")
    request = _request("TxnDel", request_id)
    _text(request, "TxnDelType", txn_type)
    _text(request, "TxnID", txn_id)
    return request


# ------------------------------------------------------------------------------------------ queries


def _paged(entity: str, request: Any, paging: Paging | None) -> int | None:
    """Sets the iterator attributes; the MaxReturned of the page, if paged."""
    if paging is None:
        return None
    if entity not in ITERATING:
        raise ValueError(f"{entity}Query has no iterator")
    request.set("iterator", "Start" if paging.iterator_id is None else "Continue")
    if paging.iterator_id is not None:
        request.set("iteratorID", paging.iterator_id)
    return paging.max_returned


def _one_of(entity: str, **choices: bool) -> None:
    """The query's xsd:choice: ids, names (or numbers), or a filter (which an iterator pages)."""
    given = [name for name, value in choices.items() if value]
    if len(given) > 1:
        raise ValueError(f"{entity}Query takes one of {', '.join(choices)}; got {', '.join(given)}")


def _tail(entity: str, request: Any, include: Sequence[str], owner_ids: Sequence[str]) -> Any:
    """A query's last elements: IncludeRetElement*, OwnerID*."""
    _include(request, include)
    if owner_ids and entity not in _OWNER_ID:
        raise ValueError(f"{entity}Query has no OwnerID")
    for owner_id in owner_ids:
        _text(request, "OwnerID", owner_id)
    return request


def list_query(
    entity: str,
    request_id: str,
    *,
    list_ids: Sequence[str] = (),
    full_names: Sequence[str] = (),
    max_returned: int | None = None,
    active_status: str | None = None,  # ActiveOnly (QuickBooks' default) | InactiveOnly | All
    modified_from: datetime | None = None,
    modified_to: datetime | None = None,
    paging: Paging | None = None,
    include: Sequence[str] = (),
    owner_ids: Sequence[str] = (),
) -> Any:
    """`<entity>QueryRq` of a list (Customer, Vendor, Employee, Item, Account, Terms, PaymentMethod,
    SalesTaxCode, ItemSalesTax, ItemSalesTaxGroup, Class): by ListIDs, by FullNames, or by a filter (active
    status, modified-date range in company-local time), paged where the query has an iterator."""
    if entity not in LIST_QUERIES:
        raise ValueError(f"{entity} is not a list query; one of {sorted(LIST_QUERIES)}")
    filtered = any(x is not None for x in (max_returned, active_status, modified_from, modified_to, paging))
    _one_of(entity, list_ids=bool(list_ids), full_names=bool(full_names), filter=filtered)
    request = _request(f"{entity}Query", request_id)
    max_returned = _paged(entity, request, paging) or max_returned
    for list_id in list_ids:
        _text(request, "ListID", list_id)
    for full_name in full_names:
        _text(request, "FullName", full_name)
    if max_returned is not None:
        _text(request, "MaxReturned", str(max_returned))
    _text(request, "ActiveStatus", active_status)
    _time(request, "FromModifiedDate", modified_from)
    _time(request, "ToModifiedDate", modified_to)
    return _tail(entity, request, include, owner_ids)


def txn_query(
    entity: str,
    request_id: str,
    *,
    txn_ids: Sequence[str] = (),
    ref_numbers: Sequence[str] = (),
    max_returned: int | None = None,
    modified_from: datetime | None = None,
    modified_to: datetime | None = None,
    paging: Paging | None = None,
    include_line_items: bool | None = None,
    include_linked_txns: bool | None = None,
    include: Sequence[str] = (),
    owner_ids: Sequence[str] = (),
) -> Any:
    """`<entity>QueryRq` of a transaction (Invoice, CreditMemo, ReceivePayment, PurchaseOrder, Bill): by
    TxnIDs, by RefNumbers, or by a modified-date range in company-local time, paged by an iterator."""
    if entity not in TXN_QUERIES:
        raise ValueError(f"{entity} is not a transaction query; one of {sorted(TXN_QUERIES)}")
    filtered = any(x is not None for x in (max_returned, modified_from, modified_to, paging))
    if include_linked_txns is not None and entity not in _LINKED_TXNS:
        raise ValueError(f"{entity}Query has no IncludeLinkedTxns")
    _one_of(entity, txn_ids=bool(txn_ids), ref_numbers=bool(ref_numbers), filter=filtered)
    request = _request(f"{entity}Query", request_id)
    max_returned = _paged(entity, request, paging) or max_returned
    for txn_id in txn_ids:
        _text(request, "TxnID", txn_id)
    for ref_number in ref_numbers:
        _text(request, "RefNumber", ref_number)
    if max_returned is not None:
        _text(request, "MaxReturned", str(max_returned))
    if modified_from is not None or modified_to is not None:
        dates = etree.SubElement(request, "ModifiedDateRangeFilter")
        _time(dates, "FromModifiedDate", modified_from)
        _time(dates, "ToModifiedDate", modified_to)
    _bool(request, "IncludeLineItems", include_line_items)
    _bool(request, "IncludeLinkedTxns", include_linked_txns)
    return _tail(entity, request, include, owner_ids)


def txn_deleted_query(
    request_id: str,
    *,
    txn_types: Sequence[str],
    deleted_from: datetime | None = None,
    deleted_to: datetime | None = None,
    include: Sequence[str] = (),
) -> Any:
    """TxnDeletedQueryRq: transactions of `txn_types` deleted in a date range (company-local time); how
    payments deleted in QuickBooks are found."""
    if not txn_types:
        raise ValueError("TxnDeletedQuery needs at least one TxnDelType")
    request = _request("TxnDeletedQuery", request_id)
    for txn_type in txn_types:
        _text(request, "TxnDelType", txn_type)
    if deleted_from is not None or deleted_to is not None:
        dates = etree.SubElement(request, "DeletedDateRangeFilter")
        _time(dates, "FromDeletedDate", deleted_from)
        _time(dates, "ToDeletedDate", deleted_to)
    _include(request, include)
    return request


def list_deleted_query(
    request_id: str,
    *,
    list_types: Sequence[str],
    deleted_from: datetime | None = None,
    include: Sequence[str] = (),
) -> Any:
    """ListDeletedQueryRq (ListDelType+, DeletedDateRangeFilter?, IncludeRetElement*): the entries of
    `list_types` (ListDelType: "Customer", "ItemService", "StandardTerms", ...) deleted since `deleted_from`
    (company-local time), or all QuickBooks remembers without it."""
    if not list_types:
        raise ValueError("ListDeletedQuery needs at least one ListDelType")
    request = _request("ListDeletedQuery", request_id)
    for list_type in list_types:
        _text(request, "ListDelType", list_type)
    if deleted_from is not None:
        _time(etree.SubElement(request, "DeletedDateRangeFilter"), "FromDeletedDate", deleted_from)
    _include(request, include)
    return request


def host_query(request_id: str, *, include: Sequence[str] = ()) -> Any:
    """HostQueryRq: the product, its version and the qbXML versions it supports."""
    request = _request("HostQuery", request_id)
    _include(request, include)
    return request


def company_query(request_id: str, *, owner_ids: Sequence[str] = (), include: Sequence[str] = ()) -> Any:
    """CompanyQueryRq; with our OwnerID, the company's DataExt under it (the Web Connector's FileID) too."""
    request = _request("CompanyQuery", request_id)
    _include(request, include)
    for owner_id in owner_ids:
        _text(request, "OwnerID", owner_id)
    return request


def preferences_query(request_id: str, *, include: Sequence[str] = ()) -> Any:
    """PreferencesQueryRq: the company's preferences (sales tax defaults, inventory on or off, ...)."""
    request = _request("PreferencesQuery", request_id)
    _include(request, include)
    return request
