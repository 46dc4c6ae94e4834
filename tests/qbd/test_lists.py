"""Lists in the simulated company: one name space, jobs, Mods with EditSequence, references."""

from __future__ import annotations

import pytest

from local.qbd.company import Company
from tests.qbd.qbxml import customer_add, named_add, run


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    return Company().open_session()


@pytest.mark.parametrize("kind", ["Vendor", "Employee", "OtherName"])
def test_a_customer_cannot_take_a_name_a_vendor_employee_or_other_name_holds_whatever_its_case(
    session, kind
) -> None:
    run(session, named_add(kind, "Acme Supplies"))

    answer = run(session, customer_add("ACME supplies"))

    assert answer.status() == (
        3100,
        "Error",
        'The name "ACME supplies" of the list element is already in use.',
    )


def test_a_vendor_cannot_take_a_customers_name(session) -> None:
    run(session, customer_add("Acme Supplies"))

    assert run(session, named_add("Vendor", "acme supplies")).status()[0] == 3100


def test_jobs_of_different_parents_may_share_a_name_but_not_under_one_parent(session) -> None:
    run(session, customer_add("Abercrombie"), customer_add("Baker", "2"))

    answer = run(
        session,
        customer_add("Family Room", "a", parent="Abercrombie"),
        customer_add("Family Room", "b", parent="Baker"),
        customer_add("family room", "c", parent="abercrombie"),
    )

    assert [answer.status(i)[0] for i in range(3)] == [0, 0, 3100]
    assert answer.text("CustomerRet/FullName", 0) == "Abercrombie:Family Room"
    assert answer.text("CustomerRet/Sublevel", 1) == "1"
    assert answer.text("CustomerRet/ParentRef/FullName", 1) == "Baker"


def test_a_job_under_a_parent_that_does_not_exist_gets_3130(session) -> None:
    answer = run(session, customer_add("Install", parent="NONEXISTENT-PARENT-CUSTOMER"))

    assert answer.status() == (
        3130,
        "Error",
        'There is an invalid reference to a parent "NONEXISTENT-PARENT-CUSTOMER" in the Customers list.  '
        "QuickBooks error message: Invalid argument.  The specified record does not exist in the list.",
    )


def test_a_mod_with_an_edit_sequence_a_user_has_moved_on_gets_3200_and_changes_nothing(session) -> None:
    company = session.company
    added = run(session, customer_add("Ada"))
    list_id, stale = added.text("CustomerRet/ListID"), added.text("CustomerRet/EditSequence")
    company.rename(list_id, "Ada Lovelace")

    answer = run(
        session,
        f"<CustomerModRq><CustomerMod><ListID>{list_id}</ListID><EditSequence>{stale}</EditSequence>"
        "<CompanyName>Analytical Engines</CompanyName></CustomerMod></CustomerModRq>",
    )

    assert answer.status() == (3200, "Error", f'The provided edit sequence "{stale}" is out-of-date.')
    assert company.objects[list_id].text("CompanyName") is None
    assert company.objects[list_id].name == "Ada Lovelace"


def test_a_mod_with_the_current_edit_sequence_renames_and_moves_the_edit_sequence_on(session) -> None:
    added = run(session, customer_add("Ada"))
    list_id, sequence = added.text("CustomerRet/ListID"), added.text("CustomerRet/EditSequence")

    answer = run(
        session,
        f"<CustomerModRq><CustomerMod><ListID>{list_id}</ListID><EditSequence>{sequence}</EditSequence>"
        "<Name>Ada L</Name><IsActive>false</IsActive></CustomerMod></CustomerModRq>",
    )

    assert answer.status()[0] == 0
    assert answer.text("CustomerRet/FullName") == "Ada L"
    assert answer.text("CustomerRet/IsActive") == "false"
    assert int(answer.text("CustomerRet/EditSequence")) > int(sequence)
    active_only = run(session, "<CustomerQueryRq/>")
    assert active_only.status()[0] == 1  # inactive entries are left out unless asked for


def test_a_mod_of_a_list_id_that_does_not_exist_gets_3120(session) -> None:
    answer = run(
        session,
        "<CustomerModRq><CustomerMod><ListID>8000001B-1405768916</ListID><EditSequence>1</EditSequence>"
        "</CustomerMod></CustomerModRq>",
    )

    assert answer.status() == (
        3120,
        "Error",
        'Object "8000001B-1405768916" specified in the request cannot be found.  '
        "QuickBooks error message: Invalid argument.  The specified record does not exist in the list.",
    )


def test_a_reference_to_terms_that_do_not_exist_gets_3140(session) -> None:
    answer = run(session, customer_add("Ada", extra="<TermsRef><FullName>Net 99</FullName></TermsRef>"))

    assert answer.status() == (
        3140,
        "Error",
        'There is an invalid reference to QuickBooks Terms "Net 99" in the Customer.  '
        "QuickBooks error message: Invalid argument.  The specified record does not exist in the list.",
    )


def test_an_inventory_item_is_refused_with_3250_when_the_company_does_not_use_inventory() -> None:
    session = Company(uses_inventory=False).open_session()

    answer = run(session, named_add("ItemInventory", "Widget"))

    assert answer.status() == (
        3250,
        "Error",
        "This feature is not enabled or not available in this version of QuickBooks.",
    )


def test_the_external_guid_is_kept_and_returned(session) -> None:
    guid = "{6b3c8f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f}"
    run(session, customer_add("Ada", extra=f"<ExternalGUID>{guid}</ExternalGUID>"))

    found = run(
        session,
        "<CustomerQueryRq><FullName>Ada</FullName><IncludeRetElement>ExternalGUID</IncludeRetElement></CustomerQueryRq>",
    )

    assert [child.tag for child in found.ret()] == ["ExternalGUID"]
    assert found.text("CustomerRet/ExternalGUID") == guid


def test_a_login_without_the_permission_gets_3260() -> None:
    session = Company(restricted=frozenset({"CustomerAddRq"})).open_session()

    assert run(session, customer_add("Ada")).status() == (
        3260,
        "Error",
        "Insufficient permission level to perform this action.",
    )
