from __future__ import annotations

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
