from __future__ import annotations

import copy
import json

from local.lambdas import LocalFunction
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
