"""Where `Idempotency-Key` answers are kept: Powertools' DynamoDB persistence layer on the stack's table.

pk = IDEMPOTENCY   sk = a hash of (tenant, route, key)   status, data, validation, expires_at (TTL)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def idempotency_store(client: DynamoDBClient, table_name: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="IDEMPOTENCY",
        expiry_attr="expires_at",
        boto3_client=client,
    )
