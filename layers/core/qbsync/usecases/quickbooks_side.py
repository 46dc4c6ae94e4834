"""The QuickBooks side of a tenant: its mirror of the company's lists, kept from reads of either edition.

Each edition's reader turns what QuickBooks answered into a `ListRead`; `QuickBooksSide.take` stores it and
tells the host app what changed. A list's first complete read (at connect) tells nothing: it is the starting
point the listing and the initial sync show. After it, every change is a `quickbooks.changed` event carrying
the host record linked to the object, when there is one, so a host app can import customers or follow a
rename made in QuickBooks. `QuickBooksListing` shows the mirror to the host app, a page at a time, each entry
with the host record linked to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from qbsync.domain.connections import EventPublisher
from qbsync.domain.errors import FieldProblem, InvalidInputError, NotFoundError
from qbsync.domain.mirror import (
    LINKABLE,
    ListChange,
    ListEntry,
    ListFilter,
    ListRead,
    ListType,
    MirrorStore,
    ReadMark,
    change_of,
)
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.sync import RecordStore
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)

QUICKBOOKS_CHANGED = "quickbooks.changed"
LISTING_MAX = 500  # entries a page of the listing holds at most
LINKED_PAGE = (
    100  # entries read from the mirror at a time when the listing keeps only linked or unlinked ones
)


@dataclass(frozen=True)
class Taken:
    """What a read changed in the mirror: how many entries it stored and removed, and the changes told."""

    stored: int
    removed: int
    told: tuple[tuple[ListChange, str], ...]  # (change, quickbooks_id), in the order told


@dataclass
class QuickBooksSide:
    mirror: MirrorStore
    records: RecordStore
    events: EventPublisher
    clock: Clock

    def take(self, tenant_id: str, read: ListRead) -> Taken:
        """Store one read of a list and tell what changed since the last (nothing on a first load)."""
        mark = self.mirror.marks(tenant_id).get(read.list_type, ReadMark(read.list_type))
        if read.complete:
            before = {e.quickbooks_id: e for e in self.mirror.entries(tenant_id, read.list_type)}
        else:
            ids = [e.quickbooks_id for e in read.entries] + list(read.removed)
            before = self.mirror.get_many(tenant_id, read.list_type, ids)
        brought = {e.quickbooks_id: e for e in read.entries}
        gone = set(read.removed) | (set(before) - set(brought) if read.complete else set())
        gone = {i for i in gone if i in before and i not in brought}
        changed = [e for e in brought.values() if before.get(e.quickbooks_id) != e]
        self.mirror.put_many(tenant_id, changed)
        self.mirror.remove(tenant_id, read.list_type, sorted(gone))
        told: Sequence[tuple[ListChange, ListEntry]] = []
        if mark.loaded:
            changes = ((change_of(before.get(e.quickbooks_id), e), e) for e in changed)
            told = [(c, e) for c, e in changes if c is not None]
            told += [(ListChange.DELETED, before[i]) for i in sorted(gone)]
        told = self._tell(tenant_id, read.list_type, told)
        through = max((t for t in (mark.through, read.through) if t is not None), default=None)
        loaded = mark.loaded or read.complete or read.ends_load
        self.mirror.save_mark(tenant_id, ReadMark(read.list_type, loaded, through, self.clock.now()))
        if changed or gone:
            log.info(
                "QuickBooks list read",
                extra={
                    "tenant_id": tenant_id,
                    "list_type": read.list_type.value,
                    "stored": len(changed),
                    "removed": len(gone),
                    "told": len(told),
                    "complete": read.complete,
                },
            )
        return Taken(len(changed), len(gone), tuple((c, e.quickbooks_id) for c, e in told))

    def _tell(
        self, tenant_id: str, list_type: ListType, changes: Sequence[tuple[ListChange, ListEntry]]
    ) -> list[tuple[ListChange, ListEntry]]:
        """Tell the changes, each with the host record linked to its object; what was told.

        An object created already linked to a host record is not told: qbsync created it for that record
        (the host heard `record.synced`), or the record was linked to it on arrival."""
        record_type = LINKABLE.get(list_type)
        ids = [e.quickbooks_id for _, e in changes]
        linked = self.records.linked(tenant_id, record_type, ids) if record_type and ids else {}
        told = [(c, e) for c, e in changes if not (c is ListChange.CREATED and e.quickbooks_id in linked)]
        events: list[tuple[str, dict[str, object]]] = [
            (
                QUICKBOOKS_CHANGED,
                {
                    "list_type": entry.list_type.value,
                    "change": change.value,
                    "quickbooks_id": entry.quickbooks_id,
                    "name": entry.name,
                    "active": entry.active and change is not ListChange.DELETED,
                    "record_type": record_type,
                    "record_id": linked.get(entry.quickbooks_id),
                },
            )
            for change, entry in told
        ]
        if events:
            self.events.publish_many(tenant_id, events)
        return told


@dataclass(frozen=True)
class Listed:
    """An entry of the listing: the mirror's entry and the id of the host record linked to it, if any."""

    entry: ListEntry
    record_id: str | None


