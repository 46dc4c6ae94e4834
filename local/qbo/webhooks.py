"""Intuit's webhook deliveries: every committed change becomes an event, POSTed to each subscribed app.

What it follows (../shared/reference/qbo/NOTES.md §2):
- only apps with a webhook URL that are connected to the company (a live refresh token for the realm) receive
  its events, and only for the entities Intuit sends webhooks for;
- the body is a CloudEvents JSON array, or the legacy `{"eventNotifications": [...]}` object when the app is
  configured so; `intuit-signature` is base64(HMAC-SHA256(verifier token, exact body bytes));
- events are queued per app and delivered in order: changes are gathered for a short window (1 s, at most
  100 events) into one delivery, and later events wait until that delivery is acknowledged with a 2xx within
  3 s. Unacknowledged deliveries are retried on Intuit's schedule (0 s, 10 s, 20 s, 30 s, 5 min, 20 min, 2 h,
  4 h, 6 h, then every 6 h), which `time_scale` shrinks so that tests run it in milliseconds.

Deliveries run on background threads (one per app) with httpx: a change never waits for a receiver. Every
attempt is recorded in `Sandbox.webhook_deliveries` (`GET /_sandbox/webhooks/deliveries` lists them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from local.qbo.state import App, Entity, Sandbox

log = logging.getLogger(__name__)

FORMATS = ("cloudevents", "legacy")
# Seconds to wait before each attempt of one delivery; the last one repeats (Intuit: then every 6 h).
RETRY_DELAYS = (0.0, 10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0)
USER_AGENT = "intuit_notification_server/0.1"
SCHEMA_VERSION = "0.1"
CONTENT_TYPES = {"legacy": "application/json; charset=utf-8", "cloudevents": "application/cloudevents+json"}
MAX_RECORDED_ATTEMPTS = 5000

# Entities Intuit sends webhooks for (developer docs' webhooks page, NOTES §2.1).
WEBHOOK_ENTITIES = frozenset({
    "Account", "Bill", "BillPayment", "Budget", "Class", "CreditMemo", "Currency", "Customer", "Department",
    "Deposit", "Employee", "Estimate", "Invoice", "Item", "JournalCode", "JournalEntry", "Payment",
    "PaymentMethod", "Preferences", "Purchase", "PurchaseOrder", "RefundReceipt", "SalesReceipt", "TaxAgency",
    "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit",
})  # fmt: skip

# Any spelling of an operation -> (legacy `operation`, CloudEvents verb in `type`).
_OPERATIONS = {
    spelling: (legacy, verb)
    for legacy, verb, spellings in (
        ("Create", "created", ("create", "created")),
        ("Update", "updated", ("update", "updated")),
        ("Delete", "deleted", ("delete", "deleted")),
        ("Merge", "merged", ("merge", "merged")),
        ("Void", "voided", ("void", "voided")),
        ("Emailed", "emailed", ("email", "emailed")),
    )
    for spelling in spellings
}


def operation_names(operation: str) -> tuple[str, str] | None:
    """(legacy operation, CloudEvents verb) for `Create`, `create`, `created`...; None if Intuit has none."""
    return _OPERATIONS.get(operation.strip().lower())


def sign(verifier_token: str, body: bytes) -> str:
    """The `intuit-signature` header: base64(HMAC-SHA256(key=verifier token, msg=body bytes))."""
    return base64.b64encode(hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Event:
    """One change of one entity, as one app will be told of it."""

    id: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str  # legacy spelling: Create, Update, Delete, Merge, Void, Emailed
    verb: str  # CloudEvents spelling: created, updated, ...
    time: datetime  # UTC
    deleted_id: str | None = None  # merges: the id of the entity merged away


def _utc(stamp: datetime) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _legacy_time(stamp: datetime) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def source_of(client_id: str) -> str:
    """`source`: Intuit sends `intuit.` and an opaque base64 id (of the app, as far as anyone can tell)."""
    return "intuit." + base64.b64encode(hashlib.sha256(client_id.encode()).digest()).decode()


def cloudevents_body(events: list[Event], client_id: str) -> bytes:
    items = []
    for event in events:
        data = {"deletedId": event.deleted_id} if event.deleted_id else {}
        items.append({
            "specversion": "1.0",
            "id": event.id,
            "source": source_of(client_id),
            "type": f"qbo.{event.entity.lower()}.{event.verb}.v1",
            "datacontenttype": "application/json",
            "time": _utc(event.time),
            "intuitentityid": event.entity_id,
            "intuitaccountid": event.realm_id,
            "data": data,
        })  # fmt: skip
    return json.dumps(items, separators=(",", ":")).encode()


def legacy_body(events: list[Event]) -> bytes:
    """One `eventNotifications` element per realm, in order of first appearance (Intuit sends one realm)."""
    by_realm: dict[str, list[dict[str, str]]] = {}
    for event in events:
        entity = {
            "name": event.entity,
            "id": event.entity_id,
            "operation": event.operation,
            "lastUpdated": _legacy_time(event.time),
        }
        if event.deleted_id:
            entity["deletedId"] = event.deleted_id
        by_realm.setdefault(event.realm_id, []).append(entity)
    doc = {
        "eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}}
            for realm, entities in by_realm.items()
        ]
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Settings:
    """Timing of deliveries. `time_scale` multiplies the retry schedule only (0.001: 10 s becomes 10 ms)."""

    time_scale: float = 1.0
    ack_timeout: float = 3.0  # seconds for the receiver to answer 2xx
    window: float = 1.0  # seconds to gather changes into one delivery
    max_events: int = 100  # events per delivery
    max_attempts: int | None = None  # Intuit keeps retrying every 6 h; tests may give up sooner

    def delay_before(self, attempt: int) -> float:
        """Unscaled seconds to wait before attempt `attempt` (1-based) of a delivery."""
        return RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]


@dataclass(frozen=True)
class _Attempt:
    delivery_id: str
    client_id: str
    url: str | None
    format: str
    number: int
    delay: float  # unscaled seconds waited before this attempt, from RETRY_DELAYS
    events: list[Event]


@dataclass
class _Queued:
    event: Event
    at: float  # time.monotonic() when queued


@dataclass
class _Channel:
    """The ordered queue of one app's events and the thread that delivers them."""

    client_id: str
    pending: deque[_Queued] = field(default_factory=deque)
    cond: threading.Condition = field(default_factory=threading.Condition)
    busy: bool = False  # a delivery is being attempted or waits for a retry
    thread: threading.Thread | None = None


