"""In-memory RecordStore, EventFeed and TenantLease with the contract of the DynamoDB adapters
(records_dynamodb.py): conditional saves (StaleRecordError), the same listing orders, exact cursors that other
listings refuse, QuickBooks id mappings, name claims, per-tenant event ids, leases and run requests. Stored
values go through the same conversions (data through JSON, times to UTC, naive times refused), so what a use
case reads back here is what it would read back from DynamoDB. tests/adapters/test_records_dynamodb.py runs
the same tests on both."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from qbsync.domain.errors import FieldProblem, InvalidInputError
from qbsync.domain.paging import Page
from qbsync.domain.payments import Told
from qbsync.domain.records import RecordFilter
from qbsync.domain.sync import (
    Failure,
    NameClaim,
    Operation,
    RunNote,
    StaleRecordError,
    SyncEvent,
    SyncRecord,
    SyncState,
    Transition,
)
from tests.unit.fakes import InMemoryLease

EVENT_ID = re.compile(r"[0-9]{12}")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone; sync state keeps aware times only")
    return at.astimezone(UTC)


def _stamp(at: datetime) -> str:
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stored(record: SyncRecord) -> SyncRecord:
    """A copy as storage gives it back: nothing shared with the caller's object."""
    failure = record.failure
    return replace(
        record,
        data=json.loads(json.dumps(record.data, ensure_ascii=False, allow_nan=False)),
        state=SyncState(record.state),
        operation=Operation(record.operation),
        updated_at=_utc(record.updated_at),
        failure=Failure.from_dict(failure.as_dict()) if failure else None,
        waiting_for=tuple(record.waiting_for),
        history=[Transition(SyncState(t.state), _utc(t.at), t.detail) for t in record.history],
    )


def _bad_cursor() -> InvalidInputError:
    return InvalidInputError(
        "The cursor is not one this API issued.",
        [FieldProblem("cursor", "Pass back the next_cursor value of the previous page unchanged.")],
    )


def _encode(listing: list[str], last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([listing, last]).encode()).decode()


def _decode(cursor: str, listing: list[str]) -> str:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if (
        not isinstance(values, list)
        or len(values) != 2
        or values[0] != listing
        or not isinstance(values[1], str)
    ):
        raise _bad_cursor()
    return values[1]


def _page(
    sorted_items: list[tuple[str, SyncRecord]], listing: list[str], limit: int, cursor: str | None
) -> Page[SyncRecord]:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if cursor is not None:
        last = _decode(cursor, listing)
        sorted_items = [(k, r) for k, r in sorted_items if k > last]
    page = sorted_items[:limit]
    more = len(sorted_items) > limit
    return Page([_stored(r) for _, r in page], _encode(listing, page[-1][0]) if more else None)


