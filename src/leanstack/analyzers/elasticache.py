"""ElastiCache: node type from memory used and engine CPU, the Valkey engine, backup retention."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    Window,
    as_number,
    confidence_of,
    dec,
    gate,
    register,
    window,
)
from leanstack.analyzers._credits import hourly_means, surplus_vcpu_hours
from leanstack.analyzers._pricing import Rate, cache_node_types, cache_rate, unit_price
from leanstack.analyzers._services import CACHE_TYPES, cache_engine, cache_nodes
from leanstack.analyzers._specs import (
    cache_maxmemory_bytes,
    cache_spec,
    is_arm,
    valkey_engine_changes,
)
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.resource import Resource

GIB = 2**30


class ElastiCacheSettings(DataGateSettings):
    """How a cache node is sized.

    Redis reserves 25% of maxmemory by default (`reserved-memory-percent`, accounts created
    since 2017-03-16), so data must fit in the other 75%, with a 20% margin above the peak
    (Compute Optimizer's memory headroom). Redis runs commands on one thread: EngineCPU at its
    P99.5 must stay below 80% (20% headroom). T nodes run in standard credit mode: they are
    throttled to baseline when credits run out, never billed extra, so a T node whose load
    would exhaust its credits is not proposed. One snapshot per cluster is free; more are
    billed per GB-month.
    """

    reserved_memory_fraction: float = Field(
        0.25, ge=0, lt=1, description="Share of maxmemory Redis reserves (reserved-memory-percent)."
    )
    memory_margin: float = Field(0.20, ge=0, description="Margin above the peak memory used.")
    engine_cpu_percentile: float = Field(
        99.5, gt=0, le=100, description="Percentile of EngineCPUUtilization."
    )
    cpu_headroom: float = Field(
        0.20, ge=0, lt=1, description="Share of the engine thread kept free."
    )
    allow_valkey: bool = Field(True, description="Propose the Valkey engine for Redis OSS nodes.")
    allow_arch_change: bool = Field(
        False, description="Consider node types of the other architecture (Graviton analyzer does)."
    )


@register
class ElastiCache(Analyzer[ElastiCacheSettings]):
    """Fit the node type to memory used (25% reserved) and engine CPU; Valkey; backup retention.

    Memory from BytesUsedForCache (or DatabaseMemoryUsagePercentage); CPU from
    EngineCPUUtilization and, for T nodes, CPUUtilization against the credit baseline.
    `snapshot_retention_limit` defaults to 0 (no backups), so setting it to 3 raises cost.
    """

    name = "elasticache"
    title = "ElastiCache nodes"
    applies_to = CACHE_TYPES
    needs = frozenset(
        {
            "BytesUsedForCache",
            "DatabaseMemoryUsagePercentage",
            "EngineCPUUtilization",
            "CPUUtilization",
        }
    )
    settings_model = ElastiCacheSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: ElastiCacheSettings
    ) -> Iterable[Finding]:
        node = resource.get("node_type")
        engine = cache_engine(resource)
        nodes = cache_nodes(resource)
        spec = cache_spec(node) if isinstance(node, str) else None
        if not isinstance(node, str) or nodes is None or spec is None:
            yield self.finding(
                resource, FindingStatus.NOT_APPLICABLE, f"Node type {node!r} or node count unknown."
            )
            return
        current = cache_rate(ctx.catalog, resource.region, node, engine)
        if current is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog price for {node} ({engine}) in {resource.region}.",
            )
            return
        fit, peak_bytes = self._fit(resource, ctx, settings, node, engine, nodes, current)
        yield fit
        if engine == "redis" and settings.allow_valkey:
            chosen = fit.recommendation.changes[0].after if fit.recommendation else node
            yield self._valkey(resource, ctx, node, str(chosen), nodes, current)
        if engine != "memcached":
            yield self._backups(resource, ctx, peak_bytes, spec.memory_gib)

    def _used_bytes(
        self, resource: Resource, ctx: AnalysisContext, s: ElastiCacheSettings, node: str
    ) -> tuple[Window | None, float | None, str]:
        used = ctx.series(resource.address, "BytesUsedForCache")
        if used is not None:
            win = window(used, s.lookback_days)
            if gate(win, s, "BytesUsedForCache") is None:
                return win, float(win.present.max()), "BytesUsedForCache"
        pct = ctx.series(resource.address, "DatabaseMemoryUsagePercentage")
        maxmem = cache_maxmemory_bytes(node)
        if pct is not None and maxmem:
            win = window(pct, s.lookback_days)
            if gate(win, s, "DatabaseMemoryUsagePercentage") is None:
                usable = maxmem * (1 - s.reserved_memory_fraction)
                return win, float(win.present.max()) / 100 * usable, "DatabaseMemoryUsagePercentage"
        return None, None, "BytesUsedForCache"

    def _fit(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: ElastiCacheSettings,
        node: str,
        engine: str,
        nodes: int,
        current: Rate,
    ) -> tuple[Finding, float | None]:
        spec = cache_spec(node)
        assert spec is not None
        mem_win, peak, metric = self._used_bytes(resource, ctx, s, node)
        if mem_win is None or peak is None:
            return (
                self.finding(
                    resource,
                    FindingStatus.INSUFFICIENT_DATA,
                    f"Not enough recorded memory use ({metric} or DatabaseMemoryUsagePercentage) "
                    "to fit the node type.",
                ),
                None,
            )
        reserved = 0.0 if engine == "memcached" else s.reserved_memory_fraction
        need_bytes = peak * (1 + s.memory_margin)
        evidence: dict[str, object] = {
            "memory": {**mem_win.evidence(), "peak_used_mib": round(peak / 2**20, 2)},
            "required_usable_mib": round(need_bytes / 2**20, 2),
            "reserved_memory_fraction": reserved,
        }
        wins = [mem_win]
        eng = ctx.series(resource.address, "EngineCPUUtilization")
        if eng is not None:
            eng_w = window(eng, s.lookback_days)
            if gate(eng_w, s, "EngineCPUUtilization") is None:
                p = eng_w.pct(s.engine_cpu_percentile)
                evidence["engine_cpu"] = eng_w.evidence(unit="%")
                wins.append(eng_w)
                if p > 100 * (1 - s.cpu_headroom):
                    evidence["engine_cpu_note"] = (
                        f"engine thread at {p:.0f}% (P{s.engine_cpu_percentile:g}): a node type "
                        "change "
                        "does not add engine threads; consider more shards"
                    )
        host_hourly = None
        host = ctx.series(resource.address, "CPUUtilization")
        if host is not None:
            host_w = window(host, s.lookback_days)
            if gate(host_w, s, "CPUUtilization") is None:
                host_hourly = hourly_means(host_w) / 100 * spec.vcpu
                evidence["host_cpu"] = host_w.evidence(unit="%")
                if spec.burstable:
                    throttled = surplus_vcpu_hours(host_hourly, spec)
                    evidence["throttled_vcpu_hours"] = round(throttled, 2)
                    if throttled > 0:
                        evidence["throttling_note"] = (
                            f"{node} would run out of CPU credits under this load and be "
                            "throttled to "
                            f"its {spec.baseline:.0%} baseline (standard mode: not billed extra)"
                        )
        options: list[tuple[Decimal, str, Rate]] = []
        for candidate in cache_node_types(ctx.catalog, resource.region, engine):
            c_spec = cache_spec(candidate)
            maxmem = cache_maxmemory_bytes(candidate)
            if c_spec is None or maxmem is None:
                continue
            if not s.allow_arch_change and is_arm(candidate) != is_arm(node):
                continue
            if maxmem * (1 - reserved) < need_bytes and candidate != node:
                continue
            # Host vCPU use moves to the new node as is (same vCPU speed within a family).
            if (
                host_hourly is not None
                and c_spec.burstable
                and candidate != node
                and surplus_vcpu_hours(host_hourly, c_spec) > 0
            ):
                continue
            rate = cache_rate(ctx.catalog, resource.region, candidate, engine)
            if rate is not None:
                options.append((rate.hourly, candidate, rate))
        options.sort(key=lambda o: (o[0], o[1] != node))
        fits_current = (cache_maxmemory_bytes(node) or 0) * (1 - reserved) >= need_bytes
        evidence["fits_current"] = fits_current
        _, best, rate = options[0] if options else (current.hourly, node, current)
        before = current.monthly * nodes
        after = rate.monthly * nodes
        if best == node or after >= before:
            summary = (
                f"{node} is the smallest node type that holds the peak {peak / 2**20:.0f} MiB "
                f"(+{s.memory_margin:.0%}) in its {1 - reserved:.0%} usable memory."
                if fits_current
                else f"Under-provisioned: the peak {peak / 2**20:.0f} MiB "
                f"+ {s.memory_margin:.0%} does not fit "
                f"in {node}'s usable memory; evictions likely."
            )
            return self.finding(resource, FindingStatus.NO_CHANGE, summary, evidence), peak
        rec = Recommendation(
            id=self.rec_id(resource.address, "node"),
            analyzer=self.name,
            address=resource.address,
            title=f"Change the node type from {node} to {best}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(path=f"{resource.address}.node_type", before=node, after=best),
            ),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=confidence_of(*wins),
            evidence=evidence,
            risks=("A node type change replaces the node: a single-node cluster loses its data.",),
            assumptions=(*current.sources(), *rate.sources()),
            exclusive_group=f"cache-node:{resource.address}",
        )
        return (
            self.finding(
                resource,
                FindingStatus.OPPORTUNITY,
                f"{node} → {best}: peak {peak / 2**20:.0f} MiB fits; saves "
                f"${rec.monthly_savings:.2f}/month.",
                evidence,
                rec,
            ),
            peak,
        )

    def _valkey(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        node: str,
        chosen: str,
        nodes: int,
        current: Rate,
    ) -> Finding:
        valkey = cache_rate(ctx.catalog, resource.region, chosen, "valkey")
        if valkey is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Valkey price for {chosen} in {resource.region}.",
            )
        changes = valkey_engine_changes(resource, chosen)
        rec = Recommendation(
            id=self.rec_id(resource.address, "valkey"),
            analyzer=self.name,
            address=resource.address,
            title=f"Switch the engine to Valkey{' on ' + chosen if chosen != node else ''}",
            phase=Phase.ADVANCED,
            changes=tuple(changes),
            monthly_cost_before=current.monthly * nodes,
            monthly_cost_after=valkey.monthly * nodes,
            confidence=Confidence.MEDIUM,
            evidence={"valkey_hourly": str(valkey.hourly), "redis_hourly": str(current.hourly)},
            risks=(
                "Valkey 7.2 is compatible with Redis OSS 7.2 clients and commands; test modules "
                "and "
                "Lua scripts first. The switch is an in-place engine upgrade.",
            ),
            assumptions=tuple(valkey.sources()),
            exclusive_group=f"cache-node:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"Valkey: ${rec.monthly_cost_before:.2f} → ${rec.monthly_cost_after:.2f}/month"
            + (" (catalog Valkey price derived as 0.8 x Redis OSS)" if valkey.observed else "")
            + ".",
            rec.evidence,
            rec,
        )

    def _backups(
        self, resource: Resource, ctx: AnalysisContext, peak: float | None, node_gib: float
    ) -> Finding:
        limit = as_number(resource.get("snapshot_retention_limit")) or 0.0
        price = unit_price(
            ctx.catalog,
            "elasticache",
            resource.region,
            unit="GB-month",
            engine=cache_engine(resource),
        )
        size_gb = (peak / GIB) if peak is not None else node_gib
        basis = "peak BytesUsedForCache" if peak is not None else "node memory (no memory series)"
        evidence = {
            "snapshot_retention_limit": limit,
            "snapshot_gb": round(size_gb, 3),
            "size_basis": basis,
        }
        if price is None:
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "No catalog backup price.", evidence
            )

        def cost(days: float) -> Decimal:
            # One snapshot per cluster is free; each further day kept is one more snapshot.
            return dec(max(0.0, days - 1) * size_gb) * price.price

        if limit <= 1:
            three = cost(3)
            evidence["cost_if_3_monthly"] = str(three.quantize(Decimal("0.0001")))
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                (
                    "No automatic snapshots are kept (snapshot_retention_limit defaults to 0)"
                    if limit == 0
                    else "One snapshot is kept (free)"
                )
                + f"; keeping 3 would add about ${three:.2f}/month (raises cost, not a saving).",
                evidence,
            )
        before, after = cost(limit), cost(1)
        rec = Recommendation(
            id=self.rec_id(resource.address, "snapshots"),
            analyzer=self.name,
            address=resource.address,
            title=f"Keep 1 daily snapshot instead of {limit:g}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.snapshot_retention_limit",
                    before=resource.get("snapshot_retention_limit"),
                    after=1,
                ),
            ),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=Confidence.MEDIUM if peak is not None else Confidence.LOW,
            evidence=evidence,
            risks=("Restores reach back one day instead of several.",),
            assumptions=(
                "One snapshot per cluster is free; each further one is billed at the catalog "
                "backup rate.",
            ),
            exclusive_group=f"cache-backup:{resource.address}",
        )
        if rec.monthly_savings <= 0:
            return self.finding(
                resource, FindingStatus.NO_CHANGE, "Snapshots cost nothing measurable.", evidence
            )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: saves ${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )
