from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

import pytest

from local.lambdas import LocalFunction
from local.qbd.webconnector import Qwc
from qbsync.domain.qbwc import verify_password
from tests.conftest import load_event


def test_an_unissued_connect_link_gets_a_clear_page(functions: dict[str, LocalFunction]) -> None:
    result = functions["ConnectFunction"].invoke(load_event("connect_page.json"))
    assert result["statusCode"] == 404
    assert result["headers"]["Content-Type"].startswith("text/html")
    assert "This connect link is not valid" in result["body"]
    assert "new connect link" in result["body"]


def test_a_callback_without_a_connect_link_is_refused_with_a_way_forward(
    functions: dict[str, LocalFunction],
) -> None:
    result = functions["ConnectFunction"].invoke(load_event("connect_qbo_callback.json"))
    assert result["statusCode"] == 400
    assert "This sign-in has expired or was already used" in result["body"]
    assert "Open your connect link again" in result["body"]
    assert result["headers"]["Cache-Control"] == "no-store"


def test_the_connect_page_shows_the_tenants_name_escaped_once(functions: dict[str, LocalFunction]) -> None:
    create = copy.deepcopy(load_event("api_create_tenant.json"))
    create["body"] = json.dumps({"id": "smith", "name": "Smith & Sons <Ltd>", "edition": "qbo"})
    create["headers"].pop("content-length", None)
    assert functions["ApiFunction"].invoke(create)["statusCode"] == 201
    from qbsync.composition import container

    token = container().onboarding.create_link("smith", "https://connect.example").url.rsplit("/", 1)[1]
    page = copy.deepcopy(load_event("connect_page.json"))
    page["rawPath"] = page["requestContext"]["http"]["path"] = f"/connect/{token}"
    page["pathParameters"] = {"proxy": token}
    result = functions["ConnectFunction"].invoke(page)
    assert result["statusCode"] == 200
    assert "Connect Smith &amp; Sons &lt;Ltd&gt; to QuickBooks Online" in result["body"]
    assert "&amp;amp;" not in result["body"]
    assert "<Ltd>" not in result["body"]


def desktop_link(functions: dict[str, LocalFunction], tenant_id: str = "smith-qbd") -> str:
    create = copy.deepcopy(load_event("api_create_tenant.json"))
    create["body"] = json.dumps({"id": tenant_id, "name": "Smith & Sons <Desktop>", "edition": "qbd"})
    create["headers"].pop("content-length", None)
    assert functions["ApiFunction"].invoke(create)["statusCode"] == 201
    from qbsync.composition import container

    return container().onboarding.create_link(tenant_id, "https://connect.example").url.rsplit("/", 1)[1]


def open_page(functions: dict[str, LocalFunction], path: str, method: str = "GET") -> dict[str, Any]:
    event = copy.deepcopy(load_event("connect_page.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = "ANY /connect/{proxy+}"
    event["pathParameters"] = {"proxy": path.removeprefix("/connect/")}
    result: dict[str, Any] = functions["ConnectFunction"].invoke(event)
    return result


def test_a_desktop_connect_link_explains_the_web_connector_steps_and_offers_a_password(
    functions: dict[str, LocalFunction],
) -> None:
    token = desktop_link(functions)
    result = open_page(functions, f"/connect/{token}")
    assert result["statusCode"] == 200
    body = result["body"]
    assert "Connect Smith &amp; Sons &lt;Desktop&gt; to QuickBooks Desktop" in body
    for step in ("Install the QuickBooks Web Connector", "as the Admin user", ".qwc", "Update Selected"):
        assert step in body
    assert f'<form method="post" action="/connect/{token}">' in body
    assert "Get a password</button>" in body
    assert "not offered here yet" not in body


def test_the_button_issues_a_password_shown_once_with_the_qwc_to_download(
    functions: dict[str, LocalFunction],
) -> None:
    from qbsync.composition import container

    token = desktop_link(functions)
    issued = open_page(functions, f"/connect/{token}", "POST")
    assert issued["statusCode"] == 200
    assert issued["headers"]["Cache-Control"] == "no-store"
    password = re.search(r'<code id="password">([^<]+)</code>', issued["body"])
    assert password is not None
    stored = container().qbwc_credentials.find("smith-qbd")
    assert stored is not None
    assert verify_password(html.unescape(password.group(1)), stored.password_hash)
    assert f'href="/connect/{token}/qwc"' in issued["body"]

    download = open_page(functions, f"/connect/{token}/qwc")
    assert download["statusCode"] == 200
    assert download["headers"]["Content-Type"] == "application/xml"
    assert download["headers"]["Content-Disposition"] == 'attachment; filename="smith-qbd.qwc"'
    qwc = Qwc.parse(download["body"])
    assert qwc.user_name == "smith-qbd"
    assert qwc.app_url == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/qbwc"
    assert password.group(1) not in download["body"]

    again = open_page(functions, f"/connect/{token}")
    assert "Get a new password</button>" in again["body"]
    assert "retires it" in again["body"]
    assert password.group(1) not in again["body"]  # shown once only


def test_the_qwc_before_a_password_was_issued_is_a_page_saying_what_to_do(
    functions: dict[str, LocalFunction],
) -> None:
    token = desktop_link(functions)
    result = open_page(functions, f"/connect/{token}/qwc")
    assert result["statusCode"] == 404
    assert "Get a password" in result["body"]


@pytest.mark.parametrize(("method", "suffix"), [("POST", ""), ("GET", "/qwc")])
def test_no_password_or_file_for_an_invalid_link_or_an_online_tenant(
    functions: dict[str, LocalFunction], method: str, suffix: str
) -> None:
    assert open_page(functions, f"/connect/not-a-link{suffix}", method)["statusCode"] == 404
    create = copy.deepcopy(load_event("api_create_tenant.json"))
    create["body"] = json.dumps({"id": "online", "name": "Online", "edition": "qbo"})
    create["headers"].pop("content-length", None)
    assert functions["ApiFunction"].invoke(create)["statusCode"] == 201
    from qbsync.composition import container

    token = container().onboarding.create_link("online", "https://connect.example").url.rsplit("/", 1)[1]
    result = open_page(functions, f"/connect/{token}{suffix}", method)
    assert result["statusCode"] == 404
    assert "This connect link is not valid" in result["body"]
    assert container().qbwc_credentials.find("online") is None
