"""The tenant's hosted dashboard: the links a host app hands out, the sessions they open, and the ports that
keep both.

A link is a random token the host app gives the tenant (only its SHA-256 digest is stored, as for connect
links); opening it starts a session, whose random id lives in the tenant's browser as an HttpOnly cookie (only
its digest is stored too). A session belongs to the tenant of the link that opened it, for good: every page
reads the tenant from the session, never from the address or a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# How long a dashboard link stays valid: the host app chooses, within these bounds. A link is reusable until
# then (a link opened twice, or by a mail scanner before the tenant, must still work), so the bounds keep a
# leaked link's use short: one day at most, one hour unless asked.
LINK_TTL_MIN = timedelta(seconds=60)
LINK_TTL_MAX = timedelta(days=1)
LINK_TTL_DEFAULT = timedelta(hours=1)
# A session lasts a working day at most, and never beyond the link that opened it.
SESSION_MAX = timedelta(hours=8)


@dataclass(frozen=True)
class DashboardLink:
    """A link as stored: the digest of its token, whose dashboard it opens, until when, and whether its
    sessions may change anything."""

    digest: str
    tenant_id: str
    expires_at: datetime
    read_only: bool


@dataclass(frozen=True)
class DashboardSession:
    """A session as stored: the digest of its id, its tenant, until when, whether it may change anything, and
    the random secret its forms' CSRF tokens are derived from."""

    digest: str
    tenant_id: str
    expires_at: datetime
    read_only: bool
    csrf_secret: str


def session_expiry(link: DashboardLink, now: datetime) -> datetime:
    """The end of a session the link opens at `now`: the link's own end or `SESSION_MAX`, whichever first."""
    return min(link.expires_at, now + SESSION_MAX)


class DashboardLinkStore(Protocol):
    def add(self, link: DashboardLink) -> None: ...

    def find(self, digest: str, now: datetime) -> DashboardLink | None:
        """The link with this digest while it has not expired at `now`; None otherwise."""


class DashboardSessionStore(Protocol):
    def add(self, session: DashboardSession) -> None: ...

    def find(self, digest: str, now: datetime) -> DashboardSession | None:
        """The session with this digest while it has not expired at `now`; None otherwise."""
