"""One self-contained HTML file: inline CSS, inline SVG charts, a few lines of inline script.

Nothing is fetched when the page is opened, so it can be attached to an email or a ticket and
read offline; it prints cleanly (folded details open on print).
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from leanstack.report import _charts
from leanstack.report._format import (
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
    number,
    percent,
    quantity,
    resource_cost_text,
    target_text,
    top_recommendations,
    usd,
    usd_range,
    value_text,
    window_text,
)
from leanstack.report._simulations import break_evens, policy_text, replays
from leanstack.report._types import MetricLoad, Report

# Bars beyond this many resources are folded into one "other resources" bar.
MAX_RESOURCE_BARS = 15


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(
        usd=usd, usd_range=usd_range, number=number, quantity=quantity, percent=percent,
        value_text=value_text, evidence_text=evidence_text, hcl_literal=hcl_literal,
        window_text=window_text, resource_cost_text=resource_cost_text,
        component_cost_text=component_cost_text, headline_cost=headline_cost,
        cost_note=cost_note, cost_is_known=cost_is_known, group_state=group_state,
        coverage_text=coverage_text, metric_value=metric_value, target_text=target_text,
        phase_labels=PHASE_LABELS, status_labels=STATUS_LABELS,
    )
    return env


def _template() -> jinja2.Template:
    text = resources.files("leanstack.report").joinpath("templates/report.html.j2").read_text(
        "utf-8"
    )
    return _environment().from_string(text)


def _charts_for(report: Report, colours: dict[str, str]) -> dict[str, Markup]:
    services = report.cost.by_service
    resources_sorted = [r for r in report.cost.resources if r.monthly_cost > 0]
    rows: list[tuple[str, Decimal, str, str]] = []
    for res in resources_sorted[:MAX_RESOURCE_BARS]:
        share = res.monthly_cost / report.cost.total if report.cost.total else Decimal(0)
        rows.append((res.address, res.monthly_cost, colours.get(res.service, _charts.MUTED),
                     f"{usd(res.monthly_cost)} · {percent(float(share))}"))
    rest = resources_sorted[MAX_RESOURCE_BARS:]
    if rest:
        cost = sum((r.monthly_cost for r in rest), Decimal(0))
        rows.append((f"{len(rest)} other resources", cost, _charts.MUTED, usd(cost)))
    return {
        "services": _charts.stacked_bar(
            [(s.service, s.monthly_cost, colours[s.service]) for s in services],
            "Monthly cost by service",
        ),
        "resources": _charts.hbar_chart(rows, "Monthly cost by resource"),
        "waterfall": _charts.waterfall(report),
        "phases": _charts.phase_bars(report.phases),
    }


_STAT_PREFERENCE = ("average", "maximum", "sum", "minimum")


def _one_per_metric(metrics: list[MetricLoad]) -> list[MetricLoad]:
    """One chart per metric: the statistic with capacity lines, else Average, Maximum, ...

    The other statistics of the metric stay in the tables of every format.
    """
    chosen: dict[str, MetricLoad] = {}

    def rank(m: MetricLoad) -> tuple[int, int]:
        stat = m.statistic.lower()
        order = _STAT_PREFERENCE.index(stat) if stat in _STAT_PREFERENCE else len(_STAT_PREFERENCE)
        return (0 if m.capacity else 1, order)

    for m in metrics:
        if m.metric not in chosen or rank(m) < rank(chosen[m.metric]):
            chosen[m.metric] = m
    return [m for m in metrics if chosen[m.metric] is m]


def render_html(report: Report) -> str:
    """The report as one HTML page that needs no network to view."""
    colours = _charts.service_colours(report)
    # Metrics with capacity lines get a full-width chart; the rest share a two-column grid.
    loads: list[dict[str, Any]] = []
    for res in report.load.resources:
        for metric in _one_per_metric(res.metrics):
            wide = bool(metric.capacity)
            chart = (_charts.load_chart(res.address, metric) if wide else
                     _charts.load_chart(res.address, metric, width=540, height=210, right=90))
            loads.append({"address": res.address, "metric": metric, "chart": chart,
                          "wide": wide})
    loads.sort(key=lambda item: not item["wide"])
    t = report.totals
    reduction = percent(float(t.monthly_savings / t.monthly_cost)) if t.monthly_cost else "0.0%"
    stack_name = report.stack.path.rstrip("/").rsplit("/", 1)[-1] or report.stack.path
    return _template().render(
        r=report, t=t, colours=colours, charts=_charts_for(report, colours), loads=loads,
        findings=sorted(report.findings, key=lambda f: (f.address, f.analyzer)),
        reduction=reduction, stack_name=stack_name, bucket_text=_bucket_text(report),
        top=top_recommendations(report),
        replays=replays(report), break_evens=break_evens(report),
        policy_text=policy_text, breakeven_chart=_charts.breakeven_chart,
        breach_threshold=_breach_threshold(report),
        rec_index={rec.id: i for i, rec in enumerate(report.recommendations, start=1)},
    )


def _bucket_text(report: Report) -> str:
    buckets = {m.series.bucket_s for res in report.load.resources for m in res.metrics}
    if len(buckets) != 1:
        return "bucket"
    seconds = buckets.pop()
    if seconds % 86400 == 0:
        return "day" if seconds == 86400 else f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    return f"{seconds} s"


def _breach_threshold(report: Report) -> str:
    """The SLO threshold the autoscaling replays used (90 unless set otherwise)."""
    for finding in report.findings:
        if finding.analyzer == "autoscaling":
            value = finding.evidence.get("breach_threshold")
            if isinstance(value, int | float):
                return f"{value:g}"
    return "90"
