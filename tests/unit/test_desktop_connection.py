"""A QuickBooks Desktop tenant's connection over in-memory stores: the states its Web Connector's logins and
sessions move it through (driven through the Web Connector service's callbacks where they start), the events
each change tells, and `stale_since` on a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from qbsync.adapters.qbxml.hcp import read_company_facts
from qbsync.adapters.qwc import write_qwc
from qbsync.domain import qbwc
from qbsync.domain.connections import ConnectionStatus
from qbsync.domain.errors import NotFoundError
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.qbwc.service import NOTHING_TO_DO, WebConnectorService
from qbsync.usecases.desktop_connection import DesktopConnections
from qbsync.usecases.desktop_sync import DesktopSync
from qbsync.usecases.web_connector import WebConnectorLogins
from tests.qbwc_hcp import PRO_2006_VERSIONS, hcp_response, logged_hcp_response
from tests.qbxml_reference import requires_captures
from tests.unit.connection_fakes import InMemoryConnections, RecordingEvents
from tests.unit.fakes import FixedClock, InMemorySettings, InMemoryTenants
from tests.unit.qbwc_fakes import (
    InMemoryQbwcCredentials,
    InMemoryQbwcLoginFailures,
    InMemoryQbwcSessions,
    RecordingSleeper,
    in_memory_desktop_sync,
)

TENANT = "acme-42"
OURS = ((qbwc.owner_id_of(TENANT), qbwc.file_id_of(TENANT)),)  # written when the .qwc was added
COMPANY_FILE = "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\Acme.QBW"


@dataclass
class World:
    clock: FixedClock
    connections: InMemoryConnections
    credentials: InMemoryQbwcCredentials
    settings: InMemorySettings
    events: RecordingEvents
    desktop: DesktopConnections
    logins: WebConnectorLogins
    service: WebConnectorService
    sync: DesktopSync

    def work(self) -> None:
        """A record waits for the Web Connector: a connected tenant's next login opens a session."""
        record = SyncRecord(
            TENANT, "customer", "c-1", {"display_name": "Ada"}, SyncState.PENDING, self.clock.now()
        )
        self.sync.records.save(record, None, None)

    def issue(self) -> str:
        return self.logins.issue(TENANT, "https://api.example.com").password

    def login(self, password: str) -> list[str]:
        answer = self.service.call("authenticate", {"strUserName": TENANT, "strPassword": password})
        assert isinstance(answer, list)
        return answer

    def session(self, password: str, hcp: str, company_file: str = COMPANY_FILE) -> tuple[str, str]:
        """One update: login, the first sendRequestXML with `hcp`, getLastError, closeConnection; what
        sendRequestXML and getLastError answered."""
        ticket, status = self.login(password)
        if (ticket, status) == ("", "none"):  # connected, nothing to do: no session, QuickBooks not opened
            return "", "none"
        sent = self.service.call(
            "sendRequestXML",
            {
                "ticket": ticket,
                "strHCPResponse": hcp,
                "strCompanyFileName": company_file,
                "qbXMLCountry": "US",
                "qbXMLMajorVers": "13",
                "qbXMLMinorVers": "0",
            },
        )
        said = self.service.call("getLastError", {"ticket": ticket})
        assert str(self.service.call("closeConnection", {"ticket": ticket})).startswith("qbsync: ")
        return str(sent), str(said)

    def status(self) -> ConnectionStatus:
        return self.connections.get(TENANT).status

    def told(self) -> list[dict[str, object]]:
        assert all(
            kind == "connection.changed" and tenant == TENANT for kind, tenant, _ in self.events.published
        )
        return [detail for _, _, detail in self.events.published]


@pytest.fixture
def world() -> World:
    clock = FixedClock()
    tenants = InMemoryTenants()
    tenants.add(Tenant(TENANT, "Acme", Edition.QBD, clock.now()))
    tenants.add(Tenant("online", "Online Co", Edition.QBO, clock.now()))
    connections, credentials, settings, events = (
        InMemoryConnections(),
        InMemoryQbwcCredentials(),
        InMemorySettings(),
        RecordingEvents(),
    )
    desktop = DesktopConnections(tenants, connections, credentials, settings, events, clock)
    logins = WebConnectorLogins(tenants, credentials, settings, write_qwc, "Acme Billing", desktop)
    sessions = InMemoryQbwcSessions()
    sync = in_memory_desktop_sync(sessions, clock)
    service = WebConnectorService(
        credentials,
        sessions,
        clock,
        read_company_facts,
        failures=InMemoryQbwcLoginFailures(),
        desktop=sync,
        connections=desktop,
        sleep=RecordingSleeper(clock).sleep,
    )
    return World(clock, connections, credentials, settings, events, desktop, logins, service, sync)


