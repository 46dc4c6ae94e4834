"""The QuickBooks Online Accounting API over httpx: CompanyInfo for now; the sync engine adds the rest."""

from __future__ import annotations

import httpx

from qbsync.domain.connections import QboAuthenticationError

MINOR_VERSION = "75"
API_BASE = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}


class QboApiError(Exception):
    """The API failed in a way a retry may fix (5xx, timeout, throttling)."""


def api_base_url(qbo_environment: str) -> str:
    """The API host for 'sandbox' or 'production', or the local sandbox's URL as given."""
    return API_BASE.get(qbo_environment, qbo_environment.rstrip("/"))


class QboCompanyReader:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def company_name(self, realm_id: str, access_token: str) -> str:
        try:
            response = self._client.get(
                f"/v3/company/{realm_id}/companyinfo/{realm_id}",
                params={"minorversion": MINOR_VERSION},
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise QboApiError(f"CompanyInfo could not be read: {type(exc).__name__}") from None
        if response.status_code == 401:
            raise QboAuthenticationError("the access token was refused")
        if response.status_code != 200:
            raise QboApiError(f"CompanyInfo answered {response.status_code}")
        return str(response.json()["CompanyInfo"]["CompanyName"])
