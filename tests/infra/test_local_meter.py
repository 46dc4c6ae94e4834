"""The local stack's request meter: requests reaching moto, counted by operation and by who sent them."""

from __future__ import annotations

from collections import Counter

import boto3

from local import meter
from local.stack import MeteredMotoServer

LIST_TABLES = "DynamoDB_20120810.ListTables"


def test_requests_are_counted_at_the_endpoint_by_operation_and_origin() -> None:
    requests = meter.RequestMeter()
    server = MeteredMotoServer(requests, "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        session = boto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        )
        meter.tag_requests(session)
        dynamodb = session.client("dynamodb", endpoint_url=f"http://{host}:{port}")
        sqs = session.client("sqs", endpoint_url=f"http://{host}:{port}")
        with meter.origin("ApiFunction POST /v1/tenants/{tenant_id}/records/{record_type}"):
            dynamodb.list_tables()
            with meter.origin("ApiFunction GET /v1/tenants/{tenant_id}/records/{record_type}"):
                dynamodb.list_tables()
            dynamodb.list_tables()
        dynamodb.list_tables()
        sqs.list_queues()
    finally:
        server.stop()
    counts = requests.snapshot()
    assert counts[("ApiFunction POST /v1/tenants/{tenant_id}/records/{record_type}", LIST_TABLES)] == 2
    assert counts[("ApiFunction GET /v1/tenants/{tenant_id}/records/{record_type}", LIST_TABLES)] == 1
    assert counts[("", LIST_TABLES)] == 1
    assert meter.dynamodb_operations(counts) == Counter({"ListTables": 4})
    polled = meter.dynamodb_operations(counts, leave_out=lambda origin: " GET " in origin)
    assert polled == Counter({"ListTables": 3})  # SQS is not DynamoDB; the GET's request is left out
