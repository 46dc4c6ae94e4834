"""strHCPResponse read into `CompanyFacts`: QuickBooks' answers to HostQuery, CompanyQuery and
PreferencesQuery, which the Web Connector passes on the first sendRequestXML of a session.

Shape: the captured QuickBooks Pro 2006 session (shared/reference/qbwc/captures/quickbooks_log.txt) and
qbwc/qbwc's test_helper.rb (QuickBooks Pro 2014), both quoted in shared/reference/qbwc/NOTES.md §1.2-§3.2.
HostRet and CompanyRet are needed; PreferencesRet adds the inventory switch and the sales tax defaults
(absent when the company does not collect sales tax) and may be missing.
"""

from __future__ import annotations

from qbsync.adapters.qbxml.read import Message, QbxmlReadError, Ret, read_message
from qbsync.domain.desktop import CompanyFacts, CompanyFactsUnreadableError

FILE_ID = "FileID"  # the DataExt the Web Connector writes into the company file (guide p.36)


def read_company_facts(hcp_response: str) -> CompanyFacts:
    """The facts of a strHCPResponse; CompanyFactsUnreadableError when it is not one."""
    try:
        message = read_message(hcp_response)
        host = _ret(message, "HostQuery", "Host")
        company = _ret(message, "CompanyQuery", "Company")
        preferences = _optional_ret(message, "PreferencesQuery", "Preferences")
        return CompanyFacts(
            product_name=host.text_of("ProductName") or "",
            major_version=host.text_of("MajorVersion") or "",
            minor_version=host.text_of("MinorVersion") or "",
            qbxml_versions=tuple(n.text.strip() for n in host.all("SupportedQBXMLVersion")),
            country=(host.text_of("Country") or "").strip(),
            company_name=company.text_of("CompanyName") or "",
            file_mode=host.text_of("QBFileMode") or "",
            is_using_inventory=(
                preferences.bool_of("PurchasesAndVendorsPreferences/IsUsingInventory")
                if preferences
                else None
            ),
            taxable_code=(
                preferences.text_of("SalesTaxPreferences/DefaultTaxableSalesTaxCodeRef/FullName")
                if preferences
                else None
            ),
            non_taxable_code=(
                preferences.text_of("SalesTaxPreferences/DefaultNonTaxableSalesTaxCodeRef/FullName")
                if preferences
                else None
            ),
            file_ids=tuple(
                (ext.text_of("OwnerID") or "", ext.text_of("DataExtValue") or "")
                for ext in company.rets("DataExt")
                if ext.text_of("DataExtName") == FILE_ID
            ),
        )
    except QbxmlReadError as exc:
        raise CompanyFactsUnreadableError(str(exc)) from exc


def _optional_ret(message: Message, kind: str, ret: str) -> Ret | None:
    response = next((r for r in message.responses if r.kind == kind), None)
    if response is None or response.status.code != 0:
        return None
    return next(iter(response.node.rets(ret)), None)


def _ret(message: Message, kind: str, ret: str) -> Ret:
    response = next((r for r in message.responses if r.kind == kind), None)
    if response is None:
        raise QbxmlReadError(f"The answer has no {kind}Rs.")
    if response.status.code != 0:
        raise QbxmlReadError(
            f"{kind}Rs answered status {response.status.code}: {response.status.message[:200]}."
        )
    found = next(iter(response.node.rets(ret)), None)
    if found is None:
        raise QbxmlReadError(f"{kind}Rs has no {ret}Ret.")
    return found
