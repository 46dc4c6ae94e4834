"""qbXML status codes to the engine's fault actions: the table of adapters/qbxml/status.py, code by code, and
what a request was (add, mod, remove, query) where it matters (3120)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from qbsync.adapters.qbxml.read import Status, read_message
from qbsync.adapters.qbxml.status import DELETED_IN_QUICKBOOKS, Op, fault_of
from qbsync.domain.sync import FaultAction
from tests.adapters.test_qbxml_read import captured
from tests.qbxml_reference import requires_captures

A = FaultAction


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize(
    ("code", "severity", "message"),
    [
        (0, "Info", "Status OK"),
        (1, "Info", "A query request did not find a matching object in QuickBooks"),
        (499, "Info", ""),
        (500, "Warn", 'The query request has not been fully completed. There was a required element ("x")'),
        (560, "Warn", "deprecated field"),
        (999, "Warn", ""),
    ],
)
def test_ok_no_match_and_warnings_are_successes(op: Op, code: int, severity: str, message: str) -> None:
    assert fault_of(Status(code, severity, message), op) is None


def test_an_unsupported_field_warning_is_a_success_logged_as_a_codec_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    assert fault_of(Status(530, "Warn", "The field IsTaxable is not supported"), Op.ADD) is None
    (record,) = [r for r in caplog.records if r.name == "qbsync.adapters.qbxml.status"]
    assert record.levelno == logging.ERROR
    assert record.__dict__["qb_status"] == 530
    assert "IsTaxable" in record.__dict__["qb_message"]


# code, op, action, actions: every code the table names, and 3120 for every kind of request.
TABLE = [
    (3100, Op.ADD, A.RESOLVE_NAME_CLASH, ("rename", "link_existing")),
    (3100, Op.MOD, A.RESOLVE_NAME_CLASH, ("rename", "link_existing")),
    (3120, Op.MOD, A.FIX_RECORD, (DELETED_IN_QUICKBOOKS,)),
    (3120, Op.ADD, A.FIX_RECORD, ("edit",)),
    (3130, Op.ADD, A.FIX_RECORD, ("edit",)),
    (3140, Op.ADD, A.FIX_RECORD, ("edit",)),
    (3140, Op.MOD, A.FIX_RECORD, ("edit",)),
    (3170, Op.MOD, A.RETRY_LATER, ("send_again",)),
    (3175, Op.MOD, A.RETRY_LATER, ("send_again",)),
    (3176, Op.ADD, A.RETRY_LATER, ("send_again",)),
    (3180, Op.REMOVE, A.RETRY_LATER, ("send_again",)),
    (3200, Op.MOD, A.REREAD_AND_REAPPLY, ("send_again",)),
    (3200, Op.REMOVE, A.REREAD_AND_REAPPLY, ("send_again",)),
    (3210, Op.ADD, A.FIX_RECORD, ("edit",)),
    (3250, Op.ADD, A.FIX_RECORD, ("edit", "send_again")),
    (3260, Op.ADD, A.FIX_RECORD, ("send_again",)),
    (3261, Op.QUERY, A.FIX_RECORD, ("send_again",)),
    (3391, Op.QUERY, A.RETRY_LATER, ()),
    # anything else: a failure with QuickBooks' code
    (3000, Op.MOD, A.FIX_RECORD, ("edit",)),
    (3070, Op.ADD, A.FIX_RECORD, ("edit",)),
    (1000, Op.ADD, A.FIX_RECORD, ("edit",)),
    (9100, Op.ADD, A.FIX_RECORD, ("edit",)),
]


@pytest.mark.parametrize(("code", "op", "action", "actions"), TABLE, ids=[f"{c}-{o}" for c, o, *_ in TABLE])
def test_each_error_code_maps_to_its_action_and_keeps_quickbooks_code_and_words(
    code: int, op: Op, action: FaultAction, actions: tuple[str, ...]
) -> None:
    said = f"QuickBooks' own words for {code}."
    fault = fault_of(Status(code, "Error", said), op)
    assert fault is not None
    assert (fault.action, fault.code, fault.actions) == (action, str(code), actions)
    assert fault.message.endswith(f"QuickBooks refused it: {said}")
    assert fault.field == ""


@pytest.mark.parametrize("op", [Op.REMOVE, Op.QUERY])
def test_not_found_on_a_removal_is_done_and_on_a_query_is_an_empty_result(op: Op) -> None:
    status = Status(3120, "Error", 'Object "8000001B-1405768916" specified in the request cannot be found.')
    assert fault_of(status, op) is None


def test_not_found_on_a_mod_says_the_object_was_deleted_in_quickbooks() -> None:
    fault = fault_of(
        Status(3120, "Error", 'Object "80000013-1416570432" specified in the request ...'), Op.MOD
    )
    assert fault is not None
    assert fault.message.startswith("It was deleted in QuickBooks.")
    assert '"80000013-1416570432"' in fault.message


def test_lock_errors_wait_for_the_next_run_and_an_expired_iterator_restarts_at_once() -> None:
    locked = fault_of(Status(3175, "Error", "internals could not be locked"), Op.MOD)
    expired = fault_of(Status(3391, "Error", 'The iteratorID "{dbd52aaa}" is not valid.'), Op.QUERY)
    assert locked is not None
    assert expired is not None
    assert locked.retry_after is None  # no delay of its own: the Web Connector's next run
    assert expired.retry_after == timedelta(0)
    assert expired.message.startswith("The query's iterator expired; the query starts again from its cursor.")


@pytest.mark.parametrize(
    ("code", "explains"),
    [
        (3210, "such as a payment larger than the amount due"),
        (3250, "turn it on in QuickBooks' preferences"),
        (3260, "give that user the permission in QuickBooks"),
        (3261, "Integrated Applications"),
    ],
)
def test_codes_whose_text_says_too_little_come_with_what_to_do(code: int, explains: str) -> None:
    fault = fault_of(Status(code, "Error", "Insufficient permission level to perform this action."), Op.ADD)
    assert fault is not None
    assert explains in fault.message
    assert fault.message.index(explains) < fault.message.index("QuickBooks refused it:")


def test_the_code_decides_never_the_text() -> None:
    misleading = Status(3100, "Info", "Status OK")
    fault = fault_of(misleading, Op.ADD)
    assert fault is not None
    assert fault.action is A.RESOLVE_NAME_CLASH
    assert fault_of(Status(0, "Error", "The name is already in use."), Op.ADD) is None


def test_an_error_without_a_message_still_says_its_code() -> None:
    fault = fault_of(Status(3999), Op.ADD)
    assert fault is not None
    assert fault.message == "QuickBooks refused it (3999)"


@requires_captures
def test_a_captured_batch_classifies_each_answer_on_its_own() -> None:
    message = captured("customer-batch-mixed.response.xml")
    faults = [fault_of(r.status, Op.ADD) for r in message.responses]
    assert [f.action if f else None for f in faults] == [
        None,
        A.RESOLVE_NAME_CLASH,
        A.FIX_RECORD,
        A.FIX_RECORD,
        None,
    ]
    clash = faults[1]
    assert clash is not None
    assert clash.message == (
        'QuickBooks refused it: The name "HG-BATCH-MIX-1785964184-1" of the list element is already in use.'
    )


def test_a_no_match_answer_read_from_text_is_an_empty_success() -> None:
    (response,) = read_message(
        '<QBXML><QBXMLMsgsRs><ItemInventoryQueryRs requestID="q1" statusCode="1" statusSeverity="Info" '
        'statusMessage="A query request did not find a matching object in QuickBooks" />'
        "</QBXMLMsgsRs></QBXML>"
    ).responses
    assert response.rets == ()
    assert fault_of(response.status, Op.QUERY) is None
