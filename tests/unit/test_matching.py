"""Automatch's rules and outcomes, on small hand-made companies (the planted one: test_matching_world.py)."""

from __future__ import annotations

import pytest

from qbsync.domain.matching import (
    COMPANY_SUFFIXES,
    Candidate,
    DuplicateName,
    MatchRule,
    Outcome,
    RecordMatch,
    automatch,
    normalise,
    similarity,
)
from qbsync.domain.mirror import ListEntry, ListType
from qbsync.domain.records import Customer, Employee, Item, ItemKind, Vendor
from qbsync.domain.settings import SyncSettings

DEFAULTS = SyncSettings()


def entry(list_type: ListType, qid: str, name: str, **kw: object) -> ListEntry:
    return ListEntry(list_type=list_type, quickbooks_id=qid, name=name, **kw)  # type: ignore[arg-type]


def qb_customer(qid: str, name: str, email: str | None = None, **kw: object) -> ListEntry:
    return entry(ListType.CUSTOMER, qid, name, email=email, **kw)


def qb_item(qid: str, name: str, sku: str | None = None, **kw: object) -> ListEntry:
    return entry(ListType.ITEM, qid, name, sku=sku, **kw)


def customer(name: str, email: str | None = None) -> Customer:
    return Customer(display_name=name, email=email)


def item(name: str, sku: str | None = None) -> Item:
    return Item(kind=ItemKind.SERVICE, name=name, sku=sku)


def one(report_records: tuple[RecordMatch, ...]) -> RecordMatch:
    (only,) = report_records
    return only


def match_customer(host: Customer, *entries: ListEntry, settings: SyncSettings = DEFAULTS) -> RecordMatch:
    return one(automatch("customer", [("c-1", host)], entries, settings).records)


def match_item(host: Item, *entries: ListEntry, settings: SyncSettings = DEFAULTS) -> RecordMatch:
    return one(automatch("item", [("i-1", host)], entries, settings).records)


# --- names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "quickbooks"),
    [
        ("ACME PLUMBING", "Acme Plumbing"),  # case
        ("Cafe Muller", "Café Müller"),  # accents
        ("Soren Lukasz", "Søren Łukasz"),  # letters Unicode does not decompose
        ("Acme Inc.", "Acme Inc"),  # a dot
        ("Acme, Inc.", "ACME LLC"),  # company suffixes
        ("Smith & Co., Ltd.", "Smith"),  # several suffixes, "& Co."
        ("  Blue   Sky  Bakery ", "Blue Sky Bakery"),  # blanks
        ("O'Brien's Pub", "OBriens Pub"),  # apostrophes
        ("Jean-Pierre Dupont", "Jean Pierre Dupont"),  # hyphens separate words
        ("Müller GmbH & Co. KG", "Muller"),
        ("Rossi S.p.A.", "Rossi"),
        ("Tom & Jerry", "Tom and Jerry"),
    ],
)
def test_names_compare_without_case_accents_punctuation_blanks_or_company_suffixes(
    host: str, quickbooks: str
) -> None:
    assert normalise(host) == normalise(quickbooks)
    found = match_customer(customer(host), qb_customer("7", quickbooks))
    assert (found.outcome, found.match) == (Outcome.MATCHED, Candidate("7", MatchRule.NAME_EXACT, 100.0))
    assert found.auto_accepted


def test_a_name_that_is_only_a_suffix_keeps_it_and_every_suffix_in_the_table_is_dropped() -> None:
    assert normalise("Company") == "company"
    assert normalise("L.L.C.") == "llc"
    for suffix, _ in COMPANY_SUFFIXES:
        assert normalise(f"Northwind {suffix}") == "northwind", suffix


def test_word_order_does_not_count_but_a_name_inside_a_longer_one_is_not_similar() -> None:
    assert similarity("Smith, John", "John Smith") == 100.0
    assert similarity("Acme", "Acme Plumbing Supply") < 50
    found = match_customer(customer("Smith, John"), qb_customer("7", "John Smith"))
    assert (found.match, found.auto_accepted) == (Candidate("7", MatchRule.NAME_SIMILAR, 100.0), True)


def test_a_typod_name_is_proposed_but_not_auto_accepted() -> None:
    found = match_customer(customer("Northwind Tradres"), qb_customer("7", "Northwind Traders Inc."))
    assert found.outcome is Outcome.MATCHED
    assert found.match is not None
    assert found.match.rule is MatchRule.NAME_SIMILAR
    assert DEFAULTS.match_threshold <= found.match.score < DEFAULTS.match_auto_accept
    assert not found.auto_accepted


