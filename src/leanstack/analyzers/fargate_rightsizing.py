"""Fargate task rightsizing: the cheapest valid task size the recorded load fits in."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    Window,
    confidence_of,
    gate,
    register,
    same_kind,
    window,
)
from leanstack.analyzers._ecs import (
    CPU_METRICS,
    MEMORY_METRICS,
    FargateService,
    fargate_service,
    monthly_task_cost,
    task_count,
)
from leanstack.analyzers._pricing import Rate, fargate_rate
from leanstack.analyzers._specs import fargate_sizes
from leanstack.model.findings import AttributeChange, Finding, FindingStatus, Phase, Recommendation
from leanstack.model.resource import Resource


class FargateRightsizingSettings(DataGateSettings):
    """How much load a new task size must hold.

    CPU: Compute Optimizer's defaults, the P99.5 of the lookback with 20% headroom (VPA's P90
    + 15% and KRR's P95 cut closer and ignore bursts). A burst guard is added on top: the new
    size may leave at most 0.1% of the window's minutes above 100% of its CPU, so a bursty
    service whose P95 is low keeps room for its peaks. Memory: a task that runs out of memory
    is killed, so memory is sized from the peak, not a percentile, plus Compute Optimizer's
    20% memory headroom (KRR uses peak + 15%).
    """

    cpu_percentile: float = Field(
        99.5, gt=0, le=100, description="Percentile of per-task CPU use to size for (P99.5)."
    )
    cpu_headroom: float = Field(
        0.20, ge=0, lt=1, description="Share of the new CPU kept free above that percentile."
    )
    memory_margin: float = Field(
        0.20, ge=0, description="Margin added above the peak memory use (0.20 = peak x 1.2)."
    )
    max_saturated_fraction: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Largest share of minutes the new size may spend above 100% of its CPU.",
    )
    respect_autoscaling: bool = Field(
        True,
        description=(
            "Leave the CPU (memory) dimension unchanged when a target-tracking policy scales on "
            "it, as Compute Optimizer does; the autoscaling analyzer handles that dimension."
        ),
    )


@register
class FargateRightsizing(Analyzer[FargateRightsizingSettings]):
    """Choose the cheapest valid Fargate task size that keeps the recorded load within headroom.

    CPU use is `CPUUtilization x task vCPU`; the new size must hold its P99.5 with 20% headroom
    and leave at most 0.1% of minutes saturated. Memory must hold the peak plus a margin.
    Container-level cpu and memory in the task definition must still fit.
    """

    name = "fargate_rightsizing"
    title = "Fargate task size"
    applies_to = frozenset({"aws_ecs_service"})
    needs = frozenset({"CPUUtilization", "MemoryUtilization", "RunningTaskCount"})
    settings_model = FargateRightsizingSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: FargateRightsizingSettings
    ) -> Iterable[Finding]:
        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            yield self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
            return
        yield self._analyze(svc, ctx, settings)

    def _analyze(
        self, svc: FargateService, ctx: AnalysisContext, s: FargateRightsizingSettings
    ) -> Finding:
        address = svc.service.address
        notes: list[str] = []
        keep_cpu = keep_mem = False
        if s.respect_autoscaling:
            cpu_policy = svc.scales_on(CPU_METRICS)
            mem_policy = svc.scales_on(MEMORY_METRICS)
            if cpu_policy is not None:
                keep_cpu = True
                notes.append(
                    f"{cpu_policy.policy.address} target-tracks CPU, so a smaller task would run "
                    "more tasks: the CPU dimension is left to the autoscaling analyzer (as Compute "
                    "Optimizer does) and only memory is sized here."
                )
            if mem_policy is not None:
                keep_mem = True
                notes.append(
                    f"{mem_policy.policy.address} target-tracks memory: the memory dimension is "
                    "left to the autoscaling analyzer."
                )
        if keep_cpu and keep_mem:
            return self.finding(
                address,
                FindingStatus.NOT_APPLICABLE,
                "Autoscaling tracks both CPU and memory; task size is left to the autoscaling "
                "analyzer.",
                {"notes": notes},
            )
        # The hottest task is the one that saturates or runs out of memory.
        cpu_series = ctx.series(address, "CPUUtilization", ("Maximum",))
        mem_series = ctx.series(address, "MemoryUtilization", ("Maximum",))
        cpu_win = window(cpu_series, s.lookback_days) if cpu_series else None
        mem_win = window(mem_series, s.lookback_days) if mem_series else None
        reasons = [
            r
            for r in (
                None if keep_cpu else gate(cpu_win, s, "CPUUtilization"),
                None if keep_mem else gate(mem_win, s, "MemoryUtilization"),
            )
            if r
        ]
        if reasons:
            return self.finding(
                address,
                FindingStatus.INSUFFICIENT_DATA,
                "Not enough recorded load to size the task: " + "; ".join(reasons) + ".",
                {"notes": notes},
            )
        evidence: dict[str, object] = {
            "current": {"cpu": svc.cpu_units, "memory": svc.memory_mib, "arch": svc.arch},
        }
        need_vcpu, cpu_usage = self._cpu_need(svc, cpu_win, s, keep_cpu, evidence)
        need_mib = self._mem_need(svc, mem_win, s, keep_mem, evidence)
        limits = svc.containers
        if limits.known:
            need_vcpu = max(need_vcpu, limits.cpu / 1024)
            need_mib = max(need_mib, float(limits.memory_mib))
            evidence["containers"] = {"cpu": limits.cpu, "memory": limits.memory_mib}
        else:
            notes.append(
                "container_definitions is not known before apply: check that container-level cpu "
                "and memory fit the new size."
            )
        evidence["required"] = {"vcpu": round(need_vcpu, 4), "memory_mib": round(need_mib, 1)}
        current = fargate_rate(
            ctx.catalog, svc.service.region, svc.cpu_units, svc.memory_mib, arch=svc.arch
        )
        if current is None:
            return self.finding(
                address,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog price for Fargate {svc.arch} in {svc.service.region}.",
            )
        best: tuple[int, int, Rate] | None = None
        for cpu, mem in fargate_sizes():
            if keep_cpu and cpu != svc.cpu_units:
                continue
            if keep_mem and mem != svc.memory_mib:
                continue
            if cpu / 1024 < need_vcpu - 1e-9 or mem < need_mib - 1e-9:
                continue
            rate = fargate_rate(ctx.catalog, svc.service.region, cpu, mem, arch=svc.arch)
            if rate is None:
                continue
            key = (rate.hourly, abs(cpu - svc.cpu_units), abs(mem - svc.memory_mib))
            if best is None or key < (
                best[2].hourly,
                abs(best[0] - svc.cpu_units),
                abs(best[1] - svc.memory_mib),
            ):
                best = (cpu, mem, rate)
        wins = [w for w in (None if keep_cpu else cpu_win, None if keep_mem else mem_win) if w]
        evidence["notes"] = notes
        if best is None:
            return self.finding(
                address,
                FindingStatus.NO_CHANGE,
                f"The load needs {need_vcpu:.2f} vCPU / {need_mib:.0f} MiB, beyond the largest "
                "Fargate size; consider more tasks instead.",
                evidence,
            )
        cpu, mem, rate = best
        tasks, basis = task_count(svc, ctx, s)
        evidence["tasks"] = {"average": round(tasks, 3), "basis": basis}
        if cpu_usage is not None and not keep_cpu:
            evidence["saturated_fraction_at_new_size"] = round(
                float(np.mean(cpu_usage > cpu / 1024 + 1e-12)), 6
            )
        before = monthly_task_cost(svc, ctx, tasks, svc.cpu_units, svc.memory_mib, svc.arch)
        after = monthly_task_cost(svc, ctx, tasks, cpu, mem, svc.arch)
        if before is None or after is None:
            return self.finding(
                address,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Fargate Spot price for {svc.arch} in {svc.service.region}.",
                evidence,
            )
        evidence["recommended"] = {"cpu": cpu, "memory": mem}
        if (cpu, mem) == (svc.cpu_units, svc.memory_mib):
            return self.finding(
                address,
                FindingStatus.NO_CHANGE,
                f"{svc.cpu_units} CPU / {svc.memory_mib} MiB is already the cheapest size that "
                f"holds the load ({self._needs(need_vcpu, need_mib, keep_cpu, keep_mem)}).",
                evidence,
            )
        if rate.hourly >= current.hourly:
            return self.finding(
                address,
                FindingStatus.NO_CHANGE,
                f"Under-provisioned: the load needs {need_vcpu:.2f} vCPU / {need_mib:.0f} MiB; "
                f"{cpu} CPU / {mem} MiB would cost ${after - before:.2f}/month more.",
                evidence,
            )
        if after >= before:
            return self.finding(
                address,
                FindingStatus.NO_CHANGE,
                f"{cpu} CPU / {mem} MiB would fit, but with {tasks:g} tasks running it saves "
                "nothing.",
                evidence,
            )
        changes = []
        td = svc.task_def
        if cpu != svc.cpu_units:
            changes.append(
                AttributeChange(
                    path=f"{td.address}.cpu",
                    before=td.get("cpu"),
                    after=same_kind(td.get("cpu"), cpu),
                )
            )
        if mem != svc.memory_mib:
            changes.append(
                AttributeChange(
                    path=f"{td.address}.memory",
                    before=td.get("memory"),
                    after=same_kind(td.get("memory"), mem),
                )
            )
        risks = [
            f"Sized for P{s.cpu_percentile:g} CPU with {s.cpu_headroom:.0%} headroom and peak "
            "memory "
            f"+ {s.memory_margin:.0%}; a load heavier than the recorded window needs a re-check.",
        ]
        if mem < svc.memory_mib:
            risks.append(
                "A memory peak beyond the recorded one would stop the task (out of memory)."
            )
        rec = Recommendation(
            id=self.rec_id(address, "size"),
            analyzer=self.name,
            address=address,
            title=(
                f"Resize the task from {svc.cpu_units}/{svc.memory_mib} "
                f"to {cpu}/{mem} (CPU units/MiB)"
            ),
            phase=Phase.QUICK_WIN,
            changes=tuple(changes),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=confidence_of(*wins),
            evidence=evidence,
            risks=tuple(risks + notes),
            assumptions=(f"{tasks:.2f} tasks on average ({basis}).", *rate.sources()),
            exclusive_group=f"compute:{address}",
        )
        return self.finding(
            address,
            FindingStatus.OPPORTUNITY,
            f"{svc.cpu_units}/{svc.memory_mib} → {cpu}/{mem}: saves "
            f"${rec.monthly_savings:.2f}/month; the load needs {need_vcpu:.2f} vCPU and "
            f"{need_mib:.0f} MiB.",
            evidence,
            rec,
        )

    @staticmethod
    def _needs(vcpu: float, mib: float, keep_cpu: bool, keep_mem: bool) -> str:
        cpu = "CPU kept: autoscaling tracks it" if keep_cpu else f"needs {vcpu:.2f} vCPU"
        mem = "memory kept: autoscaling tracks it" if keep_mem else f"needs {mib:.0f} MiB"
        return f"{cpu}; {mem}"

    @staticmethod
    def _cpu_need(
        svc: FargateService,
        win: Window | None,
        s: FargateRightsizingSettings,
        keep: bool,
        evidence: dict[str, object],
    ) -> tuple[float, np.ndarray | None]:
        if keep or win is None:
            return svc.vcpu, None
        usage = win.present / 100.0 * svc.vcpu
        at_pct = float(np.percentile(usage, s.cpu_percentile))
        burst = float(np.percentile(usage, 100.0 * (1.0 - s.max_saturated_fraction)))
        need = max(at_pct / (1.0 - s.cpu_headroom), burst)
        evidence["cpu"] = win.evidence(scale=svc.vcpu / 100.0, unit="vCPU")
        evidence["cpu_sizing"] = {
            "percentile": s.cpu_percentile,
            "at_percentile_vcpu": round(at_pct, 4),
            "with_headroom_vcpu": round(at_pct / (1.0 - s.cpu_headroom), 4),
            "burst_guard_vcpu": round(burst, 4),
        }
        return need, usage

    @staticmethod
    def _mem_need(
        svc: FargateService,
        win: Window | None,
        s: FargateRightsizingSettings,
        keep: bool,
        evidence: dict[str, object],
    ) -> float:
        if keep or win is None:
            return float(svc.memory_mib)
        peak = float(win.present.max()) / 100.0 * svc.memory_mib
        evidence["memory"] = win.evidence(scale=svc.memory_mib / 100.0, unit="MiB")
        return peak * (1.0 + s.memory_margin)
