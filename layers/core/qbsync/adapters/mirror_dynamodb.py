"""The mirror of the QuickBooks lists in DynamoDB (`domain.mirror.MirrorStore`).

Every item lives in the tenant's partition, pk = TENANT#{tenant_id}; by sk:
- `QB#{list_type}#{quickbooks_id}`: one ListEntry, its `as_dict` values as attributes (Decimal as a string,
  times in ISO 8601 with their offset; None left out, so an item written before a field existed, such as
  `created_at`, reads it as None). The listing by name is GSI1:
  gsi1pk = TENANT#{tenant_id}#QB#{list_type}, gsi1sk = {fold(name)}<U+0000>{quickbooks_id}. DynamoDB orders
  strings by their UTF-8 bytes and U+0000 sorts below every character a name can hold, so "Acme" lists
  before "Acme Inc" (with "#" between them, " " < "#" would list "Acme Inc" first). A sort key holds at most
  1,024 bytes ("Partition key and sort key length", DynamoDB Developer Guide, quotas; the same for an
  index's keys): ids are held to ID_BYTES_MAX and the folded name is cut, at a character, to the bytes the
  id leaves (at least 768), so names alike that far list by id.
- `QBKEY#{list_type}#{email|sku}#{sha256 of the folded value}#{quickbooks_id}`: quickbooks_id; one item per
  entry and match key it has a value for, so `find` is one query of the partition (the table's one GSI
  already orders the listing). The digest keeps a long or odd value within the sort key; the entry read
  back is checked to still have the value, so an index item left by a write cut short finds nothing. A put
  writes the new index items, then the entries, then deletes the index items whose value changed; a
  removal deletes the entries, then their index items.
- `QB#MARKS`: how far each list has been read, one attribute per list type: {loaded, through}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qbsync.adapters.dynamodb import (
    GSI1,
    aware_timestamp,
    decode_cursor_within,
    encode_cursor,
    query_page,
    query_prefix,
    read_item,
    read_many,
    to_item,
    write_many,
)
from qbsync.domain.mirror import (
    ListEntry,
    ListFilter,
    ListType,
    MatchKey,
    ReadMark,
    fold,
    key_value,
)
from qbsync.domain.paging import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SORT_KEY_BYTES = 1024  # DynamoDB's limit on a sort key, the index's included (see the module's docstring)
# QuickBooks ids are far shorter: Online's Id is a number, Desktop's ListID is like "80000001-1234567890".
ID_BYTES_MAX = 255
SEPARATOR = "\x00"
MARKS_SK = "QB#MARKS"
ENTRY_FIELDS = tuple(f.name for f in fields(ListEntry))
KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _entry_prefix(list_type: ListType) -> str:
    return f"QB#{list_type.value}#"


def _entry_key(tenant_id: str, list_type: ListType, quickbooks_id: str) -> dict[str, str]:
    return {"pk": _partition(tenant_id), "sk": f"{_entry_prefix(list_type)}{quickbooks_id}"}


def _listing(tenant_id: str, list_type: ListType) -> str:
    return f"TENANT#{tenant_id}#QB#{list_type.value}"


def _name_key(entry: ListEntry) -> str:
    """The listing's sort key: the folded name, cut at a character to the bytes the id leaves, then the id."""
    tail = f"{SEPARATOR}{entry.quickbooks_id}"
    room = SORT_KEY_BYTES - len(tail.encode())
    name = fold(entry.name).encode()[:room].decode(errors="ignore")
    return name + tail


