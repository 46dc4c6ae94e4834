"""A Desktop tenant's connection on the stand-ins: the simulated Web Connector, with a simulated company
behind it, updating through the local stack's /qbwc (API Gateway emulation, QbwcFunction, moto), and what
the host app then reads from GET /v1/tenants/{id}/connection and the tenant's event feed.

Each test has its own tenant and company, so the states it sees are its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local import stack as local_stack
from local.qbd.company import Company
from local.qbd.webconnector import (
    Ending,
    Faults,
    Qwc,
    SimulatedWebConnector,
    default_company_file,
    envelope,
    headers,
    read_answer,
)
from tests.qbwc_hcp import logged_hcp_response
from tests.qbxml_reference import requires_captures


@pytest.fixture
def api(running: local_stack.RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=running.api_url,
        headers={"Authorization": f"Bearer {running.api_key}"},
        trust_env=False,
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def tenant(api: httpx.Client) -> str:
    tenant_id = f"qbd-{uuid.uuid4().hex[:12]}"
    created = api.post("/v1/tenants", json={"id": tenant_id, "name": "Acme Desktop", "edition": "qbd"})
    assert created.status_code == 201, created.text
    return tenant_id


def issue(api: httpx.Client, tenant_id: str) -> dict[str, Any]:
    issued = api.post(f"/v1/tenants/{tenant_id}/web-connector")
    assert issued.status_code == 201
    return dict(issued.json())


def web_connector(
    issued: dict[str, Any], company: Company, other_company: Company | None = None, **faults: float
) -> SimulatedWebConnector:
    return SimulatedWebConnector(
        Qwc.parse(issued["qwc"]),
        issued["password"],
        company,
        faults=Faults(dict(faults)),
        other_company=other_company,
        noop_pause_seconds=0,
    )


def connection(api: httpx.Client, tenant_id: str) -> dict[str, Any]:
    answer = api.get(f"/v1/tenants/{tenant_id}/connection")
    assert answer.status_code == 200
    return dict(answer.json())


def told(api: httpx.Client, tenant_id: str) -> list[dict[str, Any]]:
    """The connection.changed details in the tenant's event feed, oldest first."""
    feed = api.get(f"/v1/tenants/{tenant_id}/events", params={"limit": 100})
    assert feed.status_code == 200
    return [e["detail"] for e in feed.json()["items"] if e["type"] == "connection.changed"]


def test_a_login_makes_the_tenant_connecting_and_a_run_connects_it_with_the_companys_facts(
    api: httpx.Client, tenant: str
) -> None:
    issued = issue(api, tenant)
    assert connection(api, tenant)["status"] == "connecting"
    company = Company(name="Acme Plumbing")
    run = web_connector(issued, company).run_once()
    assert run.ended is Ending.DONE  # nothing to send: the payments entered in QuickBooks are read, then done
    shown = connection(api, tenant)
    assert shown["status"] == "connected"
    assert {k: shown[k] for k in ("company_name", "company_file", "product_name", "quickbooks_version")} == {
        "company_name": "Acme Plumbing",
        "company_file": default_company_file("Acme Plumbing"),
        "product_name": "QuickBooks Pro 2014",
        "quickbooks_version": "24.0",
    }
    assert (shown["country"], shown["last_error"], shown["stale_since"]) == ("US", None, None)
    assert shown["last_run_at"] >= shown["connected_since"]
    assert [(t["previous_status"], t["status"]) for t in told(api, tenant)] == [
        ("not_connected", "connecting"),
        ("connecting", "connected"),
    ]


def test_another_company_file_gets_nothing_and_the_connection_names_the_file(
    api: httpx.Client, tenant: str
) -> None:
    issued = issue(api, tenant)
    company, other = Company(name="Acme Plumbing"), Company(name="Another Company")
    web_connector(issued, company).run_once()
    before = company.counters["messages"]
    run = web_connector(issued, company, other, other_company_file=1.0).run_once()
    assert run.faults == ["other_company_file"]
    assert run.ended is Ending.LAST_ERROR
    assert run.message.startswith("Another company file is open in QuickBooks:")
    assert (company.counters["messages"], other.counters["messages"]) == (before, 0)  # no qbXML to either
    shown = connection(api, tenant)
    assert shown["status"] == "connected"  # still to its own file, which has not moved
    assert shown["company_file"] == default_company_file("Acme Plumbing")
    assert shown["last_error"]["code"] == "other_company_file"
    assert default_company_file("Another Company") in shown["last_error"]["message"]
    assert told(api, tenant)[-1]["last_error"]["code"] == "other_company_file"


