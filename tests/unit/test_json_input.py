"""JSON from outside is read whole or refused with a reason: no RecursionError, no unencodable string."""

from __future__ import annotations

import pytest

from qbsync.domain.json_input import MAX_JSON_DEPTH, JsonInputError, load_json


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def test_32_levels_of_nesting_are_read_and_33_are_refused() -> None:
    assert MAX_JSON_DEPTH == 32
    document = load_json(nested(32))
    for _ in range(32):
        document = document["a"]
    assert document == 1
    assert load_json("[" * 32 + "]" * 32) == [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    for text in (nested(33), "[" * 33 + "]" * 33, '{"records": [' + nested(31) + "]}"):
        with pytest.raises(JsonInputError, match="nested more than 32 levels deep"):
            load_json(text)


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_nesting_that_would_exhaust_the_parser_is_refused_as_too_deep(depth: int) -> None:
    with pytest.raises(JsonInputError, match="nested more than 32 levels deep"):
        load_json("[" * depth + "]" * depth)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"\xff\xfe{}", "The body is not JSON: it is not UTF-8 text."),
        (
            "{not json",
            "The body is not JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        ),
        (
            '{"name": "\\ud800"}',
            "The body has a string with an unpaired surrogate ('\\ud800'); JSON text must be Unicode.",
        ),
        (
            '{"\\udfff": 1}',
            "The body has a string with an unpaired surrogate ('\\udfff'); JSON text must be Unicode.",
        ),
        ("[" + "9" * 5000 + "]", "The body has a number with too many digits."),
    ],
    ids=["not-utf8", "syntax", "lone-surrogate", "surrogate-key", "huge-integer"],
)
def test_text_that_is_not_json_or_not_unicode_is_refused_with_a_reason(
    text: str | bytes, reason: str
) -> None:
    with pytest.raises(JsonInputError) as caught:
        load_json(text)
    assert str(caught.value) == reason


def test_paired_surrogate_escapes_are_one_character() -> None:
    assert load_json('{"name": "\\ud83d\\ude00"}') == {"name": "\N{GRINNING FACE}"}
