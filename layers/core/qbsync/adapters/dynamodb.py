"""DynamoDB storage: one table, items keyed by `pk`/`sk`, one GSI (`gsi1pk`/`gsi1sk`) for listings.

Storage items are mapped to and from domain objects here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from qbsync.domain.apikeys import ApiKey
from qbsync.domain.errors import ConflictError, FieldProblem, InvalidInputError
from qbsync.domain.paging import Page
from qbsync.domain.tenants import Edition, Tenant

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesUnionTypeDef,
        WriteRequestUnionTypeDef,
    )

GSI1 = "GSI1"
# BatchGetItem reads at most 100 keys, BatchWriteItem writes at most 25 items ("Amazon DynamoDB quotas",
# API-specific limits); what DynamoDB leaves unprocessed (throttling) is asked again, a few rounds at most.
BATCH_GET_MAX = 100
BATCH_GET_ROUNDS = 8
BATCH_WRITE_MAX = 25
BATCH_WRITE_ROUNDS = 8
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def timestamp(at: datetime) -> str:
    """A fixed-width UTC timestamp, so stored times sort as strings."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def aware_timestamp(at: datetime) -> str:
    """`timestamp`, refusing a time without a zone (it would be read as the machine's local time)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone; stored times must carry one")
    return timestamp(at)


def read_item(
    client: DynamoDBClient, table: str, key: dict[str, Any], *, consistent: bool = True
) -> dict[str, Any] | None:
    """The item at `key` as plain Python values, or None. Consistent unless the caller says otherwise."""
    item = client.get_item(TableName=table, Key=to_item(key), ConsistentRead=consistent).get("Item")
    return from_item(item) if item else None


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(last_key), sort_keys=True).encode()).decode()


def decode_cursor(cursor: str, expected_keys: set[str]) -> dict[str, AttributeValueTypeDef]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if (
        not isinstance(values, dict)
        or set(values) != expected_keys
        or not all(isinstance(v, str) for v in values.values())
    ):
        raise _bad_cursor()
    return to_item(values)


def query_index(
    client: DynamoDBClient, table: str, partition: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the GSI1 partition `partition`, in gsi1sk order, and the cursor to the next page."""
    kwargs: dict[str, Any] = {}
    if cursor:
        kwargs["ExclusiveStartKey"] = decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"})
    response = client.query(
        TableName=table,
        IndexName=GSI1,
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": partition}},
        Limit=limit,
        **kwargs,
    )
    items = [from_item(item) for item in response.get("Items", [])]
    return items, encode_cursor(response.get("LastEvaluatedKey"))


