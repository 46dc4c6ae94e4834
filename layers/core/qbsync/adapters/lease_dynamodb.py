"""The `Lease` port in DynamoDB: one conditional update of `lease_owner` and `lease_until` on one item.

Each user of a lease has its own item in the tenant's partition, so leases of one tenant never wait on each
other, and a lease never touches the item's other attributes:
- `TENANT#{id}` / `SYNC#RUN`: the tenant's sync run (with the run request beside it: `DynamoTenantLease`)
- `TENANT#{id}` / `QBO#TOKENS#LEASE`: the refresh of the tenant's QuickBooks Online tokens

`lease_until` is a fixed-width UTC timestamp (`aware_timestamp`), so the condition compares it as a string.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from qbsync.adapters.dynamodb import aware_timestamp, is_conditional_failure, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SYNC_RUN_LEASE = "SYNC#RUN"
TOKEN_REFRESH_LEASE = "QBO#TOKENS#LEASE"  # noqa: S105 - a sort key, not a secret


class DynamoLease:
    """Leases keyed by tenant id, held on the tenant's item `sort_key`."""

    def __init__(self, client: DynamoDBClient, table_name: str, sort_key: str) -> None:
        self._client = client
        self._table = table_name
        self._sort_key = sort_key

    def acquire(self, key: str, owner: str, now: datetime, duration: timedelta) -> bool:
        return self._update(
            key,
            "SET lease_owner = :owner, lease_until = :until",
            "attribute_not_exists(lease_until) OR lease_until <= :now OR lease_owner = :owner",
            {":owner": owner, ":until": aware_timestamp(now + duration), ":now": aware_timestamp(now)},
        )

    def release(self, key: str, owner: str) -> None:
        self._update(key, "REMOVE lease_owner, lease_until", "lease_owner = :owner", {":owner": owner})

    def _update(self, key: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        """Apply `update` if `condition` holds; False when it does not."""
        request: dict[str, Any] = {"UpdateExpression": update, "ConditionExpression": condition}
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        item_key = to_item({"pk": f"TENANT#{key}", "sk": self._sort_key})
        try:
            self._client.update_item(TableName=self._table, Key=item_key, **request)
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True
