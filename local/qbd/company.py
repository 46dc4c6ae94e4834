"""One QuickBooks Desktop company file, as the request processor and a user at the keyboard see it.

`Company(name=...)` holds the file's state; `open_session()` is QuickBooks' BeginSession and gives a
`CompanySession`, whose `process(message)` executes one qbXML request message (or raises
`RequestProcessorError` for a message QuickBooks refuses whole), whose `hcp_response()` is what the Web
Connector
passes as strHCPResponse, and whose `close()` ends it (its iterators die with it: 3391 afterwards).

The product is QuickBooks Pro 2014 (qbXML up to 13.0, qbwc/qbwc test_helper.rb's strHCPResponse) unless told,
e.g. `Company(product=PRO_2006)`, the captured Pro 2006 (up to 5.0, captures/quickbooks_log.txt). Time runs on
an injectable clock in the company's time zone (US Pacific unless told).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from local.qbd import books, processor, specs
from local.qbd.books import Books, Deleted, ListDeleted
from local.qbd.model import ZERO, Obj, Ref, Spec, Status, decimal_of, line_ref, line_text, put, quantity
from local.qbd.processor import RequestProcessorError

__all__ = [
    "PRO_2006",
    "PRO_2014",
    "Company",
    "CompanySession",
    "EntryError",
    "Product",
    "RequestProcessorError",
]

PACIFIC = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Product:
    """What HostQuery answers: the QuickBooks product and the qbXML versions it reads."""

    name: str
    major: int
    minor: int
    versions: tuple[str, ...]
    country: str = "US"
    file_mode: str = "SingleUser"


_OLD = ("1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0")
PRO_2006 = Product("QuickBooks Pro 2006", 16, 0, _OLD)  # captures/quickbooks_log.txt
PRO_2014 = Product(  # qbwc/qbwc test_helper.rb: Pro 2014, MajorVersion 24, up to 13.0 (NOTES.md §3.2)
    "QuickBooks Pro 2014", 24, 0, (*_OLD, "6.0", "7.0", "8.0", "9.0", "10.0", "11.0", "12.0", "13.0")
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class EntryError(Exception):
    """An entry a user made that QuickBooks refuses (the same code and text a request would get)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class LockFaults:
    """Records locked by a user (3170 / 3175, NOTES.md §3.4): each write request rolls a seeded die and is
    refused, unapplied, with that probability."""

    rate: float = 0.0
    seed: int = 0
    codes: tuple[int, ...] = (3170, 3175)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def set(self, rate: float, seed: int = 0, codes: tuple[int, ...] = (3170, 3175)) -> None:
        self.rate, self.seed, self.codes = rate, seed, codes
        self._random = random.Random(seed)  # noqa: S311 - a repeatable fault, not a secret

    def roll(self) -> int | None:
        if self.rate <= 0 or self._random.random() >= self.rate:
            return None
        return self._random.choice(self.codes)


