"""Burstable (T-class) CPU credit accounting, shared by the RDS and ElastiCache analyzers."""

from __future__ import annotations

import numpy as np

from leanstack.analyzers._base import FloatArray, Window
from leanstack.analyzers._specs import InstanceSpec


def hourly_means(win: Window) -> FloatArray:
    """The window's values averaged per hour (gaps ignored, empty hours dropped)."""
    per_hour = max(1, round(3600 / win.series.period_s))
    n = len(win.values) // per_hour * per_hour
    if n == 0:
        return win.present
    blocks = win.values[:n].reshape(-1, per_hour)
    counts = np.sum(~np.isnan(blocks), axis=1)
    sums = np.nansum(blocks, axis=1)
    means: FloatArray = np.divide(sums, counts, out=np.full(len(sums), np.nan), where=counts > 0)
    return means[~np.isnan(means)]


def surplus_vcpu_hours(usage_vcpu_hourly: FloatArray, spec: InstanceSpec) -> float:
    """vCPU-hours used beyond what the credit balance covers.

    Each hour earns `baseline x vCPUs` and spends the vCPU-hours used; the balance holds at
    most 24 hours of earnings and starts full (a running instance at steady state). For RDS
    (unlimited mode) the result is billed per vCPU-hour; for ElastiCache (standard mode) it is
    CPU the node would not get: it is throttled to baseline instead (reference §4.7).
    """
    if spec.baseline is None:
        return 0.0
    earn = spec.baseline * spec.vcpu
    cap = 24 * earn
    balance = cap
    surplus = 0.0
    for used in np.minimum(usage_vcpu_hourly, spec.vcpu):
        balance = min(cap, balance + earn - float(used))
        if balance < 0:
            surplus -= balance
            balance = 0.0
    return surplus
