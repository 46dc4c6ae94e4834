"""Metrics for operators: the domain's `Metrics` port in CloudWatch's embedded metric format (EMF), and the
decorator on every function's handler that publishes what an invocation recorded.

A use case records through the port (`EmfMetrics.add`, built by the composition root) into the invocation
running on its thread; `metered` publishes it once, when the invocation ends, as JSON lines on stdout that
CloudWatch Logs turns into metrics: one line per set of dimensions and tenant (the tenant id a property of
the line, never a dimension). A counter is summed over the invocation; a duration keeps each value. The
function's first invocation also sends Powertools' ColdStart metric (dimensions function_name and service).

Every line goes to the namespace in POWERTOOLS_METRICS_NAMESPACE (template.yaml Globals: qbsync/<stack name>),
read when the handler is decorated, as Powertools reads its variables when its utilities are made. Powertools'
metrics are imported at the first publication, not with the handler, so no cold start's import grows. Its
`Metrics` class is not used: its instances share one set of metrics and dimensions, where each figure here
has dimensions of its own and the local stack runs every function in one process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the handler imports this module: the domain's metrics load with the first figure
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    from qbsync.domain.metrics import Metric

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_NAMESPACE = "qbsync"
TENANT_PROPERTY = "tenant_id"
# CloudWatch takes a dimension value of 1 to 1,024 characters (EMF specification, "Target members"); qbsync's
# are short words and codes, cut well below that.
DIMENSION_VALUE_MAX = 100

Dimensions = tuple[tuple[str, str], ...]  # (name, value), in the metric's order


class _Recorded:
    """What one invocation recorded: by dimensions and tenant, each metric's values."""

    def __init__(self) -> None:
        self.figures: dict[tuple[Dimensions, str | None], dict[Metric, list[float]]] = {}

    def add(self, metric: Metric, value: float, dimensions: Dimensions, tenant_id: str | None) -> None:
        self.figures.setdefault((dimensions, tenant_id), {}).setdefault(metric, []).append(value)


_recording: ContextVar[_Recorded | None] = ContextVar("qbsync_metrics", default=None)


class EmfMetrics:
    """The `Metrics` port (domain/metrics.py). A figure recorded outside an invocation (a script) is published
    at once."""

    def add(
        self, metric: Metric, value: float = 1, *, tenant_id: str | None = None, **dimensions: str
    ) -> None:
        if set(dimensions) != set(metric.dimensions):
            raise ValueError(
                f"{metric.name} takes the dimensions {metric.dimensions}, not {tuple(dimensions)}."
            )
        pairs = tuple((name, _dimension_value(dimensions[name])) for name in metric.dimensions)
        recorded = _recording.get()
        if recorded is not None:
            recorded.add(metric, value, pairs, tenant_id)
            return
        alone = _Recorded()
        alone.add(metric, value, pairs, tenant_id)
        _publish(alone, os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE)


def _dimension_value(value: str) -> str:
    return " ".join(value.split())[:DIMENSION_VALUE_MAX] or "none"


Handler = Callable[[Any, Any], Any]


def metered(handler: Handler) -> Handler:
    """The handler, its invocation's metrics published once when it ends (returned or raised), and its first
    invocation counted as a cold start."""
    namespace = os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
    service = os.environ.get(SERVICE_ENV) or None
    cold: list[bool] = [True]

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        recorded = _Recorded()
        token = _recording.set(recorded)
        try:
            return handler(event, context)
        finally:
            _recording.reset(token)
            _publish(recorded, namespace)
            if cold:
                cold.clear()
                _provider()(namespace=namespace, service=service).add_cold_start_metric(context)

    return run


def _publish(recorded: _Recorded, namespace: str) -> None:
    """One EMF line per (dimensions, tenant), its metrics published at each prefix of their dimensions: the
    total first, then by the first dimension, and so on (domain/metrics.py)."""
    from qbsync.domain.metrics import Unit

    for (dimensions, tenant_id), figures in recorded.figures.items():
        emf = _provider()(namespace=namespace, service="")  # "": no service dimension, only the metric's own
        for end in range(1, len(dimensions) + 1):
            emf.add_dimensions(**dict(dimensions[:end]))
        if tenant_id is not None:
            emf.add_metadata(TENANT_PROPERTY, tenant_id)
        for metric, values in figures.items():
            for value in [sum(values)] if metric.unit is Unit.COUNT else values:
                emf.add_metric(name=metric.name, unit=metric.unit.value, value=value)
        emf.flush_metrics()


def _provider() -> type[AmazonCloudWatchEMFProvider]:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    return AmazonCloudWatchEMFProvider
