from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from qbsync.domain.errors import InvalidInputError, NotFoundError
from qbsync.domain.mirror import MatchKey
from qbsync.domain.settings import (
    NameClashPolicy,
    NameRule,
    OneSideOnly,
    SendMode,
    SettingsVersion,
    StaleVersionError,
    SyncSettings,
    edition_problems,
)
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases import settings as usecase
from tests.unit.fakes import FixedClock, InMemorySettings, InMemoryTenants


@dataclass
class RacingSettings(InMemorySettings):
    """Another request stores the next version between each read and write of ours, `races` times."""

    races: int = 1

    def add(self, entry: SettingsVersion) -> None:
        if self.races:
            self.races -= 1
            super().add(SettingsVersion(entry.tenant_id, entry.version, entry.updated_at, SyncSettings()))
        super().add(entry)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def tenants(clock: FixedClock) -> InMemoryTenants:
    repo = InMemoryTenants()
    repo.add(Tenant(id="acme-42", name="Acme", edition=Edition.QBO, created_at=clock.now()))
    repo.add(Tenant(id="desk-1", name="Desk", edition=Edition.QBD, created_at=clock.now()))
    return repo


REVIEW = SyncSettings(send_mode=SendMode.REVIEW)


def test_before_any_put_the_defaults_are_version_0(tenants: InMemoryTenants) -> None:
    entry = usecase.get_settings(tenants, InMemorySettings(), "acme-42")
    assert (entry.version, entry.updated_at) == (0, None)
    s = entry.settings
    assert s.send_mode is SendMode.LIVE
    assert s.lock_after_acceptance is False
    assert s.name_clash_policy is NameClashPolicy.FAIL
    assert s.rename_suffix == " ({n})"
    assert s.payment_deposit_account is None  # Undeposited Funds
    assert s.sync_payments_from_quickbooks is True
    assert s.payment_methods_to_sync == []
    assert s.web_connector_interval_minutes == 10
    assert (s.match_threshold, s.match_auto_accept) == (85, 95)


def test_automatch_rules_default_to_sku_then_exact_name_for_items_and_email_then_name_for_customers() -> None:
    rules = SyncSettings().match_rules
    assert (rules.item.key, rules.item.names) == (MatchKey.SKU, NameRule.EXACT)
    assert (rules.customer.key, rules.customer.names) == (MatchKey.EMAIL, NameRule.SIMILAR)
    assert (rules.vendor.key, rules.vendor.names) == (None, NameRule.SIMILAR)
    assert (rules.employee.key, rules.employee.names) == (None, NameRule.SIMILAR)
    assert rules.of("item") == rules.item
    with pytest.raises(ValueError, match="not matched"):
        rules.of("invoice")


def test_automatch_may_accept_everything_it_finds_or_only_perfect_pairs() -> None:
    assert SyncSettings(match_threshold=90, match_auto_accept=90).match_auto_accept == 90
    assert SyncSettings(match_threshold=0, match_auto_accept=100).match_threshold == 0
    vendor_by_email = {"vendor": {"key": "email", "names": "off"}}
    assert (
        SyncSettings.model_validate({"match_rules": vendor_by_email}).match_rules.vendor.key is MatchKey.EMAIL
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"match_threshold": 101}, "match_threshold"),
        ({"match_threshold": -1}, "match_threshold"),
        ({"match_threshold": 85.5}, "match_threshold"),
        ({"match_auto_accept": 101}, "match_auto_accept"),
        ({"match_threshold": 90, "match_auto_accept": 89}, "match_auto_accept"),
        ({"match_rules": {"item": {"key": "email", "names": "exact"}}}, "match_rules.item"),
        ({"match_rules": {"customer": {"key": "sku", "names": "exact"}}}, "match_rules.customer"),
        ({"match_rules": {"vendor": {"key": None, "names": "off"}}}, "match_rules.vendor"),
        ({"match_rules": {"item": {"key": "sku"}}}, "match_rules.item.names"),
        ({"match_rules": {"invoice": {"key": None, "names": "exact"}}}, "match_rules.invoice"),
    ],
)
def test_automatch_settings_that_cannot_work_are_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        SyncSettings.model_validate(changes)
    assert [".".join(map(str, e["loc"])) for e in refused.value.errors()] == [field]


def test_initial_sync_by_default_ignores_quickbooks_only_records_and_creates_app_only_ones() -> None:
    settings = SyncSettings()
    assert settings.only_in_quickbooks is OneSideOnly.IGNORE
    assert settings.only_in_app is OneSideOnly.CREATE
    assert settings.sync_since is None


