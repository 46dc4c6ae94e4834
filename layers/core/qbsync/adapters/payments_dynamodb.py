"""What the host app was told of each QuickBooks payment, and how far the Change Data Capture pull got.

pk = TENANT#{tenant_id}   sk = PAYMENT#{quickbooks_id}   quickbooks_version, voided, deleted
pk = TENANT#{tenant_id}   sk = PAYMENTS#PULL      until
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from qbsync.adapters.dynamodb import put_if, read_item, timestamp
from qbsync.domain.payments import Told

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoPaymentLog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _key(tenant_id: str, quickbooks_id: str) -> dict[str, str]:
        return {"pk": f"TENANT#{tenant_id}", "sk": f"PAYMENT#{quickbooks_id}"}

    def told(self, tenant_id: str, quickbooks_id: str) -> Told | None:
        values = read_item(self._client, self._table, self._key(tenant_id, quickbooks_id))
        if values is None:
            return None
        return Told(str(values["sync_token"]), bool(values["voided"]), bool(values.get("deleted", False)))

    def tell(self, tenant_id: str, quickbooks_id: str, now: Told, before: Told | None) -> bool:
        item = {
            **self._key(tenant_id, quickbooks_id),
            "sync_token": now.quickbooks_version,
            "voided": now.voided,
            "deleted": now.deleted,
        }
        if before is None:
            return put_if(self._client, self._table, item, "attribute_not_exists(pk)")
        told = {":t": before.quickbooks_version, ":v": before.voided, ":d": before.deleted}
        condition = "sync_token = :t AND voided = :v AND deleted = :d"
        return put_if(self._client, self._table, item, condition, values=told)

    def pulled_until(self, tenant_id: str) -> datetime | None:
        values = read_item(self._client, self._table, {"pk": f"TENANT#{tenant_id}", "sk": "PAYMENTS#PULL"})
        return datetime.fromisoformat(values["until"]) if values else None

    def advance(self, tenant_id: str, to: datetime) -> None:
        # Only forward: a slow pull finishing after a newer one must not move the cursor back.
        item = {"pk": f"TENANT#{tenant_id}", "sk": "PAYMENTS#PULL", "until": timestamp(to)}
        condition = "attribute_not_exists(pk) OR #u < :u"
        put_if(
            self._client, self._table, item, condition, values={":u": timestamp(to)}, names={"#u": "until"}
        )

    def rewind(self, tenant_id: str, to: datetime) -> None:
        # Only back: the initial sync's since date, when the cursor is later than it.
        item = {"pk": f"TENANT#{tenant_id}", "sk": "PAYMENTS#PULL", "until": timestamp(to)}
        condition = "attribute_not_exists(pk) OR #u > :u"
        put_if(
            self._client, self._table, item, condition, values={":u": timestamp(to)}, names={"#u": "until"}
        )
