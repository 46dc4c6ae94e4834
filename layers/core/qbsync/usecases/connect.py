"""Onboarding a QuickBooks Online tenant: connect link → consent at Intuit → callback → connected.

Secrets in this flow (link tokens, OAuth state, codes, tokens) are random, stored only as digests or
encrypted, and never logged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from qbsync.domain.connections import (
    CONNECT_LINK_TTL,
    OAUTH_STATE_TTL,
    CompanyAccessDeniedError,
    CompanyReader,
    Connection,
    ConnectionProblem,
    ConnectionRepository,
    ConnectionStatus,
    ConnectLinkStore,
    EventPublisher,
    InvalidGrantError,
    OAuthProvider,
    OAuthProviderError,
    OAuthState,
    OAuthStateStore,
    TokenSet,
    TokenStore,
)
from qbsync.domain.errors import NotFoundError
from qbsync.domain.jobs import READ_QUICKBOOKS_LISTS_JOB, new_job
from qbsync.domain.ports import Clock, JobQueue, TenantRepository
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.run_requests import RunRequests

log = logging.getLogger(__name__)
CONNECTION_CHANGED = "connection.changed"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ConnectLink:
    url: str
    expires_at: datetime


@dataclass
class Onboarding:
    """The use cases of the connect flow, over the ports they need."""

    tenants: TenantRepository
    connections: ConnectionRepository
    links: ConnectLinkStore
    states: OAuthStateStore
    tokens: TokenStore
    oauth: OAuthProvider
    company: CompanyReader
    events: EventPublisher
    clock: Clock
    runs: RunRequests  # a new connection sends what waited for it
    jobs: JobQueue  # ... and reads the company's lists into the mirror

    def create_link(self, tenant_id: str, base_url: str) -> ConnectLink:
        tenant = self._tenant(tenant_id)
        token = secrets.token_urlsafe(32)
        expires_at = self.clock.now() + CONNECT_LINK_TTL
        self.links.add(digest(token), tenant.id, expires_at)
        return ConnectLink(url=f"{base_url}/connect/{token}", expires_at=expires_at)

    def tenant_of_link(self, link_token: str) -> Tenant | None:
        tenant_id = self.links.tenant_of(digest(link_token), self.clock.now())
        return self.tenants.get(tenant_id) if tenant_id else None

    def start(self, link_token: str, redirect_uri: str) -> str | None:
        """The authorization URL to send the tenant to, or None when the link is not valid."""
        tenant = self.tenant_of_link(link_token)
        if tenant is None or tenant.edition is not Edition.QBO:
            return None
        state = secrets.token_urlsafe(32)
        now = self.clock.now()
        self.states.add(OAuthState(digest(state), tenant.id, now + OAUTH_STATE_TTL, f"/connect/{link_token}"))
        connection = self.connections.get(tenant.id)
        if connection.status is not ConnectionStatus.CONNECTED:
            self._move(connection, ConnectionStatus.CONNECTING, now)
        return self.oauth.authorization_url(state, redirect_uri)

    def complete(
        self, *, state: str, code: str, realm_id: str, error: str, redirect_uri: str
    ) -> CallbackOutcome:
        """Finish a connect: exchange the code, prove the tokens open `realm_id`, claim it, store the tokens,
        ask for a read of the company's lists (usecases/quickbooks_lists.py), and for a run of the records
        that waited for the connection.

        `realmId` comes from the query string, which the person connecting controls: nothing is stored and no
        company is claimed until that company's CompanyInfo has been read with the new access token.
        """
        now = self.clock.now()
        taken = self.states.take(digest(state), now) if state else None
        if taken is None:
            return CallbackOutcome(CallbackResult.BAD_STATE)
        connection = self.connections.get(taken.tenant_id)
        if error:
            return self._refuse(connection, taken, CallbackResult.DECLINED, error, now)
        if not code or not realm_id:
            return CallbackOutcome(CallbackResult.BAD_STATE)
        try:
            tokens, name = self._exchange_and_prove(taken.tenant_id, code, realm_id, redirect_uri, now)
            self._claim_and_store(connection, tokens)
        except _RefusedError as refused:
            return self._refuse(connection, taken, refused.result, refused.code, now)
        self._move(
            connection,
            ConnectionStatus.CONNECTED,
            now,
            realm_id=realm_id,
            company_name=name,
            connected_since=now,
            last_error=None,
        )
        self.jobs.send(new_job(READ_QUICKBOOKS_LISTS_JOB, now, tenant_id=taken.tenant_id))
        self.runs.request(taken.tenant_id)
        return CallbackOutcome(CallbackResult.CONNECTED, taken.tenant_id, company_name=name)

    def _exchange_and_prove(
        self, tenant_id: str, code: str, realm_id: str, redirect_uri: str, now: datetime
    ) -> tuple[TokenSet, str]:
        """The tokens the code gives (exchanged once: the state is spent) and the name of the company they
        were proven to open by reading its CompanyInfo with them."""
        try:
            tokens = self.oauth.exchange(code, realm_id, redirect_uri, now)
        except (InvalidGrantError, OAuthProviderError) as exc:
            log.warning(
                "OAuth code exchange failed", extra={"tenant_id": tenant_id, "error": type(exc).__name__}
            )
            raise _RefusedError(CallbackResult.FAILED, "exchange_failed") from None
        try:
            return tokens, self.company.company_name(tokens)
        except CompanyAccessDeniedError:
            log.warning(
                "the new tokens do not open the company named in the callback; nothing stored",
                extra={"tenant_id": tenant_id, "realm_id": realm_id},
            )
            raise _RefusedError(CallbackResult.WRONG_COMPANY, "company_not_authorized") from None
        except Exception:  # without the proof the company cannot be claimed; the tenant simply tries again
            log.warning("CompanyInfo could not be read", extra={"tenant_id": tenant_id}, exc_info=True)
            raise _RefusedError(CallbackResult.UNCONFIRMED, "company_unconfirmed") from None

    def _claim_and_store(self, connection: Connection, tokens: TokenSet) -> None:
        """Map the proven realm to the tenant and store its tokens after whatever the tenant had."""
        tenant_id, realm_id = connection.tenant_id, tokens.realm_id
        if not self.connections.claim_realm(realm_id, tenant_id):
            raise _RefusedError(CallbackResult.REALM_IN_USE, "realm_in_use")
        stored = self.tokens.load(tenant_id)
        tokens = replace(tokens, version=stored.version + 1 if stored else 0)
        if not self.tokens.save(tenant_id, tokens, stored.version if stored else None):
            log.warning("the stored tokens changed while connecting", extra={"tenant_id": tenant_id})
            if connection.realm_id != realm_id:  # a realm this tenant already had stays mapped to it
                self.connections.release_realm(realm_id, tenant_id)
            raise _RefusedError(CallbackResult.FAILED, "exchange_failed")
        if connection.realm_id and connection.realm_id != realm_id:
            self.connections.release_realm(connection.realm_id, tenant_id)

    def connection(self, tenant_id: str) -> Connection:
        self._tenant(tenant_id)
        return self.connections.get(tenant_id)

    def disconnect(self, tenant_id: str) -> Connection:
        """Revoke and wipe the tokens, free the company for another tenant. A tenant that never had a company
        connected (no tokens, no company) has nothing to drop: nothing changes and no event is sent."""
        connection = self.connection(tenant_id)
        tokens = self.tokens.load(tenant_id)
        if tokens is None and connection.realm_id is None:
            return connection
        if tokens is not None:
            try:
                self.oauth.revoke(tokens.refresh_token)
            except (InvalidGrantError, OAuthProviderError) as exc:  # the tokens are wiped either way
                log.warning(
                    "revoke at Intuit failed", extra={"tenant_id": tenant_id, "error": type(exc).__name__}
                )
            self.tokens.delete(tenant_id)
        if connection.realm_id:
            self.connections.release_realm(connection.realm_id, tenant_id)
        return self._move(connection, ConnectionStatus.DISCONNECTED, self.clock.now(), last_error=None)

    def _tenant(self, tenant_id: str) -> Tenant:
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"No tenant with id {tenant_id!r}. Create it with POST /v1/tenants first.")
        return tenant

    def _refuse(
        self, connection: Connection, taken: OAuthState, result: CallbackResult, code: str, now: datetime
    ) -> CallbackOutcome:
        """Record why the attempt failed (a connection that worked before keeps working) and offer a retry."""
        message, action = _REFUSALS[result]
        status = (
            ConnectionStatus.CONNECTED
            if connection.status is ConnectionStatus.CONNECTED
            else ConnectionStatus.NOT_CONNECTED
        )
        self._move(connection, status, now, last_error=ConnectionProblem(code, message, action))
        return CallbackOutcome(result, taken.tenant_id, retry_path=taken.retry_path)

    def _move(
        self, connection: Connection, status: ConnectionStatus, now: datetime, **changes: object
    ) -> Connection:
        moved = connection.moved(status, now, **changes)
        self.connections.put(moved)
        if moved.status is not connection.status or moved.last_error != connection.last_error:
            self.events.publish(
                CONNECTION_CHANGED, moved.tenant_id, connection_detail(moved, connection.status)
            )
        return moved


def connection_detail(connection: Connection, previous: ConnectionStatus) -> dict[str, object]:
    return {
        "tenant_id": connection.tenant_id,
        "status": connection.status.value,
        "previous_status": previous.value,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "last_error": None
        if connection.last_error is None
        else {
            "code": connection.last_error.code,
            "message": connection.last_error.message,
            "action": connection.last_error.action,
        },
    }


class CallbackResult(StrEnum):
    CONNECTED = "connected"
    DECLINED = "declined"
    FAILED = "failed"
    REALM_IN_USE = "realm_in_use"
    WRONG_COMPANY = "wrong_company"
    UNCONFIRMED = "unconfirmed"
    BAD_STATE = "bad_state"


# What the tenant reads, and what to do, for each way a callback can fail after a valid state.
_REFUSALS: dict[CallbackResult, tuple[str, str]] = {
    CallbackResult.DECLINED: (
        "The connection was not approved at Intuit.",
        "Open the connect link again and choose Connect.",
    ),
    CallbackResult.REALM_IN_USE: (
        "This QuickBooks company is already connected to another account.",
        "Connect a different company, or disconnect it there.",
    ),
    CallbackResult.FAILED: ("Intuit did not accept the sign-in.", "Open the connect link again to retry."),
    CallbackResult.WRONG_COMPANY: (
        "QuickBooks did not confirm access to the company named in the sign-in.",
        "Open the connect link again and choose the company at Intuit.",
    ),
    CallbackResult.UNCONFIRMED: (
        "QuickBooks could not be reached to confirm the company.",
        "Open the connect link again to retry.",
    ),
}


class _RefusedError(Exception):
    """A callback refused after a valid state: the result to show and the code to record."""

    def __init__(self, result: CallbackResult, code: str) -> None:
        super().__init__(code)
        self.result = result
        self.code = code


@dataclass(frozen=True)
class CallbackOutcome:
    result: CallbackResult
    tenant_id: str | None = None
    company_name: str | None = None
    retry_path: str | None = None
