"""QuickBooks Online's lists read into the mirror, against the local sandbox over real HTTP: full reads page
by page with inactive objects, sub-customers and items of each kind; reads by modified time, by id and by
Change Data Capture; and the use case that keeps the mirror fresh from webhooks and the scheduled pull."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from local.qbo import accounting, server
from local.qbo.engine import Ledger
from local.qbo.entities import spec_named
from qbsync.adapters.clock import SystemClock
from qbsync.adapters.qbo_http import QboClient
from qbsync.adapters.qbo_lists import ONLINE_LISTS, QboLists, entry_of
from qbsync.adapters.qbo_mapping import qbo_time
from qbsync.domain.jobs import READ_QUICKBOOKS_LISTS_JOB
from qbsync.domain.mirror import ListEntry, ListRead, ListType, ReadMark
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.usecases.quickbooks_lists import QuickBooksLists
from qbsync.usecases.quickbooks_side import QUICKBOOKS_CHANGED, QuickBooksSide
from tests.adapters.test_qbo_client import SandboxTokens
from tests.unit.connection_fakes import RecordingEvents
from tests.unit.fakes import InMemoryQueue
from tests.unit.mirror_fakes import InMemoryMirror
from tests.unit.sync_fakes import InMemoryRecordStore

TENANT = "acme"
PAGE = 10


class QueryCountingClient(QboClient):
    """The real client over HTTP, keeping each query's text; `between` runs after each answer."""

    queries: list[str]
    between: Any = None

    def query(self, tenant_id: str, statement: str) -> dict[str, Any]:
        self.queries.append(statement)
        answer = super().query(tenant_id, statement)
        if self.between is not None:
            self.between(len(self.queries))
        return answer


@dataclass
class Env:
    running: server.RunningSandbox
    realm: str
    client: QueryCountingClient
    lists: QboLists

    def enter(self, entity: str, *bodies: Mapping[str, Any], operation: str = "") -> list[dict[str, Any]]:
        """Entered as a user of QuickBooks would, in one go, through the API's own rules."""
        spec = spec_named(entity)
        assert spec is not None

        def work(ledger: Ledger) -> dict[str, Any]:
            return {"saved": [accounting.write_entity(ledger, spec, operation, dict(b)) for b in bodies]}

        status, text = accounting.perform(self.running.sandbox, self.realm, work)
        assert status == 200, text
        return [dict(e) for e in httpx.Response(200, text=text).json()["saved"]]

    def later(self, seconds: float = 5) -> None:
        """The sandbox's clock moves on, so that what changes next is stamped later."""
        self.running.sandbox.clock.offset += timedelta(seconds=seconds)


@pytest.fixture
def env() -> Iterator[Env]:
    running = server.start(port=0)
    realm = next(iter(running.sandbox.companies))
    with httpx.Client(base_url=running.url, timeout=httpx.Timeout(5.0)) as http:
        client = QueryCountingClient(http, SandboxTokens(running, realm))
        client.queries = []
        yield Env(running, realm, client, QboLists(client, SystemClock(), page=PAGE))
    running.stop()


def by_id(read: ListRead) -> dict[str, ListEntry]:
    return {e.quickbooks_id: e for e in read.entries}


def customers(env: Env, count: int) -> list[dict[str, Any]]:
    return env.enter("Customer", *({"DisplayName": f"Customer {n:03d}"} for n in range(count)))


# ------------------------------------------------------------------------------------------ full reads