@dataclass
class InMemoryRecordStore:
    records: dict[tuple[str, str, str], SyncRecord] = field(default_factory=dict)
    # (tenant, type, QuickBooks id) -> record id, and (tenant, name key) -> its claim
    quickbooks_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)
    names: dict[tuple[str, str], NameClaim] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord | None:
        with self.lock:
            found = self.records.get((tenant_id, record_type, record_id))
            return _stored(found) if found else None

    def get_many(self, tenant_id: str, keys: list[tuple[str, str]]) -> dict[str, SyncRecord]:
        with self.lock:
            found = (self.records.get((tenant_id, t, i)) for t, i in dict.fromkeys(keys))
            return {r.key: _stored(r) for r in found if r is not None}

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        stored = _stored(record)  # refuses what storage would refuse, before anything changes
        key = (record.tenant_id, record.record_type, record.record_id)
        with self.lock:
            current = self.records.get(key)
            if expected_revision is None:
                if current is not None:
                    raise StaleRecordError(f"Record {record.key} exists already; read it again.")
            elif (
                current is None
                or current.revision != expected_revision
                or (expected_state is not None and current.state is not expected_state)
            ):
                raise StaleRecordError(f"Record {record.key} changed since it was read; read it again.")
            old_quickbooks_id = current.quickbooks_id if current else None
            if old_quickbooks_id != record.quickbooks_id:
                old = (record.tenant_id, record.record_type, old_quickbooks_id or "")
                if old_quickbooks_id and self.quickbooks_ids.get(old) == record.record_id:
                    del self.quickbooks_ids[old]
                if record.quickbooks_id:
                    self.quickbooks_ids[(record.tenant_id, record.record_type, record.quickbooks_id)] = (
                        record.record_id
                    )
            self.records[key] = stored

    def save_all(self, saves: Sequence[tuple[SyncRecord, int | None, SyncState | None]]) -> list[bool]:
        for record, _, _ in saves:
            _stored(record)  # refuses what storage would refuse, before anything changes
        results = []
        for record, expected_revision, expected_state in saves:
            try:
                self.save(record, expected_revision, expected_state)
            except StaleRecordError:
                results.append(False)
            else:
                results.append(True)
        return results

    def in_state(self, tenant_id: str, state: SyncState, limit: int, cursor: str | None) -> Page[SyncRecord]:
        with self.lock:
            # The order of the adapter's index key: change time (UTC, fixed width), then type, then id.
            items = sorted(
                (f"{_stamp(r.updated_at)}#{r.record_type}#{r.record_id}", r)
                for (tenant, _, _), r in self.records.items()
                if tenant == tenant_id and r.state is state
            )
            return _page(items, [tenant_id, "state", state.value], limit, cursor)

    def newest_in_state(self, tenant_id: str, state: SyncState, limit: int) -> list[SyncRecord]:
        with self.lock:
            items = sorted(
                (
                    (f"{_stamp(r.updated_at)}#{r.record_type}#{r.record_id}", r)
                    for (tenant, _, _), r in self.records.items()
                    if tenant == tenant_id and r.state is state
                ),
                reverse=True,
            )
            return [_stored(r) for _, r in items[:limit]]

    def count_states(self, tenant_id: str) -> dict[str, dict[SyncState, int]]:
        with self.lock:
            counts: dict[str, dict[SyncState, int]] = {}
            for (tenant, record_type, _), r in self.records.items():
                if tenant == tenant_id:
                    per_type = counts.setdefault(record_type, {})
                    per_type[r.state] = per_type.get(r.state, 0) + 1
            return counts

    def list(
        self, tenant_id: str, record_type: str, where: RecordFilter, limit: int, cursor: str | None
    ) -> Page[SyncRecord]:
        with self.lock:
            items = sorted(
                (record_id, r)
                for (tenant, kind, record_id), r in self.records.items()
                if tenant == tenant_id and kind == record_type and where.keeps(r)
            )
            return _page(items, [tenant_id, "type", record_type], limit, cursor)

    def find_by_quickbooks_id(
        self, tenant_id: str, record_type: str, quickbooks_id: str
    ) -> SyncRecord | None:
        with self.lock:
            record_id = self.quickbooks_ids.get((tenant_id, record_type, quickbooks_id))
            record = self.records.get((tenant_id, record_type, record_id or ""))
            return _stored(record) if record and record.quickbooks_id == quickbooks_id else None

    def linked(self, tenant_id: str, record_type: str, quickbooks_ids: Sequence[str]) -> dict[str, str]:
        found = (self.find_by_quickbooks_id(tenant_id, record_type, i) for i in dict.fromkeys(quickbooks_ids))
        return {r.quickbooks_id: r.record_id for r in found if r is not None and r.quickbooks_id is not None}

    def claim_name(
        self, tenant_id: str, name_key: str, claim: NameClaim, replacing: NameClaim | None = None
    ) -> NameClaim | None:
        claim = replace(claim, at=_utc(claim.at))
        with self.lock:
            current = self.names.get((tenant_id, name_key))
            if (
                current is None
                or current == replacing
                or (current.owner == claim.owner and current.revision <= claim.revision)
            ):
                self.names[(tenant_id, name_key)] = claim
                return None
            return None if current.owner == claim.owner else current

    def release_name(self, tenant_id: str, name_key: str, owner: str, below_revision: int) -> None:
        with self.lock:
            current = self.names.get((tenant_id, name_key))
            if current is not None and current.owner == owner and current.revision < below_revision:
                del self.names[(tenant_id, name_key)]

    def name_claim(self, tenant_id: str, name_key: str) -> NameClaim | None:
        with self.lock:
            return self.names.get((tenant_id, name_key))


