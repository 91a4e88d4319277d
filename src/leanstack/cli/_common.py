"""Helpers shared by the command modules: one-line errors, output destinations, exit codes.

The exit-code contract every command follows (README, "Exit codes"):

* 2: bad arguments, a path that does not exist, or an input that cannot be read or parsed (the
  Terraform, a plan JSON, a tfvars file, the usage file, a local catalog, a report). The issue
  lines go to stderr; nothing goes to stdout.
* 1: the command ran but could not do its job (nothing could be estimated or analyzed).
* 0: the job was done; warnings, one line each, on stderr.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from leanstack.model.issues import Issue


class _LazyConsole:
    """Rich's stderr console, built on first use: `leanstack --help` never imports Rich."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        console = _LazyConsole._console
        if console is None:
            from rich.console import Console

            console = _LazyConsole._console = Console(
                stderr=True, highlight=False, soft_wrap=True
            )
        return getattr(console, name)


err_console = cast("Console", _LazyConsole())

EXIT_OK = 0
EXIT_NOTHING_DONE = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    err_console.print(f"error: {plain(message)}", markup=False)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    err_console.print(f"warning: {plain(message)}", markup=False)


# -- library wording -> plain wording ----------------------------------------------------------

_YAML_TOKENS = {
    "<block end>": "the end of the block",
    "<block mapping start>": "a new key",
    "<block sequence start>": "a list",
    "<stream end>": "the end of the file",
    "<scalar>": "a value",
    "<document start>": "a new document",
    "?": "a key",
    "-": "a list item",
}

# pydantic's phrasing (settings, report files, Typer's own coercion) rewritten once, here, so
# every command says the same thing the same way.
_PHRASES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\bValue error, "), ""),
    (re.compile(r"Extra inputs are not permitted"), "unknown field"),
    (re.compile(r"\bField required"), "missing (required)"),
    (
        re.compile(r"Input should be a valid number, unable to parse string as a number"),
        "not a number",
    ),
    (
        re.compile(r"Input should be a valid integer, unable to parse string as an integer"),
        "not a whole number",
    ),
    (
        re.compile(r"Input should be a valid integer, got a number with a fractional part"),
        "not a whole number",
    ),
    (re.compile(r"Input should be a valid boolean, unable to interpret input"), "not true/false"),
    (re.compile(r"Input should be a valid (\w+)"), r"not a valid \1"),
    (re.compile(r"Input should be (greater|less) than"), r"must be \1 than"),
    # A CSV row quoted as a Python list: show it as the row it was.
    (
        re.compile(r"\[('[^'\n]*'(?:, '[^'\n]*')*)\]"),
        lambda m: ",".join(part.strip("'") for part in m.group(1).split("', '")),
    ),
    # The usage file rejects negative numbers with the wording it uses for text.
    (re.compile(r"'(-[\d.]+)' is not a number"), r"\1 is negative (it must be 0 or more)"),
)

_YAML_EXPECTED = re.compile(r"expected (.+?), but (?:found|got) (.+)$")


def _yaml_token(token: str) -> str:
    token = token.strip().strip("'")
    return _YAML_TOKENS.get(token, repr(token))


def plain(message: str) -> str:
    """A library message in plain words: pydantic's and PyYAML's internal phrasing rewritten."""
    for pattern, replacement in _PHRASES:
        message = pattern.sub(replacement, message)
    match = _YAML_EXPECTED.search(message)
    if match is not None and "<" in message:
        expected, found = _yaml_token(match.group(1)), _yaml_token(match.group(2))
        hint = " (check the indentation)" if "block" in match.group(0) else ""
        message = message[: match.start()] + f"found {found} where {expected} was expected{hint}"
    return message


# -- issues and exit codes ---------------------------------------------------------------------

# Codes whose errors mean an input could not be read or parsed: the command stops (exit 2).
_STOPPING_CODES = frozenset({"parse_error", "plan_error", "usage_error"})


