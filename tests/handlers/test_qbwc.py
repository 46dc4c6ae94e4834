"""QbwcFunction as API Gateway invokes it: events from events/, AWS as moto provisioned from template.yaml."""

from __future__ import annotations

import base64
import copy
import json
import logging
import time
from typing import Any
from xml.sax.saxutils import escape

import boto3
import httpx
import pytest
from lxml import etree

from local.aws import LocalStack
from local.lambdas import LocalFunction
from qbsync import __version__
from qbsync.adapters.mirror_dynamodb import DynamoMirrorStore
from qbsync.domain.mirror import ListType
from qbsync.domain.qbwc import SESSION_TTL, hash_password
from qbsync.qbwc.service import NOTHING_TO_DO, UNKNOWN_SESSION
from tests.adapters.test_qbwc_soap import REFUSED, envelope
from tests.conftest import load_event
from tests.qbwc_hcp import PRO_2006_VERSIONS, hcp_response

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
TNS = "{http://developer.intuit.com/}"
SAMPLE_TICKET = "Vt3nQ0mJ7r0p6ZrXc1cQe5B9lq3pYt2dF8sWk4aHn0U"  # the ticket in the sample events
# The login in events/qbwc_authenticate.json.
USERNAME, PASSWORD = "qbwc-acme-42", "example-password-not-real"


