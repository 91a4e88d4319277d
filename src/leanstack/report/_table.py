"""Terminal rendering with Rich: the summary first, then the details."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from io import StringIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from leanstack.report._format import (
    GROUP_STATES,
    PHASE_LABELS,
    STATUS_LABELS,
    component_cost_text,
    cost_is_known,
    cost_note,
    coverage_text,
    evidence_text,
    group_state,
    headline_cost,
    metric_value,
    monitoring_origin,
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
from leanstack.report._simulations import break_evens, policy_text, replays, requests_text
from leanstack.report._types import Report
from leanstack.report.estimate import layout_tree, unit_price

WIDTH = 100
# A terminal is read top to bottom: past these many rows the rest is summed up in one line
# (every row is still in the JSON, Markdown and HTML formats).
MAX_RESOURCES = 60
MAX_RECOMMENDATIONS = 40
MAX_FINDINGS = 120


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAVY, expand=False)
    for name, justify in columns:
        # Figures never wrap; text columns take what is left and fold a long address or
        # metric name onto the next line rather than cutting it to an ambiguous "…".
        table.add_column(name, justify=justify, no_wrap=justify == "right",  # type: ignore[arg-type]
                         overflow="ellipsis" if justify == "right" else "fold")
    return table


_LABEL_PAD = " " * len("Current monthly cost  ")


def _summary(report: Report) -> RenderableType:
    t = report.totals
    cost = report.cost
    lines = Text()
    lines.append("Current monthly cost  ", style="bold")
    lines.append(headline_cost(report), style="bold")
    if cost.total_min is not None and cost.total_max is not None:
        lines.append(f"  (autoscaling range {usd_range(cost.total_min, cost.total_max)})")
    note = cost_note(report)
    if note:
        # A total that leaves resources out says so where it is read, not only in a footer.
        wrapped = textwrap.wrap(note, width=WIDTH - 4 - len(_LABEL_PAD))
        lines.append("".join(f"\n{_LABEL_PAD}{part}" for part in wrapped), style="yellow")
    lines.append("\nExpected savings      ", style="bold")
    lines.append(f"{usd(t.monthly_savings)}/month", style="bold green")
    if t.monthly_savings_low != t.monthly_savings_high:
        lines.append(f"  (range {usd_range(t.monthly_savings_low, t.monthly_savings_high)})")
    lines.append("\nAnnual savings        ", style="bold")
    lines.append(usd(t.annual_savings), style="bold green")
    if t.annual_savings_low != t.annual_savings_high:
        lines.append(f"  (range {usd_range(t.annual_savings_low, t.annual_savings_high)})")
    lines.append("\nMonthly cost after    ", style="bold")
    lines.append(usd(t.monthly_cost_after) if cost_is_known(report) else "not known")
    top = _table(
        "Top recommendations",
        ("Recommendation", "left"),
        ("Phase", "left"),
        ("Confidence", "left"),
        ("Saves/month", "right"),
    )
    for rec in top_recommendations(report):
        marker = " (alternative)" if group_state(rec) == "alternative" else ""
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
    return [services, _resource_tree(report)]


_TREE_HEADERS = ("Resource / component", "Monthly qty", "Unit", "Unit price", "Monthly cost")
_TREE_GAP = "  "
_NO_FIGURES = ("", "", "", "")


def _resource_tree(report: Report) -> RenderableType:
    """Cost by resource as the estimate prints it (`layout_tree`): a tree per resource,
    figures aligned, notes across the whole width; free resources are summed up by reason at
    the end, and resources that could not be priced are listed one by one with the reason.
    """
    unpriced_status = ("unknown", "unsupported")
    priced = [r for r in report.cost.resources
              if r.status != "free" and r.status not in unpriced_status]
    free = [r for r in report.cost.resources if r.status == "free"]
    # Never cut: a resource that could not be priced must be seen, not summed up as $0.
    unpriced = [r for r in report.cost.resources if r.status in unpriced_status]
    rows: list[tuple[tuple[str, ...], str]] = []
    for r in [*priced[:MAX_RESOURCES], *unpriced]:
        where = f"  ({r.source.file}:{r.source.start_line})" if r.source else ""
        known = r.status not in unpriced_status
        rows.append(((r.address + where, "", "", "", usd(r.monthly_cost) if known else r.status),
                     "bold"))
        notes = [r.reason] if r.reason else []
        if not known and not r.reason:
            notes.append("no price")
        if r.monthly_cost_min is not None and r.monthly_cost_max is not None:
            notes.append(f"autoscaling range {usd_range(r.monthly_cost_min, r.monthly_cost_max)}")
        count = len(r.components) + len(notes)
        for i, c in enumerate(r.components):
            branch = "└─" if i == count - 1 else "├─"
            rows.append(((f"{branch} {c.name}{' *' if c.usage_based else ''}",
                          quantity(c.monthly_quantity), c.unit, unit_price(c.unit_price),
                          component_cost_text(c)), ""))
        for i, note in enumerate(notes):
            branch = "└─" if i == len(notes) - 1 else "├─"
            rows.append(((f"{branch} {note}", *_NO_FIGURES), "dim"))
        rows.append((("", *_NO_FIGURES), ""))

    out = Text()
    out.append("Cost by resource\n", style="italic")
    lines = layout_tree(rows, headers=_TREE_HEADERS, gap=_TREE_GAP, width=WIDTH,
                        rule_width=WIDTH)
    for text, style in lines:
        out.append(text + "\n", style=style or None)
    rest = priced[MAX_RESOURCES:]
    if rest:
        rest_cost = sum((r.monthly_cost for r in rest), Decimal(0))
        out.append(f"… {len(rest)} more resources, {usd(rest_cost)} (all in --format json/html)\n",
                   style="dim")
    if free:
        by_reason: dict[str, list[str]] = {}
        for r in free:
            by_reason.setdefault(r.reason or "no charge of its own", []).append(r.address)
        out.append(f"{len(free)} free resource(s):\n", style="bold")
        for reason, addresses in by_reason.items():
            text = f"· {reason}: {', '.join(addresses)}"
            out.append("\n".join(textwrap.wrap(text, width=WIDTH, subsequent_indent="  ",
                                                break_long_words=True, break_on_hyphens=False)
                                  or [text]) + "\n", style="dim")
    return out


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
        head = Text()
        head.append(f"{rec.address} · {PHASE_LABELS[rec.phase]} · confidence {rec.confidence}")
        if rec.exclusive_group:
            head.append(f" · group {rec.exclusive_group} ({GROUP_STATES[group_state(rec)]})")
        head.append(f"\n{usd(rec.monthly_cost_before)} → {usd(rec.monthly_cost_after)}/month, "
                    f"saves {usd(rec.monthly_savings)}")
        # Label | text: long lines wrap under their text, not back to the panel's edge.
        details = Table.grid(padding=(0, 1))
        details.add_column(no_wrap=True)
        details.add_column(overflow="fold")
        for change in rec.changes:
            if change.new_block:
                details.add_row("  +", f"new block {change.path}")
            else:
                details.add_row("  ~", f"{change.path}: {value_text(change.before)} → "
                                f"{value_text(change.after)}")
        if rec.evidence:
            details.add_row("  evidence", evidence_text(rec.evidence))
        for risk in rec.risks:
            details.add_row(Text("  risk", style="yellow"), Text(risk, style="yellow"))
        for assumption in rec.assumptions:
            details.add_row("  assumes", assumption)
        out.append(Panel(Group(head, details), title=rec.title, title_align="left",
                         box=box.SQUARE, width=WIDTH))
    rest = report.recommendations[MAX_RECOMMENDATIONS:]
    if rest:
        out.append(Text(f"… {len(rest)} more recommendations (all in --format json/html)",
                        style="dim"))
    return out


def _replays(report: Report) -> list[RenderableType]:
    out: list[RenderableType] = []
    for rp in replays(report):
        table = _table(f"Autoscaling replay: {rp.address}", ("Replay", "left"),
                       ("Policy", "left"), (rp.hours_label, "right"), ("Monthly", "right"),
                       ("Breach minutes", "right"))
        for row in rp.rows:
            table.add_row(row.label, policy_text(row), f"{row.task_hours:,.1f}",
                          usd(row.monthly_cost),
                          f"{row.breach_minutes} ({row.breach_share:.2%})")
        out.append(Group(table, Text(rp.summary, style="dim")))
    for be in break_evens(report):
        table = _table(f"Lambda or Fargate: {be.address}", ("Requests/month", "right"),
                       ("Lambda", "right"), ("Fargate", "right"), ("", "left"))
        for p in be.points:
            mark = "← today" if p.monthly_requests == be.monthly_requests else ""
            table.add_row(f"{p.monthly_requests:,}", usd(p.lambda_monthly),
                          usd(p.fargate_monthly), mark)
        where = (f"break-even at {requests_text(be.break_even_requests)} requests/month"
                 if be.break_even_requests else "no break-even in the range")
        out.append(Group(table, Text(f"{where}. {be.summary}", style="dim")))
    return out


def _findings(report: Report) -> RenderableType:
    table = _table("Findings", ("Resource / analyzer", "left"), ("Status", "left"),
                   ("Summary", "left"))
    findings = sorted(report.findings, key=lambda f: (f.address, f.analyzer))
    address = None
    for f in findings[:MAX_FINDINGS]:
        if f.address != address:
            # The address once, in full, over its findings, rather than cut in a narrow cell.
            address = f.address
            table.add_row(Text(f.address, style="bold"), "", "")
        table.add_row(f"  {f.analyzer}", STATUS_LABELS[f.status], f.summary)
    if len(findings) > MAX_FINDINGS:
        table.add_row(Text(f"… {len(findings) - MAX_FINDINGS} more findings", style="dim"),
                      "", "")
    return table


def _load(report: Report) -> RenderableType:
    windows = {window_text(m) for r in report.load.resources for m in r.metrics}
    # One window for every series (the usual case) goes in the title, leaving the width to
    # the names; otherwise each row says its own.
    shared = windows.pop() if len(windows) == 1 else None
    title = f"Recorded load ({shared})" if shared else "Recorded load"
    columns = [("Resource / metric", "left")]
    if shared is None:
        columns.append(("Window", "left"))
    columns += [("Coverage", "right"), ("p50", "right"), ("p95", "right"), ("p99", "right"),
                ("Max", "right")]
    table = _table(title, *columns)
    for r in report.load.resources:
        # The address once, in full, over its metrics: names fold, they are never cut.
        table.add_row(Text(r.address, style="bold"), *[""] * (len(columns) - 1))
        for m in r.metrics:
            window = [] if shared else [window_text(m)]
            table.add_row(f"  {m.metric} ({m.statistic}, {m.period_s} s)", *window,
                          coverage_text(m.coverage), number(m.p50, m.unit),
                          number(m.p95, m.unit), number(m.p99, m.unit), number(m.max, m.unit))
    return table


def _monitoring(report: Report) -> list[RenderableType]:
    mon = report.monitoring
    origin = monitoring_origin(mon.source, len(mon.blocks))
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
                                    *_replays(report), _findings(report)]
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