def unique_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in order, each once (stages pass their inputs' issues along)."""
    seen: set[tuple[str, str, str, str]] = set()
    out: list[Issue] = []
    for issue in issues:
        key = (str(issue.severity), str(issue.code), issue.where, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


# `module.eu-west-1.` / `module.app["a"].`: the module instance a message names.
_MODULE_INSTANCE = re.compile(r'module\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.')


def fold_module_copies(issues: Iterable[Issue]) -> list[tuple[Issue, int]]:
    """Issues with the number of further module instances that raised the same one.

    A module used twice (one per region, say) reports each problem of its source once per
    instance, at the same file and line: those become one line that says how many more.
    """
    groups: dict[tuple[str, str, str, str], list[Issue]] = {}
    for issue in unique_issues(issues):
        key = (
            str(issue.severity),
            str(issue.code),
            issue.where,
            _MODULE_INSTANCE.sub("module.*.", issue.message),
        )
        groups.setdefault(key, []).append(issue)
    return [(items[0], len(items) - 1) for items in groups.values()]


def print_issues(issues: Iterable[Issue]) -> None:
    """Each issue once, one line each, on stderr; copies from other module instances folded."""
    for issue, more in fold_module_copies(issues):
        suffix = f" (and {more} more module instance{'s' if more > 1 else ''})" if more else ""
        err_console.print(f"{issue.severity}: {plain(issue.line())}{suffix}", markup=False)


def stopping_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Errors that stop a command with exit 2: an input that cannot be read or parsed.

    A Terraform syntax error (Terraform itself would refuse the configuration), a directory with
    no .tf files, a plan JSON that is not a plan, a tfvars file with a syntax error, a usage file
    with errors, an unreadable local catalog.
    """
    return [
        i
        for i in unique_issues(issues)
        if str(i.severity) == "error" and str(i.code) in _STOPPING_CODES
    ]


def nothing_estimated(statuses: Iterable[str], issues: Iterable[Issue]) -> str | None:
    """Why nothing could be estimated, or None when some resource was priced (or is free).

    `statuses` are the PricedResource statuses; missing modules are named so the user knows to
    run `terraform init`.
    """
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    if counts.get("priced", 0) or counts.get("free", 0):
        return None
    parts = [f"{counts[s]} {s}" for s in ("unknown", "unsupported") if counts.get(s)]
    reason = f" ({', '.join(parts)})" if parts else ""
    missing = sum(1 for i in unique_issues(issues) if str(i.code) == "missing_module")
    if missing:
        plural = "s are" if missing > 1 else " is"
        reason += f"; {missing} module{plural} not on disk: run `terraform init` first"
    return reason


def exit_on_load_failure(
    path: Path,
    issues: Iterable[Issue],
    statuses: Iterable[str],
    *,
    failure: str = "no resource could be estimated",
) -> None:
    """Print the issues and exit 2 (unreadable input) or 1 (nothing estimated); else print them.

    On exit 2 only the stopping errors are printed: the rest describes an estimate that is not
    shown. Nothing goes to stdout either way.
    """
    issues = unique_issues(issues)
    stopping = stopping_issues(issues)
    if stopping:
        for issue in stopping:
            # The loader skips broken blocks and goes on; here the command stops instead.
            text = issue.line().removesuffix(" (blocks with errors are skipped)")
            err_console.print(f"error: {plain(text)}", markup=False)
        raise typer.Exit(EXIT_USAGE)
    print_issues(issues)
    reason = nothing_estimated(statuses, issues)
    if reason is not None:
        fail(f"{path}: {failure}{reason}", EXIT_NOTHING_DONE)


# -- output destinations -----------------------------------------------------------------------

F = TypeVar("F", bound=StrEnum)


def choose_format(
    out: Path | None,
    given: F | None,
    default: F,
    suffixes: Mapping[str, F],
) -> F:
    """The output format: --format, else --out's extension, else `default`.

    An --out extension that is unknown, or that names another format than --format, is a usage
    error naming both; so is an --out whose directory does not exist (nothing is created).
    """
    if out is None:
        return given if given is not None else default
    check_out(out)
    suffix = out.suffix.lower()
    if not suffix:
        return given if given is not None else default
    by_suffix = suffixes.get(suffix)
    if by_suffix is None:
        known = ", ".join(sorted(suffixes))
        fail(f"--out {out}: unknown extension {out.suffix} (use {known}, or no extension)")
    if given is not None and given is not by_suffix:
        fail(
            f"--out {out} is {by_suffix.value} by its extension but --format is {given.value}; "
            "make them agree, or drop one"
        )
    return by_suffix


def format_option(choices: str) -> Any:
    """The `--format` option every command shares: `choices` reads like "table or json"."""
    return typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"{choices}  [default: from --out's extension, or table]",
    )


def out_option(suffixes: str) -> Any:
    """The `--out` option every command shares: `suffixes` reads like ".json, .md, .txt"."""
    return typer.Option(
        "--out",
        metavar="FILE",
        help=f"write to FILE ({suffixes}) instead of stdout; the extension sets the format "
        "unless --format does; its directory must exist",
    )


def check_out(out: Path) -> None:
    """Fail early (exit 2) when --out cannot be written: no such directory, or a directory."""
    if out.is_dir():
        fail(f"--out {out}: is a directory")
    parent = out.parent
    if not parent.is_dir():
        fail(f"--out {out}: directory {parent} does not exist")


def write_output(text: str, out: Path | None) -> None:
    """Write to --out atomically, or to stdout; the directory must exist (none is created)."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    if not out.parent.is_dir():
        fail(f"--out {out}: directory {out.parent} does not exist")
    try:
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
