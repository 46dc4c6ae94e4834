"""Sync state in DynamoDB: records, their QuickBooks ids and names, the event feed, the run lease.

Every item lives in the tenant's partition, pk = TENANT#{tenant_id}; by sk:
- `RECORD#{type}#{id}`: one SyncRecord. `data` is a JSON string (DynamoDB has no floats and the canonical data
  is JSON-ready already), `history` a list of maps, times fixed-width UTC strings. The state listing is GSI1:
  gsi1pk = TENANT#{tenant_id}#STATE#{state}, gsi1sk = {updated_at}#{type}#{id}, oldest change first.
- `QBOID#{type}#{quickbooks_id}`: record_id, the record QuickBooks knows by that id. Written before the
  record, the old one deleted after it; a mapping whose record does not carry that id (its save lost) finds
  nothing.
- `NAME#{sha256 of name_key}`: a NameClaim (owner "vendor/v-1", revision, claimed_at: which record reserves
  a customer, vendor or employee name, by which of its revisions, when) and name_key itself. A digest: a sort
  key holds at most 1,024 bytes ("Partition key and sort key length", DynamoDB Developer Guide, quotas), and
  500 characters (QuickBooks' limit) of emoji or CJK are 2,000 or 1,500 bytes of UTF-8.
- `EVENTSEQ`: seq, the tenant's last event number; an atomic ADD, so two appenders never share a number.
- `EVENT#{seq:012d}`: one event of the feed; `expires_at` (epoch seconds) lets the table's TTL drop it;
  `written_at` lets a reader wait for an id taken but not yet written, rather than pass it (`_settled`).
- `SYNC#RUN`: lease_owner and lease_until (the one sync run of the tenant), requested_at (a run asked for).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.dynamodb import (
    GSI1,
    decode_cursor_within,
    delete_if,
    encode_cursor,
    from_item,
    item_key,
    put_if,
    query_page,
    read_item,
    read_many,
    timestamp,
    to_item,
    write_many,
)
from qbsync.adapters.dynamodb import aware_timestamp as _utc
from qbsync.adapters.lease_dynamodb import SYNC_RUN_LEASE, DynamoLease
from qbsync.domain.errors import FieldProblem, InvalidInputError
from qbsync.domain.paging import Page
from qbsync.domain.records import RecordFilter
from qbsync.domain.sync import (
    Failure,
    FollowUp,
    FollowUpKind,
    NameClaim,
    Operation,
    RunNote,
    StaleRecordError,
    SyncEvent,
    SyncRecord,
    SyncState,
    Transition,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        PutTypeDef,
        TransactWriteItemTypeDef,
    )

    from qbsync.domain.ports import Clock

EVENT_RETENTION = timedelta(days=30)
SAVE_ATTEMPTS = 5  # a save retried while only the stored QuickBooks id moved under it
# TransactWriteItems: at most 100 actions and 4 MB ("Amazon DynamoDB quotas", API-specific limits).
TRANSACT_MAX = 100
TRANSACT_BYTES = 4_000_000
TRANSACT_ROUNDS = 8  # transactions of one chunk cancelled by conflicts or throttling before giving up loudly
CONDITION_FAILED = "ConditionalCheckFailed"
# Cancellation reasons that pass with a retry ("TransactWriteItems", DynamoDB API Reference, Errors).
TRANSACT_RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
EVENT_ID = re.compile(r"[0-9]{12}")
EVENT_LAST = "999999999999"


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _record_key(tenant_id: str, record_type: str, record_id: str) -> dict[str, str]:
    return {"pk": _partition(tenant_id), "sk": f"RECORD#{record_type}#{record_id}"}


def _qbo_key(tenant_id: str, record_type: str, quickbooks_id: str) -> dict[str, str]:
    return {"pk": _partition(tenant_id), "sk": f"QBOID#{record_type}#{quickbooks_id}"}


def _reservation_key(tenant_id: str, name_key: str) -> dict[str, str]:
    digest = hashlib.sha256(name_key.encode()).hexdigest()
    return {"pk": _partition(tenant_id), "sk": f"NAME#{digest}"}


def _state_partition(tenant_id: str, state: SyncState) -> str:
    return f"TENANT#{tenant_id}#STATE#{state.value}"


def _json(values: dict[str, Any]) -> str:
    """A record's data: JSON-ready already; anything else (a Decimal, a float NaN) is a bug, refused."""
    return json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _event_json(detail: dict[str, Any]) -> str:
    """An event's detail as the bus sends it (`default=str`): a feed reader and a subscriber see the same."""
    return json.dumps(detail, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def _record_item(record: SyncRecord) -> dict[str, Any]:
    failure, follow_up = record.failure, record.follow_up
    return {
        **_record_key(record.tenant_id, record.record_type, record.record_id),
        "gsi1pk": _state_partition(record.tenant_id, record.state),
        "gsi1sk": f"{_utc(record.updated_at)}#{record.record_type}#{record.record_id}",
        "tenant_id": record.tenant_id,
        "record_type": record.record_type,
        "record_id": record.record_id,
        "data": _json(record.data),
        "state": record.state.value,
        "updated_at": _utc(record.updated_at),
        "revision": record.revision,
        "operation": record.operation.value,
        # Stored under their first names (qbo_id, sync_token, qbo_name): the item layout is unchanged.
        "qbo_id": record.quickbooks_id,
        "sync_token": record.quickbooks_version,
        "qbo_name": record.quickbooks_name,
        "failure": failure.as_dict() if failure else None,
        "waiting_for": list(record.waiting_for),
        "history": [{"state": t.state.value, "at": _utc(t.at), "detail": t.detail} for t in record.history],
        "synced_revision": record.synced_revision,
        "attempts": record.attempts,
        "force": record.force,
        "follow_up": {"kind": follow_up.kind.value, "code": follow_up.code} if follow_up else None,
        "generation": record.generation,
    }


def _record(values: dict[str, Any]) -> SyncRecord:
    failure, follow_up = values.get("failure"), values.get("follow_up")
    return SyncRecord(
        tenant_id=values["tenant_id"],
        record_type=values["record_type"],
        record_id=values["record_id"],
        data=json.loads(values["data"]),
        state=SyncState(values["state"]),
        updated_at=datetime.fromisoformat(values["updated_at"]),
        revision=int(values["revision"]),
        operation=Operation(values["operation"]),
        quickbooks_id=values.get("qbo_id"),
        quickbooks_version=values.get("sync_token"),
        quickbooks_name=values.get("qbo_name"),
        failure=Failure.from_dict(failure) if failure else None,
        waiting_for=tuple(values.get("waiting_for", ())),
        history=[
            Transition(SyncState(t["state"]), datetime.fromisoformat(t["at"]), t["detail"])
            for t in values.get("history", ())
        ],
        synced_revision=int(values["synced_revision"]),
        attempts=int(values["attempts"]),
        force=bool(values["force"]),
        follow_up=FollowUp(FollowUpKind(follow_up["kind"]), follow_up["code"]) if follow_up else None,
        generation=int(values.get("generation", 0)),
    )


def _cursor(items: list[dict[str, Any]], more: bool, keys: tuple[str, ...]) -> str | None:
    return encode_cursor(to_item({k: items[-1][k] for k in keys})) if more else None


class _RecordConflictError(Exception):
    """The record's condition failed: read it again."""


def _names(condition: str) -> dict[str, str] | None:
    return {"#state": "state"} if "#state" in condition else None


def _new_mapping(item: dict[str, Any], old_quickbooks_id: str | None) -> dict[str, Any] | None:
    """The QuickBooks id mapping a save of `item` writes: when the record gets an id it did not have."""
    new_quickbooks_id: str | None = item["qbo_id"]
    if not new_quickbooks_id or new_quickbooks_id == old_quickbooks_id:
        return None
    return {
        **_qbo_key(item["tenant_id"], item["record_type"], new_quickbooks_id),
        "record_id": item["record_id"],
    }


@dataclass(frozen=True)
class _Save:
    """One record save as planned from the stored item read just before: its condition, and the QuickBooks id
    the stored record has (its mappings are kept right around the save)."""

    index: int  # in the caller's list
    item: dict[str, Any]
    condition: str
    values: dict[str, Any]
    old_quickbooks_id: str | None

    @classmethod
    def of(
        cls,
        index: int,
        item: dict[str, Any],
        expected_revision: int | None,
        expected_state: SyncState | None,
        stored: dict[str, Any] | None,
    ) -> _Save | None:
        """None when `stored` (None: not stored) shows the save is stale already."""
        if expected_revision is None:
            return cls(index, item, "attribute_not_exists(pk)", {}, None)
        if (
            stored is None
            or int(stored["revision"]) != expected_revision
            or (expected_state is not None and stored["state"] != expected_state.value)
        ):
            return None
        condition = "revision = :revision"
        values: dict[str, Any] = {":revision": expected_revision}
        if expected_state is not None:
            condition += " AND #state = :state"
            values[":state"] = expected_state.value
        # Another save of this revision may have moved the QuickBooks id: keep its mappings right.
        old_quickbooks_id: str | None = stored.get("qbo_id")
        if old_quickbooks_id is None:
            condition += " AND attribute_not_exists(qbo_id)"
        else:
            condition += " AND qbo_id = :old_quickbooks_id"
            values[":old_quickbooks_id"] = old_quickbooks_id
        return cls(index, item, condition, values, old_quickbooks_id)

    def touches(self) -> set[tuple[str, str]]:
        mapping = _new_mapping(self.item, self.old_quickbooks_id)
        return {item_key(self.item), *([item_key(mapping)] if mapping else [])}

    def actions(self, table: str) -> list[TransactWriteItemTypeDef]:
        """Its TransactWriteItems actions: the new QuickBooks id mapping, if any, and the conditional put."""
        put: PutTypeDef = {
            "TableName": table,
            "Item": to_item(self.item),
            "ConditionExpression": self.condition,
        }
        if self.values:
            put["ExpressionAttributeValues"] = to_item(self.values)
        names = _names(self.condition)
        if names:
            put["ExpressionAttributeNames"] = names
        mapping = _new_mapping(self.item, self.old_quickbooks_id)
        before: list[TransactWriteItemTypeDef] = []
        if mapping is not None:
            before.append({"Put": {"TableName": table, "Item": to_item(mapping)}})
        return [*before, {"Put": put}]


def _transactions(
    planned: list[_Save], table: str
) -> Iterator[list[tuple[_Save, list[TransactWriteItemTypeDef]]]]:
    """The saves in transactions of at most TRANSACT_MAX actions and TRANSACT_BYTES, none touching one item
    twice (DynamoDB refuses that): a save of an item already in the transaction starts the next one."""
    chunk: list[tuple[_Save, list[TransactWriteItemTypeDef]]] = []
    touched: set[tuple[str, str]] = set()
    actions = size = 0
    for save in planned:
        group = save.actions(table)
        keys = save.touches()
        weight = len(json.dumps(group))  # its request JSON: more than DynamoDB counts of the items
        if chunk and (
            actions + len(group) > TRANSACT_MAX or size + weight > TRANSACT_BYTES or keys & touched
        ):
            yield chunk
            chunk, touched, actions, size = [], set(), 0, 0
        chunk.append((save, group))
        touched |= keys
        actions += len(group)
        size += weight
    if chunk:
        yield chunk


class DynamoRecordStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, tenant_id: str, record_type: str, record_id: str) -> SyncRecord | None:
        values = read_item(self._client, self._table, _record_key(tenant_id, record_type, record_id))
        return _record(values) if values else None

    def get_many(self, tenant_id: str, keys: list[tuple[str, str]]) -> dict[str, SyncRecord]:
        read = self._read_many(
            [_record_key(tenant_id, t, i) for t, i in keys], f"records of tenant {tenant_id!r}"
        )
        records = (_record(values) for values in read.values())
        return {record.key: record for record in records}

    def save(
        self, record: SyncRecord, expected_revision: int | None, expected_state: SyncState | None
    ) -> None:
        item = _record_item(record)
        for _ in range(SAVE_ATTEMPTS):
            stored = self._stored(record) if expected_revision is not None else None
            save = _Save.of(0, item, expected_revision, expected_state, stored)
            if save is None:
                raise self._stale(record, stored)
            try:
                self._write(item, save.condition, save.values, save.old_quickbooks_id)
            except _RecordConflictError:
                if expected_revision is None:
                    raise self._stale(record, None, new=True) from None
                continue  # read it again: stale now, or only its QuickBooks id moved
            return
        raise StaleRecordError(
            f"Record {record.key} of tenant {record.tenant_id!r} kept changing while it was saved; "
            "read it again."
        )

    def save_all(self, saves: Sequence[tuple[SyncRecord, int | None, SyncState | None]]) -> list[bool]:
        """`save` for each entry, in TransactWriteItems of up to TRANSACT_MAX actions: each record under the
        same condition, its new QuickBooks id mapping in the same transaction, the old mapping removed after.
        The stored records the conditions expect are read first, in BatchGetItem of up to 100."""
        items = [_record_item(record) for record, _, _ in saves]  # refused before anything is written
        stored: list[bool | None] = [None] * len(saves)
        attempts = [0] * len(saves)
        open_ = list(range(len(saves)))
        while open_:
            keys = [{"pk": items[i]["pk"], "sk": items[i]["sk"]} for i in open_ if saves[i][1] is not None]
            read = self._read_many(keys, "records being saved")
            planned: list[_Save] = []
            for i in open_:
                _, revision, state = saves[i]
                current = read.get(item_key(items[i])) if revision is not None else None
                save = _Save.of(i, items[i], revision, state, current)
                if save is None:
                    stored[i] = False
                else:
                    planned.append(save)
            refused = self._transact(planned)
            open_ = []
            for save in planned:
                if save.index not in refused:
                    stored[save.index] = True
                    self._drop_old_mapping(save.item, save.old_quickbooks_id)
                    continue
                attempts[save.index] += 1
                if saves[save.index][1] is None or attempts[save.index] >= SAVE_ATTEMPTS:
                    stored[save.index] = False
                else:
                    open_.append(save.index)  # read it again: stale now, or only its QuickBooks id moved
        return [bool(s) for s in stored]

    def _transact(self, planned: list[_Save]) -> set[int]:
        """Write the planned saves; the indexes of those whose condition failed (nothing of them written).
        A transaction is all or nothing: when DynamoDB cancels one, the saves whose condition failed are
        dropped and the others are written again."""
        refused: set[int] = set()
        for chunk in _transactions(planned, self._table):
            waiting = chunk
            for round_ in range(TRANSACT_ROUNDS):
                if not waiting:
                    break
                actions = [(save.index, action) for save, group in waiting for action in group]
                try:
                    self._client.transact_write_items(TransactItems=[a for _, a in actions])
                    break
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    reasons = [str(r.get("Code")) for r in exc.response.get("CancellationReasons", [])]
                failed = {actions[n][0] for n, code in enumerate(reasons) if code == CONDITION_FAILED}
                other = set(reasons) - {"None", CONDITION_FAILED}
                if other - TRANSACT_RETRYABLE or not (failed or other):
                    raise RuntimeError(f"DynamoDB cancelled a transaction of record saves: {reasons}")
                refused |= failed
                waiting = [(save, group) for save, group in waiting if save.index not in failed]
                if other:  # a conflicting transaction or throttling: wait a little before the retry
                    time.sleep(min(0.05 * 2**round_, 1.0))
            else:
                raise RuntimeError(
                    f"DynamoDB cancelled a transaction of record saves {TRANSACT_ROUNDS} times; retry later"
                )
        return refused

    def _stored(self, record: SyncRecord) -> dict[str, Any] | None:
        key = _record_key(record.tenant_id, record.record_type, record.record_id)
        return read_item(self._client, self._table, key)

    @staticmethod
    def _stale(record: SyncRecord, stored: dict[str, Any] | None, new: bool = False) -> StaleRecordError:
        if new:
            now = "is stored already"
        elif stored is None:
            now = "is not stored"
        else:
            now = f"is at revision {int(stored['revision'])}, {stored['state']}"
        return StaleRecordError(
            f"Record {record.key} of tenant {record.tenant_id!r} changed since it was read (it {now}); "
            "read it again."
        )

    def _write(
        self, item: dict[str, Any], condition: str, values: dict[str, Any], old_quickbooks_id: str | None
    ) -> None:
        """The record under its condition, with its QuickBooks id mapping written before and the old one
        removed after. No transaction: a mapping left by a save that lost its condition points at a record
        without that id, and find_by_quickbooks_id checks the record before it answers."""
        mapping = _new_mapping(item, old_quickbooks_id)
        if mapping is not None:
            self._client.put_item(TableName=self._table, Item=to_item(mapping))
        if not put_if(self._client, self._table, item, condition, values=values, names=_names(condition)):
            raise _RecordConflictError
        self._drop_old_mapping(item, old_quickbooks_id)

    def _drop_old_mapping(self, item: dict[str, Any], old_quickbooks_id: str | None) -> None:
        """After a save moved the record's QuickBooks id: the old id's mapping, if it is still this record's
        (another record may have that id since)."""
        if old_quickbooks_id and old_quickbooks_id != item["qbo_id"]:
            old = _qbo_key(item["tenant_id"], item["record_type"], old_quickbooks_id)
            delete_if(self._client, self._table, old, "record_id = :r", values={":r": item["record_id"]})

    def _read_many(self, keys: list[dict[str, str]], what: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The items at `keys` (pk and sk), consistent, in BatchGetItem of up to 100 keys."""
        return read_many(self._client, self._table, keys, what)

    def in_state(self, tenant_id: str, state: SyncState, limit: int, cursor: str | None) -> Page[SyncRecord]:
        partition = _state_partition(tenant_id, state)
        query: dict[str, Any] = {
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": to_item({":p": partition}),
        }
        keys = ("pk", "sk", "gsi1pk", "gsi1sk")
        if cursor:
            exact = {"pk": _partition(tenant_id), "gsi1pk": partition}
            query["ExclusiveStartKey"] = decode_cursor_within(cursor, set(keys), exact, {"sk": "RECORD#"})
        items, more = query_page(self._client, self._table, limit, **query)
        return Page([_record(item) for item in items], _cursor(items, more, keys))

    def newest_in_state(self, tenant_id: str, state: SyncState, limit: int) -> list[SyncRecord]:
        """GSI1 read backwards (ScanIndexForward false): its sort key starts with the time of the change."""
        items, _ = query_page(
            self._client,
            self._table,
            limit,
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=to_item({":p": _state_partition(tenant_id, state)}),
            ScanIndexForward=False,
        )
        return [_record(item) for item in items]

    def count_states(self, tenant_id: str) -> dict[str, dict[SyncState, int]]:
        """Every record item of the tenant read for its type and state alone (ProjectionExpression), every
        page, consistent: exact, and no write pays for it.

        Counters kept beside the records would answer without reading them, but every save that moves a
        record's state would then be a transaction with its type's counters (one item each, which every
        writer of the tenant contends for, and which a transaction may not touch twice), and records stored
        before them would need counting once anyway. This reads each record once per call: a query is charged
        for the whole items it reads, projected or not (1 read unit per 4 KB, consistent), so 10,000 records
        of 2 KB are 20 pages of 1 MB and some 5,000 units. Counting through GSI1 instead would read the same
        items (it projects them whole, and is keyed by state, not type) and lag behind the writes."""
        counts: dict[str, dict[SyncState, int]] = {}
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": _partition(tenant_id), ":prefix": "RECORD#"}),
            "ProjectionExpression": "record_type, #state",
            "ExpressionAttributeNames": {"#state": "state"},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(TableName=self._table, **query)
            for item in response.get("Items", []):
                values = from_item(item)
                per_type = counts.setdefault(str(values["record_type"]), {})
                state = SyncState(values["state"])
                per_type[state] = per_type.get(state, 0) + 1
            last = response.get("LastEvaluatedKey")
            if not last:
                return counts
            query["ExclusiveStartKey"] = last

    def list(
        self, tenant_id: str, record_type: str, where: RecordFilter, limit: int, cursor: str | None
    ) -> Page[SyncRecord]:
        """The states as a FilterExpression; the text here (`keep`): folding is not one DynamoDB has."""
        prefix = f"RECORD#{record_type}#"
        values = {":pk": _partition(tenant_id), ":prefix": prefix}
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ConsistentRead": True,
        }
        if where.states:
            states = {f":state{n}": state.value for n, state in enumerate(sorted(where.states))}
            query |= {
                "FilterExpression": f"#state IN ({', '.join(states)})",
                "ExpressionAttributeNames": {"#state": "state"},
            }
            values |= states
        query["ExpressionAttributeValues"] = to_item(values)
        keys = ("pk", "sk")
        if cursor:
            exact = {"pk": _partition(tenant_id)}
            query["ExclusiveStartKey"] = decode_cursor_within(cursor, set(keys), exact, {"sk": prefix})
        keep = None if where.text is None else (lambda values: where.keeps(_record(values)))
        items, more = query_page(self._client, self._table, limit, keep=keep, **query)
        return Page([_record(item) for item in items], _cursor(items, more, keys))

    def find_by_quickbooks_id(
        self, tenant_id: str, record_type: str, quickbooks_id: str
    ) -> SyncRecord | None:
        mapping = read_item(self._client, self._table, _qbo_key(tenant_id, record_type, quickbooks_id))
        if not mapping:
            return None
        record = self.get(tenant_id, record_type, str(mapping["record_id"]))
        return record if record is not None and record.quickbooks_id == quickbooks_id else None

    def linked(self, tenant_id: str, record_type: str, quickbooks_ids: Sequence[str]) -> dict[str, str]:
        """The QBOID mappings in BatchGetItem, then the QuickBooks id alone of each record they name."""
        keys = [_qbo_key(tenant_id, record_type, i) for i in quickbooks_ids]
        mappings = self._read_many(keys, f"QuickBooks id mappings of tenant {tenant_id!r}")
        prefix = len(f"QBOID#{record_type}#")
        named = {str(m["sk"])[prefix:]: str(m["record_id"]) for m in mappings.values()}
        records = read_many(
            self._client,
            self._table,
            [_record_key(tenant_id, record_type, r) for r in named.values()],
            f"records of tenant {tenant_id!r}",
            projection=("record_id", "qbo_id"),
        )
        carried = {v["record_id"]: v.get("qbo_id") for v in records.values()}
        return {q: r for q, r in named.items() if carried.get(r) == q}

    def claim_name(
        self, tenant_id: str, name_key: str, claim: NameClaim, replacing: NameClaim | None = None
    ) -> NameClaim | None:
        key = _reservation_key(tenant_id, name_key)
        item = {**key, "name_key": name_key, "owner": claim.owner, "revision": claim.revision}
        item["claimed_at"] = _utc(claim.at)
        condition = "attribute_not_exists(pk) OR (#owner = :owner AND revision <= :revision)"
        values: dict[str, Any] = {":owner": claim.owner, ":revision": claim.revision}
        if replacing is not None:
            condition += " OR (#owner = :old AND revision = :old_revision AND claimed_at = :old_at)"
            values |= {":old": replacing.owner, ":old_revision": replacing.revision}
            values[":old_at"] = _utc(replacing.at)
        names = {"#owner": "owner"}  # OWNER is a reserved word
        while not put_if(self._client, self._table, item, condition, values=values, names=names):
            current = read_item(self._client, self._table, key)
            if current is None:
                continue  # released meanwhile: try again
            if current["owner"] == claim.owner:
                return None  # a later revision of the same record claimed it
            return NameClaim(
                str(current["owner"]), int(current["revision"]), datetime.fromisoformat(current["claimed_at"])
            )
        return None

    def release_name(self, tenant_id: str, name_key: str, owner: str, below_revision: int) -> None:
        key = _reservation_key(tenant_id, name_key)
        values = {":owner": owner, ":below": below_revision}
        condition = "#owner = :owner AND revision < :below"
        delete_if(self._client, self._table, key, condition, values=values, names={"#owner": "owner"})

    def name_claim(self, tenant_id: str, name_key: str) -> NameClaim | None:
        current = read_item(self._client, self._table, _reservation_key(tenant_id, name_key))
        if current is None:
            return None
        return NameClaim(
            str(current["owner"]), int(current["revision"]), datetime.fromisoformat(current["claimed_at"])
        )


def _after(event_id: str | None) -> int:
    """The number of the first event after `event_id`."""
    if event_id is None:
        return 0
    if not EVENT_ID.fullmatch(event_id):
        raise InvalidInputError(
            "The event id is not one this feed issued.",
            [FieldProblem("after", "Pass the id of an event read from the feed, or nothing to start.")],
        )
    return int(event_id) + 1


EVENT_GAP_HOLD = timedelta(seconds=10)


class DynamoEventFeed:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        retention: timedelta = EVENT_RETENTION,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention
        self._clock = clock or SystemClock()

    def append(self, event: SyncEvent) -> SyncEvent:
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[SyncEvent]) -> list[SyncEvent]:
        """The tenant's counter advanced once (ADD n), then the events written in BatchWriteItem of 25."""
        if not events:
            return []
        tenants = {e.tenant_id for e in events}
        if len(tenants) != 1:
            raise ValueError(f"append_many takes the events of one tenant, not of {sorted(tenants)}")
        tenant_id = events[0].tenant_id
        items: list[dict[str, Any]] = [
            {"tenant_id": e.tenant_id, "type": e.type, "at": _utc(e.at), "detail": _event_json(e.detail)}
            for e in events
        ]  # refused before an id is taken
        response = self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": _partition(tenant_id), "sk": "EVENTSEQ"}),
            UpdateExpression="ADD seq :n",
            ExpressionAttributeValues={":n": {"N": str(len(events))}},
            ReturnValues="UPDATED_NEW",
        )
        first = int(from_item(response["Attributes"])["seq"]) - len(events) + 1
        ids = [f"{first + n:012d}" for n in range(len(events))]
        now = self._clock.now()
        expires_at = int((now + self._retention).timestamp())
        for item, event_id in zip(items, ids, strict=True):
            item |= {"pk": _partition(tenant_id), "sk": f"EVENT#{event_id}", "id": event_id}
            item |= {"written_at": timestamp(now), "expires_at": expires_at}
        write_many(self._client, self._table, items, what="events")
        return [
            SyncEvent(e.type, e.tenant_id, e.at, e.detail, event_id)
            for e, event_id in zip(events, ids, strict=True)
        ]

    def after(self, tenant_id: str, after: str | None, limit: int) -> Page[SyncEvent]:
        items, more = query_page(
            self._client,
            self._table,
            limit,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=to_item(
                {
                    ":pk": _partition(tenant_id),
                    ":first": f"EVENT#{_after(after):012d}",
                    ":last": f"EVENT#{EVENT_LAST}",
                }
            ),
            ConsistentRead=True,
        )
        settled = self._settled(items, after)
        events = [
            SyncEvent(
                type=str(v["type"]),
                tenant_id=str(v["tenant_id"]),
                at=datetime.fromisoformat(v["at"]),
                detail=json.loads(v["detail"]),
                id=str(v["id"]),
            )
            for v in settled
        ]
        return Page(events, events[-1].id if more and len(settled) == len(items) else None)

    def _settled(self, items: list[dict[str, Any]], after: str | None) -> list[dict[str, Any]]:
        """The events up to the first gap that may still fill: an id taken by a writer that has not written
        its event yet. A reader that went past it would never see that event. A gap older than
        EVENT_GAP_HOLD is a writer that died between taking the id and writing: it is passed."""
        expected = _after(after) if after is not None else None
        now = self._clock.now()
        for index, values in enumerate(items):
            seq = int(values["id"])
            if expected is not None and seq != expected:
                written = datetime.fromisoformat(str(values.get("written_at") or values["at"]))
                if now - written < EVENT_GAP_HOLD:
                    return items[:index]
            expected = seq + 1
        return items


class DynamoTenantLease(DynamoLease):
    """The lease of a tenant's sync run, and the note that a run is wanted, on its `SYNC#RUN` item."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        super().__init__(client, table_name, SYNC_RUN_LEASE)

    def request_run(self, tenant_id: str, now: datetime, stale_after: timedelta) -> bool:
        return self._update(
            tenant_id,
            "SET requested_at = :now",
            "attribute_not_exists(requested_at) OR requested_at < :stale",
            {":now": _utc(now), ":stale": _utc(now - stale_after)},
        )

    def take_request(self, tenant_id: str) -> None:
        # Conditioned, so that taking a request of a tenant that never had one creates no item.
        self._update(tenant_id, "REMOVE requested_at", "attribute_exists(requested_at)", {})

    def note(self, tenant_id: str) -> RunNote:
        values = read_item(self._client, self._table, {"pk": _partition(tenant_id), "sk": SYNC_RUN_LEASE})
        if values is None:
            return RunNote()
        until, requested = values.get("lease_until"), values.get("requested_at")
        return RunNote(
            datetime.fromisoformat(until) if until else None,
            datetime.fromisoformat(requested) if requested else None,
        )
