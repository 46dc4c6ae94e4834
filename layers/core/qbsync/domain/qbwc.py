"""QuickBooks Web Connector: the credential a tenant's Web Connector logs in with, the session it then holds,
and the ports that store them.

Passwords are kept only as salted scrypt hashes. Tickets are random bearer tokens for one Web Connector
session; stores keep only their SHA-256 digest, like API keys: 256 random bits leave nothing to guess.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# A session is deleted at closeConnection; the TTL only clears sessions the Web Connector abandoned.
SESSION_TTL = timedelta(hours=2)
# Longer input is refused before any lookup or hashing (DynamoDB keys stop at 2048 bytes).
MAX_USERNAME_LENGTH = 200
MAX_PASSWORD_LENGTH = 1024
MAX_TICKET_LENGTH = 200

_SCHEME = "scrypt"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1  # 16 MiB and ~50 ms per hash
_SALT_BYTES, _HASH_BYTES = 16, 32
_MAX_SCRYPT_N = 2**20  # refuse stored parameters that would exhaust the function's memory


@dataclass(frozen=True)
class QbwcCredential:
    """What is stored of a Web Connector login: the .qwc file's user name and a hash of the password."""

    username: str
    tenant_id: str
    password_hash: str


@dataclass(frozen=True)
class QbwcSession:
    """One Web Connector update, from authenticate to closeConnection, identified by its ticket."""

    ticket: str
    tenant_id: str
    username: str
    created_at: datetime
    expires_at: datetime
    # Why this session has nothing to exchange (a QuickBooks qbsync cannot work with): getLastError's answer.
    last_error: str = ""

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise ValueError("session times must carry a time zone")

    def is_active(self, now: datetime) -> bool:
        return now < self.expires_at


def new_session(credential: QbwcCredential, now: datetime) -> QbwcSession:
    return QbwcSession(
        ticket=secrets.token_urlsafe(32),
        tenant_id=credential.tenant_id,
        username=credential.username,
        created_at=now,
        expires_at=now + SESSION_TTL,
    )


def ticket_digest(ticket: str) -> str:
    """How stores key a session: never by the ticket itself."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64 salt and hash): the parameters travel with it, so they can grow."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    derived = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_HASH_BYTES
    )
    return f"{_SCHEME}${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(derived)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the stored hash; False for a hash this module did not write."""
    try:
        scheme, n_text, r_text, p_text, salt_text, hash_text = encoded.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(hash_text, validate=True)
    except (ValueError, binascii.Error):
        return False
    if scheme != _SCHEME or not (1 < n <= _MAX_SCRYPT_N and 0 < r <= 32 and 0 < p <= 16) or not expected:
        return False
    try:
        derived = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=256 * 1024 * 1024
        )
    except ValueError:  # parameters OpenSSL refuses (n not a power of two, too much memory)
        return False
    return hmac.compare_digest(derived, expected)


@functools.cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def spend_verification_time(password: str) -> None:
    """Do the work of a real check, so an unknown user name takes as long to refuse as a wrong password."""
    verify_password(password, _decoy_hash())


class QbwcCredentialStore(Protocol):
    def find(self, username: str) -> QbwcCredential | None:
        """The credential of this Web Connector user name, or None."""


class QbwcSessionStore(Protocol):
    def add(self, session: QbwcSession) -> None: ...

    def get(self, ticket: str) -> QbwcSession | None:
        """The session of this ticket as stored, expired or not (expiry is the caller's rule)."""

    def set_last_error(self, ticket: str, message: str) -> None:
        """Keep what getLastError is to say for this session; nothing happens when there is no session."""

    def delete(self, ticket: str) -> None:
        """Forget the session; no error when there is none."""
