"""The Settings page (`/dashboard/settings`): the tenant's sync settings as a form, stored as PUT /settings
stores them (a new version), with the company's own lists (the mirror) in its drop-downs.

Fields the page does not show (automatch's rules and thresholds, linking on an exact key) keep their stored
values. The form carries the version it was drawn from: a save based on an older version is refused (as
PUT with If-Match is), so two people editing at once do not undo each other's changes unseen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from qbsync.domain.errors import InvalidInputError
from qbsync.domain.mirror import ListFilter, ListType
from qbsync.domain.settings import (
    PAYMENT_METHODS_MAX,
    WEB_CONNECTOR_INTERVAL_MAX,
    WEB_CONNECTOR_INTERVAL_MIN,
    NameClashPolicy,
    OneSideOnly,
    SendMode,
    SettingsVersion,
    StaleVersionError,
    SyncSettings,
)
from qbsync.domain.tenants import Edition, Tenant
from qbsync.pages.catalogue import t
from qbsync.usecases.quickbooks_side import LISTING_MAX
from qbsync.usecases.settings import get_settings, put_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

    from qbsync.domain.dashboard import DashboardSession
    from qbsync.pages.routes import DashboardPages

PATH = "/dashboard/settings"
LIST_PAGES = 4  # pages of LISTING_MAX entries read for a drop-down: 2,000 accounts at most
ACCOUNT_FIELDS = ("default_income_account", "default_expense_account", "default_asset_account")
CHECKBOXES = ("lock_after_acceptance", "sync_payments_from_quickbooks")
TEXTS = ("rename_suffix", "default_payment_terms", "payment_deposit_account", "sync_since", *ACCOUNT_FIELDS)
# Every field the page shows, with its label's catalogue id "settings.<field>".
FIELDS = (
    "send_mode",
    "lock_after_acceptance",
    "name_clash_policy",
    "rename_suffix",
    "web_connector_interval_minutes",
    *ACCOUNT_FIELDS,
    "payment_deposit_account",
    "default_payment_terms",
    "sync_payments_from_quickbooks",
    "payment_methods_to_sync",
    "only_in_quickbooks",
    "only_in_app",
    "sync_since",
)
CHOICES = {
    "send_mode": SendMode,
    "name_clash_policy": NameClashPolicy,
    "only_in_quickbooks": OneSideOnly,
    "only_in_app": OneSideOnly,
}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class CompanyList:
    """One of the company's lists for a drop-down: its active entries' names, and whether it was read."""

    names: list[str]
    read: bool

    def options(self, current: str | None, *, empty: str) -> list[Option]:
        """The list as options, `empty` (no value) first; a current value the list lacks stays selectable."""
        names = list(self.names)
        if current and current not in names:
            names.insert(0, current)
        return [Option("", empty, not current)] + [Option(n, n, n == current) for n in names]


def add_settings_page(app: APIGatewayHttpResolver, pages: DashboardPages) -> None:
    view = SettingsPage(pages)
    app.get(PATH)(view.show)
    app.post(PATH)(view.save)


@dataclass
class SettingsPage:
    pages: DashboardPages

    def show(self) -> Response[str]:
        def draw(session: DashboardSession, tenant: Tenant) -> Response[str]:
            c = self.pages.c()
            entry = get_settings(c.tenants, c.tenant_settings, tenant.id)
            saved = (self.pages.app.current_event.query_string_parameters or {}).get("saved")
            notice = t("settings.saved", version=entry.version) if saved and entry.version else None
            return self._form(
                200, session, tenant, entry, entry.settings.model_dump(mode="json"), notice=notice
            )

        return self.pages.with_session(draw)

    def save(self) -> Response[str]:
        def store(session: DashboardSession, tenant: Tenant) -> Response[str]:
            c = self.pages.c()
            entry = get_settings(c.tenants, c.tenant_settings, tenant.id)
            form = self.pages.posted_fields()
            asked = _asked(form, entry.settings, tenant)
            problems: dict[str, str] = {}
            try:
                settings = SyncSettings.model_validate(asked)
            except ValidationError as invalid:
                problems = _problems(invalid)
            else:
                try:
                    put_settings(
                        c.tenants,
                        c.tenant_settings,
                        c.clock,
                        tenant_id=tenant.id,
                        settings=settings,
                        expected_version=_version(form),
                    )
                except StaleVersionError:
                    return self._form(
                        409, session, tenant, entry, asked, alert=t("settings.stale", version=entry.version)
                    )
                except InvalidInputError as refused:
                    problems = {p.field: p.message for p in refused.problems}
                    if not problems:
                        problems = {"version": t("settings.stale", version=entry.version)}
                else:
                    return self.pages.see_other(f"{PATH}?saved=1")
            return self._form(422, session, tenant, entry, asked, problems=problems)

        return self.pages.with_session(store, change=True)

    def _form(
        self,
        status: int,
        session: DashboardSession,
        tenant: Tenant,
        entry: SettingsVersion,
        values: Mapping[str, Any],
        *,
        problems: Mapping[str, str] | None = None,
        notice: str | None = None,
        alert: str | None = None,
    ) -> Response[str]:
        accounts = self._list(tenant, ListType.ACCOUNT)
        terms = self._list(tenant, ListType.TERM)
        methods = self._list(tenant, ListType.PAYMENT_METHOD)
        chosen_methods = [str(m) for m in values.get("payment_methods_to_sync") or []]
        method_names = list(dict.fromkeys([*methods.names, *chosen_methods]))
        none = t("settings.none")
        return self.pages.page(
            status,
            "settings.html",
            t("settings.title"),
            version=entry.version,
            values=values,
            labels={name: t(f"settings.{name}") for name in FIELDS},
            problems=problems or {},
            notice=notice,
            alert=alert,
            desktop=tenant.edition is Edition.QBD,
            choices={name: _choices(name, kind, values.get(name)) for name, kind in CHOICES.items()},
            accounts={f: accounts.options(values.get(f), empty=none) for f in ACCOUNT_FIELDS},
            deposit=accounts.options(values.get("payment_deposit_account"), empty=t("settings.undeposited")),
            accounts_read=accounts.read,
            terms=terms.options(values.get("default_payment_terms"), empty=none),
            terms_read=terms.read,
            methods=[Option(n, n, n in chosen_methods) for n in method_names],
            methods_read=methods.read,
            methods_max=PAYMENT_METHODS_MAX,
            interval_min=WEB_CONNECTOR_INTERVAL_MIN,
            interval_max=WEB_CONNECTOR_INTERVAL_MAX,
            **self.pages.shown(session, PATH),
        )

    def _list(self, tenant: Tenant, list_type: ListType) -> CompanyList:
        """The active entries of one of the company's lists (GET .../quickbooks/{list}?active=true)."""
        listing = self.pages.c().quickbooks_listing
        names: list[str] = []
        cursor: str | None = None
        read = False
        for _ in range(LIST_PAGES):
            page = listing.page(
                tenant.id,
                list_type.value,
                keep=ListFilter(active=True),
                linked=None,
                limit=LISTING_MAX,
                cursor=cursor,
            )
            names += [listed.entry.name for listed in page.items]
            read = page.mark.loaded
            cursor = page.next_cursor
            if cursor is None:
                break
        return CompanyList(names, read)


