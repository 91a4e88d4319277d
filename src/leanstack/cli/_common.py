"""Helpers shared by the command modules: one-line errors and output destinations."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    err_console.print(f"warning: {message}", markup=False)


def write_output(text: str, out: Path | None) -> None:
    """Write to --out atomically, or to stdout."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """`--var NAME=VALUE` pairs."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--var {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


@contextmanager
def progress_status() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step, shown only on a terminal.

    Steps that finish within a second never flash: Rich's status draws after its first refresh.
    """
    if not err_console.is_terminal:
        yield lambda _step: None
        return
    with err_console.status("Starting", spinner="dots") as status:

        def update(step: str) -> None:
            status.update(f"{step}...")

        yield update