def test_a_proposal_is_auto_accepted_when_the_tenant_lowers_the_auto_accept_level() -> None:
    lenient = SyncSettings(match_threshold=85, match_auto_accept=85)
    found = match_customer(
        customer("Northwind Tradres"), qb_customer("7", "Northwind Traders"), settings=lenient
    )
    assert found.auto_accepted


def test_a_typo_that_moves_a_word_in_the_sorted_order_is_still_similar() -> None:
    # "sslon" sorts after "sons", "salon" before it: the sorted forms are 79 % alike, the names 93 %.
    found = match_customer(customer("Kim Sslon Sons", "k@k.example"), qb_customer("7", "Kim Salon Sons Ltd"))
    assert found.match == Candidate("7", MatchRule.NAME_SIMILAR, 92.9)


def test_a_typo_in_a_long_company_suffix_still_drops_it() -> None:
    assert normalise("Acme Plumbing Corporaton") == normalise("Acme Plumbing Compnay") == "acme plumbing"
    assert normalise("Blue Ridge Inn") == "blue ridge inn"  # short suffixes only as written: an inn is no Inc


def test_names_more_than_two_typos_apart_are_not_similar_however_alike() -> None:
    assert similarity("Liberty Cleaning Services & Sons", "Lee Cleaning Services & Sons") > 85
    found = match_customer(
        customer("Liberty Cleaning Services & Sons", "l@l.example"),
        qb_customer("7", "Lee Cleaning Services & Sons"),
    )
    assert found.outcome is Outcome.NOT_FOUND
    people = match_customer(customer("Melissa White", "m@w.example"), qb_customer("8", "Melissa Whitfield"))
    assert people.outcome is Outcome.NOT_FOUND


def test_a_name_below_the_threshold_is_not_found() -> None:
    found = match_customer(
        customer("Northwind Traders", "n@nw.example"), qb_customer("7", "Southward Trading")
    )
    assert found == RecordMatch("c-1", Outcome.NOT_FOUND)


def test_two_equally_close_names_are_ambiguous_with_both_candidates() -> None:
    found = match_customer(
        customer("Jon Smith"), qb_customer("8", "John Smith"), qb_customer("7", "Jon Smiths")
    )
    assert found.outcome is Outcome.AMBIGUOUS
    assert [c.quickbooks_id for c in found.candidates] == ["7", "8"]  # equal scores: by QuickBooks id
    assert {c.rule for c in found.candidates} == {MatchRule.NAME_SIMILAR}


def test_the_clearly_closer_of_two_similar_names_is_the_match() -> None:
    found = match_customer(
        customer("Northwind Tradrs"),
        qb_customer("7", "Northwind Traders"),
        qb_customer("8", "Northwind Trade"),
    )
    assert found.outcome is Outcome.MATCHED
    assert found.match is not None
    assert found.match.quickbooks_id == "7"


# --- customers: billing email, then name ---------------------------------------------------------------


def test_a_customer_is_matched_by_billing_email_whatever_its_name() -> None:
    found = match_customer(
        customer("Ada L.", "ADA@Example.com "),
        qb_customer("7", "Lovelace Consulting", "ada@example.com"),
        qb_customer("8", "Ada L."),
    )
    assert found == RecordMatch(
        "c-1", Outcome.MATCHED, match=Candidate("7", MatchRule.EMAIL, 100.0), auto_accepted=True
    )


def test_a_duplicated_email_is_listed_ambiguous_not_guessed() -> None:
    found = match_customer(
        customer("Acme Plumbing", "office@acme.example"),
        qb_customer("9", "Acme Plumbing", "office@acme.example"),
        qb_customer("4", "Acme Heating", "office@acme.example"),
    )
    assert found.outcome is Outcome.AMBIGUOUS
    assert found.candidates == (
        Candidate("4", MatchRule.EMAIL, 100.0),
        Candidate("9", MatchRule.EMAIL, 100.0),
    )


def test_a_customer_whose_email_quickbooks_lacks_falls_back_to_its_name() -> None:
    found = match_customer(customer("Acme Plumbing", "new@acme.example"), qb_customer("7", "Acme Plumbing"))
    assert (found.match, found.auto_accepted) == (Candidate("7", MatchRule.NAME_EXACT, 100.0), True)


