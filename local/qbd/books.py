"""The bookkeeping of a company file: adding, changing, voiding and deleting lists and transactions, and what
their balances come to. Status codes and message texts are QuickBooks' (see `messages`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from local.qbd import messages, specs
from local.qbd.model import (
    ZERO,
    Application,
    Line,
    Obj,
    Ref,
    Spec,
    Status,
    Value,
    amount,
    date_of,
    decimal_of,
    elapsed_days,
    line_ref,
    line_text,
    price,
    quantity,
)

if TYPE_CHECKING:
    from local.qbd.company import Company

LATIN1_MAX = 0xFF


@dataclass(frozen=True)
class Deleted:
    """A transaction deleted with TxnDel, as TxnDeletedQuery lists it."""

    kind: str
    id: str
    created: datetime
    deleted: datetime
    ref_number: str | None


@dataclass(frozen=True)
class ListDeleted:
    """A list entry a user deleted, as ListDeletedQuery lists it (ListDeletedRet: ListDelType, ListID,
    TimeCreated, TimeDeleted, FullName; qbxml130.xsd)."""

    kind: str
    id: str
    created: datetime
    deleted: datetime
    full_name: str


def latin1(text: str) -> str:
    """What QuickBooks stores of `text`: characters outside ISO-8859-1 that arrive as character references are
    accepted and kept as "?" (qbwc/qbxml#8, NOTES.md §3.5; raw ones fail the whole message, see processor)."""
    return "".join(c if ord(c) <= LATIN1_MAX else "?" for c in text)


def children(element: Any) -> Iterator[Any]:
    """Element children only (comments and processing instructions skipped)."""
    return (c for c in element if isinstance(c.tag, str))


def child_text(element: Any, tag: str) -> str | None:
    found = element.find(tag)
    return latin1(found.text or "") if found is not None else None


class Books:
    """The operations on one company's objects; every change goes through here (qbXML requests and the
    entries a user makes alike)."""

    def __init__(self, company: Company) -> None:
        self.company = company

    # ---- references ----------------------------------------------------------------------------------------

    def find(
        self, candidates: Iterable[Spec], *, list_id: str | None = None, name: str | None = None
    ) -> Obj | None:
        c = self.company
        if list_id is not None:
            obj = c.objects.get(list_id)
            return obj if obj is not None and obj.spec in tuple(candidates) else None
        if name is None:
            return None
        wanted = name.casefold()
        for spec in candidates:
            for obj in c.of(spec):
                if obj.full_name.casefold() == wanted:
                    return obj
        return None

    def resolve(self, ref: Any, where: str) -> Obj:
        """The object a `...Ref` element points to, or 3140 naming it as QuickBooks does."""
        list_id, full_name = child_text(ref, "ListID"), child_text(ref, "FullName")
        candidates = specs.REF_TARGETS.get(ref.tag, ())
        found = self.find(candidates, list_id=list_id, name=None if list_id else full_name)
        if found is None:
            label = candidates[0].label if candidates else ref.tag.removesuffix("Ref")
            raise Status(3140, messages.invalid_reference(label, full_name or list_id or "", where))
        return found

    def capture(self, element: Any, where: str) -> Value:
        """A request element as the company keeps it: text, a reference, or an aggregate of those."""
        tag = element.tag
        if tag.endswith("Ref") and tag not in specs.NOT_REFS:
            return Ref(self.resolve(element, where))
        kids = list(children(element))
        if not kids:
            return latin1(element.text or "")
        return [(specs.MOD_TO_RET.get(k.tag, k.tag), self.capture(k, where)) for k in kids]

    def store(self, obj: Obj, element: Any, order: tuple[str, ...], where: str, skip: frozenset[str]) -> None:
        """Keep the children of an Add or Mod that its Ret shows; a Mod replaces the ones it names."""
        given: dict[str, list[Value]] = {}
        for child in children(element):
            tag = specs.MOD_TO_RET.get(child.tag, child.tag)
            if tag in skip or tag not in order:
                continue
            given.setdefault(tag, []).append(self.capture(child, where))
        obj.fields.update(given)

    # ---- lists ---------------------------------------------------------------------------------------------

    def name_key(self, spec: Spec, parent: Obj | None, name: str) -> tuple[str, str, str]:
        return (spec.space, parent.id if parent else "", name.casefold())

    def claim(self, spec: Spec, parent: Obj | None, name: str, holder: Obj | None = None) -> None:
        key = self.name_key(spec, parent, name)
        taken = self.company.names.get(key)
        if taken is not None and taken is not holder:
            raise Status(3100, messages.name_in_use(name))

    def parent_of(self, spec: Spec, element: Any) -> Obj | None:
        ref = element.find("ParentRef")
        if ref is None:
            return None
        candidates = specs.ALL_ITEMS if spec.space == specs.ITEMS else (spec,)
        list_id, full_name = child_text(ref, "ListID"), child_text(ref, "FullName")
        parent = self.find(candidates, list_id=list_id, name=None if list_id else full_name)
        if parent is None:
            raise Status(3130, messages.invalid_parent(full_name or list_id or "", spec))
        return parent

    def add_list(self, spec: Spec, element: Any) -> Obj:
        c = self.company
        if spec is specs.ITEM_INVENTORY and not c.uses_inventory:
            raise Status(3250, messages.FEATURE_OFF)
        name = child_text(element, "Name") or employee_name(element)
        parent = self.parent_of(spec, element)
        self.claim(spec, parent, name)
        now = c.now()
        obj = Obj(spec, c.new_list_id(now), now, now, c.edit_sequence(now, 0), name=name, parent=parent)
        self.store(obj, element, spec.order, spec.label, LIST_HEADER)
        self.tax_line(obj, element)
        obj.active = child_text(element, "IsActive") not in ("false", "0")
        c.keep(obj)
        c.names[self.name_key(spec, parent, name)] = obj
        return obj

    def mod_list(self, spec: Spec, element: Any) -> Obj:
        c = self.company
        obj = self.current(spec, element, "ListID")
        name = child_text(element, "Name") or obj.name
        parent = self.parent_of(spec, element) if element.find("ParentRef") is not None else obj.parent
        if (name, parent) != (obj.name, obj.parent):
            self.claim(spec, parent, name, holder=obj)
        self.store(obj, element, spec.order, spec.label, LIST_HEADER)
        self.tax_line(obj, element)
        c.names.pop(self.name_key(spec, obj.parent, obj.name), None)
        obj.name, obj.parent = name, parent
        c.names[self.name_key(spec, parent, name)] = obj
        active = child_text(element, "IsActive")
        if active is not None:
            obj.active = active not in ("false", "0")
        c.touch(obj)
        return obj

    def tax_line(self, obj: Obj, element: Any) -> None:
        """An account's TaxLineID comes back as TaxLineInfoRet (captures/qbxml_gem__account_query_rs.xml)."""
        line_id = child_text(element, "TaxLineID")
        if obj.spec is specs.ACCOUNT and line_id:
            name = TAX_LINES.get(line_id, f"Tax line {line_id}")
            obj.fields["TaxLineInfoRet"] = [[("TaxLineID", line_id), ("TaxLineName", name)]]

    def current(self, spec: Spec, element: Any, id_tag: str) -> Obj:
        """The object a Mod names, if its EditSequence is the current one (3120, 3200 otherwise)."""
        obj_id = child_text(element, id_tag) or ""
        obj = self.company.objects.get(obj_id)
        if obj is None or obj.spec is not spec:
            raise Status(3120, messages.not_found(obj_id))
        given = child_text(element, "EditSequence") or ""
        if given != str(obj.edit_sequence):
            raise Status(3200, messages.stale(given))
        return obj

    # ---- transactions --------------------------------------------------------------------------------------

    def add_txn(self, spec: Spec, element: Any) -> Obj:
        c = self.company
        now = c.now()
        obj = Obj(spec, c.new_txn_id(now), now, now, c.edit_sequence(now, 0), number=c.new_txn_number())
        self.store(obj, element, spec.order, spec.label, TXN_HEADER)
        self.default_header(obj)
        receipts: list[tuple[Obj, Line, Line]] = []  # (purchase order, its line, the bill line receiving it)
        for stem, ret, order in spec.lines:
            for line_element in element.findall(f"{stem}Add"):
                linked = self.order_line(obj, line_element.find("LinkToTxn"))
                # A linked line without an item is the order line's item (then priced as any line is).
                seed = (
                    {"ItemRef": list(linked[1].fields["ItemRef"])}
                    if linked and "ItemRef" in linked[1].fields
                    else {}
                )
                line = self.new_line(obj, ret, order, line_element, seed)
                obj.lines.append(line)
                if linked is not None:
                    receipts.append((*linked, line))
        if spec is specs.BILL:
            self.link_orders(obj, element)
        if spec is specs.RECEIVE_PAYMENT:
            self.apply_payment(obj, element, (child_text(element, "IsAutoApply") or "") in ("true", "1"))
        self.check_inventory(obj)
        self.receive(obj, receipts)
        c.keep(obj)
        return obj

    def mod_txn(self, spec: Spec, element: Any) -> Obj:
        obj = self.current(spec, element, "TxnID")
        self.store(obj, element, spec.order, spec.label, TXN_HEADER)
        self.default_header(obj, modifying=True)
        if spec is specs.BILL:
            for stem in ("ExpenseLine", "ItemLine"):
                clear = child_text(element, f"Clear{stem.removesuffix('Line')}Lines")
                if clear in ("true", "1"):
                    obj.lines = [line for line in obj.lines if line.ret != f"{stem}Ret"]
        for stem, ret, order in spec.lines:
            mods = element.findall(f"{stem}Mod")
            if mods:
                obj.lines = [line for line in obj.lines if line.ret != ret] + self.mod_lines(
                    obj, ret, order, mods
                )
        if spec is specs.RECEIVE_PAYMENT and element.find("AppliedToTxnMod") is not None:
            self.unapply(obj)
            self.apply_payment(obj, element, auto=False, tag="AppliedToTxnMod")
        self.check_inventory(obj)
        self.company.touch(obj)
        return obj

    def mod_lines(self, obj: Obj, ret: str, order: tuple[str, ...], mods: list[Any]) -> list[Line]:
        """The lines after a Mod: TxnLineID -1 adds a line, an id changes that line, and the lines the Mod
        leaves out are deleted (Intuit's SDK guide, desktop.md §2)."""
        existing = {line.id: line for line in obj.lines if line.ret == ret}
        lines = []
        for element in mods:
            line_id = child_text(element, "TxnLineID") or ""
            if line_id == "-1":
                lines.append(self.new_line(obj, ret, order, element))
                continue
            line = existing.get(line_id)
            if line is None:
                raise Status(3120, messages.not_found(line_id))
            self.fill_line(obj, line, order, element, changed=True)
            lines.append(line)
        return lines

    def new_line(
        self,
        obj: Obj,
        ret: str,
        order: tuple[str, ...],
        element: Any,
        seed: dict[str, list[Value]] | None = None,
    ) -> Line:
        """A new line from its `...LineAdd` (or a Mod's line -1), starting from `seed`'s fields."""
        line = Line(self.company.new_txn_id(obj.created), ret, dict(seed or {}))
        self.fill_line(obj, line, order, element)
        return line

    def fill_line(
        self, obj: Obj, line: Line, order: tuple[str, ...], element: Any, changed: bool = False
    ) -> None:
        where = f"{obj.spec.label} line"
        for child in children(element):
            if child.tag in order and child.tag != "TxnLineID":
                line.fields[child.tag] = [self.capture(child, where)]
        if changed and element.find("Amount") is None:
            line.fields.pop("Amount", None)
        item = line_ref(line, "ItemRef")
        rate_tag = "Cost" if "Cost" in order else "Rate"
        qty = line_text(line, "Quantity")
        rate = line_text(line, rate_tag)
        given = line_text(line, "Amount")
        if rate is None and item is not None and line.ret != "ExpenseLineRet":
            rate = item_price(item, purchase=rate_tag == "Cost" or line.ret == "PurchaseOrderLineRet")
            if rate is not None and (qty is not None or given is None):
                line.fields[rate_tag] = [price(decimal_of(rate))]
        if given is None:
            line.fields["Amount"] = [amount(decimal_of(qty, Decimal(1)) * decimal_of(rate))]
        elif rate is None and qty not in (None, "") and decimal_of(qty) != 0:
            line.fields[rate_tag] = [price(decimal_of(given) / decimal_of(qty))]
        if qty is not None:
            line.fields["Quantity"] = [quantity(decimal_of(qty))]
        if "SalesTaxCodeRef" in order and "SalesTaxCodeRef" not in line.fields and obj.spec in SALES:
            code = (item.ref("SalesTaxCodeRef") if item else None) or self.company.non_taxable_code()
            if code is not None:
                line.fields["SalesTaxCodeRef"] = [Ref(code)]
        if line.ret == "PurchaseOrderLineRet":
            line.fields.setdefault("ReceivedQuantity", ["0"])
            line.fields.setdefault("IsManuallyClosed", ["false"])

    def default_header(self, obj: Obj, modifying: bool = False) -> None:
        """What QuickBooks fills in when a request leaves it out (the captures show these on every Ret)."""
        c = self.company
        fields = obj.fields
        today = c.today().isoformat()
        fields.setdefault("TxnDate", [today])
        account = {"Invoice": "ARAccountRef", "CreditMemo": "ARAccountRef", "ReceivePayment": "ARAccountRef"}
        account |= {"Bill": "APAccountRef"}
        tag = account.get(obj.spec.kind)
        if tag is not None and tag not in fields:
            default = c.special_account("AccountsReceivable" if tag == "ARAccountRef" else "AccountsPayable")
            if default is not None:
                fields[tag] = [Ref(default)]
        if obj.spec is specs.RECEIVE_PAYMENT and "DepositToAccountRef" not in fields:
            undeposited = c.special_account("UndepositedFunds")
            if undeposited is not None:
                fields["DepositToAccountRef"] = [Ref(undeposited)]
        self.default_template(obj)
        if obj.spec in (specs.INVOICE, specs.CREDIT_MEMO, specs.PURCHASE_ORDER) and "RefNumber" not in fields:
            fields["RefNumber"] = [c.next_ref_number(obj.spec)]
        if obj.spec in SALES:
            customer = obj.ref("CustomerRef")
            if customer is not None and "BillAddress" not in fields and customer.fields.get("BillAddress"):
                fields["BillAddress"] = list(customer.fields["BillAddress"])
            if customer is not None and "ShipAddress" not in fields and customer.fields.get("ShipAddress"):
                fields["ShipAddress"] = list(customer.fields["ShipAddress"])
            fields.setdefault("IsPending", ["false"])
            fields.setdefault("ShipDate", list(fields["TxnDate"]))
            if obj.spec is specs.INVOICE:
                fields.setdefault("IsFinanceCharge", ["false"])
            fields.setdefault("IsToBePrinted", ["true"])
            fields.setdefault("IsToBeEmailed", ["false"])
        if obj.spec is specs.PURCHASE_ORDER:
            fields.setdefault("ShipAddress", [[("Addr1", c.name)]])
            fields.setdefault("ExpectedDate", list(fields["TxnDate"]))
            fields.setdefault("IsManuallyClosed", ["false"])
            fields.setdefault("IsToBePrinted", ["true"])
            fields.setdefault("IsToBeEmailed", ["false"])
        if obj.spec in (specs.INVOICE, specs.CREDIT_MEMO, specs.PURCHASE_ORDER, specs.BILL) and (
            modifying is False or "DueDate" not in fields
        ):
            fields.setdefault("DueDate", [self.due_date(obj).isoformat()])

    def default_template(self, obj: Obj) -> None:
        template = DEFAULT_TEMPLATES.get(obj.spec.kind)
        if template is not None and "TemplateRef" not in obj.fields:
            found = self.find((specs.TEMPLATE,), name=template)
            if found is not None:
                obj.fields["TemplateRef"] = [Ref(found)]

    def due_date(self, obj: Obj) -> date:
        """TxnDate plus the terms' days; a bill without terms is due after the company's DaysBillsAreDue (10
        in the captured preferences, and the captured BillRet is due ten days after its TxnDate)."""
        start = date_of(obj.text("TxnDate") or self.company.today().isoformat())
        terms = obj.ref("TermsRef")
        if terms is not None and terms.text("StdDueDays"):
            return elapsed_days(start, int(terms.text("StdDueDays") or 0))
        if terms is not None and terms.text("DayOfMonthDue"):
            day = int(terms.text("DayOfMonthDue") or 1)
            month = start.replace(day=1)
            due = month.replace(day=min(day, 28))
            return due if due >= start else elapsed_days(month, 32).replace(day=min(day, 28))
        if obj.spec is specs.BILL:
            return elapsed_days(start, self.company.days_bills_are_due)
        return start

    def check_inventory(self, obj: Obj) -> None:
        if self.company.uses_inventory:
            return
        for line in obj.lines:
            item = line_ref(line, "ItemRef")
            if item is not None and item.spec is specs.ITEM_INVENTORY:
                raise Status(3250, messages.FEATURE_OFF)

    def order_line(self, bill: Obj, link: Any) -> tuple[Obj, Line] | None:
        """The purchase order line an ItemLineAdd's LinkToTxn names (TxnID, TxnLineID): the TxnID must be an
        open purchase order of the bill's vendor and the TxnLineID one of its lines. The codes are inferred
        (Intuit's BillAdd reference says only that LinkToTxn "links in a specific PurchaseOrder line item"):
        3120 as for any id QuickBooks cannot find, 3140 as for a reference to the wrong record."""
        if link is None:
            return None
        txn_id, line_id = child_text(link, "TxnID") or "", child_text(link, "TxnLineID") or ""
        order = self.company.objects.get(txn_id)
        if order is None or order.spec is not specs.PURCHASE_ORDER:
            raise Status(3120, messages.not_found(txn_id))
        closed = order.text("IsManuallyClosed") in ("true", "1") or fully_received(order)
        if order.ref("VendorRef") is not bill.ref("VendorRef") or closed:
            raise Status(3140, messages.invalid_reference("PurchaseOrder", txn_id, "Bill line"))
        line = next((line for line in order.lines if line.id == line_id), None)
        if line is None:
            raise Status(3120, messages.not_found(line_id))
        return order, line

    def receive(self, bill: Obj, receipts: list[tuple[Obj, Line, Line]]) -> None:
        """Each linked purchase order line has received its bill line's quantity (a line without one, one);
        the bill and the orders list each other (LinkedTxn). Done last, once the bill is sure to be kept."""
        for order, order_line, line in receipts:
            received = decimal_of(line_text(order_line, "ReceivedQuantity"))
            received += decimal_of(line_text(line, "Quantity"), Decimal(1))
            order_line.fields["ReceivedQuantity"] = [quantity(received)]
            if order not in bill.links:
                bill.links.append(order)
                order.links.append(bill)
                self.company.touch(order)

    def link_orders(self, bill: Obj, element: Any) -> None:
        """BillAdd's LinkToTxnID: the purchase order's open lines come onto the bill as item lines, and the
        order is received in full."""
        for link in element.findall("LinkToTxnID"):
            txn_id = latin1(link.text or "")
            order = self.company.objects.get(txn_id)
            if order is None or order.spec is not specs.PURCHASE_ORDER:
                raise Status(3120, messages.not_found(txn_id))
            if order.ref("VendorRef") is not bill.ref("VendorRef"):
                raise Status(3140, messages.invalid_reference("PurchaseOrder", txn_id, "Bill"))
            for po_line in order.lines:
                received = decimal_of(line_text(po_line, "ReceivedQuantity"))
                ordered = decimal_of(line_text(po_line, "Quantity"), Decimal(1))
                if received >= ordered:
                    continue
                line = Line(self.company.new_txn_id(bill.created), "ItemLineRet")
                for tag in ("ItemRef", "Desc", "Quantity"):
                    if tag in po_line.fields:
                        line.fields[tag] = list(po_line.fields[tag])
                rate = decimal_of(line_text(po_line, "Rate"))
                line.fields["Cost"] = [price(rate)]
                line.fields["Amount"] = [amount(rate * (ordered - received))]
                bill.lines.append(line)
                po_line.fields["ReceivedQuantity"] = [quantity(ordered)]
            bill.links.append(order)
            order.links.append(bill)
            self.company.touch(order)

    # ---- payments ------------------------------------------------------------------------------------------

    def apply_payment(self, payment: Obj, element: Any, auto: bool, tag: str = "AppliedToTxnAdd") -> None:
        """AppliedToTxnAdd (with SetCredit) or IsAutoApply: the payment goes to the customer's invoices;
        paying
        more than an invoice's balance is 3210 with the captured text."""
        customer = payment.ref("CustomerRef")
        total = payment.text("TotalAmount")
        for applied in element.findall(tag):
            txn_id = child_text(applied, "TxnID") or ""
            invoice = self.company.objects.get(txn_id)
            if invoice is None or invoice.spec is not specs.INVOICE:
                raise Status(3120, messages.not_found(txn_id))
            if invoice.ref("CustomerRef") is not customer and not is_job_of(
                invoice.ref("CustomerRef"), customer
            ):
                raise Status(3140, messages.invalid_reference("Invoice", txn_id, "ReceivePayment"))
            paid = decimal_of(child_text(applied, "PaymentAmount"))
            application = Application(payment, invoice, paid)
            for credit in applied.findall("SetCredit"):
                memo_id = child_text(credit, "CreditTxnID") or ""
                memo = self.company.objects.get(memo_id)
                if memo is None or memo.spec is not specs.CREDIT_MEMO:
                    raise Status(3120, messages.not_found(memo_id))
                used = decimal_of(child_text(credit, "AppliedAmount"))
                if used > credit_remaining(memo):
                    raise Status(3210, messages.overpaid("SetCredit applied amount", amount(used)))
                application.credits.append((memo, used))
            if paid + sum((u for _, u in application.credits), ZERO) > balance_remaining(invoice):
                raise Status(3210, messages.overpaid("AppliedToTxnAdd payment amount", amount(paid)))
            self.link_application(application)
        if auto and customer is not None:
            left = decimal_of(total)
            for invoice in self.company.open_invoices(customer):
                if left <= 0:
                    break
                share = min(left, balance_remaining(invoice))
                self.link_application(Application(payment, invoice, share))
                left -= share
        applied_total = sum((a.amount for a in payment.applications), ZERO)
        if total is None:
            payment.fields["TotalAmount"] = [amount(applied_total)]
        elif applied_total > decimal_of(total):
            raise Status(3210, messages.overpaid("AppliedToTxnAdd payment amount", amount(applied_total)))

    def link_application(self, application: Application) -> None:
        application.payment.applications.append(application)
        application.target.applied_by.append(application)
        for memo, used in application.credits:
            memo.credit_uses.append((application, used))
            self.company.touch(memo)
        self.company.touch(application.target)

    def unapply(self, payment: Obj) -> None:
        for application in payment.applications:
            if application in application.target.applied_by:
                application.target.applied_by.remove(application)
                self.company.touch(application.target)
            for memo, _ in application.credits:
                memo.credit_uses = [(a, u) for a, u in memo.credit_uses if a is not application]
        payment.applications = []

    # ---- void and delete -----------------------------------------------------------------------------------

    def void(self, obj: Obj) -> None:
        """TxnVoid: the transaction stays, its amounts become zero, and QuickBooks marks its memo "VOID:"."""
        for line in obj.lines:
            if "Quantity" in line.fields:
                line.fields["Quantity"] = ["0"]
            line.fields["Amount"] = [amount(ZERO)]
        for application in list(obj.applied_by):
            self.detach(application)
        for application, _ in list(obj.credit_uses):
            application.credits = [(m, u) for m, u in application.credits if m is not obj]
        obj.credit_uses = []
        obj.voided = True
        memo = obj.text("Memo") or ""
        obj.fields["Memo"] = [f"VOID: {memo}".rstrip() if not memo.startswith("VOID:") else memo]
        self.company.touch(obj)

    def detach(self, application: Application) -> None:
        payment = application.payment
        if application in payment.applications:
            payment.applications.remove(application)
        if application in application.target.applied_by:
            application.target.applied_by.remove(application)
        for memo, _ in application.credits:
            memo.credit_uses = [(a, u) for a, u in memo.credit_uses if a is not application]
        self.company.touch(payment)

    def delete(self, obj: Obj) -> Deleted:
        c = self.company
        if obj.spec is specs.RECEIVE_PAYMENT:
            self.unapply(obj)
        for application in list(obj.applied_by):
            self.detach(application)
        for application, _ in list(obj.credit_uses):
            application.credits = [(m, u) for m, u in application.credits if m is not obj]
        for linked in obj.links:
            linked.links = [o for o in linked.links if o is not obj]
        c.forget(obj)
        gone = Deleted(obj.spec.kind, obj.id, obj.created, c.now(), obj.text("RefNumber"))
        c.deleted.append(gone)
        return gone

    def delete_list(self, obj: Obj) -> ListDeleted:
        """A list entry deleted (in QuickBooks' window: the service deletes none): later queries no longer
        return it, ListDeletedQuery does; its name is free again."""
        c = self.company
        c.forget(obj)
        c.names.pop(self.name_key(obj.spec, obj.parent, obj.name), None)
        gone = ListDeleted(obj.spec.kind, obj.id, obj.created, c.now(), obj.full_name)
        c.deleted_lists.append(gone)
        return gone


TAX_LINES = {"1864": "B/S-Assets: Cash"}  # the one tax line a capture names
# The forms a new company file prints each transaction on (names as in the captures).
DEFAULT_TEMPLATES = {
    "Invoice": "Intuit Service Invoice",
    "CreditMemo": "Custom Credit Memo",
    "PurchaseOrder": "Custom Purchase Order",
}
LIST_HEADER = frozenset({"Name", "IsActive", "ParentRef", "ListID", "EditSequence"})
TXN_HEADER = frozenset({"TxnID", "EditSequence"})
SALES = (specs.INVOICE, specs.CREDIT_MEMO)


def employee_name(element: Any) -> str:
    """An EmployeeAdd without Name is named after the person (QuickBooks' "First M. Last")."""
    parts = [child_text(element, tag) for tag in ("FirstName", "MiddleName", "LastName")]
    return " ".join(p for p in parts if p)


def is_job_of(job: Obj | None, customer: Obj | None) -> bool:
    while job is not None and customer is not None:
        if job.parent is customer:
            return True
        job = job.parent
    return False


def item_price(item: Obj, purchase: bool) -> str | None:
    """The rate an item brings onto a line: its sales price (or purchase cost on purchases)."""
    for aggregate in ("SalesOrPurchase", "SalesAndPurchase"):
        values = item.fields.get(aggregate)
        if values and isinstance(values[0], list):
            parts = dict(values[0])
            key = (
                ("PurchaseCost" if purchase else "SalesPrice") if aggregate == "SalesAndPurchase" else "Price"
            )
            found = parts.get(key)
            return found if isinstance(found, str) else None
    return item.text("PurchaseCost" if purchase else "SalesPrice")


def fully_received(order: Obj) -> bool:
    """A purchase order with lines, every one received in full (a line without a Quantity counts as one)."""
    return bool(order.lines) and all(
        decimal_of(line_text(line, "ReceivedQuantity")) >= decimal_of(line_text(line, "Quantity"), Decimal(1))
        for line in order.lines
    )


def lines_total(obj: Obj, ret: str | None = None) -> Decimal:
    return sum((decimal_of(line_text(line, "Amount")) for line in obj.lines if ret in (None, line.ret)), ZERO)


def tax_rate(obj: Obj) -> Decimal:
    tax = obj.ref("ItemSalesTaxRef")
    if tax is None:
        return ZERO
    if tax.spec is specs.ITEM_SALES_TAX:
        return decimal_of(tax.text("TaxRate"))
    return sum((decimal_of(v.target.text("TaxRate")) for v in tax.fields.get("ItemSalesTaxRef", [])), ZERO)


def sales_tax(obj: Obj) -> Decimal:
    """Sales tax on the lines whose tax code is taxable, at the rate of the transaction's sales tax item."""
    rate = tax_rate(obj)
    taxable = ZERO
    for line in obj.lines:
        code = line_ref(line, "SalesTaxCodeRef")
        if code is not None and code.text("IsTaxable") in ("true", "1"):
            taxable += decimal_of(line_text(line, "Amount"))
    return (taxable * rate / 100).quantize(Decimal("0.01"))


def total(obj: Obj) -> Decimal:
    return lines_total(obj) + (sales_tax(obj) if obj.spec in SALES else ZERO)


def applied(invoice: Obj) -> Decimal:
    return sum((a.amount + sum((u for _, u in a.credits), ZERO) for a in invoice.applied_by), ZERO)


def balance_remaining(invoice: Obj) -> Decimal:
    return total(invoice) - applied(invoice)


def credit_remaining(memo: Obj) -> Decimal:
    return total(memo) - sum((u for _, u in memo.credit_uses), ZERO)


def unused_payment(payment: Obj) -> Decimal:
    return decimal_of(payment.text("TotalAmount")) - sum((a.amount for a in payment.applications), ZERO)


Sorter = Callable[[Obj], Any]
