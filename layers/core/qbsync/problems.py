"""RFC 9457 problem bodies for functions that answer API Gateway without a Powertools resolver."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"


def problem_response(status: HTTPStatus, detail: str) -> dict[str, Any]:
    body = {"type": "about:blank", "title": status.phrase, "status": status.value, "detail": detail}
    return {"statusCode": status.value, "headers": {"content-type": PROBLEM_JSON}, "body": json.dumps(body)}
