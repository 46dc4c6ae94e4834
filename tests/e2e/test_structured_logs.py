"""A whole local run's log lines: a QuickBooks Online tenant created, connected to the sandbox, its records
pushed and synced, one refused, a payment coming back through the webhook; a Desktop tenant's record sent
through the simulated Web Connector. Every line that concerns a tenant says which tenant and edition, every
line about a record says which record, every line of an invocation that has a correlation id carries it, and
no line holds a secret the run used."""

from __future__ import annotations

import inspect
import io
import json
import os
import threading
from typing import Any

import httpx
import pytest
from aws_lambda_powertools import Logger

from local import aws as local_aws
from local import stack as local_stack
from local.connect import connect_qbo
from local.lambdas import LocalFunction
from local.qbd import server as qbd_server
from local.qbd.webconnector import Qwc
from tests.e2e.test_qbo_sync import enter_payment, push, push_until_synced, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
QBO_TENANT = "logs-qbo"
QBD_TENANT = "logs-qbd"
# Ids no other id contains, so that a line naming one names no other.
QBO_RECORDS = [
    ("customer", "oc-k9", {"display_name": "Payer K"}),
    ("item", "oi-k9", {"kind": "service", "name": "Repair K", "sales_price": "80"}),
    *(
        (
            "invoice",
            f"oinv-k9-{n}",
            {
                "customer_id": "oc-k9",
                "doc_number": f"D{n}",
                "lines": [{"item_id": "oi-k9", "quantity": "1", "rate": "80"}],
            },
        )
        for n in (1, 2)
    ),
]
# A customer whose batch QuickBooks refuses (400, fault 2020): it fails, a line about that record.
REFUSED = ("customer", "oc2-k9", {"display_name": "Refused K"})
QBD_RECORDS = [("customer", "dc-k9", {"display_name": "Desk K"})]
# Functions whose events carry a correlation id: API Gateway's request id, or the job's id in the worker.
CORRELATED = {"api", "authorizer", "connect", "qbo-webhook", "qbwc", "sync-worker"}


class _Lines(io.TextIOBase):
    """stdout, where every function's Logger writes, kept whole whatever thread writes."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


@pytest.fixture(scope="module")
def run() -> tuple[list[str], set[str]]:
    """Every line the run logged, and every secret it used."""
    saved = dict(os.environ)
    out = _Lines()
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, qbd_port=0)
    # Each function's Logger writes through one handler per service, made by the first stack of this process.
    handlers = [_logger_of(function).registered_handler for function in stack.functions.values()]
    streams = [handler.setStream(out) for handler in handlers]
    try:
        client = httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=30
        )
        login = _desktop_login(client)
        _, connector = stack.qbd.desktop.add_connector(
            Qwc.parse(login["qwc"]), login["password"], qbd_server.slug(qbd_server.DEMO_COMPANY)
        )
        realm = connect_qbo(stack, QBO_TENANT)
        ids = push_until_synced(client, QBO_TENANT, QBO_RECORDS)
        enter_payment_for(stack, realm, ids)
        refusal = {"kind": "status", "status": 400, "code": "2020", "path_contains": "/batch"}
        httpx.post(f"{stack.qbo.url}/_sandbox/faults", json=refusal).raise_for_status()
        push(client, QBO_TENANT, [REFUSED])
        wait_for(lambda: _state(client, QBO_TENANT, *REFUSED[:2]) == "failed", "the refused record")
        push(client, QBD_TENANT, QBD_RECORDS)
        connector.run_once()
        wait_for(lambda: _state(client, QBD_TENANT, "customer", "dc-k9") == "synced", "the Desktop record")
        issued = httpx.get(f"{stack.qbo.url}/_sandbox/issued").json()
    finally:
        stack.stop()
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
        os.environ.clear()
        os.environ.update(saved)
    secrets = {
        str(stack.api_key),
        login["password"],
        local_stack.LOCAL_QBO_CLIENT_SECRET,
        local_aws.LOCAL_SECRETS["WebhookVerifierSecret"]["verifier_token"],
        *issued["codes"],
        *issued["access_tokens"],
        *issued["refresh_tokens"],
        *issued["client_secrets"],
    }
    assert issued["access_tokens"]
    assert issued["refresh_tokens"]
    return out.text().splitlines(), secrets


def _logger_of(function: LocalFunction) -> Logger:
    logger = inspect.unwrap(function.handler).__globals__["logger"]
    assert isinstance(logger, Logger)
    return logger


def _desktop_login(client: httpx.Client) -> dict[str, Any]:
    """A Desktop tenant and its Web Connector login, as the host app makes them."""
    answer = client.post("/v1/tenants", json={"id": QBD_TENANT, "name": "Logs Desk", "edition": "qbd"})
    assert answer.status_code == 201, answer.text
    answer = client.post(f"/v1/tenants/{QBD_TENANT}/web-connector")
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def enter_payment_for(stack: local_stack.RunningStack, realm: str, ids: dict[str, str]) -> None:
    """A payment of both invoices entered in QuickBooks: the webhook and the worker's read of it."""
    enter_payment(
        stack, realm, {"c-k9": ids["oc-k9"], "inv-k9-1": ids["oinv-k9-1"], "inv-k9-2": ids["oinv-k9-2"]}, "k9"
    )


