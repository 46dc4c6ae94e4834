"""The webhook adapters against the template's table in moto, and the verifier token lookup."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from local.aws import LocalStack
from qbsync.adapters.webhooks_dynamodb import DynamoRealmDirectory, DynamoWebhookEventLog

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return os.environ["TABLE_NAME"]


@pytest.fixture
def client(aws_env: LocalStack) -> DynamoDBClient:
    return boto3.client("dynamodb")


@pytest.fixture
def fresh_secrets() -> Iterator[None]:
    parameters.clear_caches()
    yield
    parameters.clear_caches()


def test_first_claim_wins_and_is_stored_with_a_ttl(client: DynamoDBClient, table: str) -> None:
    log = DynamoWebhookEventLog(client, table)
    assert log.claim("88cd52aa-33b6-4351-9aa4-47572edbd068", NOW) is True
    assert log.claim("88cd52aa-33b6-4351-9aa4-47572edbd068", NOW + timedelta(minutes=5)) is False
    assert log.claim("another-event", NOW) is True

    item = client.get_item(
        TableName=table,
        Key={"pk": {"S": "WEBHOOK#88cd52aa-33b6-4351-9aa4-47572edbd068"}, "sk": {"S": "WEBHOOK"}},
    )["Item"]
    assert item["event_id"] == {"S": "88cd52aa-33b6-4351-9aa4-47572edbd068"}
    assert item["received_at"] == {"S": "2026-11-23T11:00:00.000000Z"}
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=7)).timestamp())


def test_released_claim_can_be_claimed_again(client: DynamoDBClient, table: str) -> None:
    log = DynamoWebhookEventLog(client, table)
    assert log.claim("e-1", NOW)
    log.release("e-1")
    assert log.claim("e-1", NOW) is True
    assert log.claim("e-1", NOW) is False


def test_an_expired_claim_no_longer_counts_before_ttl_deletes_it(client: DynamoDBClient, table: str) -> None:
    log = DynamoWebhookEventLog(client, table, retention=timedelta(days=7))
    assert log.claim("e-1", NOW)
    assert log.claim("e-1", NOW + timedelta(days=6)) is False
    assert log.claim("e-1", NOW + timedelta(days=7, seconds=1)) is True


def test_table_has_ttl_on_expires_at(client: DynamoDBClient, table: str) -> None:
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_realm_directory_reads_the_connected_tenant(client: DynamoDBClient, table: str) -> None:
    # The item shape a tenant's connection writes (a later issue): pk REALM#<realm>, sk REALM, tenant_id.
    client.put_item(
        TableName=table,
        Item={"pk": {"S": "REALM#9341453050298464"}, "sk": {"S": "REALM"}, "tenant_id": {"S": "acme-42"}},
    )
    realms = DynamoRealmDirectory(client, table)
    assert realms.tenant_for_realm("9341453050298464") == "acme-42"
    assert realms.tenant_for_realm("310687") is None


def test_realm_item_without_tenant_is_unknown(client: DynamoDBClient, table: str) -> None:
    client.put_item(TableName=table, Item={"pk": {"S": "REALM#1"}, "sk": {"S": "REALM"}})
    assert DynamoRealmDirectory(client, table).tenant_for_realm("1") is None


def test_container_reads_the_verifier_token_from_the_secret(aws_env: LocalStack, fresh_secrets: None) -> None:
    from qbsync.composition import container

    boto3.client("secretsmanager").put_secret_value(
        SecretId=os.environ["WEBHOOK_VERIFIER_SECRET_ID"],
        SecretString=json.dumps({"verifier_token": "tok-1"}),
    )
    assert container().webhook_verifier_token() == "tok-1"
    assert isinstance(container().webhook_events, DynamoWebhookEventLog)
    assert isinstance(container().realms, DynamoRealmDirectory)


@pytest.mark.parametrize("secret", [{}, {"verifier_token": ""}, {"verifier_token": 42}])
def test_container_refuses_a_secret_without_a_token(
    aws_env: LocalStack, fresh_secrets: None, secret: dict[str, object]
) -> None:
    from qbsync.composition import container

    boto3.client("secretsmanager").put_secret_value(
        SecretId=os.environ["WEBHOOK_VERIFIER_SECRET_ID"], SecretString=json.dumps(secret)
    )
    with pytest.raises(RuntimeError, match="no verifier_token"):
        container().webhook_verifier_token()
