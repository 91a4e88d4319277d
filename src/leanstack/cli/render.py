"""`leanstack render`: re-render a saved report JSON in any format."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leanstack.cli._common import fail, write_output


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
        report: Annotated[Path, typer.Argument(help="report JSON written by `leanstack analyze`")],
        output_format: Annotated[
            RenderFormat, typer.Option("--format", help="table, markdown, html or json")
        ] = RenderFormat.TABLE,
        out: Annotated[
            Path | None, typer.Option("--out", help="write to a file instead of stdout")
        ] = None,
    ) -> None:
        """Render a saved report as a terminal table, a PR comment, an HTML page or JSON."""
        from leanstack.report.model import ReportError, load_report
        from leanstack.report.render import render, render_table

        try:
            loaded = load_report(report)
        except ReportError as exc:
            fail(str(exc))
        if output_format is RenderFormat.TABLE and out is None and sys.stdout.isatty():
            text = render_table(loaded, color=True)
        else:
            text = render(loaded, output_format.value)
        write_output(text, out)
