"""Hand-written inline SVG charts for the HTML report: no library, no network, small files.

Every chart is an `<svg class="chart">` with a `<title>` for screen readers and `<title>`
tooltips on its marks. Labels are escaped; numbers come from the report only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

from leanstack.report._format import number, phase_range, usd
from leanstack.report._simulations import BreakEven, requests_text
from leanstack.report._types import MetricLoad, PhaseOut, Report

# One colour per service, in the order services are listed; the same everywhere in the page.
PALETTE = (
    "#3566a8", "#e08a2c", "#3f9a6b", "#8a5cb8", "#c9514f", "#2c9bb3",
    "#a38a2a", "#6b7b8c", "#d1689e", "#5d8f3a",
)
INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#e3e7ec"
SAVE = "#2e8b57"
AFTER = "#d9480f"
BEFORE = "#1f2933"
TARGET = "#8a5cb8"
LAMBDA = "#e08a2c"
FARGATE = "#3566a8"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


def service_colours(report: Report) -> dict[str, str]:
    """Service label -> colour, stable for one report."""
    return {s.service: PALETTE[i % len(PALETTE)] for i, s in enumerate(report.cost.by_service)}


def _svg(width: int, height: int, title: str, body: str, css_class: str = "chart") -> Markup:
    return Markup(
        f'<svg class="{css_class}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" style="{FONT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start",
          fill: str = INK, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hbar_chart(rows: Sequence[tuple[str, Decimal, str, str]], title: str, *,
               width: int = 860, label_width: int = 300) -> Markup:
    """Horizontal bars: (label, value, colour, right-hand text) per row."""
    bar_h, gap, top = 22, 8, 8
    height = top + len(rows) * (bar_h + gap) + 4
    peak = max((float(v) for _, v, _, _ in rows), default=0.0) or 1.0
    plot_w = width - label_width - 170
    parts: list[str] = []
    for i, (label, value, colour, note) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(float(value) / peak * plot_w, 1.5 if value > 0 else 0.0)
        parts.append(_text(label_width - 10, y + bar_h * 0.7, _truncate(label, 40),
                           anchor="end", size=13))
        parts.append(
            f'<rect class="bar" x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'rx="3" fill="{colour}"><title>{escape(label)}: {escape(note)}</title></rect>'
        )
        parts.append(_text(label_width + w + 8, y + bar_h * 0.7, note, size=12, fill=MUTED))
    return _svg(width, height, title, "".join(parts))


def stacked_bar(segments: Sequence[tuple[str, Decimal, str]], title: str, *,
                width: int = 860) -> Markup:
    """One 100% bar split by segment, with a legend underneath."""
    total = sum((float(v) for _, v, _ in segments), 0.0) or 1.0
    height = 40 + 22 * ((len(segments) + 3) // 4)
    x = 0.0
    parts: list[str] = []
    for label, value, colour in segments:
        w = float(value) / total * width
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="0" width="{w:.1f}" height="26" fill="{colour}">'
            f"<title>{escape(label)}: {escape(usd(value))}</title></rect>"
        )
        x += w
    for i, (label, value, colour) in enumerate(segments):
        lx = (i % 4) * (width / 4)
        ly = 44 + (i // 4) * 22
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" rx="2" '
                     f'fill="{colour}"/>')
        parts.append(_text(lx + 18, ly, f"{_truncate(label, 18)} {usd(value)}", size=12))
    return _svg(width, height, title, "".join(parts))


def waterfall(report: Report, *, width: int = 860, height: int = 300) -> Markup:
    """Current cost, the saving each phase adds, and the cost after, with range whiskers."""
    t = report.totals
    current = float(t.monthly_cost)
    left, right, top, bottom = 70, 20, 24, 56
    plot_h = height - top - bottom
    columns = 2 + len(report.phases)
    slot = (width - left - right) / columns
    bar_w = slot * 0.55
    peak, tick = nice_scale(current or 1.0)

    def y(value: float) -> float:
        return top + plot_h - value / peak * plot_h

    parts: list[str] = []
    value = 0.0
    while value <= peak + tick / 1000:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="{GRID}"/>')
        label = f"${value:,.0f}" if tick >= 1 else f"${value:,.2f}"
        parts.append(_text(left - 8, y(value) + 4, label, size=11, anchor="end", fill=MUTED))
        value += tick

    def column(i: int, low: float, high: float, colour: str, label: str, note: str,
               tip: str, above: float | None = None) -> None:
        x = left + i * slot + (slot - bar_w) / 2
        y_top, y_low = y(max(low, high)), y(min(low, high))
        label_y = min(y_top, above) if above is not None else y_top
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
            f'height="{max(y_low - y_top, 1.0):.1f}" rx="3" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        parts.append(_text(x + bar_w / 2, label_y - 6, note, size=12, anchor="middle",
                           weight="600"))
        parts.append(_text(x + bar_w / 2, height - bottom + 18, label, size=12,
                           anchor="middle"))

    column(0, 0.0, current, "#56606b", "Today", usd(t.monthly_cost),
           f"Current monthly cost {usd(t.monthly_cost)}")
    level = current
    for i, phase in enumerate(report.phases, start=1):
        added = float(phase.monthly_savings_added)
        after = level - added
        adds = usd(phase.monthly_savings_added)
        tip = f"{phase.title}: adds {adds} a month; saved once done {phase_range(phase)}"
        note = "−" + adds if added > 0 else adds
        # Whisker: the cost once this phase is done, from best case to most conservative.
        x = left + i * slot + slot / 2
        y_best = y(current - float(phase.cumulative_monthly_savings_high))
        y_worst = y(current - float(phase.cumulative_monthly_savings_low))
        whisker = abs(y_best - y_worst) > 0.5
        column(i, after, level, SAVE, phase.title, note, tip,
               above=min(y_best, y_worst) if whisker else None)
        if whisker:
            parts.append(
                f'<g class="whisker" stroke="{INK}" stroke-width="1.5">'
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_best:.1f}" y2="{y_worst:.1f}"/>'
                f'<line x1="{x - 6:.1f}" x2="{x + 6:.1f}" y1="{y_best:.1f}" y2="{y_best:.1f}"/>'
                f'<line x1="{x - 6:.1f}" x2="{x + 6:.1f}" y1="{y_worst:.1f}" y2="{y_worst:.1f}"/>'
                f"<title>{escape(tip)}</title></g>"
            )
        level = after
    column(columns - 1, 0.0, level, "#3566a8", "After", usd(t.monthly_cost_after),
           f"Monthly cost after the expected savings {usd(t.monthly_cost_after)}")
    parts.append(_text(left, height - 10,
                       "Green: expected saving each phase adds. Whiskers: cost once the phase "
                       "is done, best case to most conservative.", size=11, fill=MUTED))
    return _svg(width, height, "Monthly cost today, saving by phase, and cost after",
                "".join(parts))


def phase_bars(phases: Sequence[PhaseOut], *, width: int = 860) -> Markup:
    """Savings once each phase is done: conservative, expected and best, as a range bar."""
    rows = len(phases)
    left, top, row_h = 130, 10, 34
    height = top + rows * row_h + 30
    peak = max((float(p.cumulative_monthly_savings_high) for p in phases), default=0.0) or 1.0
    plot_w = width - left - 190
    parts: list[str] = []
    for i, p in enumerate(phases):
        yy = top + i * row_h
        lo = float(p.cumulative_monthly_savings_low) / peak * plot_w
        hi = float(p.cumulative_monthly_savings_high) / peak * plot_w
        mid = float(p.cumulative_monthly_savings) / peak * plot_w
        parts.append(_text(left - 10, yy + 17, f"After {p.title.lower()}", anchor="end",
                           size=13))
        parts.append(f'<rect x="{left}" y="{yy + 6}" width="{plot_w}" height="16" rx="3" '
                     f'fill="{GRID}"/>')
        parts.append(
            f'<rect class="bar" x="{left + lo:.1f}" y="{yy + 6}" width="{max(hi - lo, 2):.1f}" '
            f'height="16" rx="3" fill="{SAVE}" fill-opacity="0.35"><title>'
            f"{escape(phase_range(p))}</title></rect>"
        )
        parts.append(f'<rect class="bar" x="{left + mid - 2:.1f}" y="{yy + 3}" width="4" '
                     f'height="22" fill="{SAVE}"><title>expected '
                     f"{escape(usd(p.cumulative_monthly_savings))}</title></rect>")
        parts.append(_text(left + plot_w + 10, yy + 18, phase_range(p), size=12, fill=MUTED))
    parts.append(_text(left, height - 8, "Bar: expected. Band: most conservative to best case.",
                       size=11, fill=MUTED))
    return _svg(width, height, "Monthly savings once each phase is done", "".join(parts))


def nice_scale(peak: float, ticks: int = 4) -> tuple[float, float]:
    """An axis top and tick step of 1, 2, 2.5 or 5 x 10^k, with about `ticks` intervals."""
    if peak <= 0 or math.isnan(peak):
        return 1.0, 0.25
    raw = peak / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = factor * magnitude
        if step >= raw:
            break
    return math.ceil(peak / step - 1e-9) * step, step


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def load_chart(address: str, metric: MetricLoad, *, width: int = 860,
               height: int = 240, right: int = 170) -> Markup:
    """The recorded series (max per bucket) against today's capacity and the proposed one."""
    left, top, bottom = 56, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = metric.series.values
    present = [v for v in values if v is not None]
    lines = metric.capacity
    ceiling, tick = nice_scale(max([*present, *(c.value for c in lines), 0.0]) * 1.02, ticks=5)
    count = max(len(values), 2)

    def x(i: float) -> float:
        return left + i / (count - 1) * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / ceiling * plot_h

    parts: list[str] = []
    level = 0.0
    while level <= ceiling + tick / 1000:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(level):.1f}" '
                     f'y2="{y(level):.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y(level) + 4, number(level, metric.unit), size=10,
                           anchor="end", fill=MUTED))
        level += tick
    start = _parse(metric.series.start)
    days = metric.window.days
    step = 1 if days <= 10 else 2 if days <= 20 else 7
    day = 0
    while day <= days:
        i = day * 86400 / metric.series.bucket_s
        if i <= count - 1:
            label = (start + timedelta(days=day)).strftime("%b %d")
            parts.append(_text(x(i), height - 10, label, size=10, anchor="middle", fill=MUTED))
        day += step
    # Gaps break the line rather than being drawn as zero.
    segments: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(f"{x(index):.1f},{y(value):.1f}")
    for points in segments:
        if len(points) == 1:
            cx, cy = points[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="#3566a8"/>')
        elif points:
            parts.append(f'<polyline class="series" fill="none" stroke="#3566a8" '
                         f'stroke-width="1.4" points="{" ".join(points)}"/>')
    labels: list[tuple[float, str, str, str]] = []
    p95 = metric.p95
    if p95 is not None:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(p95):.1f}" '
                     f'y2="{y(p95):.1f}" stroke="#3566a8" stroke-dasharray="2 3"/>')
        labels.append((y(p95), f"p95 {number(p95, metric.unit)}", "#3566a8", "normal"))
    for line in lines:
        colour, dash, width_px = {
            "before": (BEFORE, "", 2),
            "after": (AFTER, ' stroke-dasharray="6 4"', 2),
            "target": (TARGET, ' stroke-dasharray="1 3"', 2),
        }[line.kind]
        yy = y(line.value)
        parts.append(
            f'<line class="capacity" x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" '
            f'y2="{yy:.1f}" stroke="{colour}" stroke-width="{width_px}"{dash}>'
            f"<title>{escape(line.label)}: {escape(number(line.value, metric.unit))}</title></line>"
        )
        label = {"before": "capacity today", "after": "capacity after"}.get(line.kind, line.label)
        labels.append((yy, f"{label} {number(line.value, metric.unit)}", colour, "600"))
    # Right-hand labels are nudged apart so that close lines stay readable.
    labels.sort()
    placed: list[float] = []
    for yy, text, colour, weight in labels:
        at = max(yy, placed[-1] + 13) if placed else yy
        placed.append(at)
        parts.append(_text(left + plot_w + 6, at + 4, text, size=11, fill=colour, weight=weight))
    title = (f"{address} {metric.metric}: hourly max against capacity, "
             f"{metric.window.days:.1f} days")
    return _svg(width, height, title, "".join(parts))


