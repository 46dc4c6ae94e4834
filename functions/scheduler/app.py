"""SchedulerFunction: invoked by EventBridge Scheduler with `{"task": ...}`; fans work out onto the queue."""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.observability import function_logger
from qbsync.scheduler import ScheduledTask, run_task

logger = function_logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=ScheduledTask)
def lambda_handler(event: ScheduledTask, context: LambdaContext) -> dict[str, Any]:
    return run_task(container(), event)
