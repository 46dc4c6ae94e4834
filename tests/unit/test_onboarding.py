from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from qbsync.domain.connections import CONNECT_LINK_TTL, OAUTH_STATE_TTL, ConnectionStatus
from qbsync.domain.errors import NotFoundError
from qbsync.domain.jobs import READ_QUICKBOOKS_LISTS_JOB, SYNC_RUN_JOB
from qbsync.domain.tenants import Edition
from qbsync.usecases import tenants
from qbsync.usecases.connect import CallbackResult, Onboarding
from qbsync.usecases.run_requests import RunRequests
from tests.unit.connection_fakes import (
    FakeCompany,
    FakeIntuit,
    InMemoryConnections,
    InMemoryLinks,
    InMemoryStates,
    InMemoryTokens,
    RecordingEvents,
)
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemoryTenants
from tests.unit.sync_fakes import InMemoryTenantLease

REDIRECT = "https://api.example.com/qbo/callback"
REALM = "9341453009463815"


@dataclass
class World:
    onboarding: Onboarding
    intuit: FakeIntuit
    tokens: InMemoryTokens
    connections: InMemoryConnections
    events: RecordingEvents
    clock: FixedClock
    states: InMemoryStates
    company: FakeCompany
    queue: InMemoryQueue


@pytest.fixture
def world() -> World:
    clock = FixedClock()
    repo = InMemoryTenants()
    tenants.create_tenant(repo, clock, tenant_id="acme", name="Acme", edition=Edition.QBO)
    tenants.create_tenant(repo, clock, tenant_id="other", name="Other", edition=Edition.QBO)
    tenants.create_tenant(repo, clock, tenant_id="desk", name="Desk", edition=Edition.QBD)
    intuit, tokens, connections, events, states = (
        FakeIntuit(clock),
        InMemoryTokens(),
        InMemoryConnections(),
        RecordingEvents(),
        InMemoryStates(),
    )
    company = FakeCompany(intuit, {REALM: "Acme Books LLC"})
    queue = InMemoryQueue()
    runs = RunRequests(InMemoryTenantLease(), queue, clock)
    onboarding = Onboarding(
        repo, connections, InMemoryLinks(), states, tokens, intuit, company, events, clock, runs, queue
    )
    return World(onboarding, intuit, tokens, connections, events, clock, states, company, queue)


def begin(world: World, tenant_id: str = "acme") -> str:
    """Open a link and start; returns the state Intuit would send back."""
    link = world.onboarding.create_link(tenant_id, "https://api.example.com")
    token = link.url.rsplit("/", 1)[1]
    url = world.onboarding.start(token, REDIRECT)
    assert url is not None
    return parse_qs(urlsplit(url).query)["state"][0]


def callback(world: World, state: str, code: str = "code-1", realm: str = REALM, error: str = ""):  # type: ignore[no-untyped-def]
    world.intuit.codes.setdefault(code, realm)
    return world.onboarding.complete(
        state=state, code=code, realm_id=realm, error=error, redirect_uri=REDIRECT
    )


def test_link_is_unguessable_expires_and_names_the_tenant(world: World) -> None:
    link = world.onboarding.create_link("acme", "https://api.example.com")
    token = link.url.removeprefix("https://api.example.com/connect/")
    assert len(token) >= 40
    assert link.expires_at == world.clock.now() + CONNECT_LINK_TTL
    assert world.onboarding.tenant_of_link(token).id == "acme"  # type: ignore[union-attr]
    assert world.onboarding.tenant_of_link(token[:-1] + "x") is None
    world.clock.advance(CONNECT_LINK_TTL)
    assert world.onboarding.tenant_of_link(token) is None


