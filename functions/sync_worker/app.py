"""SyncWorkerFunction: consumes the jobs queue; failed records are reported back and retried, then DLQ'd."""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from qbsync.composition import container
from qbsync.domain.jobs import Job
from qbsync.observability import function_logger
from qbsync.worker import MAX_RECEIVES, job_handlers, on_last_receive, run_job

logger = function_logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    job = Job.model_validate_json(record.body)
    logger.append_keys(job_id=job.id, job_kind=job.kind, tenant_id=job.tenant_id)
    try:
        run_job(job_handlers(container()), job)
    except Exception as error:
        if int(record.attributes.approximate_receive_count) >= MAX_RECEIVES:
            on_last_receive(container(), job, error)
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
