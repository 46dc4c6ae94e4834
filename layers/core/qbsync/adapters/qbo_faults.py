"""QuickBooks Online's errors in the engine's terms: what to do about each, decided from a table of status and
fault codes (never by message text). Codes and meanings: ../shared/reference/qbo/NOTES.md §3.8 and §3.9.

The engine only sees `Fault` (domain/sync.py); this module is the one place that knows Online's codes, HTTP
statuses, OAuth errors and how long to wait after each. Desktop's qbXML status codes get their own table: the
same numbers mean other things there (qbXML 3100 is a name in use, 3200 an out-of-date EditSequence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from qbsync.domain.connections import NotConnectedError, OAuthProviderError, QboAuthenticationError
from qbsync.domain.sync import Fault, FaultAction


@dataclass(frozen=True)
class FaultDetail:
    code: str
    message: str
    detail: str = ""
    element: str = ""


@dataclass  # not frozen: raising an exception sets attributes on it
class QboFaultError(Exception):
    """An answer of the API that is not a success, with every error it listed."""

    status: int
    errors: tuple[FaultDetail, ...] = field(default_factory=tuple)
    fault_type: str = ""
    intuit_tid: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.errors)

    @property
    def action(self) -> FaultAction:
        return classify(self.status, self.codes)

    def __str__(self) -> str:
        listed = "; ".join(f"{e.code} {e.message}: {e.detail}".strip() for e in self.errors)
        return f"QuickBooks answered {self.status}: {listed or 'no details'}"


class QboOutcomeUnknownError(Exception):
    """The request may or may not have been applied (timeout, lost connection, a response never read).
    Look the object up before sending a create again."""


class RequestBudgetExceededError(Exception):
    """Our own per-company limiter refused to send now, so QuickBooks never answers 429; nothing was sent."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"the company's request budget is spent; retry in {retry_after:.1f}s")
        self.retry_after = retry_after


# Codes first (they are the most specific), then HTTP status.
BY_CODE: dict[str, FaultAction] = {
    "3001": FaultAction.RETRY_LATER,  # ThrottleExceeded
    "10000": FaultAction.RETRY_LATER,  # SystemFault
    "120": FaultAction.RECONNECT,  # AuthorizationFailure: the connecting user lost access
    "3100": FaultAction.RECONNECT,
    "3200": FaultAction.RECONNECT,  # AuthenticationFailed (after our refresh already ran)
    "3201": FaultAction.RECONNECT,
    "5010": FaultAction.REREAD_AND_REAPPLY,  # Stale Object Error
    "6240": FaultAction.RESOLVE_NAME_CLASH,  # Duplicate Name Exists
}
BY_STATUS: dict[int, FaultAction] = {
    401: FaultAction.RECONNECT,
    403: FaultAction.RECONNECT,
    429: FaultAction.RETRY_LATER,
    500: FaultAction.RETRY_LATER,
    502: FaultAction.RETRY_LATER,
    503: FaultAction.RETRY_LATER,
    504: FaultAction.RETRY_LATER,
}
NOT_FOUND = "610"  # Object Not Found: deleted, or made inactive

THROTTLED_DELAY = timedelta(seconds=60)  # a minute's window of 500 requests (NOTES §3.7)
SERVER_ERROR_DELAY = timedelta(seconds=20)
NO_ANSWER_DELAY = timedelta(seconds=30)
TOKEN_DELAY = timedelta(seconds=30)  # Intuit's token endpoint failed, or another worker's refresh is slow
WAITS_FOR_CONNECTION = "waits for QuickBooks: the tenant must connect (or reconnect) the company"

# What the tenant can do when a fault of this kind fails a record.
_ACTIONS: dict[FaultAction, tuple[str, ...]] = {
    FaultAction.FIX_RECORD: ("edit",),
    FaultAction.RECONNECT: ("reconnect", "send_again"),
    FaultAction.RETRY_LATER: ("send_again",),
    FaultAction.RESOLVE_NAME_CLASH: ("rename", "link_existing"),
    FaultAction.REREAD_AND_REAPPLY: ("send_again",),
}


def classify(status: int, codes: tuple[str, ...]) -> FaultAction:
    for code in codes:
        if code in BY_CODE:
            return BY_CODE[code]
    if status == 500 and codes and all(c == "500" for c in codes):
        return FaultAction.FIX_RECORD  # "Unsupported Operation": a bad path or body, not a server error
    return BY_STATUS.get(status, FaultAction.FIX_RECORD)


def fault_of(error: Exception) -> Fault | None:
    """What a call to QuickBooks Online raised, as a Fault; None for anything else (a bug: it propagates)."""
    if isinstance(error, QboFaultError):
        return _answered(error)
    if isinstance(error, QboOutcomeUnknownError):
        return Fault(
            FaultAction.OUTCOME_UNKNOWN, "no_answer", "QuickBooks did not answer", "", NO_ANSWER_DELAY
        )
    if isinstance(error, RequestBudgetExceededError):
        wait = timedelta(seconds=max(1.0, error.retry_after))
        return Fault(
            FaultAction.RETRY_LATER, "request_budget", "the company's request budget is spent", "", wait
        )
    if isinstance(error, QboAuthenticationError | NotConnectedError):
        return Fault(FaultAction.RECONNECT, "not_connected", WAITS_FOR_CONNECTION)
    if isinstance(error, OAuthProviderError | TimeoutError):
        said = "the connection's tokens could not be refreshed"
        return Fault(FaultAction.RETRY_LATER, "token_refresh", said, "", TOKEN_DELAY)
    return None


def _answered(error: QboFaultError) -> Fault:
    action = error.action
    first = error.errors[0] if error.errors else None
    code = first.code if first and first.code else str(error.status)
    if action is FaultAction.RETRY_LATER:
        delay = THROTTLED_DELAY if error.status == 429 else SERVER_ERROR_DELAY
        return Fault(action, code, f"QuickBooks answered {error.status}", "", delay, _ACTIONS[action])
    if action is FaultAction.RECONNECT:
        return Fault(action, code, WAITS_FOR_CONNECTION, "", None, _ACTIONS[action])
    said = ". ".join(x for x in ((first.message, first.detail) if first else ()) if x) or str(error)
    actions = ("edit", "reactivate_in_quickbooks") if code == NOT_FOUND else _ACTIONS.get(action, ("edit",))
    element = first.element if first else ""
    return Fault(action, code, f"QuickBooks refused it: {said}", element, None, actions)
