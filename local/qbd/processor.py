"""QuickBooks' request processor: one qbXML request message in, one response message out.

The whole message is read first, and refused whole (HRESULT 0x80040400, nothing applied) when it is not
well-formed, carries a character outside ISO-8859-1, asks for a qbXML version the company's QuickBooks does
not support, or breaks Intuit's schema (an unknown or out-of-order element, a string above its maxLength).
Then its requests run in order under `onError`, each answered with its own status.

A string longer than the schema's maxLength refuses the whole message. Intuit's schema declares those limits
(qbxml130.xsd: CustomerAdd/Name maxLength 41 ...), QuickBooks checks messages against its schema before it
runs them (NOTES.md §3.5, qbwc/qbwc#74), and no capture shows a per-request answer instead (desktop.md §7
leaves it open): of the two candidates this is the stricter, so a product that passes here passes either way.
A character outside ISO-8859-1 typed into the message refuses it too ("QuickBooks found an error with the
XML", qbwc/qbxml#8); one sent as a character reference is accepted and stored as "?" (same source).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from local.qbd import books, messages, schema, specs
from local.qbd.books import Books, Deleted, child_text, children, latin1
from local.qbd.model import ZERO, Obj, Ref, Spec, Status, Value, address_block, amount, boolean, write

if TYPE_CHECKING:
    from local.qbd.company import Company, CompanySession

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
VERSION = re.compile(r'<\?qbxml\s+version\s*=\s*"([0-9.]+)"\s*\?>')
WRITES = ("Add", "Mod")
FILE_TXN_TYPES = {spec.kind: spec for spec in specs.TRANSACTIONS}
# How long QuickBooks remembers a deleted list entry for ListDeletedQuery: "list objects removed from the
# company file within the last 90 days" (Conductor's QuickBooks Desktop API reference, "The Deleted
# List-Object object", https://docs.conductor.is/api-ref/qbd/deleted-list-objects/object).
LIST_DELETIONS_KEPT = timedelta(days=90)


class RequestProcessorError(Exception):
    """What QuickBooks' request processor throws for a message it refuses whole: the Web Connector passes
    `hresult` and `message` to receiveResponseXML instead of a response."""

    def __init__(self, hresult: str, message: str) -> None:
        super().__init__(f"{hresult}: {message}")
        self.hresult = hresult
        self.message = message


def parse_error() -> RequestProcessorError:
    return RequestProcessorError(messages.PARSE_HRESULT, messages.PARSE_ERROR)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def read_message(message: str, supported: tuple[str, ...]) -> Any:
    """The QBXML root of a request message QuickBooks accepts, or RequestProcessorError."""
    if any(ord(c) > books.LATIN1_MAX for c in message):
        raise parse_error()
    version = VERSION.search(message)
    if version is None or version_key(version.group(1)) > max(version_key(v) for v in supported):
        raise parse_error()
    try:
        root = etree.fromstring(message.encode("utf-8"), PARSER)
    except etree.XMLSyntaxError as error:
        raise parse_error() from error
    if root.tag != "QBXML" or root.find("QBXMLMsgsRq") is None or schema.errors(root):
        raise parse_error()
    for request in children(root.find("QBXMLMsgsRq")):
        if not request.tag.endswith("Rq") or handler_of(request.tag) is None:
            raise parse_error()
    return root


class Processor:
    def __init__(self, company: Company, session: CompanySession) -> None:
        self.company = company
        self.session = session
        self.books = Books(company)

    def process(self, message: str) -> str:
        c = self.company
        with c.lock:
            c.counters["messages"] += 1
        try:
            root = read_message(message, c.product.versions)
        except RequestProcessorError:
            with c.lock:
                c.counters["refused"] += 1
            raise
        requests_element = root.find("QBXMLMsgsRq")
        stop = requests_element.get("onError") == "stopOnError"
        answer = etree.Element("QBXML")
        responses = etree.SubElement(answer, "QBXMLMsgsRs")
        with c.lock:
            for request in children(requests_element):
                c.counters[request.tag] += 1
                response = self.run(request)
                responses.append(response)
                if stop and response.get("statusSeverity") == "Error":
                    break
        body = etree.tostring(answer, encoding="unicode")
        return f'<?xml version="1.0" ?>\n{body}\n'

    def run(self, request: Any) -> Any:
        tag = request.tag
        response = etree.Element(tag[:-2] + "Rs")
        if request.get("requestID") is not None:
            response.set("requestID", request.get("requestID"))
        handler = handler_of(tag)
        assert handler is not None  # read_message refused unknown requests
        try:
            self.check_access(tag, request)
            status = handler(self, request, response)
        except Status as refused:
            for child in list(response):
                response.remove(child)
            for name in ("iteratorRemainingCount", "iteratorID"):
                response.attrib.pop(name, None)
            status = refused
        set_status(response, status)
        return response

    def check_access(self, tag: str, request: Any) -> None:
        c = self.company
        if tag in c.restricted:
            raise Status(3260, messages.PERMISSION)
        write = any(tag.endswith(f"{verb}Rq") for verb in WRITES) or tag in ("TxnDelRq", "TxnVoidRq")
        if write:
            fault = c.faults.roll()
            if fault is not None:
                c.counters["locked"] += 1
                label, name = target_label(c, tag, request)
                raise Status(fault, messages.locked(fault, label, name))

    # ---- lists and transactions ----------------------------------------------------------------------------

    def add(self, spec: Spec, request: Any, response: Any) -> Status | None:
        element = request.find(f"{spec.kind}Add")
        obj = self.books.add_txn(spec, element) if spec.is_txn else self.books.add_list(spec, element)
        self.write_ret(response, obj, lines=True, linked=True)
        return None

    def mod(self, spec: Spec, request: Any, response: Any) -> Status | None:
        element = request.find(f"{spec.kind}Mod")
        obj = self.books.mod_txn(spec, element) if spec.is_txn else self.books.mod_list(spec, element)
        self.write_ret(response, obj, lines=True, linked=True)
        return None

    def txn_void(self, request: Any, response: Any) -> Status | None:
        obj = self.txn_named(request, "TxnVoidType")
        self.books.void(obj)
        for tag, value in (
            ("TxnVoidType", obj.spec.kind),
            ("TxnID", obj.id),
            ("TimeCreated", self.company.stamp(obj.created)),
            ("TimeModified", self.company.stamp(obj.modified)),
            ("RefNumber", obj.text("RefNumber")),
        ):
            if value is not None:
                etree.SubElement(response, tag).text = value
        return None

    def txn_del(self, request: Any, response: Any) -> Status | None:
        gone = self.books.delete(self.txn_named(request, "TxnDelType"))
        for tag, value in (
            ("TxnDelType", gone.kind),
            ("TxnID", gone.id),
            ("TimeDeleted", self.company.stamp(gone.deleted)),
            ("RefNumber", gone.ref_number),
        ):
            if value is not None:
                etree.SubElement(response, tag).text = value
        return None

    def txn_named(self, request: Any, type_tag: str) -> Obj:
        txn_id = child_text(request, "TxnID") or ""
        obj = self.company.objects.get(txn_id)
        if obj is None or obj.spec.kind != child_text(request, type_tag):
            raise Status(3120, messages.not_found(txn_id))
        return obj

    # ---- queries -------------------------------------------------------------------------------------------

    def query(self, kinds: tuple[Spec, ...], request: Any, response: Any) -> Status | None:
        iterator = request.get("iterator")
        if iterator in ("Continue", "Stop"):
            return self.continue_query(request, response, stop=iterator == "Stop")
        found, status = self.select(kinds, request)
        options = QueryOptions.of(request)
        if iterator == "Start":
            iterator_id = "{" + str(uuid.uuid4()) + "}"
            limit = options.max_returned or len(found)
            page, rest = found[:limit], found[limit:]
            if rest:
                self.session.iterators[iterator_id] = (rest, options)
            response.set("iteratorRemainingCount", str(len(rest)))
            response.set("iteratorID", iterator_id)
            found = page
        elif options.max_returned is not None:
            found = found[: options.max_returned]
        for obj in found:
            self.write_ret(response, obj, options=options)
        if not found and status is None:
            return Status(1, messages.NOTHING_FOUND, "Info")
        return status

    def continue_query(self, request: Any, response: Any, stop: bool) -> Status | None:
        iterator_id = request.get("iteratorID") or ""
        held = self.session.iterators.pop(iterator_id, None)
        if held is None or not self.session.open:
            raise Status(3391, messages.iterator_invalid(iterator_id))
        rest, options = held
        if stop:
            return None
        limit = QueryOptions.of(request).max_returned or options.max_returned or len(rest)
        live = [obj for obj in rest if self.company.objects.get(obj.id) is obj]
        page, rest = live[:limit], live[limit:]
        if rest:
            self.session.iterators[iterator_id] = (rest, options)
        response.set("iteratorRemainingCount", str(len(rest)))
        response.set("iteratorID", iterator_id)
        for obj in page:
            self.write_ret(response, obj, options=options)
        return None if page else Status(1, messages.NOTHING_FOUND, "Info")

    def select(self, kinds: tuple[Spec, ...], request: Any) -> tuple[list[Obj], Status | None]:
        """The objects a query asks for, in QuickBooks' order (lists by FullName, transactions as entered).

        ListID/TxnID lists name objects: none found is 3120, some found is 500 with those found. A FullName
        list is the same but a miss is always 500. Anything else filters; nothing found is status 1.
        """
        c = self.company
        pool = [obj for spec in kinds for obj in c.of(spec)]
        id_tag = "TxnID" if kinds[0].is_txn else "ListID"
        ids = [latin1(e.text or "") for e in request.findall(id_tag)]
        names = [latin1(e.text or "") for e in request.findall("FullName")]
        if ids or names:
            wanted = ids or names
            by_key = {obj.id: obj for obj in pool} if ids else {obj.full_name.casefold(): obj for obj in pool}
            found = [
                by_key[k if ids else k.casefold()] for k in wanted if (k if ids else k.casefold()) in by_key
            ]
            missing = [k for k in wanted if (k if ids else k.casefold()) not in by_key]
            if missing and ids and not found:
                raise Status(3120, messages.not_found(missing[0]))
            status = Status(500, messages.partly_found(missing[0]), "Warn") if missing else None
            return found, status
        selected = [obj for obj in pool if self.matches(obj, request)]
        if not kinds[0].is_txn:
            selected.sort(key=lambda obj: obj.full_name.casefold())
        return selected, None

    def matches(self, obj: Obj, request: Any) -> bool:  # noqa: PLR0911 - one test per filter of the schema
        c = self.company
        refs = request.findall("RefNumber") + request.findall("RefNumberCaseSensitive")
        if refs:
            return any(
                (obj.text("RefNumber") or "") == (r.text or "")
                if r.tag.endswith("CaseSensitive")
                else (obj.text("RefNumber") or "").casefold() == (r.text or "").casefold()
                for r in refs
            )
        status = child_text(request, "ActiveStatus") or "ActiveOnly"
        if not obj.spec.is_txn and (
            (status == "ActiveOnly" and not obj.active) or (status == "InactiveOnly" and obj.active)
        ):
            return False
        modified = request.find("ModifiedDateRangeFilter")
        scope = modified if modified is not None else request
        low, high = child_text(scope, "FromModifiedDate"), child_text(scope, "ToModifiedDate")
        if low and c.wall(obj.modified) < c.local_bound(low, end=False):
            return False
        if high and c.wall(obj.modified) > c.local_bound(high, end=True):
            return False
        dates = request.find("TxnDateRangeFilter")
        if dates is not None:
            txn_date = obj.text("TxnDate") or ""
            low, high = child_text(dates, "FromTxnDate"), child_text(dates, "ToTxnDate")
            if (low and txn_date < low) or (high and txn_date > high):
                return False
        entity = request.find("EntityFilter")
        if entity is not None and not entity_matches(obj, entity):
            return False
        name_filter = request.find("NameFilter")
        if name_filter is not None and not name_matches(obj, name_filter):
            return False
        types = [e.text for e in request.findall("AccountType")]
        if types and obj.text("AccountType") not in types:
            return False
        paid = child_text(request, "PaidStatus") or "All"
        if paid != "All" and obj.spec is specs.INVOICE:
            is_paid = books.balance_remaining(obj) == 0
            return is_paid if paid == "PaidOnly" else not is_paid
        return True

    def txn_deleted_query(self, request: Any, response: Any) -> Status | None:
        c = self.company
        types = {e.text for e in request.findall("TxnDelType")}
        window = request.find("DeletedDateRangeFilter")
        low = child_text(window, "FromDeletedDate") if window is not None else None
        high = child_text(window, "ToDeletedDate") if window is not None else None
        only = {e.text or "" for e in request.findall("IncludeRetElement")} or None
        found: list[Deleted] = []
        for gone in c.deleted:
            if gone.kind not in types:
                continue
            if low and c.wall(gone.deleted) < c.local_bound(low, end=False):
                continue
            if high and c.wall(gone.deleted) > c.local_bound(high, end=True):
                continue
            found.append(gone)
        for gone in found:
            values: dict[str, list[Value]] = {
                "TxnDelType": [gone.kind],
                "TxnID": [gone.id],
                "TimeCreated": [c.stamp(gone.created)],
                "TimeDeleted": [c.stamp(gone.deleted)],
            }
            if gone.ref_number:
                values["RefNumber"] = [gone.ref_number]
            write(response, "TxnDeletedRet", specs.TXN_DELETED_RET, values, only)
        return None if found else Status(1, messages.NOTHING_FOUND, "Info")

    def list_deleted_query(self, request: Any, response: Any) -> Status | None:
        """ListDeletedQueryRq (qbxmlops130.xsd: ListDelType+, DeletedDateRangeFilter?, IncludeRetElement*):
        the list entries of those types deleted in the last LIST_DELETIONS_KEPT, within the date range."""
        c = self.company
        types = {e.text for e in request.findall("ListDelType")}
        window = request.find("DeletedDateRangeFilter")
        low = child_text(window, "FromDeletedDate") if window is not None else None
        high = child_text(window, "ToDeletedDate") if window is not None else None
        only = {e.text or "" for e in request.findall("IncludeRetElement")} or None
        kept_from = c.now() - LIST_DELETIONS_KEPT
        found = [
            gone
            for gone in c.deleted_lists
            if gone.kind in types
            and gone.deleted >= kept_from
            and not (low and c.wall(gone.deleted) < c.local_bound(low, end=False))
            and not (high and c.wall(gone.deleted) > c.local_bound(high, end=True))
        ]
        for gone in found:
            values: dict[str, list[Value]] = {
                "ListDelType": [gone.kind],
                "ListID": [gone.id],
                "TimeCreated": [c.stamp(gone.created)],
                "TimeDeleted": [c.stamp(gone.deleted)],
                "FullName": [gone.full_name],
            }
            write(response, "ListDeletedRet", specs.LIST_DELETED_RET, values, only)
        return None if found else Status(1, messages.NOTHING_FOUND, "Info")

    # ---- the host, the company, its preferences ------------------------------------------------------------

    def host_query(self, request: Any, response: Any) -> Status | None:  # noqa: ARG002 - same shape as the others
        self.company.host_ret(response)
        return None

    def company_query(self, request: Any, response: Any) -> Status | None:
        owners = {e.text or "" for e in request.findall("OwnerID")}
        self.company.company_ret(response, owners)
        return None

    def preferences_query(self, request: Any, response: Any) -> Status | None:  # noqa: ARG002
        self.company.preferences_ret(response)
        return None

    # ---- Rets ----------------------------------------------------------------------------------------------

    def write_ret(
        self,
        parent: Any,
        obj: Obj,
        *,
        lines: bool = False,
        linked: bool = False,
        options: QueryOptions | None = None,
    ) -> None:
        if options is not None:
            lines, linked = options.line_items, options.linked_txns
        values = ret_values(self.company, obj, linked=linked)
        if options is not None and options.owners:
            values["DataExtRet"] = [
                [
                    ("OwnerID", owner),
                    ("DataExtName", name),
                    ("DataExtType", "STR255TYPE"),
                    ("DataExtValue", value),
                ]
                for (owner, name), value in obj.data_ext.items()
                if owner in options.owners
            ]
        ret = write(parent, obj.spec.ret, obj.spec.order, values, options.only if options else None)
        if lines:
            for _, line_ret, order in obj.spec.lines:
                for line in obj.lines:
                    if line.ret == line_ret and (options is None or options.includes(line_ret)):
                        write(ret, line_ret, order, {"TxnLineID": [line.id], **line.fields})
            if obj.spec is specs.RECEIVE_PAYMENT and (options is None or options.includes("AppliedToTxnRet")):
                for application in obj.applications:
                    write(ret, "AppliedToTxnRet", specs.APPLIED_TO_TXN_RET, applied_values(application))
        if obj.spec.is_txn and obj.spec.lines and "DataExtRet" in values:
            # DataExtRet comes after the lines in every transaction Ret: move it there.
            for element in ret.findall("DataExtRet"):
                ret.remove(element)
                ret.append(element)
        if obj.spec is specs.BILL:
            for element in ret.findall("OpenAmount"):
                ret.remove(element)
                ret.append(element)


class QueryOptions:
    def __init__(
        self,
        only: set[str] | None,
        owners: set[str],
        line_items: bool,
        linked: bool,
        max_returned: int | None,
    ) -> None:
        self.only = only
        self.owners = owners
        self.line_items = line_items
        self.linked_txns = linked
        self.max_returned = max_returned

    @classmethod
    def of(cls, request: Any) -> QueryOptions:
        only = {latin1(e.text or "") for e in request.findall("IncludeRetElement")} or None
        maximum = child_text(request, "MaxReturned")
        return cls(
            only,
            {e.text or "" for e in request.findall("OwnerID")},
            child_text(request, "IncludeLineItems") in ("true", "1"),
            child_text(request, "IncludeLinkedTxns") in ("true", "1"),
            int(maximum) if maximum else None,
        )

    def includes(self, tag: str) -> bool:
        return self.only is None or tag in self.only


def set_status(response: Any, status: Status | None) -> None:
    code, severity, text = (
        (0, "Info", messages.OK) if status is None else (status.code, status.severity, status.message)
    )
    response.set("statusCode", str(code))
    response.set("statusSeverity", severity)
    response.set("statusMessage", text)
    # attribute order as in the captures: requestID, statusCode, statusSeverity, statusMessage, iterator...
    for name in ("iteratorRemainingCount", "iteratorID"):
        value = response.attrib.pop(name, None)
        if value is not None:
            response.set(name, value)


def ret_values(company: Company, obj: Obj, *, linked: bool) -> dict[str, list[Value]]:
    """The values of an object's Ret: what it keeps from the requests, and what QuickBooks works out."""
    c = company
    values: dict[str, list[Value]] = dict(obj.fields)
    id_tag = "TxnID" if obj.spec.is_txn else "ListID"
    values[id_tag] = [obj.id]
    values["TimeCreated"] = [c.stamp(obj.created)]
    values["TimeModified"] = [c.stamp(obj.modified)]
    values["EditSequence"] = [str(obj.edit_sequence)]
    if obj.spec.is_txn:
        values["TxnNumber"] = [str(obj.number)]
        for tag in ("BillAddress", "ShipAddress", "VendorAddress"):
            if values.get(tag):
                values[f"{tag}Block"] = [address_block(values[tag][0])]
        totals(obj, values)
        if linked:
            values["LinkedTxn"] = linked_txns(obj)
        return values
    values["Name"] = [obj.name]
    values["FullName"] = [obj.full_name]
    values["IsActive"] = [boolean(obj.active)]
    if obj.parent is not None:
        values["ParentRef"] = [Ref(obj.parent)]
    values["Sublevel"] = [str(obj.sublevel)]
    kind = obj.spec.kind
    if kind == "Customer":
        own = c.customer_balance(obj)
        values["Balance"] = [amount(own)]
        values["TotalBalance"] = [amount(own + sum((c.customer_balance(j) for j in c.jobs_of(obj)), ZERO))]
        values.setdefault("JobStatus", ["None"])
    elif kind == "Vendor":
        values["Balance"] = [amount(c.vendor_balance(obj))]
    elif kind == "ItemInventory":
        values.setdefault("SalesPrice", ["0.00"])
        values.setdefault("PurchaseCost", ["0.00"])
        values["QuantityOnHand"] = [c.quantity_on_hand(obj)]
        values["AverageCost"] = [values["PurchaseCost"][0]]
        values["QuantityOnOrder"] = [c.quantity_on_order(obj)]
        values["QuantityOnSalesOrder"] = ["0"]
    elif kind == "Account":
        values.setdefault("Balance", ["0.00"])
        values.setdefault("TotalBalance", ["0.00"])
        values["CashFlowClassification"] = [CASH_FLOW.get(obj.text("AccountType") or "", "NotApplicable")]
    return values


