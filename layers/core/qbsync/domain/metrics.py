"""What the service measures for its operators, and the port the use cases record it through.

Each metric has a name, a unit and its dimensions, in order; the adapter (qbsync/metrics.py, CloudWatch's
embedded metric format) publishes every figure at each prefix of them: `RecordsFailed` by nothing (the
total, which the alarms watch), by `edition`, and by `edition` and `code` (the dashboard). `edition` (qbo,
qbd) is a dimension where both editions report the metric; the Web Connector's are Desktop's alone, the
webhooks' and the tokens' Online's alone.

Dimensions take few values: an edition, a failure code, a reason, an outcome. A tenant id never is one (one
metric per tenant: CloudWatch bills each, and a dashboard of thousands of lines says nothing); it goes with
the figures as a property, to be found in the logs. template.yaml's dashboard and alarms read these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Unit(StrEnum):
    """CloudWatch's units (the MetricDatum Unit values) that qbsync uses."""

    COUNT = "Count"
    SECONDS = "Seconds"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    dimensions: tuple[str, ...] = ()


# The sync engine, both editions: what each record came to, and what a run put off for later.
RECORDS_SYNCED = Metric("RecordsSynced", Unit.COUNT, ("edition",))
RECORDS_FAILED = Metric("RecordsFailed", Unit.COUNT, ("edition", "code"))  # Failure.code
# reason: a FaultAction (retry_later, outcome_unknown, reconnect) or LISTS_UNREAD.
RECORDS_DEFERRED = Metric("RecordsDeferred", Unit.COUNT, ("edition", "reason"))
SYNC_RUN_DURATION = Metric("SyncRunDuration", Unit.SECONDS, ("edition",))  # Online: a run; Desktop: a session
LISTS_UNREAD = "lists_unread"

# The Web Connector (Desktop): sessions opened, those that failed and why, and answers received.
WEB_CONNECTOR_SESSIONS = Metric("WebConnectorSessions", Unit.COUNT)
# reason: quickbooks_not_open (connectionError), quickbooks_error (an HRESULT in receiveResponseXML),
# company_refused (a QuickBooks or company file qbsync cannot work with).
WEB_CONNECTOR_SESSIONS_FAILED = Metric("WebConnectorSessionsFailed", Unit.COUNT, ("reason",))
WEB_CONNECTOR_ROUND_TRIPS = Metric("WebConnectorRoundTrips", Unit.COUNT)

# QuickBooks Online: webhook deliveries (accepted, refused: a bad signature, unreadable: signed but in no
# known format) and token refreshes (refreshed, invalid_grant, failed: anything else went wrong).
WEBHOOK_DELIVERIES = Metric("WebhookDeliveries", Unit.COUNT, ("outcome",))
TOKEN_REFRESHES = Metric("TokenRefreshes", Unit.COUNT, ("outcome",))
NEEDS_REAUTH = Metric("NeedsReauth", Unit.COUNT, ("reason",))  # a connection moved to needs_reauth

# The worker received the scheduler's heartbeat (every 5 minutes): the pipeline is alive.
HEARTBEATS = Metric("Heartbeats", Unit.COUNT)

ALL = (
    RECORDS_SYNCED,
    RECORDS_FAILED,
    RECORDS_DEFERRED,
    SYNC_RUN_DURATION,
    WEB_CONNECTOR_SESSIONS,
    WEB_CONNECTOR_SESSIONS_FAILED,
    WEB_CONNECTOR_ROUND_TRIPS,
    WEBHOOK_DELIVERIES,
    TOKEN_REFRESHES,
    NEEDS_REAUTH,
    HEARTBEATS,
)


class Metrics(Protocol):
    def add(
        self, metric: Metric, value: float = 1, *, tenant_id: str | None = None, **dimensions: str
    ) -> None:
        """Record `value` (a count, or seconds) of `metric`, with exactly its dimensions; `tenant_id`, when
        the figure is one tenant's, goes with it, never as a dimension."""


class NoMetrics:
    """Records nothing: for a use case built outside the composition root (a script, a benchmark)."""

    def add(
        self, metric: Metric, value: float = 1, *, tenant_id: str | None = None, **dimensions: str
    ) -> None:
        pass


NO_METRICS = NoMetrics()
