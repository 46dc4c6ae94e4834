"""Sync settings in DynamoDB: one immutable item per version under the tenant's partition.

    pk = TENANT#{tenant_id}   sk = SETTINGS#v{version:06d}

No CURRENT pointer item: the current version is the last `SETTINGS#v…` key, read with a consistent, reversed,
one-item query (the zero padding makes the string order the numeric order up to version 999999). Writing a
version is a single `put_item` conditioned on that key not existing yet, so the version item itself is the
lock: of two writers that both read version n, exactly one stores n+1 and the other is told its read is stale.
A pointer would need a transaction of two items to say the same thing, and could drift from the versions.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from qbsync.adapters.dynamodb import from_item, is_conditional_failure, read_item, timestamp, to_item
from qbsync.domain.settings import SettingsVersion, StaleVersionError, SyncSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "SETTINGS#v"
VERSION_MAX = 999_999


def version_key(tenant_id: str, version: int) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": f"{PREFIX}{version:06d}"}


class DynamoSettingsRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def latest(self, tenant_id: str) -> SettingsVersion | None:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":prefix": {"S": PREFIX}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return self._entry(from_item(items[0])) if items else None

    def get(self, tenant_id: str, version: int) -> SettingsVersion | None:
        if not 1 <= version <= VERSION_MAX:
            return None
        values = read_item(self._client, self._table, version_key(tenant_id, version))
        return self._entry(values) if values else None

    def add(self, entry: SettingsVersion) -> None:
        if entry.updated_at is None or not 1 <= entry.version <= VERSION_MAX:
            raise ValueError(f"cannot store settings version {entry.version}")
        item = {
            **version_key(entry.tenant_id, entry.version),
            "tenant_id": entry.tenant_id,
            "version": entry.version,
            "updated_at": timestamp(entry.updated_at),
            # A map, not a JSON string: support reads it in the console as it was in force.
            "settings": entry.settings.model_dump(mode="json"),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(sk)"
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise StaleVersionError(
                    f"Version {entry.version} of the settings of tenant {entry.tenant_id!r} "
                    "is already stored."
                ) from exc
            raise

    @staticmethod
    def _entry(values: dict[str, Any]) -> SettingsVersion:
        return SettingsVersion(
            tenant_id=values["tenant_id"],
            version=int(values["version"]),
            updated_at=datetime.fromisoformat(values["updated_at"]),
            settings=SyncSettings.model_validate(values["settings"]),
        )