@dataclass(frozen=True)
class Listing:
    """A page of the listing, and how far its list has been read (`mark.loaded` false: still reading)."""

    items: list[Listed]
    next_cursor: str | None
    mark: ReadMark


@dataclass
class QuickBooksListing:
    """A tenant's mirror of one QuickBooks list, a page at a time (GET /v1/tenants/{id}/quickbooks/{list})."""

    tenants: TenantRepository
    mirror: MirrorStore
    records: RecordStore

    def page(
        self,
        tenant_id: str,
        list_type: str,
        *,
        keep: ListFilter,
        linked: bool | None,
        limit: int,
        cursor: str | None,
    ) -> Listing:
        """Up to `limit` entries the filter keeps, by name then id; with `linked`, only the entries that are
        (True) or are not (False) linked to a host record. Links live in the record store, not the mirror:
        the mirror is paged and the links of each page read at once, until `limit` + 1 entries are kept or
        the list ends, so the cursor resumes right after the last entry given, whatever the filter."""
        get_tenant(self.tenants, tenant_id)
        kind = _list_type(list_type)
        record_type = LINKABLE.get(kind)
        if linked is not None and record_type is None:
            linkable = ", ".join(LINKABLE)
            raise InvalidInputError(
                f"The {kind.value} list has no links to host records: linked applies to {linkable}.",
                [FieldProblem("linked", f"Only for the {linkable} lists.", "not_linkable")],
            )
        if not 1 <= limit <= LISTING_MAX:
            raise InvalidInputError(
                f"limit is 1 to {LISTING_MAX}.",
                [FieldProblem("limit", f"1 to {LISTING_MAX}", "out_of_range")],
            )
        kept: list[Listed] = []
        after = cursor
        while True:
            wanted = limit + 1 - len(kept)
            page = self.mirror.page(
                tenant_id, kind, keep, wanted if linked is None else max(wanted, LINKED_PAGE), after
            )
            ids = [e.quickbooks_id for e in page.items]
            links = self.records.linked(tenant_id, record_type, ids) if record_type and ids else {}
            for entry in page.items:
                record_id = links.get(entry.quickbooks_id)
                if linked is None or (record_id is not None) is linked:
                    kept.append(Listed(entry, record_id))
            if len(kept) > limit or page.next_cursor is None:
                break
            after = page.next_cursor
        items = kept[:limit]
        more = len(kept) > limit
        next_cursor = self.mirror.cursor_after(tenant_id, items[-1].entry) if more else None
        return Listing(items, next_cursor, self.mirror.marks(tenant_id).get(kind, ReadMark(kind)))


def _list_type(name: str) -> ListType:
    try:
        return ListType(name)
    except ValueError:
        known = ", ".join(t.value for t in ListType)
        raise NotFoundError(f"No QuickBooks list {name!r}; the lists are {known}.") from None
