"""`leanstack patch` and `leanstack diff`: the report as a Terraform patch, and cost diffs."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leanstack.cli._common import err_console, fail, format_option, out_option, print_issues, warn

if TYPE_CHECKING:
    from leanstack.model.issues import Issue
    from leanstack.patch import PatchRequest
    from leanstack.patch.costdiff import CostEntry


class DiffFormat(StrEnum):
    """Output formats of `leanstack diff`."""

    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"


def _split_ids(only: str | None) -> list[str]:
    return [part.strip() for part in (only or "").split(",") if part.strip()]


def _stack_root(report_path: Path, declared: Path | None, override: Path | None) -> Path:
    if override is not None:
        return override
    if declared is None:
        fail(f"{report_path}: the report names no stack path; pass --stack PATH")
    if declared.is_absolute() or declared.is_dir():
        return declared
    beside = report_path.parent / declared
    return beside if beside.is_dir() else declared


def patch_command(
    report_or_path: Annotated[
        Path,
        typer.Argument(
            metavar="REPORT_OR_PATH",
            help="A report JSON from `leanstack analyze`, or a stack directory.",
        ),
    ],
    only: Annotated[
        str | None,
        typer.Option("--only", metavar="LIST", help="Comma-separated recommendation ids."),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Apply the patch (atomically, with a backup).")
    ] = False,
    stack: Annotated[
        Path | None,
        typer.Option("--stack", metavar="DIR", help="The stack directory, if not the report's."),
    ] = None,
) -> None:
    """Print the report's Terraform changes as a unified diff; --write applies them."""
    from leanstack.patch import (
        apply_patch,
        check_in_copy,
        plan_patch,
        read_report,
        stale_files,
        unwritable,
    )
    from leanstack.patch.report import ReportChanges

    if not report_or_path.exists():
        fail(f"{report_or_path}: no such file or directory")
    ids = _split_ids(only)
    expected: dict[str, str] = {}
    var_files: tuple[str, ...] = ()
    if report_or_path.is_dir():
        root = report_or_path
        with err_console.status("analyzing the stack..."):
            requests, alternatives = _analyze_for_patch(root)
        known = {r.recommendation for r in requests}
        if not ids:
            for loser, winner in alternatives.items():
                warn(
                    f"[{loser}] left out: an alternative to [{winner}] (use --only {loser} to "
                    "apply it instead)"
                )
            requests = tuple(r for r in requests if r.recommendation not in alternatives)
        unknown = [i for i in ids if i not in known]
        if unknown:
            fail(
                f"{root}: no recommendation {', '.join(unknown)} "
                f"(it has {', '.join(sorted(known)) or 'none'})"
            )
        if ids:
            requests = tuple(r for r in requests if r.recommendation in set(ids))
    else:
        changes = read_report(report_or_path)
        if not isinstance(changes, ReportChanges):
            fail(changes.line())
        if ids:
            selected = changes.only(ids)
            if not isinstance(selected, ReportChanges):
                fail(selected.line())
            changes = selected
        else:
            changes, left_out = changes.default_selection()
            for note in left_out:
                warn(note)
        root = _stack_root(report_or_path, changes.stack_path, stack)
        if root.is_file():
            fail(f"{root}: is a plan file, not a Terraform directory; pass --stack DIR")
        if not root.is_dir():
            fail(f"{root}: the stack directory does not exist; pass --stack PATH")
        expected = dict(changes.files)
        if changes.input_kind == "plan":
            # The hashes are the plan file's: the configuration is checked by `before` values.
            warn(f"{report_or_path}: made from a plan; the configuration files are not hashed")
            expected = {}
        var_files = changes.var_files
        requests = changes.requests
        stale = stale_files(root, expected)
        if stale:
            more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
            fail(f"{root / stale[0].line()}{more}; nothing was changed")
    plan = plan_patch(root, requests, var_files=var_files)
    for skipped in plan.skipped:
        warn(skipped.line())
    for note in plan.notes:
        warn(note)
    if plan.empty:
        warn("no change to make")
        return
    text = plan.diff()
    recs = len({c.recommendation for c in plan.changes})
    summary = (
        f"{len(plan.changes)} change(s) from {recs} recommendation(s) in {len(plan.files)} "
        "file(s)" + (f"; {len(plan.skipped)} skipped (see above)" if plan.skipped else "")
    )
    if not write:
        err_console.print(summary, markup=False)
        typer.echo(text, nl=False)
        # Nothing is written: the checks run on a temporary copy of the stack.
        with err_console.status("checking the patch on a copy of the stack..."):
            problems, checked = check_in_copy(plan)
        for problem in problems:
            warn(f"the patch would not verify: {problem.line()}")
        if problems:
            raise typer.Exit(1)
        if checked:
            err_console.print(
                f"checked on a copy: the loader reads back {checked} recommended value(s)",
                markup=False,
            )
        return
    blocked = unwritable(plan)
    if blocked:
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        fail(f"{root / blocked[0].line()}{more}; nothing was changed")
    result = apply_patch(plan)
    if not result.ok:
        state = "rolled back, nothing changed" if result.rolled_back else "nothing was changed"
        for problem in result.problems[1:]:
            warn(problem.line())
        first = result.problems[0].line() if result.problems else "patch failed"
        fail(f"{first}; {state}", code=1)
    typer.echo(text, nl=False)
    err = err_console
    err.print(summary, markup=False)
    backup = result.backup_dir.relative_to(root) if result.backup_dir else None
    err.print(
        f"patched {len(result.written)} file(s) in {root}: {', '.join(result.written)}; "
        f"backup in {backup}",
        markup=False,
    )
    if result.loader_checked:
        err.print(
            f"verified: the loader reads back {result.loader_checked} recommended value(s)",
            markup=False,
        )
    if result.fmt is not None:
        if result.fmt.ok:
            err.print("terraform fmt -check: ok", markup=False)
        else:
            before = result.fmt.unformatted_before
            why = (
                f" ({', '.join(before)} did not pass it before the patch either)" if before else ""
            )
            warn(f"terraform fmt -check does not pass{why}:\n{result.fmt.output}")


