"""A service's recorded CPU as the simulator's `Load`, and other series on the same minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from leanstack.analyzers._base import AnalysisContext, FloatArray, Window, window
from leanstack.simulate.ecs import Load
from leanstack.usage.series import MetricSeries


def minute_values(series: MetricSeries) -> tuple[int, FloatArray]:
    """(start epoch s, 1-minute values), each point held for its period."""
    repeat = max(1, round(series.period_s / 60))
    values = np.asarray(series.values, dtype=np.float64)
    return int(series.start.timestamp()), np.repeat(values, repeat)


def aligned(series: MetricSeries, start_s: int, n: int, per_minute: bool = False) -> FloatArray:
    """The series on the minute grid [start_s, start_s + n minutes), NaN where it has no point.

    `per_minute` spreads a per-period sum (RequestCount) evenly over the period's minutes.
    """
    s_start, values = minute_values(series)
    if per_minute:
        values = values / max(1, round(series.period_s / 60))
    out = np.full(n, np.nan)
    offset = (start_s - s_start) // 60
    lo, hi = max(0, -offset), min(n, len(values) - offset)
    if hi > lo:
        out[lo:hi] = values[lo + offset : hi + offset]
    return out


@dataclass(frozen=True, slots=True)
class ServiceLoad:
    """CPU demand in vCPU per minute, the window it came from, and the grid's start."""

    load: Load
    window: Window
    start_s: int

    @property
    def minutes(self) -> int:
        """Length of the grid."""
        return self.load.minutes


def service_load(
    ctx: AnalysisContext,
    address: str,
    cpu: MetricSeries,
    lookback_days: float,
    task_vcpu: float,
    default_tasks: int,
) -> ServiceLoad:
    """Demand = average CPU% x running tasks x task vCPU, minute by minute (the simulator's
    `Load`): a series recorded at one size and count re-projects onto any other."""
    win = window(cpu, lookback_days)
    skipped = len(cpu.values) - len(win.values)
    start = cpu.start + timedelta(seconds=cpu.period_s * skipped)
    trimmed = MetricSeries(
        resource=cpu.resource,
        metric=cpu.metric,
        statistic=cpu.statistic,
        period_s=cpu.period_s,
        start=start,
        values=win.values,
        unit=cpu.unit,
    )
    start_s, util = minute_values(trimmed)
    tasks = np.full(len(util), float(max(default_tasks, 1)))
    running = ctx.series(address, "RunningTaskCount")
    if running is not None:
        recorded = aligned(running, start_s, len(util))
        tasks = np.where(np.isnan(recorded), tasks, recorded)
    demand = util / 100.0 * tasks * task_vcpu
    return ServiceLoad(Load(name=address, start=start, demand_vcpu=demand), win, start_s)
