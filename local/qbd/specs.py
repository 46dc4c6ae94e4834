"""The kinds of objects the company holds, as data: each Ret's children in the order of Intuit's schema
(qbxml130.xsd, the `xsd:sequence` of each `...Ret`; element names only), the name space a list shares, and
the references a request may carry with the lists they point into.
"""

from __future__ import annotations

from local.qbd.model import Spec


def _order(names: str) -> tuple[str, ...]:
    return tuple(names.split())


CUSTOMER_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName IsActive ClassRef ParentRef Sublevel
    CompanyName Salutation FirstName MiddleName LastName Suffix JobTitle BillAddress BillAddressBlock
    ShipAddress ShipAddressBlock ShipToAddress PrintAs Phone Mobile Pager AltPhone Fax Email Cc Contact
    AltContact AdditionalContactRef ContactsRet CustomerTypeRef TermsRef SalesRepRef Balance
    TotalBalance SalesTaxCodeRef ItemSalesTaxRef SalesTaxCountry ResaleNumber AccountNumber CreditLimit
    PreferredPaymentMethodRef CreditCardInfo JobStatus JobStartDate JobProjectedEndDate JobEndDate
    JobDesc JobTypeRef Notes AdditionalNotesRet IsStatementWithParent DeliveryMethod
    PreferredDeliveryMethod PriceLevelRef ExternalGUID TaxRegistrationNumber CurrencyRef DataExtRet
""")
VENDOR_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive ClassRef IsTaxAgency CompanyName
    Salutation FirstName MiddleName LastName Suffix JobTitle VendorAddress VendorAddressBlock
    ShipAddress Phone Mobile Pager AltPhone Fax Email Cc Contact AltContact AdditionalContactRef
    ContactsRet NameOnCheck AccountNumber Notes AdditionalNotesRet VendorTypeRef TermsRef CreditLimit
    VendorTaxIdent IsVendorEligibleFor1099 Balance BillingRateRef ExternalGUID SalesTaxCodeRef
    SalesTaxCountry IsSalesTaxAgency SalesTaxReturnRef TaxRegistrationNumber ReportingPeriod
    IsTaxTrackedOnPurchases TaxOnPurchasesAccountRef IsTaxTrackedOnSales TaxOnSalesAccountRef IsTaxOnTax
    PrefillAccountRef CurrencyRef DataExtRet
""")
EMPLOYEE_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive Salutation FirstName MiddleName LastName
    Suffix JobTitle SupervisorRef Department Description TargetBonus EmployeeAddress PrintAs Phone
    Mobile Pager PagerPIN AltPhone Fax SSN Email AdditionalContactRef EmergencyContacts EmployeeType
    PartOrFullTime Exempt KeyEmployee Gender HiredDate OriginalHireDate AdjustedServiceDate ReleasedDate
    BirthDate USCitizen Ethnicity Disabled DisabilityDesc OnFile WorkAuthExpireDate USVeteran
    MilitaryStatus AccountNumber Notes AdditionalNotesRet BillingRateRef EmployeePayrollInfo
    ExternalGUID DataExtRet
""")
OTHER_NAME_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive CompanyName Salutation FirstName
    MiddleName LastName OtherNameAddress OtherNameAddressBlock Phone AltPhone Fax Email Contact
    AltContact AccountNumber Notes ExternalGUID DataExtRet
""")
ITEM_SERVICE_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName BarCodeValue IsActive ClassRef ParentRef
    Sublevel UnitOfMeasureSetRef IsTaxIncluded SalesTaxCodeRef SalesOrPurchase SalesAndPurchase
    ExternalGUID DataExtRet
""")
ITEM_NON_INVENTORY_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName BarCodeValue IsActive ClassRef ParentRef
    Sublevel ManufacturerPartNumber UnitOfMeasureSetRef IsTaxIncluded SalesTaxCodeRef SalesOrPurchase
    SalesAndPurchase ExternalGUID DataExtRet
""")
ITEM_OTHER_CHARGE_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName BarCodeValue IsActive ClassRef ParentRef
    Sublevel IsTaxIncluded SalesTaxCodeRef SalesOrPurchase SalesAndPurchase SpecialItemType ExternalGUID
    DataExtRet
""")
ITEM_INVENTORY_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName BarCodeValue IsActive ClassRef ParentRef
    Sublevel ManufacturerPartNumber UnitOfMeasureSetRef IsTaxIncluded SalesTaxCodeRef SalesDesc
    SalesPrice IncomeAccountRef PurchaseDesc PurchaseCost PurchaseTaxCodeRef COGSAccountRef
    PrefVendorRef AssetAccountRef ReorderPoint Max QuantityOnHand AverageCost QuantityOnOrder
    QuantityOnSalesOrder ExternalGUID DataExtRet
""")
ITEM_SALES_TAX_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name BarCodeValue IsActive ClassRef ItemDesc TaxRate
    TaxVendorRef SalesTaxReturnLineRef ExternalGUID DataExtRet
