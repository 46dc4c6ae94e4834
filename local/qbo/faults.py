"""Fault bodies exactly as Intuit sends them (shapes from the recorded traffic in ../shared/reference/qbo)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response

from local.qbo.entities import response_time


def fault_body(  # noqa: PLR0917 - the fields of a fault, in the order Intuit lists them
    code: str, message: str, detail: str, fault_type: str, now: datetime, element: str = ""
) -> dict[str, Any]:
    error = {"Message": message, "Detail": detail, "code": code}
    if element is not None:
        error["element"] = element
    return {
        "Fault": {"Error": [error], "type": fault_type},
        "time": response_time(now),
    }


def fault(  # noqa: PLR0917 - the fields of a fault, in the order Intuit lists them
    status: int, code: str, message: str, detail: str, fault_type: str, now: datetime, element: str = ""
) -> Response:
    return json_response(status, fault_body(code, message, detail, fault_type, now, element))


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def authentication_failed(now: datetime, detail: str = "Token expired") -> Response:
    """401 with the lowercase shape and the WWW-Authenticate header Intuit sends (fixture error/401.yml)."""
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
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


def authorization_failed(now: datetime) -> Response:
    """403, fault 3100: a valid access token used on a company it was not issued for. Intuit answers in the
    same lower-case shape as its 401, with type SERVICE and no detail (the body users quote from production:
    `{"fault":{"error":[{"message":"message=ApplicationAuthorizationFailed; errorCode=003100;
    statusCode=403","detail":null,"code":"3100"}],"type":"SERVICE"}}`; code 3100 in NOTES.md §3.9)."""
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                    "detail": None,
                    "code": "3100",
                    "element": None,
                }
            ],
            "type": "SERVICE",
        },
        "time": int(now.timestamp() * 1000),
    }
    return json_response(403, body)


def throttled(now: datetime) -> Response:
    """429 as XML even when JSON was asked for (ruby fixture too_many_requests_error.xml)."""
    stamp = response_time(now)
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{stamp}">'
        '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; '
        "statusCode=429</Message><Detail>The request limit was reached. Try again later</Detail></Error>"
        "</Fault></IntuitResponse>"
    )
    return Response(xml, status=429, mimetype="application/xml")


# ------------------------------------------------------------------------------------------------------------
# Accounting API faults. Each constructor names one fault the API answers with; codes, messages and details
# follow recorded traffic (qbo_api_vcr_extracted, quickbooks_ruby_fixtures) or, where no recording exists,
# Intuit's error pages and the text users quote in SDK issues (named next to each).

VALIDATION = "ValidationFault"
INACTIVE_DETAIL = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)
BUSINESS_MESSAGE = "A business validation error has occurred while processing your request"


class QboError(Exception):
    """One Accounting API fault; `body()` is the JSON Intuit answers with, `item()` its batch-item form."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        *,
        element: str | None = "",
        status: int = 400,
        fault_type: str = VALIDATION,
        timestamped: bool = True,
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type
        self.timestamped = timestamped

    def item(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Fault": {"Error": [error], "type": self.fault_type}}

    def body(self, stamp: str) -> dict[str, Any]:
        return {**self.item(), "time": stamp} if self.timestamped else self.item()


def object_not_found(*, deleted: bool = False) -> QboError:
    """610 (batch__basic__0; Intuit's common-errors page gives the 'deleted' variant)."""
    reason = "Another user has deleted this transaction." if deleted else INACTIVE_DETAIL
    return QboError("610", "Object Not Found", f"Object Not Found : {reason}")


def stale_object(user: str = "Sandbox Admin") -> QboError:
    """5010 (batch__basic__0)."""
    return QboError(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {user} were working on this at the same time. "
        f"{user} finished before you did, so your work was not saved.",
    )


def duplicate_name(existing_id: str) -> QboError:
    """6240 (error__validation__0; recent responses end with the clashing record's Id)."""
    detail = f"The name supplied already exists. : Id={existing_id}"
    return QboError("6240", "Duplicate Name Exists Error", detail, element=None)


def required_param(element: str) -> QboError:
    """2020 (Intuit's common-errors page; detail as quoted in routablehq/python-quickbooks#257)."""
    return QboError(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element=element,
    )


def length_exceeded(element: str, maximum: int, supplied: int) -> QboError:
    """2050 (ruby fault.xml; current wording as returned by the sandbox for DocNumber)."""
    return QboError(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} supported. "
        f"Supplied length:{supplied}",
        element=element,
    )


