"""The mirror of the QuickBooks lists: entries, what changed between two reads, the listing's filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from qbsync.domain.mirror import (
    LINKABLE,
    ListChange,
    ListEntry,
    ListFilter,
    ListType,
    MatchKey,
    change_of,
    fold,
    key_value,
    kind_words,
)
from tests.unit.mirror_fakes import InMemoryMirror

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def customer(qid: str = "58", **kw: object) -> ListEntry:
    values: dict[str, object] = {
        "name": "Café Noir Inc.",
        "email": "Billing@CafeNoir.example",
        "modified_at": T0,
    }
    values.update(kw)
    return ListEntry(ListType.CUSTOMER, qid, **values)  # type: ignore[arg-type]


def test_an_entry_survives_its_json_form():
    entry = customer(price=None, version="3", parent_id="12")
    item = ListEntry(ListType.ITEM, "9", "Labour", sku="LAB-1", price=Decimal("75.50"), kind="service")
    for e in (entry, item):
        assert ListEntry.from_dict(e.as_dict()) == e
    assert item.as_dict()["price"] == "75.50"


def test_an_entry_carries_the_aware_time_quickbooks_created_it_and_an_older_form_reads_without_one():
    created = datetime(2019, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=-8)))
    entry = customer(created_at=created)
    assert entry.as_dict()["created_at"] == "2019-03-01T08:00:00-08:00"
    assert ListEntry.from_dict(entry.as_dict()) == entry
    older = {k: v for k, v in customer().as_dict().items() if k != "created_at"}  # stored before it was kept
    assert ListEntry.from_dict(older).created_at is None
    with pytest.raises(ValueError, match=r"created_at .* has no time zone"):
        customer(created_at=datetime(2019, 3, 1))


def test_an_entry_refuses_a_naive_time_and_an_empty_id():
    with pytest.raises(ValueError, match="time zone"):
        customer(modified_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="id"):
        customer(qid="")


def test_only_customers_vendors_employees_and_items_link_to_records():
    assert {lt.value for lt in LINKABLE} == {"customer", "vendor", "employee", "item"}
    assert customer().record_type == "customer"
    assert ListEntry(ListType.ACCOUNT, "1", "Sales").record_type is None


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (None, customer(), ListChange.CREATED),
        (customer(), None, ListChange.DELETED),
        (None, None, None),
        (customer(), customer(version="9", modified_at=datetime(2026, 11, 2, tzinfo=UTC)), None),
        (customer(), customer(name="Cafe Noir"), ListChange.UPDATED),
        (customer(), customer(active=False), ListChange.INACTIVATED),
        (customer(active=False), customer(), ListChange.UPDATED),
        # an entry stored before the mirror kept creation times, read again: nothing the host app must hear
        (customer(), customer(created_at=datetime(2019, 3, 1, tzinfo=UTC)), None),
    ],
)
def test_a_new_read_says_what_changed(before, after, change):
    assert change_of(before, after) is change


def test_text_is_found_in_name_email_or_sku_without_case_or_accents():
    assert fold("Café NOIR") == "cafe noir"
    assert customer().matches_text("cafe noir")
    assert customer().matches_text("BILLING@")
    assert not customer().matches_text("espresso")
    assert ListEntry(ListType.ITEM, "9", "Labour", sku="LAB-1").matches_text("lab-1")


def test_the_filter_keeps_by_text_activity_and_modification_time():
    assert ListFilter(active=False).keeps(customer(active=False))
    assert not ListFilter(active=True).keeps(customer(active=False))
    assert ListFilter(modified_since=T0).keeps(customer())
    assert not ListFilter(modified_since=datetime(2026, 11, 2, tzinfo=UTC)).keeps(customer())
    assert not ListFilter(modified_since=T0).keeps(customer(modified_at=None))


def test_match_keys_compare_folded_and_trimmed():
    assert (
        key_value(customer(email=" Billing@CafeNoir.example "), MatchKey.EMAIL) == "billing@cafenoir.example"
    )
    assert key_value(customer(email="  "), MatchKey.EMAIL) is None
    assert key_value(customer(), MatchKey.SKU) is None


def test_the_in_memory_mirror_pages_by_name_and_finds_by_key():
    mirror = InMemoryMirror()
    mirror.put_many(
        "t1",
        [
            customer("1", name="beta", email="b@x.example"),
            customer("2", name="Alpha", email="a@x.example"),
            customer("3", name="gamma", email="A@X.example", active=False),
        ],
    )
    mirror.put_many("t2", [customer("1", name="other tenant")])
    first = mirror.page("t1", ListType.CUSTOMER, ListFilter(), 2, None)
    assert [e.name for e in first.items] == ["Alpha", "beta"]
    rest = mirror.page("t1", ListType.CUSTOMER, ListFilter(), 2, first.next_cursor)
    assert [e.name for e in rest.items] == ["gamma"]
    assert rest.next_cursor is None
    assert {e.quickbooks_id for e in mirror.find("t1", ListType.CUSTOMER, MatchKey.EMAIL, "a@x.EXAMPLE")} == {
        "2",
        "3",
    }
    mirror.remove("t1", ListType.CUSTOMER, ["2", "404"])
    assert set(mirror.get_many("t1", ListType.CUSTOMER, ["1", "2"])) == {"1"}


@pytest.mark.parametrize(
    ("online", "desktop", "word"),
    [
        ("Other Current Asset", "OtherCurrentAsset", "other_current_asset"),
        ("Accounts Receivable", "AccountsReceivable", "accounts_receivable"),
        ("Cost of Goods Sold", "CostOfGoodsSold", "cost_of_goods_sold"),
        ("Credit Card", "CreditCard", "credit_card"),
        ("NonInventory", "NonInventory", "non_inventory"),
        ("Service", "Service", "service"),
    ],
)
def test_both_editions_kinds_of_items_and_accounts_are_one_vocabulary(
    online: str, desktop: str, word: str
) -> None:
    assert kind_words(online) == kind_words(desktop) == word


def test_no_kind_is_none() -> None:
    assert kind_words(None) is None
    assert kind_words("  ") is None
