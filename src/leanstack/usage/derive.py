"""Usage keys (the infracost-style usage file values) derived from the recorded load.

Totals are normalised to a 730-hour month from the window actually recorded, and every value
says which metrics and which window it came from, so an estimate can state its basis.
Count metrics (Sum) treat a missing minute as zero, because CloudWatch publishes nothing for
a minute without traffic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from leanstack.model import HOURS_PER_MONTH, Issue, IssueCode, Resource, Severity
from leanstack.usage.series import MetricSeries
from leanstack.usage.store import MetricStore

_HOURS = float(HOURS_PER_MONTH)
_GB = float(2**30)  # AWS bills data in GiB-sized "GB"
MIN_WINDOW_DAYS = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedValue:
    """One usage key with its provenance."""

    key: str
    value: float
    metrics: tuple[str, ...]
    start: datetime
    end: datetime
    coverage: float
    basis: str

    @property
    def days(self) -> float:
        """Length of the window used, in days."""
        return (self.end - self.start).total_seconds() / 86400.0

    def window(self) -> str:
        """`2026-11-06 -> 2026-11-20 (14.0 days, 99% coverage)`."""
        return (
            f"{self.start:%Y-%m-%d %H:%M} -> {self.end:%Y-%m-%d %H:%M} "
            f"({self.days:.1f} days, {self.coverage:.0%} coverage)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedUsage:
    """address -> usage key -> value, plus what could not be derived."""

    values: Mapping[str, Mapping[str, DerivedValue]] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

    def usage_for(self, address: str) -> dict[str, float]:
        """Plain usage dict for one resource (what a usage file entry would hold)."""
        return {k: v.value for k, v in self.values.get(address, {}).items()}

    def as_usage_file(self) -> dict[str, dict[str, float]]:
        """`resource_usage` mapping of every resource with at least one key."""
        return {a: self.usage_for(a) for a in sorted(self.values) if self.values[a]}


def _span(series: Sequence[MetricSeries]) -> tuple[datetime, datetime, float]:
    start = min(s.start for s in series)
    end = max(s.start + timedelta(seconds=len(s.values) * s.period_s) for s in series)
    coverage = min(s.coverage for s in series)
    return start, end, coverage


def _hours(series: MetricSeries) -> float:
    return len(series.values) * series.period_s / 3600.0


def _monthly_total(series: Sequence[MetricSeries], weights: Sequence[float]) -> float:
    total = 0.0
    for s, w in zip(series, weights, strict=True):
        total += w * float(np.nansum(s.values)) / _hours(s) * _HOURS
    return total


class _Deriver:
    def __init__(self, store: MetricStore):
        self.store = store
        self.issues: list[Issue] = []

    def get(self, address: str, metric: str, statistic: str | None = None) -> MetricSeries | None:
        s = self.store.series(address, metric, statistic=statistic)
        if s is None or s.points == 0:
            return None
        if s.window_days < MIN_WINDOW_DAYS:
            self.issues.append(
                Issue(
                    code=IssueCode.INSUFFICIENT_DATA,
                    message=f"{metric}: only {s.window_days * 24:.1f} h recorded "
                    f"(need {MIN_WINDOW_DAYS:g} day); not used",
                    where=address,
                    severity=Severity.INFO,
                )
            )
            return None
        return s

    def value(
        self, key: str, value: float, series: Sequence[MetricSeries], basis: str
    ) -> DerivedValue:
        start, end, coverage = _span(series)
        return DerivedValue(
            key=key,
            value=value,
            metrics=tuple(f"{s.metric}:{s.statistic}" for s in series),
            start=start,
            end=end,
            coverage=coverage,
            basis=basis,
        )


def derive_usage(store: MetricStore, resources: Sequence[Resource]) -> DerivedUsage:
    """Usage keys for every resource whose usage-based cost can be read from its metrics."""
    d = _Deriver(store)
    out: dict[str, dict[str, DerivedValue]] = {}
    for res in resources:
        keys: dict[str, DerivedValue] = {}
        a = res.address
        if res.type == "aws_sqs_queue":
            parts = [
                (d.get(a, "NumberOfMessagesSent"), 1.0),
                (d.get(a, "NumberOfMessagesReceived"), 2.0),
                (d.get(a, "NumberOfEmptyReceives"), 1.0),
            ]
            present = [(s, w) for s, w in parts if s is not None]
            if present:
                keys["monthly_requests"] = d.value(
                    "monthly_requests",
                    _monthly_total([s for s, _ in present], [w for _, w in present]),
                    [s for s, _ in present],
                    "sent + 2 x received (receive and delete) + empty receives, per 730 h",
                )
        elif res.type == "aws_lambda_function":
            inv = d.get(a, "Invocations")
            if inv is not None:
                keys["monthly_requests"] = d.value(
                    "monthly_requests", _monthly_total([inv], [1.0]), [inv], "Invocations per 730 h"
                )
            dur = d.get(a, "Duration", "Average")
            if dur is not None:
                if (
                    inv is not None
                    and len(inv.values) == len(dur.values)
                    and inv.start == dur.start
                ):
                    w = np.nan_to_num(inv.values)
                    ok = ~np.isnan(dur.values) & (w > 0)
                    avg = (
                        float(np.sum(dur.values[ok] * w[ok]) / np.sum(w[ok]))
                        if ok.any()
                        else dur.mean()
                    )
                    basis = "Duration average weighted by invocations"
                else:
                    avg, basis = dur.mean(), "mean of per-period Duration averages"
                keys["request_duration_ms"] = d.value("request_duration_ms", avg, [dur], basis)
        elif res.type in ("aws_lb", "aws_alb"):
            req = d.get(a, "RequestCount")
            if req is not None:
                keys["monthly_requests"] = d.value(
                    "monthly_requests",
                    _monthly_total([req], [1.0]),
                    [req],
                    "RequestCount per 730 h",
                )
            rt = d.get(a, "TargetResponseTime", "Average")
            if rt is not None:
                keys["request_duration_ms"] = d.value(
                    "request_duration_ms", rt.mean() * 1000, [rt], "mean TargetResponseTime"
                )
            conn = d.get(a, "NewConnectionCount")
            if conn is not None:
                per_s = float(np.nansum(conn.values)) / (_hours(conn) * 3600)
                keys["new_connections"] = d.value(
                    "new_connections", per_s, [conn], "new connections per second"
                )
            active = d.get(a, "ActiveConnectionCount")
            if active is not None:
                per_min = float(np.nansum(active.values)) / (_hours(active) * 60)
                keys["active_connections"] = d.value(
                    "active_connections", per_min, [active], "active connections per minute"
                )
            processed = d.get(a, "ProcessedBytes")
            if processed is not None:
                per_h = float(np.nansum(processed.values)) / _GB / _hours(processed)
                keys["processed_bytes_gb"] = d.value(
                    "processed_bytes_gb", per_h, [processed], "GB processed per hour"
                )
        elif res.type == "aws_nat_gateway":
            out_bytes = d.get(a, "BytesOutToDestination")
            if out_bytes is not None:
                keys["monthly_data_processed_gb"] = d.value(
                    "monthly_data_processed_gb",
                    _monthly_total([out_bytes], [1.0 / _GB]),
                    [out_bytes],
                    "BytesOutToDestination per 730 h",
                )
        elif res.type == "aws_db_instance":
            free = d.get(a, "FreeStorageSpace")
            allocated = res.get("allocated_storage")
            if free is not None and isinstance(allocated, int | float):
                used = float(allocated) - float(np.nanmin(free.values)) / _GB
                keys["used_storage_gb"] = d.value(
                    "used_storage_gb",
                    max(0.0, used),
                    [free],
                    "allocated_storage - lowest FreeStorageSpace (informational)",
                )
        elif res.type == "aws_ecs_service":
            running = d.get(a, "RunningTaskCount", "Average")
            if running is not None:
                keys["average_task_count"] = d.value(
                    "average_task_count",
                    float(np.nanmean(running.values)),
                    [running],
                    "mean RunningTaskCount over the window (what autoscaling actually ran)",
                )
        if keys:
            out[a] = keys
    return DerivedUsage(values=out, issues=tuple(d.issues))
