"""What an operator gets from the template: every function sends its metrics under the stack's namespace,
the dashboard and the alarms are built from those metrics, and every alarm has its runbook entry in
docs/operations.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local import template as tpl
from local.aws import LocalStack
from local.lambdas import LocalFunction
from qbsync.domain import metrics
from qbsync.usecases import health
from tests.conftest import load_event
from tests.unit.published_metrics import Published

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = tpl.load()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = tpl.resources_of_type(TEMPLATE, "AWS::Serverless::Function")
ALARMS = tpl.resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
NAMESPACE = {"Fn::Sub": "qbsync/${AWS::StackName}"}
# The metrics the functions send: qbsync's own, and Powertools' cold starts, with their dimensions.
SENT = {m.name: m.dimensions for m in metrics.ALL} | {"ColdStart": ("function_name", "service")}
RUNBOOK = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
# One real-shaped event per function (events/), each answered without an error.
SAMPLE_EVENT = {
    "ApiFunction": "api_health.json",
    "AuthorizerFunction": "authorizer_request.json",
    "ConnectFunction": "connect_page.json",
    "QboWebhookFunction": "qbo_webhook_cloudevents.json",
    "QbwcFunction": "qbwc_server_version.json",
    "SchedulerFunction": "scheduler_heartbeat.json",
    "SyncWorkerFunction": "sync_worker_heartbeat.json",
}


# ---------------------------------------------------------------- every function sends metrics


def test_the_functions_send_their_metrics_to_the_stacks_own_namespace() -> None:
    assert (
        TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
        == NAMESPACE
    )
    own = [lid for lid, f in FUNCTIONS.items() if "POWERTOOLS_METRICS_NAMESPACE" in _variables(f)]
    assert own == [], "no function sends its metrics anywhere else"


def _variables(function: dict[str, Any]) -> dict[str, Any]:
    return dict(function["Properties"].get("Environment", {}).get("Variables", {}))


def test_every_function_of_the_template_has_a_sample_event_here() -> None:
    assert set(SAMPLE_EVENT) == set(FUNCTIONS)


@pytest.mark.parametrize("function", sorted(SAMPLE_EVENT))
def test_every_function_sends_its_metrics_under_the_stacks_namespace_once_per_invocation(
    function: str,
    functions: dict[str, LocalFunction],
    aws_env: LocalStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Invoked as Lambda invokes it, the function prints its metrics (EMF) at the end of each invocation:
    its cold start at the first, under the namespace the template gives this stack."""
    capsys.readouterr()
    for _ in range(2):
        functions[function].invoke(load_event(SAMPLE_EVENT[function]))
    published = Published.read(capsys.readouterr().out)
    assert published.documents, f"{function} published no metrics: is its handler @metered?"
    assert published.namespaces() == {f"qbsync/{aws_env.name}"}
    assert published.values("ColdStart", function_name=functions[function].name) == [1]
    dimensions = {
        key
        for doc in published.documents
        for directive in doc["_aws"]["CloudWatchMetrics"]
        for dimension_set in directive["Dimensions"]
        for key in dimension_set
    }
    assert dimensions <= {key for keys in SENT.values() for key in keys}  # never a tenant id


def test_the_functions_hand_their_use_cases_the_metrics_they_publish(
    functions: dict[str, LocalFunction], capsys: pytest.CaptureFixture[str]
) -> None:
    """The composition root gives the use cases the metrics of the invocation running them."""
    capsys.readouterr()
    functions["QboWebhookFunction"].invoke(load_event("qbo_webhook_cloudevents.json"))
    functions["SyncWorkerFunction"].invoke(load_event("sync_worker_heartbeat.json"))
    published = Published.read(capsys.readouterr().out)
    assert published.total("WebhookDeliveries", outcome="accepted") == 1
    assert published.total("Heartbeats") == 1


# ---------------------------------------------------------------- the dashboard and the alarms


