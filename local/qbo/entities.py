"""The entities of the Accounting API as data: one spec per entity, read by one generic engine (engine.py).

Property names are the XSD's (shared/reference/qbo/xsd/Finance.xsd, minor version 75 era); limits, required
fields and references follow NOTES.md §4 and the recorded traffic. Timestamps are in the company's local
time, as Intuit writes them (`2020-09-29T05:58:07-07:00`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import Enum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# ------------------------------------------------------------ company time


def _company_zone() -> tzinfo:
    try:
        return ZoneInfo("America/Los_Angeles")  # the recorded sandbox companies' offset (-07:00 / -08:00)
    except ZoneInfoNotFoundError:  # no tz database on this machine: a fixed offset keeps every stamp aware
        return timezone(timedelta(hours=-8), "PST")


COMPANY_TZ = _company_zone()


def local(now: datetime) -> datetime:
    return now.astimezone(COMPANY_TZ)


def stamp(now: datetime) -> str:
    """MetaData times: seconds and the company's offset."""
    return local(now).isoformat(timespec="seconds")


def response_time(now: datetime) -> str:
    """The `time` of every response: milliseconds and the company's offset."""
    return local(now).isoformat(timespec="milliseconds")


def today(now: datetime) -> date:
    return local(now).date()


# ------------------------------------------------------------ property names (XSD)


def _names(*groups: str) -> frozenset[str]:
    return frozenset(name for group in groups for name in group.split())


