"""Receive a QuickBooks Online webhook: verify Intuit's signature, read either payload format, drop
redeliveries and put the changes of a connected company on the queue: one job per tenant and entity type of a
delivery, so that the worker reads the customers (or items, ...) a delivery names in one query.

Intuit wants an answer within 3 seconds and holds back later deliveries until one is acknowledged, so nothing
here calls QuickBooks: the worker fetches the entities later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from qbsync.domain.jobs import ENTITY_CHANGED_JOB, Job, new_job
from qbsync.domain.json_input import JsonInputError, load_json
from qbsync.domain.metrics import NO_METRICS, WEBHOOK_DELIVERIES, Metrics
from qbsync.domain.ports import Clock, JobQueue
from qbsync.domain.webhooks import (
    EntityChange,
    RealmDirectory,
    WebhookEventLog,
    WebhookPayloadError,
    WebhookSignatureError,
    entity_name,
    legacy_event_id,
    operation_of,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "intuit-signature"
# What became of a delivery (WEBHOOK_DELIVERIES' outcome).
ACCEPTED = "accepted"
REFUSED = "refused"  # no signature, or a wrong one: nothing was read
UNREADABLE = "unreadable"  # signed, in neither of Intuit's formats: acknowledged, nothing routed


def signature_of(headers: dict[str, str]) -> str | None:
    """The delivery's signature header, whatever the case of its name (HTTP header names are
    case-insensitive, RFC 9110 §5.1; API Gateway's payload 2.0 passes them lower-cased)."""
    return next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER), None)


# ---------------------------------------------------------------- signature


def sign(verifier_token: str, body: bytes) -> str:
    """What Intuit puts in `intuit-signature`: base64(HMAC-SHA256(verifier token, raw body bytes))."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(verifier_token: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a presented signature against the body exactly as received."""
    expected = sign(verifier_token, body).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8", errors="replace"))


# ---------------------------------------------------------------- wire formats


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)


class _LegacyEntity(_Wire):
    name: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=64)
    operation: str = Field(min_length=1, max_length=32)
    last_updated: str = Field(default="", alias="lastUpdated", max_length=64)
    # A merge's entity merged away, spelled either way (NOTES §2.1).
    deleted_id: str = Field(
        default="", validation_alias=AliasChoices("deletedId", "deletedID"), max_length=64
    )


class _LegacyDataChangeEvent(_Wire):
    entities: list[dict[str, Any]]


class _LegacyNotification(_Wire):
    realm_id: str = Field(alias="realmId", min_length=1, max_length=64)
    data_change_event: _LegacyDataChangeEvent = Field(alias="dataChangeEvent")


class _CloudEvent(_Wire):
    id: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=128)
    intuitaccountid: str = Field(min_length=1, max_length=64)
    intuitentityid: str = Field(min_length=1, max_length=64)
    time: str = Field(default="", max_length=64)
    data: Any = None  # `{}` but on merges (NOTES §2.5): read leniently, never a reason to skip the event

    @property
    def deleted_id(self) -> str:
        """A merge's entity merged away: `data.deletedId` (or `deletedid`, NOTES §2.5)."""
        items = self.data.items() if isinstance(self.data, dict) else ()
        found = next((v for k, v in items if str(k).lower() == "deletedid"), None)
        return str(found).strip()[:64] if isinstance(found, str | int) and not isinstance(found, bool) else ""


@dataclass
class ParsedPayload:
    """The changes read from one delivery, and how many of its events could not be read (each one logged)."""

    changes: list[EntityChange] = field(default_factory=list)
    skipped: int = 0


