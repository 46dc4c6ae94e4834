"""An in-memory mirror of the QuickBooks lists (`domain.mirror.MirrorStore`), for use-case tests. It keeps the
contract the DynamoDB adapter keeps (tests/adapters/test_mirror_store.py runs both)."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from qbsync.domain.errors import FieldProblem, InvalidInputError
from qbsync.domain.mirror import ListEntry, ListFilter, ListType, MatchKey, ReadMark, fold, key_value
from qbsync.domain.paging import Page


def order_key(entry: ListEntry) -> str:
    """The listing's order: by folded name, then id (NUL sorts below every character a name can hold)."""
    return f"{fold(entry.name)}\x00{entry.quickbooks_id}"


def encode_cursor(listing: list[str], after: str) -> str:
    """A cursor of `listing` (tenant, and what it lists) resuming after the order key `after`."""
    return base64.urlsafe_b64encode(json.dumps([*listing, after]).encode()).decode()


def decode_cursor(cursor: str, listing: list[str]) -> str:
    """The order key a cursor of `listing` (tenant, and what it lists) resumes after; a cursor of another
    listing, or none of this store's, is refused as the API refuses it."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != 3
        or values[:2] != listing
        or not isinstance(values[2], str)
    ):
        raise InvalidInputError(
            "The cursor is not one this API issued.",
            [FieldProblem("cursor", "Pass back the next_cursor value of the previous page unchanged.")],
        )
    return values[2]


@dataclass
class InMemoryMirror:
    entries_by: dict[tuple[str, ListType], dict[str, ListEntry]] = field(default_factory=dict)
    read_marks: dict[str, dict[ListType, ReadMark]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _list(self, tenant_id: str, list_type: ListType) -> dict[str, ListEntry]:
        return self.entries_by.setdefault((tenant_id, list_type), {})

    def get_many(
        self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]
    ) -> dict[str, ListEntry]:
        with self.lock:
            stored = self._list(tenant_id, list_type)
            return {i: stored[i] for i in quickbooks_ids if i in stored}

    def put_many(self, tenant_id: str, entries: Sequence[ListEntry]) -> None:
        with self.lock:
            for entry in entries:
                self._list(tenant_id, entry.list_type)[entry.quickbooks_id] = entry

    def remove(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> None:
        with self.lock:
            stored = self._list(tenant_id, list_type)
            for i in quickbooks_ids:
                stored.pop(i, None)

    def page(
        self, tenant_id: str, list_type: ListType, keep: ListFilter, limit: int, cursor: str | None
    ) -> Page[ListEntry]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        after = decode_cursor(cursor, [tenant_id, list_type.value]) if cursor is not None else ""
        with self.lock:
            ordered = sorted(self._list(tenant_id, list_type).values(), key=order_key)
        kept = [e for e in ordered if order_key(e) > after and keep.keeps(e)]
        items = kept[:limit]
        more = len(kept) > limit
        return Page(items, self.cursor_after(tenant_id, items[-1]) if more else None)

    def cursor_after(self, tenant_id: str, entry: ListEntry) -> str:
        return encode_cursor([tenant_id, entry.list_type.value], order_key(entry))

    def entries(self, tenant_id: str, list_type: ListType) -> Iterator[ListEntry]:
        with self.lock:
            return iter(list(self._list(tenant_id, list_type).values()))

    def find(self, tenant_id: str, list_type: ListType, key: MatchKey, value: str) -> list[ListEntry]:
        wanted = fold(value).strip()
        with self.lock:
            return [e for e in self._list(tenant_id, list_type).values() if key_value(e, key) == wanted]

    def marks(self, tenant_id: str) -> dict[ListType, ReadMark]:
        with self.lock:
            return dict(self.read_marks.get(tenant_id, {}))

    def save_mark(self, tenant_id: str, mark: ReadMark) -> None:
        for at in (mark.through, mark.read_at):
            if at is not None and at.utcoffset() is None:
                raise ValueError(f"{at!r} has no time zone; stored times must carry one")
        with self.lock:
            self.read_marks.setdefault(tenant_id, {})[mark.list_type] = mark


def read_whole(mirror: InMemoryMirror, tenant_id: str) -> InMemoryMirror:
    """`mirror` with every list of the tenant read whole (an empty company, until entries are put): the
    engine then looks creates up in it instead of waiting for the lists to be read."""
    for list_type in ListType:
        mirror.save_mark(tenant_id, ReadMark(list_type, loaded=True))
    return mirror
