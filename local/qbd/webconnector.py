"""A simulated QuickBooks Web Connector: it drives a `/qbwc` URL over HTTP as QBWC 2.x does, with a simulated
company (local/qbd/company.py) in the place of QuickBooks on the tenant's PC.

Sources (../shared/reference/qbwc): the captured log `captures/quickbooks_log.txt` (QBWC 2.0.0.116 against a
SOAP server, two whole updates: every header and envelope), the Programmer's Guide (`docs/QBWC_proguide.*`,
ch. 2, 8 and 10; pages below are the PDF's), the WSDLs and NOTES.md §1-2.

One update (`run_once`), in the log's order:
  serverVersion → clientVersion → authenticate
  → nvu / none / busy: closeConnection, stop (guide p.21: "display a message, call closeConnection, and stop")
  → otherwise QuickBooks is opened (the company file authenticate named, "" = the one open):
      cannot start → connectionError(0x80040408); "done" stops, anything else is a path to retry with, at most
      MAX_CONNECTION_RETRIES times (guide p.51: "Don't retry ... more than a couple of times")
  → sendRequestXML (the first carries strHCPResponse; later ones `<strHCPResponse />`, as logged)
      "" → getLastError: "NoOp" pauses (guide p.72: "currently 5 seconds") and asks again, at most MAX_NOOPS
      times; any other text ends the update: closeConnection
      qbXML → QuickBooks processes it → receiveResponseXML: 0-99 asks again, 100 → closeConnection,
      negative → getLastError → closeConnection
A SOAP fault or an unreadable answer ends the update at once with the Web Connector's error code for that
callback (QBWC1012 authenticate, QBWC1041-1045 the others; guide appendix A), and no further call: whether the
real one still calls closeConnection is not documented, and not calling it is the harsher case for a service.
serverVersion and clientVersion are optional callbacks (guide p.21; Intuit's first WSDL has neither): a fault
there is recorded and the update goes on.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from lxml import etree

if TYPE_CHECKING:
    from local.qbd.company import Company, CompanySession

log = logging.getLogger("local.qbd.webconnector")

QBWC_NS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# What the captured QBWC 2.0.0.116 sent, header for header (its Host, Content-Length, Expect and Connection
# are the HTTP client's business).
QBWC_VERSION = "2.0.0.116"
USER_AGENT = "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 2.0.50727.1433)"
CONTENT_TYPE = "text/xml; charset=utf-8"

# Each callback's parameters in the WSDL's order (wsdl/intuit_troubleshoot_via_flowlink), which is also the
# order on the wire in the captured log.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("strVersion",),
    "authenticate": ("strUserName", "strPassword"),
    "sendRequestXML": (
        "ticket",
        "strHCPResponse",
        "strCompanyFileName",
        "qbXMLCountry",
        "qbXMLMajorVers",
        "qbXMLMinorVers",
    ),
    "receiveResponseXML": ("ticket", "response", "hresult", "message"),
    "connectionError": ("ticket", "hresult", "message"),
    "getLastError": ("ticket",),
    "closeConnection": ("ticket",),
}
# The Web Connector's own error when a callback throws (guide appendix A, pp.83-98).
QBWC_ERRORS = {
    "authenticate": "QBWC1012",
    "sendRequestXML": "QBWC1041",
    "receiveResponseXML": "QBWC1042",
    "getLastError": "QBWC1043",
    "closeConnection": "QBWC1044",
    "connectionError": "QBWC1045",
}

# authenticate's second string (guide pp.21-22, 62)
INVALID_USER, NO_WORK, BUSY = "nvu", "none", "busy"
STOP_CONNECTING = "done"  # connectionError's "stop" (the guide's sample writes "DONE": compared without case)
NOOP = "NoOp"
# QuickBooks cannot be started (captured in johnballantyne/qbws#9; NOTES §1.6).
QB_NOT_OPEN = ("0x80040408", "Could not start QuickBooks.")

NOOP_PAUSE_SECONDS = 5.0  # guide p.72
MAX_NOOPS = 20  # the guide sets no limit; the simulator stops a service that would say NoOp forever
MAX_CONNECTION_RETRIES = 2  # guide p.51: "more than a couple of times" is too many
MAX_EXCHANGES = 1000  # sendRequestXML calls per update: a bound of the simulator's, against a looping service
KEPT_RUNS = 50
HTTP_TIMEOUT_SECONDS = 100.0  # .NET's default HttpWebRequest timeout; QBWC's own is undocumented
DEFAULT_COMPANY_FOLDER = "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files"
OTHER_COMPANY_NAME = "Another Company"

# Faults a run can meet, each with a rate (0-1) drawn from its own random.Random(f"{seed}:{kind}"), so that
# setting one fault's rate does not move when another fires.
FAULT_KINDS = (
    "qb_not_open",  # QuickBooks cannot be started: connectionError 0x80040408
    "drop_answer",  # QuickBooks commits the message, then the PC goes off: no receiveResponseXML
    "kill_mid_message",  # the session dies after QuickBooks ran only the first k requests; nothing reported
    "drop_request",  # sendRequestXML's answer never reaches QuickBooks
    "other_company_file",  # another company file is open: its HCP (no FileID of ours) goes to the service
    "second_pc",  # a second PC runs the same login at the same time
)


class Ending(StrEnum):
    """How an update ended."""

    DONE = "done"  # receiveResponseXML said 100
    INVALID_USER = "nvu"
    NO_WORK = "none"
    BUSY = "busy"
    CLIENT_VERSION_REFUSED = "client_version_refused"  # clientVersion answered E: or O:
    CONNECTION_ERROR = "connection_error"  # QuickBooks could not be opened
    LAST_ERROR = "last_error"  # getLastError's text after "" or a negative percentage
    NOOP_LIMIT = "noop_limit"
    EXCHANGE_LIMIT = "exchange_limit"
    FAULT = "fault"  # a SOAP fault or an answer the Web Connector cannot read
    UNREACHABLE = "unreachable"  # no HTTP answer at all
    ANSWER_DROPPED = "answer_dropped"
    SESSION_KILLED = "session_killed"
    REQUEST_LOST = "request_lost"


class QwcError(ValueError):
    """A .qwc file the Web Connector would refuse to add (QBWC1039: missing required elements)."""


@dataclass(frozen=True)
class Qwc:
    """What the Web Connector reads from a .qwc file (guide Table 4-1, pp.33-38)."""

    app_name: str
    app_url: str
    user_name: str
    owner_id: str
    file_id: str
    run_every_seconds: float | None = None  # Scheduler/RunEveryNMinutes or RunEveryNSeconds

    @classmethod
    def parse(cls, text: str | bytes) -> Qwc:
        data = text.encode("utf-8") if isinstance(text, str) else text
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise QwcError(f"the .qwc file is not well-formed XML: {exc}") from None
        if etree.QName(root).localname != "QBWCXML":
            raise QwcError("a .qwc file's root element is QBWCXML")
        values = {etree.QName(child).localname: (child.text or "").strip() for child in _elements(root)}
        required = ("AppName", "AppURL", "UserName", "OwnerID", "FileID", "QBType")
        missing = [name for name in required if not values.get(name)]
        if missing:
            raise QwcError(f"the .qwc file lacks {', '.join(missing)} (QBWC1039)")
        if values["QBType"] != "QBFS":
            raise QwcError("only QBType QBFS (QuickBooks financial software) is simulated")
        url = urlsplit(values["AppURL"])
        loopback = url.hostname in ("localhost", "127.0.0.1", "::1")
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            # QBWC1010: "For security reasons only SSL (https) based applications are allowed" (but localhost)
            raise QwcError("AppURL must be https, or http on localhost (QBWC1010)")
        return cls(
            app_name=values["AppName"],
            app_url=values["AppURL"],
            user_name=values["UserName"],
            owner_id=values["OwnerID"],
            file_id=values["FileID"],
            run_every_seconds=_schedule(root),
        )


def _schedule(root: Any) -> float | None:
    """RunEveryNMinutes or RunEveryNSeconds; "the first one will be used" when both are there (p.38)."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in ("RunEveryNMinutes", "RunEveryNSeconds"):
            try:
                value = float((element.text or "").strip())
            except ValueError:
                raise QwcError(f"{name} must be a number") from None
            if value <= 0:
                raise QwcError(f"{name} must be above 0")
            return value * 60 if name == "RunEveryNMinutes" else value
    return None


