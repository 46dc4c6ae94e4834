"""Canonical records: what the host app pushes, before any QuickBooks edition is involved.

These models check the shape of a record and the rules every edition shares (money has at most two
decimal places, a line's amount is its quantity times its rate, a payment cannot apply more than it brings).
The limits that differ between QuickBooks Online and Desktop (name lengths, document numbers, ...) live in
`validation`.

Ids that point at other records (`customer_id`, `item_id`, ...) are the host app's own record ids, never
QuickBooks ids: the engine maps them when it sends the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qbsync.domain.mirror import fold
from qbsync.domain.settings import ListName
from qbsync.domain.tenants import Edition

if TYPE_CHECKING:  # only for annotations: the sync state builds on the records, not the reverse
    from qbsync.domain.settings import SyncSettings
    from qbsync.domain.sync import SyncRecord, SyncState

CENT = Decimal("0.01")


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")  # noqa: TRY004 (pydantic wants ValueError)
    return value


def _unsigned_zero(value: Decimal) -> Decimal:
    # Decimal keeps the sign of zero ("-0" is Decimal("-0")); no amount or quantity is a negative zero.
    return value if value else abs(value)


def _to_cents(value: Decimal) -> Decimal:
    # Exact: the field already refused more than two decimal places. "100", 1e2 and "100.0" all become 100.00.
    return _unsigned_zero(value.quantize(CENT))


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, bool | int | float | Decimal):
        raise ValueError("dates are ISO 8601 strings such as 2024-01-31, not numbers")  # noqa: TRY004
    if isinstance(value, datetime):
        raise ValueError("expected a date such as 2024-01-31, not a date and time")  # noqa: TRY004
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Money: at most 2 decimal places and 10 digits before the point (QBO amounts are "10.5" at most, NOTES §4.2;
# qbXML AMTTYPE allows 13.2). Binary floats such as 0.1 + 0.2 carry many digits and are refused.
MONEY_MAX_DIGITS = 12
MONEY_MAX = Decimal(10) ** (MONEY_MAX_DIGITS - 2) - CENT  # 9999999999.99
Money = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(max_digits=MONEY_MAX_DIGITS, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
PositiveMoney = Annotated[Money, Field(gt=0)]
# Quantities and unit rates: qbXML QUANTYPE / PRICETYPE are 10 digits before the point and at most 5 after.
Quantity = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(ge=0, max_digits=15, decimal_places=5, allow_inf_nan=False),
    AfterValidator(_unsigned_zero),
]
Rate = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(max_digits=15, decimal_places=5, allow_inf_nan=False),
    AfterValidator(_unsigned_zero),
]
NonNegativeRate = Annotated[Rate, Field(ge=0)]
Day = Annotated[date, BeforeValidator(_iso_date_only)]

RECORD_ID_MAX = 64
# The host app's id of a record, the same in a URL path (/records/invoice/inv-7), in a bulk push and in a
# reference such as `customer_id`: 1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or
# digit (the alphabet of tenant ids). These are RFC 3986 §2.3 unreserved characters, which a URL carries as
# they are: there is nothing to percent-encode, so no id depends on how often a path is decoded, and no id is
# a dot segment ('.', '..') that clients remove from paths. Kept as sent (never stripped: ids are keys).
RECORD_ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{RECORD_ID_MAX - 1}}}$"
RecordId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=1, max_length=RECORD_ID_MAX, pattern=RECORD_ID_PATTERN
    ),
]
# Text that must be present; surrounding whitespace is dropped (the model strips every string).
Text = Annotated[str, StringConstraints(min_length=1)]
# Optional text: a blank string means "not given".
OptionalText = Annotated[Text | None, BeforeValidator(_blank_to_none)]


class Record(BaseModel):
    """Base of every canonical model: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(Record):
    line1: OptionalText = None
    line2: OptionalText = None
    line3: OptionalText = None
    city: OptionalText = None
    state: OptionalText = None
    postal_code: OptionalText = None
    country: OptionalText = None


