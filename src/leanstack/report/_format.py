"""Number and label formatting shared by every renderer, so all formats print the same figures."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from leanstack.model.money import format_usd, quantize_money
from leanstack.report._types import (
    CostComponent,
    MetricLoad,
    PhaseOut,
    RecommendationOut,
    Report,
    ResourceCost,
)

PHASE_LABELS = {"quick_win": "Quick win", "advanced": "Advanced", "migration": "Migration"}
STATUS_LABELS = {
    "opportunity": "opportunity",
    "no_change": "no change",
    "insufficient_data": "not enough data",
    "not_applicable": "not applicable",
}


def usd(value: Decimal | None, *, sign: bool = False) -> str:
    """`$1,234.56`; `-$3.10` for negatives; an em dash for None."""
    return format_usd(value, sign=sign, missing="—")


def usd_range(low: Decimal, high: Decimal) -> str:
    """`$9.39–$22.55`, or a single figure when both ends agree."""
    if quantize_money(low) == quantize_money(high):
        return usd(low)
    return f"{usd(low)}–{usd(high)}"


def phase_range(phase: PhaseOut) -> str:
    """`$20.21 ($2.19–$20.21)`: expected savings once the phase is done, with the range."""
    low, high = phase.cumulative_monthly_savings_low, phase.cumulative_monthly_savings_high
    if low == high:
        return usd(phase.cumulative_monthly_savings)
    return f"{usd(phase.cumulative_monthly_savings)} ({usd_range(low, high)})"


def number(value: float | None, unit: str = "") -> str:
    """A metric statistic with a sensible number of digits."""
    if value is None:
        return "—"
    magnitude = abs(value)
    if unit == "Bytes" and magnitude >= 1000:
        for scale, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if magnitude >= scale:
                return f"{value / scale:.1f} {suffix}"
    if magnitude >= 1e9:
        return f"{value / 1e9:.2f}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}M"
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    suffix = {"Percent": "%", "Seconds": " s", "Bytes": " B"}.get(unit, "")
    return text + suffix


MISSING_QUANTITY = "usage?"
"""The quantity of a usage-based line whose usage was not given, in every format."""


def quantity(value: Decimal | None) -> str:
    """A monthly quantity: `1,460`, `3.2`; `usage?` when it depends on usage not given."""
    if value is None:
        return MISSING_QUANTITY
    # Derived quantities (LCUs from connection counts) carry many digits; four decimals, or
    # four significant digits below 1, are all a reader can use.
    if value.as_tuple().exponent < -4:  # type: ignore[operator]
        value = value.quantize(Decimal("0.0001")) if abs(value) >= 1 else Decimal(f"{value:.4g}")
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


NOT_COUNTED = ("unknown", "unsupported")
"""Resource statuses whose cost is not in any total (shown by name, never as $0)."""


def resource_cost_text(resource: ResourceCost) -> str:
    """A resource's monthly cost, or its status when it is not counted (`unknown`)."""
    if resource.status in NOT_COUNTED:
        return resource.status
    return usd(resource.monthly_cost)


def excluded_text(unknown: int, unsupported: int) -> str:
    """`excludes 15 unknown and 88 unsupported resource(s)`; empty when nothing is left out.

    Shared by the estimate and the report so every total says the same about what it omits.
    """
    parts = [f"{unknown} unknown"] if unknown else []
    if unsupported:
        parts.append(f"{unsupported} unsupported")
    if not parts:
        return ""
    return f"excludes {' and '.join(parts)} resource(s) (not priced; they may be billed)"


def status_counts(report: Report) -> dict[str, int]:
    """How many resources have each pricing status (priced, free, unsupported, unknown)."""
    counts = {"priced": 0, "free": 0, "unsupported": 0, "unknown": 0}
    for resource in report.cost.resources:
        counts[resource.status] = counts.get(resource.status, 0) + 1
    return counts


def cost_is_known(report: Report) -> bool:
    """False when the total prices nothing: no resources, or none priced and some left out.

    A stack of free resources only really costs $0; one whose resources could not be priced
    does not, and its headline must not read as $0.
    """
    counts = status_counts(report)
    if not report.cost.resources:
        return False
    return bool(counts["priced"] or not (counts["unknown"] or counts["unsupported"]))


def _all_usage_based(report: Report) -> bool:
    """True when priced resources exist but not one of their lines has a known cost."""
    priced = [r for r in report.cost.resources if r.status == "priced"]
    return bool(priced) and all(
        c.monthly_cost is None for r in priced for c in r.components
    )


def headline_cost(report: Report) -> str:
    """The current monthly cost for a headline: `$88.05`, `not known` (see `cost_note`), or
    `depends on usage` when every priced line waits for usage figures ($0.00 would read as a
    free stack)."""
    if not cost_is_known(report):
        return "not known"
    if _all_usage_based(report) and report.totals.monthly_cost == 0:
        return "depends on usage"
    return usd(report.totals.monthly_cost)


