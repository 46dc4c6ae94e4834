"""The tenant's hosted dashboard: links a host app hands out, the sessions they open, the CSRF tokens of the
sessions' forms, and what the Overview page counts.

Links and sessions are made as connect links are (usecases/connect.py): a random token, only its SHA-256
digest stored, with an expiry. A link may be opened again and again until it expires (a tenant opening it
twice, a host app reloading the frame it is in, a mail scanner fetching it first must not spend it); each
opening starts a new session of the link's tenant, ending with the link or after `SESSION_MAX`, whichever is
first. Session ids are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from qbsync.domain.dashboard import (
    LINK_TTL_DEFAULT,
    LINK_TTL_MAX,
    LINK_TTL_MIN,
    DashboardLink,
    DashboardLinkStore,
    DashboardSession,
    DashboardSessionStore,
    session_expiry,
)
from qbsync.domain.errors import InvalidInputError
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.usecases.connect import digest
from qbsync.usecases.status import Statuses
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)
FAILED_SHOWN = 50  # failed records on the Overview page, the newest first


@dataclass(frozen=True)
class IssuedDashboardLink:
    url: str
    expires_at: datetime
    read_only: bool


@dataclass(frozen=True)
class OpenedSession:
    """A new session: its id (for the cookie, shown nowhere else) and the session as stored."""

    session_id: str
    session: DashboardSession


@dataclass
class DashboardAccess:
    tenants: TenantRepository
    links: DashboardLinkStore
    sessions: DashboardSessionStore
    clock: Clock

    def create_link(
        self, tenant_id: str, base_url: str, *, read_only: bool = False, ttl: timedelta = LINK_TTL_DEFAULT
    ) -> IssuedDashboardLink:
        tenant = get_tenant(self.tenants, tenant_id)
        if not LINK_TTL_MIN <= ttl <= LINK_TTL_MAX:
            raise InvalidInputError(
                f"A dashboard link lasts {LINK_TTL_MIN.total_seconds():.0f} to "
                f"{LINK_TTL_MAX.total_seconds():.0f} seconds."
            )
        token = secrets.token_urlsafe(32)
        expires_at = self.clock.now() + ttl
        self.links.add(DashboardLink(digest(token), tenant.id, expires_at, read_only))
        return IssuedDashboardLink(f"{base_url}/dashboard/{token}", expires_at, read_only)

    def open(self, link_token: str) -> OpenedSession | None:
        """A new session of the link's tenant; None for an unknown or expired link, or a tenant gone."""
        now = self.clock.now()
        link = self.links.find(digest(link_token), now)
        if link is None or self.tenants.get(link.tenant_id) is None:
            return None
        session_id = secrets.token_urlsafe(32)
        session = DashboardSession(
            digest=digest(session_id),
            tenant_id=link.tenant_id,
            expires_at=session_expiry(link, now),
            read_only=link.read_only,
            csrf_secret=secrets.token_urlsafe(32),
        )
        self.sessions.add(session)
        log.info("dashboard session opened", extra={"tenant_id": link.tenant_id, "read_only": link.read_only})
        return OpenedSession(session_id, session)

    def session(self, session_id: str) -> DashboardSession | None:
        """The live session with this id; None for an unknown, expired or empty one."""
        if not session_id:
            return None
        return self.sessions.find(digest(session_id), self.clock.now())


def csrf_token(session: DashboardSession) -> str:
    """The token every form of the session carries: HMAC-SHA256 of the session (its id's digest) keyed with
    the session's own random secret, so a token is good for that session only and cannot be made without the
    stored secret (OWASP CSRF Prevention Cheat Sheet: a synchronizer token, one per session, checked on every
    state-changing request)."""
    return hmac.new(session.csrf_secret.encode(), session.digest.encode(), hashlib.sha256).hexdigest()


def csrf_valid(session: DashboardSession, given: str | None) -> bool:
    """Whether a posted token is the session's, compared in constant time."""
    if not given:
        return False
    return hmac.compare_digest(csrf_token(session).encode(), given.encode("utf-8", "replace"))


# ---------------------------------------------------------------------- what the Overview counts

# Columns of the Overview's table: each groups the states a bookkeeper tells apart.
COUNTED = {
    SyncState.SYNCED: "synced",
    SyncState.LOCKED: "synced",
    SyncState.PENDING: "pending",
    SyncState.SYNCING: "pending",
    SyncState.FAILED: "failed",
    SyncState.DRAFT: "draft",
    SyncState.IGNORED: "ignored",
    SyncState.VOIDED: "voided",
}
COLUMNS = ("synced", "pending", "failed", "draft", "ignored")


@dataclass(frozen=True)
class TypeCounts:
    record_type: str
    counts: dict[str, int]  # by COLUMNS (and "voided"), zeros included

    @property
    def total(self) -> int:
        """The records that are meant to reach QuickBooks: all but the deleted ones."""
        return sum(n for column, n in self.counts.items() if column != "voided")

    @property
    def percent_synced(self) -> int:
        return self.counts["synced"] * 100 // self.total if self.total else 100


@dataclass(frozen=True)
class RecordsOverview:
    by_type: list[TypeCounts]  # the types that have records, in RECORD_TYPES order
    failed: list[SyncRecord]  # up to FAILED_SHOWN


def records_overview(statuses: Statuses, tenant_id: str, failed_limit: int = FAILED_SHOWN) -> RecordsOverview:
    """Counts per record type (the types that have records) in the Overview's columns, and the newest failed
    records: the tenant's status as GET /v1/tenants/{id}/status answers it."""
    status = statuses.status(tenant_id, failures_limit=max(1, failed_limit))
    by_type: list[TypeCounts] = []
    for record_type, counted in status.records.items():
        if counted.total == 0:
            continue
        counts = dict.fromkeys((*COLUMNS, "voided"), 0)
        for state, n in counted.states.items():
            counts[COUNTED[state]] += n
        by_type.append(TypeCounts(record_type, counts))
    return RecordsOverview(by_type, status.failures[:failed_limit])
