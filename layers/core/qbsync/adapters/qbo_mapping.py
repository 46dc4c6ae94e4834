"""Canonical records as QuickBooks Online JSON, and QuickBooks Online payments as domain payments.

Pure functions: no I/O. `to_qbo` turns one `Write` into the entity, operation and body of one batch item,
using the QuickBooks ids of the host records it refers to (`write.ids`) and the company's reference lists
looked up by name (`Lists`: accounts, terms, payment methods). A name the company does not have becomes a
`Failure` the tenant can act on; nothing is sent for that record.

Money and quantities stay Decimal in the bodies; `qbo_http.encode_json` writes them as exact JSON numbers.

Field names and rules: shared/reference/qbo/NOTES.md §3.4 (batch void), §3.7 (sparse update, void, delete),
§4 (per entity). Credit memos are deleted, not voided: QuickBooks Online has no void for them (Intuit's answer
in intuit/QuickBooks-V3-PHP-SDK#133: "The Operation Void for CreditMemo is not supported").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple, TypeVar

from qbsync.domain.payments import AppliedLine, ReceivedPayment
from qbsync.domain.records import (
    RECORD_TYPES,
    Address,
    Bill,
    CreditMemo,
    Customer,
    Employee,
    Invoice,
    Item,
    ItemKind,
    Payment,
    PurchaseLine,
    PurchaseOrder,
    Removal,
    SalesLine,
    Vendor,
    invoice_terms,
)
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import (
    ACTIVATE_IN_QUICKBOOKS,
    CREATE_IN_QUICKBOOKS,
    EDIT,
    EDIT_SETTINGS,
    Failure,
    MissingReferenceError,
    Operation,
    Write,
    ref_key,
)
from qbsync.domain.tenants import Edition

# Our record types and the QuickBooks Online entities they become.
ENTITIES: Mapping[str, str] = {
    "customer": "Customer",
    "vendor": "Vendor",
    "employee": "Employee",
    "item": "Item",
    "invoice": "Invoice",
    "payment": "Payment",
    "credit_memo": "CreditMemo",
    "purchase_order": "PurchaseOrder",
    "bill": "Bill",
}
ITEM_TYPES: Mapping[ItemKind, str] = {
    ItemKind.SERVICE: "Service",
    ItemKind.NON_INVENTORY: "NonInventory",
    ItemKind.INVENTORY: "Inventory",
}
# Account types QuickBooks requires (NOTES §4.5 inventory items, §4.3 DepositToAccountRef).
INVENTORY_INCOME_TYPES = ("Income", "Other Income")
COGS_TYPES = ("Cost of Goods Sold",)
ASSET_TYPES = ("Other Current Asset",)
DEPOSIT_TYPES = ("Bank", "Other Current Asset")
CENT = Decimal("0.01")

BatchOperation = Literal["create", "update", "delete"]


# ------------------------------------------------------------------------------------------ reference lists


class AccountEntry(NamedTuple):
    id: str
    account_type: str
    account_subtype: str
    active: bool = True
    name: str = ""  # FullyQualifiedName as QuickBooks spells it


class ListEntry(NamedTuple):
    id: str
    active: bool = True
    name: str = ""


def name_key(name: str) -> str:
    """How a list name is looked up: case-insensitive, each level of "Parent:Child" stripped."""
    return ":".join(part.strip() for part in name.split(":")).casefold()


def _numeric_id(entry_id: str) -> tuple[int, str]:
    return (int(entry_id), "") if entry_id.isdigit() else (1 << 62, entry_id)


@dataclass(frozen=True)
class Lists:
    """The company's accounts (by FullyQualifiedName), terms and payment methods (by Name), keyed by
    `name_key`, inactive ones included (so that naming one says it is inactive, not missing)."""

    accounts: Mapping[str, AccountEntry] = field(default_factory=dict)
    terms: Mapping[str, ListEntry] = field(default_factory=dict)
    payment_methods: Mapping[str, ListEntry] = field(default_factory=dict)

    @classmethod
    def from_qbo(
        cls,
        accounts: Iterable[Mapping[str, Any]],
        terms: Iterable[Mapping[str, Any]],
        payment_methods: Iterable[Mapping[str, Any]],
    ) -> Lists:
        """From the Account, Term and PaymentMethod objects of queries; an active entry wins a name clash."""
        return cls(
            accounts=_keyed(
                accounts,
                "FullyQualifiedName",
                lambda e, name: AccountEntry(
                    str(e["Id"]),
                    str(e.get("AccountType") or ""),
                    str(e.get("AccountSubType") or ""),
                    e.get("Active") is not False,
                    name,
                ),
            ),
            terms=_keyed(terms, "Name", _list_entry),
            payment_methods=_keyed(payment_methods, "Name", _list_entry),
        )

    def payment_method_name(self, quickbooks_id: str) -> str | None:
        return next((m.name for m in self.payment_methods.values() if m.id == quickbooks_id), None)

    def first_account(self, account_types: Sequence[str], subtype: str | None = None) -> AccountEntry | None:
        """The active account of the first of `account_types` that has one, lowest Id first; one of
        `subtype` before the others of that type."""
        for account_type in account_types:
            candidates = sorted(
                (a for a in self.accounts.values() if a.active and a.account_type == account_type),
                key=lambda a: (subtype is not None and a.account_subtype != subtype, _numeric_id(a.id)),
            )
            if candidates:
                return candidates[0]
        return None


E = TypeVar("E", AccountEntry, ListEntry)


def _list_entry(raw: Mapping[str, Any], name: str) -> ListEntry:
    return ListEntry(str(raw["Id"]), raw.get("Active") is not False, name)


def _keyed(
    entries: Iterable[Mapping[str, Any]], name_field: str, make: Callable[[Mapping[str, Any], str], E]
) -> dict[str, E]:
    keyed: dict[str, E] = {}
    for raw in entries:
        name = raw.get(name_field) or raw.get("Name")
        if not isinstance(name, str) or raw.get("Id") is None:
            continue
        entry = make(raw, name)
        key = name_key(name)
        if key not in keyed or (entry.active and not keyed[key].active):
            keyed[key] = entry
    return keyed


# ------------------------------------------------------------------------------------------ the mapped write


@dataclass(frozen=True)
class QboWrite:
    """One batch item: the entity, its batch operation, its body; `options` "void" voids (NOTES §3.4)."""

    entity: str
    operation: BatchOperation
    body: dict[str, Any]
    options: str | None = None

    def batch_item(self, bid: str) -> dict[str, Any]:
        item: dict[str, Any] = {"bId": bid, "operation": self.operation}
        if self.options is not None:
            item["optionsData"] = self.options
        item[self.entity] = self.body
        return item


class _Unresolved(Exception):  # noqa: N818 - internal: carries a Failure out of the nested mapping
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def needs_lists(write: Write, settings: SyncSettings) -> bool:  # noqa: PLR0911 - one case per record type
    """Whether mapping this write looks anything up in the company's lists (so they are read only then)."""
    if write.record.operation is Operation.DELETE:
        return False
    match write.model:
        case Item():
            named = (write.model.income_account, write.model.expense_account, write.model.asset_account)
            defaults = (
                settings.default_income_account,
                settings.default_expense_account,
                settings.default_asset_account,
            )
            # a create always needs accounts (by default the company's first of each type); an update only
            # named ones
            return write.record.quickbooks_id is None or any(n is not None for n in (*named, *defaults))
        case Customer():
            return write.model.terms is not None
        case Invoice():
            return invoice_terms(write.model, write.customer_terms, settings) is not None
        case Payment():
            return (
                write.model.method is not None
                or write.model.deposit_account is not None
                or settings.payment_deposit_account is not None
            )
        case PurchaseOrder() | Bill():
            return any(line.account is not None for line in write.model.lines) or (
                isinstance(write.model, Bill) and write.model.terms is not None
            )
        case _:
            return False