def test_a_name_match_whose_email_disagrees_is_proposed_not_auto_accepted() -> None:
    found = match_customer(
        customer("Acme Plumbing", "new@acme.example"), qb_customer("7", "Acme Plumbing", "old@acme.example")
    )
    assert found.outcome is Outcome.MATCHED
    assert (found.match, found.auto_accepted) == (Candidate("7", MatchRule.NAME_EXACT, 100.0), False)


def test_a_customer_without_email_that_nothing_matches_is_missing_key_and_with_one_not_found() -> None:
    quickbooks = qb_customer("7", "Someone Else", "else@example.com")
    assert match_customer(customer("Acme Plumbing"), quickbooks).outcome is Outcome.MISSING_KEY
    assert (
        match_customer(customer("Acme Plumbing", "a@acme.example"), quickbooks).outcome is Outcome.NOT_FOUND
    )


def test_a_customer_without_email_matched_by_name_is_matched_not_missing_key() -> None:
    found = match_customer(customer("Acme Plumbing"), qb_customer("7", "Acme Plumbing", "a@acme.example"))
    assert (found.outcome, found.auto_accepted) == (Outcome.MATCHED, True)


# --- items: SKU, then exact name ----------------------------------------------------------------------


def test_an_item_is_matched_by_its_sku_whatever_its_name() -> None:
    found = match_item(item("Widget, blue", "wid-001"), qb_item("30", "Blue widget (large)", "WID-001"))
    assert (found.match, found.auto_accepted) == (Candidate("30", MatchRule.SKU, 100.0), True)


def test_an_item_without_sku_falls_back_to_its_exact_name_only() -> None:
    assert match_item(item("Blue Widget"), qb_item("30", "BLUE WIDGET", "W-1")).match == Candidate(
        "30", MatchRule.NAME_EXACT, 100.0
    )
    typo = match_item(item("Blue Widgte"), qb_item("30", "Blue Widget", "W-1"))
    assert typo == RecordMatch("i-1", Outcome.MISSING_KEY)  # items are not matched by similar names


def test_an_item_without_sku_is_missing_key_when_the_rules_say_sku_only() -> None:
    sku_only = SyncSettings.model_validate({"match_rules": {"item": {"key": "sku", "names": "off"}}})
    found = match_item(item("Blue Widget"), qb_item("30", "Blue Widget", "W-1"), settings=sku_only)
    assert found == RecordMatch("i-1", Outcome.MISSING_KEY)


def test_an_item_with_a_sku_quickbooks_lacks_and_an_unknown_name_is_not_found() -> None:
    found = match_item(item("Blue Widget", "W-9"), qb_item("30", "Red Widget", "W-1"))
    assert found == RecordMatch("i-1", Outcome.NOT_FOUND)


def test_a_sku_two_quickbooks_items_share_is_ambiguous() -> None:
    found = match_item(
        item("Blue Widget", "W-1"), qb_item("30", "Blue Widget", "W-1"), qb_item("31", "Old", "w-1")
    )
    assert found.outcome is Outcome.AMBIGUOUS
    assert [c.quickbooks_id for c in found.candidates] == ["30", "31"]


# --- vendors and employees: by name ---------------------------------------------------------------------


def test_vendors_and_employees_are_matched_by_name_even_when_emails_differ() -> None:
    vendor = automatch(
        "vendor",
        [("v-1", Vendor(display_name="Globex Corporation", email="a@globex.example"))],
        [entry(ListType.VENDOR, "55", "Globex Corp.", email="b@globex.example")],
        DEFAULTS,
    )
    assert one(vendor.records).match == Candidate("55", MatchRule.NAME_EXACT, 100.0)
    employee = automatch(
        "employee",
        [("e-1", Employee(display_name="Grace Hopper"))],
        [entry(ListType.EMPLOYEE, "56", "Hopper, Grace")],
        DEFAULTS,
    )
    assert one(employee.records).match == Candidate("56", MatchRule.NAME_SIMILAR, 100.0)


# --- candidates, claims, duplicates --------------------------------------------------------------------


