"""The company's lists read from QuickBooks Desktop into the mirror: the queries a Web Connector session sends
for them, and their answers read as the domain's `ListEntry`s (domain/mirror.py) for `QuickBooksSide.take`.

One query per list (`QUERIES`), `ActiveStatus` All, so that inactive entries come too. ItemQuery returns every
kind of item, the sales tax items (ItemSalesTaxRet) and sales tax groups (ItemSalesTaxGroupRet) among them;
TermsQuery both StandardTermsRet and DateDrivenTermsRet (desktop.md §2). Each answer is trimmed with
IncludeRetElement to what an entry keeps.

Paging. CustomerQuery, VendorQuery and ItemQuery have the `iterator` attribute in qbxmlops130.xsd (and 16.0);
they are read PAGE_SIZE at a time, `iterator="Start"` then `"Continue"` until `iteratorRemainingCount` is 0
(NOTES.md §2; an iterator lives in its QuickBooks session only: a new session starts the query again).
EmployeeQuery, AccountQuery, TermsQuery, PaymentMethodQuery, SalesTaxCodeQuery and ClassQuery have none: each
answers its whole list at once (lists that stay short in a company file: accounts, terms, methods, codes,
classes; employees are the people on the payroll).

Later reads ask for the entries modified since the newest TimeModified read before (`FromModifiedDate`).
QuickBooks compares it with its company-local wall time, whose UTC offset qbsync does not know: as for
payments (exchange.py PAYMENTS_OFFSET), the read starts as if the company were at UTC-12, west of every US
zone, so it starts some hours early further east; entries read again that did not change tell nothing
(`QuickBooksSide.take` compares them). Deletions come from one ListDeletedQuery per read, for every
ListDelType of the lists read, since the same time; QuickBooks remembers list deletions for 90 days
(Conductor's QuickBooks Desktop API reference,
https://docs.conductor.is/api-ref/qbd/deleted-list-objects/object), far longer than any Web Connector
interval.

Fields (element names and the kinds that have them: qbxml130.xsd and qbxml160.xsd, which agree):
- every list: ListID, TimeCreated (the entry's creation time), TimeModified, EditSequence, IsActive;
- customers: FullName ("Parent:Job") as the name, ParentRef (a job's customer), CompanyName, Phone, Email;
  vendors and employees: Name (they have no FullName), CompanyName (vendors), Phone, Email;
- items: the Ret's kind ("ItemNonInventory" -> "non_inventory"); SKU: ManufacturerPartNumber, which only
  ItemNonInventory, ItemInventory and ItemInventoryAssembly have; price: SalesOrPurchase/Price,
  SalesAndPurchase/SalesPrice or SalesPrice (inventory); accounts by FullName: SalesOrPurchase/AccountRef or
  IncomeAccountRef as the income account, ExpenseAccountRef or COGSAccountRef as the expense account,
  AssetAccountRef;
- ItemSalesTax: a sales tax rate, TaxRate (percent) as its price; ItemSalesTaxGroup: a sales tax group;
- accounts: FullName, ParentRef, AccountType as the kind, DetailAccountType as the sub-kind;
- terms: "standard" or "date_driven"; payment methods: PaymentMethodType; sales tax codes: "taxable" or
  "non_taxable" (IsTaxable); classes: FullName, ParentRef.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from qbsync.adapters.qbxml import payments as pay
from qbsync.adapters.qbxml import requests as rq
from qbsync.adapters.qbxml.read import QbxmlReadError, Response, Ret, read_message
from qbsync.adapters.qbxml.status import Op, fault_of
from qbsync.domain.desktop import ExchangeEntry, ListAsk, ListPage, ListsAnswer
from qbsync.domain.mirror import ListEntry, ListRead, ListType, kind_words

log = logging.getLogger(__name__)

# Entries per page of an iterating query. A message asks for at most three pages (customers, vendors, items)
# and six whole short lists; a trimmed Ret is about 0.3-0.5 kB, so an answer stays under about 1 MB, the most
# a message of the exchange carries (desktop.md §3), and compressed (exchange store) far under DynamoDB's
# 400 KB item. Applying 1,500 entries stays within a callback's budget.
PAGE_SIZE = 500
DELETIONS = "ListDeleted"  # the `entity` of the deletions' request
_HEAD = ("ListID", "TimeCreated", "TimeModified", "EditSequence", "IsActive")
# The lists each query feeds, and what its answer is trimmed to.
QUERIES: Mapping[str, tuple[tuple[ListType, ...], tuple[str, ...]]] = {
    "Customer": (
        (ListType.CUSTOMER,),
        (*_HEAD, "FullName", "ParentRef", "CompanyName", "Phone", "Email"),
    ),
    "Vendor": ((ListType.VENDOR,), (*_HEAD, "Name", "CompanyName", "Phone", "Email")),
    "Employee": ((ListType.EMPLOYEE,), (*_HEAD, "Name", "Phone", "Email")),
    "Item": (
        (ListType.ITEM, ListType.SALES_TAX_RATE, ListType.SALES_TAX_GROUP),
        (
            *_HEAD,
            "Name",
            "FullName",
            "ParentRef",
            "ManufacturerPartNumber",
            "SalesOrPurchase",
            "SalesAndPurchase",
            "SalesPrice",
            "IncomeAccountRef",
            "COGSAccountRef",
            "AssetAccountRef",
            "TaxRate",
        ),
    ),
    "Account": (
        (ListType.ACCOUNT,),
        (*_HEAD, "FullName", "ParentRef", "AccountType", "DetailAccountType"),
    ),
    "Terms": ((ListType.TERM,), (*_HEAD, "Name")),
    "PaymentMethod": ((ListType.PAYMENT_METHOD,), (*_HEAD, "Name", "PaymentMethodType")),
    "SalesTaxCode": ((ListType.SALES_TAX_CODE,), (*_HEAD, "Name", "IsTaxable")),
    "Class": ((ListType.CLASS,), (*_HEAD, "FullName", "ParentRef")),
}
# Each ListDelType (and Ret kind: they share their names) of the lists read, and the list it is in.
DELETED_TYPES: Mapping[str, ListType] = {
    "Customer": ListType.CUSTOMER,
    "Vendor": ListType.VENDOR,
    "Employee": ListType.EMPLOYEE,
    **dict.fromkeys(
        (
            "ItemService",
            "ItemNonInventory",
            "ItemOtherCharge",
            "ItemInventory",
            "ItemInventoryAssembly",
            "ItemFixedAsset",
            "ItemSubtotal",
            "ItemDiscount",
            "ItemPayment",
            "ItemGroup",
        ),
        ListType.ITEM,
    ),
    "ItemSalesTax": ListType.SALES_TAX_RATE,
    "ItemSalesTaxGroup": ListType.SALES_TAX_GROUP,
    "Account": ListType.ACCOUNT,
    "StandardTerms": ListType.TERM,
    "DateDrivenTerms": ListType.TERM,
    "PaymentMethod": ListType.PAYMENT_METHOD,
    "SalesTaxCode": ListType.SALES_TAX_CODE,
    "Class": ListType.CLASS,
}
DELETED_RETURNS = ("ListDelType", "ListID")
_TERMS_KINDS = {"StandardTerms": "standard", "DateDrivenTerms": "date_driven"}


def list_query(ask: ListAsk, request_id: str, *, utc_offset: timedelta) -> Any:
    """The request reading `ask`'s next page: every entry, active or not, modified since `ask.since` (read
    as wall time at `utc_offset`)."""
    _, include = QUERIES[ask.query]
    paging = rq.Paging(PAGE_SIZE, ask.iterator_id) if ask.query in rq.ITERATING else None
    since = None if ask.since is None else pay.company_time(ask.since, utc_offset)
    return rq.list_query(
        ask.query, request_id, active_status="All", modified_from=since, paging=paging, include=include
    )


def deleted_query(
    queries: Sequence[str], request_id: str, since: datetime | None, *, utc_offset: timedelta
) -> Any:
    """The ListDeletedQuery of every list `queries` feed, since `since` (None: all QuickBooks remembers)."""
    fed = {lt for query in queries for lt in QUERIES[query][0]}
    types = [kind for kind, lt in DELETED_TYPES.items() if lt in fed]
    deleted_from = None if since is None else pay.company_time(since, utc_offset)
    return rq.list_deleted_query(
        request_id, list_types=types, deleted_from=deleted_from, include=DELETED_RETURNS
    )


def read_answer(entries: Sequence[ExchangeEntry], answer: str) -> ListsAnswer:
    """Each query's page and the deletions; ValueError (QbxmlReadError) when the answer cannot be read."""
    message = read_message(answer)
    pages: list[ListPage] = []
    deletions: tuple[ListRead, ...] = ()
    refused: list[str] = []
    for entry in entries:
        response = message.response(entry.request_id)
        if response is None or fault_of(response.status, Op.QUERY) is not None:
            log.warning(
                "QuickBooks did not read a list",
                extra={"query": entry.entity, "qb_status": response.status.code if response else None},
            )
            refused.append(entry.entity)
            continue
        if entry.entity == DELETIONS:
            deletions = _deletions(response)
        else:
            pages.append(_page(entry.entity, response))
    return ListsAnswer(tuple(pages), deletions, tuple(refused))