def to_qbo(write: Write, refs: Lists, settings: SyncSettings) -> QboWrite | Failure:
    """The batch item that creates, updates, voids, deletes or deactivates this record in QuickBooks Online,
    or the Failure (a name QuickBooks does not have) that keeps it from being sent.

    A create has no Id; an update is sparse with the stored Id and SyncToken. Raises MissingReferenceError
    when `write.ids` lacks a record it refers to, ValueError for a write the engine should never make.
    """
    record = write.record
    entity = ENTITIES.get(record.record_type)
    if entity is None:
        raise ValueError(f"{record.record_type!r} is not a record type QuickBooks Online syncs")
    if record.operation is Operation.DELETE:
        return _removal(record.record_type, entity, record.quickbooks_id, record.quickbooks_version)
    try:
        body = _Mapper(write, refs, settings).body()
    except _Unresolved as unresolved:
        return unresolved.failure
    if record.quickbooks_id is None:
        return QboWrite(entity, "create", body)
    if record.quickbooks_version is None:
        raise ValueError(
            f"{record.key} has QuickBooks id {record.quickbooks_id} but no SyncToken; read it first"
        )
    ids = {"Id": record.quickbooks_id, "SyncToken": record.quickbooks_version, "sparse": True}
    return QboWrite(entity, "update", {**ids, **body})


