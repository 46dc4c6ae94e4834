"""Ports: what the use cases need from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from qbsync.domain.apikeys import ApiKey
from qbsync.domain.jobs import Job
from qbsync.domain.paging import Page
from qbsync.domain.tenants import Tenant


class Clock(Protocol):
    def now(self) -> datetime: ...


class Lease(Protocol):
    """One holder per key at a time, across every Lambda: a conditional write in storage. A holder that dies
    frees the key when its time runs out; a holder acquiring again renews. Users: the token refresh of a
    tenant, the sync run of a tenant (`domain.sync.TenantLease`), and next the Web Connector's session."""

    def acquire(self, key: str, owner: str, now: datetime, duration: timedelta) -> bool:
        """Hold `key` until `now + duration` if it is free, lapsed (its time is up at `now`) or already
        `owner`'s; False when another owner holds it. `now` must carry a time zone."""

    def release(self, key: str, owner: str) -> None:
        """Free `key` if `owner` still holds it; otherwise (lapsed and taken since, or never held) nothing."""


class TenantRepository(Protocol):
    def add(self, tenant: Tenant) -> None:
        """Store a new tenant; raise ConflictError if the id is taken."""

    def get(self, tenant_id: str) -> Tenant | None: ...

    def list(self, limit: int, cursor: str | None) -> Page[Tenant]:
        """Tenants ordered by id; raise InvalidInputError for a cursor this repository did not issue."""


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def find(self, key_hash: str) -> ApiKey | None: ...


class HeartbeatStore(Protocol):
    def beat(self, component: str, at: datetime) -> None: ...

    def last(self, component: str) -> datetime | None: ...


class JobQueue(Protocol):
    def send(self, job: Job, delay_seconds: int = 0) -> None: ...