# How QuickBooks classes an account for the cash flow statement (Bank: NotApplicable, AccountsReceivable:
# Operating in captures/qbxml_gem__account_query_rs.xml; the rest follows the statement's sections).
CASH_FLOW = {
    "AccountsReceivable": "Operating",
    "AccountsPayable": "Operating",
    "OtherCurrentAsset": "Operating",
    "OtherCurrentLiability": "Operating",
    "CreditCard": "Operating",
    "FixedAsset": "Investing",
    "OtherAsset": "Investing",
    "LongTermLiability": "Financing",
    "Equity": "Financing",
}


def totals(obj: Obj, values: dict[str, list[Value]]) -> None:
    kind = obj.spec.kind
    if kind in ("Invoice", "CreditMemo"):
        subtotal = books.lines_total(obj)
        values["Subtotal"] = [amount(subtotal)]
        values["SalesTaxPercentage"] = [amount(books.tax_rate(obj))]
        values["SalesTaxTotal"] = [amount(books.sales_tax(obj))]
    if kind == "Invoice":
        values["AppliedAmount"] = [amount(-books.applied(obj))]
        values["BalanceRemaining"] = [amount(books.balance_remaining(obj))]
        values["IsPaid"] = [boolean(books.balance_remaining(obj) == 0)]
    elif kind == "CreditMemo":
        values["TotalAmount"] = [amount(books.total(obj))]
        values["CreditRemaining"] = [amount(books.credit_remaining(obj))]
    elif kind == "ReceivePayment":
        values["UnusedPayment"] = [amount(books.unused_payment(obj))]
        values["UnusedCredits"] = [amount(ZERO)]
    elif kind == "PurchaseOrder":
        values["TotalAmount"] = [amount(books.total(obj))]
        values["IsFullyReceived"] = [boolean(books.fully_received(obj))]
    elif kind == "Bill":
        due = books.total(obj)
        values["AmountDue"] = [amount(due)]
        values["IsPaid"] = [boolean(due == 0)]
        values["OpenAmount"] = [amount(due)]


