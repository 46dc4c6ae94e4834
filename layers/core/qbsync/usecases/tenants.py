"""Create, read and list tenants."""

from __future__ import annotations

from qbsync.domain.errors import NotFoundError
from qbsync.domain.paging import Page
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.tenants import Edition, Tenant

MAX_PAGE_SIZE = 100


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
