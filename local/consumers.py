"""SQS event source mappings and EventBridge schedules, driven as Lambda and Scheduler drive them."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from datetime import timedelta
from typing import Any

from local import template as tpl
from local.aws import REGION
from local.lambdas import LocalFunction

log = logging.getLogger("local.consumers")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function for a batch of received messages."""
    records = []
    for m in messages:
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
                "messageAttributes": {
                    name: {
                        "stringValue": attr.get("StringValue"),
                        "binaryValue": attr.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": attr["DataType"],
                    }
                    for name, attr in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody")
                or hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


class QueuePoller:
    """Receives batches, invokes the function, deletes what succeeded. Failed messages become visible again
    after the queue's visibility timeout, and the queue's redrive policy moves them to the DLQ."""

    def __init__(
        self, sqs: Any, source: tpl.QueueSource, queue_url: str, queue_arn: str, function: LocalFunction
    ) -> None:
        self._sqs = sqs
        self.source = source
        self._url = queue_url
        self._arn = queue_arn
        self._function = function

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive-invoke-delete round; returns how many messages it handled."""
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        failed = self._invoke(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages that failed: all of them if the function raised."""
        all_ids = {m["MessageId"] for m in messages}
        try:
            result = self._function.invoke(sqs_event(messages, self._arn))
        except Exception:
            log.exception("%s failed the whole batch", self.source.function)
            return all_ids
        if not self.source.report_batch_item_failures:
            return set()
        if not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        ids = {f.get("itemIdentifier") for f in failures}
        if not ids <= all_ids:  # Lambda treats an unknown identifier as a failure of the whole batch
            return all_ids
        return {i for i in ids if i}

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                log.exception("polling %s failed; retrying", self._url)
                stop.wait(1)


_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")


def rate_interval(expression: str) -> timedelta:
    m = _RATE.fullmatch(expression.strip())
    if not m:
        raise ValueError(f"the local stack runs rate(...) schedules only, not {expression!r}")
    unit = m.group(2).rstrip("s") + "s"
    return timedelta(**{unit: int(m.group(1))})


class ScheduleRunner:
    """Invokes the target with the schedule's input: once at start (so `make run` shows the pipeline at
    work at once), then at every interval."""

    def __init__(self, schedule: tpl.Schedule, function: LocalFunction) -> None:
        self.schedule = schedule
        self.interval = rate_interval(schedule.expression)
        self._function = function

    def fire(self) -> Any:
        return self._function.invoke(self.schedule.input or {})

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.fire()
            except Exception:
                log.exception("schedule %s failed", self.schedule.name)
            stop.wait(self.interval.total_seconds())
