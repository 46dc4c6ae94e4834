"""Requests written as plain qbXML text for the simulated company (never with the product's codec), and a
reader of its answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from local.qbd.company import CompanySession

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def message(*requests: str, on_error: str = "continueOnError", version: str = "13.0") -> str:
    body = "\n".join(requests)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<?qbxml version="{version}"?>\n'
        f'<QBXML><QBXMLMsgsRq onError="{on_error}">\n{body}\n</QBXMLMsgsRq></QBXML>'
    )


@dataclass
class Answer:
    root: Any

    @property
    def responses(self) -> list[Any]:
        return [r for r in self.root.find("QBXMLMsgsRs") if isinstance(r.tag, str)]

    def status(self, index: int = 0) -> tuple[int, str, str]:
        rs = self.responses[index]
        return int(rs.get("statusCode")), rs.get("statusSeverity"), rs.get("statusMessage")

    def ret(self, index: int = 0) -> Any:
        return self.responses[index][0]

    def rets(self, index: int = 0) -> list[Any]:
        return list(self.responses[index])

    def text(self, path: str, index: int = 0) -> str:
        return self.responses[index].findtext(path)


def run(session: CompanySession, *requests: str, on_error: str = "continueOnError") -> Answer:
    raw = session.process(message(*requests, on_error=on_error))
    return Answer(etree.fromstring(raw.encode(), PARSER))


def customer_add(name: str, rid: str = "1", extra: str = "", parent: str | None = None) -> str:
    parent_ref = f"<ParentRef><FullName>{parent}</FullName></ParentRef>" if parent else ""
    return (
        f'<CustomerAddRq requestID="{rid}"><CustomerAdd><Name>{name}</Name>{parent_ref}{extra}</CustomerAdd>'
        "</CustomerAddRq>"
    )


def named_add(kind: str, name: str, rid: str = "1", extra: str = "") -> str:
    return f'<{kind}AddRq requestID="{rid}"><{kind}Add><Name>{name}</Name>{extra}</{kind}Add></{kind}AddRq>'


def service_item(name: str, price: str = "100.00", rid: str = "1") -> str:
    return named_add(
        "ItemService",
        name,
        rid,
        f"<SalesOrPurchase><Price>{price}</Price><AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase>",
    )


def invoice_add(
    customer: str, lines: list[tuple[str, str, str]], rid: str = "1", ref_number: str = ""
) -> str:
    """lines: (item FullName, quantity, rate)."""
    body = "".join(
        f"<InvoiceLineAdd><ItemRef><FullName>{item}</FullName></ItemRef><Quantity>{qty}</Quantity>"
        f"<Rate>{rate}</Rate></InvoiceLineAdd>"
        for item, qty, rate in lines
    )
    ref = f"<RefNumber>{ref_number}</RefNumber>" if ref_number else ""
    return (
        f'<InvoiceAddRq requestID="{rid}"><InvoiceAdd>'
        f"<CustomerRef><FullName>{customer}</FullName></CustomerRef>"
        f"{ref}{body}</InvoiceAdd></InvoiceAddRq>"
    )