def qwc_text(
    *, app_url: str, user_name: str, owner_id: str, file_id: str, run_every_minutes: int | None = None
) -> str:
    """A .qwc file as a service hands one to its user (shaped like Intuit's samples in qbwc/qwc/)."""
    scheduler = (
        f"  <Scheduler>\n    <RunEveryNMinutes>{run_every_minutes}</RunEveryNMinutes>\n  </Scheduler>\n"
        if run_every_minutes
        else ""
    )
    return (
        '<?xml version="1.0"?>\n<QBWCXML>\n'
        "  <AppName>qbsync</AppName>\n  <AppID></AppID>\n"
        f"  <AppURL>{_escape(app_url)}</AppURL>\n"
        "  <AppDescription>qbsync</AppDescription>\n"
        f"  <AppSupport>{_escape(app_url)}</AppSupport>\n"
        f"  <UserName>{_escape(user_name)}</UserName>\n"
        f"  <OwnerID>{_escape(owner_id)}</OwnerID>\n  <FileID>{_escape(file_id)}</FileID>\n"
        f"  <QBType>QBFS</QBType>\n{scheduler}</QBWCXML>\n"
    )


# ---------------------------------------------------------------------- the wire


def _escape(text: str) -> str:
    """Text content as .NET's XmlSerializer writes it: & < > escaped, quotes left alone (as in the log)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def envelope(operation: str, *values: str | int) -> bytes:
    """The request body exactly as the captured Web Connector writes it: one line, the soap/xsi/xsd prefixes,
    the call in the default namespace, empty parameters as `<name />`, the qbXML as escaped text."""
    names = PARAMETERS[operation]
    if len(values) != len(names):
        raise ValueError(f"{operation} takes {len(names)} parameters, got {len(values)}")
    if names:
        params = "".join(
            f"<{name}>{_escape(str(value))}</{name}>" if str(value) != "" else f"<{name} />"
            for name, value in zip(names, values, strict=True)
        )
        call = f'<{operation} xmlns="{QBWC_NS}">{params}</{operation}>'
    else:
        call = f'<{operation} xmlns="{QBWC_NS}" />'
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body>{call}</soap:Body></soap:Envelope>"
    ).encode()


def headers(operation: str) -> dict[str, str]:
    """The captured request headers: the SOAPAction in double quotes."""
    return {
        "User-Agent": USER_AGENT,
        "Content-Type": CONTENT_TYPE,
        "SOAPAction": f'"{QBWC_NS}{operation}"',
    }


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _elements(parent: Any) -> list[Any]:
    return [child for child in parent if isinstance(child.tag, str)]


class AnswerError(Exception):
    """An answer the Web Connector cannot use: a SOAP fault, or not the envelope the WSDL promises."""


def read_answer(operation: str, status: int, body: bytes) -> str | int | list[str]:
    """The `<opResult>` of a SOAP answer, read as .NET's proxy reads it: by element name, a missing result as
    null ("" here). AnswerError for a fault or anything else."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        raise AnswerError(f"HTTP {status}: the answer is not well-formed XML") from None
    envelope_body = root.find(f"{{{SOAP_ENV}}}Body")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or envelope_body is None or not _elements(envelope_body):
        raise AnswerError(f"HTTP {status}: the answer is not a SOAP 1.1 envelope")
    payload = _elements(envelope_body)[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        code, text = payload.findtext("faultcode") or "", payload.findtext("faultstring") or ""
        raise AnswerError(f"SOAP fault {code}: {text}")
    if payload.tag != f"{{{QBWC_NS}}}{operation}Response":
        raise AnswerError(
            f"HTTP {status}: expected {operation}Response, got {etree.QName(payload).localname}"
        )
    result = payload.find(f"{{{QBWC_NS}}}{operation}Result")
    if operation == "authenticate":
        return [] if result is None else [item.text or "" for item in result.iter(f"{{{QBWC_NS}}}string")]
    text = "" if result is None else (result.text or "")
    if operation != "receiveResponseXML":
        return text
    try:
        return int(text.strip())
    except ValueError:
        # receiveResponseXMLResult is an s:int (minOccurs 1): QBWC throws on anything else, a decimal too.
        raise AnswerError(f"receiveResponseXMLResult {text[:40]!r} is not an integer") from None


# ---------------------------------------------------------------------- a run's record


@dataclass(frozen=True)
class Call:
    """One callback: what was sent (the password masked) and what came back, or why nothing did."""

    operation: str
    params: dict[str, str]
    result: str | int | list[str] | None = None
    error: str = ""  # a fault or an unreadable answer
    answer_lost: bool = False  # the answer was made but never reached QuickBooks (drop_request)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "params": self.params,
            "result": self.result,
            "error": self.error,
            "answer_lost": self.answer_lost,
        }


