r"""The Accounting API's query language as a pure module: a tokenizer, a recursive-descent parser and the
evaluation of a parsed query over entities (plain dicts).

    query     := SELECT selection FROM name [WHERE condition {AND condition}]
                 [ORDERBY order {"," order}] {STARTPOSITION integer | MAXRESULTS integer}
    selection := "*" {"," name} | COUNT "(" "*" ")" | name {"," name}
    condition := name op value | name IN "(" value {"," value} ")"
    op        := "=" | "<" | ">" | "<=" | ">=" | LIKE            (LIKE knows only the % wildcard)
    order     := name [ASC | DESC]
    value     := 'text' (\' is a quote) | number | true | false

Keywords and names are case-insensitive; names may be nested (MetaData.LastUpdatedTime) and a reference
compares by its value (CustomerRef = '1'). Syntax errors raise QuerySyntaxError (Intuit answers 4000 "Error
parsing query"), well-formed but unsupported queries QueryValidationError (4001 "Invalid query").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import cmp_to_key
from typing import Any

KEYWORDS = frozenset({
    "select", "from", "where", "and", "or", "orderby", "asc", "desc", "startposition", "maxresults", "in",
    "like", "count",
})  # fmt: skip
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 1000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T")


class QuerySyntaxError(ValueError):
    """The text is not a query of the grammar (4000)."""


class QueryValidationError(ValueError):
    """A well-formed query the API refuses: an unknown entity or property, OR (4001)."""


Value = str | Decimal | bool


@dataclass(frozen=True)
class Token:
    kind: str  # keyword, name, string, number, op, punct, eof
    text: str
    value: Any
    column: int


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # =, <, >, <=, >=, in, like
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    fields: tuple[str, ...] = ()  # after "*," or instead of "*"; empty means every field
    star: bool = True
    where: tuple[Condition, ...] = ()
    order: tuple[Order, ...] = ()
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS

    def field_names(self) -> list[str]:
        return [*self.fields, *(c.field for c in self.where), *(o.field for o in self.order)]


# ------------------------------------------------------------ tokenizer


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, end = 0, len(text)
    while i < end:
        char, column = text[i], i + 1
        if char.isspace():
            i += 1
        elif char == "'":
            value, i = _string(text, i)
            tokens.append(Token("string", text[column - 1 : i], value, column))
        elif (match := _NUMBER.match(text, i)) and (char != "-" or not tokens or tokens[-1].kind == "op"):
            tokens.append(Token("number", match.group(), Decimal(match.group()), column))
            i = match.end()
        elif match := _NAME.match(text, i):
            word = match.group()
            keyword = word.lower() in KEYWORDS
            tokens.append(
                Token("keyword" if keyword else "name", word, word.lower() if keyword else word, column)
            )
            i = match.end()
        elif text.startswith(("<=", ">=", "!=", "<>"), i):
            tokens.append(Token("op", text[i : i + 2], text[i : i + 2], column))
            i += 2
        elif char in "=<>":
            tokens.append(Token("op", char, char, column))
            i += 1
        elif char in "*,()":
            tokens.append(Token("punct", char, char, column))
            i += 1
        else:
            raise QuerySyntaxError(f'Lexical error at line 1, column {column}.  Encountered: "{char}"')
    tokens.append(Token("eof", "<EOF>", None, end + 1))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
        elif char == "'":
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise QuerySyntaxError(f'Lexical error at line 1, column {len(text) + 1}.  Encountered: <EOF> after : ""')


# ------------------------------------------------------------ parser


def parse(text: str) -> Query:
    return _Parser(tokenize(text)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    # ---- helpers
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, value: object = None) -> bool:
        token = self.peek()
        return token.kind == kind and (value is None or token.value == value)

    def expect(self, kind: str, value: object = None) -> Token:
        if not self.at(kind, value):
            raise _unexpected(self.peek())
        return self.take()

    # ---- grammar
    def query(self) -> Query:
        self.expect("keyword", "select")
        count, star, fields = self.selection()
        self.expect("keyword", "from")
        entity = self.expect("name").text
        where = self.where() if self.at("keyword", "where") else ()
        order = self.order_by() if self.at("keyword", "orderby") else ()
        start, max_results = self.paging()
        if self.at("keyword", "or"):
            raise _or_refused(self.peek())
        self.expect("eof")
        return Query(entity, count, fields, star, where, order, start, max_results)

    def selection(self) -> tuple[bool, bool, tuple[str, ...]]:
        if self.at("keyword", "count"):
            self.take()
            self.expect("punct", "(")
            self.expect("punct", "*")
            self.expect("punct", ")")
            return True, False, ()
        if self.at("punct", "*"):
            self.take()
            extra: list[str] = []
            while self.at("punct", ","):
                self.take()
                extra.append(self.expect("name").text)
            return False, True, tuple(extra)
        fields = [self.expect("name").text]
        while self.at("punct", ","):
            self.take()
            fields.append(self.expect("name").text)
        return False, False, tuple(fields)

    def where(self) -> tuple[Condition, ...]:
        self.take()
        conditions = [self.condition()]
        while True:
            if self.at("keyword", "or"):
                raise _or_refused(self.peek())
            if not self.at("keyword", "and"):
                return tuple(conditions)
            self.take()
            conditions.append(self.condition())

    def condition(self) -> Condition:
        name = self.expect("name").text
        token = self.peek()
        if token.kind == "keyword" and token.value == "in":
            self.take()
            self.expect("punct", "(")
            values = [self.value()]
            while self.at("punct", ","):
                self.take()
                values.append(self.value())
            self.expect("punct", ")")
            return Condition(name, "in", tuple(values))
        if token.kind == "keyword" and token.value == "like":
            self.take()
            pattern = self.expect("string")
            return Condition(name, "like", (pattern.value,))
        if token.kind == "op" and token.value in ("=", "<", ">", "<=", ">="):
            self.take()
            return Condition(name, str(token.value), (self.value(),))
        raise _unexpected(token)

    def value(self) -> Value:
        token = self.peek()
        if token.kind in ("string", "number"):
            return self.take().value  # type: ignore[no-any-return]
        if token.kind == "name" and token.text.lower() in ("true", "false"):
            return self.take().text.lower() == "true"
        raise _unexpected(token)

    def order_by(self) -> tuple[Order, ...]:
        self.take()
        orders = [self.order()]
        while self.at("punct", ","):
            self.take()
            orders.append(self.order())
        return tuple(orders)

    def order(self) -> Order:
        name = self.expect("name").text
        if self.at("keyword", "desc") or self.at("keyword", "asc"):
            return Order(name, self.take().value == "desc")
        return Order(name)

    def paging(self) -> tuple[int, int]:
        start, max_results = 1, DEFAULT_MAX_RESULTS
        while self.at("keyword", "startposition") or self.at("keyword", "maxresults"):
            keyword = self.take().value
            token = self.expect("number")
            if token.value != token.value.to_integral_value() or token.value < 0:
                raise _unexpected(token)
            if keyword == "startposition":
                start = max(1, int(token.value))
            else:
                max_results = min(int(token.value), MAX_RESULTS)
        return start, max_results


def _unexpected(token: Token) -> QuerySyntaxError:
    if token.kind == "eof":
        return QuerySyntaxError(f'Encountered "<EOF>" at line 1, column {token.column}.')
    kinds = {"name": "<ID>", "string": "<STRING>", "number": "<INTEGER>"}
    label = kinds.get(token.kind, f'"{str(token.text).lower()}"')
    return QuerySyntaxError(f'Encountered " {label} "{token.text} "" at line 1, column {token.column}.')


def _or_refused(token: Token) -> QueryValidationError:
    return QueryValidationError(
        f"OR is not supported (line 1, column {token.column}): use IN, or send separate queries"
    )


# ------------------------------------------------------------ evaluation


def resolve(record: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, keys matched case-insensitively; a reference gives its `value`."""
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        key = part if part in current else next((k for k in current if k.lower() == part.lower()), None)
        if key is None:
            return None
        current = current[key]
    if isinstance(current, dict) and "value" in current:
        return current["value"]
    return current


