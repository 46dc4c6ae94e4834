from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from local.aws import LocalStack
from qbsync.adapters.connections_dynamodb import (
    DynamoConnectionRepository,
    DynamoConnectLinkStore,
    DynamoOAuthStateStore,
    DynamoTokenStore,
)
from qbsync.adapters.kms import KmsCipher
from qbsync.domain.connections import (
    Connection,
    ConnectionProblem,
    ConnectionRepository,
    ConnectionStatus,
    DesktopCompany,
    OAuthState,
    TokenSet,
)
from tests.unit.connection_fakes import InMemoryConnections

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKENS = TokenSet(
    "9341",
    "access-secret-value",
    "refresh-secret-value",
    NOW + timedelta(hours=1),
    NOW + timedelta(days=100),
    version=0,
    refreshed_at=NOW,
)


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


@pytest.fixture
def store(aws_env: LocalStack, table: str) -> DynamoTokenStore:
    cipher = KmsCipher(boto3.client("kms"), str(aws_env.ref("TokenKey")))
    return DynamoTokenStore(boto3.client("dynamodb"), table, cipher)


def test_tokens_round_trip_and_are_stored_encrypted(store: DynamoTokenStore, table: str) -> None:
    assert store.save("acme", TOKENS, None)
    assert store.load("acme") == TOKENS
    raw = json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"], default=str)
    assert "access-secret-value" not in raw
    assert "refresh-secret-value" not in raw


def test_saves_are_versioned(store: DynamoTokenStore) -> None:
    assert store.save("acme", TOKENS, None)
    assert not store.save("acme", TOKENS, None)  # something is stored already
    rotated = TokenSet("9341", "a2", "r2", NOW, NOW, version=1)
    assert not store.save("acme", rotated, 5)
    assert store.save("acme", rotated, 0)
    assert store.load("acme").refresh_token == "r2"  # type: ignore[union-attr]


def test_a_ciphertext_moved_to_another_tenant_does_not_decrypt(store: DynamoTokenStore, table: str) -> None:
    store.save("acme", TOKENS, None)
    client = boto3.client("dynamodb")
    item = client.get_item(TableName=table, Key={"pk": {"S": "TENANT#acme"}, "sk": {"S": "QBO#TOKENS"}})[
        "Item"
    ]
    item["pk"] = {"S": "TENANT#mallory"}
    client.put_item(TableName=table, Item=item)
    with pytest.raises(ClientError, match="InvalidCiphertext"):
        store.load("mallory")


def test_connection_round_trip(aws_env: LocalStack, table: str) -> None:
    repo = DynamoConnectionRepository(boto3.client("dynamodb"), table)
    assert repo.get("acme") == Connection("acme")
    connection = Connection(
        "acme",
        ConnectionStatus.NEEDS_REAUTH,
        "9341",
        "Acme Books",
        NOW,
        ConnectionProblem("invalid_grant", "msg", "reconnect"),
        NOW,
    )
    repo.put(connection)
    assert repo.get("acme") == connection


DESKTOP = Connection(
    "acme-qbd",
    ConnectionStatus.CONNECTED,
    company_name="Acme Plumbing & Heating",
    connected_since=NOW,
    last_error=ConnectionProblem("quickbooks_not_open", "could not open", "start QuickBooks"),
    changed_at=NOW,
    desktop=DesktopCompany(
        file_path="C:\\Company Files\\Acme Plumbing & Heating.QBW",
        product_name="QuickBooks Pro 2014",
        quickbooks_version="24.0",
        country="",
        file_id="{C0FFEE00-1234-4ABC-8DEF-0123456789AB}",
        last_run_at=NOW + timedelta(minutes=10),
    ),
)


@pytest.fixture(params=["dynamodb", "in-memory"])
def connections(request: pytest.FixtureRequest) -> ConnectionRepository:
    if request.param == "in-memory":
        return InMemoryConnections()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoConnectionRepository(boto3.client("dynamodb"), str(aws_env.ref("Table")))


def test_a_desktop_connection_round_trips_with_what_quickbooks_said(
    connections: ConnectionRepository,
) -> None:
    connections.put(DESKTOP)
    assert connections.get("acme-qbd") == DESKTOP
    disconnected = DESKTOP.moved(ConnectionStatus.DISCONNECTED, NOW, last_error=None)
    connections.put(disconnected)
    assert connections.get("acme-qbd") == disconnected


def test_connected_desktop_tenants_are_not_listed_for_the_online_token_upkeep(
    aws_env: LocalStack, table: str
) -> None:
    repo = DynamoConnectionRepository(boto3.client("dynamodb"), table)
    repo.put(DESKTOP)
    repo.put(Connection("acme-qbo", ConnectionStatus.CONNECTED, "9341", "Acme Books", NOW, None, NOW))
    assert repo.connected_tenants(limit=10, cursor=None).items == ["acme-qbo"]


def test_a_realm_is_claimed_by_one_tenant(aws_env: LocalStack, table: str) -> None:
    repo = DynamoConnectionRepository(boto3.client("dynamodb"), table)
    assert repo.claim_realm("9341", "acme")
    assert repo.claim_realm("9341", "acme")
    assert not repo.claim_realm("9341", "other")
    repo.release_realm("9341", "other")  # not its realm: no effect
    assert not repo.claim_realm("9341", "other")
    repo.release_realm("9341", "acme")
    assert repo.claim_realm("9341", "other")


def test_oauth_state_is_taken_once_and_not_after_expiry(aws_env: LocalStack, table: str) -> None:
    states = DynamoOAuthStateStore(boto3.client("dynamodb"), table)
    states.add(OAuthState("d1", "acme", NOW + timedelta(minutes=15), "/connect/x"))
    states.add(OAuthState("d2", "acme", NOW + timedelta(minutes=15), "/connect/x"))
    taken = states.take("d1", NOW)
    assert taken == OAuthState("d1", "acme", NOW + timedelta(minutes=15), "/connect/x")
    assert states.take("d1", NOW) is None
    assert states.take("d2", NOW + timedelta(minutes=16)) is None
    assert states.take("nope", NOW) is None


def test_connect_link_expires(aws_env: LocalStack, table: str) -> None:
    links = DynamoConnectLinkStore(boto3.client("dynamodb"), table)
    links.add("digest", "acme", NOW + timedelta(days=7))
    assert links.tenant_of("digest", NOW) == "acme"
    assert links.tenant_of("digest", NOW + timedelta(days=7)) is None
    assert links.tenant_of("other", NOW) is None
