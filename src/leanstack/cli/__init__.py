"""The `leanstack` command line: thin wrappers over the library.

Each command group lives in its own module with a `register(app)` function; this module only
assembles them.
"""

from __future__ import annotations

import typer

from leanstack.cli import analyze, backtest, catalog, estimate, metrics, patch, render

app = typer.Typer(
    name="leanstack",
    help="Price an AWS Terraform stack, find the savings its recorded load supports, and patch it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
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
