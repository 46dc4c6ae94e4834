"""The QuickBooks Online client against the local sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from local.qbo import server
from qbsync.adapters.qbo_faults import FaultAction, QboFaultError, QboOutcomeUnknownError
from qbsync.adapters.qbo_http import QboClient
from qbsync.domain.connections import CompanyAccessDeniedError, QboAuthenticationError, TokenSet

TENANT = "acme"


@dataclass
class SandboxTokens:
    """The token port, fed straight from the sandbox: refreshing issues a new access token there."""

    running: server.RunningSandbox
    realm_id: str
    refreshed: int = 0
    refused: list[TokenSet] = field(default_factory=list)
    current: TokenSet | None = field(default=None)

    def _issue(self) -> TokenSet:
        access, refresh = self.running.sandbox.issue_tokens("client", self.realm_id, ["accounting"], "code")
        now = datetime.now(UTC)
        return TokenSet(
            self.realm_id, access.token, refresh.token, now + timedelta(hours=1), now + timedelta(days=100)
        )

    def access_token(self, tenant_id: str) -> TokenSet:
        if self.current is None:
            self.current = self._issue()
        return self.current

    def after_unauthorized(self, tenant_id: str, used: TokenSet) -> TokenSet:
        self.refreshed += 1
        self.current = self._issue()
        return self.current

    def refused_after_refresh(self, tenant_id: str, used: TokenSet) -> None:
        self.refused.append(used)


@pytest.fixture
def qbo() -> Iterator[tuple[QboClient, SandboxTokens, server.RunningSandbox]]:
    running = server.start(port=0)
    realm = next(iter(running.sandbox.companies))
    tokens = SandboxTokens(running, realm)
    with httpx.Client(base_url=running.url, timeout=httpx.Timeout(2.0)) as http:
        yield QboClient(http, tokens), tokens, running
    running.stop()


def fault(running: server.RunningSandbox, **spec: object) -> None:
    assert httpx.post(f"{running.url}/_sandbox/faults", json=spec).status_code == 201


def customers(running: server.RunningSandbox, realm: str) -> list[dict[str, object]]:
    return httpx.get(f"{running.url}/_sandbox/companies/{realm}/entities/Customer").json()["Customer"]


def test_create_read_and_query(qbo) -> None:  # type: ignore[no-untyped-def]
    client, tokens, _ = qbo
    created = client.post(TENANT, "customer", {"DisplayName": "Ada Plumbing"}, request_id="req-1")["Customer"]
    read = client.get(TENANT, f"customer/{created['Id']}")["Customer"]
    assert read["DisplayName"] == "Ada Plumbing"
    found = client.query(TENANT, "SELECT * FROM Customer WHERE DisplayName = 'Ada Plumbing'")
    assert [c["Id"] for c in found["QueryResponse"]["Customer"]] == [created["Id"]]
    assert client.company_name(tokens.access_token(TENANT)) == "Sandbox Company_US_1"
    assert tokens.refreshed == 0


def test_company_info_of_a_company_the_tokens_were_not_issued_for_is_refused(qbo) -> None:  # type: ignore[no-untyped-def]
    client, tokens, running = qbo
    other = running.sandbox.add_company("Somebody Else's Books").realm_id
    with pytest.raises(CompanyAccessDeniedError, match="3100"):
        client.company_name(replace(tokens.access_token(TENANT), realm_id=other))
    running.sandbox.expire_tokens()
    with pytest.raises(CompanyAccessDeniedError, match="3200"):
        client.company_name(tokens.access_token(TENANT))
    assert tokens.refreshed == 0  # the tokens are taken as they are


def test_a_401_refreshes_once_and_repeats_the_call(qbo) -> None:  # type: ignore[no-untyped-def]
    client, tokens, running = qbo
    client.get(TENANT, f"companyinfo/{tokens.realm_id}")
    running.sandbox.expire_tokens()
    assert client.get(TENANT, f"companyinfo/{tokens.realm_id}")["CompanyInfo"]["Id"] == tokens.realm_id
    assert tokens.refreshed == 1


def test_a_401_after_refresh_is_an_authentication_error(qbo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, tokens, running = qbo
    monkeypatch.setattr(tokens, "after_unauthorized", lambda tenant, used: used)  # refresh gives nothing new
    tokens.access_token(TENANT)
    running.sandbox.expire_tokens()
    with pytest.raises(QboAuthenticationError, match="3200"):
        client.get(TENANT, f"companyinfo/{tokens.realm_id}")
    assert tokens.refused == [tokens.current]  # the token port hears that the refreshed token was refused


def test_throttling_arrives_as_xml_and_means_retry_later(qbo) -> None:  # type: ignore[no-untyped-def]
    client, _, running = qbo
    fault(running, kind="throttle", path_contains="/customer")
    with pytest.raises(QboFaultError) as info:
        client.post(TENANT, "customer", {"DisplayName": "Too Fast"}, request_id="req-throttled")
    assert (info.value.status, info.value.codes, info.value.action) == (
        429,
        ("3001",),
        FaultAction.RETRY_LATER,
    )


def test_a_duplicate_name_is_a_name_clash(qbo) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = qbo
    client.post(TENANT, "vendor", {"DisplayName": "Shared Name"}, request_id="req-vendor")
    with pytest.raises(QboFaultError) as info:
        client.post(TENANT, "customer", {"DisplayName": "Shared Name"}, request_id="req-customer")
    assert info.value.codes == ("6240",)
    assert info.value.action is FaultAction.RESOLVE_NAME_CLASH


def test_a_stale_sync_token_means_reread(qbo) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = qbo
    created = client.post(TENANT, "customer", {"DisplayName": "Stale"}, request_id="req-stale-1")["Customer"]
    client.post(
        TENANT,
        "customer",
        {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"},
        request_id="req-stale-2",
    )
    with pytest.raises(QboFaultError) as info:
        client.post(
            TENANT,
            "customer",
            {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"},
            request_id="req-stale-3",
        )
    assert info.value.action is FaultAction.REREAD_AND_REAPPLY


def test_a_lost_response_is_unknown_and_the_same_requestid_creates_nothing_new(qbo) -> None:  # type: ignore[no-untyped-def]
    client, tokens, running = qbo
    fault(running, kind="lost", path_contains="/customer")
    with pytest.raises(QboOutcomeUnknownError):
        client.post(TENANT, "customer", {"DisplayName": "Lost Once"}, request_id="req-lost")
    again = client.post(TENANT, "customer", {"DisplayName": "Lost Once"}, request_id="req-lost")["Customer"]
    assert [c["Id"] for c in customers(running, tokens.realm_id) if c["DisplayName"] == "Lost Once"] == [
        again["Id"]
    ]


def test_a_server_error_means_retry_later(qbo) -> None:  # type: ignore[no-untyped-def]
    client, tokens, running = qbo
    fault(running, kind="status", status=503, path_contains="/companyinfo")
    with pytest.raises(QboFaultError) as info:
        client.get(TENANT, f"companyinfo/{tokens.realm_id}")
    assert info.value.action is FaultAction.RETRY_LATER


def test_requestid_length_is_checked_before_sending(qbo) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = qbo
    with pytest.raises(ValueError, match="1 to 50"):
        client.post(TENANT, "customer", {"DisplayName": "x"}, request_id="r" * 51)
