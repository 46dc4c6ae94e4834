"""Record ids in URLs: the gateway decodes the path once, and every route takes ids from one safe alphabet."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import Gateway

RECORDS = "/v1/tenants/acme-42/records"


@pytest.fixture
def tenant(gateway: Gateway) -> None:
    assert gateway.json("POST", "/v1/tenants", {"id": "acme-42", "name": "Acme", "edition": "qbo"})[0] == 201


@pytest.mark.usefixtures("tenant")
def test_a_percent_encoded_id_in_the_path_is_decoded_once(gateway: Gateway) -> None:
    status, created = gateway.json("PUT", f"{RECORDS}/customer/cust%2D1001", {"display_name": "Ada"})
    assert (status, created["id"]) == (201, "cust-1001")
    for path in (f"{RECORDS}/customer/cust-1001", f"{RECORDS}/customer/cust%2d1001"):
        status, read = gateway.json("GET", path)
        assert (status, read["id"], read["revision"]) == (200, "cust-1001", 1)
    assert gateway.json("DELETE", f"{RECORDS}/customer/cust%2D1001")[0] == 200


@pytest.mark.usefixtures("tenant")
@pytest.mark.parametrize(
    "encoded", ["a%20b", "a%2520b", "caf%C3%A9", "a%3Bb", "a%2Cb", "a%40b", "%2E", "%2E%2E", "-a", "a~b"]
)
def test_an_id_outside_the_safe_alphabet_is_refused_on_every_path_route(
    gateway: Gateway, encoded: str
) -> None:
    path = f"{RECORDS}/customer/{encoded}"
    for method, body in [("PUT", {"display_name": "Ada"}), ("GET", b""), ("DELETE", b"")]:
        status, problem = gateway.json(method, path, body)
        assert (status, problem["errors"][0]["field"]) == (422, "record_id"), (method, encoded)
    status, listing = gateway.json("GET", f"{RECORDS}/customer")
    assert (status, listing["items"]) == (200, [])


@pytest.mark.usefixtures("tenant")
@pytest.mark.parametrize("encoded", ["a%23b", "a%00"])
def test_an_id_no_route_can_hold_is_a_404_problem(gateway: Gateway, encoded: str) -> None:
    status, content_type, _ = gateway.request("PUT", f"{RECORDS}/customer/{encoded}", '{"display_name": "A"}')
    assert (status, content_type) == (404, "application/problem+json")


@pytest.mark.usefixtures("tenant")
@pytest.mark.parametrize("bad", ["a b", "a#b", "a?b", "a/b", "café", "a%20b", " a", "x" * 65, ".."])
def test_a_bulk_push_refuses_ids_a_url_could_not_name(gateway: Gateway, bad: str) -> None:
    records = [{"id": "c-1", "data": {"display_name": "One"}}, {"id": bad, "data": {"display_name": "Two"}}]
    status, problem = gateway.json("POST", f"{RECORDS}/customer", {"records": records})
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["records.1.id"]
    send = {"records": [{"type": "customer", "id": bad}]}
    status, problem = gateway.json("POST", "/v1/tenants/acme-42/sync", send)
    assert (status, problem["errors"][0]["field"]) == (422, "records.0.id")
    assert gateway.json("GET", f"{RECORDS}/customer")[1]["items"] == []


@pytest.mark.usefixtures("tenant")
def test_a_reference_must_be_an_id_from_the_same_alphabet(gateway: Gateway) -> None:
    invoice = {"customer_id": "a b", "lines": [{"item_id": "svc-1", "amount": "1.00"}]}
    status, problem = gateway.json("PUT", f"{RECORDS}/invoice/inv-7", invoice)
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["customer_id"]
