from __future__ import annotations

from typing import TYPE_CHECKING

from qbsync.domain.jobs import Job

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=job.model_dump_json(),
            DelaySeconds=delay_seconds,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": job.kind}},
        )