def per_month(figure: str) -> str:
    """`$88.05/month`; a word (`not known`, `depends on usage`) stays as it is."""
    return f"{figure}/month" if figure.startswith(("$", "-$")) else figure


def cost_note(report: Report) -> str:
    """What the headline cost covers, when it does not cover everything; else empty.

    `for 151 priced and 48 free resources; excludes 15 unknown and 88 unsupported
    resource(s) ...`, or why there is no figure at all.
    """
    counts = status_counts(report)
    if not report.cost.resources:
        return "no resources were found, so nothing was priced"
    excluded = excluded_text(counts["unknown"], counts["unsupported"])
    if not cost_is_known(report):
        return f"no resource could be priced; {excluded}"
    if not excluded:
        return ""
    covered = f"{counts['priced']} priced"
    if counts["free"]:
        covered += f" and {counts['free']} free"
    return f"for {covered} resource(s); {excluded}"


def component_cost_text(component: CostComponent) -> str:
    """A line's monthly cost; `unknown` without a price, `depends on usage` without usage."""
    if component.monthly_cost is not None:
        return usd(component.monthly_cost)
    if component.unit_price is None:
        return "unknown"
    return "depends on usage"


def percent(share: float) -> str:
    """0.4231 -> `42.3%`."""
    return f"{share * 100:.1f}%"


def value_text(value: Any) -> str:
    """A Terraform change value: strings as is, None as `(unset)`, the rest as compact JSON."""
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def hcl_literal(value: Any) -> str:
    """A change value as Terraform would spell it: strings quoted, `(unset)` for None."""
    if value is None:
        return "(unset)"
    # HCL accepts JSON literals, including `{"k": v}` object constructors.
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def evidence_text(evidence: dict[str, Any]) -> str:
    """`k=v, k=v` in key order."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in sorted(evidence.items()))


def window_text(metric: MetricLoad) -> str:
    """`14.0 d from 2026-11-10`."""
    return f"{metric.window.days:.1f} d from {metric.window.start[:10]}"


def coverage_text(coverage: float) -> str:
    """0.9732 -> `97.3%`."""
    return f"{coverage * 100:.1f}%"


def metric_value(current: str | None, unit: str) -> str:
    """A success-metric value with its unit."""
    if current is None:
        return "not recorded"
    if unit == "USD":
        return f"${current}"
    if unit == "%":
        return f"{current}%"
    if unit == "ms":
        # Seconds, as the load table prints TargetResponseTime (1.97 s, not 1973 ms).
        try:
            return number(float(current) / 1000, "Seconds")
        except ValueError:
            return f"{current} {unit}"
    return f"{current} {unit}"


def target_text(target: str | None, unit: str, direction: str) -> str:
    """`≤ $16.89`, `≥ 99.9%`."""
    if target is None:
        return "—"
    return ("≤ " if direction == "at_most" else "≥ ") + metric_value(target, unit)


GROUP_STATES = {
    "counted": "counted in the totals",
    "alternative": "alternative, not added",
    "no_saving": "no saving to count",
}


def group_state(rec: RecommendationOut) -> str:
    """`counted`, `alternative` (a larger saving of its group counts) or `no_saving`.

    A recommendation that saves nothing (a budget, gp2 to gp3 at the same price) is not an
    alternative to anything: it is not counted because there is nothing to add, and `patch`
    still applies it. A lone recommendation that saves money is always counted.
    """
    if rec.counted:
        return "counted"
    if rec.monthly_savings <= 0:
        return "no_saving"
    return "alternative"


def top_recommendations(report: Report, limit: int = 5) -> list[RecommendationOut]:
    """Recommendations counted in the totals first, by savings; then the rest by savings."""
    ranked = sorted(
        report.recommendations, key=lambda r: (not r.counted, -r.monthly_savings, r.id)
    )
    return [r for r in ranked if r.monthly_savings > 0][:limit]


def savings_line(report: Report) -> str:
    """One sentence: expected monthly savings with the range and the annual figure."""
    t = report.totals
    return (
        f"Expected savings {usd(t.monthly_savings)}/month{range_suffix(report)}, "
        f"{usd(t.annual_savings)}/year"
    )


def range_suffix(report: Report) -> str:
    """` (range $a–$b)` when the savings range is wider than a point, else nothing."""
    t = report.totals
    if t.monthly_savings_low == t.monthly_savings_high:
        return ""
    return f" (range {usd_range(t.monthly_savings_low, t.monthly_savings_high)})"


def monitoring_origin(source: str, blocks: int) -> str:
    """Where the monitoring blocks come from, in a few words."""
    if source == "recommendations":
        return "from the recommendations"
    return "generated" if blocks else "already in the stack"
