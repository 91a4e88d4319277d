"""Readers shared by several analyzers: ElastiCache node counts, Lambda usage from metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leanstack.analyzers._base import AnalysisContext, DataGateSettings, Window, as_number, gated
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource, is_known

CACHE_TYPES = frozenset({"aws_elasticache_cluster", "aws_elasticache_replication_group"})


def cache_engine(resource: Resource) -> str:
    """`redis`, `valkey` or `memcached` (a replication group without engine is Redis).

    `unknown` when the value is only known after apply: no catalog row matches it, so the
    analyzers say they cannot price the node instead of guessing its engine.
    """
    engine = resource.get("engine")
    if not is_known(engine):
        return "unknown"
    return str(engine).lower() if isinstance(engine, str) else "redis"


def cache_nodes(resource: Resource) -> int | None:
    """Nodes the resource runs, None when unknown."""
    if resource.type == "aws_elasticache_cluster":
        n = as_number(resource.get("num_cache_nodes", 1))
        return int(n) if n is not None else None
    clusters = as_number(resource.get("num_cache_clusters"))
    if clusters is not None:
        return int(clusters)
    groups = as_number(resource.get("num_node_groups", 1))
    replicas = as_number(resource.get("replicas_per_node_group", 0))
    if groups is None or replicas is None:
        return None
    return int(groups * (replicas + 1))


@dataclass(frozen=True, slots=True)
class LambdaUsage:
    """A function's monthly invocations and average duration, from metrics or the estimate."""

    monthly_invocations: float
    avg_duration_ms: float | None
    monthly_gb_seconds: float
    basis: str
    duration: Window | None = None


def lambda_memory_mb(resource: Resource) -> float:
    """Configured memory (Terraform default 128 MB)."""
    return as_number(resource.get("memory_size", 128)) or 128.0


def lambda_arch(resource: Resource) -> str:
    """`x86_64` or `arm64`."""
    archs = resource.get("architectures") or ["x86_64"]
    return "arm64" if isinstance(archs, list) and "arm64" in archs else "x86_64"


def lambda_usage(
    resource: Resource, ctx: AnalysisContext, settings: DataGateSettings
) -> LambdaUsage | None:
    """Monthly usage from Invocations x Duration, else from the estimate's GB-second quantity.

    The series count only when both pass the data gate: a day of invocations scaled to a
    month is not a monthly figure.
    """
    mem_gb = lambda_memory_mb(resource) / 1024
    inv_w, _ = gated(ctx, resource.address, "Invocations", settings)
    dur_w, _ = gated(ctx, resource.address, "Duration", settings)
    if inv_w is not None and dur_w is not None:
        inv = inv_w.series
        n = min(len(inv_w.values), len(dur_w.values))
        counts = np.nan_to_num(inv_w.values[-n:])
        durations = dur_w.values[-n:]
        present = ~np.isnan(durations) & (counts > 0)
        hours = n * inv.period_s / 3600.0
        if hours > 0:
            scale = float(HOURS_PER_MONTH) / hours
            seconds = float(np.sum(counts[present] * durations[present])) / 1000.0
            total = float(counts.sum())
            avg = seconds * 1000.0 / total if total else None
            return LambdaUsage(
                total * scale, avg, seconds * mem_gb * scale, "Invocations x Duration", dur_w
            )
    priced = ctx.priced.get(resource.address)
    if priced is None:
        return None
    gbs = reqs = None
    for comp in priced.components:
        if comp.monthly_quantity is None:
            continue
        if comp.unit.startswith("GB-second") and gbs is None:
            gbs = float(comp.monthly_quantity)
        elif comp.unit == "1M requests" and reqs is None:
            reqs = float(comp.monthly_quantity) * 1e6
    if gbs is None:
        return None
    invocations = reqs or 0.0
    avg = gbs / mem_gb / invocations * 1000 if invocations else None
    return LambdaUsage(invocations, avg, gbs, "the estimate's usage")
