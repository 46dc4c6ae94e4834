"""The simulated company's API: sessions, the HCP answer, the FileID the Web Connector writes."""

from __future__ import annotations

from lxml import etree

from local.qbd.company import PRO_2006, Company
from tests.qbd.qbxml import PARSER, customer_add, run


def test_a_customer_added_in_a_session_is_returned_by_a_query_in_the_next() -> None:
    company = Company(name="Acme Books")
    first = company.open_session()
    added = run(first, customer_add("Ada Lovelace"))
    first.close()

    found = run(
        company.open_session(),
        '<CustomerQueryRq requestID="q"><FullName>ada lovelace</FullName></CustomerQueryRq>',
    )

    assert added.status() == (0, "Info", "Status OK")
    assert found.text("CustomerRet/ListID") == added.text("CustomerRet/ListID")
    assert found.responses[0].get("requestID") == "q"


def test_the_hcp_response_names_the_product_its_versions_and_the_file_id_once_written() -> None:
    company = Company(name="Acme Books", product=PRO_2006)
    company.write_file_id("{68b5925b-4347-4784-e58d-35a2d190962f}", "{ee032e95-47f7-2564-096f-2d4545fcb021}")

    root = etree.fromstring(company.open_session().hcp_response().encode(), PARSER)

    host = root.find("QBXMLMsgsRs/HostQueryRs/HostRet")
    assert host.findtext("ProductName") == "QuickBooks Pro 2006"
    assert [v.text for v in host.findall("SupportedQBXMLVersion")][-1] == "5.0"
    ext = root.find("QBXMLMsgsRs/CompanyQueryRs/CompanyRet/DataExtRet")
    assert ext.findtext("DataExtName") == "FileID"
    assert ext.findtext("DataExtValue") == "{ee032e95-47f7-2564-096f-2d4545fcb021}"
    assert (
        root.findtext(
            "QBXMLMsgsRs/PreferencesQueryRs/PreferencesRet/SalesTaxPreferences/DefaultNonTaxableSalesTaxCodeRef/FullName"
        )
        == "Non"
    )
