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
    if register:
        httpx.post(
            f"{stack.api_url}/v1/tenants",
            headers={"Authorization": f"Bearer {stack.api_key}"},
            json={"id": tenant_id, "name": name or tenant_id, "edition": "qbo"},
        ).raise_for_status()
    company = stack.qbo.sandbox.add_company(f"{name or tenant_id} Books")  # one company per tenant
    answer = httpx.get(consent(stack, tenant_id, company.realm_id))
    if answer.status_code != 200:
        raise RuntimeError(f"connecting {tenant_id} failed: {answer.status_code} {answer.text[:200]}")
    return company.realm_id


def consent(stack: RunningStack, tenant_id: str, realm_id: str) -> str:
    """A new connect link of `tenant_id`, approved at the sandbox's consent page for `realm_id`: the callback
    URL (code, state, realmId) Intuit redirects the browser to."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    link = httpx.post(f"{stack.api_url}/v1/tenants/{tenant_id}/connect-links", headers=headers).json()["url"]
    to_intuit = httpx.get(f"{link}/start").headers["location"]
    form = dict(re.findall(r"name='(\w+)' value='([^']*)'", httpx.get(to_intuit).text))
    form = {**form, "realm_id": realm_id, "decision": "connect"}
    return str(httpx.post(f"{stack.qbo.url}/connect/oauth2", data=form).headers["location"])