def test_initial_sync_settings_take_create_or_ignore_per_side_and_a_since_day() -> None:
    settings = SyncSettings.model_validate(
        {"only_in_quickbooks": "create", "only_in_app": "ignore", "sync_since": "2026-01-01"}
    )
    assert (settings.only_in_quickbooks, settings.only_in_app) == (OneSideOnly.CREATE, OneSideOnly.IGNORE)
    assert settings.sync_since == date(2026, 1, 1)
    for bad in ({"only_in_app": "delete"}, {"sync_since": "2026-01-01T10:00:00Z"}, {"sync_since": "soon"}):
        with pytest.raises(ValidationError):
            SyncSettings.model_validate(bad)


def test_the_default_send_mode_is_live_for_both_editions(tenants: InMemoryTenants) -> None:
    repo = InMemorySettings()
    assert usecase.get_settings(tenants, repo, "desk-1").settings.send_mode is SendMode.LIVE
    assert usecase.settings_in_force(repo, "desk-1") == (0, SyncSettings())


def test_each_put_stores_the_next_version_and_keeps_the_previous(
    tenants: InMemoryTenants, clock: FixedClock
) -> None:
    repo = InMemorySettings()
    first = usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW)
    clock.advance(timedelta(minutes=5))
    second = usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=SyncSettings())
    assert (first.version, second.version) == (1, 2)
    assert first.updated_at == clock.now() - timedelta(minutes=5)
    assert second.updated_at == clock.now()
    assert usecase.get_settings(tenants, repo, "acme-42") == second
    assert usecase.settings_in_force(repo, "acme-42") == (2, SyncSettings())
    assert usecase.settings_version(repo, "acme-42", 1) == REVIEW
    assert usecase.settings_version(repo, "acme-42", 0) == SyncSettings()
    assert usecase.settings_version(repo, "acme-42", 3) is None


def test_versions_are_per_tenant(tenants: InMemoryTenants, clock: FixedClock) -> None:
    repo = InMemorySettings()
    usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW)
    assert usecase.put_settings(tenants, repo, clock, tenant_id="desk-1", settings=REVIEW).version == 1
    assert usecase.settings_in_force(repo, "acme-42") == (1, REVIEW)


def test_if_match_on_the_current_version_is_accepted(tenants: InMemoryTenants, clock: FixedClock) -> None:
    repo = InMemorySettings()
    usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW, expected_version=0)
    entry = usecase.put_settings(
        tenants, repo, clock, tenant_id="acme-42", settings=SyncSettings(), expected_version=1
    )
    assert entry.version == 2


@pytest.mark.parametrize("expected", [0, 2, 7])
def test_if_match_on_another_version_is_refused_and_nothing_stored(
    tenants: InMemoryTenants, clock: FixedClock, expected: int
) -> None:
    repo = InMemorySettings()
    usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW)
    with pytest.raises(StaleVersionError, match="version 1, not"):
        usecase.put_settings(
            tenants, repo, clock, tenant_id="acme-42", settings=SyncSettings(), expected_version=expected
        )
    assert list(repo.items) == [("acme-42", 1)]
    assert usecase.settings_in_force(repo, "acme-42") == (1, REVIEW)


def test_losing_a_race_with_if_match_is_refused(tenants: InMemoryTenants, clock: FixedClock) -> None:
    repo = RacingSettings()
    with pytest.raises(StaleVersionError):
        usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW, expected_version=0)
    assert usecase.settings_in_force(repo, "acme-42") == (1, SyncSettings())  # only the other writer's


def test_losing_a_race_without_if_match_retries_on_top_of_the_winner(
    tenants: InMemoryTenants, clock: FixedClock
) -> None:
    repo = RacingSettings(races=2)
    entry = usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW)
    assert entry.version == 3
    assert usecase.settings_in_force(repo, "acme-42") == (3, REVIEW)


def test_losing_every_race_gives_up(tenants: InMemoryTenants, clock: FixedClock) -> None:
    repo = RacingSettings(races=usecase.WRITE_ATTEMPTS)
    with pytest.raises(StaleVersionError):
        usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=REVIEW)
    assert all(repo.items[k].settings == SyncSettings() for k in repo.items)


def test_unknown_tenant_is_not_found(tenants: InMemoryTenants, clock: FixedClock) -> None:
    repo = InMemorySettings()
    with pytest.raises(NotFoundError):
        usecase.get_settings(tenants, repo, "nobody")
    with pytest.raises(NotFoundError):
        usecase.put_settings(tenants, repo, clock, tenant_id="nobody", settings=REVIEW)
    assert repo.items == {}


# --- validation of the document --------------------------------------------------------------------------


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        SyncSettings.model_validate({"send_mode": "live", "auto_send": True})