def _bad_cursor() -> InvalidInputError:
    return InvalidInputError(
        "The cursor is not one this API issued.",
        [FieldProblem("cursor", "Pass back the next_cursor value of the previous page unchanged.")],
    )


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_if(
    client: DynamoDBClient,
    table: str,
    item: dict[str, Any],
    condition: str,
    *,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> bool:
    """Put `item` (plain values) if `condition` holds; False when it does not. Other errors raise."""
    extra = _expression(values, names)
    try:
        client.put_item(TableName=table, Item=to_item(item), ConditionExpression=condition, **extra)
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def delete_if(
    client: DynamoDBClient,
    table: str,
    key: dict[str, Any],
    condition: str,
    *,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> bool:
    """Delete the item at `key` (plain values) if `condition` holds; False when it does not."""
    extra = _expression(values, names)
    try:
        client.delete_item(TableName=table, Key=to_item(key), ConditionExpression=condition, **extra)
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def update_if(
    client: DynamoDBClient,
    table: str,
    key: dict[str, Any],
    update: str,
    condition: str,
    *,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> bool:
    """Apply `update` to the item at `key` (plain values) if `condition` holds; False when it does not."""
    extra = _expression(values, names)
    try:
        client.update_item(
            TableName=table, Key=to_item(key), UpdateExpression=update, ConditionExpression=condition, **extra
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def _expression(values: dict[str, Any] | None, names: dict[str, str] | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if values:
        extra["ExpressionAttributeValues"] = to_item(values)
    if names:
        extra["ExpressionAttributeNames"] = names
    return extra


class DynamoTenantRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _key(tenant_id: str) -> dict[str, str]:
        return {"pk": f"TENANT#{tenant_id}", "sk": "TENANT"}

    def add(self, tenant: Tenant) -> None:
        item = {
            **self._key(tenant.id),
            "gsi1pk": "TENANTS",
            "gsi1sk": tenant.id,
            "tenant_id": tenant.id,
            "name": tenant.name,
            "edition": tenant.edition.value,
            "created_at": timestamp(tenant.created_at),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise ConflictError(f"A tenant with id {tenant.id!r} already exists.") from exc
            raise

    def get(self, tenant_id: str) -> Tenant | None:
        values = read_item(self._client, self._table, self._key(tenant_id))
        return self._tenant(values) if values else None

    def list(self, limit: int, cursor: str | None) -> Page[Tenant]:
        items, next_cursor = query_index(self._client, self._table, "TENANTS", limit, cursor)
        return Page(items=[self._tenant(item) for item in items], next_cursor=next_cursor)

    @staticmethod
    def _tenant(values: dict[str, Any]) -> Tenant:
        return Tenant(
            id=values["tenant_id"],
            name=values["name"],
            edition=Edition(values["edition"]),
            created_at=datetime.fromisoformat(values["created_at"]),
        )


class DynamoApiKeyRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, key: ApiKey) -> None:
        item = {
            "pk": f"APIKEY#{key.key_hash}",
            "sk": "APIKEY",
            "key_id": key.key_id,
            "label": key.label,
            "created_at": timestamp(key.created_at),
            "revoked": key.revoked,
        }
        self._client.put_item(
            TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def find(self, key_hash: str) -> ApiKey | None:
        key = {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"}
        values = read_item(self._client, self._table, key, consistent=False)
        if not values:
            return None
        return ApiKey(
            key_id=values["key_id"],
            key_hash=key_hash,
            label=values["label"],
            created_at=datetime.fromisoformat(values["created_at"]),
            revoked=bool(values.get("revoked", False)),
        )


class DynamoHeartbeatStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def beat(self, component: str, at: datetime) -> None:
        # Only move forward: a late, redelivered heartbeat must not make the pipeline look older.
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item({"pk": "SYSTEM", "sk": f"HEARTBEAT#{component}", "at": timestamp(at)}),
                ConditionExpression="attribute_not_exists(pk) OR #at < :at",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":at": {"S": timestamp(at)}},
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def last(self, component: str) -> datetime | None:
        key = {"pk": "SYSTEM", "sk": f"HEARTBEAT#{component}"}
        values = read_item(self._client, self._table, key, consistent=False)
        return datetime.fromisoformat(values["at"]) if values else None


def decode_cursor_within(
    cursor: str, expected_keys: set[str], exact: dict[str, str], prefixes: dict[str, str]
) -> dict[str, AttributeValueTypeDef]:
    """decode_cursor, refusing as well a cursor of another listing: each key of `exact` must have exactly that
    value (the tenant's partition), each key of `prefixes` must start with that value."""
    start = decode_cursor(cursor, expected_keys)
    values = from_item(start)
    if any(values[k] != v for k, v in exact.items()) or any(
        not values[k].startswith(p) for k, p in prefixes.items()
    ):
        raise _bad_cursor()
    return start


def item_key(values: dict[str, Any]) -> tuple[str, str]:
    return str(values["pk"]), str(values["sk"])


def read_many(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[dict[str, str]],
    what: str,
    projection: Sequence[str] = (),
) -> dict[tuple[str, str], dict[str, Any]]:
    """The items at `keys` (pk and sk) by (pk, sk), consistent, in BatchGetItem of up to BATCH_GET_MAX keys;
    only the attributes named in `projection` (and the keys) when it names some. `what` names the items in
    the error raised when DynamoDB keeps leaving keys unprocessed."""
    unique = list({item_key(k): k for k in keys}.values())  # BatchGetItem refuses a repeated key
    names = {f"#a{n}": name for n, name in enumerate(dict.fromkeys(["pk", "sk", *projection]))}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(unique), BATCH_GET_MAX):
        read: KeysAndAttributesUnionTypeDef = {
            "Keys": [to_item(k) for k in unique[start : start + BATCH_GET_MAX]],
            "ConsistentRead": True,
        }
        if projection:
            read["ProjectionExpression"] = ", ".join(names)
            read["ExpressionAttributeNames"] = names
        request: dict[str, KeysAndAttributesUnionTypeDef] = {table: read}
        for round_ in range(BATCH_GET_ROUNDS):
            if round_:
                time.sleep(min(0.05 * 2**round_, 1.0))  # unprocessed keys: the table is throttling
            response = client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table, []):
                values = from_item(raw)
                found[item_key(values)] = values
            unprocessed = response.get("UnprocessedKeys") or {}
            if not unprocessed:
                break
            request = dict(unprocessed)
        else:
            raise RuntimeError(
                f"DynamoDB left keys unprocessed {BATCH_GET_ROUNDS} times reading {what}; "
                "the table is throttled, retry later"
            )
    return found


def write_many(
    client: DynamoDBClient,
    table: str,
    puts: Sequence[dict[str, Any]] = (),
    deletes: Sequence[dict[str, str]] = (),
    *,
    what: str,
) -> None:
    """Put the items `puts` (plain values) and delete the items at `deletes` (pk and sk), in BatchWriteItem of
    up to BATCH_WRITE_MAX, unconditionally and in no particular order within the call."""
    writes: list[WriteRequestUnionTypeDef] = [{"PutRequest": {"Item": to_item(item)}} for item in puts]
    writes += [{"DeleteRequest": {"Key": to_item(key)}} for key in deletes]
    for start in range(0, len(writes), BATCH_WRITE_MAX):
        request: dict[str, list[WriteRequestUnionTypeDef]] = {table: writes[start : start + BATCH_WRITE_MAX]}
        for round_ in range(BATCH_WRITE_ROUNDS):
            if round_:
                time.sleep(min(0.05 * 2**round_, 1.0))  # unprocessed items: the table is throttling
            unprocessed = client.batch_write_item(RequestItems=request).get("UnprocessedItems")
            if not unprocessed:
                break
            request = {name: list(left) for name, left in unprocessed.items()}
        else:
            raise RuntimeError(
                f"DynamoDB left {what} unprocessed {BATCH_WRITE_ROUNDS} times; the table is throttled, "
                "retry later"
            )


FILTERED_PAGE = 100  # items read per query when a filter may drop most of them


def query_page(
    client: DynamoDBClient,
    table: str,
    limit: int,
    *,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    **query: Any,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a query (plain values), and whether more follow. DynamoDB applies a query's
    Limit before its FilterExpression, and a page stops at 1 MB: this reads on until it has limit + 1 items
    or the query is exhausted, so "more" is exact and the caller's cursor can be the key of the last item it
    returns. `keep`: a filter applied here, to what no FilterExpression can say (folded text)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    filtered = keep is not None or "FilterExpression" in query
    items: list[dict[str, Any]] = []
    while True:
        wanted = limit + 1 - len(items)
        response = client.query(
            TableName=table, Limit=max(wanted, FILTERED_PAGE) if filtered else wanted, **query
        )
        read = (from_item(raw) for raw in response.get("Items", []))
        items += [values for values in read if keep is None or keep(values)]
        last = response.get("LastEvaluatedKey")
        if len(items) > limit or not last:
            return items[:limit], len(items) > limit
        query["ExclusiveStartKey"] = last


def query_prefix(
    client: DynamoDBClient, table: str, pk: str, prefix: str, *, keys_only: bool = False
) -> Iterator[dict[str, Any]]:
    """The items of partition `pk` whose sort key starts with `prefix`, every page: consistent, in sort key
    order; only their keys with `keys_only`."""
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
        "ConsistentRead": True,
    }
    if keys_only:
        query["ProjectionExpression"] = "pk, sk"
    while True:
        response = client.query(TableName=table, **query)
        yield from (from_item(item) for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        query["ExclusiveStartKey"] = last
