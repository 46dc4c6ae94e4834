"""A tenant's connection to its QuickBooks company: its states, its tokens (Online), what the Web Connector's
sessions said of the company (Desktop), and the ports it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from qbsync.domain.paging import Page

# Refresh when less than this is left of the access token's hour.
REFRESH_MARGIN = timedelta(minutes=5)
# Intuit expires a refresh token after 100 days without use; the scheduled upkeep uses it long before.
UPKEEP_AFTER = timedelta(days=7)
CONNECT_LINK_TTL = timedelta(days=7)
# A connected Desktop tenant's Web Connector is reported silent (`stale_since`) once this many of its
# intervals passed without a run: one or two missed runs are a PC asleep or QuickBooks closed for a while;
# three in a row mean nobody is collecting the tenant's records (the Desktop onboarding requirement: "a Web
# Connector silent for three times its interval").
STALE_AFTER_INTERVALS = 3
OAUTH_STATE_TTL = timedelta(minutes=15)


class ConnectionStatus(StrEnum):
    NOT_CONNECTED = "not_connected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class ConnectionProblem:
    """What went wrong, in the tenant's words, and what fixes it."""

    code: str
    message: str
    action: str


@dataclass(frozen=True)
class DesktopCompany:
    """The QuickBooks Desktop company a tenant's Web Connector last worked with, as its first sendRequestXML
    described it; `last_run_at` moves at every run after that."""

    file_path: str  # strCompanyFileName: the company file open in QuickBooks
    product_name: str  # "QuickBooks Pro 2014"
    quickbooks_version: str  # QuickBooks' own release, MajorVersion.MinorVersion ("24.0")
    country: str  # "US"
    file_id: str  # the FileID DataExt under the tenant's OwnerID: which company file this is (guide p.36)
    last_run_at: datetime


@dataclass(frozen=True)
class Connection:
    tenant_id: str
    status: ConnectionStatus = ConnectionStatus.NOT_CONNECTED
    realm_id: str | None = None
    company_name: str | None = None
    connected_since: datetime | None = None
    last_error: ConnectionProblem | None = None
    changed_at: datetime | None = None
    desktop: DesktopCompany | None = None  # Desktop tenants, once a session described the company

    def moved(self, status: ConnectionStatus, at: datetime, **changes: object) -> Connection:
        return replace(self, status=status, changed_at=at, **changes)  # type: ignore[arg-type]

    def stale_since(self, interval: timedelta, now: datetime) -> datetime | None:
        """When a connected Desktop tenant's Web Connector became silent: its last run plus
        STALE_AFTER_INTERVALS intervals, once that is past at `now`; None otherwise."""
        if self.status is not ConnectionStatus.CONNECTED or self.desktop is None:
            return None
        since = self.desktop.last_run_at + STALE_AFTER_INTERVALS * interval
        return since if since <= now else None


@dataclass(frozen=True)
class TokenSet:
    """OAuth tokens of one connection. Plaintext only in memory; stored encrypted."""

    realm_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime
    version: int = 0  # bumped by every stored rotation; writers compare it
    refreshed_at: datetime | None = None

    def fresh_at(self, now: datetime) -> bool:
        return self.access_expires_at - REFRESH_MARGIN > now


@dataclass(frozen=True)
class OAuthState:
    """The `state` of one authorization request: bound to a tenant, single use, short-lived."""

    digest: str
    tenant_id: str
    expires_at: datetime
    retry_path: str


class InvalidGrantError(Exception):
    """Intuit refused a code or refresh token (`invalid_grant`): only the tenant reconnecting can fix it."""


class OAuthProviderError(Exception):
    """Intuit's OAuth server failed otherwise (network, 5xx, invalid_client)."""


class NotConnectedError(Exception):
    """The tenant has no usable QuickBooks Online connection; the tenant must (re)connect."""


class QboAuthenticationError(Exception):
    """The Accounting API answered 401 (fault 3200): the access token is expired or revoked."""


class CompanyAccessDeniedError(Exception):
    """QuickBooks refused to open a company with the tokens given (401, or 403 fault 3100): the tokens were
    not issued for that company."""


class TokenStore(Protocol):
    def load(self, tenant_id: str) -> TokenSet | None: ...

    def save(self, tenant_id: str, tokens: TokenSet, expected_version: int | None) -> bool:
        """Store tokens if the stored version is still `expected_version` (None: nothing stored yet)."""

    def delete(self, tenant_id: str) -> None: ...


class ConnectionRepository(Protocol):
    def get(self, tenant_id: str) -> Connection: ...

    def put(self, connection: Connection) -> None: ...

    def claim_realm(self, realm_id: str, tenant_id: str) -> bool:
        """Map a realm to a tenant; False if another tenant holds it."""

    def release_realm(self, realm_id: str, tenant_id: str) -> None: ...

    def connected_tenants(self, limit: int, cursor: str | None) -> Page[str]:
        """Ids of the tenants whose connection is `connected`, a page at a time."""


class ConnectLinkStore(Protocol):
    def add(self, digest: str, tenant_id: str, expires_at: datetime) -> None: ...

    def tenant_of(self, digest: str, now: datetime) -> str | None: ...


class OAuthStateStore(Protocol):
    def add(self, state: OAuthState) -> None: ...

    def take(self, digest: str, now: datetime) -> OAuthState | None:
        """Remove and return the state if it exists and has not expired: a second take gets None."""


class OAuthProvider(Protocol):
    def authorization_url(self, state: str, redirect_uri: str) -> str: ...

    def exchange(self, code: str, realm_id: str, redirect_uri: str, now: datetime) -> TokenSet: ...

    def refresh(self, tokens: TokenSet, now: datetime) -> TokenSet: ...

    def revoke(self, refresh_token: str) -> None: ...


class CompanyReader(Protocol):
    def company_name(self, tokens: TokenSet) -> str:
        """The name in the CompanyInfo of `tokens.realm_id`, read with `tokens.access_token` as it is (no
        refresh, nothing stored). Raises CompanyAccessDeniedError when QuickBooks refuses those tokens for
        that company: it is the proof that the tokens belong to it."""


class EventPublisher(Protocol):
    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None: ...

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        """Publish (detail_type, detail) events of one tenant, in order, in as few requests as possible."""
