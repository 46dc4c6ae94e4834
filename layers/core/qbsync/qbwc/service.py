"""The Web Connector's callbacks, written against the domain's ports (no XML, no AWS).

Semantics follow the QBWC Programmer's Guide (v2.0, ch. 2 and 10). A valid login opens a session when the
tenant has work (records to send, payments to read back): the session holds the tenant's sync run, and each
sendRequestXML / receiveResponseXML pair carries one engine batch (usecases/desktop_sync.py). The first
sendRequestXML of a session carries what QuickBooks says about itself (strHCPResponse); a QuickBooks qbsync
cannot work with (older than qbXML 13.0, not the US edition, another company file than the one the Web
Connector was set up with, or a description that cannot be read) gets "" and getLastError says why, for the
Web Connector to show; nothing is sent to it. What the callbacks learn of the tenant's QuickBooks goes to its
connection (usecases/desktop_connection.py): a refused password, the company, QuickBooks not open, the end of
a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from qbsync import __version__
from qbsync.domain import qbwc
from qbsync.domain.desktop import (
    UNREADABLE,
    CompanyFacts,
    CompanyFactsReader,
    CompanyFactsUnreadableError,
    Opened,
)
from qbsync.domain.metrics import (
    NO_METRICS,
    WEB_CONNECTOR_ROUND_TRIPS,
    WEB_CONNECTOR_SESSIONS,
    WEB_CONNECTOR_SESSIONS_FAILED,
    Metrics,
)
from qbsync.domain.ports import Clock
from qbsync.domain.qbwc import QbwcCredentialStore, QbwcLoginFailures, QbwcSession, QbwcSessionStore
from qbsync.domain.tenants import Edition
from qbsync.observability import add_log_keys
from qbsync.qbwc.errors import SoapFaultError

if TYPE_CHECKING:  # the use cases (and the engine, pydantic) load with the composition root, on first use
    from qbsync.usecases.desktop_connection import DesktopConnections
    from qbsync.usecases.desktop_sync import DesktopSync

log = logging.getLogger(__name__)

Result = str | int | list[str]
Params = Mapping[str, str]

# authenticate's second element: "" means "use the company file open in QuickBooks"; "none" no work, "busy"
# another session of the tenant is running, with a postpone in seconds as the third (guide pp.62-64).
INVALID_USER = "nvu"
NO_WORK = "none"
BUSY = "busy"
BUSY_POSTPONE_SECONDS = "60"
USE_OPEN_COMPANY_FILE = ""
# receiveResponseXML: 0-99 = percent done and "call sendRequestXML again"; 100 = done; negative = error, and
# the Web Connector then shows getLastError's text and calls closeConnection (QBWC Programmer's Guide pp.24,
# 77-78; shared/reference/qbwc/NOTES.md §0 point 4, §1.3).
DONE = 100
SESSION_UNKNOWN = -1  # the ticket is unknown, closed or expired: getLastError says UNKNOWN_SESSION
# connectionError: "done" stops; any other string is read as a company file path to retry with.
STOP_CONNECTING = "done"
CLOSED = "OK"
UNKNOWN_SESSION = (
    "Unknown session; run the Web Connector again. If this keeps happening, check the user name and "
    "password of this application in the Web Connector."
)
QUICKBOOKS_FAILED = (
    "QuickBooks could not process qbsync's request ({hresult}: {said}). qbsync tries again at the next "
    "update; if this keeps happening, contact the application's support."
)
QUICKBOOKS_FAILED_RESULT = -2  # receiveResponseXML: QuickBooks threw; getLastError says QUICKBOOKS_FAILED
NOTHING_TO_DO = "Nothing to sync right now; QuickBooks is up to date with this application."
# Why a session failed (WEB_CONNECTOR_SESSIONS_FAILED's reason).
QUICKBOOKS_NOT_OPEN = "quickbooks_not_open"
QUICKBOOKS_ERROR = "quickbooks_error"
COMPANY_REFUSED = "company_refused"


class WebConnectorService:
    def __init__(
        self,
        credentials: QbwcCredentialStore,
        sessions: QbwcSessionStore,
        clock: Clock,
        company_facts: CompanyFactsReader,
        *,
        failures: QbwcLoginFailures,
        desktop: DesktopSync,
        connections: DesktopConnections,
        sleep: Callable[[float], None] = time.sleep,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._credentials = credentials
        self._sessions = sessions
        self._clock = clock
        self._company_facts = company_facts
        self._failures = failures
        self._desktop = desktop
        self._connections = connections
        self._sleep = sleep
        self._metrics = metrics

    def call(self, operation: str, params: Params) -> Result:
        """Run one callback by its WSDL name, with its parameters by their WSDL names."""
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise SoapFaultError(
                f"Unknown operation {operation[:100]!r}; this endpoint implements {', '.join(_OPERATIONS)}."
            )
        return handler(self, params)

    def server_version(self) -> str:
        return f"qbsync {__version__}"

    def client_version(self, version: str) -> str:
        # "" accepts every Web Connector version; "W:", "E:" or "O:" would warn or refuse (guide p.66).
        log.info("Web Connector version", extra={"qbwc_version": version[:50]})
        return ""

    def authenticate(self, username: str, password: str) -> list[str]:
        """[ticket, ""] opens a session on the open company file; ["", "nvu"] refuses the login, late after
        repeated failures for the user name (`qbwc.login_delay`)."""
        if not 0 < len(username) <= qbwc.MAX_USERNAME_LENGTH or len(password) > qbwc.MAX_PASSWORD_LENGTH:
            log.info("Web Connector login refused: empty or oversized user name or password")
            return ["", INVALID_USER]
        recent_failures = self._failures.recent(username, self._clock.now())
        delay = qbwc.login_delay(recent_failures)
        if delay:  # before the check, whatever its outcome (see login_delay)
            log.warning(
                "Web Connector login slowed down after repeated failures",
                extra={"qbwc_user": username, "failures": recent_failures, "delay_seconds": delay},
            )
            self._sleep(delay)
        credential = self._credentials.find(username)
        if credential is None:
            qbwc.spend_verification_time(password)  # as long as a wrong password takes: no user enumeration
            log.info("Web Connector login refused: unknown user", extra={"qbwc_user": username})
            self._failures.add(username, self._clock.now())
            return ["", INVALID_USER]
        add_log_keys(**_tenant_keys(credential.tenant_id))  # for the rest of this call
        if not qbwc.verify_password(password, credential.password_hash):
            log.info(
                "Web Connector login refused: wrong password",
                extra={"qbwc_user": username, "tenant_id": credential.tenant_id},
            )
            self._failures.add(username, self._clock.now())
            self._connections.login_refused(credential.tenant_id)
            return ["", INVALID_USER]
        if recent_failures:
            self._failures.clear(username)
        session = qbwc.new_session(credential, self._clock.now())
        opened = self._desktop.open(
            session, check_company=self._connections.awaits_company(session.tenant_id)
        )
        if opened is Opened.NOTHING:
            log.info("Web Connector login: nothing to do", extra={"tenant_id": session.tenant_id})
            self._connections.ran(session.tenant_id)  # the Web Connector is alive: not stale
            return ["", NO_WORK]
        if opened is Opened.BUSY:
            log.info("Web Connector login: another session runs", extra={"tenant_id": session.tenant_id})
            return ["", BUSY, BUSY_POSTPONE_SECONDS]
        self._sessions.add(session)
        self._metrics.add(WEB_CONNECTOR_SESSIONS, tenant_id=session.tenant_id)
        log.info(
            "Web Connector session opened", extra={"qbwc_user": username, "tenant_id": session.tenant_id}
        )
        return [session.ticket, USE_OPEN_COMPANY_FILE]

    def send_request_xml(
        self, ticket: str, *, hcp_response: str, company_file: str, country: str, major: int, minor: int
    ) -> str:
        """The next qbXML request set, or "" when there is none (the Web Connector then asks getLastError)."""
        session = self._session(ticket)
        if session is None:
            return ""
        log.info(
            "Web Connector asks for work",
            extra={
                "tenant_id": session.tenant_id,
                "company_file": company_file[:260],
                "first_call": bool(hcp_response.strip()),
                "qbxml_version": f"{major}.{minor}",
                "country": country[:10],
            },
        )
        if hcp_response.strip() and not session.progress.company_checked:
            facts, refusal = self._company(session, hcp_response, company_file)
            if refusal is not None or facts is None:
                self._failed(session, COMPANY_REFUSED)
                self._sessions.set_last_error(ticket, refusal or "")
                self._desktop.refused(session)
                return ""
            session = self._desktop.company_checked(session, facts)
        return self._desktop.next_message(session)

    def _company(
        self, session: QbwcSession, hcp_response: str, company_file: str
    ) -> tuple[CompanyFacts | None, str | None]:
        """What this session's QuickBooks says of itself, and why qbsync cannot work with it and this company
        file (None: it can, and the tenant is connected to it)."""
        try:
            facts = self._company_facts(hcp_response)
        except CompanyFactsUnreadableError as exc:
            log.warning(
                "QuickBooks' description of itself cannot be read",
                extra={"tenant_id": session.tenant_id, "reason": str(exc)[:300]},
            )
            return None, UNREADABLE.format(reason=exc)
        refusal = self._connections.company_seen(session.tenant_id, facts, company_file)
        log.log(
            logging.WARNING if refusal else logging.INFO,
            "QuickBooks refused: qbsync cannot work with it" if refusal else "QuickBooks company",
            extra={"tenant_id": session.tenant_id, **_described(facts), "refusal": refusal},
        )
        return facts, refusal

    def receive_response_xml(self, ticket: str, response: str, hresult: str, message: str) -> int:
        """100 when done; SESSION_UNKNOWN for a ticket without an open session (its answer cannot be kept)."""
        session = self._session(ticket)
        if session is None:
            log.info("Web Connector answered on an unknown or closed session")
            return SESSION_UNKNOWN
        self._metrics.add(WEB_CONNECTOR_ROUND_TRIPS, tenant_id=session.tenant_id)
        if hresult.strip():
            # QuickBooks' request processor threw: `response` is empty and nothing of the message was applied
            # when the HRESULT is 0x80040400 (guide pp.24, 77-78; NOTES §1.3). A negative answer makes the Web
            # Connector show getLastError's text, then close.
            log.warning(
                "QuickBooks could not process a request",
                extra={"tenant_id": session.tenant_id, "hresult": hresult[:20], "qb_message": message[:500]},
            )
            said = " ".join(message.split())[:300] or "no message"
            self._failed(session, QUICKBOOKS_ERROR)
            self._desktop.answer_failed(session, hresult, message)
            self._sessions.set_last_error(
                ticket, QUICKBOOKS_FAILED.format(hresult=hresult.strip()[:20], said=said)
            )
            return QUICKBOOKS_FAILED_RESULT
        log.info(
            "QuickBooks answered", extra={"tenant_id": session.tenant_id, "response_chars": len(response)}
        )
        return self._desktop.take_answer(session, response)

    def connection_error(self, ticket: str, hresult: str, message: str) -> str:
        """QuickBooks could not be opened: the session ends ("done"), the tenant's run is given back."""
        session = self._session(ticket)
        if session is not None:
            self._failed(session, QUICKBOOKS_NOT_OPEN)
            self._desktop.close(session)
        log.warning(
            "The Web Connector could not open QuickBooks",
            extra={
                "tenant_id": session.tenant_id if session else None,
                "hresult": hresult[:20],
                "qb_message": message[:500],
            },
        )
        if session is not None:
            self._connections.quickbooks_not_open(session.tenant_id, hresult, message)
        return STOP_CONNECTING

    def get_last_error(self, ticket: str) -> str:
        """Shown in the Web Connector's status column; never "NoOp" or "Interactive mode" (they mean more)."""
        session = self._session(ticket)
        if session is None:
            return UNKNOWN_SESSION
        return session.last_error or NOTHING_TO_DO

    def close_connection(self, ticket: str) -> str:
        """The session's summary ("qbsync: 3 sent, 3 synced, 0 failed"), shown in the Web Connector's status
        column; the tenant's run is given back and its connection notes the run."""
        session = self._session(ticket)
        if session is None:
            if self._ticket_is_plausible(ticket):
                self._sessions.delete(ticket)
            return CLOSED
        summary = self._desktop.close(session)
        self._connections.ran(session.tenant_id)
        self._sessions.delete(ticket)
        log.info("Web Connector session closed", extra={"tenant_id": session.tenant_id, "summary": summary})
        return summary

    def _failed(self, session: QbwcSession, reason: str) -> None:
        self._metrics.add(WEB_CONNECTOR_SESSIONS_FAILED, tenant_id=session.tenant_id, reason=reason)

    def _session(self, ticket: str) -> QbwcSession | None:
        if not self._ticket_is_plausible(ticket):
            return None
        session = self._sessions.get(ticket)
        if session is None or not session.is_active(self._clock.now()):
            return None
        add_log_keys(**_tenant_keys(session.tenant_id))  # for the rest of this call
        return session

    @staticmethod
    def _ticket_is_plausible(ticket: str) -> bool:
        return 0 < len(ticket) <= qbwc.MAX_TICKET_LENGTH


