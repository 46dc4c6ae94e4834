"""`make dlq STACK=qbsync-dev`: what is in the jobs dead-letter queue; with --redrive, back to the jobs queue.

For each message: the job's kind, tenant and id, when it was sent, how often it was received, and why it
died, as the worker logged it (`qbsync.worker.LAST_FAILURE`, with the job's id and the error) in its
CloudWatch log group. A body that is not a job is shown as it is, with why it cannot be read.

Looking receives every message (SQS has no other way to read a queue) and makes each visible again at once;
each look adds one to the messages' receive counts. The dead-letter queue has no consumer and no redrive
policy, so that changes nothing else.

--redrive sends each job back to the jobs queue with its body and attributes, then deletes it from the
dead-letter queue: a message is deleted only once SQS has accepted its copy, so none is lost; one whose delete
failed is named, as it may run twice. Bodies that are not jobs stay (they would only fail again). SQS's own
redrive (StartMessageMoveTask) would move those too, and moto, which the tests and the local stack run on,
does not implement it.

The queues and the worker's function are found among the stack's CloudFormation resources; the local stack
(`make run`) has no CloudFormation stack and names them `<stack>-<LogicalId>`, which is where they are looked
for when CloudFormation does not know the stack (pass --endpoint-url, or set AWS_ENDPOINT_URL, to its moto).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from qbsync.domain.jobs import Job
from qbsync.worker import LAST_FAILURE

JOBS_QUEUE = "JobsQueue"
DEAD_LETTER_QUEUE = "JobsDeadLetterQueue"
WORKER = "SyncWorkerFunction"
SQS_BATCH = 10  # most messages a receive, send, delete or visibility change handles (SQS quotas)
# How long a look keeps the messages it received from being received again: long enough to read a
# queue of thousands (ten a request), released as soon as the look ends.
HOLD_SECONDS = 300
BODY_SHOWN = 300  # characters of a body that is not a job


@dataclass(frozen=True)
class StackQueues:
    jobs_url: str
    dead_letter_url: str
    worker_log_group: str


@dataclass
class DeadLetter:
    """One message of the dead-letter queue, held (invisible to other receivers) until released or moved."""

    message: dict[str, Any]
    job: Job | None
    unreadable: str | None = None  # why the body is not a job
    reason: str = ""

    @property
    def message_id(self) -> str:
        return str(self.message["MessageId"])

    @property
    def receives(self) -> int:
        return int(self.message.get("Attributes", {}).get("ApproximateReceiveCount", 0))

    @property
    def sent_at(self) -> datetime:
        return _from_millis(self.message.get("Attributes", {}).get("SentTimestamp", 0))


@dataclass
class Redriven:
    moved: list[DeadLetter] = field(default_factory=list)
    left: list[DeadLetter] = field(default_factory=list)  # not jobs, or SQS refused their copy
    not_deleted: list[DeadLetter] = field(default_factory=list)  # copied back but still in the DLQ


def _from_millis(value: str | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _chunks(items: Sequence[DeadLetter]) -> Iterator[Sequence[DeadLetter]]:
    for start in range(0, len(items), SQS_BATCH):
        yield items[start : start + SQS_BATCH]


def locate(cfn: Any, sqs: Any, stack: str) -> StackQueues:
    """The stack's jobs queue, dead-letter queue and worker log group."""
    try:
        found = {
            lid: cfn.describe_stack_resource(StackName=stack, LogicalResourceId=lid)["StackResourceDetail"][
                "PhysicalResourceId"
            ]
            for lid in (JOBS_QUEUE, DEAD_LETTER_QUEUE, WORKER)
        }
    except ClientError as error:
        if "does not exist" not in error.response["Error"].get("Message", ""):
            raise
        found = _local_stack(sqs, stack)
    return StackQueues(found[JOBS_QUEUE], found[DEAD_LETTER_QUEUE], f"/aws/lambda/{found[WORKER]}")


def _local_stack(sqs: Any, stack: str) -> dict[str, str]:
    """The local stack's resources, named `<stack>-<LogicalId>` (local/aws.py) without CloudFormation."""
    try:
        return {
            JOBS_QUEUE: sqs.get_queue_url(QueueName=f"{stack}-{JOBS_QUEUE}")["QueueUrl"],
            DEAD_LETTER_QUEUE: sqs.get_queue_url(QueueName=f"{stack}-{DEAD_LETTER_QUEUE}")["QueueUrl"],
            WORKER: f"{stack}-{WORKER}",
        }
    except ClientError:
        raise SystemExit(
            f"no stack {stack!r}: CloudFormation does not know it, and there is no queue "
            f"{stack}-{DEAD_LETTER_QUEUE} (a local stack's)"
        ) from None


def read_job(body: str) -> tuple[Job | None, str | None]:
    """The job a body carries, or None and why it is not one."""
    try:
        return Job.model_validate_json(body), None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return None, f"{where + ': ' if where else ''}{first['msg']}"


def look(sqs: Any, url: str, *, wait_seconds: int = 1) -> list[DeadLetter]:
    """Every message of the queue, received and held for HOLD_SECONDS (`release` or `redrive` them).

    Receives until one long poll (which asks every SQS server, unlike a short one) comes back empty."""
    letters: dict[str, DeadLetter] = {}
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=SQS_BATCH,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=HOLD_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return list(letters.values())
        for message in messages:
            job, unreadable = read_job(message["Body"])
            letters[message["MessageId"]] = DeadLetter(message, job, unreadable)