@dataclass
class InMemoryEventFeed:
    events: dict[str, list[SyncEvent]] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def append(self, event: SyncEvent) -> SyncEvent:
        # Stored as the bus sends it: values JSON cannot hold become strings.
        detail = json.loads(json.dumps(event.detail, ensure_ascii=False, allow_nan=False, default=str))
        at = _utc(event.at)
        with self.lock:
            seq = self.last_seq.get(event.tenant_id, 0) + 1
            self.last_seq[event.tenant_id] = seq
            stored = SyncEvent(event.type, event.tenant_id, at, detail, f"{seq:012d}")
            self.events.setdefault(event.tenant_id, []).append(stored)
        return replace(event, id=stored.id)

    def append_many(self, events: Sequence[SyncEvent]) -> list[SyncEvent]:
        if len({e.tenant_id for e in events}) > 1:
            raise ValueError("append_many takes the events of one tenant")
        for e in events:  # refuses what storage would refuse, before an id is taken
            _utc(e.at)
            json.dumps(e.detail, allow_nan=False, default=str)
        with self.lock:  # the ids of one call are consecutive, as one ADD of the counter makes them
            return [self.append(e) for e in events]

    def after(self, tenant_id: str, after: str | None, limit: int) -> Page[SyncEvent]:
        if after is not None and not EVENT_ID.fullmatch(after):
            raise InvalidInputError(
                "The event id is not one this feed issued.",
                [FieldProblem("after", "Pass the id of an event read from the feed, or nothing to start.")],
            )
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        with self.lock:
            newer = [e for e in self.events.get(tenant_id, []) if after is None or e.id > after]
        page = [replace(e, detail=json.loads(json.dumps(e.detail))) for e in newer[:limit]]
        return Page(page, page[-1].id if len(newer) > limit else None)


@dataclass
class InMemoryTenantLease(InMemoryLease):
    """The sync run's lease, keyed by tenant id, and the run requests beside it."""

    requests: dict[str, datetime] = field(default_factory=dict)  # tenant -> requested at

    def request_run(self, tenant_id: str, now: datetime, stale_after: timedelta) -> bool:
        now = _utc(now)
        with self.lock:
            requested = self.requests.get(tenant_id)
            if requested is not None and requested >= now - stale_after:
                return False
            self.requests[tenant_id] = now
            return True

    def take_request(self, tenant_id: str) -> None:
        with self.lock:
            self.requests.pop(tenant_id, None)

    def note(self, tenant_id: str) -> RunNote:
        with self.lock:
            held = self.leases.get(tenant_id)
            return RunNote(held[1] if held else None, self.requests.get(tenant_id))


@dataclass
class InMemoryPaymentLog:
    """What the host app was told of each payment, with the adapter's compare-and-set."""

    told_of: dict[tuple[str, str], Told] = field(default_factory=dict)
    until: dict[str, datetime] = field(default_factory=dict)

    def told(self, tenant_id: str, quickbooks_id: str) -> Told | None:
        return self.told_of.get((tenant_id, quickbooks_id))

    def tell(self, tenant_id: str, quickbooks_id: str, now: Told, before: Told | None) -> bool:
        if self.told_of.get((tenant_id, quickbooks_id)) != before:
            return False
        self.told_of[(tenant_id, quickbooks_id)] = now
        return True

    def pulled_until(self, tenant_id: str) -> datetime | None:
        return self.until.get(tenant_id)

    def advance(self, tenant_id: str, to: datetime) -> None:
        if tenant_id not in self.until or self.until[tenant_id] < to:
            self.until[tenant_id] = to

    def rewind(self, tenant_id: str, to: datetime) -> None:
        if tenant_id not in self.until or self.until[tenant_id] > to:
            self.until[tenant_id] = to
