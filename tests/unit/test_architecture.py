"""Dependencies point one way: functions → use cases → domain. The domain imports no AWS, HTTP or XML."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "qbsync"
FORBIDDEN_IN_DOMAIN = {
    "boto3",
    "botocore",
    "httpx",
    "requests",
    "lxml",
    "aws_lambda_powertools",
    "intuitlib",
    "moto",
    "zeep",
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_domain_imports_no_infrastructure(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_roots(path)}
    assert not roots & FORBIDDEN_IN_DOMAIN
    assert not {
        n
        for n in imported_roots(path)
        if n.startswith(("qbsync.adapters", "qbsync.usecases", "qbsync.api", "qbsync.composition"))
    }


@pytest.mark.parametrize("path", sorted((PACKAGE / "usecases").rglob("*.py")), ids=lambda p: p.name)
def test_use_cases_depend_on_ports_not_adapters(path: Path) -> None:
    names = imported_roots(path)
    assert not {n.split(".")[0] for n in names} & FORBIDDEN_IN_DOMAIN
    assert not {n for n in names if n.startswith(("qbsync.adapters", "qbsync.composition", "qbsync.api"))}


def test_the_domain_package_is_not_empty() -> None:
    assert len(list((PACKAGE / "domain").glob("*.py"))) >= 5