class WebhookSender:
    """Listens to a Sandbox's committed changes and delivers them as Intuit does. `attach()` builds one."""

    def __init__(self, sandbox: Sandbox, settings: Settings | None = None) -> None:
        self.sandbox = sandbox
        self.settings = settings or Settings()
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._running = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> WebhookSender:
        with self._lock:
            if self._running:
                return self
            self._stopping.clear()
            self._running = True
            if self.on_change not in self.sandbox.listeners:
                self.sandbox.listeners.append(self.on_change)
            for channel in self._channels.values():
                self._ensure_thread(channel)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and end the delivery threads; undelivered events are dropped."""
        with self._lock:
            self._running = False
            if self.on_change in self.sandbox.listeners:
                self.sandbox.listeners.remove(self.on_change)
            self._stopping.set()
            channels = list(self._channels.values())
        for channel in channels:
            with channel.cond:
                channel.cond.notify_all()
        for channel in channels:
            if channel.thread is not None:
                channel.thread.join(timeout)
                channel.thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every queued event has been delivered (or given up on); for tests and demos."""
        deadline = time.monotonic() + timeout
        with self._lock:
            channels = list(self._channels.values())
        for channel in channels:
            with channel.cond:
                while channel.pending or channel.busy:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    channel.cond.wait(remaining)
        return True

    # ------------------------------------------------------------------ listening
    def on_change(self, realm_id: str, kind: str, entity: Entity, operation: str) -> None:
        """The Sandbox listener: queue an event for each subscribed, connected app. Never blocks on I/O."""
        names = operation_names(operation)
        if names is None or kind not in WEBHOOK_ENTITIES:
            log.debug("no webhook for %s %s", kind, operation)
            return
        stamp = _last_updated(entity) or self.sandbox.clock.now()
        deleted_id = entity.get("deletedId") or entity.get("DeletedId")
        for client_id in self.subscribers(realm_id):
            event = Event(
                id=str(uuid.uuid4()),
                realm_id=realm_id,
                entity=kind,
                entity_id=str(entity.get("Id", "")),
                operation=names[0],
                verb=names[1],
                time=stamp.astimezone(UTC),
                deleted_id=str(deleted_id) if deleted_id else None,
            )
            self._enqueue(client_id, event)

    def subscribers(self, realm_id: str) -> list[str]:
        """Apps with a webhook URL and a live connection (refresh token) to the company."""
        sb = self.sandbox
        with sb.lock:
            now = sb.clock.now()
            connected = {
                token.client_id
                for token in sb.refresh_tokens.values()
                if token.realm_id == realm_id and not token.revoked and token.expires_at > now
            }
            return [cid for cid, app in sb.apps.items() if app.webhook_url and cid in connected]

    def _enqueue(self, client_id: str, event: Event) -> None:
        with self._lock:
            channel = self._channels.get(client_id)
            if channel is None:
                channel = self._channels[client_id] = _Channel(client_id)
            if self._running:
                self._ensure_thread(channel)
        with channel.cond:
            channel.pending.append(_Queued(event, time.monotonic()))
            channel.cond.notify_all()

    def _ensure_thread(self, channel: _Channel) -> None:
        if channel.thread is None or not channel.thread.is_alive():
            channel.thread = threading.Thread(
                target=self._run, args=(channel,), name=f"qbo-webhooks-{channel.client_id}", daemon=True
            )
            channel.thread.start()

    # ------------------------------------------------------------------ delivering
    def _run(self, channel: _Channel) -> None:
        with httpx.Client(timeout=self.settings.ack_timeout, follow_redirects=False) as client:
            while not self._stopping.is_set():
                fmt = self._format(channel.client_id)  # read outside the channel's lock (lock order)
                batch = self._next_batch(channel, legacy=fmt == "legacy")
                if not batch:
                    continue
                try:
                    self._deliver(client, channel.client_id, fmt, batch)
                finally:
                    with channel.cond:
                        channel.busy = False
                        channel.cond.notify_all()

    def _next_batch(self, channel: _Channel, *, legacy: bool) -> list[Event]:
        """Gather events for the window (or until max_events) and take them in order; [] if none came."""
        settings = self.settings
        with channel.cond:
            if not channel.pending:
                channel.cond.wait(0.5)
                return []
            while channel.pending and not self._stopping.is_set():
                remaining = channel.pending[0].at + settings.window - time.monotonic()
                if remaining <= 0 or len(channel.pending) >= settings.max_events:
                    break
                channel.cond.wait(remaining)
            if self._stopping.is_set() or not channel.pending:
                return []
            first_realm = channel.pending[0].event.realm_id
            batch: list[Event] = []
            while channel.pending and len(batch) < settings.max_events:
                if legacy and channel.pending[0].event.realm_id != first_realm:
                    break  # a legacy delivery covers one realm
                batch.append(channel.pending.popleft().event)
            channel.busy = True
            return batch

    def _app(self, client_id: str) -> App | None:
        with self.sandbox.lock:
            return self.sandbox.apps.get(client_id)

    def _format(self, client_id: str) -> str:
        app = self._app(client_id)
        return app.webhook_format if app is not None else "cloudevents"

    def _deliver(self, client: httpx.Client, client_id: str, fmt: str, events: list[Event]) -> None:
        """Send one delivery until a 2xx acknowledges it (or the sender stops, or max_attempts is reached)."""
        settings = self.settings
        delivery_id = str(uuid.uuid4())
        body = legacy_body(events) if fmt == "legacy" else cloudevents_body(events, client_id)
        attempt = 0
        while True:
            attempt += 1
            delay = settings.delay_before(attempt)
            if delay and self._stopping.wait(delay * settings.time_scale):
                return
            if self._stopping.is_set():
                return
            app = self._app(client_id)
            if app is None or not app.webhook_url:
                attempt_ = _Attempt(delivery_id, client_id, None, fmt, attempt, delay, events)
                self._record(attempt_, status=None, error="the app no longer has a webhook URL", elapsed=0.0)
                return
            headers = {
                "content-type": CONTENT_TYPES[fmt],
                "accept": "application/json",
                "user-agent": USER_AGENT,
                "intuit-signature": sign(app.verifier_token, body),
                "intuit-t-id": str(uuid.uuid4()),
                "intuit-created-time": self.sandbox.clock.now().strftime("%Y-%m-%dT%H:%M:%S%z"),
                "intuit-notification-schema-version": SCHEMA_VERSION,
            }
            started = time.monotonic()
            status: int | None = None
            error: str | None = None
            try:
                status = client.post(app.webhook_url, content=body, headers=headers).status_code
            except httpx.TimeoutException:
                error = f"no answer within {settings.ack_timeout:g} s"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = time.monotonic() - started
            if status is not None and elapsed > settings.ack_timeout:
                error = f"answered after {elapsed:.2f} s, later than {settings.ack_timeout:g} s"
            acknowledged = status is not None and 200 <= status < 300 and error is None
            if status is not None and not acknowledged and error is None:
                error = f"HTTP {status} is not an acknowledgement"
            self._record(
                _Attempt(delivery_id, client_id, app.webhook_url, fmt, attempt, delay, events),
                status=status,
                error=error,
                elapsed=elapsed,
            )
            if acknowledged:
                return
            if settings.max_attempts is not None and attempt >= settings.max_attempts:
                log.warning("webhook delivery %s given up after %d attempts", delivery_id, attempt)
                return

    def _record(self, attempt: _Attempt, *, status: int | None, error: str | None, elapsed: float) -> None:
        entry = {
            "delivery_id": attempt.delivery_id,
            "client_id": attempt.client_id,
            "url": attempt.url,
            "format": attempt.format,
            "attempt": attempt.number,
            "delay_seconds": attempt.delay,
            "status": status,
            "acknowledged": error is None and status is not None,
            "error": error,
            "elapsed_ms": round(elapsed * 1000),
            "event_ids": [e.id for e in attempt.events],
            "entities": [f"{e.realm_id}/{e.entity}/{e.entity_id}/{e.operation}" for e in attempt.events],
            "sent_at": self.sandbox.clock.now().isoformat(),
        }
        with self.sandbox.lock:
            deliveries = self.sandbox.webhook_deliveries
            deliveries.append(entry)
            del deliveries[:-MAX_RECORDED_ATTEMPTS]


def _last_updated(entity: Entity) -> datetime | None:
    stamp = (entity.get("MetaData") or {}).get("LastUpdatedTime")
    if not isinstance(stamp, str):
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def attach(sandbox: Sandbox, settings: Settings | None = None) -> WebhookSender:
    """Make `sandbox` send webhooks: a started sender, registered as a listener of its changes."""
    return WebhookSender(sandbox, settings).start()
