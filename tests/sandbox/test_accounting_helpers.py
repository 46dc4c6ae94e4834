"""What the accounting tests share: a sandbox with one company behind Flask's test client, a bearer token for
it, the recorded traffic they compare with, and small readers of Intuit's answers. (No tests here.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from local.qbo.engine import books
from local.qbo.server import create_app
from local.qbo.state import Sandbox

REALM = "9130355555555555"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "qbo"
VCR = REFERENCE / "qbo_api_vcr_extracted"
NANGO = REFERENCE / "nango_recorded_sandbox"
needs_reference = pytest.mark.skipif(not VCR.is_dir(), reason=f"recorded traffic not at {REFERENCE}")


def recorded(name: str) -> dict[str, Any]:
    """One interaction of the qbo_api cassettes (qbo_api_vcr_extracted/<name>.json)."""
    return json.loads((VCR / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def nango(name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Path, request and response of a recorded Nango POST (nango_recorded_sandbox/<name>.test.json)"""
    document = json.loads((NANGO / f"{name}.test.json").read_text(encoding="utf-8"))
    [(path, exchange)] = document["api"]["post"].items()
    return path, exchange["request"]["data"], exchange["response"]


@dataclass
class Api:
    """The Accounting API of a fresh sandbox company, called as a client would."""

    sb: Sandbox = field(default_factory=Sandbox)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, Id, operation) notified

    def __post_init__(self) -> None:
        self.company = self.sb.add_company("Accounting Test Co", REALM)
        self.client = create_app(self.sb).test_client()
        access, _ = self.sb.issue_tokens("test-client", REALM, ["com.intuit.quickbooks.accounting"], "code-1")
        self.headers = {"Authorization": f"Bearer {access.token}", "Accept": "application/json"}
        self.sb.listeners.append(
            lambda _realm, kind, entity, op: self.events.append((kind, entity["Id"], op))
        )

    @property
    def books(self) -> Any:
        return books(self.company)

    def url(self, path: str) -> str:
        return f"/v3/company/{REALM}/{path}"

    def get(self, path: str, **params: str) -> TestResponse:
        return self.client.get(self.url(path), headers=self.headers, query_string=params)

    def post(self, path: str, body: Any, **params: str) -> TestResponse:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            self.url(path),
            data=data,
            headers=self.headers,
            query_string=params,
            content_type="application/json",
        )

    def query(self, text: str) -> TestResponse:
        return self.get("query", query=text)

    def create(self, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        response = self.post(entity.lower(), body, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()[entity]  # type: ignore[no-any-return]

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        response = self.get(f"{entity.lower()}/{entity_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()[entity]  # type: ignore[no-any-return]

    def customer(self, name: str = "Amy's Bird Sanctuary", **fields: Any) -> dict[str, Any]:
        return self.create("Customer", {"DisplayName": name, **fields})

    def invoice(self, customer_id: str, *amounts: float | str, **fields: Any) -> dict[str, Any]:
        lines = [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
            }
            for amount in amounts
        ]
        return self.create("Invoice", {"CustomerRef": {"value": customer_id}, "Line": lines, **fields})


def fault(response: TestResponse) -> dict[str, Any]:
    """The first Error of a Fault answer, with the Fault's type and the HTTP status."""
    body = response.get_json()
    error = body["Fault"]["Error"][0]
    return {**error, "type": body["Fault"]["type"], "status": response.status_code}


def code_of(response: TestResponse) -> tuple[int, str]:
    return response.status_code, fault(response)["code"]
