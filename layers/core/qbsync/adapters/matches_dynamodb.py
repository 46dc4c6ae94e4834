"""Match results in DynamoDB (`domain.match_results.MatchStore`).

Every item lives in the tenant's partition, pk = TENANT#{tenant_id}; by sk:
- `MATCH#{record_type}#{record_id}`: one per host record of the type's last run: `found` (what the run
  found, for the listing's filter) and `result`, the MatchResult's `as_dict` as JSON text (scores are floats,
  which DynamoDB's number type would not give back as they were). The listing is one query of the partition
  by this prefix, in sort key order: record type, then record id (record ids are [A-Za-z0-9._-], no '#').
- `MATCHDUP#{record_type}#{quickbooks_id}`: a QuickBooks object of the last run whose name others share:
  `same_name_as`, their ids.
- `MATCHNO#{record_type}#{record_id}#{quickbooks_id}`: a pair a person rejected; kept across runs.
- `MATCHRUN`: the latest match run (`run`, its `as_dict` as JSON text) and its `version`; each save is
  conditional on the version it read (none where version 0 is saved).
A run replaces its type's MATCH# and MATCHDUP# items: it writes the new ones, then deletes those it did not
write; the MATCHNO# items stay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from qbsync.adapters.dynamodb import (
    decode_cursor_within,
    encode_cursor,
    put_if,
    query_page,
    query_prefix,
    read_item,
    to_item,
    write_many,
)
from qbsync.domain.match_results import Found, MatchResult, MatchRun
from qbsync.domain.matching import DuplicateName
from qbsync.domain.paging import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RESULT, DUPLICATE, REJECTED, RUN = "MATCH#", "MATCHDUP#", "MATCHNO#", "MATCHRUN"


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _result_sk(record_type: str, record_id: str) -> str:
    return f"{RESULT}{record_type}#{record_id}"


def _result_item(tenant_id: str, result: MatchResult) -> dict[str, Any]:
    return {
        "pk": _partition(tenant_id),
        "sk": _result_sk(result.record_type, result.record_id),
        "found": result.found.value,
        "result": json.dumps(result.as_dict(), ensure_ascii=False),
    }


def _result(values: dict[str, Any]) -> MatchResult:
    return MatchResult.from_dict(json.loads(str(values["result"])))


class DynamoMatchStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def replace(
        self,
        tenant_id: str,
        record_type: str,
        results: Sequence[MatchResult],
        duplicates: Sequence[DuplicateName],
    ) -> None:
        pk = _partition(tenant_id)
        items = [_result_item(tenant_id, r) for r in results]
        items += [
            {
                "pk": pk,
                "sk": f"{DUPLICATE}{record_type}#{d.quickbooks_id}",
                "same_name_as": list(d.same_name_as),
            }
            for d in duplicates
        ]
        written = {item["sk"] for item in items}
        stale = [
            {"pk": pk, "sk": str(values["sk"])}
            for prefix in (f"{RESULT}{record_type}#", f"{DUPLICATE}{record_type}#")
            for values in self._query(tenant_id, prefix, keys_only=True)
            if values["sk"] not in written
        ]
        what = f"match results of {tenant_id!r}"
        write_many(self._client, self._table, items, what=what)
        write_many(self._client, self._table, deletes=stale, what=what)

    def get(self, tenant_id: str, record_type: str, record_id: str) -> MatchResult | None:
        key = {"pk": _partition(tenant_id), "sk": _result_sk(record_type, record_id)}
        values = read_item(self._client, self._table, key)
        return None if values is None else _result(values)

    def save(self, tenant_id: str, result: MatchResult) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(_result_item(tenant_id, result)))

    def page(
        self, tenant_id: str, record_type: str | None, found: Found | None, limit: int, cursor: str | None
    ) -> Page[MatchResult]:
        """DynamoDB applies a query's Limit before its filter: the query is read on until limit + 1 results
        are kept or the listing ends, so the page says exactly whether more follow, and its cursor is the key
        of its last result."""
        pk = _partition(tenant_id)
        prefix = RESULT if record_type is None else f"{RESULT}{record_type}#"
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
            "ConsistentRead": True,
        }
        if found is not None:
            query["FilterExpression"] = "#found = :found"
            query["ExpressionAttributeNames"] = {"#found": "found"}  # FOUND is a reserved word
            query["ExpressionAttributeValues"] = to_item(
                {":pk": pk, ":prefix": prefix, ":found": found.value}
            )
        if cursor is not None:
            query["ExclusiveStartKey"] = decode_cursor_within(
                cursor, {"pk", "sk"}, {"pk": pk}, {"sk": prefix}
            )
        items, more = query_page(self._client, self._table, limit, **query)
        next_cursor = encode_cursor(to_item({"pk": pk, "sk": items[-1]["sk"]})) if more else None
        return Page([_result(v) for v in items], next_cursor)

    def duplicates(self, tenant_id: str, record_type: str) -> list[DuplicateName]:
        prefix = f"{DUPLICATE}{record_type}#"
        return [
            DuplicateName(str(v["sk"]).removeprefix(prefix), tuple(str(i) for i in v.get("same_name_as", ())))
            for v in self._query(tenant_id, prefix)
        ]

    def reject(self, tenant_id: str, record_type: str, record_id: str, quickbooks_ids: Sequence[str]) -> None:
        pk = _partition(tenant_id)
        items = [
            {
                "pk": pk,
                "sk": f"{REJECTED}{record_type}#{record_id}#{q}",
                "record_id": record_id,
                "quickbooks_id": q,
            }
            for q in dict.fromkeys(quickbooks_ids)
        ]
        write_many(self._client, self._table, items, what=f"rejected matches of {tenant_id!r}")

    def rejected(self, tenant_id: str, record_type: str) -> set[tuple[str, str]]:
        return {
            (str(v["record_id"]), str(v["quickbooks_id"]))
            for v in self._query(tenant_id, f"{REJECTED}{record_type}#")
        }

    def run(self, tenant_id: str) -> MatchRun | None:
        values = read_item(self._client, self._table, {"pk": _partition(tenant_id), "sk": RUN})
        if values is None:
            return None
        return MatchRun.from_dict(json.loads(str(values["run"])), int(values["version"]))

    def save_run(self, tenant_id: str, run: MatchRun) -> bool:
        item = {
            "pk": _partition(tenant_id),
            "sk": RUN,
            "run": json.dumps(run.as_dict(), ensure_ascii=False),
            "version": run.version + 1,
        }
        if run.version == 0:
            return put_if(self._client, self._table, item, "attribute_not_exists(pk)")
        return put_if(self._client, self._table, item, "version = :v", values={":v": run.version})

    def _query(self, tenant_id: str, prefix: str, *, keys_only: bool = False) -> Iterator[dict[str, Any]]:
        return query_prefix(self._client, self._table, _partition(tenant_id), prefix, keys_only=keys_only)
