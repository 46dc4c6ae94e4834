"""Text as QuickBooks Desktop stores it: ISO-8859-1 (Latin-1), one byte per character.

QuickBooks Desktop refuses a qbXML message carrying characters outside ISO-8859-1 ("QuickBooks found an error
with the XML"), and entity-encoded ones are stored as "?" (shared/reference/qbwc/NOTES.md §3.5, from
qbwc/qbxml#8). Text typed in word processors and phones is full of typographic punctuation that has an ASCII
twin; `desktop_text` maps it, and everything else outside Latin-1 is refused when the record is pushed
(`unsupported_characters`), never sent to turn into "?". Validation checks lengths on `desktop_text`'s result,
and the qbXML codec writes that same result: one function for both.
"""

from __future__ import annotations

from collections.abc import Mapping

LATIN1_MAX = 0xFF

# Typographic punctuation (most of it in Windows-1252's 0x80-0x9F block, which is not Latin-1) and the
# Unicode spaces and dashes a keyboard or a word processor puts in text, each with its plain ASCII twin.
TYPOGRAPHIC_TO_ASCII: Mapping[str, str] = {
    "\u2018": "'",  # LEFT SINGLE QUOTATION MARK
    "\u2019": "'",  # RIGHT SINGLE QUOTATION MARK (the apostrophe phones type)
    "\u201a": "'",  # SINGLE LOW-9 QUOTATION MARK
    "\u201b": "'",  # SINGLE HIGH-REVERSED-9 QUOTATION MARK
    "\u2032": "'",  # PRIME
    "\u2039": "<",  # SINGLE LEFT-POINTING ANGLE QUOTATION MARK
    "\u203a": ">",  # SINGLE RIGHT-POINTING ANGLE QUOTATION MARK
    "\u201c": '"',  # LEFT DOUBLE QUOTATION MARK
    "\u201d": '"',  # RIGHT DOUBLE QUOTATION MARK
    "\u201e": '"',  # DOUBLE LOW-9 QUOTATION MARK
    "\u201f": '"',  # DOUBLE HIGH-REVERSED-9 QUOTATION MARK
    "\u2033": '"',  # DOUBLE PRIME
    "\u2010": "-",  # HYPHEN
    "\u2011": "-",  # NON-BREAKING HYPHEN
    "\u2012": "-",  # FIGURE DASH
    "\u2013": "-",  # EN DASH
    "\u2014": "-",  # EM DASH
    "\u2015": "-",  # HORIZONTAL BAR
    "\u2212": "-",  # MINUS SIGN
    "\u2026": "...",  # HORIZONTAL ELLIPSIS
    "\u2022": "*",  # BULLET
    "\u2002": " ",  # EN SPACE
    "\u2003": " ",  # EM SPACE
    "\u2009": " ",  # THIN SPACE
    "\u200a": " ",  # HAIR SPACE
    "\u202f": " ",  # NARROW NO-BREAK SPACE
    "\u200b": "",  # ZERO WIDTH SPACE: invisible, nothing to keep
    "\ufeff": "",  # ZERO WIDTH NO-BREAK SPACE (a byte-order mark pasted into text)
}
_TABLE = str.maketrans(dict(TYPOGRAPHIC_TO_ASCII))


def desktop_text(value: str) -> str:
    """`value` with its typographic punctuation in ASCII: what QuickBooks Desktop is sent and stores."""
    return value.translate(_TABLE)


def unsupported_characters(value: str) -> list[str]:
    """The characters of `value` QuickBooks Desktop cannot store even after `desktop_text`, each once, in
    order of first appearance."""
    return list(dict.fromkeys(c for c in desktop_text(value) if ord(c) > LATIN1_MAX))


__all__ = ["LATIN1_MAX", "TYPOGRAPHIC_TO_ASCII", "desktop_text", "unsupported_characters"]
