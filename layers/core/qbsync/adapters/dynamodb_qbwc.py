"""DynamoDB storage of Web Connector credentials, wrong logins and sessions.

Items, in the one table:
- credential: pk `QBWC#USER#{username}`, sk `QBWC#USER`: tenant_id, password_hash (scrypt; never the password)
- failures:   pk `QBWC#FAILURES#{sha256(username)}`, sk `QBWC#FAILURES`: failures (in a row), last_failure_at
              (epoch milliseconds), expires_at (epoch seconds, the table's TTL attribute); keyed by digest
              because the user names of wrong logins are whatever a caller sends
- session:    pk `QBWC#SESSION#{sha256(ticket)}`, sk `QBWC#SESSION`: tenant_id, username, created_at,
              expires_at (epoch seconds, the table's TTL attribute), last_error (once set), progress (a map
              of `SessionProgress`'s fields, once saved)
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qbsync.adapters.dynamodb import read_item, timestamp, to_item, update_if
from qbsync.domain.qbwc import FAILURE_WINDOW, QbwcCredential, QbwcSession, SessionProgress, ticket_digest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CREDENTIAL_SK = "QBWC#USER"
SESSION_SK = "QBWC#SESSION"
FAILURES_SK = "QBWC#FAILURES"


def credential_key(username: str) -> dict[str, str]:
    return {"pk": f"QBWC#USER#{username}", "sk": CREDENTIAL_SK}


def failures_key(username: str) -> dict[str, str]:
    return {"pk": f"QBWC#FAILURES#{hashlib.sha256(username.encode('utf-8')).hexdigest()}", "sk": FAILURES_SK}


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def session_key(ticket: str) -> dict[str, str]:
    return {"pk": f"QBWC#SESSION#{ticket_digest(ticket)}", "sk": SESSION_SK}


class DynamoQbwcCredentialStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def find(self, username: str) -> QbwcCredential | None:
        values = read_item(self._client, self._table, credential_key(username))
        if not values:
            return None
        return QbwcCredential(
            username=username, tenant_id=str(values["tenant_id"]), password_hash=str(values["password_hash"])
        )

    def put(self, credential: QbwcCredential) -> None:
        item = {
            **credential_key(credential.username),
            "tenant_id": credential.tenant_id,
            "password_hash": credential.password_hash,
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def delete(self, username: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(credential_key(username)))


class DynamoQbwcLoginFailures:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def recent(self, username: str, now: datetime) -> int:
        values = read_item(self._client, self._table, failures_key(username))
        if not values or int(values["last_failure_at"]) <= _millis(now - FAILURE_WINDOW):
            return 0
        return int(values["failures"])

    def add(self, username: str, now: datetime) -> None:
        key = failures_key(username)
        times = {":now": _millis(now), ":expires": int((now + FAILURE_WINDOW).timestamp()) + 1}
        in_a_row = update_if(  # one more in the row, if the last failure is recent enough
            self._client,
            self._table,
            key,
            "SET last_failure_at = :now, expires_at = :expires ADD failures :one",
            "last_failure_at > :cutoff",
            values={**times, ":one": 1, ":cutoff": _millis(now - FAILURE_WINDOW)},
        )
        if not in_a_row:
            item = {**key, "failures": 1, "last_failure_at": times[":now"], "expires_at": times[":expires"]}
            self._client.put_item(TableName=self._table, Item=to_item(item))  # a new row of failures

    def clear(self, username: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(failures_key(username)))


class DynamoQbwcSessionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, session: QbwcSession) -> None:
        item = {
            **session_key(session.ticket),
            "tenant_id": session.tenant_id,
            "username": session.username,
            "created_at": timestamp(session.created_at),
            "expires_at": int(session.expires_at.timestamp()),
        }
        # A 256-bit random ticket does not collide; the condition makes sure a session is never overwritten.
        self._client.put_item(
            TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, ticket: str) -> QbwcSession | None:
        # Consistent: the Web Connector's next call may reach another instance a moment after authenticate.
        values = read_item(self._client, self._table, session_key(ticket))
        if not values:
            return None
        return QbwcSession(
            ticket=ticket,
            tenant_id=str(values["tenant_id"]),
            username=str(values["username"]),
            created_at=datetime.fromisoformat(str(values["created_at"])),
            expires_at=datetime.fromtimestamp(int(values["expires_at"]), UTC),
            last_error=str(values.get("last_error", "")),
            progress=_progress(values.get("progress")),
        )

    def set_last_error(self, ticket: str, message: str) -> None:
        self._set(ticket, "last_error", message)

    def save_progress(self, ticket: str, progress: SessionProgress) -> None:
        self._set(ticket, "progress", dataclasses.asdict(progress))

    def _set(self, ticket: str, attribute: str, value: Any) -> None:
        """Set one attribute of a session that exists: a closed session is not brought back."""
        update_if(
            self._client,
            self._table,
            session_key(ticket),
            f"SET {attribute} = :value",
            "attribute_exists(pk)",
            values={":value": value},
        )

    def delete(self, ticket: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(session_key(ticket)))


def _progress(stored: Any) -> SessionProgress:
    """The stored map as SessionProgress; fields it lacks (stored by an older version) keep their defaults."""
    if not isinstance(stored, dict):
        return SessionProgress()
    known = {f.name for f in dataclasses.fields(SessionProgress)}
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in known:
            continue
        if isinstance(value, bool) or value is None or isinstance(value, str):
            values[name] = value
        elif isinstance(value, list):
            values[name] = tuple(str(v) for v in value)
        else:  # DynamoDB numbers come back as Decimal
            values[name] = int(value)
    return SessionProgress(**values)
