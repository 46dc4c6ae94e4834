"""The Web Connector callbacks over in-memory stores: what each returns, and what a session goes through."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import timedelta

import pytest

from qbsync import __version__
from qbsync.adapters.qbxml.hcp import read_company_facts
from qbsync.domain import qbwc
from qbsync.domain.qbwc import SESSION_TTL, hash_password, verify_password
from qbsync.metrics import EmfMetrics
from qbsync.qbwc.errors import FaultCode, SoapFaultError
from qbsync.qbwc.service import NOTHING_TO_DO, UNKNOWN_SESSION, WebConnectorService
from qbsync.usecases.desktop_connection import DesktopConnections
from tests.qbwc_hcp import PRO_2006_VERSIONS, hcp_response, logged_hcp_response
from tests.qbxml_reference import requires_captures
from tests.unit.connection_fakes import InMemoryConnections, RecordingEvents
from tests.unit.fakes import FixedClock, InMemorySettings, InMemoryTenants
from tests.unit.published_metrics import during_an_invocation
from tests.unit.qbwc_fakes import (
    InMemoryQbwcCredentials,
    InMemoryQbwcLoginFailures,
    InMemoryQbwcSessions,
    RecordingSleeper,
    in_memory_desktop_sync,
)

PASSWORD = "correct horse battery staple"
METRICS = EmfMetrics()  # what the callbacks count goes to the invocation running them (qbsync/metrics.py)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def credentials() -> InMemoryQbwcCredentials:
    store = InMemoryQbwcCredentials()
    store.register("qbwc-acme-42", "acme-42", PASSWORD)
    return store


@pytest.fixture
def sessions() -> InMemoryQbwcSessions:
    return InMemoryQbwcSessions()


@pytest.fixture
def failures() -> InMemoryQbwcLoginFailures:
    return InMemoryQbwcLoginFailures()


@pytest.fixture
def sleeper(clock: FixedClock) -> RecordingSleeper:
    return RecordingSleeper(clock)


@pytest.fixture
def service(
    credentials: InMemoryQbwcCredentials,
    sessions: InMemoryQbwcSessions,
    clock: FixedClock,
    failures: InMemoryQbwcLoginFailures,
    sleeper: RecordingSleeper,
) -> WebConnectorService:
    connections = DesktopConnections(
        InMemoryTenants(), InMemoryConnections(), credentials, InMemorySettings(), RecordingEvents(), clock
    )
    return WebConnectorService(
        credentials,
        sessions,
        clock,
        read_company_facts,
        failures=failures,
        desktop=in_memory_desktop_sync(sessions, clock, METRICS),
        connections=connections,
        sleep=sleeper.sleep,
        metrics=METRICS,
    )


def login(service: WebConnectorService) -> str:
    ticket, status = service.call("authenticate", {"strUserName": "qbwc-acme-42", "strPassword": PASSWORD})
    assert status == ""
    return str(ticket)


def test_server_version_names_qbsync_and_its_version(service: WebConnectorService) -> None:
    assert service.call("serverVersion", {}) == f"qbsync {__version__}"


@pytest.mark.parametrize("version", ["2.3.0.215", "2.0.0.116", "", "99.0"])
def test_client_version_accepts_every_web_connector(service: WebConnectorService, version: str) -> None:
    assert service.call("clientVersion", {"strVersion": version}) == ""


def test_a_valid_login_opens_a_session_on_the_open_company_file(
    service: WebConnectorService, sessions: InMemoryQbwcSessions, clock: FixedClock
) -> None:
    ticket = login(service)
    assert len(ticket) >= 40
    session = sessions.get(ticket)
    assert session is not None
    assert (session.tenant_id, session.username) == ("acme-42", "qbwc-acme-42")
    assert session.created_at == clock.now()
    assert session.expires_at == clock.now() + SESSION_TTL


def test_every_login_gets_its_own_ticket(
    service: WebConnectorService, sessions: InMemoryQbwcSessions
) -> None:
    tickets = set()
    for _ in range(5):
        ticket = login(service)
        assert ticket not in tickets
        assert len(sessions.items) == 1
        tickets.add(ticket)
        service.call("closeConnection", {"ticket": ticket})
    assert len(tickets) == 5


def test_a_login_while_a_session_of_the_tenant_runs_is_told_busy_and_to_come_back_later(
    service: WebConnectorService, sessions: InMemoryQbwcSessions
) -> None:
    first = login(service)
    answer = service.call("authenticate", {"strUserName": "qbwc-acme-42", "strPassword": PASSWORD})
    assert answer == ["", "busy", "60"]
    assert list(sessions.items) == [qbwc.ticket_digest(first)]
    service.call("closeConnection", {"ticket": first})
    assert login(service) != first


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("qbwc-acme-42", "wrong password"),
        ("qbwc-acme-42", ""),
        ("qbwc-acme-42", PASSWORD.upper()),
        ("QBWC-ACME-42", PASSWORD),
        ("nobody", PASSWORD),
        ("", ""),
    ],
)
def test_a_refused_login_answers_nvu_and_opens_nothing(
    service: WebConnectorService, sessions: InMemoryQbwcSessions, username: str, password: str
) -> None:
    assert service.call("authenticate", {"strUserName": username, "strPassword": password}) == ["", "nvu"]
    assert sessions.items == {}


def test_missing_login_parameters_are_a_refused_login(service: WebConnectorService) -> None:
    assert service.call("authenticate", {}) == ["", "nvu"]


def test_oversized_credentials_are_refused_without_a_lookup(
    service: WebConnectorService, credentials: InMemoryQbwcCredentials
) -> None:
    assert service.authenticate("u" * 201, PASSWORD) == ["", "nvu"]
    assert service.authenticate("qbwc-acme-42", "p" * 1025) == ["", "nvu"]
    assert credentials.lookups == []


def wrong_logins(service: WebConnectorService, username: str, times: int) -> None:
    for _ in range(times):
        assert service.authenticate(username, "a wrong guess") == ["", "nvu"]


def test_five_wrong_logins_in_a_row_are_answered_without_waiting(
    service: WebConnectorService, sleeper: RecordingSleeper
) -> None:
    wrong_logins(service, "qbwc-acme-42", qbwc.FAILURES_BEFORE_DELAY)
    assert sleeper.slept == []


def test_after_five_failures_each_attempt_waits_longer_up_to_a_few_seconds(
    service: WebConnectorService, sleeper: RecordingSleeper
) -> None:
    wrong_logins(service, "qbwc-acme-42", qbwc.FAILURES_BEFORE_DELAY + 5)
    assert sleeper.slept == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_slowed_down_user_name_waits_before_the_right_password_too(
    service: WebConnectorService, sleeper: RecordingSleeper, failures: InMemoryQbwcLoginFailures
) -> None:
    """Were only wrong answers late, a guesser would give up on every attempt not answered at once."""
    wrong_logins(service, "qbwc-acme-42", qbwc.FAILURES_BEFORE_DELAY)
    login(service)
    assert sleeper.slept == [1.0]
    assert failures.recent("qbwc-acme-42", sleeper.clock.now()) == 0  # a good login ends the row
    wrong_logins(service, "qbwc-acme-42", 1)
    assert sleeper.slept == [1.0]


def test_unknown_user_names_are_slowed_down_like_known_ones(
    service: WebConnectorService, sleeper: RecordingSleeper
) -> None:
    wrong_logins(service, "nobody", qbwc.FAILURES_BEFORE_DELAY + 2)
    assert sleeper.slept == [1.0, 2.0]


def test_failures_are_counted_per_user_name(
    service: WebConnectorService, credentials: InMemoryQbwcCredentials, sleeper: RecordingSleeper
) -> None:
    credentials.register("qbwc-other", "other", PASSWORD)
    wrong_logins(service, "qbwc-other", qbwc.FAILURES_BEFORE_DELAY + 3)
    sleeper.slept.clear()
    login(service)
    assert sleeper.slept == []


def test_the_row_of_failures_is_forgotten_fifteen_minutes_after_the_last(
    service: WebConnectorService, sleeper: RecordingSleeper, clock: FixedClock
) -> None:
    wrong_logins(service, "qbwc-acme-42", qbwc.FAILURES_BEFORE_DELAY)
    clock.advance(qbwc.FAILURE_WINDOW - timedelta(seconds=1))
    wrong_logins(service, "qbwc-acme-42", 1)  # still in the row: the sixth
    assert sleeper.slept == [1.0]
    clock.advance(qbwc.FAILURE_WINDOW)
    wrong_logins(service, "qbwc-acme-42", qbwc.FAILURES_BEFORE_DELAY)
    assert sleeper.slept == [1.0]


def test_the_password_is_never_logged(service: WebConnectorService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    login(service)
    service.authenticate("qbwc-acme-42", "a-wrong-secret-value")
    service.authenticate("nobody", "another-secret-value")
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "qbwc-acme-42" in logged  # the user name is, so the check below looks where passwords would be
    for secret in (PASSWORD, "a-wrong-secret-value", "another-secret-value"):
        assert secret not in logged


def test_send_request_xml_has_nothing_to_send_yet(service: WebConnectorService) -> None:
    ticket = login(service)
    params = {
        "ticket": ticket,
        "strHCPResponse": "<QBXML/>",
        "strCompanyFileName": "C:\\a.QBW",
        "qbXMLCountry": "US",
        "qbXMLMajorVers": "16",
        "qbXMLMinorVers": "0",
    }
    assert service.call("sendRequestXML", params) == ""
    assert service.call("sendRequestXML", {**params, "ticket": "no-such-ticket"}) == ""


def first_send(service: WebConnectorService, ticket: str, hcp: str) -> object:
    """The first sendRequestXML of a session, carrying what QuickBooks says of itself."""
    params = {
        "ticket": ticket,
        "strHCPResponse": hcp,
        "strCompanyFileName": "C:\\Acme.QBW",
        "qbXMLCountry": "US",
        "qbXMLMajorVers": "13",
        "qbXMLMinorVers": "0",
    }
    return service.call("sendRequestXML", params)


def test_a_quickbooks_older_than_2014_is_refused_and_get_last_error_says_why(
    service: WebConnectorService, sessions: InMemoryQbwcSessions
) -> None:
    ticket = login(service)
    old = hcp_response(product="QuickBooks Pro 2006", major="16", versions=PRO_2006_VERSIONS)
    assert first_send(service, ticket, old) == ""
    refusal = service.call("getLastError", {"ticket": ticket})
    assert refusal == (
        "QuickBooks Desktop 2014 or newer is needed (it reads qbXML 13.0); this company file is open in "
        "QuickBooks Pro 2006, which reads qbXML up to 5.0. Open it in a newer QuickBooks Desktop and run the "
        "Web Connector again."
    )
    # The refusal belongs to that session: another one of the same login is not refused.
    other = login(service)
    assert service.call("getLastError", {"ticket": other}) == NOTHING_TO_DO
    # Later calls of the session (strHCPResponse is empty then) keep it.
    assert first_send(service, ticket, "") == ""
    assert service.call("getLastError", {"ticket": ticket}) == refusal
    assert service.call("closeConnection", {"ticket": ticket}) == "qbsync: 0 sent, 0 synced, 0 failed"
    assert service.call("getLastError", {"ticket": ticket}) == UNKNOWN_SESSION


@requires_captures
def test_the_captured_pro_2006_session_is_refused(service: WebConnectorService) -> None:
    ticket = login(service)
    assert first_send(service, ticket, logged_hcp_response()) == ""
    refusal = str(service.call("getLastError", {"ticket": ticket}))
    assert refusal.startswith("QuickBooks Desktop 2014 or newer is needed")
    assert "QuickBooks Pro 2006, which reads qbXML up to 5.0" in refusal


def test_an_edition_for_another_country_is_refused(service: WebConnectorService) -> None:
    ticket = login(service)
    assert first_send(service, ticket, hcp_response(product="QuickBooks Pro 2020", country="CA")) == ""
    assert str(service.call("getLastError", {"ticket": ticket})).startswith(
        "qbsync works with the US edition of QuickBooks Desktop for now"
    )


@pytest.mark.parametrize(
    "hcp",
    [
        "<QBXML/>",
        "not XML at all",
        "HOSTQUERY/COMPANYQUERY/PREFQUERY is currently not supported in QBPOS.",
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><QBXML>&e;</QBXML>',
    ],
)
def test_an_hcp_that_cannot_be_read_is_refused_with_a_clear_text_never_an_error(
    service: WebConnectorService, hcp: str
) -> None:
    ticket = login(service)
    assert first_send(service, ticket, hcp) == ""
    refusal = str(service.call("getLastError", {"ticket": ticket}))
    assert refusal.startswith(
        "qbsync could not read what QuickBooks reported about itself and this company file, so it sent "
        "nothing."
    )
    assert refusal.endswith(
        "Run the Web Connector again; if this keeps happening, contact the application's support."
    )
    assert "root:" not in refusal


def test_a_quickbooks_qbsync_works_with_is_logged_and_has_nothing_to_do_yet(
    service: WebConnectorService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ticket = login(service)
    ours = ((qbwc.owner_id_of("acme-42"), qbwc.file_id_of("acme-42")),)  # the file the .qwc was added to
    assert first_send(service, ticket, hcp_response(file_ids=ours)) == ""
    assert service.call("getLastError", {"ticket": ticket}) == NOTHING_TO_DO
    (described,) = [r for r in caplog.records if r.getMessage() == "QuickBooks company"]
    assert described.levelno == logging.INFO
    assert {k: described.__dict__[k] for k in ("tenant_id", "company_name", "product", "qbxml_highest")} == {
        "tenant_id": "acme-42",
        "company_name": "Acme Plumbing & Heating",
        "product": "QuickBooks Pro 2014",
        "qbxml_highest": "13.0",
    }
    assert described.__dict__["refusal"] is None
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert qbwc.file_id_of("acme-42").strip("{}") not in logged  # the company file's FileID is not logged
    assert PASSWORD not in logged


def test_get_last_error_tells_a_known_session_there_is_nothing_to_do(service: WebConnectorService) -> None:
    ticket = login(service)
    assert service.call("getLastError", {"ticket": ticket}) == NOTHING_TO_DO
    # The two strings that would make the Web Connector loop or open a browser.
    assert NOTHING_TO_DO not in ("NoOp", "Interactive mode")


@pytest.mark.parametrize("ticket", ["no-such-ticket", "", "x" * 500])
def test_get_last_error_tells_an_unknown_session_to_run_again(
    service: WebConnectorService, ticket: str
) -> None:
    message = service.call("getLastError", {"ticket": ticket})
    assert message == UNKNOWN_SESSION
    assert str(message).startswith("Unknown session; run the Web Connector again")


def test_a_session_past_its_ttl_is_unknown(service: WebConnectorService, clock: FixedClock) -> None:
    ticket = login(service)
    clock.advance(SESSION_TTL - timedelta(seconds=1))
    assert service.get_last_error(ticket) == NOTHING_TO_DO
    clock.advance(timedelta(seconds=1))
    assert service.get_last_error(ticket) == UNKNOWN_SESSION


def test_receive_response_xml_reports_done(service: WebConnectorService) -> None:
    ticket = login(service)
    params = {"ticket": ticket, "response": "<QBXML/>", "hresult": "", "message": ""}
    assert service.call("receiveResponseXML", params) == 100
    assert service.call("getLastError", {"ticket": ticket}) == NOTHING_TO_DO


def test_an_hresult_from_quickbooks_is_an_error_and_get_last_error_says_what_quickbooks_said(
    service: WebConnectorService,
) -> None:
    ticket = login(service)
    params = {
        "ticket": ticket,
        "response": "",
        "hresult": "0x80040400",
        "message": "QuickBooks found an error when parsing the provided XML text stream.",
    }
    result = service.call("receiveResponseXML", params)
    assert isinstance(result, int)
    assert result < 0  # the Web Connector then asks getLastError and closes
    said = service.call("getLastError", {"ticket": ticket})
    assert "0x80040400" in str(said)
    assert "QuickBooks found an error when parsing the provided XML text stream." in str(said)


def test_receive_response_xml_on_an_unknown_closed_or_expired_session_is_an_error_get_last_error_explains(
    service: WebConnectorService, clock: FixedClock
) -> None:
    params = {"response": "<QBXML/>", "hresult": "", "message": ""}
    assert service.call("receiveResponseXML", {**params, "ticket": "unknown"}) == -1
    assert service.call("receiveResponseXML", params) == -1  # no ticket at all
    closed = login(service)
    service.call("closeConnection", {"ticket": closed})
    assert service.call("receiveResponseXML", {**params, "ticket": closed}) == -1
    expired = login(service)
    clock.advance(SESSION_TTL)
    assert service.call("receiveResponseXML", {**params, "ticket": expired}) == -1
    assert (
        service.call("getLastError", {"ticket": expired}) == UNKNOWN_SESSION
    )  # what the Web Connector shows


def test_connection_error_stops_the_update(service: WebConnectorService) -> None:
    ticket = login(service)
    params = {"ticket": ticket, "hresult": "0x80040408", "message": "Could not start QuickBooks."}
    assert service.call("connectionError", params) == "done"
    assert service.call("connectionError", {**params, "ticket": "unknown"}) == "done"


def test_close_connection_ends_the_session(
    service: WebConnectorService, sessions: InMemoryQbwcSessions
) -> None:
    ticket = login(service)
    assert service.call("closeConnection", {"ticket": ticket}) == "qbsync: 0 sent, 0 synced, 0 failed"
    assert sessions.items == {}
    assert service.get_last_error(ticket) == UNKNOWN_SESSION
    assert service.call("closeConnection", {"ticket": ticket}) == "OK"
    assert service.call("closeConnection", {}) == "OK"


def test_a_whole_update_as_the_web_connector_runs_it(
    service: WebConnectorService, sessions: InMemoryQbwcSessions
) -> None:
    assert service.call("serverVersion", {})
    assert service.call("clientVersion", {"strVersion": "2.3.0.215"}) == ""
    ticket = login(service)
    assert (
        service.call("sendRequestXML", {"ticket": ticket, "qbXMLMajorVers": "13", "qbXMLMinorVers": "0"})
        == ""
    )
    assert service.call("getLastError", {"ticket": ticket}) == NOTHING_TO_DO
    assert service.call("closeConnection", {"ticket": ticket}) == "qbsync: 0 sent, 0 synced, 0 failed"
    assert sessions.items == {}


@pytest.mark.parametrize("operation", ["getInteractiveURL", "fooBar", "serverversion", ""])
def test_an_unknown_operation_is_a_client_fault(service: WebConnectorService, operation: str) -> None:
    with pytest.raises(SoapFaultError) as raised:
        service.call(operation, {})
    assert raised.value.code is FaultCode.CLIENT
    assert "Unknown operation" in raised.value.message
    assert "authenticate" in raised.value.message


def test_a_non_integer_qbxml_version_is_a_client_fault(service: WebConnectorService) -> None:
    with pytest.raises(SoapFaultError, match="qbXMLMajorVers must be an integer"):
        service.call("sendRequestXML", {"ticket": "t", "qbXMLMajorVers": "sixteen", "qbXMLMinorVers": "0"})


def test_password_hashes_are_salted_and_verify_only_the_password() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert PASSWORD not in first
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, first)
    assert verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + " ", first)
    assert not verify_password("", first)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext-password",
        "md5$abc",
        "scrypt$16384$8$1$not base64!$AAAA",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==",  # n not a power of two
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==",  # would exhaust memory
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$",
    ],
)
def test_a_stored_hash_this_code_did_not_write_never_verifies(stored: str) -> None:
    assert not verify_password("plaintext-password", stored)


def test_hashes_stay_readable_when_the_parameters_change() -> None:
    # Pinned: a change of the default parameters must not silently lock every tenant out.
    pinned = "scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw==$9I59jaX8uj6pggbk906ZixJaZzYy9YxXDAPz+HKr1GU="
    assert hash_password("pw", salt=bytes(range(16))) == pinned
    # A hash written with other parameters carries them, and still verifies.
    salt = b"0123456789abcdef"
    derived = hashlib.scrypt(b"pw", salt=salt, n=2**12, r=8, p=1, dklen=32)
    older = f"scrypt$4096$8$1${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"
    assert verify_password("pw", older)
    assert not verify_password("pW", older)


def test_sessions_are_keyed_by_the_sha256_of_the_ticket() -> None:
    assert qbwc.ticket_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_session_is_counted_opened_each_answer_a_round_trip_and_its_run_timed_when_it_closes(
    service: WebConnectorService, clock: FixedClock
) -> None:
    def session() -> None:
        ticket = login(service)
        for _ in range(2):
            service.call("receiveResponseXML", {"ticket": ticket, "response": "<QBXML/>"})
        clock.advance(timedelta(seconds=90))
        service.call("closeConnection", {"ticket": ticket})

    published = during_an_invocation(session)
    assert published.total("WebConnectorSessions") == 1
    assert published.total("WebConnectorRoundTrips") == 2
    assert published.total("WebConnectorSessionsFailed") == 0
    assert published.values("SyncRunDuration", edition="qbd") == [90.0]
    assert published.properties("tenant_id") == {"acme-42"}


def test_a_failing_session_is_counted_failed_with_its_reason(service: WebConnectorService) -> None:
    def three_failing_sessions() -> None:
        ticket = login(service)  # QuickBooks throws on the message
        service.call("receiveResponseXML", {"ticket": ticket, "hresult": "0x80040400", "message": "busy"})
        service.call("closeConnection", {"ticket": ticket})
        ticket = login(service)  # the Web Connector cannot open QuickBooks
        service.call("connectionError", {"ticket": ticket, "hresult": "0x80040408", "message": "not open"})
        ticket = login(service)  # a QuickBooks qbsync cannot work with
        first_send(service, ticket, hcp_response(product="QuickBooks Pro 2020", country="CA"))
        service.call("closeConnection", {"ticket": ticket})

    published = during_an_invocation(three_failing_sessions)
    assert published.total("WebConnectorSessions") == 3
    assert [
        published.total("WebConnectorSessionsFailed", reason=reason)
        for reason in ("quickbooks_error", "quickbooks_not_open", "company_refused")
    ] == [1, 1, 1]
    assert published.total("WebConnectorSessionsFailed") == 3  # the total the alarm watches