""")
ITEM_SALES_TAX_GROUP_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name BarCodeValue IsActive ItemDesc ExternalGUID
    ItemSalesTaxRef DataExtRet
""")
ACCOUNT_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName IsActive ParentRef Sublevel AccountType
    DetailAccountType SpecialAccountType IsTaxAccount AccountNumber BankNumber LastCheckNumber Desc
    Balance TotalBalance SalesTaxCodeRef TaxLineInfoRet CashFlowClassification CurrencyRef DataExtRet
""")
CLASS_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name FullName IsActive ParentRef Sublevel
""")
STANDARD_TERMS_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive StdDueDays StdDiscountDays DiscountPct
""")
DATE_DRIVEN_TERMS_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive DayOfMonthDue DueNextMonthDays
    DiscountDayOfMonth DiscountPct
""")
PAYMENT_METHOD_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive PaymentMethodType
""")
SALES_TAX_CODE_RET = _order("""
    ListID TimeCreated TimeModified EditSequence Name IsActive IsTaxable Desc ItemPurchaseTaxRef
    ItemSalesTaxRef
""")
INVOICE_RET = _order("""
    TxnID TimeCreated TimeModified EditSequence TxnNumber CustomerRef ClassRef ARAccountRef TemplateRef
    TxnDate RefNumber BillAddress BillAddressBlock ShipAddress ShipAddressBlock IsPending
    IsFinanceCharge PONumber TermsRef DueDate SalesRepRef FOB ShipDate ShipMethodRef Subtotal
    ItemSalesTaxRef SalesTaxPercentage SalesTaxTotal AppliedAmount BalanceRemaining CurrencyRef
    ExchangeRate BalanceRemainingInHomeCurrency Memo IsPaid CustomerMsgRef IsToBePrinted IsToBeEmailed
    IsTaxIncluded CustomerSalesTaxCodeRef SuggestedDiscountAmount SuggestedDiscountDate Other
    ExternalGUID LinkedTxn InvoiceLineRet InvoiceLineGroupRet DiscountLineRet SalesTaxLineRet
    ShippingLineRet DataExtRet
""")
INVOICE_LINE_RET = _order("""
    TxnLineID ItemRef Desc Quantity UnitOfMeasure OverrideUOMSetRef Rate RatePercent ClassRef Amount
    TaxAmount InventorySiteRef InventorySiteLocationRef SerialNumber LotNumber ServiceDate
    SalesTaxCodeRef IsTaxable Other1 Other2 DataExtRet
""")
CREDIT_MEMO_RET = _order("""
    TxnID TimeCreated TimeModified EditSequence TxnNumber CustomerRef ClassRef ARAccountRef TemplateRef
    TxnDate RefNumber BillAddress BillAddressBlock ShipAddress ShipAddressBlock IsPending PONumber
    TermsRef DueDate SalesRepRef FOB ShipDate ShipMethodRef Subtotal ItemSalesTaxRef SalesTaxPercentage
    SalesTaxTotal TotalAmount CreditRemaining CurrencyRef ExchangeRate CreditRemainingInHomeCurrency
    Memo CustomerMsgRef IsToBePrinted IsToBeEmailed IsTaxIncluded CustomerSalesTaxCodeRef Other
    ExternalGUID LinkedTxn CreditMemoLineRet CreditMemoLineGroupRet DiscountLineRet SalesTaxLineRet
    ShippingLineRet DataExtRet
""")
CREDIT_MEMO_LINE_RET = _order("""
    TxnLineID ItemRef Desc Quantity UnitOfMeasure OverrideUOMSetRef Rate RatePercent ClassRef Amount
    TaxAmount InventorySiteRef InventorySiteLocationRef SerialNumber LotNumber ServiceDate
    SalesTaxCodeRef IsTaxable Other1 Other2 CreditCardTxnInfo DataExtRet
""")
RECEIVE_PAYMENT_RET = _order("""
    TxnID TimeCreated TimeModified EditSequence TxnNumber CustomerRef ARAccountRef TxnDate RefNumber
    TotalAmount CurrencyRef ExchangeRate TotalAmountInHomeCurrency PaymentMethodRef Memo
    DepositToAccountRef CreditCardTxnInfo UnusedPayment UnusedCredits ExternalGUID AppliedToTxnRet
    DataExtRet
""")
APPLIED_TO_TXN_RET = _order("""
    TxnID TxnType TxnDate RefNumber BalanceRemaining Amount TxnLineDetail DiscountAmount
    DiscountAccountRef DiscountClassRef LinkedTxn