INTUIT_ENTITY = "Id SyncToken MetaData CustomField AttachableRef domain status sparse"
NAME_BASE = """
IntuitId Organization Title GivenName MiddleName FamilyName Suffix FullyQualifiedName CompanyName
DisplayName PrintOnCheckName UserId Active V4IDPseudonym PrimaryPhone AlternatePhone Mobile Fax
PrimaryEmailAddr WebAddr OtherContactInfo DefaultTaxCodeRef
"""
CUSTOMER = """
Taxable BillAddr ShipAddr OtherAddr ContactName AltContactName Notes Job BillWithParent
RootCustomerRef ParentRef Level CustomerTypeRef SalesTermRef SalesRepRef TaxGroupCodeRef TaxRateRef
PaymentMethodRef CCDetail PriceLevelRef Balance OpenBalanceDate BalanceWithJobs CreditLimit AcctNum
CurrencyRef OverDueBalance TotalRevenue TotalExpense PreferredDeliveryMethod ResaleNum JobInfo
TDSEnabled CustomerEx SecondaryTaxIdentifier ARAccountRef PrimaryTaxIdentifier TaxExemptionReasonId
IsProject BusinessNumber GSTIN GSTRegistrationType IsCISContractor ClientCompanyId ClientEntityId
Source TaxRegime
"""
VENDOR = """
ContactName AltContactName Notes BillAddr ShipAddr OtherAddr TaxCountry TaxIdentifier
TaxIdEffectiveDate BusinessNumber ParentRef VendorTypeRef TermRef PrefillAccountRef Balance BillRate
OpenBalanceDate CreditLimit AcctNum Vendor1099 T4AEligible T5018Eligible CurrencyRef TDSEnabled
TDSEntityTypeId TDSSectionTypeId TDSOverrideThreshold TaxReportingBasis APAccountRef VendorEx GSTIN
GSTRegistrationType IsSubContractor SubcontractorType CISRate HasTPAR VendorPaymentBankDetail Source
CostRate AgencyVerificationStatus AgencyVerificationStatusMsg AgencyVerificationTSUTC
CompanyRegistrationNumber
"""
EMPLOYEE = """
EmployeeType EmployeeNumber SSN PrimaryAddr OtherAddr BillableTime BillRate BirthDate Gender
HiredDate ReleasedDate UseTimeEntry EmployeeEx CostRate Notes
"""
ITEM = """
Name Sku Description Active SubItem ParentRef Level FullyQualifiedName Taxable SalesTaxIncluded
PercentBased UnitPrice RatePercent Type PaymentMethodRef UOMSetRef IncomeAccountRef PurchaseDesc
PurchaseTaxIncluded PurchaseCost ExpenseAccountRef COGSAccountRef AssetAccountRef PrefVendorRef
AvgCost TrackQtyOnHand QtyOnHand QtyOnPurchaseOrder QtyOnSalesOrder ReorderPoint ManPartNum
DepositToAccountRef SalesTaxCodeRef PurchaseTaxCodeRef InvStartDate BuildPoint PrintGroupedItems
SpecialItem SpecialItemType ItemGroupDetail ItemAssemblyDetail AbatementRate ReverseChargeRate
ServiceType ItemCategoryType ItemEx TaxClassificationRef UQCDisplayText UQCId ClassRef Source
DeferredRevenue CustomExtensions
"""
ACCOUNT = """
Name SubAccount ParentRef Description FullyQualifiedName AccountAlias TxnLocationType Active
Classification AccountType AccountSubType AccountPurposes AcctNum AcctNumExtn BankNum OpeningBalance
OpeningBalanceDate CurrentBalance CurrentBalanceWithSubAccounts CurrencyRef TaxAccount TaxCodeRef
OnlineBankingEnabled FIName JournalCodeRef AccountEx
"""
TAX_CODE = """
Name Description Active Hidden Taxable TaxGroup SalesTaxRateList PurchaseTaxRateList
AdjustmentTaxRateList TaxCodeEx TaxCodeConfigType
"""
TAX_RATE = """
Name Description Active RateValue AgencyRef TaxReturnLineRef EffectiveTaxRate SpecialTaxType
DisplayType TaxRateEx OriginalTaxRate
"""
TERM = """
Name Active Type DiscountPercent DueDays DiscountDays DayOfMonthDue DueNextMonthDays
DiscountDayOfMonth SalesTermEx
"""
PAYMENT_METHOD = "Name Active Type PaymentMethodEx"
CLASS = "Name SubClass ParentRef FullyQualifiedName Active ClassEx"
TRANSACTION = """
DocNumber TxnDate DepartmentRef CurrencyRef ExchangeRate PrivateNote TxnStatus LinkedTxn Line
TxnTaxDetail TxnSource TaxFormType TaxFormNum TransactionLocationType Tag TxnApprovalInfo
RecurDataRef RecurringInfo ProjectRef TotalCostAmount HomeTotalCostAmount
"""
SALES_TRANSACTION = """
AutoDocNumber CustomerRef CustomerMemo BillAddr ShipAddr FreeFormAddress ShipFromAddr RemitToRef
ClassRef SalesTermRef DueDate SalesRepRef PONumber FOB ShipMethodRef ShipDate TrackingNum
GlobalTaxCalculation TotalAmt HomeTotalAmt ApplyTaxAfterDiscount ShippingTaxIncludedInTotalTax
TemplateRef PrintStatus EmailStatus BillEmail BillEmailCc BillEmailBcc ARAccountRef Balance
HomeBalance FinanceCharge PaymentMethodRef PaymentRefNum PaymentType CheckPayment CreditCardPayment
DepositToAccountRef DeliveryInfo DiscountRate DiscountAmt GovtTxnRefIdentifier TaxExemptionRef
"""
INVOICE = """
Deposit AllowIPNPayment AllowOnlinePayment AllowOnlineCreditCardPayment AllowOnlineACHPayment
AllowOnlinePayPalPayment EInvoiceStatus ECloudStatusTimeStamp CfdiUse Exportation GlobalInfo
invoiceStatus callToAction invoiceStatusLog InvoiceEx LessCIS InvoiceLink PaymentDetailsMessage
ConvenienceFeeDetail EnabledSurchargeInfo InvoiceLinkSecurityCode InvoiceLinkExpiryDate
AutoPayEligible SchedulePayEligible ScheduledPaymentId GratuityEnabled FinancingProductType
SubscriptionPaymentsSetting
"""
CREDIT_MEMO = "RemainingCredit InvoiceRef CreditMemoEx"
PAYMENT = """
CustomerRef RemitToRef ARAccountRef DepositToAccountRef PaymentMethodRef PaymentRefNum PaymentType
CheckPayment CreditCardPayment TotalAmt UnappliedAmt ProcessPayment PaymentExtendedType PaymentEx
"""
PURCHASE_BY_VENDOR = "VendorRef APAccountRef TotalAmt BillEmail ReplyEmail Memo GlobalTaxCalculation"
PURCHASE_ORDER = """
TaxCodeRef ClassRef ReimbursableInfoRef SalesTermRef DueDate ExpectedDate VendorAddr ShipTo
DropShipToEntity InventorySiteRef ShipAddr ShipMethodRef FOB POEmail TemplateRef PrintStatus
EmailStatus ManuallyClosed POStatus PurchaseOrderEx
"""
BILL = """
PayerRef SalesTermRef DueDate RemitToAddr ShipAddr VendorAddr Balance HomeBalance BillEx LessCIS
IncludeInAnnualTPAR
"""
COMPANY_INFO = """
CompanyName LegalName CompanyAddr CustomerCommunicationAddr LegalAddr CompanyEmailAddr
CustomerCommunicationEmailAddr CompanyURL PrimaryPhone OtherContactInfo CompanyFileName
FlavorStratum SampleFile CompanyUserId CompanyUserAdminEmail CompanyStartDate EmployerId
FiscalYearStartMonth TaxYearStartMonth QBVersion Country ShipAddr OtherAddr Mobile Fax Email WebAddr
LastImportedTime LastSyncTime SupportedLanguages DefaultTimeZone MultiByteCharsSupported NameValue
FifoCalculationStatus CompanyInfoEx
"""
LINE_PROPERTIES = _names("""
Id LineNum Description Amount Received LinkedTxn DetailType PaymentLineDetail DiscountLineDetail
TaxLineDetail SalesItemLineDetail DescriptionLineDetail ItemBasedExpenseLineDetail
AccountBasedExpenseLineDetail ReimburseLineDetail DepositLineDetail PurchaseOrderItemLineDetail
SalesOrderItemLineDetail ItemReceiptLineDetail JournalEntryLineDetail GroupLineDetail
SubTotalLineDetail TDSLineDetail ItemAdjustmentLineDetail CustomField LineEx ProjectRef CostAmount
HomeCostAmount CustomExtensions
""")