def _timestamp(value: str) -> datetime | None:
    """ISO 8601 with an offset (`Z`, `-07:00`, `-0700`, any fraction); None if absent, unreadable or naive."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _skip(parsed: ParsedPayload, reason: str, **where: Any) -> None:
    log.warning("webhook event skipped: %s", reason, extra=where)
    parsed.skipped += 1


def _legacy(doc: dict[str, Any]) -> ParsedPayload:
    notifications = doc.get("eventNotifications")
    if not isinstance(notifications, list):
        raise WebhookPayloadError("eventNotifications must be a list.")
    parsed = ParsedPayload()
    for n, raw_notification in enumerate(notifications):
        try:
            notification = _LegacyNotification.model_validate(raw_notification)
        except ValidationError as exc:
            _skip(parsed, "unreadable notification", notification=n, errors=exc.error_count())
            continue
        realm_id = notification.realm_id
        for e, raw_entity in enumerate(notification.data_change_event.entities):
            try:
                entity = _LegacyEntity.model_validate(raw_entity)
            except ValidationError as exc:
                _skip(parsed, "unreadable entity", realm_id=realm_id, entity=e, errors=exc.error_count())
                continue
            operation = operation_of(entity.operation)
            if operation is None:
                _skip(parsed, "unknown operation", realm_id=realm_id, operation=entity.operation)
                continue
            name = entity_name(entity.name)
            event_id = legacy_event_id(realm_id, name, entity.id, operation.value, entity.last_updated)
            parsed.changes.append(
                EntityChange(
                    event_id=event_id,
                    realm_id=realm_id,
                    entity=name,
                    entity_id=entity.id,
                    operation=operation,
                    last_updated=_timestamp(entity.last_updated),
                    deleted_id=entity.deleted_id or None,
                )
            )
    return parsed


def _cloudevents(doc: list[Any]) -> ParsedPayload:
    parsed = ParsedPayload()
    for n, raw_event in enumerate(doc):
        try:
            event = _CloudEvent.model_validate(raw_event)
        except ValidationError as exc:
            _skip(parsed, "unreadable event", event=n, errors=exc.error_count())
            continue
        # qbo.<entity>.<verb>.v<version>, e.g. qbo.invoice.created.v1
        parts = event.type.split(".")
        well_formed = len(parts) == 4 and parts[0] == "qbo" and bool(parts[1])
        operation = operation_of(parts[2]) if well_formed else None
        if operation is None:
            _skip(parsed, "unknown event type", event_id=event.id, type=event.type)
            continue
        parsed.changes.append(
            EntityChange(
                event_id=event.id,
                realm_id=event.intuitaccountid,
                entity=entity_name(parts[1]),
                entity_id=event.intuitentityid,
                operation=operation,
                last_updated=_timestamp(event.time),
                deleted_id=event.deleted_id or None,
            )
        )
    return parsed


def parse_payload(body: bytes) -> ParsedPayload:
    """Both formats: a CloudEvents JSON array, or the legacy `{"eventNotifications": [...]}` object.

    One unreadable event does not refuse the others; a body in neither format raises WebhookPayloadError.
    """
    try:
        doc = load_json(body)
    except JsonInputError as exc:
        raise WebhookPayloadError(str(exc)) from exc
    if isinstance(doc, list):
        return _cloudevents(doc)
    if isinstance(doc, dict) and "eventNotifications" in doc:
        return _legacy(doc)
    raise WebhookPayloadError(
        "The body is neither a CloudEvents array nor a legacy eventNotifications object."
    )


# ---------------------------------------------------------------- routing


@dataclass
class WebhookReceipt:
    """What became of one delivery; safe to log (ids only, no secrets)."""

    changes: int = 0
    skipped: int = 0
    duplicates: int = 0
    unknown_realm_changes: int = 0
    jobs: list[Job] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "changes": self.changes,
            "jobs": len(self.jobs),
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "unknown_realm_changes": self.unknown_realm_changes,
        }


def _change(change: EntityChange) -> dict[str, Any]:
    merged_away = {} if change.deleted_id is None else {"deleted_id": change.deleted_id}
    return {
        "entity_id": change.entity_id,
        "operation": change.operation.value,
        "event_id": change.event_id,
        "last_updated": change.last_updated.isoformat() if change.last_updated else None,
        **merged_away,
    }


def _job(tenant_id: str, changes: list[EntityChange], now: datetime) -> Job:
    """One job for changes of one entity type of one company, in the delivery's order."""
    first = changes[0]
    return new_job(
        ENTITY_CHANGED_JOB,
        now,
        tenant_id=tenant_id,
        realm_id=first.realm_id,
        entity=first.entity,
        changes=[_change(change) for change in changes],
    )


