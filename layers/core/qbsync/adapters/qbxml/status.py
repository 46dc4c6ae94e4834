"""qbXML status codes in the engine's terms: what each means for the request that got it, decided by code
(never by message text) and by what the request was.

Codes and texts: shared/reference/qbwc/NOTES.md §3.4 (Intuit's ranges: 0-499 Info, 500-999 Warning, 1000
and up errors; the texts of 3100-3391 as captured or quoted there) and §6 pitfalls 11, 13, 16, 17.

    code               QuickBooks says                              fault_of(status, op)
    ------------------ -------------------------------------------- --------------------------------------
    0, 1, 2-499        Info; 1: "A query request did not find a     None: success (1: an empty result, not
                       matching object in QuickBooks"               an error: consolibyte#267)
    500-999            Warn; 500: a FullName list partly found,     None: success with what was returned;
                       530: a field QuickBooks does not support     a 530 is logged as a codec bug
    3100               the name of the list element is already      RESOLVE_NAME_CLASH
                       in use
    3120               the object specified in the request          MOD: FIX_RECORD, `deleted_in_quickbooks`
                       cannot be found                              REMOVE: None (gone already: done)
                                                                    QUERY: None (an empty result)
                                                                    ADD: FIX_RECORD (what it refers to)
    3130, 3140         an invalid reference (parent; customer,      FIX_RECORD
                       item, account ...)
    3170, 3175, 3176,  in use or locked by a QuickBooks user        RETRY_LATER, at the Web Connector's
    3180                                                            next run
    3200               the provided edit sequence is out-of-date    REREAD_AND_REAPPLY
    3210               an invalid value (a payment above the        FIX_RECORD, saying what to do before
                       amount due)                                  QuickBooks' own words
    3250               feature off or missing from the edition      FIX_RECORD, likewise
    3260, 3261         the user, or the application, lacks a        FIX_RECORD, likewise
                       permission
    3391               the iteratorID is not valid (iterators die   RETRY_LATER with no delay: the query
                       with their session: consolibyte#183)         starts again from its cursor
    anything else                                                   FIX_RECORD with QuickBooks' code and
                                                                    message
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum

from qbsync.adapters.qbxml.read import Status
from qbsync.domain.sync import Fault, FaultAction

log = logging.getLogger(__name__)


class Op(StrEnum):
    """What a request did. A list entry's removal is a Mod making it inactive, yet counts as REMOVE."""

    ADD = "add"
    MOD = "mod"
    REMOVE = "remove"  # TxnVoid, TxnDel, or the Mod that makes a list entry inactive
    QUERY = "query"


UNSUPPORTED_FIELD = 530
NOT_FOUND = 3120
ITERATOR_INVALID = 3391
DELETED_IN_QUICKBOOKS = "deleted_in_quickbooks"  # the action of a Mod whose object QuickBooks no longer has

_SEND_AGAIN = ("send_again",)
# The errors that are not "fix the record": (action, what the tenant can do when it fails a record).
BY_CODE: dict[int, tuple[FaultAction, tuple[str, ...]]] = {
    3100: (FaultAction.RESOLVE_NAME_CLASH, ("rename", "link_existing")),
    3170: (FaultAction.RETRY_LATER, _SEND_AGAIN),  # someone edits it in QuickBooks: the next run tries again
    3175: (FaultAction.RETRY_LATER, _SEND_AGAIN),
    3176: (FaultAction.RETRY_LATER, _SEND_AGAIN),
    3180: (FaultAction.RETRY_LATER, _SEND_AGAIN),
    3200: (FaultAction.REREAD_AND_REAPPLY, _SEND_AGAIN),
}
# Codes whose own texts tell a tenant too little: what they mean and what to do, ahead of QuickBooks' words.
EXPLAINED: dict[int, tuple[str, tuple[str, ...]]] = {
    3210: ("QuickBooks refused a value of it, such as a payment larger than the amount due.", ("edit",)),
    3250: (
        "It needs a QuickBooks feature that is turned off in this company file or missing from this edition "
        "(inventory, for example): turn it on in QuickBooks' preferences, or change the record.",
        ("edit", "send_again"),
    ),
    3260: (
        "The QuickBooks user the Web Connector works as may not do this: give that user the permission in "
        "QuickBooks, then send it again.",
        _SEND_AGAIN,
    ),
    3261: (
        "This application may not read or write personal data in QuickBooks: allow it under Edit > "
        "Preferences > Integrated Applications, then send it again.",
        _SEND_AGAIN,
    ),
}


def fault_of(status: Status, op: Op) -> Fault | None:
    """What a response's status means for its request: None when it succeeded (with what it returned, maybe
    nothing), else the Fault the engine acts on. The table is in this module's docstring."""
    code = status.code
    if 0 <= code < 1000:
        if code == UNSUPPORTED_FIELD:
            log.error(
                "QuickBooks ignored a field it does not support, sent by the codec", extra=_said(status)
            )
        return None
    said = f"QuickBooks refused it: {status.message}" if status.message else f"QuickBooks refused it ({code})"
    if code == NOT_FOUND and op is not Op.ADD:
        if op is Op.MOD:
            deleted = f"It was deleted in QuickBooks. {said}"
            return Fault(FaultAction.FIX_RECORD, str(code), deleted, actions=(DELETED_IN_QUICKBOOKS,))
        return None  # a removal of what is gone is done; a query of it finds nothing
    if code == ITERATOR_INVALID:
        restart = f"The query's iterator expired; the query starts again from its cursor. {said}"
        return Fault(FaultAction.RETRY_LATER, str(code), restart, retry_after=timedelta(0))
    if code in EXPLAINED:
        explained, actions = EXPLAINED[code]
        return Fault(FaultAction.FIX_RECORD, str(code), f"{explained} {said}", actions=actions)
    action, actions = BY_CODE.get(code, (FaultAction.FIX_RECORD, ("edit",)))
    return Fault(action, str(code), said, actions=actions)


def _said(status: Status) -> dict[str, object]:
    return {"qb_status": status.code, "qb_message": status.message[:500]}
