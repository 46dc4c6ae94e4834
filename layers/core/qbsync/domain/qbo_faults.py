"""What to do about a QuickBooks Online error, decided from a table of status and fault codes (never by
message text). Codes and meanings: ../shared/reference/qbo/NOTES.md §3.8 and §3.9."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FaultAction(StrEnum):
    RETRY_LATER = "retry_later"  # throttled or a server error: the same request may succeed later
    REAUTHORIZE = "reauthorize"  # the connection is no longer authorized: the tenant must reconnect
    REREAD_AND_REAPPLY = (
        "reread_and_reapply"  # stale SyncToken: read the object again, apply the change again
    )
    RESOLVE_NAME_CLASH = "resolve_name_clash"  # the name is used by another customer, vendor or employee
    FIX_RECORD = "fix_record"  # the record breaks a rule: the tenant must edit it or what it refers to


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


# Codes first (they are the most specific), then HTTP status.
BY_CODE: dict[str, FaultAction] = {
    "3001": FaultAction.RETRY_LATER,  # ThrottleExceeded
    "10000": FaultAction.RETRY_LATER,  # SystemFault
    "120": FaultAction.REAUTHORIZE,  # AuthorizationFailure: the connecting user lost access
    "3100": FaultAction.REAUTHORIZE,
    "3200": FaultAction.REAUTHORIZE,  # AuthenticationFailed (after our refresh already ran)
    "3201": FaultAction.REAUTHORIZE,
    "5010": FaultAction.REREAD_AND_REAPPLY,  # Stale Object Error
    "6240": FaultAction.RESOLVE_NAME_CLASH,  # Duplicate Name Exists
}
BY_STATUS: dict[int, FaultAction] = {
    401: FaultAction.REAUTHORIZE,
    403: FaultAction.REAUTHORIZE,
    429: FaultAction.RETRY_LATER,
    500: FaultAction.RETRY_LATER,
    502: FaultAction.RETRY_LATER,
    503: FaultAction.RETRY_LATER,
    504: FaultAction.RETRY_LATER,
}


def classify(status: int, codes: tuple[str, ...]) -> FaultAction:
    for code in codes:
        if code in BY_CODE:
            return BY_CODE[code]
    if status == 500 and codes and all(c == "500" for c in codes):
        return FaultAction.FIX_RECORD  # "Unsupported Operation": a bad path or body, not a server error
    return BY_STATUS.get(status, FaultAction.FIX_RECORD)


class RequestBudgetExceededError(Exception):
    """Our own per-company limiter refused to send now, so QuickBooks never answers 429; nothing was sent."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"the company's request budget is spent; retry in {retry_after:.1f}s")
        self.retry_after = retry_after
