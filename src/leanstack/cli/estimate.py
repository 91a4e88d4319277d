"""`leanstack estimate`: price a Terraform stack (HCL directory or plan JSON)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leanstack.cli._common import (
    choose_format,
    err_console,
    exit_on_load_failure,
    fail,
    format_option,
    out_option,
    parse_vars,
    progress_status,
    write_output,
)


class OutputFormat(StrEnum):
    """Output formats of `leanstack estimate`."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


def register(app: typer.Typer) -> None:
    """Add `estimate` to the root app."""

    @app.command("estimate")
    def estimate_command(
        path: Annotated[
            Path,
            typer.Argument(
                metavar="PATH", help="Terraform directory or `terraform show -json` file"
            ),
        ],
        usage: Annotated[
            Path | None,
            typer.Option(
                "--usage",
                metavar="FILE",
                help="usage file  [default: leanstack-usage.yml beside the stack]",
            ),
        ] = None,
        var_file: Annotated[
            list[Path] | None,
            typer.Option("--var-file", metavar="FILE", help="extra .tfvars file (repeatable)"),
        ] = None,
        var: Annotated[
            list[str] | None,
            typer.Option("--var", metavar="NAME=VALUE", help="set a variable (repeatable)"),
        ] = None,
        output_format: Annotated[
            OutputFormat | None,
            format_option("table, json or markdown"),
        ] = None,
        out: Annotated[
            Path | None,
            out_option(".json, .md, .txt"),
        ] = None,
        catalog_files: Annotated[
            list[Path] | None,
            typer.Option(
                "--catalog",
                metavar="CSV",
                help="local catalog CSV layered over the embedded one (repeatable)",
            ),
        ] = None,
        metrics: Annotated[
            bool,
            typer.Option(
                "--metrics",
                help="derive usage (requests, GB processed...) from the recorded load",
            ),
        ] = False,
        store: Annotated[
            Path | None,
            typer.Option(
                "--store",
                metavar="FILE",
                help="metric store  [default: STACK/.leanstack/metrics.duckdb]",
            ),
        ] = None,
    ) -> None:
        """Price every resource of a stack at list prices from the embedded, dated catalog."""
        from rich.console import Console

        from leanstack.pipeline import PipelineError, PipelineOptions, price_stack
        from leanstack.report.estimate import (
            render_json,
            render_markdown,
            render_table,
            render_table_rich,
        )

        fmt = choose_format(out, output_format, OutputFormat.TABLE, _SUFFIXES)
        options = PipelineOptions(
            var_files=tuple(var_file or ()),
            variables=parse_vars(var or []),
            usage=usage,
            catalogs=tuple(catalog_files or ()),
            store=store,
            use_metrics=metrics,
        )
        try:
            with progress_status() as progress:
                priced = price_stack(path, options, progress)
        except PipelineError as exc:
            fail(str(exc))
        result = priced.estimate
        # Exit 2 on an input that cannot be read, 1 when nothing could be priced; no table.
        exit_on_load_failure(
            path,
            (*priced.issues, *result.issues),
            (str(r.status) for r in result.resources),
        )
        if priced.derived is not None:
            # Say which window each usage figure was measured over.
            for address, keys in sorted(priced.derived.values.items()):
                for key, value in sorted(keys.items()):
                    err_console.print(
                        f"usage from metrics: {address} {key} = {value.value:,.6g} "
                        f"over {value.window()}",
                        markup=False,
                    )
        if fmt is OutputFormat.JSON:
            text = render_json(result)
        elif fmt is OutputFormat.MARKDOWN:
            text = render_markdown(result)
        elif out is None and sys.stdout.isatty():
            text = ""
            console = Console(highlight=False, soft_wrap=True)
            # Fit the terminal: long names wrap in their column instead of the line overflowing.
            console.print(render_table_rich(result, width=console.width), end="")
        else:
            text = render_table(result)
        if text:
            write_output(text, out)


_SUFFIXES = {
    ".json": OutputFormat.JSON,
    ".md": OutputFormat.MARKDOWN,
    ".markdown": OutputFormat.MARKDOWN,
    ".txt": OutputFormat.TABLE,
}
