from __future__ import annotations

import os
from datetime import datetime

import boto3
import pytest
from pydantic import ValidationError

from local.aws import LocalStack
from local.lambdas import LocalFunction
from qbsync.adapters.dynamodb import DynamoHeartbeatStore
from qbsync.domain.jobs import Job
from qbsync.usecases.health import WORKER
from tests.conftest import load_event


def test_worker_records_the_heartbeat_of_a_job(
    functions: dict[str, LocalFunction], aws_env: LocalStack
) -> None:
    result = functions["SyncWorkerFunction"].invoke(load_event("sync_worker_heartbeat.json"))
    assert result == {"batchItemFailures": []}
    store = DynamoHeartbeatStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))
    assert store.last(WORKER) == datetime.fromisoformat("2026-11-23T11:00:00+00:00")


def test_worker_reports_exactly_the_records_that_failed(functions: dict[str, LocalFunction]) -> None:
    result = functions["SyncWorkerFunction"].invoke(load_event("sync_worker_partial_failure.json"))
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"},
            {"itemIdentifier": "9d0c1a3b-0000-4c1e-9a53-1b2c3d4e5f60"},
        ]
    }


def test_scheduler_puts_one_heartbeat_job_on_the_queue(functions: dict[str, LocalFunction]) -> None:
    result = functions["SchedulerFunction"].invoke(load_event("scheduler_heartbeat.json"))
    assert result["jobs_sent"] == 1
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=os.environ["JOBS_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    jobs = [Job.model_validate_json(m["Body"]) for m in messages]
    assert [(j.kind, j.id) for j in jobs] == [("heartbeat", result["job_ids"][0])]


def test_scheduler_refuses_an_unknown_task(functions: dict[str, LocalFunction]) -> None:
    with pytest.raises(ValidationError):
        functions["SchedulerFunction"].invoke({"task": "drop-tables"})
