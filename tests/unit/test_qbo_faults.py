from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from qbsync.adapters.qbo_http import parse_fault
from qbsync.domain.qbo_faults import FaultAction, QboOutcomeUnknownError, classify

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
        (401, ("3200",), FaultAction.REAUTHORIZE),
        (403, ("120",), FaultAction.REAUTHORIZE),
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
    assert fault.action is FaultAction.REAUTHORIZE


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