def evaluate(
    query: Query, records: Iterable[dict[str, Any]], *, zone: tzinfo, default_order: Sequence[Order] = ()
) -> tuple[list[dict[str, Any]], int]:
    """The page of matching records (sorted, STARTPOSITION/MAXRESULTS applied) and how many matched."""
    matched = [record for record in records if all(_matches(record, c, zone) for c in query.where)]
    order = query.order or tuple(default_order)
    if order:
        matched.sort(key=cmp_to_key(_by(order, zone)))
    first = query.start - 1
    return matched[first : first + query.max_results], len(matched)


def _matches(record: dict[str, Any], condition: Condition, zone: tzinfo) -> bool:
    actual = resolve(record, condition.field)
    if actual is None:
        return False
    if condition.op == "like":
        pattern = ".*".join(re.escape(part) for part in str(condition.values[0]).split("%"))
        return re.fullmatch(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    if condition.op == "in":
        return any(compare(actual, value, zone) == 0 for value in condition.values)
    result = compare(actual, condition.values[0], zone)
    if result is None:
        return False
    tests: dict[str, Callable[[int], bool]] = {
        "=": lambda r: r == 0,
        "<": lambda r: r < 0,
        ">": lambda r: r > 0,
        "<=": lambda r: r <= 0,
        ">=": lambda r: r >= 0,
    }
    return tests[condition.op](result)


def compare(actual: Any, expected: Any, zone: tzinfo) -> int | None:
    """-1, 0 or 1; None when the two cannot be compared (the condition is then false)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        left, right = _as_bool(actual), _as_bool(expected)
        return None if left is None or right is None else (left > right) - (left < right)
    numbers = _as_number(actual), _as_number(expected)
    if numbers[0] is not None and numbers[1] is not None:
        return (numbers[0] > numbers[1]) - (numbers[0] < numbers[1])
    moments = _as_moment(actual, zone), _as_moment(expected, zone)
    if moments[0] is not None and moments[1] is not None:
        return (moments[0] > moments[1]) - (moments[0] < moments[1])
    left_text, right_text = str(actual).casefold(), str(expected).casefold()
    return (left_text > right_text) - (left_text < right_text)


def _by(order: Sequence[Order], zone: tzinfo) -> Callable[[dict[str, Any], dict[str, Any]], int]:
    def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
        for item in order:
            left, right = resolve(a, item.field), resolve(b, item.field)
            if left is None or right is None:
                result = (left is None) - (right is None)  # missing values last
            else:
                result = compare(left, right, zone) or 0
            if result:
                return -result if item.descending else result
        return 0

    return cmp


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _as_moment(value: Any, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), zone)
        if _DATETIME.match(text):
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    except ValueError:
        return None
    return None
