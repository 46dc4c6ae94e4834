"""The dashboard's templates and assets ship with the layer, compile, and take texts from the catalogue."""

from __future__ import annotations

import fnmatch
import re
import tomllib

from local import template as tpl
from qbsync.pages import catalogue, render

PAGES = tpl.ROOT / "layers/core/qbsync/pages"
SHIPPED = [p for p in (*PAGES.glob("templates/*"), *PAGES.glob("static/*")) if p.is_file()]


def test_the_layer_ships_the_templates_and_assets_and_a_wheel_names_them() -> None:
    layer = tpl.load()["Resources"]["CoreLayer"]["Properties"]["ContentUri"]
    assert all(p.is_relative_to(tpl.ROOT / layer) for p in SHIPPED)  # sam build copies ContentUri whole
    assert {p.name for p in SHIPPED} >= {"base.html", "overview.html", "dashboard.css", "dashboard.js"}
    project = tomllib.loads((tpl.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["qbsync.pages"]
    for path in SHIPPED:
        relative = path.relative_to(PAGES).as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), f"{relative} would be left out of a wheel"
    assert render.TEMPLATES == PAGES / "templates"
    assert render.STATIC == PAGES / "static"


def test_every_template_compiles_with_autoescaping_on() -> None:
    env = render.environment()
    assert env.autoescape is True
    for path in PAGES.glob("templates/*.html"):
        env.get_template(path.name)


def test_every_text_a_template_shows_is_in_the_catalogue() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()  # t("type." ~ record_type): a family of ids
    for path in PAGES.glob("templates/*.html"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", text))
        prefixes |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+\.)["']\s*~""", text))
        # outside Jinja's tags, a template holds markup only
        markup = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)
        words = re.sub(r"<[^>]*>", " ", markup)
        assert not re.search(r"[A-Za-z]{2,}", words), f"{path.name} has text outside the catalogue: {words!r}"
    assert used
    assert used <= set(catalogue.MESSAGES), sorted(used - set(catalogue.MESSAGES))
    from qbsync.domain.connections import ConnectionStatus
    from qbsync.domain.match_results import Found, RunState
    from qbsync.domain.matching import MatchRule
    from qbsync.domain.records import RECORD_TYPES
    from qbsync.domain.sync import SyncState
    from qbsync.usecases.dashboard import COLUMNS
    from qbsync.usecases.matches import MATCHED_TYPES

    families = {
        "counts.": COLUMNS,
        "state.": [s.value for s in SyncState],
        "status.": [s.value for s in ConnectionStatus],
        "type.": list(RECORD_TYPES),
        # the match tabs
        "list.": list(MATCHED_TYPES),
        "found.": [f.value for f in Found],
        "rule.": [r.value for r in MatchRule],
        "matches.run.": [s.value for s in RunState],
    }
    assert prefixes == set(families)
    for prefix, names in families.items():
        missing = [f"{prefix}{n}" for n in names if f"{prefix}{n}" not in catalogue.MESSAGES]
        assert not missing, missing
