"""Validation per edition: every limit at its edge, names, and the Desktop numbers against Intuit's files."""

from __future__ import annotations

import copy
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from qbsync.domain.errors import FieldProblem
from qbsync.domain.records import RECORD_TYPES, Customer, Invoice, Payment
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import (
    FORBIDDEN_CHARACTERS,
    LENGTH_LIMITS,
    ML,
    XSD,
    LengthLimit,
    Problem,
    name_key,
    validate,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
MAXLENGTH_FILE = REFERENCE / "qbxml" / "13.0" / "maxlength.txt"
QBXML_XSD = REFERENCE / "qbxml" / "13.0" / "qbxml130.xsd"

# One valid record per rule key ("item.<kind>" for items), with room for every field a limit names.
BASE: dict[str, tuple[str, dict[str, Any]]] = {
    "customer": ("customer", {"display_name": "Acme"}),
    "vendor": ("vendor", {"display_name": "Paper Supply"}),
    "employee": ("employee", {"display_name": "Grace Hopper", "family_name": "Hopper"}),
    "item.service": ("item", {"kind": "service", "name": "Consulting"}),
    "item.non_inventory": ("item", {"kind": "non_inventory", "name": "Gloves"}),
    "item.inventory": (
        "item",
        {"kind": "inventory", "name": "Widget", "quantity_on_hand": "1", "quantity_as_of": "2024-01-01"},
    ),
    "invoice": ("invoice", {"customer_id": "c1", "lines": [{"item_id": "i1", "amount": "10.00"}]}),
    "credit_memo": ("credit_memo", {"customer_id": "c1", "lines": [{"item_id": "i1", "amount": "10.00"}]}),
    "payment": ("payment", {"customer_id": "c1", "total_amount": "10.00"}),
    "purchase_order": ("purchase_order", {"vendor_id": "v1", "lines": [{"item_id": "i1", "amount": "5.00"}]}),
    "bill": ("bill", {"vendor_id": "v1", "lines": [{"account": "Repairs", "amount": "5.00"}]}),
}


def build(key: str, path: str | None = None, value: Any = None) -> tuple[str, BaseModel]:
    """The base record of `key`, with `value` set at `path` (`*` = the first list element)."""
    record_type, data = BASE[key]
    data = copy.deepcopy(data)
    if path is not None:
        *parents, last = path.replace("*", "0").split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[last] = value
    return record_type, RECORD_TYPES[record_type].model.model_validate(data)


def text_of_length(path: str, length: int) -> str:
    if path.endswith("email"):
        return "a" * (length - len("@x.example")) + "@x.example"
    return "a" * length


def concrete(path: str) -> str:
    return path.replace("*", "0")


LIMIT_CASES = [
    pytest.param(edition, key, limit, id=f"{edition.value}-{key}-{limit.field}")
    for edition, table in LENGTH_LIMITS.items()
    for key, limits in table.items()
    for limit in limits
]


@pytest.mark.parametrize(("edition", "key"), [(e, k) for e in Edition for k in BASE])
def test_the_base_records_pass(edition: Edition, key: str) -> None:
    assert validate(*build(key), edition) == []


@pytest.mark.parametrize(("edition", "key", "limit"), LIMIT_CASES)
def test_a_field_at_its_limit_passes(edition: Edition, key: str, limit: LengthLimit) -> None:
    record_type, record = build(key, limit.field, text_of_length(limit.field, limit.limit))
    assert validate(record_type, record, edition) == []


@pytest.mark.parametrize(("edition", "key", "limit"), LIMIT_CASES)
def test_a_field_one_over_its_limit_is_a_problem(edition: Edition, key: str, limit: LengthLimit) -> None:
    record_type, record = build(key, limit.field, text_of_length(limit.field, limit.limit + 1))
    problems = validate(record_type, record, edition)
    assert [(p.field, p.code, p.limit, p.actual) for p in problems] == [
        (concrete(limit.field), "too_long", limit.limit, limit.limit + 1)
    ]
    assert str(limit.limit) in problems[0].message
    assert str(limit.limit + 1) in problems[0].message
    assert problems[0].actions


def test_every_record_type_has_limits_in_both_editions() -> None:
    for table in LENGTH_LIMITS.values():
        assert set(table) == set(BASE)


def test_a_42_character_customer_name_fits_online_but_not_desktop() -> None:
    record = Customer(display_name="N" * 42)
    assert validate("customer", record, Edition.QBO) == []
    [problem] = validate("customer", record, Edition.QBD)
    assert problem == Problem(
        field="display_name",
        code="too_long",
        message="Display name is 42 characters long; QuickBooks Desktop allows at most 41.",
        limit=41,
        actual=42,
        actions=["rename", "link_existing"],
    )


def test_line_problems_name_the_line_by_its_index() -> None:
    lines = [{"item_id": "i", "amount": "1"} for _ in range(3)] + [{"item_id": "i", "amount": "1"}]
    lines[2]["description"] = "d" * 4096
    record = Invoice.model_validate({"customer_id": "c", "lines": lines})
    [problem] = validate("invoice", record, Edition.QBD)
    assert problem.field == "lines.2.description"
    assert problem.message.startswith("Line 3 description is 4096 characters long")
    assert problem.actions == ["edit"]
    assert validate("invoice", record, Edition.QBO)[0].limit == 4000


def test_desktop_document_numbers_are_shorter_than_online_ones() -> None:
    record = Invoice.model_validate({**BASE["invoice"][1], "doc_number": "INV-2024-0001"})  # 13 characters
    assert validate("invoice", record, Edition.QBO) == []
    assert [(p.field, p.limit, p.actual) for p in validate("invoice", record, Edition.QBD)] == [
        ("doc_number", 11, 13)
    ]


COLON_CASES = [
    pytest.param(edition, key, rule.field, id=f"{edition.value}-{key}-{rule.field}")
    for edition, table in FORBIDDEN_CHARACTERS.items()
    for key, rules in table.items()
    for rule in rules
]


@pytest.mark.parametrize(("edition", "key", "field"), COLON_CASES)
def test_a_colon_in_a_name_is_refused(edition: Edition, key: str, field: str) -> None:
    record_type, record = build(key, field, "Parent:Child")
    [problem] = validate(record_type, record, edition)
    assert (problem.field, problem.code) == (field, "forbidden_character")
    assert "':'" in problem.message
    assert problem.limit is None
    assert problem.actual is None


def test_both_editions_refuse_colons_in_every_list_name() -> None:
    for edition in Edition:
        for key in ("customer", "vendor", "employee", "item.service", "item.non_inventory", "item.inventory"):
            name_field = "name" if key.startswith("item") else "display_name"
            assert name_field in {rule.field for rule in FORBIDDEN_CHARACTERS[edition][key]}


def free_text_paths(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, prefix: str = ""
) -> list[str]:
    """Every field of a record's JSON Schema that takes free text (not an id pattern, date or enum)."""
    defs = schema.get("$defs", {}) if defs is None else defs
    paths: list[str] = []
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        for option in field.get("anyOf", [field]):
            if "$ref" in option:
                paths += free_text_paths(defs[option["$ref"].rsplit("/", 1)[-1]], defs, f"{path}.")
            elif option.get("type") == "array" and "$ref" in option.get("items", {}):
                paths += free_text_paths(defs[option["items"]["$ref"].rsplit("/", 1)[-1]], defs, f"{path}.*.")
            elif option.get("type") == "string" and not {"pattern", "format", "enum"} & set(option):
                paths.append(path)
    return paths


def text_field_cases() -> list[Any]:
    cases = []
    for key, (record_type, _) in BASE.items():
        for path in free_text_paths(RECORD_TYPES[record_type].model.model_json_schema()):
            try:
                build(key, path, "fine")
            except (ValidationError, KeyError):
                continue  # a field this record does not take (an account on an item line), or has no list for
            cases.append(pytest.param(key, path, id=f"{key}-{path}"))
    return cases


@pytest.mark.parametrize(("key", "path"), text_field_cases())
def test_control_characters_and_bidi_controls_are_refused_in_every_text_field(key: str, path: str) -> None:
    multi_line = path.rsplit(".", 1)[-1] in {"memo", "notes", "description"}
    for character in ["\x00", "\x07", "\x1f", "\ufffe", "\uffff", "\u202e", "\u2066", "\t", "\n", "\r"]:
        record_type, record = build(key, path, f"a{character}b")
        for edition in Edition:
            found = [p for p in validate(record_type, record, edition) if p.code == "forbidden_character"]
            if multi_line and character in "\t\n\r":
                assert found == [], (character, edition)
            else:
                [problem] = found
                assert problem.field == concrete(path)
                assert f"U+{ord(character):04X}" in problem.message


def test_text_fields_reach_every_kind_of_text() -> None:
    paths = {case.values[1] for case in text_field_cases()}
    assert {"display_name", "name", "memo", "notes", "lines.*.description", "billing_address.line1"} <= paths
    assert {"lines.*.tax_code", "lines.*.account", "method", "sku", "terms", "doc_number"} <= paths


def test_an_unstorable_character_is_named_with_what_to_do() -> None:
    record = Customer(display_name="Acme\u202e Corp\x00", notes="Line one\nLine two\x01")
    problems = validate("customer", record, Edition.QBO)
    assert [(p.field, p.code, p.actions) for p in problems] == [
        ("display_name", "forbidden_character", ["rename", "link_existing"]),
        ("notes", "forbidden_character", ["edit"]),
    ]
    assert problems[0].message.startswith("Display name contains U+0000 NUL, U+202E RIGHT-TO-LEFT OVERRIDE: ")
    assert problems[1].message.endswith("Tabs and line breaks are kept in this field.")


def test_online_checks_the_email_shape_and_desktop_does_not() -> None:
    record = Customer(display_name="Acme", email="ada at acme")
    [problem] = validate("customer", record, Edition.QBO)
    assert (problem.field, problem.code) == ("email", "invalid_email")
    assert validate("customer", record, Edition.QBD) == []
    assert validate("customer", Customer(display_name="Acme", email="ada@acme.example"), Edition.QBO) == []
    assert validate("customer", Customer(display_name="Acme", email="ada@localhost"), Edition.QBO)


def test_online_needs_the_opening_quantity_of_an_inventory_item() -> None:
    _, record = build("item.inventory")
    bare = record.model_copy(update={"quantity_on_hand": None, "quantity_as_of": None})
    problems = validate("item", bare, Edition.QBO)
    assert [(p.field, p.code) for p in problems] == [
        ("quantity_on_hand", "required"),
        ("quantity_as_of", "required"),
    ]
    assert validate("item", bare, Edition.QBD) == []


def test_desktop_purchase_orders_take_item_lines_only() -> None:
    record_type, record = build(
        "purchase_order", "lines", [{"item_id": "i", "amount": "2"}, {"account": "Freight", "amount": "3"}]
    )
    assert validate(record_type, record, Edition.QBO) == []
    [problem] = validate(record_type, record, Edition.QBD)
    assert (problem.field, problem.code) == ("lines.1.account", "not_supported")
    assert problem.message.startswith(
        "QuickBooks Desktop has no place for line 2 account on a purchase order"
    )


def test_desktop_employee_addresses_have_two_lines_and_no_country() -> None:
    record_type, record = build(
        "employee", "address", {"line1": "1 Main", "line3": "Unit 4", "country": "US"}
    )
    assert validate(record_type, record, Edition.QBO) == []
    problems = validate(record_type, record, Edition.QBD)
    assert {(p.field, p.code) for p in problems} == {
        ("address.line3", "not_supported"),
        ("address.country", "not_supported"),
    }


def test_online_limits_taxable_invoices_to_750_lines() -> None:
    def lines(count: int, tax_code: str) -> list[dict[str, Any]]:
        return [{"item_id": "i", "amount": "1", "tax_code": tax_code} for _ in range(count)]

    at_limit = Invoice.model_validate({"customer_id": "c", "lines": lines(750, "TAX")})
    assert validate("invoice", at_limit, Edition.QBO) == []
    over = Invoice.model_validate({"customer_id": "c", "lines": lines(751, "TAX")})
    [problem] = validate("invoice", over, Edition.QBO)
    assert (problem.field, problem.code, problem.limit, problem.actual) == ("lines", "too_many", 750, 751)
    untaxed = Invoice.model_validate({"customer_id": "c", "lines": lines(751, "NON")})
    assert validate("invoice", untaxed, Edition.QBO) == []


def test_a_payment_applies_to_each_invoice_once() -> None:
    record = Payment.model_validate(
        {
            "customer_id": "c",
            "total_amount": "30",
            "applications": [
                {"invoice_id": "inv-1", "amount": "10"},
                {"invoice_id": "inv-1", "amount": "20"},
            ],
        }
    )
    for edition in Edition:
        [problem] = validate("payment", record, edition)
        assert (problem.field, problem.code) == ("applications.1", "not_unique_in_record")
        assert "'inv-1'" in problem.message


def test_problems_are_frozen_and_become_field_problems() -> None:
    problem = validate("customer", Customer(display_name="a:b"), Edition.QBO)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.code = "other"  # type: ignore[misc]
    assert problem.as_field_problem() == FieldProblem(
        field="display_name",
        message=problem.message,
        code="forbidden_character",
        actions=("rename", "link_existing"),
    )


def test_validate_refuses_unknown_types_and_mismatched_records() -> None:
    with pytest.raises(ValueError, match="unknown record type"):
        validate("estimate", Customer(display_name="x"), Edition.QBO)
    with pytest.raises(TypeError):
        validate("vendor", Customer(display_name="x"), Edition.QBO)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Corp", "acme corp"),
        ("  Acme   Corp ", "ACME\tCORP"),
        ("Straße", "STRASSE"),
        ("\uff23af\u00e9", "cafe\u0301"),
    ],
)
def test_name_key_ignores_case_and_spacing(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_name_key_keeps_different_names_apart() -> None:
    assert name_key("Acme Corp") != name_key("Acme Corp.")
    assert name_key("AcmeCorp") != name_key("Acme Corp")
    assert name_key("  Acme   Corp ") == "acme corp"


# --- the Desktop numbers against Intuit's files -----------------------------------------------------------


def desktop_limits(prefix: str) -> list[tuple[str, str, int]]:
    """(request element, field path, limit) for each Desktop limit cited from the file named by `prefix`."""
    found = []
    for limits in LENGTH_LIMITS[Edition.QBD].values():
        for limit in limits:
            if limit.source.startswith(prefix):
                section, path = limit.source.removeprefix(prefix).split(" ", 1)
                found.append((section, path, limit.limit))
    return found


def test_every_desktop_limit_cites_a_file() -> None:
    for limits in LENGTH_LIMITS[Edition.QBD].values():
        for limit in limits:
            assert limit.source.startswith((ML, XSD)), limit


def read_maxlength(path: Path) -> dict[tuple[str, str], int]:
    table: dict[tuple[str, str], int] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line.removeprefix("## ").strip()
        elif line.strip():
            *words, number = line.split()
            table[(section, " ".join(words))] = int(number)
    return table


@pytest.mark.skipif(not MAXLENGTH_FILE.exists(), reason="shared/reference is not beside the project")
def test_desktop_limits_match_maxlength_txt() -> None:
    table = read_maxlength(MAXLENGTH_FILE)
    cited = desktop_limits(ML)
    assert len(cited) > 40
    assert [(s, p, n) for s, p, n in cited if table.get((s, p)) != n] == []
    assert table[("CustomerAdd", "Name")] == 41


XS = "{http://www.w3.org/2001/XMLSchema}"


class Schema:
    """Just enough of an XSD walker to find the maxLength of a field path under a request element."""

    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()  # Intuit's own schema file, read locally
        self.elements = {e.get("name"): e for e in root.findall(f"{XS}element")}
        self.groups = {g.get("name"): g for g in root.findall(f"{XS}group")}

    def _children(self, node: ET.Element) -> list[ET.Element]:
        found: list[ET.Element] = []
        for child in node:
            if child.tag == f"{XS}element":
                found.append(child)
            elif child.tag == f"{XS}group" and child.get("ref"):
                found.extend(self._children(self.groups[child.get("ref", "")]))
            else:
                found.extend(self._children(child))
        return found

    def _resolve(self, element: ET.Element) -> ET.Element:
        ref = element.get("ref")
        return self.elements[ref] if ref else element

    def max_length(self, request: str, field_path: str) -> int | None:
        node = self.elements[request]
        for name in field_path.split():
            matches = [c for c in self._children(node) if name in (c.get("name"), c.get("ref"))]
            assert matches, f"{request} has no {name}"
            node = self._resolve(matches[0])
        facet = node.find(f".//{XS}maxLength")
        return None if facet is None else int(facet.get("value", "0"))


@pytest.mark.skipif(not QBXML_XSD.exists(), reason="shared/reference is not beside the project")
def test_desktop_limits_taken_from_the_xsd_match_it() -> None:
    schema = Schema(QBXML_XSD)
    cited = desktop_limits(XSD)
    assert {s for s, _, _ in cited} == {"EmployeeAdd", "PurchaseOrderAdd", "PurchaseOrderLineAdd"}
    assert [(s, p, n) for s, p, n in cited if schema.max_length(s, p) != n] == []
    # The walker agrees with maxlength.txt where both speak, and sees that an employee's Name has no limit.
    assert schema.max_length("CustomerAdd", "BillAddress City") == 31
    assert schema.max_length("EmployeeAdd", "Name") is None


# --- QuickBooks Desktop stores ISO-8859-1 ---------------------------------------------------------------


def test_typographic_punctuation_becomes_ascii_for_desktop() -> None:
    from qbsync.domain.desktop_text import desktop_text, unsupported_characters

    typed = "Smith\u2019s \u201cbest\u201d \u2013 2\u20143\u2026 caf\u00e9 \u00bd"
    assert desktop_text(typed) == 'Smith\'s "best" - 2-3... caf\u00e9 \u00bd'
    assert unsupported_characters(typed) == []
    assert unsupported_characters("\u20ac5 \u65e5\u672c \u20ac") == ["\u20ac", "\u65e5", "\u672c"]


def test_desktop_lengths_are_counted_after_the_punctuation_is_mapped() -> None:
    # 40 characters with an ellipsis: 42 once it is three dots, over CustomerAdd Name's 41.
    name = "A" * 39 + "\u2026"
    customer = Customer(display_name=name)
    [problem] = validate("customer", customer, Edition.QBD)
    assert (problem.field, problem.code, problem.limit, problem.actual) == (
        "display_name",
        "too_long",
        41,
        42,
    )
    assert "as QuickBooks stores it" in problem.message
    assert validate("customer", customer, Edition.QBO) == []
    assert validate("customer", Customer(display_name="A" * 38 + "\u2019"), Edition.QBD) == []


@pytest.mark.parametrize(
    ("record_type", "data", "field"),
    [
        ("customer", {"display_name": "Caf\u00e9 \u65e5\u672c"}, "display_name"),
        (
            "customer",
            {"display_name": "Acme", "billing_address": {"city": "\u0141\u00f3d\u017a"}},
            "billing_address.city",
        ),
        (
            "invoice",
            {"customer_id": "c-1", "lines": [{"description": "ok"}, {"description": "5 \u20ac per hour"}]},
            "lines.1.description",
        ),
    ],
    ids=["cjk-name", "polish-city", "euro-in-line"],
)
def test_a_character_outside_latin1_is_refused_for_desktop_naming_the_field(
    record_type: str, data: dict[str, Any], field: str
) -> None:
    record = RECORD_TYPES[record_type].model.model_validate(data)
    problems = validate(record_type, record, Edition.QBD)
    assert [(p.field, p.code) for p in problems] == [(field, "unsupported_character")]
    assert "ISO-8859-1" in problems[0].message
    assert "U+" in problems[0].message
    assert validate(record_type, record, Edition.QBO) == []


def test_a_bidirectional_control_is_refused_once_not_twice_for_desktop() -> None:
    problems = validate("customer", Customer(display_name="Ada\u202eLovelace"), Edition.QBD)
    assert [p.code for p in problems] == ["forbidden_character"]


def test_a_desktop_employee_needs_a_given_or_family_name_and_a_service_item_has_no_sku() -> None:
    employee = RECORD_TYPES["employee"].model.model_validate({"display_name": "Grace"})
    [problem] = validate("employee", employee, Edition.QBD)
    assert (problem.field, problem.code) == ("given_name", "required")
    assert "given name or family name" in problem.message
    assert validate("employee", employee, Edition.QBO) == []
    named = RECORD_TYPES["employee"].model.model_validate({"display_name": "Grace", "family_name": "Hopper"})
    assert validate("employee", named, Edition.QBD) == []

    service = RECORD_TYPES["item"].model.model_validate(
        {"kind": "service", "name": "Consulting", "sku": "C-1"}
    )
    assert [(p.field, p.code) for p in validate("item", service, Edition.QBD)] == [("sku", "not_supported")]
    assert validate("item", service, Edition.QBO) == []
