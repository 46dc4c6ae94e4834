"""Fault bodies exactly as Intuit sends them (shapes from the recorded traffic in ../shared/reference/qbo)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response


def fault_body(code: str, message: str, detail: str, fault_type: str, now: datetime, element: str = "") -> dict[str, Any]:
    error = {"Message": message, "Detail": detail, "code": code}
    if element is not None:
        error["element"] = element
    return {"Fault": {"Error": [error], "type": fault_type}, "time": now.astimezone().isoformat(timespec="milliseconds")}


def fault(status: int, code: str, message: str, detail: str, fault_type: str, now: datetime,
          element: str = "") -> Response:
    return json_response(status, fault_body(code, message, detail, fault_type, now, element))


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def authentication_failed(now: datetime, detail: str = "Token expired") -> Response:
    """401 with the lowercase shape and the WWW-Authenticate header Intuit sends (fixture error/401.yml)."""
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                             "detail": detail, "code": "3200", "element": None}], "type": "AUTHENTICATION"},
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(now.timestamp() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    return json_response(401, body, {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})


def throttled(now: datetime) -> Response:
    """429 as XML even when JSON was asked for (fixture quickbooks_ruby_fixtures/too_many_requests_error.xml)."""
    stamp = now.astimezone().isoformat(timespec="milliseconds")
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{stamp}">'
        '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; '
        "statusCode=429</Message><Detail>The request limit was reached. Try again later</Detail></Error>"
        "</Fault></IntuitResponse>"
    )
    return Response(xml, status=429, mimetype="application/xml")
