"""The whole service on one machine: moto as AWS, every function of template.yaml in-process."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from local import aws, consumers, lambdas, meter, moto_dynamodb
from local import template as tpl
from local.apigw import HttpApi, serve
from local.qbd import server as qbd_server
from local.qbd.webconnector import Qwc
from local.qbo import server as qbo_server

log = logging.getLogger("local.stack")

# The Intuit app the local stack registers with the QuickBooks Online sandbox (not a secret anywhere else).
LOCAL_QBO_CLIENT_ID = "ABlocalqbsyncclient0000000000000000000000000000"
LOCAL_QBO_CLIENT_SECRET = "local-sandbox-secret-0000000000000000"  # noqa: S105

# The demo Desktop tenant `make run` connects through the simulated Web Connector, every minute.
DEMO_QBD_TENANT = "demo-qbd"
DEMO_QBD_RUN_EVERY_MINUTES = 1

# Variables a function may set for itself; everything else comes from Globals and is shared by all functions.
PER_FUNCTION_PREFIX = "POWERTOOLS_"


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """What every boto3 client in the process needs to reach moto and nothing else."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": aws.REGION,
        "AWS_DEFAULT_REGION": aws.REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


class MeteredMotoServer(ThreadedMotoServer):
    """moto's threaded server, a RequestMeter around its app (ThreadedMotoServer._server_entry, metered)."""

    def __init__(self, requests: meter.RequestMeter, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.requests = requests

    def _server_entry(self) -> None:
        app = self.requests.wrap(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@dataclass
class RunningStack:
    api_url: str
    aws_endpoint: str
    local: aws.LocalStack
    functions: dict[str, lambdas.LocalFunction]
    pollers: list[consumers.QueuePoller]
    schedules: list[consumers.ScheduleRunner]
    qbo: qbo_server.RunningSandbox
    qbd: qbd_server.RunningDesktop
    aws_requests: meter.RequestMeter = field(default_factory=meter.RequestMeter)
    api_key: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _closers: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        self._stop.set()
        for close in reversed(self._closers):
            close()


def shared_environment(local: aws.LocalStack) -> dict[str, str]:
    """The environment every function shares; refuses a template where functions disagree on one."""
    shared: dict[str, str] = {}
    for lid, spec in tpl.functions(local.template).items():
        for key, value in local.function_environment(spec).items():
            if not key.startswith(PER_FUNCTION_PREFIX) and shared.setdefault(key, value) != value:
                raise ValueError(f"{lid} sets {key} differently from other functions; put it in Globals")
    return shared


def load_functions(local: aws.LocalStack) -> dict[str, lambdas.LocalFunction]:
    specs = tpl.functions(local.template)
    return {
        lid: lambdas.load(spec, str(local.ref(lid)), local.function_environment(spec))
        for lid, spec in specs.items()
    }


def _start_moto(host: str, port: int) -> tuple[MeteredMotoServer, str]:
    """moto, fresh and metered, with its DynamoDB transactions made fit for the stack; and its URL."""
    moto_dynamodb.apply()
    moto = MeteredMotoServer(meter.RequestMeter(), host, port)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()
    endpoint = f"http://{moto_host}:{moto_port}"
    # moto's state is per process: a stack started earlier in this process (tests do that) must not leak.
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
    return moto, endpoint


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    aws_port: int = 4566,
    parameters: Mapping[str, str] | None = None,
    run_consumers: bool = True,
    api_key: str | None = None,
    qbo_port: int = 3001,
    qbd_port: int = 0,
) -> RunningStack:
    """The stack on `port`; moto, the QuickBooks Online sandbox and the Desktop stand-ins on theirs (0 picks a
    free port). The Desktop stand-ins default to a free port so that stacks started side by side (tests, the
    benchmark) never meet there; `make run` asks for 3002."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto, endpoint = _start_moto(host, aws_port)
    os.environ.update(aws_environment(endpoint))
    lambdas.fresh_clients()
    meter.tag_requests()  # the functions' clients, made from here on, say which invocation sent each request

    try:
        server = serve(host, port)  # the template's URLs (OAuth redirect, Web Connector URL) embed its port
    except BaseException:
        moto.stop()
        raise
    try:
        qbo, qbd = _start_stand_ins(host, qbo_port, qbd_port)
    except BaseException:
        server.server_close()
        moto.stop()
        raise
    app = qbo.sandbox.add_app(LOCAL_QBO_CLIENT_ID, LOCAL_QBO_CLIENT_SECRET, [f"{server.url}/qbo/callback"])
    app.webhook_url = f"{server.url}/qbo/webhooks"
    app.verifier_token = aws.LOCAL_SECRETS["WebhookVerifierSecret"]["verifier_token"]
    try:
        local = aws.provision(
            boto3.Session(),
            parameters={"QboEnvironment": qbo.url, **(parameters or {})},
            api_base_url=server.url,
            secret_values={
                "QboAppSecret": {"client_id": LOCAL_QBO_CLIENT_ID, "client_secret": LOCAL_QBO_CLIENT_SECRET}
            },
        )
        os.environ.update(shared_environment(local))
        functions = load_functions(local)
        _, authorizers = tpl.http_api_auth(local.template)
        server.api = HttpApi(tpl.routes(local.template), authorizers, functions)
    except BaseException:
        server.server_close()
        qbd.stop()
        qbo.stop()
        moto.stop()
        raise
    api_url = server.url

    sqs = boto3.client("sqs")
    pollers = [
        consumers.QueuePoller(
            sqs,
            source,
            local.queue_url(source.queue_logical_id),
            local.resolver.attributes[(source.queue_logical_id, "Arn")],
            functions[source.function],
        )
        for source in tpl.queue_sources(local.template)
    ]
    runners = [consumers.ScheduleRunner(s, functions[s.function]) for s in tpl.schedules(local.template)]
    stack = RunningStack(
        api_url=api_url,
        aws_endpoint=endpoint,
        local=local,
        functions=functions,
        pollers=pollers,
        schedules=runners,
        qbo=qbo,
        qbd=qbd,
        aws_requests=moto.requests,
    )
    stack.api_key = issue_local_api_key(api_key)

    threading.Thread(target=server.serve_forever, name="http-api", daemon=True).start()
    stack._closers.append(moto.stop)
    stack._closers.append(qbo.stop)
    stack._closers.append(server.server_close)
    stack._closers.append(server.shutdown)
    stack._closers.append(qbd.stop)  # first: its Web Connectors still call the API
    if run_consumers:
        for worker in [*pollers, *runners]:
            threading.Thread(
                target=worker.run, args=(stack._stop,), daemon=True, name=type(worker).__name__
            ).start()
    return stack


def _start_stand_ins(
    host: str, qbo_port: int, qbd_port: int
) -> tuple[qbo_server.RunningSandbox, qbd_server.RunningDesktop]:
    """The QuickBooks Online sandbox and the Desktop stand-ins, both or neither."""
    qbo = qbo_server.start(host, qbo_port)
    try:
        qbd = qbd_server.start(host, qbd_port)
    except BaseException:
        qbo.stop()
        raise
    return qbo, qbd


def issue_local_api_key(plaintext: str | None) -> str:
    """A key for this run, stored (as its digest) the same way `make api-key` stores one for a deployment."""
    from qbsync.composition import container
    from qbsync.domain import apikeys
    from qbsync.usecases.apikeys import issue_api_key

    c = container()
    if plaintext:
        c.api_keys.add(
            apikeys.ApiKey(
                key_id="local", key_hash=apikeys.digest(plaintext), label="local", created_at=c.clock.now()
            )
        )
        return plaintext
    key, _ = issue_api_key(c.api_keys, c.clock, label="local")
    return key


@dataclass(frozen=True)
class DesktopDemo:
    tenant_id: str
    user_name: str
    password: str
    connector_id: str
    run_every_minutes: int


def start_desktop_demo(stack: RunningStack, *, run_on_schedule: bool = True) -> DesktopDemo:
    """A Desktop tenant whose Web Connector (simulated, on the demo company) logs in to this stack's /qbwc.

    The login is issued as the product issues one (POST /v1/tenants/{id}/web-connector), and the simulated Web
    Connector is set up from the .qwc and password it returns, as a tenant sets up the real one. The demo runs
    every minute: its sync settings say so before the .qwc is written.
    """
    from qbsync.composition import container
    from qbsync.domain.settings import SyncSettings
    from qbsync.domain.tenants import Edition
    from qbsync.usecases.settings import put_settings
    from qbsync.usecases.tenants import create_tenant

    c = container()
    create_tenant(
        c.tenants, c.clock, tenant_id=DEMO_QBD_TENANT, name=qbd_server.DEMO_COMPANY, edition=Edition.QBD
    )
    put_settings(
        c.tenants,
        c.tenant_settings,
        c.clock,
        tenant_id=DEMO_QBD_TENANT,
        settings=SyncSettings(
            web_connector_interval_minutes=DEMO_QBD_RUN_EVERY_MINUTES,
            default_income_account="Sales",  # the demo company's accounts, for items that name none
            default_expense_account="Cost of Goods Sold",
            default_asset_account="Inventory Asset",
        ),
    )
    issued = c.web_connector_logins.issue(DEMO_QBD_TENANT, stack.api_url)
    connector_id, connector = stack.qbd.desktop.add_connector(
        Qwc.parse(issued.qwc), issued.password, qbd_server.slug(qbd_server.DEMO_COMPANY)
    )
    if run_on_schedule:
        connector.start()
    return DesktopDemo(
        DEMO_QBD_TENANT, issued.user_name, issued.password, connector_id, issued.run_every_minutes
    )