def good_hcp() -> str:
    return hcp_response(company="Acme Plumbing & Heating", file_ids=OURS)


def test_issuing_a_login_makes_the_connection_connecting_and_tells_it_once(world: World) -> None:
    world.issue()
    assert world.status() is ConnectionStatus.CONNECTING
    world.issue()  # a new password before any session: still connecting, nothing new to tell
    assert world.status() is ConnectionStatus.CONNECTING
    (told,) = world.told()
    assert (told["status"], told["previous_status"], told["last_error"]) == (
        "connecting",
        "not_connected",
        None,
    )
    assert told["company_file"] is None


def test_the_first_good_session_connects_with_what_quickbooks_said_of_the_company(world: World) -> None:
    password = world.issue()
    assert world.session(password, good_hcp()) == ("", NOTHING_TO_DO)
    connection = world.connections.get(TENANT)
    assert connection.status is ConnectionStatus.CONNECTED
    assert (connection.company_name, connection.connected_since, connection.last_error) == (
        "Acme Plumbing & Heating",
        world.clock.now(),
        None,
    )
    desktop = connection.desktop
    assert desktop is not None
    assert (desktop.file_path, desktop.product_name, desktop.quickbooks_version, desktop.country) == (
        COMPANY_FILE,
        "QuickBooks Pro 2014",
        "24.0",
        "US",
    )
    assert (desktop.file_id, desktop.last_run_at) == (qbwc.file_id_of(TENANT), world.clock.now())
    _, connected = world.told()
    assert (connected["status"], connected["previous_status"]) == ("connected", "connecting")
    assert connected["company_name"] == "Acme Plumbing & Heating"
    assert connected["company_file"] == COMPANY_FILE
    assert (connected["product_name"], connected["quickbooks_version"], connected["country"]) == (
        "QuickBooks Pro 2014",
        "24.0",
        "US",
    )
    assert connected["last_run_at"] == world.clock.now().isoformat()
    assert connected["realm_id"] is None


