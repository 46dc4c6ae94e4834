"""Change data capture and batch: shapes of cdc__basic__0 and batch__basic__0, limits, per-item faults."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from local.qbo.entities import stamp
from tests.sandbox.test_accounting_helpers import Api, code_of, fault, needs_reference, recorded


@pytest.fixture
def api() -> Api:
    return Api()


def _since(api: Api, **delta: float) -> str:
    return stamp(api.sb.clock.now() - timedelta(**delta))


# ------------------------------------------------------------------------------ CDC


@needs_reference
def test_cdc_answers_changed_and_deleted_records_in_the_recorded_shape(api: Api) -> None:
    since = _since(api, minutes=1)
    customer = api.customer()["Id"]
    kept, dropped = api.invoice(customer, 10), api.invoice(customer, 20)
    api.sb.clock.offset += timedelta(seconds=30)
    api.post("invoice", {"Id": dropped["Id"], "SyncToken": "0"}, operation="delete")
    body = api.get("cdc", entities="invoice,Payment", changedSince=since).get_json()
    theirs = recorded("cdc__basic__0")["response"]["body_json"]
    assert set(body) == set(theirs) == {"CDCResponse", "time"}
    [invoices, payments] = body["CDCResponse"][0]["QueryResponse"]
    assert set(invoices) == set(theirs["CDCResponse"][0]["QueryResponse"][0]) - {"Estimate"} | {"Invoice"}
    assert (invoices["startPosition"], invoices["maxResults"]) == (1, 2)
    assert invoices["Invoice"][0]["Id"] == kept["Id"]
    tombstone = invoices["Invoice"][1]
    assert set(tombstone) == {"domain", "status", "Id", "MetaData"}
    assert (tombstone["status"], tombstone["Id"]) == ("Deleted", dropped["Id"])
    assert tombstone["MetaData"]["LastUpdatedTime"] > kept["MetaData"]["LastUpdatedTime"]
    assert payments == {}


def test_cdc_includes_inactive_names_and_only_what_changed_since(api: Api) -> None:
    early = api.customer("Early")
    api.sb.clock.offset += timedelta(minutes=10)
    since = _since(api, seconds=1)
    late = api.customer("Late")
    api.create("Customer", {"Id": late["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    [found] = api.get("cdc", entities="Customer", changedSince=since).get_json()["CDCResponse"][0][
        "QueryResponse"
    ]
    assert [c["Id"] for c in found["Customer"]] == [late["Id"]]
    assert found["Customer"][0]["Active"] is False
    assert early["Id"] not in json.dumps(found)


def test_cdc_looks_back_at_most_thirty_days(api: Api) -> None:
    assert api.get("cdc", entities="Customer", changedSince=_since(api, days=29, hours=23)).status_code == 200
    too_old = _since(api, days=30, minutes=1)
    error = fault(api.get("cdc", entities="Customer", changedSince=too_old))
    assert (error["status"], error["code"], error["Message"]) == (400, "500", "Unsupported Operation")
    assert error["Detail"] == (
        f"Operation cdc with changedSince date {too_old} which is older than fixed days is not supported."
    )


def test_cdc_refuses_tax_entities_and_missing_parameters(api: Api) -> None:
    since = _since(api, minutes=1)
    assert code_of(api.get("cdc", entities="TaxCode", changedSince=since)) == (400, "500")
    assert code_of(api.get("cdc", changedSince=since)) == (400, "2020")
    assert code_of(api.get("cdc", entities="Customer")) == (400, "2020")


def test_cdc_answers_at_most_one_thousand_objects(api: Api) -> None:
    since = _since(api, minutes=1)
    now = stamp(api.sb.clock.now())
    store = api.company.of("Vendor")
    for n in range(1001):
        store[str(5000 + n)] = {
            "Id": str(5000 + n),
            "DisplayName": f"V{n}",
            "MetaData": {"LastUpdatedTime": now},
        }
    api.customer("One more")
    responses = api.get("cdc", entities="Vendor,Customer", changedSince=since).get_json()["CDCResponse"][0]
    vendors, customers = responses["QueryResponse"]
    assert (len(vendors["Vendor"]), vendors["maxResults"], customers) == (1000, 1000, {})


# ------------------------------------------------------------------------------ batch


@needs_reference
def test_the_recorded_batch_answers_item_by_item(api: Api) -> None:
    """batch__basic__0 against this company: a create, a delete of a missing invoice (610), a stale update
    (5010) and a query, each in its own item of one HTTP 200."""
    receipt_like = api.invoice(api.customer("Dylan Sollfrank")["Id"], 337.5)
    api.create(
        "Invoice", {"Id": receipt_like["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "first"}
    )
    request = json.loads(recorded("batch__basic__0")["request"]["body"])
    items = request["BatchItemRequest"]
    items[1]["Invoice"]["Id"] = "129129"
    items[2] = {
        "bId": "bid3",
        "operation": "update",
        "Invoice": {**items[2]["SalesReceipt"], "Id": receipt_like["Id"]},
    }
    items[3]["Query"] = items[3]["Query"].replace("SalesReceipt", "Invoice")
    response = api.post("batch", request)
    theirs = recorded("batch__basic__0")["response"]["body_json"]["BatchItemResponse"]
    ours = response.get_json()["BatchItemResponse"]
    assert response.status_code == 200
    assert [item["bId"] for item in ours] == [item["bId"] for item in theirs]
    assert [sorted(item) for item in ours] == [
        ["Vendor", "bId"],
        ["Fault", "bId"],
        ["Fault", "bId"],
        ["QueryResponse", "bId"],
    ]
    assert ours[0]["Vendor"]["DisplayName"] == theirs[0]["Vendor"]["DisplayName"]
    for index in (1, 2):
        error, recorded_error = ours[index]["Fault"]["Error"][0], theirs[index]["Fault"]["Error"][0]
        assert (error["code"], error["Message"], error["element"]) == (
            recorded_error["code"],
            recorded_error["Message"],
            recorded_error["element"],
        )
        assert ours[index]["Fault"]["type"] == theirs[index]["Fault"]["type"]
    assert [i["Id"] for i in ours[3]["QueryResponse"]["Invoice"]] == [receipt_like["Id"]]
    assert api.events[-1] == ("Vendor", ours[0]["Vendor"]["Id"], "Create")


def test_batch_void_delete_and_update_items(api: Api) -> None:
    customer = api.customer()["Id"]
    first, second = api.invoice(customer, 10), api.invoice(customer, 20)
    items: list[dict[str, Any]] = [
        {
            "bId": "1",
            "operation": "update",
            "optionsData": "void",
            "Invoice": {"Id": first["Id"], "SyncToken": "0"},
        },
        {"bId": "2", "operation": "delete", "Invoice": {"Id": second["Id"], "SyncToken": "0"}},
        {"bId": "3", "operation": "update", "Customer": {"Id": customer, "SyncToken": "0", "sparse": True}},
        {"bId": "4", "operation": "merge", "Customer": {"Id": customer}},
    ]
    ours = api.post("batch", {"BatchItemRequest": items}).get_json()["BatchItemResponse"]
    assert (ours[0]["Invoice"]["PrivateNote"], ours[0]["Invoice"]["TotalAmt"]) == ("Voided", 0)
    assert ours[1]["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": second["Id"]}
    assert ours[2]["Customer"]["Id"] == customer
    assert ours[3]["Fault"]["Error"][0]["code"] == "500"
    assert [(kind, op) for kind, _id, op in api.events[-2:]] == [("Invoice", "Void"), ("Invoice", "Delete")]


def test_batch_allows_thirty_items(api: Api) -> None:
    items = [{"bId": str(n), "Query": "select count(*) from Customer"} for n in range(30)]
    assert len(api.post("batch", {"BatchItemRequest": items}).get_json()["BatchItemResponse"]) == 30
    error = fault(api.post("batch", {"BatchItemRequest": [*items, {"bId": "31", "Query": "x"}]}))
    assert (error["status"], error["code"], error["Message"]) == (
        400,
        "1040",
        "Batch size exceeds allowed limit",
    )
    assert code_of(api.post("batch", {"BatchItemRequest": []})) == (400, "2020")


def test_batch_requestid_is_limited_to_36_characters(api: Api) -> None:
    items = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Vendor": {"DisplayName": "V"}}]}
    error = fault(api.post("batch", items, requestid="r" * 37))
    assert (error["status"], error["code"]) == (400, "6000")
    assert "more than 36 characters in the request_id field" in error["Detail"]
    assert api.post("batch", items, requestid="r" * 36).status_code == 200
    again = api.post("batch", items, requestid="r" * 36).get_json()
    assert "Vendor" in again["BatchItemResponse"][0]  # replayed, not a second create (6240)
