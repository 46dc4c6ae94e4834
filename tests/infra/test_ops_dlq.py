"""`make dlq` (ops/dlq.py) against moto: the jobs dead-letter queue listed with each job's kind, tenant and
why it died, and redriven to the jobs queue, none lost, none twice."""

from __future__ import annotations

import inspect
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import boto3
import pytest
from aws_lambda_powertools import Logger

from local.aws import LocalStack
from local.lambdas import LocalFunction
from ops import dlq
from qbsync.adapters.sqs import SqsJobQueue
from qbsync.domain.jobs import HEARTBEAT_JOB, Job, new_job
from qbsync.worker import MAX_RECEIVES

STACK = "qbsync-local"  # local/aws.py's stack name: resources named qbsync-local-<LogicalId>
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _worker_logs(functions: dict[str, LocalFunction]) -> io.StringIO:
    """What SyncWorkerFunction writes to stdout (its CloudWatch log stream on AWS)."""
    logger = inspect.unwrap(functions["SyncWorkerFunction"].handler).__globals__["logger"]
    assert isinstance(logger, Logger)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    handler.setStream(captured)
    return captured


def _ship_to_cloudwatch(lines: str, function_name: str) -> None:
    """As Lambda does: each line the function printed, an event of its log group."""
    logs = boto3.client("logs")
    group = f"/aws/lambda/{function_name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/23/[$LATEST]abc")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/23/[$LATEST]abc",
        logEvents=[{"timestamp": now, "message": line} for line in lines.splitlines()],
    )


def _drain(url: str) -> list[dict[str, object]]:
    sqs = boto3.client("sqs")
    messages: list[dict[str, object]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
    ).get("Messages", []):
        messages += batch
    return messages


def test_a_job_the_worker_gave_up_on_is_listed_with_its_kind_tenant_and_the_error_the_worker_logged(
    aws_env: LocalStack,
    functions: dict[str, LocalFunction],
    run_jobs: Callable[[], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs = boto3.client("sqs")
    jobs_url = aws_env.queue_url("JobsQueue")
    dlq_url = aws_env.queue_url("JobsDeadLetterQueue")
    sqs.set_queue_attributes(QueueUrl=jobs_url, Attributes={"VisibilityTimeout": "0"})  # retries at once
    captured = _worker_logs(functions)
    doomed = new_job("qbo.retired_kind", NOW, tenant_id="acme-co")  # a kind no worker handles (any more)
    SqsJobQueue(sqs, jobs_url).send(doomed)
    assert (
        run_jobs() == MAX_RECEIVES
    )  # the event source's deliveries, each failed by the worker; then the DLQ
    assert sqs.receive_message(QueueUrl=jobs_url).get("Messages", []) == []
    _ship_to_cloudwatch(captured.getvalue(), str(aws_env.ref("SyncWorkerFunction")))
    sqs.send_message(QueueUrl=dlq_url, MessageBody="{not json")

    assert dlq.main(["--stack", STACK]) == 0

    out = capsys.readouterr().out
    assert f"2 message(s) in the jobs dead-letter queue {dlq_url}" in out
    job_line = next(line for line in out.splitlines() if doomed.id in line)
    assert "qbo.retired_kind" in job_line
    assert "tenant acme-co" in job_line
    assert f"received {MAX_RECEIVES + 1} times" in job_line  # the worker's tries, and this look
    assert "reason: UnknownJobError(\"no handler for job kind 'qbo.retired_kind'\")" in out
    assert "- not a job" in out
    assert "body: '{not json'" in out
    assert "reason: the body is not a job (Invalid JSON" in out
    # Looking leaves both where they were, visible at once to the next look.
    assert len(_drain(dlq_url)) == 2


def test_a_job_whose_worker_logs_cannot_be_read_is_listed_and_the_reason_says_why(
    aws_env: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs")
    job = new_job(HEARTBEAT_JOB, NOW)
    SqsJobQueue(sqs, aws_env.queue_url("JobsDeadLetterQueue")).send(job)

    assert dlq.main(["--stack", STACK]) == 0

    out = capsys.readouterr().out
    assert f"- heartbeat  tenant -  job {job.id}" in out
    assert (
        "reason: unknown: the worker's logs (/aws/lambda/qbsync-local-SyncWorkerFunction) could not be read"
        in out
    )


def test_redrive_moves_every_job_back_to_the_jobs_queue_once_and_leaves_what_is_not_a_job(
    aws_env: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs")
    jobs_url = aws_env.queue_url("JobsQueue")
    dlq_url = aws_env.queue_url("JobsDeadLetterQueue")
    dead = [new_job("sync.run", NOW, tenant_id=f"tenant-{n}") for n in range(23)]  # three batches of ten
    for job in dead:
        SqsJobQueue(sqs, dlq_url).send(job)
    sqs.send_message(QueueUrl=dlq_url, MessageBody='{"kind": ""}')

    assert dlq.main(["--stack", STACK, "--redrive"]) == 0

    assert "moved 23 job(s) back to the jobs queue" in capsys.readouterr().out
    back = _drain(jobs_url)
    assert sorted(Job.model_validate_json(str(m["Body"])).id for m in back) == sorted(j.id for j in dead)
    assert {m["MessageAttributes"]["kind"]["StringValue"] for m in back} == {"sync.run"}  # type: ignore[index]
    left = _drain(dlq_url)
    assert [m["Body"] for m in left] == ['{"kind": ""}']


def test_redrive_of_an_empty_queue_moves_nothing(
    aws_env: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dlq.main(["--stack", STACK, "--redrive"]) == 0

    out = capsys.readouterr().out
    assert "0 message(s) in the jobs dead-letter queue" in out
    assert "moved 0 job(s)" in out


def test_the_queues_and_the_worker_are_found_among_the_cloudformation_stacks_resources(
    aws_env: LocalStack,
) -> None:
    template = {
        "Resources": {
            "JobsDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}},
            "SyncWorkerFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "app.lambda_handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"ZipFile": "def lambda_handler(event, context): pass"},
                },
            },
        }
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName="qbsync-prod", TemplateBody=json.dumps(template))

    found = dlq.locate(cfn, boto3.client("sqs"), "qbsync-prod")

    def physical(lid: str) -> str:
        detail = cfn.describe_stack_resource(StackName="qbsync-prod", LogicalResourceId=lid)
        return str(detail["StackResourceDetail"]["PhysicalResourceId"])

    assert found == dlq.StackQueues(
        jobs_url=physical("JobsQueue"),
        dead_letter_url=physical("JobsDeadLetterQueue"),
        worker_log_group=f"/aws/lambda/{physical('SyncWorkerFunction')}",
    )
    assert found.jobs_url != aws_env.queue_url("JobsQueue")  # not the local stack's, found by name


def test_a_stack_that_does_not_exist_is_a_clear_error(aws_env: LocalStack) -> None:
    with pytest.raises(SystemExit, match="no stack 'qbsync-nowhere'"):
        dlq.main(["--stack", "qbsync-nowhere"])
