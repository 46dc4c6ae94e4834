"""GET /_sandbox/requests counts what the Accounting API answered, 429s included."""

from __future__ import annotations

from tests.sandbox.test_accounting_helpers import REALM, Api


def test_answers_are_counted_by_status_and_resource() -> None:
    api = Api()
    api.create("Customer", {"DisplayName": "Counted"})
    assert api.post("customer", {"DisplayName": "Counted"}).status_code == 400  # 6240
    assert api.client.post("/_sandbox/faults", json={"kind": "throttle"}).status_code == 201
    assert api.query("select * from Customer").status_code == 429
    counts = api.client.get("/_sandbox/requests").get_json()
    assert counts["by_status"] == {"200": 1, "400": 1, "429": 1}
    assert counts["total"] == 3
    assert {(a["resource"], a["status"]) for a in counts["answers"]} == {
        ("customer", 200),
        ("customer", 400),
        ("query", 429),
    }
    assert api.client.get("/_sandbox/requests?realm_id=other").get_json()["total"] == 0
    assert all(a["realm_id"] == REALM for a in counts["answers"])
