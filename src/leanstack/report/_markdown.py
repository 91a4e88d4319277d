"""Markdown for a pull-request comment: the summary first, details folded in `<details>`.

GitHub refuses comments longer than 65,536 characters, so the details are built as sections
of small items (a table row, a recommendation) and filled in order until the budget is spent;
whatever does not fit is counted and named in an explicit truncation note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    hcl_literal,
    headline_cost,
    metric_value,
    monitoring_origin,
    number,
    per_month,
    percent,
    phase_range,
    quantity,
    range_suffix,
    resource_cost_text,
    target_text,
    top_recommendations,
    usd,
    usd_range,
    window_text,
)
from leanstack.report._simulations import break_evens, policy_text, replays, requests_text
from leanstack.report._types import RecommendationOut, Report

GITHUB_COMMENT_LIMIT = 65_536
# Room for multi-byte surprises and for the note itself.
DEFAULT_MAX_CHARS = 65_000
_NOTE_RESERVE = 600
_SECTION_RESERVE = 120


def _cell(text: str, limit: int = 300) -> str:
    """One table cell: no newlines, pipes escaped, raw HTML neutralised, bounded length."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _fence(code: str, lang: str) -> str:
    fence = "~~~~" if "```" in code else "```"
    return f"{fence}{lang}\n{code.rstrip()}\n{fence}"


def _escape_dollars(text: str) -> str:
    """`$` -> `\\$` outside code: GitHub would read `$15.70–$22.55` as inline math."""
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.startswith(("```", "~~~~")):
            fenced = not fenced
        elif not fenced:
            parts = line.split("`")
            # Even parts are outside inline code spans.
            parts[::2] = [part.replace("$", "\\$") for part in parts[::2]]
            line = "`".join(parts)
        out.append(line)
    return "\n".join(out)


@dataclass
class _Section:
    """A folded section: fixed head and tail around items that may be dropped from the end."""

    what: str
    head: str
    items: list[str] = field(default_factory=list)
    tail: str = "\n</details>\n"


def _summary(report: Report) -> str:
    t = report.totals
    cost = report.cost
    lines = [
        f"## leanstack cost report: `{_cell(report.stack.path, 120)}`",
        "",
        f"**{per_month(headline_cost(report))} today · "
        f"expected savings {usd(t.monthly_savings)}/month"
        f"{range_suffix(report)} · {usd(t.annual_savings)}/year**",
    ]
    note = cost_note(report)
    if note:
        lines += ["", f"> **Cost today is {note}.**"]
    known = cost_is_known(report)
    lines += [
        "",
        "| | Monthly | Annual |",
        "|---|---:|---:|",
        f"| Current cost | {headline_cost(report)} | "
        f"{usd(t.monthly_cost * 12) if known else 'not known'} |",
        f"| Expected savings | {usd(t.monthly_savings)} | {usd(t.annual_savings)} |",
        f"| Savings range (low–high) | {usd_range(t.monthly_savings_low, t.monthly_savings_high)}"
        f" | {usd_range(t.annual_savings_low, t.annual_savings_high)} |",
        f"| Cost after | {usd(t.monthly_cost_after) if known else 'not known'} | "
        f"{usd(t.monthly_cost_after * 12) if known else 'not known'} |",
    ]
    if cost.total_min is not None and cost.total_max is not None:
        lines.append("")
        lines.append(
            f"Autoscaling moves today's cost between {usd(cost.total_min)} and "
            f"{usd(cost.total_max)} a month."
        )
    top = top_recommendations(report)
    if top:
        lines += [
            "",
            "### Top recommendations",
            "",
            "| Recommendation | Resource | Phase | Confidence | Saves/month |",
            "|---|---|---|---|---:|",
        ]
        for rec in top:
            alternative = group_state(rec) == "alternative"
            title = _cell(rec.title, 120) + (" _(alternative)_" if alternative else "")
            lines.append(
                f"| {title} | `{_cell(rec.address, 80)}` | {PHASE_LABELS[rec.phase]} "
                f"| {rec.confidence} | {usd(rec.monthly_savings)} |"
            )
    lines += [
        "",
        "### Phases",
        "",
        "| Phase | Recommendations | Adds (expected) | Saved once done (low–high) |",
        "|---|---:|---:|---:|",
    ]
    for p in report.phases:
        lines.append(
            f"| {p.title} | {len(p.recommendation_ids)} | {usd(p.monthly_savings_added)} | "
            f"{phase_range(p)} |"
        )
    errors = sum(1 for i in report.issues if i.severity == "error")
    lines += [
        "",
        f"<sub>Prices from the catalog dated {_cell(report.catalog.date, 40)} · "
        f"{report.currency}, {report.hours_per_month} h/month · {len(report.findings)} findings"
        + (f" · **{errors} errors**" if errors else "")
        + f" · leanstack {_cell(report.tool_version, 40)}, {_cell(report.generated_at, 40)}</sub>",
        "",
    ]
    return "\n".join(lines)


