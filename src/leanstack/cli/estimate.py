"""`leanstack estimate`: price a Terraform stack (HCL directory or plan JSON)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from leanstack.cli._common import err_console, fail, parse_vars, progress_status, write_output


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
            Path, typer.Argument(help="Terraform directory or `terraform show -json` file")
        ],
        usage: Annotated[
            Path | None,
            typer.Option(
                "--usage", help="usage file (default: leanstack-usage.yml beside the stack)"
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
            OutputFormat, typer.Option("--format", help="table, json or markdown")
        ] = OutputFormat.TABLE,
        out: Annotated[
            Path | None, typer.Option("--out", help="write to a file instead of stdout")
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
            typer.Option("--store", help="metric store (default: STACK/.leanstack/metrics.duckdb)"),
        ] = None,
    ) -> None:
        """Price every resource of a stack at list prices from the embedded, dated catalog."""
        from leanstack.model.pricing import PricingStatus
        from leanstack.pipeline import PipelineError, PipelineOptions, price_stack
        from leanstack.report.estimate import (
            render_json,
            render_markdown,
            render_table,
            render_table_rich,
        )

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
        for issue in priced.issues:
            err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
        if priced.derived is not None:
            # Say which window each usage figure was measured over.
            for address, keys in sorted(priced.derived.values.items()):
                for key, value in sorted(keys.items()):
                    err_console.print(
                        f"usage from metrics: {address} {key} = {value.value:,.6g} "
                        f"over {value.window()}",
                        markup=False,
                    )
        for issue in result.issues:
            err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
        if output_format is OutputFormat.JSON:
            text = render_json(result)
        elif output_format is OutputFormat.MARKDOWN:
            text = render_markdown(result)
        elif out is None and sys.stdout.isatty():
            text = ""
            Console(highlight=False, soft_wrap=True).print(render_table_rich(result), end="")
        else:
            text = render_table(result)
        if text:
            write_output(text, out)
        estimated = [r for r in result.resources if r.status is not PricingStatus.UNKNOWN]
        if not estimated:
            err_console.print(f"error: {path}: no resource could be estimated", markup=False)
            raise typer.Exit(1)
