"""strHCPResponse for tests: what QuickBooks answers to HostQuery, CompanyQuery and PreferencesQuery at the
start of a Web Connector session. `hcp_response` builds one in the shape of the captured QuickBooks Pro 2006
session (shared/reference/qbwc/captures/quickbooks_log.txt), with the host's product, qbXML versions and
country to choose: a QuickBooks Pro 2014 by default (MajorVersion 24, qbXML up to 13.0, as in qbwc/qbwc's
test_helper.rb, NOTES §3.2). `logged_hcp_response` is the captured one itself, read from the reference log."""

from __future__ import annotations

from xml.sax.saxutils import escape

from qbsync.qbwc import soap
from tests.adapters.test_qbwc_soap import logged_requests

PRO_2014_VERSIONS = (
    "1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0",
    "6.0", "7.0", "8.0", "9.0", "10.0", "11.0", "12.0", "13.0",
)  # fmt: skip
PRO_2006_VERSIONS = PRO_2014_VERSIONS[:8]  # up to 5.0
OWNER_ID = "{5a1e9f3c-0b7d-4e2a-9c61-2f8d4b7a3e10}"
FILE_ID = "{c0ffee00-1234-4abc-8def-0123456789ab}"


def hcp_response(
    *,
    product: str = "QuickBooks Pro 2014",
    major: str = "24",
    versions: tuple[str, ...] = PRO_2014_VERSIONS,
    country: str | None = "US",
    company: str = "Acme Plumbing & Heating",
    file_ids: tuple[tuple[str, str], ...] = ((OWNER_ID, FILE_ID),),
    inventory: bool = True,
    tax_codes: tuple[str, str] | None = ("Tax", "Non"),
) -> str:
    supported = "".join(f"<SupportedQBXMLVersion>{v}</SupportedQBXMLVersion>" for v in versions)
    data_exts = "".join(
        f"<DataExtRet><OwnerID>{owner}</OwnerID><DataExtName>FileID</DataExtName>"
        f"<DataExtType>STR255TYPE</DataExtType><DataExtValue>{value}</DataExtValue></DataExtRet>"
        for owner, value in file_ids
    )
    tax = (
        "<SalesTaxPreferences><DefaultItemSalesTaxRef><ListID>10000-1400000000</ListID>"
        "<FullName>Out of State</FullName></DefaultItemSalesTaxRef><PaySalesTax>Monthly</PaySalesTax>"
        f"<DefaultTaxableSalesTaxCodeRef><ListID>10000-1400000001</ListID><FullName>{tax_codes[0]}</FullName>"
        "</DefaultTaxableSalesTaxCodeRef><DefaultNonTaxableSalesTaxCodeRef><ListID>20000-1400000001</ListID>"
        f"<FullName>{tax_codes[1]}</FullName></DefaultNonTaxableSalesTaxCodeRef></SalesTaxPreferences>"
        if tax_codes
        else ""
    )
    return (
        '<?xml version="1.0" ?> <QBXML> <QBXMLMsgsRs> '
        '<HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><HostRet>'
        f"<ProductName>{escape(product)}</ProductName><MajorVersion>{major}</MajorVersion>"
        "<MinorVersion>0</MinorVersion>"
        + (f"<Country>{country}</Country>" if country is not None else "")
        + f"{supported}<IsAutomaticLogin>false</IsAutomaticLogin><QBFileMode>SingleUser</QBFileMode>"
        "</HostRet></HostQueryRs> "
        '<CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
        f"<CompanyRet><IsSampleCompany>false</IsSampleCompany><CompanyName>{escape(company)}</CompanyName>"
        f"<LegalCompanyName>{escape(company)} LLC</LegalCompanyName>{data_exts}</CompanyRet>"
        "</CompanyQueryRs> "
        '<PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
        "<PreferencesRet><PurchasesAndVendorsPreferences>"
        f"<IsUsingInventory>{str(inventory).lower()}</IsUsingInventory><DaysBillsAreDue>10</DaysBillsAreDue>"
        "<IsAutomaticallyUsingDiscounts>false</IsAutomaticallyUsingDiscounts>"
        "</PurchasesAndVendorsPreferences>"
        f"{tax}</PreferencesRet></PreferencesQueryRs> </QBXMLMsgsRs> </QBXML> "
    )


def logged_hcp_response() -> str:
    """The strHCPResponse of the captured session: QuickBooks Pro 2006, qbXML up to 5.0."""
    sends = [soap.parse_request(body) for body in logged_requests() if b"<sendRequestXML" in body]
    return next(s.params["strHCPResponse"] for s in sends if s.params["strHCPResponse"])
