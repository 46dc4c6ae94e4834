"""Events of a batch published together: FeedAndBus stores them in the tenant's feed at once and puts them on
the bus at once. The same tests run on the stack's table and bus (moto, the bus read through a rule that
forwards to a queue) and on the in-memory feed and recording publisher the use-case tests use."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local.aws import LocalStack
from qbsync.adapters import eventbridge
from qbsync.adapters.eventbridge import EventBridgePublisher
from qbsync.adapters.records_dynamodb import DynamoEventFeed
from qbsync.domain.connections import EventPublisher
from qbsync.domain.sync import EventFeed
from qbsync.usecases.events import FeedAndBus
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import FixedClock
from tests.unit.sync_fakes import InMemoryEventFeed

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TENANT = "acme-42"


@dataclass
class Wiring:
    bus: EventPublisher
    feed: EventFeed
    received: Callable[[], list[tuple[str, dict[str, Any]]]]  # what reached the bus: (detail type, detail)


def _aws(stack: LocalStack) -> Wiring:
    bus_name = str(stack.ref("EventBus"))
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="tap", EventBusName=bus_name, EventPattern=json.dumps({"source": ["qbsync"]}))
    events.put_targets(Rule="tap", EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])
    seen: list[tuple[str, dict[str, Any]]] = []

    def received() -> list[tuple[str, dict[str, Any]]]:
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                body = json.loads(m["Body"])
                seen.append((body["detail-type"], body["detail"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return seen

    clock = FixedClock(T0)
    client = boto3.client("dynamodb")
    return Wiring(
        EventBridgePublisher(events, bus_name, clock),
        DynamoEventFeed(client, str(stack.ref("Table")), clock=clock),
        received,
    )


@pytest.fixture(params=["aws", "memory"])
def wiring(request: pytest.FixtureRequest) -> Wiring:
    if request.param == "aws":
        return _aws(request.getfixturevalue("aws_env"))
    recording = RecordingEvents()
    return Wiring(recording, InMemoryEventFeed(), lambda: [(t, d) for t, _, d in recording.published])


def batch(n: int) -> list[tuple[str, dict[str, object]]]:
    return [
        ("record.synced" if i % 4 else "record.failed", {"record_id": f"inv-{i}", "n": i}) for i in range(n)
    ]


def test_a_batch_of_events_reaches_the_bus_in_order(wiring: Wiring) -> None:
    wiring.bus.publish_many(TENANT, batch(23))  # more than one PutEvents of 10
    wiring.bus.publish_many(TENANT, [])
    # The bus adds the tenant to each event's detail; the recording publisher keeps the tenant apart.
    received = [(t, {k: v for k, v in d.items() if k != "tenant_id"}) for t, d in wiring.received()]
    assert received == batch(23)


def test_a_batch_published_with_the_feed_is_in_the_feed_and_on_the_bus_under_the_same_ids(
    wiring: Wiring,
) -> None:
    events = FeedAndBus(wiring.feed, wiring.bus, FixedClock(T0))
    events.publish("record.synced", TENANT, {"record_id": "c-1"})
    events.publish_many(TENANT, batch(30))
    events.publish_many(TENANT, [])
    feed = wiring.feed.after(TENANT, None, 100).items
    assert [(e.type, e.detail) for e in feed] == [("record.synced", {"record_id": "c-1"}), *batch(30)]
    assert [e.id for e in feed] == [f"{n:012d}" for n in range(1, 32)]
    on_bus = wiring.received()
    assert [d["event_id"] for _, d in on_bus] == [e.id for e in feed]
    assert [t for t, _ in on_bus] == [e.type for e in feed]


class _FailingSome:
    """An EventBridge client whose first PutEvents fails its even entries, as a throttled bus may."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(len(Entries))
        if len(self.calls) > 1:
            return self._client.put_events(Entries=Entries)  # type: ignore[no-any-return]
        kept = Entries[1::2]
        answer = self._client.put_events(Entries=kept)["Entries"]
        entries: list[dict[str, Any]] = []
        for n in range(len(Entries)):
            failed = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
            entries.append(failed if n % 2 == 0 else answer[n // 2])
        return {"FailedEntryCount": (len(Entries) + 1) // 2, "Entries": entries}


def test_entries_the_bus_failed_are_put_again_and_only_those(aws_env: LocalStack) -> None:
    wiring = _aws(aws_env)
    failing = _FailingSome(boto3.client("events"))
    bus = EventBridgePublisher(failing, str(aws_env.ref("EventBus")), FixedClock(T0))  # type: ignore[arg-type]
    bus.publish_many(TENANT, batch(7))
    assert failing.calls == [7, 4]
    received = wiring.received()
    assert sorted(d["n"] for _, d in received) == list(range(7))  # each once


def test_put_events_calls_hold_at_most_10_entries_and_256_kb() -> None:
    def entry(size: int) -> Any:
        return {"Source": "qbsync", "DetailType": "record.synced", "Detail": "x" * size}

    assert [len(c) for c in eventbridge._chunks([entry(10)] * 23)] == [10, 10, 3]
    big = [entry(100_000)] * 5
    assert [len(c) for c in eventbridge._chunks(big)] == [2, 2, 1]
