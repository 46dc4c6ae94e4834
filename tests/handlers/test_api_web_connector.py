"""POST /v1/tenants/{id}/web-connector and GET …/web-connector/qwc, through API Gateway with an API key."""

from __future__ import annotations

import json

import pytest

from local.qbd.webconnector import Qwc
from qbsync.domain.qbwc import verify_password
from tests.handlers.conftest import Gateway

ISSUE = "/v1/tenants/acme-qbd/web-connector"
QWC = "/v1/tenants/acme-qbd/web-connector/qwc"


@pytest.fixture
def desktop(gateway: Gateway) -> Gateway:
    status, _ = gateway.json("POST", "/v1/tenants", {"id": "acme-qbd", "name": "Acme", "edition": "qbd"})
    assert status == 201
    return gateway


def test_issuing_answers_201_with_the_login_the_password_once_and_the_qwc(desktop: Gateway) -> None:
    status, content_type, raw = desktop.request("POST", ISSUE)
    assert status == 201
    assert content_type == "application/json"
    body = json.loads(raw)
    assert set(body) == {"user_name", "password", "qwc", "run_every_minutes"}
    assert body["run_every_minutes"] == 10
    qwc = Qwc.parse(body["qwc"])
    assert qwc.user_name == body["user_name"] == "acme-qbd"
    assert qwc.app_url == "http://localhost:3000/qbwc"  # the gateway's host, http on this machine only
    assert body["password"] not in body["qwc"]
    from qbsync.composition import container

    stored = container().qbwc_credentials.find("acme-qbd")
    assert stored is not None
    assert verify_password(body["password"], stored.password_hash)


def test_the_qwc_downloads_again_as_an_attachment_without_the_password(desktop: Gateway) -> None:
    issued = desktop.json("POST", ISSUE)[1]
    status, content_type, raw = desktop.request("GET", QWC)
    assert status == 200
    assert content_type == "application/xml"
    assert raw.decode() == issued["qwc"]
    assert issued["password"].encode() not in raw
    _, headers = _headers(desktop, QWC)
    assert headers["content-disposition"] == 'attachment; filename="acme-qbd.qwc"'


def test_the_qwc_before_any_login_is_a_404_problem(desktop: Gateway) -> None:
    status, content_type, raw = desktop.request("GET", QWC)
    assert status == 404
    assert content_type == "application/problem+json"
    assert "POST /v1/tenants/acme-qbd/web-connector" in json.loads(raw)["detail"]


def test_an_online_tenant_gets_a_409_problem(gateway: Gateway) -> None:
    gateway.json("POST", "/v1/tenants", {"id": "acme-qbo", "name": "Acme", "edition": "qbo"})
    for method, path in (
        ("POST", "/v1/tenants/acme-qbo/web-connector"),
        ("GET", "/v1/tenants/acme-qbo/web-connector/qwc"),
    ):
        status, content_type, raw = gateway.request(method, path)
        assert status == 409
        assert content_type == "application/problem+json"
        assert "QuickBooks Online" in json.loads(raw)["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/tenants/nobody/web-connector"), ("GET", "/v1/tenants/nobody/web-connector/qwc")],
)
def test_an_unknown_tenant_is_a_404_problem(gateway: Gateway, method: str, path: str) -> None:
    status, content_type, raw = gateway.request(method, path)
    assert status == 404
    assert content_type == "application/problem+json"
    assert "POST /v1/tenants" in json.loads(raw)["detail"]


def test_both_routes_are_in_the_openapi_document(gateway: Gateway) -> None:
    status, doc = gateway.json("GET", "/openapi.json")
    assert status == 200
    issue = doc["paths"]["/v1/tenants/{tenant_id}/web-connector"]["post"]
    assert set(issue["responses"]) >= {"201", "404", "409"}
    download = doc["paths"]["/v1/tenants/{tenant_id}/web-connector/qwc"]["get"]
    assert "application/xml" in download["responses"]["200"]["content"]
    assert set(download["responses"]) >= {"404", "409"}


def _headers(gateway: Gateway, path: str) -> tuple[int, dict[str, str]]:
    answer = gateway.api.handle(
        "GET", path, [("host", "localhost:3000"), ("authorization", f"Bearer {gateway.key}")], b""
    )
    return answer.status, {k.lower(): v for k, v in answer.headers}
