"""Create, read and list tenants."""

from __future__ import annotations

from qbsync.domain.errors import NotFoundError
from qbsync.domain.paging import Page
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.tenants import Edition, Tenant

MAX_PAGE_SIZE = 100
EDITIONS_KEPT = 10_000  # tenants whose edition a process remembers for its log lines


class TenantLogKeys:
    """The keys of the log lines about a tenant: its id and its edition. A tenant's edition never changes and
    a tenant is never deleted, so each is read once per process (an unknown tenant is read each time: it may
    be created meanwhile)."""

    def __init__(self, tenants: TenantRepository) -> None:
        self._tenants = tenants
        self._editions: dict[str, Edition] = {}

    def of(self, tenant_id: str) -> dict[str, str]:
        edition = self._editions.get(tenant_id)
        if edition is None:
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                return {"tenant_id": tenant_id}
            if len(self._editions) >= EDITIONS_KEPT:
                self._editions.clear()
            edition = self._editions[tenant_id] = tenant.edition
        return {"tenant_id": tenant_id, "edition": edition.value}


def create_tenant(
    repo: TenantRepository, clock: Clock, *, tenant_id: str, name: str, edition: Edition
) -> Tenant:
    tenant = Tenant(id=tenant_id, name=name.strip(), edition=edition, created_at=clock.now())
    repo.add(tenant)
    return tenant


def get_tenant(repo: TenantRepository, tenant_id: str) -> Tenant:
    tenant = repo.get(tenant_id)
    if tenant is None:
        raise NotFoundError(f"No tenant with id {tenant_id!r}. Create it with POST /v1/tenants first.")
    return tenant


def list_tenants(repo: TenantRepository, *, limit: int, cursor: str | None) -> Page[Tenant]:
    return repo.list(limit=min(max(limit, 1), MAX_PAGE_SIZE), cursor=cursor)
