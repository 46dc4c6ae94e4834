"""XML from outside read safely: no entity is resolved, no DTD loaded, nothing fetched from the network, and
a document declaring a DOCTYPE is refused (the XML attacks of OWASP's XXE and billion-laughs sheets). Used for
what the Web Connector posts (SOAP) and what QuickBooks Desktop answers (qbXML)."""

from __future__ import annotations

from typing import Any

from lxml import etree


class XmlRefusedError(ValueError):
    """The text is not XML that can be read safely; the message says why, for the sender."""


def parse(data: bytes, *, encoding: str | None = None, drop_comments: bool = False) -> Any:
    """The document's root element. `encoding` overrides the declaration (for bytes of an already decoded
    str); `drop_comments` leaves comments and processing instructions out of the tree."""
    # A new parser per call: lxml parsers are not safe to share between the local stack's threads.
    parser = etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=drop_comments,
        remove_pis=drop_comments,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise XmlRefusedError(f"not well-formed XML (line {line}, column {column})") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRefusedError("DOCTYPE declarations are not accepted")
    return root
