"""Events for the host app: each one stored in the tenant's feed first (it gets its feed id there), then put
on the bus with that id, so a subscriber and a reader of the feed see the same event under the same id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qbsync.domain.connections import EventPublisher
from qbsync.domain.errors import FieldProblem, InvalidInputError
from qbsync.domain.paging import Page
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.sync import EventFeed, SyncEvent
from qbsync.usecases.tenants import get_tenant

FEED_PAGE_MAX = 500


@dataclass
class FeedAndBus:
    """An EventPublisher that keeps every event in the tenant's feed as well as sending it on the bus."""

    feed: EventFeed
    bus: EventPublisher
    clock: Clock

    def publish(self, detail_type: str, tenant_id: str, detail: dict[str, object]) -> None:
        self.publish_many(tenant_id, [(detail_type, detail)])

    def publish_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, object]]]) -> None:
        """A batch's events: stored in the feed together, then put on the bus together, with their ids."""
        if not events:
            return
        now = self.clock.now()
        stored = self.feed.append_many([SyncEvent(t, tenant_id, now, dict(d)) for t, d in events])
        self.bus.publish_many(
            tenant_id, [(t, {"event_id": s.id, **d}) for (t, d), s in zip(events, stored, strict=True)]
        )


def read_feed(
    tenants: TenantRepository, feed: EventFeed, tenant_id: str, after: str | None, limit: int
) -> Page[SyncEvent]:
    get_tenant(tenants, tenant_id)
    if not 1 <= limit <= FEED_PAGE_MAX:
        raise InvalidInputError(
            f"limit is 1 to {FEED_PAGE_MAX}.",
            [FieldProblem("limit", f"1 to {FEED_PAGE_MAX}", "out_of_range")],
        )
    return feed.after(tenant_id, after, limit)
