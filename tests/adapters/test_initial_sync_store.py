"""The initial sync's store: DynamoDB (moto) and the in-memory fake keep the same contract."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters.initial_sync_dynamodb import DynamoInitialSyncStore
from qbsync.domain.initial_sync import InitialSync, InitialSyncStore, Step, TypeCounts
from tests.unit.initial_sync_fakes import InMemoryInitialSyncs

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "fake"])
def store(request: pytest.FixtureRequest) -> InitialSyncStore:
    if request.param == "fake":
        return InMemoryInitialSyncs()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoInitialSyncStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))


def test_one_initial_sync_runs_at_a_time_and_a_done_one_may_be_started_again(store: InitialSyncStore) -> None:
    assert store.get("acme") is None
    first = InitialSync("acme", Step.READING, T0, T0, settings_version=3)
    assert store.start(first) is True
    assert store.start(replace(first, started_at=T0 + timedelta(hours=1))) is False  # one is running
    stored = store.get("acme")
    assert stored == replace(first, version=1)
    assert store.save(replace(stored, step=Step.DONE, finished_at=T0 + timedelta(hours=2))) is True
    assert store.start(replace(first, started_at=T0 + timedelta(days=1))) is True  # a re-sync
    again = store.get("acme")
    assert again is not None
    assert (again.step, again.started_at, again.version) == (Step.READING, T0 + timedelta(days=1), 1)
    assert store.get("zeta") is None  # tenants never share


def test_a_save_lands_only_on_the_version_it_read(store: InitialSyncStore) -> None:
    store.start(InitialSync("acme", Step.READING, T0, T0, settings_version=0))
    read = store.get("acme")
    assert read is not None
    counts = TypeCounts(4, 5, 3, 1, 1, 2, 2, {"only_in_quickbooks": 1, "before_since": 1})
    moved = replace(read, step=Step.PAYMENTS, summary={"customer": counts}, progress_told_at=T0)
    assert store.save(moved) is True
    assert store.save(replace(read, step=Step.SENDING)) is False  # another saved since it read
    stored = store.get("acme")
    assert stored == replace(moved, version=2)
    assert stored.summary == {"customer": counts}
