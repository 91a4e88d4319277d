"""`leanstack analyzers` and `leanstack analyze`: find the savings the recorded load supports."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanstack.cli._common import err_console, fail, parse_vars, progress_status, write_output
from leanstack.report import json_value

if TYPE_CHECKING:
    pass


class ReportFormat(StrEnum):
    """Formats the report renders to."""

    TABLE = "table"
    MARKDOWN = "markdown"
    HTML = "html"
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
        output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    ) -> None:
        """List the analyzers, their settings (defaults, descriptions) and the metrics they read."""
        from leanstack.analyzers import registry

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
        if output_format == "json":
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
        path: Annotated[Path, typer.Argument(help="Terraform directory or plan JSON")],
        metrics: Annotated[
            bool | None,
            typer.Option(
                "--metrics/--no-metrics",
                help="read recorded load (default: on when .leanstack/metrics.duckdb exists)",
            ),
        ] = None,
        store: Annotated[Path | None, typer.Option("--store", help="metric store file")] = None,
        only: Annotated[
            str | None, typer.Option("--only", help="comma-separated analyzers to run")
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="analyzer.setting=value (repeatable)"),
        ] = None,
        usage: Annotated[Path | None, typer.Option("--usage", help="usage file")] = None,
        var_file: Annotated[
            list[Path] | None, typer.Option("--var-file", help="extra .tfvars file (repeatable)")
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
            typer.Option("--format", help="table, markdown, html or json (default: table)"),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="write this format to FILE (format from the extension)"),
        ] = None,
        out_dir: Annotated[
            Path | None,
            typer.Option(
                "--out-dir",
                help="write report.{json,md,html,txt} here (default: STACK/.leanstack/report)",
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
        from leanstack.model.issues import Severity
        from leanstack.pipeline import PipelineError, PipelineOptions, analyze_stack, stack_dir
        from leanstack.report.render import render

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
        for issue in (*result.loaded.issues, *result.estimate.issues, *result.issues):
            err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
        if result.report is None or result.analysis is None:
            fail(f"{path}: no resource to analyze", 1)
        for issue in result.analysis.issues:
            err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
        if any(
            i.severity is Severity.ERROR and i.where in ("--set", "--only")
            for i in result.analysis.issues
        ):
            raise typer.Exit(2)

        report = result.report
        if write_reports:
            directory = out_dir or stack_dir(path) / ".leanstack" / "report"
            for fmt, suffix in _SUFFIXES.items():
                write_output(render(report, fmt.value), directory / f"report.{suffix}")
            err_console.print(
                f"Report written to {directory}/report.{{json,md,html,txt}}", markup=False
            )
        if out is not None:
            fmt = output_format or _format_for(out)
            write_output(render(report, fmt.value), out)
        else:
            write_output(render(report, (output_format or ReportFormat.TABLE).value), None)


_SUFFIXES = {
    ReportFormat.JSON: "json",
    ReportFormat.MARKDOWN: "md",
    ReportFormat.HTML: "html",
    ReportFormat.TABLE: "txt",
}


def _format_for(out: Path) -> ReportFormat:
    """The format a file name asks for (`.json`, `.md`, `.html`), else the table."""
    for fmt, suffix in _SUFFIXES.items():
        if out.suffix == f".{suffix}" or (suffix == "md" and out.suffix == ".markdown"):
            return fmt
    return ReportFormat.TABLE
