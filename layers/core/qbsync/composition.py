"""The composition root: adapters built on first use, once per container, never at import time."""

from __future__ import annotations

import functools
import os
from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.dynamodb import DynamoApiKeyRepository, DynamoHeartbeatStore, DynamoTenantRepository
from qbsync.adapters.dynamodb_qbwc import DynamoQbwcCredentialStore, DynamoQbwcSessionStore
from qbsync.adapters.sqs import SqsJobQueue
from qbsync.adapters.webhooks_dynamodb import DynamoRealmDirectory, DynamoWebhookEventLog
from qbsync.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Container:
    """Each function touches only the adapters it uses, so it creates only those clients."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SystemClock()

    @cached_property
    def _dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb")

    @cached_property
    def tenants(self) -> DynamoTenantRepository:
        return DynamoTenantRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def api_keys(self) -> DynamoApiKeyRepository:
        return DynamoApiKeyRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def heartbeats(self) -> DynamoHeartbeatStore:
        return DynamoHeartbeatStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def jobs(self) -> SqsJobQueue:
        return SqsJobQueue(boto3.client("sqs"), self.settings.jobs_queue_url)

    @cached_property
    def qbwc_credentials(self) -> DynamoQbwcCredentialStore:
        return DynamoQbwcCredentialStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def qbwc_sessions(self) -> DynamoQbwcSessionStore:
        return DynamoQbwcSessionStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def webhook_events(self) -> DynamoWebhookEventLog:
        return DynamoWebhookEventLog(self._dynamodb, self.settings.table_name)

    @cached_property
    def realms(self) -> DynamoRealmDirectory:
        return DynamoRealmDirectory(self._dynamodb, self.settings.table_name)

    def webhook_verifier_token(self) -> str:
        """Intuit's webhook verifier token, read on use (Powertools caches it for 5 minutes); never log it."""
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(
            self.settings.webhook_verifier_secret_id, transform="json", max_age=300
        )
        token = secret.get("verifier_token") if isinstance(secret, dict) else None
        if not isinstance(token, str) or not token:
            # An empty key would make every forged signature "valid": refuse to verify at all.
            raise RuntimeError(
                "The webhook verifier secret has no verifier_token; store Intuit's token in it."
            )
        return token


@functools.cache
def container() -> Container:
    return Container(Settings.from_env(os.environ))
