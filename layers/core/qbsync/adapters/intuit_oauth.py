"""Intuit's OAuth 2.0 through intuit-oauth's AuthClient.

AuthClient fetches the discovery document in its constructor (intuit/oauth-pythonclient#18, #52), so one
client is built per container and reused under a lock; its token attributes are set per call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from qbsync.domain.connections import InvalidGrantError, OAuthProviderError, TokenSet

SCOPES = [Scopes.ACCOUNTING]


def discovery_environment(qbo_environment: str) -> str:
    """intuit-oauth's environment: 'sandbox', 'production', or a discovery URL (the local sandbox)."""
    if qbo_environment.startswith(("http://", "https://")):
        return qbo_environment.rstrip("/") + "/.well-known/openid_sandbox_configuration/"
    return qbo_environment


class IntuitOAuthProvider:
    def __init__(self, credentials: Callable[[], tuple[str, str]], qbo_environment: str) -> None:
        self._credentials = credentials
        self._environment = discovery_environment(qbo_environment)
        self._client: AuthClient | None = None
        self._lock = threading.Lock()

    def _auth_client(self, redirect_uri: str = "") -> AuthClient:
        client_id, client_secret = self._credentials()
        if self._client is None or self._client.client_id != client_id:
            try:
                self._client = AuthClient(client_id, client_secret, redirect_uri, self._environment)
            except (AuthClientError, requests.RequestException) as exc:
                raise OAuthProviderError("Intuit's discovery document could not be read") from exc
        client = self._client
        client.client_secret = client_secret
        client.redirect_uri = redirect_uri
        client.access_token = client.refresh_token = client.realm_id = None
        return client

    def authorization_url(self, state: str, redirect_uri: str) -> str:
        with self._lock:
            return str(self._auth_client(redirect_uri).get_authorization_url(SCOPES, state_token=state))

    def exchange(self, code: str, realm_id: str, redirect_uri: str, now: datetime) -> TokenSet:
        with self._lock:
            client = self._auth_client(redirect_uri)
            self._call(client.get_bearer_token, code, realm_id=realm_id)
            return self._tokens(client, realm_id, now)

    def refresh(self, tokens: TokenSet, now: datetime) -> TokenSet:
        with self._lock:
            client = self._auth_client()
            self._call(client.refresh, refresh_token=tokens.refresh_token)
            return self._tokens(client, tokens.realm_id, now)

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._call(self._auth_client().revoke, token=refresh_token)

    @staticmethod
    def _call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            method(*args, **kwargs)
        except AuthClientError as exc:
            if _oauth_error_code(exc) == "invalid_grant":
                raise InvalidGrantError("Intuit answered invalid_grant") from None
            raise OAuthProviderError(f"Intuit's token endpoint answered {exc.status_code}") from None
        except requests.RequestException as exc:
            raise OAuthProviderError(
                f"Intuit's token endpoint could not be reached: {type(exc).__name__}"
            ) from None

    @staticmethod
    def _tokens(client: AuthClient, realm_id: str, now: datetime) -> TokenSet:
        return TokenSet(
            realm_id=realm_id,
            access_token=str(client.access_token),
            refresh_token=str(client.refresh_token),
            access_expires_at=now + timedelta(seconds=int(client.expires_in)),
            refresh_expires_at=now + timedelta(seconds=int(client.x_refresh_token_expires_in)),
            refreshed_at=now,
        )


def _oauth_error_code(exc: AuthClientError) -> str | None:
    try:
        body = json.loads(exc.content or b"{}")
    except (ValueError, TypeError):
        return None
    return body.get("error") if isinstance(body, dict) else None