def _cost_section(report: Report) -> _Section:
    section = _Section(
        what="cost rows",
        head=(
            f"<details><summary><b>Cost by service and resource</b> "
            f"({per_month(headline_cost(report))}"
            + (f"; {cost_note(report)}" if cost_note(report) else "")
            + ")</summary>\n\n"
            "| Service | Monthly | Share |\n|---|---:|---:|\n"
            + "".join(
                f"| {_cell(s.service)} | {usd(s.monthly_cost)} | {percent(s.share)} |\n"
                for s in report.cost.by_service
            )
            + "\n| Resource | Component | Quantity | Unit price | Monthly |\n"
            "|---|---|---:|---:|---:|\n"
        ),
    )
    for r in report.cost.resources:
        span = ""
        if r.monthly_cost_min is not None and r.monthly_cost_max is not None:
            span = f" ({usd_range(r.monthly_cost_min, r.monthly_cost_max)})"
        where = f" `{_cell(r.source.file, 120)}:{r.source.start_line}`" if r.source else ""
        rows = [
            f"| **`{_cell(r.address, 150)}`**{where} | {_cell(r.status)}"
            + (f": {_cell(r.reason)}" if r.reason else "")
            + f" | | | **{resource_cost_text(r)}**{span} |"
        ]
        for c in r.components:
            price = "no price" if c.unit_price is None else f"${c.unit_price}/{_cell(c.unit, 40)}"
            mark = " \\*" if c.usage_based else ""
            rows.append(
                f"| | {_cell(c.name)}{mark} | {quantity(c.monthly_quantity)} | {price} | "
                f"{component_cost_text(c)} |"
            )
        section.items.append("\n".join(rows) + "\n")
    section.tail = "\n\\* usage-based quantity\n\n</details>\n"
    return section


def _recommendation_item(rec: RecommendationOut) -> str:
    lines = [
        f"#### {_cell(rec.title, 200)}",
        "",
        f"`{_cell(rec.address, 150)}` · {PHASE_LABELS[rec.phase]} · confidence "
        f"**{rec.confidence}** · {usd(rec.monthly_cost_before)} → {usd(rec.monthly_cost_after)}"
        f"/month, saves **{usd(rec.monthly_savings)}**",
    ]
    if rec.exclusive_group:
        state = GROUP_STATES[group_state(rec)]
        lines.append(f"<br>Group `{_cell(rec.exclusive_group, 150)}`: {state}.")
    lines.append("")
    if rec.evidence:
        lines.append(f"- Evidence: {_cell(evidence_text(rec.evidence), 1000)}")
    lines += [f"- Risk: {_cell(risk, 500)}" for risk in rec.risks]
    lines += [f"- Assumes: {_cell(a, 500)}" for a in rec.assumptions]
    diff = [
        f"- {c.path} = {hcl_literal(c.before)}\n+ {c.path} = {hcl_literal(c.after)}"
        for c in rec.changes
        if not c.new_block
    ]
    if diff:
        lines += ["", _fence("\n".join(diff), "diff")]
    for change in rec.changes:
        if change.new_block:
            lines += ["", _fence(change.new_block, "hcl")]
    return "\n".join(lines) + "\n\n"


