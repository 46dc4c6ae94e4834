"""DynamoDB storage behind QuickBooks Online webhooks: routed event ids (for redeliveries) and realm → tenant.

Items:
- `WEBHOOK#{event_id}` / `WEBHOOK`: one routed notification; `expires_at` (epoch seconds) lets the table's TTL
  remove it after the retention, well past Intuit's last retry.
- `REALM#{realm_id}` / `REALM`: the tenant that connected the QuickBooks Online company, as `tenant_id`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from qbsync.adapters.dynamodb import put_if, read_item, timestamp, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WEBHOOK_RETENTION = timedelta(days=7)


class DynamoWebhookEventLog:
    def __init__(
        self, client: DynamoDBClient, table_name: str, retention: timedelta = WEBHOOK_RETENTION
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention

    @staticmethod
    def _key(event_id: str) -> dict[str, str]:
        return {"pk": f"WEBHOOK#{event_id}", "sk": "WEBHOOK"}

    def claim(self, event_id: str, now: datetime) -> bool:
        item = {
            **self._key(event_id),
            "event_id": event_id,
            "received_at": timestamp(now),
            "expires_at": int((now + self._retention).timestamp()),
        }
        # TTL deletes expired items only eventually; until then an expired claim no longer counts.
        condition = "attribute_not_exists(pk) OR expires_at < :now"
        return put_if(self._client, self._table, item, condition, values={":now": int(now.timestamp())})

    def release(self, event_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(self._key(event_id)))


class DynamoRealmDirectory:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def tenant_for_realm(self, realm_id: str) -> str | None:
        # Consistent: a company connected a moment ago must not have its first changes dropped.
        values = read_item(self._client, self._table, {"pk": f"REALM#{realm_id}", "sk": "REALM"})
        if not values:
            return None
        tenant_id = values.get("tenant_id")
        return tenant_id if isinstance(tenant_id, str) and tenant_id else None
