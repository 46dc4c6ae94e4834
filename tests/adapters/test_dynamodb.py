from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters.dynamodb import DynamoApiKeyRepository, DynamoHeartbeatStore, DynamoTenantRepository
from qbsync.domain import apikeys
from qbsync.domain.errors import ConflictError, InvalidInputError
from qbsync.domain.tenants import Edition, Tenant

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


@pytest.fixture
def client(aws_env: LocalStack):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb")


def test_tenant_round_trip_keeps_every_field(client, table) -> None:  # type: ignore[no-untyped-def]
    repo = DynamoTenantRepository(client, table)
    tenant = Tenant(id="acme-42", name="Acme Plumbing & Heating", edition=Edition.QBD, created_at=T0)
    repo.add(tenant)
    assert repo.get("acme-42") == tenant
    assert repo.get("other") is None


def test_second_add_is_a_conflict_and_does_not_overwrite(client, table) -> None:  # type: ignore[no-untyped-def]
    repo = DynamoTenantRepository(client, table)
    repo.add(Tenant(id="t1", name="First", edition=Edition.QBO, created_at=T0))
    with pytest.raises(ConflictError):
        repo.add(Tenant(id="t1", name="Second", edition=Edition.QBO, created_at=T0))
    assert repo.get("t1").name == "First"  # type: ignore[union-attr]


def test_listing_pages_in_id_order_without_gaps_or_repeats(client, table) -> None:  # type: ignore[no-untyped-def]
    repo = DynamoTenantRepository(client, table)
    ids = [f"tenant-{i:03d}" for i in range(23)]
    for i in reversed(ids):
        repo.add(Tenant(id=i, name=i.upper(), edition=Edition.QBO, created_at=T0))
    seen, cursor, pages = [], None, 0
    while True:
        page = repo.list(limit=10, cursor=cursor)
        pages += 1
        seen += [t.id for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ids
    assert pages >= 3


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"pk": "TENANT#x"}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"pk": 1, "sk": 2, "gsi1pk": 3, "gsi1sk": 4}).encode()).decode(),
    ],
)
def test_foreign_cursors_are_refused_as_invalid_input(client, table, cursor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as info:
        DynamoTenantRepository(client, table).list(limit=10, cursor=cursor)
    assert info.value.problems[0].field == "cursor"


def test_api_key_is_found_by_digest_and_the_key_is_not_stored(client, table) -> None:  # type: ignore[no-untyped-def]
    repo = DynamoApiKeyRepository(client, table)
    plaintext, key = apikeys.generate("billing", T0)
    repo.add(key)
    assert repo.find(apikeys.digest(plaintext)) == key
    assert repo.find(apikeys.digest(plaintext + "x")) is None
    dump = json.dumps(client.scan(TableName=table)["Items"])
    assert plaintext not in dump
    assert plaintext.split("_", 2)[2] not in dump


def test_heartbeat_only_moves_forward(client, table) -> None:  # type: ignore[no-untyped-def]
    store = DynamoHeartbeatStore(client, table)
    assert store.last("worker") is None
    store.beat("worker", T0 + timedelta(minutes=5))
    store.beat("worker", T0)  # late redelivery
    assert store.last("worker") == T0 + timedelta(minutes=5)
    store.beat("worker", T0 + timedelta(minutes=10))
    assert store.last("worker") == T0 + timedelta(minutes=10)
