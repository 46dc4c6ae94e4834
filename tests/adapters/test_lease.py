"""The contract of the `Lease` port, run against each DynamoDB lease (the sync run's, the token refresh's)
and against the in-memory fakes the use-case tests use: the same test functions, so the fakes cannot drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters.connections_dynamodb import DynamoTokenStore
from qbsync.adapters.kms import KmsCipher
from qbsync.adapters.lease_dynamodb import TOKEN_REFRESH_LEASE, DynamoLease
from qbsync.adapters.records_dynamodb import DynamoTenantLease
from qbsync.domain.connections import TokenSet
from qbsync.domain.ports import Lease
from tests.unit.fakes import InMemoryLease
from tests.unit.sync_fakes import InMemoryTenantLease

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TENANT = "acme-42"
OTHER = "acme-4"  # a prefix of TENANT: isolation must not rest on prefixes
HALF_MINUTE = timedelta(seconds=30)


@pytest.fixture(params=["memory", "memory sync run", "dynamodb sync run", "dynamodb token refresh"])
def lease(request: pytest.FixtureRequest) -> Lease:
    match request.param:
        case "memory":
            return InMemoryLease()
        case "memory sync run":
            return InMemoryTenantLease()
    stack: LocalStack = request.getfixturevalue("aws_env")
    client, table = boto3.client("dynamodb"), str(stack.ref("Table"))
    if request.param == "dynamodb sync run":
        return DynamoTenantLease(client, table)
    return DynamoLease(client, table, TOKEN_REFRESH_LEASE)


def test_one_holder_per_key_until_it_releases_or_its_time_is_up(lease: Lease) -> None:
    assert lease.acquire(TENANT, "w1", T0, HALF_MINUTE)
    assert not lease.acquire(TENANT, "w2", T0 + timedelta(seconds=10), HALF_MINUTE)
    assert lease.acquire(TENANT, "w1", T0 + timedelta(seconds=10), HALF_MINUTE)  # renewed: held until +40s
    assert not lease.acquire(TENANT, "w2", T0 + timedelta(seconds=39), HALF_MINUTE)
    assert lease.acquire(OTHER, "w9", T0 + timedelta(seconds=39), HALF_MINUTE)  # another key
    assert lease.acquire(TENANT, "w2", T0 + timedelta(seconds=40), HALF_MINUTE)  # w1's time is up at +40s
    lease.release(TENANT, "w1")  # no longer w1's: no effect
    assert not lease.acquire(TENANT, "w3", T0 + timedelta(seconds=41), HALF_MINUTE)
    lease.release(TENANT, "w2")
    assert lease.acquire(TENANT, "w3", T0 + timedelta(seconds=41), HALF_MINUTE)
    lease.release("nobody", "w3")  # never held: no effect
    assert lease.acquire("nobody", "w4", T0, HALF_MINUTE)


def test_a_lease_refuses_a_time_without_a_zone(lease: Lease) -> None:
    with pytest.raises(ValueError, match="time zone"):
        lease.acquire(TENANT, "w1", datetime(2026, 11, 23, 9, 30), HALF_MINUTE)


# ---------------------------------------------------------------- DynamoDB only: each user has its own item


def test_a_tenants_token_refresh_and_its_sync_run_never_wait_on_each_other(aws_env: LocalStack) -> None:
    client, table = boto3.client("dynamodb"), str(aws_env.ref("Table"))
    runs, refresh = DynamoTenantLease(client, table), DynamoLease(client, table, TOKEN_REFRESH_LEASE)
    assert runs.acquire(TENANT, "worker", T0, timedelta(minutes=3))
    assert refresh.acquire(TENANT, "keeper", T0, HALF_MINUTE)
    assert runs.request_run(TENANT, T0, timedelta(minutes=20))
    refresh.release(TENANT, "keeper")
    assert not runs.acquire(TENANT, "another worker", T0, timedelta(minutes=3))
    assert not runs.request_run(TENANT, T0, timedelta(minutes=20))  # the request is still there


def test_the_token_refresh_lease_leaves_the_tokens_alone(aws_env: LocalStack) -> None:
    client, table = boto3.client("dynamodb"), str(aws_env.ref("Table"))
    tokens = DynamoTokenStore(client, table, KmsCipher(boto3.client("kms"), str(aws_env.ref("TokenKey"))))
    stored = TokenSet("9341", "access", "refresh", T0 + timedelta(hours=1), T0 + timedelta(days=100), 0, T0)
    assert tokens.save(TENANT, stored, None)
    refresh = DynamoLease(client, table, TOKEN_REFRESH_LEASE)
    assert refresh.acquire(TENANT, "keeper", T0, HALF_MINUTE)
    assert tokens.load(TENANT) == stored
    refresh.release(TENANT, "keeper")
    tokens.delete(TENANT)  # a disconnect while a refresh holds the lease
    assert tokens.load(TENANT) is None
    assert refresh.acquire(TENANT, "keeper", T0, HALF_MINUTE)
    assert tokens.load(TENANT) is None  # the lease stores no tokens