def _page(query: str, response: Response) -> ListPage:
    fed, _ = QUERIES[query]
    found: dict[ListType, list[ListEntry]] = {lt: [] for lt in fed}
    for ret in response.rets:
        entry = list_entry(ret)
        if entry is not None and entry.list_type in found:
            found[entry.list_type].append(entry)
    stamps = [e.modified_at for entries in found.values() for e in entries if e.modified_at is not None]
    more = bool(response.iterator_remaining_count) and response.iterator_id is not None
    return ListPage(
        query,
        tuple(ListRead(lt, tuple(entries)) for lt, entries in found.items()),
        max(stamps, default=None),
        response.iterator_id if more else None,
    )


def _deletions(response: Response) -> tuple[ListRead, ...]:
    removed: dict[ListType, list[str]] = {}
    for ret in response.rets:
        list_type = DELETED_TYPES.get(ret.text_of("ListDelType") or "")
        if list_type is not None and ret.list_id:
            removed.setdefault(list_type, []).append(ret.list_id)
    return tuple(ListRead(lt, removed=tuple(ids)) for lt, ids in removed.items())


def list_entry(ret: Ret) -> ListEntry | None:
    """A list Ret as a mirror entry; None for a Ret of no mirrored list or without a ListID."""
    kind = ret.kind
    list_type = DELETED_TYPES.get(kind)  # a Ret's kind is its ListDelType
    if list_type is None or not ret.list_id:
        return None
    common: dict[str, Any] = {
        "quickbooks_id": ret.list_id,
        "name": ret.full_name or ret.name or "",
        "active": ret.is_active is not False,
        "modified_at": ret.time_modified,
        "created_at": ret.time_created,
        "version": ret.edit_sequence or "",
    }
    parent = ret.ref("ParentRef")
    if parent is not None:
        common["parent_id"] = parent.list_id
    if list_type in (ListType.CUSTOMER, ListType.VENDOR, ListType.EMPLOYEE):
        return ListEntry(
            list_type,
            company_name=ret.text_of("CompanyName"),
            email=ret.text_of("Email"),
            phone=ret.text_of("Phone"),
            **common,
        )
    if list_type is ListType.ITEM:
        return _item(ret, common)
    if list_type is ListType.SALES_TAX_RATE:
        return ListEntry(list_type, price=ret.decimal_of("TaxRate"), **common)
    if list_type is ListType.ACCOUNT:
        return ListEntry(
            list_type,
            kind=kind_words(ret.text_of("AccountType")),
            sub_kind=kind_words(ret.text_of("DetailAccountType")),
            **common,
        )
    return ListEntry(list_type, kind=_kind_of(kind, ret), **common)


