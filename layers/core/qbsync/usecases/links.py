"""Links: a host record that is an object QuickBooks already has, instead of one qbsync would create.

A tenant links a customer, vendor, employee or item to an object of the company's lists as qbsync last read
them (the mirror, domain/mirror.py): the record takes that object's QuickBooks id and version and is synced at
its current revision, so its later changes update that object. Nothing is written to QuickBooks by linking or
unlinking. A linked record keeps the name QuickBooks has for the object (`quickbooks_name`, when it is not
the record's own): its changes never rename a customer the company has had for years, and that is the name it
holds among customers, vendors and employees (usecases/name_claims.py).

A link is refused (LinkRefusedError, HTTP 409, saying why) when QuickBooks has no such object in that list,
when the object is inactive or already linked to another record, and when the record has a QuickBooks object
of its own, is being sent, or was deleted. Unlinking forgets the object: the record waits as a draft for the
tenant to send it (creating a new object) or link it again, under a new `generation`, so that nothing of the
old object is taken for it again (Desktop's ExternalGUID, Online's request id).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from qbsync.domain.connections import EventPublisher
from qbsync.domain.errors import (
    ConflictError,
    DomainError,
    FieldProblem,
    InvalidInputError,
    NotFoundError,
)
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, ListType, MirrorStore
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.records import RECORD_TYPES, RecordFilter
from qbsync.domain.sync import (
    ACTIVATE_IN_QUICKBOOKS,
    Failure,
    Operation,
    RecordStore,
    StaleRecordError,
    SyncRecord,
    SyncState,
)
from qbsync.usecases.name_claims import NameClaims, NameTakenError, held_name, name_key_of
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)

RECORD_LINKED = "record.linked"
RECORD_UNLINKED = "record.unlinked"
SAVE_ATTEMPTS = 3
PAGE = 500  # records read at a time when all links of a type are cleared
# Online's Id is digits; Desktop's ListID is hex digits and a dash ("80000001-1234567890").
QUICKBOOKS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
QUICKBOOKS_ID_FIELD = "quickbooks_id"


class LinkRefusedError(ConflictError):
    """The record cannot be linked to that object (HTTP 409); its one problem says why, with a code."""

    def __init__(self, detail: str, code: str, actions: tuple[str, ...] = ()) -> None:
        super().__init__(detail, code)
        self.problems = [FieldProblem(QUICKBOOKS_ID_FIELD, detail, code, actions=actions)]


class NotLinkableError(DomainError):
    """Records of this type are not linked to QuickBooks objects (HTTP 400)."""

    title = "Not linkable"


class ConfirmationRequiredError(DomainError):
    """A request that changes many records at once was sent without its confirmation (HTTP 400)."""

    title = "Confirmation required"


def asked_quickbooks_id(value: object) -> str | None:
    """The `quickbooks_id` a push carries beside the record's fields (None: not given); InvalidInputError
    when it is not a QuickBooks id."""
    if value is None:
        return None
    if not isinstance(value, str) or not QUICKBOOKS_ID.fullmatch(value):
        raise InvalidInputError(
            "The quickbooks_id is not a QuickBooks id.",
            [
                FieldProblem(
                    QUICKBOOKS_ID_FIELD,
                    "Give the id of an object of the company's lists as GET /v1/tenants/{id}/quickbooks/"
                    "{type} shows it: 1 to 64 letters, digits or '-'.",
                    "invalid",
                )
            ],
        )
    return value


@dataclass(frozen=True)
class Cleared:
    """What clearing the links of a type did: records unlinked, and records left linked with why."""

    unlinked: int
    left: dict[str, int]  # reason ("being_sent", "deleted") -> records


@dataclass
class Linking:
    """What makes a record an object QuickBooks has, wherever the link is decided: the link route, a push
    with a quickbooks_id, and the sync engine finding the record's key in the mirror before a create."""

    store: RecordStore
    events: EventPublisher
    clock: Clock

    def apply(
        self, record: SyncRecord, entry: ListEntry, before: SyncRecord | None, why: str = ""
    ) -> str | None:
        """Make `record` (the version about to be saved over `before`; None: a new one) that object, synced
        at its revision, reserving the name QuickBooks has for it; the name key it gives up once saved.
        `why` ends the history's line ("same email"). LinkRefusedError if another record holds that name."""
        now = self.clock.now()
        record.quickbooks_id = entry.quickbooks_id
        record.quickbooks_version = entry.version or None
        own = _own_name(record)
        leaf = entry.name.rsplit(":", 1)[-1]  # a job's full name is "Parent:Child"; its own name is Child
        record.quickbooks_name = leaf if own is not None and leaf != own else None
        record.synced_revision = record.revision
        record.attempts = 0
        record.force = False
        record.move(SyncState.SYNCED, now, f"linked to {_object(entry)}" + (f": {why}" if why else ""))
        old = held_name(before) if before is not None else None
        if name_key_of(record) != old:
            try:
                NameClaims(self.store, self.clock).claim(record)
            except NameTakenError as taken:
                raise LinkRefusedError(
                    f"{_object(entry)} has a name another record holds: {taken.problem.message}",
                    "name_taken",
                    taken.problem.actions,
                ) from None
            return old
        return None

    def after_link(self, record: SyncRecord, released: str | None) -> None:
        """Once a link is saved: the name it left is free, and the host app is told."""
        NameClaims(self.store, self.clock).release(record, released, record.revision + 1)
        self.events.publish(RECORD_LINKED, record.tenant_id, _detail(record))
        log.info(
            "record linked",
            extra={
                "record_type": record.record_type,
                "record_id": record.record_id,
                "quickbooks_id": record.quickbooks_id,
            },
        )