class _Person(Record):
    """The name list entries QuickBooks keeps in one name space: customers, vendors and employees."""

    display_name: Text
    given_name: OptionalText = None
    family_name: OptionalText = None
    email: OptionalText = None
    phone: OptionalText = None
    active: bool = True


class _Company(_Person):
    company_name: OptionalText = None
    notes: OptionalText = None


class Customer(_Company):
    """A customer, or a sub-customer / job when `parent_id` names another customer. `terms`: the name of the
    payment terms its invoices take when they name none (checked as the settings check a list name).
    `created_on`: the day the host app created it, for the initial sync's `sync_since`."""

    billing_address: Address | None = None
    shipping_address: Address | None = None
    parent_id: RecordId | None = None
    terms: Annotated[ListName | None, BeforeValidator(_blank_to_none)] = None
    # The day the host app created the customer: what the initial sync's `sync_since` compares. Not sent to
    # QuickBooks (neither edition lets a customer's creation time be written).
    created_on: Day | None = None


class Vendor(_Company):
    address: Address | None = None
    account_number: OptionalText = None


class Employee(_Person):
    address: Address | None = None


class ItemKind(StrEnum):
    SERVICE = "service"
    NON_INVENTORY = "non_inventory"
    INVENTORY = "inventory"


class Item(Record):
    """A product or service. Only inventory items track a quantity on hand (as of a date)."""

    kind: ItemKind
    name: Text
    sku: OptionalText = None
    description: OptionalText = None
    sales_price: NonNegativeRate | None = None
    purchase_cost: NonNegativeRate | None = None
    income_account: OptionalText = None
    expense_account: OptionalText = None
    asset_account: OptionalText = None
    quantity_on_hand: Quantity | None = None
    quantity_as_of: Day | None = None
    taxable: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _check_stock(self) -> Self:
        if self.kind is not ItemKind.INVENTORY:
            tracked = [
                f
                for f in ("quantity_on_hand", "quantity_as_of", "asset_account")
                if getattr(self, f) is not None
            ]
            if tracked:
                raise ValueError(f"only inventory items track stock; remove {', '.join(tracked)}")
        elif (self.quantity_on_hand is None) != (self.quantity_as_of is None):
            raise ValueError("give quantity_on_hand and quantity_as_of together")
        return self


def line_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    """Quantity times rate, rounded half-up to cents: how every line's amount is computed and checked."""
    return _unsigned_zero((quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP))


def _check_money(what: str, amount: Decimal) -> Decimal:
    """`amount` if it fits in a Money field; computed amounts and totals are held to the same limit."""
    if abs(amount) > MONEY_MAX:
        raise ValueError(
            f"{what} is {amount}; an amount can be at most {MONEY_MAX} (10 digits before the point)"
        )
    return amount


def _computed_amount(quantity: Any, rate: Any, amount: Decimal | None) -> Decimal | None:
    """The amount of an item line priced by quantity x rate; when the amount is given too they must agree.

    Returns `amount` untouched when the line is not priced by quantity and rate (or they did not validate):
    the line's own checks say what it needs then.
    """
    if not isinstance(quantity, Decimal) or not isinstance(rate, Decimal):
        return amount
    expected = _check_money(f"quantity x rate = {quantity} x {rate}", line_amount(quantity, rate))
    if amount is not None and amount != expected:
        raise ValueError(f"amount {amount} does not equal quantity x rate = {quantity} x {rate} = {expected}")
    return expected


