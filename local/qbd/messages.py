"""QuickBooks' status messages, byte for byte where a capture or NOTES.md shows one (the double spaces before
"QuickBooks error message:" are QuickBooks' own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.qbd.model import Spec

OK = "Status OK"  # every capture
# NOTES.md §3.4 and §5.1 (flowlink item_inventory_query_rs_empty.xml)
NOTHING_FOUND = "A query request did not find a matching object in QuickBooks"
# captures/customer-batch-mixed.response.xml
FEATURE_OFF = "This feature is not enabled or not available in this version of QuickBooks."
# consolibyte Errors.php (NOTES.md §3.4)
PERMISSION = "Insufficient permission level to perform this action."
PERSONAL_DATA = "The integrated application has no permission to access personal data."
# NOTES.md §1.6: the HRESULT and text QuickBooks gives for a message it cannot read
PARSE_HRESULT = "0x80040400"
PARSE_ERROR = "QuickBooks found an error when parsing the provided XML text stream."

_NOT_IN_LIST = "QuickBooks error message: Invalid argument.  The specified record does not exist in the list."


def name_in_use(name: str) -> str:
    """3100 (captures/customer-batch-mixed.response.xml)."""
    return f'The name "{name}" of the list element is already in use.'


def not_found(object_id: str) -> str:
    """3120 (qbwc/qbwc test_helper.rb, NOTES.md §3.4)."""
    return f'Object "{object_id}" specified in the request cannot be found.  {_NOT_IN_LIST}'


def invalid_parent(name: str, spec: Spec) -> str:
    """3130 (captures/customer-batch-mixed.response.xml: "... in the Customers list.")."""
    return f'There is an invalid reference to a parent "{name}" in the {spec.label}s list.  {_NOT_IN_LIST}'


def invalid_reference(label: str, name: str, where: str) -> str:
    """3140 (captures/sales_order_add_rs_invalid_record_ref.xml: `... QuickBooks Customer "Joe Smith" in the
    SalesOrder.` and, for a line, `... QuickBooks Item "x" in the SalesOrder line.`)."""
    return f'There is an invalid reference to QuickBooks {label} "{name}" in the {where}.  {_NOT_IN_LIST}'


def stale(edit_sequence: str) -> str:
    """3200 (flowlink spec, NOTES.md §3.3)."""
    return f'The provided edit sequence "{edit_sequence}" is out-of-date.'


def overpaid(field: str, value: str) -> str:
    """3210 (consolibyte Errors.php, a quoted real message)."""
    return (
        f'The "{field}" field has an invalid value "{value}".  '
        "QuickBooks error message: You cannot pay more than the amount due."
    )


def iterator_invalid(iterator_id: str) -> str:
    """3391 (consolibyte/quickbooks-php#183)."""
    return f'The iteratorID "{iterator_id}" is not valid.'


def partly_found(value: str) -> str:
    """500 (qbwc/qbwc test_helper.rb, NOTES.md §3.4)."""
    return (
        "The query request has not been fully completed. "
        f'There was a required element ("{value}") that could not be found in QuickBooks.'
    )


def locked(code: int, label: str, name: str) -> str:
    """3170 and 3175: a record open in another user's window. Intuit's exact texts were not retrievable
    (NOTES.md
    §3.4); these are built around the phrases consolibyte's Errors.php matches ("list has been modified by
    another user", "internals could not be locked")."""
    if code == 3170:
        return (
            f'There was an error when modifying a {label} list, element "{name}".  '
            "QuickBooks error message: This list has been modified by another user."
        )
    return (
        f'There was an error when saving a {label} list, element "{name}".  '
        "QuickBooks error message: The list element internals could not be locked."
    )
