"""The simulated Web Connector's updates and faults, with the simulated company behind it and a scripted
service in front (tests/qbd/scripted_service.py: the product's /qbwc hands out no work yet)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from lxml import etree

from local.qbd.company import PRO_2006, Company
from local.qbd.webconnector import (
    MAX_CONNECTION_RETRIES,
    MAX_NOOPS,
    NOOP_PAUSE_SECONDS,
    OTHER_COMPANY_NAME,
    Ending,
    Faults,
    Qwc,
    SimulatedWebConnector,
    default_company_file,
    qwc_text,
)
from tests.qbd.scripted_service import ScriptedService, serving

OWNER_ID = "{2f0b8c4e-6a1d-4c3b-9e57-5d1a7c9e0b3f}"
FILE_ID = "{9b1e4f7a-0c2d-4e8b-a5f3-6d7c8e9f0a1b}"
PARSE_ERROR = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")


def message(*requests: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML>'
        f'<QBXMLMsgsRq onError="continueOnError">{"".join(requests)}</QBXMLMsgsRq></QBXML>'
    )


def customer_add(name: str, request_id: int = 1) -> str:
    add = f"<CustomerAdd><Name>{name}</Name></CustomerAdd>"
    return f'<CustomerAddRq requestID="{request_id}">{add}</CustomerAddRq>'


def customers(company: Company) -> list[str]:
    """The customers' names, read as an application would: a CustomerQuery in a session of its own."""
    session = company.open_session()
    try:
        answer = session.process(message('<CustomerQueryRq requestID="q"/>'))
    finally:
        session.close()
    root = etree.fromstring(answer.encode("utf-8"))
    return [ret.findtext("Name") for ret in root.iter("CustomerRet")]


@pytest.fixture
def service() -> ScriptedService:
    return ScriptedService()


@pytest.fixture
def url(service: ScriptedService) -> Iterator[str]:
    with serving(service) as address:
        yield address


@pytest.fixture
def company() -> Company:
    return Company(name="Test Co")


def connector(url: str, company: Company, **options: object) -> SimulatedWebConnector:
    qwc = Qwc.parse(qwc_text(app_url=url, user_name="pc-user", owner_id=OWNER_ID, file_id=FILE_ID))
    options.setdefault("noop_pause_seconds", 0)
    return SimulatedWebConnector(qwc, "secret", company, **options)  # type: ignore[arg-type]


BEGINNING = ["serverVersion", "clientVersion", "authenticate"]