def illegal_number(element: str, value: object) -> QboError:
    """2080 (ruby fault.xml: a number in the wrong format)."""
    return QboError(
        "2080",
        "Illegal number format",
        f"{element} should be a number with at most 15 digits and 2 decimal places. Supplied value:{value}",
        element=element,
    )


def invalid_name(element: str) -> QboError:
    """2180: a name with a colon or on several lines."""
    return QboError(
        "2180",
        "Invalid Enumeration",
        "Names must have at least one character, must be on one line, and cannot include colons or tabbing.",
        element=element,
    )


def invalid_enumeration(element: str, value: object) -> QboError:
    """2170 (Intuit's 'top errors' blog post: 'Invalid Enumeration : HAS_BEEN_BILLED')."""
    return QboError("2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", element=element)


def invalid_reference(detail: str, element: str) -> QboError:
    """2500 (details as quoted from live responses in SDK issues, e.g. QuickBooks-V3-PHP-SDK#102)."""
    return QboError("2500", "Invalid Reference Id", f"Invalid Reference Id : {detail}", element=element)


def invalid_id(value: str) -> QboError:
    """2030 (error__500__1: no `time` in that body)."""
    detail = f"Id should be a valid number. Supplied value:{value}"
    return QboError("2030", "Invalid ID", detail, element="Id", timestamped=False)


def unsupported_operation(detail: str) -> QboError:
    """500 with HTTP 400 (error__500__0)."""
    return QboError("500", "Unsupported Operation", detail, element=None)


def unknown_resource(relative: str, full: str) -> QboError:
    return unsupported_operation(
        f"Operation Could not find resource for relative : {relative} of full path: {full} is not supported."
    )


def unrecognized_property(name: str, class_name: str, known: list[str]) -> QboError:
    """2010 (error__400_json__0)."""
    shown = ", ".join(f'"{prop}"' for prop in known[:60])
    more = " [truncated]" if len(known) > 60 else ""
    return QboError(
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{class_name}), not '
        f"marked as ignorable ({len(known)} known properties: {shown}{more}])\n"
        " specified is unsupported or invalid",
        element=None,
    )


def unreadable_body(problem: str) -> QboError:
    """2010 for a body that is not a JSON object of the entity."""
    return QboError(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{problem} specified is unsupported or invalid",
        element=None,
    )


def business_validation(detail: str, element: str = "") -> QboError:
    """6000, the generic business rule fault (attachment__error_estimate__0)."""
    return QboError("6000", BUSINESS_MESSAGE, f"Business Validation Error: {detail}", element=element)


def request_id_too_long(value: str, limit: int) -> QboError:
    """6000 (QuickBooks-V3-Java-SDK#180 quotes the live detail)."""
    return business_validation(
        f"You cannot enter more than {limit} characters in the request_id field. "
        f"You tried entering {value[:10]}..., which is {len(value)} characters."
    )


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboError:
    """6140 (Intuit's common-errors page) when the company warns about duplicate numbers."""
    return QboError(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already "
        f"been used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
    )


def amount_mismatch(value: object) -> QboError:
    """6070 (Intuit's IPP error code list)."""
    return QboError(
        "6070",
        "Amount calculation incorrect in the request",
        f"Amount is not equal to Qty * UnitPrice. Supplied value:{value}",
        element="Amount",
    )


def list_has_balance(kind: str) -> QboError:
    """Making a name with an open balance inactive (message and detail quoted in ruckus/quickbooks-ruby#390;
    the code is not in any recording)."""
    return QboError(
        "6000",
        "Delete List Has Balance Error",
        f"The entity you are trying to delete has an open balance. : This {kind.lower()} cannot be deleted "
        "because it has a non-zero balance",
    )


def query_parse_error(detail: str) -> QboError:
    """4000 (a query the grammar rejects)."""
    return QboError("4000", "Error parsing query", f"QueryParserError: {detail}", element=None)


def invalid_query(detail: str) -> QboError:
    """4001 (error__400__1)."""
    return QboError("4001", "Invalid query", f"QueryValidationError: {detail}", element=None)


def batch_too_large(count: int, limit: int) -> QboError:
    """1040 (Intuit's IPP error code list: 'Batch size exceeds allowed limit')."""
    return QboError(
        "1040",
        "Batch size exceeds allowed limit",
        "The batch size for the batch request or BatchItemRequest is too big. "
        f"The batch limit size is {limit}. Supplied:{count}",
        element="BatchItemRequest",
    )
