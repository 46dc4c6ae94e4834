"""A QuickBooks Desktop tenant's Web Connector login: its user name, a password shown once, and its .qwc file.

The password is random, returned once and stored only as its scrypt hash; issuing again replaces the stored
hash, so the old password stops working at once. The .qwc holds no secret and is the same every time for a
tenant (its GUIDs derive from the tenant id) but for the interval, read from the tenant's sync settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qbsync.domain import qbwc
from qbsync.domain.errors import ConflictError, NotFoundError
from qbsync.domain.ports import TenantRepository
from qbsync.domain.qbwc import QbwcCredential, QbwcCredentialStore, QwcWriter
from qbsync.domain.settings import SettingsRepository, SyncSettings
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.desktop_connection import DesktopConnections
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedLogin:
    user_name: str
    password: str  # shown this once; only its hash is kept
    qwc: str
    run_every_minutes: int


@dataclass(frozen=True)
class WebConnectorSetup:
    """How the tenant's Web Connector is set up, without the password: for the tenant's pages."""

    user_name: str
    issued: bool  # a password was issued and not retired: the .qwc can be downloaded
    run_every_minutes: int


@dataclass
class WebConnectorLogins:
    tenants: TenantRepository
    credentials: QbwcCredentialStore
    settings: SettingsRepository
    write_qwc: QwcWriter
    app_name: str
    connections: DesktopConnections

    def issue(self, tenant_id: str, api_base_url: str) -> IssuedLogin:
        """A new password for the tenant's Web Connector (the one before stops working) and its .qwc; the
        connection is `connecting` until the Web Connector's first good session."""
        tenant = self._desktop_tenant(tenant_id)
        user_name = qbwc.user_name_of(tenant.id)
        password = qbwc.new_password()
        self.credentials.put(
            QbwcCredential(
                username=user_name, tenant_id=tenant.id, password_hash=qbwc.hash_password(password)
            )
        )
        log.info("Web Connector login issued", extra={"tenant_id": tenant.id, "qbwc_user": user_name})
        self.connections.login_issued(tenant.id)
        qwc = self._qwc_file(tenant, api_base_url)
        return IssuedLogin(user_name, password, self.write_qwc(qwc), qwc.run_every_minutes)

    def is_issued(self, tenant_id: str) -> bool:
        tenant = self._desktop_tenant(tenant_id)
        return self.credentials.find(qbwc.user_name_of(tenant.id)) is not None

    def setup(self, tenant_id: str) -> WebConnectorSetup:
        tenant = self._desktop_tenant(tenant_id)
        user_name = qbwc.user_name_of(tenant.id)
        issued = self.credentials.find(user_name) is not None
        return WebConnectorSetup(user_name, issued, self._run_every_minutes(tenant))

    def qwc(self, tenant_id: str, api_base_url: str) -> str:
        """The tenant's .qwc file again; NotFoundError before a login was issued."""
        tenant = self._desktop_tenant(tenant_id)
        if self.credentials.find(qbwc.user_name_of(tenant.id)) is None:
            raise NotFoundError(
                f"Tenant {tenant_id!r} has no Web Connector login (none was issued, or a disconnect retired "
                f"it). Issue one with "
                f"POST /v1/tenants/{tenant_id}/web-connector, or through the tenant's connect link."
            )
        return self.write_qwc(self._qwc_file(tenant, api_base_url))

    def _qwc_file(self, tenant: Tenant, api_base_url: str) -> qbwc.QwcFile:
        return qbwc.qwc_file(
            tenant.id,
            app_name=self.app_name,
            api_base_url=api_base_url,
            run_every_minutes=self._run_every_minutes(tenant),
        )

    def _run_every_minutes(self, tenant: Tenant) -> int:
        stored = self.settings.latest(tenant.id)
        settings = stored.settings if stored else SyncSettings()
        return settings.web_connector_interval_minutes

    def _desktop_tenant(self, tenant_id: str) -> Tenant:
        tenant = get_tenant(self.tenants, tenant_id)
        if tenant.edition is not Edition.QBD:
            raise ConflictError(
                f"Tenant {tenant_id!r} keeps its books in QuickBooks Online, which connects through a "
                f"connect link (POST /v1/tenants/{tenant_id}/connect-links), not the Web Connector. The Web "
                "Connector is for QuickBooks Desktop tenants only."
            )
        return tenant
