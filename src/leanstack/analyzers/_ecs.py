"""What the Fargate analyzers need to know about an ECS service, read from its resources."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from leanstack.analyzers._base import AnalysisContext, DataGateSettings, as_number, dec, gated
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource, is_known
from leanstack.resources import split_tasks
from leanstack.resources.aws_ecs_service import StrategyItem

CPU_METRICS = frozenset({"ECSServiceAverageCPUUtilization", "CPUUtilization"})
MEMORY_METRICS = frozenset({"ECSServiceAverageMemoryUtilization", "MemoryUtilization"})


@dataclass(frozen=True, slots=True)
class ContainerLimits:
    """Sums of container-level cpu and memory from `container_definitions`."""

    known: bool
    cpu: int = 0
    memory_mib: int = 0
    max_stop_timeout_s: int | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScalingPolicy:
    """A target-tracking or step policy on the service's desired count."""

    policy: Resource
    target: Resource
    kind: str  # "TargetTrackingScaling" | "StepScaling"
    metric: str  # predefined metric type or custom metric name, "" when unknown
    target_value: float | None


@dataclass(frozen=True, slots=True)
class FargateService:
    """A Fargate service with its task definition, size and autoscaling."""

    service: Resource
    task_def: Resource
    cpu_units: int
    memory_mib: int
    arch: str  # "x86_64" | "arm64"
    containers: ContainerLimits
    policies: tuple[ScalingPolicy, ...] = ()
    scaling_target: Resource | None = None
    spot_share: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def vcpu(self) -> float:
        """Task vCPUs."""
        return self.cpu_units / 1024

    def scales_on(self, metrics: frozenset[str]) -> ScalingPolicy | None:
        """The target-tracking policy that tracks one of these metrics, if any."""
        for p in self.policies:
            if p.kind == "TargetTrackingScaling" and p.metric in metrics:
                return p
        return None

    @property
    def min_capacity(self) -> int | None:
        """Autoscaling minimum, None without autoscaling."""
        if self.scaling_target is None:
            return None
        value = as_number(self.scaling_target.get("min_capacity"))
        return int(value) if value is not None else None

    @property
    def max_capacity(self) -> int | None:
        """Autoscaling maximum, None without autoscaling."""
        if self.scaling_target is None:
            return None
        value = as_number(self.scaling_target.get("max_capacity"))
        return int(value) if value is not None else None


def parse_containers(value: Any) -> ContainerLimits:
    """Container-level limits from `container_definitions` (JSON text, a list, or UNKNOWN)."""
    if value is None or not is_known(value):
        return ContainerLimits(known=False)
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return ContainerLimits(known=False)
    if not isinstance(data, list):
        return ContainerLimits(known=False)
    cpu = mem = 0
    stop: int | None = None
    names = []
    for c in data:
        if not isinstance(c, dict):
            return ContainerLimits(known=False)
        names.append(str(c.get("name", "")))
        c_cpu = as_number(c.get("cpu"))
        cpu += int(c_cpu or 0)
        hard = as_number(c.get("memory"))
        soft = as_number(c.get("memoryReservation"))
        # The task must hold every container's hard limit, or at least its reservation.
        mem += int(hard if hard is not None else (soft or 0))
        timeout = as_number(c.get("stopTimeout"))
        if timeout is not None:
            stop = max(stop or 0, int(timeout))
    return ContainerLimits(True, cpu, mem, stop, tuple(names))


def _policy_metric(policy: Resource) -> str:
    cfg = policy.block("target_tracking_scaling_policy_configuration")
    predefined = cfg.get("predefined_metric_specification")
    if isinstance(predefined, list) and predefined:
        predefined = predefined[0]
    if isinstance(predefined, dict):
        return str(predefined.get("predefined_metric_type") or "")
    custom = cfg.get("customized_metric_specification")
    if isinstance(custom, list) and custom:
        custom = custom[0]
    if isinstance(custom, dict):
        return str(custom.get("metric_name") or "")
    return ""


def scaling_of(
    service: Resource, ctx: AnalysisContext
) -> tuple[Resource | None, list[ScalingPolicy]]:
    """The service's autoscaling target and its policies."""
    targets = ctx.referencing(service.address, "aws_appautoscaling_target")
    if not targets:
        return None, []
    target = targets[0]
    policies = []
    for pol in ctx.referencing(target.address, "aws_appautoscaling_policy"):
        kind = str(pol.get("policy_type") or "StepScaling")
        cfg = pol.block("target_tracking_scaling_policy_configuration")
        policies.append(
            ScalingPolicy(
                pol, target, kind, _policy_metric(pol), as_number(cfg.get("target_value"))
            )
        )
    return target, policies


