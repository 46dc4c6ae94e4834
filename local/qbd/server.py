"""The Desktop stand-ins as an HTTP app: controls under /_qbd/ for the simulated company files and the
simulated Web Connectors that drive the service's /qbwc. `make run` starts it on http://127.0.0.1:3002.

Not part of any Intuit interface (QuickBooks Desktop has no HTTP API): what tests and the demo use to set up
and watch the stand-ins. JSON in and out; bad input gets a 4xx with {"error": "..."}, as /_sandbox/ answers.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard, cast

from flask import Blueprint, Flask, Response, current_app, request
from lxml import etree
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from local.qbd.company import Company, EntryError, RequestProcessorError
from local.qbd.webconnector import (
    FAULT_KINDS,
    NOOP_PAUSE_SECONDS,
    Faults,
    Qwc,
    QwcError,
    SimulatedWebConnector,
)

DEMO_COMPANY = "Desktop Demo Co"
MAX_NAME = 100


@dataclass
class Desktop:
    """The company files and the Web Connectors the stand-in holds, by id."""

    companies: dict[str, Company] = field(default_factory=dict)
    connectors: dict[str, SimulatedWebConnector] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _connector_count: int = 0

    def add_company(self, name: str) -> tuple[str, Company]:
        """A new company file; ValueError when its id (the name, lower case, words joined by "-") is taken."""
        company_id = slug(name)
        with self.lock:
            if company_id in self.companies:
                raise ValueError(f"a company with id {company_id!r} exists")
            company = Company(name=name)
            self.companies[company_id] = company
            return company_id, company

    def add_connector(
        self,
        qwc: Qwc,
        password: str,
        company_id: str,
        *,
        noop_pause_seconds: float = NOOP_PAUSE_SECONDS,
    ) -> tuple[str, SimulatedWebConnector]:
        with self.lock:
            company = self.companies[company_id]
            self._connector_count += 1
            connector_id = str(self._connector_count)
            connector = SimulatedWebConnector(qwc, password, company, noop_pause_seconds=noop_pause_seconds)
            self.connectors[connector_id] = connector
            return connector_id, connector

    def company_id_of(self, company: Company) -> str:
        with self.lock:
            return next(cid for cid, c in self.companies.items() if c is company)

    def stop(self) -> None:
        with self.lock:
            connectors = list(self.connectors.values())
        for connector in connectors:
            connector.close()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


bp = Blueprint("qbd", __name__, url_prefix="/_qbd")


def desktop() -> Desktop:
    return current_app.config["DESKTOP"]  # type: ignore[no-any-return]


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


class BadInputError(Exception):
    """Bad input to a control: answered 400 {"error": message}."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise BadInputError(message)


def body_object() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadInputError("the body must be a JSON object")
    return body


# ---------------------------------------------------------------------- companies


def company_json(company_id: str, company: Company) -> dict[str, Any]:
    return {"id": company_id, "name": company.name}


@bp.get("/companies")
def list_companies() -> Response:
    d = desktop()
    with d.lock:
        return json_response(200, {"companies": [company_json(cid, c) for cid, c in d.companies.items()]})


@bp.post("/companies")
def create_company() -> Response:
    """{"name"}: a new company file, empty but for QuickBooks' own lists. 201 {"id", "name"}."""
    body = body_object()
    name = body.get("name")
    if not (isinstance(name, str) and name.strip() and len(name) <= MAX_NAME and slug(name)):
        return error(400, f"name must be 1 to {MAX_NAME} characters with a letter or digit")
    try:
        company_id, company = desktop().add_company(name.strip())
    except ValueError as exc:
        return error(409, str(exc))
    return json_response(201, company_json(company_id, company))


def find_company(company_id: str) -> Company | None:
    d = desktop()
    with d.lock:
        return d.companies.get(company_id)