def _match_prefix(list_type: ListType, key: MatchKey, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"QBKEY#{list_type.value}#{key.value}#{digest}#"


def _match_items(tenant_id: str, entry: ListEntry) -> dict[tuple[str, str], dict[str, Any]]:
    """The entry's index items by (pk, sk): one per match key it has a value for."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for key in MatchKey:
        value = key_value(entry, key)
        if value is not None:
            sk = _match_prefix(entry.list_type, key, value) + entry.quickbooks_id
            items[(_partition(tenant_id), sk)] = {
                "pk": _partition(tenant_id),
                "sk": sk,
                "quickbooks_id": entry.quickbooks_id,
            }
    return items


def _entry_item(tenant_id: str, entry: ListEntry) -> dict[str, Any]:
    if len(entry.quickbooks_id.encode()) > ID_BYTES_MAX:
        raise ValueError(
            f"QuickBooks id {entry.quickbooks_id[:40]!r}... is over {ID_BYTES_MAX} bytes, too long for a key"
        )
    return {
        **_entry_key(tenant_id, entry.list_type, entry.quickbooks_id),
        "gsi1pk": _listing(tenant_id, entry.list_type),
        "gsi1sk": _name_key(entry),
        **entry.as_dict(),
    }


def _entry(values: dict[str, Any]) -> ListEntry:
    return ListEntry.from_dict({k: values[k] for k in ENTRY_FIELDS if k in values})


class DynamoMirrorStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get_many(
        self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]
    ) -> dict[str, ListEntry]:
        keys = [_entry_key(tenant_id, list_type, i) for i in quickbooks_ids]
        found = read_many(self._client, self._table, keys, f"{list_type.value} entries of {tenant_id!r}")
        entries = (_entry(values) for values in found.values())
        return {e.quickbooks_id: e for e in entries}

    def put_many(self, tenant_id: str, entries: Sequence[ListEntry]) -> None:
        latest = {(e.list_type, e.quickbooks_id): e for e in entries}  # the last of an entry given twice
        items = [_entry_item(tenant_id, e) for e in latest.values()]  # refused before anything is written
        keys = [_entry_key(tenant_id, t, i) for t, i in latest]
        stored = read_many(self._client, self._table, keys, f"entries of {tenant_id!r} being replaced")
        old: dict[tuple[str, str], dict[str, Any]] = {}
        new: dict[tuple[str, str], dict[str, Any]] = {}
        for values in stored.values():
            old |= _match_items(tenant_id, _entry(values))
        for entry in latest.values():
            new |= _match_items(tenant_id, entry)
        what = f"mirror items of {tenant_id!r}"
        write_many(self._client, self._table, [new[k] for k in new.keys() - old.keys()], what=what)
        write_many(self._client, self._table, items, what=what)
        stale = [{"pk": pk, "sk": sk} for pk, sk in old.keys() - new.keys()]
        write_many(self._client, self._table, deletes=stale, what=what)

    def remove(self, tenant_id: str, list_type: ListType, quickbooks_ids: Sequence[str]) -> None:
        keys = [_entry_key(tenant_id, list_type, i) for i in quickbooks_ids]
        stored = read_many(self._client, self._table, keys, f"entries of {tenant_id!r} being removed")
        index: dict[tuple[str, str], dict[str, Any]] = {}
        for values in stored.values():
            index |= _match_items(tenant_id, _entry(values))
        what = f"mirror items of {tenant_id!r}"
        entries = [{"pk": pk, "sk": sk} for pk, sk in stored]
        write_many(self._client, self._table, deletes=entries, what=what)
        write_many(self._client, self._table, deletes=[{"pk": pk, "sk": sk} for pk, sk in index], what=what)

    def page(
        self, tenant_id: str, list_type: ListType, keep: ListFilter, limit: int, cursor: str | None
    ) -> Page[ListEntry]:
        """DynamoDB applies a query's Limit before any filter, and folding (accents) is not one it has: the
        filter is applied here, reading on until limit + 1 entries are kept or the list ends, so the page
        says exactly whether more follow and its cursor is the key of its last entry."""
        listing = _listing(tenant_id, list_type)
        query: dict[str, Any] = {
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": to_item({":p": listing}),
        }
        if cursor is not None:
            exact = {"pk": _partition(tenant_id), "gsi1pk": listing}
            prefixes = {"sk": _entry_prefix(list_type)}
            query["ExclusiveStartKey"] = decode_cursor_within(cursor, set(KEYS), exact, prefixes)
        filtered = keep != ListFilter()
        items, more = query_page(
            self._client,
            self._table,
            limit,
            keep=(lambda values: keep.keeps(_entry(values))) if filtered else None,
            **query,
        )
        return Page([_entry(v) for v in items], self._cursor(items[-1]) if more else None)

    def cursor_after(self, tenant_id: str, entry: ListEntry) -> str:
        return self._cursor(_entry_item(tenant_id, entry))

    @staticmethod
    def _cursor(values: dict[str, Any]) -> str:
        cursor = encode_cursor(to_item({k: values[k] for k in KEYS}))
        assert cursor is not None  # a key is never empty
        return cursor

    def entries(self, tenant_id: str, list_type: ListType) -> Iterator[ListEntry]:
        for values in self._query_partition(tenant_id, _entry_prefix(list_type)):
            yield _entry(values)

    def find(self, tenant_id: str, list_type: ListType, key: MatchKey, value: str) -> list[ListEntry]:
        wanted = fold(value).strip()
        if not wanted:
            return []
        index = self._query_partition(tenant_id, _match_prefix(list_type, key, wanted))
        found = self.get_many(tenant_id, list_type, [str(v["quickbooks_id"]) for v in index])
        return sorted(
            (e for e in found.values() if key_value(e, key) == wanted), key=lambda e: e.quickbooks_id
        )

    def _query_partition(self, tenant_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        return query_prefix(self._client, self._table, _partition(tenant_id), prefix)

    def marks(self, tenant_id: str) -> dict[ListType, ReadMark]:
        values = read_item(self._client, self._table, {"pk": _partition(tenant_id), "sk": MARKS_SK})
        marks: dict[ListType, ReadMark] = {}
        for list_type in ListType:
            mark = (values or {}).get(list_type.value)
            if mark is not None:
                through, read_at = mark.get("through"), mark.get("read_at")
                marks[list_type] = ReadMark(
                    list_type,
                    bool(mark["loaded"]),
                    datetime.fromisoformat(through) if through else None,
                    datetime.fromisoformat(read_at) if read_at else None,
                )
        return marks

    def save_mark(self, tenant_id: str, mark: ReadMark) -> None:
        """One attribute of the marks item, set on its own: two lists read at once never undo each other."""
        value: dict[str, Any] = {"loaded": mark.loaded}
        if mark.through is not None:
            value["through"] = aware_timestamp(mark.through)
        if mark.read_at is not None:
            value["read_at"] = aware_timestamp(mark.read_at)
        self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": _partition(tenant_id), "sk": MARKS_SK}),
            UpdateExpression="SET #list = :mark",
            ExpressionAttributeNames={"#list": mark.list_type.value},
            ExpressionAttributeValues=to_item({":mark": value}),
        )