@pytest.fixture
def qbwc(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["QbwcFunction"]


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


def invoke(fn: LocalFunction, event: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    result = fn.invoke(event)
    assert not result.get("isBase64Encoded")
    headers = {k.lower(): v for k, v in result.get("headers", {}).items()}
    return result["statusCode"], headers, result.get("body") or ""


def post(
    fn: LocalFunction, name: str, ticket: str | None = None, body: str | None = None
) -> tuple[int, dict[str, str], str]:
    event = copy.deepcopy(load_event(name))
    if ticket is not None:
        event["body"] = event["body"].replace(SAMPLE_TICKET, ticket)
    if body is not None:
        event["body"] = body
    return invoke(fn, event)


def result_of(body: str, operation: str) -> Any:
    """The `<operationResult>` of a SOAP response: its text, or the members of an ArrayOfString."""
    root = etree.fromstring(body.encode())
    result = root.find(f"{SOAP}Body/{TNS}{operation}Response/{TNS}{operation}Result")
    assert result is not None, body
    if len(result):
        return [s.text or "" for s in result.findall(f"{TNS}string")]
    return result.text or ""


def fault_of(body: str) -> tuple[str, str]:
    fault = etree.fromstring(body.encode()).find(f"{SOAP}Body/{SOAP}Fault")
    assert fault is not None, body
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


def call(fn: LocalFunction, name: str, operation: str, ticket: str | None = None) -> Any:
    status, headers, body = post(fn, name, ticket)
    assert status == 200, body
    assert headers["content-type"] == "text/xml; charset=utf-8"
    return result_of(body, operation)


def register(
    table: str, username: str = USERNAME, password: str = PASSWORD, tenant_id: str = "acme-42"
) -> None:
    boto3.client("dynamodb").put_item(TableName=table, Item={
        "pk": {"S": f"QBWC#USER#{username}"}, "sk": {"S": "QBWC#USER"},
        "tenant_id": {"S": tenant_id}, "password_hash": {"S": hash_password(password)},
    })  # fmt: skip


def stored_sessions(table: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i["pk"]["S"].startswith("QBWC#SESSION#")]


# ---------------------------------------------------------------- GET: the support page


def test_the_support_page_says_what_this_is_and_where_the_qwc_file_comes_from(qbwc: LocalFunction) -> None:
    status, headers, body = invoke(qbwc, load_event("qbwc_support_page.json"))
    assert status == 200  # the Web Connector refuses an AppSupport URL that does not answer 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert "QuickBooks Web Connector endpoint" in body
    assert "<code>.qwc</code>) from qbsync" in body  # APP_NAME's default in template.yaml
    assert "<script" not in body


# ---------------------------------------------------------------- POST: the callbacks


def test_server_version(qbwc: LocalFunction) -> None:
    assert call(qbwc, "qbwc_server_version.json", "serverVersion") == f"qbsync {__version__}"


def test_client_version_accepts_the_web_connector(qbwc: LocalFunction) -> None:
    assert call(qbwc, "qbwc_client_version.json", "clientVersion") == ""


def test_a_user_without_credentials_is_refused_with_nvu(qbwc: LocalFunction, table: str) -> None:
    assert call(qbwc, "qbwc_authenticate.json", "authenticate") == ["", "nvu"]
    assert stored_sessions(table) == []


def test_a_wrong_password_is_refused_with_nvu(qbwc: LocalFunction, table: str) -> None:
    register(table, password="the-real-password")
    assert call(qbwc, "qbwc_authenticate.json", "authenticate") == ["", "nvu"]
    assert stored_sessions(table) == []


def test_a_whole_update_with_a_valid_login(qbwc: LocalFunction, table: str) -> None:
    register(table)
    ticket, company_file = call(qbwc, "qbwc_authenticate.json", "authenticate")
    assert len(ticket) >= 40
    assert company_file == ""  # the company file open in QuickBooks
    (session,) = stored_sessions(table)
    assert session["tenant_id"] == {"S": "acme-42"}
    assert ticket not in json.dumps(session)
    assert abs(int(session["expires_at"]["N"]) - (time.time() + SESSION_TTL.total_seconds())) < 60

    # nothing to send: the company's lists are read into the mirror, then the payments entered in QuickBooks
    lists = call(qbwc, "qbwc_send_request_xml.json", "sendRequestXML", ticket)
    assert "<CustomerQueryRq " in lists
    assert "<ListDeletedQueryRq " in lists
    assert "<ReceivePaymentQueryRq" not in lists
    done = int(call(qbwc, "qbwc_receive_response_xml.json", "receiveResponseXML", ticket))  # a customer page
    assert 0 < done < 100
    mirror = DynamoMirrorStore(boto3.client("dynamodb"), table)
    assert [e.name for e in mirror.entries("acme-42", ListType.CUSTOMER)] == ["Jane Doe & Sons"]
    sent = call(qbwc, "qbwc_send_request_xml.json", "sendRequestXML", ticket)
    assert "<ReceivePaymentQueryRq" in sent
    assert call(qbwc, "qbwc_receive_response_xml.json", "receiveResponseXML", ticket) == "100"
    assert call(qbwc, "qbwc_get_last_error.json", "getLastError", ticket) == NOTHING_TO_DO
    closed = call(qbwc, "qbwc_close_connection.json", "closeConnection", ticket)
    assert closed == "qbsync: 0 sent, 0 synced, 0 failed"
    assert stored_sessions(table) == []
    assert call(qbwc, "qbwc_receive_response_xml.json", "receiveResponseXML", ticket) == "-1"
    assert call(qbwc, "qbwc_get_last_error.json", "getLastError", ticket) == UNKNOWN_SESSION


def with_hcp(body: str, hcp: str) -> str:
    """The sample sendRequestXML body with another strHCPResponse, escaped as the Web Connector sends it."""
    start, end = body.index("<strHCPResponse>") + len("<strHCPResponse>"), body.index("</strHCPResponse>")
    return body[:start] + escape(hcp) + body[end:]


def test_a_quickbooks_older_than_2014_gets_nothing_and_get_last_error_says_why(
    qbwc: LocalFunction, table: str
) -> None:
    register(table)
    ticket, _ = call(qbwc, "qbwc_authenticate.json", "authenticate")
    old = hcp_response(product="QuickBooks Pro 2006", major="16", versions=PRO_2006_VERSIONS)
    body = with_hcp(load_event("qbwc_send_request_xml.json")["body"].replace(SAMPLE_TICKET, ticket), old)
    status, _, answer = post(qbwc, "qbwc_send_request_xml.json", body=body)
    assert status == 200
    assert result_of(answer, "sendRequestXML") == ""
    refusal = call(qbwc, "qbwc_get_last_error.json", "getLastError", ticket)
    assert refusal.startswith("QuickBooks Desktop 2014 or newer is needed")
    assert "QuickBooks Pro 2006, which reads qbXML up to 5.0" in refusal
    (session,) = stored_sessions(table)
    assert session["last_error"] == {"S": refusal}
    closed = call(qbwc, "qbwc_close_connection.json", "closeConnection", ticket)
    assert closed == "qbsync: 0 sent, 0 synced, 0 failed"


def test_calls_with_an_unknown_ticket_end_the_update_cleanly(qbwc: LocalFunction) -> None:
    assert call(qbwc, "qbwc_send_request_xml.json", "sendRequestXML") == ""
    # A negative answer is an error: the Web Connector then shows what getLastError says.
    assert call(qbwc, "qbwc_receive_response_xml.json", "receiveResponseXML") == "-1"
    assert call(qbwc, "qbwc_get_last_error.json", "getLastError") == UNKNOWN_SESSION
    assert call(qbwc, "qbwc_connection_error.json", "connectionError") == "done"
    assert call(qbwc, "qbwc_close_connection.json", "closeConnection") == "OK"


def test_a_base64_encoded_body_is_read_the_same(qbwc: LocalFunction) -> None:
    event = copy.deepcopy(load_event("qbwc_client_version.json"))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    status, _, body = invoke(qbwc, event)
    assert status == 200
    assert result_of(body, "clientVersion") == ""


def test_the_password_is_never_logged(
    qbwc: LocalFunction, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    register(table)
    call(qbwc, "qbwc_authenticate.json", "authenticate")
    register(table, password="another-password")
    call(qbwc, "qbwc_authenticate.json", "authenticate")
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "Web Connector session opened" in logged  # the records were captured, extras included
    assert "login refused: wrong password" in logged
    assert PASSWORD not in logged


# ---------------------------------------------------------------- faults

FAULTS = {
    "not XML": "this is not XML",
    "truncated": load_event("qbwc_server_version.json")["body"][:-20],
    "entity bomb": (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&b;</strVersion></clientVersion>'
        "</soap:Body></soap:Envelope>"
    ),
    "unknown operation": load_event("qbwc_server_version.json")["body"].replace(
        "serverVersion", "getServerVersion"
    ),
    "no body": "",
}


@pytest.mark.parametrize("body", FAULTS.values(), ids=FAULTS.keys())
def test_bad_requests_get_a_soap_client_fault(qbwc: LocalFunction, body: str) -> None:
    status, headers, response = post(qbwc, "qbwc_server_version.json", body=body)
    assert status == 500
    assert headers["content-type"] == "text/xml; charset=utf-8"
    code, message = fault_of(response)
    assert code == "soap:Client"
    assert message
    assert "Traceback" not in response


def test_a_body_that_is_not_base64_is_a_client_fault(qbwc: LocalFunction) -> None:
    event = copy.deepcopy(load_event("qbwc_server_version.json"))
    event["body"], event["isBase64Encoded"] = "%%% not base64 %%%", True
    status, _, body = invoke(qbwc, event)
    assert status == 500
    assert fault_of(body) == ("soap:Client", "The request body is not valid base64.")


def test_a_storage_failure_is_a_server_fault_without_internals(qbwc: LocalFunction, table: str) -> None:
    boto3.client("dynamodb").delete_table(TableName=table)
    status, headers, body = post(qbwc, "qbwc_authenticate.json")
    assert status == 500
    assert headers["content-type"] == "text/xml; charset=utf-8"
    code, message = fault_of(body)
    assert code == "soap:Server"
    assert "the error was logged" in message
    assert "ResourceNotFound" not in body
    assert "Traceback" not in body


# ---------------------------------------------------------------- hostile bodies through the local gateway

SERVER_VERSION = '<serverVersion xmlns="http://developer.intuit.com/"/>'
UTF16 = '<?xml version="1.0" encoding="utf-16"?>' + envelope(SERVER_VERSION).decode()
DEEP = "<a>" * 5000 + "x" + "</a>" * 5000
# Bodies a careless or hostile caller posts, beyond the parser's set (REFUSED), with the content type sent.
HOSTILE: dict[str, tuple[bytes, str]] = {
    **{f"refused: {name}": (body, "text/xml; charset=utf-8") for name, body in REFUSED.items()},
    "UTF-16 envelope with BOM": (UTF16.encode("utf-16"), "text/xml; charset=utf-16"),
    "UTF-16 envelope without BOM": (UTF16.encode("utf-16-le"), "text/xml"),
    "UTF-16 bytes declared UTF-8": (envelope(SERVER_VERSION).decode().encode("utf-16"), "text/xml"),
    "Latin-1 envelope": (
        envelope(
            '<authenticate xmlns="http://developer.intuit.com/"><strUserName>caf\xe9</strUserName>'
            "<strPassword>x</strPassword></authenticate>",
            prolog='<?xml version="1.0" encoding="iso-8859-1"?>',
        )
        .decode()
        .encode("latin-1"),
        "text/xml",
    ),
    "Latin-1 bytes declared UTF-8": ("<soap:Envelope>caf\xe9</soap:Envelope>".encode("latin-1"), "text/xml"),
    "invalid UTF-8 bytes": (b"\xff\xfe\xfd" + envelope(SERVER_VERSION), "text/xml"),
    "deep nesting": (
        envelope(
            f'<clientVersion xmlns="http://developer.intuit.com/"><strVersion>{DEEP}</strVersion>'
            "</clientVersion>"
        ),
        "text/xml",
    ),
    "oversized string": (
        envelope(
            '<authenticate xmlns="http://developer.intuit.com/">'
            f"<strUserName>{'u' * 3_000_000}</strUserName><strPassword>p</strPassword></authenticate>"
        ),
        "text/xml",
    ),
    "many elements": (envelope("<x/>" * 200_000), "text/xml"),
    "wrong envelope namespace": (
        b'<soap:Envelope xmlns:soap="urn:not-soap"><soap:Body>' + SERVER_VERSION.encode() + b"</soap:Body>"
        b"</soap:Envelope>",
        "text/xml",
    ),
    "SOAP 1.2 envelope": (
        b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
        + SERVER_VERSION.encode()
        + b"</env:Body></env:Envelope>",
        "application/soap+xml",
    ),
    "unknown operation": (envelope('<dropTables xmlns="http://developer.intuit.com/"/>'), "text/xml"),
    "missing parameters": (envelope('<authenticate xmlns="http://developer.intuit.com/"/>'), "text/xml"),
    "missing ticket": (envelope('<sendRequestXML xmlns="http://developer.intuit.com/"/>'), "text/xml"),
    "JSON content type": (envelope(SERVER_VERSION), "application/json"),
    "binary content type": (envelope(SERVER_VERSION), "application/octet-stream"),
    "form content type": (b"operation=serverVersion", "application/x-www-form-urlencoded"),
    "multipart without boundary": (envelope(SERVER_VERSION), "multipart/form-data"),
    "no content type": (envelope(SERVER_VERSION), ""),
    "empty body, no content type": (b"", ""),
    "NUL bytes": (b"\x00" * 64, "text/xml"),
}


def soap_answer_problem(answer: httpx.Response) -> str | None:
    """What is wrong with the answer to a /qbwc POST, if anything: it must be a SOAP envelope holding an
    operation's response (200) or a SOAP fault (500, as SOAP 1.1 over HTTP answers a fault)."""
    if answer.headers.get("content-type") != "text/xml; charset=utf-8":
        return f"{answer.status_code} {answer.headers.get('content-type')}: {answer.text[:200]}"
    root = etree.fromstring(answer.content)
    body = root.find(f"{SOAP}Body") if root.tag == f"{SOAP}Envelope" else None
    replies = list(body) if body is not None else []
    if len(replies) != 1:
        return f"{answer.status_code}, not one reply in a SOAP body: {answer.text[:200]}"
    if answer.status_code == 200 and replies[0].tag.startswith(TNS) and replies[0].tag.endswith("Response"):
        return None
    if answer.status_code == 500 and replies[0].tag == f"{SOAP}Fault" and "Traceback" not in answer.text:
        return None
    return f"{answer.status_code} {answer.text[:200]}"


def test_every_hostile_body_through_the_gateway_gets_a_soap_answer(http_gateway: tuple[str, str]) -> None:
    url, _ = http_gateway
    problems: dict[str, str] = {}
    for name, (body, content_type) in HOSTILE.items():
        headers = {"Content-Type": content_type} if content_type else {}
        started = time.perf_counter()
        try:
            answer = httpx.post(f"{url}/qbwc", content=body, headers=headers, timeout=30)
        except httpx.HTTPError as exc:  # a dropped connection
            problems[name] = repr(exc)
            continue
        if time.perf_counter() - started > 10:
            problems[name] = "took more than 10 s"
        elif (problem := soap_answer_problem(answer)) is not None:
            problems[name] = problem
    assert problems == {}


def test_a_utf16_envelope_through_the_gateway_is_answered_like_any_other(
    http_gateway: tuple[str, str],
) -> None:
    url, _ = http_gateway
    answer = httpx.post(
        f"{url}/qbwc", content=UTF16.encode("utf-16"), headers={"Content-Type": "text/xml; charset=utf-16"}
    )
    assert answer.status_code == 200
    assert __version__ in result_of(answer.text, "serverVersion")


def test_latin1_json_through_the_gateway_is_a_400_problem(http_gateway: tuple[str, str]) -> None:
    url, key = http_gateway
    answer = httpx.post(
        f"{url}/v1/tenants",
        content='{"id": "cafe", "name": "Caf\xe9", "edition": "qbo"}'.encode("latin-1"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "UTF-8" in answer.json()["detail"]