@pytest.mark.parametrize(
    "changes",
    [
        {"send_mode": "later"},
        {"name_clash_policy": "merge"},
        {"rename_suffix": " (2)"},  # no {n}: the second clash would make the same name again
        {"rename_suffix": " {n}-{n}"},
        {"rename_suffix": ":{n}"},  # ':' separates levels of a QuickBooks name
        {"rename_suffix": " {x}{n}"},
        {"rename_suffix": " ({n}) " + "x" * 20},
        {"default_income_account": ""},
        {"default_income_account": "   "},
        {"default_income_account": "Sales\tTab"},
        {"default_payment_terms": "x" * 32},
        {"payment_methods_to_sync": [""]},
        {"payment_methods_to_sync": ["x" * 32]},
        {"payment_methods_to_sync": ["Check", "check"]},
        {"payment_methods_to_sync": [f"m{i}" for i in range(51)]},
        {"web_connector_interval_minutes": 0},
        {"web_connector_interval_minutes": 1441},
        {"web_connector_interval_minutes": 2.5},
    ],
)
def test_invalid_documents_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SyncSettings.model_validate(changes)


@pytest.mark.parametrize("minutes", [1, 1440])
def test_the_web_connector_runs_every_minute_up_to_once_a_day(minutes: int) -> None:
    assert SyncSettings(web_connector_interval_minutes=minutes).web_connector_interval_minutes == minutes


def test_names_are_trimmed_and_31_characters_are_enough() -> None:
    s = SyncSettings.model_validate(
        {"default_payment_terms": " Net 30 ", "payment_methods_to_sync": ["x" * 31, " Check "]}
    )
    assert s.default_payment_terms == "Net 30"
    assert s.payment_methods_to_sync == ["x" * 31, "Check"]


@pytest.mark.parametrize("suffix", [" ({n})", " - {n}", "{n}", "-{n}-copy"])
def test_a_valid_suffix_makes_a_different_name_every_try(suffix: str) -> None:
    s = SyncSettings(rename_suffix=suffix)
    names = [s.renamed("Acme", n) for n in range(2, 200)]
    assert len(set(names)) == len(names)
    assert all(name.startswith("Acme") and name != "Acme" for name in names)
    assert SyncSettings().renamed("Acme", 2) == "Acme (2)"
    with pytest.raises(ValueError, match="starts at 2"):
        s.renamed("Acme", 1)


# --- validation per edition -------------------------------------------------------------------------------

QBD_LEVEL = "x" * 31  # QuickBooks Desktop: 31 characters per level of an account name
QBO_NAME = "y" * 100  # QuickBooks Online: 100 characters per account name


@pytest.mark.parametrize(
    ("account", "qbo_ok", "qbd_ok"),
    [
        ("Sales", True, True),
        ("Sales:Parts:Small", True, True),
        (QBD_LEVEL, True, True),
        (QBD_LEVEL + "x", True, False),
        (":".join([QBD_LEVEL] * 5), True, True),  # 159 characters: QBD's FullName limit
        (":".join([QBD_LEVEL] * 4 + ["x" * 32]), True, False),
        (":".join(["x" * 19] * 8) + "x", True, False),  # 160 characters, each level short enough
        (":".join([QBO_NAME] * 5), True, False),
        (QBO_NAME, True, False),
        (QBO_NAME + "y", False, False),
        ('The "Big" account', False, True),
        ("Sales::Parts", False, False),
        ("Sales : Parts", False, False),
        ("Sales:", False, False),
    ],
)
def test_account_names_follow_the_tenants_edition(account: str, qbo_ok: bool, qbd_ok: bool) -> None:
    s = SyncSettings(default_income_account=account, payment_deposit_account=account)
    for edition, ok in ((Edition.QBO, qbo_ok), (Edition.QBD, qbd_ok)):
        problems = edition_problems(s, edition)
        if ok:
            assert problems == [], edition
        else:
            assert [p.field for p in problems] == ["default_income_account", "payment_deposit_account"]
            assert all(p.message for p in problems)


def test_qbd_full_name_of_exactly_159_characters_is_accepted() -> None:
    deeper = ":".join(["x" * 19] * 8)  # 8 levels of 19, 159 characters
    assert len(deeper) == 159
    assert edition_problems(SyncSettings(default_asset_account=deeper), Edition.QBD) == []
    too_long = deeper + "x"
    [problem] = edition_problems(SyncSettings(default_asset_account=too_long), Edition.QBD)
    assert (problem.field, "159" in problem.message) == ("default_asset_account", True)


def test_settings_the_tenants_quickbooks_would_refuse_are_422_and_not_stored(
    tenants: InMemoryTenants, clock: FixedClock
) -> None:
    repo = InMemorySettings()
    s = SyncSettings(default_expense_account="Cost of Goods Sold (everything we buy)")  # 39 > 31
    assert usecase.put_settings(tenants, repo, clock, tenant_id="acme-42", settings=s).version == 1
    with pytest.raises(InvalidInputError) as caught:
        usecase.put_settings(tenants, repo, clock, tenant_id="desk-1", settings=s)
    assert [p.field for p in caught.value.problems] == ["default_expense_account"]
    assert repo.latest("desk-1") is None
