"""Issuing a Desktop tenant's Web Connector login and writing its .qwc file, over in-memory stores; the file
is read back as the Web Connector reads it (local.qbd.webconnector.Qwc) and compared with Intuit's samples."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from lxml import etree

from local.qbd.webconnector import Qwc, QwcError
from qbsync.adapters.qwc import write_qwc
from qbsync.domain import qbwc
from qbsync.domain.errors import ConflictError, NotFoundError
from qbsync.domain.qbwc import verify_password
from qbsync.domain.settings import SettingsVersion, SyncSettings
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.desktop_connection import DesktopConnections
from qbsync.usecases.web_connector import WebConnectorLogins
from tests.qbxml_reference import QBWC
from tests.unit.connection_fakes import InMemoryConnections, RecordingEvents
from tests.unit.fakes import FixedClock, InMemorySettings, InMemoryTenants
from tests.unit.qbwc_fakes import InMemoryQbwcCredentials

BASE = "https://abc123.execute-api.eu-west-1.amazonaws.com"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SAMPLES = sorted((QBWC / "qwc").rglob("*.qwc")) if (QBWC / "qwc").is_dir() else []


@pytest.fixture
def tenants() -> InMemoryTenants:
    repo = InMemoryTenants()
    repo.add(Tenant("acme-42", "Acme & Sons <Desktop>", Edition.QBD, T0))
    repo.add(Tenant("other", "Other", Edition.QBD, T0))
    repo.add(Tenant("online", "Online Co", Edition.QBO, T0))
    return repo


@pytest.fixture
def credentials() -> InMemoryQbwcCredentials:
    return InMemoryQbwcCredentials()


@pytest.fixture
def settings() -> InMemorySettings:
    return InMemorySettings()


@pytest.fixture
def logins(
    tenants: InMemoryTenants, credentials: InMemoryQbwcCredentials, settings: InMemorySettings
) -> WebConnectorLogins:
    connections = DesktopConnections(
        tenants, InMemoryConnections(), credentials, settings, RecordingEvents(), FixedClock()
    )
    return WebConnectorLogins(tenants, credentials, settings, write_qwc, "Acme Billing & Co", connections)


def elements(text: str) -> dict[str, str]:
    root = etree.fromstring(text.encode())
    return {etree.QName(e).localname: (e.text or "").strip() for e in root.iter() if e is not root}


def test_issuing_stores_only_a_hash_of_a_new_password_under_the_tenants_user_name(
    logins: WebConnectorLogins, credentials: InMemoryQbwcCredentials
) -> None:
    issued = logins.issue("acme-42", BASE)
    stored = credentials.items[issued.user_name]
    assert (issued.user_name, stored.tenant_id) == ("acme-42", "acme-42")
    assert len(issued.password) >= 24
    assert issued.password not in stored.password_hash
    assert verify_password(issued.password, stored.password_hash)
    assert issued.password not in issued.qwc


def test_issuing_again_retires_the_old_password(
    logins: WebConnectorLogins, credentials: InMemoryQbwcCredentials
) -> None:
    first = logins.issue("acme-42", BASE)
    second = logins.issue("acme-42", BASE)
    assert first.password != second.password
    stored = credentials.items["acme-42"].password_hash
    assert verify_password(second.password, stored)
    assert not verify_password(first.password, stored)
    assert first.qwc == second.qwc  # the file holds no secret and the same GUIDs


def test_the_qwc_is_what_the_web_connector_accepts_and_says_all_it_must(logins: WebConnectorLogins) -> None:
    issued = logins.issue("acme-42", BASE)
    qwc = Qwc.parse(issued.qwc)
    assert qwc.app_name == "Acme Billing & Co"
    assert qwc.app_url == f"{BASE}/qbwc"
    assert qwc.user_name == "acme-42"
    assert qwc.run_every_seconds == 600  # the default interval, 10 minutes
    assert issued.run_every_minutes == 10
    values = elements(issued.qwc)
    assert values["AppID"] == ""
    assert values["AppSupport"] == f"{BASE}/qbwc"  # the support page, on the same host
    assert values["QBType"] == "QBFS"
    assert values["IsReadOnly"] == "false"
    assert "Acme Billing & Co" in values["AppDescription"]
    assert len(values["AppDescription"]) <= 80  # the guide's recommendation (p.35)
    for name in ("OwnerID", "FileID"):
        assert values[name][0] + values[name][-1] == "{}"
        uuid.UUID(values[name][1:-1])


def test_the_guids_are_stable_per_tenant_and_differ_between_tenants(logins: WebConnectorLogins) -> None:
    acme = elements(logins.issue("acme-42", BASE).qwc)
    again = elements(logins.qwc("acme-42", "https://another.example"))
    other = elements(logins.issue("other", BASE).qwc)
    assert (acme["OwnerID"], acme["FileID"]) == (again["OwnerID"], again["FileID"])
    assert acme["OwnerID"] != other["OwnerID"]
    assert acme["FileID"] != other["FileID"]
    assert acme["OwnerID"] != acme["FileID"]
    assert acme["FileID"] == qbwc.file_id_of("acme-42")


def test_the_interval_comes_from_the_tenants_sync_settings(
    logins: WebConnectorLogins, settings: InMemorySettings
) -> None:
    settings.add(SettingsVersion("acme-42", 1, T0, SyncSettings(web_connector_interval_minutes=2)))
    issued = logins.issue("acme-42", BASE)
    assert issued.run_every_minutes == 2
    assert Qwc.parse(issued.qwc).run_every_seconds == 120


@pytest.mark.parametrize(
    ("base", "app_url"),
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000/qbwc"),
        ("http://localhost:3000", "http://localhost:3000/qbwc"),
        ("https://api.example.com/", "https://api.example.com/qbwc"),
        ("http://api.example.com", "https://api.example.com/qbwc"),  # deployed: https whatever was claimed
    ],
)
def test_the_app_url_is_https_except_on_this_machine(
    logins: WebConnectorLogins, base: str, app_url: str
) -> None:
    assert Qwc.parse(logins.issue("acme-42", base).qwc).app_url == app_url


def test_the_qwc_again_before_any_login_is_a_not_found(logins: WebConnectorLogins) -> None:
    with pytest.raises(NotFoundError, match="POST /v1/tenants/acme-42/web-connector"):
        logins.qwc("acme-42", BASE)
    assert not logins.is_issued("acme-42")


def test_an_online_tenant_gets_no_web_connector_login(
    logins: WebConnectorLogins, credentials: InMemoryQbwcCredentials
) -> None:
    with pytest.raises(ConflictError, match="QuickBooks Online"):
        logins.issue("online", BASE)
    with pytest.raises(ConflictError):
        logins.qwc("online", BASE)
    assert credentials.items == {}


def test_an_unknown_tenant_is_a_not_found(logins: WebConnectorLogins) -> None:
    with pytest.raises(NotFoundError, match="POST /v1/tenants"):
        logins.issue("nobody", BASE)


@pytest.mark.skipif(not SAMPLES, reason=f"Intuit's .qwc samples are not checked out at {QBWC / 'qwc'}")
def test_the_qwc_has_every_element_of_intuits_samples_and_only_known_ones(logins: WebConnectorLogins) -> None:
    ours = set(elements(logins.issue("acme-42", BASE).qwc))
    sample_sets = [set(elements(path.read_text(encoding="utf-8"))) for path in SAMPLES]
    in_all_samples = set.intersection(*sample_sets)
    assert in_all_samples <= ours
    # Anything else we write appears in at least one sample (the optional Scheduler and IsReadOnly do).
    assert ours <= set.union(*sample_sets)
    for path in SAMPLES:
        Qwc.parse(path.read_bytes())  # the reader that checks ours accepts Intuit's


def test_the_reader_refuses_a_plain_http_url_off_this_machine() -> None:
    file = qbwc.qwc_file("acme-42", app_name="x", api_base_url=BASE, run_every_minutes=10)
    text = write_qwc(file).replace("https://", "http://")
    with pytest.raises(QwcError, match="QBWC1010"):
        Qwc.parse(text)


def test_values_are_escaped_in_the_file() -> None:
    file = qbwc.qwc_file("acme-42", app_name='A <b> & "c"', api_base_url=BASE, run_every_minutes=10)
    assert Qwc.parse(write_qwc(file)).app_name == 'A <b> & "c"'
