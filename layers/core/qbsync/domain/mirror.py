"""The QuickBooks side: a mirror, per tenant, of the lists the company already has.

A company connected to qbsync has years of customers, vendors, employees, items and accounts in it. qbsync
reads them (QuickBooks Online: paged queries at connect, then webhooks and the change-data pull; Desktop:
list queries in Web Connector sessions, then by modified date) into one `ListEntry` per object, in either
edition's words translated by its adapter. The mirror fills drop-downs (accounts, terms, payment methods),
shows the QuickBooks side of the match tabs, and lets a host record be linked to an object QuickBooks has
instead of being created again.

Which host record an object is linked to is not kept here: the record's `quickbooks_id` (and the record
store's mapping from QuickBooks id to record) is the one place a link lives.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from qbsync.domain.paging import Page


class ListType(StrEnum):
    """The lists qbsync mirrors, by the names used in URLs (/v1/tenants/{id}/quickbooks/{list_type})."""

    CUSTOMER = "customer"  # customers, and their jobs / sub-customers (`parent_id`)
    VENDOR = "vendor"
    EMPLOYEE = "employee"
    ITEM = "item"  # products and services of every kind (`kind`)
    ACCOUNT = "account"  # the chart of accounts (`kind`: type, `sub_kind`: detail type)
    TERM = "term"
    PAYMENT_METHOD = "payment_method"
    SALES_TAX_CODE = "sales_tax_code"  # Online: TaxCode; Desktop: SalesTaxCode (TAX, NON, ...)
    SALES_TAX_RATE = "sales_tax_rate"  # Online: TaxRate; Desktop: ItemSalesTax
    SALES_TAX_GROUP = "sales_tax_group"  # Desktop: ItemSalesTaxGroup (Online's TaxCode groups its rates)
    CLASS = "class"  # where the company uses classes


# The lists whose objects a host record can be linked to, and the record type of those records. The other
# lists are read-only: they fill drop-downs and are named by the records (an item's income account).
LINKABLE: Mapping[ListType, str] = {
    ListType.CUSTOMER: "customer",
    ListType.VENDOR: "vendor",
    ListType.EMPLOYEE: "employee",
    ListType.ITEM: "item",
}
LIST_OF_RECORD_TYPE: Mapping[str, ListType] = {record_type: lt for lt, record_type in LINKABLE.items()}


@dataclass(frozen=True)
class ListEntry:
    """One object of the company's lists as qbsync last read it. Fields an edition or a list does not have
    stay None. `name` is the full name: "Parent:Child" for a job or a sub-account, as both editions write
    references to them."""

    list_type: ListType
    quickbooks_id: str  # Online: Id; Desktop: ListID
    name: str
    active: bool = True
    modified_at: datetime | None = None  # Online: MetaData.LastUpdatedTime; Desktop: TimeModified
    # Online: MetaData.CreateTime; Desktop: TimeCreated. None for an entry stored before qbsync kept it.
    created_at: datetime | None = None
    version: str = ""  # Online: SyncToken; Desktop: EditSequence
    parent_id: str | None = None  # the parent's quickbooks_id: a job's customer, a sub-account's account
    company_name: str | None = None
    email: str | None = None  # customers: the billing email (Online PrimaryEmailAddr; Desktop Email)
    phone: str | None = None
    sku: str | None = None  # items: Online Sku; Desktop ManufacturerPartNumber (its only SKU-like field)
    kind: str | None = None  # items: service, inventory, non_inventory, ...; accounts: the account type
    sub_kind: str | None = None  # accounts: the detail type (Online AccountSubType)
    price: Decimal | None = None  # items: the sales price; tax rates: the rate in percent
    income_account: str | None = None  # items: accounts by full name
    expense_account: str | None = None
    asset_account: str | None = None

    def __post_init__(self) -> None:
        if not self.quickbooks_id:
            raise ValueError("a list entry needs its QuickBooks id")
        for name, moment in (("modified_at", self.modified_at), ("created_at", self.created_at)):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} {moment!r} has no time zone")

    @property
    def record_type(self) -> str | None:
        """The host record type that can be linked to this entry, if any."""
        return LINKABLE.get(self.list_type)

    def matches_text(self, text: str) -> bool:
        """Whether `text` occurs in its name, email or SKU, ignoring case and accents (the listing's `q`)."""
        needle = fold(text)
        return any(needle in fold(value) for value in (self.name, self.email, self.sku) if value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimal as a string, times in ISO 8601; None for what the entry does not have."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, datetime | date):
                value = value.isoformat()
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListEntry:
        """The inverse of `as_dict`."""
        values = dict(data)
        values["list_type"] = ListType(values["list_type"])
        for name in ("modified_at", "created_at"):
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        if values.get("price") is not None:
            values["price"] = Decimal(values["price"])
        return cls(**values)

    def same_as(self, other: ListEntry) -> bool:
        """Whether nothing a host app sees changed between two reads (the version may move on its own). The
        creation time never changes in QuickBooks: it differs only between an entry stored before qbsync
        kept it and its next read, which is not a change to tell."""
        ignored: dict[str, Any] = {"version": "", "modified_at": None, "created_at": None}
        return replace(self, **ignored) == replace(other, **ignored)


def kind_words(text: str | None) -> str | None:
    """An edition's word for a kind of item or account in the mirror's one vocabulary, snake case: Online's
    "Other Current Asset" and Desktop's "OtherCurrentAsset" are both `other_current_asset`, Online's
    "NonInventory" and Desktop's ItemNonInventory (less its "Item") `non_inventory`."""
    if text is None or not text.strip():
        return None
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text.strip())
    return "_".join(spaced.lower().split())


def fold(text: str) -> str:
    """`text` compared without case or accents: "Café" and "CAFE" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class ListChange(StrEnum):
    """What changed in QuickBooks about one object, as `quickbooks.changed` events tell it."""

    CREATED = "created"
    UPDATED = "updated"
    INACTIVATED = "inactivated"  # made inactive (Online never deletes a name: it makes it inactive)
    DELETED = "deleted"


def change_of(before: ListEntry | None, after: ListEntry | None) -> ListChange | None:
    """What a new read (`after`; None: QuickBooks no longer has it) says changed since `before`; None when
    nothing a host app sees did."""
    if after is None:
        return None if before is None else ListChange.DELETED
    if before is None:
        return ListChange.CREATED
    if before.same_as(after):
        return None
    if before.active and not after.active:
        return ListChange.INACTIVATED
    return ListChange.UPDATED


@dataclass(frozen=True)
class ListFilter:
    """What a listing keeps: `text` in the name, email or SKU; only active or inactive entries; only those
    modified since a time."""

    text: str | None = None
    active: bool | None = None
    modified_since: datetime | None = None

    def keeps(self, entry: ListEntry) -> bool:
        if self.text is not None and not entry.matches_text(self.text):
            return False
        if self.active is not None and entry.active is not self.active:
            return False
        if self.modified_since is None:
            return True
        return entry.modified_at is not None and entry.modified_at >= self.modified_since


class MatchKey(StrEnum):
    """A field besides the name that identifies an object: the keys the mirror can find entries by."""

    EMAIL = "email"
    SKU = "sku"


def key_value(entry: ListEntry, key: MatchKey) -> str | None:
    """The entry's value of a match key, as compared: folded, surrounding blanks dropped; None when blank."""
    raw = entry.email if key is MatchKey.EMAIL else entry.sku
    value = fold(raw).strip() if raw else ""
    return value or None


@dataclass(frozen=True)
class ListRead:
    """What one read of a list brought back, in either edition.

    `complete`: the read covered the whole list (a first load, a full re-read), so stored entries it did not
    bring were deleted in QuickBooks. Otherwise it brought changes only (by modified date, a webhook, the
    change-data pull), and `removed` names what QuickBooks reported deleted. `through`: the newest
    modification time the read has seen; the list's next read by modified date starts there.

    `ends_load`: the last part of a first load read in parts (Desktop reads a list page by page, one page per
    Web Connector exchange, maybe over several callbacks): each part is not `complete`, since what one did not
    bring may be on another, and deletions come in `removed`; after this part the list counts as loaded, so
    later changes are told.
    """

    list_type: ListType
    entries: Sequence[ListEntry] = ()
    removed: Sequence[str] = ()
    complete: bool = False
    through: datetime | None = None
    ends_load: bool = False

    def __post_init__(self) -> None:
        strays = sorted({e.list_type.value for e in self.entries} - {self.list_type.value})
        if strays:
            raise ValueError(f"a read of the {self.list_type.value} list brought entries of {strays}")


@dataclass(frozen=True)
class ReadMark:
    """How far the mirror of one list has been read: `loaded` once a first full read finished; `through`, the
    newest modification time it has seen (the next read asks for changes from there); `read_at`, when the
    mirror last took a read of it (Desktop reads the lists again once that is older than a refresh period)."""

    list_type: ListType
    loaded: bool = False
    through: datetime | None = None
    read_at: datetime | None = None


@dataclass(frozen=True)
class ListChanges:
    """What one read of changes brought for several lists at once: a read of changes per list. `full`: the
    source could not tell everything that changed (its answer was as large as one can be, or the time asked
    from is further back than it can look), so each list must be read again in full."""

    reads: tuple[ListRead, ...] = ()
    full: bool = False


class ListSource(Protocol):
    """An edition's reader of its lists (Online: adapters/qbo_lists.py)."""

    @property
    def lists(self) -> tuple[ListType, ...]:
        """The lists this edition has."""

    def read(self, tenant_id: str, list_type: ListType, since: datetime | None = None) -> ListRead:
        """The whole list (`since` None: a complete read), or what changed from `since` on."""

    def read_ids(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> ListRead:
        """These objects as they are now; the ones no longer there, removed."""

    def changed_since(self, tenant_id: str, list_types: Sequence[ListType], since: datetime) -> ListChanges:
        """What changed in these lists from `since` on, deletions included."""


class MirrorStore(Protocol):
    """The mirror of one tenant's lists (contract: tests/adapters/test_mirror_store.py)."""

    def get_many(
        self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]
    ) -> dict[str, ListEntry]:
        """The entries stored among `quickbooks_ids`, by id; missing ones absent."""

    def put_many(self, tenant_id: str, entries: Sequence[ListEntry]) -> None:
        """Store the entries (of any lists), each replacing the one of its list and id."""

    def remove(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> None:
        """Forget these entries (QuickBooks deleted them); ids not stored are ignored."""

    def page(
        self, tenant_id: str, list_type: ListType, keep: ListFilter, limit: int, cursor: str | None
    ) -> Page[ListEntry]:
        """Up to `limit` entries the filter keeps, by name (ignoring case), then id; InvalidInputError for a
        cursor this store did not issue, or issued for another tenant or list."""

    def cursor_after(self, tenant_id: str, entry: ListEntry) -> str:
        """The cursor of a page of `entry`'s list that ends with `entry` as it is stored: a listing that keeps
        what the mirror's filter cannot (links to host records) resumes right after its last entry."""

    def entries(self, tenant_id: str, list_type: ListType) -> Iterator[ListEntry]:
        """Every entry of a list, in no particular order (matching, counts)."""

    def find(self, tenant_id: str, list_type: ListType, key: MatchKey, value: str) -> list[ListEntry]:
        """The entries whose `key_value` for `key` equals `fold(value).strip()`."""

    def marks(self, tenant_id: str) -> dict[ListType, ReadMark]:
        """How far each list has been read; lists never read are absent."""

    def save_mark(self, tenant_id: str, mark: ReadMark) -> None: ...
