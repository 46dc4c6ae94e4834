"""In-memory Web Connector stores. They keep the DynamoDB adapters' contract (sessions keyed by ticket digest,
expiry stored to the second); tests/adapters/test_qbwc_dynamodb.py runs the same checks against both."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from qbsync.adapters.qbxml.exchange import PROFILE, QbxmlCodec
from qbsync.domain.desktop import Exchange, ExchangeState
from qbsync.domain.metrics import NO_METRICS, Metrics
from qbsync.domain.qbwc import (
    FAILURE_WINDOW,
    QbwcCredential,
    QbwcSession,
    SessionProgress,
    hash_password,
    ticket_digest,
)
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.usecases.desktop_sync import DesktopSync
from qbsync.usecases.payments import PaymentRelay
from qbsync.usecases.sync_engine import SyncEngine
from tests.unit.engine_spec import RecordedEvents
from tests.unit.fakes import FixedClock, InMemorySettings
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore, InMemoryTenantLease


@dataclass
class InMemoryQbwcCredentials:
    items: dict[str, QbwcCredential] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def find(self, username: str) -> QbwcCredential | None:
        self.lookups.append(username)
        return self.items.get(username)

    def put(self, credential: QbwcCredential) -> None:
        self.items[credential.username] = credential

    def delete(self, username: str) -> None:
        self.items.pop(username, None)

    def register(self, username: str, tenant_id: str, password: str) -> QbwcCredential:
        credential = QbwcCredential(
            username=username, tenant_id=tenant_id, password_hash=hash_password(password)
        )
        self.items[username] = credential
        return credential


@dataclass
class InMemoryQbwcLoginFailures:
    rows: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # user name → (failures, last at)

    def recent(self, username: str, now: datetime) -> int:
        failures, last = self.rows.get(username, (0, now - FAILURE_WINDOW))
        return failures if last > now - FAILURE_WINDOW else 0

    def add(self, username: str, now: datetime) -> None:
        # DynamoDB keeps the time to the millisecond.
        at = datetime.fromtimestamp(int(now.timestamp() * 1000) / 1000, UTC)
        self.rows[username] = (self.recent(username, now) + 1, at)

    def clear(self, username: str) -> None:
        self.rows.pop(username, None)


@dataclass
class InMemoryQbwcSessions:
    items: dict[str, QbwcSession] = field(default_factory=dict)

    def add(self, session: QbwcSession) -> None:
        key = ticket_digest(session.ticket)
        if key in self.items:
            raise ValueError("a session with this ticket exists")
        # DynamoDB keeps expires_at as whole epoch seconds.
        expires = datetime.fromtimestamp(int(session.expires_at.timestamp()), UTC)
        self.items[key] = replace(session, expires_at=expires)

    def get(self, ticket: str) -> QbwcSession | None:
        return self.items.get(ticket_digest(ticket))

    def set_last_error(self, ticket: str, message: str) -> None:
        key = ticket_digest(ticket)
        if key in self.items:
            self.items[key] = replace(self.items[key], last_error=message)

    def save_progress(self, ticket: str, progress: SessionProgress) -> None:
        key = ticket_digest(ticket)
        if key in self.items:
            self.items[key] = replace(self.items[key], progress=progress)

    def delete(self, ticket: str) -> None:
        self.items.pop(ticket_digest(ticket), None)


@dataclass
class RecordingSleeper:
    """Sleeps by moving the test's clock on, and remembers each wait: no real sleep in a test."""

    clock: FixedClock
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


@dataclass
class InMemoryExchanges:
    """A Desktop tenant's last exchange, with the adapter's conditions (adapters/dynamodb_qbd.py)."""

    items: dict[str, Exchange] = field(default_factory=dict)

    def current(self, tenant_id: str) -> Exchange | None:
        return self.items.get(tenant_id)

    def put(self, exchange: Exchange) -> None:
        self.items[exchange.tenant_id] = exchange

    def answer(self, tenant_id: str, exchange_id: str, answer: str) -> bool:
        kept = self.items.get(tenant_id)
        if kept is None or kept.exchange_id != exchange_id:
            return False
        if kept.state not in (ExchangeState.SENT, ExchangeState.LOST):
            return False
        self.items[tenant_id] = replace(kept, state=ExchangeState.ANSWERED, answer=answer)
        return True

    def close(self, tenant_id: str, exchange_id: str, state: ExchangeState) -> bool:
        kept = self.items.get(tenant_id)
        if kept is None or kept.exchange_id != exchange_id:
            return False
        open_state = ExchangeState.ANSWERED if state is ExchangeState.APPLIED else ExchangeState.SENT
        if kept.state is not open_state:
            return False
        self.items[tenant_id] = replace(kept, state=state)
        return True


class NoPaymentsBack(InMemorySettings):
    """Every tenant's settings, defaults but for payments, which are not read back."""

    def latest(self, tenant_id: str) -> SettingsVersion | None:
        stored = super().latest(tenant_id)
        if stored is not None:
            return stored
        at = datetime(2026, 1, 1, tzinfo=UTC)
        return SettingsVersion(tenant_id, 1, at, SyncSettings(sync_payments_from_quickbooks=False))


def in_memory_desktop_sync(
    sessions: InMemoryQbwcSessions, clock: FixedClock, metrics: Metrics = NO_METRICS
) -> DesktopSync:
    """The Desktop driver over empty in-memory stores: no records, and no payments read back."""
    store, settings, lease = InMemoryRecordStore(), NoPaymentsBack(), InMemoryTenantLease()
    events = RecordedEvents()
    engine = SyncEngine(store, PROFILE, settings, lease, events, clock, InMemoryMirror(), metrics)
    payments = PaymentRelay(None, InMemoryPaymentLog(), store, settings, events, clock)
    return DesktopSync(engine, QbxmlCodec(), InMemoryExchanges(), sessions, store, settings, clock, payments)