@dataclass
class Run:
    """The record of one update."""

    number: int
    user_name: str
    started_at: datetime
    calls: list[Call] = field(default_factory=list)
    ended: Ending | None = None
    message: str = ""  # the text the Web Connector shows: getLastError, closeConnection, the error
    qbwc_error: str = ""
    faults: list[str] = field(default_factory=list)
    postpone_seconds: float | None = None  # authenticate's third string
    min_run_every_seconds: float | None = None  # authenticate's fourth string
    company_file: str = ""
    twin: Run | None = None  # the second PC's update (fault second_pc)
    finished_at: datetime | None = None

    @property
    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def result_of(self, operation: str) -> str | int | list[str] | None:
        """The result of the last call of this operation."""
        return next((c.result for c in reversed(self.calls) if c.operation == operation), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "user_name": self.user_name,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "ended": self.ended.value if self.ended else None,
            "message": self.message,
            "qbwc_error": self.qbwc_error,
            "faults": list(self.faults),
            "postpone_seconds": self.postpone_seconds,
            "min_run_every_seconds": self.min_run_every_seconds,
            "company_file": self.company_file,
            "operations": self.operations,
            "calls": [call.to_json() for call in self.calls],
            "twin": self.twin.to_json() if self.twin else None,
        }


class _Stop(Exception):  # noqa: N818 - control flow inside a run, never raised out of it
    def __init__(self, ending: Ending, message: str = "", qbwc_error: str = "") -> None:
        super().__init__(message)
        self.ending, self.message, self.qbwc_error = ending, message, qbwc_error