def linked_txns(obj: Obj) -> list[Value]:
    found: list[Value] = []
    for other in obj.links:
        found.append(
            [
                ("TxnID", other.id),
                ("TxnType", other.spec.kind),
                ("TxnDate", other.text("TxnDate") or ""),
                *([("RefNumber", other.text("RefNumber") or "")] if other.text("RefNumber") else []),
                ("LinkType", "QUANTYPE"),
                ("Amount", amount(books.total(other))),
            ]
        )
    for application in obj.applied_by:
        payment = application.payment
        found.append(
            [
                ("TxnID", payment.id),
                ("TxnType", "ReceivePayment"),
                ("TxnDate", payment.text("TxnDate") or ""),
                *([("RefNumber", payment.text("RefNumber") or "")] if payment.text("RefNumber") else []),
                ("LinkType", "AMTTYPE"),
                ("Amount", amount(-application.amount)),
            ]
        )
    return found


def applied_values(application: Application_) -> dict[str, list[Value]]:
    """An AppliedToTxnRet: the invoice, and the cash the payment applies to it as a positive Amount (the
    captured ReceivePaymentRet: 112.35 of a 112.35 payment); the credits used towards it are LinkedTxn with
    negative amounts, as an invoice's LinkedTxn shows a payment."""
    target = application.target
    values: dict[str, list[Value]] = {
        "TxnID": [target.id],
        "TxnType": [target.spec.kind],
        "TxnDate": [target.text("TxnDate") or ""],
        "BalanceRemaining": [amount(books.balance_remaining(target))],
        "Amount": [amount(application.amount)],
    }
    if target.text("RefNumber"):
        values["RefNumber"] = [target.text("RefNumber")]
    values["LinkedTxn"] = [
        [
            ("TxnID", memo.id),
            ("TxnType", "CreditMemo"),
            ("TxnDate", memo.text("TxnDate") or ""),
            *([("RefNumber", memo.text("RefNumber") or "")] if memo.text("RefNumber") else []),
            ("LinkType", "AMTTYPE"),
            ("Amount", amount(-used)),
        ]
        for memo, used in application.credits
    ]
    return values