# ------------------------------------------------------------ specs


class Kind(Enum):
    NAME_LIST = "name list"  # created and changed, never deleted: made inactive (Active: false)
    TRANSACTION = "transaction"  # created, changed, deleted (operation=delete), some voided
    READ_ONLY = "read only"  # TaxCode, TaxRate: read and queried; created through TaxService only
    COMPANY = "company"  # CompanyInfo: one per company, read and queried


@dataclass(frozen=True)
class Ref:
    """A reference field (`{"value": id, "name": ...}`); `path` walks lists, as in
    Line.SalesItemLineDetail.ItemRef. A missing target answers 2500, an inactive one 610."""

    path: str
    target: str
    named: bool = True  # the API fills in the target's name


USD = {"value": "USD", "name": "United States Dollar"}  # defaults are deep-copied into each entity
SYSTEM_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse", "status"})
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
ADDRESSES = (
    "BillAddr", "ShipAddr", "ShipFromAddr", "PrimaryAddr", "OtherAddr", "VendorAddr", "RemitToAddr",
)  # fmt: skip
PEOPLE = ("Customer", "Vendor", "Employee")  # one namespace for DisplayName (NOTES §4.1)
TXN_LIMITS = MappingProxyType({"DocNumber": 21, "PrivateNote": 4000, "Line.Description": 4000})
PERSON_LIMITS = MappingProxyType({
    "DisplayName": 500, "Title": 16, "GivenName": 100, "MiddleName": 100, "FamilyName": 100, "Suffix": 16,
    "CompanyName": 100, "PrintOnCheckName": 100, "PrimaryEmailAddr.Address": 100, "Notes": 2000,
})  # fmt: skip
PERSON_NAMES = ("DisplayName", "GivenName", "MiddleName", "FamilyName", "PrintOnCheckName")


