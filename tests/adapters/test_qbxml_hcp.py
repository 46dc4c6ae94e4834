"""strHCPResponse into CompanyFacts, and which QuickBooks qbsync works with: the captured QuickBooks Pro 2006
session is refused for its qbXML version, a QuickBooks that reads qbXML 13.0 is accepted."""

from __future__ import annotations

import pytest

from qbsync.adapters.qbxml.hcp import read_company_facts
from qbsync.domain import qbwc
from qbsync.domain.desktop import CompanyFacts, CompanyFactsUnreadableError
from qbsync.qbwc import soap
from tests.conftest import load_event
from tests.qbwc_hcp import FILE_ID, OWNER_ID, PRO_2006_VERSIONS, hcp_response, logged_hcp_response
from tests.qbxml_reference import requires_captures, requires_schema, schema_errors


@requires_captures
def test_the_captured_pro_2006_session_is_read_and_refused_for_its_qbxml_version() -> None:
    facts = read_company_facts(logged_hcp_response())
    assert facts == CompanyFacts(
        product_name="QuickBooks Pro 2006",
        major_version="16",
        minor_version="0",
        qbxml_versions=("1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0"),
        country="US",
        company_name="Test Company",
        file_mode="SingleUser",
        is_using_inventory=True,
        taxable_code="Tax",
        non_taxable_code="Non",
        file_ids=(("{68b5925b-4347-4784-e58d-35a2d190962f}", "{ee032e95-47f7-2564-096f-2d4545fcb021}"),),
    )
    assert facts.highest_qbxml_version == (5, 0)
    assert facts.refusal() == (
        "QuickBooks Desktop 2014 or newer is needed (it reads qbXML 13.0); this company file is open in "
        "QuickBooks Pro 2006, which reads qbXML up to 5.0. Open it in a newer QuickBooks Desktop and run the "
        "Web Connector again."
    )
    # The FileID the Web Connector wrote under the .qwc's OwnerID (case and braces aside).
    assert facts.file_id("68B5925B-4347-4784-E58D-35A2D190962F") == "{ee032e95-47f7-2564-096f-2d4545fcb021}"
    assert facts.file_id(OWNER_ID) is None


@requires_schema
def test_the_hcp_built_for_tests_is_what_intuits_schema_allows() -> None:
    assert schema_errors(hcp_response()) == []
    assert schema_errors(hcp_response(country=None, tax_codes=None, file_ids=())) == []


def test_a_quickbooks_that_reads_qbxml_13_is_accepted_with_its_facts() -> None:
    facts = read_company_facts(hcp_response())
    assert facts.refusal() is None
    assert (facts.product_name, facts.major_version, facts.minor_version) == (
        "QuickBooks Pro 2014",
        "24",
        "0",
    )
    assert facts.highest_qbxml_version == (13, 0)
    assert (facts.country, facts.company_name, facts.file_mode) == (
        "US",
        "Acme Plumbing & Heating",
        "SingleUser",
    )
    assert (facts.is_using_inventory, facts.taxable_code, facts.non_taxable_code) == (True, "Tax", "Non")
    assert facts.file_id(OWNER_ID.upper().strip("{}")) == FILE_ID


def test_the_sample_event_of_a_recent_quickbooks_is_accepted() -> None:
    body = load_event("qbwc_send_request_xml.json")["body"]
    facts = read_company_facts(soap.parse_request(body.encode()).params["strHCPResponse"])
    assert (facts.product_name, facts.highest_qbxml_version) == ("QuickBooks Desktop Pro 2024", (16, 0))
    assert facts.refusal() is None
    # Its preferences say nothing of inventory or sales tax; the FileID is the one the Web Connector wrote
    # for the sample tenant acme-42 when its .qwc was added (guide p.36).
    assert (facts.is_using_inventory, facts.taxable_code) == (None, None)
    assert facts.file_id(qbwc.owner_id_of("acme-42")) == qbwc.file_id_of("acme-42")


