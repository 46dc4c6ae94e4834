"""Access tokens on demand: refreshed near expiry or after a 401, by exactly one worker at a time per tenant.

The lease (a `Lease` keyed by tenant id) is a conditional write in storage, so it holds across every Lambda.
A rotated refresh token is stored before anything uses it. `invalid_grant` is believed only after re-reading
storage: another worker may have rotated the token a moment earlier.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from qbsync.domain.connections import (
    UPKEEP_AFTER,
    ConnectionProblem,
    ConnectionRepository,
    ConnectionStatus,
    EventPublisher,
    InvalidGrantError,
    NotConnectedError,
    OAuthProvider,
    TokenSet,
    TokenStore,
)
from qbsync.domain.metrics import NEEDS_REAUTH, NO_METRICS, TOKEN_REFRESHES, Metrics
from qbsync.domain.ports import Clock, Lease
from qbsync.usecases.connect import CONNECTION_CHANGED, connection_detail

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)
_RECONNECT = "Ask the tenant to open a new connect link and connect again."
_INVALID_GRANT = ConnectionProblem(
    "invalid_grant", "QuickBooks no longer accepts this connection.", _RECONNECT
)
_REFUSED = ConnectionProblem(
    "access_refused", "QuickBooks refuses this connection's access, even just after a refresh.", _RECONNECT
)
# What became of a refresh Intuit was asked for (TOKEN_REFRESHES' outcome).
REFRESHED = "refreshed"
INVALID_GRANT = "invalid_grant"  # Intuit no longer accepts the refresh token
FAILED = "failed"  # anything else: Intuit unreachable or failing, the app's keys refused


@dataclass
class TokenKeeper:
    tokens: TokenStore
    lease: Lease  # one refresh per tenant at a time
    oauth: OAuthProvider
    connections: ConnectionRepository
    events: EventPublisher
    clock: Clock
    wait_step: float = 0.1
    wait_limit: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    metrics: Metrics = NO_METRICS

    def access_token(self, tenant_id: str) -> TokenSet:
        """Tokens whose access token is good for at least a few minutes."""
        tokens = self._load(tenant_id)
        if tokens.fresh_at(self.clock.now()):
            return tokens
        return self.refresh(tenant_id, stale=tokens)

    def after_unauthorized(self, tenant_id: str, used: TokenSet) -> TokenSet:
        """The API refused `used` with a 401: refresh unless someone already has."""
        return self.refresh(tenant_id, stale=used, force=True)

    def refused_after_refresh(self, tenant_id: str, used: TokenSet) -> None:
        """The API refused `used` (401) though it was just refreshed: no refresh can help, only the tenant.

        Tokens rotated by someone else since `used` are left to prove themselves.
        """
        current = self.tokens.load(tenant_id)
        if current is not None and current.version != used.version:
            return
        self._needs_reauth(tenant_id, _REFUSED)

    def upkeep(self, tenant_id: str) -> bool:
        """Scheduled: use the refresh token if it has rested a week, so Intuit's idle expiry never comes."""
        tokens = self._load(tenant_id)
        rested_since = tokens.refreshed_at or datetime.min.replace(tzinfo=UTC)
        if rested_since + UPKEEP_AFTER > self.clock.now():
            return False
        self.refresh(tenant_id, tokens, force=True)
        return True

    def refresh(self, tenant_id: str, stale: TokenSet, *, force: bool = False) -> TokenSet:
        waited = 0.0
        owner = uuid.uuid4().hex  # per call: two threads of one container must not share a lease
        while True:
            if self.lease.acquire(tenant_id, owner, self.clock.now(), LEASE):
                try:
                    return self._refresh_holding_lease(tenant_id, stale, force)
                finally:
                    self.lease.release(tenant_id, owner)
            # Another worker is refreshing: wait for its result instead of refreshing again.
            self.sleep(self.wait_step)
            waited += self.wait_step
            current = self._load(tenant_id)
            if current.version != stale.version and current.fresh_at(self.clock.now()):
                return current
            if waited >= self.wait_limit:
                raise TimeoutError(
                    f"token refresh for tenant {tenant_id} did not finish in {self.wait_limit}s"
                )

    def _refresh_holding_lease(self, tenant_id: str, stale: TokenSet, force: bool) -> TokenSet:
        current = self._load(tenant_id)
        now = self.clock.now()
        if current.version != stale.version or (not force and current.fresh_at(now)):
            return current  # someone refreshed between our read and our lease
        if self.connections.get(tenant_id).status is ConnectionStatus.NEEDS_REAUTH:
            raise NotConnectedError(
                f"tenant {tenant_id} must reconnect QuickBooks"
            )  # no retry storm at Intuit
        try:
            rotated = self.oauth.refresh(current, now)
        except InvalidGrantError:
            self.metrics.add(TOKEN_REFRESHES, tenant_id=tenant_id, outcome=INVALID_GRANT)
            latest = self._load(tenant_id)
            if latest.version != current.version:
                return latest
            self._needs_reauth(tenant_id, _INVALID_GRANT)
            raise NotConnectedError(f"tenant {tenant_id} must reconnect QuickBooks") from None
        except Exception:
            self.metrics.add(TOKEN_REFRESHES, tenant_id=tenant_id, outcome=FAILED)
            raise
        self.metrics.add(TOKEN_REFRESHES, tenant_id=tenant_id, outcome=REFRESHED)
        rotated = TokenSet(
            realm_id=current.realm_id,
            access_token=rotated.access_token,
            refresh_token=rotated.refresh_token,
            access_expires_at=rotated.access_expires_at,
            refresh_expires_at=rotated.refresh_expires_at,
            version=current.version + 1,
            refreshed_at=now,
        )
        if not self.tokens.save(tenant_id, rotated, current.version):
            # Cannot happen while we hold the lease unless it expired; the stored value wins.
            log.error("token rotation lost a race", extra={"tenant_id": tenant_id})
            return self._load(tenant_id)
        log.info("access token refreshed", extra={"tenant_id": tenant_id, "version": rotated.version})
        return rotated

    def _load(self, tenant_id: str) -> TokenSet:
        tokens = self.tokens.load(tenant_id)
        if tokens is None:
            raise NotConnectedError(f"tenant {tenant_id} has no QuickBooks Online connection")
        return tokens

    def _needs_reauth(self, tenant_id: str, problem: ConnectionProblem) -> None:
        connection = self.connections.get(tenant_id)
        if connection.status is ConnectionStatus.NEEDS_REAUTH:
            return
        moved = connection.moved(ConnectionStatus.NEEDS_REAUTH, self.clock.now(), last_error=problem)
        self.connections.put(moved)
        self.events.publish(CONNECTION_CHANGED, tenant_id, connection_detail(moved, connection.status))
        self.metrics.add(NEEDS_REAUTH, tenant_id=tenant_id, reason=problem.code)
        log.warning("connection needs re-authorization", extra={"tenant_id": tenant_id})