def _removal(
    record_type: str, entity: str, quickbooks_id: str | None, quickbooks_version: str | None
) -> QboWrite:
    """Void, delete or make inactive, as the record type's removal in QuickBooks Online says (invoices and
    payments are voided, credit memos, purchase orders and bills deleted, list entries made inactive)."""
    if quickbooks_id is None or quickbooks_version is None:
        raise ValueError(f"a {record_type} QuickBooks does not have cannot be voided or deleted there")
    ids: dict[str, Any] = {"Id": quickbooks_id, "SyncToken": quickbooks_version}
    match RECORD_TYPES[record_type].removal[Edition.QBO]:
        case Removal.DEACTIVATE:
            return QboWrite(entity, "update", {**ids, "sparse": True, "Active": False})
        case Removal.VOID if entity == "Payment":  # Payment void is a sparse update with void (NOTES §3.7)
            return QboWrite(entity, "update", {**ids, "sparse": True}, options="void")
        case Removal.VOID:
            return QboWrite(entity, "update", ids, options="void")
        case Removal.DELETE:
            return QboWrite(entity, "delete", ids)


class _Mapper:
    def __init__(self, write: Write, lists: Lists, settings: SyncSettings) -> None:
        self.write = write
        self.lists = lists
        self.settings = settings

    def body(self) -> dict[str, Any]:  # noqa: PLR0911 - one case per record type
        match self.write.model:
            case Customer():
                return self.customer(self.write.model)
            case Vendor():
                return self.vendor(self.write.model)
            case Employee():
                return self.employee(self.write.model)
            case Item():
                return self.item(self.write.model)
            case Invoice():
                return self.invoice(self.write.model)
            case CreditMemo():
                return self.sales_document(self.write.model)
            case Payment():
                return self.payment(self.write.model)
            case PurchaseOrder():
                return self.purchase_order(self.write.model)
            case Bill():
                return self.bill(self.write.model)
            case _:
                raise ValueError(f"{type(self.write.model).__name__} is not a canonical record")

    # -------------------------------------------------------------------------------------- references

    def ref(self, record_type: str, record_id: str) -> dict[str, str]:
        key = ref_key(record_type, record_id)
        quickbooks_id = self.write.ids.get(key)
        if not quickbooks_id:
            raise MissingReferenceError(
                f"{self.write.record.key} refers to {key}, which has no QuickBooks id in this write"
            )
        return {"value": quickbooks_id}

    def account(
        self,
        name: str | None,
        where: str,
        *,
        setting: str | None = None,
        purpose: str,
        allowed: Sequence[str] = (),
        default_types: Sequence[str] = (),
        default_subtype: str | None = None,
    ) -> dict[str, str] | None:
        """The AccountRef for `name` (or the `setting` when the record names none, or else the company's first
        account of `default_types`); None when nothing is named and no default is wanted."""
        from_setting = name is None and setting is not None and getattr(self.settings, setting) is not None
        if from_setting:
            assert setting is not None
            name, where = getattr(self.settings, setting), f"settings.{setting}"
        actions = (EDIT_SETTINGS if from_setting else EDIT, CREATE_IN_QUICKBOOKS)
        if name is None:
            if not default_types or self.write.record.quickbooks_id is not None:
                return None  # an update keeps the account QuickBooks has (a tenant may have changed it there)
            found = self.lists.first_account(default_types, default_subtype)
            if found is None:
                kinds = " or ".join(default_types)
                named_by = f"{where} or the {setting} setting" if setting else where
                raise _Unresolved(
                    Failure(
                        "unknown_account",
                        f"QuickBooks has no active {kinds} account for {purpose}. Name one in {named_by}, "
                        f"or create a {kinds} account in QuickBooks.",
                        actions,
                        where,
                    )
                )
            return {"value": found.id}
        entry = self.lists.accounts.get(name_key(name))
        if entry is None:
            raise _Unresolved(
                Failure(
                    "unknown_account",
                    f"QuickBooks has no account named {name!r} ({where}). Check the spelling (a sub-account "
                    "is named 'Parent:Child'), or create the account in QuickBooks.",
                    actions,
                    where,
                )
            )
        if not entry.active:
            raise _Unresolved(
                Failure(
                    "inactive_account",
                    f"The account {name!r} ({where}) is inactive in QuickBooks. Make it active there, or "
                    "name another account.",
                    (actions[0], ACTIVATE_IN_QUICKBOOKS),
                    where,
                )
            )
        if allowed and entry.account_type not in allowed:
            raise _Unresolved(
                Failure(
                    "wrong_account_type",
                    f"The account {name!r} ({where}) is of type {entry.account_type}; {purpose} needs "
                    f"{_a(' or '.join(allowed))} account.",
                    (actions[0],),
                    where,
                )
            )
        return {"value": entry.id}

    def listed(self, kind: str, entries: Mapping[str, ListEntry], name: str, where: str) -> dict[str, str]:
        actions = (EDIT_SETTINGS if where.startswith("settings.") else EDIT, CREATE_IN_QUICKBOOKS)
        entry = entries.get(name_key(name))
        code = kind.replace(" ", "_")
        if entry is None:
            raise _Unresolved(
                Failure(
                    f"unknown_{code}",
                    f"QuickBooks has no {kind} named {name!r} ({where}). Check the spelling, or create the "
                    f"{kind} in QuickBooks.",
                    actions,
                    where,
                )
            )
        if not entry.active:
            raise _Unresolved(
                Failure(
                    f"inactive_{code}",
                    f"The {kind} {name!r} ({where}) is inactive in QuickBooks. Make it active there, or name "
                    f"another {kind}.",
                    (actions[0], ACTIVATE_IN_QUICKBOOKS),
                    where,
                )
            )
        return {"value": entry.id}

    def terms(self, name: str | None, where: str = "terms") -> dict[str, str] | None:
        """The SalesTermRef of the terms named in `where` (looked up by name); None for none."""
        return None if name is None else self.listed("term", self.lists.terms, name, where)

    # -------------------------------------------------------------------------------------- names

    def person(self, person: Customer | Vendor | Employee) -> dict[str, Any]:
        body: dict[str, Any] = {"DisplayName": self.write.name or person.display_name}
        _put(body, "GivenName", person.given_name)
        _put(body, "FamilyName", person.family_name)
        if isinstance(person, Customer | Vendor):
            _put(body, "CompanyName", person.company_name)
            _put(body, "Notes", person.notes)
        if person.email is not None:
            body["PrimaryEmailAddr"] = {"Address": person.email}
        if person.phone is not None:
            body["PrimaryPhone"] = {"FreeFormNumber": person.phone}
        body["Active"] = person.active
        return body

    def customer(self, customer: Customer) -> dict[str, Any]:
        body = self.person(customer)
        _put(body, "BillAddr", _address(customer.billing_address))
        _put(body, "ShipAddr", _address(customer.shipping_address))
        if customer.parent_id is not None:  # a sub-customer (job), billed with its parent (NOTES §4.1)
            body.update(ParentRef=self.ref("customer", customer.parent_id), Job=True, BillWithParent=True)
        _put(body, "SalesTermRef", self.terms(customer.terms))
        return body

    def vendor(self, vendor: Vendor) -> dict[str, Any]:
        body = self.person(vendor)
        _put(body, "BillAddr", _address(vendor.address))
        _put(body, "AcctNum", vendor.account_number)
        return body

    def employee(self, employee: Employee) -> dict[str, Any]:
        body = self.person(employee)
        _put(body, "PrimaryAddr", _address(employee.address))
        return body

    def item(self, item: Item) -> dict[str, Any]:
        inventory = item.kind is ItemKind.INVENTORY
        body: dict[str, Any] = {"Name": self.write.name or item.name, "Type": ITEM_TYPES[item.kind]}
        _put(body, "Sku", item.sku)
        _put(body, "Description", item.description)
        _put(body, "UnitPrice", item.sales_price)
        _put(body, "PurchaseCost", item.purchase_cost)
        body["Taxable"] = item.taxable
        body["Active"] = item.active
        income = self.account(
            item.income_account,
            "income_account",
            setting="default_income_account",
            purpose="an item's sales",
            allowed=INVENTORY_INCOME_TYPES if inventory else (),
            default_types=("Income",),
        )
        _put(body, "IncomeAccountRef", income)
        if item.kind is not ItemKind.SERVICE or item.expense_account or item.purchase_cost is not None:
            expense = self.account(
                item.expense_account,
                "expense_account",
                setting="default_expense_account",
                purpose="an item's purchases",
                allowed=COGS_TYPES if inventory else (),
                default_types=COGS_TYPES if inventory else (*COGS_TYPES, "Expense"),
            )
            _put(body, "ExpenseAccountRef", expense)
        if inventory:
            asset = self.account(
                item.asset_account,
                "asset_account",
                setting="default_asset_account",
                purpose="an inventory item's stock",
                allowed=ASSET_TYPES,
                default_types=ASSET_TYPES,
                default_subtype="Inventory",
            )
            _put(body, "AssetAccountRef", asset)
            body["TrackQtyOnHand"] = True
            if item.quantity_on_hand is not None and item.quantity_as_of is not None:
                body["QtyOnHand"] = item.quantity_on_hand
                body["InvStartDate"] = item.quantity_as_of.isoformat()
            elif self.write.record.quickbooks_id is None:
                # QuickBooks needs a starting quantity and date: none on hand, as of the day it is sent.
                body["QtyOnHand"] = Decimal(0)
                body["InvStartDate"] = self.write.record.updated_at.date().isoformat()
        return body

    # -------------------------------------------------------------------------------------- transactions

    def sales_document(self, document: Invoice | CreditMemo) -> dict[str, Any]:
        body: dict[str, Any] = {"CustomerRef": self.ref("customer", document.customer_id)}
        _put(body, "DocNumber", document.doc_number)
        _put(body, "TxnDate", _iso(document.txn_date))
        _put(body, "PrivateNote", document.memo)
        body["Line"] = [self.sales_line(line) for line in document.lines]
        return body

    def invoice(self, invoice: Invoice) -> dict[str, Any]:
        body = self.sales_document(invoice)
        _put(body, "DueDate", _iso(invoice.due_date))
        terms = invoice_terms(invoice, self.write.customer_terms, self.settings)
        if terms is not None:
            body["SalesTermRef"] = self.terms(*terms)
        return body

    def sales_line(self, line: SalesLine) -> dict[str, Any]:
        if line.item_id is None:  # "a line with no ItemRef is treated as description" (NOTES §4.2)
            return {
                "DetailType": "DescriptionOnly",
                "Description": line.description,
                "DescriptionLineDetail": {},
            }
        detail: dict[str, Any] = {"ItemRef": self.ref("item", line.item_id)}
        _put(detail, "Qty", line.quantity)
        _put(detail, "UnitPrice", line.rate)
        if line.tax_code is not None:
            detail["TaxCodeRef"] = {"value": line.tax_code}
        mapped: dict[str, Any] = {"DetailType": "SalesItemLineDetail", "Amount": line.amount}
        _put(mapped, "Description", line.description)
        mapped["SalesItemLineDetail"] = detail
        return mapped

    def payment(self, payment: Payment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "CustomerRef": self.ref("customer", payment.customer_id),
            "TotalAmt": payment.total_amount,
        }
        _put(body, "TxnDate", _iso(payment.txn_date))
        if payment.method is not None:
            body["PaymentMethodRef"] = self.listed(
                "payment method", self.lists.payment_methods, payment.method, "method"
            )
        _put(body, "PaymentRefNum", payment.reference_number)
        _put(
            body,
            "DepositToAccountRef",
            self.account(  # None: QuickBooks puts it in Undeposited Funds
                payment.deposit_account,
                "deposit_account",
                setting="payment_deposit_account",
                purpose="depositing a payment",
                allowed=DEPOSIT_TYPES,
            ),
        )
        _put(body, "PrivateNote", payment.memo)
        body["Line"] = [
            {
                "Amount": application.amount,
                "LinkedTxn": [
                    {
                        "TxnId": self.ref(*application.target)["value"],
                        "TxnType": "Invoice" if application.invoice_id is not None else "CreditMemo",
                    }
                ],
            }
            for application in payment.applications
        ]
        return body

    def purchase_document(self, document: PurchaseOrder | Bill) -> dict[str, Any]:
        body: dict[str, Any] = {"VendorRef": self.ref("vendor", document.vendor_id)}
        _put(body, "DocNumber", document.doc_number)
        _put(body, "TxnDate", _iso(document.txn_date))
        _put(body, "PrivateNote", document.memo)
        body["Line"] = [self.purchase_line(line, index) for index, line in enumerate(document.lines)]
        return body

    def purchase_order(self, order: PurchaseOrder) -> dict[str, Any]:
        body = self.purchase_document(order)
        body["POStatus"] = order.status.value.capitalize()  # Open | Closed
        return body

    def bill(self, bill: Bill) -> dict[str, Any]:
        body = self.purchase_document(bill)
        _put(body, "DueDate", _iso(bill.due_date))
        _put(body, "SalesTermRef", self.terms(bill.terms))
        if bill.purchase_order_id is not None:
            order = self.ref("purchase_order", bill.purchase_order_id)["value"]
            body["LinkedTxn"] = [{"TxnId": order, "TxnType": "PurchaseOrder"}]
        return body

    def purchase_line(self, line: PurchaseLine, index: int) -> dict[str, Any]:
        if line.item_id is not None:
            detail_type = "ItemBasedExpenseLineDetail"
            detail: dict[str, Any] = {"ItemRef": self.ref("item", line.item_id)}
            _put(detail, "Qty", line.quantity)
            _put(detail, "UnitPrice", line.rate)
        else:
            detail_type = "AccountBasedExpenseLineDetail"
            detail = {
                "AccountRef": self.account(line.account, f"lines.{index}.account", purpose="an expense line")
            }
        mapped: dict[str, Any] = {"DetailType": detail_type, "Amount": line.amount}
        _put(mapped, "Description", line.description)
        mapped[detail_type] = detail
        return mapped


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    fields = {
        "Line1": address.line1,
        "Line2": address.line2,
        "Line3": address.line3,
        "City": address.city,
        "CountrySubDivisionCode": address.state,
        "PostalCode": address.postal_code,
        "Country": address.country,
    }
    mapped = {key: value for key, value in fields.items() if value is not None}
    return mapped or None


