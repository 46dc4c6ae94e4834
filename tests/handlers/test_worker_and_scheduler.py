from __future__ import annotations

import copy
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from pydantic import ValidationError

from local.aws import LocalStack
from local.lambdas import LocalFunction
from qbsync.adapters.dynamodb import DynamoHeartbeatStore
from qbsync.domain.jobs import MATCH_JOB, Job, new_job
from qbsync.domain.match_results import MatchRun, RunState
from qbsync.domain.sync import SyncRecord, SyncState
from qbsync.domain.tenants import Edition, Tenant
from qbsync.usecases.health import WORKER
from tests.conftest import load_event


@pytest.fixture(autouse=True)
def acme(functions: dict[str, LocalFunction]) -> None:
    """The QuickBooks Online tenant whose sync jobs these tests run."""
    from qbsync.composition import container

    container().tenants.add(Tenant("acme", "Acme Books", Edition.QBO, datetime.now(UTC)))


def test_worker_records_the_heartbeat_of_a_job(
    functions: dict[str, LocalFunction], aws_env: LocalStack
) -> None:
    result = functions["SyncWorkerFunction"].invoke(load_event("sync_worker_heartbeat.json"))
    assert result == {"batchItemFailures": []}
    store = DynamoHeartbeatStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))
    assert store.last(WORKER) == datetime.fromisoformat("2026-11-23T11:00:00+00:00")


def test_worker_reports_exactly_the_records_that_failed(functions: dict[str, LocalFunction]) -> None:
    result = functions["SyncWorkerFunction"].invoke(load_event("sync_worker_partial_failure.json"))
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"},
            {"itemIdentifier": "9d0c1a3b-0000-4c1e-9a53-1b2c3d4e5f60"},
        ]
    }


def test_scheduler_puts_one_heartbeat_job_on_the_queue(functions: dict[str, LocalFunction]) -> None:
    result = functions["SchedulerFunction"].invoke(load_event("scheduler_heartbeat.json"))
    assert result["jobs_sent"] == 1
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=os.environ["JOBS_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    jobs = [Job.model_validate_json(m["Body"]) for m in messages]
    assert [(j.kind, j.id) for j in jobs] == [("heartbeat", result["job_ids"][0])]


def test_scheduler_refuses_an_unknown_task(functions: dict[str, LocalFunction]) -> None:
    with pytest.raises(ValidationError):
        functions["SchedulerFunction"].invoke({"task": "drop-tables"})


def _sync_job_event(
    tenant_id: str, receive_count: int, kind: str = "sync.run", **payload: Any
) -> dict[str, Any]:
    event = copy.deepcopy(load_event("sync_worker_heartbeat.json"))
    record = event["Records"][0]
    record["body"] = new_job(
        kind, datetime(2026, 11, 23, 11, tzinfo=UTC), tenant_id=tenant_id, **payload
    ).model_dump_json()
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    record["messageAttributes"]["kind"]["stringValue"] = kind
    return event


def _queue_counts() -> tuple[int, int]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=os.environ["JOBS_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesDelayed"]
    )


def test_a_sync_job_for_a_busy_tenant_is_put_back_with_a_delay(functions: dict[str, LocalFunction]) -> None:
    from qbsync.composition import container

    assert container().sync_runs.acquire("acme", "another-worker", datetime.now(UTC), timedelta(minutes=3))
    result = functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 1))
    assert result == {"batchItemFailures": []}
    assert _queue_counts() == (0, 1)  # the same work, delayed: no receive count spent, no sleep


def test_a_record_stored_under_older_rules_fails_alone_and_the_run_goes_on(
    functions: dict[str, LocalFunction],
) -> None:
    from qbsync.composition import container

    now = datetime.now(UTC)
    # A record stored by an older version, which this one cannot read (an invoice without lines).
    broken = SyncRecord("acme", "invoice", "inv-1", {"customer_id": "c-1"}, SyncState.PENDING, now)
    container().record_store.save(broken, None, None)
    result = functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 1))
    assert result == {"batchItemFailures": []}  # the job is done: nothing for SQS to deliver again
    stored = container().record_store.get("acme", "invoice", "inv-1")
    assert stored is not None
    assert stored.state is SyncState.FAILED
    assert stored.failure is not None
    assert (stored.failure.code, stored.failure.field, stored.failure.actions) == (
        "invalid_record",
        "lines",
        ("edit",),
    )
    assert _queue_counts() == (0, 0)  # no job cycling for it


