"""Dependencies point one way, floor by floor, and the domain imports no AWS, HTTP or XML.

The floors of the `qbsync` package, lowest first (DESIGN.md "Shape"; the Lambda entry points in functions/ sit
on top of all of them):

    0  domain: records, rules and the ports (Protocols) the rest implements; plus leaves that import nothing
       of qbsync (the version, the environment's Settings, problem bodies, logging)
    1  adapters (implement the ports: DynamoDB, SQS, EventBridge, KMS, QuickBooks HTTP, SOAP)
       and use cases (work over the ports), side by side: neither imports the other
    2  composition roots: build adapters and use cases (composition.py, and cli.py for the command line)
    3  entry points: the HTTP API, the connect pages and the dashboard, the Web Connector endpoint, the
       worker, the scheduler
"""

from __future__ import annotations

import ast
import functools
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


# Most specific prefix wins. Leaves are whole module names: they import no qbsync module themselves.
LEAVES = {"qbsync", "qbsync.settings", "qbsync.problems", "qbsync.observability"}
FLOORS = {
    "qbsync.domain": 0,
    "qbsync.qbwc.errors": 0,  # the SOAP fault that the Web Connector's service and its codec both raise
    "qbsync.adapters": 1,
    "qbsync.metrics": 1,  # the metrics port in CloudWatch's format, and the handlers' decorator: an adapter
    "qbsync.qbwc.soap": 1,  # the SOAP codec (lxml): an adapter
    "qbsync.usecases": 1,
    "qbsync.qbwc.service": 1,  # the Web Connector's callbacks over the domain's ports: a use case
    "qbsync.composition": 2,
    "qbsync.cli": 2,
    "qbsync.api": 3,
    "qbsync.connect": 3,
    "qbsync.pages": 3,  # the tenant's dashboard, served with the connect pages
    "qbsync.qbwc": 3,  # the endpoint and its page
    "qbsync.worker": 3,
    "qbsync.scheduler": 3,
    "qbsync.snapstart": 3,  # SnapStart's hooks for the handlers: drops the composition root after a restore
}
FLOOR_NAMES = ["domain", "adapters and use cases", "composition", "entry points"]
# Side by side on floor 1: an adapter never reaches for a use case, nor a use case for an adapter.
SIDE_BY_SIDE = {
    "adapter": ("qbsync.adapters", "qbsync.qbwc.soap", "qbsync.metrics"),
    "use case": ("qbsync.usecases", "qbsync.qbwc.service"),
}
OUTSIDE_THE_PACKAGE = ("functions", "local", "bench", "tests")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def floor(name: str) -> int | None:
    if name in LEAVES:
        return 0
    prefixes = [p for p in FLOORS if _within(name, p)]
    return FLOORS[max(prefixes, key=len)] if prefixes else None


def side(name: str) -> str | None:
    return next((s for s, prefixes in SIDE_BY_SIDE.items() if any(_within(name, p) for p in prefixes)), None)


PACKAGE_FILES = sorted(PACKAGE.rglob("*.py"))


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


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=module_name)
def test_every_module_has_a_floor(path: Path) -> None:
    name = module_name(path)
    assert floor(name) is not None, f"{name} is on no floor: add it to FLOORS in {Path(__file__).name}"


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=module_name)
def test_nothing_imports_upward_and_adapters_and_use_cases_stay_side_by_side(path: Path) -> None:
    name = module_name(path)
    own_floor, own_side = floor(name), side(name)
    assert own_floor is not None
    wrong = []
    for target in sorted(imported_roots(path)):
        if target.split(".")[0] in OUTSIDE_THE_PACKAGE:
            wrong.append(f"{target} is outside the deployed package")
        if not _within(target, "qbsync"):
            continue
        if name in LEAVES:
            wrong.append(f"{target}: a leaf imports nothing of qbsync")
            continue
        target_floor = floor(target)
        if target_floor is None or target_floor > own_floor:
            where = (
                "no floor" if target_floor is None else f"floor {target_floor} ({FLOOR_NAMES[target_floor]})"
            )
            wrong.append(f"{target} is on {where}, above floor {own_floor} ({FLOOR_NAMES[own_floor]})")
        elif own_side is not None and side(target) not in {None, own_side}:
            wrong.append(f"{target} is a {side(target)}: adapters and use cases never import each other")
    assert not wrong, f"{name} imports against the floors (see {Path(__file__).name}): " + "; ".join(wrong)


def test_the_domain_package_is_not_empty() -> None:
    assert len(list((PACKAGE / "domain").glob("*.py"))) >= 5


def test_job_kinds_are_declared_in_domain_jobs_only() -> None:
    declared = {
        f"{module_name(path)}.{target.id}"
        for path in PACKAGE_FILES
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and target.id.endswith("_JOB")
    }
    elsewhere = {name for name in declared if not name.startswith("qbsync.domain.jobs.")}
    assert not elsewhere, f"job kinds belong in qbsync/domain/jobs.py, not in {sorted(elsewhere)}"
    assert declared, "qbsync/domain/jobs.py declares no job kind"


FUNCTIONS = sorted((PACKAGE.parents[2] / "functions").glob("*/app.py"))
ENTRY_POINTS = [p for p in PACKAGE_FILES if floor(module_name(p)) == FLOORS["qbsync.api"]]


def _called_names(path: Path) -> set[str]:
    calls = [n.func for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)]
    return {
        f.id if isinstance(f, ast.Name) else f.attr for f in calls if isinstance(f, ast.Name | ast.Attribute)
    }


@functools.cache
def _use_case_classes() -> frozenset[str]:
    modules = [*sorted((PACKAGE / "usecases").glob("*.py")), PACKAGE / "qbwc" / "service.py"]
    return frozenset(
        node.name
        for path in modules
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef) and not node.name.endswith(("Error", "Result", "Outcome"))
    )


@pytest.mark.parametrize(
    "path", ENTRY_POINTS + FUNCTIONS, ids=lambda p: str(p.relative_to(PACKAGE.parents[2]))
)
def test_use_cases_are_built_in_the_composition_root_only(path: Path) -> None:
    built = sorted(_called_names(path) & _use_case_classes())
    assert not built, f"{path.name} builds {built}: make each a property of composition.Container"


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=module_name)
def test_entry_points_are_handed_the_container_instead_of_looking_it_up(path: Path) -> None:
    assert "container" not in _called_names(path), (
        f"{module_name(path)} calls container(): take the Container as an argument, or read it from the "
        "event handler's context with composition.from_context (the function's handler appends it)"
    )