# ---------------------------------------------------------------------- faults


@dataclass
class Faults:
    """Rates (0-1) by kind of FAULT_KINDS, and the seed their draws start from."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int | None = None
    _draws: dict[str, random.Random] = field(default_factory=dict, repr=False)
    fired: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, rate in self.rates.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; the faults are {', '.join(FAULT_KINDS)}")
            if not 0 <= rate <= 1:
                raise ValueError(f"the rate of {kind} must be between 0 and 1")

    def fires(self, kind: str) -> bool:
        rate = self.rates.get(kind, 0.0)
        if rate <= 0:
            return False
        draw = self._draws.setdefault(kind, random.Random(f"{self.seed}:{kind}"))  # noqa: S311 - not secret
        if draw.random() >= rate:
            return False
        self.fired[kind] = self.fired.get(kind, 0) + 1
        return True

    def draw(self, kind: str, below: int) -> int:
        """A further draw for a fault that fired (e.g. how many requests ran before the session died)."""
        return self._draws[kind].randrange(below) if below > 0 else 0

    def describe(self) -> dict[str, Any]:
        return {"rates": dict(self.rates), "seed": self.seed, "fired": dict(self.fired)}


# ---------------------------------------------------------------------- the Web Connector


def default_company_file(name: str) -> str:
    return f"{DEFAULT_COMPANY_FOLDER}\\{name}.QBW"


class SimulatedWebConnector:
    """One application added to a Web Connector on one PC: a .qwc, its password, the company behind it.

    `run_once()` runs one update now and returns its record; `start()` runs updates every RunEveryNMinutes in
    a background thread (authenticate's postpone and minimum interval honoured) until `stop()`.
    """

    def __init__(
        self,
        qwc: Qwc,
        password: str,
        company: Company,
        *,
        company_file: str | None = None,
        faults: Faults | None = None,
        other_company: Company | None = None,
        client: httpx.Client | None = None,
        version: str = QBWC_VERSION,
        noop_pause_seconds: float = NOOP_PAUSE_SECONDS,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.qwc = qwc
        self.company = company
        self.company_file = company_file or default_company_file(str(getattr(company, "name", "Company")))
        self.faults = faults or Faults()
        self.version = version
        self.noop_pause_seconds = noop_pause_seconds
        self.runs: deque[Run] = deque(maxlen=KEPT_RUNS)
        self._password = password
        self._other_company = other_company
        self._client = client or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, trust_env=False)
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._sleep: Callable[[float], object] = sleep or self._stop.wait  # a stop ends a NoOp pause
        self._update_lock = threading.Lock()  # one update at a time per application, as QBWC locks it
        self._thread: threading.Thread | None = None
        self._file_id_written = False
        self._count = 0
        self._next_delay: float | None = None
        self._min_interval = 0.0

    # ------------------------------------------------------------------ scheduling

    @property
    def interval_seconds(self) -> float | None:
        if self.qwc.run_every_seconds is None:
            return None
        return max(self.qwc.run_every_seconds, self._min_interval)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, every_seconds: float | None = None) -> None:
        """Run an update now, then every `every_seconds` (default: the .qwc's schedule), in a thread."""
        interval = every_seconds if every_seconds is not None else self.interval_seconds
        if interval is None or interval <= 0:
            raise ValueError("the .qwc has no Scheduler: give every_seconds")
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._every, args=(interval,), name=f"qbwc-{self.qwc.user_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        """Shut down, as the PC does: an update under way ends at its next call, unanswered."""
        self._closing.set()
        self.stop()
        self._client.close()

    def _every(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a scheduled update never kills the scheduler, as QBWC keeps its schedule
                log.exception("the simulated Web Connector's update failed")
            delay = self._next_delay if self._next_delay is not None else interval
            self._next_delay = None
            if self._stop.wait(max(delay, self._min_interval)):
                return

    # ------------------------------------------------------------------ one update

    def run_once(self) -> Run:
        """One update, as QBWC runs it when the user clicks Update Selected or the schedule fires."""
        with self._update_lock:
            self._count += 1
            run = Run(number=self._count, user_name=self.qwc.user_name, started_at=datetime.now(UTC))
            twin = self._second_pc(run)
            self._update(run, barrier=twin[1] if twin else None)
            if twin is not None:
                thread, _, twin_run = twin
                thread.join(HTTP_TIMEOUT_SECONDS)
                run.twin = twin_run
            run.finished_at = datetime.now(UTC)
            self.runs.append(run)
            log.info(
                "Web Connector update ended",
                extra={"qbwc_user": self.qwc.user_name, "ended": run.ended, "calls": len(run.calls)},
            )
            return run

    def _second_pc(self, run: Run) -> tuple[threading.Thread, threading.Barrier, Run] | None:
        """The same login on another PC, updating at the same time: both authenticate, then go on together."""
        if not self.faults.fires("second_pc"):
            return None
        run.faults.append("second_pc")
        other = SimulatedWebConnector(
            self.qwc,
            self._password,
            self.company,
            company_file=self.company_file,
            client=self._client,
            version=self.version,
            noop_pause_seconds=self.noop_pause_seconds,
            sleep=self._sleep,
        )
        other._file_id_written = True  # the file was set up from the first PC
        barrier = threading.Barrier(2, timeout=HTTP_TIMEOUT_SECONDS)
        twin_run = Run(number=run.number, user_name=self.qwc.user_name, started_at=datetime.now(UTC))

        def update() -> None:
            other._update(twin_run, barrier=barrier)
            twin_run.finished_at = datetime.now(UTC)

        thread = threading.Thread(target=update, name=f"qbwc-{self.qwc.user_name}-second-pc", daemon=True)
        thread.start()
        return thread, barrier, twin_run

    def _update(self, run: Run, *, barrier: threading.Barrier | None) -> None:
        try:
            self._callbacks(run, barrier)
        except _Stop as stop:
            run.ended, run.qbwc_error = stop.ending, stop.qbwc_error
            run.message = stop.message or run.message

    def _callbacks(self, run: Run, barrier: threading.Barrier | None) -> None:
        self._optional(run, "serverVersion")
        version = self._optional(run, "clientVersion", self.version)
        if isinstance(version, str) and version[:2].upper() in ("E:", "O:"):
            # "QBWC always proceeds to call authenticate unless it receives ... E: or ... O:" (p.21)
            raise _Stop(Ending.CLIENT_VERSION_REFUSED, version[2:])
        try:
            answer = self._call(run, "authenticate", self.qwc.user_name, self._password)
        finally:
            if barrier is not None:
                _meet(barrier)
        strings = [*answer, "", ""] if isinstance(answer, list) else ["", ""]
        ticket, status = strings[0], strings[1]
        run.postpone_seconds = _seconds(strings[2]) if len(strings) > 2 else None
        run.min_run_every_seconds = _seconds(strings[3]) if len(strings) > 3 else None
        self._schedule_after(run)
        ending = {INVALID_USER: Ending.INVALID_USER, NO_WORK: Ending.NO_WORK, BUSY: Ending.BUSY}.get(
            status.lower()
        )
        if ending is not None:
            closed = self._call(run, "closeConnection", ticket)
            raise _Stop(ending, str(closed))
        with self._quickbooks(run, ticket, requested_file=status) as (session, company_file):
            self._exchange(run, ticket, session, company_file)

    def _schedule_after(self, run: Run) -> None:
        if run.min_run_every_seconds:
            self._min_interval = run.min_run_every_seconds  # "the minimum limit for the Every_Min" (p.63)
        if run.postpone_seconds:
            self._next_delay = run.postpone_seconds  # "Update postponed by application" (p.63)

    @contextmanager
    def _quickbooks(
        self, run: Run, ticket: str, *, requested_file: str
    ) -> Iterator[tuple[CompanySession, str]]:
        """OpenConnection + BeginSession on the company file, connectionError while QuickBooks cannot start;
        the session is ended however the update ends."""
        company, company_file = self.company, self.company_file
        if self.faults.fires("other_company_file"):
            run.faults.append("other_company_file")
            company, company_file = self._another_company(), default_company_file(OTHER_COMPANY_NAME)
        run.company_file = requested_file if requested_file else company_file
        if self.faults.fires("qb_not_open"):
            run.faults.append("qb_not_open")
            for attempt in range(MAX_CONNECTION_RETRIES + 1):
                answer = self._call(run, "connectionError", ticket, *QB_NOT_OPEN)
                if str(answer).strip().lower() == STOP_CONNECTING or attempt == MAX_CONNECTION_RETRIES:
                    break
            raise _Stop(Ending.CONNECTION_ERROR, f"{QB_NOT_OPEN[0]}: {QB_NOT_OPEN[1]}")
        session = company.open_session()
        try:
            if company is self.company and not self._file_id_written:
                # stored "the first time it connects" (guide p.52), so the first HCP already shows it
                company.write_file_id(self.qwc.owner_id, self.qwc.file_id)
                self._file_id_written = True
            yield session, run.company_file
        finally:
            session.close()

    def _another_company(self) -> Company:
        if self._other_company is None:
            from local.qbd.company import Company

            self._other_company = Company(name=OTHER_COMPANY_NAME)
        return self._other_company

    def _exchange(self, run: Run, ticket: str, session: CompanySession, company_file: str) -> None:
        hcp = session.hcp_response()
        country, major, minor = _host(hcp)
        noops = 0
        for exchange in range(MAX_EXCHANGES):
            request = self._call(
                run,
                "sendRequestXML",
                ticket,
                hcp if exchange == 0 else "",
                company_file,
                country,
                major,
                minor,
            )
            if self.faults.fires("drop_request"):
                run.faults.append("drop_request")
                run.calls[-1] = _lost(run.calls[-1])
                raise _Stop(Ending.REQUEST_LOST, "sendRequestXML's answer never reached QuickBooks")
            if request == "":
                error = str(self._call(run, "getLastError", ticket))
                if error == NOOP and noops < MAX_NOOPS:
                    noops += 1
                    self._sleep(self.noop_pause_seconds)
                    continue
                self._close(run, ticket)
                raise _Stop(Ending.NOOP_LIMIT if error == NOOP else Ending.LAST_ERROR, error)
            response, hresult, message = self._process(run, session, str(request))
            percent = self._call(run, "receiveResponseXML", ticket, response, hresult, message)
            assert isinstance(percent, int)
            if percent < 0:
                error = str(self._call(run, "getLastError", ticket))
                self._close(run, ticket)
                raise _Stop(Ending.LAST_ERROR, error)
            if percent >= 100:
                self._close(run, ticket)
                raise _Stop(Ending.DONE, run.message)
        self._close(run, ticket)
        raise _Stop(Ending.EXCHANGE_LIMIT, f"the service asked for more than {MAX_EXCHANGES} exchanges")

    def _process(self, run: Run, session: CompanySession, request: str) -> tuple[str, str, str]:
        """QuickBooks' answer to one message: (response, "", "") or ("", hresult, message); or the run stops
        where a fault puts the PC down."""
        from local.qbd.company import RequestProcessorError

        if self.faults.fires("kill_mid_message"):
            total = len(_requests(request))
            done = self.faults.draw("kill_mid_message", total)
            run.faults.append(f"kill_mid_message after {done} of {total}")
            if done:
                # QuickBooks may refuse the part it got; nobody is left to tell either way
                with suppress(RequestProcessorError):
                    session.process(_first_requests(request, done))
            raise _Stop(Ending.SESSION_KILLED, f"the session ended after {done} of {total} requests")
        try:
            response = session.process(request)
        except RequestProcessorError as error:
            return "", error.hresult, error.message
        if self.faults.fires("drop_answer"):
            run.faults.append("drop_answer")
            raise _Stop(Ending.ANSWER_DROPPED, "the PC went off after QuickBooks committed the message")
        return response, "", ""

    def _close(self, run: Run, ticket: str) -> None:
        run.message = str(self._call(run, "closeConnection", ticket))

    # ------------------------------------------------------------------ calls

    def _optional(self, run: Run, operation: str, *values: str) -> str | int | list[str] | None:
        try:
            return self._call(run, operation, *values)
        except _Stop as stop:
            if stop.ending is Ending.UNREACHABLE:
                raise
            return None  # an optional callback that fails is skipped

    def _call(self, run: Run, operation: str, *values: str | int) -> str | int | list[str]:
        shown = dict(zip(PARAMETERS[operation], (str(v) for v in values), strict=True))
        if "strPassword" in shown:
            shown["strPassword"] = "********"
        if self._closing.is_set():
            run.calls.append(Call(operation, shown, error="the Web Connector was shut down"))
            raise _Stop(Ending.UNREACHABLE, f"{operation}: the Web Connector was shut down")
        try:
            response = self._client.post(
                self.qwc.app_url, content=envelope(operation, *values), headers=headers(operation)
            )
        except httpx.HTTPError as exc:
            run.calls.append(Call(operation, shown, error=f"{type(exc).__name__}: {exc}"))
            raise _Stop(Ending.UNREACHABLE, f"{operation}: {exc}", QBWC_ERRORS.get(operation, "")) from None
        try:
            result = read_answer(operation, response.status_code, response.content)
        except AnswerError as exc:
            run.calls.append(Call(operation, shown, error=str(exc)))
            raise _Stop(Ending.FAULT, f"{operation}: {exc}", QBWC_ERRORS.get(operation, "")) from None
        run.calls.append(Call(operation, shown, result))
        return result


def _meet(barrier: threading.Barrier) -> None:
    with suppress(threading.BrokenBarrierError):  # the other PC's update ended first: nothing to wait for
        barrier.wait()


def _lost(call: Call) -> Call:
    return Call(call.operation, call.params, call.result, call.error, answer_lost=True)


def _seconds(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value > 0 else None


def _host(hcp: str) -> tuple[str, int, int]:
    """qbXMLCountry and the request processor's qbXML level, from the HostRet QBWC has just read (the
    captured Pro 2006 session: US, 5, 0, its highest SupportedQBXMLVersion)."""
    try:
        root = etree.fromstring(hcp.encode("utf-8"), _parser())
    except etree.XMLSyntaxError:
        return "US", 0, 0
    country = next((e.text or "" for e in root.iter() if _named(e, "Country")), "") or "US"
    versions = []
    for element in root.iter():
        if _named(element, "SupportedQBXMLVersion"):
            major, _, minor = (element.text or "").strip().partition(".")
            if major.isdigit() and (minor or "0").isdigit():
                versions.append((int(major), int(minor or "0")))
    major, minor = max(versions, default=(0, 0))
    return country.strip(), major, minor


def _named(element: Any, name: str) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).localname == name


def _message_root(request: str) -> Any:
    return etree.fromstring(request.encode("utf-8"), _parser())


def _requests(request: str) -> list[Any]:
    """The `...Rq` elements of a qbXML request message ([] when it cannot be read)."""
    try:
        root = _message_root(request)
    except etree.XMLSyntaxError:
        return []
    messages = next((e for e in root.iter() if _named(e, "QBXMLMsgsRq")), None)
    return [] if messages is None else _elements(messages)


def _first_requests(request: str, count: int) -> str:
    """The same message with only its first `count` requests (what QuickBooks had run when it died)."""
    root = _message_root(request)
    messages = next(e for e in root.iter() if _named(e, "QBXMLMsgsRq"))
    for extra in _elements(messages)[count:]:
        messages.remove(extra)
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")).decode("utf-8")


def runs_json(runs: Sequence[Run]) -> list[dict[str, Any]]:
    return [run.to_json() for run in runs]