def breakeven_chart(curve: BreakEven, *, width: int = 860, height: int = 280) -> Markup:
    """Monthly cost on Lambda and on Fargate over request volume, both axes on a log scale (the
    curves span decades), with today's volume and the break-even volume marked."""
    left, right, top, bottom = 64, 150, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    volumes = [p.monthly_requests for p in curve.points]
    costs = [float(c) for p in curve.points for c in (p.lambda_monthly, p.fargate_monthly)]
    x_lo, x_hi = math.log10(min(volumes)), math.log10(max(volumes))
    y_lo = math.floor(math.log10(max(min(costs), 0.01)))
    y_hi = math.log10(max(max(costs), 0.01) * 1.1)

    def x(volume: float) -> float:
        return left + (math.log10(volume) - x_lo) / ((x_hi - x_lo) or 1.0) * plot_w

    def y(value: float) -> float:
        level = math.log10(max(value, 10.0**y_lo))
        return top + plot_h - (level - y_lo) / ((y_hi - y_lo) or 1.0) * plot_h

    parts: list[str] = []
    decades = y_hi - y_lo
    steps = (1, 2, 5) if decades <= 3 else (1,)
    decade = y_lo
    while decade <= y_hi:
        for step in steps:
            level = step * 10.0**decade
            if math.log10(level) > y_hi:
                break
            parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(level):.1f}" '
                         f'y2="{y(level):.1f}" stroke="{GRID}"/>')
            parts.append(_text(left - 6, y(level) + 4, f"${level:,.0f}" if level >= 1 else
                               f"${level:.2f}", size=10, anchor="end", fill=MUTED))
        decade += 1
    tick = math.ceil(x_lo - 1e-9)
    while tick <= x_hi + 1e-9:
        parts.append(_text(x(10**tick), height - 14, requests_text(10**tick, trim=True), size=10,
                           anchor="middle", fill=MUTED))
        tick += 1
    parts.append(_text(left + plot_w / 2, height - 1, "requests a month (log scale)", size=10,
                       anchor="middle", fill=MUTED))
    series = (("Lambda", LAMBDA, [float(p.lambda_monthly) for p in curve.points]),
              ("Fargate", FARGATE, [float(p.fargate_monthly) for p in curve.points]))
    ends: list[tuple[float, str, str]] = []
    for name, colour, values in series:
        points = " ".join(f"{x(v):.1f},{y(c):.1f}" for v, c in zip(volumes, values, strict=True))
        parts.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"><title>{escape(name)}</title></polyline>')
        ends.append((y(values[-1]), f"{name} {usd(Decimal(str(values[-1])))}", colour))
    ends.sort()
    placed: list[float] = []
    for yy, text, colour in ends:
        at = max(yy, placed[-1] + 14) if placed else yy
        placed.append(at)
        parts.append(_text(left + plot_w + 8, at + 4, text, size=11, fill=colour, weight="600"))
    today = requests_text(curve.monthly_requests, trim=True)
    marks = [(curve.monthly_requests, f"today {today}", INK, "")]
    if curve.break_even_requests:
        marks.append((curve.break_even_requests,
                      f"break-even {requests_text(curve.break_even_requests, trim=True)}", MUTED,
                      ' stroke-dasharray="4 3"'))
    # The leftmost mark is labelled on its left, the other on its right: they never overlap.
    marks.sort()
    for index, (volume, label, colour, dash) in enumerate(marks):
        if not min(volumes) <= volume <= max(volumes):
            continue
        xx = x(volume)
        parts.append(f'<line class="marker" x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" '
                     f'y2="{top + plot_h}" stroke="{colour}" stroke-width="1.2"{dash}/>')
        left_side = index == 0 and len(marks) > 1
        parts.append(_text(xx - 4 if left_side else xx + 4, top + 12, label, size=11,
                           anchor="end" if left_side else "start", fill=colour))
    title = (f"{curve.address}: monthly cost on Lambda and on Fargate by request volume; "
             f"today {today} requests a month")
    return _svg(width, height, title, "".join(parts))
