"""Storage of QuickBooks connections: tokens (KMS-encrypted, versioned), connection state (both editions),
realm ownership, connect links and OAuth states (both by digest only, expiring through the table's TTL).

Items:
- `TENANT#{id}` / `QBO#TOKENS`: realm_id, access and refresh (ciphertexts), expiries, version (one refresh
  at a time: the lease on `QBO#TOKENS#LEASE`, adapters/lease_dynamodb.py)
- `TENANT#{id}` / `QBO#CONNECTION`: status, realm_id, company_name, connected_since, last_error, changed_at,
  and for a Desktop tenant `desktop` (file_path, product_name, quickbooks_version, country, file_id,
  last_run_at); listed in the `QBO#CONNECTED` index while an Online connection is connected
- `REALM#{realm}` / `REALM`: tenant_id (read by the webhook receiver)
- `CONNECTLINK#{sha256}` / `CONNECTLINK` and `OAUTHSTATE#{sha256}` / `OAUTHSTATE`: tenant_id, expires_at
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from qbsync.adapters.dynamodb import (
    delete_if,
    from_item,
    is_conditional_failure,
    put_if,
    query_index,
    read_item,
    timestamp,
    to_item,
)
from qbsync.adapters.kms import KmsCipher
from qbsync.domain.connections import (
    Connection,
    ConnectionProblem,
    ConnectionStatus,
    DesktopCompany,
    OAuthState,
    TokenSet,
)
from qbsync.domain.paging import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


CONNECTED_INDEX = "QBO#CONNECTED"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DynamoTokenStore:
    def __init__(self, client: DynamoDBClient, table_name: str, cipher: KmsCipher) -> None:
        self._client = client
        self._table = table_name
        self._cipher = cipher

    @staticmethod
    def _key(tenant_id: str) -> dict[str, str]:
        return {"pk": f"TENANT#{tenant_id}", "sk": "QBO#TOKENS"}

    @staticmethod
    def _context(tenant_id: str, realm_id: str) -> dict[str, str]:
        return {"tenant_id": tenant_id, "realm_id": realm_id, "purpose": "qbo-oauth-tokens"}

    def load(self, tenant_id: str) -> TokenSet | None:
        values = read_item(self._client, self._table, self._key(tenant_id))
        if not values or "access" not in values:
            return None
        context = self._context(tenant_id, values["realm_id"])
        return TokenSet(
            realm_id=values["realm_id"],
            access_token=self._cipher.decrypt(bytes(values["access"]), context),
            refresh_token=self._cipher.decrypt(bytes(values["refresh"]), context),
            access_expires_at=datetime.fromisoformat(values["access_expires_at"]),
            refresh_expires_at=datetime.fromisoformat(values["refresh_expires_at"]),
            version=int(values["version"]),
            refreshed_at=datetime.fromisoformat(values["refreshed_at"])
            if values.get("refreshed_at")
            else None,
        )

    def save(self, tenant_id: str, tokens: TokenSet, expected_version: int | None) -> bool:
        context = self._context(tenant_id, tokens.realm_id)
        values = {
            ":realm": tokens.realm_id,
            ":access": self._cipher.encrypt(tokens.access_token, context),
            ":refresh": self._cipher.encrypt(tokens.refresh_token, context),
            ":aexp": timestamp(tokens.access_expires_at),
            ":rexp": timestamp(tokens.refresh_expires_at),
            ":version": tokens.version,
            ":refreshed": timestamp(tokens.refreshed_at) if tokens.refreshed_at else "",
        }
        condition = "attribute_not_exists(version)"
        if expected_version is not None:
            condition = "version = :expected"
            values[":expected"] = expected_version
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(self._key(tenant_id)),
                UpdateExpression="SET realm_id = :realm, access = :access, refresh = :refresh, "
                "access_expires_at = :aexp, refresh_expires_at = :rexp, version = :version, "
                "refreshed_at = :refreshed",
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def delete(self, tenant_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(self._key(tenant_id)))


class DynamoConnectionRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, tenant_id: str) -> Connection:
        key = {"pk": f"TENANT#{tenant_id}", "sk": "QBO#CONNECTION"}
        v = read_item(self._client, self._table, key)
        if not v:
            return Connection(tenant_id=tenant_id)
        error = v.get("last_error")
        return Connection(
            tenant_id=tenant_id,
            status=ConnectionStatus(v["status"]),
            realm_id=v.get("realm_id"),
            company_name=v.get("company_name"),
            connected_since=datetime.fromisoformat(v["connected_since"])
            if v.get("connected_since")
            else None,
            last_error=ConnectionProblem(error["code"], error["message"], error["action"]) if error else None,
            changed_at=datetime.fromisoformat(v["changed_at"]) if v.get("changed_at") else None,
            desktop=_desktop(v["desktop"]) if v.get("desktop") else None,
        )

    def put(self, connection: Connection) -> None:
        error = connection.last_error
        item = {
            "pk": f"TENANT#{connection.tenant_id}",
            "sk": "QBO#CONNECTION",
            "status": connection.status.value,
            "realm_id": connection.realm_id,
            "company_name": connection.company_name,
            "connected_since": timestamp(connection.connected_since) if connection.connected_since else None,
            "last_error": {"code": error.code, "message": error.message, "action": error.action}
            if error
            else None,
            "changed_at": timestamp(connection.changed_at) if connection.changed_at else None,
            "desktop": _desktop_values(connection.desktop) if connection.desktop else None,
        }
        # Listed for the scheduled token upkeep and payment pull: Online connections only (a Desktop tenant
        # has no tokens, and its payments come back through its Web Connector).
        if connection.status is ConnectionStatus.CONNECTED and connection.desktop is None:
            item |= {"gsi1pk": CONNECTED_INDEX, "gsi1sk": connection.tenant_id}
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def connected_tenants(self, limit: int, cursor: str | None) -> Page[str]:
        items, next_cursor = query_index(self._client, self._table, CONNECTED_INDEX, limit, cursor)
        return Page(items=[str(item["gsi1sk"]) for item in items], next_cursor=next_cursor)

    def claim_realm(self, realm_id: str, tenant_id: str) -> bool:
        item = {"pk": f"REALM#{realm_id}", "sk": "REALM", "tenant_id": tenant_id}
        condition = "attribute_not_exists(pk) OR tenant_id = :tenant"
        return put_if(self._client, self._table, item, condition, values={":tenant": tenant_id})

    def release_realm(self, realm_id: str, tenant_id: str) -> None:
        key = {"pk": f"REALM#{realm_id}", "sk": "REALM"}
        delete_if(self._client, self._table, key, "tenant_id = :tenant", values={":tenant": tenant_id})


def _desktop_values(desktop: DesktopCompany) -> dict[str, str]:
    return {
        "file_path": desktop.file_path,
        "product_name": desktop.product_name,
        "quickbooks_version": desktop.quickbooks_version,
        "country": desktop.country,
        "file_id": desktop.file_id,
        "last_run_at": timestamp(desktop.last_run_at),
    }


def _desktop(values: dict[str, str]) -> DesktopCompany:
    return DesktopCompany(
        file_path=values["file_path"],
        product_name=values["product_name"],
        quickbooks_version=values["quickbooks_version"],
        country=values["country"],
        file_id=values["file_id"],
        last_run_at=datetime.fromisoformat(values["last_run_at"]),
    )


class DynamoConnectLinkStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, digest: str, tenant_id: str, expires_at: datetime) -> None:
        item = {
            "pk": f"CONNECTLINK#{digest}",
            "sk": "CONNECTLINK",
            "tenant_id": tenant_id,
            "expires_at": _epoch(expires_at),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def tenant_of(self, digest: str, now: datetime) -> str | None:
        key = {"pk": f"CONNECTLINK#{digest}", "sk": "CONNECTLINK"}
        values = read_item(self._client, self._table, key)
        if not values:
            return None
        return (
            str(values["tenant_id"]) if int(values["expires_at"]) > _epoch(now) else None
        )  # TTL deletes late


class DynamoOAuthStateStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, state: OAuthState) -> None:
        item = {
            "pk": f"OAUTHSTATE#{state.digest}",
            "sk": "OAUTHSTATE",
            "tenant_id": state.tenant_id,
            "expires_at": _epoch(state.expires_at),
            "retry_path": state.retry_path,
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def take(self, digest: str, now: datetime) -> OAuthState | None:
        try:
            response = self._client.delete_item(
                TableName=self._table,
                Key=to_item({"pk": f"OAUTHSTATE#{digest}", "sk": "OAUTHSTATE"}),
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        values = from_item(response.get("Attributes", {}))
        expires_at = datetime.fromtimestamp(int(values["expires_at"]), tz=now.tzinfo)
        if expires_at <= now:
            return None
        return OAuthState(digest, str(values["tenant_id"]), expires_at, str(values["retry_path"]))
