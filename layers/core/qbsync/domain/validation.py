"""What each QuickBooks edition accepts, checked before anything is sent.

`validate(record_type, record, edition)` returns every problem at once, each with the field (a dotted
path such as "lines.2.description", list indexes from 0 like pydantic's), a code, a plain-English message,
the limit and the actual length when a length is at stake, and the actions a tenant can take.

The rules are data: one table of maximum lengths per edition, one table of characters a field may not contain
(plus `UNSTORABLE_CHARACTERS`, which no text field of any record may contain), and small tables of fields an
edition requires or does not support. Every number carries its source:
- QuickBooks Online: shared/reference/qbo/NOTES.md §4 and the V3 SDK annotations gathered in
  shared/reference/qbwc/NOTES.md §4.2 (qbo/xsd/IntuitNamesTypes.xsd for Notes).
- QuickBooks Desktop: shared/reference/qbxml/13.0/maxlength.txt ("<Request> <field path>"), or Intuit's
  qbxml130.xsd where maxlength.txt has no entry (EmployeeAdd, PurchaseOrderAdd). tests/unit/test_validation.py
  checks every Desktop number against those files.

QuickBooks Desktop stores ISO-8859-1 only: its lengths are counted on the text it is sent (`desktop_text`,
typographic punctuation in ASCII), and any other character outside Latin-1 is `unsupported_character`.

Name clashes across customers, vendors and employees need stored data and are the engine's job; `name_key`
gives it the comparison key.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from qbsync.domain.desktop_text import desktop_text, unsupported_characters
from qbsync.domain.errors import FieldProblem
from qbsync.domain.records import RECORD_TYPES, Item, Payment, spec_of
from qbsync.domain.tenants import Edition

ML = "maxlength.txt: "  # shared/reference/qbxml/13.0/maxlength.txt, "<Request> <field path>"
XSD = "qbxml130.xsd: "  # shared/reference/qbxml/13.0/qbxml130.xsd, "<Request element> <field path>"

EDITION_NAMES: Mapping[Edition, str] = {
    Edition.QBO: "QuickBooks Online",
    Edition.QBD: "QuickBooks Desktop",
}


@dataclass(frozen=True)
class Problem:
    """One thing an edition would refuse in a record, and what the tenant can do about it."""

    field: str
    code: str
    message: str
    limit: int | None = None
    actual: int | None = None
    actions: list[str] = dataclasses.field(default_factory=list)

    def as_field_problem(self) -> FieldProblem:
        return FieldProblem(self.field, self.message, self.code, self.limit, self.actual, tuple(self.actions))


# --- the rule tables --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LengthLimit:
    """`field` may hold at most `limit` characters. `*` in the path stands for every element of a list."""

    field: str
    limit: int
    source: str


@dataclass(frozen=True)
class CharacterRule:
    field: str
    characters: str
    reason: str


def _qbo_address(prefix: str) -> tuple[LengthLimit, ...]:
    # PhysicalAddress annotations (shared/reference/qbwc/NOTES.md §4.2): Line1..5 500, City 255,
    # CountrySubDivisionCode 255, PostalCode 30, Country 255.
    src = "qbwc/NOTES.md §4.2 PhysicalAddress"
    return (
        LengthLimit(f"{prefix}.line1", 500, src),
        LengthLimit(f"{prefix}.line2", 500, src),
        LengthLimit(f"{prefix}.line3", 500, src),
        LengthLimit(f"{prefix}.city", 255, src),
        LengthLimit(f"{prefix}.state", 255, src),
        LengthLimit(f"{prefix}.postal_code", 30, src),
        LengthLimit(f"{prefix}.country", 255, src),
    )


def _qbd_address(prefix: str, element: str) -> tuple[LengthLimit, ...]:
    # `element` is "<Request> <Address element>", e.g. "CustomerAdd BillAddress" in maxlength.txt.
    return (
        LengthLimit(f"{prefix}.line1", 41, f"{ML}{element} Addr1"),
        LengthLimit(f"{prefix}.line2", 41, f"{ML}{element} Addr2"),
        LengthLimit(f"{prefix}.line3", 41, f"{ML}{element} Addr3"),
        LengthLimit(f"{prefix}.city", 31, f"{ML}{element} City"),
        LengthLimit(f"{prefix}.state", 21, f"{ML}{element} State"),
        LengthLimit(f"{prefix}.postal_code", 13, f"{ML}{element} PostalCode"),
        LengthLimit(f"{prefix}.country", 31, f"{ML}{element} Country"),
    )


_QBO_NAMES = "qbo/NOTES.md §4.1"
_QBO_TXN = "qbo/NOTES.md §4.2"

_QBO_CUSTOMER = (
    LengthLimit("display_name", 500, _QBO_NAMES),
    LengthLimit("company_name", 100, _QBO_NAMES),
    LengthLimit("given_name", 100, _QBO_NAMES),
    LengthLimit("family_name", 100, _QBO_NAMES),
    LengthLimit("email", 100, "qbwc/NOTES.md §4.2 EmailAddress Address"),
    LengthLimit("phone", 21, "qbwc/NOTES.md §4.2 TelephoneNumber FreeFormNumber"),
    LengthLimit("notes", 1024, "qbo/xsd/IntuitNamesTypes.xsd Customer Notes"),
    *_qbo_address("billing_address"),
    *_qbo_address("shipping_address"),
)
_QBO_VENDOR = (
    LengthLimit("display_name", 500, "qbo/NOTES.md §4.6"),
    LengthLimit("company_name", 100, _QBO_NAMES),
    LengthLimit("given_name", 100, _QBO_NAMES),
    LengthLimit("family_name", 100, _QBO_NAMES),
    LengthLimit("email", 100, "qbwc/NOTES.md §4.2 EmailAddress Address"),
    LengthLimit("phone", 21, "qbwc/NOTES.md §4.2 TelephoneNumber FreeFormNumber"),
    LengthLimit("account_number", 100, "qbo/NOTES.md §4.6 AcctNum"),
    LengthLimit("notes", 1024, "qbo/xsd/IntuitNamesTypes.xsd Vendor Notes"),
    *_qbo_address("address"),
)
_QBO_EMPLOYEE = (
    LengthLimit("display_name", 500, _QBO_NAMES),
    LengthLimit("given_name", 100, _QBO_NAMES),
    LengthLimit("family_name", 100, _QBO_NAMES),
    LengthLimit("email", 100, "qbwc/NOTES.md §4.2 EmailAddress Address"),
    LengthLimit("phone", 21, "qbwc/NOTES.md §4.2 TelephoneNumber FreeFormNumber"),
    *_qbo_address("address"),
)
_QBO_ITEM = (
    LengthLimit("name", 100, "qbo/NOTES.md §4.5"),
    LengthLimit("sku", 100, "qbo/NOTES.md §4.5"),
    LengthLimit("description", 4000, "qbo/NOTES.md §4.5"),
)
_QBO_SALES_DOCUMENT = (
    LengthLimit("doc_number", 21, _QBO_TXN),
    LengthLimit("memo", 4000, _QBO_TXN + " PrivateNote"),
    LengthLimit("lines.*.description", 4000, _QBO_TXN + " line Description"),
)
_QBO_PURCHASE_DOCUMENT = (
    LengthLimit("doc_number", 21, "qbo/NOTES.md §4.6"),
    LengthLimit("memo", 4000, _QBO_TXN + " PrivateNote"),
    LengthLimit("lines.*.description", 4000, _QBO_TXN + " line Description"),
)

_QBD_ITEM_SERVICE = (
    LengthLimit("name", 31, ML + "ItemServiceAdd Name"),
    LengthLimit("description", 4095, ML + "ItemServiceAdd SalesOrPurchase Desc"),
    LengthLimit("income_account", 159, ML + "ItemServiceAdd SalesAndPurchase IncomeAccountRef FullName"),
    LengthLimit("expense_account", 159, ML + "ItemServiceAdd SalesAndPurchase ExpenseAccountRef FullName"),
)
_QBD_ITEM_NON_INVENTORY = (
    LengthLimit("name", 31, ML + "ItemNonInventoryAdd Name"),
    LengthLimit("sku", 31, ML + "ItemNonInventoryAdd ManufacturerPartNumber"),
    LengthLimit("description", 4095, ML + "ItemNonInventoryAdd SalesOrPurchase Desc"),
    LengthLimit("income_account", 159, ML + "ItemNonInventoryAdd SalesAndPurchase IncomeAccountRef FullName"),
    LengthLimit(
        "expense_account",
        159,
        ML + "ItemNonInventoryAdd SalesAndPurchase ExpenseAccountRef FullName",
    ),
)
_QBD_ITEM_INVENTORY = (
    LengthLimit("name", 31, ML + "ItemInventoryAdd Name"),
    LengthLimit("sku", 31, ML + "ItemInventoryAdd ManufacturerPartNumber"),
    LengthLimit("description", 4095, ML + "ItemInventoryAdd SalesDesc"),
    LengthLimit("income_account", 159, ML + "ItemInventoryAdd IncomeAccountRef FullName"),
    LengthLimit("expense_account", 159, ML + "ItemInventoryAdd COGSAccountRef FullName"),
    LengthLimit("asset_account", 159, ML + "ItemInventoryAdd AssetAccountRef FullName"),
)

# Keys are record types, or "item.<kind>" for items (Desktop has one request per item kind).
LENGTH_LIMITS: Mapping[Edition, Mapping[str, tuple[LengthLimit, ...]]] = {
    Edition.QBO: {
        "customer": _QBO_CUSTOMER,
        "vendor": _QBO_VENDOR,
        "employee": _QBO_EMPLOYEE,
        "item.service": _QBO_ITEM,
        "item.non_inventory": _QBO_ITEM,
        "item.inventory": _QBO_ITEM,
        "invoice": _QBO_SALES_DOCUMENT,
        "credit_memo": _QBO_SALES_DOCUMENT,
        "payment": (LengthLimit("memo", 4000, "qbo/NOTES.md §4.3 PrivateNote"),),
        "purchase_order": _QBO_PURCHASE_DOCUMENT,
        "bill": _QBO_PURCHASE_DOCUMENT,
    },
    Edition.QBD: {
        "customer": (
            LengthLimit("display_name", 41, ML + "CustomerAdd Name"),
            LengthLimit("company_name", 41, ML + "CustomerAdd CompanyName"),
            LengthLimit("given_name", 25, ML + "CustomerAdd FirstName"),
            LengthLimit("family_name", 25, ML + "CustomerAdd LastName"),
            LengthLimit("email", 1023, ML + "CustomerAdd Email"),
            LengthLimit("phone", 21, ML + "CustomerAdd Phone"),
            LengthLimit("notes", 4095, ML + "CustomerAdd Notes"),
            *_qbd_address("billing_address", "CustomerAdd BillAddress"),
            *_qbd_address("shipping_address", "CustomerAdd ShipAddress"),
        ),
        "vendor": (
            LengthLimit("display_name", 41, ML + "VendorAdd Name"),
            LengthLimit("company_name", 41, ML + "VendorAdd CompanyName"),
            LengthLimit("given_name", 25, ML + "VendorAdd FirstName"),
            LengthLimit("family_name", 25, ML + "VendorAdd LastName"),
            LengthLimit("email", 1023, ML + "VendorAdd Email"),
            LengthLimit("phone", 21, ML + "VendorAdd Phone"),
            LengthLimit("account_number", 99, ML + "VendorAdd AccountNumber"),
            LengthLimit("notes", 4095, ML + "VendorAdd Notes"),
            *_qbd_address("address", "VendorAdd VendorAddress"),
        ),
        # EmployeeAdd is not in maxlength.txt; these come from qbxml130.xsd (PersonName and
        # EmployeeAddressData groups). EmployeeAdd Name has no maxLength there, so display_name has none here;
        # EmployeeAddress has no Addr3 and no Country (see UNSUPPORTED_FIELDS).
        "employee": (
            LengthLimit("given_name", 25, XSD + "EmployeeAdd FirstName"),
            LengthLimit("family_name", 25, XSD + "EmployeeAdd LastName"),
            LengthLimit("email", 1023, XSD + "EmployeeAdd Email"),
            LengthLimit("phone", 21, XSD + "EmployeeAdd Phone"),
            LengthLimit("address.line1", 41, XSD + "EmployeeAdd EmployeeAddress Addr1"),
            LengthLimit("address.line2", 41, XSD + "EmployeeAdd EmployeeAddress Addr2"),
            LengthLimit("address.city", 31, XSD + "EmployeeAdd EmployeeAddress City"),
            LengthLimit("address.state", 21, XSD + "EmployeeAdd EmployeeAddress State"),
            LengthLimit("address.postal_code", 13, XSD + "EmployeeAdd EmployeeAddress PostalCode"),
        ),
        "item.service": _QBD_ITEM_SERVICE,
        "item.non_inventory": _QBD_ITEM_NON_INVENTORY,
        "item.inventory": _QBD_ITEM_INVENTORY,
        "invoice": (
            LengthLimit("doc_number", 11, ML + "InvoiceAdd RefNumber"),
            LengthLimit("terms", 31, ML + "InvoiceAdd TermsRef FullName"),
            LengthLimit("memo", 4095, ML + "InvoiceAdd Memo"),
            LengthLimit("lines.*.description", 4095, ML + "InvoiceAdd InvoiceLineAdd Desc"),
            LengthLimit("lines.*.tax_code", 3, ML + "InvoiceAdd InvoiceLineAdd SalesTaxCodeRef FullName"),
        ),
        "credit_memo": (
            LengthLimit("doc_number", 11, ML + "CreditMemoAdd RefNumber"),
            LengthLimit("memo", 4095, ML + "CreditMemoAdd Memo"),
            LengthLimit("lines.*.description", 4095, ML + "CreditMemoAdd CreditMemoLineAdd Desc"),
            LengthLimit(
                "lines.*.tax_code",
                3,
                ML + "CreditMemoAdd CreditMemoLineAdd SalesTaxCodeRef FullName",
            ),
        ),
        "payment": (
            LengthLimit("reference_number", 20, ML + "ReceivePaymentAdd RefNumber"),
            LengthLimit("method", 31, ML + "ReceivePaymentAdd PaymentMethodRef FullName"),
            LengthLimit("deposit_account", 159, ML + "ReceivePaymentAdd DepositToAccountRef FullName"),
            LengthLimit("memo", 4095, ML + "ReceivePaymentAdd Memo"),
        ),
        # PurchaseOrderAdd is not in maxlength.txt; these come from qbxml130.xsd.
        "purchase_order": (
            LengthLimit("doc_number", 11, XSD + "PurchaseOrderAdd RefNumber"),
            LengthLimit("memo", 4095, XSD + "PurchaseOrderAdd Memo"),
            LengthLimit("lines.*.description", 4095, XSD + "PurchaseOrderLineAdd Desc"),
        ),
        "bill": (
            LengthLimit("doc_number", 20, ML + "BillAdd RefNumber"),
            LengthLimit("terms", 31, ML + "BillAdd TermsRef FullName"),
            LengthLimit("memo", 4095, ML + "BillAdd Memo"),
            # Item lines carry Desc, account lines Memo; both 4095.
            LengthLimit("lines.*.description", 4095, ML + "BillAdd ItemLineAdd Desc"),
            LengthLimit("lines.*.account", 159, ML + "BillAdd ExpenseLineAdd AccountRef FullName"),
        ),
    },
}

_NO_COLON_QBO = "QuickBooks Online refuses ':' in names"
_NO_COLON_QBD = "QuickBooks Desktop uses ':' to separate a name from its parent's (Parent:Child)"


def _no_colon(reason: str, *fields: str) -> tuple[CharacterRule, ...]:
    return tuple(CharacterRule(f, ":", reason) for f in fields)


_PERSON_FIELDS = ("display_name", "given_name", "family_name")

FORBIDDEN_CHARACTERS: Mapping[Edition, Mapping[str, tuple[CharacterRule, ...]]] = {
    # qbo/NOTES.md §4.1: DisplayName, GivenName, MiddleName, FamilyName, PrintOnCheckName.
    Edition.QBO: {
        "customer": _no_colon(_NO_COLON_QBO, *_PERSON_FIELDS),
        "vendor": _no_colon(_NO_COLON_QBO, *_PERSON_FIELDS),
        "employee": _no_colon(_NO_COLON_QBO, *_PERSON_FIELDS),
        "item.service": _no_colon(_NO_COLON_QBO, "name"),
        "item.non_inventory": _no_colon(_NO_COLON_QBO, "name"),
        "item.inventory": _no_colon(_NO_COLON_QBO, "name"),
    },
    # qbwc/NOTES.md §3.3 FullName: the colon-joined hierarchy (customers and jobs, items and sub-items).
    Edition.QBD: {
        "customer": _no_colon(_NO_COLON_QBD, "display_name"),
        "vendor": _no_colon(_NO_COLON_QBD, "display_name"),
        "employee": _no_colon(_NO_COLON_QBD, "display_name"),
        "item.service": _no_colon(_NO_COLON_QBD, "name"),
        "item.non_inventory": _no_colon(_NO_COLON_QBD, "name"),
        "item.inventory": _no_colon(_NO_COLON_QBD, "name"),
    },
}

# Characters no text field of any record may contain, in either edition. qbXML is XML 1.0, whose Char
# production (XML 1.0 §2.2) leaves out NUL and the other C0 controls but tab, LF and CR, the surrogates
# U+D800-U+DFFF, and U+FFFE/U+FFFF; QuickBooks Online's entities are defined by XML schemas too
# (shared/reference/qbo/xsd). Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069,
# Unicode UAX #9) reorder how the rest of the text is shown, so the name a bookkeeper reads is not the one
# stored (CVE-2021-42574). No source says where QuickBooks keeps tab, LF and CR, so they are allowed only in
# the free-text fields that are multi-line by nature (`MULTI_LINE_FIELDS`) and refused in names and every
# other single-line field.
LINE_BREAKS = "\t\n\r"
UNSTORABLE_CHARACTERS = frozenset(
    [chr(code) for code in range(0x20)]
    + [chr(code) for code in range(0xD800, 0xE000)]
    + ["\ufffe", "\uffff"]
    + [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
)
MULTI_LINE_FIELDS = frozenset({"memo", "notes", "description"})

# The text an edition stores for a given text: lengths are checked on it. QuickBooks Desktop is sent its
# typographic punctuation in ASCII (`desktop_text`): a curly apostrophe counts as "'", an ellipsis as "...".
STORED_TEXT: Mapping[Edition, Callable[[str], str]] = {
    Edition.QBO: lambda text: text,
    Edition.QBD: desktop_text,
}
# Editions that store ISO-8859-1 only (shared/reference/qbwc/NOTES.md §3.5): any other character is refused
# at push (`unsupported_character`) rather than sent to become '?'.
LATIN1_ONLY = frozenset({Edition.QBD})

# Fields an edition needs although the canonical model leaves them optional.
# QBO inventory items need QtyOnHand and InvStartDate (qbo/NOTES.md §4.5).
REQUIRED_FIELDS: Mapping[Edition, Mapping[str, tuple[str, ...]]] = {
    Edition.QBO: {"item.inventory": ("quantity_on_hand", "quantity_as_of")},
    Edition.QBD: {},
}

# Fields of which an edition needs at least one. qbxmlops130.osr.xml marks EmployeeAdd's Name "not in QBD":
# QuickBooks Desktop names an employee by its first and last names, so display_name alone names nothing.
REQUIRED_ONE_OF: Mapping[Edition, Mapping[str, tuple[tuple[str, ...], ...]]] = {
    Edition.QBO: {},
    Edition.QBD: {"employee": (("given_name", "family_name"),)},
}

# Fields an edition has no place for: sending the record would lose them.
# qbxml130.xsd: PurchaseOrderLineAdd has an ItemRef and no account (no expense lines on a Desktop PO);
# EmployeeAddress (group EmployeeAddressData) has Addr1, Addr2, City, State and PostalCode only;
# ItemServiceAdd has no ManufacturerPartNumber (maxlength.txt lists it for non-inventory and inventory items).
UNSUPPORTED_FIELDS: Mapping[Edition, Mapping[str, tuple[str, ...]]] = {
    Edition.QBO: {},
    Edition.QBD: {
        "purchase_order": ("lines.*.account",),
        "item.service": ("sku",),
        "employee": ("address.line3", "address.country"),
    },
}

# PrimaryEmailAddr.Address must contain '@' and '.' (qbo/NOTES.md §4.1). Desktop keeps free text (it allows
# several addresses in one field), so only its length is checked.
EMAIL_FIELDS: Mapping[Edition, Mapping[str, tuple[str, ...]]] = {
    Edition.QBO: {"customer": ("email",), "vendor": ("email",), "employee": ("email",)},
    Edition.QBD: {},
}

# QBO: "Taxable invoices are limited to 750 lines" (qbo/NOTES.md §4.2).
MAX_TAXABLE_LINES: Mapping[Edition, Mapping[str, int]] = {
    Edition.QBO: {"invoice": 750},
    Edition.QBD: {},
}
TAXABLE_CODE = "TAX"

# The fields that name a list entry: a problem there is fixed by renaming, which the tenant may prefer to
# do in QuickBooks and then link the record to the existing entry.
NAME_FIELDS = frozenset(spec.name_field for spec in RECORD_TYPES.values() if spec.name_field is not None)


# --- checking ---------------------------------------------------------------------------------------------


def field_limits(record_type: str) -> dict[str, dict[Edition, int]]:
    """The longest text each field of `record_type` may hold, per edition, from `LENGTH_LIMITS` (the table
    `validate` enforces): {"display_name": {QBO: 500, QBD: 41}, "lines.*.description": {...}}. A field an
    edition sets no length for is absent from that edition's entry. For items, the kinds that have a field
    agree on its limit in each edition; should they ever differ, the smallest is given."""
    keys = [k for k in LENGTH_LIMITS[Edition.QBO] if k == record_type or k.startswith(f"{record_type}.")]
    if not keys:
        raise ValueError(f"unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}")
    limits: dict[str, dict[Edition, int]] = {}
    for edition, table in LENGTH_LIMITS.items():
        for key in keys:
            for rule in table.get(key, ()):
                per_edition = limits.setdefault(rule.field, {})
                per_edition[edition] = min(rule.limit, per_edition.get(edition, rule.limit))
    return limits


def name_key(name: str) -> str:
    """The key under which two names clash: case-insensitive, Unicode-normalised, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def rule_key(record_type: str, record: BaseModel) -> str:
    """The key of a record's rules in the tables above: the record type, or "item.<kind>" for items."""
    if isinstance(record, Item):
        return f"item.{record.kind.value}"
    return record_type


