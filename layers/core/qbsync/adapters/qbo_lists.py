"""QuickBooks Online's lists read into the mirror (`domain.mirror`): one `ListEntry` per object.

Three kinds of read, one path each:
- `read` pages through a list with queries: `Active IN (true,false)` (name lists, TaxCode and TaxRate answer
  only active objects unless asked, NOTES §3.2), ordered by `MetaData.LastUpdatedTime` as the Singer and
  Airbyte taps page it (NOTES §3.2), 1000 to a page (MAXRESULTS at most 1000, NOTES §3.2). Each page starts
  at the time the previous page ended at (`>=`), skipping the objects of that second it already brought: an
  object changed during the read moves to the end, where it is read again, instead of shifting an unread
  one into a page already read (which STARTPOSITION alone would do). Without `since` it reads the whole list
  (`complete`: what it did not bring was deleted), then counts it, and pages it again if an object slipped
  past; with `since`, it reads what changed from then on.
- `read_ids` reads named objects (a webhook's), inactive ones too; an Id QuickBooks no longer has is removed.
- `changed_since` asks Change Data Capture for the lists it covers (not TaxCode or TaxRate: NOTES §3.3) in
  one request: changed objects, and deleted ones (`status: Deleted`, a customer merged away) as removed; the
  other lists are read by modified time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from qbsync.adapters.qbo_books import QUERY_PAGE, quote
from qbsync.adapters.qbo_http import QboClient
from qbsync.adapters.qbo_mapping import qbo_time
from qbsync.domain.mirror import ListChanges, ListEntry, ListRead, ListType, kind_words
from qbsync.domain.ports import Clock

log = logging.getLogger(__name__)

CDC_MAX_OBJECTS = 1000  # per answer, without paging (NOTES §3.3)
CDC_LOOKBACK = timedelta(days=29)  # CDC looks back at most 30 days (NOTES §3.3); a day's margin
FULL_READ_ATTEMPTS = 3
IDS_PER_QUERY = 100  # `Id IN (...)`: a query string well within a URL's length
_EVERY = "Active IN (true,false)"


@dataclass(frozen=True)
class OnlineList:
    """How one list is kept in QuickBooks Online: its entity, and whether Change Data Capture covers it."""

    entity: str
    cdc: bool = True
    select: str = "*"  # what a query asks for


# The lists Online has (sales tax groups are TaxCodes there), by the entity that holds each.
ONLINE_LISTS: Mapping[ListType, OnlineList] = {
    ListType.CUSTOMER: OnlineList("Customer"),
    ListType.VENDOR: OnlineList("Vendor"),
    ListType.EMPLOYEE: OnlineList("Employee"),
    # `SELECT *` leaves Sku out: python-quickbooks asks for it by name (NOTES §4.5).
    ListType.ITEM: OnlineList("Item", select="*, Sku"),
    ListType.ACCOUNT: OnlineList("Account"),
    ListType.TERM: OnlineList("Term"),
    ListType.PAYMENT_METHOD: OnlineList("PaymentMethod"),
    ListType.CLASS: OnlineList("Class"),
    ListType.SALES_TAX_CODE: OnlineList("TaxCode", cdc=False),  # NOTES §3.3, §4.7
    ListType.SALES_TAX_RATE: OnlineList("TaxRate", cdc=False),
}
LIST_OF_ENTITY: Mapping[str, ListType] = {spec.entity: lt for lt, spec in ONLINE_LISTS.items()}


class ListReadIncompleteError(RuntimeError):
    """A list changed under each of its reads: its job is tried again later."""


class QboLists:
    """The `ListSource` port on QuickBooks Online."""

    def __init__(self, client: QboClient, clock: Clock, page: int = QUERY_PAGE) -> None:
        if not 0 < page <= QUERY_PAGE:
            raise ValueError(f"a page holds 1 to {QUERY_PAGE} objects")
        self._client = client
        self._clock = clock
        self._page = page

    @property
    def lists(self) -> tuple[ListType, ...]:
        return tuple(ONLINE_LISTS)

    def read(self, tenant_id: str, list_type: ListType, since: datetime | None = None) -> ListRead:
        """The whole list (`since` None: a complete read), or the objects changed from `since` on.

        A complete read is counted (`SELECT COUNT(*)`) once paged: an object of the second a page ended at,
        changed while the list was paged, leaves one unread object behind; then the list is paged again."""
        if since is not None and since.tzinfo is None:
            raise ValueError("since must carry a time zone")
        for _ in range(FULL_READ_ATTEMPTS):
            rows = self._pages(tenant_id, ONLINE_LISTS[list_type], since)
            if since is not None or len(rows) >= self._count(tenant_id, ONLINE_LISTS[list_type]):
                entries = [entry_of(list_type, row) for row in rows.values()]
                return ListRead(list_type, entries, complete=since is None, through=_newest(entries, since))
            log.info("a list changed while it was read; reading it again", extra={"list": list_type.value})
        raise ListReadIncompleteError(f"the {list_type.value} list kept changing while it was read")

    def _pages(self, tenant_id: str, online: OnlineList, since: datetime | None) -> dict[str, dict[str, Any]]:
        """Every object changed from `since` on (every object, without), by Id."""
        rows: dict[str, dict[str, Any]] = {}
        boundary, seen_at_boundary = since, 0
        while True:
            where = _EVERY
            if boundary is not None:
                where += f" AND MetaData.LastUpdatedTime >= {quote(boundary.isoformat())}"
            page = self._query(
                tenant_id,
                online,
                f"{where} ORDERBY MetaData.LastUpdatedTime STARTPOSITION {1 + seen_at_boundary} "
                f"MAXRESULTS {self._page}",
            )
            for row in page:
                rows[str(row["Id"])] = row  # a later page's copy is the newer one
            if len(page) < self._page:
                return rows
            last = _updated(page[-1])
            if last is None:
                raise ValueError(f"a {online.entity} without MetaData.LastUpdatedTime cannot be paged")
            same = sum(1 for row in page if _updated(row) == last)
            seen_at_boundary = seen_at_boundary + same if last == boundary else same
            boundary = last

    def _count(self, tenant_id: str, online: OnlineList) -> int:
        statement = f"SELECT COUNT(*) FROM {online.entity} WHERE {_EVERY}"  # noqa: S608 - not SQL
        response = self._client.query(tenant_id, statement).get("QueryResponse")
        return int(response.get("totalCount", 0)) if isinstance(response, Mapping) else 0

    def read_ids(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> ListRead:
        """These objects as QuickBooks has them now; the ones it no longer has, removed."""
        online = ONLINE_LISTS[list_type]
        wanted = list(dict.fromkeys(quickbooks_ids))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            listed = ", ".join(quote(i) for i in wanted[start : start + IDS_PER_QUERY])
            rows += self._query(
                tenant_id, online, f"Id IN ({listed}) AND {_EVERY} MAXRESULTS {IDS_PER_QUERY}"
            )
        entries = [entry_of(list_type, row) for row in rows]
        found = {e.quickbooks_id for e in entries}
        return ListRead(list_type, entries, removed=[i for i in wanted if i not in found])

    def changed_since(self, tenant_id: str, list_types: Sequence[ListType], since: datetime) -> ListChanges:
        """What changed from `since` on: the lists Change Data Capture covers in one request (the deleted
        objects as removed), the others (TaxCode, TaxRate) by `read` from `since`. `full` when CDC cannot
        answer it all: `since` is further back than it looks, or its answer is as large as one can be."""
        if since.tzinfo is None:
            raise ValueError("since must carry a time zone")
        covered = [lt for lt in list_types if ONLINE_LISTS[lt].cdc]
        if covered and since < self._clock.now() - CDC_LOOKBACK:
            return ListChanges(full=True)
        reads = [self.read(tenant_id, lt, since) for lt in list_types if not ONLINE_LISTS[lt].cdc]
        if not covered:
            return ListChanges(tuple(reads))
        document = self._client.get(
            tenant_id,
            "cdc",
            {
                "entities": ",".join(ONLINE_LISTS[lt].entity for lt in covered),
                "changedSince": since.replace(microsecond=0).isoformat(),
            },
        )
        through = qbo_time(document.get("time"))
        objects = 0
        for list_type in covered:
            entries: list[ListEntry] = []
            removed: list[str] = []
            for row in _cdc_rows(document, ONLINE_LISTS[list_type].entity):
                objects += 1
                if str(row.get("status") or "") == "Deleted":
                    removed.append(str(row["Id"]))
                else:
                    entries.append(entry_of(list_type, row))
            reads.append(ListRead(list_type, entries, removed, through=through))
        return ListChanges(tuple(reads), full=objects >= CDC_MAX_OBJECTS)

    def _query(self, tenant_id: str, online: OnlineList, rest: str) -> list[dict[str, Any]]:
        # Not SQL: QuickBooks' query language, its values quoted by `quote`.
        statement = f"SELECT {online.select} FROM {online.entity} WHERE {rest}"  # noqa: S608
        response = self._client.query(tenant_id, statement).get("QueryResponse")
        return _rows(response, online.entity)


# ---------------------------------------------------------------------------------------------- mapping


def entry_of(list_type: ListType, row: Mapping[str, Any]) -> ListEntry:
    """One object of a list as the mirror keeps it."""
    meta = row.get("MetaData") or {}
    name = row.get("FullyQualifiedName") or row.get("DisplayName") or row.get("Name") or ""
    token = row.get("SyncToken")
    entry = ListEntry(
        list_type=list_type,
        quickbooks_id=str(row["Id"]),
        name=str(name),
        active=row.get("Active") is not False,
        modified_at=qbo_time(meta.get("LastUpdatedTime") if isinstance(meta, Mapping) else None),
        created_at=qbo_time(meta.get("CreateTime") if isinstance(meta, Mapping) else None),
        version="" if token is None else str(token),
        parent_id=_ref(row.get("ParentRef")),
    )
    extra: dict[str, Any] = {}
    if list_type in (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE):
        extra = {
            "company_name": _text(row.get("CompanyName")),
            "email": _text(_field(row.get("PrimaryEmailAddr"), "Address")),
            "phone": _text(_field(row.get("PrimaryPhone"), "FreeFormNumber")),
        }
    elif list_type is ListType.ITEM:
        extra = {
            "sku": _text(row.get("Sku")),
            "kind": kind_words(_text(row.get("Type"))),
            "price": _decimal(row.get("UnitPrice")),
            "income_account": _ref_name(row.get("IncomeAccountRef")),
            "expense_account": _ref_name(row.get("ExpenseAccountRef")),
            "asset_account": _ref_name(row.get("AssetAccountRef")),
        }
    elif list_type is ListType.ACCOUNT:
        extra = {
            "kind": kind_words(_text(row.get("AccountType"))),
            "sub_kind": kind_words(_text(row.get("AccountSubType"))),
        }
    elif list_type is ListType.SALES_TAX_RATE:
        extra = {"price": _decimal(row.get("RateValue"))}  # percent
    return replace(entry, **extra)


def _text(value: Any) -> str | None:
    """A text field, surrounding blanks dropped; None when absent or blank."""
    if value is None:
        return None
    return str(value).strip() or None


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _ref(value: Any) -> str | None:
    found = _field(value, "value")
    return None if found in (None, "") else str(found)


def _ref_name(value: Any) -> str | None:
    return _text(_field(value, "name"))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def _updated(row: Mapping[str, Any]) -> datetime | None:
    meta = row.get("MetaData")
    return qbo_time(meta.get("LastUpdatedTime")) if isinstance(meta, Mapping) else None


def _newest(entries: Iterable[ListEntry], since: datetime | None) -> datetime | None:
    return max((t for t in (since, *(e.modified_at for e in entries)) if t is not None), default=None)


def _rows(response: Any, entity: str) -> list[dict[str, Any]]:
    """The objects of a QueryResponse; an empty answer has no entity key at all."""
    if not isinstance(response, Mapping):
        return []
    found: Any = next((v for k, v in response.items() if k.lower() == entity.lower()), [])
    return [row for row in found if isinstance(row, dict)] if isinstance(found, list) else []


def _cdc_rows(document: Mapping[str, Any], entity: str) -> Iterable[dict[str, Any]]:
    for cdc in document.get("CDCResponse") or []:
        if isinstance(cdc, Mapping):
            for response in cdc.get("QueryResponse") or []:
                yield from _rows(response, entity)
