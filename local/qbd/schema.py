"""Intuit's qbXML 13.0 schema, read in place from ../shared/reference beside the project when it is there.

QuickBooks checks every request message against its schema before it runs any request: an unknown or
out-of-order element fails the whole message with HRESULT 0x80040400 (NOTES.md §3.5, qbwc/qbwc#74). The files
are Intuit's: they are read where they are, never copied into the project, and loaded once per process, on the
first message (about a tenth of a second).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
XSD = ROOT.parent / "shared" / "reference" / "qbxml" / "13.0" / "qbxmlops130.xsd"


@cache
def _schema(path: Path) -> Any:
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)))


def available(path: Path = XSD) -> bool:
    return path.is_file()


def errors(root: Any, path: Path = XSD) -> list[str]:
    """Why the schema refuses this QBXML element ([] when it is valid, or when the schema is not there)."""
    if not available(path):
        return []
    xsd = _schema(path)
    if xsd.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]
