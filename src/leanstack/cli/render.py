"""`leanstack render`: re-render a saved report JSON in any format."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leanstack.cli._common import choose_format, fail, format_option, out_option, write_output


class RenderFormat(StrEnum):
    """Formats `leanstack render` can write."""

    TABLE = "table"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add `render` to the root app."""

    @app.command("render")
    def render_command(
        report: Annotated[
            Path,
            typer.Argument(metavar="REPORT", help="report JSON written by `leanstack analyze`"),
        ],
        output_format: Annotated[
            RenderFormat | None,
            format_option("table, markdown, html or json"),
        ] = None,
        out: Annotated[
            Path | None,
            out_option(".json, .md, .html, .txt"),
        ] = None,
    ) -> None:
        """Render a saved report as a terminal table, a PR comment, an HTML page or JSON."""
        from leanstack.report.model import ReportError, load_report
        from leanstack.report.render import render, render_table

        fmt = choose_format(out, output_format, RenderFormat.TABLE, _FORMAT_BY_SUFFIX)
        try:
            loaded = load_report(report)
        except ReportError as exc:
            fail(str(exc))
        if fmt is RenderFormat.TABLE and out is None and sys.stdout.isatty():
            text = render_table(loaded, color=True)
        else:
            text = render(loaded, fmt.value)
        write_output(text, out)


_FORMAT_BY_SUFFIX = {
    ".json": RenderFormat.JSON,
    ".md": RenderFormat.MARKDOWN,
    ".markdown": RenderFormat.MARKDOWN,
    ".html": RenderFormat.HTML,
    ".htm": RenderFormat.HTML,
    ".txt": RenderFormat.TABLE,
}