def _item(ret: Ret, common: dict[str, Any]) -> ListEntry:
    one = ret.find("SalesOrPurchase")
    both = ret.find("SalesAndPurchase")
    price = ret.decimal_of("SalesPrice")
    income, expense = ret.ref("IncomeAccountRef"), ret.ref("COGSAccountRef")
    if one is not None:
        price = one.decimal_of("Price")
        income = one.ref("AccountRef")
    elif both is not None:
        price = both.decimal_of("SalesPrice")
        income, expense = both.ref("IncomeAccountRef"), both.ref("ExpenseAccountRef")
    asset = ret.ref("AssetAccountRef")
    return ListEntry(
        ListType.ITEM,
        kind=kind_words(ret.kind.removeprefix("Item")),
        sku=ret.text_of("ManufacturerPartNumber"),
        price=price,
        income_account=income.full_name if income else None,
        expense_account=expense.full_name if expense else None,
        asset_account=asset.full_name if asset else None,
        **common,
    )


def _kind_of(kind: str, ret: Ret) -> str | None:
    if kind in _TERMS_KINDS:
        return _TERMS_KINDS[kind]
    if kind == "PaymentMethod":
        return ret.text_of("PaymentMethodType")
    if kind == "SalesTaxCode":
        taxable = ret.bool_of("IsTaxable")
        return None if taxable is None else ("taxable" if taxable else "non_taxable")
    return None


__all__ = [
    "DELETIONS",
    "PAGE_SIZE",
    "QUERIES",
    "QbxmlReadError",
    "deleted_query",
    "list_entry",
    "list_query",
    "read_answer",
]
