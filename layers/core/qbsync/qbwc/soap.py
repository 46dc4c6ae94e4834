"""SOAP 1.1 codec of the Web Connector: document/literal wrapped, namespace http://developer.intuit.com/.

A request becomes (operation, parameters by name); a result becomes the `<opResponse><opResult>` envelope of
the WSDL. The parser resolves no entities, loads no DTD, opens no network and refuses any DOCTYPE.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from qbsync.adapters import safe_xml
from qbsync.qbwc.errors import FaultCode, SoapFaultError

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
QBWC_NS = "http://developer.intuit.com/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
CONTENT_TYPE = "text/xml; charset=utf-8"

_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_NIL = f"{{{XSI}}}nil"
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"


@dataclass(frozen=True)
class SoapRequest:
    operation: str
    params: dict[str, str]


def _elements(parent: Any) -> list[Any]:
    """Child elements only: comments and processing instructions have no string tag."""
    return [child for child in parent if isinstance(child.tag, str)]


def parse_request(body: bytes) -> SoapRequest:
    """The call in a Web Connector request; SoapFaultError when it is not one this endpoint can read."""
    call = _call_element(_read_xml(body))
    return SoapRequest(operation=etree.QName(call).localname, params=_params(call))


def _read_xml(body: bytes) -> Any:
    """The document's root, parsed without entities, DTDs or network; any DOCTYPE is refused."""
    if not body.strip():
        raise SoapFaultError("The request has no body; send a SOAP 1.1 envelope.")
    try:
        return safe_xml.parse(body)
    except safe_xml.XmlRefusedError as exc:
        raise SoapFaultError(f"The request is refused: {exc}; send a plain SOAP 1.1 envelope.") from exc


def _call_element(root: Any) -> Any:
    """The one element in the SOAP 1.1 Body, checked to be in the Web Connector's namespace."""
    root_name = etree.QName(root)
    if root_name.localname == "Envelope" and root_name.namespace != SOAP_ENV:
        raise SoapFaultError(
            f"This endpoint speaks SOAP 1.1; the envelope namespace must be {SOAP_ENV}.",
            FaultCode.VERSION_MISMATCH,
        )
    if root.tag != _ENVELOPE:
        raise SoapFaultError("The request is not a SOAP envelope.")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    for entry in _elements(header) if header is not None else []:
        if entry.get(_MUST_UNDERSTAND) in ("1", "true"):
            raise SoapFaultError(
                f"The header {etree.QName(entry).localname} is not understood here.",
                FaultCode.MUST_UNDERSTAND,
            )
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise SoapFaultError("The SOAP envelope has no Body.")
    calls = _elements(body)
    if len(calls) != 1:
        raise SoapFaultError("The SOAP Body must hold exactly one Web Connector call.")
    name = etree.QName(calls[0])
    if name.namespace != QBWC_NS:
        raise SoapFaultError(
            f"{name.localname} is not a Web Connector call: its namespace must be {QBWC_NS}."
        )
    return calls[0]


def _params(call: Any) -> dict[str, str]:
    """The call's parameters by name; nil ones are left out, as are elements of other vocabularies (as
    .NET's serializer skips them)."""
    params: dict[str, str] = {}
    for child in _elements(call):
        name = etree.QName(child)
        if name.namespace not in (QBWC_NS, None):
            continue
        if name.localname in params:
            raise SoapFaultError(f"The parameter {name.localname} appears more than once.")
        if child.get(_NIL) in ("true", "1"):
            continue
        params[name.localname] = _content(child)
    return params


def _content(element: Any) -> str:
    """The text of a string parameter. qbXML sent inline instead of escaped (seen in hand-made envelopes)
    is kept as its markup, moved out of the envelope's default namespace it inherited."""
    if len(element) == 0:
        return str(element.text or "")
    inline = copy.deepcopy(element)
    for node in inline.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == QBWC_NS:
            node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(inline)
    return (inline.text or "") + "".join(
        etree.tostring(node, encoding="unicode", with_tail=True) for node in inline
    )


def _envelope() -> tuple[Any, Any]:
    envelope = etree.Element(_ENVELOPE, nsmap={"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _serialize(envelope: Any) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def build_response(operation: str, result: str | int | Sequence[str]) -> bytes:
    """`<operationResponse><operationResult>` as the WSDL declares it: a string, an int, or an ArrayOfString.

    Every array member is written as an element, empty ones too: a missing `<string>` shifts the meaning of
    the ones after it (authenticate's status would be read as the ticket).
    """
    envelope, body = _envelope()
    response = etree.SubElement(body, f"{{{QBWC_NS}}}{operation}Response", nsmap={None: QBWC_NS})
    value = etree.SubElement(response, f"{{{QBWC_NS}}}{operation}Result")
    if isinstance(result, str):
        value.text = result
    elif isinstance(result, int):
        value.text = str(result)
    else:
        for item in result:
            etree.SubElement(value, f"{{{QBWC_NS}}}string").text = item
    return _serialize(envelope)


def build_fault(code: FaultCode, message: str) -> bytes:
    """A SOAP 1.1 Fault; HTTP carries it with status 500 (SOAP 1.1 section 6.2)."""
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code.value}"
    etree.SubElement(fault, "faultstring").text = message
    return _serialize(envelope)
