"""The Desktop stand-ins in the local stack: the simulated Web Connector, with the simulated company behind
it, updating through the stack's /qbwc (API Gateway emulation, QbwcFunction, moto), and a zeep client built
from Intuit's WSDL doing the same with the company's HCP answer.

A tenant with nothing to send gets an update that reads the company's lists into the mirror and the payments
entered in QuickBooks, then ends; records pushed through the API go to the company in the next update.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local import stack as local_stack
from local.qbd.webconnector import (
    CONTENT_TYPE,
    USER_AGENT,
    Ending,
    Faults,
    Qwc,
    SimulatedWebConnector,
    default_company_file,
)
from qbsync.domain.mirror import ListType
from tests.qbxml_reference import WSDL

BINDING = "{http://developer.intuit.com/}TroubleshootWebServiceFSSoap"
# An update with nothing to send: it reads the company's lists (changes only, after the first), then the
# payments entered in QuickBooks (a message each), then ends.
ORDER = [
    "serverVersion",
    "clientVersion",
    "authenticate",
    "sendRequestXML",
    "receiveResponseXML",
    "sendRequestXML",
    "receiveResponseXML",
    "closeConnection",
]


@pytest.fixture(scope="module")
def demo(running: local_stack.RunningStack) -> local_stack.DesktopDemo:
    return local_stack.start_desktop_demo(running, run_on_schedule=False)


@pytest.fixture
def connector(running: local_stack.RunningStack, demo: local_stack.DesktopDemo) -> SimulatedWebConnector:
    return running.qbd.desktop.connectors[demo.connector_id]


def another(
    connector: SimulatedWebConnector, password: str, client: httpx.Client | None = None
) -> SimulatedWebConnector:
    """Another installation of the same .qwc (on the same company), for tests that change what it sends."""
    return SimulatedWebConnector(
        connector.qwc, password, connector.company, noop_pause_seconds=0, client=client
    )


def test_the_demo_tenant_and_its_company_are_there(running: local_stack.RunningStack, demo: Any) -> None:
    tenant = httpx.get(
        f"{running.api_url}/v1/tenants/{demo.tenant_id}",
        headers={"Authorization": f"Bearer {running.api_key}"},
    )
    assert tenant.status_code == 200
    assert tenant.json()["edition"] == "qbd"
    companies = httpx.get(f"{running.qbd.url}/_qbd/companies").json()["companies"]
    assert companies == [{"id": "desktop-demo-co", "name": "Desktop Demo Co"}]


def test_a_whole_update_runs_in_the_captured_order(connector: SimulatedWebConnector) -> None:
    run = connector.run_once()
    assert run.operations == ORDER
    assert run.ended is Ending.DONE
    assert run.message == "qbsync: 0 sent, 0 synced, 0 failed"  # shown in the Web Connector's status column
    assert run.result_of("receiveResponseXML") == 100
    ticket, company_file = run.result_of("authenticate")  # type: ignore[misc]
    assert ticket
    assert company_file == ""  # the company file open in QuickBooks
    first_send = run.calls[3].params
    assert "<HostQueryRs " in first_send["strHCPResponse"]
    assert connector.qwc.file_id in first_send["strHCPResponse"]  # written into the company on first connect
    assert first_send["strCompanyFileName"] == default_company_file("Desktop Demo Co")
    assert (first_send["qbXMLCountry"], first_send["qbXMLMajorVers"], first_send["qbXMLMinorVers"]) == (
        "US", "13", "0",
    )  # fmt: skip


def test_the_demo_tenants_updates_read_its_companys_lists_into_the_mirror(
    connector: SimulatedWebConnector, demo: local_stack.DesktopDemo
) -> None:
    from qbsync.composition import container

    connector.company.add_entry("Customer", "Walk-in Customer", Email="walk-in@demo.test")
    assert connector.run_once().ended is Ending.DONE
    mirror = container().mirror
    customers = {e.name: e for e in mirror.entries(demo.tenant_id, ListType.CUSTOMER)}
    assert customers["Walk-in Customer"].email == "walk-in@demo.test"
    accounts = {e.name: e.kind for e in mirror.entries(demo.tenant_id, ListType.ACCOUNT)}
    assert accounts["Sales"] == "income"
    assert "Net 30" in {e.name for e in mirror.entries(demo.tenant_id, ListType.TERM)}
    assert all(mark.loaded for mark in mirror.marks(demo.tenant_id).values())


def test_on_the_wire_every_call_carries_the_captured_headers(
    connector: SimulatedWebConnector, demo: local_stack.DesktopDemo
) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(trust_env=False, timeout=30, event_hooks={"request": [seen.append]}) as client:
        run = another(connector, demo.password, client).run_once()
    assert len(seen) == len(run.calls) == len(ORDER)
    for request, operation in zip(seen, ORDER, strict=True):
        assert request.headers["soapaction"] == f'"http://developer.intuit.com/{operation}"'
        assert request.headers["content-type"] == CONTENT_TYPE
        assert request.headers["user-agent"] == USER_AGENT
        assert f"<soap:Body><{operation} ".encode() in request.content


def test_a_wrong_password_gets_nvu_and_the_update_stops(connector: SimulatedWebConnector) -> None:
    run = another(connector, "not-the-password").run_once()
    assert run.operations == ["serverVersion", "clientVersion", "authenticate", "closeConnection"]
    assert run.result_of("authenticate") == ["", "nvu"]
    assert run.ended is Ending.INVALID_USER


def test_quickbooks_not_open_goes_to_connection_error_and_the_service_says_done(
    connector: SimulatedWebConnector, demo: local_stack.DesktopDemo
) -> None:
    wc = another(connector, demo.password)
    wc.faults = Faults({"qb_not_open": 1.0})
    run = wc.run_once()
    assert run.operations == ["serverVersion", "clientVersion", "authenticate", "connectionError"]
    assert run.result_of("connectionError") == "done"
    assert run.ended is Ending.CONNECTION_ERROR


def test_the_interval_runner_updates_against_the_stack_until_stopped(
    connector: SimulatedWebConnector, demo: local_stack.DesktopDemo
) -> None:
    wc = another(connector, demo.password)
    wc.start(every_seconds=0.1)
    deadline = time.monotonic() + 30
    while len(wc.runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    wc.stop()
    assert len(wc.runs) >= 2
    assert all(run.operations == ORDER for run in wc.runs)
    count = len(wc.runs)
    time.sleep(0.3)
    assert len(wc.runs) == count


def test_the_controls_run_the_demo_connector_over_http(
    running: local_stack.RunningStack, demo: local_stack.DesktopDemo
) -> None:
    run = httpx.post(f"{running.qbd.url}/_qbd/connectors/{demo.connector_id}/run", timeout=60)
    assert run.status_code == 200
    assert run.json()["operations"] == ORDER
    assert demo.password not in run.text


def test_a_login_issued_through_the_api_updates_and_a_reissue_retires_its_password(
    running: local_stack.RunningStack, connector: SimulatedWebConnector
) -> None:
    api = httpx.Client(
        base_url=running.api_url, headers={"Authorization": f"Bearer {running.api_key}"}, trust_env=False
    )
    created = api.post("/v1/tenants", json={"id": "e2e-qbd", "name": "E2E Desktop", "edition": "qbd"})
    assert created.status_code == 201
    first = api.post("/v1/tenants/e2e-qbd/web-connector")
    assert first.status_code == 201
    qwc = Qwc.parse(first.json()["qwc"])
    assert qwc.app_url == f"{running.api_url}/qbwc"
    wc = SimulatedWebConnector(qwc, first.json()["password"], connector.company, noop_pause_seconds=0)
    assert wc.run_once().operations == ORDER
    assert api.get("/v1/tenants/e2e-qbd/web-connector/qwc").text == first.json()["qwc"]

    second = api.post("/v1/tenants/e2e-qbd/web-connector").json()
    stale = wc.run_once()
    assert stale.result_of("authenticate") == ["", "nvu"]
    assert stale.ended is Ending.INVALID_USER
    renewed = SimulatedWebConnector(
        Qwc.parse(second["qwc"]), second["password"], connector.company, noop_pause_seconds=0
    )
    assert renewed.run_once().operations == ORDER


@pytest.mark.skipif(not WSDL.is_file(), reason=f"the Web Connector WSDL is not checked out at {WSDL}")
def test_a_zeep_client_from_the_wsdl_completes_a_session_with_the_companys_hcp_answer(
    running: local_stack.RunningStack, demo: local_stack.DesktopDemo, connector: SimulatedWebConnector
) -> None:
    import requests
    import zeep
    from zeep.transports import Transport

    session = requests.Session()
    session.trust_env = False
    client = zeep.Client(str(WSDL), transport=Transport(session=session, timeout=30, operation_timeout=30))
    service: Any = client.create_service(BINDING, f"{running.api_url}/qbwc")
    company = connector.company.open_session()
    try:
        hcp = company.hcp_response()
    finally:
        company.close()
    assert service.serverVersion()
    assert service.clientVersion("2.0.0.116") in ("", None)
    ticket, company_file = service.authenticate(demo.user_name, demo.password)
    assert ticket
    assert company_file in ("", None)
    company_file = default_company_file("Desktop Demo Co")
    lists = service.sendRequestXML(ticket, hcp, company_file, "US", 13, 0)
    assert "<CustomerQueryRq " in lists  # nothing to send: the company's lists are read, then its payments
    assert 0 < service.receiveResponseXML(ticket, answered(connector, lists), "", "") < 100
    sent = service.sendRequestXML(ticket, hcp, company_file, "US", 13, 0)
    assert "<ReceivePaymentQueryRq" in sent
    assert service.receiveResponseXML(ticket, answered(connector, sent), "", "") == 100
    assert service.closeConnection(ticket) == "qbsync: 0 sent, 0 synced, 0 failed"


def answered(connector: SimulatedWebConnector, message: str) -> str:
    """The company's answer to a message, as QuickBooks gives it to the Web Connector."""
    company = connector.company.open_session()
    try:
        return company.process(message)
    finally:
        company.close()