def test_a_full_read_pages_through_every_customer_inactive_ones_and_sub_customers_included(env: Env) -> None:
    made = customers(env, 23)
    [parent] = env.enter(
        "Customer",
        {
            "DisplayName": "Freeman Sporting Goods",
            "CompanyName": "Freeman Sporting Goods Inc.",
            "PrimaryEmailAddr": {"Address": "ap@freeman.example"},
            "PrimaryPhone": {"FreeFormNumber": "(555) 555-0100"},
        },
    )
    [job] = env.enter(
        "Customer", {"DisplayName": "55 Twin Lane", "ParentRef": {"value": parent["Id"]}, "Job": True}
    )
    [gone] = env.enter("Customer", {"DisplayName": "Old Customer", "Active": False})

    read = env.lists.read(TENANT, ListType.CUSTOMER)

    assert read.complete
    assert set(by_id(read)) == {c["Id"] for c in [*made, parent, job, gone]}
    *pages, count = env.client.queries
    assert len(pages) == 3  # 26 customers, 10 to a page; then counted
    assert count == "SELECT COUNT(*) FROM Customer WHERE Active IN (true,false)"
    assert all("Active IN (true,false)" in q for q in pages)
    assert all("ORDERBY MetaData.LastUpdatedTime" in q for q in pages)
    entries = by_id(read)
    assert entries[job["Id"]].name == "Freeman Sporting Goods:55 Twin Lane"
    assert entries[job["Id"]].parent_id == parent["Id"]
    assert (
        entries[parent["Id"]].company_name,
        entries[parent["Id"]].email,
        entries[parent["Id"]].phone,
    ) == ("Freeman Sporting Goods Inc.", "ap@freeman.example", "(555) 555-0100")
    assert entries[gone["Id"]].active is False
    assert entries[gone["Id"]].version == "0"
    assert read.through == max(e.modified_at for e in read.entries if e.modified_at)


def test_a_customer_changed_while_the_list_is_paged_is_neither_missed_nor_pushes_another_out(
    env: Env,
) -> None:
    """Paged by STARTPOSITION alone, the customer renamed after the first page moves to the end and every
    later one moves up a place: the first of the second page would slide into the page already read. All
    created in the same second, the rename leaves one behind even from the time the page ended at: the
    count finds it missing and the list is read again."""
    made = customers(env, 25)
    first = made[0]

    def rename_after_the_first_page(queries: int) -> None:
        if queries == 1:
            env.later()
            env.enter("Customer", {**first, "DisplayName": "Customer renamed", "sparse": True})

    env.client.between = rename_after_the_first_page
    read = env.lists.read(TENANT, ListType.CUSTOMER)

    assert set(by_id(read)) == {c["Id"] for c in made}
    assert by_id(read)[first["Id"]].name == "Customer renamed"
    assert sum(q.startswith("SELECT COUNT(*)") for q in env.client.queries) == 2


def test_a_customer_changed_while_the_list_is_paged_is_read_again_at_the_end(env: Env) -> None:
    """Created seconds apart, a customer renamed after the first page moves past the others: the pages
    after it start at the time the first one ended at, so none is pushed out, and the list is read once."""
    made: list[dict[str, Any]] = []
    for n in range(25):
        env.later(1)
        made += env.enter("Customer", {"DisplayName": f"Customer {n:03d}"})

    def rename_after_the_first_page(queries: int) -> None:
        if queries == 1:
            env.later()
            env.enter("Customer", {**made[2], "DisplayName": "Customer renamed", "sparse": True})

    env.client.between = rename_after_the_first_page
    read = env.lists.read(TENANT, ListType.CUSTOMER)

    assert set(by_id(read)) == {c["Id"] for c in made}
    assert by_id(read)[made[2]["Id"]].name == "Customer renamed"
    assert sum(q.startswith("SELECT COUNT(*)") for q in env.client.queries) == 1


