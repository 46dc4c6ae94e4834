from __future__ import annotations

import os
from datetime import UTC, datetime

import boto3

from local.aws import LocalStack
from qbsync.adapters.sqs import SqsJobQueue
from qbsync.domain.jobs import Job, new_job


def test_job_sent_is_the_job_received_with_its_kind_attribute(aws_env: LocalStack) -> None:
    sqs = boto3.client("sqs")
    url = os.environ["JOBS_QUEUE_URL"]
    job = new_job("heartbeat", datetime(2026, 11, 23, tzinfo=UTC), tenant_id="t1", note="x")
    SqsJobQueue(sqs, url).send(job)
    messages = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert len(messages) == 1
    assert Job.model_validate_json(messages[0]["Body"]) == job
    assert messages[0]["MessageAttributes"]["kind"]["StringValue"] == "heartbeat"


def test_delayed_job_is_not_visible_at_once(aws_env: LocalStack) -> None:
    sqs = boto3.client("sqs")
    url = os.environ["JOBS_QUEUE_URL"]
    SqsJobQueue(sqs, url).send(new_job("heartbeat", datetime(2026, 11, 23, tzinfo=UTC)), delay_seconds=60)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
