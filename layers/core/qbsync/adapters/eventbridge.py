"""Events for the host app on the stack's EventBridge bus: source `qbsync`, detail-type the event name."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qbsync.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE = "qbsync"
# PutEvents takes at most 10 entries, 256 KB in all ("Amazon EventBridge quotas"; PutEvents, API Reference).
PUT_EVENTS_MAX = 10
PUT_EVENTS_BYTES = 256 * 1024
PUT_EVENTS_ROUNDS = 5  # rounds of failed entries retried before giving up loudly


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str, clock: Clock) -> None:
        self._client = client
        self._bus = bus_name
        self._clock = clock

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.publish_many(tenant_id, [(detail_type, detail)])

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        """PutEvents of up to 10 entries (and 256 KB); entries EventBridge failed are put again."""
        now = self._clock.now()
        entries: list[PutEventsRequestEntryTypeDef] = [
            {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps({"tenant_id": tenant_id, **detail}, default=str),
                "EventBusName": self._bus,
                "Time": now,
            }
            for detail_type, detail in events
        ]
        for chunk in _chunks(entries):
            self._put(chunk)

    def _put(self, entries: list[PutEventsRequestEntryTypeDef]) -> None:
        for round_ in range(PUT_EVENTS_ROUNDS):
            if round_:
                time.sleep(min(0.1 * 2**round_, 2.0))  # failed entries: EventBridge throttled or erred
            response = self._client.put_events(Entries=entries)
            if not response.get("FailedEntryCount"):
                return
            answers = response["Entries"]
            failed = [e for e, a in zip(entries, answers, strict=True) if a.get("ErrorCode")]
            errors = [f"{a.get('ErrorCode')}: {a.get('ErrorMessage')}" for a in answers if a.get("ErrorCode")]
            entries = failed
        raise RuntimeError(
            f"EventBridge refused {len(entries)} event(s) {PUT_EVENTS_ROUNDS} times: {errors[:3]}"
        )


def _chunks(entries: list[PutEventsRequestEntryTypeDef]) -> list[list[PutEventsRequestEntryTypeDef]]:
    """Entries in PutEvents calls of at most PUT_EVENTS_MAX entries and PUT_EVENTS_BYTES, in order. An entry's
    size counted as its Detail, DetailType and Source, plus 14 bytes for its Time (PutEvents, "Calculating
    PutEvents event entry size")."""
    chunks: list[list[PutEventsRequestEntryTypeDef]] = []
    size = 0
    for entry in entries:
        weight = 14 + sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail"))
        if not chunks or len(chunks[-1]) >= PUT_EVENTS_MAX or size + weight > PUT_EVENTS_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += weight
    return chunks
