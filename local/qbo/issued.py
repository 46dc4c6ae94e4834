"""`GET /_sandbox/issued`: every authorization code and token the sandbox has issued.

For tests that prove no secret reaches a log: they collect these and search the logs for them.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from local.qbo.faults import json_response
from local.qbo.state import Sandbox

bp = Blueprint("issued", __name__, url_prefix="/_sandbox")


@bp.get("/issued")
def issued() -> Response:
    sb: Sandbox = current_app.config["SANDBOX"]
    with sb.lock:
        return json_response(
            200,
            {
                "codes": list(sb.grants),
                "access_tokens": list(sb.access_tokens),
                "refresh_tokens": list(sb.refresh_tokens),
                "client_secrets": [app.client_secret for app in sb.apps.values()],
            },
        )