# ------------------------------------------------------------------------------------------ payments back


def payment_from_qbo(entity: Mapping[str, Any]) -> ReceivedPayment:
    """A Payment object as QuickBooks answers it (read, query or CDC) as a ReceivedPayment.

    Amounts become Decimal from whatever the JSON parser gave (Decimal, int, float or text; a float through
    its shortest repr, which is exact for QuickBooks' at most 15-digit amounts). Voided payments keep their
    lines at 0 and carry "Voided" in PrivateNote (NOTES §3.7).
    """
    total = _money(entity.get("TotalAmt", 0), "TotalAmt")
    note = str(entity.get("PrivateNote") or "")
    lines: list[AppliedLine] = []
    for line in entity.get("Line") or []:
        if not isinstance(line, Mapping):
            continue
        link = next(
            (
                linked
                for linked in line.get("LinkedTxn") or []
                if isinstance(linked, Mapping) and linked.get("TxnType") in ("Invoice", "CreditMemo")
            ),
            None,
        )
        if link is not None and link.get("TxnId") is not None:
            amount = _money(line.get("Amount", 0), "Line.Amount")
            lines.append(AppliedLine(str(link["TxnType"]), str(link["TxnId"]), amount))
    unapplied = entity.get("UnappliedAmt")
    return ReceivedPayment(
        quickbooks_id=str(entity["Id"]),
        quickbooks_version=str(entity.get("SyncToken") or "0"),
        customer_quickbooks_id=_ref_value(entity.get("CustomerRef")) or "",
        total_amount=total,
        unapplied_amount=(
            _money(unapplied, "UnappliedAmt") if unapplied is not None else _unapplied(total, lines)
        ),
        txn_date=date.fromisoformat(str(entity["TxnDate"])) if entity.get("TxnDate") else None,
        method_quickbooks_id=_ref_value(entity.get("PaymentMethodRef")),
        reference_number=str(entity["PaymentRefNum"]) if entity.get("PaymentRefNum") else None,
        deposit_account_quickbooks_id=_ref_value(entity.get("DepositToAccountRef")),
        lines=tuple(lines),
        voided=str(entity.get("TxnStatus") or "") == "Voided" or (total == 0 and note.startswith("Voided")),
        last_updated=qbo_time((entity.get("MetaData") or {}).get("LastUpdatedTime")),
    )


def _unapplied(total: Decimal, lines: list[AppliedLine]) -> Decimal:
    applied = sum((line.amount if line.txn_type == "Invoice" else -line.amount for line in lines), Decimal(0))
    return total - applied


def qbo_time(value: Any) -> datetime | None:
    """A QuickBooks timestamp ("2020-09-29T04:46:06-07:00", in the company's offset) as an aware datetime;
    None when absent or without an offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _ref_value(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        value = ref.get("value")
        return None if value in (None, "") else str(value)
    if isinstance(ref, str | int) and not isinstance(ref, bool):  # the XML-era bare form
        return str(ref)
    return None


def _money(value: Any, element: str) -> Decimal:
    """A JSON number as Decimal; exact cents when it has at most two decimal places."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{element} is not a number: {value!r}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{element} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{element} is not a number: {value!r}")
    cents = amount.quantize(CENT)
    return cents if cents == amount else amount
