"""A QuickBooks Desktop tenant's connection, as its Web Connector logins and sessions show it.

Stored like an Online connection (`Connection`, with its `desktop` part once a session described the company):
- `connecting` from the issue of a Web Connector login (API or connect page) until the first good session;
- `connected` from the first sendRequestXML whose company qbsync can work with, with what QuickBooks said of
  it; `last_run_at` moves at each good session and each closeConnection;
- `disconnected` after `disconnect`: the login is retired, so the Web Connector is told `nvu`.

`last_error` says why the Web Connector could not work: QuickBooks was not open, another company file was
open, QuickBooks is too old or not the US edition, or the password was refused. The state stays what it was
(a connected tenant stays connected); the next good session clears it. Every change of state or of
`last_error` is one `connection.changed` event; an error already told is not told again.

`stale_since` is computed on read: a connected tenant whose Web Connector has not run for
STALE_AFTER_INTERVALS of its intervals (`web_connector_interval_minutes`).

The Web Connector service calls `login_refused`, `company_seen`, `quickbooks_not_open` and `ran`; the login
use case calls `login_issued`; the API calls `connection` and `disconnect`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from qbsync.domain import qbwc
from qbsync.domain.connections import (
    Connection,
    ConnectionProblem,
    ConnectionRepository,
    ConnectionStatus,
    DesktopCompany,
    EventPublisher,
)
from qbsync.domain.desktop import TOO_OLD, UNSUPPORTED_EDITION, CompanyFacts, same_guid
from qbsync.domain.ports import Clock, TenantRepository
from qbsync.domain.qbwc import QbwcCredentialStore
from qbsync.domain.settings import SettingsRepository, SyncSettings
from qbsync.domain.tenants import Edition
from qbsync.usecases.connect import CONNECTION_CHANGED, connection_detail
from qbsync.usecases.tenants import get_tenant

log = logging.getLogger(__name__)

# What QuickBooks and the Web Connector say is kept to this many characters (the DynamoDB item stays small
# whatever a PC sends; Windows paths stop at 260 characters unless long paths are on).
MAX_FACT_LENGTH = 1000

OTHER_COMPANY_FILE = "other_company_file"
QUICKBOOKS_NOT_OPEN = "quickbooks_not_open"
LOGIN_REFUSED = "login_refused"
DISCONNECTED = (
    "This application was disconnected from QuickBooks; nothing was sent. Get a new Web Connector password "
    "from the application to connect again."
)
_ACTIONS = {
    TOO_OLD: "Open the company file in QuickBooks Desktop 2014 or newer, then run the Web Connector again.",
    UNSUPPORTED_EDITION: "Connect a company file of the US edition of QuickBooks Desktop.",
    OTHER_COMPANY_FILE: (
        "Open the company file the Web Connector was set up with and run it again. To sync the open file "
        "instead, add this application's .qwc file to the Web Connector again while that file is open."
    ),
    QUICKBOOKS_NOT_OPEN: (
        "Start QuickBooks and open the company file on the computer where the Web Connector runs, then run "
        "the Web Connector again."
    ),
    LOGIN_REFUSED: (
        "Type the latest Web Connector password into the Password box of this application in the Web "
        "Connector, or get a new password from the connect link."
    ),
}


@dataclass(frozen=True)
class DesktopConnection:
    """A Desktop tenant's connection as the API shows it: what is stored, and whether its Web Connector has
    gone silent (computed with the clock, never stored)."""

    connection: Connection
    stale_since: datetime | None


@dataclass
class DesktopConnections:
    tenants: TenantRepository
    connections: ConnectionRepository
    credentials: QbwcCredentialStore
    settings: SettingsRepository
    events: EventPublisher
    clock: Clock

    def connection(self, tenant_id: str) -> DesktopConnection | None:
        """The Desktop tenant's connection; None for a QuickBooks Online tenant (Onboarding has its
        connection). NotFoundError for an unknown tenant."""
        if not self._is_desktop(tenant_id):
            return None
        return self._shown(self.connections.get(tenant_id))

    def disconnect(self, tenant_id: str) -> DesktopConnection | None:
        """Retire the tenant's Web Connector login (the Web Connector is then told `nvu`) and move to
        `disconnected`. What was learnt of the company stays on show. A tenant never connecting has
        nothing to move: no change, no event. None for a QuickBooks Online tenant."""
        if not self._is_desktop(tenant_id):
            return None
        self.credentials.delete(qbwc.user_name_of(tenant_id))
        connection = self.connections.get(tenant_id)
        if connection.status in (ConnectionStatus.CONNECTING, ConnectionStatus.CONNECTED):
            connection = self._move(connection, ConnectionStatus.DISCONNECTED, last_error=None)
        log.info("Desktop tenant disconnected", extra={"tenant_id": tenant_id})
        return self._shown(connection)

    def awaits_company(self, tenant_id: str) -> bool:
        """Whether the next session must look at the company even with nothing to send: the tenant is not
        connected yet, or its last session found something wrong that only a session can clear."""
        connection = self.connections.get(tenant_id)
        return connection.status is not ConnectionStatus.CONNECTED or connection.last_error is not None

    def login_issued(self, tenant_id: str) -> None:
        """A Web Connector login was issued: `connecting` until its first good session. A connected tenant
        stays connected (its Web Connector needs the new password, which `login_refused` tells)."""
        connection = self.connections.get(tenant_id)
        if connection.status not in (ConnectionStatus.CONNECTING, ConnectionStatus.CONNECTED):
            self._move(connection, ConnectionStatus.CONNECTING)

    def login_refused(self, tenant_id: str) -> None:
        """The Web Connector of this tenant's login name gave a wrong password."""
        self._problem(
            self.connections.get(tenant_id),
            LOGIN_REFUSED,
            "The Web Connector's password was refused: it is not the latest one issued.",
        )

    def quickbooks_not_open(self, tenant_id: str, hresult: str, message: str) -> None:
        """The Web Connector could not open QuickBooks (connectionError, e.g. 0x80040408)."""
        said = " ".join(message.split())[:300] or "no message"
        self._problem(
            self.connections.get(tenant_id),
            QUICKBOOKS_NOT_OPEN,
            f"The Web Connector could not open QuickBooks ({hresult.strip()[:20]}: {said}).",
        )

    def company_seen(self, tenant_id: str, facts: CompanyFacts, company_file: str) -> str | None:
        """What the first sendRequestXML of a session says of QuickBooks and the open company file
        (`company_file`: strCompanyFileName). None when qbsync can work with it: the connection is then
        `connected`, with these facts. Otherwise the reason, in words for the Web Connector's status column
        (the session sends nothing: return "" and let getLastError say it), also set as `last_error`.

        The company file is the one the Web Connector was set up with when the FileID DataExt under the
        tenant's OwnerID is the FileID the first good session recorded, or, before any, the tenant's own
        (`qbwc.file_id_of`): the Web Connector writes it into the file open when the .qwc is added, before
        any session (QBWC Programmer's Guide pp.36, 52; shared/reference/qbwc/NOTES.md, FileID).
        """
        connection = self.connections.get(tenant_id)
        if connection.status is ConnectionStatus.DISCONNECTED:  # a session opened just before the disconnect
            return DISCONNECTED
        company_file = company_file.strip()[:MAX_FACT_LENGTH]
        code = facts.refusal_code()
        if code is not None:
            refusal = facts.refusal() or code
            self._problem(connection, code, refusal)
            return refusal
        file_id = facts.file_id(qbwc.owner_id_of(tenant_id))
        expected = connection.desktop.file_id if connection.desktop else qbwc.file_id_of(tenant_id)
        if file_id is None or not same_guid(file_id, expected):
            refusal = _other_company_file(facts, company_file, connection.desktop)
            self._problem(connection, OTHER_COMPANY_FILE, refusal)
            return refusal
        now = self.clock.now()
        self._move(
            connection,
            ConnectionStatus.CONNECTED,
            company_name=facts.company_name[:MAX_FACT_LENGTH],
            connected_since=connection.connected_since
            if connection.status is ConnectionStatus.CONNECTED
            else now,
            last_error=None,
            desktop=DesktopCompany(
                file_path=company_file,
                product_name=facts.product_name[:MAX_FACT_LENGTH],
                quickbooks_version=f"{facts.major_version}.{facts.minor_version}"[:MAX_FACT_LENGTH],
                country=facts.country[:MAX_FACT_LENGTH],
                file_id=file_id,
                last_run_at=now,
            ),
        )
        return None

    def ran(self, tenant_id: str) -> None:
        """The tenant's Web Connector ended a session (closeConnection): a connected tenant's `last_run_at`
        moves. No event: nothing the host app acts on changed."""
        connection = self.connections.get(tenant_id)
        if connection.status is ConnectionStatus.CONNECTED and connection.desktop is not None:
            desktop = replace(connection.desktop, last_run_at=self.clock.now())
            self.connections.put(replace(connection, desktop=desktop))

    def _shown(self, connection: Connection) -> DesktopConnection:
        stored = self.settings.latest(connection.tenant_id)
        minutes = (stored.settings if stored else SyncSettings()).web_connector_interval_minutes
        return DesktopConnection(
            connection, connection.stale_since(timedelta(minutes=minutes), self.clock.now())
        )

    def _is_desktop(self, tenant_id: str) -> bool:
        return get_tenant(self.tenants, tenant_id).edition is Edition.QBD

    def _problem(self, connection: Connection, code: str, message: str) -> None:
        """Set `last_error`, keeping the state; the same error again changes nothing and is not told."""
        problem = ConnectionProblem(code, message, _ACTIONS[code])
        if connection.last_error != problem:
            self._move(connection, connection.status, last_error=problem)
        log.warning("Desktop connection problem", extra={"tenant_id": connection.tenant_id, "problem": code})

    def _move(self, connection: Connection, status: ConnectionStatus, **changes: object) -> Connection:
        moved = connection.moved(status, self.clock.now(), **changes)
        self.connections.put(moved)
        if moved.status is not connection.status or moved.last_error != connection.last_error:
            self.events.publish(
                CONNECTION_CHANGED, moved.tenant_id, desktop_connection_detail(moved, connection.status)
            )
        return moved


def desktop_connection_detail(connection: Connection, previous: ConnectionStatus) -> dict[str, object]:
    """The `connection.changed` detail of a Desktop tenant: Online's, and what QuickBooks said of itself."""
    desktop = connection.desktop
    return connection_detail(connection, previous) | {
        "company_file": desktop.file_path if desktop else None,
        "product_name": desktop.product_name if desktop else None,
        "quickbooks_version": desktop.quickbooks_version if desktop else None,
        "country": desktop.country if desktop else None,
        "last_run_at": desktop.last_run_at.isoformat() if desktop else None,
    }


def _other_company_file(facts: CompanyFacts, company_file: str, known: DesktopCompany | None) -> str:
    opened = f"{company_file or 'a company file'} ({facts.company_name[:200] or 'no company name'})"
    expected = f", {known.file_path}," if known and known.file_path else ""
    return (
        f"Another company file is open in QuickBooks: {opened}. It is not the company file this "
        f"application's Web Connector was set up with{expected} so nothing was sent."
    )