def test_quickbooks_not_open_is_done_without_a_loop_and_set_on_the_connection(
    api: httpx.Client, tenant: str
) -> None:
    issued = issue(api, tenant)
    company = Company(name="Acme Plumbing")
    web_connector(issued, company).run_once()
    run = web_connector(issued, company, qb_not_open=1.0).run_once()
    assert run.operations == ["serverVersion", "clientVersion", "authenticate", "connectionError"]
    assert run.result_of("connectionError") == "done"
    assert run.ended is Ending.CONNECTION_ERROR
    shown = connection(api, tenant)
    assert shown["status"] == "connected"
    assert shown["last_error"]["code"] == "quickbooks_not_open"
    assert "0x80040408" in shown["last_error"]["message"]


@requires_captures
def test_the_captured_quickbooks_2006_gets_no_qbxml_and_the_connection_gives_the_minimum_version(
    running: local_stack.RunningStack, api: httpx.Client, tenant: str
) -> None:
    issued = issue(api, tenant)

    def call(operation: str, *values: str | int) -> object:
        with httpx.Client(trust_env=False, timeout=30) as client:
            answer = client.post(
                f"{running.api_url}/qbwc", content=envelope(operation, *values), headers=headers(operation)
            )
        return read_answer(operation, answer.status_code, answer.content)

    ticket, _ = call("authenticate", issued["user_name"], issued["password"])  # type: ignore[misc]
    assert call("sendRequestXML", ticket, logged_hcp_response(), "C:\\Test Company.QBW", "US", 5, 0) == ""
    said = str(call("getLastError", ticket))
    assert said.startswith("QuickBooks Desktop 2014 or newer is needed")
    assert call("closeConnection", ticket) == "qbsync: 0 sent, 0 synced, 0 failed"
    shown = connection(api, tenant)
    assert shown["status"] == "connecting"
    assert shown["last_error"]["code"] == "quickbooks_too_old"
    assert shown["last_error"]["message"] == said
    assert "QuickBooks Pro 2006, which reads qbXML up to 5.0" in said


def test_each_change_is_one_connection_changed_event_in_the_tenants_feed(
    api: httpx.Client, tenant: str
) -> None:
    issued = issue(api, tenant)
    company = Company(name="Acme Plumbing")
    web_connector(issued, company).run_once()  # connected
    web_connector(issued, company, qb_not_open=1.0).run_once()  # last_error
    web_connector(issued, company, qb_not_open=1.0).run_once()  # the same error: not told again
    web_connector(issued, company).run_once()  # cleared
    web_connector(issued, company).run_once()  # nothing changed
    assert [(t["status"], t["last_error"] and t["last_error"]["code"]) for t in told(api, tenant)] == [
        ("connecting", None),
        ("connected", None),
        ("connected", "quickbooks_not_open"),
        ("connected", None),
    ]
    details = told(api, tenant)[-1]
    assert details["tenant_id"] == tenant
    assert details["company_file"] == default_company_file("Acme Plumbing")
    assert details["product_name"] == "QuickBooks Pro 2014"


def test_a_disconnected_tenants_web_connector_is_told_nvu(api: httpx.Client, tenant: str) -> None:
    issued = issue(api, tenant)
    company = Company(name="Acme Plumbing")
    web_connector(issued, company).run_once()
    gone = api.delete(f"/v1/tenants/{tenant}/connection")
    assert gone.status_code == 200
    assert gone.json()["status"] == "disconnected"
    run = web_connector(issued, company).run_once()
    assert run.result_of("authenticate") == ["", "nvu"]
    assert run.ended is Ending.INVALID_USER
    assert told(api, tenant)[-1]["status"] == "disconnected"