@dataclass(frozen=True)
class EntitySpec:
    """What the engine needs to know about one entity; the rule names index rules.py's tables."""

    name: str
    kind: Kind
    properties: frozenset[str]
    required: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    refs: tuple[Ref, ...] = ()
    unique_name: str | None = None  # the field that must be unique (including inactive records)
    namespace: tuple[str, ...] = ()  # the entities sharing that namespace (default: this one)
    no_colon: tuple[str, ...] = ()
    money: tuple[str, ...] = ()  # at most 15 digits and 2 decimals
    read_only: frozenset[str] = frozenset()  # computed by the API: input ignored, kept or derived
    defaults: Mapping[str, Any] = field(default_factory=dict)
    shape: str = ""  # the rules.SHAPERS entry deriving computed fields and checking entity-specific rules
    auto_doc_number: bool = False
    voidable: bool = False
    cdc: bool = True
    party: str | None = None  # the name the transaction belongs to (its balance moves with it)
    # Left out of `SELECT *` unless named after the star: Item's Sku (python-quickbooks asks for
    # `SELECT *, Sku FROM Item`, its changelog 0.9.12: "Fix retrieval of Item SKU field"; NOTES §4.5).
    star_omits: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return self.name.lower()

    @property
    def name_list(self) -> bool:
        return self.kind is Kind.NAME_LIST

    def known(self, prop: str) -> bool:
        return prop in self.properties


def _person(name: str, own: str, **extra: Any) -> EntitySpec:
    return EntitySpec(
        name=name,
        kind=Kind.NAME_LIST,
        properties=_names(INTUIT_ENTITY, NAME_BASE, own),
        limits=PERSON_LIMITS,
        unique_name="DisplayName",
        namespace=PEOPLE,
        no_colon=PERSON_NAMES,
        read_only=SYSTEM_FIELDS
        | {"FullyQualifiedName", "Balance", "BalanceWithJobs", "Level", "V4IDPseudonym"},
        shape="person",
        **extra,
    )


SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        _person(
            "Customer",
            CUSTOMER,
            refs=(
                Ref("ParentRef", "Customer", named=False),  # recorded without a name (all__alt_select__3)
                Ref("SalesTermRef", "Term"),
                Ref("PaymentMethodRef", "PaymentMethod"),
            ),
            defaults={
                "Taxable": True,
                "Job": False,
                "BillWithParent": False,
                "Balance": 0,
                "BalanceWithJobs": 0,
                "CurrencyRef": USD,
                "PreferredDeliveryMethod": "Print",
                "IsProject": False,
                "Active": True,
            },
        ),
        _person(
            "Vendor",
            VENDOR,
            refs=(Ref("TermRef", "Term", named=False), Ref("APAccountRef", "Account")),
            defaults={
                "Balance": 0,
                "BillRate": 0,
                "CostRate": 0,
                "Vendor1099": False,
                "CurrencyRef": USD,
                "Active": True,
            },
        ),
        _person("Employee", EMPLOYEE, defaults={"BillableTime": False, "Active": True}),
        EntitySpec(
            name="Item",
            kind=Kind.NAME_LIST,
            properties=_names(INTUIT_ENTITY, ITEM),
            required=("Name",),
            limits={"Name": 100, "Sku": 100, "Description": 4000, "PurchaseDesc": 1000},
            refs=(
                Ref("ParentRef", "Item", named=False),
                Ref("IncomeAccountRef", "Account"),
                Ref("ExpenseAccountRef", "Account"),
                Ref("AssetAccountRef", "Account"),
            ),
            unique_name="Name",
            no_colon=("Name",),
            money=("UnitPrice", "PurchaseCost"),
            star_omits=("Sku",),
            read_only=SYSTEM_FIELDS | {"FullyQualifiedName", "Level"},
            defaults={
                "Active": True,
                "Taxable": False,
                "UnitPrice": 0,
                "PurchaseCost": 0,
                "TrackQtyOnHand": False,
                "DeferredRevenue": False,
            },
            shape="item",
        ),
        EntitySpec(
            name="Account",
            kind=Kind.NAME_LIST,
            properties=_names(INTUIT_ENTITY, ACCOUNT),
            required=("Name",),
            limits={"Name": 100, "Description": 100, "AcctNum": 20},
            refs=(Ref("ParentRef", "Account"),),
            unique_name="Name",
            no_colon=("Name",),
            read_only=SYSTEM_FIELDS
            | {"FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"},
            defaults={
                "Active": True,
                "CurrentBalance": 0,
                "CurrentBalanceWithSubAccounts": 0,
                "CurrencyRef": USD,
            },
            shape="account",
        ),
        EntitySpec(
            name="Term",
            kind=Kind.NAME_LIST,
            properties=_names(INTUIT_ENTITY, TERM),
            required=("Name",),
            limits={"Name": 31},
            unique_name="Name",
            no_colon=("Name",),
            read_only=SYSTEM_FIELDS,
            defaults={"Active": True, "Type": "STANDARD"},
        ),
        EntitySpec(
            name="PaymentMethod",
            kind=Kind.NAME_LIST,
            properties=_names(INTUIT_ENTITY, PAYMENT_METHOD),
            required=("Name",),
            limits={"Name": 31},
            unique_name="Name",
            no_colon=("Name",),
            read_only=SYSTEM_FIELDS,
            defaults={"Active": True, "Type": "NON_CREDIT_CARD"},
            shape="payment_method",
        ),
        EntitySpec(
            name="Class",
            kind=Kind.NAME_LIST,
            properties=_names(INTUIT_ENTITY, CLASS),
            required=("Name",),
            limits={"Name": 100},
            refs=(Ref("ParentRef", "Class"),),
            unique_name="Name",
            no_colon=("Name",),
            read_only=SYSTEM_FIELDS | {"FullyQualifiedName"},
            defaults={"Active": True},
            shape="class",
        ),
        EntitySpec("TaxCode", Kind.READ_ONLY, _names(INTUIT_ENTITY, TAX_CODE), cdc=False),
        EntitySpec("TaxRate", Kind.READ_ONLY, _names(INTUIT_ENTITY, TAX_RATE), cdc=False),
        EntitySpec("CompanyInfo", Kind.COMPANY, _names(INTUIT_ENTITY, COMPANY_INFO)),
        EntitySpec(
            name="Invoice",
            kind=Kind.TRANSACTION,
            properties=_names(INTUIT_ENTITY, TRANSACTION, SALES_TRANSACTION, INVOICE),
            required=("CustomerRef", "Line"),
            limits=TXN_LIMITS,
            refs=(
                Ref("CustomerRef", "Customer"),
                Ref("SalesTermRef", "Term"),
                Ref("Line.SalesItemLineDetail.ItemRef", "Item"),
                Ref("Line.SalesItemLineDetail.TaxCodeRef", "TaxCode", named=False),
            ),
            money=("Line.Amount",),
            read_only=SYSTEM_FIELDS | {"TotalAmt", "Balance", "LinkedTxn", "HomeTotalAmt", "HomeBalance"},
            defaults={
                "AllowIPNPayment": False,
                "AllowOnlinePayment": False,
                "AllowOnlineCreditCardPayment": False,
                "AllowOnlineACHPayment": False,
                "CustomField": [],
                "CurrencyRef": USD,
                "LinkedTxn": [],
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
            },
            shape="sales",
            auto_doc_number=True,
            voidable=True,
            party="CustomerRef",
        ),
        EntitySpec(
            name="CreditMemo",
            kind=Kind.TRANSACTION,
            properties=_names(INTUIT_ENTITY, TRANSACTION, SALES_TRANSACTION, CREDIT_MEMO),
            required=("CustomerRef", "Line"),
            limits=TXN_LIMITS,
            refs=(
                Ref("CustomerRef", "Customer"),
                Ref("Line.SalesItemLineDetail.ItemRef", "Item"),
                Ref("Line.SalesItemLineDetail.TaxCodeRef", "TaxCode", named=False),
            ),
            money=("Line.Amount",),
            read_only=SYSTEM_FIELDS
            | {"TotalAmt", "Balance", "RemainingCredit", "HomeTotalAmt", "HomeBalance"},
            defaults={
                "CustomField": [],
                "CurrencyRef": USD,
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
            },
            shape="sales",
            auto_doc_number=True,
            party="CustomerRef",
        ),
        EntitySpec(
            name="Payment",
            kind=Kind.TRANSACTION,
            properties=_names(INTUIT_ENTITY, TRANSACTION, PAYMENT),
            required=("CustomerRef", "TotalAmt"),
            limits=MappingProxyType({"PrivateNote": 4000, "PaymentRefNum": 21}),
            refs=(
                Ref("CustomerRef", "Customer"),
                Ref("DepositToAccountRef", "Account", named=False),
                Ref("PaymentMethodRef", "PaymentMethod", named=False),  # as nango payments.test.json
            ),
            money=("TotalAmt", "Line.Amount"),
            read_only=SYSTEM_FIELDS | {"UnappliedAmt"},
            defaults={"ProcessPayment": False, "CurrencyRef": USD},
            shape="payment",
            voidable=True,
            party="CustomerRef",
        ),
        EntitySpec(
            name="PurchaseOrder",
            kind=Kind.TRANSACTION,
            properties=_names(INTUIT_ENTITY, TRANSACTION, PURCHASE_BY_VENDOR, PURCHASE_ORDER),
            required=("VendorRef", "Line"),
            limits=MappingProxyType({**TXN_LIMITS, "Memo": 4000}),
            refs=(
                Ref("VendorRef", "Vendor"),
                Ref("APAccountRef", "Account"),
                Ref("Line.AccountBasedExpenseLineDetail.AccountRef", "Account"),
                Ref("Line.ItemBasedExpenseLineDetail.ItemRef", "Item"),
            ),
            money=("Line.Amount",),
            read_only=SYSTEM_FIELDS | {"TotalAmt", "LinkedTxn"},
            defaults={"EmailStatus": "NotSet", "POStatus": "Open", "CustomField": [], "CurrencyRef": USD},
            shape="purchase",
            auto_doc_number=True,
            party="VendorRef",
        ),
        EntitySpec(
            name="Bill",
            kind=Kind.TRANSACTION,
            properties=_names(INTUIT_ENTITY, TRANSACTION, PURCHASE_BY_VENDOR, BILL),
            required=("VendorRef", "Line"),
            limits=TXN_LIMITS,
            refs=(
                Ref("VendorRef", "Vendor"),
                Ref("APAccountRef", "Account"),
                Ref("SalesTermRef", "Term"),
                Ref("Line.AccountBasedExpenseLineDetail.AccountRef", "Account"),
                Ref("Line.ItemBasedExpenseLineDetail.ItemRef", "Item"),
            ),
            money=("Line.Amount",),
            read_only=SYSTEM_FIELDS | {"TotalAmt", "Balance", "HomeBalance"},
            defaults={"CurrencyRef": USD},
            shape="purchase",
            party="VendorRef",
        ),
    )
}
BY_PATH: dict[str, EntitySpec] = {
    spec.path: spec for spec in SPECS.values()
}  # the path is the lowercase name


def spec_named(name: str) -> EntitySpec | None:
    """Entity names are matched case-insensitively in paths, queries, CDC and batch items."""
    return BY_PATH.get(name.strip().lower())
