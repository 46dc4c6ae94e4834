"""Unauthenticated system routes."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from qbsync import __version__
from qbsync.api.handed import Handed
from qbsync.api.models import Health, WorkerStatus
from qbsync.usecases.health import worker_health

router = Router()  # type: ignore[no-untyped-call]


@router.get("/health", summary="Liveness, storage, and when the background worker last ran", tags=["system"])
def health(c: Handed) -> Health:
    worker = worker_health(c.heartbeats, c.clock)
    return Health(
        status="degraded" if worker.stale else "ok",
        version=__version__,
        worker=WorkerStatus(
            last_heartbeat_at=worker.last_heartbeat_at, age_seconds=worker.age_seconds, stale=worker.stale
        ),
    )