def _dashboard() -> dict[str, Any]:
    """The dashboard's body as CloudFormation hands it to CloudWatch, for a stack named qbsync-test."""
    attributes: dict[tuple[str, str], Any] = {
        (lid, "Arn"): f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{lid}" for lid in ALARMS
    }
    attributes[("JobsDeadLetterQueue", "QueueName")] = "qbsync-test-JobsDeadLetterQueue"
    resolve = tpl.Resolver({"AWS::StackName": "qbsync-test", "AWS::Region": "us-east-1"}, attributes)
    body = resolve(RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"])
    return dict(json.loads(body))


SEARCH = re.compile(r"SEARCH\('\{\"([^\"]+)\",([^}]*)\} MetricName=\"(\w+)\"")


def _graphed(dashboard: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(namespace, metric, dimension names) of every line of every graph; a search by its schema."""
    lines = []
    for widget in dashboard["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], dict):
                found = SEARCH.match(line[0]["expression"])
                assert found, line[0]["expression"]
                namespace, schema, name = found.groups()
                lines.append((namespace, name, tuple(schema.split(","))))
            else:
                plain = [part for part in line if isinstance(part, str)]
                lines.append((plain[0], plain[1], tuple(plain[2::2])))
    return lines


def test_the_dashboard_graphs_every_metric_the_functions_send_and_nothing_else_of_theirs() -> None:
    graphed = _graphed(_dashboard())
    ours = [(name, dims) for namespace, name, dims in graphed if namespace == "qbsync/qbsync-test"]
    assert {name for name, _ in ours} == set(SENT)
    for name, dims in ours:
        assert SENT[name][: len(dims)] == dims, f"{name} is not published by {dims}"
    assert {namespace for namespace, _, _ in graphed} == {"qbsync/qbsync-test", "AWS/SQS"}


def test_the_dashboard_shows_the_state_of_every_alarm() -> None:
    (widget,) = [w for w in _dashboard()["widgets"] if w["type"] == "alarm"]
    assert sorted(arn.rpartition(":")[2] for arn in widget["properties"]["alarms"]) == sorted(ALARMS)


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[Any, str, tuple[str, ...]]]:
    props = alarm["Properties"]
    if "MetricName" in props:
        dims = tuple(d["Name"] for d in props.get("Dimensions", []))
        return [(props["Namespace"], props["MetricName"], dims)]
    found = [query["MetricStat"]["Metric"] for query in props["Metrics"] if "MetricStat" in query]
    return [
        (m["Namespace"], m["MetricName"], tuple(d["Name"] for d in m.get("Dimensions", []))) for m in found
    ]


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_on_qbsyncs_metrics_reads_them_where_the_functions_send_them(alarm: str) -> None:
    for namespace, name, dims in _alarm_metrics(ALARMS[alarm]):
        if isinstance(namespace, str) and namespace.startswith("AWS/"):
            continue
        assert namespace == NAMESPACE
        assert name in SENT
        assert SENT[name][: len(dims)] == dims, f"{alarm}: {name} is not published by {dims}"


def test_the_missing_heartbeat_alarm_fires_when_health_calls_the_worker_stale() -> None:
    props = ALARMS["HeartbeatMissingAlarm"]["Properties"]
    assert props["Period"] * props["EvaluationPeriods"] == health.STALE_AFTER.total_seconds()
    assert props["TreatMissingData"] == "breaching"  # no heartbeat at all is no data at all


# ---------------------------------------------------------------- the runbook


def _entries() -> dict[str, str]:
    """The runbook's alarm entries: the text under each `### <LogicalId>` heading."""
    parts = re.split(r"^### (\S+)\n", RUNBOOK.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0], flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_has_a_runbook_entry_its_notification_links_to(alarm: str) -> None:
    entry = _entries().get(alarm)
    assert entry is not None, f"docs/operations.md has no '### {alarm}' entry"
    assert "**Means:**" in entry
    assert "**Do:**" in entry
    assert f"docs/operations.md#{alarm.lower()}" in ALARMS[alarm]["Properties"]["AlarmDescription"]


def test_the_runbook_describes_no_alarm_the_template_does_not_have() -> None:
    assert set(_entries()) <= set(ALARMS)


def test_the_runbook_has_its_dead_letter_queue_section() -> None:
    assert "\n## Dead-letter queue\n" in RUNBOOK
