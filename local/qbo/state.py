"""Everything the sandbox remembers: apps, companies with their entities, grants and tokens, faults to inject.

One lock guards it all; handlers hold it for the duration of a request's effect.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.qbo.accounting import ApiOptions
    from local.qbo.engine import Books
    from local.qbo.limits import Limiter

ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=100)
AUTH_CODE_TTL = timedelta(minutes=5)

Entity = dict[str, Any]


@dataclass
class Clock:
    """Real time plus an offset that tests move forward (`POST /_sandbox/clock`)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    webhook_url: str | None = None
    verifier_token: str = field(default_factory=lambda: secrets.token_hex(16))
    webhook_format: str = "cloudevents"  # or "legacy"


@dataclass
class Company:
    realm_id: str
    name: str
    country: str = "US"
    entities: dict[str, dict[str, Entity]] = field(default_factory=dict)  # "Customer" -> Id -> object
    next_id: int = 1
    deleted: dict[str, dict[str, Entity]] = field(default_factory=dict)  # for CDC: tombstones
    books: Books | None = None  # the Accounting API's bookkeeping of this company (engine.books)

    def new_id(self) -> str:
        value = str(self.next_id)
        self.next_id += 1
        return value

    def of(self, kind: str) -> dict[str, Entity]:
        return self.entities.setdefault(kind, {})


@dataclass
class Grant:
    """An authorization code, exchanged once; a second exchange revokes what it produced (Intuit's rule)."""

    code: str
    client_id: str
    realm_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: datetime
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    realm_id: str
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    realm_id: str
    scopes: list[str]
    expires_at: datetime
    replaced: bool = False  # single-use: once exchanged, the new token replaces it
    revoked: bool = False
    access_tokens: list[str] = field(default_factory=list)
    grant_code: str = ""  # the authorization code this chain of refresh tokens descends from
    hard_expires_at: datetime | None = None  # Intuit's 5-year cap, counted from the chain's first token


@dataclass
class Fault:
    """A fault to inject on matching requests (`path_contains` in the path, and `method` if given): `kind` is
    status (answered with `status` and the fault `code`: 10000, SystemFault, unless told), timeout, lost (the
    change is committed and the response never arrives), or throttle.

    Without a `rate` the fault fires on each of the next `remaining` matching requests. With a `rate` each
    matching request rolls the fault's own die (seeded with `seed`, so that a run can be repeated) and the
    fault fires with that probability, at most `remaining` times (None: no limit)."""

    kind: str
    path_contains: str = ""
    method: str | None = None
    remaining: int | None = 1
    status: int = 500
    code: str = "10000"
    rate: float | None = None
    seed: int | None = None
    fired: int = 0  # how many requests it answered
    id: int = 0  # numbered by Sandbox.add_fault
    die: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.die = random.Random(self.seed)  # noqa: S311 - reproducible test faults, not secrets

    def matches(self, method: str, path: str) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and self.path_contains in path
            and self.method in (None, method)
        )

    def fires(self) -> bool:
        """Whether it answers a matching request: always without a rate, else a roll of its die."""
        return self.rate is None or self.die.random() < self.rate

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path_contains": self.path_contains,
            "method": self.method,
            "status": self.status if self.kind == "status" else None,
            "code": self.code if self.kind == "status" else None,
            "rate": self.rate,
            "seed": self.seed,
            "remaining": self.remaining,
            "fired": self.fired,
        }


