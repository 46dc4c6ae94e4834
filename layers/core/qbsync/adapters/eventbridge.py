"""Events for the host app on the stack's EventBridge bus: source `qbsync`, detail-type the event name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qbsync.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "qbsync"


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str, clock: Clock) -> None:
        self._client = client
        self._bus = bus_name
        self._clock = clock

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        for detail_type, detail in events:
            self.publish(detail_type, tenant_id, detail)

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps({"tenant_id": tenant_id, **detail}, default=str),
                    "EventBusName": self._bus,
                    "Time": self._clock.now(),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries']}")
