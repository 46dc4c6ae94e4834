"""The simulated Web Connector on the wire, held to the captured QBWC 2.0 log (captures/quickbooks_log.txt),
the WSDL and Intuit's .qwc samples: no server needed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from lxml import etree

from local.qbd import webconnector as wc
from tests.qbxml_reference import CAPTURES, QBWC, WSDL, requires_captures

LOG = CAPTURES / "quickbooks_log.txt"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"


@dataclass(frozen=True)
class Captured:
    operation: str
    values: list[str]
    body: bytes
    headers: str


def captured_requests() -> list[Captured]:
    """Every request of the log, with the header line logged before it."""
    requests, header = [], ""
    for line in LOG.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("Incoming HTTP Headers: "):
            header = line
        elif line.startswith("Incoming SOAP Request: "):
            body = line.removeprefix("Incoming SOAP Request: ").encode("utf-8")
            call = etree.fromstring(body).find(f"{SOAP}Body")[0]
            requests.append(Captured(etree.QName(call).localname, [p.text or "" for p in call], body, header))
    return requests


def captured_answers() -> list[tuple[str, bytes]]:
    answers = []
    for line in LOG.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("Outgoing SOAP Response: "):
            body = line.removeprefix("Outgoing SOAP Response: ").strip().encode("utf-8")
            name = etree.QName(etree.fromstring(body).find(f"{SOAP}Body")[0]).localname
            answers.append((name.removesuffix("Response"), body))
    return answers


@requires_captures
def test_every_captured_request_is_rebuilt_byte_for_byte_from_its_values() -> None:
    requests = captured_requests()
    assert [r.operation for r in requests[:6]] == [
        "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "getLastError", "closeConnection",
    ]  # fmt: skip
    assert {r.operation for r in requests} == set(wc.PARAMETERS) - {"connectionError"}
    for request in requests:
        built = wc.envelope(request.operation, *request.values)
        assert built == request.body, request.operation
        # and the length the real one announced: nothing added, nothing dropped
        assert f"Content-Length: {len(built)} " in request.headers, request.operation


@requires_captures
def test_every_captured_request_has_the_same_soapaction_and_content_type() -> None:
    for request in captured_requests():
        sent = wc.headers(request.operation)
        assert f"SOAPAction: {sent['SOAPAction']} " in request.headers
        assert sent["SOAPAction"] == f'"http://developer.intuit.com/{request.operation}"'
        assert f"Content-Type: {sent['Content-Type']} " in request.headers
        assert f"User-Agent: {sent['User-Agent']} " in request.headers


@requires_captures
def test_empty_parameters_are_written_as_the_log_writes_them() -> None:
    second_send = [r for r in captured_requests() if r.operation == "sendRequestXML"][-1]
    assert b"<strHCPResponse />" in second_send.body
    built = wc.envelope("receiveResponseXML", "t", "<QBXML/>", "", "")
    assert built.endswith(b"<response>&lt;QBXML/&gt;</response><hresult /><message /></receiveResponseXML>"
                          b"</soap:Body></soap:Envelope>")  # fmt: skip
    assert wc.envelope("serverVersion").count(b'<serverVersion xmlns="http://developer.intuit.com/" />') == 1


@pytest.mark.skipif(not WSDL.is_file(), reason="the WSDL is not checked out")
def test_each_callbacks_parameters_are_the_wsdls_in_its_order() -> None:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    schema = etree.parse(str(WSDL)).find(f".//{xs}schema")
    declared = {}
    for element in schema.findall(f"{xs}element"):
        sequence = element.find(f"{xs}complexType/{xs}sequence")
        names = [] if sequence is None else [e.get("name") for e in sequence.findall(f"{xs}element")]
        declared[element.get("name")] = tuple(names)
    for operation, names in wc.PARAMETERS.items():
        assert declared[operation] == names, operation


@requires_captures
def test_the_captured_answers_are_read_as_the_web_connector_reads_them() -> None:
    read = [(op, wc.read_answer(op, 200, body)) for op, body in captured_answers()]
    assert read[:6] == [
        ("serverVersion", "PHP QuickBooks SOAP Server v1.5.0 at /~kpalmer/QuickBooks/server_api.php"),
        ("clientVersion", ""),
        ("authenticate", ["c94c84b3d59fe7a1603b765dd734e481", ""]),
        ("sendRequestXML", ""),
        ("getLastError", "No registered functions for action: ItemServiceQuery"),
        ("closeConnection", "Complete!"),
    ]
    assert ("receiveResponseXML", 0) in read
    sent = [result for op, result in read if op == "sendRequestXML" and result]
    assert sent
    assert str(sent[0]).startswith('<?xml version="1.0" encoding="utf-8"?>')


def test_a_fault_or_a_result_that_is_not_an_integer_is_an_error_for_the_web_connector() -> None:
    fault = wc.envelope("serverVersion").replace(
        b'<serverVersion xmlns="http://developer.intuit.com/" />',
        b"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>No.</faultstring></soap:Fault>",
    )
    with pytest.raises(wc.AnswerError, match=r"SOAP fault soap:Client: No\."):
        wc.read_answer("serverVersion", 500, fault)
    decimal = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<receiveResponseXMLResponse xmlns="http://developer.intuit.com/">'
        b"<receiveResponseXMLResult>50.5</receiveResponseXMLResult></receiveResponseXMLResponse>"
        b"</soap:Body></soap:Envelope>"
    )
    with pytest.raises(wc.AnswerError, match="not an integer"):
        wc.read_answer("receiveResponseXML", 200, decimal)
    with pytest.raises(wc.AnswerError, match="not well-formed"):
        wc.read_answer("getLastError", 502, b"Bad Gateway")
    with pytest.raises(wc.AnswerError, match="expected closeConnectionResponse"):
        wc.read_answer("closeConnection", 200, decimal)


def test_an_answer_with_an_entity_is_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<getLastErrorResponse xmlns="http://developer.intuit.com/"><getLastErrorResult>&e;'
        b"</getLastErrorResult></getLastErrorResponse></soap:Body></soap:Envelope>"
    )
    assert "root:" not in str(wc.read_answer("getLastError", 200, body))


@pytest.mark.skipif(not (QBWC / "qwc").is_dir(), reason="the .qwc samples are not checked out")
def test_intuits_sample_qwc_files_configure_a_connector() -> None:
    sample = wc.Qwc.parse((QBWC / "qwc" / "intuit_sdk_sample" / "HTTPWebService.qwc").read_bytes())
    assert sample.app_url == "http://localhost/WCWebService/WCWebService.asmx"
    assert sample.user_name == "username"
    assert sample.owner_id == "{87EDAAF8-637E-4203-867F-4BA79C2F8998}"
    assert sample.file_id == "{CA1C3EB8-1B61-4747-A743-8D5B438B83AC}"
    assert sample.run_every_seconds is None
    scheduled = wc.Qwc.parse((QBWC / "qwc" / "qbws_test" / "app.qwc").read_bytes())
    assert scheduled.run_every_seconds == 120  # <RunEveryNMinutes>2</RunEveryNMinutes>
    assert wc.Qwc.parse((QBWC / "qwc" / "flowlink" / "sample.qwc").read_bytes()).app_url.startswith("https:")


def test_a_qwc_file_the_web_connector_would_refuse_is_refused() -> None:
    good = wc.qwc_text(app_url="http://127.0.0.1:3000/qbwc", user_name="u", owner_id="{o}", file_id="{f}")
    assert wc.Qwc.parse(good).run_every_seconds is None
    with pytest.raises(wc.QwcError, match="FileID"):
        wc.Qwc.parse(re.sub(r"<FileID>.*</FileID>", "", good))
    with pytest.raises(wc.QwcError, match="QBWC1010"):
        wc.Qwc.parse(good.replace("http://127.0.0.1:3000", "http://qbsync.example.com"))
    with pytest.raises(wc.QwcError, match="not well-formed"):
        wc.Qwc.parse("<QBWCXML>")
    with pytest.raises(wc.QwcError, match="RunEveryNMinutes must be above 0"):
        wc.Qwc.parse(
            good.replace(
                "</QBWCXML>", "<Scheduler><RunEveryNMinutes>0</RunEveryNMinutes></Scheduler></QBWCXML>"
            )
        )
    every_minute = wc.qwc_text(
        app_url="https://qbsync.example.com/qbwc", user_name="u", owner_id="{o}", file_id="{f}",
        run_every_minutes=1,
    )  # fmt: skip
    assert wc.Qwc.parse(every_minute).run_every_seconds == 60
