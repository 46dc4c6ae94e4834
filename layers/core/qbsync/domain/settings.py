"""Sync settings: how one tenant wants its records sent to QuickBooks, stored as numbered versions.

The document is edition-independent (one shape for QuickBooks Online and Desktop); the limits that differ by
edition (how long an account name may be) are checked by `edition_problems` once the tenant is known.
Every change is a new version, 1, 2, 3 …; version 0 is "never set": the defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from string import Formatter
from typing import Annotated, Protocol
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from qbsync.domain.errors import DomainError, FieldProblem
from qbsync.domain.mirror import MatchKey
from qbsync.domain.tenants import Edition

# QuickBooks' own limits. QBO: Account.Name ≤ 100 and may contain neither ':' nor '"'; a sub-account is named
# by its fully qualified name, "Parent:Child". QBD: each level of an account name ≤ 31, the FullName ≤ 159.
# Terms and payment methods are named in ≤ 31 characters in both editions.
QBO_ACCOUNT_NAME_MAX = 100
QBD_ACCOUNT_NAME_MAX = 31
QBD_ACCOUNT_FULL_NAME_MAX = 159
# An outer bound only (a QBO sub-account five levels deep may have 5 x 100 + 4 characters); the limits of the
# tenant's edition are checked by `edition_problems`.
ACCOUNT_REF_MAX = 512
LIST_NAME_MAX = 31  # terms, payment methods
PAYMENT_METHODS_MAX = 50
SUFFIX_PLACEHOLDER = "{n}"
SUFFIX_MAX = 16
RECORD_URL_MAX = 2000  # well within what browsers and servers take (RFC 9110 §4.1: at least 8000)
RECORD_URL_FIELDS = frozenset({"type", "id"})
# The Web Connector's interval (the .qwc's Scheduler/RunEveryNMinutes): its scheduler counts whole minutes
# from 1 (QBWC Programmer's Guide p.38); a day is the longest a pending record should wait.
WEB_CONNECTOR_INTERVAL_MIN, WEB_CONNECTOR_INTERVAL_MAX = 1, 1440
_NO_CONTROL = r"^[^\t\r\n]*$"

AccountRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ACCOUNT_REF_MAX, pattern=_NO_CONTROL),
]
ListName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=LIST_NAME_MAX, pattern=_NO_CONTROL),
]


class SendMode(StrEnum):
    LIVE = "live"  # a change is sent as soon as it arrives (QBD: at the Web Connector's next run)
    REVIEW = "review"  # records wait as drafts until the tenant sends them


class NameClashPolicy(StrEnum):
    """What to do when QuickBooks already has a customer, vendor or item of the name being created."""

    FAIL = "fail"  # the record fails and the tenant decides
    LINK_EXISTING = "link_existing"  # map to the record QuickBooks already has
    RENAME_WITH_SUFFIX = "rename_with_suffix"  # create it under the name plus `rename_suffix`


class OneSideOnly(StrEnum):
    """What the initial sync does with a record found on one side only (BPro's "Records found only on
    QuickBooks / only on BPro": shared/products/bpro-desktop-settings.txt)."""

    CREATE = "create"  # create it on the other side
    IGNORE = "ignore"  # leave it where it is; what depends on it is not created either


class NameRule(StrEnum):
    """How automatch compares names once the key (SKU, email) has not decided."""

    OFF = "off"  # names are not compared: a record the key does not match is missing_key or not_found
    EXACT = "exact"  # the normalised names are equal (case, accents, punctuation, company suffixes aside)
    SIMILAR = "similar"  # equal, or at least match_threshold similar (a proposal below match_auto_accept)


class MatchRules(BaseModel):
    """How automatch pairs the host records of one type with QuickBooks' objects: first by `key`, then by
    name. A record without a value for `key` goes straight to the names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: MatchKey | None = Field(
        description="The field that identifies an object besides its name: sku for items, email (the "
        "billing email) for customers, vendors and employees; null to match by name only."
    )
    names: NameRule = Field(
        description="off: names are not compared. exact: equal after normalisation. similar: equal, or "
        "at least match_threshold similar."
    )


# The key a record type can be matched by: the fields both the host's records and the mirror's entries have.
MATCH_KEYS_OF_TYPE: dict[str, frozenset[MatchKey]] = {
    "customer": frozenset({MatchKey.EMAIL}),
    "vendor": frozenset({MatchKey.EMAIL}),
    "employee": frozenset({MatchKey.EMAIL}),
    "item": frozenset({MatchKey.SKU}),
}


class MatchRulesByType(BaseModel):
    """Automatch's rules per record type. The defaults are the issue's: items by SKU, then exact name;
    customers by billing email, then name; vendors and employees by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: MatchRules = MatchRules(key=MatchKey.EMAIL, names=NameRule.SIMILAR)
    vendor: MatchRules = MatchRules(key=None, names=NameRule.SIMILAR)
    employee: MatchRules = MatchRules(key=None, names=NameRule.SIMILAR)
    item: MatchRules = MatchRules(key=MatchKey.SKU, names=NameRule.EXACT)

    @field_validator("customer", "vendor", "employee", "item")
    @classmethod
    def _fits_the_type(cls, rules: MatchRules, info: ValidationInfo) -> MatchRules:
        record_type = str(info.field_name)
        allowed = MATCH_KEYS_OF_TYPE[record_type]
        if rules.key is not None and rules.key not in allowed:
            raise ValueError(
                f"a {record_type} is matched by {' or '.join(sorted(allowed))}, not by {rules.key}"
            )
        if rules.key is None and rules.names is NameRule.OFF:
            raise ValueError("give a key, or compare names: these rules would match nothing")
        return rules

    def of(self, record_type: str) -> MatchRules:
        """The rules of a record type (customer, vendor, employee, item)."""
        if record_type not in MATCH_KEYS_OF_TYPE:
            raise ValueError(f"{record_type!r} records are not matched")
        rules: MatchRules = getattr(self, record_type)
        return rules


class SyncSettings(BaseModel):
    """One tenant's sync settings. PUT replaces the whole document; omitted fields take their defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    send_mode: SendMode = Field(
        default=SendMode.LIVE,
        description="live: send on change (the default for both editions; for QuickBooks Desktop, at the "
        "Web Connector's next run). review: records wait as drafts until the tenant sends them.",
    )
    lock_after_acceptance: bool = Field(
        default=False,
        description="When true, once QuickBooks has accepted an invoice, later changes to it are refused "
        "with 409 instead of being sent.",
    )
    name_clash_policy: NameClashPolicy = Field(
        default=NameClashPolicy.FAIL,
        description="When QuickBooks already has a name: fail the record, link to the existing one, or "
        "create it renamed with rename_suffix.",
    )
    rename_suffix: str = Field(
        default=" ({n})",
        min_length=len(SUFFIX_PLACEHOLDER),
        max_length=SUFFIX_MAX,
        description="Appended to a clashing name, {n} counting 2, 3 …: ' ({n})' makes 'Acme (2)'. Must "
        "contain {n} exactly once, so that each try is a new name; no ':', braces, tabs or newlines.",
        examples=[" ({n})", " - {n}"],
    )
    default_income_account: AccountRef | None = Field(
        default=None,
        description="Income account of items this service creates; 'Parent:Child' names a sub-account.",
    )
    default_expense_account: AccountRef | None = Field(
        default=None, description="Expense account of items this service creates."
    )
    default_asset_account: AccountRef | None = Field(
        default=None, description="Inventory asset account of inventory items this service creates."
    )
    payment_deposit_account: AccountRef | None = Field(
        default=None, description="Where received payments are deposited; null means Undeposited Funds."
    )
    default_payment_terms: ListName | None = Field(
        default=None,
        description="Terms of invoices that name none, e.g. 'Net 30', when the host's customer record names "
        "none either (an invoice otherwise takes its customer's terms). A customer with terms only in "
        "QuickBooks gets this default too: name its terms on the customer, or leave this empty.",
        examples=["Net 30"],
    )
    sync_payments_from_quickbooks: bool = Field(
        default=True, description="Pull payments recorded in QuickBooks back into the host app."
    )
    web_connector_interval_minutes: int = Field(
        default=10,
        ge=WEB_CONNECTOR_INTERVAL_MIN,
        le=WEB_CONNECTOR_INTERVAL_MAX,
        description="QuickBooks Desktop only: how often the Web Connector runs, in minutes (1 to 1440), as "
        "written into the .qwc file. A .qwc already added keeps its interval until it is downloaded again.",
    )
    payment_methods_to_sync: list[ListName] = Field(
        default_factory=list,
        max_length=PAYMENT_METHODS_MAX,
        description="Only payments with these methods are synced, either way: one recorded in QuickBooks "
        "with another method is not told, one pushed with another method (or none) is not sent (its state "
        "is ignored). Empty means all. Names are unique, ignoring case, as QuickBooks compares them.",
    )

    only_in_quickbooks: OneSideOnly = Field(
        default=OneSideOnly.IGNORE,
        description="Initial sync: a customer, vendor, employee or item QuickBooks has and the host app does "
        "not. create: qbsync tells the host app (a quickbooks.changed event with change created) so that it "
        "creates the record and pushes it back with that quickbooks_id. ignore: nothing is told; it stays "
        "in the listing with linked=false.",
    )
    only_in_app: OneSideOnly = Field(
        default=OneSideOnly.CREATE,
        description="Initial sync: a record the host app has and QuickBooks does not. create: it is sent to "
        "QuickBooks. ignore: it is kept out (state ignored, saying why), and so is every record that "
        "depends on it (an invoice of an ignored customer).",
    )
    sync_since: date | None = Field(
        default=None,
        description="Initial sync: only customers created, and invoices and payments dated, on or after "
        "this day (YYYY-MM-DD) are synced; older ones are left as they are (ignored, and counted). Items, "
        "payment methods, terms and taxes always sync. null: all of them.",
        examples=["2026-01-01"],
    )

    link_on_exact_key: bool = Field(
        default=True,
        description="Before creating a customer or an item, look for its key (match_rules: the billing "
        "email, the SKU) among the QuickBooks objects qbsync has read: exactly one active object that no "
        "other record is linked to, and the record is linked to it instead of creating a duplicate; two or "
        "more, and the record fails (ambiguous_match) naming them, to be linked by hand.",
    )
    match_threshold: int = Field(
        default=85,
        ge=0,
        le=100,
        description="Automatch: how similar (0 to 100) two names must be to pair a host record with a "
        "QuickBooks object. At 85 a name of 15 letters may differ by one or two letters.",
    )
    match_auto_accept: int = Field(
        default=95,
        ge=0,
        le=100,
        description="Automatch: pairs at least this similar (and every SKU or email match) are accepted "
        "without asking; the others above match_threshold are proposals to accept or reject. At least "
        "match_threshold.",
    )
    match_rules: MatchRulesByType = Field(
        default_factory=MatchRulesByType,
        description="Automatch: per record type, the key (sku, email) tried first and how names are "
        "compared next.",
    )
    record_url_template: str | None = Field(
        default=None,
        max_length=RECORD_URL_MAX,
        description="Where the host app shows a record, for the dashboard's 'Open in the app' link: an "
        "https URL with the placeholder {id} and, if needed, {type} (no others), filled with the record's "
        "id and type. null: no such link.",
        examples=["https://app.example.com/{type}/{id}"],
    )

    @field_validator("match_auto_accept")
    @classmethod
    def _accept_above_threshold(cls, value: int, info: ValidationInfo) -> int:
        threshold = info.data.get("match_threshold")
        if isinstance(threshold, int) and value < threshold:
            raise ValueError(f"must be at least match_threshold ({threshold}): a pair below it is no match")
        return value

    @field_validator("rename_suffix")
    @classmethod
    def _one_counter(cls, value: str) -> str:
        if value.count(SUFFIX_PLACEHOLDER) != 1:
            raise ValueError("must contain {n} exactly once, so that every try makes a different name")
        rest = value.replace(SUFFIX_PLACEHOLDER, "")
        if any(c in rest for c in "{}:\t\r\n"):
            raise ValueError("may not contain ':', '{', '}' (other than {n}), tabs or newlines")
        return value

    @field_validator("record_url_template")
    @classmethod
    def _https_with_type_and_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            placeholders = [(f, spec, conv) for _, f, spec, conv in Formatter().parse(value) if f is not None]
        except ValueError:  # a lone '{' or '}'
            raise ValueError("may hold no braces but the placeholders {type} and {id}") from None
        if "id" not in {f for f, _, _ in placeholders} or any(
            f not in RECORD_URL_FIELDS or spec or conv for f, spec, conv in placeholders
        ):
            raise ValueError("must hold the placeholder {id}, may hold {type}, and no others")
        parts = urlsplit(value.replace("{type}", "t").replace("{id}", "i"))
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("must be an https URL without spaces, as https://app.example.com/{type}/{id}")
        return value

    def record_url(self, record_type: str, record_id: str) -> str | None:
        """The host app's page of the record (`record_url_template` filled, the values percent-encoded);
        None when the host app has set no template."""
        if self.record_url_template is None:
            return None
        return self.record_url_template.format(type=quote(record_type, safe=""), id=quote(record_id, safe=""))

    @field_validator("payment_methods_to_sync")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in value:
            if name.casefold() in seen:
                raise ValueError(f"{name!r} is listed twice; QuickBooks ignores case in names")
            seen.add(name.casefold())
        return value

    def syncs_payment_method(self, method: str | None) -> bool:
        """Whether a payment with this method is synced (`payment_methods_to_sync`), names compared ignoring
        case as QuickBooks compares them; with a list, a payment without a method is not."""
        wanted = {m.casefold() for m in self.payment_methods_to_sync}
        return not wanted or (method is not None and method.casefold() in wanted)

    def renamed(self, name: str, n: int) -> str:
        """The name to try the n-th time (n ≥ 2) under rename_with_suffix; distinct for every n."""
        if n < 2:
            raise ValueError("renaming starts at 2: the first try is the name itself")
        return name + self.rename_suffix.replace(SUFFIX_PLACEHOLDER, str(n))


ACCOUNT_FIELDS = (
    "default_income_account",
    "default_expense_account",
    "default_asset_account",
    "payment_deposit_account",
)


def edition_problems(settings: SyncSettings, edition: Edition) -> list[FieldProblem]:
    """What the tenant's QuickBooks would refuse in these settings; empty when it accepts all of them."""
    problems: list[FieldProblem] = []
    for field in ACCOUNT_FIELDS:
        value = getattr(settings, field)
        if value is not None:
            message = _account_problem(value, edition)
            if message:
                problems.append(FieldProblem(field, message))
    return problems


def _account_problem(full_name: str, edition: Edition) -> str | None:
    levels = full_name.split(":")
    longest = max(levels, key=len)
    qbo = edition is Edition.QBO
    level_max = QBO_ACCOUNT_NAME_MAX if qbo else QBD_ACCOUNT_NAME_MAX
    product = "QuickBooks Online" if qbo else "QuickBooks Desktop"
    problem = None
    if any(not level.strip() or level != level.strip() for level in levels):
        problem = "Separate a sub-account from its parent by one ':' without spaces: 'Sales:Parts'."
    elif qbo and '"' in full_name:
        problem = 'QuickBooks Online account names may not contain double quotes (").'
    elif not qbo and len(full_name) > QBD_ACCOUNT_FULL_NAME_MAX:
        problem = (
            f"QuickBooks Desktop account full names are at most {QBD_ACCOUNT_FULL_NAME_MAX} characters; "
            f"this one is {len(full_name)}."
        )
    elif len(longest) > level_max:
        problem = (
            f"{product} account names are at most {level_max} characters per level; "
            f"{longest[:40]!r} is {len(longest)}."
        )
    return problem


@dataclass(frozen=True)
class SettingsVersion:
    """One stored version of a tenant's settings; version 0 (never stored) carries the defaults."""

    tenant_id: str
    version: int
    updated_at: datetime | None
    settings: SyncSettings

    def __post_init__(self) -> None:
        if self.version < 0:
            raise ValueError("versions count from 0")
        if (self.version == 0) != (self.updated_at is None):
            raise ValueError("only version 0, the defaults, has no updated_at")
        if self.updated_at is not None and self.updated_at.tzinfo is None:
            raise ValueError("updated_at must carry a time zone")


def defaults(tenant_id: str) -> SettingsVersion:
    return SettingsVersion(tenant_id=tenant_id, version=0, updated_at=None, settings=SyncSettings())


class StaleVersionError(DomainError):
    """A change was based on a version that is no longer the current one (HTTP 412)."""

    title = "Precondition failed"


class SettingsRepository(Protocol):
    """Every version of every tenant's settings, kept so support can see what was in force when."""

    def latest(self, tenant_id: str) -> SettingsVersion | None:
        """The highest stored version, read consistently; None before the first."""

    def get(self, tenant_id: str, version: int) -> SettingsVersion | None: ...

    def add(self, entry: SettingsVersion) -> None:
        """Store a new version; raise StaleVersionError if that version number is already stored."""