@dataclass
class Links:
    tenants: TenantRepository
    store: RecordStore
    mirror: MirrorStore
    events: EventPublisher
    clock: Clock

    @property
    def _names(self) -> NameClaims:
        return NameClaims(self.store, self.clock)

    # ------------------------------------------------------------------ linking

    def link(self, tenant_id: str, record_type: str, record_id: str, quickbooks_id: str) -> SyncRecord:
        """Link the record to the object; linking it to the object it has already changes nothing."""
        get_tenant(self.tenants, tenant_id)
        linkable(record_type)
        for _ in range(SAVE_ATTEMPTS):
            record = self._existing(tenant_id, record_type, record_id)
            entry = self.entry_to_link(record.tenant_id, record.record_type, record, quickbooks_id)
            if entry is None:
                return record
            linked = record.copy()
            released = self.apply(linked, entry, record)
            try:
                self.store.save(linked, record.revision, record.state)
            except StaleRecordError:
                continue  # changed meanwhile (a send, a push): decide again
            self.after_link(linked, released)
            return linked
        raise ConflictError(f"{record_type}/{record_id} kept changing while it was linked; try again.")

    def entry_to_link(
        self, tenant_id: str, record_type: str, record: SyncRecord | None, quickbooks_id: str
    ) -> ListEntry | None:
        """The mirror's entry the record (None: a new one) may be linked to; None when it is linked to that
        object already. LinkRefusedError says why it may not."""
        list_type = linkable(record_type)
        if record is not None:
            if record.quickbooks_id == quickbooks_id:
                return None
            _check_record(record)
        entry = self._entry(tenant_id, list_type, record_type, quickbooks_id)
        what = _object(entry)
        if not entry.active:
            raise LinkRefusedError(
                f"{what} is inactive; make it active in QuickBooks, then link it.",
                "inactive",
                (ACTIVATE_IN_QUICKBOOKS,),
            )
        holder = self.store.find_by_quickbooks_id(tenant_id, record_type, quickbooks_id)
        if holder is not None and (record is None or holder.key != record.key):
            raise LinkRefusedError(
                f"{what} is already linked to {record_type} {holder.record_id!r}; unlink that one first.",
                "linked_elsewhere",
                ("unlink",),
            )
        return entry

    def apply(self, record: SyncRecord, entry: ListEntry, before: SyncRecord | None) -> str | None:
        """`Linking.apply`."""
        return Linking(self.store, self.events, self.clock).apply(record, entry, before)

    def after_link(self, record: SyncRecord, released: str | None) -> None:
        """`Linking.after_link`."""
        Linking(self.store, self.events, self.clock).after_link(record, released)

    # ------------------------------------------------------------------ unlinking

    def unlink(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord:
        """Forget the record's QuickBooks object (nothing changes in QuickBooks); a record without one is
        answered as it is."""
        get_tenant(self.tenants, tenant_id)
        linkable(record_type)
        for _ in range(SAVE_ATTEMPTS):
            record = self._existing(tenant_id, record_type, record_id)
            if record.quickbooks_id is None:
                return record
            _check_unlinkable(record)
            unlinked = self._unlinked(record)
            if unlinked is not None:
                self._tell_unlinked([(unlinked, record.quickbooks_id)])
                return unlinked
        raise ConflictError(f"{record_type}/{record_id} kept changing while it was unlinked; try again.")

    def clear(self, tenant_id: str, record_type: str, *, confirm: bool) -> Cleared:
        """Unlink every record of the type that has a QuickBooks object, page by page; without `confirm`,
        ConfirmationRequiredError says what it would do."""
        get_tenant(self.tenants, tenant_id)
        linkable(record_type)
        if not confirm:
            count = self.linked_count(tenant_id, record_type)
            raise ConfirmationRequiredError(
                f"This unlinks all {count} {record_type} records of tenant {tenant_id!r} that have a "
                "QuickBooks object (nothing is changed in QuickBooks; each waits as a draft to be sent or "
                "linked again). Send confirm=true to do it."
            )
        unlinked = 0
        left: dict[str, int] = {}
        batch: list[tuple[SyncRecord, str | None]] = []
        for record in self._linked_records(tenant_id, record_type):
            done = self._unlinked_or_why(record)
            if isinstance(done, str):
                left[done] = left.get(done, 0) + 1
                continue
            batch.append(done)
            unlinked += 1
            if len(batch) >= PAGE:
                self._tell_unlinked(batch)
                batch = []
        self._tell_unlinked(batch)
        log.info(
            "links cleared",
            extra={"tenant_id": tenant_id, "record_type": record_type, "unlinked": unlinked, "left": left},
        )
        return Cleared(unlinked, left)

    def linked_count(self, tenant_id: str, record_type: str) -> int:
        """How many records of the type have a QuickBooks object: what clearing the type's links concerns."""
        get_tenant(self.tenants, tenant_id)
        linkable(record_type)
        return sum(1 for _ in self._linked_records(tenant_id, record_type))

    def _linked_records(self, tenant_id: str, record_type: str) -> Iterator[SyncRecord]:
        cursor: str | None = None
        while True:
            page = self.store.list(tenant_id, record_type, RecordFilter(), PAGE, cursor)
            yield from (r for r in page.items if r.quickbooks_id is not None)
            cursor = page.next_cursor
            if cursor is None:
                return

    def _unlinked_or_why(self, record: SyncRecord) -> tuple[SyncRecord, str | None] | str:
        """Unlink one record of a clearing, read again while it changes: it and the QuickBooks id it had, or
        the code of why not."""
        for _ in range(SAVE_ATTEMPTS):
            try:
                _check_unlinkable(record)
            except LinkRefusedError as refused:
                return refused.problems[0].code
            unlinked = self._unlinked(record)
            if unlinked is not None:
                return unlinked, record.quickbooks_id
            current = self.store.get(record.tenant_id, record.record_type, record.record_id)
            if current is None or current.quickbooks_id is None:
                return "changed"
            record = current
        return "changed"

    def _unlinked(self, record: SyncRecord) -> SyncRecord | None:
        """Save the record without its QuickBooks object; None when it changed since it was read."""
        now = self.clock.now()
        entry = self.mirror.get_many(
            record.tenant_id, linkable(record.record_type), [record.quickbooks_id or ""]
        ).get(record.quickbooks_id or "")
        what = (
            _object(entry)
            if entry
            else f"QuickBooks {record.record_type.replace('_', ' ')} {record.quickbooks_id}"
        )
        unlinked = record.copy()
        unlinked.quickbooks_id = unlinked.quickbooks_version = unlinked.quickbooks_name = None
        unlinked.synced_revision = unlinked.attempts = 0
        unlinked.force = False
        unlinked.generation += 1
        unlinked.move(
            SyncState.DRAFT,
            now,
            f"unlinked from {what}, which stays in QuickBooks as it is; send it to create it in QuickBooks, "
            "or link it",
        )
        old = held_name(record)
        if name_key_of(unlinked) != old:
            try:
                self._names.claim(unlinked)
            except NameTakenError as taken:
                unlinked.fail(
                    Failure("name_clash", taken.problem.message, taken.problem.actions, taken.problem.field),
                    now,
                )
        try:
            self.store.save(unlinked, record.revision, record.state)
        except StaleRecordError:
            return None
        self._names.release(unlinked, old if name_key_of(unlinked) != old else None, record.revision + 1)
        return unlinked

    def _tell_unlinked(self, unlinked: list[tuple[SyncRecord, str | None]]) -> None:
        """Tell each record unlinked, with the QuickBooks id it had (`unlinked_from`)."""
        if unlinked:
            told: list[tuple[str, dict[str, object]]] = [
                (RECORD_UNLINKED, {**_detail(r), "unlinked_from": old}) for r, old in unlinked
            ]
            self.events.publish_many(unlinked[0][0].tenant_id, told)

    # ------------------------------------------------------------------ internals

    def _existing(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord:
        record = self.store.get(tenant_id, record_type, record_id)
        if record is None:
            raise NotFoundError(f"Tenant {tenant_id!r} has no {record_type} {record_id!r}.")
        return record

    def _entry(self, tenant_id: str, list_type: ListType, record_type: str, quickbooks_id: str) -> ListEntry:
        """The object of the mirror's list; LinkRefusedError saying what it is instead, or that the list was
        never read."""
        entry = self.mirror.get_many(tenant_id, list_type, [quickbooks_id]).get(quickbooks_id)
        if entry is not None:
            return entry
        mark = self.mirror.marks(tenant_id).get(list_type)
        if mark is None or not mark.loaded:
            raise LinkRefusedError(
                f"qbsync has not read the company's {list_type.value} list from QuickBooks yet, so it cannot "
                f"tell whether {quickbooks_id} is one of them; link it once the list is read.",
                "list_not_read",
                ("retry_later",),
            )
        others = [
            found
            for other in ListType
            if other is not list_type
            for found in self.mirror.get_many(tenant_id, other, [quickbooks_id]).values()
        ]
        if others:
            kinds = " and ".join(_object(o) for o in others)
            raise LinkRefusedError(
                f"QuickBooks has no {record_type} {quickbooks_id}: that id is {kinds}, which a "
                f"{record_type} cannot be linked to.",
                "other_kind",
            )
        raise LinkRefusedError(
            f"QuickBooks has no {record_type} {quickbooks_id} (as of qbsync's last read of its "
            f"{list_type.value} list); pick one from "
            f"GET /v1/tenants/{tenant_id}/quickbooks/{list_type.value}.",
            "not_in_quickbooks",
        )


def linkable(record_type: str) -> ListType:
    """The list a record type's records are linked to; NotFoundError for an unknown type, NotLinkableError
    for the types that are not linked."""
    if record_type not in RECORD_TYPES:
        raise NotFoundError(f"Unknown record type {record_type!r}; one of {', '.join(RECORD_TYPES)}.")
    list_type = LIST_OF_RECORD_TYPE.get(record_type)
    if list_type is None:
        kinds = ", ".join(sorted(LIST_OF_RECORD_TYPE))
        raise NotLinkableError(
            f"{record_type.replace('_', ' ').capitalize()} records are not linked to QuickBooks objects; "
            f"only {kinds} are."
        )
    return list_type


def _check_record(record: SyncRecord) -> None:
    """Whether the record itself may be linked: LinkRefusedError if not."""
    key = f"{record.record_type} {record.record_id!r}"
    if record.operation is Operation.DELETE or record.state is SyncState.VOIDED:
        raise LinkRefusedError(f"{key} was deleted; push it again with force=true first.", "deleted")
    if record.state is SyncState.SYNCING:
        raise LinkRefusedError(
            f"{key} is being sent to QuickBooks right now (a send is in flight); link it once it settles.",
            "being_sent",
            ("retry_later",),
        )
    if record.quickbooks_id is not None:
        raise LinkRefusedError(
            f"{key} already has a QuickBooks object of its own ({record.record_type} "
            f"{record.quickbooks_id}, created by qbsync or linked earlier); unlink it first.",
            "has_its_own",
            ("unlink",),
        )
    if record.attempts and record.operation is Operation.UPSERT:
        raise LinkRefusedError(
            f"{key} was sent to QuickBooks without a known outcome, so QuickBooks may have it already; "
            "link it once the next sync has looked it up.",
            "outcome_unknown",
            ("retry_later",),
        )


def _check_unlinkable(record: SyncRecord) -> None:
    key = f"{record.record_type} {record.record_id!r}"
    if record.state is SyncState.SYNCING:
        raise LinkRefusedError(
            f"{key} is being sent to QuickBooks right now (a send is in flight); unlink it once it settles.",
            "being_sent",
            ("retry_later",),
        )
    if record.operation is Operation.DELETE:
        raise LinkRefusedError(
            f"{key} was deleted in the host app; it stays linked to what it left in QuickBooks.", "deleted"
        )


def _own_name(record: SyncRecord) -> str | None:
    name_field = RECORD_TYPES[record.record_type].name_field
    name = record.data.get(name_field) if name_field else None
    return name if isinstance(name, str) else None


def _object(entry: ListEntry) -> str:
    """How an object is named to the tenant: "QuickBooks customer 58 (Acme Ltd)"."""
    return f"QuickBooks {entry.list_type.value.replace('_', ' ')} {entry.quickbooks_id} ({entry.name})"


def _detail(record: SyncRecord) -> dict[str, object]:
    detail: dict[str, object] = {
        "record_type": record.record_type,
        "record_id": record.record_id,
        "state": record.state.value,
        "revision": record.revision,
        "quickbooks_id": record.quickbooks_id,
    }
    if record.quickbooks_name is not None:
        detail["quickbooks_name"] = record.quickbooks_name
    return detail