""")
PURCHASE_ORDER_RET = _order("""
    TxnID TimeCreated TimeModified EditSequence TxnNumber VendorRef ClassRef InventorySiteRef
    ShipToEntityRef TemplateRef TxnDate RefNumber VendorAddress VendorAddressBlock ShipAddress
    ShipAddressBlock TermsRef DueDate ExpectedDate ShipMethodRef FOB TotalAmount CurrencyRef
    ExchangeRate TotalAmountInHomeCurrency IsManuallyClosed IsFullyReceived Memo VendorMsg IsToBePrinted
    IsToBeEmailed IsTaxIncluded SalesTaxCodeRef Other1 Other2 ExternalGUID LinkedTxn
    PurchaseOrderLineRet PurchaseOrderLineGroupRet DataExtRet
""")
PURCHASE_ORDER_LINE_RET = _order("""
    TxnLineID ItemRef ManufacturerPartNumber Desc Quantity UnitOfMeasure OverrideUOMSetRef Rate ClassRef
    Amount TaxAmount InventorySiteLocationRef CustomerRef ServiceDate SalesTaxCodeRef ReceivedQuantity
    UnbilledQuantity IsBilled IsManuallyClosed Other1 Other2 DataExtRet
""")
BILL_RET = _order("""
    TxnID TimeCreated TimeModified EditSequence TxnNumber VendorRef VendorAddress APAccountRef TxnDate
    DueDate AmountDue CurrencyRef ExchangeRate AmountDueInHomeCurrency RefNumber TermsRef Memo
    IsTaxIncluded SalesTaxCodeRef IsPaid ExternalGUID LinkedTxn ExpenseLineRet ItemLineRet
    ItemGroupLineRet OpenAmount DataExtRet
""")
EXPENSE_LINE_RET = _order("""
    TxnLineID AccountRef Amount TaxAmount Memo CustomerRef ClassRef SalesTaxCodeRef BillableStatus
    SalesRepRef DataExtRet
""")
ITEM_LINE_RET = _order("""
    TxnLineID ItemRef InventorySiteRef InventorySiteLocationRef SerialNumber LotNumber Desc Quantity
    UnitOfMeasure OverrideUOMSetRef Cost Amount TaxAmount CustomerRef ClassRef SalesTaxCodeRef
    BillableStatus SalesRepRef DataExtRet
""")
LINKED_TXN = _order("""
    TxnID TxnType TxnDate RefNumber LinkType Amount TxnLineDetail
""")
TXN_DELETED_RET = _order("""
    TxnDelType TxnID TimeCreated TimeDeleted RefNumber
""")
LIST_DELETED_RET = _order("""
    ListDelType ListID TimeCreated TimeDeleted FullName
