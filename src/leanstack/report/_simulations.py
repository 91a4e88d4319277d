"""The replays behind the autoscaling and serverless findings, as rows every renderer shows.

The figures live in the findings' evidence (the JSON report keeps them there); this module
reads them back into typed rows, so the table, Markdown and HTML formats print the same
comparison: each policy's task-hours, cost and breach minutes, and the Lambda-versus-Fargate
cost curve over request volume with today's volume and the break-even point.
Evidence that lacks a field (a report from an older version) is skipped, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from leanstack.report._types import FindingOut, Report


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One policy replayed over the recorded load."""

    label: str
    target: float
    min_capacity: int | None
    max_capacity: int | None
    task_hours: Decimal
    monthly_cost: Decimal
    breach_minutes: int
    breach_share: float


@dataclass(frozen=True, slots=True)
class Replay:
    """An ECS service's target-tracking policy replayed at several settings."""

    address: str
    summary: str
    rows: tuple[ReplayRow, ...]
    window_days: float | None = None

    @property
    def hours_label(self) -> str:
        """`Task-hours (14 d)`: task-hours cover the replayed window, not a month."""
        if self.window_days is None:
            return "Task-hours (window)"
        return f"Task-hours ({self.window_days:g} d)"


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Monthly cost of the same work on Lambda and on Fargate at one request volume."""

    monthly_requests: int
    lambda_monthly: Decimal
    fargate_monthly: Decimal


@dataclass(frozen=True, slots=True)
class BreakEven:
    """The serverless comparison of one service: the curve, today's volume, the break-even."""

    address: str
    summary: str
    points: tuple[CurvePoint, ...]
    monthly_requests: int
    lambda_monthly: Decimal
    fargate_monthly: Decimal
    break_even_requests: int | None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _replay_row(item: Any) -> ReplayRow | None:
    if not isinstance(item, dict):
        return None
    hours, cost = _decimal(item.get("task_hours")), _decimal(item.get("monthly_cost"))
    target, breaches = item.get("target"), _int(item.get("breach_minutes"))
    share = item.get("breach_share")
    if (
        hours is None
        or cost is None
        or breaches is None
        or not isinstance(target, int | float)
        or not isinstance(share, int | float)
    ):
        return None
    return ReplayRow(
        label=str(item.get("label", "")),
        target=float(target),
        min_capacity=_int(item.get("min_capacity")),
        max_capacity=_int(item.get("max_capacity")),
        task_hours=hours,
        monthly_cost=cost,
        breach_minutes=breaches,
        breach_share=float(share),
    )


def _replay(finding: FindingOut) -> Replay | None:
    raw = finding.evidence.get("replay")
    if not isinstance(raw, list):
        return None
    rows = [row for row in map(_replay_row, raw) if row is not None]
    if not rows:
        return None
    days = finding.evidence.get("window_days")
    window = float(days) if isinstance(days, int | float) and not isinstance(days, bool) else None
    return Replay(
        address=finding.address, summary=finding.summary, rows=tuple(rows), window_days=window
    )


def _break_even(finding: FindingOut) -> BreakEven | None:
    ev = finding.evidence
    curve = ev.get("curve")
    raw_points = curve.get("points") if isinstance(curve, dict) else None
    requests = _int(ev.get("monthly_requests"))
    lam, far = _decimal(ev.get("lambda_monthly")), _decimal(ev.get("fargate_monthly"))
    if not isinstance(raw_points, list) or requests is None or lam is None or far is None:
        return None
    points: list[CurvePoint] = []
    for item in raw_points:
        if not isinstance(item, dict):
            continue
        volume = _int(item.get("monthly_requests"))
        lam_p = _decimal(item.get("lambda_monthly_cost"))
        far_p = _decimal(item.get("fargate_monthly_cost"))
        if volume is not None and lam_p is not None and far_p is not None and volume > 0:
            points.append(CurvePoint(volume, lam_p, far_p))
    if len(points) < 2:
        return None
    return BreakEven(
        address=finding.address,
        summary=finding.summary,
        points=tuple(sorted(points, key=lambda p: p.monthly_requests)),
        monthly_requests=requests,
        lambda_monthly=lam,
        fargate_monthly=far,
        break_even_requests=_int(ev.get("break_even_requests_per_month")),
    )


def replays(report: Report) -> list[Replay]:
    """Every autoscaling replay in the report, by address."""
    found = (_replay(f) for f in report.findings if f.analyzer == "autoscaling")
    return sorted((r for r in found if r is not None), key=lambda r: r.address)


def break_evens(report: Report) -> list[BreakEven]:
    """Every Lambda-versus-Fargate comparison in the report, by address."""
    found = (_break_even(f) for f in report.findings if f.analyzer == "serverless")
    return sorted((b for b in found if b is not None), key=lambda b: b.address)


def policy_text(row: ReplayRow) -> str:
    """`target 65%, 2-6 tasks` (the range only when known)."""
    text = f"target {row.target:g}%"
    if row.min_capacity is not None and row.max_capacity is not None:
        text += f", {row.min_capacity}-{row.max_capacity} tasks"
    elif row.min_capacity is not None:
        text += f", min {row.min_capacity}"
    return text


def requests_text(value: float, *, trim: bool = False) -> str:
    """`3.15M`, `56k`, `950`; `trim` drops trailing zeros (`1M`, not `1.00M`: axis ticks)."""
    if value >= 1_000_000:
        millions = f"{value / 1_000_000:.2f}"
        return (millions.rstrip("0").rstrip(".") if trim else millions) + "M"
    if value >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"
