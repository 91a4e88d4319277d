"""Renderers: `Report -> str`, one per format, in a registry keyed by the format name."""

from __future__ import annotations

import json
from collections.abc import Callable

from leanstack.report._html import render_html
from leanstack.report._markdown import render_markdown
from leanstack.report._table import render_table
from leanstack.report._types import Report

Renderer = Callable[[Report], str]


def render_json(report: Report) -> str:
    """The report itself, keys in schema order, two-space indent, trailing newline."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}
"""Format name -> renderer. `md` is accepted as an alias of `markdown`."""

_ALIASES = {"md": "markdown", "text": "table"}

FORMATS: tuple[str, ...] = tuple(RENDERERS)


def render(report: Report, fmt: str) -> str:
    """Render the report in one format; an unknown format raises ValueError with one line."""
    name = _ALIASES.get(fmt, fmt)
    renderer = RENDERERS.get(name)
    if renderer is None:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderer(report)


__all__ = [
    "FORMATS",
    "RENDERERS",
    "Renderer",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_table",
]
