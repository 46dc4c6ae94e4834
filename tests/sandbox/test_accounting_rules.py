"""Field and name rules: one namespace for names, colons, lengths, money formats, references, items, accounts,
sub-customers, DocNumber."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.test_accounting_helpers import Api, code_of, fault, needs_reference, recorded


@pytest.fixture
def api() -> Api:
    return Api()


@needs_reference
@pytest.mark.parametrize("second", ["Customer", "Vendor", "Employee"])
def test_display_names_are_unique_across_customers_vendors_and_employees(api: Api, second: str) -> None:
    first = api.customer("Weiskopf Consulting")
    response = api.post(second.lower(), {"DisplayName": "weiskopf consulting "})
    theirs = recorded("error__validation__0")["response"]["body_json"]["Fault"]
    error = fault(response)
    assert (response.status_code, error["type"]) == (400, theirs["type"])
    assert (error["code"], error["Message"]) == (theirs["Error"][0]["code"], theirs["Error"][0]["Message"])
    assert error["Detail"] == f"The name supplied already exists. : Id={first['Id']}"


def test_inactive_names_still_hold_their_name(api: Api) -> None:
    vendor = api.create("Vendor", {"DisplayName": "Gone Supplies"})
    api.create("Vendor", {"Id": vendor["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert code_of(api.post("customer", {"DisplayName": "Gone Supplies"})) == (400, "6240")
    listed = api.query("select * from Vendor where DisplayName = 'Gone Supplies' and Active in (true, false)")
    assert [v["Id"] for v in listed.get_json()["QueryResponse"]["Vendor"]] == [vendor["Id"]]


def test_renaming_onto_another_name_is_refused_but_keeping_ones_own_is_not(api: Api) -> None:
    api.customer("Taken")
    mine = api.customer("Mine")
    assert code_of(api.post("customer", {**_ids(mine), "sparse": True, "DisplayName": "Taken"})) == (
        400,
        "6240",
    )
    assert (
        api.create("Customer", {**_ids(mine), "sparse": True, "DisplayName": "Mine", "Notes": "x"})["Notes"]
        == "x"
    )


def test_item_and_account_names_are_unique_in_their_own_list(api: Api) -> None:
    api.create("Item", {"Name": "Hours", "Type": "Service", "IncomeAccountRef": {"value": "79"}})
    assert code_of(
        api.post("item", {"Name": "HOURS", "Type": "Service", "IncomeAccountRef": {"value": "79"}})
    ) == (
        400,
        "6240",
    )
    assert api.customer("Hours")["DisplayName"] == "Hours"  # a customer may share an item's name
    assert code_of(api.post("account", {"Name": "Checking", "AccountType": "Bank"})) == (400, "6240")


@pytest.mark.parametrize("field", ["DisplayName", "GivenName", "FamilyName", "PrintOnCheckName"])
def test_names_cannot_contain_a_colon(api: Api, field: str) -> None:
    body = {"DisplayName": "Plain", field: "Parent:Child"}
    error = fault(api.post("customer", body))
    assert (error["status"], error["code"], error["element"]) == (400, "2180", field)
    assert "cannot include colons" in error["Detail"]


LIMITS = [
    ("customer", {}, "DisplayName", 500),
    ("customer", {"DisplayName": "n"}, "GivenName", 100),
    ("customer", {"DisplayName": "n"}, "FamilyName", 100),
    ("vendor", {"DisplayName": "n"}, "CompanyName", 100),
    ("item", {"Type": "Service", "IncomeAccountRef": {"value": "79"}}, "Name", 100),
    ("item", {"Name": "n", "Type": "Service", "IncomeAccountRef": {"value": "79"}}, "Sku", 100),
    ("invoice", {}, "DocNumber", 21),
    ("invoice", {}, "PrivateNote", 4000),
    ("invoice", {}, "Line.Description", 4000),
]


@pytest.mark.parametrize(("entity", "base", "field", "limit"), LIMITS)
def test_field_lengths_are_limited(
    api: Api, entity: str, base: dict[str, Any], field: str, limit: int
) -> None:
    if entity == "invoice":
        base = _invoice_body(api.customer()["Id"])
    at_limit, over = _with(base, field, "x" * limit), _with(base, field, "y" * (limit + 1))
    assert api.post(entity, at_limit).status_code == 200
    error = fault(api.post(entity, over))
    assert (error["status"], error["code"], error["element"]) == (400, "2050", field)
    assert error["Message"] == "String length is either shorter or longer than supported by specification"
    assert error["Detail"].endswith(f"Min:0 Max:{limit} supported. Supplied length:{limit + 1}")


@pytest.mark.parametrize("amount", ["10.005", "12345678901234.5", "1e2"])
def test_money_with_more_than_two_decimals_or_fifteen_digits_is_refused(api: Api, amount: str) -> None:
    body = _invoice_body(api.customer()["Id"]).replace(
        '"Amount": 1', f'"Amount": {amount}'
    )  # exact JSON number
    response = api.post("invoice", body)
    if amount == "1e2":
        assert response.status_code == 200  # 100, written another way
        return
    error = fault(response)
    assert (error["status"], error["code"], error["element"]) == (400, "2080", "Line.Amount")


def test_payment_total_is_money_too(api: Api) -> None:
    customer = api.customer()
    body = f'{{"CustomerRef": {{"value": "{customer["Id"]}"}}, "TotalAmt": 0.333}}'
    assert code_of(api.post("payment", body)) == (400, "2080")


def test_amount_must_equal_qty_times_unit_price_and_is_computed_when_omitted(api: Api) -> None:
    customer = api.customer()["Id"]
    detail = {"ItemRef": {"value": "1"}, "Qty": 4.5, "UnitPrice": 75}
    line = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    invoice = api.create("Invoice", {"CustomerRef": {"value": customer}, "Line": [line]})
    assert invoice["Line"][0]["Amount"] == 337.5
    wrong = {"CustomerRef": {"value": customer}, "Line": [{**line, "Amount": 300}]}
    assert code_of(api.post("invoice", wrong)) == (400, "6070")


def test_references_must_exist_2500_and_be_active_610(api: Api) -> None:
    error = fault(api.post("invoice", {**_invoice(customer="424242")}))
    assert (error["code"], error["Message"]) == ("2500", "Invalid Reference Id")
    assert error["Detail"] == "Invalid Reference Id : Names element id 424242 not found"
    customer = api.customer()["Id"]
    error = fault(api.post("invoice", _invoice(customer=customer, item="999")))
    assert (error["code"], error["Detail"]) == (
        "2500",
        "Invalid Reference Id : Line.SalesItemLineDetail.ItemRef",
    )
    item = api.create("Item", {"Name": "Old", "Type": "Service", "IncomeAccountRef": {"value": "79"}})
    api.create("Item", {**_ids(item), "sparse": True, "Active": False})
    error = fault(api.post("invoice", _invoice(customer=customer, item=item["Id"])))
    assert (error["code"], error["Message"]) == ("610", "Object Not Found")
    assert fault(api.post("item", {"Name": "X", "IncomeAccountRef": {"value": "5"}}))["Detail"] == (
        "Invalid Reference Id : Accounts element id 5 not found"
    )


def test_references_get_their_names(api: Api) -> None:
    customer = api.customer("Named Customer")
    invoice = api.invoice(customer["Id"], 10)
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": "Named Customer"}
    detail = invoice["Line"][0]["SalesItemLineDetail"]
    assert detail["ItemRef"] == {"value": "1", "name": "Services"}
    assert detail["TaxCodeRef"] == {"value": "NON"}


def test_sub_customers_get_job_level_and_qualified_name(api: Api) -> None:
    parent = api.customer("Freeman Sporting Goods")
    child = api.customer("55 Twin Lane", ParentRef={"value": parent["Id"]})
    assert (child["Job"], child["Level"], child["FullyQualifiedName"]) == (
        True,
        1,
        "Freeman Sporting Goods:55 Twin Lane",
    )
    assert child["ParentRef"] == {"value": parent["Id"]}
    grandchild = api.customer("Phase 1", ParentRef={"value": child["Id"]})
    assert (grandchild["Level"], grandchild["FullyQualifiedName"]) == (
        2,
        "Freeman Sporting Goods:55 Twin Lane:Phase 1",
    )
    api.create("Customer", {**_ids(parent), "sparse": True, "DisplayName": "Freeman Sports"})
    assert (
        api.read("Customer", grandchild["Id"])["FullyQualifiedName"] == "Freeman Sports:55 Twin Lane:Phase 1"
    )
    assert api.read("Customer", grandchild["Id"])["SyncToken"] == "0"
    assert code_of(
        api.post("customer", {**_ids(parent, "1"), "sparse": True, "ParentRef": {"value": child["Id"]}})
    ) == (
        400,
        "6000",
    )


def test_sub_customers_nest_at_most_four_levels(api: Api) -> None:
    parent = api.customer("Level 0")
    for level in range(1, 5):
        parent = api.customer(f"Level {level}", ParentRef={"value": parent["Id"]})
    assert parent["Level"] == 4
    assert code_of(
        api.post("customer", {"DisplayName": "Level 5", "ParentRef": {"value": parent["Id"]}})
    ) == (
        400,
        "6000",
    )


def test_a_customer_with_an_open_balance_cannot_be_made_inactive(api: Api) -> None:
    customer = api.customer()
    api.invoice(customer["Id"], 25)
    current = api.read("Customer", customer["Id"])
    error = fault(api.post("customer", {**_ids(current), "sparse": True, "Active": False}))
    assert (error["status"], error["Message"]) == (400, "Delete List Has Balance Error")
    assert error["Detail"].startswith("The entity you are trying to delete has an open balance.")


def test_service_items_need_an_account_and_inventory_items_their_three(api: Api) -> None:
    assert fault(api.post("item", {"Name": "S", "Type": "Service"}))["Detail"] == (
        "Required parameter IncomeAccountRef is missing in the request"
    )
    assert code_of(api.post("item", {"Name": "S", "Type": "Gizmo", "IncomeAccountRef": {"value": "79"}})) == (
        400,
        "2170",
    )
    inventory = {
        "Name": "Pump", "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": 10,
        "InvStartDate": "2026-01-01", "IncomeAccountRef": {"value": "79"},
        "ExpenseAccountRef": {"value": "80"}, "AssetAccountRef": {"value": "81"},
    }  # fmt: skip
    missing = {k: v for k, v in inventory.items() if k != "AssetAccountRef"}
    assert (
        fault(api.post("item", missing))["Detail"]
        == "Required parameter AssetAccountRef is missing in the request"
    )
    wrong = {**inventory, "AssetAccountRef": {"value": "1"}}  # a bank account
    assert code_of(api.post("item", wrong)) == (400, "6000")
    pump = api.create("Item", {**inventory, "Sku": "P-100"})
    assert (pump["Sku"], pump["QtyOnHand"], pump["AssetAccountRef"]["name"]) == (
        "P-100",
        10,
        "Inventory Asset",
    )


def test_accounts_take_their_classification_from_their_type(api: Api) -> None:
    account = api.create("Account", {"Name": "Consulting Income", "AccountType": "Income"})
    assert (account["Classification"], account["AccountSubType"], account["FullyQualifiedName"]) == (
        "Revenue",
        "ServiceFeeIncome",
        "Consulting Income",
    )
    sub = api.create(
        "Account", {"Name": "Audits", "AccountType": "Income", "ParentRef": {"value": account["Id"]}}
    )
    assert (sub["SubAccount"], sub["FullyQualifiedName"]) == (True, "Consulting Income:Audits")
    assert code_of(api.post("account", {"Name": "No type"})) == (400, "2020")


def test_doc_numbers_are_assigned_and_duplicates_allowed_unless_the_company_warns(api: Api) -> None:
    customer = api.customer()["Id"]
    first, second = api.invoice(customer, 1), api.invoice(customer, 2)
    assert int(second["DocNumber"]) == int(first["DocNumber"]) + 1
    duplicate = api.invoice(customer, 3, DocNumber=first["DocNumber"])
    assert duplicate["DocNumber"] == first["DocNumber"]
    api.books.warn_duplicate_doc_number = True
    error = fault(api.post("invoice", _invoice(customer=customer, DocNumber=second["DocNumber"])))
    assert (error["status"], error["code"], error["Message"]) == (
        400,
        "6140",
        "Duplicate Document Number Error",
    )
    assert (
        f"DocNumber={second['DocNumber']} is assigned to TxnType=Invoice with TxnId={second['Id']}"
        in error["Detail"]
    )


def _ids(entity: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    return {"Id": entity["Id"], "SyncToken": token or entity["SyncToken"]}


def _invoice(customer: str, item: str = "1", **fields: Any) -> dict[str, Any]:
    line = {
        "Amount": 10,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item}},
    }
    return {"CustomerRef": {"value": customer}, "Line": [line], **fields}


def _invoice_body(customer: str) -> str:
    return (
        f'{{"CustomerRef": {{"value": "{customer}"}}, '
        '"Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail", '
        '"SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}'
    )


def _with(base: dict[str, Any] | str, field: str, value: str) -> dict[str, Any]:
    body = json.loads(base) if isinstance(base, str) else dict(base)
    if field.startswith("Line."):
        body["Line"][0][field.split(".", 1)[1]] = value
    else:
        body[field] = value
    return body


def test_terms_and_payment_methods_are_name_lists_too(api: Api) -> None:
    term = api.create("Term", {"Name": "Net 45", "DueDays": 45})
    assert (term["Type"], term["Active"]) == ("STANDARD", True)
    assert code_of(api.post("term", {"Name": "net 45"})) == (400, "6240")
    method = api.create("PaymentMethod", {"Name": "Wire"})
    assert method["Type"] == "NON_CREDIT_CARD"
    assert code_of(api.post("paymentmethod", {"Name": "Card", "Type": "DEBIT"})) == (400, "2170")
    customer = api.customer()["Id"]
    invoice = api.invoice(customer, 10, TxnDate="2026-01-01", SalesTermRef={"value": term["Id"]})
    assert invoice["DueDate"] == "2026-02-15"