class SalesLine(Record):
    """An invoice or credit memo line. A line without `item_id` is a description-only line."""

    item_id: RecordId | None = None
    description: OptionalText = None
    quantity: Quantity | None = None
    rate: Rate | None = None
    # Validated even when absent: an item line's amount is computed from quantity x rate (fields above it).
    amount: Money | None = Field(default=None, validate_default=True)
    tax_code: OptionalText = None  # e.g. TAX or NON (US companies)

    @field_validator("amount")
    @classmethod
    def _settle_amount(cls, amount: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if info.data.get("item_id") is None:
            return amount  # description-only (or an item_id that did not validate): checked below
        return _computed_amount(info.data.get("quantity"), info.data.get("rate"), amount)

    @model_validator(mode="after")
    def _settle(self) -> Self:
        if self.item_id is None:
            priced = [f for f in ("quantity", "rate", "amount") if getattr(self, f) is not None]
            if priced:
                raise ValueError(f"a line without item_id is description-only; remove {', '.join(priced)}")
            if self.description is None:
                raise ValueError("a line needs an item_id or a description")
        elif self.amount is None:
            raise ValueError("give the amount, or both quantity and rate")
        return self


def _lines_total(lines: list[SalesLine] | list[PurchaseLine]) -> Decimal:
    return sum((line.amount for line in lines if line.amount is not None), Decimal("0.00"))


class _Document(Record):
    """What sales and purchase documents share: numbering, date, memo, and lines that add up."""

    doc_number: OptionalText = None
    txn_date: Day | None = None
    memo: OptionalText = None
    lines: list[SalesLine] | list[PurchaseLine]

    @property
    def total(self) -> Decimal:
        return _lines_total(self.lines)

    @field_validator("lines")
    @classmethod
    def _check_total(
        cls, lines: list[SalesLine] | list[PurchaseLine]
    ) -> list[SalesLine] | list[PurchaseLine]:
        total = _check_money("the total of the lines", _lines_total(lines))
        if total < 0:
            raise ValueError(f"the lines add up to {total}; a document's total cannot be negative")
        return lines


class _DueDocument(_Document):
    """A document with payment terms: due no earlier than it is dated."""

    due_date: Day | None = None
    terms: OptionalText = None

    @model_validator(mode="after")
    def _check_due_date(self) -> Self:
        if self.due_date is not None and self.txn_date is not None and self.due_date < self.txn_date:
            raise ValueError("due_date is before txn_date")
        return self


class _SalesDocument(_Document):
    customer_id: RecordId
    lines: list[SalesLine] = Field(min_length=1)


class Invoice(_SalesDocument, _DueDocument):
    """An invoice: at least one line; a total of zero is allowed."""


class CreditMemo(_SalesDocument):
    """Credit given to a customer; it is used up by applying it in a payment."""


class PaymentApplication(Record):
    """Part of a payment applied to one invoice, or one credit memo used in the payment."""

    invoice_id: RecordId | None = None
    credit_memo_id: RecordId | None = None
    amount: PositiveMoney

    @model_validator(mode="after")
    def _check_target(self) -> Self:
        if (self.invoice_id is None) == (self.credit_memo_id is None):
            raise ValueError("give exactly one of invoice_id and credit_memo_id")
        return self

    @property
    def target(self) -> tuple[str, str]:
        if self.invoice_id is not None:
            return ("invoice", self.invoice_id)
        assert self.credit_memo_id is not None  # checked at construction
        return ("credit_memo", self.credit_memo_id)


class Payment(Record):
    """Money received from a customer.

    Credit memos used in a payment add to what it can pay, as in QuickBooks: `applied` is what goes to
    invoices minus the credits used, and may not exceed `total_amount`; the rest stays `unapplied` (an
    overpayment, kept as a credit for the customer).
    """

    customer_id: RecordId
    txn_date: Day | None = None
    total_amount: NonNegativeMoney
    method: OptionalText = None
    reference_number: OptionalText = None
    deposit_account: OptionalText = None  # None or blank: Undeposited Funds
    memo: OptionalText = None
    applications: list[PaymentApplication] = Field(default_factory=list)

    @field_validator("applications")
    @classmethod
    def _check_sums(cls, applications: list[PaymentApplication]) -> list[PaymentApplication]:
        # Each application fits in Money; so must their sums, which `applied` and `unapplied` are made of.
        for kind, what in (("invoice", "applied to invoices"), ("credit_memo", "of credits used")):
            amounts = (a.amount for a in applications if a.target[0] == kind)
            _check_money(f"the amount {what}", sum(amounts, Decimal("0.00")))
        return applications

    @property
    def applied_to_invoices(self) -> Decimal:
        return sum((a.amount for a in self.applications if a.invoice_id is not None), Decimal("0.00"))

    @property
    def credits_used(self) -> Decimal:
        return sum((a.amount for a in self.applications if a.credit_memo_id is not None), Decimal("0.00"))

    @property
    def applied(self) -> Decimal:
        return self.applied_to_invoices - self.credits_used

    @property
    def unapplied(self) -> Decimal:
        return self.total_amount - self.applied

    @model_validator(mode="after")
    def _check_applications(self) -> Self:
        if self.credits_used > self.applied_to_invoices:
            raise ValueError(
                f"credits used ({self.credits_used}) exceed the amount applied to invoices "
                f"({self.applied_to_invoices}); a credit memo can only pay invoices"
            )
        if self.applied > self.total_amount:
            raise ValueError(
                f"applications add up to {self.applied}, more than the payment's {self.total_amount}"
            )
        return self


class PurchaseLine(Record):
    """A purchase order or bill line: an item (quantity x rate) or an expense account (amount only)."""

    item_id: RecordId | None = None
    account: OptionalText = None
    description: OptionalText = None
    quantity: Quantity | None = None
    rate: Rate | None = None
    # Validated even when absent: an item line's amount is computed from quantity x rate (fields above it).
    amount: Money | None = Field(default=None, validate_default=True)

    @field_validator("amount")
    @classmethod
    def _settle_amount(cls, amount: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if info.data.get("account") is not None:
            return amount  # an account line has an amount only: checked below
        return _computed_amount(info.data.get("quantity"), info.data.get("rate"), amount)

    @model_validator(mode="after")
    def _settle(self) -> Self:
        if (self.item_id is None) == (self.account is None):
            raise ValueError("give exactly one of item_id and account")
        if self.account is not None:
            priced = [f for f in ("quantity", "rate") if getattr(self, f) is not None]
            if priced:
                raise ValueError(f"an account line has an amount only; remove {', '.join(priced)}")
        if self.amount is None:
            raise ValueError("give the amount, or both quantity and rate")
        return self


class PurchaseOrderStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class _PurchaseDocument(_Document):
    vendor_id: RecordId
    lines: list[PurchaseLine] = Field(min_length=1)


class PurchaseOrder(_PurchaseDocument):
    status: PurchaseOrderStatus = PurchaseOrderStatus.OPEN


class Bill(_PurchaseDocument, _DueDocument):
    purchase_order_id: RecordId | None = None


class Removal(StrEnum):
    """What DELETE of a record does to its copy in QuickBooks."""

    VOID = "void"  # kept, with its amounts at zero
    DELETE = "delete"  # gone; a record brought back is created again
    DEACTIVATE = "deactivate"  # a list entry made inactive: it keeps its name


class NameGroup(StrEnum):
    """Record types whose names share one name space in QuickBooks: a name held by one is refused to another.

    PEOPLE: customers, vendors and employees are one list of names in both editions (QuickBooks Online fault
    6240 "Duplicate Name Exists", shared/reference/qbo/NOTES.md; qbXML status 3100 "The name ... of the list
    element is already in use", shared/reference/qbwc/NOTES.md §3.3). ITEMS: items among themselves.
    """

    PEOPLE = "people"
    ITEMS = "items"


@dataclass(frozen=True)
class RecordTypeSpec:
    """Everything the service knows about one record type, in one place.

    `rank` is the sending order: a record's dependencies (`references`) on other types are always of an
    earlier rank (a sub-customer's parent, a customer too, is sent in an earlier round).
    `name_field` is the field QuickBooks knows the record by, unique within its `name_group`. `lockable`: an
    accepted record locks when the tenant's settings say `lock_after_acceptance`. `removal`: what DELETE does
    in each edition.
    """

    name: str
    model: type[BaseModel]
    rank: int
    name_field: str | None
    name_group: NameGroup | None
    lockable: bool
    removal: Mapping[Edition, Removal]


def _person(name: str, model: type[BaseModel]) -> RecordTypeSpec:
    deactivated = {Edition.QBO: Removal.DEACTIVATE, Edition.QBD: Removal.DEACTIVATE}
    return RecordTypeSpec(name, model, 0, "display_name", NameGroup.PEOPLE, False, deactivated)


def _transaction(
    name: str, model: type[BaseModel], rank: int, online: Removal, desktop: Removal, *, lockable: bool = False
) -> RecordTypeSpec:
    return RecordTypeSpec(
        name, model, rank, None, None, lockable, {Edition.QBO: online, Edition.QBD: desktop}
    )


# The one registry of record types, keyed by the names used in URLs (/records/{record_type}/{record_id}).
# Adding a record type is one entry here, plus its mapping to each edition.
#
# Removal. QuickBooks Online voids invoices and payments; it has no void for credit memos (Intuit in
# intuit/QuickBooks-V3-PHP-SDK#133: "The Operation Void for CreditMemo is not supported"), purchase orders
# or bills, which are deleted (shared/reference/qbo/NOTES.md §3.7 voids invoices, payments, sales receipts
# and bill payments only), and cannot delete list entries, which are made inactive (§3.7). QuickBooks
# Desktop voids what qbxml130.xsd's TxnVoidType lists (Invoice, CreditMemo, Bill), deletes with TxnDelRq
# what only its TxnDelType lists (ReceivePayment, PurchaseOrder), and makes list entries inactive (IsActive
# false in their Mod): shared/reference/qbxml/13.0/qbxml130.xsd, shared/design/desktop.md.
RECORD_TYPES: Mapping[str, RecordTypeSpec] = {
    spec.name: spec
    for spec in (
        _person("customer", Customer),
        _person("vendor", Vendor),
        _person("employee", Employee),
        RecordTypeSpec(
            "item",
            Item,
            rank=0,
            name_field="name",
            name_group=NameGroup.ITEMS,
            lockable=False,
            removal={Edition.QBO: Removal.DEACTIVATE, Edition.QBD: Removal.DEACTIVATE},
        ),
        _transaction("invoice", Invoice, 1, Removal.VOID, Removal.VOID, lockable=True),
        _transaction("payment", Payment, 2, Removal.VOID, Removal.DELETE),
        _transaction("credit_memo", CreditMemo, 1, Removal.DELETE, Removal.VOID),
        _transaction("purchase_order", PurchaseOrder, 1, Removal.DELETE, Removal.DELETE),
        _transaction("bill", Bill, 2, Removal.DELETE, Removal.VOID),
    )
}


def lockable(record: SyncRecord, settings: SyncSettings) -> bool:
    """Whether an accepted record becomes locked under these settings: a lockable type (invoices), when the
    tenant's settings say `lock_after_acceptance`."""
    return settings.lock_after_acceptance and RECORD_TYPES[record.record_type].lockable


def invoice_terms(
    invoice: Invoice, customer_terms: str | None, settings: SyncSettings
) -> tuple[str, str] | None:
    """The terms an invoice is sent with, and the field they come from (what a failure names): its own; else
    its customer's; else the tenant's `default_payment_terms`; None when none of them names any.

    The customer's terms are written on the invoice, not left for QuickBooks to fill in: QuickBooks Online
    does not copy them onto an invoice created without SalesTermRef (it derives only the DueDate: Intuit's
    quickbooks-online-mcp-server#91, "reproduced against a live company"), so an invoice left without them
    would show no terms there. The default never overrides a customer's terms that the host's record names;
    terms a customer has only in QuickBooks are unknown here, so the default is written over them."""
    if invoice.terms is not None:
        return invoice.terms, "terms"
    if customer_terms is not None:
        return customer_terms, "customer.terms"
    if settings.default_payment_terms is not None:
        return settings.default_payment_terms, "settings.default_payment_terms"
    return None


def kept_out(record: BaseModel, settings: SyncSettings) -> str | None:
    """Why the tenant's settings keep this record out of QuickBooks (naming the setting), or None when they
    let it go: a payment whose method is not in `payment_methods_to_sync` ("not be imported or exported")."""
    if isinstance(record, Payment) and not settings.syncs_payment_method(record.method):
        listed = ", ".join(repr(m) for m in settings.payment_methods_to_sync)
        method = "it has no method" if record.method is None else f"its method {record.method!r}"
        return (
            f"kept out of QuickBooks by the setting payment_methods_to_sync: {method} is not one of "
            f"{listed}; change the setting, then send it again"
        )
    return None


def record_type_of(record: BaseModel) -> str:
    for spec in RECORD_TYPES.values():
        if type(record) is spec.model:
            return spec.name
    raise ValueError(f"{type(record).__name__} is not a canonical record")


def reference_fields(record: BaseModel) -> Iterator[tuple[str, str, str]]:
    """(field path, record_type, host record id) of every reference in the record, in field order."""
    match record:
        case Customer(parent_id=str(parent)):
            yield ("parent_id", "customer", parent)
        case Invoice() | CreditMemo():
            yield ("customer_id", "customer", record.customer_id)
            for index, line in enumerate(record.lines):
                if line.item_id is not None:
                    yield (f"lines.{index}.item_id", "item", line.item_id)
        case Payment():
            yield ("customer_id", "customer", record.customer_id)
            for index, application in enumerate(record.applications):
                kind, target_id = application.target
                yield (f"applications.{index}.{kind}_id", kind, target_id)
        case PurchaseOrder() | Bill():
            yield ("vendor_id", "vendor", record.vendor_id)
            if isinstance(record, Bill) and record.purchase_order_id is not None:
                yield ("purchase_order_id", "purchase_order", record.purchase_order_id)
            for index, purchase_line in enumerate(record.lines):
                if purchase_line.item_id is not None:
                    yield (f"lines.{index}.item_id", "item", purchase_line.item_id)
        case _:
            return


DOCUMENT_NUMBER = "doc_number"  # what a bookkeeper knows an invoice, bill ... by


@dataclass(frozen=True)
class RecordFilter:
    """What a listing of one type's records keeps (`state` and `q` of GET .../records/{type}): the records in
    one of `states` (empty: in any) whose id or name holds `text`, ignoring case and accents (`fold`, as the
    mirror's listings compare; None: any). A record's name is its type's `name_field`, or a document's
    number (`doc_number`)."""

    states: frozenset[SyncState] = frozenset()
    text: str | None = None

    def keeps(self, record: SyncRecord) -> bool:
        if self.states and record.state not in self.states:
            return False
        if self.text is None:
            return True
        needle = fold(self.text)
        name_field = RECORD_TYPES[record.record_type].name_field or DOCUMENT_NUMBER
        name = record.data.get(name_field)
        return needle in fold(record.record_id) or (isinstance(name, str) and needle in fold(name))


def references(record: BaseModel) -> list[tuple[str, str]]:
    """Every record this one depends on, as (record_type, host record id), each once, in first-use order.

    Each must exist in QuickBooks before this record is sent: a parent customer before its sub-customer, the
    customer and items before an invoice, the invoices and credit memos before the payment that applies them,
    the vendor, purchase order and items before a bill.
    """
    return list(dict.fromkeys((kind, target_id) for _, kind, target_id in reference_fields(record)))


def parse_record(record_type: str, data: Any) -> BaseModel:
    """Parse one record of a known type from already-decoded JSON; pydantic's ValidationError on bad input."""
    return spec_of(record_type).model.model_validate(data)


def spec_of(record_type: str) -> RecordTypeSpec:
    """The spec of a known record type; ValueError naming the known ones otherwise."""
    try:
        return RECORD_TYPES[record_type]
    except KeyError:
        raise ValueError(f"unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}") from None


__all__ = [
    "RECORD_ID_MAX",
    "RECORD_ID_PATTERN",
    "RECORD_TYPES",
    "Address",
    "Bill",
    "CreditMemo",
    "Customer",
    "Employee",
    "Invoice",
    "Item",
    "ItemKind",
    "NameGroup",
    "Payment",
    "PaymentApplication",
    "PurchaseLine",
    "PurchaseOrder",
    "PurchaseOrderStatus",
    "RecordFilter",
    "RecordId",
    "RecordTypeSpec",
    "Removal",
    "SalesLine",
    "Vendor",
    "invoice_terms",
    "kept_out",
    "line_amount",
    "lockable",
    "parse_record",
    "record_type_of",
    "reference_fields",
    "references",
    "spec_of",
]
