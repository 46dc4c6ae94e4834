"""In-memory implementations of the domain's ports, for use-case tests. They keep the adapters' contracts
(conflicts, ordering, cursors) so that a use case passing here also passes against DynamoDB."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from qbsync.domain.apikeys import ApiKey
from qbsync.domain.errors import ConflictError, FieldProblem, InvalidInputError
from qbsync.domain.jobs import Job
from qbsync.domain.paging import Page
from qbsync.domain.settings import SettingsVersion, StaleVersionError
from qbsync.domain.tenants import Tenant


@dataclass
class FixedClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class InMemoryLease:
    """The `Lease` port (contract: tests/adapters/test_lease.py): one holder per key until it releases or its
    time is up."""

    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # key -> (owner, until)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str, owner: str, now: datetime, duration: timedelta) -> bool:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"{now!r} has no time zone; stored times must carry one")
        with self.lock:
            held = self.leases.get(key)
            if held and held[0] != owner and held[1] > now:
                return False
            self.leases[key] = (owner, now + duration)
            return True

    def release(self, key: str, owner: str) -> None:
        with self.lock:
            if key in self.leases and self.leases[key][0] == owner:
                del self.leases[key]


@dataclass
class InMemoryTenants:
    items: dict[str, Tenant] = field(default_factory=dict)

    def add(self, tenant: Tenant) -> None:
        if tenant.id in self.items:
            raise ConflictError(f"A tenant with id {tenant.id!r} already exists.")
        self.items[tenant.id] = tenant

    def get(self, tenant_id: str) -> Tenant | None:
        return self.items.get(tenant_id)

    def list(self, limit: int, cursor: str | None) -> Page[Tenant]:
        ids = sorted(self.items)
        if cursor is not None:
            if not cursor.startswith("after:"):
                raise InvalidInputError("bad cursor", [FieldProblem("cursor", "not issued here")])
            ids = [i for i in ids if i > cursor.removeprefix("after:")]
        page = ids[:limit]
        more = len(ids) > limit
        return Page([self.items[i] for i in page], f"after:{page[-1]}" if more else None)


@dataclass
class InMemoryApiKeys:
    items: dict[str, ApiKey] = field(default_factory=dict)

    def add(self, key: ApiKey) -> None:
        self.items[key.key_hash] = key

    def find(self, key_hash: str) -> ApiKey | None:
        return self.items.get(key_hash)


@dataclass
class InMemoryHeartbeats:
    beats: dict[str, datetime] = field(default_factory=dict)

    def beat(self, component: str, at: datetime) -> None:
        if component not in self.beats or self.beats[component] < at:
            self.beats[component] = at

    def last(self, component: str) -> datetime | None:
        return self.beats.get(component)


@dataclass
class InMemoryQueue:
    sent: list[tuple[Job, int]] = field(default_factory=list)

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self.sent.append((job, delay_seconds))


@dataclass
class InMemorySettings:
    """Keeps the adapter's contract: versions are immutable, a taken version number is a StaleVersionError."""

    items: dict[tuple[str, int], SettingsVersion] = field(default_factory=dict)

    def latest(self, tenant_id: str) -> SettingsVersion | None:
        versions = [v for (t, v) in self.items if t == tenant_id]
        return self.items[(tenant_id, max(versions))] if versions else None

    def get(self, tenant_id: str, version: int) -> SettingsVersion | None:
        return self.items.get((tenant_id, version))

    def add(self, entry: SettingsVersion) -> None:
        key = (entry.tenant_id, entry.version)
        if key in self.items:
            raise StaleVersionError(f"version {entry.version} is taken")
        self.items[key] = entry
