"""A Desktop tenant over the in-memory stores, its Web Connector and its company, in one process.

The product's own pieces run for real: `Records` (pushes), the sync engine driven by `DesktopSync`, the
qbXML codec, `WebConnectorService` behind the product's SOAP codec (qbsync.qbwc.soap). The simulated Web
Connector (local/qbd/webconnector.py) calls it over httpx, through a WSGI transport instead of a socket, and
carries each message to the simulated company (local/qbd/company.py). Only storage is in memory (the fakes
keep the DynamoDB adapters' contracts; the stack's tests run the same sessions on moto).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from local.qbd.company import Company
from local.qbd.webconnector import Faults, Qwc, Run, SimulatedWebConnector, qwc_text
from qbsync.adapters.qbxml.exchange import PROFILE, QbxmlCodec
from qbsync.adapters.qbxml.hcp import read_company_facts
from qbsync.domain import qbwc
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.qbwc import soap
from qbsync.qbwc.errors import SoapFaultError
from qbsync.qbwc.service import WebConnectorService
from qbsync.usecases.desktop_connection import DesktopConnections
from qbsync.usecases.desktop_sync import DesktopSync
from qbsync.usecases.payments import PaymentRelay
from qbsync.usecases.quickbooks_side import QuickBooksSide
from qbsync.usecases.records import Records
from qbsync.usecases.sync_engine import SyncEngine
from tests.unit.connection_fakes import InMemoryConnections
from tests.unit.engine_spec import RecordedEvents
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.mirror_fakes import InMemoryMirror, read_whole
from tests.unit.qbwc_fakes import (
    InMemoryExchanges,
    InMemoryQbwcCredentials,
    InMemoryQbwcLoginFailures,
    InMemoryQbwcSessions,
)
from tests.unit.sync_fakes import InMemoryPaymentLog, InMemoryRecordStore, InMemoryTenantLease

TENANT = "desk-1"
PASSWORD = "a web connector password"
INTERVAL = timedelta(minutes=10)


@dataclass
class DesktopWorld:
    tenant_id: str
    clock: FixedClock
    tenants: InMemoryTenants
    store: InMemoryRecordStore
    settings: InMemorySettings
    events: RecordedEvents
    exchanges: InMemoryExchanges
    sessions: InMemoryQbwcSessions
    credentials: InMemoryQbwcCredentials
    records: Records
    desktop: DesktopSync
    service: WebConnectorService
    company: Company
    connector: SimulatedWebConnector
    settings_used: dict[str, Any] = field(default_factory=dict)
    mirror: InMemoryMirror | None = None  # the QuickBooks side's mirror, when the world reads the lists
    messages: list[str] = field(default_factory=list)  # every qbXML message handed out
    message_bytes: list[int] = field(default_factory=list)  # each as sent: inside its SOAP envelope

    @classmethod
    def create(
        cls,
        tenant_id: str = TENANT,
        *,
        company: Company | None = None,
        faults: Faults | None = None,
        lists: bool = True,
        **settings: Any,
    ) -> DesktopWorld:
        """`lists`: the sessions read the company's lists into a mirror (`world.mirror`), as deployed sessions
        do; False leaves the mirror out."""
        clock = FixedClock()
        tenants = InMemoryTenants()
        tenants.add(Tenant(tenant_id, "Desk Books", Edition.QBD, clock.now()))
        store, lease, repo, events = (
            InMemoryRecordStore(),
            InMemoryTenantLease(),
            InMemorySettings(),
            RecordedEvents(),
        )
        repo.add(SettingsVersion(tenant_id, 1, clock.now(), SyncSettings(**settings)))
        records = Records(tenants, store, repo, InMemoryQueue(), lease, clock)
        exchanges, sessions, credentials = (
            InMemoryExchanges(),
            InMemoryQbwcSessions(),
            InMemoryQbwcCredentials(),
        )
        credentials.register(qbwc.user_name_of(tenant_id), tenant_id, PASSWORD)
        mirror = InMemoryMirror() if lists else None
        # Without the lists read in sessions, the engine's mirror is an empty company read whole: every
        # create goes on as a create.
        engine_mirror = mirror or read_whole(InMemoryMirror(), tenant_id)
        engine = SyncEngine(store, PROFILE, repo, lease, events, clock, engine_mirror)
        payments = PaymentRelay(None, InMemoryPaymentLog(), store, repo, events, clock)
        side = QuickBooksSide(mirror, store, events, clock) if mirror is not None else None
        desktop = DesktopSync(engine, QbxmlCodec(), exchanges, sessions, store, repo, clock, payments, side)
        service = WebConnectorService(
            credentials,
            sessions,
            clock,
            read_company_facts,
            failures=InMemoryQbwcLoginFailures(),
            desktop=desktop,
            connections=DesktopConnections(tenants, InMemoryConnections(), credentials, repo, events, clock),
            sleep=lambda _seconds: None,
        )
        company = company or Company("Desk Books Co", clock=clock.now)
        world_settings = dict(settings)
        world = cls(
            tenant_id,
            clock,
            tenants,
            store,
            repo,
            events,
            exchanges,
            sessions,
            credentials,
            records,
            desktop,
            service,
            company,
            connector=None,  # type: ignore[arg-type]
        )
        world.settings_used = world_settings
        world.mirror = mirror
        world.connector = world.connector_for(tenant_id, company, faults)
        return world

    def connector_for(
        self, tenant_id: str, company: Company, faults: Faults | None = None
    ) -> SimulatedWebConnector:
        """The Web Connector of a tenant of this world, set up with its .qwc, in front of `company`."""
        qwc = Qwc.parse(
            qwc_text(
                app_url="http://localhost/qbwc",
                user_name=qbwc.user_name_of(tenant_id),
                owner_id=qbwc.owner_id_of(tenant_id),
                file_id=qbwc.file_id_of(tenant_id),
            )
        )
        client = httpx.Client(transport=httpx.WSGITransport(app=self.wsgi), base_url="http://localhost")
        return SimulatedWebConnector(
            qwc, PASSWORD, company, faults=faults, client=client, noop_pause_seconds=0
        )

    def add_tenant(self, tenant_id: str, company_name: str) -> SimulatedWebConnector:
        """Another Desktop tenant of the same service, with its own company and Web Connector."""
        self.tenants.add(Tenant(tenant_id, company_name, Edition.QBD, self.clock.now()))
        self.settings.add(SettingsVersion(tenant_id, 1, self.clock.now(), SyncSettings(**self.settings_used)))
        self.credentials.register(qbwc.user_name_of(tenant_id), tenant_id, PASSWORD)
        return self.connector_for(tenant_id, Company(company_name, clock=self.clock.now))

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """/qbwc as the stack serves it: the product's SOAP codec around the service."""
        request = Request(environ)
        try:
            call = soap.parse_request(request.get_data())
            result = self.service.call(call.operation, call.params)
        except SoapFaultError as fault:
            body, status = soap.build_fault(fault.code, str(fault)), 500
        else:
            if call.operation == "sendRequestXML" and isinstance(result, str) and result:
                self.messages.append(result)
            body, status = soap.build_response(call.operation, result), 200
            if call.operation == "sendRequestXML" and isinstance(result, str) and result:
                self.message_bytes.append(len(body))
        return Response(body, status=status, content_type=soap.CONTENT_TYPE)(environ, start_response)

    # ------------------------------------------------------------------ the host app's side

    def push(self, record_type: str, record_id: str, data: dict[str, Any]) -> SyncRecord:
        outcome = self.records.upsert(self.tenant_id, record_type, record_id, data)
        assert outcome.status in ("created", "updated", "unchanged"), outcome
        assert outcome.record is not None
        return outcome.record

    def get(self, record_type: str, record_id: str) -> SyncRecord:
        record = self.store.get(self.tenant_id, record_type, record_id)
        assert record is not None
        return record

    def states(self, record_type: str) -> dict[str, SyncState]:
        return {r.record_id: r.state for r in self.store.records.values() if r.record_type == record_type}

    def run(self) -> Run:
        """The next scheduled update: the Web Connector's interval (10 minutes by default) after the last."""
        self.clock.advance(INTERVAL)
        return self.connector.run_once()

    def event_types(self) -> list[str]:
        return [event_type for event_type, _, _ in self.events.sent]