@pytest.fixture(scope="module", autouse=True)
def _stop_connectors(running: local_stack.RunningStack) -> Iterator[None]:
    yield
    running.qbd.desktop.stop()


def test_records_pushed_through_the_api_reach_the_company_at_the_next_update(
    running: local_stack.RunningStack, connector: SimulatedWebConnector
) -> None:
    api = httpx.Client(
        base_url=running.api_url, headers={"Authorization": f"Bearer {running.api_key}"}, trust_env=False
    )
    assert (
        api.post("/v1/tenants", json={"id": "e2e-qbd-push", "name": "E2E", "edition": "qbd"}).status_code
        == 201
    )
    issued = api.post("/v1/tenants/e2e-qbd-push/web-connector").json()
    settings = api.get("/v1/tenants/e2e-qbd-push/settings")
    changed = api.put(
        "/v1/tenants/e2e-qbd-push/settings",
        headers={"If-Match": f'"{settings.json()["version"]}"'},
        json={**settings.json()["settings"], "default_income_account": "Sales"},
    )
    assert changed.status_code == 200, changed.text
    base = "/v1/tenants/e2e-qbd-push/records"
    assert api.put(f"{base}/customer/c-1", json={"display_name": "Grace Hopper"}).status_code in (200, 201)
    assert api.put(f"{base}/item/i-1", json={"kind": "service", "name": "Audit"}).status_code in (200, 201)
    invoice = {"customer_id": "c-1", "doc_number": "E2E-1", "lines": [{"item_id": "i-1", "amount": "75"}]}
    assert api.put(f"{base}/invoice/inv-1", json=invoice).status_code in (200, 201)
    assert api.get(f"{base}/invoice/inv-1").json()["waiting_for"] == ["web_connector"]

    wc = SimulatedWebConnector(
        Qwc.parse(issued["qwc"]), issued["password"], connector.company, noop_pause_seconds=0
    )
    run = wc.run_once()
    assert run.ended is Ending.DONE, run.message
    assert run.message == "qbsync: 3 sent, 3 synced, 0 failed"
    synced = api.get(f"{base}/invoice/inv-1").json()
    assert synced["state"] == "synced"
    assert connector.company.objects[synced["quickbooks_id"]].fields["RefNumber"] == ["E2E-1"]
    invoices = len(connector.company.by_kind["Invoice"])
    again = wc.run_once()
    assert again.result_of("closeConnection") in (None, "qbsync: 0 sent, 0 synced, 0 failed")
    assert len(connector.company.by_kind["Invoice"]) == invoices