def release(sqs: Any, url: str, letters: Sequence[DeadLetter]) -> None:
    """Make held messages visible again at once."""
    for chunk in _chunks(letters):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": d.message["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, d in enumerate(chunk)
            ],
        )


def explain(logs: Any, log_group: str, letters: Sequence[DeadLetter]) -> None:
    """Set each letter's reason: the worker's last-failure line for its job, or why there is none."""
    for letter in letters:
        if letter.job is None:
            letter.reason = f"the body is not a job ({letter.unreadable})"
    jobs = [d for d in letters if d.job is not None]
    if not jobs:
        return
    since = min(d.sent_at for d in jobs)
    try:
        failures = last_failures(logs, log_group, since)
    except (ClientError, BotoCoreError) as error:
        for letter in jobs:
            letter.reason = f"unknown: the worker's logs ({log_group}) could not be read: {error}"
        return
    for letter in jobs:
        assert letter.job is not None
        logged = failures.get(letter.job.id)
        letter.reason = (
            f"{logged[1]} (the worker's last try, {logged[0]:%Y-%m-%d %H:%M:%S}Z)"
            if logged
            else f"unknown: no {LAST_FAILURE!r} line in {log_group}: the last try timed out or the worker "
            f"stopped; search the group for {letter.job.id}"
        )


def last_failures(logs: Any, log_group: str, since: datetime) -> dict[str, tuple[datetime, str]]:
    """The worker's last-failure lines since `since`, by job id: when, and the error."""
    found: dict[str, tuple[datetime, str]] = {}
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=log_group, startTime=int(since.timestamp() * 1000), filterPattern=f'"{LAST_FAILURE}"'
    )
    for page in pages:
        for event in page.get("events", []):
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("message") == LAST_FAILURE and "job_id" in line:
                found[str(line["job_id"])] = (_from_millis(event["timestamp"]), str(line.get("error")))
    return found


def redrive(sqs: Any, queues: StackQueues, letters: Sequence[DeadLetter]) -> Redriven:
    """Copy each job back to the jobs queue, then delete it from the dead-letter queue; release the rest."""
    done = Redriven(left=[d for d in letters if d.job is None])
    for chunk in _chunks([d for d in letters if d.job is not None]):
        sent = sqs.send_message_batch(
            QueueUrl=queues.jobs_url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": d.message["Body"],
                    "MessageAttributes": _attributes(d.message.get("MessageAttributes", {})),
                }
                for i, d in enumerate(chunk)
            ],
        )
        copied = [chunk[int(entry["Id"])] for entry in sent.get("Successful", [])]
        done.left += [chunk[int(entry["Id"])] for entry in sent.get("Failed", [])]
        if not copied:
            continue
        deleted = sqs.delete_message_batch(
            QueueUrl=queues.dead_letter_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": d.message["ReceiptHandle"]} for i, d in enumerate(copied)
            ],
        )
        done.not_deleted += [copied[int(entry["Id"])] for entry in deleted.get("Failed", [])]
        done.moved += [copied[int(entry["Id"])] for entry in deleted.get("Successful", [])]
    release(sqs, queues.dead_letter_url, done.left)
    return done


def _attributes(received: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Message attributes as received, in the shape a send takes."""
    keep = ("DataType", "StringValue", "BinaryValue")
    return {name: {k: v for k, v in value.items() if k in keep} for name, value in received.items()}


def render(stack: str, queues: StackQueues, letters: Sequence[DeadLetter]) -> str:
    lines = [f"{stack}: {len(letters)} message(s) in the jobs dead-letter queue {queues.dead_letter_url}"]
    for letter in sorted(letters, key=lambda d: d.sent_at):
        when = f"sent {letter.sent_at:%Y-%m-%d %H:%M:%S}Z, received {letter.receives} times"
        if letter.job is None:
            lines.append(f"- not a job (message {letter.message_id}), {when}")
            lines.append(f"  body: {letter.message['Body'][:BODY_SHOWN]!r}")
        else:
            job = letter.job
            lines.append(f"- {job.kind}  tenant {job.tenant_id or '-'}  job {job.id}, {when}")
            if job.payload:
                lines.append(f"  payload: {json.dumps(job.payload, default=str)[:BODY_SHOWN]}")
        lines.append(f"  reason: {letter.reason}")
    return "\n".join(lines)


def render_redrive(done: Redriven) -> str:
    lines = [f"moved {len(done.moved)} job(s) back to the jobs queue"]
    if done.left:
        lines.append(f"left {len(done.left)} in the dead-letter queue: not jobs, or refused by SQS")
    for letter in done.not_deleted:
        lines.append(
            f"copied back but not deleted from the dead-letter queue (it may run twice; delete it by hand): "
            f"message {letter.message_id}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.dlq", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the stack's name (the local stack's: qbsync-local)")
    parser.add_argument(
        "--redrive", action="store_true", help="send the jobs back to the jobs queue once listed"
    )
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. the local stack's moto: http://127.0.0.1:4566"
    )
    args = parser.parse_args(argv)

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=args.endpoint_url)  # type: ignore[call-overload]

    sqs = client("sqs")
    queues = locate(client("cloudformation"), sqs, args.stack)
    letters = look(sqs, queues.dead_letter_url)
    redriven: Redriven | None = None
    try:
        explain(client("logs"), queues.worker_log_group, letters)
        print(render(args.stack, queues, letters))
        if args.redrive:
            redriven = redrive(sqs, queues, letters)
            print(render_redrive(redriven))
    finally:
        if redriven is None:  # a redrive releases what it leaves
            release(sqs, queues.dead_letter_url, letters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
