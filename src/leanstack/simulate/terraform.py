"""Read an ECS service's scaling setup from Terraform resources into simulator types.

Looks at `aws_appautoscaling_target` (min/max), `aws_appautoscaling_policy` (target tracking
or step scaling), `aws_appautoscaling_scheduled_action`, the `aws_cloudwatch_metric_alarm`
whose `alarm_actions` invoke a step policy, and the service's task definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.resource import Resource, is_known
from leanstack.simulate.policies import (
    AdjustmentType,
    CapacityProviderItem,
    Comparison,
    Policy,
    ScheduledAction,
    ServiceConfig,
    StepAdjustment,
    StepAlarm,
    StepScalingPolicy,
    TargetTrackingPolicy,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceScaling:
    """One service's scaling as written in Terraform.

    `policy_addresses` maps each policy's name to its resource address and `target_address` is
    the scalable target, so findings can point the patcher at the right block.
    """

    address: str
    config: ServiceConfig
    policies: tuple[Policy, ...] = ()
    scheduled: tuple[ScheduledAction, ...] = ()
    target_address: str | None = None
    policy_addresses: Mapping[str, str] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

    @property
    def target_tracking(self) -> TargetTrackingPolicy | None:
        """The first target-tracking policy, if any."""
        return next((p for p in self.policies if isinstance(p, TargetTrackingPolicy)), None)


def _where(resource: Resource) -> str:
    return resource.source.where() if resource.source else resource.address


def _number(
    value: Any, resource: Resource, name: str, issues: list[Issue], default: float | None
) -> float | None:
    if value is None:
        return default
    if not is_known(value):
        issues.append(
            Issue(
                code=IssueCode.UNKNOWN_VALUE,
                message=f"{resource.address}.{name} is unknown before apply; using {default}",
                where=_where(resource),
            )
        )
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        issues.append(
            Issue(
                code=IssueCode.USAGE_ERROR,
                message=f"{resource.address}.{name} = {value!r} is not a number; using {default}",
                where=_where(resource),
            )
        )
        return default


def _links_to(resource: Resource, attr: str, address: str, literal: str | None) -> bool:
    if address in resource.refs.get(attr, ()):
        return True
    value = resource.attrs.get(attr)
    return literal is not None and isinstance(value, str) and value == literal


def _find_target(service: Resource, index: Mapping[str, Resource]) -> Resource | None:
    name = service.attrs.get("name")
    for res in index.values():
        if res.type != "aws_appautoscaling_target":
            continue
        if service.address in res.refs.get("resource_id", ()):
            return res
        rid = res.attrs.get("resource_id")
        if isinstance(name, str) and isinstance(rid, str) and rid.endswith(f"/{name}"):
            return res
    return None


def _target_tracking(res: Resource, issues: list[Issue]) -> TargetTrackingPolicy | None:
    block = res.block("target_tracking_scaling_policy_configuration")
    if not block:
        return None
    metric = "custom"
    predefined = block.get("predefined_metric_specification")
    if isinstance(predefined, list) and predefined and isinstance(predefined[0], dict):
        metric = str(predefined[0].get("predefined_metric_type", "custom"))
    elif isinstance(predefined, dict):
        metric = str(predefined.get("predefined_metric_type", "custom"))
    if metric not in ("ECSServiceAverageCPUUtilization", "custom"):
        issues.append(
            Issue(
                code=IssueCode.UNSUPPORTED_RESOURCE,
                message=f"{res.address} tracks {metric}; "
                "the replay uses the CPU series as its metric",
                where=_where(res),
                severity=Severity.INFO,
            )
        )
    target = _number(block.get("target_value"), res, "target_value", issues, None)
    if target is None or target <= 0:
        issues.append(
            Issue(
                code=IssueCode.USAGE_ERROR,
                message=f"{res.address} has no usable target_value; policy skipped",
                where=_where(res),
            )
        )
        return None
    out_cd = _number(block.get("scale_out_cooldown"), res, "scale_out_cooldown", issues, 300)
    in_cd = _number(block.get("scale_in_cooldown"), res, "scale_in_cooldown", issues, 300)
    disable = block.get("disable_scale_in")
    return TargetTrackingPolicy(
        name=str(res.attrs.get("name") or res.address),
        target=target,
        metric=metric,
        scale_out_cooldown_s=int(out_cd or 0),
        scale_in_cooldown_s=int(in_cd or 0),
        disable_scale_in=bool(disable) if is_known(disable) and disable is not None else False,
    )


def _alarm_for(
    policy: Resource, index: Mapping[str, Resource], issues: list[Issue]
) -> StepAlarm | None:
    for res in index.values():
        if res.type != "aws_cloudwatch_metric_alarm":
            continue
        if policy.address not in res.refs.get("alarm_actions", ()):
            continue
        threshold = _number(res.attrs.get("threshold"), res, "threshold", issues, None)
        if threshold is None:
            return None
        try:
            comparison = Comparison(str(res.attrs.get("comparison_operator")))
        except ValueError:
            issues.append(
                Issue(
                    code=IssueCode.UNSUPPORTED_RESOURCE,
                    message=f"{res.address}: comparison {res.attrs.get('comparison_operator')!r} "
                    "is not modelled",
                    where=_where(res),
                )
            )
            return None
        periods = _number(res.attrs.get("evaluation_periods"), res, "evaluation_periods", issues, 1)
        period = _number(res.attrs.get("period"), res, "period", issues, 60)
        to_alarm = _number(
            res.attrs.get("datapoints_to_alarm"), res, "datapoints_to_alarm", issues, None
        )
        # An alarm on 5-minute periods needs 5 one-minute datapoints per period in this replay.
        per = max(1, int((period or 60) // 60))
        return StepAlarm(
            threshold=threshold,
            comparison=comparison,
            evaluation_periods=int(periods or 1) * per,
            datapoints_to_alarm=None if to_alarm is None else int(to_alarm) * per,
            metric=str(res.attrs.get("metric_name") or "CPUUtilization"),
            period_s=int(period or 60),
        )
    return None


def _step(
    res: Resource, index: Mapping[str, Resource], issues: list[Issue]
) -> StepScalingPolicy | None:
    block = res.block("step_scaling_policy_configuration")
    if not block:
        return None
    try:
        adjustment_type = AdjustmentType(str(block.get("adjustment_type") or "ChangeInCapacity"))
    except ValueError:
        adjustment_type = AdjustmentType.CHANGE_IN_CAPACITY
    steps: list[StepAdjustment] = []
    raw_steps = block.get("step_adjustment") or []
    for raw in raw_steps if isinstance(raw_steps, list) else [raw_steps]:
        if not isinstance(raw, dict):
            continue
        lower = _number(raw.get("metric_interval_lower_bound"), res, "lower_bound", issues, None)
        upper = _number(raw.get("metric_interval_upper_bound"), res, "upper_bound", issues, None)
        adj = _number(raw.get("scaling_adjustment"), res, "scaling_adjustment", issues, 0)
        steps.append(StepAdjustment(lower=lower, upper=upper, adjustment=float(adj or 0)))
    magnitude = _number(
        block.get("min_adjustment_magnitude"), res, "min_adjustment_magnitude", issues, None
    )
    cooldown = _number(block.get("cooldown"), res, "cooldown", issues, 300)
    alarm = _alarm_for(res, index, issues)
    if alarm is None:
        issues.append(
            Issue(
                code=IssueCode.EVALUATION_ERROR,
                message=f"{res.address}: no CloudWatch alarm invokes this step policy, "
                "so it never fires",
                where=_where(res),
            )
        )
    return StepScalingPolicy(
        name=str(res.attrs.get("name") or res.address),
        adjustment_type=adjustment_type,
        steps=tuple(steps),
        cooldown_s=int(cooldown or 0),
        min_adjustment_magnitude=None if magnitude is None else int(magnitude),
        alarm=alarm,
    )


def _task_size(
    service: Resource, index: Mapping[str, Resource], issues: list[Issue]
) -> tuple[int, int, str]:
    cpu, mem, arch = 256, 512, "x86_64"
    td = next((index[a] for a in service.refs.get("task_definition", ()) if a in index), None)
    if td is None:
        issues.append(
            Issue(
                code=IssueCode.UNKNOWN_VALUE,
                message=f"{service.address}: task definition not found; assuming 256 CPU / 512 MiB",
                where=_where(service),
            )
        )
        return cpu, mem, arch
    cpu = int(_number(td.attrs.get("cpu"), td, "cpu", issues, cpu) or cpu)
    mem = int(_number(td.attrs.get("memory"), td, "memory", issues, mem) or mem)
    platform = td.block("runtime_platform")
    if str(platform.get("cpu_architecture", "")).upper() == "ARM64":
        arch = "arm64"
    return cpu, mem, arch


def policies_from_terraform(service: Resource, index: Mapping[str, Resource]) -> ServiceScaling:
    """The service's size, capacity bounds, policies and scheduled actions.

    `index` maps addresses to every resource of the stack. Missing pieces become Issues: no
    scalable target means a fixed `desired_count`; a step policy without an alarm is kept (it
    never fires, which is the point worth reporting).
    """
    issues: list[Issue] = []
    cpu, mem, arch = _task_size(service, index, issues)
    desired = int(
        _number(service.attrs.get("desired_count"), service, "desired_count", issues, 1) or 0
    )
    strategy = tuple(
        CapacityProviderItem(
            provider=str(item.get("capacity_provider", "FARGATE")),
            weight=int(item.get("weight") or 0),
            base=int(item.get("base") or 0),
        )
        for item in service.blocks("capacity_provider_strategy")
    )
    target = _find_target(service, index)
    if target is None:
        config = ServiceConfig(
            task_cpu_units=cpu,
            task_memory_mib=mem,
            arch=arch,
            min_capacity=desired,
            max_capacity=desired,
            desired=desired,
            capacity_strategy=strategy,
            region=service.region,
        )
        return ServiceScaling(address=service.address, config=config, issues=tuple(issues))
    low = int(
        _number(target.attrs.get("min_capacity"), target, "min_capacity", issues, desired) or 0
    )
    high = int(
        _number(target.attrs.get("max_capacity"), target, "max_capacity", issues, desired) or 0
    )
    config = ServiceConfig(
        task_cpu_units=cpu,
        task_memory_mib=mem,
        arch=arch,
        min_capacity=low,
        max_capacity=max(high, low),
        desired=min(max(desired, low), max(high, low)),
        capacity_strategy=strategy,
        region=service.region,
    )
    literal = target.attrs.get("resource_id")
    literal_id = literal if isinstance(literal, str) else None
    policies: list[Policy] = []
    addresses: dict[str, str] = {}
    scheduled: list[ScheduledAction] = []
    for res in sorted(index.values(), key=lambda r: r.address):
        if res.type == "aws_appautoscaling_policy" and _links_to(
            res, "resource_id", target.address, literal_id
        ):
            kind = str(res.attrs.get("policy_type") or "StepScaling")
            policy: Policy | None
            if kind == "TargetTrackingScaling":
                policy = _target_tracking(res, issues)
            else:
                policy = _step(res, index, issues)
            if policy is not None:
                policies.append(policy)
                addresses[policy.name] = res.address
        elif res.type == "aws_appautoscaling_scheduled_action" and _links_to(
            res, "resource_id", target.address, literal_id
        ):
            action = res.block("scalable_target_action")
            lo = _number(action.get("min_capacity"), res, "min_capacity", issues, None)
            hi = _number(action.get("max_capacity"), res, "max_capacity", issues, None)
            schedule = res.attrs.get("schedule")
            if not isinstance(schedule, str):
                issues.append(
                    Issue(
                        code=IssueCode.UNKNOWN_VALUE,
                        message=f"{res.address}: schedule is not known; action skipped",
                        where=_where(res),
                    )
                )
                continue
            tz = res.attrs.get("timezone")
            if isinstance(tz, str) and tz not in ("UTC", "Etc/UTC"):
                issues.append(
                    Issue(
                        code=IssueCode.EVALUATION_ERROR,
                        message=f"{res.address}: timezone {tz} is replayed as UTC",
                        where=_where(res),
                        severity=Severity.INFO,
                    )
                )
            scheduled.append(
                ScheduledAction(
                    name=str(res.attrs.get("name") or res.address),
                    schedule=schedule,
                    min_capacity=None if lo is None else int(lo),
                    max_capacity=None if hi is None else int(hi),
                )
            )
    return ServiceScaling(
        address=service.address,
        config=config,
        policies=tuple(policies),
        scheduled=tuple(scheduled),
        target_address=target.address,
        policy_addresses=addresses,
        issues=tuple(issues),
    )