def _recommendations_section(report: Report) -> _Section:
    return _Section(
        what="recommendations",
        head=(
            f"<details><summary><b>Recommendations</b> ({len(report.recommendations)}, "
            "largest saving first)</summary>\n\n"
        ),
        items=[_recommendation_item(r) for r in report.recommendations],
    )


def _findings_section(report: Report) -> _Section:
    return _Section(
        what="findings",
        head=(
            f"<details><summary><b>Findings</b> ({len(report.findings)})</summary>\n\n"
            "| Resource | Analyzer | Status | Summary |\n|---|---|---|---|\n"
        ),
        items=[
            f"| `{_cell(f.address, 150)}` | {_cell(f.analyzer)} | {STATUS_LABELS[f.status]} | "
            f"{_cell(f.summary, 500)} |\n"
            for f in sorted(report.findings, key=lambda f: (f.address, f.analyzer))
        ],
    )


def _replays_section(report: Report) -> _Section | None:
    items: list[str] = []
    for rp in replays(report):
        rows = "".join(
            f"| {_cell(row.label)} | {_cell(policy_text(row))} | {row.task_hours:,.1f} | "
            f"{usd(row.monthly_cost)} | {row.breach_minutes} ({row.breach_share:.2%}) |\n"
            for row in rp.rows
        )
        items.append(
            f"**`{_cell(rp.address, 150)}`: autoscaling policy**\n\n"
            f"| Replay | Policy | {rp.hours_label} | Monthly | Breach minutes |\n"
            f"|---|---|---:|---:|---:|\n{rows}\n{_cell(rp.summary, 800)}\n\n"
        )
    for be in break_evens(report):
        rows = "".join(
            f"| {p.monthly_requests:,} | {usd(p.lambda_monthly)} | {usd(p.fargate_monthly)} |"
            + (" ← today |" if p.monthly_requests == be.monthly_requests else " |")
            + "\n"
            for p in be.points
        )
        where = (
            f"break-even {requests_text(be.break_even_requests)} requests/month"
            if be.break_even_requests
            else "no break-even in the range"
        )
        items.append(
            f"**`{_cell(be.address, 150)}`: Lambda or Fargate** (today "
            f"{requests_text(be.monthly_requests)} requests/month: Lambda "
            f"{usd(be.lambda_monthly)}, Fargate {usd(be.fargate_monthly)}; {where})\n\n"
            "| Requests/month | Lambda | Fargate | |\n|---:|---:|---:|---|\n"
            f"{rows}\n"
        )
    if not items:
        return None
    return _Section(
        what="replays",
        head="<details><summary><b>Replays of the recorded load</b></summary>\n\n",
        items=items,
    )


def _load_section(report: Report) -> _Section:
    items = []
    for r in report.load.resources:
        for m in r.metrics:
            items.append(
                f"| `{_cell(r.address, 150)}` | {_cell(m.metric)} ({_cell(m.statistic)}, "
                f"{m.period_s} s) | {window_text(m)} | {coverage_text(m.coverage)} | "
                f"{number(m.p50, m.unit)} | {number(m.p95, m.unit)} | {number(m.p99, m.unit)} | "
                f"{number(m.max, m.unit)} |\n"
            )
    return _Section(
        what="load rows",
        head=(
            "<details><summary><b>Recorded load</b></summary>\n\n"
            "| Resource | Metric | Window | Coverage | p50 | p95 | p99 | Max |\n"
            "|---|---|---|---:|---:|---:|---:|---:|\n"
        ),
        items=items,
    )


def _monitoring_section(report: Report) -> _Section:
    mon = report.monitoring
    origin = monitoring_origin(mon.source, len(mon.blocks))
    return _Section(
        what="monitoring blocks",
        head=(
            f"<details><summary><b>Monitoring and alerts</b> (budget {usd(mon.monthly_budget)}"
            f"/month, {origin})</summary>\n\n"
            + "".join(f"- {_cell(note, 600)}\n" for note in mon.notes)
            + "\n"
        ),
        items=[_fence(block.hcl, "hcl") + "\n\n" for block in mon.blocks],
    )


