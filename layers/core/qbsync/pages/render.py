"""Rendering the dashboard's templates: one Jinja2 environment per container, built on first use (the
function's cold start imports no Jinja2), autoescaping every value."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from qbsync.pages.catalogue import has, t

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


@functools.cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: values never become markup
        undefined=StrictUndefined,  # a misspelt value fails the page instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = t
    env.globals["has"] = has
    return env


def compile_templates() -> None:
    """Compile every template now (Jinja2 keeps them): before SnapStart's snapshot (functions/connect)."""
    env = environment()
    for name in env.list_templates():
        env.get_template(name)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@functools.cache
def static_file(name: str) -> str:
    """A file of `static/` (the stylesheet, the script), read once."""
    return (STATIC / name).read_text(encoding="utf-8")


class LiveBar(TypedDict):
    """A progress bar as the dashboard's script sets it: `value` None is an indeterminate bar."""

    value: int | None
    text: str
    valuetext: str


def live_bar(value: int | None, text: str, valuetext: str | None = None) -> LiveBar:
    return {"value": value, "text": text, "valuetext": valuetext or text}
