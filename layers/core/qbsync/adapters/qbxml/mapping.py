"""Canonical records as qbXML requests: one `Write` of the sync engine becomes one `...Rq` element.

Pure functions: no I/O. `to_qbxml` mirrors the Online adapter's `to_qbo` (adapters/qbo_mapping.py):

- UPSERT: an Add when QuickBooks does not have the record yet (`quickbooks_id` None), else a Mod with the
  ListID or TxnID and the EditSequence it was read at (`quickbooks_version`). A Mod of a transaction
  rewrites all its lines: each goes as a new line (TxnLineID -1) and the lines left out are deleted.
- DELETE: what the registry says for Desktop (`RECORD_TYPES[...].removal[Edition.QBD]`): TxnVoid for
  invoices, credit memos and bills; TxnDel for payments (TxnVoidType has no ReceivePayment) and purchase
  orders; a list entry's Mod with IsActive false.
- References to other records go by ListID / TxnID from `write.ids`; accounts, terms, payment methods and
  sales tax codes by FullName (the company's names; whether it has them is checked against its lists
  before the write is planned). The canonical tax codes TAX and NON become the company's default taxable
  and non-taxable codes, "Tax" and "Non" unless its preferences say otherwise (PreferencesRet in the
  captured session, shared/reference/qbwc/captures/quickbooks_log.txt).
- Every Add carries an `ExternalGUID` derived from the record (`external_guid`), so that an object whose
  answer was lost can be recognised in QuickBooks later.
- A new bill with a purchase order links its item lines to the order's open lines one by one (`OrderLine`,
  read from QuickBooks first with `order_lines`); see `_Mapper.linked`.

A record the codec cannot express in qbXML becomes a `Failure` the tenant can act on; nothing is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.read import Ret
from qbsync.domain.desktop import OrderLine, SalesTaxCodes
from qbsync.domain.desktop_text import desktop_text
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
    PurchaseOrderStatus,
    Removal,
    SalesLine,
    Vendor,
    invoice_terms,
)
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import EDIT, EDIT_SETTINGS, Failure, MissingReferenceError, Operation, Write, ref_key
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import field_limits

# Our namespace for ExternalGUIDs (uuid5): fixed forever, or the objects already made are not recognised.
EXTERNAL_GUID_NAMESPACE = uuid.UUID("6f1c8f2e-3b1d-5c0e-9a57-2a7d3c4b9e10")

# What an Add or Mod answers with (IncludeRetElement): the ids the engine keeps, the name a clash is about,
# and the GUID a lost answer is matched on. Shorter answers, and nothing the engine does not read.
LIST_RETURNS = ("ListID", "EditSequence", "Name", "FullName", "ExternalGUID")
TXN_RETURNS = ("TxnID", "EditSequence", "RefNumber", "ExternalGUID")

# The longest Name each list takes (qbxml130.xsd: CustomerAdd/VendorAdd Name 41; ItemServiceAdd,
# ItemNonInventoryAdd, ItemInventoryAdd Name 31), from the table a push is checked against: a renamed record
# (`write.name`) is held to them too.
NAME_MAX = {
    record_type: field_limits(record_type)[RECORD_TYPES[record_type].name_field or ""][Edition.QBD]
    for record_type in ("customer", "vendor", "item")
}
TAXABLE, NON_TAXABLE = "TAX", "NON"  # the canonical line tax codes (validation.TAXABLE_CODE)

ITEM_ENTITIES = {
    ItemKind.SERVICE: "ItemService",
    ItemKind.NON_INVENTORY: "ItemNonInventory",
    ItemKind.INVENTORY: "ItemInventory",
}
TXN_TYPES = {
    "invoice": "Invoice",
    "credit_memo": "CreditMemo",
    "payment": "ReceivePayment",
    "purchase_order": "PurchaseOrder",
    "bill": "Bill",
}


SALES_TAX_CODES = SalesTaxCodes()


def order_lines(order: Ret) -> tuple[OrderLine, ...]:
    """The lines of a PurchaseOrderRet read with its line items (PurchaseOrderQuery, IncludeLineItems true).
    A line's open quantity is its Quantity less its ReceivedQuantity (qbxml130.xsd PurchaseOrderLineRet);
    a line without a Quantity (ordered by amount) counts as one; a line closed by hand (IsManuallyClosed)
    has none open. Lines without a TxnLineID (group lines) cannot be linked and are left out."""
    lines = []
    for line in order.rets("PurchaseOrderLine"):
        if line.text_of("TxnLineID") is None:
            continue
        ordered = line.decimal_of("Quantity")
        received = line.decimal_of("ReceivedQuantity") or Decimal(0)
        closed = line.bool_of("IsManuallyClosed") is True
        open_quantity = Decimal(0) if closed else (Decimal(1) if ordered is None else ordered) - received
        lines.append(OrderLine(str(line.text_of("TxnLineID")), line.text_of("ItemRef/ListID"), open_quantity))
    return tuple(lines)


def external_guid(tenant_id: str, record_type: str, record_id: str, generation: int) -> str:
    """The ExternalGUID of the `generation`-th QuickBooks object of a record, "{xxxxxxxx-xxxx-...}": the same
    for every send of it, different for every tenant, record and generation (uuid5, RFC 4122 §4.3)."""
    name = f"{tenant_id}/{record_type}/{record_id}/{generation}"
    return "{" + str(uuid.uuid5(EXTERNAL_GUID_NAMESPACE, name)) + "}"


class _Unresolved(Exception):  # noqa: N818 - internal: carries a Failure out of the nested mapping
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def to_qbxml(
    write: Write,
    settings: SyncSettings,
    *,
    tenant_id: str,
    request_id: str,
    sales_tax_codes: SalesTaxCodes | None = SALES_TAX_CODES,
    purchase_order_lines: Sequence[OrderLine] | None = None,
) -> Any | Failure:
    """The `...Rq` element that adds, modifies, voids, deletes or deactivates this record in QuickBooks
    Desktop, or the Failure that keeps it from being sent. `sales_tax_codes` None: the company does not
    track sales tax, so nothing names a tax code. `purchase_order_lines`: the lines of a new bill's purchase
    order as QuickBooks has them now (`order_lines` of a PurchaseOrderQuery with IncludeLineItems).

    Raises MissingReferenceError when `write.ids` lacks a record it refers to, ValueError for a write the
    engine should never make (a removal or Mod of an object QuickBooks does not have, another tenant's
    record, a new bill with a purchase order whose lines were not read)."""
    record = write.record
    if record.tenant_id != tenant_id:
        raise ValueError(f"{record.key} belongs to tenant {record.tenant_id!r}, not {tenant_id!r}")
    if record.record_type not in RECORD_TYPES:
        raise ValueError(f"{record.record_type!r} is not a record type QuickBooks Desktop syncs")
    modify = None
    if record.quickbooks_id is not None:
        if record.quickbooks_version is None:
            raise ValueError(f"{record.key} has QuickBooks id {record.quickbooks_id} but no EditSequence")
        modify = rq.Modify(record.quickbooks_id, record.quickbooks_version)
    if record.operation is Operation.DELETE:
        if modify is None:
            raise ValueError(f"a {record.record_type} QuickBooks does not have cannot be removed there")
        return _removal(write, modify, request_id)
    guid = external_guid(tenant_id, record.record_type, record.record_id, record.generation)
    try:
        return _Mapper(
            write,
            settings=settings,
            codes=sales_tax_codes,
            request_id=request_id,
            modify=modify,
            guid=guid,
            order_lines=purchase_order_lines,
        ).request()
    except _Unresolved as unresolved:
        return unresolved.failure


def _removal(write: Write, modify: rq.Modify, request_id: str) -> Any:
    """Void, delete or make inactive, as the record type's removal in QuickBooks Desktop says."""
    record_type = write.record.record_type
    match RECORD_TYPES[record_type].removal[Edition.QBD]:
        case Removal.VOID:
            return rq.txn_void(request_id, TXN_TYPES[record_type], modify.id)
        case Removal.DELETE:
            return rq.txn_del(request_id, TXN_TYPES[record_type], modify.id)
        case Removal.DEACTIVATE:
            model = write.model
            build = _ITEM_BUILDERS[model.kind] if isinstance(model, Item) else _NAME_BUILDERS[record_type]
            return build(request_id, modify=modify, is_active=False, include=LIST_RETURNS)


