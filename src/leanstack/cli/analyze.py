"""`leanstack analyzers` and `leanstack analyze`: find the savings the recorded load supports."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanstack.cli._common import err_console, fail, write_output

if TYPE_CHECKING:
    from leanstack.analysis import AnalysisResult
    from leanstack.model.findings import Finding, Recommendation
    from leanstack.usage.series import MetricSeries


class AnalyzeFormat(StrEnum):
    """Output formats of `leanstack analyze`."""

    JSON = "json"
    TABLE = "table"


def jsonable(value: Any) -> Any:
    """Evidence and attribute values as JSON: money as decimal strings, NaN as null."""
    from leanstack.model.resource import Unknown

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Unknown):
        return "(known after apply)"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    try:
        number = float(value)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)
    return None if math.isnan(number) else number


def _money(value: Decimal) -> str:
    from leanstack.model.money import quantize_money

    return str(quantize_money(value))


def recommendation_to_json(rec: Recommendation) -> dict[str, Any]:
    """One recommendation in the report JSON."""
    from leanstack.analysis import savings_range

    low, high = savings_range(rec)
    return {
        "id": rec.id,
        "analyzer": rec.analyzer,
        "address": rec.address,
        "title": rec.title,
        "phase": rec.phase.value,
        "changes": [
            {
                "path": c.path,
                "before": jsonable(c.before),
                "after": jsonable(c.after),
                **({"new_block": c.new_block} if c.new_block else {}),
            }
            for c in rec.changes
        ],
        "monthly_cost_before": _money(rec.monthly_cost_before),
        "monthly_cost_after": _money(rec.monthly_cost_after),
        "monthly_savings": _money(rec.monthly_savings),
        "monthly_savings_range": [_money(low), _money(high)],
        "confidence": rec.confidence.value,
        "evidence": jsonable(rec.evidence),
        "risks": list(rec.risks),
        "assumptions": list(rec.assumptions),
        "exclusive_group": rec.exclusive_group,
    }


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """One finding in the report JSON."""
    return {
        "analyzer": finding.analyzer,
        "address": finding.address,
        "status": finding.status.value,
        "summary": finding.summary,
        "evidence": jsonable(finding.evidence),
        "recommendation": finding.recommendation.id if finding.recommendation else None,
    }


def analysis_to_json(result: AnalysisResult, estimate: Any = None) -> dict[str, Any]:
    """The report JSON: findings, recommendations and totals (see issue 4 item 8)."""
    totals = result.totals
    out: dict[str, Any] = {}
    if estimate is not None:
        out["catalog"] = {
            "date": getattr(estimate, "catalog_date", None),
            "source": getattr(estimate, "catalog_source", None),
        }
    out["analyzers"] = list(result.analyzers)
    out["findings"] = [finding_to_json(f) for f in result.findings]
    out["recommendations"] = [recommendation_to_json(r) for r in result.recommendations]
    out["totals"] = {
        "monthly_cost": _money(totals.monthly_cost),
        "monthly_savings": _money(totals.monthly_savings),
        "monthly_savings_range": [
            _money(totals.monthly_savings_low),
            _money(totals.monthly_savings_high),
        ],
        # 12 x the monthly figure as shown, so the two printed numbers agree to the cent
        "annual_savings": _money(Decimal(_money(totals.monthly_savings)) * 12),
    }
    out["issues"] = [
        {"code": i.code.value, "severity": i.severity.value, "where": i.where, "message": i.message}
        for i in result.issues
    ]
    return out


def _table(result: AnalysisResult) -> str:
    lines = []
    for f in result.findings:
        if f.analyzer == "inventory":
            continue
        lines.append(f"{f.status.value:<17} {f.analyzer:<20} {f.address}\n    {f.summary}")
    t = result.totals
    lines.append(
        f"\nMonthly cost ${_money(t.monthly_cost)}; savings ${_money(t.monthly_savings)}/month "
        f"(${_money(t.monthly_savings_low)}-${_money(t.monthly_savings_high)}), "
        f"${_money(Decimal(_money(t.monthly_savings)) * 12)}/year."
    )
    return "\n".join(lines)


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


def read_metrics(store_path: Path, addresses: list[str]) -> dict[str, dict[str, MetricSeries]]:
    """Every stored series of these resources, every statistic (see `index_metrics`)."""
    from leanstack.analysis import read_metric_store

    return read_metric_store(store_path, addresses)


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
                        "default": jsonable(info.default),
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
        output_format: Annotated[
            AnalyzeFormat, typer.Option("--format", help="json or table")
        ] = AnalyzeFormat.JSON,
        out: Annotated[Path | None, typer.Option("--out", help="write to a file")] = None,
    ) -> None:
        """Find the savings the recorded load supports, priced from the catalog."""
        from leanstack.analysis import run_analysis
        from leanstack.catalog import load_catalog
        from leanstack.estimate import estimate
        from leanstack.model.issues import Severity
        from leanstack.terraform import load_stack
        from leanstack.usage.store import default_store_path
        from leanstack.usage.usage_file import find_usage_file, load_usage_file

        if not path.exists():
            fail(f"{path}: no such file or directory")
        if usage is not None and not usage.is_file():
            fail(f"--usage {usage}: no such file")
        settings = parse_set(set_ or [])
        store_path = store or default_store_path(path)
        use_metrics = metrics if metrics is not None else store_path.is_file()
        if use_metrics and not store_path.is_file():
            fail(f"{store_path}: no metric store (run `leanstack metrics import` or `synth`)")
        catalog = load_catalog()
        loaded = load_stack(path, var_files=list(var_file or []))
        if not loaded.resources:
            for issue in loaded.issues:
                err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
            fail(f"{path}: no resource to analyze", 1)
        usage_path = usage if usage is not None else find_usage_file(path)
        usage_file = load_usage_file(usage_path) if usage_path is not None else None
        priced = estimate(loaded, catalog, usage_file)
        series = {}
        if use_metrics:
            try:
                series = read_metrics(store_path, [r.address for r in loaded.resources])
            except Exception as exc:  # a corrupt or locked store is one line, not a traceback
                fail(f"{store_path}: cannot read the metric store: {exc}")
        result = run_analysis(
            priced,
            loaded.resources,
            series,
            catalog,
            only=[s for s in only.split(",")] if only else None,
            settings=settings,
        )
        for issue in (*priced.issues, *result.issues):
            err_console.print(f"{issue.severity}: {issue.line()}", markup=False)
        if any(
            i.severity is Severity.ERROR and i.where in ("--set", "--only") for i in result.issues
        ):
            raise typer.Exit(2)
        if output_format is AnalyzeFormat.JSON:
            text = json.dumps(analysis_to_json(result, priced), indent=2)
        else:
            text = _table(result)
        write_output(text, out)