@dataclass
class Sandbox:
    clock: Clock = field(default_factory=Clock)
    apps: dict[str, App] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)  # active, in the order added
    spent_faults: list[Fault] = field(default_factory=list)  # those whose count ran out, for the record
    last_fault_id: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)  # what the token endpoint was asked
    discovery_requests: int = 0  # clients should read the discovery document once, not per call
    lock: threading.RLock = field(default_factory=threading.RLock)
    limiter: Limiter | None = None  # the Accounting API's rate limits (limits.limiter_for)
    api_options: ApiOptions | None = None  # knobs of the Accounting API (accounting.options_for)
    # Called with (realm_id, entity kind, entity, operation) after every committed change (webhooks listen).
    listeners: list[Callable[[str, str, Entity, str], None]] = field(default_factory=list)
    # Every webhook delivery attempt (local/qbo/webhooks.py records them; GET /_sandbox/webhooks/deliveries).
    webhook_deliveries: list[dict[str, Any]] = field(default_factory=list)
    # Accounting API answers by (realm, method, last path segment, status): what a client was answered.
    api_answers: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)

    def add_app(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> App:
        with self.lock:
            app = App(client_id, client_secret, list(redirect_uris))
            self.apps[client_id] = app
            return app

    def add_company(self, name: str, realm_id: str | None = None, country: str = "US") -> Company:
        from local.qbo.seed import seed_company

        with self.lock:
            realm = realm_id or str(9130350000000000 + secrets.randbelow(10**10))
            company = Company(realm_id=realm, name=name, country=country)
            seed_company(company, self.clock.now())
            self.companies[realm] = company
            return company

    # ------------------------------------------------------------------ OAuth
    def issue_code(self, client_id: str, realm_id: str, redirect_uri: str, scopes: list[str]) -> Grant:
        with self.lock:
            grant = Grant(
                code=f"AB11{secrets.token_urlsafe(36)}",
                client_id=client_id,
                realm_id=realm_id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                expires_at=self.clock.now() + AUTH_CODE_TTL,
            )
            self.grants[grant.code] = grant
            return grant

    def issue_tokens(
        self, client_id: str, realm_id: str, scopes: list[str], grant_code: str
    ) -> tuple[AccessToken, RefreshToken]:
        with self.lock:
            now = self.clock.now()
            access_value = f"eyJlbmMiOi{secrets.token_urlsafe(96)}"
            access = AccessToken(access_value, client_id, realm_id, now + ACCESS_TOKEN_TTL)
            refresh = RefreshToken(
                f"RT1-{secrets.token_urlsafe(40)}",
                client_id,
                realm_id,
                scopes,
                now + REFRESH_TOKEN_TTL,
                access_tokens=[access.token],
                grant_code=grant_code,
            )
            self.access_tokens[access.token] = access
            self.refresh_tokens[refresh.token] = refresh
            return access, refresh

    def revoke_family(self, refresh: RefreshToken) -> None:
        with self.lock:
            refresh.revoked = True
            for token in refresh.access_tokens:
                if token in self.access_tokens:
                    self.access_tokens[token].revoked = True

    def valid_access_token(self, token: str) -> AccessToken | None:
        """The access token if it is known, not revoked and not expired (whichever company it opens)."""
        with self.lock:
            access = self.access_tokens.get(token)
            if access is None or access.revoked:
                return None
            if access.expires_at <= self.clock.now():
                return None
            return access

    def expire_tokens(self, realm_id: str | None = None, *, refresh_too: bool = False) -> int:
        """Test control: make access tokens (and optionally refresh tokens) of a realm expire now."""
        with self.lock:
            past = self.clock.now() - timedelta(seconds=1)
            count = 0
            for access in self.access_tokens.values():
                if realm_id in (None, access.realm_id):
                    access.expires_at = past
                    count += 1
            if refresh_too:
                for refresh in self.refresh_tokens.values():
                    if realm_id in (None, refresh.realm_id):
                        refresh.expires_at = past
            return count

    # ------------------------------------------------------------------ faults
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.last_fault_id += 1
            fault.id = self.last_fault_id
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> int:
        """Forget every fault, active or spent; the number of active ones dropped."""
        with self.lock:
            dropped = len(self.faults)
            self.faults.clear()
            self.spent_faults.clear()
            return dropped

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault that answers this request, if any: the matching faults are asked in the order they were
        added, each rolling its own die if it has a rate; the first that fires wins."""
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path) or not fault.fires():
                    continue
                fault.fired += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                        self.spent_faults.append(fault)
                return fault
            return None

    def notify(self, realm_id: str, kind: str, entity: Entity, operation: str) -> None:
        for listener in list(self.listeners):
            listener(realm_id, kind, entity, operation)
