"""Seeded fuzzing of every JSON route of the host-app API through the local API Gateway: never a 5xx, and
every 4xx is a problem document (API Gateway's own 401/403/404 bodies aside).

Each route gets a few hundred bodies: valid documents with one part mutated (wrong types, huge and tiny
numbers, odd Unicode, deep nesting, unknown or missing fields), raw text that is not quite JSON, and odd
content types. The seed is fixed, so a failure reproduces; FUZZ_SEED picks another. Bodies are UTF-8 text
here: how the gateway passes other bytes is its own concern, and the API's answer to a base64 body that is
not UTF-8 is tested in test_api.py.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.handlers.conftest import Gateway

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
BODIES_PER_ROUTE = 200
TENANT = "acme-42"

ODD_TEXT = [
    "",
    " ",
    "x" * 5000,
    "Ada\u0000Lovelace",
    "\u202eevil",
    "\u2066isolate\u2069",
    "\ufffe",
    "\uffff",
    "tab\there",
    "line\nbreak",
    "\U0001f600" * 300,
    "\u4e2d\u6587" * 400,
    "e\u0301" * 50,
    "Parent:Child",
    "{n}",
    "NaN",
    "-0",
    "1E-400",
    "9" * 40,
    "a b",
    "../..",
    "%00",
    "<script>",
    "' OR 1=1 --",
]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**30,
    0.1,
    -0.0,
    1e308,
    [],
    {},
    [1, "a", None],
    {"nested": {"deeper": [1]}},
    *ODD_TEXT,
]
# Raw JSON text that json.dumps cannot write: numbers out of any range, non-finite constants, lone surrogates.
ODD_RAW = [
    "1E-400",
    "-0",
    "-0.0",
    "1e999999",
    "-1e999999",
    "9" * 5000,
    "0." + "0" * 400 + "1",
    "NaN",
    "Infinity",
    "-Infinity",
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"\\u0000"',
    '"\\ud83d\\ude00"',
]
RAW_BODIES = [
    "",
    " ",
    "null",
    "true",
    "0",
    '"text"',
    "[]",
    "{",
    "}",
    '{"a": }',
    "{'single': 'quotes'}",
    '{"a": 1,}',
    '{"a": 1} trailing',
    "\ufeff{}",
    '{"a": 1, "a": 2}',
    "[" * 33 + "]" * 33,
    "[" * 400 + "]" * 400,
    "[" * 5000 + "]" * 5000,
    '{"a": ' * 2000 + "1" + "}" * 2000,
    "[" * 100_000,
    "<xml/>",
    "a=b&c=d",
]
CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/json-patch+json",
    "application/problem+json",
    "text/json",
    "*/*",
    "nonsense",
    "",
    None,
]


@dataclass(frozen=True)
class Route:
    method: str
    document: Callable[[random.Random], tuple[str, Any]]  # a path and a valid body for it


def record_path(record_type: str, record_id: str = "r-1") -> str:
    return f"/v1/tenants/{TENANT}/records/{record_type}/{record_id}"


def odd_id(rng: random.Random) -> str:
    return rng.choice(["r-1", "cust-1001", "a%20b", "a%2520b", "caf%C3%A9", "%2E%2E", "x" * 70, "-a", "a~b"])


def customer(rng: random.Random) -> dict[str, Any]:
    return {
        "display_name": f"Customer {rng.randrange(10**6)}",
        "email": "ada@example.com",
        "billing_address": {"line1": "1 Main St", "city": "London"},
        "notes": "Prefers email",
    }


def invoice(rng: random.Random) -> dict[str, Any]:
    return {
        "customer_id": "cust-1001",
        "doc_number": "INV-1",
        "txn_date": "2026-01-31",
        "lines": [
            {"item_id": "svc-1", "quantity": str(rng.randrange(1, 100)), "rate": "75.00"},
            {"item_id": "svc-1", "amount": "10.00", "description": "Call-out"},
        ],
    }


def payment(rng: random.Random) -> dict[str, Any]:
    return {
        "customer_id": "cust-1001",
        "total_amount": "10.00",
        "applications": [{"invoice_id": "inv-7", "amount": "10.00"}],
    }


RECORD_BODIES = {"customer": customer, "invoice": invoice, "payment": payment}


def one_record(rng: random.Random) -> tuple[str, Any]:
    record_type = rng.choice(list(RECORD_BODIES))
    record_id = "cust-1001" if record_type == "customer" and rng.random() < 0.5 else odd_id(rng)
    return record_path(record_type, record_id), RECORD_BODIES[record_type](rng)


def bulk(rng: random.Random) -> tuple[str, Any]:
    record_type = rng.choice(list(RECORD_BODIES))
    records = [{"id": f"r-{n}", "data": RECORD_BODIES[record_type](rng)} for n in range(rng.randrange(1, 4))]
    return f"/v1/tenants/{TENANT}/records/{record_type}", {"records": records}


def tenant(rng: random.Random) -> tuple[str, Any]:
    edition = rng.choice(["qbo", "qbd"])
    return "/v1/tenants", {"id": f"t-{rng.randrange(10**6)}", "name": "Acme Plumbing", "edition": edition}


def settings(rng: random.Random) -> tuple[str, Any]:
    return f"/v1/tenants/{TENANT}/settings", {
        "send_mode": rng.choice(["live", "review"]),
        "name_clash_policy": rng.choice(["fail", "rename", "link"]),
        "rename_suffix": " ({n})",
        "default_income_account": "Services",
        "payment_methods_to_sync": ["Check", "Cash"],
    }


def refs(action: str) -> Callable[[random.Random], tuple[str, Any]]:
    def document(rng: random.Random) -> tuple[str, Any]:
        chosen = [
            {"type": "customer", "id": "cust-1001"},
            {"type": "invoice", "id": rng.choice(["inv-7", "x"])},
        ]
        return f"/v1/tenants/{TENANT}/{action}", {"records": chosen}

    return document


ROUTES = {
    "tenants": Route("POST", tenant),
    "settings": Route("PUT", settings),
    "record": Route("PUT", one_record),
    "bulk": Route("POST", bulk),
    "sync": Route("POST", refs("sync")),
    "unpend": Route("POST", refs("unpend")),
}


def leaves(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value in a document, containers included."""
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += leaves(value, (*path, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = replaced(document[head], tuple(rest), value)
    return copy


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"x": value}
    return value


MARKER = "\u0001RAW\u0001"


def mutate(rng: random.Random, document: Any) -> str:
    """One mutation of a valid document, as JSON text."""
    target = rng.choice(leaves(document))
    kind = rng.randrange(7)
    if kind == 0:
        return json.dumps(replaced(document, target, rng.choice(ODD_VALUES)))
    if kind == 1:  # a value json.dumps cannot write, spliced into the text
        return json.dumps(replaced(document, target, MARKER)).replace(json.dumps(MARKER), rng.choice(ODD_RAW))
    if kind == 2:
        return json.dumps(replaced(document, target, deep(rng.choice([20, 28, 33, 100, 300]))))
    if kind == 3 and target and isinstance(document, dict):  # drop a field, or add an unknown one
        return json.dumps(replaced(document, target[:-1], {"unknown": 1}) if rng.random() < 0.5 else document)
    if kind == 4:
        return json.dumps(rng.choice([[document], {"body": document}, str(document)]))
    if kind == 5:  # text that is almost the document
        text = json.dumps(document)
        cut = rng.randrange(len(text))
        return rng.choice(
            [text[:cut], text[:cut] + text[cut + 1 :], text + rng.choice(["}", "]", ",", " x"])]
        )
    return json.dumps(document, ensure_ascii=rng.random() < 0.5)


def request_of(rng: random.Random, route: Route) -> tuple[str, str, str | None, tuple[tuple[str, str], ...]]:
    """(path, body text, content type, extra headers) of one fuzzed request to `route`."""
    path, document = route.document(rng)
    roll = rng.random()
    if roll < 0.7:
        body, content_type = mutate(rng, document), "application/json"
    elif roll < 0.85:
        body, content_type = rng.choice(RAW_BODIES), "application/json"
    else:
        body, content_type = json.dumps(document), rng.choice(CONTENT_TYPES)
    headers: list[tuple[str, str]] = []
    if rng.random() < 0.3:
        headers.append(
            ("idempotency-key", rng.choice(["k-1", "", " ", "x" * 300, "\u00e9", str(rng.random())]))
        )
    if rng.random() < 0.2:
        headers.append(("if-match", rng.choice(['"1"', "1", "*", '"x"', "9" * 30])))
    if rng.random() < 0.1:
        path += rng.choice(["?force=true", "?force=maybe", "?force=", "?%ff=1"])
    return path, body, content_type, tuple(headers)


def is_gateway_answer(status: int, content_type: str, body: bytes) -> bool:
    """API Gateway's own answers: 401/403 from the authorizer, 404 for a path no route matches."""
    if status not in {401, 403, 404} or content_type != "application/json":
        return False
    return json.loads(body) in (
        {"message": "Unauthorized"},
        {"message": "Forbidden"},
        {"message": "Not Found"},
    )


def is_problem(status: int, content_type: str, body: bytes) -> bool:
    if content_type != "application/problem+json":
        return False
    problem = json.loads(body)
    return (
        isinstance(problem, dict)
        and {"type", "title", "status", "detail"} <= set(problem)
        and problem["status"] == status
        and all(isinstance(problem[k], str) and problem[k] for k in ("type", "title", "detail"))
    )


@pytest.fixture
def setup(gateway: Gateway) -> None:
    """A tenant with a customer and an item, so that good-looking invoices get as far as being stored."""
    assert gateway.json("POST", "/v1/tenants", {"id": TENANT, "name": "Acme", "edition": "qbo"})[0] == 201
    assert gateway.json("PUT", record_path("customer", "cust-1001"), {"display_name": "Ada"})[0] == 201
    assert gateway.json("PUT", record_path("item", "svc-1"), {"kind": "service", "name": "Labour"})[0] == 201


@pytest.mark.usefixtures("setup")
def test_fuzzed_bodies_never_get_a_5xx_and_every_4xx_is_a_problem(gateway: Gateway) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for name, route in ROUTES.items():
        for _ in range(BODIES_PER_ROUTE):
            path, body, content_type, headers = request_of(rng, route)
            status, answered_type, answer = gateway.request(
                route.method, path, body, content_type=content_type, headers=headers
            )
            statuses[status] = statuses.get(status, 0) + 1
            fine = (
                status < 400
                or is_problem(status, answered_type, answer)
                or is_gateway_answer(status, answered_type, answer)
            )
            if status >= 500 or not fine:
                sent = f"{name} {route.method} {path} [{content_type}] {body[:120]!r}"
                failures.append(f"{sent} -> {status} {answer[:200]!r}")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} bad answers (seed {SEED}):\n" + "\n".join(failures[:10])
    assert sum(statuses.values()) == BODIES_PER_ROUTE * len(ROUTES)
    assert any(200 <= s < 300 for s in statuses), statuses  # some bodies were good enough to be accepted
    assert elapsed < 120, f"{elapsed:.0f}s: the fuzz run must stay fast"