# What a user sees of each kind: the query QuickBooks answers with it (lines and links included).
QUERIES = {
    "customers": "CustomerQueryRq",
    "vendors": "VendorQueryRq",
    "employees": "EmployeeQueryRq",
    "other-names": "OtherNameQueryRq",
    "items": "ItemQueryRq",
    "accounts": "AccountQueryRq",
    "terms": "TermsQueryRq",
    "payment-methods": "PaymentMethodQueryRq",
    "sales-tax-codes": "SalesTaxCodeQueryRq",
    "invoices": "InvoiceQueryRq",
    "credit-memos": "CreditMemoQueryRq",
    "payments": "ReceivePaymentQueryRq",
    "purchase-orders": "PurchaseOrderQueryRq",
    "bills": "BillQueryRq",
}
WITH_LINES = {"invoices", "credit-memos", "payments", "purchase-orders", "bills"}
# Kinds a user enters by hand in a list (Company.add_entry).
LIST_KINDS = {
    "customers": "Customer",
    "vendors": "Vendor",
    "employees": "Employee",
    "other-names": "OtherName",
    "items-service": "ItemService",
    "items-non-inventory": "ItemNonInventory",
    "items-inventory": "ItemInventory",
}


@bp.get("/companies/<company_id>/entities/<kind>")
def read_entities(company_id: str, kind: str) -> Response:
    """What the company holds of one kind, as QuickBooks writes it (each `...Ret` as a JSON object: one
    element a value, a repeated element a list, an aggregate an object). The kinds: QUERIES' keys."""
    company = find_company(company_id)
    if company is None:
        return error(404, f"no company {company_id!r}")
    if kind not in QUERIES:
        return error(404, f"no kind {kind!r}; the kinds are {', '.join(QUERIES)}")
    tag = QUERIES[kind]
    if kind not in WITH_LINES:
        what = "<ActiveStatus>All</ActiveStatus>"  # a user sees the inactive ones too
    else:  # ReceivePaymentQuery has no IncludeLinkedTxns (qbxml130.xsd): its applications are its lines
        links = "" if kind == "payments" else "<IncludeLinkedTxns>true</IncludeLinkedTxns>"
        what = f"<IncludeLineItems>true</IncludeLineItems>{links}"
    query = (
        '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML>'
        f'<QBXMLMsgsRq onError="continueOnError"><{tag} requestID="1">{what}</{tag}></QBXMLMsgsRq></QBXML>'
    )
    with company.lock:
        # The controls' own look is not application traffic: the message counters are put back.
        counted = company.counters.copy()
        session = company.open_session()
        try:
            answer = session.process(query)
        except RequestProcessorError as exc:
            return error(500, f"the company refused the controls' query: {exc.hresult} {exc.message}")
        finally:
            session.close()
            company.counters = counted
    root = etree.fromstring(answer.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    rets = [element_json(ret) for rs in root.iter(tag[:-2] + "Rs") for ret in rs]
    return json_response(200, {kind: rets})


def element_json(element: Any) -> Any:
    """An element as JSON: its text when it has no children; else an object of its children, by name, with
    `type` = the element's own name at the top, a list for a name that repeats."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ""
    value: dict[str, Any] = {}
    for child in children:
        item = element_json(child)
        if child.tag in value:
            existing = value[child.tag]
            value[child.tag] = [*existing, item] if isinstance(existing, list) else [existing, item]
        else:
            value[child.tag] = item
    return value


@bp.get("/companies/<company_id>/counters")
def read_counters(company_id: str) -> Response:
    """Messages the company was given, those it refused whole (0x80040400), and the requests it ran, in all
    and by kind ({"CustomerAddRq": n, ...})."""
    company = find_company(company_id)
    if company is None:
        return error(404, f"no company {company_id!r}")
    with company.lock:
        counters = dict(company.counters)
    messages, refused = counters.pop("messages", 0), counters.pop("refused", 0)
    return json_response(
        200,
        {"messages": messages, "refused": refused, "requests": sum(counters.values()), "by_kind": counters},
    )


@bp.put("/companies/<company_id>/faults")
def set_company_faults(company_id: str) -> Response:
    """{"locked_records": rate 0..1, "seed"?: int}: each write request then fails, unapplied, with 3170 or
    3175 (a user has the record open) with that probability. A rate of 0 ends it."""
    company = find_company(company_id)
    if company is None:
        return error(404, f"no company {company_id!r}")
    body = body_object()
    unknown = sorted(set(body) - {"locked_records", "seed"})
    if unknown:
        return error(400, f"unknown field {unknown[0]!r}; give locked_records and seed")
    rate, seed = body.get("locked_records", 0), body.get("seed", 0)
    if not (_is_number(rate) and 0 <= rate <= 1):
        return error(400, "locked_records must be a rate from 0 to 1")
    if not _is_int(seed):
        return error(400, "seed must be an integer")
    company.lock_records(float(rate), seed)
    return json_response(200, {"locked_records": float(rate), "seed": seed})


# ---------------------------------------------------------------------- entries made at the keyboard


def entry(company_id: str, make: Callable[[Company], dict[str, Any]], status: int = 200) -> Response:
    """Run a user's entry, answering what `make` returns; QuickBooks' refusal answers 404 (3120: no such
    record), 409 (3100: the name is in use) or 400, with its code and text."""
    company = find_company(company_id)
    if company is None:
        return error(404, f"no company {company_id!r}")
    try:
        result = make(company)
    except EntryError as refused:
        code = {3120: 404, 3100: 409}.get(refused.code, 400)
        return json_response(code, {"error": refused.message, "code": refused.code})
    return json_response(status, result)


@bp.post("/companies/<company_id>/lists/<kind>")
def add_to_list(company_id: str, kind: str) -> Response:
    """A name or item entered by hand: {"name", "parent"?: a customer's FullName (a job), "fields"?: the
    Add's other elements, e.g. {"CompanyName": "...", "Phone": "..."}}. 201 {"list_id"}."""
    if kind not in LIST_KINDS:
        return error(404, f"no list {kind!r}; the lists are {', '.join(LIST_KINDS)}")
    body = body_object()
    name, parent, fields = body.get("name"), body.get("parent"), body.get("fields", {})
    if not (isinstance(name, str) and name.strip()):
        return error(400, "name must be a non-empty string")
    if parent is not None and not (isinstance(parent, str) and parent.strip()):
        return error(400, "parent must be the FullName of a customer")
    if not isinstance(fields, dict) or not all(isinstance(k, str) and k for k in fields):
        return error(400, "fields must be an object of element names to values")
    extra = {"parent": parent} if parent is not None else {}
    return entry(
        company_id,
        lambda c: {"list_id": c.add_entry(LIST_KINDS[kind], name, **fields, **extra)},
        201,
    )


@bp.post("/companies/<company_id>/lists/<list_id>/rename")
def rename(company_id: str, list_id: str) -> Response:
    """{"name"}: a user renames a customer, vendor, employee or item (its EditSequence moves on)."""
    name = body_object().get("name")
    if not (isinstance(name, str) and name.strip()):
        return error(400, "name must be a non-empty string")

    def act(company: Company) -> dict[str, Any]:
        company.rename(list_id, str(name))
        return {"list_id": list_id, "name": name}

    return entry(company_id, act)


@bp.post("/companies/<company_id>/lists/<list_id>/deactivate")
def deactivate(company_id: str, list_id: str) -> Response:
    def act(company: Company) -> dict[str, Any]:
        company.deactivate(list_id)
        return {"list_id": list_id, "is_active": False}

    return entry(company_id, act)


@bp.post("/companies/<company_id>/payments")
def receive_payment(company_id: str) -> Response:
    """A payment received at the counter: {"customer": FullName, "total": "130.00", "applied_to"?: {TxnID:
    amount} (else QuickBooks applies it to the oldest open invoices), "method"?: "Check", "ref_number"?,
    "txn_date"?: "YYYY-MM-DD"}. Amounts as strings or numbers, at most two decimals. 201 {"txn_id"}."""
    body = body_object()
    customer, method, ref = body.get("customer"), body.get("method", "Check"), body.get("ref_number")
    require(
        isinstance(customer, str) and bool(customer.strip()), "customer must be the FullName of a customer"
    )
    total = money(body.get("total"))
    require(total is not None and total > 0, "total must be an amount above 0 with at most two decimals")
    applied_to = body.get("applied_to")
    require(
        applied_to is None or (isinstance(applied_to, dict) and bool(applied_to)),
        "applied_to must be an object of invoice TxnID to amount",
    )
    amounts = {str(txn): money(value) for txn, value in (applied_to or {}).items()}
    require(
        all(amount is not None and amount > 0 for amount in amounts.values()),
        "each applied amount must be above 0 with at most two decimals",
    )
    require(method is None or isinstance(method, str), "method must be a payment method's name, or null")
    require(ref is None or isinstance(ref, str), "ref_number must be a string")
    txn_date = body.get("txn_date")
    try:
        day = date.fromisoformat(txn_date) if txn_date is not None else None
    except (TypeError, ValueError):
        raise BadInputError("txn_date must be a date, YYYY-MM-DD") from None
    applied = None if applied_to is None else {t: a for t, a in amounts.items() if a is not None}
    return entry(
        company_id,
        lambda c: {
            "txn_id": c.receive_payment(
                str(customer), cast(Decimal, total), applied, method=method, ref_number=ref, txn_date=day
            )
        },
        201,
    )


@bp.post("/companies/<company_id>/transactions/<txn_id>/edit")
def edit_transaction(company_id: str, txn_id: str) -> Response:
    """A user edits a transaction's header: {"Memo": "...", ...} (the Mod's elements); EditSequence moves."""
    body = body_object()
    if not body or not all(isinstance(k, str) and k for k in body):
        return error(400, "the body must be an object of the header's element names to values")

    def act(company: Company) -> dict[str, Any]:
        company.edit_transaction(txn_id, **body)
        return {"txn_id": txn_id}

    return entry(company_id, act)


@bp.post("/companies/<company_id>/transactions/<txn_id>/void")
def void(company_id: str, txn_id: str) -> Response:
    def act(company: Company) -> dict[str, Any]:
        company.void(txn_id)
        return {"txn_id": txn_id, "voided": True}

    return entry(company_id, act)


@bp.delete("/companies/<company_id>/transactions/<txn_id>")
def delete(company_id: str, txn_id: str) -> Response:
    def act(company: Company) -> dict[str, Any]:
        company.delete(txn_id)
        return {"txn_id": txn_id, "deleted": True}

    return entry(company_id, act)


def money(value: object) -> Decimal | None:
    """An amount from JSON (a string, or a number read through its text), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return amount


# ---------------------------------------------------------------------- Web Connectors


def connector_json(connector_id: str, connector: SimulatedWebConnector) -> dict[str, Any]:
    last = connector.runs[-1].to_json() if connector.runs else None
    return {
        "id": connector_id,
        "user_name": connector.qwc.user_name,
        "app_url": connector.qwc.app_url,
        "owner_id": connector.qwc.owner_id,
        "file_id": connector.qwc.file_id,
        "company": desktop().company_id_of(connector.company),
        "company_file": connector.company_file,
        "run_every_seconds": connector.interval_seconds,
        "running": connector.running,
        "runs": len(connector.runs),
        "faults": connector.faults.describe(),
        "last_run": last,
    }


@bp.get("/connectors")
def list_connectors() -> Response:
    d = desktop()
    with d.lock:
        connectors = list(d.connectors.items())
    return json_response(200, {"connectors": [connector_json(cid, c) for cid, c in connectors]})


@bp.post("/connectors")
def add_connector() -> Response:
    """Add an application to a Web Connector, as its user does: {"qwc": the .qwc file's text, "password",
    "company": the id of the company file open on that PC, "start"?: true to run on the .qwc's schedule,
    "every_seconds"?: another interval, "noop_pause_seconds"?: the pause after NoOp (5)}. 201."""
    body = body_object()
    qwc_text, password, company_id = body.get("qwc"), body.get("password"), body.get("company")
    require(isinstance(qwc_text, str), "qwc must be the text of a .qwc file")
    try:
        qwc = Qwc.parse(str(qwc_text))
    except QwcError as exc:
        raise BadInputError(f"qwc: {exc}") from None
    require(
        isinstance(password, str) and bool(password),
        "password must be the non-empty password the service issued with the .qwc",
    )
    require(
        isinstance(company_id, str) and find_company(company_id) is not None,
        "company must be the id of a company (GET /_qbd/companies)",
    )
    every, start = body.get("every_seconds"), body.get("start", False)
    require(every is None or (_is_number(every) and every > 0), "every_seconds must be a number above 0")
    require(isinstance(start, bool), "start must be true or false")
    require(
        not start or every is not None or qwc.run_every_seconds is not None,
        "the .qwc has no Scheduler: give every_seconds to start it",
    )
    pause = body.get("noop_pause_seconds", NOOP_PAUSE_SECONDS)
    require(_is_number(pause) and 0 <= pause <= 60, "noop_pause_seconds must be a number from 0 to 60")
    connector_id, connector = desktop().add_connector(
        qwc, str(password), str(company_id), noop_pause_seconds=float(pause)
    )
    if start:
        connector.start(float(every) if every is not None else None)
    return json_response(201, connector_json(connector_id, connector))


def find_connector(connector_id: str) -> SimulatedWebConnector | None:
    d = desktop()
    with d.lock:
        return d.connectors.get(connector_id)


@bp.get("/connectors/<connector_id>")
def read_connector(connector_id: str) -> Response:
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    return json_response(200, connector_json(connector_id, connector))


@bp.delete("/connectors/<connector_id>")
def remove_connector(connector_id: str) -> Response:
    d = desktop()
    with d.lock:
        connector = d.connectors.pop(connector_id, None)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    connector.close()
    return json_response(200, {"removed": connector_id})


@bp.post("/connectors/<connector_id>/run")
def run_now(connector_id: str) -> Response:
    """One update now (Update Selected); answers its record once it has ended."""
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    return json_response(200, connector.run_once().to_json())


@bp.get("/connectors/<connector_id>/runs")
def list_runs(connector_id: str) -> Response:
    """The last updates, oldest first (`?limit=` keeps the newest n)."""
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    limit = request.args.get("limit", "")
    if limit and not (limit.isdigit() and int(limit) > 0):
        return error(400, "limit must be a positive integer")
    runs = list(connector.runs)
    if limit:
        runs = runs[-int(limit) :]
    return json_response(200, {"runs": [run.to_json() for run in runs]})


@bp.post("/connectors/<connector_id>/start")
def start_connector(connector_id: str) -> Response:
    """Run on a schedule: {"every_seconds"?} (default: the .qwc's RunEveryNMinutes)."""
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    body = body_object() if request.get_data() else {}
    every = body.get("every_seconds")
    if every is not None and not (_is_number(every) and every > 0):
        return error(400, "every_seconds must be a number above 0")
    if every is None and connector.interval_seconds is None:
        return error(400, "the .qwc has no Scheduler: give every_seconds")
    connector.start(float(every) if every is not None else None)
    return json_response(200, connector_json(connector_id, connector))


@bp.post("/connectors/<connector_id>/stop")
def stop_connector(connector_id: str) -> Response:
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    connector.stop()
    return json_response(200, connector_json(connector_id, connector))


@bp.put("/connectors/<connector_id>/faults")
def set_connector_faults(connector_id: str) -> Response:
    """{"rates": {kind: 0..1}, "seed"?: int}: replaces the connector's faults (counts start again). The kinds:
    qb_not_open, drop_answer, kill_mid_message, drop_request, other_company_file, second_pc."""
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    body = body_object()
    rates, seed = body.get("rates", {}), body.get("seed")
    require(isinstance(rates, dict), "rates must be an object of fault kind to rate")
    unknown = sorted(set(rates) - set(FAULT_KINDS))
    if unknown:
        raise BadInputError(f"unknown fault {unknown[0]!r}; the kinds are {', '.join(FAULT_KINDS)}")
    require(
        all(_is_number(rate) and 0 <= rate <= 1 for rate in rates.values()),
        "each rate must be a number from 0 to 1",
    )
    require(seed is None or _is_int(seed), "seed must be an integer")
    connector.faults = Faults({k: float(v) for k, v in rates.items()}, seed)
    return json_response(200, connector.faults.describe())


@bp.get("/connectors/<connector_id>/faults")
def read_connector_faults(connector_id: str) -> Response:
    connector = find_connector(connector_id)
    if connector is None:
        return error(404, f"no connector {connector_id!r}")
    return json_response(200, connector.faults.describe())


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return _is_int(value) or isinstance(value, float)


# ---------------------------------------------------------------------- the app


def create_app(state: Desktop) -> Flask:
    app = Flask("qbd-stand-ins")
    app.config["DESKTOP"] = state
    app.register_blueprint(bp)

    @app.errorhandler(BadInputError)
    def bad_input(exc: BadInputError) -> Response:
        return error(400, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:  # 404 and 405 in JSON too
        return error(exc.code or 500, exc.description or exc.name)

    return app


@dataclass
class RunningDesktop:
    desktop: Desktop
    server: BaseWSGIServer
    url: str

    def stop(self) -> None:
        self.desktop.stop()
        self.server.shutdown()
        self.server.server_close()


def start(host: str = "127.0.0.1", port: int = 3002, state: Desktop | None = None) -> RunningDesktop:
    """The controls on a thread of their own; with the demo company when `state` has none."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state = state or Desktop()
    if not state.companies:
        state.add_company(DEMO_COMPANY)
    server = make_server(host, port, create_app(state), threaded=True)
    threading.Thread(target=server.serve_forever, name="qbd-stand-ins", daemon=True).start()
    return RunningDesktop(state, server, f"http://{host}:{server.server_port}")