@pytest.mark.parametrize(
    ("versions", "highest"),
    [
        (("13.0",), (13, 0)),
        (("16.0", "13.0", "14.0"), (16, 0)),
        (("CA3.0", "UK2.0", "13.0 "), (13, 0)),
        (("12.0", "CA13.0", "x"), (12, 0)),
        ((), None),
    ],
)
def test_the_highest_version_counts_plain_qbxml_versions_only(
    versions: tuple[str, ...], highest: tuple[int, int] | None
) -> None:
    assert read_company_facts(hcp_response(versions=versions)).highest_qbxml_version == highest


@pytest.mark.parametrize(
    ("versions", "says"),
    [
        (PRO_2006_VERSIONS, "which reads qbXML up to 5.0"),
        (("12.0",), "which reads qbXML up to 12.0"),
        ((), "which lists no qbXML version"),
    ],
)
def test_a_quickbooks_older_than_qbxml_13_is_refused_with_what_it_reads(
    versions: tuple[str, ...], says: str
) -> None:
    refusal = read_company_facts(hcp_response(product="QuickBooks Premier 2012", versions=versions)).refusal()
    assert refusal is not None
    assert refusal.startswith("QuickBooks Desktop 2014 or newer is needed")
    assert f"open in QuickBooks Premier 2012, {says}." in refusal


@pytest.mark.parametrize(
    ("country", "says"),
    [("CA", "the CA edition"), ("UK", "the UK edition"), (None, "an edition that gives no country")],
)
def test_an_edition_for_another_country_is_refused_for_now(country: str | None, says: str) -> None:
    facts = read_company_facts(hcp_response(product="QuickBooks Pro 2020", country=country))
    assert facts.refusal() == (
        "qbsync works with the US edition of QuickBooks Desktop for now; this company file is open in "
        f"QuickBooks Pro 2020, {says}."
    )


def test_preferences_without_sales_tax_or_inventory_leave_those_facts_open() -> None:
    facts = read_company_facts(hcp_response(tax_codes=None, inventory=False))
    assert (facts.taxable_code, facts.non_taxable_code, facts.is_using_inventory) == (None, None, False)
    without_preferences = hcp_response().split("<PreferencesQueryRs")[0] + "</QBXMLMsgsRs></QBXML>"
    facts = read_company_facts(without_preferences)
    assert (facts.is_using_inventory, facts.taxable_code) == (None, None)
    assert facts.refusal() is None


def test_file_ids_are_kept_per_owner() -> None:
    other = ("{11111111-2222-3333-4444-555555555555}", "{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}")
    facts = read_company_facts(hcp_response(file_ids=(other, (OWNER_ID, FILE_ID))))
    assert facts.file_id(OWNER_ID) == FILE_ID
    assert facts.file_id(other[0]) == other[1]
    assert facts.file_id("{00000000-0000-0000-0000-000000000000}") is None


UNREADABLE = {
    "not XML": "HOSTQUERY/COMPANYQUERY/PREFQUERY is currently not supported in QBPOS.",
    "an empty QBXML": "<QBXML/>",
    "no HostQueryRs": hcp_response().replace("HostQueryRs", "OtherQueryRs"),
    "no CompanyRet": hcp_response().replace("CompanyRet", "CompanyInfo"),
    "a failed HostQuery": hcp_response().replace(
        'requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK"',
        'requestID="0" statusCode="1000" statusSeverity="Error" statusMessage="internal error"',
    ),
    "a DOCTYPE": '<!DOCTYPE QBXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + hcp_response()[22:],
    "IsUsingInventory that is no boolean": hcp_response().replace(
        "<IsUsingInventory>true", "<IsUsingInventory>perhaps"
    ),
}


@pytest.mark.parametrize("hcp", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_hcp_that_cannot_be_read_raises_one_domain_error_saying_why(hcp: str) -> None:
    with pytest.raises(CompanyFactsUnreadableError) as raised:
        read_company_facts(hcp)
    assert str(raised.value).endswith(".")
    assert "root:" not in str(raised.value)
