"""Reading scaling setups from Terraform resources (built by hand, as the loader produces them)."""

from __future__ import annotations

from leanstack.model import Resource, SourceSpan
from leanstack.simulate import (
    AdjustmentType,
    Comparison,
    StepScalingPolicy,
    TargetTrackingPolicy,
    policies_from_terraform,
)


def _res(
    address: str,
    attrs: dict[str, object],
    refs: dict[str, tuple[str, ...]] | None = None,
    line: int = 1,
) -> Resource:
    rtype, name = address.split(".", 1)
    return Resource(
        address=address,
        type=rtype,
        name=name,
        attrs=attrs,
        refs=refs or {},
        source=SourceSpan(file="main.tf", start_line=line, end_line=line + 5),
    )


def _stack(extra: list[Resource]) -> tuple[Resource, dict[str, Resource]]:
    td = _res(
        "aws_ecs_task_definition.api",
        {"cpu": "1024", "memory": "2048", "runtime_platform": [{"cpu_architecture": "ARM64"}]},
    )
    service = _res(
        "aws_ecs_service.api",
        {
            "name": "api",
            "desired_count": 3,
            "capacity_provider_strategy": [
                {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "weight": 3},
            ],
        },
        {"task_definition": ("aws_ecs_task_definition.api",)},
    )
    target = _res(
        "aws_appautoscaling_target.api",
        {"resource_id": "service/main/api", "min_capacity": 2, "max_capacity": 12},
        {"resource_id": ("aws_ecs_cluster.main", "aws_ecs_service.api")},
    )
    resources = [td, service, target, *extra]
    return service, {r.address: r for r in resources}


def test_target_tracking_policy_and_service_size() -> None:
    policy = _res(
        "aws_appautoscaling_policy.cpu",
        {
            "name": "cpu",
            "policy_type": "TargetTrackingScaling",
            "resource_id": "service/main/api",
            "target_tracking_scaling_policy_configuration": [
                {
                    "target_value": 65,
                    "scale_in_cooldown": 600,
                    "scale_out_cooldown": 60,
                    "disable_scale_in": True,
                    "predefined_metric_specification": [
                        {"predefined_metric_type": "ECSServiceAverageCPUUtilization"}
                    ],
                }
            ],
        },
        {"resource_id": ("aws_appautoscaling_target.api",)},
    )
    service, index = _stack([policy])
    scaling = policies_from_terraform(service, index)
    cfg = scaling.config
    assert (cfg.task_cpu_units, cfg.task_memory_mib, cfg.arch) == (1024, 2048, "arm64")
    assert (cfg.min_capacity, cfg.max_capacity, cfg.desired) == (2, 12, 3)
    assert [(i.provider, i.base, i.weight) for i in cfg.capacity_strategy] == [
        ("FARGATE", 1, 1),
        ("FARGATE_SPOT", 0, 3),
    ]
    tt = scaling.target_tracking
    assert isinstance(tt, TargetTrackingPolicy)
    assert (tt.target, tt.scale_out_cooldown_s, tt.scale_in_cooldown_s, tt.disable_scale_in) == (
        65.0,
        60,
        600,
        True,
    )
    assert scaling.policy_addresses == {"cpu": "aws_appautoscaling_policy.cpu"}
    assert scaling.target_address == "aws_appautoscaling_target.api"


def test_step_policy_reads_its_alarm() -> None:
    policy = _res(
        "aws_appautoscaling_policy.up",
        {
            "name": "up",
            "policy_type": "StepScaling",
            "resource_id": "service/main/api",
            "step_scaling_policy_configuration": [
                {
                    "adjustment_type": "PercentChangeInCapacity",
                    "cooldown": 120,
                    "min_adjustment_magnitude": 2,
                    "step_adjustment": [
                        {
                            "metric_interval_lower_bound": 0,
                            "metric_interval_upper_bound": 20,
                            "scaling_adjustment": 10,
                        },
                        {"metric_interval_lower_bound": 20, "scaling_adjustment": 30},
                    ],
                }
            ],
        },
        {"resource_id": ("aws_appautoscaling_target.api",)},
    )
    alarm = _res(
        "aws_cloudwatch_metric_alarm.high",
        {
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "threshold": 75,
            "evaluation_periods": 2,
            "period": 60,
            "metric_name": "CPUUtilization",
        },
        {"alarm_actions": ("aws_appautoscaling_policy.up",)},
    )
    service, index = _stack([policy, alarm])
    scaling = policies_from_terraform(service, index)
    step = scaling.policies[0]
    assert isinstance(step, StepScalingPolicy)
    assert step.adjustment_type is AdjustmentType.PERCENT_CHANGE_IN_CAPACITY
    assert step.min_adjustment_magnitude == 2 and step.cooldown_s == 120
    assert [(s.lower, s.upper, s.adjustment) for s in step.steps] == [(0, 20, 10), (20, None, 30)]
    assert step.alarm is not None
    assert (step.alarm.threshold, step.alarm.comparison, step.alarm.evaluation_periods) == (
        75.0,
        Comparison.GE,
        2,
    )
    assert not scaling.issues


def test_step_policy_without_alarm_is_reported_with_its_location() -> None:
    policy = _res(
        "aws_appautoscaling_policy.cost",
        {
            "name": "cost",
            "policy_type": "StepScaling",
            "resource_id": "service/main/api",
            "step_scaling_policy_configuration": [
                {
                    "adjustment_type": "ChangeInCapacity",
                    "step_adjustment": [
                        {"metric_interval_upper_bound": 0, "scaling_adjustment": -1}
                    ],
                }
            ],
        },
        {"resource_id": ("aws_appautoscaling_target.api",)},
        line=40,
    )
    service, index = _stack([policy])
    scaling = policies_from_terraform(service, index)
    step = scaling.policies[0]
    assert isinstance(step, StepScalingPolicy) and step.alarm is None
    assert any("never fires" in i.message and i.where == "main.tf:40" for i in scaling.issues)


def test_scheduled_action_and_missing_target() -> None:
    action = _res(
        "aws_appautoscaling_scheduled_action.night",
        {
            "name": "night",
            "resource_id": "service/main/api",
            "schedule": "cron(0 22 * * ? *)",
            "scalable_target_action": [{"min_capacity": 1, "max_capacity": 2}],
        },
        {"resource_id": ("aws_appautoscaling_target.api",)},
    )
    service, index = _stack([action])
    scaling = policies_from_terraform(service, index)
    assert [(a.name, a.schedule, a.min_capacity, a.max_capacity) for a in scaling.scheduled] == [
        ("night", "cron(0 22 * * ? *)", 1, 2)
    ]

    del index["aws_appautoscaling_target.api"]
    fixed = policies_from_terraform(service, index)
    assert fixed.policies == () and fixed.config.min_capacity == fixed.config.max_capacity == 3
