"""The Accounting API's field and business rules: generic checks driven by an EntitySpec, then one shaper per
kind of entity (derived fields and the rules only that kind has), then the effects a committed change has on
other records (payments on invoices, bills on purchase orders, balances on customers and vendors).

Every check runs before anything is stored: a request either fails whole or commits whole.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from local.qbo import faults
from local.qbo.entities import ADDRESSES, LINE_PROPERTIES, NAME_PARTS, EntitySpec, Ref, today
from local.qbo.state import Entity

if TYPE_CHECKING:
    from local.qbo.engine import Ledger

CENT = Decimal("0.01")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_MONEY_DIGITS = 15
MAX_CUSTOMER_LEVEL = 4  # a sub-customer may sit at most four levels below its top-level customer
DEFAULT_DUE_DAYS = 30  # invoices without terms are due in 30 days (create__invoice__0: 09-29 -> 10-29)
UNDEPOSITED_FUNDS = "4"
ACCOUNTS_PAYABLE = "33"
NAME_VALUE = {
    "name": "{http://schema.intuit.com/finance/v3}NameValue",
    "declaredType": "com.intuit.schema.finance.v3.NameValue",
    "scope": "javax.xml.bind.JAXBElement$GlobalScope",
}
CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
    "Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense", "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability", "Income": "Revenue",
    "Other Income": "Revenue",
}  # fmt: skip
DEFAULT_SUBTYPE = {
    "Bank": "Checking", "Other Current Asset": "OtherCurrentAssets", "Fixed Asset": "MachineryAndEquipment",
    "Other Asset": "OtherLongTermAssets", "Accounts Receivable": "AccountsReceivable",
    "Equity": "OwnersEquity", "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense", "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Accounts Payable": "AccountsPayable", "Credit Card": "CreditCard",
    "Long Term Liability": "OtherLongTermLiabilities", "Other Current Liability": "OtherCurrentLiabilities",
    "Income": "ServiceFeeIncome", "Other Income": "OtherMiscellaneousIncome",
}  # fmt: skip
ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Category")
# Inventory items: which account each role needs (NOTES §4.5).
INVENTORY_ACCOUNTS = {
    "IncomeAccountRef": ("Income", "Other Income"),
    "ExpenseAccountRef": ("Cost of Goods Sold",),
    "AssetAccountRef": ("Other Current Asset",),
}

# ------------------------------------------------------------ money


def money(value: Any, element: str = "Amount") -> Decimal:
    """A money value from a request or from storage, as Decimal (JSON floats are parsed as Decimal)."""
    if isinstance(value, bool) or value is None:
        raise faults.illegal_number(element, value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise faults.illegal_number(element, value) from None
    if not amount.is_finite():
        raise faults.illegal_number(element, value)
    return amount


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def native(value: Any) -> Any:
    """What is stored and answered: JSON numbers for Decimals (whole ones as integers, as recorded at 75)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: native(item) for key, item in value.items()}
    if isinstance(value, list):
        return [native(item) for item in value]
    return value


# ------------------------------------------------------------ walking


