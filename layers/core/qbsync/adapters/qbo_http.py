"""The QuickBooks Online Accounting API over httpx.

Every call carries `minorversion=75`; writes carry a `requestid` that stays the same across retries, so a
retry of a request QuickBooks already applied is answered with the first result instead of a duplicate. A 401
refreshes the token once (through the token keeper, so one refresh per tenant at a time) and repeats the call.
Errors become `QboFaultError` with every listed code, whether QuickBooks answered in JSON, in its lower-case
401 shape, or in XML (which it sends for throttling even when JSON was asked for).

Money stays exact both ways: request bodies are written by `encode_json`, which writes a Decimal as the
numeric literal it is (`Decimal("10.10")` becomes `10.10`, never a binary float), and responses are read with
every number that has a fraction parsed as Decimal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol

import httpx
from lxml import etree

from qbsync.adapters.qbo_faults import (
    FaultDetail,
    QboFaultError,
    QboOutcomeUnknownError,
    RequestBudgetExceededError,
)
from qbsync.domain.connections import CompanyAccessDeniedError, QboAuthenticationError, TokenSet

MINOR_VERSION = "75"
MAX_REQUEST_ID = 50
API_BASE = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}
_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def api_base_url(qbo_environment: str) -> str:
    """The API host for 'sandbox' or 'production', or the local sandbox's URL as given."""
    return API_BASE.get(qbo_environment, qbo_environment.rstrip("/"))


class AccessTokens(Protocol):
    def access_token(self, tenant_id: str) -> TokenSet: ...

    def after_unauthorized(self, tenant_id: str, used: TokenSet) -> TokenSet: ...

    def refused_after_refresh(self, tenant_id: str, used: TokenSet) -> None:
        """The API refused `used` too, though it came from a refresh: the connection needs the tenant."""


class RequestBudget(Protocol):
    def take(self, realm_id: str, *, batch: bool) -> float:
        """Spend one request of the company's budget: 0 when allowed, else the seconds to wait first."""

    def enter(self, realm_id: str) -> str | None:
        """Take one of the company's concurrent-request slots; None when all are taken."""

    def leave(self, realm_id: str, slot: str) -> None: ...


# A short wait for the budget is spent here; a longer one ends the work, which the worker re-queues.
BUDGET_WAIT_MAX = 2.5
SLOT_WAIT = 0.25