def _tenant_keys(tenant_id: str) -> dict[str, str]:
    """The log keys of a Web Connector's tenant: only Desktop tenants have Web Connector logins."""
    return {"tenant_id": tenant_id, "edition": Edition.QBD.value}


def _described(facts: CompanyFacts) -> dict[str, object]:
    """What is logged of a company: names and versions, never a FileID or anything secret."""
    highest = facts.highest_qbxml_version
    return {
        "company_name": facts.company_name[:100],
        "product": facts.product_name[:100],
        "quickbooks_version": f"{facts.major_version[:5]}.{facts.minor_version[:5]}",
        "qbxml_highest": f"{highest[0]}.{highest[1]}" if highest else None,
        "qb_country": facts.country[:10],
        "file_mode": facts.file_mode[:20],
    }


def _text(params: Params, name: str) -> str:
    return params.get(name, "")


def _int(params: Params, name: str) -> int:
    value = params.get(name, "").strip()
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise SoapFaultError(f"The parameter {name} must be an integer.") from None


_OPERATIONS: dict[str, Callable[[WebConnectorService, Params], Result]] = {
    "serverVersion": lambda s, _: s.server_version(),
    "clientVersion": lambda s, p: s.client_version(_text(p, "strVersion")),
    "authenticate": lambda s, p: s.authenticate(_text(p, "strUserName"), _text(p, "strPassword")),
    "sendRequestXML": lambda s, p: s.send_request_xml(
        _text(p, "ticket"),
        hcp_response=_text(p, "strHCPResponse"),
        company_file=_text(p, "strCompanyFileName"),
        country=_text(p, "qbXMLCountry"),
        major=_int(p, "qbXMLMajorVers"),
        minor=_int(p, "qbXMLMinorVers"),
    ),
    "receiveResponseXML": lambda s, p: s.receive_response_xml(
        _text(p, "ticket"), _text(p, "response"), _text(p, "hresult"), _text(p, "message")
    ),
    "connectionError": lambda s, p: s.connection_error(
        _text(p, "ticket"), _text(p, "hresult"), _text(p, "message")
    ),
    "getLastError": lambda s, p: s.get_last_error(_text(p, "ticket")),
    "closeConnection": lambda s, p: s.close_connection(_text(p, "ticket")),
}
