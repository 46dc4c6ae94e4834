"""JSON bodies from outside (host app requests, Intuit's webhooks): read whole, or refused with a reason.

`load_json` is `json.loads` with the failures it lets escape turned into one `JsonInputError`:
- nesting: CPython's parser recurses once per array or object and raises RecursionError near 1,000 levels,
  and pydantic refuses to serialise a value a few hundred levels deep ("Maximum serialization depth
  exceeded"). No record, setting or webhook comes close to `MAX_JSON_DEPTH` levels; deeper is refused.
- text: the body must be UTF-8 (RFC 8259 §8.1), and strings may not hold unpaired surrogates such as
  "\\ud800": json accepts the escape (RFC 8259 §8.2 leaves it undefined) but the text cannot be encoded
  again, so storing or answering with it would fail later.
- numbers: decimals are read as Decimal, exactly as written: as floats, 1E-400 would become 0.0 and pass
  as a valid amount, and 0.1 would be a binary fraction. An integer of more than 4,300 digits raises
  ValueError (Python's int_max_str_digits).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_JSON_DEPTH = 32


class JsonInputError(ValueError):
    """A body that is not JSON this service reads; the message says why, as a sentence."""


def load_json(text: str | bytes) -> Any:
    """The decoded document; JsonInputError if it is not JSON, too deep, or holds text that is not Unicode."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        document = json.loads(text, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise JsonInputError("The body is not JSON: it is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            f"The body is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:  # the only other one json.loads raises: an integer beyond int_max_str_digits
        raise JsonInputError("The body has a number with too many digits.") from exc
    _check(document)
    return document


def _too_deep() -> JsonInputError:
    return JsonInputError(
        f"The body is nested more than {MAX_JSON_DEPTH} levels deep; at most {MAX_JSON_DEPTH} are accepted."
    )


def _check(document: Any) -> None:
    """Walks the document without recursion: depth, and every string and key is encodable Unicode."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth == MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key in value:
                    _check_text(key)
                value = value.values()
            pending.extend((child, depth + 1) for child in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        surrogate = text[exc.start]
        raise JsonInputError(
            f"The body has a string with an unpaired surrogate ({surrogate!a}); JSON text must be Unicode."
        ) from exc


__all__ = ["MAX_JSON_DEPTH", "JsonInputError", "load_json"]