def _success_section(report: Report) -> _Section:
    return _Section(
        what="success metrics",
        head=(
            "<details><summary><b>Success metrics</b></summary>\n\n"
            "| Metric | Current | Target | Source |\n|---|---:|---:|---|\n"
        ),
        items=[
            f"| {_cell(m.name)} | {metric_value(m.current, m.unit)} | "
            f"{target_text(m.target, m.unit, m.direction)} | {_cell(m.source, 500)} |\n"
            for m in report.success_metrics
        ],
    )


def _issues_section(report: Report) -> _Section:
    return _Section(
        what="issues",
        head=(
            f"<details><summary><b>Issues</b> ({len(report.issues)})</summary>\n\n"
            "| Severity | Where | Message |\n|---|---|---|\n"
        ),
        items=[
            f"| {_cell(i.severity)} | `{_cell(i.where, 150)}` | {_cell(i.message, 500)} |\n"
            for i in report.issues
        ],
    )


def _provenance_section(report: Report) -> _Section:
    head = (
        "<details><summary><b>Price provenance and method</b></summary>\n\n"
        f"- Catalog: {_cell(report.catalog.source, 500)}, dated {_cell(report.catalog.date)}.\n"
        f"- Savings: {_cell(report.totals.method, 1000)}\n"
    )
    derived = report.catalog.derived_prices_used
    if derived:
        head += "- Prices that are not published list prices:\n"
    return _Section(
        what="provenance rows",
        head=head,
        items=[
            f"  - {_cell(d.product)} ({_cell(d.region)}): ${d.unit_price}/{_cell(d.unit)}, "
            f"basis `{_cell(d.price_basis)}`, source {_cell(d.source)} ({_cell(d.source_date)})\n"
            for d in derived
        ],
    )


def render_markdown(report: Report, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The PR comment, never longer than `max_chars` (and so under GitHub's limit)."""
    summary = _escape_dollars(_summary(report))
    sections = [
        _recommendations_section(report),
        *[s for s in (_replays_section(report),) if s is not None],
        _cost_section(report),
        _findings_section(report),
        _load_section(report),
        _monitoring_section(report),
        _success_section(report),
    ]
    if report.issues:
        sections.append(_issues_section(report))
    sections.append(_provenance_section(report))
    for section in sections:
        section.head = _escape_dollars(section.head)
        section.items = [_escape_dollars(item) for item in section.items]
        section.tail = _escape_dollars(section.tail)

    full = summary + "\n" + "".join(s.head + "".join(s.items) + s.tail for s in sections)
    if len(full) <= max_chars:
        return full

    budget = max_chars - len(summary) - _NOTE_RESERVE
    parts: list[str] = []
    omitted: dict[str, int] = {}
    for section in sections:
        fixed = len(section.head) + len(section.tail) + _SECTION_RESERVE
        if fixed > budget:
            omitted[section.what] = omitted.get(section.what, 0) + max(len(section.items), 1)
            budget = 0
            continue
        kept: list[str] = []
        spent = fixed
        for index, item in enumerate(section.items):
            if spent + len(item) > budget:
                omitted[section.what] = len(section.items) - index
                break
            kept.append(item)
            spent += len(item)
        dropped = len(section.items) - len(kept)
        more = f"\n_… {dropped} more {section.what} not shown (truncated)._\n" if dropped else ""
        parts.append(section.head + "".join(kept) + more + section.tail)
        budget -= spent
    listed = ", ".join(f"{count} {what}" for what, count in omitted.items())
    note = (
        f"\n> **Truncated:** GitHub limits a comment to {GITHUB_COMMENT_LIMIT:,} characters, so "
        f"this one omits {listed}. The full report is in the JSON, HTML and terminal formats "
        "(`leanstack render REPORT.json --format html`).\n"
    )
    return summary + note + "\n" + "".join(parts)