""")

NAMES = "names"  # customers, vendors, employees and other names share one name space (NOTES.md §4.2)
ITEMS = "items"

CUSTOMER = Spec("Customer", CUSTOMER_RET, space=NAMES, hierarchical=True, label="Customer")
VENDOR = Spec("Vendor", VENDOR_RET, space=NAMES, label="Vendor")
EMPLOYEE = Spec("Employee", EMPLOYEE_RET, space=NAMES, label="Employee")
OTHER_NAME = Spec("OtherName", OTHER_NAME_RET, space=NAMES, label="Other Name")
ITEM_SERVICE = Spec("ItemService", ITEM_SERVICE_RET, space=ITEMS, hierarchical=True, label="Item")
ITEM_NON_INVENTORY = Spec(
    "ItemNonInventory", ITEM_NON_INVENTORY_RET, space=ITEMS, hierarchical=True, label="Item"
)
ITEM_OTHER_CHARGE = Spec(
    "ItemOtherCharge", ITEM_OTHER_CHARGE_RET, space=ITEMS, hierarchical=True, label="Item"
)
ITEM_INVENTORY = Spec("ItemInventory", ITEM_INVENTORY_RET, space=ITEMS, hierarchical=True, label="Item")
ITEM_SALES_TAX = Spec("ItemSalesTax", ITEM_SALES_TAX_RET, space=ITEMS, label="Item")
ITEM_SALES_TAX_GROUP = Spec("ItemSalesTaxGroup", ITEM_SALES_TAX_GROUP_RET, space=ITEMS, label="Item")
ACCOUNT = Spec("Account", ACCOUNT_RET, space="accounts", hierarchical=True, label="Account")
CLASS = Spec("Class", CLASS_RET, space="classes", hierarchical=True, label="Class")
STANDARD_TERMS = Spec("StandardTerms", STANDARD_TERMS_RET, space="terms", label="Terms")
DATE_DRIVEN_TERMS = Spec("DateDrivenTerms", DATE_DRIVEN_TERMS_RET, space="terms", label="Terms")
PAYMENT_METHOD = Spec("PaymentMethod", PAYMENT_METHOD_RET, space="methods", label="Payment Method")
TEMPLATE = Spec(
    "Template",
    ("ListID", "TimeCreated", "TimeModified", "EditSequence", "Name", "IsActive", "TemplateType"),
    space="templates",
    label="Template",
)
SALES_TAX_CODE = Spec("SalesTaxCode", SALES_TAX_CODE_RET, space="taxcodes", label="Sales Tax Code")

INVOICE = Spec(
    "Invoice",
    INVOICE_RET,
    is_txn=True,
    label="Invoice",
    lines=(("InvoiceLine", "InvoiceLineRet", INVOICE_LINE_RET),),
)
CREDIT_MEMO = Spec(
    "CreditMemo",
    CREDIT_MEMO_RET,
    is_txn=True,
    label="CreditMemo",
    lines=(("CreditMemoLine", "CreditMemoLineRet", CREDIT_MEMO_LINE_RET),),
)
RECEIVE_PAYMENT = Spec("ReceivePayment", RECEIVE_PAYMENT_RET, is_txn=True, label="ReceivePayment")
PURCHASE_ORDER = Spec(
    "PurchaseOrder",
    PURCHASE_ORDER_RET,
    is_txn=True,
    label="PurchaseOrder",
    lines=(("PurchaseOrderLine", "PurchaseOrderLineRet", PURCHASE_ORDER_LINE_RET),),
)
BILL = Spec(
    "Bill",
    BILL_RET,
    is_txn=True,
    label="Bill",
    lines=(("ExpenseLine", "ExpenseLineRet", EXPENSE_LINE_RET), ("ItemLine", "ItemLineRet", ITEM_LINE_RET)),
)

LISTS = (
    CUSTOMER,
    VENDOR,
    EMPLOYEE,
    OTHER_NAME,
    ITEM_SERVICE,
    ITEM_NON_INVENTORY,
    ITEM_OTHER_CHARGE,
    ITEM_INVENTORY,
    ITEM_SALES_TAX,
    ITEM_SALES_TAX_GROUP,
    ACCOUNT,
    CLASS,
    STANDARD_TERMS,
    DATE_DRIVEN_TERMS,
    PAYMENT_METHOD,
    SALES_TAX_CODE,
    TEMPLATE,
)
TRANSACTIONS = (INVOICE, CREDIT_MEMO, RECEIVE_PAYMENT, PURCHASE_ORDER, BILL)
BY_KIND = {spec.kind: spec for spec in LISTS + TRANSACTIONS}
ALL_ITEMS = (
    ITEM_SERVICE,
    ITEM_NON_INVENTORY,
    ITEM_OTHER_CHARGE,
    ITEM_INVENTORY,
    ITEM_SALES_TAX,
    ITEM_SALES_TAX_GROUP,
)
SALE_ITEMS = ALL_ITEMS
ACCOUNTS = (ACCOUNT,)

# Which list a reference points into (a reference to any other list, e.g. SalesRepRef, points into a list this
# company does not keep, and gets 3140).
REF_TARGETS: dict[str, tuple[Spec, ...]] = {
    "CustomerRef": (CUSTOMER,),
    "VendorRef": (VENDOR,),
    "PrefVendorRef": (VENDOR,),
    "TaxVendorRef": (VENDOR,),
    "ItemRef": ALL_ITEMS,
    "ItemSalesTaxRef": (ITEM_SALES_TAX, ITEM_SALES_TAX_GROUP),
    "TermsRef": (STANDARD_TERMS, DATE_DRIVEN_TERMS),
    "PaymentMethodRef": (PAYMENT_METHOD,),
    "TemplateRef": (TEMPLATE,),
    "ClassRef": (CLASS,),
    "PreferredPaymentMethodRef": (PAYMENT_METHOD,),
    "SalesTaxCodeRef": (SALES_TAX_CODE,),
    "CustomerSalesTaxCodeRef": (SALES_TAX_CODE,),
    "PurchaseTaxCodeRef": (SALES_TAX_CODE,),
    "AccountRef": ACCOUNTS,
    "ARAccountRef": ACCOUNTS,
    "APAccountRef": ACCOUNTS,
    "IncomeAccountRef": ACCOUNTS,
    "ExpenseAccountRef": ACCOUNTS,
    "COGSAccountRef": ACCOUNTS,
    "AssetAccountRef": ACCOUNTS,
    "DepositToAccountRef": ACCOUNTS,
}
# Elements ending in "Ref" that are not references to a list entry.
NOT_REFS = frozenset({"AdditionalContactRef"})
# How a Mod's aggregate is kept in the Ret.
MOD_TO_RET = {"SalesOrPurchaseMod": "SalesOrPurchase", "SalesAndPurchaseMod": "SalesAndPurchase"}