def _choices(name: str, kind: type[StrEnum], current: object) -> list[Option]:
    return [Option(v.value, t(f"settings.{name}.{v.value}"), v.value == current) for v in kind]


def _asked(form: Mapping[str, list[str]], current: SyncSettings, tenant: Tenant) -> dict[str, Any]:
    """The settings document the form asks for: the stored one with the page's fields replaced."""
    asked: dict[str, Any] = current.model_dump(mode="json")

    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    for name in CHOICES:
        asked[name] = one(name)
    for name in CHECKBOXES:
        asked[name] = one(name) == "on"
    for name in TEXTS:
        asked[name] = one(name) or None
    asked["rename_suffix"] = (form.get("rename_suffix") or [""])[0]  # its spaces count
    asked["payment_methods_to_sync"] = [m for m in form.get("payment_methods_to_sync", []) if m.strip()]
    if tenant.edition is Edition.QBD:
        asked["web_connector_interval_minutes"] = one("web_connector_interval_minutes")
    return asked


def _version(form: Mapping[str, list[str]]) -> int | None:
    raw = (form.get("version") or [""])[0]
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None  # as VERSION_TAG


def _problems(invalid: ValidationError) -> dict[str, str]:
    """Each invalid field's first problem, in plain words."""
    problems: dict[str, str] = {}
    for error in invalid.errors():
        loc = error.get("loc", ())
        name = str(loc[0]) if loc else "settings"
        problems.setdefault(name, _in_words(error))
    return problems


# pydantic's error types, in the catalogue's words (the only number ranges the page shows are the interval's).
IN_WORDS = {
    "date_parsing": "settings.problem.date",
    "date_from_datetime_parsing": "settings.problem.date",
    "int_parsing": "settings.problem.number",
    "int_from_float": "settings.problem.number",
    "greater_than_equal": "settings.problem.range",
    "less_than_equal": "settings.problem.range",
    "enum": "settings.problem.choice",
    "string_too_long": "settings.problem.too_long",
    "too_long": "settings.problem.too_many",
    "string_pattern_mismatch": "settings.problem.characters",
}


def _in_words(error: Any) -> str:
    message_id = IN_WORDS.get(str(error.get("type", "")))
    if message_id is None:  # a rule of SyncSettings: its own words
        return str(error.get("msg", "")).removeprefix("Value error, ").rstrip(".") + "."
    limit = (error.get("ctx") or {}).get("max_length")
    return t(message_id, low=WEB_CONNECTOR_INTERVAL_MIN, high=WEB_CONNECTOR_INTERVAL_MAX, limit=limit)
