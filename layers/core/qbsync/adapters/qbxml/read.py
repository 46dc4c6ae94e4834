"""qbXML messages read leniently: by local name, unknown elements ignored, never validated against the XSD.

Real QuickBooks answers do not always follow Intuit's schema (elements out of order, required children left
out: shared/reference/qbwc/NOTES.md §5.3), so the reader takes what it finds and asks nothing of the order.
It reads an answer (`QBXMLMsgsRs`) into one `Response` per `...Rs` element: its kind ("CustomerAdd"), the
requestID it echoes, its status attributes (NOTES §3.2, §3.4), the iterator attributes of a query, and its
`...Ret` elements as `Ret`s, whose common fields are typed and whose other fields and nested rets
(AppliedToTxnRet, DataExtRet, ...) are read through `Node`'s lenient accessors. A request message
(`QBXMLMsgsRq`, as in the Intuit samples and the error-recovery requests of NOTES §3.6) reads into its
requests, so every qbXML message reads with the same function.

The parser resolves no entities, loads no DTD, opens no network and refuses any DOCTYPE (as qbwc/soap.py).
Anything that is not a qbXML message raises `QbxmlReadError`, the one error of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from qbsync.adapters import safe_xml

_SHOWN = 60  # characters of a value quoted back in an error


class QbxmlReadError(ValueError):
    """The text is not a qbXML message this reader can read, or a value in it is not what its name says."""


def _quoted(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


@dataclass(frozen=True)
class Ref:
    """A reference to a list entry (`CustomerRef`, `ItemRef`, ...): its ListID and FullName, when given."""

    list_id: str | None
    full_name: str | None


@dataclass(frozen=True)
class Node:
    """One element, read leniently: its local name, attributes, text (for a leaf) and child elements.
    Accessors take a path of local names ("CustomerRef/FullName") and answer None when it is absent."""

    tag: str
    text: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    children: tuple[Node, ...] = ()

    def all(self, tag: str) -> tuple[Node, ...]:
        """The child elements named `tag`, in order."""
        return tuple(c for c in self.children if c.tag == tag)

    def find(self, path: str) -> Node | None:
        """The first element at `path` ("BillAddress/City"), or None."""
        node: Node | None = self
        for tag in path.split("/"):
            node = next((c for c in node.children if c.tag == tag), None) if node else None
        return node

    def text_of(self, path: str) -> str | None:
        found = self.find(path)
        return found.text if found is not None else None

    def decimal_of(self, path: str) -> Decimal | None:
        """An amount, price or quantity, exactly as QuickBooks wrote it."""
        text = self.text_of(path)
        if text is None:
            return None
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise QbxmlReadError(f"{self.tag}/{path} is not a number: {_quoted(text)}.")
        return value

    def int_of(self, path: str) -> int | None:
        text = self.text_of(path)
        return None if text is None else _int(text, f"{self.tag}/{path}")

    def bool_of(self, path: str) -> bool | None:
        text = self.text_of(path)
        if text is None:
            return None
        value = _BOOLEANS.get(text.strip())
        if value is None:
            raise QbxmlReadError(f"{self.tag}/{path} is not true or false: {_quoted(text)}.")
        return value

    def date_of(self, path: str) -> date | None:
        """A `DATETYPE` (YYYY-MM-DD)."""
        text = self.text_of(path)
        if text is None:
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise QbxmlReadError(f"{self.tag}/{path} is not a date: {_quoted(text)}.") from None

    def datetime_of(self, path: str) -> datetime | None:
        """A `DATETIMETYPE` as an aware datetime. QuickBooks writes the company PC's local time with its UTC
        offset ("2014-11-27T18:03:44-02:00", every capture in shared/reference/qbwc/captures); a time
        without one cannot be placed and is refused."""
        text = self.text_of(path)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            raise QbxmlReadError(f"{self.tag}/{path} is not a date and time: {_quoted(text)}.") from None
        if value.tzinfo is None:
            raise QbxmlReadError(f"{self.tag}/{path} has no UTC offset: {_quoted(text)}.")
        return value

    def ref(self, tag: str) -> Ref | None:
        """The reference element `tag` ("CustomerRef"), or None."""
        found = self.find(tag)
        if found is None:
            return None
        return Ref(list_id=found.text_of("ListID"), full_name=found.text_of("FullName"))

    def rets(self, kind: str | None = None) -> tuple[Ret, ...]:
        """The child `...Ret` elements, or those of one kind: `rets("AppliedToTxn")`, `rets("DataExt")`."""
        return tuple(
            c for c in self.children if isinstance(c, Ret) and (kind is None or c.tag == f"{kind}Ret")
        )


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class Ret(Node):
    """A `...Ret` element: an object QuickBooks returned (CustomerRet, ItemServiceRet, InvoiceRet, ...) or a
    part of one (AppliedToTxnRet, DataExtRet, InvoiceLineRet). The fields most objects carry are typed."""

    @property
    def kind(self) -> str:
        """The element's name without "Ret": "Customer", "ItemService", "Invoice", "AppliedToTxn", ..."""
        return self.tag.removesuffix("Ret")

    @property
    def list_id(self) -> str | None:
        return self.text_of("ListID")

    @property
    def txn_id(self) -> str | None:
        return self.text_of("TxnID")

    @property
    def id(self) -> str | None:
        """ListID for list entries, TxnID for transactions."""
        return self.list_id if self.list_id is not None else self.txn_id

    @property
    def edit_sequence(self) -> str | None:
        return self.text_of("EditSequence")

    @property
    def name(self) -> str | None:
        return self.text_of("Name")

    @property
    def full_name(self) -> str | None:
        """The colon-joined hierarchy for jobs and sub-items ("Abercrombie, Kristy:Family Room")."""
        return self.text_of("FullName")

    @property
    def ref_number(self) -> str | None:
        return self.text_of("RefNumber")

    @property
    def external_guid(self) -> str | None:
        return self.text_of("ExternalGUID")

    @property
    def is_active(self) -> bool | None:
        return self.bool_of("IsActive")

    @property
    def time_created(self) -> datetime | None:
        return self.datetime_of("TimeCreated")

    @property
    def time_modified(self) -> datetime | None:
        return self.datetime_of("TimeModified")


