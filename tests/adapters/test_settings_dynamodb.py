from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters.dynamodb import DynamoTenantRepository
from qbsync.adapters.settings_dynamodb import DynamoSettingsRepository
from qbsync.domain.settings import NameClashPolicy, SendMode, SettingsVersion, StaleVersionError, SyncSettings
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases import settings as usecase
from tests.unit.fakes import FixedClock

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
FULL = SyncSettings(
    send_mode=SendMode.REVIEW,
    lock_after_acceptance=True,
    name_clash_policy=NameClashPolicy.RENAME_WITH_SUFFIX,
    rename_suffix=" - {n}",
    default_income_account="Sales:Services",
    default_expense_account="Cost of Goods Sold",
    default_asset_account="Inventory Asset",
    payment_deposit_account=None,
    default_payment_terms="Net 30",
    sync_payments_from_quickbooks=False,
    payment_methods_to_sync=["Check", "Credit Card"],
)


@pytest.fixture
def client(aws_env: LocalStack):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb")


@pytest.fixture
def repo(aws_env: LocalStack, client) -> DynamoSettingsRepository:  # type: ignore[no-untyped-def]
    return DynamoSettingsRepository(client, str(aws_env.ref("Table")))


def version(n: int, settings: SyncSettings = FULL, tenant_id: str = "acme-42") -> SettingsVersion:
    return SettingsVersion(tenant_id, n, T0 + timedelta(minutes=n), settings)


def test_nothing_stored_reads_as_none(repo: DynamoSettingsRepository) -> None:
    assert repo.latest("acme-42") is None
    assert repo.get("acme-42", 1) is None
    assert repo.get("acme-42", 0) is None


def test_a_version_round_trips_every_field(repo: DynamoSettingsRepository) -> None:
    repo.add(version(1))
    assert repo.latest("acme-42") == version(1)
    assert repo.get("acme-42", 1) == version(1)


def test_latest_is_the_highest_version_and_every_version_is_kept(repo: DynamoSettingsRepository) -> None:
    for n in range(1, 12):  # past 9 and 10: the order is numeric, not that of unpadded strings
        repo.add(version(n, SyncSettings(default_payment_terms=f"Net {n}")))
    assert repo.latest("acme-42") == version(11, SyncSettings(default_payment_terms="Net 11"))
    assert repo.get("acme-42", 9) == version(9, SyncSettings(default_payment_terms="Net 9"))
    assert repo.latest("other") is None


def test_latest_ignores_the_tenants_other_items(  # type: ignore[no-untyped-def]
    repo: DynamoSettingsRepository, aws_env: LocalStack, client
) -> None:
    DynamoTenantRepository(client, str(aws_env.ref("Table"))).add(
        Tenant(id="acme-42", name="Acme", edition=Edition.QBO, created_at=T0)
    )
    assert repo.latest("acme-42") is None
    repo.add(version(1))
    assert repo.latest("acme-42") == version(1)


def test_a_stored_version_is_never_overwritten(repo: DynamoSettingsRepository) -> None:
    repo.add(version(1))
    with pytest.raises(StaleVersionError, match="Version 1"):
        repo.add(version(1, SyncSettings()))
    assert repo.get("acme-42", 1) == version(1)


def test_items_use_the_documented_keys(repo: DynamoSettingsRepository, aws_env: LocalStack, client) -> None:  # type: ignore[no-untyped-def]
    repo.add(version(3))
    item = client.get_item(
        TableName=str(aws_env.ref("Table")),
        Key={"pk": {"S": "TENANT#acme-42"}, "sk": {"S": "SETTINGS#v000003"}},
    )["Item"]
    assert item["version"] == {"N": "3"}
    assert item["settings"]["M"]["send_mode"] == {"S": "review"}  # a map support can read in the console


def test_two_writers_expecting_the_same_version_exactly_one_wins(repo: DynamoSettingsRepository) -> None:
    # Interleaved by hand: moto does not serialize concurrent requests the way DynamoDB serializes writes
    # to one item (threads racing through moto let both writers through about once in 300 tries).
    repo.add(version(1))
    first, second = (SyncSettings(default_payment_terms=f"Writer {i}") for i in range(2))
    seen = [repo.latest("acme-42"), repo.latest("acme-42")]  # both read version 1
    assert [s.version for s in seen if s] == [1, 1]
    repo.add(version(2, first))
    with pytest.raises(StaleVersionError):
        repo.add(version(2, second))
    assert repo.latest("acme-42") == version(2, first)


class _Interleaved(DynamoSettingsRepository):
    """Runs `meanwhile` once, between the caller's read of the current version and its write."""

    meanwhile: Callable[[], object] | None = None

    def add(self, entry: SettingsVersion) -> None:
        if self.meanwhile:
            run, self.meanwhile = self.meanwhile, None
            run()
        super().add(entry)


@pytest.mark.parametrize("if_match", [True, False])
def test_the_use_case_over_dynamodb_when_another_put_lands_between_read_and_write(
    aws_env: LocalStack,
    client,  # type: ignore[no-untyped-def]
    if_match: bool,
) -> None:
    table = str(aws_env.ref("Table"))
    tenants = DynamoTenantRepository(client, table)
    tenants.add(Tenant(id="acme-42", name="Acme", edition=Edition.QBO, created_at=T0))
    plain = DynamoSettingsRepository(client, table)
    racing = _Interleaved(client, table)
    clock = FixedClock()
    mine, theirs = SyncSettings(default_payment_terms="Net 15"), SyncSettings(default_payment_terms="Net 60")
    racing.meanwhile = lambda: usecase.put_settings(
        tenants, plain, clock, tenant_id="acme-42", settings=theirs, expected_version=0
    )
    expected = 0 if if_match else None
    if if_match:
        # Both read version 0; theirs stored version 1 first; mine, still expecting 0, changes nothing.
        with pytest.raises(StaleVersionError):
            usecase.put_settings(
                tenants, racing, clock, tenant_id="acme-42", settings=mine, expected_version=expected
            )
        assert usecase.settings_in_force(plain, "acme-42") == (1, theirs)
    else:
        # Without If-Match the last write wins: mine is stored on top, as version 2.
        entry = usecase.put_settings(tenants, racing, clock, tenant_id="acme-42", settings=mine)
        assert entry.version == 2
        assert usecase.settings_in_force(plain, "acme-42") == (2, mine)
        assert usecase.settings_version(plain, "acme-42", 1) == theirs
