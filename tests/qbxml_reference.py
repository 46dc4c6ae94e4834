"""Intuit's qbXML 13.0 schema and the Web Connector references, read from ../shared/reference when it is
checked out beside the project (CI has it). They are Intuit's files: read in place, never copied here."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from local.qbd import schema as qbd_schema

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
QBXML = REFERENCE / "qbxml" / "13.0"
XSD = QBXML / "qbxmlops130.xsd"  # includes qbxmltypes130.xsd, qbxml130.xsd and qbxmlso130.xsd
OSR = QBXML / "qbxmlops130.osr.xml"
QBWC = REFERENCE / "qbwc"
CAPTURES = QBWC / "captures"
WSDL = QBWC / "wsdl" / "intuit_troubleshoot_via_flowlink" / "QBWebConnectorSvc.wsdl"

requires_schema = pytest.mark.skipif(not XSD.is_file(), reason=f"Intuit's qbXML schema is not at {XSD}")
requires_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"the captures are not at {CAPTURES}")


def schema_errors(message: bytes | str) -> list[str]:
    """Why Intuit's schema refuses a qbXML message (its QBXML root), or [] when it is valid. The schema is the
    one the simulated company checks messages with, compiled once per process."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    return qbd_schema.errors(root, XSD)
