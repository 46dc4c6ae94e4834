"""`Idempotency-Key` for the host app's writes, with Powertools idempotency on the stack's table.

The key is scoped to the tenant and the route, so two tenants (or two routes) never share an answer; the body
is checked too, so reusing a key for a different request is refused instead of answered with the old result.
Answers are kept for 24 hours (the table's TTL attribute removes them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from qbsync.domain.errors import ConflictError, FieldProblem, InvalidInputError

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
TTL_SECONDS = 24 * 3600
_CONFIG = IdempotencyConfig(
    event_key_jmespath="[tenant_id, route, key]",
    payload_validation_jmespath="body_digest",
    expires_after_seconds=TTL_SECONDS,
    raise_on_no_idempotency_key=True,
)

Answer = dict[str, Any]  # {"status": int, "body": JSON-ready value}


def register_lambda_context(context: Any) -> None:
    _CONFIG.register_lambda_context(context)


def run_once(
    store: DynamoDBPersistenceLayer,
    *,
    tenant_id: str,
    route: str,
    key: str | None,
    body: Any,
    work: Callable[[], Answer],
) -> Answer:
    """`work()` once per (tenant, route, key); a retry with the same key and body gets the first answer."""
    if key is None:
        return work()
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def once(request: dict[str, str]) -> Answer:  # noqa: ARG001 - Powertools keys the call on `request`
        return work()

    guarded = idempotent_function(
        once, data_keyword_argument="request", persistence_store=store, config=_CONFIG
    )
    request = {"tenant_id": tenant_id, "route": route, "key": key, "body_digest": digest}
    try:
        return guarded(request=request)  # type: ignore[no-any-return]
    except IdempotencyValidationError:
        raise InvalidInputError(
            f"The {HEADER} {key!r} was used for a different request.",
            [FieldProblem(HEADER, "Use a new key for a new request.", "idempotency_key_reused")],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ConflictError(
            f"A request with {HEADER} {key!r} is still being handled; retry in a few seconds."
        ) from None
