"""The qbXML message: the envelope every request travels in to QuickBooks Desktop.

    <?xml version="1.0" encoding="utf-8"?>
    <?qbxml version="13.0"?>
    <QBXML><QBXMLMsgsRq onError="continueOnError" newMessageSetID="..."> ...Rq ... </QBXMLMsgsRq></QBXML>

qbXML 13.0 is QuickBooks Desktop 2014 and later (shared/reference/qbwc/NOTES.md §3.2: the HostQuery of
Pro 2014 lists 13.0); an older QuickBooks is refused before anything is sent, never handed a message it
cannot read. `continueOnError` runs every request even when one fails, each answering with its own status
(NOTES §3.4). Each request carries a `requestID` of at most 50 characters (status 1060 otherwise, NOTES
§3.2), which its response echoes. `newMessageSetID` / `oldMessageSetID` are QuickBooks' error recovery
(NOTES §3.6).

The message is built with lxml, which escapes `& < > " '`; its text is then handed to the SOAP layer, which
escapes it once more. Every message built is passed to each of `observers` (the tests validate them all
against Intuit's schema; nothing in the product registers one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from qbsync.domain import desktop

QBXML_VERSION = "{}.{}".format(*desktop.QBXML_VERSION)  # "13.0": one rule for what is written and accepted
ON_ERROR = "continueOnError"
REQUEST_ID_MAX = 50  # status 1060: "The request ID ... is invalid, possibly too long. (The maximum is 50.)"
# lxml writes its own declaration with single quotes; Intuit's samples and the captures use double quotes.
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

observers: list[Callable[[str], None]] = []


def message(
    requests: Iterable[Any],
    *,
    new_message_set_id: str | None = None,
    old_message_set_id: str | None = None,
) -> str:
    """The qbXML message carrying `requests` (`...Rq` elements, in the order QuickBooks runs them).

    An empty list with `old_message_set_id` asks QuickBooks for the stored answer of that message set.
    ValueError when a request lacks a `requestID` or has one longer than 50 characters."""
    root = etree.Element("QBXML")
    root.addprevious(etree.ProcessingInstruction("qbxml", f'version="{QBXML_VERSION}"'))
    msgs = etree.SubElement(root, "QBXMLMsgsRq")
    if old_message_set_id is not None:
        msgs.set("oldMessageSetID", old_message_set_id)
    if new_message_set_id is not None:
        msgs.set("newMessageSetID", new_message_set_id)
    msgs.set("onError", ON_ERROR)
    for request in requests:
        _check_request_id(request)
        msgs.append(request)
    text: str = XML_DECLARATION + etree.tostring(root.getroottree(), encoding="unicode")
    for observe in observers:
        observe(text)
    return text


def _check_request_id(request: Any) -> None:
    name = etree.QName(request).localname
    request_id = request.get("requestID")
    if not request_id:
        raise ValueError(f"{name} has no requestID; every request carries one, its answer echoes it")
    if len(request_id) > REQUEST_ID_MAX:
        raise ValueError(
            f"{name}'s requestID {request_id!r} is {len(request_id)} characters; QuickBooks allows "
            f"{REQUEST_ID_MAX} (status 1060)"
        )


__all__ = ["QBXML_VERSION", "REQUEST_ID_MAX", "message", "observers"]
