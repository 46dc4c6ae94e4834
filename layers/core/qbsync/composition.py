"""The composition root: adapters and use cases built on first use, once per container, never at import time.

Use cases are built here only. Each function's handler hands the container to what it calls: the HTTP
resolvers read it from their context (`app.append_context(container=container())`, read back with
`from_context`), the worker's job handlers and the scheduler take it as an argument.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from qbsync.adapters.clock import SystemClock
from qbsync.adapters.connections_dynamodb import (
    DynamoConnectionRepository,
    DynamoConnectLinkStore,
    DynamoOAuthStateStore,
    DynamoTokenStore,
)
from qbsync.adapters.dynamodb import DynamoApiKeyRepository, DynamoHeartbeatStore, DynamoTenantRepository
from qbsync.adapters.dynamodb_qbwc import (
    DynamoQbwcCredentialStore,
    DynamoQbwcLoginFailures,
    DynamoQbwcSessionStore,
)
from qbsync.adapters.eventbridge import EventBridgePublisher
from qbsync.adapters.kms import KmsCipher
from qbsync.adapters.lease_dynamodb import TOKEN_REFRESH_LEASE, DynamoLease
from qbsync.adapters.records_dynamodb import DynamoEventFeed, DynamoRecordStore, DynamoTenantLease
from qbsync.adapters.settings_dynamodb import DynamoSettingsRepository
from qbsync.adapters.sqs import SqsJobQueue
from qbsync.adapters.webhooks_dynamodb import DynamoRealmDirectory, DynamoWebhookEventLog
from qbsync.metrics import EmfMetrics
from qbsync.settings import Settings
from qbsync.usecases.events import FeedAndBus
from qbsync.usecases.links import Links
from qbsync.usecases.records import Records
from qbsync.usecases.run_requests import RunRequests
from qbsync.usecases.tenants import TenantLogKeys

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient

    from qbsync.adapters.intuit_oauth import IntuitOAuthProvider
    from qbsync.adapters.mirror_dynamodb import DynamoMirrorStore
    from qbsync.adapters.qbo_books import QboBooks
    from qbsync.adapters.qbo_http import QboClient
    from qbsync.domain.payments import PaymentSource
    from qbsync.domain.sync import EditionProfile
    from qbsync.qbwc.service import WebConnectorService
    from qbsync.usecases.connect import Onboarding
    from qbsync.usecases.dashboard import DashboardAccess
    from qbsync.usecases.desktop_connection import DesktopConnections
    from qbsync.usecases.desktop_sync import DesktopSync
    from qbsync.usecases.initial_sync import InitialSyncs
    from qbsync.usecases.matches import Matches
    from qbsync.usecases.payments import PaymentRelay
    from qbsync.usecases.quickbooks_lists import QuickBooksLists
    from qbsync.usecases.quickbooks_side import QuickBooksListing, QuickBooksSide
    from qbsync.usecases.status import Statuses
    from qbsync.usecases.sync_engine import SyncEngine
    from qbsync.usecases.tokens import TokenKeeper
    from qbsync.usecases.web_connector import WebConnectorLogins
    from qbsync.usecases.webhooks import WebhookReceiver


class Container:
    """Each function touches only the adapters it uses, so it creates only those clients."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SystemClock()
        self.metrics = EmfMetrics()  # what the use cases count goes to the running invocation's metrics

    @cached_property
    def _dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb")

    @cached_property
    def tenants(self) -> DynamoTenantRepository:
        return DynamoTenantRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def tenant_log_keys(self) -> TenantLogKeys:
        return TenantLogKeys(self.tenants)

    @cached_property
    def tenant_settings(self) -> DynamoSettingsRepository:
        """Tenants' sync settings (not to be confused with `settings`, this function's environment)."""
        return DynamoSettingsRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def api_keys(self) -> DynamoApiKeyRepository:
        return DynamoApiKeyRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def heartbeats(self) -> DynamoHeartbeatStore:
        return DynamoHeartbeatStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def jobs(self) -> SqsJobQueue:
        return SqsJobQueue(boto3.client("sqs"), self.settings.jobs_queue_url)

    @cached_property
    def qbwc_credentials(self) -> DynamoQbwcCredentialStore:
        return DynamoQbwcCredentialStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def qbwc_sessions(self) -> DynamoQbwcSessionStore:
        return DynamoQbwcSessionStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def webhook_events(self) -> DynamoWebhookEventLog:
        return DynamoWebhookEventLog(self._dynamodb, self.settings.table_name)

    @cached_property
    def realms(self) -> DynamoRealmDirectory:
        return DynamoRealmDirectory(self._dynamodb, self.settings.table_name)

    def webhook_verifier_token(self) -> str:
        """Intuit's webhook verifier token, read on use (Powertools caches it for 5 minutes); never log it."""
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(
            self.settings.webhook_verifier_secret_id, transform="json", max_age=300
        )
        token = secret.get("verifier_token") if isinstance(secret, dict) else None
        if not isinstance(token, str) or not token:
            # An empty key would make every forged signature "valid": refuse to verify at all.
            raise RuntimeError(
                "The webhook verifier secret has no verifier_token; store Intuit's token in it."
            )
        return token

    def qbo_app_credentials(self) -> tuple[str, str]:
        """The Intuit app's client id and secret, read on use (cached for 5 minutes); never log them."""
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(self.settings.qbo_app_secret_id, transform="json", max_age=300)
        if not isinstance(secret, dict) or not secret.get("client_id") or not secret.get("client_secret"):
            raise RuntimeError(
                "The QuickBooks app secret needs client_id and client_secret; store your app's keys."
            )
        return str(secret["client_id"]), str(secret["client_secret"])

    @cached_property
    def webhook_receiver(self) -> WebhookReceiver:
        from qbsync.usecases.webhooks import RecentRealms, WebhookReceiver

        realms = RecentRealms(self.realms, self.clock)  # this container's: a restored copy starts afresh
        return WebhookReceiver(
            self.webhook_verifier_token, self.webhook_events, realms, self.jobs, self.clock, self.metrics
        )

    @cached_property
    def web_connector(self) -> WebConnectorService:
        from qbsync.adapters.qbxml.hcp import read_company_facts
        from qbsync.qbwc.service import WebConnectorService

        return WebConnectorService(
            self.qbwc_credentials,
            self.qbwc_sessions,
            self.clock,
            read_company_facts,
            failures=DynamoQbwcLoginFailures(self._dynamodb, self.settings.table_name),
            desktop=self.desktop_sync,
            connections=self.desktop_connections,
            metrics=self.metrics,
        )

    @cached_property
    def desktop_connections(self) -> DesktopConnections:
        from qbsync.usecases.desktop_connection import DesktopConnections

        return DesktopConnections(
            self.tenants,
            self.connections,
            self.qbwc_credentials,
            self.tenant_settings,
            self.events,
            self.clock,
        )

    @cached_property
    def desktop_sync(self) -> DesktopSync:
        from qbsync.adapters.dynamodb_qbd import DynamoExchangeStore
        from qbsync.adapters.qbxml.exchange import PROFILE, QbxmlCodec
        from qbsync.usecases.desktop_sync import DesktopSync

        return DesktopSync(
            self._sync_engine(PROFILE),
            QbxmlCodec(),
            DynamoExchangeStore(self._dynamodb, self.settings.table_name),
            self.qbwc_sessions,
            self.record_store,
            self.tenant_settings,
            self.clock,
            self._payment_relay(None),  # Desktop's payments come back through its sessions
            lists=self.quickbooks_side,
            initial_sync=self.initial_syncs,
        )

    @cached_property
    def web_connector_logins(self) -> WebConnectorLogins:
        from qbsync.adapters.qwc import write_qwc  # lxml: only where a .qwc is written
        from qbsync.usecases.web_connector import WebConnectorLogins

        return WebConnectorLogins(
            self.tenants,
            self.qbwc_credentials,
            self.tenant_settings,
            write_qwc,
            self.settings.app_name,
            self.desktop_connections,
        )

    @cached_property
    def events(self) -> FeedAndBus:
        """Every event goes to the tenant's feed and to the bus."""
        bus = EventBridgePublisher(boto3.client("events"), self.settings.event_bus_name, self.clock)
        return FeedAndBus(self.event_feed, bus, self.clock)

    @cached_property
    def event_feed(self) -> DynamoEventFeed:
        return DynamoEventFeed(self._dynamodb, self.settings.table_name, clock=self.clock)

    @cached_property
    def record_store(self) -> DynamoRecordStore:
        return DynamoRecordStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def mirror(self) -> DynamoMirrorStore:
        """The tenants' mirrors of their QuickBooks lists."""
        from qbsync.adapters.mirror_dynamodb import DynamoMirrorStore

        return DynamoMirrorStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def quickbooks_side(self) -> QuickBooksSide:
        """Takes either edition's reads of the QuickBooks lists into the mirror and tells what changed."""
        from qbsync.usecases.quickbooks_side import QuickBooksSide

        return QuickBooksSide(self.mirror, self.record_store, self.events, self.clock)

    @cached_property
    def quickbooks_listing(self) -> QuickBooksListing:
        """The mirror as the host app reads it: pages of a list, each entry with its linked record."""
        from qbsync.usecases.quickbooks_side import QuickBooksListing

        return QuickBooksListing(self.tenants, self.mirror, self.record_store)

    @cached_property
    def sync_runs(self) -> DynamoTenantLease:
        return DynamoTenantLease(self._dynamodb, self.settings.table_name)

    @cached_property
    def run_requests(self) -> RunRequests:
        return RunRequests(self.sync_runs, self.jobs, self.clock)

    @cached_property
    def records(self) -> Records:
        return Records(
            self.tenants,
            self.record_store,
            self.tenant_settings,
            self.jobs,
            self.sync_runs,
            self.clock,
            links=self.links,
        )

    @cached_property
    def links(self) -> Links:
        return Links(self.tenants, self.record_store, self.mirror, self.events, self.clock)

    @cached_property
    def initial_syncs(self) -> InitialSyncs:
        """The initial sync of each tenant: its dry run, its run and whoever advances it."""
        from qbsync.adapters.initial_sync_dynamodb import DynamoInitialSyncStore
        from qbsync.adapters.payments_dynamodb import DynamoPaymentLog
        from qbsync.usecases.initial_sync import InitialSyncs

        return InitialSyncs(
            self.tenants,
            DynamoInitialSyncStore(self._dynamodb, self.settings.table_name),
            self.record_store,
            self.mirror,
            self.links,
            self.tenant_settings,
            DynamoPaymentLog(self._dynamodb, self.settings.table_name),
            self.sync_runs,
            self.jobs,
            self.events,
            self.clock,
        )

    @cached_property
    def statuses(self) -> Statuses:
        """Each tenant's sync status for a dashboard."""
        from qbsync.usecases.status import Statuses

        return Statuses(
            self.tenants, self.record_store, self.sync_runs, self.matches, self.initial_syncs, self.clock
        )

    @cached_property
    def matches(self) -> Matches:
        """Automatch as a service: runs, their results, accepting and rejecting proposals."""
        from qbsync.adapters.matches_dynamodb import DynamoMatchStore
        from qbsync.usecases.matches import Matches

        return Matches(
            self.tenants,
            self.record_store,
            self.mirror,
            DynamoMatchStore(self._dynamodb, self.settings.table_name),
            self.links,
            self.tenant_settings,
            self.jobs,
            self.clock,
        )

    @cached_property
    def idempotency(self) -> DynamoDBPersistenceLayer:
        from qbsync.adapters.idempotency_dynamodb import idempotency_store  # Powertools: only the API

        return idempotency_store(self._dynamodb, self.settings.table_name)

    @cached_property
    def qbo_books(self) -> QboBooks:
        from qbsync.adapters.qbo_books import QboBooks

        return QboBooks(self.qbo)

    @cached_property
    def sync_engine(self) -> SyncEngine:
        from qbsync.adapters.qbo_books import PROFILE

        return self._sync_engine(PROFILE)

    def _sync_engine(self, profile: EditionProfile) -> SyncEngine:
        """The one sync engine, worked by the edition whose profile it is given."""
        from qbsync.usecases.sync_engine import SyncEngine

        return SyncEngine(
            self.record_store,
            profile,
            self.tenant_settings,
            self.sync_runs,
            self.events,
            self.clock,
            self.mirror,
            self.metrics,
        )

    @cached_property
    def payment_relay(self) -> PaymentRelay:
        return self._payment_relay(self.qbo_books)

    def _payment_relay(self, source: PaymentSource | None) -> PaymentRelay:
        """The one relay telling payments back, for both editions; `source`: Online's reader (Desktop has
        none: its sessions hand what they read to `ingest`)."""
        from qbsync.adapters.payments_dynamodb import DynamoPaymentLog
        from qbsync.usecases.payments import PaymentRelay

        return PaymentRelay(
            source,
            DynamoPaymentLog(self._dynamodb, self.settings.table_name),
            self.record_store,
            self.tenant_settings,
            self.events,
            self.clock,
        )

    @cached_property
    def quickbooks_lists(self) -> QuickBooksLists:
        """QuickBooks Online's lists read into the mirror: at connect, from webhooks, by the pull."""
        from qbsync.adapters.qbo_lists import QboLists
        from qbsync.usecases.quickbooks_lists import QuickBooksLists

        return QuickBooksLists(
            QboLists(self.qbo, self.clock), self.quickbooks_side, self.mirror, self.jobs, self.clock
        )

    @cached_property
    def qbo_tokens(self) -> DynamoTokenStore:
        cipher = KmsCipher(boto3.client("kms"), self.settings.token_key_id)
        return DynamoTokenStore(self._dynamodb, self.settings.table_name, cipher)

    @cached_property
    def connections(self) -> DynamoConnectionRepository:
        return DynamoConnectionRepository(self._dynamodb, self.settings.table_name)

    @cached_property
    def qbo_oauth(self) -> IntuitOAuthProvider:
        from qbsync.adapters.intuit_oauth import IntuitOAuthProvider  # requests + jwt: only where OAuth runs

        return IntuitOAuthProvider(self.qbo_app_credentials, self.settings.qbo_environment)

    @cached_property
    def qbo(self) -> QboClient:
        import httpx

        from qbsync.adapters.qbo_http import QboClient, api_base_url
        from qbsync.adapters.request_budget import DynamoRequestBudget

        http = httpx.Client(base_url=api_base_url(self.settings.qbo_environment), timeout=httpx.Timeout(15.0))
        budget = DynamoRequestBudget(self._dynamodb, self.settings.table_name, self.clock)
        return QboClient(http, self.token_keeper, budget)

    @cached_property
    def onboarding(self) -> Onboarding:
        from qbsync.usecases.connect import Onboarding

        return Onboarding(
            tenants=self.tenants,
            connections=self.connections,
            links=DynamoConnectLinkStore(self._dynamodb, self.settings.table_name),
            states=DynamoOAuthStateStore(self._dynamodb, self.settings.table_name),
            tokens=self.qbo_tokens,
            oauth=self.qbo_oauth,
            company=self.qbo,
            events=self.events,
            clock=self.clock,
            runs=self.run_requests,
            jobs=self.jobs,
        )

    @cached_property
    def dashboard(self) -> DashboardAccess:
        """The tenants' dashboard links and sessions."""
        from qbsync.adapters.dashboard_dynamodb import DynamoDashboardLinkStore, DynamoDashboardSessionStore
        from qbsync.usecases.dashboard import DashboardAccess

        return DashboardAccess(
            self.tenants,
            DynamoDashboardLinkStore(self._dynamodb, self.settings.table_name),
            DynamoDashboardSessionStore(self._dynamodb, self.settings.table_name),
            self.clock,
        )

    @cached_property
    def token_keeper(self) -> TokenKeeper:
        from qbsync.usecases.tokens import TokenKeeper

        refresh_lease = DynamoLease(self._dynamodb, self.settings.table_name, TOKEN_REFRESH_LEASE)
        return TokenKeeper(
            self.qbo_tokens,
            refresh_lease,
            self.qbo_oauth,
            self.connections,
            self.events,
            self.clock,
            metrics=self.metrics,
        )


@functools.cache
def container() -> Container:
    return Container(Settings.from_env(os.environ))


def from_context(context: Mapping[str, object]) -> Container:
    """The container a handler put in its event handler's context with `append_context(container=...)`."""
    found = context.get("container")
    if not isinstance(found, Container):
        raise TypeError("the handler must call app.append_context(container=container()) before resolving")
    return found