def route_changes(
    changes: list[EntityChange],
    *,
    events: WebhookEventLog,
    realms: RealmDirectory,
    jobs: JobQueue,
    clock: Clock,
) -> WebhookReceipt:
    """One job per tenant and entity type of the changes of connected realms, each change at most once
    however often Intuit delivers it."""
    receipt = WebhookReceipt(changes=len(changes))
    tenants: dict[str, str | None] = {}
    claimed: dict[tuple[str, str, str], list[EntityChange]] = {}
    for change in changes:
        if change.realm_id not in tenants:
            tenants[change.realm_id] = realms.tenant_for_realm(change.realm_id)
            if tenants[change.realm_id] is None:
                log.info("webhook for a realm no tenant has connected", extra={"realm_id": change.realm_id})
        tenant_id = tenants[change.realm_id]
        if tenant_id is None:
            receipt.unknown_realm_changes += 1
            continue
        if not events.claim(change.event_id, clock.now()):
            log.info("duplicate webhook event dropped", extra={"event_id": change.event_id})
            receipt.duplicates += 1
            continue
        claimed.setdefault((tenant_id, change.realm_id, change.entity), []).append(change)
    groups = list(claimed.items())
    for sent, ((tenant_id, _, _), group) in enumerate(groups):
        job = _job(tenant_id, group, clock.now())
        try:
            jobs.send(job)
        except Exception:
            # Intuit retries the whole delivery: its retry of the changes not queued must not count as
            # duplicates.
            for _, unsent in groups[sent:]:
                for change in unsent:
                    events.release(change.event_id)
            raise
        receipt.jobs.append(job)
    return receipt


@dataclass
class RecentRealms:
    """The webhook's view of which tenant connected a company: a company found connected is remembered for
    `keep`, so that a warm function acknowledges a delivery with two requests (the dedupe key, the job)
    instead of three. Only found companies are remembered: one connected a moment ago is looked up again,
    so its first changes are never dropped. A company reconnected to another tenant within `keep` has its
    changes queued for the tenant it left, whose worker finds it no longer connected."""

    realms: RealmDirectory
    clock: Clock
    keep: timedelta = timedelta(minutes=1)
    _found: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def tenant_for_realm(self, realm_id: str) -> str | None:
        now = self.clock.now()
        remembered = self._found.get(realm_id)
        if remembered is not None and now - remembered[1] < self.keep:
            return remembered[0]
        tenant_id = self.realms.tenant_for_realm(realm_id)
        if tenant_id is None:
            self._found.pop(realm_id, None)
        else:
            self._found[realm_id] = (tenant_id, now)
        return tenant_id


@dataclass(frozen=True)
class WebhookReceiver:
    """Receives deliveries over the ports it is built with; the verifier token is read on each use."""

    verifier_token: Callable[[], str]
    events: WebhookEventLog
    realms: RealmDirectory
    jobs: JobQueue
    clock: Clock
    metrics: Metrics = NO_METRICS

    def receive(self, body: bytes, signature: str | None) -> WebhookReceipt:
        """Verify, read and route one delivery.

        Raises WebhookSignatureError when the signature is missing or wrong (nothing is read), and
        WebhookPayloadError when a correctly signed body is in neither format.
        """
        try:
            receipt = self._receive(body, signature)
        except WebhookSignatureError:
            self.metrics.add(WEBHOOK_DELIVERIES, outcome=REFUSED)
            raise
        except WebhookPayloadError:
            self.metrics.add(WEBHOOK_DELIVERIES, outcome=UNREADABLE)
            raise
        self.metrics.add(WEBHOOK_DELIVERIES, outcome=ACCEPTED)
        return receipt

    def _receive(self, body: bytes, signature: str | None) -> WebhookReceipt:
        if not signature:
            raise WebhookSignatureError(f"The request has no {SIGNATURE_HEADER} header.")
        if not signature_matches(self.verifier_token(), body, signature):
            raise WebhookSignatureError(
                f"The {SIGNATURE_HEADER} header does not match the body for this app's verifier token."
            )
        parsed = parse_payload(body)
        receipt = route_changes(
            parsed.changes, events=self.events, realms=self.realms, jobs=self.jobs, clock=self.clock
        )
        receipt.skipped = parsed.skipped
        return receipt