def _analyze_for_patch(root: Path) -> tuple[tuple[PatchRequest, ...], dict[str, str]]:
    """Run the analysis `leanstack analyze` runs: its patch requests and losing alternatives."""
    from leanstack.cli._common import EXIT_NOTHING_DONE, exit_on_load_failure
    from leanstack.patch.report import losing_alternatives, requests_from_recommendations
    from leanstack.pipeline import PipelineError, analyze_stack

    try:
        result = analyze_stack(root)
    except PipelineError as exc:
        fail(str(exc))
    # The same contract as `analyze`: exit 2 on unreadable input, 1 when nothing was priced.
    exit_on_load_failure(
        root,
        (*result.loaded.issues, *result.estimate.issues, *result.issues),
        (str(r.status) for r in result.estimate.resources),
        failure="no resource to analyze",
    )
    if result.analysis is None:
        fail(f"{root}: no resource to analyze", EXIT_NOTHING_DONE)
    if result.store_path is None:
        warn(f"{root}: no recorded load; only recommendations that need none are patched")
    for issue in result.analysis.issues:
        warn(issue.line())
    recommendations = result.analysis.recommendations
    alternatives = losing_alternatives(
        (r.id, r.exclusive_group, r.monthly_savings) for r in recommendations
    )
    return requests_from_recommendations(recommendations), alternatives


