"""A real SOAP client (zeep, loaded with Intuit's Web Connector WSDL) drives /qbwc over HTTP through the local
stack: API Gateway emulation, QbwcFunction in-process, moto as AWS."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from qbsync import __version__
from qbsync.domain.qbwc import file_id_of, hash_password, owner_id_of
from qbsync.qbwc.service import NOTHING_TO_DO, UNKNOWN_SESSION
from tests.qbwc_hcp import hcp_response, logged_hcp_response
from tests.qbxml_reference import requires_captures

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
WSDL = REFERENCE / "qbwc" / "wsdl" / "intuit_troubleshoot_via_flowlink" / "QBWebConnectorSvc.wsdl"
BINDING = "{http://developer.intuit.com/}TroubleshootWebServiceFSSoap"

pytestmark = pytest.mark.skipif(
    not WSDL.is_file(), reason=f"the Web Connector WSDL is not checked out at {WSDL}"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    from local import stack as local_stack
    from qbsync import composition

    saved = dict(os.environ)  # the stack points this process's AWS clients at its moto; undo that afterwards
    composition.container.cache_clear()
    running = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=False)
    try:
        yield running
    finally:
        # moto's state is process-wide: leave none of this stack's resources to later tests.
        reset = urllib.request.Request(f"{running.aws_endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        running.stop()
        os.environ.clear()
        os.environ.update(saved)
        composition.container.cache_clear()


@pytest.fixture(scope="module")
def web_connector(stack: Any) -> Any:
    """The Web Connector's side of the conversation, as Intuit's WSDL describes it."""
    import requests
    import zeep
    from zeep.transports import Transport

    session = requests.Session()
    session.trust_env = False  # straight to the local stack, whatever proxy the environment names
    client = zeep.Client(str(WSDL), transport=Transport(session=session, timeout=30, operation_timeout=30))
    return client.create_service(BINDING, f"{stack.api_url}/qbwc")


def register(stack: Any, username: str, password: str, tenant_id: str) -> None:
    boto3.client("dynamodb").put_item(TableName=str(stack.local.ref("Table")), Item={
        "pk": {"S": f"QBWC#USER#{username}"}, "sk": {"S": "QBWC#USER"},
        "tenant_id": {"S": tenant_id}, "password_hash": {"S": hash_password(password)},
    })  # fmt: skip


def test_the_support_page_answers_200_as_the_web_connector_requires(stack: Any) -> None:
    with urllib.request.urlopen(f"{stack.api_url}/qbwc", timeout=10) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert b".qwc" in response.read()


def test_the_first_calls_of_an_update(web_connector: Any) -> None:
    assert web_connector.serverVersion() == f"qbsync {__version__}"
    assert web_connector.clientVersion("2.3.0.215") in ("", None)  # zeep reads an empty result as None
    ticket, status = web_connector.authenticate("nobody", "no-password")
    assert (ticket or "", status) == ("", "nvu")
    assert web_connector.closeConnection(ticket or "") == "OK"


def test_a_whole_update_with_a_valid_login(stack: Any, web_connector: Any) -> None:
    register(stack, "qbwc-e2e", "e2e-password", "acme-42")
    ticket, company_file = web_connector.authenticate("qbwc-e2e", "e2e-password")
    assert ticket
    assert company_file in ("", None)  # "": the company file open in QuickBooks
    ours = ((owner_id_of("acme-42"), file_id_of("acme-42")),)  # written into the file when the .qwc was added
    hcp = hcp_response(file_ids=ours)
    # nothing to send: the company's lists are read, then the payments entered in QuickBooks
    lists = web_connector.sendRequestXML(ticket, hcp, "C:\\Acme.QBW", "US", 13, 0)
    assert "<CustomerQueryRq " in lists
    assert 0 < web_connector.receiveResponseXML(ticket, "<QBXML/>", "", "") < 100  # read again next time
    sent = web_connector.sendRequestXML(ticket, hcp, "C:\\Acme.QBW", "US", 13, 0)
    assert "<ReceivePaymentQueryRq" in sent
    assert web_connector.receiveResponseXML(ticket, "<QBXML/>", "", "") == 100  # an answer it cannot read
    assert web_connector.getLastError(ticket) == NOTHING_TO_DO
    assert web_connector.closeConnection(ticket) == "qbsync: 0 sent, 0 synced, 0 failed"
    assert web_connector.getLastError(ticket) == UNKNOWN_SESSION


@requires_captures
def test_the_captured_quickbooks_pro_2006_session_is_refused_through_get_last_error(
    stack: Any, web_connector: Any
) -> None:
    register(stack, "qbwc-e2e-2006", "e2e-password", "acme-44")
    ticket, _ = web_connector.authenticate("qbwc-e2e-2006", "e2e-password")
    sent = web_connector.sendRequestXML(
        ticket, logged_hcp_response(), "C:\\KPALMER\\QBW\\Test Company.QBW", "US", 5, 0
    )
    assert sent in ("", None)  # no qbXML this QuickBooks cannot read
    assert web_connector.getLastError(ticket) == (
        "QuickBooks Desktop 2014 or newer is needed (it reads qbXML 13.0); this company file is open in "
        "QuickBooks Pro 2006, which reads qbXML up to 5.0. Open it in a newer QuickBooks Desktop and run the "
        "Web Connector again."
    )
    assert web_connector.closeConnection(ticket) == "qbsync: 0 sent, 0 synced, 0 failed"


def test_a_wrong_password_is_refused(stack: Any, web_connector: Any) -> None:
    register(stack, "qbwc-e2e-2", "right-password", "acme-43")
    ticket, status = web_connector.authenticate("qbwc-e2e-2", "wrong-password")
    assert (ticket or "", status) == ("", "nvu")


def test_malformed_xml_gets_a_fault_the_client_can_read(stack: Any, web_connector: Any) -> None:
    import requests
    from lxml import etree

    http = requests.Session()
    http.trust_env = False
    response = http.post(
        f"{stack.api_url}/qbwc",
        data=b"<soap:Envelope>not closed",
        headers={
            "content-type": "text/xml; charset=utf-8",
            "soapaction": '"http://developer.intuit.com/serverVersion"',
        },
        timeout=10,
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    fault = etree.fromstring(response.content).find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body/{http://schemas.xmlsoap.org/soap/envelope/}Fault"
    )
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert "not well-formed XML" in (fault.findtext("faultstring") or "")