def validate(record_type: str, record: BaseModel, edition: Edition) -> list[Problem]:
    """Everything `edition` would refuse in `record`; an empty list means it can be sent."""
    model = spec_of(record_type).model
    if not isinstance(record, model):
        raise TypeError(f"a {record_type} record must be a {model.__name__}, not {type(record).__name__}")
    key = rule_key(record_type, record)
    return [problem for check in _CHECKS for problem in check(key, record, edition)]


def _required(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for path in REQUIRED_FIELDS[edition].get(key, ()):
        for where, value in _values_at(record, path, keep_missing=True):
            if value is None:
                message = f"{_label(where)} is required by {EDITION_NAMES[edition]}."
                yield Problem(where, "required", message, actions=["edit"])


def _required_one_of(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for fields in REQUIRED_ONE_OF[edition].get(key, ()):
        if all(getattr(record, f, None) is None for f in fields):
            named = " or ".join(_label(f).lower() for f in fields)
            message = f"{EDITION_NAMES[edition]} needs {named} on {_article(key)} {_label(key).lower()}."
            yield Problem(fields[0], "required", message, actions=["edit"])


def _unsupported(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for path in UNSUPPORTED_FIELDS[edition].get(key, ()):
        for where, _value in _values_at(record, path):
            message = (
                f"{EDITION_NAMES[edition]} has no place for {_label(where).lower()} on "
                f"{_article(key)} {_label(key).lower()}; remove it."
            )
            yield Problem(where, "not_supported", message, actions=["edit"])


def _too_long(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for rule in LENGTH_LIMITS[edition].get(key, ()):
        for where, value in _values_at(record, rule.field):
            if not isinstance(value, str):
                continue
            stored = STORED_TEXT[edition](value)
            if len(stored) > rule.limit:
                message = (
                    f"{_label(where)} is {len(stored)} characters long"
                    + (" as QuickBooks stores it" if stored != value else "")
                    + f"; {EDITION_NAMES[edition]} allows at most {rule.limit}."
                )
                actions = _actions(where)
                yield Problem(where, "too_long", message, rule.limit, len(stored), actions)


def _forbidden_characters(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for rule in FORBIDDEN_CHARACTERS[edition].get(key, ()):
        for where, value in _values_at(record, rule.field):
            found = sorted({c for c in str(value) if c in rule.characters})
            if found:
                shown = " ".join(repr(c) for c in found)
                message = f"{_label(where)} contains {shown}: {rule.reason}."
                yield Problem(where, "forbidden_character", message, actions=_actions(where))


def _unstorable_characters(_key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for where, value in _text_fields(record):
        multi_line = where.rsplit(".", 1)[-1] in MULTI_LINE_FIELDS
        found = sorted(
            {c for c in value if c in UNSTORABLE_CHARACTERS and not (multi_line and c in LINE_BREAKS)}
        )
        if found:
            message = (
                f"{_label(where)} contains {', '.join(map(_character, found))}: {EDITION_NAMES[edition]} "
                "cannot store control characters, U+FFFE or U+FFFF, and bidirectional controls change how "
                f"text reads; remove {'it' if len(found) == 1 else 'them'}."
                + (" Tabs and line breaks are kept in this field." if multi_line else "")
            )
            yield Problem(where, "forbidden_character", message, actions=_actions(where))


def _unsupported_characters(_key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    if edition not in LATIN1_ONLY:
        return
    for where, value in _text_fields(record):
        # Controls and bidirectional marks are refused by _unstorable_characters already, in every edition.
        found = [c for c in unsupported_characters(value) if c not in UNSTORABLE_CHARACTERS]
        if found:
            message = (
                f"{_label(where)} contains {', '.join(map(_shown, found))}: {EDITION_NAMES[edition]} stores "
                "ISO-8859-1 (Latin-1) text only, and would keep "
                f"{'it' if len(found) == 1 else 'them'} as '?'. Replace or remove "
                f"{'it' if len(found) == 1 else 'them'}."
            )
            yield Problem(where, "unsupported_character", message, actions=_actions(where))


def _emails(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    for path in EMAIL_FIELDS[edition].get(key, ()):
        for where, value in _values_at(record, path):
            if not _looks_like_email(str(value)):
                message = f"{_label(where)} {value!r} is not an email address (it needs an '@' and a '.')."
                yield Problem(where, "invalid_email", message, actions=["edit"])


def _line_count(key: str, record: BaseModel, edition: Edition) -> Iterator[Problem]:
    most = MAX_TAXABLE_LINES[edition].get(key)
    lines = getattr(record, "lines", None)
    if most is None or not isinstance(lines, list) or len(lines) <= most:
        return
    if any(getattr(line, "tax_code", None) == TAXABLE_CODE for line in lines):
        yield Problem(
            "lines",
            "too_many",
            f"A taxable {_label(key).lower()} has {len(lines)} lines; "
            f"{EDITION_NAMES[edition]} allows at most {most}. Split it into several.",
            limit=most,
            actual=len(lines),
            actions=["edit"],
        )


def _duplicate_applications(_key: str, record: BaseModel, _edition: Edition) -> Iterator[Problem]:
    if not isinstance(record, Payment):
        return
    seen: set[tuple[str, str]] = set()
    for index, application in enumerate(record.applications):
        target = application.target
        if target in seen:
            kind, target_id = target
            yield Problem(
                f"applications.{index}",
                "not_unique_in_record",
                f"The payment applies to {_label(kind).lower()} {target_id!r} more than once; "
                "combine those amounts into one application.",
                actions=["edit"],
            )
        seen.add(target)


_CHECKS = (
    _required,
    _required_one_of,
    _unsupported,
    _too_long,
    _forbidden_characters,
    _unstorable_characters,
    _unsupported_characters,
    _emails,
    _line_count,
    _duplicate_applications,
)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(local and at and "." in domain.strip("."))


def _actions(where: str) -> list[str]:
    if where.rsplit(".", 1)[-1] in NAME_FIELDS:
        return ["rename", "link_existing"]
    return ["edit"]


_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}


def _shown(c: str) -> str:
    """A character a reader can see, with its code point and name: '€' (U+20AC EURO SIGN)."""
    name = unicodedata.name(c, "")
    return f"{c!r} (U+{ord(c):04X}" + (f" {name})" if name else ")")


def _character(c: str) -> str:
    """'U+0000 NUL', 'U+202E RIGHT-TO-LEFT OVERRIDE': a character a reader cannot see, and its name."""
    name = _CONTROL_NAMES.get(c) or unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" {name}" if name else "")


def _text_fields(obj: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) of every string in a record, through nested records and lists."""
    if isinstance(obj, str):
        yield prefix, obj
    elif isinstance(obj, BaseModel):
        for name, value in obj:
            yield from _text_fields(value, f"{prefix}.{name}" if prefix else name)
    elif isinstance(obj, list):
        for index, element in enumerate(obj):
            yield from _text_fields(element, f"{prefix}.{index}")


def _values_at(obj: Any, path: str, *, keep_missing: bool = False) -> Iterator[tuple[str, Any]]:
    """(concrete dotted path, value) for each value at `path`; `*` walks every element of a list."""
    head, _, rest = path.partition(".")
    if head == "*":
        if not isinstance(obj, list):
            return
        for index, element in enumerate(obj):
            for where, value in _values_at(element, rest, keep_missing=keep_missing):
                yield (f"{index}.{where}" if where else str(index)), value
        return
    value = getattr(obj, head, None)
    if value is None:
        if keep_missing and not rest:
            yield head, None
        return
    if not rest:
        yield head, value
        return
    for where, inner in _values_at(value, rest, keep_missing=keep_missing):
        yield f"{head}.{where}", inner


def _label(path: str) -> str:
    """'lines.2.description' -> 'Line 3 description'; 'billing_address.city' -> 'Billing address city'."""
    words: list[str] = []
    for part in path.split("."):
        if part.isdigit() and words:
            words[-1] = words[-1].removesuffix("s")
            words.append(str(int(part) + 1))
        else:
            words.append(part.replace("_", " ").replace(".", " "))
    text = " ".join(words)
    return text[:1].upper() + text[1:]


__all__ = [
    "EMAIL_FIELDS",
    "FORBIDDEN_CHARACTERS",
    "LATIN1_ONLY",
    "LENGTH_LIMITS",
    "LINE_BREAKS",
    "MULTI_LINE_FIELDS",
    "REQUIRED_FIELDS",
    "REQUIRED_ONE_OF",
    "STORED_TEXT",
    "UNSTORABLE_CHARACTERS",
    "UNSUPPORTED_FIELDS",
    "CharacterRule",
    "LengthLimit",
    "Problem",
    "field_limits",
    "name_key",
    "rule_key",
    "validate",
]
