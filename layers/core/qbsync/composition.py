"""The composition root: adapters built on first use, once per container, never at import time."""

from __future__ import annotations

import functools
import os
from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.dynamodb import DynamoApiKeyRepository, DynamoHeartbeatStore, DynamoTenantRepository
from qbsync.adapters.sqs import SqsJobQueue
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


@functools.cache
def container() -> Container:
    return Container(Settings.from_env(os.environ))
