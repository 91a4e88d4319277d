"""`leanstack analyzers` and `leanstack analyze`: find the savings the recorded load supports."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leanstack.cli._common import (
    EXIT_NOTHING_DONE,
    EXIT_USAGE,
    choose_format,
    err_console,
    exit_on_load_failure,
    fail,
    format_option,
    out_option,
    parse_vars,
    plain,
    print_issues,
    progress_status,
    unique_issues,
    write_output,
)


class ReportFormat(StrEnum):
    """Formats the report renders to."""

    TABLE = "table"
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


class AnalyzersFormat(StrEnum):
    """Formats of `leanstack analyzers`."""

    TEXT = "text"
    JSON = "json"


def parse_set(pairs: list[str]) -> dict[str, Any]:
    """`analyzer.setting=value` pairs; values parsed as JSON when they can be (numbers, bools)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or "." not in key:
            fail(f"--set {pair!r}: expected analyzer.setting=value")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


def register(app: typer.Typer) -> None:
    """Add `analyzers` and `analyze` to the root app."""

    @app.command("analyzers")
    def analyzers_command(
        output_format: Annotated[
            AnalyzersFormat, typer.Option("--format", metavar="FORMAT", help="text or json")
        ] = AnalyzersFormat.TEXT,
    ) -> None:
        """List the analyzers, their settings (defaults, descriptions) and the metrics they read."""
        from leanstack.analyzers import registry
        from leanstack.report import json_value

        rows: list[dict[str, Any]] = []
        for name, cls in registry().items():
            settings = []
            for field_name, info in cls.settings_model.model_fields.items():
                settings.append(
                    {
                        "name": field_name,
                        "default": json_value(info.default),
                        "description": info.description or "",
                    }
                )
            rows.append(
                {
                    "name": name,
                    "title": cls.title,
                    "description": (cls.__doc__ or "").strip().splitlines()[0],
                    "applies_to": sorted(cls.applies_to),
                    "needs": sorted(cls.needs),
                    "settings": settings,
                }
            )
        if output_format is AnalyzersFormat.JSON:
            write_output(json.dumps({"analyzers": rows}, indent=2), None)
            return
        lines = []
        for row in rows:
            lines.append(f"{row['name']}: {row['description']}")
            lines.append(f"  applies to: {', '.join(row['applies_to']) or '(the whole stack)'}")
            lines.append(f"  metrics:    {', '.join(row['needs']) or '(none)'}")
            for s in row["settings"]:
                lines.append(
                    f"  --set {row['name']}.{s['name']}={s['default']}  {s['description']}"
                )
            lines.append("")
        write_output("\n".join(lines), None)

    @app.command("analyze")
    def analyze_command(
        path: Annotated[
            Path, typer.Argument(metavar="PATH", help="Terraform directory or plan JSON")
        ],
        metrics: Annotated[
            bool | None,
            typer.Option(
                "--metrics/--no-metrics",
                help="read recorded load  [default: on when .leanstack/metrics.duckdb exists]",
            ),
        ] = None,
        store: Annotated[
            Path | None, typer.Option("--store", metavar="FILE", help="metric store file")
        ] = None,
        only: Annotated[
            str | None,
            typer.Option("--only", metavar="LIST", help="comma-separated analyzers to run"),
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                metavar="ANALYZER.SETTING=VALUE",
                help="an analyzer setting (repeatable; `leanstack analyzers` lists them)",
            ),
        ] = None,
        usage: Annotated[
            Path | None, typer.Option("--usage", metavar="FILE", help="usage file")
        ] = None,
        var_file: Annotated[
            list[Path] | None,
            typer.Option("--var-file", metavar="FILE", help="extra .tfvars file (repeatable)"),
        ] = None,
        var: Annotated[
            list[str] | None,
            typer.Option("--var", metavar="NAME=VALUE", help="set a variable (repeatable)"),
        ] = None,
        catalog_files: Annotated[
            list[Path] | None,
            typer.Option("--catalog", metavar="CSV", help="local catalog CSV (repeatable)"),
        ] = None,
        output_format: Annotated[
            ReportFormat | None,
            format_option("table, markdown, html or json"),
        ] = None,
        out: Annotated[
            Path | None,
            out_option(".json, .md, .html, .txt"),
        ] = None,
        out_dir: Annotated[
            Path | None,
            typer.Option(
                "--out-dir",
                metavar="DIR",
                help="write report.{json,md,html,txt} here, created if its parent exists  "
                "[default: STACK/.leanstack/report]",
            ),
        ] = None,
        write_reports: Annotated[
            bool,
            typer.Option(
                "--write-reports/--no-write-reports", help="write every format to --out-dir"
            ),
        ] = True,
    ) -> None:
        """Find the savings the recorded load supports, and write the report in every format."""
        from leanstack.pipeline import PipelineError, PipelineOptions, analyze_stack, stack_dir
        from leanstack.report.render import render

        fmt = choose_format(out, output_format, ReportFormat.TABLE, _FORMAT_BY_SUFFIX)
        if write_reports and out_dir is not None and not out_dir.is_dir():
            if not out_dir.parent.is_dir():
                fail(f"--out-dir {out_dir}: directory {out_dir.parent} does not exist")
            if out_dir.exists():
                fail(f"--out-dir {out_dir}: not a directory")
        options = PipelineOptions(
            var_files=tuple(var_file or ()),
            variables=parse_vars(var or []),
            usage=usage,
            catalogs=tuple(catalog_files or ()),
            store=store,
            use_metrics=metrics,
            only=[s.strip() for s in only.split(",")] if only else None,
            settings=parse_set(set_ or []),
        )
        try:
            with progress_status() as progress:
                result = analyze_stack(path, options, progress)
        except PipelineError as exc:
            fail(str(exc))
        # Exit 2 on an input that cannot be read, 1 when nothing could be priced; no report.
        exit_on_load_failure(
            path,
            (*result.loaded.issues, *result.estimate.issues, *result.issues),
            (str(r.status) for r in result.estimate.resources),
            failure="no resource to analyze",
        )
        if result.report is None or result.analysis is None:
            fail(f"{path}: no resource to analyze", EXIT_NOTHING_DONE)
        bad_options = [
            i
            for i in result.analysis.issues
            if str(i.severity) == "error" and i.where in ("--set", "--only")
        ]
        if bad_options:
            for issue in unique_issues(bad_options):
                text = plain(issue.line())
                if issue.where == "--set":
                    text = text.replace("unknown field", "unknown setting (`leanstack analyzers`)")
                err_console.print(f"error: {text}", markup=False)
            raise typer.Exit(EXIT_USAGE)
        print_issues(result.analysis.issues)

        report = result.report
        if write_reports:
            if out_dir is None:
                # The tool's own directory beside the stack: created on first use.
                directory = stack_dir(path) / ".leanstack" / "report"
                directory.mkdir(parents=True, exist_ok=True)
            else:
                directory = out_dir
                directory.mkdir(exist_ok=True)
            for report_format, suffix in _SUFFIXES.items():
                write_output(render(report, report_format.value), directory / f"report.{suffix}")
            err_console.print(
                f"Report written to {directory}/report.{{json,md,html,txt}}", markup=False
            )
        write_output(render(report, fmt.value), out)


_SUFFIXES = {
    ReportFormat.JSON: "json",
    ReportFormat.MARKDOWN: "md",
    ReportFormat.HTML: "html",
    ReportFormat.TABLE: "txt",
}

_FORMAT_BY_SUFFIX = {
    ".json": ReportFormat.JSON,
    ".md": ReportFormat.MARKDOWN,
    ".markdown": ReportFormat.MARKDOWN,
    ".html": ReportFormat.HTML,
    ".htm": ReportFormat.HTML,
    ".txt": ReportFormat.TABLE,
}
