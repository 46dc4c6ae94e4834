"""QuickBooks Web Connector: the credential a tenant's Web Connector logs in with, the .qwc file that sets it
up, the session it then holds, and the ports that store them.

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
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

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
PASSWORD_BYTES = 18  # 144 random bits, 24 URL-safe characters: typed once into the Web Connector

# The .qwc's GUIDs are uuid5 of the tenant id under these namespaces of qbsync's own. They must never change:
# the Web Connector writes the FileID into the company file at its first session, and a later session whose
# FileID differs is "another company file". The OwnerID is per tenant too, not per application as the guide
# suggests (p.37): two tenants may sync one company file, and each needs its own FileID DataExt there, which
# QuickBooks keys by OwnerID (qbwc/qbwc README, "Multiple users and multiple company files").
OWNER_ID_NAMESPACE = uuid.UUID("a29c70be-1996-42d7-9f89-849fe687dcb0")
FILE_ID_NAMESPACE = uuid.UUID("5a709e89-e40e-4a3f-9319-b6b491b3b319")
QWC_DESCRIPTION = "Sends {app} records to QuickBooks Desktop and brings payments back."
# The Web Connector runs only https applications, except on this machine (QBWC1010, guide pp.35, 83-87).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# Wrong logins. After FAILURES_BEFORE_DELAY failures for one user name, each with less than FAILURE_WINDOW
# since the one before, every further attempt on that name waits before it is even checked: 1, 2, 4 s, then
# MAX_LOGIN_DELAY_SECONDS. Waiting before the check, whatever the outcome, is what makes it a slow-down: were
# only wrong answers late, a guesser would drop every attempt not answered at once and go on at full speed.
# Nobody is locked out (the tenant's own Web Connector still logs in, a few seconds late), and the longest
# wait stays far below what the Web Connector waits for an answer (.NET's 100 s default; NOTES.md §3) and the
# 30 s of API Gateway and QbwcFunction. A row ends FAILURE_WINDOW after its last failure (or at a good login),
# so a guesser who keeps going stays slowed down: at most one guess per 5 s for each attempt in flight.
# A Web Connector left with a retired password is slowed down too, harmlessly: it is told nvu all the same.
FAILURES_BEFORE_DELAY = 5
FAILURE_WINDOW = timedelta(minutes=15)
MAX_LOGIN_DELAY_SECONDS = 5.0


@dataclass(frozen=True)
class QbwcCredential:
    """What is stored of a Web Connector login: the .qwc file's user name and a hash of the password."""

    username: str
    tenant_id: str
    password_hash: str


@dataclass(frozen=True)
class SessionProgress:
    """What a session's sync run has done so far, kept with the session between the Web Connector's callbacks
    (each may reach another Lambda): the engine's run counters, and what the company said of itself."""

    messages: int = 0  # qbXML messages handed out
    requests: int = 0  # requests in them
    sent: int = 0  # writes among them
    synced: int = 0
    failed: int = 0
    rounds: int = 0
    unanswered_in_a_row: int = 0
    company_checked: bool = False  # the first sendRequestXML's description of QuickBooks was accepted
    taxable_code: str | None = None  # the company's default sales tax codes; None: it does not track tax
    non_taxable_code: str | None = None
    finished: bool = False  # nothing more to send in this session: receiveResponseXML answered 100
    deferred: tuple[str, ...] = ()  # records QuickBooks told to try later ("invoice/i-1"): the next session
    payments_read: bool = False  # the payments changed in QuickBooks were read back (or need not be)
    payments_iterator: str | None = None  # the iterator of the next page of payments
    payments_until: str | None = None  # ISO time the pages read so far cover up to
    order_lines: str = ""  # purchase orders' lines read in this session, for new bills: JSON by TxnID
    lists: str = ""  # this session's read of the company's lists, JSON (desktop_sync.ListPlan); "": not begun


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
    progress: SessionProgress = field(default_factory=SessionProgress)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise ValueError("session times must carry a time zone")

    def is_active(self, now: datetime) -> bool:
        return now < self.expires_at


