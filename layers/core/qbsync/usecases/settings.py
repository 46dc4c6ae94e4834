"""Read and change a tenant's sync settings; tell the worker which version is in force."""

from __future__ import annotations

from qbsync.domain.errors import InvalidInputError
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.settings import (
    SettingsRepository,
    SettingsVersion,
    StaleVersionError,
    SyncSettings,
    defaults,
    edition_problems,
)
from qbsync.domain.tenants import Edition
from qbsync.usecases.tenants import get_tenant

# Without If-Match the caller asked for "last write wins": a write that loses a race to another is retried on
# top of the new version this many times before the caller is told to try again.
WRITE_ATTEMPTS = 3
_PRODUCT = {Edition.QBO: "Online", Edition.QBD: "Desktop"}


def get_settings(tenants: TenantRepository, repo: SettingsRepository, tenant_id: str) -> SettingsVersion:
    get_tenant(tenants, tenant_id)  # unknown tenant: NotFoundError
    return repo.latest(tenant_id) or defaults(tenant_id)


def put_settings(
    tenants: TenantRepository,
    repo: SettingsRepository,
    clock: Clock,
    *,
    tenant_id: str,
    settings: SyncSettings,
    expected_version: int | None = None,
) -> SettingsVersion:
    """Store `settings` as the next version. With `expected_version` (If-Match), only if that is current."""
    tenant = get_tenant(tenants, tenant_id)
    problems = edition_problems(settings, tenant.edition)
    if problems:
        raise InvalidInputError(
            f"Tenant {tenant_id!r} keeps its books in QuickBooks {_PRODUCT[tenant.edition]}, which would "
            "refuse these settings; see errors.",
            problems,
        )
    for attempt in range(WRITE_ATTEMPTS):
        current = repo.latest(tenant_id)
        current_version = current.version if current else 0
        if expected_version is not None and expected_version != current_version:
            raise _stale(tenant_id, expected_version, current_version)
        entry = SettingsVersion(
            tenant_id=tenant_id, version=current_version + 1, updated_at=clock.now(), settings=settings
        )
        try:
            repo.add(entry)
        except StaleVersionError:
            # Another request stored this version number between our read and our write.
            if expected_version is not None or attempt == WRITE_ATTEMPTS - 1:
                raise _stale(tenant_id, current_version, current_version + 1) from None
            continue
        return entry
    raise AssertionError("unreachable: the last attempt returns or raises")


def settings_in_force(repo: SettingsRepository, tenant_id: str) -> tuple[int, SyncSettings]:
    """The version and settings a job starting now runs with; record the version with the job's results."""
    current = repo.latest(tenant_id) or defaults(tenant_id)
    return current.version, current.settings


def settings_version(repo: SettingsRepository, tenant_id: str, version: int) -> SyncSettings | None:
    """The settings of one past version (0: the defaults), e.g. those a job recorded; None if never stored."""
    if version == 0:
        return SyncSettings()
    entry = repo.get(tenant_id, version)
    return entry.settings if entry else None


def _stale(tenant_id: str, expected: int, current: int) -> StaleVersionError:
    return StaleVersionError(
        f"The settings of tenant {tenant_id!r} are at version {current}, not {expected}: someone changed "
        "them since you read them. GET them again, reapply your change, send If-Match with the new version."
    )
