"""Errors the domain raises; entry points map each class to one HTTP status in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of an input, and what to do about it: a machine-readable `code`, the
    `limit` and `actual` length when a length is at stake, and the `actions` that fix it."""

    field: str
    message: str
    code: str = ""
    limit: int | None = None
    actual: int | None = None
    actions: tuple[str, ...] = ()


class DomainError(Exception):
    """Base class: a rule of the domain refused the request."""

    title = "Request refused"

    def __init__(self, detail: str, code: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code  # which rule refused, for words of its own (the dashboard's catalogue)


class NotFoundError(DomainError):
    title = "Not found"


class ConflictError(DomainError):
    title = "Conflict"


@dataclass
class InvalidInputError(DomainError):
    """The input breaks a rule; `problems` names each field and why."""

    detail: str
    problems: list[FieldProblem] = field(default_factory=list)
    title = "Invalid input"

    def __post_init__(self) -> None:
        super().__init__(self.detail)
