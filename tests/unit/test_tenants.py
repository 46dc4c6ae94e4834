from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbsync.domain.errors import ConflictError, InvalidInputError, NotFoundError
from qbsync.domain.tenants import Edition, Tenant, is_valid_tenant_id
from qbsync.usecases import tenants
from tests.unit.fakes import FixedClock, InMemoryTenants


def test_create_then_get_returns_the_same_tenant_stamped_with_the_clock() -> None:
    repo, clock = InMemoryTenants(), FixedClock()
    created = tenants.create_tenant(
        repo, clock, tenant_id="acme-42", name="  Acme Plumbing ", edition=Edition.QBO
    )
    assert created.name == "Acme Plumbing"
    assert created.created_at == clock.now()
    assert tenants.get_tenant(repo, "acme-42") == created


def test_creating_an_existing_id_is_a_conflict_and_keeps_the_first() -> None:
    repo, clock = InMemoryTenants(), FixedClock()
    tenants.create_tenant(repo, clock, tenant_id="t1", name="First", edition=Edition.QBO)
    with pytest.raises(ConflictError):
        tenants.create_tenant(repo, clock, tenant_id="t1", name="Second", edition=Edition.QBD)
    assert tenants.get_tenant(repo, "t1").name == "First"


def test_unknown_tenant_says_how_to_create_it() -> None:
    with pytest.raises(NotFoundError, match="POST /v1/tenants"):
        tenants.get_tenant(InMemoryTenants(), "nobody")


def test_listing_pages_through_every_tenant_once_in_id_order() -> None:
    repo, clock = InMemoryTenants(), FixedClock()
    for i in range(7):
        tenants.create_tenant(repo, clock, tenant_id=f"t{i}", name=f"T{i}", edition=Edition.QBD)
    seen, cursor = [], None
    while True:
        page = tenants.list_tenants(repo, limit=3, cursor=cursor)
        seen += [t.id for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"t{i}" for i in range(7)]


@pytest.mark.parametrize(("asked", "served"), [(0, 1), (-5, 1), (1000, tenants.MAX_PAGE_SIZE)])
def test_page_size_is_clamped(asked: int, served: int) -> None:
    class Recording(InMemoryTenants):
        limits: list[int] = []

        def list(self, limit: int, cursor: str | None):  # type: ignore[no-untyped-def]
            self.limits.append(limit)
            return super().list(limit, cursor)

    repo = Recording()
    tenants.list_tenants(repo, limit=asked, cursor=None)
    assert repo.limits == [served]


def test_bad_cursor_is_invalid_input_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        tenants.list_tenants(InMemoryTenants(), limit=10, cursor="garbage")
    assert info.value.problems[0].field == "cursor"


@pytest.mark.parametrize("tenant_id", ["a", "acme-42", "A.b_c-9", "x" * 64])
def test_valid_tenant_ids(tenant_id: str) -> None:
    assert is_valid_tenant_id(tenant_id)


@pytest.mark.parametrize("tenant_id", ["", "-lead", "has space", "x" * 65, "slash/", "ünï", "a#b"])
def test_invalid_tenant_ids(tenant_id: str) -> None:
    assert not is_valid_tenant_id(tenant_id)


def test_tenant_refuses_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Tenant(id="t", name="T", edition=Edition.QBO, created_at=datetime(2026, 1, 1))
    Tenant(id="t", name="T", edition=Edition.QBO, created_at=datetime(2026, 1, 1, tzinfo=UTC))
