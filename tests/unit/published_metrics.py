"""What a function's invocation publishes as CloudWatch metrics: the embedded-metric-format documents that
`qbsync.metrics.metered` prints, read back by metric and dimensions as CloudWatch would read them."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from qbsync.metrics import metered

FUNCTION_NAME = "qbsync-test-SomeFunction"


@dataclass(frozen=True)
class Published:
    documents: list[dict[str, Any]]

    @classmethod
    def read(cls, stdout: str) -> Published:
        """The EMF documents among the lines (the others are log lines)."""
        lines = (line for line in stdout.splitlines() if line.startswith("{"))
        return cls([doc for doc in map(json.loads, lines) if "_aws" in doc])

    def _with(self, name: str, dimensions: dict[str, str]) -> list[dict[str, Any]]:
        return [
            doc
            for doc in self.documents
            if name in doc and all(doc.get(key) == value for key, value in dimensions.items())
        ]

    def values(self, name: str, **dimensions: str) -> list[float]:
        """Every value of `name` in the documents whose dimensions have these values (none given: all)."""
        return [value for doc in self._with(name, dimensions) for value in doc[name]]

    def total(self, name: str, **dimensions: str) -> float:
        return sum(self.values(name, **dimensions))

    def dimension_sets(self, name: str) -> list[list[str]]:
        """The dimension sets `name` is published with, over every document that has it."""
        return [
            dimensions
            for doc in self._with(name, {})
            for directive in doc["_aws"]["CloudWatchMetrics"]
            if name in [m["Name"] for m in directive["Metrics"]]
            for dimensions in directive["Dimensions"]
        ]

    def namespaces(self) -> set[str]:
        return {d["Namespace"] for doc in self.documents for d in doc["_aws"]["CloudWatchMetrics"]}

    def properties(self, key: str) -> set[Any]:
        """The values a property (tenant_id: never a dimension) takes in the documents that carry it."""
        return {doc[key] for doc in self.documents if key in doc}


def during_an_invocation(work: Callable[[], object]) -> Published:
    """Run `work` as one invocation of a function whose handler is `metered`; what it published."""
    out = io.StringIO()
    handler = metered(lambda _event, _context: work())
    with redirect_stdout(out):
        handler({}, SimpleNamespace(function_name=FUNCTION_NAME))
    return Published.read(out.getvalue())
