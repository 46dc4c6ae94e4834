"""SyncWorkerFunction: consumes the jobs queue; failed records are reported back and retried, then DLQ'd.
Its import loads its decorators only (`make bench`: ≤ 300 ms); the worker (composition root, engine, adapters,
boto3) loads at the first batch, the X-Ray SDK with the tracer then."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbsync.metrics import metered
from qbsync.observability import function_logger, log_keys, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = function_logger()


def record_handler(record: SQSRecord) -> None:
    from qbsync.composition import container
    from qbsync.domain.jobs import Job
    from qbsync.worker import MAX_RECEIVES, job_handlers, job_log_keys, on_last_receive, run_job

    job = Job.model_validate_json(record.body)
    with log_keys(**job_log_keys(container(), job)):
        try:
            run_job(job_handlers(container()), job)
        except Exception as error:
            if int(record.attributes.approximate_receive_count) >= MAX_RECEIVES:
                on_last_receive(container(), job, error)
            raise


@logger.inject_lambda_context
@metered
@traced()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)  # a batch's state; cheap to make
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