def values_at(entity: Entity, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """(container, key) for each value at a dotted path; lists (Line) are walked element by element."""
    *parents, last = path.split(".")
    nodes: list[Any] = [entity]
    for part in parents:
        found: list[Any] = []
        for node in nodes:
            child = node.get(part) if isinstance(node, dict) else None
            found.extend(child if isinstance(child, list) else [child])
        nodes = found
    for node in nodes:
        if isinstance(node, dict) and node.get(last) is not None:
            yield node, last


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


# ------------------------------------------------------------ generic checks


def check_properties(spec: EntitySpec, body: dict[str, Any]) -> None:
    """2010 for a property the entity does not have (error__400_json__0), on the entity and on its lines."""
    for key in body:
        if not spec.known(key):
            raise faults.unrecognized_property(key, spec.name, sorted(spec.properties))
    lines = body.get("Line")
    if lines is None:
        return
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise faults.unreadable_body("Line")
    for line in lines:
        for key in line:
            if key not in LINE_PROPERTIES:
                raise faults.unrecognized_property(key, "Line", sorted(LINE_PROPERTIES))


def merge(spec: EntitySpec, old: Entity | None, body: dict[str, Any], *, sparse: bool) -> Entity:
    """The entity a create, full or sparse update asks for: read-only input ignored, read-only state kept.
    A full update replaces every writable field (omitted ones are cleared); a sparse one only those sent."""
    incoming = {key: copy.deepcopy(value) for key, value in body.items() if key not in spec.read_only}
    if old is None:
        base: Entity = {}
    elif sparse:
        base = copy.deepcopy(old)
    else:
        base = {key: copy.deepcopy(old[key]) for key in spec.read_only if key in old}
    entity = {**base, **incoming}
    for key, value in spec.defaults.items():
        if entity.get(key) is None:
            entity[key] = copy.deepcopy(value)
    return entity


def check_fields(spec: EntitySpec, entity: Entity) -> None:
    """Required fields (2020), lengths (2050), names without colons (2180), money formats (2080)."""
    for field in spec.required:
        if is_blank(entity.get(field)):
            raise faults.required_param(field)
    for path, maximum in spec.limits.items():
        for container, key in values_at(entity, path):
            text = container[key]
            if isinstance(text, str) and len(text) > maximum:
                raise faults.length_exceeded(path, maximum, len(text))
    for field in spec.no_colon:
        value = entity.get(field)
        if isinstance(value, str) and any(char in value for char in ":\t\n\r"):
            raise faults.invalid_name(field)
    for path in spec.money:
        for container, key in values_at(entity, path):
            amount = money(container[key], path)
            if amount != cents(amount) or len(cents(amount).as_tuple().digits) > MAX_MONEY_DIGITS:
                raise faults.illegal_number(path, container[key])


def resolve_refs(ledger: Ledger, spec: EntitySpec, entity: Entity) -> None:
    """Every reference must name an existing (2500), active (610) record; the API fills in its name."""
    for ref in spec.refs:
        for container, key in values_at(entity, ref.path):
            value = container[key]
            if not isinstance(value, dict) or is_blank(value.get("value")):
                raise faults.invalid_reference(ref.path, ref.path)
            target = ledger.get(ref.target, str(value["value"]))
            if target is None:
                raise faults.invalid_reference(_missing(ref, str(value["value"])), ref.path)
            if target.get("Active") is False:
                raise faults.object_not_found()
            value["value"] = str(value["value"])
            if ref.named:
                value["name"] = display_name(target)


def _missing(ref: Ref, value: str) -> str:
    if ref.target in ("Customer", "Vendor", "Employee"):
        return f"Names element id {value} not found"
    if ref.target == "Account":
        return f"Accounts element id {value} not found"
    return ref.path


def display_name(entity: Entity) -> str:
    return str(entity.get("DisplayName") or entity.get("FullyQualifiedName") or entity.get("Name") or "")


def check_unique_name(ledger: Ledger, spec: EntitySpec, entity: Entity) -> None:
    """6240: names are unique, inactive records included; Customer, Vendor and Employee share a namespace."""
    field = spec.unique_name
    if field is None:
        return
    wanted = str(entity.get(field, "")).strip().casefold()
    for kind in spec.namespace or (spec.name,):
        for other in ledger.all(kind):
            if kind == spec.name and other.get("Id") == entity.get("Id"):
                continue
            if str(other.get(field, "")).strip().casefold() == wanted:
                raise faults.duplicate_name(str(other["Id"]))


def assign_doc_number(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:
    """DocNumber: auto-assigned when omitted; duplicates refused (6140) only if the company asks for it."""
    if "DocNumber" not in spec.properties:
        return
    if is_blank(entity.get("DocNumber")):
        if old is not None and old.get("DocNumber"):
            entity["DocNumber"] = old["DocNumber"]
        elif spec.auto_doc_number:
            entity["DocNumber"] = ledger.next_doc_number(spec)
    number = entity.get("DocNumber")
    if number and ledger.books.warn_duplicate_doc_number:
        for other in ledger.all(spec.name):
            if other.get("Id") != entity.get("Id") and str(other.get("DocNumber", "")) == str(number):
                raise faults.duplicate_doc_number(str(number), spec.name, str(other["Id"]))


def same(old: Entity, new: Entity) -> bool:
    """An update that changes nothing answers the stored record, SyncToken unchanged (nango update-item)."""
    ignored = {"MetaData", "SyncToken"}
    return {k: v for k, v in old.items() if k not in ignored} == {
        k: v for k, v in new.items() if k not in ignored
    }


# ------------------------------------------------------------ shapers


def shape_person(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:
    """Customer, Vendor, Employee: DisplayName (or the name parts it is built from), PrintOnCheckName,
    sub-customers (ParentRef, Job, Level, FullyQualifiedName), no deactivation with an open balance."""
    parts = [str(entity[part]).strip() for part in NAME_PARTS if not is_blank(entity.get(part))]
    if is_blank(entity.get("DisplayName")):
        if not parts:
            raise faults.required_param("DisplayName")
        entity["DisplayName"] = " ".join(parts)
    if is_blank(entity.get("PrintOnCheckName")):
        person = " ".join(str(entity[p]) for p in ("GivenName", "MiddleName", "FamilyName") if entity.get(p))
        company = entity.get("CompanyName") if spec.name != "Employee" else None
        entity["PrintOnCheckName"] = company or person or entity["DisplayName"]
    if spec.name == "Customer":
        _customer_hierarchy(ledger, entity)
    deactivated = old is not None and old.get("Active", True) and entity.get("Active") is False
    if deactivated and money(entity.get("Balance", 0)) != 0:
        raise faults.list_has_balance(spec.name)


def _customer_hierarchy(ledger: Ledger, entity: Entity) -> None:
    parent_ref = entity.get("ParentRef")
    if not parent_ref:
        entity.pop("Level", None)
        entity["FullyQualifiedName"] = entity["DisplayName"]
        return
    parent = ledger.get("Customer", parent_ref["value"])
    assert parent is not None  # resolve_refs ran first
    ancestors = {parent["Id"], *(a["Id"] for a in ledger.ancestors(parent))}
    if entity.get("Id") in ancestors:
        raise faults.business_validation(
            "A customer cannot be a sub-customer of itself or of its sub-customers."
        )
    level = int(parent.get("Level", 0)) + 1
    if level > MAX_CUSTOMER_LEVEL:
        raise faults.business_validation(
            f"Sub-customers can be nested at most {MAX_CUSTOMER_LEVEL} levels deep."
        )
    entity["Job"] = True
    entity["Level"] = level
    entity["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{entity['DisplayName']}"


def shape_item(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """Item types and the accounts each needs; sub-items."""
    item_type = entity.setdefault("Type", "Service")
    if item_type not in ITEM_TYPES:
        raise faults.invalid_enumeration("Type", item_type)
    if item_type in ("Service", "NonInventory") and not (
        entity.get("IncomeAccountRef") or entity.get("ExpenseAccountRef")
    ):
        raise faults.required_param("IncomeAccountRef")
    if item_type == "Inventory":
        for field in (
            "IncomeAccountRef",
            "ExpenseAccountRef",
            "AssetAccountRef",
            "QtyOnHand",
            "InvStartDate",
        ):
            if is_blank(entity.get(field)):
                raise faults.required_param(field)
        if entity.get("TrackQtyOnHand") is not True:
            raise faults.business_validation(
                "Inventory items must track quantity on hand (TrackQtyOnHand true)."
            )
        for field, account_types in INVENTORY_ACCOUNTS.items():
            account = ledger.get("Account", entity[field]["value"])
            if account is None or account.get("AccountType") not in account_types:
                raise faults.business_validation(
                    f"The {field} of an inventory item must be a {' or '.join(account_types)} account.",
                    field,
                )
    parent_ref = entity.get("ParentRef")
    if parent_ref:
        parent = ledger.get("Item", parent_ref["value"])
        assert parent is not None
        entity["SubItem"] = True
        entity["Level"] = int(parent.get("Level", 0)) + 1
        entity["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{entity['Name']}"
    else:
        entity.pop("Level", None)
        entity["FullyQualifiedName"] = entity["Name"]


def shape_account(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """AccountType (or a subtype it follows from), Classification, sub-accounts."""
    account_type, subtype = entity.get("AccountType"), entity.get("AccountSubType")
    if is_blank(account_type):
        account_type = next((t for t, s in DEFAULT_SUBTYPE.items() if s == subtype), None)
        if account_type is None:
            raise faults.required_param("AccountType")
        entity["AccountType"] = account_type
    if account_type not in CLASSIFICATION:
        raise faults.invalid_enumeration("AccountType", account_type)
    entity.setdefault("AccountSubType", DEFAULT_SUBTYPE[account_type])
    entity["Classification"] = CLASSIFICATION[account_type]
    parent_ref = entity.get("ParentRef")
    if parent_ref:
        parent = ledger.get("Account", parent_ref["value"])
        assert parent is not None
        if parent.get("AccountType") != account_type:
            raise faults.business_validation(
                "For subaccounts, you must select the same account type as their parent."
            )
        entity["SubAccount"] = True
        entity["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{entity['Name']}"
    else:
        entity["SubAccount"] = False
        entity["FullyQualifiedName"] = entity["Name"]


def shape_class(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """Sub-classes, as sub-accounts: SubClass and the parent's name before theirs (Finance.xsd Class)."""
    parent_ref = entity.get("ParentRef")
    parent = ledger.get("Class", parent_ref["value"]) if parent_ref else None
    entity["SubClass"] = parent is not None
    entity["FullyQualifiedName"] = (
        entity["Name"] if parent is None else f"{parent['FullyQualifiedName']}:{entity['Name']}"
    )


def shape_payment_method(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    if entity.get("Type") not in ("CREDIT_CARD", "NON_CREDIT_CARD"):
        raise faults.invalid_enumeration("Type", entity.get("Type"))


def shape_sales(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """Invoice and CreditMemo: numbered lines with amounts, a SubTotalLineDetail line, TotalAmt, dates,
    addresses from the customer; Balance (and RemainingCredit) net of the payments applied to it."""
    customer = ledger.get("Customer", entity["CustomerRef"]["value"])
    assert customer is not None
    lines, subtotal, discount = _sales_lines(ledger, entity["Line"])
    if not lines:
        raise faults.required_param("Line")
    entity["Line"] = [
        *lines,
        {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ]
    tax_detail = entity.get("TxnTaxDetail") if isinstance(entity.get("TxnTaxDetail"), dict) else {}
    tax = money(tax_detail.get("TotalTax", 0), "TxnTaxDetail.TotalTax")
    entity["TxnTaxDetail"] = {**tax_detail, "TotalTax": tax}
    total = subtotal - discount + tax
    entity["TotalAmt"] = total
    txn_date = _txn_date(ledger, entity)
    for address in ("BillAddr", "ShipAddr"):
        if is_blank(entity.get(address)) and customer.get(address):
            entity[address] = copy.deepcopy(customer[address])
    if is_blank(entity.get("ShipFromAddr")):  # the company's address, as minor version 75 answers it
        entity["ShipFromAddr"] = _ship_from(ledger)
        entity.setdefault("FreeFormAddress", True)
    applied = ledger.applied_to(spec.name, entity.get("Id"))
    if total < applied:
        raise faults.business_validation(
            f"The {spec.name} total ({total}) cannot be less than the payments applied to it ({applied})."
        )
    entity["Balance"] = total - applied
    if spec.name == "CreditMemo":
        entity["RemainingCredit"] = total - applied
    elif is_blank(entity.get("DueDate")):
        terms = entity.get("SalesTermRef") or customer.get("SalesTermRef")
        term = ledger.get("Term", terms["value"]) if terms else None
        days = int(term.get("DueDays", 0)) if term else DEFAULT_DUE_DAYS
        entity["DueDate"] = (txn_date + timedelta(days=days)).isoformat()


def _ship_from(ledger: Ledger) -> dict[str, Any]:
    info = ledger.get("CompanyInfo", ledger.company.realm_id) or {}
    address = info.get("CompanyAddr") or {}
    city, state, code = (address.get(k, "") for k in ("City", "CountrySubDivisionCode", "PostalCode"))
    return {"Line1": address.get("Line1", ""), "Line2": f"{city}, {state}  {code}".strip(", ")}


def _sales_lines(ledger: Ledger, raw_lines: list[dict[str, Any]]) -> tuple[list[Entity], Decimal, Decimal]:
    lines: list[Entity] = []
    subtotal = discount = Decimal(0)
    for raw in raw_lines:
        detail_type = raw.get("DetailType")
        if detail_type == "SubTotalLineDetail":
            continue  # the API computes it
        line = {k: v for k, v in raw.items() if k not in ("Id", "LineNum")}
        if detail_type == "SalesItemLineDetail":
            detail = line.setdefault("SalesItemLineDetail", {})
            amount = _line_amount(line, detail)
            if detail.get("ItemRef"):
                item = ledger.get("Item", detail["ItemRef"]["value"])
                if item and item.get("IncomeAccountRef") and "ItemAccountRef" not in detail:
                    detail["ItemAccountRef"] = copy.deepcopy(item["IncomeAccountRef"])
                detail.setdefault("TaxCodeRef", {"value": "NON"})
                subtotal += amount
            else:  # "a line with no ItemRef is treated as description and its Amount is ignored"
                line["Amount"] = Decimal(0)
        elif detail_type == "DescriptionOnly":
            line.setdefault("DescriptionLineDetail", {})
            line["Amount"] = Decimal(0)
        elif detail_type == "DiscountLineDetail":
            if line.get("Amount") is None:
                raise faults.required_param("Line.Amount")
            discount += money(line["Amount"])
        elif is_blank(detail_type):
            raise faults.required_param("Line.DetailType")
        else:
            raise faults.invalid_enumeration("Line.DetailType", detail_type)
        lines.append({"Id": str(len(lines) + 1), "LineNum": len(lines) + 1, **line})
    return lines, subtotal, discount


def _line_amount(line: Entity, detail: dict[str, Any]) -> Decimal:
    """Amount, or Qty * UnitPrice when it is omitted; both given must agree (6070)."""
    qty, price = detail.get("Qty"), detail.get("UnitPrice")
    product = (
        cents(money(qty, "Qty") * money(price, "UnitPrice"))
        if qty is not None and price is not None
        else None
    )
    if line.get("Amount") is None:
        if product is None:
            raise faults.required_param("Line.Amount")
        line["Amount"] = product
    elif product is not None and money(line["Amount"]) != product:
        raise faults.amount_mismatch(line["Amount"])
    line["Amount"] = money(line["Amount"])
    return line["Amount"]  # type: ignore[no-any-return]


def _txn_date(ledger: Ledger, entity: Entity) -> date:
    if is_blank(entity.get("TxnDate")):
        entity["TxnDate"] = today(ledger.now).isoformat()
    for field in ("TxnDate", "DueDate"):
        value = entity.get(field)
        if not is_blank(value) and not (
            isinstance(value, str) and _ISO_DATE.fullmatch(value) and _is_date(value)
        ):
            raise faults.unreadable_body(
                f"Can not construct instance of java.util.Date from String value '{value}'"
            )
    return date.fromisoformat(entity["TxnDate"])


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def shape_payment(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """Payment: each line applies an amount to an open Invoice or CreditMemo of the same customer;
    UnappliedAmt is what is left (nango create-payment: no lines, UnappliedAmt == TotalAmt)."""
    total = money(entity["TotalAmt"], "TotalAmt")
    customer_id = entity["CustomerRef"]["value"]
    already = applications(old) if old is not None else {}
    pending: dict[tuple[str, str], Decimal] = {}
    lines: list[Entity] = []
    applied = Decimal(0)
    for raw in entity.get("Line") or []:
        if raw.get("Amount") is None:
            raise faults.required_param("Line.Amount")
        amount = money(raw["Amount"])
        links = raw.get("LinkedTxn") or []
        if not links or not isinstance(links[0], dict):
            raise faults.required_param("Line.LinkedTxn")
        txn_type, txn_id = str(links[0].get("TxnType")), str(links[0].get("TxnId"))
        if txn_type not in ("Invoice", "CreditMemo"):
            raise faults.invalid_enumeration("Line.LinkedTxn.TxnType", txn_type)
        target = ledger.get(txn_type, txn_id)
        if target is None:
            if ledger.was_deleted(txn_type, txn_id):
                raise faults.object_not_found(deleted=True)
            raise faults.invalid_reference("Line.LinkedTxn.TxnId", "Line.LinkedTxn.TxnId")
        if target["CustomerRef"]["value"] != customer_id:
            raise faults.business_validation(f"{txn_type} {txn_id} belongs to another customer.")
        key = (txn_type, txn_id)
        open_balance = money(target.get("Balance", 0)) + already.get(key, Decimal(0))
        if amount + pending.get(key, Decimal(0)) > open_balance:
            raise faults.business_validation(
                f"The amount applied to {txn_type} {txn_id} ({amount}) is more than its open balance "
                f"({open_balance})."
            )
        pending[key] = pending.get(key, Decimal(0)) + amount
        applied += amount if txn_type == "Invoice" else -amount
        lines.append(
            {
                "Amount": amount,
                "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}],
                "LineEx": {"any": _line_extras(txn_id, open_balance, target.get("DocNumber"))},
            }
        )
    if applied > total:
        raise faults.business_validation(
            f"The payment amount ({total}) is less than the amount applied to invoices less credits "
            f"({applied})."
        )
    entity["Line"] = lines
    entity["TotalAmt"] = total
    entity["UnappliedAmt"] = total - applied
    if is_blank(entity.get("DepositToAccountRef")):
        entity["DepositToAccountRef"] = {"value": UNDEPOSITED_FUNDS}
    account = ledger.get("Account", entity["DepositToAccountRef"]["value"])
    if account is None or account.get("AccountType") not in ("Bank", "Other Current Asset"):
        raise faults.business_validation(
            "DepositToAccountRef must be a Bank or Other Current Asset account.", "DepositToAccountRef"
        )
    _txn_date(ledger, entity)


def _line_extras(txn_id: str, open_balance: Decimal, doc_number: Any) -> list[dict[str, Any]]:
    """Payment Line[].LineEx as read responses carry it (nango payments.test.json)."""
    pairs = [("txnId", txn_id), ("txnOpenBalance", f"{cents(open_balance):.2f}")]
    if doc_number:
        pairs.append(("txnReferenceNumber", str(doc_number)))
    return [
        {
            **NAME_VALUE,
            "value": {"Name": name, "Value": value},
            "nil": False,
            "globalScope": True,
            "typeSubstituted": False,
        }
        for name, value in pairs
    ]


def applications(payment: Entity) -> dict[tuple[str, str], Decimal]:
    applied: dict[tuple[str, str], Decimal] = {}
    for line in payment.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            key = (str(link.get("TxnType")), str(link.get("TxnId")))
            applied[key] = applied.get(key, Decimal(0)) + money(line.get("Amount", 0))
    return applied


def shape_purchase(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:  # noqa: ARG001
    """PurchaseOrder and Bill: expense lines (by account or by item), TotalAmt, A/P account; a Bill's
    LinkedTxn to a PurchaseOrder of the same vendor (which closes it); PurchaseOrder POStatus."""
    vendor_id = entity["VendorRef"]["value"]
    lines = [_purchase_line(spec, raw, number) for number, raw in enumerate(entity["Line"], start=1)]
    total = sum((line["Amount"] for line in lines), Decimal(0))
    entity["Line"] = lines
    entity["TotalAmt"] = total
    if is_blank(entity.get("APAccountRef")):
        payable = ledger.get("Account", ACCOUNTS_PAYABLE)
        entity["APAccountRef"] = {"value": ACCOUNTS_PAYABLE, "name": display_name(payable or {})}
    txn_date = _txn_date(ledger, entity)
    if spec.name == "PurchaseOrder":
        entity.setdefault("LinkedTxn", [])
        if entity.get("POStatus") not in ("Open", "Closed"):
            raise faults.invalid_enumeration("POStatus", entity.get("POStatus"))
        return
    entity["Balance"] = total
    if is_blank(entity.get("DueDate")):
        vendor = ledger.get("Vendor", vendor_id) or {}
        terms = entity.get("SalesTermRef") or vendor.get("TermRef")
        term = ledger.get("Term", terms["value"]) if terms else None
        entity["DueDate"] = (
            txn_date + timedelta(days=int(term.get("DueDays", 0)) if term else 0)
        ).isoformat()
    links = _purchase_order_links(ledger, entity, vendor_id)
    if links:
        entity["LinkedTxn"] = links
    else:
        entity.pop("LinkedTxn", None)  # nango create-bill: no LinkedTxn key until something is linked


def _purchase_line(spec: EntitySpec, raw: dict[str, Any], number: int) -> Entity:
    """An expense line: by account (AccountRef, Amount) or by item (ItemRef, Qty * UnitPrice)."""
    line = {k: v for k, v in raw.items() if k not in ("Id", "LineNum")}
    detail_type = line.get("DetailType")
    if detail_type not in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"):
        if is_blank(detail_type):
            raise faults.required_param("Line.DetailType")
        raise faults.invalid_enumeration("Line.DetailType", detail_type)
    detail = line.setdefault(detail_type, {})
    ref = "AccountRef" if detail_type == "AccountBasedExpenseLineDetail" else "ItemRef"
    if is_blank(detail.get(ref)):
        raise faults.required_param(f"Line.{detail_type}.{ref}")
    if ref == "ItemRef":
        _line_amount(line, detail)
        if spec.name == "PurchaseOrder":
            line.setdefault("Received", 0)
    elif line.get("Amount") is None:
        raise faults.required_param("Line.Amount")
    line["Amount"] = money(line["Amount"])
    detail.setdefault("BillableStatus", "NotBillable")
    detail.setdefault("TaxCodeRef", {"value": "NON"})
    if spec.name == "Bill":
        line.setdefault("LinkedTxn", [])
    return {"Id": str(number), "LineNum": number, **line}


def _purchase_order_links(ledger: Ledger, bill: Entity, vendor_id: str) -> list[dict[str, str]]:
    """A Bill's purchase orders, from its LinkedTxn and its lines' LinkedTxn."""
    links = [*(bill.get("LinkedTxn") or [])]
    for line in bill["Line"]:
        links.extend(line.get("LinkedTxn") or [])
    found: list[dict[str, str]] = []
    for link in links:
        if not isinstance(link, dict) or link.get("TxnType") != "PurchaseOrder":
            continue
        order_id = str(link.get("TxnId"))
        order = ledger.get("PurchaseOrder", order_id)
        if order is None:
            raise faults.invalid_reference("LinkedTxn.TxnId", "LinkedTxn")
        if order["VendorRef"]["value"] != vendor_id:
            raise faults.business_validation(f"PurchaseOrder {order_id} is for another vendor.")
        if {"TxnId": order_id, "TxnType": "PurchaseOrder"} not in found:
            found.append({"TxnId": order_id, "TxnType": "PurchaseOrder"})
    return found


SHAPERS: dict[str, Callable[[Ledger, EntitySpec, Entity, Entity | None], None]] = {
    "person": shape_person,
    "item": shape_item,
    "account": shape_account,
    "class": shape_class,
    "payment_method": shape_payment_method,
    "sales": shape_sales,
    "payment": shape_payment,
    "purchase": shape_purchase,
}


def validate(ledger: Ledger, spec: EntitySpec, entity: Entity, old: Entity | None) -> None:
    """Every rule of a create or update, in the order the API applies them."""
    check_fields(spec, entity)
    resolve_refs(ledger, spec, entity)
    shaper = SHAPERS.get(spec.shape)
    if shaper is not None:
        shaper(ledger, spec, entity, old)
    check_unique_name(ledger, spec, entity)
    assign_doc_number(ledger, spec, entity, old)
    number_addresses(ledger, entity)


def number_addresses(ledger: Ledger, entity: Entity) -> None:
    """Every address gets an Id of its own; one copied from the customer keeps the customer's."""
    for field in ADDRESSES:
        address = entity.get(field)
        if isinstance(address, dict) and address and is_blank(address.get("Id")):
            entity[field] = {"Id": ledger.next_address_id(), **address}


# ------------------------------------------------------------ void, delete


def voided(ledger: Ledger, spec: EntitySpec, entity: Entity) -> Entity:
    """A voided transaction persists with every amount 0 and "Voided" in PrivateNote (void__invoice__1;
    payment_void_response_success.xml)."""
    refuse_if_applied(ledger, spec, entity, "void")
    result = copy.deepcopy(entity)
    note = result.get("PrivateNote")
    result["PrivateNote"] = f"Voided - {note}" if note and not str(note).startswith("Voided") else "Voided"
    if spec.name == "Payment":
        result.update({"TotalAmt": 0, "UnappliedAmt": 0, "Line": []})
        return result
    for line in result.get("Line", []):
        line["Amount"] = 0
    result.update({"TotalAmt": 0, "Balance": 0, "TxnTaxDetail": {"TotalTax": 0}})
    if "RemainingCredit" in result:
        result["RemainingCredit"] = 0
    return result


def refuse_if_applied(ledger: Ledger, spec: EntitySpec, entity: Entity, action: str) -> None:
    """Invoices and credit memos with payments applied, purchase orders with bills, are changed first."""
    if spec.name in ("Invoice", "CreditMemo") and ledger.applied_to(spec.name, entity["Id"]):
        raise faults.business_validation(
            f"You can't {action} this transaction: payments are applied to it. Remove them from the "
            "payments first."
        )
    if spec.name == "PurchaseOrder" and ledger.bills_for(entity["Id"]):
        raise faults.business_validation(
            f"You can't {action} this purchase order: a bill is linked to it. Remove the link from the "
            "bill first."
        )


# ------------------------------------------------------------ effects


def after_change(ledger: Ledger, spec: EntitySpec, new: Entity | None, old: Entity | None) -> None:
    """What a committed change does to other records. None of these can fail."""
    if spec.name == "Payment":
        for txn_type, txn_id in {*(applications(old) if old else {}), *(applications(new) if new else {})}:
            ledger.refresh_open_balance(txn_type, txn_id)
    if spec.name == "Bill":
        for link in [*((old or {}).get("LinkedTxn") or []), *((new or {}).get("LinkedTxn") or [])]:
            ledger.refresh_purchase_order(str(link["TxnId"]))
    if spec.name == "Customer" and new is not None and old is not None:
        if new.get("FullyQualifiedName") != old.get("FullyQualifiedName"):
            ledger.rename_sub_customers(new)
        if new.get("ParentRef") != old.get("ParentRef"):
            ledger.refresh_balance("Customer", new["Id"])
            if old.get("ParentRef"):
                ledger.refresh_balance("Customer", str(old["ParentRef"]["value"]))
    if spec.party is not None:
        target = next(ref.target for ref in spec.refs if ref.path == spec.party)
        parties = {(r.get(spec.party) or {}).get("value") for r in (old, new) if r is not None}
        for party_id in parties - {None}:
            ledger.refresh_balance(target, str(party_id))