def _spot_share(service: Resource) -> float:
    strategy = service.blocks("capacity_provider_strategy")
    weights = {
        str(s.get("capacity_provider")): float(as_number(s.get("weight")) or 0) for s in strategy
    }
    total = sum(weights.values())
    return weights.get("FARGATE_SPOT", 0.0) / total if total else 0.0


def fargate_service(service: Resource, ctx: AnalysisContext) -> FargateService | str:
    """The service's Fargate facts, or why it cannot be analyzed as a Fargate service."""
    task_defs = ctx.referenced(service, "task_definition")
    if not task_defs:
        return "its task definition is not in the stack"
    task_def = task_defs[0]
    launch = service.get("launch_type")
    providers = {
        str(s.get("capacity_provider")) for s in service.blocks("capacity_provider_strategy")
    }
    compat = task_def.get("requires_compatibilities") or []
    on_fargate = (
        launch == "FARGATE"
        or bool(providers & {"FARGATE", "FARGATE_SPOT"})
        or (launch is None and not providers and "FARGATE" in (compat if is_known(compat) else []))
    )
    if not on_fargate:
        return "it does not run on Fargate"
    cpu = as_number(task_def.get("cpu"))
    mem = as_number(task_def.get("memory"))
    if cpu is None or mem is None:
        return f"the task size of {task_def.address} is not known before apply"
    if not is_known(task_def.get("runtime_platform")):
        return f"the runtime platform of {task_def.address} is not known before apply"
    platform = task_def.block("runtime_platform")
    arch = "arm64" if str(platform.get("cpu_architecture", "")).upper() == "ARM64" else "x86_64"
    target, policies = scaling_of(service, ctx)
    return FargateService(
        service=service,
        task_def=task_def,
        cpu_units=int(cpu),
        memory_mib=int(mem),
        arch=arch,
        containers=parse_containers(task_def.get("container_definitions")),
        policies=tuple(policies),
        scaling_target=target,
        spot_share=_spot_share(service),
    )


def task_count(
    svc: FargateService, ctx: AnalysisContext, settings: DataGateSettings
) -> tuple[float, str]:
    """Average running tasks and where the figure comes from.

    RunningTaskCount is used only when it passes the data gate; otherwise the configured
    count (min_capacity, desired_count) stands in, and the basis says why.
    """
    win, reason = gated(ctx, svc.service.address, "RunningTaskCount", settings)
    if win is not None:
        return float(np.mean(win.present)), "mean RunningTaskCount over the window"
    why = (
        "no RunningTaskCount recorded"
        if reason is None or reason.startswith("no ")
        else f"not enough RunningTaskCount: {reason.split(': ', 1)[-1]}"
    )
    desired = as_number(svc.service.get("desired_count"))
    if svc.min_capacity is not None and (desired is None or desired < svc.min_capacity):
        return float(svc.min_capacity), f"autoscaling min_capacity ({why})"
    if desired is not None:
        return desired, f"desired_count ({why})"
    return 1.0, f"one task assumed (desired_count unknown, {why})"


def monthly_task_cost(
    svc: FargateService,
    ctx: AnalysisContext,
    tasks: float,
    cpu_units: int,
    memory_mib: int,
    arch: str,
) -> Decimal | None:
    """Monthly cost of `tasks` tasks of a size, split over FARGATE / FARGATE_SPOT as the
    service's capacity provider strategy places them (the estimate's model), None unpriced."""
    from leanstack.analyzers._pricing import fargate_rate

    region = svc.service.region
    od = fargate_rate(ctx.catalog, region, cpu_units, memory_mib, arch=arch)
    if od is None:
        return None
    blocks = svc.service.blocks("capacity_provider_strategy")
    if not blocks or svc.spot_share == 0:
        return dec(tasks) * od.hourly * HOURS_PER_MONTH
    spot = fargate_rate(ctx.catalog, region, cpu_units, memory_mib, arch=arch, capacity="spot")
    if spot is None:
        return None
    strategy = [
        StrategyItem(
            str(b.get("capacity_provider")),
            int(as_number(b.get("base")) or 0),
            int(as_number(b.get("weight")) or 0),
        )
        for b in blocks
    ]
    placed = split_tasks(max(0, round(tasks)), strategy)
    n_spot = placed.get("FARGATE_SPOT", 0)
    n_od = sum(placed.values()) - n_spot
    # Scale the split of the rounded count back to the average count.
    scale = dec(tasks) / max(1, n_od + n_spot)
    hourly = (n_od * od.hourly + n_spot * spot.hourly) * scale
    return hourly * HOURS_PER_MONTH