def test_items_of_each_kind_come_with_their_sku_price_and_account_names(env: Env) -> None:
    service, non_inventory, inventory, inactive = env.enter(
        "Item",
        {
            "Name": "Design",
            "Type": "Service",
            "Sku": "D-1",
            "UnitPrice": Decimal("75.50"),
            "IncomeAccountRef": {"value": "1001"},
        },
        {"Name": "Nails", "Type": "NonInventory", "Sku": "N-7", "ExpenseAccountRef": {"value": "80"}},
        {
            "Name": "Pump",
            "Type": "Inventory",
            "Sku": "P-2",
            "UnitPrice": 120,
            "TrackQtyOnHand": True,
            "QtyOnHand": 4,
            "InvStartDate": "2026-01-01",
            "IncomeAccountRef": {"value": "79"},
            "ExpenseAccountRef": {"value": "80"},
            "AssetAccountRef": {"value": "81"},
        },
        {"Name": "Retired", "Type": "Service", "Active": False, "IncomeAccountRef": {"value": "1001"}},
    )
    [sub] = env.enter(
        "Item",
        {
            "Name": "Logo",
            "Type": "Service",
            "ParentRef": {"value": service["Id"]},
            "IncomeAccountRef": {"value": "1001"},
        },
    )

    entries = by_id(env.lists.read(TENANT, ListType.ITEM))

    design = entries[service["Id"]]
    assert (design.kind, design.sku, design.price, design.income_account) == (
        "service",
        "D-1",
        Decimal("75.50"),
        "Services",
    )
    assert (entries[non_inventory["Id"]].kind, entries[non_inventory["Id"]].sku) == ("non_inventory", "N-7")
    assert entries[non_inventory["Id"]].expense_account == "Cost of Goods Sold"
    pump = entries[inventory["Id"]]
    assert (pump.kind, pump.price, pump.income_account, pump.expense_account, pump.asset_account) == (
        "inventory",
        Decimal(120),
        "Sales of Product Income",
        "Cost of Goods Sold",
        "Inventory Asset",
    )
    assert entries[inactive["Id"]].active is False
    assert (entries[sub["Id"]].name, entries[sub["Id"]].parent_id) == ("Design:Logo", service["Id"])
    assert "SELECT *, Sku FROM Item" in env.client.queries[0]


def test_every_other_list_is_read_with_what_matters_of_it(env: Env) -> None:
    [retired_term] = env.enter("Term", {"Name": "Net 60", "DueDays": 60, "Active": False})
    [region] = env.enter("Class", {"Name": "West"})
    [city] = env.enter("Class", {"Name": "Reno", "ParentRef": {"value": region["Id"]}})
    [vendor] = env.enter(
        "Vendor", {"DisplayName": "Norton Lumber", "PrimaryEmailAddr": {"Address": "n@x.io"}}
    )
    [employee] = env.enter("Employee", {"DisplayName": "Emily Platt", "Active": False})
    read = {lt: by_id(env.lists.read(TENANT, lt)) for lt in ONLINE_LISTS}

    assert read[ListType.ACCOUNT]["4"].name == "Undeposited Funds"
    assert (read[ListType.ACCOUNT]["4"].kind, read[ListType.ACCOUNT]["4"].sub_kind) == (
        "other_current_asset",  # Desktop's OtherCurrentAsset is the same word
        "undeposited_funds",
    )
    assert {e.name for e in read[ListType.TERM].values()} == {"Due on receipt", "Net 15", "Net 30", "Net 60"}
    assert read[ListType.TERM][retired_term["Id"]].active is False
    assert {e.name for e in read[ListType.PAYMENT_METHOD].values()} == {"Cash", "Check", "Visa"}
    assert {e.name for e in read[ListType.SALES_TAX_CODE].values()} == {"TAX", "NON"}
    assert read[ListType.SALES_TAX_RATE]["3"].price == Decimal(8)
    assert (read[ListType.CLASS][city["Id"]].name, read[ListType.CLASS][city["Id"]].parent_id) == (
        "West:Reno",
        region["Id"],
    )
    assert read[ListType.VENDOR][vendor["Id"]].email == "n@x.io"
    assert read[ListType.EMPLOYEE][employee["Id"]].active is False


# ------------------------------------------------------------------------------------------ changes


def test_a_read_by_modified_time_brings_only_what_changed_from_then_on(env: Env) -> None:
    old = customers(env, 12)
    through = env.lists.read(TENANT, ListType.CUSTOMER).through
    assert through is not None
    env.later()
    [renamed] = env.enter("Customer", {**old[3], "DisplayName": "Renamed", "sparse": True})
    [new] = env.enter("Customer", {"DisplayName": "Newcomer"})

    read = env.lists.read(TENANT, ListType.CUSTOMER, since=through + timedelta(seconds=1))

    assert not read.complete
    assert {e.name for e in read.entries} == {"Renamed", "Newcomer"}
    assert {renamed["Id"], new["Id"]} == set(by_id(read))