def test_inactive_entries_and_those_linked_to_another_record_are_no_candidates() -> None:
    entries = [
        qb_customer("1", "Acme Plumbing", active=False),
        qb_customer("2", "Acme Plumbing", "a@acme.example"),
    ]
    linked_elsewhere = automatch(
        "customer", [("c-1", customer("Acme Plumbing", "a@acme.example"))], entries, DEFAULTS, {"2": "c-9"}
    )
    assert one(linked_elsewhere.records).outcome is Outcome.NOT_FOUND
    own_link = automatch(
        "customer", [("c-1", customer("Acme Plumbing", "a@acme.example"))], entries, DEFAULTS, {"2": "c-1"}
    )
    assert one(own_link.records).match == Candidate("2", MatchRule.EMAIL, 100.0)


def test_two_host_records_claiming_the_same_object_are_both_ambiguous() -> None:
    report = automatch(
        "customer",
        [("c-2", customer("ACME Plumbing")), ("c-1", customer("Acme Plumbing", "a@acme.example"))],
        [qb_customer("7", "Acme Plumbing", "a@acme.example")],
        DEFAULTS,
    )
    assert [(r.record_id, r.outcome, r.rivals) for r in report.records] == [
        ("c-1", Outcome.AMBIGUOUS, ("c-2",)),
        ("c-2", Outcome.AMBIGUOUS, ("c-1",)),
    ]
    assert [c.quickbooks_id for r in report.records for c in r.candidates] == ["7", "7"]


def test_a_duplicate_name_in_quickbooks_is_listed_per_entry_and_a_record_of_that_name_is_ambiguous() -> None:
    report = automatch(
        "customer",
        [("c-1", customer("Acme Plumbing"))],
        [
            qb_customer("7", "Acme Plumbing Inc."),
            qb_customer("12", "ACME PLUMBING, LLC"),
            qb_customer("9", "Acme Plumbing", active=False),
            qb_customer("3", "Globex"),
        ],
        DEFAULTS,
    )
    assert report.duplicate_names == (DuplicateName("12", ("7",)), DuplicateName("7", ("12",)))
    found = one(report.records)
    assert found.outcome is Outcome.AMBIGUOUS
    assert [c.quickbooks_id for c in found.candidates] == ["12", "7"]
    assert report.by_outcome(Outcome.AMBIGUOUS) == [found]


def test_the_same_input_in_another_order_gives_the_same_report() -> None:
    hosts = [
        (f"c-{i}", customer(name)) for i, name in enumerate(["Jon Smith", "Acme", "Globex Corp", "Initech"])
    ]
    entries = [
        qb_customer("8", "John Smith"),
        qb_customer("7", "Jon Smyth"),
        qb_customer("5", "ACME"),
        qb_customer("6", "Acme Inc"),
        qb_customer("4", "Globex"),
    ]
    first = automatch("customer", hosts, entries, DEFAULTS)
    assert automatch("customer", hosts[::-1], entries[::-1], DEFAULTS) == first
    assert [r.record_id for r in first.records] == sorted(r for r, _ in hosts)


def test_records_of_another_type_or_entries_of_another_list_are_refused() -> None:
    with pytest.raises(ValueError, match="not matched"):
        automatch("invoice", [], [], DEFAULTS)
    with pytest.raises(ValueError, match="Customer models"):
        automatch("customer", [("v-1", Vendor(display_name="Globex"))], [], DEFAULTS)
    with pytest.raises(ValueError, match="customer list"):
        automatch("customer", [], [qb_item("1", "Widget")], DEFAULTS)
    with pytest.raises(ValueError, match="repeat"):
        automatch("customer", [("c-1", customer("A")), ("c-1", customer("B"))], [], DEFAULTS)


def test_a_rejected_pair_is_no_candidate_and_the_rules_go_on_without_it() -> None:
    ada = customer("Ada Lovelace", "ada@example.com")
    entries = [qb_customer("1", "Ada Lovelace Ltd", "ada@example.com"), qb_customer("2", "Ada Lovelace")]
    report = automatch("customer", [("c-1", ada)], entries, DEFAULTS, rejected={("c-1", "1")})
    match = one(report.records).match
    assert match is not None
    assert (match.quickbooks_id, match.rule) == ("2", MatchRule.NAME_EXACT)
    both = automatch("customer", [("c-1", ada)], entries, DEFAULTS, rejected={("c-1", "1"), ("c-1", "2")})
    assert one(both.records).outcome is Outcome.NOT_FOUND
    other = automatch("customer", [("c-2", ada)], entries, DEFAULTS, rejected={("c-1", "1")})
    assert one(other.records).match == Candidate("1", MatchRule.EMAIL, 100.0)