def _corrupt_settings(tenant_id: str) -> None:
    """Store a settings document this version cannot read, as a bad manual edit of the table would: every
    run of the tenant raises before it sends anything."""
    from qbsync.composition import container

    boto3.client("dynamodb").put_item(
        TableName=container().settings.table_name,
        Item={
            "pk": {"S": f"TENANT#{tenant_id}"},
            "sk": {"S": "SETTINGS#v000001"},
            "tenant_id": {"S": tenant_id},
            "version": {"N": "1"},
            "updated_at": {"S": "2026-11-23T11:00:00.000000Z"},
            "settings": {"M": {"send_mode": {"S": "sometimes"}}},
        },
    )


def test_a_sync_job_failing_for_the_last_time_fails_its_records_with_the_reason(
    functions: dict[str, LocalFunction], aws_env: LocalStack
) -> None:
    from qbsync.composition import container

    now = datetime.now(UTC)
    container().record_store.save(
        SyncRecord("acme", "customer", "c-1", {"display_name": "Ada"}, SyncState.PENDING, now), None, None
    )
    _corrupt_settings("acme")
    with pytest.raises(BatchProcessingError):  # the whole batch failed: SQS delivers it again
        functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 4))
    assert container().record_store.get("acme", "customer", "c-1").state is SyncState.PENDING  # type: ignore[union-attr]
    with pytest.raises(BatchProcessingError):  # the last receive: next stop, the dead-letter queue
        functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 5))
    stored = container().record_store.get("acme", "customer", "c-1")
    assert stored is not None
    assert stored.state is SyncState.FAILED
    assert stored.failure is not None
    assert stored.failure.code == "internal_error"
    assert "ValidationError" in stored.failure.message
    assert stored.failure.actions == ("send_again",)
    assert _queue_counts() == (0, 0)  # the crashed job itself comes back; no other was queued


def test_a_crashing_run_holds_the_request_so_pushes_queue_no_more_jobs(
    functions: dict[str, LocalFunction],
) -> None:
    from qbsync.composition import container

    now = datetime.now(UTC)
    container().record_store.save(
        SyncRecord("acme", "customer", "c-1", {"display_name": "Ada"}, SyncState.PENDING, now), None, None
    )
    _corrupt_settings("acme")
    with pytest.raises(BatchProcessingError):
        functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 1))
    for _ in range(5):  # runs asked for while the crashed job waits to be delivered again
        container().run_requests.request("acme")
    assert _queue_counts() == (0, 0)


def test_scheduler_fans_the_payments_pull_out_per_connected_tenant(
    functions: dict[str, LocalFunction],
) -> None:
    result = functions["SchedulerFunction"].invoke(load_event("scheduler_payments_pull.json"))
    assert result == {"task": "payments_pull", "jobs_sent": 0}  # nobody is connected yet


def test_a_sync_job_of_a_desktop_tenant_is_dropped_without_touching_its_records(
    functions: dict[str, LocalFunction],
) -> None:
    from qbsync.composition import container

    now = datetime.now(UTC)
    container().tenants.add(Tenant("desk", "Desk Books", Edition.QBD, now))
    container().record_store.save(
        SyncRecord("desk", "customer", "c-1", {"display_name": "Ada"}, SyncState.PENDING, now), None, None
    )
    result = functions["SyncWorkerFunction"].invoke(_sync_job_event("desk", 1))
    assert result == {"batchItemFailures": []}
    stored = container().record_store.get("desk", "customer", "c-1")
    assert stored is not None
    assert (stored.state, stored.history) == (SyncState.PENDING, [])  # the Online engine never ran for it
    assert _queue_counts() == (0, 0)


def test_a_match_job_that_fails_for_the_last_time_fails_its_run_so_another_can_be_asked_for(
    functions: dict[str, LocalFunction],
) -> None:
    from qbsync.composition import container

    now = datetime.now(UTC)
    matches = container().matches
    assert matches.store.save_run("acme", MatchRun("r-1", ("customer",), RunState.QUEUED, now, now))
    _corrupt_settings("acme")  # matching reads the settings: every try raises
    with pytest.raises(BatchProcessingError):
        functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 4, MATCH_JOB, run_id="r-1"))
    assert matches.run("acme").state is RunState.MATCHING  # type: ignore[union-attr]
    with pytest.raises(BatchProcessingError):
        functions["SyncWorkerFunction"].invoke(_sync_job_event("acme", 5, MATCH_JOB, run_id="r-1"))
    failed = matches.run("acme")
    assert failed is not None
    assert failed.state is RunState.FAILED
    assert failed.error is not None
    assert "ValidationError" in failed.error
