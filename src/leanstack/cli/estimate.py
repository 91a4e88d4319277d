"""`leanstack estimate`: price a Terraform stack (HCL directory or plan JSON)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from leanstack.cli._common import err_console, fail, write_output


class OutputFormat(StrEnum):
    """Output formats of `leanstack estimate`."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


def _parse_vars(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--var {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


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
    ) -> None:
        """Price every resource of a stack at list prices from the embedded, dated catalog."""
        from leanstack.catalog import default_local_catalogs, load_catalog
        from leanstack.estimate import estimate
        from leanstack.model.pricing import PricingStatus
        from leanstack.report.estimate import (
            render_json,
            render_markdown,
            render_table,
            render_table_rich,
        )
        from leanstack.terraform import load_stack
        from leanstack.usage.usage_file import find_usage_file, load_usage_file

        if not path.exists():
            fail(f"{path}: no such file or directory")
        variables = _parse_vars(var or [])
        for local in catalog_files or []:
            if not local.is_file():
                fail(f"--catalog {local}: no such file")
        for tfvars in var_file or []:
            if not tfvars.is_file():
                fail(f"--var-file {tfvars}: no such file")
        if usage is not None and not usage.is_file():
            fail(f"--usage {usage}: no such file")
        # The default local catalog (catalog import/fetch) first, then --catalog files on top.
        catalog = load_catalog([*default_local_catalogs(), *(catalog_files or [])])
        loaded = load_stack(path, var_files=list(var_file or []), variables=variables)
        usage_path = usage if usage is not None else find_usage_file(path)
        usage_file = load_usage_file(usage_path) if usage_path is not None else None
        result = estimate(loaded, catalog, usage_file)

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
