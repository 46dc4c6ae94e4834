"""Transactions in the simulated company: balances move with payments, credits, voids and deletions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from local.qbd.company import Company
from tests.qbd.qbxml import customer_add, invoice_add, named_add, run, service_item


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    session = Company().open_session()
    run(session, customer_add("Ada"), service_item("Labor", "50.00", "2"))
    return session


def invoice(session, amount: str = "100.00") -> str:  # type: ignore[no-untyped-def]
    return run(session, invoice_add("Ada", [("Labor", "1", amount)])).text("InvoiceRet/TxnID")


def invoice_state(session, txn_id: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    answer = run(session, f"<InvoiceQueryRq><TxnID>{txn_id}</TxnID></InvoiceQueryRq>")
    return tuple(answer.text(f"InvoiceRet/{tag}") for tag in ("BalanceRemaining", "AppliedAmount", "IsPaid"))  # type: ignore[return-value]


def customer_balance(session) -> str:  # type: ignore[no-untyped-def]
    return run(session, "<CustomerQueryRq><FullName>Ada</FullName></CustomerQueryRq>").text(
        "CustomerRet/Balance"
    )


def test_a_payment_applied_to_an_invoice_lowers_its_balance_and_the_customers(session) -> None:
    txn_id = invoice(session)

    paid = run(
        session,
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
        "<TotalAmount>60.00</TotalAmount>"
        f"<AppliedToTxnAdd><TxnID>{txn_id}</TxnID><PaymentAmount>60.00</PaymentAmount></AppliedToTxnAdd>"
        "</ReceivePaymentAdd></ReceivePaymentAddRq>",
    )

    assert paid.text("ReceivePaymentRet/AppliedToTxnRet/BalanceRemaining") == "40.00"
    assert invoice_state(session, txn_id) == ("40.00", "-60.00", "false")
    assert customer_balance(session) == "40.00"


def test_paying_more_than_the_balance_gets_3210_and_applies_nothing(session) -> None:
    txn_id = invoice(session)

    answer = run(
        session,
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
        "<TotalAmount>129.43</TotalAmount>"
        f"<AppliedToTxnAdd><TxnID>{txn_id}</TxnID><PaymentAmount>129.43</PaymentAmount></AppliedToTxnAdd>"
        "</ReceivePaymentAdd></ReceivePaymentAddRq>",
    )

    assert answer.status() == (
        3210,
        "Error",
        'The "AppliedToTxnAdd payment amount" field has an invalid value "129.43".  '
        "QuickBooks error message: You cannot pay more than the amount due.",
    )
    assert invoice_state(session, txn_id) == ("100.00", "0.00", "false")
    assert run(session, "<ReceivePaymentQueryRq/>").status()[0] == 1


def test_a_credit_set_against_an_invoice_pays_it_with_the_payment(session) -> None:
    txn_id = invoice(session)
    memo = run(
        session,
        "<CreditMemoAddRq><CreditMemoAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
        "<CreditMemoLineAdd><ItemRef><FullName>Labor</FullName></ItemRef><Amount>30.00</Amount></CreditMemoLineAdd>"
        "</CreditMemoAdd></CreditMemoAddRq>",
    ).text("CreditMemoRet/TxnID")

    run(
        session,
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
        f"<TotalAmount>70.00</TotalAmount><AppliedToTxnAdd><TxnID>{txn_id}</TxnID><PaymentAmount>70.00</PaymentAmount>"
        f"<SetCredit><CreditTxnID>{memo}</CreditTxnID><AppliedAmount>30.00</AppliedAmount></SetCredit>"
        "</AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>",
    )

    assert invoice_state(session, txn_id) == ("0.00", "-100.00", "true")
    credit = run(session, f"<CreditMemoQueryRq><TxnID>{memo}</TxnID></CreditMemoQueryRq>")
    assert credit.text("CreditMemoRet/CreditRemaining") == "0.00"
    assert customer_balance(session) == "0.00"


def test_a_payment_with_auto_apply_goes_to_the_oldest_open_invoices(session) -> None:
    first, second = invoice(session, "100.00"), invoice(session, "100.00")

    run(
        session,
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Ada</FullName></CustomerRef>"
        "<TotalAmount>150.00</TotalAmount><IsAutoApply>true</IsAutoApply></ReceivePaymentAdd></ReceivePaymentAddRq>",
    )

    assert invoice_state(session, first)[0] == "0.00"
    assert invoice_state(session, second)[0] == "50.00"


def test_deleting_a_payment_restores_the_balance_and_txn_deleted_query_lists_it(session) -> None:
    company = session.company
    txn_id = invoice(session)
    payment = company.receive_payment("Ada", Decimal("100.00"), {txn_id: Decimal("100.00")})
    assert invoice_state(session, txn_id) == ("0.00", "-100.00", "true")

    deleted = run(
        session, f"<TxnDelRq><TxnDelType>ReceivePayment</TxnDelType><TxnID>{payment}</TxnID></TxnDelRq>"
    )

    assert deleted.text("TxnID") == payment
    assert invoice_state(session, txn_id) == ("100.00", "0.00", "false")
    assert (
        run(session, f"<ReceivePaymentQueryRq><TxnID>{payment}</TxnID></ReceivePaymentQueryRq>").status()[0]
        == 3120
    )
    listed = run(session, "<TxnDeletedQueryRq><TxnDelType>ReceivePayment</TxnDelType></TxnDeletedQueryRq>")
    assert listed.text("TxnDeletedRet/TxnID") == payment


def test_voiding_an_invoice_keeps_it_with_amounts_at_zero_and_frees_its_payment(session) -> None:
    company = session.company
    txn_id = invoice(session)
    payment = company.receive_payment("Ada", Decimal("40.00"), {txn_id: Decimal("40.00")})

    voided = run(session, f"<TxnVoidRq><TxnVoidType>Invoice</TxnVoidType><TxnID>{txn_id}</TxnID></TxnVoidRq>")

    assert voided.status()[0] == 0
    assert invoice_state(session, txn_id) == ("0.00", "0.00", "true")
    paid = run(session, f"<ReceivePaymentQueryRq><TxnID>{payment}</TxnID></ReceivePaymentQueryRq>")
    assert paid.text("ReceivePaymentRet/UnusedPayment") == "40.00"
    assert customer_balance(session) == "-40.00"


def test_a_receive_payment_cannot_be_voided_in_qbxml_13(session) -> None:
    """TxnVoidType has no ReceivePayment (qbxml130.xsd): only TxnDel removes a payment."""
    from tests.qbxml_reference import XSD

    if not XSD.is_file():
        pytest.skip("needs Intuit's schema")
    from local.qbd.processor import RequestProcessorError

    payment = session.company.receive_payment("Ada", Decimal("10.00"))
    with pytest.raises(RequestProcessorError):
        run(
            session,
            f"<TxnVoidRq><TxnVoidType>ReceivePayment</TxnVoidType><TxnID>{payment}</TxnID></TxnVoidRq>",
        )


def test_an_invoice_mod_keeps_named_lines_adds_minus_one_lines_and_deletes_the_rest(session) -> None:
    added = run(session, invoice_add("Ada", [("Labor", "1", "10.00"), ("Labor", "2", "10.00")]))
    ret = added.ret()
    txn_id, sequence = ret.findtext("TxnID"), ret.findtext("EditSequence")
    kept = ret.findall("InvoiceLineRet")[1].findtext("TxnLineID")

    changed = run(
        session,
        f"<InvoiceModRq><InvoiceMod><TxnID>{txn_id}</TxnID><EditSequence>{sequence}</EditSequence>"
        f"<InvoiceLineMod><TxnLineID>{kept}</TxnLineID><Quantity>3</Quantity></InvoiceLineMod>"
        "<InvoiceLineMod><TxnLineID>-1</TxnLineID><ItemRef><FullName>Labor</FullName></ItemRef><Amount>5.00</Amount>"
        "</InvoiceLineMod></InvoiceMod></InvoiceModRq>",
    )

    lines = changed.ret().findall("InvoiceLineRet")
    assert [line.findtext("TxnLineID") == kept for line in lines] == [True, False]
    assert [line.findtext("Amount") for line in lines] == ["30.00", "5.00"]
    assert changed.text("InvoiceRet/Subtotal") == "35.00"


def test_a_reference_to_an_item_that_does_not_exist_gets_3140_naming_the_line(session) -> None:
    answer = run(session, invoice_add("Ada", [("sooo wrong", "1", "1.00")]))

    assert answer.status() == (
        3140,
        "Error",
        'There is an invalid reference to QuickBooks Item "sooo wrong" in the Invoice line.  '
        "QuickBooks error message: Invalid argument.  The specified record does not exist in the list.",
    )


def test_a_bill_linked_to_a_purchase_order_takes_its_lines_and_receives_it(session) -> None:
    run(session, named_add("Vendor", "Parts Co"))
    order = run(
        session,
        "<PurchaseOrderAddRq><PurchaseOrderAdd><VendorRef><FullName>Parts Co</FullName></VendorRef>"
        "<PurchaseOrderLineAdd><ItemRef><FullName>Labor</FullName></ItemRef><Quantity>4</Quantity><Rate>5.00</Rate>"
        "</PurchaseOrderLineAdd></PurchaseOrderAdd></PurchaseOrderAddRq>",
    ).text("PurchaseOrderRet/TxnID")

    bill = run(
        session,
        "<BillAddRq><BillAdd><VendorRef><FullName>Parts Co</FullName></VendorRef>"
        f"<LinkToTxnID>{order}</LinkToTxnID></BillAdd></BillAddRq>",
    )

    assert bill.text("BillRet/AmountDue") == "20.00"
    assert bill.text("BillRet/LinkedTxn/TxnID") == order
    received = run(session, f"<PurchaseOrderQueryRq><TxnID>{order}</TxnID></PurchaseOrderQueryRq>")
    assert received.text("PurchaseOrderRet/IsFullyReceived") == "true"


def purchase_order(session, vendor: str, lines: list[tuple[str, str, str]]) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """A purchase order of (item, quantity, rate) lines: its TxnID and its lines' TxnLineIDs."""
    body = "".join(
        f"<PurchaseOrderLineAdd><ItemRef><FullName>{item}</FullName></ItemRef><Quantity>{qty}</Quantity>"
        f"<Rate>{rate}</Rate></PurchaseOrderLineAdd>"
        for item, qty, rate in lines
    )
    ret = run(
        session,
        f"<PurchaseOrderAddRq><PurchaseOrderAdd><VendorRef><FullName>{vendor}</FullName></VendorRef>{body}"
        "</PurchaseOrderAdd></PurchaseOrderAddRq>",
    ).ret()
    return ret.findtext("TxnID"), [line.findtext("TxnLineID") for line in ret.findall("PurchaseOrderLineRet")]


