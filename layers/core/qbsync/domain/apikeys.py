"""API keys of the host app: random secrets shown once; only their SHA-256 digest is ever stored.

The keys carry 256 bits of randomness, so a fast digest is enough: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

KEY_PREFIX = "qbs"


@dataclass(frozen=True)
class ApiKey:
    """What is stored of a key: never the key itself."""

    key_id: str
    key_hash: str
    label: str
    created_at: datetime
    revoked: bool = False


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate(label: str, now: datetime) -> tuple[str, ApiKey]:
    """A new key: the plaintext to hand out once, and the record to store."""
    key_id = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return plaintext, ApiKey(key_id=key_id, key_hash=digest(plaintext), label=label, created_at=now)


def from_authorization_header(value: str | None) -> str | None:
    """The key presented in an `Authorization` header (`Bearer <key>`, or the bare key), if any."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    candidate = rest.strip() if scheme.lower() == "bearer" else value.strip()
    if not candidate.startswith(f"{KEY_PREFIX}_") or len(candidate) > 200:
        return None
    return candidate