def login_delay(recent_failures: int) -> float:
    """Seconds to wait before checking a login for a user name with this many recent failures."""
    if recent_failures < FAILURES_BEFORE_DELAY:
        return 0.0
    return min(2.0 ** (recent_failures - FAILURES_BEFORE_DELAY), MAX_LOGIN_DELAY_SECONDS)


def user_name_of(tenant_id: str) -> str:
    """The Web Connector user name of a tenant: its id (unique, and 1-64 plain characters)."""
    return tenant_id


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _guid(namespace: uuid.UUID, tenant_id: str) -> str:
    return "{" + str(uuid.uuid5(namespace, tenant_id)).upper() + "}"


def owner_id_of(tenant_id: str) -> str:
    """The tenant's OwnerID, as the .qwc and qbXML write a GUID: in braces."""
    return _guid(OWNER_ID_NAMESPACE, tenant_id)


def file_id_of(tenant_id: str) -> str:
    """The FileID the tenant's Web Connector writes into its company file at the first session."""
    return _guid(FILE_ID_NAMESPACE, tenant_id)


def web_connector_url(api_base_url: str) -> str:
    """The AppURL for a service reached at `api_base_url`: https, or http for this machine only.

    Behind API Gateway the scheme is https whatever a request's X-Forwarded-Proto claims, so an http base on
    any other host is taken as https rather than written into a file the Web Connector would refuse.
    """
    parts = urlsplit(api_base_url)
    scheme = parts.scheme if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS else "https"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/qbwc", "", ""))


@dataclass(frozen=True)
class QwcFile:
    """What a tenant's .qwc file says (QBWC Programmer's Guide, Table 4-1, pp.33-38). No password: the tenant
    types it into the Web Connector."""

    app_name: str
    app_url: str
    app_support: str
    app_description: str
    user_name: str
    owner_id: str
    file_id: str
    run_every_minutes: int
    app_id: str = ""  # required, may be empty (p.34)
    qb_type: str = "QBFS"  # QuickBooks financial software, not Point of Sale
    is_read_only: bool = False  # qbsync writes


def qwc_file(tenant_id: str, *, app_name: str, api_base_url: str, run_every_minutes: int) -> QwcFile:
    url = web_connector_url(api_base_url)
    return QwcFile(
        app_name=app_name,
        app_url=url,
        app_support=url,  # GET /qbwc is the support page: the same host, as the Web Connector requires
        app_description=QWC_DESCRIPTION.format(app=app_name),
        user_name=user_name_of(tenant_id),
        owner_id=owner_id_of(tenant_id),
        file_id=file_id_of(tenant_id),
        run_every_minutes=run_every_minutes,
    )


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

    def put(self, credential: QbwcCredential) -> None:
        """Store the credential of its user name, replacing (retiring) the one stored before."""

    def delete(self, username: str) -> None:
        """Retire the credential of this user name (its Web Connector is then told nvu); no error when there
        is none."""


class QbwcLoginFailures(Protocol):
    """Wrong logins per user name, for `login_delay`; a row ends FAILURE_WINDOW after its last failure."""

    def recent(self, username: str, now: datetime) -> int:
        """How many failures in a row, each within FAILURE_WINDOW of the one before and the last of `now`."""

    def add(self, username: str, now: datetime) -> None: ...

    def clear(self, username: str) -> None:
        """Forget the failures of this user name (after a good login)."""


class QwcWriter(Protocol):
    def __call__(self, qwc: QwcFile) -> str:
        """The text of the .qwc file."""


class QbwcSessionStore(Protocol):
    def add(self, session: QbwcSession) -> None: ...

    def get(self, ticket: str) -> QbwcSession | None:
        """The session of this ticket as stored, expired or not (expiry is the caller's rule)."""

    def set_last_error(self, ticket: str, message: str) -> None:
        """Keep what getLastError is to say for this session; nothing happens when there is no session."""

    def save_progress(self, ticket: str, progress: SessionProgress) -> None:
        """Keep the session's progress; nothing happens when there is no session."""

    def delete(self, ticket: str) -> None:
        """Forget the session; no error when there is none."""
