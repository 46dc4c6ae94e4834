"""SchedulerFunction: invoked by EventBridge Scheduler with `{"task": ...}`; fans work out onto the queue.

Its import loads its decorators only (`make bench` holds it to 300 ms over a bare interpreter); the
tasks (the composition root and boto3) load at the first call, the X-Ray SDK with the tracer then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbsync.metrics import metered
from qbsync.observability import function_logger, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()


@logger.inject_lambda_context
@metered
@traced()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from qbsync.composition import container
    from qbsync.scheduler import ScheduledTask, run_task

    return run_task(container(), ScheduledTask.model_validate(event))
