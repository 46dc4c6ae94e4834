"""An in-memory mirror of the QuickBooks lists (`domain.mirror.MirrorStore`), for use-case tests. It keeps the
contract the DynamoDB adapter keeps (tests/adapters/test_mirror_store.py runs both)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from qbsync.domain.errors import FieldProblem, InvalidInputError
from qbsync.domain.mirror import ListEntry, ListFilter, ListType, MatchKey, ReadMark, fold, key_value
from qbsync.domain.paging import Page

CURSOR_PREFIX = "mirror:"


def order_key(entry: ListEntry) -> str:
    """The listing's order: by folded name, then id (NUL sorts below every character a name can hold)."""
    return f"{fold(entry.name)}\x00{entry.quickbooks_id}"


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
        after = ""
        if cursor is not None:
            if not cursor.startswith(CURSOR_PREFIX):
                raise InvalidInputError("Bad cursor", [FieldProblem("cursor", "not issued by this listing")])
            after = cursor.removeprefix(CURSOR_PREFIX)
        with self.lock:
            ordered = sorted(self._list(tenant_id, list_type).values(), key=order_key)
        kept = [e for e in ordered if order_key(e) > after and keep.keeps(e)]
        items = kept[:limit]
        more = len(kept) > limit
        return Page(items, CURSOR_PREFIX + order_key(items[-1]) if more else None)

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
        with self.lock:
            self.read_marks.setdefault(tenant_id, {})[mark.list_type] = mark
