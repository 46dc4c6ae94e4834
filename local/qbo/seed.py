"""What a new sandbox company holds, as Intuit's sandbox companies do: company info, a chart of accounts
(Undeposited Funds is Id 4 in the recorded sandbox), tax codes, terms and payment methods."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from local.qbo.entities import stamp
from local.qbo.state import Company


def meta(now: datetime) -> dict[str, str]:
    at = stamp(now)  # in the company's offset, like every other record
    return {"CreateTime": at, "LastUpdatedTime": at}


def _put(company: Company, kind: str, fields: dict[str, Any], now: datetime, id_: str | None = None) -> None:
    entity_id = id_ or company.new_id()
    company.of(kind)[entity_id] = {
        **fields,
        "domain": "QBO",
        "sparse": False,
        "Id": entity_id,
        "SyncToken": "0",
        "MetaData": meta(now),
    }


ACCOUNTS = [
    ("1", "Checking", "Bank", "Checking"),
    ("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("79", "Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("1001", "Services", "Income", "ServiceFeeIncome"),
    ("80", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("81", "Inventory Asset", "Other Current Asset", "Inventory"),
    ("33", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("84", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
]


def seed_company(company: Company, now: datetime) -> None:
    _put(
        company,
        "CompanyInfo",
        {
            "CompanyName": company.name,
            "LegalName": company.name,
            "Country": company.country,
            "CompanyAddr": {
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
                "Country": "USA",
            },
            "Email": {"Address": "noreply@quickbooks.com"},
            "FiscalYearStartMonth": "January",
            "SupportedLanguages": "en",
            "NameValue": [
                {"Name": "NeoEnabled", "Value": "true"},
                {"Name": "IndustryType", "Value": "Sandbox"},
            ],
        },
        now,
        id_=company.realm_id,
    )  # Intuit: CompanyInfo Id is the realm id
    for account_id, name, account_type, subtype in ACCOUNTS:
        _put(
            company,
            "Account",
            {
                "Name": name,
                "FullyQualifiedName": name,
                "Active": True,
                "Classification": None,
                "AccountType": account_type,
                "AccountSubType": subtype,
                "CurrentBalance": 0,
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
                "SubAccount": False,
            },
            now,
            id_=account_id,
        )
    for code, name, taxable in (("TAX", "TAX", True), ("NON", "NON", False)):
        _put(
            company,
            "TaxCode",
            {
                "Name": name,
                "Description": name,
                "Active": True,
                "Taxable": taxable,
                "Hidden": False,
                "TaxGroup": False,
            },
            now,
            id_=code,
        )
    for term_id, name, days in (("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30)):
        _put(
            company,
            "Term",
            {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days},
            now,
            id_=term_id,
        )
    for method_id, name, kind in (
        ("1", "Cash", "NON_CREDIT_CARD"),
        ("2", "Check", "NON_CREDIT_CARD"),
        ("3", "Visa", "CREDIT_CARD"),
    ):
        _put(company, "PaymentMethod", {"Name": name, "Active": True, "Type": kind}, now, id_=method_id)
    seed_sales_items_and_tax_rates(company, now)
    company.next_id = 2000  # ids of created entities never collide with the seeded ones


def seed_sales_items_and_tax_rates(company: Company, now: datetime) -> None:
    """The "Services" item of Intuit's sandbox companies (ItemRef 1 in create__invoice__0) and a tax rate
    (TaxRateRef 3 at 8% in nango update-invoice), so that invoices and queries work from the first request."""
    _put(
        company,
        "Item",
        {
            "Name": "Services",
            "Active": True,
            "FullyQualifiedName": "Services",
            "Taxable": False,
            "UnitPrice": 0,
            "Type": "Service",
            "IncomeAccountRef": {"value": "1001", "name": "Services"},
            "PurchaseCost": 0,
            "TrackQtyOnHand": False,
            "DeferredRevenue": False,
        },
        now,
        id_="1",
    )
    _put(
        company,
        "TaxRate",
        {
            "Name": "California",
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": 8,
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
            "EffectiveTaxRate": [{"RateValue": 8, "EffectiveDate": "2014-01-01T00:00:00-08:00"}],
        },
        now,
        id_="3",
    )