@dataclass(frozen=True)
class Status:
    """A response's status: `code` decides (adapters/qbxml/status.py); severity and message are
    QuickBooks' words ("Info", "Warn", "Error")."""

    code: int
    severity: str = ""
    message: str = ""


@dataclass(frozen=True)
class Response:
    """One `...Rs` element of an answer. `node` is the element itself, for what is not a Ret (a TxnDelRs's
    TxnID and TimeDeleted, a ListDelRs's FullName)."""

    kind: str  # "CustomerAdd", "InvoiceQuery", "TxnVoid", ...
    request_id: str | None
    status: Status
    rets: tuple[Ret, ...]
    node: Node
    ret_count: int | None = None
    iterator_id: str | None = None
    iterator_remaining_count: int | None = None


@dataclass(frozen=True)
class Message:
    """A qbXML message: an answer's responses, or a request message's requests (one of the two is empty),
    with the message set's attributes (error recovery: NOTES §3.6)."""

    responses: tuple[Response, ...] = ()
    requests: tuple[Node, ...] = ()
    new_message_set_id: str | None = None
    old_message_set_id: str | None = None
    message_set_status_code: int | None = None
    on_error: str | None = None

    def response(self, request_id: str) -> Response | None:
        """The response echoing this requestID, or None."""
        return next((r for r in self.responses if r.request_id == request_id), None)


def read_message(text: str | bytes) -> Message:
    """Read a qbXML message: QuickBooks' answer, the strHCPResponse, or a request message."""
    root = _parse(text)
    if etree.QName(root).localname != "QBXML":
        raise QbxmlReadError(f"The message is not qbXML: its root element is {etree.QName(root).localname}.")
    sets = {etree.QName(e).localname: e for e in _elements(root)}
    message_set = sets.get("QBXMLMsgsRs")
    if message_set is None:
        message_set = sets.get("QBXMLMsgsRq")
    if message_set is None:
        raise QbxmlReadError("The qbXML message has neither a QBXMLMsgsRs nor a QBXMLMsgsRq element.")
    attributes = _attributes(message_set)
    entries = [_node(e) for e in _elements(message_set)]
    return Message(
        responses=tuple(_response(n) for n in entries if n.tag.endswith("Rs")),
        requests=tuple(n for n in entries if n.tag.endswith("Rq")),
        new_message_set_id=attributes.get("newMessageSetID"),
        old_message_set_id=attributes.get("oldMessageSetID"),
        message_set_status_code=_optional_int(attributes, "messageSetStatusCode", "QBXMLMsgsRs"),
        on_error=attributes.get("onError"),
    )


def _parse(text: str | bytes) -> Any:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    if not data.strip():
        raise QbxmlReadError("The message is empty.")
    # A str has already been decoded: its bytes are UTF-8 whatever its declaration says.
    encoding = None if isinstance(text, bytes) else "utf-8"
    try:
        return safe_xml.parse(data, encoding=encoding, drop_comments=True)
    except safe_xml.XmlRefusedError as exc:
        raise QbxmlReadError(f"The message is refused: {exc}.") from exc


def _elements(parent: Any) -> list[Any]:
    return [child for child in parent if isinstance(child.tag, str)]


def _attributes(element: Any) -> dict[str, str]:
    return {etree.QName(k).localname: str(v) for k, v in element.attrib.items()}


def _node(element: Any) -> Node:
    tag = etree.QName(element).localname
    children = tuple(_node(c) for c in _elements(element))
    kind = Ret if tag.endswith("Ret") else Node
    return kind(tag, "" if children else str(element.text or ""), _attributes(element), children)


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise QbxmlReadError(f"{what} is not an integer: {_quoted(text)}.") from None


def _optional_int(attributes: Mapping[str, str], name: str, where: str) -> int | None:
    value = attributes.get(name)
    return None if value is None else _int(value, f"{where} {name}")


def _response(node: Node) -> Response:
    kind = node.tag.removesuffix("Rs")
    attributes = node.attributes
    code = attributes.get("statusCode")
    if code is None:
        raise QbxmlReadError(f"{node.tag} has no statusCode: what became of its request cannot be known.")
    return Response(
        kind=kind,
        request_id=attributes.get("requestID"),
        status=Status(
            code=_int(code, f"{node.tag} statusCode"),
            severity=attributes.get("statusSeverity", ""),
            message=attributes.get("statusMessage", ""),
        ),
        rets=node.rets(),
        node=node,
        ret_count=_optional_int(attributes, "retCount", node.tag),
        iterator_id=attributes.get("iteratorID"),
        iterator_remaining_count=_optional_int(attributes, "iteratorRemainingCount", node.tag),
    )