def linked_bill(session, vendor: str, lines: list[tuple[str, str, str, str]]):  # type: ignore[no-untyped-def]
    """A BillAdd of item lines (item or "", quantity, cost, "TxnID/TxnLineID" linked or "")."""
    body = ""
    for item, qty, cost, link in lines:
        item_ref = f"<ItemRef><FullName>{item}</FullName></ItemRef>" if item else ""
        txn_id, _, line_id = link.partition("/")
        link_to = (
            f"<LinkToTxn><TxnID>{txn_id}</TxnID><TxnLineID>{line_id}</TxnLineID></LinkToTxn>" if link else ""
        )
        body += f"<ItemLineAdd>{item_ref}<Quantity>{qty}</Quantity><Cost>{cost}</Cost>{link_to}</ItemLineAdd>"
    return run(
        session,
        f"<BillAddRq><BillAdd><VendorRef><FullName>{vendor}</FullName></VendorRef>{body}</BillAdd></BillAddRq>",
    )


def order_state(session, order: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    ret = run(
        session,
        f"<PurchaseOrderQueryRq><TxnID>{order}</TxnID><IncludeLineItems>true</IncludeLineItems>"
        "</PurchaseOrderQueryRq>",
    ).ret()
    received = [line.findtext("ReceivedQuantity") for line in ret.findall("PurchaseOrderLineRet")]
    return received, ret.findtext("IsFullyReceived")


def test_a_bill_line_linked_to_a_purchase_order_line_receives_that_line_and_adds_nothing_else(
    session,
) -> None:
    run(session, named_add("Vendor", "Parts Co"), service_item("Bolts", "1.00"))
    order, (labor, bolts) = purchase_order(
        session, "Parts Co", [("Labor", "4", "5.00"), ("Bolts", "10", "1.00")]
    )

    bill = linked_bill(session, "Parts Co", [("Labor", "3", "5.00", f"{order}/{labor}")])

    assert bill.status()[0] == 0
    assert [line.findtext("Amount") for line in bill.ret().findall("ItemLineRet")] == ["15.00"]
    assert bill.text("BillRet/AmountDue") == "15.00"  # the bill's own line only, none of the order's
    assert bill.text("BillRet/LinkedTxn/TxnID") == order
    assert order_state(session, order) == (["3", "0"], "false")

    rest = linked_bill(
        session,
        "Parts Co",
        [("Labor", "1", "5.00", f"{order}/{labor}"), ("", "10", "1.00", f"{order}/{bolts}")],
    )

    # a linked line that names no item is the order line's item
    assert [line.findtext("ItemRef/FullName") for line in rest.ret().findall("ItemLineRet")] == [
        "Labor",
        "Bolts",
    ]
    assert rest.text("BillRet/AmountDue") == "15.00"
    assert order_state(session, order) == (["4", "10"], "true")
    linked = run(
        session,
        f"<PurchaseOrderQueryRq><TxnID>{order}</TxnID><IncludeLinkedTxns>true</IncludeLinkedTxns>"
        "</PurchaseOrderQueryRq>",
    ).ret()
    assert len(linked.findall("LinkedTxn")) == 2


@pytest.mark.parametrize(
    ("link", "code", "names"),
    [
        ("{missing}/{labor}", 3120, "{missing}"),
        ("{other}/{other_line}", 3140, 'QuickBooks PurchaseOrder "{other}" in the Bill line'),
        ("{order}/{missing}", 3120, "{missing}"),
        ("{received}/{received_line}", 3140, 'QuickBooks PurchaseOrder "{received}" in the Bill line'),
    ],
    ids=["no such order", "another vendor's order", "no such line", "order received in full"],
)
def test_a_bill_line_linked_to_no_open_purchase_order_line_of_its_vendor_is_refused(
    session, link: str, code: int, names: str
) -> None:
    run(session, named_add("Vendor", "Parts Co"), named_add("Vendor", "Other Co"))
    order, (labor,) = purchase_order(session, "Parts Co", [("Labor", "4", "5.00")])
    other, (other_line,) = purchase_order(session, "Other Co", [("Labor", "1", "5.00")])
    received, (received_line,) = purchase_order(session, "Parts Co", [("Labor", "1", "5.00")])
    assert (
        linked_bill(session, "Parts Co", [("Labor", "1", "5.00", f"{received}/{received_line}")]).status()[0]
        == 0
    )
    ids = {
        "order": order, "labor": labor, "other": other, "other_line": other_line, "received": received,
        "received_line": received_line, "missing": "FFFF-1700000000",
    }  # fmt: skip

    # the first line's link is good: the refused bill receives nothing at all
    good = ("Labor", "1", "5.00", f"{order}/{labor}")
    answer = linked_bill(session, "Parts Co", [good, ("Labor", "1", "5.00", link.format(**ids))])

    assert answer.status()[:2] == (code, "Error")
    assert names.format(**ids) in answer.status()[2]
    assert order_state(session, order) == (["0"], "false")
    assert order_state(session, other) == (["0"], "false")
    assert len(run(session, "<BillQueryRq/>").rets()) == 1  # the bill that received in full, only