Application_ = books.Application


def entity_matches(obj: Obj, entity: Any) -> bool:
    party = obj.ref("CustomerRef") or obj.ref("VendorRef")
    if party is None:
        return False
    ids = {e.text for e in entity.findall("ListID")}
    names = {(e.text or "").casefold() for e in entity.findall("FullName")}
    with_children = child_text(entity, "ListIDWithChildren"), child_text(entity, "FullNameWithChildren")
    chain = []
    node: Obj | None = party
    while node is not None:
        chain.append(node)
        node = node.parent
    if party.id in ids or party.full_name.casefold() in names:
        return True
    return any(
        (with_children[0] and o.id == with_children[0])
        or (with_children[1] and o.full_name.casefold() == with_children[1].casefold())
        for o in chain
    )


def name_matches(obj: Obj, name_filter: Any) -> bool:
    criterion = child_text(name_filter, "MatchCriterion")
    wanted = (child_text(name_filter, "Name") or "").casefold()
    name = obj.full_name.casefold()
    if criterion == "StartsWith":
        return name.startswith(wanted)
    if criterion == "EndsWith":
        return name.endswith(wanted)
    return wanted in name


def target_label(company: Company, tag: str, request: Any) -> tuple[str, str]:
    """What a lock message names: the list and the element being written."""
    for element in request.iter():
        if element.tag in ("ListID", "TxnID") and element.text in company.objects:
            obj = company.objects[element.text]
            return obj.spec.label, obj.full_name if not obj.spec.is_txn else obj.id
    name = request.find(".//Name")
    return tag.removesuffix("Rq").removesuffix("Add").removesuffix("Mod"), (
        name.text or ""
    ) if name is not None else ""


