"""The local SQS poller behaves like Lambda's event source mapping, and schedules read from the template."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local import template as tpl
from local.aws import LocalStack
from local.consumers import QueuePoller, ScheduleRunner, rate_interval
from local.lambdas import LocalFunction
from qbsync.adapters.sqs import SqsJobQueue
from qbsync.domain.jobs import new_job

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def poller_for(stack: LocalStack, function: LocalFunction) -> QueuePoller:
    source = tpl.queue_sources(stack.template)[0]
    return QueuePoller(
        boto3.client("sqs"),
        source,
        stack.queue_url(source.queue_logical_id),
        stack.resolver.attributes[(source.queue_logical_id, "Arn")],
        function,
    )


def counts(url: str) -> tuple[int, int]:
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"]), int(
        attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    )


def test_failed_jobs_are_retried_then_moved_to_the_dlq(
    aws_env: LocalStack, functions: dict[str, LocalFunction]
) -> None:
    sqs = boto3.client("sqs")
    url, dlq = os.environ["JOBS_QUEUE_URL"], aws_env.queue_url("JobsDeadLetterQueue")
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "1"}
    )  # the template's 900 s is long
    max_receives = tpl.load()["Resources"]["JobsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    queue = SqsJobQueue(sqs, url)
    queue.send(new_job("heartbeat", NOW))
    queue.send(new_job("no.such.kind", NOW, tenant_id="t1"))
    poller = poller_for(aws_env, functions["SyncWorkerFunction"])

    assert poller.poll_once() == 2  # heartbeat done and deleted; the unknown job failed alone
    for _ in range(max_receives - 1):
        time.sleep(1.1)
        assert poller.poll_once() == 1
    time.sleep(1.1)
    assert poller.poll_once() == 0  # the next receive moves it to the DLQ instead of delivering it
    dead = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert [json.loads(m["Body"])["kind"] for m in dead] == ["no.such.kind"]
    assert counts(url) == (0, 0)


def _fn(handler: Any) -> LocalFunction:
    spec = tpl.Function("Probe", Path("."), "app.h", 30, 128, {})
    return LocalFunction(spec=spec, name="probe", handler=handler)


def test_a_function_that_raises_fails_the_whole_batch(aws_env: LocalStack) -> None:
    url = os.environ["JOBS_QUEUE_URL"]
    for _ in range(2):  # the template's batch size
        SqsJobQueue(boto3.client("sqs"), url).send(new_job("heartbeat", NOW))

    def boom(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("crash")

    assert poller_for(aws_env, _fn(boom)).poll_once() == 2
    assert counts(url) == (0, 2)  # none deleted: all invisible until the visibility timeout


def test_an_unknown_item_identifier_fails_the_whole_batch(aws_env: LocalStack) -> None:
    url = os.environ["JOBS_QUEUE_URL"]
    for _ in range(2):
        SqsJobQueue(boto3.client("sqs"), url).send(new_job("heartbeat", NOW))

    def liar(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}

    assert poller_for(aws_env, _fn(liar)).poll_once() == 2
    assert counts(url) == (0, 2)


def test_the_event_has_lambdas_sqs_shape(aws_env: LocalStack) -> None:
    url = os.environ["JOBS_QUEUE_URL"]
    SqsJobQueue(boto3.client("sqs"), url).send(new_job("heartbeat", NOW))
    seen: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"batchItemFailures": []}

    poller_for(aws_env, _fn(record)).poll_once()
    (rec,) = seen[0]["Records"]
    assert rec["eventSource"] == "aws:sqs"
    assert rec["eventSourceARN"].endswith(":qbsync-local-JobsQueue")
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"
    assert rec["messageAttributes"]["kind"]["stringValue"] == "heartbeat"
    assert counts(url) == (0, 0)


def test_schedules_come_from_the_template_and_reach_their_function(
    functions: dict[str, LocalFunction],
) -> None:
    schedules = {s.name: s for s in tpl.schedules(tpl.load())}
    assert set(schedules) == {"Heartbeat", "TokenUpkeep", "PaymentsPull"}
    assert schedules["TokenUpkeep"].expression == "rate(1 day)"
    assert schedules["PaymentsPull"].expression == "rate(15 minutes)"
    schedule = schedules["Heartbeat"]
    runner = ScheduleRunner(schedule, functions[schedule.function])
    assert runner.interval == timedelta(minutes=5)
    assert runner.fire()["jobs_sent"] == 1


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_rate_expressions(expression: str, interval: timedelta) -> None:
    assert rate_interval(expression) == interval


def test_cron_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="rate"):
        rate_interval("cron(0 12 * * ? *)")