def test_a_customer_is_read_with_the_time_quickbooks_created_it_which_later_changes_do_not_move(
    env: Env,
) -> None:
    [made] = env.enter("Customer", {"DisplayName": "Old Timer"})
    env.later(3600)
    env.enter("Customer", {**made, "CompanyName": "Old Timer Ltd", "sparse": True})

    [entry] = env.lists.read(TENANT, ListType.CUSTOMER).entries

    assert entry.created_at == qbo_time(made["MetaData"]["CreateTime"])
    assert entry.modified_at is not None
    assert entry.created_at is not None
    assert entry.modified_at - entry.created_at >= timedelta(hours=1)


def test_a_customer_as_recorded_from_quickbooks_online_has_its_metadata_create_time() -> None:
    # Customer 5 as the recorded sandbox answered SELECT * FROM Customer (qbo_api_vcr all__customers__1),
    # the fields that matter here.
    row = {
        "DisplayName": "Dukes Basketball Camp",
        "FullyQualifiedName": "Dukes Basketball Camp",
        "Active": True,
        "domain": "QBO",
        "sparse": False,
        "Id": "5",
        "SyncToken": "1",
        "MetaData": {
            "CreateTime": "2015-10-01T16:54:59-07:00",
            "LastUpdatedTime": "2015-10-08T13:28:29-07:00",
        },
    }
    entry = entry_of(ListType.CUSTOMER, row)
    pacific = timezone(timedelta(hours=-7))
    assert entry.created_at == datetime(2015, 10, 1, 16, 54, 59, tzinfo=pacific)
    assert entry.created_at is not None
    assert entry.created_at.utcoffset() == timedelta(hours=-7)  # the company's offset, as QuickBooks wrote it
    assert entry.modified_at == datetime(2015, 10, 8, 13, 28, 29, tzinfo=pacific)
    assert entry_of(ListType.CUSTOMER, {"Id": "6", "DisplayName": "No MetaData"}).created_at is None


def test_a_read_by_id_brings_inactive_objects_and_removes_ids_quickbooks_does_not_have(env: Env) -> None:
    [gone] = env.enter("Vendor", {"DisplayName": "Closed Vendor", "Active": False})

    read = env.lists.read_ids(TENANT, ListType.VENDOR, [gone["Id"], "98765"])

    assert [(e.quickbooks_id, e.active) for e in read.entries] == [(gone["Id"], False)]
    assert list(read.removed) == ["98765"]
    assert not read.complete


def test_change_data_capture_brings_a_new_vendor_and_tax_codes_are_read_by_modified_time(env: Env) -> None:
    start = env.running.sandbox.clock.now() - timedelta(minutes=1)
    [vendor] = env.enter("Vendor", {"DisplayName": "Brand New Vendor"})

    changes = env.lists.changed_since(TENANT, list(ONLINE_LISTS), start)

    reads = {r.list_type: r for r in changes.reads}
    assert not changes.full
    assert [e.name for e in reads[ListType.VENDOR].entries] == ["Brand New Vendor"]
    assert reads[ListType.VENDOR].entries[0].quickbooks_id == vendor["Id"]
    assert reads[ListType.VENDOR].through is not None
    assert {e.name for e in reads[ListType.SALES_TAX_CODE].entries} == {"TAX", "NON"}  # seeded just now
    cdc = [q for q in env.client.queries if "TaxCode" in q or "TaxRate" in q]
    assert len(cdc) == 2  # the lists CDC does not cover, by query


def test_a_pull_further_back_than_change_data_capture_looks_asks_for_full_reads(env: Env) -> None:
    long_ago = env.running.sandbox.clock.now() - timedelta(days=31)
    assert env.lists.changed_since(TENANT, [ListType.CUSTOMER], long_ago).full
    assert env.client.queries == []


# ------------------------------------------------------------------------------------------ the use case


@pytest.fixture
def lists(env: Env) -> QuickBooksLists:
    mirror = InMemoryMirror()
    side = QuickBooksSide(mirror, InMemoryRecordStore(), RecordingEvents(), SystemClock())
    return QuickBooksLists(env.lists, side, mirror, InMemoryQueue(), SystemClock())


def told(lists: QuickBooksLists) -> list[dict[str, object]]:
    events = lists.side.events.published  # type: ignore[attr-defined]
    assert all(kind == QUICKBOOKS_CHANGED for kind, _, _ in events)
    return [detail for _, _, detail in events]


