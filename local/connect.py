"""Connect a tenant to a QuickBooks Online sandbox company the way its bookkeeper would, without a browser:
the connect link, Intuit's consent page, the callback. For the benchmark and tests of the running stack."""

from __future__ import annotations

import re

import httpx

from local.stack import RunningStack


def connect_qbo(
    stack: RunningStack, tenant_id: str, *, name: str | None = None, register: bool = True
) -> str:
    """Connect `tenant_id` (registered first, as QuickBooks Online, unless `register` is False) to a new
    sandbox company; its realm id."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    if register:
        httpx.post(
            f"{stack.api_url}/v1/tenants",
            headers=headers,
            json={"id": tenant_id, "name": name or tenant_id, "edition": "qbo"},
        ).raise_for_status()
    link = httpx.post(f"{stack.api_url}/v1/tenants/{tenant_id}/connect-links", headers=headers).json()["url"]
    to_intuit = httpx.get(f"{link}/start").headers["location"]
    consent = httpx.get(to_intuit).text
    form = dict(re.findall(r"name='(\w+)' value='([^']*)'", consent))
    company = stack.qbo.sandbox.add_company(f"{name or tenant_id} Books")  # one company per tenant
    form = {**form, "realm_id": company.realm_id, "decision": "connect"}
    callback = httpx.post(f"{stack.qbo.url}/connect/oauth2", data=form)
    answer = httpx.get(callback.headers["location"])
    if answer.status_code != 200:
        raise RuntimeError(f"connecting {tenant_id} failed: {answer.status_code} {answer.text[:200]}")
    return company.realm_id
