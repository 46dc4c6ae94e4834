from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from qbsync.adapters.qbo_faults import (
    FaultAction,
    FaultDetail,
    QboFaultError,
    QboOutcomeUnknownError,
    RequestBudgetExceededError,
    classify,
    fault_of,
)
from qbsync.adapters.qbo_http import parse_fault
from qbsync.domain.connections import NotConnectedError, OAuthProviderError, QboAuthenticationError

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "qbo"


@pytest.mark.parametrize(
    ("status", "codes", "action"),
    [
        (429, ("3001",), FaultAction.RETRY_LATER),
        (400, ("5010",), FaultAction.REREAD_AND_REAPPLY),
        (400, ("6240",), FaultAction.RESOLVE_NAME_CLASH),
        (400, ("2020",), FaultAction.FIX_RECORD),
        (400, ("610",), FaultAction.FIX_RECORD),
        (400, ("2050", "2080"), FaultAction.FIX_RECORD),
        (401, ("3200",), FaultAction.RECONNECT),
        (403, ("120",), FaultAction.RECONNECT),
        (503, (), FaultAction.RETRY_LATER),
        (500, ("10000",), FaultAction.RETRY_LATER),
        (500, ("500",), FaultAction.FIX_RECORD),  # "Unsupported Operation" is our request's fault
        (400, ("6000", "6240"), FaultAction.RESOLVE_NAME_CLASH),  # the specific code decides
    ],
)
def test_actions_come_from_codes_then_status(
    status: int, codes: tuple[str, ...], action: FaultAction
) -> None:
    assert classify(status, codes) is action


def response(status: int, body: bytes, content_type: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": content_type, "intuit_tid": "1-abc"})


def test_json_fault() -> None:
    body = (
        b'{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","Detail":"The name supplied already '
        b'exists. : null","code":"6240","element":""}],"type":"ValidationFault"},"time":"2020-09-29"}'
    )
    fault = parse_fault(response(400, body, "application/json"))
    assert (fault.codes, fault.fault_type, fault.intuit_tid) == (("6240",), "ValidationFault", "1-abc")
    assert fault.errors[0].message == "Duplicate Name Exists Error"


def test_lower_case_401_fault() -> None:
    body = (
        b'{"warnings":null,"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; '
        b'statusCode=401","detail":"Token expired: AB0","code":"3200","element":null}],'
        b'"type":"AUTHENTICATION"}}'
    )
    fault = parse_fault(response(401, body, "application/json"))
    assert fault.codes == ("3200",)
    assert fault.action is FaultAction.RECONNECT


@pytest.mark.parametrize(
    ("name", "status", "codes"),
    [
        ("too_many_requests_error.xml", 429, ("3001",)),
        ("throttle_exceeded_error.xml", 429, ("3001",)),
        ("customer_duplicate_error.xml", 400, ("6240",)),
        ("fault.xml", 400, ("2050", "2080")),
    ],
)
def test_recorded_xml_faults(name: str, status: int, codes: tuple[str, ...]) -> None:
    path = REFERENCE / "quickbooks_ruby_fixtures" / name
    if not path.exists():
        pytest.skip(f"reference material not present at {path}")
    fault = parse_fault(response(status, path.read_bytes(), "application/xml"))
    assert fault.codes == codes


def test_xml_with_entities_is_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "EXPANDED">]><IntuitResponse><Fault type="SERVICE">'
        b'<Error code="3001"><Message>&e;</Message></Error></Fault></IntuitResponse>'
    )
    fault = parse_fault(response(429, body, "application/xml"))
    assert fault.codes == ("3001",)
    assert "EXPANDED" not in fault.errors[0].message


def test_an_empty_gateway_timeout_means_the_outcome_is_unknown() -> None:
    with pytest.raises(QboOutcomeUnknownError):
        parse_fault(response(504, b"", "text/plain"))


def test_garbage_is_a_fault_without_codes() -> None:
    fault = parse_fault(response(500, b"not json", "text/plain"))
    assert (fault.status, fault.codes, fault.action) == (500, (), FaultAction.RETRY_LATER)


# Every kind of trouble a call to QuickBooks Online raises, and the Fault the engine gets instead.
TROUBLE: dict[str, tuple[Exception, FaultAction, timedelta | None]] = {
    "server error 503": (QboFaultError(503), FaultAction.RETRY_LATER, timedelta(seconds=20)),
    "bad gateway 502": (QboFaultError(502), FaultAction.RETRY_LATER, timedelta(seconds=20)),
    "throttled 429": (
        QboFaultError(429, (FaultDetail("3001", "ThrottleExceeded"),)),
        FaultAction.RETRY_LATER,
        timedelta(seconds=60),
    ),
    "no answer": (QboOutcomeUnknownError("ReadTimeout"), FaultAction.OUTCOME_UNKNOWN, timedelta(seconds=30)),
    "request budget spent": (
        RequestBudgetExceededError(7.5),
        FaultAction.RETRY_LATER,
        timedelta(seconds=7.5),
    ),
    "token refresh failed": (
        OAuthProviderError("Intuit answered 503"),
        FaultAction.RETRY_LATER,
        timedelta(seconds=30),
    ),
    "refresh still running": (TimeoutError("token refresh"), FaultAction.RETRY_LATER, timedelta(seconds=30)),
    "not connected": (NotConnectedError("no connection"), FaultAction.RECONNECT, None),
    "unauthorized after refresh": (QboAuthenticationError("401"), FaultAction.RECONNECT, None),
    "forbidden 403": (
        QboFaultError(403, (FaultDetail("3100", "ApplicationAuthorizationFailed"),)),
        FaultAction.RECONNECT,
        None,
    ),
    "refused 400": (
        QboFaultError(400, (FaultDetail("4000", "Error parsing query", "", "Line"),)),
        FaultAction.FIX_RECORD,
        None,
    ),
}


@pytest.mark.parametrize("kind", list(TROUBLE))
def test_every_trouble_of_a_call_becomes_a_fault_with_its_action_and_delay(kind: str) -> None:
    error, action, delay = TROUBLE[kind]
    fault = fault_of(error)
    assert fault is not None
    assert (fault.action, fault.retry_after) == (action, delay)
    assert fault.message
    if action is FaultAction.FIX_RECORD:
        assert (fault.code, fault.field, fault.actions) == ("4000", "Line", ("edit",))
        assert fault.message == "QuickBooks refused it: Error parsing query"


def test_anything_else_is_not_a_fault_it_is_a_bug() -> None:
    assert fault_of(KeyError("x")) is None


def test_a_deleted_or_inactive_object_offers_to_reactivate_it() -> None:
    fault = fault_of(QboFaultError(400, (FaultDetail("610", "Object Not Found", "made inactive"),)))
    assert fault is not None
    assert (fault.code, fault.action, fault.actions) == (
        "610",
        FaultAction.FIX_RECORD,
        ("edit", "reactivate_in_quickbooks"),
    )
