"""In-memory ports of the connect flow, with the adapters' contracts: versions, single-use states."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from qbsync.domain.connections import (
    CompanyAccessDeniedError,
    Connection,
    InvalidGrantError,
    OAuthProviderError,
    OAuthState,
    TokenSet,
)
from tests.unit.fakes import FixedClock


@dataclass
class InMemoryTokens:
    items: dict[str, TokenSet] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, tenant_id: str) -> TokenSet | None:
        with self.lock:
            return self.items.get(tenant_id)

    def save(self, tenant_id: str, tokens: TokenSet, expected_version: int | None) -> bool:
        with self.lock:
            current = self.items.get(tenant_id)
            if (current.version if current else None) != expected_version:
                return False
            self.items[tenant_id] = tokens
            return True

    def delete(self, tenant_id: str) -> None:
        with self.lock:
            self.items.pop(tenant_id, None)


@dataclass
class InMemoryConnections:
    items: dict[str, Connection] = field(default_factory=dict)
    realms: dict[str, str] = field(default_factory=dict)

    def get(self, tenant_id: str) -> Connection:
        return self.items.get(tenant_id, Connection(tenant_id=tenant_id))

    def put(self, connection: Connection) -> None:
        self.items[connection.tenant_id] = connection

    def claim_realm(self, realm_id: str, tenant_id: str) -> bool:
        if self.realms.get(realm_id, tenant_id) != tenant_id:
            return False
        self.realms[realm_id] = tenant_id
        return True

    def release_realm(self, realm_id: str, tenant_id: str) -> None:
        if self.realms.get(realm_id) == tenant_id:
            del self.realms[realm_id]


@dataclass
class InMemoryLinks:
    items: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def add(self, digest: str, tenant_id: str, expires_at: datetime) -> None:
        self.items[digest] = (tenant_id, expires_at)

    def tenant_of(self, digest: str, now: datetime) -> str | None:
        found = self.items.get(digest)
        return found[0] if found and found[1] > now else None


@dataclass
class InMemoryStates:
    items: dict[str, OAuthState] = field(default_factory=dict)

    def add(self, state: OAuthState) -> None:
        self.items[state.digest] = state

    def take(self, digest: str, now: datetime) -> OAuthState | None:
        state = self.items.pop(digest, None)
        return state if state and state.expires_at > now else None


@dataclass
class FakeIntuit:
    """Intuit's token endpoint in memory: codes once, refresh tokens single-use.

    As at Intuit, the exchange does not see the `realmId` of the callback: the tokens open the company the
    code was issued for (`opens`), whatever realm the caller files them under.
    """

    clock: FixedClock
    codes: dict[str, str] = field(default_factory=dict)  # code -> realm
    opens: dict[str, str] = field(default_factory=dict)  # access token -> the realm it was issued for
    valid_refresh: set[str] = field(default_factory=set)
    refreshes: int = 0
    down: bool = False  # the token endpoint fails (a 5xx, a timeout): refresh raises OAuthProviderError
    revoked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def authorization_url(self, state: str, redirect_uri: str) -> str:
        return f"https://intuit.test/connect?state={state}&redirect_uri={redirect_uri}"

    def _issue(self, realm_id: str, now: datetime, issued_for: str) -> TokenSet:
        self.counter += 1
        refresh = f"refresh-{self.counter}"
        self.valid_refresh.add(refresh)
        self.opens[f"access-{self.counter}"] = issued_for
        return TokenSet(
            realm_id,
            f"access-{self.counter}",
            refresh,
            now + timedelta(hours=1),
            now + timedelta(days=100),
            refreshed_at=now,
        )

    def exchange(self, code: str, realm_id: str, redirect_uri: str, now: datetime) -> TokenSet:
        with self.lock:
            issued_for = self.codes.pop(code, None)
            if issued_for is None:
                raise InvalidGrantError("bad code")
            return self._issue(realm_id, now, issued_for)

    def refresh(self, tokens: TokenSet, now: datetime) -> TokenSet:
        with self.lock:
            self.refreshes += 1
            if self.down:
                raise OAuthProviderError("Intuit's token endpoint answered 503")
            if tokens.refresh_token not in self.valid_refresh:
                raise InvalidGrantError("invalid_grant")
            self.valid_refresh.discard(tokens.refresh_token)
            return self._issue(tokens.realm_id, now, self.opens.get(tokens.access_token, tokens.realm_id))

    def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)
        self.valid_refresh.discard(refresh_token)


@dataclass
class FakeCompany:
    """CompanyInfo as the Accounting API serves it: only to an access token issued for that company."""

    intuit: FakeIntuit
    names: dict[str, str] = field(default_factory=dict)
    unreachable: bool = False

    def company_name(self, tokens: TokenSet) -> str:
        if self.unreachable:
            raise ConnectionError("QuickBooks did not answer")
        if self.intuit.opens.get(tokens.access_token) != tokens.realm_id:
            raise CompanyAccessDeniedError("403 3100 ApplicationAuthorizationFailed")
        return self.names.get(tokens.realm_id, "Sandbox Company")


@dataclass
class RecordingEvents:
    published: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.published.append((detail_type, tenant_id, detail))

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        for detail_type, detail in events:
            self.publish(detail_type, tenant_id, detail)


def expired(tokens: TokenSet, now: datetime) -> TokenSet:
    return replace(tokens, access_expires_at=now - timedelta(seconds=1))
