"""The sandbox as an app and a server: `make run` starts it on http://127.0.0.1:3001."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from local.qbo import accounting, controls, issued, oauth, webhooks
from local.qbo.state import Sandbox

DEFAULT_COMPANY = "Sandbox Company_US_1"
DEFAULT_REALM = "9341453009463815"


def create_app(sb: Sandbox) -> Flask:
    app = Flask("qbo-sandbox")
    app.config["SANDBOX"] = sb
    app.register_blueprint(oauth.bp)
    app.register_blueprint(accounting.bp)
    app.register_blueprint(controls.bp)
    app.register_blueprint(issued.bp)
    return app


@dataclass
class RunningSandbox:
    sandbox: Sandbox
    server: BaseWSGIServer
    url: str
    webhooks: webhooks.WebhookSender

    def stop(self) -> None:
        self.webhooks.stop()
        self.server.shutdown()
        self.server.server_close()


def start(
    host: str = "127.0.0.1",
    port: int = 3001,
    sb: Sandbox | None = None,
    webhook_settings: webhooks.Settings | None = None,
) -> RunningSandbox:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sb = sb or Sandbox()
    if not sb.companies:
        sb.add_company(DEFAULT_COMPANY, DEFAULT_REALM)
    server = make_server(host, port, create_app(sb), threaded=True)
    threading.Thread(target=server.serve_forever, name="qbo-sandbox", daemon=True).start()
    # Changes reach each connected app's webhook URL, as Intuit sends them.
    sender = webhooks.attach(sb, webhook_settings)
    return RunningSandbox(sb, server, f"http://{host}:{server.server_port}", sender)
