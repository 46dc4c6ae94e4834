"""GET and DELETE /v1/tenants/{id}/connection for a QuickBooks Desktop tenant, through API Gateway with an API
key, its Web Connector's calls going to /qbwc as the Web Connector sends them."""

from __future__ import annotations

import json

import pytest

from local.qbd.webconnector import envelope, headers, read_answer
from qbsync.domain import qbwc
from tests.handlers.conftest import Gateway
from tests.qbwc_hcp import hcp_response

TENANT = "acme-qbd"
CONNECTION = f"/v1/tenants/{TENANT}/connection"
COMPANY_FILE = "C:\\Company Files\\Acme.QBW"
ONLINE_FIELDS = {
    "tenant_id",
    "status",
    "realm_id",
    "company_name",
    "connected_since",
    "last_error",
    "first_load",
}
DESKTOP_FIELDS = {
    "company_file",
    "product_name",
    "quickbooks_version",
    "country",
    "last_run_at",
    "stale_since",
}


@pytest.fixture
def desktop(gateway: Gateway) -> Gateway:
    status, _ = gateway.json("POST", "/v1/tenants", {"id": TENANT, "name": "Acme", "edition": "qbd"})
    assert status == 201
    return gateway


def soap(gateway: Gateway, operation: str, *values: str | int) -> object:
    status, _, body = gateway.request(
        "POST",
        "/qbwc",
        envelope(operation, *values),
        content_type=None,
        headers=tuple(headers(operation).items()),
    )
    return read_answer(operation, status, body)


def run(gateway: Gateway, password: str) -> None:
    """One Web Connector update on the company file the .qwc was added to."""
    answer = soap(gateway, "authenticate", TENANT, password)
    assert isinstance(answer, list)
    ticket = answer[0]
    hcp = hcp_response(
        company="Acme Plumbing", file_ids=((qbwc.owner_id_of(TENANT), qbwc.file_id_of(TENANT)),)
    )
    sent = soap(gateway, "sendRequestXML", ticket, hcp, COMPANY_FILE, "US", 13, 0)
    assert "<CustomerQueryRq " in str(sent)  # nothing to send: the company's lists are read first
    assert soap(gateway, "closeConnection", ticket) == "qbsync: 0 sent, 0 synced, 0 failed"


def test_a_desktop_tenant_is_connecting_once_a_login_is_issued_and_shows_the_desktop_fields(
    desktop: Gateway,
) -> None:
    status, before = desktop.json("GET", CONNECTION)
    assert status == 200
    assert set(before) == ONLINE_FIELDS | DESKTOP_FIELDS
    assert before["status"] == "not_connected"
    desktop.json("POST", f"/v1/tenants/{TENANT}/web-connector")
    assert desktop.json("GET", CONNECTION)[1]["status"] == "connecting"


def test_after_a_good_run_the_connection_says_what_quickbooks_said(desktop: Gateway) -> None:
    password = desktop.json("POST", f"/v1/tenants/{TENANT}/web-connector")[1]["password"]
    run(desktop, password)
    status, body = desktop.json("GET", CONNECTION)
    assert status == 200
    assert body["status"] == "connected"
    assert {k: body[k] for k in ("company_name", "company_file", "product_name", "quickbooks_version")} == {
        "company_name": "Acme Plumbing",
        "company_file": COMPANY_FILE,
        "product_name": "QuickBooks Pro 2014",
        "quickbooks_version": "24.0",
    }
    assert (body["country"], body["realm_id"], body["last_error"], body["stale_since"]) == (
        "US",
        None,
        None,
        None,
    )
    assert body["last_run_at"]
    assert body["connected_since"]


def test_disconnecting_a_desktop_tenant_retires_its_login_and_its_web_connector_gets_nvu(
    desktop: Gateway,
) -> None:
    password = desktop.json("POST", f"/v1/tenants/{TENANT}/web-connector")[1]["password"]
    run(desktop, password)
    status, body = desktop.json("DELETE", CONNECTION)
    assert status == 200
    assert (body["status"], body["company_name"]) == ("disconnected", "Acme Plumbing")
    assert soap(desktop, "authenticate", TENANT, password) == ["", "nvu"]
    status, content_type, raw = desktop.request("GET", f"/v1/tenants/{TENANT}/web-connector/qwc")
    assert (status, content_type) == (404, "application/problem+json")
    assert "retired" in json.loads(raw)["detail"]
    assert desktop.json("GET", CONNECTION)[1]["status"] == "disconnected"


def test_an_online_tenants_connection_keeps_its_shape(gateway: Gateway) -> None:
    gateway.json("POST", "/v1/tenants", {"id": "acme-qbo", "name": "Acme", "edition": "qbo"})
    for method in ("GET", "DELETE"):
        status, body = gateway.json(method, "/v1/tenants/acme-qbo/connection")
        assert status == 200
        assert set(body) == ONLINE_FIELDS


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_the_connection_of_an_unknown_tenant_is_a_404_problem(gateway: Gateway, method: str) -> None:
    status, content_type, raw = gateway.request(method, "/v1/tenants/nobody/connection")
    assert (status, content_type) == (404, "application/problem+json")
    assert "POST /v1/tenants" in json.loads(raw)["detail"]


def test_the_openapi_document_describes_both_shapes_and_what_delete_does(gateway: Gateway) -> None:
    status, doc = gateway.json("GET", "/openapi.json")
    assert status == 200
    schemas = doc["components"]["schemas"]
    assert set(schemas["DesktopConnectionOut"]["properties"]) >= DESKTOP_FIELDS
    assert not DESKTOP_FIELDS & set(schemas["ConnectionOut"]["properties"])
    path = doc["paths"]["/v1/tenants/{tenant_id}/connection"]
    answer = json.dumps(path["get"]["responses"]["200"])
    assert "DesktopConnectionOut" in answer
    assert "ConnectionOut" in answer.replace("DesktopConnectionOut", "")
    assert "nvu" in path["delete"]["description"]
    assert set(path["delete"]["responses"]) >= {"200", "404"}