def test_an_update_with_work_runs_until_the_service_says_100(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada")), message(customer_add("Grace"))]
    service.percents = [50, 100]
    run = connector(url, company).run_once()
    assert run.ended is Ending.DONE
    assert service.operations == [
        *BEGINNING, "sendRequestXML", "receiveResponseXML", "sendRequestXML", "receiveResponseXML",
        "closeConnection",
    ]  # fmt: skip
    assert run.operations == service.operations
    assert sorted(customers(company)) == ["Ada", "Grace"]
    first, _ = service.params_of("receiveResponseXML")
    assert 'statusCode="0"' in first["response"]
    assert (first["hresult"], first["message"]) == ("", "")
    assert service.params_of("authenticate") == [{"strUserName": "pc-user", "strPassword": "secret"}]
    assert run.calls[2].params["strPassword"] == "********"  # the record never holds the password
    assert run.message == "OK"  # closeConnection's text, shown in the status column


def test_the_first_send_carries_the_companys_hcp_answer_and_later_ones_an_empty_one(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada"))]
    service.percents = [0]
    connector(url, company).run_once()
    first, second = service.params_of("sendRequestXML")
    hcp = first["strHCPResponse"]
    for answer in ("HostQueryRs", "CompanyQueryRs", "PreferencesQueryRs"):
        assert f"<{answer} " in hcp
    # the FileID DataExt written on the first connect, under the application's OwnerID
    assert re.search(rf"<OwnerID>{re.escape(OWNER_ID)}</OwnerID>\s*<DataExtName>FileID</DataExtName>", hcp)
    assert FILE_ID in hcp
    versions = re.findall(r"<SupportedQBXMLVersion>(\d+)\.(\d+)</SupportedQBXMLVersion>", hcp)
    major, minor = max((int(a), int(b)) for a, b in versions)
    assert (first["qbXMLMajorVers"], first["qbXMLMinorVers"]) == (str(major), str(minor))
    assert first["qbXMLCountry"] == "US"
    assert first["strCompanyFileName"] == default_company_file("Test Co")
    assert second["strHCPResponse"] == ""
    assert second["strCompanyFileName"] == first["strCompanyFileName"]


def test_quickbooks_pro_2006_is_reported_as_the_captured_log_reports_it(
    service: ScriptedService, url: str
) -> None:
    connector(url, Company(name="Test Company", product=PRO_2006)).run_once()
    first = service.params_of("sendRequestXML")[0]
    # captures/quickbooks_log.txt: <qbXMLCountry>US</qbXMLCountry><qbXMLMajorVers>5</qbXMLMajorVers>
    # <qbXMLMinorVers>0</qbXMLMinorVers>, and a HostRet naming QuickBooks Pro 2006
    assert (first["qbXMLCountry"], first["qbXMLMajorVers"], first["qbXMLMinorVers"]) == ("US", "5", "0")
    assert "<ProductName>QuickBooks Pro 2006</ProductName>" in first["strHCPResponse"]


def test_a_company_file_named_by_authenticate_is_the_one_reported(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.authenticate = ["ticket", "C:\\Books\\Test Co.QBW"]
    run = connector(url, company).run_once()
    assert service.params_of("sendRequestXML")[0]["strCompanyFileName"] == "C:\\Books\\Test Co.QBW"
    assert run.ended is Ending.LAST_ERROR


def test_nothing_to_send_asks_get_last_error_and_closes(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.last_errors = ["Nothing to sync right now"]
    run = connector(url, company).run_once()
    assert service.operations == [*BEGINNING, "sendRequestXML", "getLastError", "closeConnection"]
    assert (run.ended, run.message) == (Ending.LAST_ERROR, "Nothing to sync right now")


def test_a_negative_percentage_asks_get_last_error_then_closes(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada"))]
    service.percents = [-1]
    service.last_errors = ["The answer could not be read"]
    run = connector(url, company).run_once()
    assert service.operations[-3:] == ["receiveResponseXML", "getLastError", "closeConnection"]
    assert (run.ended, run.message) == (Ending.LAST_ERROR, "The answer could not be read")


def test_noop_pauses_five_seconds_and_asks_again(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = ["", message(customer_add("Ada"))]
    service.last_errors = ["NoOp"]
    pauses: list[float] = []
    run = connector(url, company, noop_pause_seconds=NOOP_PAUSE_SECONDS, sleep=pauses.append).run_once()
    assert service.operations == [
        *BEGINNING, "sendRequestXML", "getLastError",  # "" and NoOp: wait and ask again
        "sendRequestXML", "receiveResponseXML", "closeConnection",
    ]  # fmt: skip
    assert pauses == [5.0]
    assert run.ended is Ending.DONE
    assert customers(company) == ["Ada"]


def test_a_service_that_says_noop_forever_is_cut_off(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.last_errors = ["NoOp"] * (MAX_NOOPS + 5)
    run = connector(url, company).run_once()
    assert service.operations.count("getLastError") == MAX_NOOPS + 1
    assert service.operations[-1] == "closeConnection"
    assert run.ended is Ending.NOOP_LIMIT


@pytest.mark.parametrize(
    ("answer", "ending"),
    [
        (["", "nvu"], Ending.INVALID_USER),
        (["ticket", "none"], Ending.NO_WORK),
        (["ticket", "busy", "300", "600"], Ending.BUSY),
    ],
)
def test_nvu_none_and_busy_close_the_connection_and_stop(
    service: ScriptedService, url: str, company: Company, answer: list[str], ending: Ending
) -> None:
    service.authenticate = answer
    run = connector(url, company).run_once()
    assert service.operations == [*BEGINNING, "closeConnection"]
    assert run.ended is ending
    if ending is Ending.BUSY:
        assert (run.postpone_seconds, run.min_run_every_seconds) == (300, 600)


def test_a_refusing_client_version_stops_before_authenticate(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.answer = lambda operation, params: "E:Update your Web Connector"  # type: ignore[method-assign]
    run = connector(url, company).run_once()
    assert run.operations == ["serverVersion", "clientVersion"]
    assert (run.ended, run.message) == (Ending.CLIENT_VERSION_REFUSED, "Update your Web Connector")


def test_quickbooks_not_open_reports_connection_error_and_stops_on_done(
    service: ScriptedService, url: str, company: Company
) -> None:
    run = connector(url, company, faults=Faults({"qb_not_open": 1.0})).run_once()
    assert service.operations == [*BEGINNING, "connectionError"]
    assert service.params_of("connectionError")[0] == {
        "ticket": "ticket-1", "hresult": "0x80040408", "message": "Could not start QuickBooks.",
    }  # fmt: skip
    assert run.ended is Ending.CONNECTION_ERROR
    assert run.faults == ["qb_not_open"]


def test_a_service_that_keeps_asking_to_retry_the_connection_gets_a_couple_of_retries(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.connection_error = ""  # "": retry with the company file that is open
    run = connector(url, company, faults=Faults({"qb_not_open": 1.0})).run_once()
    assert service.operations == [*BEGINNING] + ["connectionError"] * (1 + MAX_CONNECTION_RETRIES)
    assert run.ended is Ending.CONNECTION_ERROR


def test_a_message_quickbooks_cannot_parse_is_reported_with_its_hresult_and_no_response(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = ["<QBXML><QBXMLMsgsRq onError="]
    service.percents = [-1]
    connector(url, company).run_once()
    (received,) = service.params_of("receiveResponseXML")
    assert (received["response"], received["hresult"], received["message"]) == ("", *PARSE_ERROR)


def test_a_dropped_answer_leaves_the_write_in_quickbooks_and_the_service_without_receive(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada"))]
    run = connector(url, company, faults=Faults({"drop_answer": 1.0})).run_once()
    assert customers(company) == ["Ada"]  # committed before the PC went off
    assert service.operations == [*BEGINNING, "sendRequestXML"]
    assert (run.ended, run.faults) == (Ending.ANSWER_DROPPED, ["drop_answer"])


def test_records_locked_by_a_user_are_refused_with_3170_or_3175_and_not_written(
    service: ScriptedService, url: str, company: Company
) -> None:
    company.lock_records(1.0, seed=2)  # the company's own fault: a user has the records open
    service.messages = [message(customer_add("Ada", 1), customer_add("Grace", 2))]
    connector(url, company).run_once()
    company.lock_records(0.0)
    (received,) = service.params_of("receiveResponseXML")
    codes = re.findall(r'<CustomerAddRs requestID="\d" statusCode="(\d+)"', received["response"])
    assert len(codes) == 2
    assert set(codes) <= {"3170", "3175"}
    assert customers(company) == []


def kill(url: str, seed: int) -> tuple[int, list[str]]:
    """How many of four adds QuickBooks ran before the session died, and the customers it has."""
    company = Company(name="Test Co")
    service_run = connector(url, company, faults=Faults({"kill_mid_message": 1.0}, seed=seed)).run_once()
    (fault,) = service_run.faults
    done = int(re.fullmatch(r"kill_mid_message after (\d) of 4", fault).group(1))
    assert service_run.ended is Ending.SESSION_KILLED
    return done, customers(company)


def test_a_killed_session_leaves_only_the_first_requests_done_and_reports_nothing(
    service: ScriptedService, url: str
) -> None:
    names = ["Ada", "Grace", "Edsger", "Barbara"]
    outcomes = []
    for seed in range(6):
        service.messages = [message(*(customer_add(name, i) for i, name in enumerate(names)))]
        done, stored = kill(url, seed)
        assert sorted(stored) == sorted(names[:done])
        outcomes.append(done)
        service.messages = [message(*(customer_add(name, i) for i, name in enumerate(names)))]
        assert kill(url, seed)[0] == done  # the same seed, the same cut
    assert any(0 < done < 4 for done in outcomes)
    assert "receiveResponseXML" not in service.operations
    assert "closeConnection" not in service.operations


def test_a_lost_request_never_reaches_quickbooks(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada"))]
    run = connector(url, company, faults=Faults({"drop_request": 1.0})).run_once()
    assert customers(company) == []
    assert service.operations == [*BEGINNING, "sendRequestXML"]  # the service made the answer; it got lost
    assert run.calls[-1].answer_lost
    assert run.ended is Ending.REQUEST_LOST


def test_another_company_file_open_sends_that_files_hcp_and_writes_there(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.messages = [message(customer_add("Ada"))]
    run = connector(url, company, faults=Faults({"other_company_file": 1.0})).run_once()
    (sent,) = service.params_of("sendRequestXML")[:1]
    assert FILE_ID not in sent["strHCPResponse"]  # not the file the application was set up on
    assert f"<CompanyName>{OTHER_COMPANY_NAME}</CompanyName>" in sent["strHCPResponse"]
    assert sent["strCompanyFileName"] == default_company_file(OTHER_COMPANY_NAME)
    assert customers(company) == []
    assert run.faults == ["other_company_file"]


def test_a_second_pc_with_the_same_login_updates_at_the_same_time(
    service: ScriptedService, url: str, company: Company
) -> None:
    run = connector(url, company, faults=Faults({"second_pc": 1.0})).run_once()
    operations = service.operations
    assert operations.count("authenticate") == 2
    # both logged in before either asked for work: two sessions of one login at once
    assert operations.index("sendRequestXML") > max(
        i for i, op in enumerate(operations) if op == "authenticate"
    )
    assert {p["ticket"] for p in service.params_of("sendRequestXML")} == {"ticket-1", "ticket-2"}
    assert run.twin is not None
    assert {run.ended, run.twin.ended} == {Ending.LAST_ERROR}
    assert run.twin.operations == [*BEGINNING, "sendRequestXML", "getLastError", "closeConnection"]


def test_the_same_seed_fires_the_same_faults(service: ScriptedService, url: str) -> None:
    def endings(seed: int) -> list[str]:
        wc = connector(url, Company(name="Test Co"), faults=Faults({"qb_not_open": 0.5}, seed=seed))
        return [str(wc.run_once().ended) for _ in range(12)]

    first = endings(3)
    assert endings(3) == first
    assert set(first) == {"connection_error", "last_error"}


def test_a_fault_answer_ends_the_update_with_the_web_connectors_error_code(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.faults = {"serverVersion", "sendRequestXML"}
    run = connector(url, company).run_once()
    # serverVersion is optional (Intuit's first WSDL has none): its fault is noted and the update goes on
    assert service.operations == [*BEGINNING, "sendRequestXML"]
    assert run.calls[0].error.startswith("SOAP fault soap:Server")
    assert (run.ended, run.qbwc_error) == (Ending.FAULT, "QBWC1041")


def test_an_unreachable_service_ends_the_update_at_the_first_call(company: Company) -> None:
    with serving(ScriptedService()) as address:
        pass  # the port is free again
    run = connector(address, company).run_once()
    assert run.operations == ["serverVersion"]
    assert run.ended is Ending.UNREACHABLE


def test_the_interval_runner_runs_until_stopped(service: ScriptedService, url: str, company: Company) -> None:
    wc = connector(url, company)
    wc.start(every_seconds=0.05)
    deadline = time.monotonic() + 10
    while len(wc.runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    wc.stop()
    assert not wc.running
    count = len(wc.runs)
    assert count >= 3
    time.sleep(0.2)
    assert len(wc.runs) == count


def test_a_busy_answer_postpones_the_next_scheduled_update(
    service: ScriptedService, url: str, company: Company
) -> None:
    service.authenticate = ["", "busy", "300"]
    wc = connector(url, company)
    wc.start(every_seconds=0.05)
    time.sleep(0.5)
    wc.stop()
    assert len(wc.runs) == 1
    assert wc.runs[0].postpone_seconds == 300