Handler = Callable[[Processor, Any, Any], Status | None]


def _handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {
        "HostQueryRq": Processor.host_query,
        "CompanyQueryRq": Processor.company_query,
        "PreferencesQueryRq": Processor.preferences_query,
        "TxnVoidRq": Processor.txn_void,
        "TxnDelRq": Processor.txn_del,
        "TxnDeletedQueryRq": Processor.txn_deleted_query,
        "ListDeletedQueryRq": Processor.list_deleted_query,
    }
    for spec in specs.LISTS + specs.TRANSACTIONS:
        if spec is not specs.TEMPLATE:  # templates are designed in QuickBooks, only queried over qbXML
            table[f"{spec.kind}AddRq"] = lambda p, rq, rs, s=spec: p.add(s, rq, rs)
            table[f"{spec.kind}ModRq"] = lambda p, rq, rs, s=spec: p.mod(s, rq, rs)
    queries: dict[str, tuple[Spec, ...]] = {
        f"{spec.kind}QueryRq": (spec,) for spec in specs.LISTS + specs.TRANSACTIONS
    }
    queries["ItemQueryRq"] = specs.ALL_ITEMS
    queries["TermsQueryRq"] = (specs.STANDARD_TERMS, specs.DATE_DRIVEN_TERMS)
    for tag, kinds in queries.items():
        table[tag] = lambda p, rq, rs, k=kinds: p.query(k, rq, rs)
    return table


HANDLERS = _handlers()


def handler_of(tag: str) -> Handler | None:
    return HANDLERS.get(tag)


def local_bound(value: str, zone: Any, end: bool) -> datetime:
    """A FromModifiedDate/ToModifiedDate as a company-local wall time. QuickBooks compares its local times:
    a value without an offset is local time, and an offset, when one is given, is not used, as QuickBooks
    itself writes local wall times with an offset that is wrong half the year (see model.py)."""
    text = value.strip()
    if "T" not in text:
        day = datetime.fromisoformat(text).date()
        return datetime.combine(day, time(23, 59, 59) if end else time(0, 0, 0))
    text = re.sub(r"([+-]\d{1,2}:\d{2}|Z)$", "", text)
    del zone
    return datetime.fromisoformat(text)
