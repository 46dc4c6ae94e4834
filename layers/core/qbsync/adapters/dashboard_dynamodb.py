"""Storage of dashboard links and sessions, both by digest only, expiring through the table's TTL
(`expires_at`, epoch seconds; DynamoDB deletes expired items late, so reads check the time too).

Items:
- `DASHLINK#{sha256}` / `DASHLINK`: tenant_id, expires_at, read_only
- `DASHSESSION#{sha256}` / `DASHSESSION`: tenant_id, expires_at, read_only, csrf_secret
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from qbsync.adapters.dynamodb import read_item, to_item
from qbsync.domain.dashboard import DashboardLink, DashboardSession

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _unexpired(values: dict[str, object] | None, now: datetime) -> datetime | None:
    """The item's end while it is still ahead of `now`, else None."""
    if not values:
        return None
    expires_at = datetime.fromtimestamp(int(str(values["expires_at"])), tz=UTC)
    return expires_at if expires_at > now else None


class DynamoDashboardLinkStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, link: DashboardLink) -> None:
        item = {
            "pk": f"DASHLINK#{link.digest}",
            "sk": "DASHLINK",
            "tenant_id": link.tenant_id,
            "expires_at": _epoch(link.expires_at),
            "read_only": link.read_only,
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def find(self, digest: str, now: datetime) -> DashboardLink | None:
        values = read_item(self._client, self._table, {"pk": f"DASHLINK#{digest}", "sk": "DASHLINK"})
        expires_at = _unexpired(values, now)
        if values is None or expires_at is None:
            return None
        return DashboardLink(digest, str(values["tenant_id"]), expires_at, bool(values["read_only"]))


class DynamoDashboardSessionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, session: DashboardSession) -> None:
        item = {
            "pk": f"DASHSESSION#{session.digest}",
            "sk": "DASHSESSION",
            "tenant_id": session.tenant_id,
            "expires_at": _epoch(session.expires_at),
            "read_only": session.read_only,
            "csrf_secret": session.csrf_secret,
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def find(self, digest: str, now: datetime) -> DashboardSession | None:
        values = read_item(self._client, self._table, {"pk": f"DASHSESSION#{digest}", "sk": "DASHSESSION"})
        expires_at = _unexpired(values, now)
        if values is None or expires_at is None:
            return None
        return DashboardSession(
            digest,
            str(values["tenant_id"]),
            expires_at,
            bool(values["read_only"]),
            str(values["csrf_secret"]),
        )