def test_the_read_at_connect_asks_for_one_job_per_list_and_each_fills_its_list(
    env: Env, lists: QuickBooksLists
) -> None:
    assert lists.read_every_list(TENANT) == len(ONLINE_LISTS)
    sent = lists.jobs.sent  # type: ignore[attr-defined]
    assert {(j.kind, j.tenant_id, j.payload["list_type"]) for j, _ in sent} == {
        (READ_QUICKBOOKS_LISTS_JOB, TENANT, lt.value) for lt in ONLINE_LISTS
    }
    for job, _ in sent:
        lists.read_list(TENANT, ListType(job.payload["list_type"]))
    marks = lists.mirror.marks(TENANT)
    assert all(marks[lt].loaded and marks[lt].through is not None for lt in ONLINE_LISTS)
    assert {
        e.name for e in lists.mirror.entries(TENANT, ListType.CLASS)
    } == set()  # none: marked all the same
    assert told(lists) == []


def test_a_webhook_for_a_renamed_customer_renames_it_in_the_mirror_and_tells_the_host_app(
    env: Env, lists: QuickBooksLists
) -> None:
    [ada] = env.enter("Customer", {"DisplayName": "Ada Plumbing"})
    lists.read_list(TENANT, ListType.CUSTOMER)
    linked = SyncRecord(
        TENANT, "customer", "c-ada", {}, SyncState.SYNCED, SystemClock().now(), quickbooks_id=ada["Id"]
    )
    lists.side.records.save(linked, None, None)
    env.later()
    env.enter("Customer", {**ada, "DisplayName": "Ada Plumbing & Heating", "sparse": True})

    lists.on_change(TENANT, ListType.CUSTOMER, [ada["Id"]])

    [entry] = lists.mirror.get_many(TENANT, ListType.CUSTOMER, [ada["Id"]]).values()
    assert entry.name == "Ada Plumbing & Heating"
    assert [(d["change"], d["name"], d["record_id"]) for d in told(lists)] == [
        ("updated", "Ada Plumbing & Heating", "c-ada")
    ]


def test_a_merge_removes_the_customer_merged_away(env: Env, lists: QuickBooksLists) -> None:
    [kept] = env.enter("Customer", {"DisplayName": "Kept"})
    lists.read_list(TENANT, ListType.CUSTOMER)
    lists.mirror.put_many(TENANT, [ListEntry(ListType.CUSTOMER, "424242", "Merged away")])

    lists.on_change(TENANT, ListType.CUSTOMER, [kept["Id"], "424242"])

    assert set(lists.mirror.get_many(TENANT, ListType.CUSTOMER, [kept["Id"], "424242"])) == {kept["Id"]}
    assert [(d["change"], d["quickbooks_id"]) for d in told(lists)] == [("deleted", "424242")]


def test_the_pull_brings_a_vendor_created_since_and_asks_full_reads_of_lists_never_loaded(
    env: Env, lists: QuickBooksLists
) -> None:
    lists.read_list(TENANT, ListType.VENDOR)
    lists.read_list(TENANT, ListType.SALES_TAX_CODE)
    env.later()
    [vendor] = env.enter("Vendor", {"DisplayName": "Pulled Vendor"})

    assert lists.pull(TENANT) == 1

    assert (
        lists.mirror.get_many(TENANT, ListType.VENDOR, [vendor["Id"]])[vendor["Id"]].name == "Pulled Vendor"
    )
    assert [(d["change"], d["name"]) for d in told(lists)] == [("created", "Pulled Vendor")]
    asked = {j.payload["list_type"] for j, _ in lists.jobs.sent}  # type: ignore[attr-defined]
    assert asked == {lt.value for lt in ONLINE_LISTS} - {"vendor", "sales_tax_code"}
    mark = lists.mirror.marks(TENANT)[ListType.VENDOR]
    assert mark == ReadMark(ListType.VENDOR, loaded=True, through=mark.through, read_at=mark.read_at)
    assert mark.read_at is not None
    assert mark.through is not None
    assert mark.through >= vendor_time(vendor)


def vendor_time(vendor: Mapping[str, Any]) -> Any:
    from qbsync.adapters.qbo_mapping import qbo_time

    return qbo_time(vendor["MetaData"]["LastUpdatedTime"])