def diff_command(
    base: Annotated[
        Path, typer.Argument(metavar="BASE", help="The base stack directory or plan JSON.")
    ],
    head: Annotated[
        Path | None, typer.Argument(metavar="HEAD", help="The head stack directory or plan JSON.")
    ] = None,
    compare_to: Annotated[
        Path | None,
        typer.Option(
            "--compare-to",
            metavar="REPORT",
            help="Compare the stack with the costs of a report JSON.",
        ),
    ] = None,
    format_: Annotated[
        DiffFormat | None,
        format_option("table, markdown or json"),
    ] = None,
    out: Annotated[
        Path | None,
        out_option(".json, .md, .txt"),
    ] = None,
) -> None:
    """The monthly cost change between two versions of a stack, by resource.

    Either side that cannot be loaded (a syntax error, no .tf files, a missing path) stops the
    command: a broken stack must not read as a cost cut.
    """
    from rich.console import Console

    from leanstack.cli._common import choose_format, write_output
    from leanstack.patch.costdiff import (
        diff_costs,
        entries_from_report,
        render_markdown,
        render_table,
        to_json,
    )
    from leanstack.patch.report import REPORT_KIND, SUPPORTED_MAJOR, schema_major

    fmt = choose_format(out, format_, DiffFormat.TABLE, _DIFF_FORMAT_BY_SUFFIX)
    if compare_to is not None:
        if head is not None:
            fail("pass either BASE HEAD or HEAD --compare-to REPORT, not both")
        head_path = base
        try:
            data = json.loads(compare_to.read_text(encoding="utf-8"))
        except OSError as exc:
            fail(f"{compare_to}: cannot read: {exc.strerror or exc}")
        except json.JSONDecodeError as exc:
            fail(f"{compare_to}:{exc.lineno}: not valid JSON: {exc.msg}")
        if not isinstance(data, dict) or data.get("kind", REPORT_KIND) != REPORT_KIND:
            fail(f"{compare_to}: not a leanstack report")
        if schema_major(data.get("schema_version")) != SUPPORTED_MAJOR:
            fail(
                f"{compare_to}: report schema version {data.get('schema_version')} is not "
                f"supported (this leanstack reads {SUPPORTED_MAJOR}.x)"
            )
        base_entries = entries_from_report(data, str(compare_to))
        # A report priced from recorded load is compared with the stack priced the same way.
        load = data.get("load")
        same_basis = isinstance(load, dict) and bool(load.get("resources"))
        if not isinstance(base_entries, list):
            fail(base_entries.line())
        base_label = str(compare_to)
        base_issues: list[Issue] = []
    else:
        if head is None:
            fail("pass BASE HEAD, or HEAD --compare-to REPORT")
        head_path = head
        for side in (base, head):
            if not side.exists():
                fail(f"{side}: not a stack directory or plan JSON")
        base_entries, base_issues = _price_side(base)
        base_label = str(base)
        same_basis = False
    if not head_path.exists():
        fail(f"{head_path}: not a stack directory or plan JSON")
    head_entries, head_issues = _price_side(head_path, recorded_load=same_basis)
    issues = [*base_issues, *head_issues]
    print_issues(i for i in issues if str(i.severity) != "info")
    diff = diff_costs(
        base_entries,
        head_entries,
        base_label=base_label,
        head_label=str(head_path),
        issues=[i for i in issues if str(i.severity) == "error"],
    )
    if fmt is DiffFormat.JSON:
        write_output(json.dumps(to_json(diff), indent=2), out)
    elif fmt is DiffFormat.MARKDOWN:
        write_output(render_markdown(diff), out)
    elif out is not None:
        console = Console(record=True, width=120)
        with console.capture():
            console.print(render_table(diff))
        write_output(console.export_text(), out)
    else:
        Console(highlight=False).print(render_table(diff))


_DIFF_FORMAT_BY_SUFFIX = {
    ".json": DiffFormat.JSON,
    ".md": DiffFormat.MARKDOWN,
    ".markdown": DiffFormat.MARKDOWN,
    ".txt": DiffFormat.TABLE,
}


def _price_side(path: Path, *, recorded_load: bool = False) -> tuple[list[CostEntry], list[Issue]]:
    """One side of a diff, priced; exit 2 if it cannot be loaded, 1 if nothing could be priced.

    Issue locations are made relative to the working directory (`BASE/main.tf:3`) so the two
    sides' lines can be told apart.
    """
    from leanstack.cli._common import EXIT_NOTHING_DONE, nothing_estimated, stopping_issues
    from leanstack.patch.costdiff import estimate_stack

    with err_console.status(f"pricing {path}..."):
        entries, raw_issues = estimate_stack(path, recorded_load=recorded_load)
    root = path if path.is_dir() else path.parent
    issues = [_located(issue, root) for issue in raw_issues]
    stopping = stopping_issues(issues)
    if stopping:
        for issue in stopping:
            text = issue.line().removesuffix(" (blocks with errors are skipped)")
            err_console.print(f"error: {text}", markup=False)
        fail(f"{path}: cannot be loaded; no cost diff")
    missing = any(str(i.code) == "missing_module" for i in issues)
    if entries or missing:
        # A side with resources of which none could be priced would read as a $0 stack.
        reason = nothing_estimated((e.status for e in entries), issues)
        if reason is not None:
            print_issues(issues)
            fail(f"{path}: no resource could be estimated{reason}; no cost diff", EXIT_NOTHING_DONE)
    return entries, issues


def _located(issue: Issue, root: Path) -> Issue:
    """The issue with its file relative to the working directory rather than the stack root."""
    from dataclasses import replace

    where = issue.where
    if not where or Path(where).is_absolute() or where.startswith(str(root)) or ":" not in where:
        return issue
    if root == Path("."):
        return issue
    return replace(issue, where=str(root / where))


def register(app: typer.Typer) -> None:
    """Add `patch` and `diff` to the root app."""
    app.command("patch")(patch_command)
    app.command("diff")(diff_command)