def test_no_link_for_an_unknown_tenant(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.onboarding.create_link("ghost", "https://api.example.com")


def test_the_whole_flow_connects_and_publishes_each_change(world: World) -> None:
    state = begin(world)
    assert world.connections.get("acme").status is ConnectionStatus.CONNECTING
    outcome = callback(world, state)
    assert outcome.result is CallbackResult.CONNECTED
    assert outcome.company_name == "Acme Books LLC"
    connection = world.connections.get("acme")
    assert (connection.status, connection.realm_id, connection.company_name) == (
        ConnectionStatus.CONNECTED,
        REALM,
        "Acme Books LLC",
    )
    assert connection.connected_since == world.clock.now()
    assert world.tokens.load("acme").access_token == "access-1"  # type: ignore[union-attr]
    assert world.connections.realms == {REALM: "acme"}
    assert [(e[0], e[2]["status"], e[2]["previous_status"]) for e in world.events.published] == [
        ("connection.changed", "connecting", "not_connected"),
        ("connection.changed", "connected", "connecting"),
    ]


def test_connecting_asks_for_a_run_of_the_records_that_waited_for_the_connection(world: World) -> None:
    assert callback(world, begin(world)).result is CallbackResult.CONNECTED
    runs = [(job.kind, job.tenant_id) for job, _ in world.queue.sent if job.kind == SYNC_RUN_JOB]
    assert runs == [(SYNC_RUN_JOB, "acme")]


def test_connecting_asks_for_a_read_of_every_list_of_the_company(world: World) -> None:
    assert callback(world, begin(world)).result is CallbackResult.CONNECTED
    reads = [job for job, _ in world.queue.sent if job.kind == READ_QUICKBOOKS_LISTS_JOB]
    assert [(job.tenant_id, job.payload) for job in reads] == [("acme", {})]  # every list


def test_a_declined_connect_asks_for_no_run(world: World) -> None:
    assert callback(world, begin(world), error="access_denied").result is CallbackResult.DECLINED
    assert world.queue.sent == []


def test_a_replayed_callback_is_refused_and_stores_nothing_more(world: World) -> None:
    state = begin(world)
    assert callback(world, state).result is CallbackResult.CONNECTED
    before = world.tokens.load("acme")
    world.intuit.codes["code-1"] = REALM  # even if Intuit would accept the code again
    assert callback(world, state).result is CallbackResult.BAD_STATE
    assert world.tokens.load("acme") == before


@pytest.mark.parametrize("state", ["", "tampered", "x" * 43])
def test_unknown_state_is_refused_and_nothing_is_stored(world: World, state: str) -> None:
    begin(world)
    assert callback(world, state).result is CallbackResult.BAD_STATE
    assert world.tokens.items == {}
    assert world.connections.realms == {}


def test_expired_state_is_refused(world: World) -> None:
    state = begin(world)
    world.clock.advance(OAUTH_STATE_TTL + timedelta(seconds=1))
    assert callback(world, state).result is CallbackResult.BAD_STATE
    assert world.tokens.items == {}


def test_declined_consent_keeps_the_tenant_unconnected_with_a_reason(world: World) -> None:
    outcome = callback(world, begin(world), error="access_denied")
    assert outcome.result is CallbackResult.DECLINED
    assert outcome.retry_path is not None
    assert outcome.retry_path.startswith("/connect/")
    connection = world.connections.get("acme")
    assert connection.status is ConnectionStatus.NOT_CONNECTED
    assert connection.last_error.code == "access_denied"  # type: ignore[union-attr]
    assert "connect link" in connection.last_error.action  # type: ignore[union-attr]


def test_a_refused_code_stores_nothing_and_frees_the_realm(world: World) -> None:
    state = begin(world)
    outcome = world.onboarding.complete(
        state=state, code="never-issued", realm_id=REALM, error="", redirect_uri=REDIRECT
    )
    assert outcome.result is CallbackResult.FAILED
    assert world.tokens.items == {}
    assert world.connections.realms == {}
    assert world.connections.get("acme").last_error.code == "exchange_failed"  # type: ignore[union-attr]


def test_a_realm_belongs_to_one_tenant(world: World) -> None:
    callback(world, begin(world, "acme"))
    outcome = callback(world, begin(world, "other"), code="code-2")
    assert outcome.result is CallbackResult.REALM_IN_USE
    assert world.tokens.load("other") is None
    assert world.connections.realms == {REALM: "acme"}


def test_a_callback_naming_another_company_than_the_consent_claims_nothing(world: World) -> None:
    """Consent given for one's own company, `realmId` edited to another's: the tokens do not open it."""
    world.intuit.codes["own-code"] = "4620816365000000001"  # the company "other" approved at Intuit
    outcome = world.onboarding.complete(
        state=begin(world, "other"), code="own-code", realm_id=REALM, error="", redirect_uri=REDIRECT
    )
    assert outcome.result is CallbackResult.WRONG_COMPANY
    assert outcome.retry_path is not None
    assert world.tokens.items == {}
    assert world.connections.realms == {}
    connection = world.connections.get("other")
    assert (connection.status, connection.realm_id) == (ConnectionStatus.NOT_CONNECTED, None)
    assert connection.last_error.code == "company_not_authorized"  # type: ignore[union-attr]
    # The company's real owner connects it as if nothing happened.
    assert callback(world, begin(world, "acme")).result is CallbackResult.CONNECTED
    assert world.connections.realms == {REALM: "acme"}


def test_a_connected_tenant_stays_on_its_company_after_a_callback_naming_another(world: World) -> None:
    callback(world, begin(world, "acme"))
    world.intuit.codes["code-2"] = REALM
    outcome = world.onboarding.complete(
        state=begin(world, "acme"), code="code-2", realm_id="123145", error="", redirect_uri=REDIRECT
    )
    assert outcome.result is CallbackResult.WRONG_COMPANY
    connection = world.connections.get("acme")
    assert (connection.status, connection.realm_id) == (ConnectionStatus.CONNECTED, REALM)
    assert world.tokens.load("acme").access_token == "access-1"  # type: ignore[union-attr]
    assert world.connections.realms == {REALM: "acme"}


def test_a_company_that_cannot_be_read_is_not_claimed(world: World) -> None:
    world.company.unreachable = True
    outcome = callback(world, begin(world))
    assert outcome.result is CallbackResult.UNCONFIRMED
    assert world.tokens.items == {}
    assert world.connections.realms == {}
    assert world.connections.get("acme").last_error.code == "company_unconfirmed"  # type: ignore[union-attr]


def test_desktop_tenants_are_not_sent_to_intuit(world: World) -> None:
    link = world.onboarding.create_link("desk", "https://api.example.com")
    assert world.onboarding.start(link.url.rsplit("/", 1)[1], REDIRECT) is None


def test_disconnect_revokes_wipes_and_frees_the_realm(world: World) -> None:
    callback(world, begin(world))
    connection = world.onboarding.disconnect("acme")
    assert connection.status is ConnectionStatus.DISCONNECTED
    assert world.intuit.revoked == ["refresh-1"]
    assert world.tokens.load("acme") is None
    assert world.connections.realms == {}
    assert world.events.published[-1][2]["status"] == "disconnected"


def test_disconnect_of_a_tenant_never_connected_changes_nothing_and_says_nothing(world: World) -> None:
    before = world.onboarding.connection("acme")
    assert world.onboarding.disconnect("acme") == before
    assert world.onboarding.connection("acme") == before
    assert world.events.published == []
    assert world.intuit.revoked == []
    begin(world)  # the tenant went to Intuit and has not come back: still nothing connected to drop
    started = world.onboarding.connection("acme")
    published = list(world.events.published)
    assert world.onboarding.disconnect("acme") == started
    assert world.events.published == published
