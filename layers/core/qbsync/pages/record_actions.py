"""The record page (`/dashboard/records/<type>/<id>`) and what a tenant does there, through the use cases the
API uses:

- Rename (a failed record whose failure offers `rename`): the record is pushed again with its name field
  changed, as a host app answers the `rename` action (PUT /v1/tenants/{id}/records/{type}/{id}); it goes
  pending and is sent.
- Link to an existing QuickBooks record (customers, vendors, employees, items without one): a search box
  (GET `?q=`) over the mirror's active, unlinked objects of the list (GET .../quickbooks/{list}), one picked
  with a radio button, then `Links.link` (PUT .../link). Unlinking is on the match tabs.
- Open in the app: the settings' `record_url_template` filled with the record's type and id.

A refusal is the record page again with the reason in words (409, or 422 for bad input), never a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from qbsync.domain.dashboard import DashboardSession
from qbsync.domain.errors import DomainError, InvalidInputError, NotFoundError
from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListFilter
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Tenant
from qbsync.pages.catalogue import has, t
from qbsync.usecases.links import asked_quickbooks_id
from qbsync.usecases.quickbooks_side import Listed
from qbsync.usecases.settings import settings_in_force

if TYPE_CHECKING:
    from qbsync.pages.routes import DashboardPages

SEARCH_MAX = 100  # characters of a search
SEARCH_SHOWN = 20  # objects a search shows; a longer list is narrowed by typing more
NAME_MAX = 500  # characters of a new name read from the form; the edition's own limit is checked by the push
DONE = ("renamed", "linked")


def add_record_actions(app: APIGatewayHttpResolver, pages: DashboardPages) -> None:
    actions = RecordActions(pages)
    app.post("/dashboard/records/<record_type>/<record_id>/rename")(actions.rename)
    app.post("/dashboard/records/<record_type>/<record_id>/link")(actions.link)


def in_words(error: DomainError, app: str) -> list[str]:
    """What a refusal says to the tenant: the catalogue's words for the rule that refused (`refused.<code>`),
    else for each problem of a bad input; the API's own words for what the catalogue has no words for."""
    if error.code and has(f"refused.{error.code}"):
        return [t(f"refused.{error.code}", app=app)]
    problems = error.problems if isinstance(error, InvalidInputError) else []
    said = [refusal_in_words(p.code, p.message, app, limit=p.limit, actual=p.actual) for p in problems]
    return list(dict.fromkeys(said)) or [error.detail]


def refusal_in_words(code: str, message: str, app: str, **values: object) -> str:
    """One refusal, by its code, in the catalogue's words if it has them, else the API's `message`."""
    return t(f"refused.{code}", app=app, **values) if has(f"refused.{code}") else message


def show_record(
    pages: DashboardPages,
    session: DashboardSession,
    tenant: Tenant,
    record: SyncRecord,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    name: str | None = None,
) -> Response[str]:
    """The record page: its facts, failure and history, and the forms that fix it."""
    from qbsync.pages.routes import record_label

    c = pages.c()
    query = pages.app.current_event.query_string_parameters or {}
    spec = RECORD_TYPES[record.record_type]
    list_type = LIST_OF_RECORD_TYPE.get(record.record_type)
    errors = list(errors or [])
    q = query.get("q", "").strip()
    found: list[Listed] | None = None
    linkable = (
        list_type is not None
        and record.quickbooks_id is None
        and record.state not in (SyncState.SYNCING, SyncState.VOIDED)
    )
    if q and linkable and list_type is not None:
        if len(q) > SEARCH_MAX:
            status, q = 422, q[:SEARCH_MAX]
            errors.append(t("record.search_too_long", max=SEARCH_MAX))
        else:
            listing = c.quickbooks_listing.page(
                tenant.id,
                list_type.value,
                keep=ListFilter(text=q, active=True),
                linked=False,
                limit=SEARCH_SHOWN,
                cursor=None,
            )
            found = listing.items
    done = query.get("done", "")
    _, settings = settings_in_force(c.tenant_settings, tenant.id)
    title = t("record.title", type=t(f"type.{record.record_type}"), label=record_label(record))
    return pages.page(
        status,
        "record.html",
        title,
        record=record,
        errors=errors,
        notice=t(f"record.{done}") if done in DONE else None,
        can_rename=spec.name_field is not None
        and record.failure is not None
        and "rename" in record.failure.actions,
        name_value=name if name is not None else str(record.data.get(spec.name_field or "", "")),
        linkable=linkable,
        q=q,
        found=found,
        app_url=settings.record_url(record.record_type, record.record_id),
        matched_type=record.record_type if list_type is not None else None,
        **pages.shown(session, ""),
    )


class RecordActions:
    def __init__(self, pages: DashboardPages) -> None:
        self.pages = pages

    def _act(self, record_type: str, record_id: str, act: Any) -> Response[str]:
        """Run `act(tenant, record, form)` for the session's record (404 if it has none such), then see the
        record page; a refusal is the record page with it in words."""
        pages = self.pages

        def run(session: DashboardSession, tenant: Tenant) -> Response[str]:
            record = pages.find_record(tenant, record_type, record_id)
            if record is None:
                return pages.not_found()
            form = pages.posted_form()
            try:
                done = act(tenant, record, form)
            except NotFoundError:
                return pages.not_found()
            except DomainError as error:
                status = 422 if isinstance(error, InvalidInputError) else 409
                current = pages.find_record(tenant, record_type, record_id) or record
                return show_record(
                    pages,
                    session,
                    tenant,
                    current,
                    status=status,
                    errors=in_words(error, pages.c().settings.app_name),
                    name=form.get("name"),
                )
            return pages.see_other(f"/dashboard/records/{record_type}/{record_id}?done={done}")

        return pages.with_session(run, change=True)

    def rename(self, record_type: str, record_id: str) -> Response[str]:
        def rename(tenant: Tenant, record: SyncRecord, form: dict[str, str]) -> str:
            name_field = RECORD_TYPES[record.record_type].name_field
            name = form.get("name", "").strip()
            if name_field is None:
                raise NotFoundError("no name")
            if not name or len(name) > NAME_MAX:
                raise InvalidInputError(t("record.name_required", max=NAME_MAX))
            self.pages.c().records.upsert(
                tenant.id, record_type, record_id, {**record.data, name_field: name}
            )
            return "renamed"

        return self._act(record_type, record_id, rename)

    def link(self, record_type: str, record_id: str) -> Response[str]:
        def link(tenant: Tenant, _: SyncRecord, form: dict[str, str]) -> str:
            if record_type not in LIST_OF_RECORD_TYPE:
                raise NotFoundError("not linkable")
            try:
                quickbooks_id = asked_quickbooks_id(form.get("quickbooks_id"))
            except InvalidInputError:
                quickbooks_id = None
            if quickbooks_id is None:
                raise InvalidInputError(t("record.pick_required"))
            self.pages.c().links.link(tenant.id, record_type, record_id, quickbooks_id)
            return "linked"

        return self._act(record_type, record_id, link)
