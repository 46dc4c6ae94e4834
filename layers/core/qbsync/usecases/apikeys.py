"""Issue API keys to the host app and check the ones it presents."""

from __future__ import annotations

from qbsync.domain import apikeys
from qbsync.domain.apikeys import ApiKey
from qbsync.domain.ports import ApiKeyRepository, Clock


def issue_api_key(repo: ApiKeyRepository, clock: Clock, label: str) -> tuple[str, ApiKey]:
    """Store a new key's digest and return the plaintext, which exists nowhere else afterwards."""
    plaintext, key = apikeys.generate(label=label, now=clock.now())
    repo.add(key)
    return plaintext, key


def authenticate(repo: ApiKeyRepository, authorization: str | None) -> ApiKey | None:
    """The stored key matching the presented one, or None when it is missing, unknown or revoked."""
    presented = apikeys.from_authorization_header(authorization)
    if presented is None:
        return None
    key = repo.find(apikeys.digest(presented))
    if key is None or key.revoked:
        return None
    return key
