"""The `leanstack` command line: thin wrappers over the library.

Each command group lives in its own module with a `register(app)` function; this module only
assembles them. Command modules import their heavy dependencies (numpy, duckdb, jinja2, pydantic
models, boto3) inside the command functions, so `leanstack --help` and `--version` start fast.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer

# Typer 0.29 vendors Click: its usage errors are these classes, not click's.
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from leanstack.cli import analyze, backtest, catalog, estimate, metrics, patch, render
from leanstack.cli._common import EXIT_USAGE, err_console, plain


def _usage_error(exc: UsageError) -> NoReturn:
    """One line on stderr and exit 2, instead of Click's usage block and library wording."""
    where = exc.ctx.command_path if exc.ctx is not None else "leanstack"
    message = plain(exc.format_message()).rstrip(".")
    err_console.print(f"error: {message} (see `{where} --help`)", markup=False)
    raise typer.Exit(EXIT_USAGE)


class _OneLineUsageErrors(TyperGroup):
    """The root group: every usage error below it (unknown option, bad enum value, missing
    argument) is one plain line and exit 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            _usage_error(exc)


app = typer.Typer(
    name="leanstack",
    help="Price an AWS Terraform stack, find the savings its recorded load supports, and patch it.",
    cls=_OneLineUsageErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from leanstack import __version__

        typer.echo(f"leanstack {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """leanstack: AWS cost analysis for Terraform stacks, backed by recorded load."""


@app.command("version")
def version() -> None:
    """Print the leanstack version and the embedded catalog date."""
    from leanstack import __version__
    from leanstack.catalog import CATALOG_DATE

    typer.echo(f"leanstack {__version__} (catalog {CATALOG_DATE})")


for _module in (estimate, catalog, metrics, analyze, backtest, render, patch):
    _module.register(app)

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
