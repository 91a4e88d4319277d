"""Typed descriptions of an ECS service and its Application Auto Scaling policies.

The semantics these types feed are in ../shared/reference/aws-semantics.md §4; the field names
follow the Application Auto Scaling API so that a policy read from Terraform maps one to one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AdjustmentType(StrEnum):
    """How a step adjustment changes capacity."""

    CHANGE_IN_CAPACITY = "ChangeInCapacity"
    PERCENT_CHANGE_IN_CAPACITY = "PercentChangeInCapacity"
    EXACT_CAPACITY = "ExactCapacity"


class Comparison(StrEnum):
    """CloudWatch alarm comparison operators."""

    GE = "GreaterThanOrEqualToThreshold"
    GT = "GreaterThanThreshold"
    LT = "LessThanThreshold"
    LE = "LessThanOrEqualToThreshold"

    def breaches(self, value: float, threshold: float) -> bool:
        """Whether one datapoint breaches the threshold."""
        if math.isnan(value):
            return False
        if self is Comparison.GE:
            return value >= threshold
        if self is Comparison.GT:
            return value > threshold
        if self is Comparison.LT:
            return value < threshold
        return value <= threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetTrackingPolicy:
    """Target tracking on the service's average CPU (or another utilization metric).

    Cooldowns default to 300 s, the ECS default. Scale-out needs 3 consecutive 1-minute datapoints
    above `target`, scale-in 15 below `scale_in_ratio x target` (0.9 observed for ECS).
    """

    name: str = "target-tracking"
    target: float = 70.0
    metric: str = "ECSServiceAverageCPUUtilization"
    scale_out_cooldown_s: int = 300
    scale_in_cooldown_s: int = 300
    disable_scale_in: bool = False
    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_ratio: float = 0.9


@dataclass(frozen=True, slots=True, kw_only=True)
class StepAdjustment:
    """One step: bounds are offsets from the alarm threshold; None is unbounded."""

    lower: float | None
    upper: float | None
    adjustment: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StepAlarm:
    """The CloudWatch alarm that invokes a step policy (1-minute periods)."""

    threshold: float
    comparison: Comparison = Comparison.GE
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    metric: str = "CPUUtilization"
    period_s: int = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class StepScalingPolicy:
    """Step scaling. `alarm=None` means nothing invokes the policy: it never fires."""

    name: str = "step"
    adjustment_type: AdjustmentType = AdjustmentType.CHANGE_IN_CAPACITY
    steps: tuple[StepAdjustment, ...] = ()
    cooldown_s: int = 300
    min_adjustment_magnitude: int | None = None
    alarm: StepAlarm | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledAction:
    """Set min and/or max capacity (None leaves that bound alone) at given times.

    Either `at` (one time, UTC) or `schedule`, an Application Auto Scaling expression:
    `at(yyyy-mm-ddThh:mm:ss)`, `rate(N minutes|hours|days)` or `cron(min hour dom month dow year)`
    (UTC; fixed minute and hour, `*`/`?` or lists and ranges in the day fields).
    """

    name: str
    at: datetime | None = None
    schedule: str = ""
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """An ECS deployment: while one is in progress, no policy scales the service in (§4.1).

    When it starts is `at` (one time, UTC) or `schedule`, the same `at()`/`rate()`/`cron()`
    grammar as `ScheduledAction`; each start begins a window of `duration_s` seconds. A minute
    is frozen when any part of it falls inside a window, and overlapping windows merge.
    """

    name: str = "deployment"
    at: datetime | None = None
    schedule: str = ""
    duration_s: int = 600


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityProviderItem:
    """One entry of a capacity provider strategy (FARGATE or FARGATE_SPOT)."""

    provider: str
    weight: int = 1
    base: int = 0

    @property
    def spot(self) -> bool:
        """True for FARGATE_SPOT."""
        return self.provider.upper() == "FARGATE_SPOT"


Policy = TargetTrackingPolicy | StepScalingPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """An ECS service on Fargate: task size, capacity bounds and where its tasks run."""

    task_cpu_units: int = 512
    task_memory_mib: int = 1024
    arch: str = "x86_64"
    min_capacity: int = 1
    max_capacity: int = 10
    desired: int = 1
    capacity_strategy: tuple[CapacityProviderItem, ...] = ()
    region: str = "us-east-1"

    @property
    def task_vcpu(self) -> float:
        """vCPU per task."""
        return self.task_cpu_units / 1024.0

    @property
    def task_memory_gb(self) -> float:
        """GB per task (Fargate bills memory in GB)."""
        return self.task_memory_mib / 1024.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSettings:
    """Knobs of the replay that are not part of the service configuration.

    `start_latency_s` covers provisioning, image pull and health checks (§4.3: no AWS figure;
    60 s default). Spot interruptions are a seeded Bernoulli process per Spot task-minute at
    `spot_interruptions_per_task_hour / 60`; the replacement is running after
    `spot_replacement_latency_s` (None: the start latency). During `deployments` scale-in is
    suspended and scale-out goes on, as ECS does while a deployment is in progress.
    """

    start_latency_s: int = 60
    breach_threshold: float = 90.0
    spot_interruptions_per_task_hour: float = 0.0
    spot_replacement_latency_s: int | None = None
    seed: int = 0
    record_series: bool = True
    deployments: tuple[Deployment, ...] = ()

    @property
    def start_latency_min(self) -> int:
        """Whole minutes before a launched task serves (rounded up)."""
        return max(0, math.ceil(self.start_latency_s / 60))