class CompanySession:
    """QuickBooks' BeginSession .. EndSession on one company file."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.open = True
        self.iterators: dict[str, tuple[list[Obj], Any]] = {}
        self._processor = processor.Processor(company, self)

    def process(self, message: str) -> str:
        """The response message to a qbXML request message, or RequestProcessorError for one refused whole."""
        if not self.open:
            raise RequestProcessorError(
                "0x80040402",
                "Unexpected error. Check the qbsdklog.txt file for possible, additional information.",
            )
        return self._processor.process(message)

    def hcp_response(self) -> str:
        """strHCPResponse: HostQuery, CompanyQuery (with every DataExt, the FileID among them) and
        PreferencesQuery answers in one message, as the Web Connector passes them
        (captures/quickbooks_log.txt)."""
        answer = etree.Element("QBXML")
        responses = etree.SubElement(answer, "QBXMLMsgsRs")
        c = self.company
        for request_id, (tag, build) in enumerate(
            (
                ("HostQueryRs", c.host_ret),
                ("CompanyQueryRs", lambda rs: c.company_ret(rs, None)),
                ("PreferencesQueryRs", c.preferences_ret),
            )
        ):
            response = etree.SubElement(responses, tag, requestID=str(request_id))
            processor.set_status(response, None)
            build(response)
        return '<?xml version="1.0" ?>\n' + etree.tostring(answer, encoding="unicode") + "\n"

    def close(self) -> None:
        self.open = False
        self.iterators.clear()


class Company:
    def __init__(
        self,
        name: str = "Desktop Demo Co",
        *,
        product: Product = PRO_2014,
        time_zone: ZoneInfo = PACIFIC,
        clock: Callable[[], datetime] = utc_now,
        uses_inventory: bool = True,
        standard_offset_in_dst: bool = True,
        restricted: frozenset[str] = frozenset(),
        days_bills_are_due: int = 10,
        seed: bool = True,
    ) -> None:
        self.name = name
        self.product = product
        self.time_zone = time_zone
        self.clock = clock
        self.uses_inventory = uses_inventory
        self.standard_offset_in_dst = standard_offset_in_dst
        self.restricted = restricted  # request kinds this login may not run (3260)
        self.days_bills_are_due = days_bills_are_due
        self.lock = threading.RLock()
        self.objects: dict[str, Obj] = {}
        self.by_kind: dict[str, list[Obj]] = {}
        self.names: dict[tuple[str, str, str], Obj] = {}
        self.deleted: list[Deleted] = []
        self.deleted_lists: list[ListDeleted] = []
        self.file_data_ext: dict[tuple[str, str], str] = {}
        self.counters: Counter[str] = Counter()
        self.faults = LockFaults()
        self.sessions: list[CompanySession] = []
        self.books = Books(self)
        self._next_list = 0x80000001
        self._next_txn = 1
        self._next_txn_number = 1
        self._last_sequence = 0
        if seed:
            self._seed()

    # ---- sessions ------------------------------------------------------------------------------------------

    def open_session(self) -> CompanySession:
        session = CompanySession(self)
        self.sessions.append(session)
        return session

    def write_file_id(self, owner_id: str, file_id: str) -> None:
        """The FileID DataExt the Web Connector writes on the company the first time it connects (guide
        p.36)."""
        with self.lock:
            self.file_data_ext[(owner_id, "FileID")] = file_id

    # ---- clock, ids, formats -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def today(self) -> date:
        return self.now().astimezone(self.time_zone).date()

    def wall(self, moment: datetime) -> datetime:
        """`moment` as a naive company-local wall time."""
        return moment.astimezone(self.time_zone).replace(tzinfo=None)

    def local_bound(self, value: str, end: bool) -> datetime:
        return processor.local_bound(value, self.time_zone, end)

    def stamp(self, moment: datetime) -> str:
        """TimeCreated/TimeModified: local wall time with an offset (the standard one, see model.py)."""
        local = moment.astimezone(self.time_zone)
        offset = local.utcoffset() or timedelta(0)
        if self.standard_offset_in_dst:
            offset -= local.dst() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return (
            f"{local.replace(tzinfo=None).isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        )

    def new_list_id(self, now: datetime) -> str:
        value = self._next_list
        self._next_list += 1
        return f"{value:X}-{int(now.timestamp())}"

    def new_txn_id(self, now: datetime) -> str:
        value = self._next_txn
        self._next_txn += 1
        return f"{value:X}-{int(now.timestamp())}"

    def new_txn_number(self) -> int:
        value = self._next_txn_number
        self._next_txn_number += 1
        return value

    def edit_sequence(self, now: datetime, previous: int) -> int:
        value = max(int(now.timestamp()), previous + 1, self._last_sequence + 1 if previous else 0)
        self._last_sequence = max(self._last_sequence, value)
        return value

    def next_ref_number(self, spec: Spec) -> str:
        numbers = [int(n) for obj in self.of(spec) if (n := obj.text("RefNumber") or "").isdigit()]
        return str(max(numbers, default=0) + 1)

    # ---- state ---------------------------------------------------------------------------------------------

    def of(self, spec: Spec) -> list[Obj]:
        return self.by_kind.setdefault(spec.kind, [])

    def keep(self, obj: Obj) -> None:
        self.objects[obj.id] = obj
        self.of(obj.spec).append(obj)

    def forget(self, obj: Obj) -> None:
        self.objects.pop(obj.id, None)
        self.of(obj.spec).remove(obj)

    def touch(self, obj: Obj) -> None:
        now = self.now()
        obj.modified = now
        obj.edit_sequence = self.edit_sequence(now, obj.edit_sequence)

    def special_account(self, special: str) -> Obj | None:
        return next((a for a in self.of(specs.ACCOUNT) if a.text("SpecialAccountType") == special), None)

    def non_taxable_code(self) -> Obj | None:
        return next((code for code in self.of(specs.SALES_TAX_CODE) if code.name == "Non"), None)

    def jobs_of(self, customer: Obj) -> list[Obj]:
        found = []
        for obj in self.of(specs.CUSTOMER):
            node = obj.parent
            while node is not None:
                if node is customer:
                    found.append(obj)
                    break
                node = node.parent
        return found

    def open_invoices(self, customer: Obj) -> list[Obj]:
        """The customer's (and its jobs') invoices with a balance, oldest first (how auto-apply goes)."""
        parties = {customer.id, *(job.id for job in self.jobs_of(customer))}
        found = [
            invoice
            for invoice in self.of(specs.INVOICE)
            if (party := invoice.ref("CustomerRef")) is not None
            and party.id in parties
            and books.balance_remaining(invoice) > 0
        ]
        return sorted(found, key=lambda invoice: (invoice.text("TxnDate") or "", invoice.number))

    def customer_balance(self, customer: Obj) -> Decimal:
        balance = ZERO
        for invoice in self.of(specs.INVOICE):
            if invoice.ref("CustomerRef") is customer:
                balance += books.balance_remaining(invoice)
        for memo in self.of(specs.CREDIT_MEMO):
            if memo.ref("CustomerRef") is customer:
                balance -= books.credit_remaining(memo)
        for payment in self.of(specs.RECEIVE_PAYMENT):
            if payment.ref("CustomerRef") is customer:
                balance -= books.unused_payment(payment)
        return balance

    def vendor_balance(self, vendor: Obj) -> Decimal:
        return sum(
            (books.total(bill) for bill in self.of(specs.BILL) if bill.ref("VendorRef") is vendor), ZERO
        )

    def quantity_on_hand(self, item: Obj) -> str:
        on_hand = decimal_of(item.text("QuantityOnHand"))
        for spec, sign in ((specs.BILL, 1), (specs.INVOICE, -1), (specs.CREDIT_MEMO, 1)):
            for txn in self.of(spec):
                for line in txn.lines:
                    if line_ref(line, "ItemRef") is item:
                        on_hand += sign * decimal_of(line_text(line, "Quantity"), Decimal(1))
        return quantity(on_hand)

    def quantity_on_order(self, item: Obj) -> str:
        ordered = ZERO
        for order in self.of(specs.PURCHASE_ORDER):
            for line in order.lines:
                if line_ref(line, "ItemRef") is item:
                    ordered += decimal_of(line_text(line, "Quantity"), Decimal(1))
                    ordered -= decimal_of(line_text(line, "ReceivedQuantity"))
        return quantity(ordered)

    # ---- HostQuery, CompanyQuery, PreferencesQuery ---------------------------------------------------------

    def host_ret(self, response: Any) -> None:
        """HostRet in the captured shape (captures/quickbooks_log.txt)."""
        p = self.product
        host = etree.SubElement(response, "HostRet")
        for tag, value in (
            ("ProductName", p.name),
            ("MajorVersion", str(p.major)),
            ("MinorVersion", str(p.minor)),
            ("Country", p.country),
        ):
            etree.SubElement(host, tag).text = value
        for version in p.versions:
            etree.SubElement(host, "SupportedQBXMLVersion").text = version
        etree.SubElement(host, "IsAutomaticLogin").text = "false"
        etree.SubElement(host, "QBFileMode").text = p.file_mode

    def company_ret(self, response: Any, owners: set[str] | None) -> None:
        """CompanyRet in the captured shape; DataExtRet for the owners asked for (all of them in the HCP)."""
        ret = etree.SubElement(response, "CompanyRet")
        for tag, value in (
            ("IsSampleCompany", "false"),
            ("CompanyName", self.name),
            ("LegalCompanyName", self.name),
            ("FirstMonthFiscalYear", "January"),
            ("FirstMonthIncomeTaxYear", "January"),
            ("CompanyType", "Service Business"),
            ("TaxForm", "OtherOrNone"),
        ):
            etree.SubElement(ret, tag).text = value
        for (owner, name), value in self.file_data_ext.items():
            if owners is None or owner in owners:
                put(
                    ret,
                    "DataExtRet",
                    [
                        ("OwnerID", owner),
                        ("DataExtName", name),
                        ("DataExtType", "STR255TYPE"),
                        ("DataExtValue", value),
                    ],
                )

    def preferences_ret(self, response: Any) -> None:
        """PreferencesRet in the captured shape, with this company's inventory and sales tax settings."""
        tax_item = next(iter(self.of(specs.ITEM_SALES_TAX)), None)
        taxable = next((c for c in self.of(specs.SALES_TAX_CODE) if c.name == "Tax"), None)
        non_taxable = self.non_taxable_code()
        sales_tax: list[tuple[str, Any]] = []
        if tax_item is not None:
            sales_tax.append(("DefaultItemSalesTaxRef", Ref(tax_item)))
        sales_tax.append(("PaySalesTax", "Monthly"))
        if taxable is not None and non_taxable is not None:
            sales_tax += [("DefaultTaxableSalesTaxCodeRef", Ref(taxable))]
            sales_tax += [("DefaultNonTaxableSalesTaxCodeRef", Ref(non_taxable))]
        preferences = [
            ("AccountingPreferences", [
                ("IsUsingAccountNumbers", "false"), ("IsRequiringAccounts", "true"),
                ("IsUsingClassTracking", "false"), ("IsUsingAuditTrail", "true"),
                ("IsAssigningJournalEntryNumbers", "true"),
            ]),
            ("FinanceChargePreferences", [
                ("AnnualInterestRate", "0.00"), ("MinFinanceCharge", "0.00"), ("GracePeriod", "0"),
                ("IsAssessingForOverdueCharges", "false"), ("CalculateChargesFrom", "DueDate"),
                ("IsMarkedToBePrinted", "false"),
            ]),
            ("JobsAndEstimatesPreferences", [
                ("IsUsingEstimates", "true"), ("IsUsingProgressInvoicing", "true"),
                ("IsPrintingItemsWithZeroAmounts", "false"),
            ]),
            ("PurchasesAndVendorsPreferences", [
                ("IsUsingInventory", "true" if self.uses_inventory else "false"),
                ("DaysBillsAreDue", str(self.days_bills_are_due)), ("IsAutomaticallyUsingDiscounts", "false"),
            ]),
            ("ReportsPreferences", [
                ("AgingReportBasis", "AgeFromDueDate"), ("SummaryReportBasis", "Accrual"),
            ]),
            ("SalesAndCustomersPreferences", [
                ("IsTrackingReimbursedExpensesAsIncome", "false"), ("IsAutoApplyingPayments", "true"),
                ("PriceLevels", [("IsUsingPriceLevels", "true"), ("IsRoundingSalesPriceUp", "true")]),
            ]),
            ("SalesTaxPreferences", sales_tax),
            ("TimeTrackingPreferences", [("FirstDayOfWeek", "Monday")]),
            ("CurrentAppAccessRights", [
                ("IsAutomaticLoginAllowed", "false"), ("IsPersonalDataAccessAllowed", "false"),
            ]),
        ]  # fmt: skip
        put(response, "PreferencesRet", preferences)

    # ---- entries a QuickBooks user makes -------------------------------------------------------------------

    def _enter(self, action: Callable[[], Obj]) -> Obj:
        with self.lock:
            try:
                return action()
            except Status as refused:
                raise EntryError(refused.code, refused.message) from refused

    def add_entry(self, kind: str, name: str, **fields: Any) -> str:
        """A customer, job (`parent=` the customer's FullName), vendor, employee, other name or item, entered
        by hand; `fields` are the Add's elements (`CompanyName="..."`, `SalesOrPurchase={"Price": "10.00"}`).
        Returns the ListID."""
        spec = specs.BY_KIND[kind]
        parent = fields.pop("parent", None)
        element = etree.Element(f"{kind}Add")
        etree.SubElement(element, "Name").text = name
        if parent is not None:
            etree.SubElement(etree.SubElement(element, "ParentRef"), "FullName").text = parent
        _fill(element, fields)
        return self._enter(lambda: self.books.add_list(spec, element)).id

    def rename(self, list_id: str, name: str) -> None:
        self._modify_list(list_id, Name=name)

    def delete_entry(self, list_id: str) -> None:
        """A user deletes a list entry (a customer, an item, a class ...): queries no longer return it, and
        ListDeletedQuery does. Only unused entries: nothing here checks that no transaction or sub-entry
        refers to it, which QuickBooks would."""
        obj = self.objects.get(list_id)
        if obj is None or obj.spec.is_txn:
            raise EntryError(3120, books.messages.not_found(list_id))

        def run() -> Obj:
            self.books.delete_list(obj)
            return obj

        self._enter(run)

    def deactivate(self, list_id: str) -> None:
        self._modify_list(list_id, IsActive="false")

    def _modify_list(self, list_id: str, **fields: Any) -> None:
        obj = self.objects.get(list_id)
        if obj is None:
            raise EntryError(3120, books.messages.not_found(list_id))
        element = etree.Element(f"{obj.spec.kind}Mod")
        etree.SubElement(element, "ListID").text = list_id
        etree.SubElement(element, "EditSequence").text = str(obj.edit_sequence)
        _fill(element, fields)
        self._enter(lambda: self.books.mod_list(obj.spec, element))

    def receive_payment(
        self,
        customer: str,
        total: Decimal,
        applied_to: dict[str, Decimal] | None = None,
        *,
        method: str | None = "Check",
        ref_number: str | None = None,
        txn_date: date | None = None,
    ) -> str:
        """A payment received at the counter: applied to the given invoices (TxnID -> amount), or, without
        them, auto-applied to the customer's oldest open invoices as QuickBooks does. Returns the TxnID."""
        element = etree.Element("ReceivePaymentAdd")
        etree.SubElement(etree.SubElement(element, "CustomerRef"), "FullName").text = customer
        if txn_date is not None:
            etree.SubElement(element, "TxnDate").text = txn_date.isoformat()
        if ref_number is not None:
            etree.SubElement(element, "RefNumber").text = ref_number
        etree.SubElement(element, "TotalAmount").text = f"{total.quantize(Decimal('0.01')):f}"
        if method is not None:
            etree.SubElement(etree.SubElement(element, "PaymentMethodRef"), "FullName").text = method
        if applied_to:
            for txn_id, paid in applied_to.items():
                applied = etree.SubElement(element, "AppliedToTxnAdd")
                etree.SubElement(applied, "TxnID").text = txn_id
                etree.SubElement(applied, "PaymentAmount").text = f"{paid.quantize(Decimal('0.01')):f}"
        else:
            etree.SubElement(element, "IsAutoApply").text = "true"
        return self._enter(lambda: self.books.add_txn(specs.RECEIVE_PAYMENT, element)).id

    def edit_transaction(self, txn_id: str, **fields: Any) -> None:
        """A user edits a transaction's header (e.g. `Memo="..."`): its EditSequence moves on."""
        obj = self.objects.get(txn_id)
        if obj is None or not obj.spec.is_txn:
            raise EntryError(3120, books.messages.not_found(txn_id))
        element = etree.Element(f"{obj.spec.kind}Mod")
        etree.SubElement(element, "TxnID").text = txn_id
        etree.SubElement(element, "EditSequence").text = str(obj.edit_sequence)
        _fill(element, fields)
        self._enter(lambda: self.books.mod_txn(obj.spec, element))

    def edit_invoice(self, txn_id: str, **fields: Any) -> None:
        self.edit_transaction(txn_id, **fields)

    def void(self, txn_id: str) -> None:
        """A user voids a transaction (an invoice, a credit memo, a bill)."""
        obj = self._transaction(txn_id)

        def run() -> Obj:
            self.books.void(obj)
            return obj

        self._enter(run)

    def delete(self, txn_id: str) -> None:
        """A user deletes a transaction (e.g. a received payment): later queries no longer return it."""
        obj = self._transaction(txn_id)

        def run() -> Obj:
            self.books.delete(obj)
            return obj

        self._enter(run)

    def void_invoice(self, txn_id: str) -> None:
        self.void(txn_id)

    def delete_payment(self, txn_id: str) -> None:
        self.delete(txn_id)

    def _transaction(self, txn_id: str) -> Obj:
        obj = self.objects.get(txn_id)
        if obj is None or not obj.spec.is_txn:
            raise EntryError(3120, books.messages.not_found(txn_id))
        return obj

    def set_custom_field(self, object_id: str, name: str, value: str) -> None:
        """A user fills in a custom field (a DataExt of OwnerID 0) on a list entry or a transaction."""
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None:
                raise EntryError(3120, books.messages.not_found(object_id))
            obj.data_ext[("0", name)] = value
            self.touch(obj)

    def lock_records(self, rate: float, seed: int = 0, codes: tuple[int, ...] = (3170, 3175)) -> None:
        """Records held open by a user: each write request fails with 3170 or 3175 with probability `rate`."""
        with self.lock:
            self.faults.set(rate, seed, codes)

    def find(self, kind: str, full_name: str) -> Obj | None:
        return self.books.find((specs.BY_KIND[kind],), name=full_name)

    # ---- a new company's lists -----------------------------------------------------------------------------

    def _seed(self) -> None:
        """What a new US company file starts with (names as in the captures: "Accounts Receivable",
        "Undeposited Funds", terms "Net 30", methods "Check"/"Cash"/"Visa", tax codes "Tax"/"Non")."""
        accounts = [
            ("Checking", "Bank", None),
            ("Accounts Receivable", "AccountsReceivable", "AccountsReceivable"),
            ("Undeposited Funds", "OtherCurrentAsset", "UndepositedFunds"),
            ("Inventory Asset", "OtherCurrentAsset", "InventoryAssets"),
            ("Accounts Payable", "AccountsPayable", "AccountsPayable"),
            ("Sales", "Income", None),
            ("Services", "Income", None),
            ("Cost of Goods Sold", "CostOfGoodsSold", "CostOfGoodsSold"),
            ("Office Supplies", "Expense", None),
        ]
        for name, account_type, special in accounts:
            obj = self.books.add_list(
                specs.ACCOUNT, _element("AccountAdd", Name=name, AccountType=account_type)
            )
            if special is not None:
                obj.fields["SpecialAccountType"] = [special]
        for name, days in (("Due on receipt", "0"), ("Net 15", "15"), ("Net 30", "30"), ("Net 60", "60")):
            self.books.add_list(
                specs.STANDARD_TERMS, _element("StandardTermsAdd", Name=name, StdDueDays=days)
            )
        self.books.add_list(
            specs.DATE_DRIVEN_TERMS, _element("DateDrivenTermsAdd", Name="Due 15th", DayOfMonthDue="15")
        )
        for name, method_type in (
            ("Cash", "Cash"),
            ("Check", "Check"),
            ("Visa", "Visa"),
            ("MasterCard", "MasterCard"),
            ("American Express", "AmericanExpress"),
        ):
            self.books.add_list(
                specs.PAYMENT_METHOD, _element("PaymentMethodAdd", Name=name, PaymentMethodType=method_type)
            )
        self.books.add_list(specs.SALES_TAX_CODE, _element("SalesTaxCodeAdd", Name="Tax", IsTaxable="true"))
        self.books.add_list(specs.SALES_TAX_CODE, _element("SalesTaxCodeAdd", Name="Non", IsTaxable="false"))
        self.books.add_list(
            specs.ITEM_SALES_TAX, _element("ItemSalesTaxAdd", Name="Out of State", TaxRate="0.0")
        )
        self.books.add_list(
            specs.ITEM_SALES_TAX, _element("ItemSalesTaxAdd", Name="San Tomas", TaxRate="7.75")
        )
        for name, template_type in (
            ("Intuit Service Invoice", "Invoice"),
            ("Intuit Product Invoice", "Invoice"),
            ("Custom Credit Memo", "CreditMemo"),
            ("Custom Purchase Order", "PurchaseOrder"),
        ):
            template = self.books.add_list(specs.TEMPLATE, _element("TemplateAdd", Name=name))
            template.fields["TemplateType"] = [template_type]
        group = _element("ItemSalesTaxGroupAdd", Name="Bay Area")
        etree.SubElement(etree.SubElement(group, "ItemSalesTaxRef"), "FullName").text = "San Tomas"
        self.books.add_list(specs.ITEM_SALES_TAX_GROUP, group)


def _element(tag: str, **fields: Any) -> Any:
    element = etree.Element(tag)
    _fill(element, fields)
    return element


def _fill(element: Any, fields: dict[str, Any]) -> None:
    """Children from keyword arguments: text, a nested dict for an aggregate, a `...Ref` by FullName."""
    for tag, value in fields.items():
        child = etree.SubElement(element, tag)
        if isinstance(value, dict):
            _fill(child, value)
        elif tag.endswith("Ref") and tag not in specs.NOT_REFS:
            etree.SubElement(child, "FullName").text = str(value)
        else:
            child.text = str(value)
