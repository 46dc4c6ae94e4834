"""What a host form needs before it pushes, through ApiFunction on moto: each field's limits per edition in
the record schema, a dry run of a push's checks, and record lists filtered by several states and by text."""

from __future__ import annotations

from typing import Any

import pytest

from local.lambdas import LocalFunction
from qbsync.adapters.qbxml.mapping import NAME_MAX
from qbsync.domain.records import RECORD_TYPES
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import LENGTH_LIMITS
from tests.handlers.test_api_records import call


@pytest.fixture
def api(functions: dict[str, LocalFunction]) -> LocalFunction:
    return functions["ApiFunction"]


def schema_limits(api: LocalFunction, record_type: str) -> dict[str, Any]:
    status, schema = call(api, "api_get_record.json", path=f"/v1/schemas/records/{record_type}")
    assert status == 200
    limits: dict[str, Any] = schema["x-qbsync-limits"]
    return limits


@pytest.mark.parametrize("record_type", list(RECORD_TYPES))
def test_the_schema_gives_each_limit_the_push_enforces_in_each_edition(
    api: LocalFunction, record_type: str
) -> None:
    limits = schema_limits(api, record_type)
    expected: dict[str, dict[str, dict[str, int]]] = {}
    for edition, table in LENGTH_LIMITS.items():
        for key, rules in table.items():
            if key.split(".")[0] != record_type:
                continue
            for rule in rules:
                expected.setdefault(rule.field, {})[edition.value] = {"maxLength": rule.limit}
    assert limits == expected
    assert limits  # every record type has at least one limited field


def test_a_customer_name_may_be_500_characters_online_and_41_on_desktop(api: LocalFunction) -> None:
    limits = schema_limits(api, "customer")
    assert limits["display_name"] == {"qbo": {"maxLength": 500}, "qbd": {"maxLength": 41}}
    assert limits["billing_address.postal_code"] == {"qbo": {"maxLength": 30}, "qbd": {"maxLength": 13}}
    invoice = schema_limits(api, "invoice")
    assert invoice["lines.*.description"] == {"qbo": {"maxLength": 4000}, "qbd": {"maxLength": 4095}}
    assert invoice["terms"] == {"qbd": {"maxLength": 31}}  # Online sets no length for it


def test_the_desktop_rename_limits_are_the_schema_limits(api: LocalFunction) -> None:
    for record_type, most in NAME_MAX.items():
        name_field = RECORD_TYPES[record_type].name_field
        assert name_field is not None
        assert schema_limits(api, record_type)[name_field][Edition.QBD.value] == {"maxLength": most}
