"""The metrics adapter (qbsync/metrics.py): what an invocation records is published once, when it ends, as
CloudWatch's embedded metric format, under the stack's namespace; a tenant id is never a dimension."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from qbsync import metrics as metrics_module
from qbsync.domain.metrics import HEARTBEATS, RECORDS_FAILED, RECORDS_SYNCED, SYNC_RUN_DURATION
from qbsync.metrics import EmfMetrics, metered
from tests.unit.published_metrics import FUNCTION_NAME, Published, during_an_invocation

NAMESPACE = "qbsync/qbsync-test"


@pytest.fixture(autouse=True)
def _namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "sync-worker")


def test_an_invocation_publishes_its_counts_once_at_its_end_summed_by_dimensions_and_tenant() -> None:
    metrics = EmfMetrics()
    printed_during: list[str] = []

    def work() -> None:
        out = io.StringIO()
        with redirect_stdout(out):
            for _ in range(3):
                metrics.add(RECORDS_SYNCED, tenant_id="acme-42", edition="qbo")
            metrics.add(RECORDS_SYNCED, 2, tenant_id="globex-7", edition="qbo")
            metrics.add(RECORDS_FAILED, tenant_id="acme-42", edition="qbo", code="6240")
            metrics.add(RECORDS_FAILED, tenant_id="acme-42", edition="qbo", code="6240")
        printed_during.append(out.getvalue())

    published = during_an_invocation(work)
    assert printed_during == [""]  # nothing before the invocation ends
    assert published.namespaces() == {NAMESPACE}
    assert published.values("RecordsSynced", edition="qbo") == [3, 2]  # one document per tenant
    assert published.total("RecordsFailed", edition="qbo", code="6240") == 2
    assert published.properties("tenant_id") == {"acme-42", "globex-7"}


def test_a_figure_is_published_at_each_prefix_of_its_dimensions_and_never_by_tenant() -> None:
    """The total (no dimension) is what an alarm watches; a tenant id as a dimension would make one metric
    per tenant."""
    metrics = EmfMetrics()
    published = during_an_invocation(
        lambda: metrics.add(RECORDS_FAILED, tenant_id="acme-42", edition="qbd", code="3100")
    )
    assert published.dimension_sets("RecordsFailed") == [[], ["edition"], ["edition", "code"]]
    assert published.dimension_sets("ColdStart") == [["function_name", "service"]]
    every_set = [
        dims
        for doc in published.documents
        for d in doc["_aws"]["CloudWatchMetrics"]
        for dims in d["Dimensions"]
    ]
    assert not [dims for dims in every_set if "tenant_id" in dims]
    assert published.properties("tenant_id") == {"acme-42"}


def test_a_duration_keeps_each_value_where_a_count_is_summed() -> None:
    metrics = EmfMetrics()

    def work() -> None:
        metrics.add(SYNC_RUN_DURATION, 12.5, tenant_id="acme-42", edition="qbo")
        metrics.add(SYNC_RUN_DURATION, 40.0, tenant_id="acme-42", edition="qbo")
        metrics.add(HEARTBEATS)
        metrics.add(HEARTBEATS)

    published = during_an_invocation(work)
    assert published.values("SyncRunDuration", edition="qbo") == [12.5, 40.0]
    assert published.values("Heartbeats") == [2]


def test_the_first_invocation_of_a_handler_counts_a_cold_start_and_the_next_ones_do_not() -> None:
    handler = metered(lambda _event, _context: None)
    context = SimpleNamespace(function_name=FUNCTION_NAME)
    printed = []
    for _ in range(3):
        out = io.StringIO()
        with redirect_stdout(out):
            handler({}, context)
        printed.append(Published.read(out.getvalue()))
    assert [p.total("ColdStart", function_name=FUNCTION_NAME, service="sync-worker") for p in printed] == [
        1,
        0,
        0,
    ]
    assert printed[0].namespaces() == {NAMESPACE}


def test_what_an_invocation_recorded_is_published_when_its_handler_raises() -> None:
    metrics = EmfMetrics()

    def fails(_event: object, _context: object) -> None:
        metrics.add(RECORDS_FAILED, tenant_id="acme-42", edition="qbo", code="internal_error")
        raise RuntimeError("the job failed")

    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(RuntimeError):
        metered(fails)({}, SimpleNamespace(function_name=FUNCTION_NAME))
    assert Published.read(out.getvalue()).total("RecordsFailed", code="internal_error") == 1


def test_a_figure_recorded_outside_an_invocation_is_published_at_once() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        EmfMetrics().add(HEARTBEATS)
    published = Published.read(out.getvalue())
    assert published.total("Heartbeats") == 1
    assert published.namespaces() == {NAMESPACE}


@pytest.mark.parametrize(
    "dimensions",
    [{}, {"edition": "qbo"}, {"edition": "qbo", "code": "1", "tenant_id_as_dimension": "acme-42"}],
    ids=["none", "too-few", "one-too-many"],
)
def test_a_figure_without_exactly_its_metrics_dimensions_is_refused(dimensions: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="RecordsFailed takes the dimensions"):
        EmfMetrics().add(RECORDS_FAILED, **dimensions)


def test_an_empty_or_overlong_dimension_value_is_still_one_cloudwatch_accepts() -> None:
    metrics = EmfMetrics()

    def work() -> None:
        metrics.add(RECORDS_FAILED, edition="qbd", code="")
        metrics.add(RECORDS_FAILED, edition="qbd", code="x" * 2000)

    published = during_an_invocation(work)
    codes = {doc["code"] for doc in published.documents if "RecordsFailed" in doc}
    assert codes == {"none", "x" * 100}


def test_importing_the_module_every_handler_imports_loads_no_powertools_metrics() -> None:
    """A cold start's import stays as it was: Powertools' metrics load with the first publication."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, qbsync.metrics; print(sorted(m for m in sys.modules "
         "if m.startswith(('aws_lambda_powertools.metrics', 'qbsync.domain'))))"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(Path(metrics_module.__file__).parents[1])},
    ).stdout  # fmt: skip
    assert loaded.strip() == "[]"
