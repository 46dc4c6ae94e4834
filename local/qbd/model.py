"""What a company file holds, and how QuickBooks writes it back (`...Ret`).

Element names and their order come from Intuit's schema (qbxml130.xsd, each `...Ret`'s `xsd:sequence`); ids,
times, EditSequence and amounts follow the captures in ../shared/reference/qbwc/captures:
- ListID and TxnID are a hex counter, "-", and the epoch second of creation (`80000013-1416570432`,
  `C5-1417118624`); lists count from 0x80000001, transactions and their lines share one counter from 1;
- EditSequence is the epoch second of the last change (`1417118624`); here it also moves on by at least one on
  every change, so that two changes in one second cannot share a value;
- TimeCreated/TimeModified are the company's local wall time with an offset. QuickBooks writes the zone's
  standard offset even while daylight saving time is on: the captured ReceivePaymentRet has TimeModified
  `2010-10-03T19:15:35-08:00` with EditSequence 1286158535 (02:15:35 UTC, i.e. 19:15:35 PDT written with PST's
  offset), and jsgoupil/quickbooks-sync's README ("Handling Timestamps") corrects the offset for this reason.
  `Company(standard_offset_in_dst=False)` writes the true offset instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# A stored value: text, a reference to another object, or an aggregate (its children in order).
Value = Any  # str | Ref | list[tuple[str, Value]]


class Status(Exception):  # noqa: N818 - QuickBooks' word for an answer that is not OK
    """A request's answer other than 0 (an error, or a warning with no data)."""

    def __init__(self, code: int, message: str, severity: str = "Error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity


@dataclass(eq=False)
class Ref:
    target: Obj


@dataclass(frozen=True)
class Spec:
    """One kind of object: its Ret element and the order of the Ret's children (qbxml130.xsd)."""

    kind: str  # "Customer", "ItemService", "Invoice" ...
    order: tuple[str, ...]
    is_txn: bool = False
    space: str = ""  # name space shared with other kinds (lists only)
    hierarchical: bool = False  # FullName "Parent:Child" and Sublevel
    label: str = ""  # how QuickBooks names it in messages ("Customer", "Item" ...)
    lines: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (add tag stem, Ret tag, Ret order)

    @property
    def ret(self) -> str:
        return f"{self.kind}Ret"


@dataclass(eq=False)
class Line:
    id: str
    ret: str  # "InvoiceLineRet" ...
    fields: dict[str, list[Value]] = field(default_factory=dict)


@dataclass(eq=False)
class Application:
    """Part of a received payment applied to an invoice, with credits (credit memos) set against it."""

    payment: Obj
    target: Obj
    amount: Decimal
    credits: list[tuple[Obj, Decimal]] = field(default_factory=list)


@dataclass(eq=False)
class Obj:
    spec: Spec
    id: str
    created: datetime
    modified: datetime
    edit_sequence: int
    fields: dict[str, list[Value]] = field(default_factory=dict)
    name: str = ""
    parent: Obj | None = None
    active: bool = True
    number: int = 0  # TxnNumber
    lines: list[Line] = field(default_factory=list)
    data_ext: dict[tuple[str, str], str] = field(default_factory=dict)  # (OwnerID, DataExtName) -> value
    voided: bool = False
    applications: list[Application] = field(default_factory=list)  # a payment's
    applied_by: list[Application] = field(default_factory=list)  # an invoice's
    credit_uses: list[tuple[Application, Decimal]] = field(default_factory=list)  # a credit memo's
    links: list[Obj] = field(default_factory=list)  # linked transactions (a bill and its purchase order)

    @property
    def full_name(self) -> str:
        return f"{self.parent.full_name}:{self.name}" if self.parent else self.name

    @property
    def sublevel(self) -> int:
        return self.parent.sublevel + 1 if self.parent else 0

    def text(self, tag: str) -> str | None:
        values = self.fields.get(tag)
        return values[0] if values and isinstance(values[0], str) else None

    def ref(self, tag: str) -> Obj | None:
        values = self.fields.get(tag)
        return values[0].target if values and isinstance(values[0], Ref) else None


def line_text(line: Line, tag: str) -> str | None:
    values = line.fields.get(tag)
    return values[0] if values and isinstance(values[0], str) else None


def line_ref(line: Line, tag: str) -> Obj | None:
    values = line.fields.get(tag)
    return values[0].target if values and isinstance(values[0], Ref) else None


# ---- formats ---------------------------------------------------------------------------------------------


def amount(value: Decimal) -> str:
    """AMTTYPE as QuickBooks writes it: two decimals (`206.00`)."""
    return f"{value.quantize(CENT):f}"


def price(value: Decimal) -> str:
    """PRICETYPE as the captures show it: at least two decimals, at most five (`103.00`, `2.12345`)."""
    text = f"{value.quantize(Decimal('0.00001')):f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def quantity(value: Decimal) -> str:
    """QUANTYPE as the captures show it: no trailing zeros (`2`, `0`, `1.5`)."""
    text = f"{value.quantize(Decimal('0.00001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def boolean(value: bool) -> str:
    return "true" if value else "false"


def decimal_of(text: str | None, default: Decimal = ZERO) -> Decimal:
    return Decimal(text) if text not in (None, "") else default


def date_of(text: str) -> date:
    return date.fromisoformat(text)


# ---- writing Rets ----------------------------------------------------------------------------------------


def put(parent: Any, tag: str, value: Value) -> None:
    """Append `value` to `parent` as QuickBooks writes it (a reference as ListID/TxnID and FullName)."""
    if isinstance(value, Ref):
        ref = etree.SubElement(parent, tag)
        target = value.target
        etree.SubElement(ref, "TxnID" if target.spec.is_txn else "ListID").text = target.id
        if not target.spec.is_txn:
            etree.SubElement(ref, "FullName").text = target.full_name
    elif isinstance(value, list):
        aggregate = etree.SubElement(parent, tag)
        for child_tag, child in value:
            put(aggregate, child_tag, child)
    else:
        etree.SubElement(parent, tag).text = value


def write(
    parent: Any, tag: str, order: Iterable[str], values: dict[str, list[Value]], only: set[str] | None = None
) -> Any:
    """`<tag>` under `parent` with `values` in the schema's `order`, trimmed to `only` (IncludeRetElement)."""
    element = etree.SubElement(parent, tag)
    for name in order:
        if only is not None and name not in only:
            continue
        for value in values.get(name, ()):
            put(element, name, value)
    return element


def address_block(address: Value) -> Value:
    """BillAddressBlock/ShipAddressBlock: the address as printed (its lines, then "City, State PostalCode",
    then Country), at most five lines. QuickBooks spells states and countries out; the shape is what
    counts."""
    parts = dict(address) if isinstance(address, list) else {}
    lines = [parts[f"Addr{i}"] for i in range(1, 6) if parts.get(f"Addr{i}")]
    city = ", ".join(p for p in (parts.get("City"), parts.get("State")) if p)
    place = " ".join(p for p in (city, parts.get("PostalCode")) if p)
    lines += [p for p in (place, parts.get("Country")) if p]
    return [(f"Addr{i}", text) for i, text in enumerate(lines[:5], start=1)]


def elapsed_days(start: date, days: int) -> date:
    return start + timedelta(days=days)
