"""The sync engine serves both editions: no module of it names a QuickBooks Online fault code, an HTTP
status or an OAuth error. Each edition's adapter turns its own vocabulary into `Fault`s (domain/sync.py); in
qbXML the same numbers mean other things (3100 is a name in use there, 3200 an out-of-date EditSequence)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "qbsync"
ENGINE = [PACKAGE / "usecases" / "sync_engine.py", PACKAGE / "domain" / "sync.py"]
# Online's fault codes (NOTES §3.8, §3.9) and the HTTP statuses its adapter classifies.
ONLINE_CODES = {"120", "610", "3001", "3100", "3200", "3201", "5010", "6240", "10000"}
HTTP_STATUSES = {400, 401, 403, 404, 429, 500, 502, 503, 504}
ONLINE_WORDS = re.compile(r"qbo|oauth|intuit|notconnected|http|status", re.IGNORECASE)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.name if isinstance(node, ast.FunctionDef | ast.ClassDef) else ""


def _compared_numbers(tree: ast.AST) -> set[int]:
    """Ids of the int constants a status would be tested with: in comparisons, dict keys and sets."""
    places: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            places += [node.left, *node.comparators]
        elif isinstance(node, ast.Dict):
            places += [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Set | ast.Tuple | ast.List):
            places += node.elts
    return {id(n) for place in places for n in ast.walk(place)}


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    compared = _compared_numbers(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(alias.name for alias in node.names)]
            found += [f"imports {n}" for n in names if ONLINE_WORDS.search(n) or "adapters" in n]
        elif isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if ONLINE_WORDS.search(a.name)]
        elif ONLINE_WORDS.search(_name(node)):
            found.append(f"line {getattr(node, 'lineno', 0)}: {_name(node)}")
        elif isinstance(node, ast.Constant) and (
            node.value in ONLINE_CODES
            or (isinstance(node.value, int) and node.value in HTTP_STATUSES and id(node) in compared)
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_the_engine_names_no_online_code_status_or_oauth_error(path: Path) -> None:
    assert _findings(path) == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from qbsync.adapters.qbo_faults import QboFaultError\n"
        "if error.status == 429 or '6240' in codes:\n"
        "    raise NotConnectedError()\n",
        encoding="utf-8",
    )
    assert len(_findings(sample)) == 6
