"""Terminal rendering with Rich: the summary first, then the details."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from leanstack.report._format import (
    PHASE_LABELS,
    STATUS_LABELS,
    coverage_text,
    evidence_text,
    metric_value,
    number,
    percent,
    phase_range,
    quantity,
    savings_line,
    target_text,
    top_recommendations,
    usd,
    usd_range,
    value_text,
    window_text,
)
from leanstack.report._types import Report

WIDTH = 100
# A terminal is read top to bottom: past these many rows the rest is summed up in one line
# (every row is still in the JSON, Markdown and HTML formats).
MAX_RESOURCES = 60
MAX_RECOMMENDATIONS = 40
MAX_FINDINGS = 120


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAVY, expand=False)
    for name, justify in columns:
        # Figures never wrap; text columns take what is left.
        table.add_column(name, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    return table


def _summary(report: Report) -> RenderableType:
    t = report.totals
    cost = report.cost
    lines = Text()
    lines.append("Current monthly cost  ", style="bold")
    lines.append(usd(t.monthly_cost), style="bold")
    if cost.total_min is not None and cost.total_max is not None:
        lines.append(f"  (autoscaling range {usd_range(cost.total_min, cost.total_max)})")
    lines.append("\nExpected savings      ", style="bold")
    lines.append(f"{usd(t.monthly_savings)}/month", style="bold green")
    lines.append(f"  (range {usd_range(t.monthly_savings_low, t.monthly_savings_high)})")
    lines.append("\nAnnual savings        ", style="bold")
    lines.append(usd(t.annual_savings), style="bold green")
    lines.append(f"  (range {usd_range(t.annual_savings_low, t.annual_savings_high)})")
    lines.append("\nMonthly cost after    ", style="bold")
    lines.append(usd(t.monthly_cost_after))
    top = _table(
        "Top recommendations",
        ("Recommendation", "left"),
        ("Phase", "left"),
        ("Confidence", "left"),
        ("Saves/month", "right"),
    )
    for rec in top_recommendations(report):
        marker = "" if rec.counted else " (alternative)"
        top.add_row(rec.title + marker, PHASE_LABELS[rec.phase], rec.confidence,
                    usd(rec.monthly_savings))
    header = (
        f"{report.stack.path} · catalog {report.catalog.date} · {report.currency}, "
        f"{report.hours_per_month} h/month · leanstack {report.tool_version}"
    )
    return Panel(Group(lines, Text(""), top), title="leanstack cost report", subtitle=header,
                 box=box.ROUNDED, width=WIDTH)


def _cost(report: Report) -> list[RenderableType]:
    services = _table("Cost by service", ("Service", "left"), ("Monthly", "right"),
                      ("Share", "right"))
    for s in report.cost.by_service:
        services.add_row(s.service, usd(s.monthly_cost), percent(s.share))
    services.add_row(Text("Total", style="bold"), Text(usd(report.cost.total), style="bold"), "")
    resources = _table("Cost by resource", ("Resource / component", "left"),
                       ("Quantity", "right"), ("Unit price", "right"), ("Monthly", "right"))
    for r in report.cost.resources[:MAX_RESOURCES]:
        span = ""
        if r.monthly_cost_min is not None and r.monthly_cost_max is not None:
            span = f" ({usd_range(r.monthly_cost_min, r.monthly_cost_max)})"
        where = f"{r.source.file}:{r.source.start_line}" if r.source else ""
        head = Text(r.address, style="bold")
        note = " · ".join(part for part in (r.status, where, r.reason) if part)
        head.append(f"\n  {note}", style="dim")
        resources.add_row(head, "", "", Text(usd(r.monthly_cost) + span, style="bold"))
        for c in r.components:
            price = "no price" if c.unit_price is None else f"${c.unit_price}/{c.unit}"
            resources.add_row("  " + c.name + (" *" if c.usage_based else ""),
                              quantity(c.monthly_quantity), price, usd(c.monthly_cost))
    rest = report.cost.resources[MAX_RESOURCES:]
    if rest:
        cost = sum((r.monthly_cost for r in rest), Decimal(0))
        resources.add_row(Text(f"… {len(rest)} more resources (all in --format json/html)",
                               style="dim"), "", "", usd(cost))
    return [services, resources]


def _phases(report: Report) -> RenderableType:
    table = _table("Implementation phases", ("Phase", "left"), ("Recs", "right"),
                   ("Adds (expected)", "right"), ("Saved once done (low–high)", "right"))
    for p in report.phases:
        table.add_row(p.title, str(len(p.recommendation_ids)), usd(p.monthly_savings_added),
                      phase_range(p))
    return table


def _recommendations(report: Report) -> list[RenderableType]:
    out: list[RenderableType] = [Text("Recommendations", style="bold underline")]
    for rec in report.recommendations[:MAX_RECOMMENDATIONS]:
        body = Text()
        body.append(f"{rec.address} · {PHASE_LABELS[rec.phase]} · confidence {rec.confidence}")
        if rec.exclusive_group:
            counted = "counted in totals" if rec.counted else "alternative, not added"
            body.append(f" · group {rec.exclusive_group} ({counted})")
        body.append(f"\n{usd(rec.monthly_cost_before)} → {usd(rec.monthly_cost_after)}/month, "
                    f"saves {usd(rec.monthly_savings)}")
        for change in rec.changes:
            if change.new_block:
                body.append(f"\n  + new block {change.path}")
            else:
                body.append(f"\n  {change.path}: {value_text(change.before)} → "
                            f"{value_text(change.after)}")
        if rec.evidence:
            body.append(f"\n  evidence: {evidence_text(rec.evidence)}")
        for risk in rec.risks:
            body.append(f"\n  risk: {risk}", style="yellow")
        for assumption in rec.assumptions:
            body.append(f"\n  assumes: {assumption}")
        out.append(Panel(body, title=rec.title, title_align="left", box=box.SQUARE, width=WIDTH))
    rest = report.recommendations[MAX_RECOMMENDATIONS:]
    if rest:
        out.append(Text(f"… {len(rest)} more recommendations (all in --format json/html)",
                        style="dim"))
    return out


def _findings(report: Report) -> RenderableType:
    table = _table("Findings", ("Resource", "left"), ("Analyzer", "left"), ("Status", "left"),
                   ("Summary", "left"))
    findings = sorted(report.findings, key=lambda f: (f.address, f.analyzer))
    for f in findings[:MAX_FINDINGS]:
        table.add_row(f.address, f.analyzer, STATUS_LABELS[f.status], f.summary)
    if len(findings) > MAX_FINDINGS:
        table.add_row(Text(f"… {len(findings) - MAX_FINDINGS} more findings", style="dim"),
                      "", "", "")
    return table


def _load(report: Report) -> RenderableType:
    table = _table("Recorded load", ("Resource / metric", "left"), ("Window", "left"),
                   ("Coverage", "right"), ("p50", "right"), ("p95", "right"), ("p99", "right"),
                   ("Max", "right"))
    for r in report.load.resources:
        for m in r.metrics:
            table.add_row(f"{r.address}\n  {m.metric} ({m.statistic}, {m.period_s} s)",
                          window_text(m), coverage_text(m.coverage), number(m.p50, m.unit),
                          number(m.p95, m.unit), number(m.p99, m.unit), number(m.max, m.unit))
    return table


def _monitoring(report: Report) -> list[RenderableType]:
    mon = report.monitoring
    origin = "from the recommendations" if mon.source == "recommendations" else "generated"
    out: list[RenderableType] = [
        Text(f"Monitoring ({origin}): monthly budget {usd(mon.monthly_budget)}",
             style="bold underline")
    ]
    for block in mon.blocks:
        code = block.hcl.rstrip("\n")
        out.append(Syntax(code, "hcl", theme="ansi_dark", background_color="default"))
    for note in mon.notes:
        out.append(Text(f"• {note}"))
    return out


def _success(report: Report) -> RenderableType:
    table = _table("Success metrics", ("Metric", "left"), ("Current", "right"),
                   ("Target", "right"), ("Source", "left"))
    for m in report.success_metrics:
        table.add_row(m.name, metric_value(m.current, m.unit),
                      target_text(m.target, m.unit, m.direction), m.source)
    return table


def _issues(report: Report) -> RenderableType:
    table = _table("Issues", ("Severity", "left"), ("Where", "left"), ("Message", "left"))
    for i in report.issues:
        table.add_row(i.severity, i.where, i.message)
    return table


def render_table(report: Report, *, color: bool = False) -> str:
    """The report as terminal text, 100 columns wide; ANSI colours only when asked."""
    buffer = StringIO()
    console = Console(file=buffer, width=WIDTH, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, emoji=False, legacy_windows=False)
    console.print(_summary(report))
    blocks: list[RenderableType] = [*_cost(report), _phases(report), *_recommendations(report),
                                    _findings(report)]
    if report.load.resources:
        blocks.append(_load(report))
    blocks.extend(_monitoring(report))
    blocks.append(_success(report))
    if report.issues:
        blocks.append(_issues(report))
    provenance = (f"Prices: {report.catalog.source}, dated {report.catalog.date}. "
                  f"* = usage-based quantity. {savings_line(report)}. {report.totals.method}")
    if report.catalog.derived_prices_used:
        provenance += " Not list prices: " + "; ".join(
            f"{d.product} ({d.price_basis})" for d in report.catalog.derived_prices_used)
    blocks.append(Text(provenance, style="dim"))
    for block in blocks:
        console.print()
        console.print(block)
    # Rich pads table rows to the full width; trailing spaces only get in the way of diffs.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