def _state(client: httpx.Client, tenant: str, record_type: str, record_id: str) -> str:
    return str(client.get(f"/v1/tenants/{tenant}/records/{record_type}/{record_id}").json()["state"])


def _invocation_lines(lines: list[str]) -> list[dict[str, Any]]:
    """The lines the functions wrote while invoked (a line written at a cold start, outside any, concerns no
    tenant)."""
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    invoked = [line for line in parsed if line.get("function_request_id")]
    assert len(invoked) > 50, lines[:20]
    return invoked


def test_no_line_of_the_run_holds_a_secret_it_used(run: tuple[list[str], set[str]]) -> None:
    lines, secrets = run
    leaks = [(secret[:6], line[:300]) for line in lines for secret in secrets if secret in line]
    assert not leaks


def test_every_line_that_names_a_tenant_carries_its_tenant_id_and_edition(
    run: tuple[list[str], set[str]],
) -> None:
    lines, _ = run
    editions = {QBO_TENANT: "qbo", QBD_TENANT: "qbd"}
    seen = dict.fromkeys(editions, 0)
    wrong = []
    for line in _invocation_lines(lines):
        text = json.dumps(line)
        for tenant, edition in editions.items():
            if f'"{tenant}"' in text or f"/{tenant}/" in text:
                seen[tenant] += 1
                if line.get("tenant_id") != tenant or line.get("edition") != edition:
                    wrong.append(line)
    assert all(seen.values()), seen
    assert not wrong, _summary(wrong)


def test_every_line_that_names_a_record_carries_its_type_and_id(run: tuple[list[str], set[str]]) -> None:
    lines, _ = run
    records = {rid: rtype for rtype, rid, _ in [*QBO_RECORDS, REFUSED, *QBD_RECORDS]}
    seen = dict.fromkeys(records, 0)
    wrong = []
    for line in _invocation_lines(lines):
        text = json.dumps(line)
        named = {rid for rid in records if rid in text}
        for rid in named:
            seen[rid] += 1
        if named and (
            line.get("record_id") not in named
            or line.get("record_type") != records.get(line.get("record_id", ""))
        ):
            wrong.append(line)
    assert seen[REFUSED[1]], seen  # its failure is logged
    assert not wrong, _summary(wrong)


def test_every_line_of_an_invocation_with_a_correlation_id_carries_it(
    run: tuple[list[str], set[str]],
) -> None:
    lines, _ = run
    invocations = [line for line in _invocation_lines(lines) if line.get("function_request_id")]
    assert {line["service"] for line in invocations} >= {"authorizer", "qbo-webhook", "qbwc", "sync-worker"}
    missing = [
        line for line in invocations if line["service"] in CORRELATED and not line.get("correlation_id")
    ]
    assert not missing, _summary(missing)


def _summary(lines: list[dict[str, Any]]) -> str:
    """Which kinds of line are wrong (function, logger, message), and the first of them whole."""
    kinds = sorted({(line.get("service"), line.get("name"), line.get("message")) for line in lines}, key=str)
    return "\n".join([*map(str, kinds), json.dumps(lines[0], indent=1)])
