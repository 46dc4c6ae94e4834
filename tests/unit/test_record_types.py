"""The registry of record types: one spec per type, complete and consistent, and all a new type needs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qbsync.domain.records import (
    RECORD_TYPES,
    NameGroup,
    OptionalText,
    Record,
    RecordTypeSpec,
    Removal,
    Text,
    lockable,
    parse_record,
    record_type_of,
    references,
)
from qbsync.domain.settings import SyncSettings
from qbsync.domain.sync import RecordLockedError, SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.domain.validation import validate
from qbsync.usecases.records import Records
from tests.unit.fakes import FixedClock, InMemoryQueue, InMemorySettings, InMemoryTenants
from tests.unit.sync_fakes import InMemoryRecordStore, InMemoryTenantLease
from tests.unit.test_records import GOOD

QBXML_XSD = (
    Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "qbxml" / "13.0" / "qbxml130.xsd"
)

# GOOD, and records that use every kind of reference their type has.
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    *GOOD.items(),
    ("customer", {**GOOD["customer"], "parent_id": "cust-0"}),
    (
        "payment",
        {
            "customer_id": "cust-1",
            "total_amount": "80.00",
            "applications": [
                {"invoice_id": "inv-1", "amount": "100.00"},
                {"credit_memo_id": "cm-1", "amount": "20.00"},
            ],
        },
    ),
]


@pytest.mark.parametrize(("record_type", "spec"), list(RECORD_TYPES.items()), ids=list(RECORD_TYPES))
def test_every_record_type_is_one_spec_named_by_its_key_whose_model_parses_its_example(
    record_type: str, spec: RecordTypeSpec
) -> None:
    assert spec.name == record_type
    record = parse_record(record_type, GOOD[record_type])
    assert type(record) is spec.model
    assert record_type_of(record) == record_type
    assert len({s.model for s in RECORD_TYPES.values()}) == len(RECORD_TYPES)  # one type per model


def test_the_registry_keeps_the_order_records_are_listed_in() -> None:
    assert list(RECORD_TYPES) == [
        "customer",
        "vendor",
        "employee",
        "item",
        "invoice",
        "payment",
        "credit_memo",
        "purchase_order",
        "bill",
    ]


@pytest.mark.parametrize(("record_type", "data"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_a_record_depends_only_on_records_of_an_earlier_rank_or_of_its_own_list(
    record_type: str, data: dict[str, Any]
) -> None:
    spec = RECORD_TYPES[record_type]
    for kind, _ in references(parse_record(record_type, data)):
        # A sub-customer's parent is a customer too: it goes in an earlier round of the same rank.
        assert RECORD_TYPES[kind].rank < spec.rank or kind == record_type, (record_type, kind)


def test_ranks_are_lists_then_documents_then_what_pays_or_bills_them() -> None:
    assert {name: spec.rank for name, spec in RECORD_TYPES.items()} == {
        "customer": 0,
        "vendor": 0,
        "employee": 0,
        "item": 0,
        "invoice": 1,
        "credit_memo": 1,
        "purchase_order": 1,
        "payment": 2,
        "bill": 2,
    }


@pytest.mark.parametrize(("record_type", "spec"), list(RECORD_TYPES.items()), ids=list(RECORD_TYPES))
def test_a_name_field_is_a_required_text_field_of_the_model_and_comes_with_its_name_group(
    record_type: str, spec: RecordTypeSpec
) -> None:
    assert (spec.name_field is None) == (spec.name_group is None)
    if spec.name_field is not None:
        assert spec.model.model_fields[spec.name_field].is_required()
        assert isinstance(getattr(parse_record(record_type, GOOD[record_type]), spec.name_field), str)


def test_customers_vendors_and_employees_share_one_name_group_and_items_have_their_own() -> None:
    groups = {name: spec.name_group for name, spec in RECORD_TYPES.items() if spec.name_group}
    assert groups == {
        "customer": NameGroup.PEOPLE,
        "vendor": NameGroup.PEOPLE,
        "employee": NameGroup.PEOPLE,
        "item": NameGroup.ITEMS,
    }


def test_every_edition_has_a_removal_for_every_type_and_lists_are_only_made_inactive() -> None:
    for spec in RECORD_TYPES.values():
        assert set(spec.removal) == set(Edition), spec.name
        listed = spec.name_group is not None
        assert all((removal is Removal.DEACTIVATE) == listed for removal in spec.removal.values()), spec.name


def test_online_voids_invoices_and_payments_and_deletes_other_transactions() -> None:
    online = {name: spec.removal[Edition.QBO] for name, spec in RECORD_TYPES.items() if spec.rank}
    assert online == {
        "invoice": Removal.VOID,
        "payment": Removal.VOID,
        "credit_memo": Removal.DELETE,
        "purchase_order": Removal.DELETE,
        "bill": Removal.DELETE,
    }


# The qbXML transaction each record type becomes (shared/design/desktop.md).
QBXML_TXN = {
    "invoice": "Invoice",
    "payment": "ReceivePayment",
    "credit_memo": "CreditMemo",
    "purchase_order": "PurchaseOrder",
    "bill": "Bill",
}


def _enumeration(schema: ET.Element, element: str) -> set[str]:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    [node] = [e for e in schema.iter(f"{xs}element") if e.get("name") == element]
    return {str(value.get("value")) for value in node.iter(f"{xs}enumeration")}


@pytest.mark.skipif(not QBXML_XSD.exists(), reason="shared/reference is not beside the project")
def test_desktop_voids_what_qbxml_can_void_and_deletes_only_what_it_cannot() -> None:
    schema = ET.parse(QBXML_XSD).getroot()  # Intuit's own schema file, read from disk
    voidable, deletable = _enumeration(schema, "TxnVoidType"), _enumeration(schema, "TxnDelType")
    assert set(QBXML_TXN) == {name for name, spec in RECORD_TYPES.items() if spec.name_group is None}
    for record_type, txn in QBXML_TXN.items():
        removal = RECORD_TYPES[record_type].removal[Edition.QBD]
        assert removal is (Removal.VOID if txn in voidable else Removal.DELETE), record_type
        assert txn in (voidable if removal is Removal.VOID else deletable), record_type


def _synced(record_type: str) -> SyncRecord:
    return SyncRecord("acme", record_type, "r-1", {}, SyncState.SYNCED, datetime(2024, 1, 1, tzinfo=UTC))


def test_only_invoices_lock_and_only_when_the_tenant_says_so() -> None:
    locking, open_ = SyncSettings(lock_after_acceptance=True), SyncSettings(lock_after_acceptance=False)
    assert [name for name in RECORD_TYPES if lockable(_synced(name), locking)] == ["invoice"]
    assert not any(lockable(_synced(name), open_) for name in RECORD_TYPES)


# ------------------------------------------------------------------ a new type is one entry


class Estimate(Record):
    title: Text
    memo: OptionalText = None


ESTIMATE = RecordTypeSpec(
    "estimate",
    Estimate,
    rank=1,
    name_field=None,
    name_group=None,
    lockable=True,
    removal={Edition.QBO: Removal.DELETE, Edition.QBD: Removal.VOID},
)


def test_a_new_record_type_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing, checking, storing, locking and what DELETE does follow from the entry. (References, when
    the type has any, are listed in `reference_fields`; each edition maps the type in its adapter.)"""
    monkeypatch.setitem(RECORD_TYPES, "estimate", ESTIMATE)  # type: ignore[index]
    record = parse_record("estimate", {"title": " Roof "})
    assert record_type_of(record) == "estimate"
    assert validate("estimate", record, Edition.QBD) == []
    assert lockable(_synced("estimate"), SyncSettings(lock_after_acceptance=True))

    clock = FixedClock()
    tenants = InMemoryTenants()
    tenants.add(Tenant("online", "Online", Edition.QBO, clock.now()))
    tenants.add(Tenant("desktop", "Desktop", Edition.QBD, clock.now()))
    store = InMemoryRecordStore()
    records = Records(tenants, store, InMemorySettings(), InMemoryQueue(), InMemoryTenantLease(), clock)
    for tenant_id, says in (("online", "so was its copy in QuickBooks"), ("desktop", "voided in QuickBooks")):
        created = records.upsert(tenant_id, "estimate", "e-1", {"title": "Roof"})
        assert created.record is not None
        assert (created.status, created.record.state) == ("created", SyncState.PENDING)
        gone = created.record.copy()
        gone.quickbooks_id, gone.quickbooks_version = "7", "0"
        gone.move(SyncState.VOIDED, clock.now(), "removed in QuickBooks")
        store.save(gone, created.record.revision, created.record.state)
        with pytest.raises(RecordLockedError, match=says):
            records.upsert(tenant_id, "estimate", "e-1", {"title": "Roof again"})