def test_every_run_moves_the_last_run_and_tells_nothing(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    first_connected = world.connections.get(TENANT).connected_since
    world.clock.advance(timedelta(minutes=10))
    world.session(password, good_hcp())
    world.clock.advance(timedelta(seconds=40))
    ticket, _ = world.login(password)
    world.service.call("closeConnection", {"ticket": ticket})  # closeConnection alone is a run too
    connection = world.connections.get(TENANT)
    assert connection.desktop is not None
    assert connection.desktop.last_run_at == world.clock.now()
    assert connection.connected_since == first_connected
    assert len(world.told()) == 2  # connecting, connected


def test_a_company_file_without_the_tenants_file_id_is_another_file_and_nothing_is_connected(
    world: World,
) -> None:
    password = world.issue()
    other_owner = (("{5a1e9f3c-0b7d-4e2a-9c61-2f8d4b7a3e10}", "{c0ffee00-1234-4abc-8def-0123456789ab}"),)
    other_file = "C:\\Company Files\\Another Company.QBW"
    sent, said = world.session(
        password, hcp_response(company="Another Company", file_ids=other_owner), company_file=other_file
    )
    assert sent == ""
    assert said.startswith(f"Another company file is open in QuickBooks: {other_file} (Another Company).")
    assert "nothing was sent" in said
    connection = world.connections.get(TENANT)
    assert connection.status is ConnectionStatus.CONNECTING
    assert connection.desktop is None
    assert connection.last_error is not None
    assert (connection.last_error.code, connection.last_error.message) == ("other_company_file", said)
    assert "add this application's .qwc file" in connection.last_error.action
    told = world.told()[-1]
    assert told["status"] == told["previous_status"] == "connecting"
    assert told["last_error"] == {
        "code": "other_company_file",
        "message": said,
        "action": connection.last_error.action,
    }


def test_a_file_id_other_than_the_one_recorded_is_another_file_and_names_the_file_expected(
    world: World,
) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    world.work()
    moved = ((qbwc.owner_id_of(TENANT), "{00000000-1111-2222-3333-444444444444}"),)
    sent, said = world.session(password, hcp_response(company="Acme Copy", file_ids=moved), "D:\\copy.QBW")
    assert sent == ""
    assert said.startswith("Another company file is open in QuickBooks: D:\\copy.QBW (Acme Copy).")
    assert f"set up with, {COMPANY_FILE}, so nothing was sent" in said
    connection = world.connections.get(TENANT)
    assert connection.status is ConnectionStatus.CONNECTED  # still connected to its own file
    assert connection.desktop is not None
    assert connection.desktop.file_path == COMPANY_FILE
    assert connection.last_error is not None
    assert connection.last_error.code == "other_company_file"


def test_the_file_id_is_compared_without_regard_to_case_or_braces(world: World) -> None:
    password = world.issue()
    written = qbwc.file_id_of(TENANT).strip("{}").lower()
    hcp = hcp_response(file_ids=((qbwc.owner_id_of(TENANT).lower(), written),))
    assert world.session(password, hcp) == ("", NOTHING_TO_DO)
    assert world.status() is ConnectionStatus.CONNECTED


def test_quickbooks_older_than_2014_sets_last_error_with_the_minimum_version(world: World) -> None:
    password = world.issue()
    old = hcp_response(product="QuickBooks Pro 2006", major="16", versions=PRO_2006_VERSIONS, file_ids=OURS)
    sent, said = world.session(password, old)
    assert sent == ""
    assert said.startswith("QuickBooks Desktop 2014 or newer is needed")
    problem = world.connections.get(TENANT).last_error
    assert problem is not None
    assert (problem.code, problem.message) == ("quickbooks_too_old", said)
    assert "2014 or newer" in problem.action
    assert world.status() is ConnectionStatus.CONNECTING


@requires_captures
def test_the_captured_quickbooks_2006_session_sets_last_error_with_the_minimum_version(world: World) -> None:
    password = world.issue()
    sent, said = world.session(password, logged_hcp_response())
    assert sent == ""
    assert said.startswith("QuickBooks Desktop 2014 or newer is needed")
    problem = world.connections.get(TENANT).last_error
    assert problem is not None
    assert problem.code == "quickbooks_too_old"
    assert "QuickBooks Desktop 2014 or newer is needed" in problem.message
    assert "QuickBooks Pro 2006, which reads qbXML up to 5.0" in problem.message


def test_an_edition_of_another_country_sets_last_error(world: World) -> None:
    password = world.issue()
    world.session(password, hcp_response(product="QuickBooks Pro 2020", country="CA", file_ids=OURS))
    problem = world.connections.get(TENANT).last_error
    assert problem is not None
    assert problem.code == "unsupported_edition"
    assert problem.message.startswith("qbsync works with the US edition of QuickBooks Desktop for now")


def test_quickbooks_not_open_sets_last_error_and_a_connected_tenant_stays_connected(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    world.work()
    ticket, _ = world.login(password)
    params = {"ticket": ticket, "hresult": "0x80040408", "message": "Could not start QuickBooks."}
    assert world.service.call("connectionError", params) == "done"
    connection = world.connections.get(TENANT)
    assert connection.status is ConnectionStatus.CONNECTED
    assert connection.last_error is not None
    assert connection.last_error.code == "quickbooks_not_open"
    assert connection.last_error.message == (
        "The Web Connector could not open QuickBooks (0x80040408: Could not start QuickBooks.)."
    )
    told = world.told()[-1]
    assert told["status"] == told["previous_status"] == "connected"
    assert told["last_error"]["code"] == "quickbooks_not_open"  # type: ignore[index]


def test_a_refused_password_for_the_tenants_user_name_sets_last_error(world: World) -> None:
    world.issue()
    assert world.login("an-old-password") == ["", "nvu"]
    problem = world.connections.get(TENANT).last_error
    assert problem is not None
    assert problem.code == "login_refused"
    assert "password" in problem.action
    assert world.status() is ConnectionStatus.CONNECTING


def test_a_refused_login_for_a_user_name_no_tenant_has_touches_no_connection(world: World) -> None:
    assert world.login("whatever") == ["", "nvu"]
    assert world.connections.items == {}
    assert world.events.published == []


def test_the_same_error_again_is_not_told_again(world: World) -> None:
    world.issue()
    for _ in range(3):
        world.login("an-old-password")
    assert [told["last_error"] is not None for told in world.told()] == [False, True]


def test_a_later_good_session_clears_last_error_and_tells_it(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    world.login("an-old-password")
    assert world.connections.get(TENANT).last_error is not None
    world.session(password, good_hcp())
    assert world.connections.get(TENANT).last_error is None
    assert world.status() is ConnectionStatus.CONNECTED
    cleared = world.told()[-1]
    assert (cleared["status"], cleared["previous_status"], cleared["last_error"]) == (
        "connected",
        "connected",
        None,
    )


def test_reissuing_a_login_keeps_a_connected_tenant_connected(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    world.issue()
    assert world.status() is ConnectionStatus.CONNECTED
    assert world.login(password) == ["", "nvu"]  # the old password is retired: the tenant is told
    problem = world.connections.get(TENANT).last_error
    assert problem is not None
    assert problem.code == "login_refused"


def test_stale_since_appears_after_three_intervals_without_a_run(world: World) -> None:
    world.settings.add(
        SettingsVersion(TENANT, 1, world.clock.now(), SyncSettings(web_connector_interval_minutes=5))
    )
    password = world.issue()
    world.session(password, good_hcp())
    last_run = world.clock.now()
    shown = world.desktop.connection(TENANT)
    assert shown is not None
    assert shown.stale_since is None
    world.clock.advance(timedelta(minutes=14, seconds=59))
    assert world.desktop.connection(TENANT).stale_since is None  # type: ignore[union-attr]
    world.clock.advance(timedelta(seconds=1))
    assert world.desktop.connection(TENANT).stale_since == last_run + timedelta(minutes=15)  # type: ignore[union-attr]
    world.clock.advance(timedelta(hours=5))
    assert world.desktop.connection(TENANT).stale_since == last_run + timedelta(minutes=15)  # type: ignore[union-attr]
    world.session(password, good_hcp())
    assert world.desktop.connection(TENANT).stale_since is None  # type: ignore[union-attr]


def test_stale_since_counts_the_default_interval_of_ten_minutes(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    world.clock.advance(timedelta(minutes=30))
    shown = world.desktop.connection(TENANT)
    assert shown is not None
    assert shown.stale_since == world.clock.now()


def test_a_tenant_not_yet_connected_is_never_stale(world: World) -> None:
    world.issue()
    world.clock.advance(timedelta(days=3))
    shown = world.desktop.connection(TENANT)
    assert shown is not None
    assert (shown.connection.status, shown.stale_since) == (ConnectionStatus.CONNECTING, None)


def test_disconnect_retires_the_login_and_the_web_connector_is_then_told_nvu(world: World) -> None:
    password = world.issue()
    world.session(password, good_hcp())
    shown = world.desktop.disconnect(TENANT)
    assert shown is not None
    assert shown.connection.status is ConnectionStatus.DISCONNECTED
    assert shown.connection.last_error is None
    assert world.credentials.items == {}
    assert world.login(password) == ["", "nvu"]
    assert world.connections.get(TENANT).last_error is None  # nobody's login any more: nothing to report
    told = world.told()[-1]
    assert (told["status"], told["previous_status"]) == ("disconnected", "connected")
    world.issue()
    assert world.status() is ConnectionStatus.CONNECTING


def test_disconnecting_a_tenant_never_connected_changes_nothing_and_tells_nothing(world: World) -> None:
    shown = world.desktop.disconnect(TENANT)
    assert shown is not None
    assert shown.connection.status is ConnectionStatus.NOT_CONNECTED
    assert world.events.published == []


def test_a_session_opened_just_before_a_disconnect_does_not_connect_again(world: World) -> None:
    password = world.issue()
    ticket, _ = world.login(password)
    world.desktop.disconnect(TENANT)
    first = {"ticket": ticket, "strHCPResponse": good_hcp(), "strCompanyFileName": COMPANY_FILE}
    assert world.service.call("sendRequestXML", first) == ""
    assert "disconnected" in str(world.service.call("getLastError", {"ticket": ticket}))
    assert world.status() is ConnectionStatus.DISCONNECTED


def test_an_online_tenant_has_no_desktop_connection_and_an_unknown_tenant_is_not_found(world: World) -> None:
    assert world.desktop.connection("online") is None
    assert world.desktop.disconnect("online") is None
    with pytest.raises(NotFoundError):
        world.desktop.connection("nobody")