_NAME_BUILDERS: dict[str, Callable[..., Any]] = {
    "customer": rq.customer,
    "vendor": rq.vendor,
    "employee": rq.employee,
}
_ITEM_BUILDERS: dict[ItemKind, Callable[..., Any]] = {
    ItemKind.SERVICE: rq.item_service,
    ItemKind.NON_INVENTORY: rq.item_non_inventory,
    ItemKind.INVENTORY: rq.item_inventory,
}


class _Mapper:
    def __init__(
        self,
        write: Write,
        *,
        settings: SyncSettings,
        codes: SalesTaxCodes | None,
        request_id: str,
        modify: rq.Modify | None,
        guid: str,
        order_lines: Sequence[OrderLine] | None,
    ) -> None:
        self.write = write
        self.settings = settings
        self.codes = codes
        self.request_id = request_id
        self.modify = modify
        self.guid = guid
        self.order_lines = order_lines

    def request(self) -> Any:  # noqa: PLR0911 - one case per record type
        match self.write.model:
            case Customer():
                return self.customer(self.write.model)
            case Vendor():
                return self.vendor(self.write.model)
            case Employee():
                return self.employee(self.write.model)
            case Item():
                return self.item(self.write.model)
            case Invoice() | CreditMemo():
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

    def ref(self, record_type: str, record_id: str) -> rq.Ref:
        return rq.Ref(list_id=self.quickbooks_id(record_type, record_id))

    def quickbooks_id(self, record_type: str, record_id: str) -> str:
        key = ref_key(record_type, record_id)
        quickbooks_id = self.write.ids.get(key)
        if not quickbooks_id:
            raise MissingReferenceError(
                f"{self.write.record.key} refers to {key}, which has no QuickBooks id in this write"
            )
        return quickbooks_id

    def account(self, name: str | None, where: str, setting: str, purpose: str) -> rq.Ref | None:
        """The account named in the record, else in the setting; a new item must have one, an update keeps
        the account QuickBooks has."""
        if name is None:
            name = getattr(self.settings, setting)
        if name is not None:
            return rq.Ref(full_name=name)
        if self.modify is not None:
            return None
        raise _Unresolved(
            Failure(
                "missing_account",
                f"QuickBooks Desktop needs {purpose} for a new item. Name it in {where}, or set the "
                f"{setting} setting.",
                (EDIT, EDIT_SETTINGS),
                where,
            )
        )

    def tax_code(self, code: str | None, where: str) -> rq.Ref | None:
        if code is None:
            return None
        if self.codes is None:
            raise _Unresolved(
                Failure(
                    "sales_tax_off",
                    f"{where} names the sales tax code {code!r}, but the QuickBooks Desktop company does not "
                    "track sales tax. Remove the tax code, or turn sales tax on in QuickBooks.",
                    (EDIT,),
                    where,
                )
            )
        canonical = {TAXABLE: self.codes.taxable, NON_TAXABLE: self.codes.non_taxable}
        return rq.Ref(full_name=canonical.get(code.upper(), code))

    def name(self, name: str, field: str) -> str:
        """The name to write: the rename after a clash (`write.name`) wins over the record's own."""
        chosen = self.write.name or name
        most = NAME_MAX[self.write.record.record_type]
        if len(desktop_text(chosen)) > most:
            raise _Unresolved(
                Failure(
                    "too_long",
                    f"The name {chosen!r} is {len(desktop_text(chosen))} characters long; QuickBooks Desktop "
                    f"allows at most {most}. Choose a shorter name or rename suffix.",
                    (EDIT, EDIT_SETTINGS),
                    field,
                )
            )
        return chosen

    def returns(self) -> tuple[str, ...]:
        return LIST_RETURNS if self.write.record.record_type in NAME_MAX else TXN_RETURNS

    # -------------------------------------------------------------------------------------- names

    def customer(self, customer: Customer) -> Any:
        return rq.customer(
            self.request_id,
            modify=self.modify,
            name=self.name(customer.display_name, "display_name"),
            is_active=customer.active,
            parent=None if customer.parent_id is None else self.ref("customer", customer.parent_id),
            company_name=customer.company_name,
            first_name=customer.given_name,
            last_name=customer.family_name,
            bill_address=_address(customer.billing_address),
            ship_address=_address(customer.shipping_address),
            phone=customer.phone,
            email=customer.email,
            terms=None if customer.terms is None else rq.Ref(full_name=customer.terms),
            notes=customer.notes,
            external_guid=self.guid,
            include=self.returns(),
        )

    def vendor(self, vendor: Vendor) -> Any:
        return rq.vendor(
            self.request_id,
            modify=self.modify,
            name=self.name(vendor.display_name, "display_name"),
            is_active=vendor.active,
            company_name=vendor.company_name,
            first_name=vendor.given_name,
            last_name=vendor.family_name,
            address=_address(vendor.address),
            phone=vendor.phone,
            email=vendor.email,
            account_number=vendor.account_number,
            notes=vendor.notes,
            external_guid=self.guid,
            include=self.returns(),
        )

    def employee(self, employee: Employee) -> Any:
        """QuickBooks Desktop names an employee by first and last name only (EmployeeAdd's Name is "not in
        QBD" in the OSR): a rename after a clash cannot be written. Validation at push makes sure one of the
        names is given and that the address fits EmployeeAddress (no third line, no country)."""
        if self.write.name is not None:
            raise _Unresolved(
                Failure(
                    "not_supported",
                    "QuickBooks Desktop names an employee by first and last name, so it cannot be renamed "
                    f"to {self.write.name!r}. Change given_name or family_name.",
                    (EDIT,),
                    "display_name",
                )
            )
        return rq.employee(
            self.request_id,
            modify=self.modify,
            is_active=employee.active,
            first_name=employee.given_name,
            last_name=employee.family_name,
            address=_address(employee.address),
            phone=employee.phone,
            email=employee.email,
            external_guid=self.guid,
            include=self.returns(),
        )

    # -------------------------------------------------------------------------------------- items

    def item(self, item: Item) -> Any:
        common: dict[str, Any] = {
            "modify": self.modify,
            "name": self.name(item.name, "name"),
            "is_active": item.active,
            "sales_tax_code": self.item_tax_code(item.taxable),
            "external_guid": self.guid,
            "include": self.returns(),
        }
        income = self.account(
            item.income_account, "income_account", "default_income_account", "an income account"
        )
        if item.kind is ItemKind.INVENTORY:
            opening = self.modify is None
            return rq.item_inventory(
                self.request_id,
                manufacturer_part_number=item.sku,
                sales_desc=item.description,
                sales_price=item.sales_price,
                income_account=income,
                purchase_cost=item.purchase_cost,
                cogs_account=self.account(
                    item.expense_account, "expense_account", "default_expense_account", "a COGS account"
                ),
                asset_account=self.account(
                    item.asset_account, "asset_account", "default_asset_account", "an inventory asset account"
                ),
                quantity_on_hand=item.quantity_on_hand if opening else None,
                inventory_date=item.quantity_as_of if opening else None,
                **common,
            )
        sales: rq.SalesOrPurchase | rq.SalesAndPurchase
        if item.purchase_cost is not None or item.expense_account is not None:
            sales = rq.SalesAndPurchase(
                sales_desc=item.description,
                sales_price=item.sales_price,
                income_account=income,
                purchase_cost=item.purchase_cost,
                expense_account=self.account(
                    item.expense_account, "expense_account", "default_expense_account", "an expense account"
                ),
            )
        else:
            sales = rq.SalesOrPurchase(desc=item.description, price=item.sales_price, account=income)
        if item.kind is ItemKind.SERVICE:
            return rq.item_service(self.request_id, sales=sales, **common)
        return rq.item_non_inventory(
            self.request_id, manufacturer_part_number=item.sku, sales=sales, **common
        )

    def item_tax_code(self, taxable: bool) -> rq.Ref | None:
        if self.codes is None:
            return None
        return rq.Ref(full_name=self.codes.taxable if taxable else self.codes.non_taxable)

    # -------------------------------------------------------------------------------------- transactions

    def sales_document(self, document: Invoice | CreditMemo) -> Any:
        lines = [self.sales_line(line, index) for index, line in enumerate(document.lines)]
        common: dict[str, Any] = {
            "modify": self.modify,
            "customer": self.ref("customer", document.customer_id),
            "txn_date": document.txn_date,
            "ref_number": document.doc_number,
            "memo": document.memo,
            "external_guid": self.guid,
            "lines": lines,
            "include": self.returns(),
        }
        if isinstance(document, CreditMemo):
            return rq.credit_memo(self.request_id, **common)
        terms = invoice_terms(document, self.write.customer_terms, self.settings)
        return rq.invoice(
            self.request_id,
            terms=None if terms is None else rq.Ref(full_name=terms[0]),
            due_date=document.due_date,
            **common,
        )

    def sales_line(self, line: SalesLine, index: int) -> rq.Line:
        if line.item_id is None:  # a description-only line
            return rq.Line(desc=line.description)
        return rq.Line(
            item=self.ref("item", line.item_id),
            desc=line.description,
            quantity=line.quantity,
            rate=line.rate,
            amount=line.amount,
            sales_tax_code=self.tax_code(line.tax_code, f"lines.{index}.tax_code"),
        )

    def payment(self, payment: Payment) -> Any:
        deposit = payment.deposit_account or self.settings.payment_deposit_account
        return rq.receive_payment(
            self.request_id,
            modify=self.modify,
            customer=self.ref("customer", payment.customer_id),
            txn_date=payment.txn_date,
            ref_number=payment.reference_number,
            total_amount=payment.total_amount,
            payment_method=None if payment.method is None else rq.Ref(full_name=payment.method),
            memo=payment.memo,
            # None: QuickBooks puts it in Undeposited Funds
            deposit_to_account=None if deposit is None else rq.Ref(full_name=deposit),
            external_guid=self.guid,
            applied=self.applied(payment),
            include=self.returns(),
        )

    def applied(self, payment: Payment) -> list[rq.AppliedToTxn]:
        """The payment's invoices, each with the credit memos used towards it: credits go greedily, in the
        order given, to the invoices in the order given. An invoice's application is what it is paid in all;
        the cash part (PaymentAmount) is what the credits leave of it."""
        credits = [
            (self.quickbooks_id("credit_memo", a.credit_memo_id), a.amount)
            for a in payment.applications
            if a.credit_memo_id is not None
        ]
        applied: list[rq.AppliedToTxn] = []
        for application in payment.applications:
            if application.invoice_id is None:
                continue
            due = application.amount
            used: list[rq.Credit] = []
            while due > 0 and credits:
                credit_id, left = credits[0]
                take = min(due, left)
                used.append(rq.Credit(credit_id, take))
                due -= take
                if take == left:
                    credits.pop(0)
                else:
                    credits[0] = (credit_id, left - take)
            invoice = self.quickbooks_id("invoice", application.invoice_id)
            applied.append(rq.AppliedToTxn(invoice, payment_amount=due, credits=tuple(used)))
        return applied

    def purchase_order(self, order: PurchaseOrder) -> Any:
        closed = order.status is PurchaseOrderStatus.CLOSED
        if self.modify is None and closed:
            raise _Unresolved(
                Failure(
                    "not_supported",
                    "QuickBooks Desktop creates purchase orders open (PurchaseOrderAdd has no way to close "
                    "one). Send it open first, then closed.",
                    (EDIT,),
                    "status",
                )
            )
        return rq.purchase_order(
            self.request_id,
            modify=self.modify,
            vendor=self.ref("vendor", order.vendor_id),
            txn_date=order.txn_date,
            ref_number=order.doc_number,
            is_manually_closed=None if self.modify is None else closed,
            memo=order.memo,
            external_guid=self.guid,
            lines=[self.item_line(line, index) for index, line in enumerate(order.lines)],
            include=self.returns(),
        )

    def item_line(self, line: PurchaseLine, index: int) -> rq.Line:
        if line.item_id is None:
            raise _Unresolved(
                Failure(
                    "not_supported",
                    f"QuickBooks Desktop purchase orders have item lines only; line {index + 1} names an "
                    "account. Use an item.",
                    (EDIT,),
                    f"lines.{index}.account",
                )
            )
        return rq.Line(
            item=self.ref("item", line.item_id),
            desc=line.description,
            quantity=line.quantity,
            rate=line.rate,
            amount=line.amount,
        )

    def bill(self, bill: Bill) -> Any:
        """Expense lines (an account) come before item lines: BillAdd's sequence has ExpenseLineAdd* then
        ItemLineAdd*. A Mod clears the kind of line the bill no longer has. A new bill's item lines are linked
        to its purchase order's lines (`linked`); a Mod never links: QuickBooks links a bill to a purchase
        order only when the bill is added (Intuit's tutorial "Linking item receipt and bill to purchase
        order"; ItemLineMod has no LinkToTxn in qbxml130.xsd)."""
        expenses = [
            rq.ExpenseLine(rq.Ref(full_name=line.account), line.amount, line.description)
            for line in bill.lines
            if line.account is not None and line.amount is not None  # an account line always has one
        ]
        items = [
            self.item_line(line, index) for index, line in enumerate(bill.lines) if line.item_id is not None
        ]
        if bill.purchase_order_id is not None and self.modify is None:
            items = self.linked(items, self.quickbooks_id("purchase_order", bill.purchase_order_id))
        return rq.bill(
            self.request_id,
            modify=self.modify,
            vendor=self.ref("vendor", bill.vendor_id),
            txn_date=bill.txn_date,
            due_date=bill.due_date,
            ref_number=bill.doc_number,
            terms=None if bill.terms is None else rq.Ref(full_name=bill.terms),
            memo=bill.memo,
            external_guid=self.guid,
            expense_lines=expenses,
            item_lines=items,
            clear_expense_lines=self.modify is not None and not expenses,
            clear_item_lines=self.modify is not None and not items,
            include=self.returns(),
        )

    def linked(self, items: list[rq.Line], order_id: str) -> list[rq.Line]:
        """The bill's item lines, each linked (ItemLineAdd/LinkToTxn) to the first purchase order line of the
        same item that no earlier bill line took and that still has something to receive; a line with no
        such order line goes unlinked. Line by line, never the whole order (BillAdd's LinkToTxnID): that
        "links in all line items from a PurchaseOrder"
        (https://developer.intuit.com/app/developer/qbdesktop/docs/api-reference/qbdesktop/billadd), so the
        bill in QuickBooks would carry the order's lines as well as its own and total more than the host's.

        ValueError when the order's lines were not given: the engine reads them first (a bug of the caller,
        as a missing reference is)."""
        if self.order_lines is None:
            raise ValueError(
                f"{self.write.record.key} links purchase order {order_id}: read its lines "
                "(PurchaseOrderQuery with IncludeLineItems) and pass them as purchase_order_lines"
            )
        available = [line for line in self.order_lines if line.open_quantity > 0]
        linked = []
        for line in items:
            item_id = line.item.list_id if line.item is not None else None
            match = next((o for o in available if item_id is not None and o.item_list_id == item_id), None)
            if match is None:
                linked.append(line)
                continue
            available.remove(match)
            linked.append(replace(line, link=rq.LinkToTxn(order_id, match.txn_line_id)))
        return linked


def _address(address: Address | None) -> rq.Address | None:
    if address is None:
        return None
    lines = tuple(line for line in (address.line1, address.line2, address.line3) if line is not None)
    return rq.Address(lines, address.city, address.state, address.postal_code, address.country)


__all__ = [
    "EXTERNAL_GUID_NAMESPACE",
    "OrderLine",
    "SalesTaxCodes",
    "external_guid",
    "order_lines",
    "to_qbxml",
]
