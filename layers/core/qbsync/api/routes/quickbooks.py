"""The QuickBooks side: the company's own lists as qbsync last read them, for drop-downs and match tabs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from qbsync.api.handed import Handed
from qbsync.api.models import TenantId
from qbsync.api.models import error_responses as _errors
from qbsync.domain.mirror import LINKABLE, ListFilter, ListType
from qbsync.usecases.quickbooks_side import LISTING_MAX, Listed, Listing

router = Router()  # type: ignore[no-untyped-call]

_LISTS = ", ".join(t.value for t in ListType)
_LINKABLE = ", ".join(LINKABLE)
NAME_MAX = 500  # QuickBooks Online's longest name (DisplayName); `q` is a part of a name, an email or a SKU
# The mirror's longest cursor (a name of 4-byte characters filling its sort key, the longest id and list) is
# about 4,070 characters (tests/adapters/test_mirror_store.py).
CURSOR_MAX = 4096


class QuickBooksEntryOut(BaseModel):
    """One object of the company's lists (fields a list or an edition does not have are null)."""

    model_config = ConfigDict(extra="forbid")

    list_type: ListType
    quickbooks_id: str = Field(description="Online's Id, Desktop's ListID: what a record links to.")
    name: str = Field(description="The full name: 'Parent:Child' for a job or a sub-account.")
    active: bool
    modified_at: datetime | None = Field(description="When it last changed in QuickBooks.")
    created_at: datetime | None = Field(
        description="When it was created in QuickBooks (null if qbsync read it before it kept this time)."
    )
    version: str = Field(description="Online's SyncToken, Desktop's EditSequence.")
    parent_id: str | None = Field(
        description="The parent's quickbooks_id: a job's customer, a sub-account's."
    )
    company_name: str | None
    email: str | None = Field(description="Customers: the billing email.")
    phone: str | None
    sku: str | None = Field(description="Items: Online's Sku, Desktop's ManufacturerPartNumber.")
    kind: str | None = Field(description="Items: service, inventory, non_inventory ...; accounts: the type.")
    sub_kind: str | None = Field(description="Accounts: the detail type.")
    price: str | None = Field(description="Items: the sales price; tax rates: the rate in percent (decimal).")
    income_account: str | None
    expense_account: str | None
    asset_account: str | None
    record_type: str | None = Field(description=f"The host record type it links to ({_LINKABLE}); else null.")
    record_id: str | None = Field(description="The host record linked to it, if any.")

    @classmethod
    def of(cls, listed: Listed) -> QuickBooksEntryOut:
        entry = listed.entry
        return cls(**entry.as_dict(), record_type=entry.record_type, record_id=listed.record_id)


class QuickBooksPage(BaseModel):
    items: list[QuickBooksEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    loaded: bool = Field(
        description="Whether the list has been read whole once; false: still reading QuickBooks (Desktop: "
        "at the next Web Connector runs), the page shows what has been read so far."
    )
    through: datetime | None = Field(description="The newest change in QuickBooks the mirror has seen.")

    @classmethod
    def of(cls, listing: Listing) -> QuickBooksPage:
        return cls(
            items=[QuickBooksEntryOut.of(listed) for listed in listing.items],
            next_cursor=listing.next_cursor,
            loaded=listing.mark.loaded,
            through=listing.mark.through,
        )


@router.get(
    "/v1/tenants/<tenant_id>/quickbooks/<list_type>",
    summary="List the company's own customers, vendors, employees, items, accounts ... by name",
    description=f"Lists: {_LISTS}. What qbsync read from QuickBooks (Online: at connect, then kept fresh by "
    "webhooks and the change-data pull; Desktop: at Web Connector runs), each entry with the host record "
    "linked to it.",
    tags=["quickbooks"],
    responses=_errors(
        {
            404: "Unknown tenant or list",
            422: "Invalid input: linked on a list without links, a bad cursor ...",
        }
    ),
)
def list_quickbooks(  # noqa: PLR0917 - Powertools passes each parameter by name
    c: Handed,
    tenant_id: Annotated[TenantId, Path()],
    list_type: Annotated[str, Path(max_length=64)],
    q: Annotated[
        str | None,
        Query(max_length=NAME_MAX, description="Part of the name, email or SKU, ignoring case and accents."),
    ] = None,
    linked: Annotated[
        bool | None,
        Query(
            description=f"Only entries linked (true) or not linked (false) to a host record ({_LINKABLE})."
        ),
    ] = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or inactive (false) entries.")
    ] = None,
    modified_since: Annotated[
        AwareDatetime | None,
        Query(
            description="Only entries changed in QuickBooks at or after this time (ISO 8601, with a zone)."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LISTING_MAX)] = 100,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response[str]:
    keep = ListFilter(text=q, active=active, modified_since=modified_since)
    listing = c.quickbooks_listing.page(
        tenant_id, list_type, keep=keep, linked=linked, limit=limit, cursor=cursor
    )
    return Response(
        status_code=200, content_type="application/json", body=QuickBooksPage.of(listing).model_dump_json()
    )