class QboClient:
    def __init__(
        self,
        http: httpx.Client,
        tokens: AccessTokens,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._budget = budget
        self._sleep = sleep

    def get(self, tenant_id: str, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self._call(tenant_id, "GET", path, params=params)

    def post(
        self,
        tenant_id: str,
        path: str,
        body: Mapping[str, Any],
        *,
        request_id: str,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if not 0 < len(request_id) <= MAX_REQUEST_ID:
            raise ValueError(f"a requestid has 1 to {MAX_REQUEST_ID} characters")
        return self._call(
            tenant_id, "POST", path, params={**(params or {}), "requestid": request_id}, body=body
        )

    def query(self, tenant_id: str, statement: str) -> dict[str, Any]:
        return self.get(tenant_id, "query", {"query": statement})

    def _call(
        self,
        tenant_id: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        tokens = self._tokens.access_token(tenant_id)
        response = self._send(tokens, method, path, params, body)
        if response.status_code == 401:
            tokens = self._tokens.after_unauthorized(tenant_id, tokens)
            response = self._send(tokens, method, path, params, body)  # same requestid: safe to repeat
            if response.status_code == 401:
                self._tokens.refused_after_refresh(tenant_id, tokens)
                raise QboAuthenticationError(str(parse_fault(response)))
        return _document(response, method, path)

    def company_name(self, tokens: TokenSet) -> str:
        """The CompanyInfo name of `tokens.realm_id`, read with `tokens` as they are: no refresh, no storage.

        Intuit answers a token used on a company it was not issued for with 403, fault 3100
        (ApplicationAuthorizationFailed), and an unknown or revoked token with 401, fault 3200.
        """
        path = f"companyinfo/{tokens.realm_id}"
        response = self._send(tokens, "GET", path, None, None)
        if response.status_code in (401, 403):
            raise CompanyAccessDeniedError(str(parse_fault(response)))
        return str(_document(response, "GET", path)["CompanyInfo"]["CompanyName"])

    def _send(
        self,
        tokens: TokenSet,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        slot = self._spend_budget(tokens.realm_id, batch=path == "batch")
        try:
            return self._http.request(
                method,
                f"/v3/company/{tokens.realm_id}/{path}",
                params={"minorversion": MINOR_VERSION, **(params or {})},
                content=None if body is None else encode_json(body),
                headers=headers,
            )
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise QboOutcomeUnknownError(f"{method} {path}: {type(exc).__name__}") from None
        finally:
            if self._budget is not None and slot is not None:
                self._budget.leave(tokens.realm_id, slot)

    def _spend_budget(self, realm_id: str, *, batch: bool) -> str | None:
        """Wait (briefly) for the company's budget and one of its concurrent slots; the slot taken."""
        if self._budget is None:
            return None
        while (wait := self._budget.take(realm_id, batch=batch)) > 0:
            if wait > BUDGET_WAIT_MAX:
                raise RequestBudgetExceededError(wait)
            self._sleep(wait)
        waited = 0.0
        while (slot := self._budget.enter(realm_id)) is None:
            if waited >= BUDGET_WAIT_MAX:
                raise RequestBudgetExceededError(SLOT_WAIT)
            self._sleep(SLOT_WAIT)
            waited += SLOT_WAIT
        return slot


def _document(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; any other answer, or a 200 carrying a fault, raises."""
    if response.status_code != 200:
        raise parse_fault(response)
    try:
        document = json.loads(response.content, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        # A 200 whose body cannot be read: the request may or may not have been applied.
        raise QboOutcomeUnknownError(f"{method} {path}: the answer is not JSON") from None
    fault = document.get("Fault") if isinstance(document, dict) else None
    if fault:  # a 200 may still carry a fault
        raise json_fault(response.status_code, fault, response.headers.get("intuit_tid", ""))
    if not isinstance(document, dict):
        raise QboOutcomeUnknownError(f"{method} {path}: the answer is not a JSON object")
    return document


def parse_fault(response: httpx.Response) -> QboFaultError:
    tid = response.headers.get("intuit_tid", "")
    if response.status_code in (502, 504) and not response.content:
        raise QboOutcomeUnknownError(f"QuickBooks answered {response.status_code} with no body")
    content_type = response.headers.get("content-type", "")
    if "xml" in content_type or response.content.lstrip().startswith(b"<"):
        return _xml_fault(response.status_code, response.content, tid)
    try:
        document = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return QboFaultError(response.status_code, (), "", tid)
    fault = document.get("Fault") or document.get("fault") if isinstance(document, dict) else None
    return json_fault(response.status_code, fault or {}, tid)


def json_fault(status: int, fault: Mapping[str, Any], tid: str = "") -> QboFaultError:
    """A `Fault` (or lower-case `fault`) object as QuickBooks writes it in JSON: in an error answer, in a 200,
    or in one item of a batch answer."""
    errors = fault.get("Error") or fault.get("error") or []
    details = tuple(
        FaultDetail(
            code=str(e.get("code") or ""),
            message=str(e.get("Message") or e.get("message") or ""),
            detail=str(e.get("Detail") or e.get("detail") or ""),
            element=str(e.get("element") or ""),
        )
        for e in errors
        if isinstance(e, Mapping)
    )
    return QboFaultError(status, details, str(fault.get("type") or ""), tid)


def _xml_fault(status: int, content: bytes, tid: str) -> QboFaultError:
    try:
        root = etree.fromstring(content, _XML)
    except etree.XMLSyntaxError:
        return QboFaultError(status, (), "", tid)
    faults = [root] if etree.QName(root).localname == "Fault" else root.xpath("//*[local-name()='Fault']")
    if not faults:
        return QboFaultError(status, (), "", tid)
    fault = faults[0]

    def text(error: Any, name: str) -> str:
        found = error.xpath(f"*[local-name()='{name}']/text()")
        return str(found[0]).strip() if found else ""

    details = tuple(
        FaultDetail(str(e.get("code", "")), text(e, "Message"), text(e, "Detail"), str(e.get("element", "")))
        for e in fault.xpath("*[local-name()='Error']")
    )
    return QboFaultError(status, details, str(fault.get("type", "")), tid)


# ------------------------------------------------------------------------------------------ JSON bodies


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Compact JSON of a request body; a Decimal is written as its exact numeric literal.

    `json.dumps` cannot write a Decimal, and turning one into a float first is exact only while it has at most
    15 significant digits: this writes the digits themselves instead. Floats are refused (money is Decimal).
    """
    return "".join(_encode(body)).encode("utf-8")


def _encode(value: Any) -> Iterator[str]:
    if value is None or isinstance(value, bool | str):
        yield json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int):
        yield str(int(value))  # int(): an IntEnum is written as its number
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent to QuickBooks")
        yield format(value, "f")  # plain notation: Decimal("1E+2") is 100, Decimal("0.10") stays 0.10
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
            yield ("," if index else "") + json.dumps(key, ensure_ascii=False) + ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _encode(item)
        yield "]"
    else:
        raise TypeError(f"{type(value).__name__} is not sent as JSON (money and quantities are Decimal)")
