"""In-memory Web Connector stores. They keep the DynamoDB adapters' contract (sessions keyed by ticket digest,
expiry stored to the second); tests/adapters/test_qbwc_dynamodb.py runs the same checks against both."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from qbsync.domain.qbwc import QbwcCredential, QbwcSession, hash_password, ticket_digest


@dataclass
class InMemoryQbwcCredentials:
    items: dict[str, QbwcCredential] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def find(self, username: str) -> QbwcCredential | None:
        self.lookups.append(username)
        return self.items.get(username)

    def register(self, username: str, tenant_id: str, password: str) -> QbwcCredential:
        credential = QbwcCredential(
            username=username, tenant_id=tenant_id, password_hash=hash_password(password)
        )
        self.items[username] = credential
        return credential


@dataclass
class InMemoryQbwcSessions:
    items: dict[str, QbwcSession] = field(default_factory=dict)

    def add(self, session: QbwcSession) -> None:
        key = ticket_digest(session.ticket)
        if key in self.items:
            raise ValueError("a session with this ticket exists")
        # DynamoDB keeps expires_at as whole epoch seconds.
        expires = datetime.fromtimestamp(int(session.expires_at.timestamp()), UTC)
        self.items[key] = replace(session, expires_at=expires)

    def get(self, ticket: str) -> QbwcSession | None:
        return self.items.get(ticket_digest(ticket))

    def set_last_error(self, ticket: str, message: str) -> None:
        key = ticket_digest(ticket)
        if key in self.items:
            self.items[key] = replace(self.items[key], last_error=message)

    def delete(self, ticket: str) -> None:
        self.items.pop(ticket_digest(ticket), None)
