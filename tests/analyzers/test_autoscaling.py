"""Autoscaling: the load replayed at the current target, the seed's 60% and the optimizer's."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from analyzer_helpers import autoscaling, context, fargate_service, metrics, one, res, run, series

from leanstack.model.findings import FindingStatus, Phase

SVC = "aws_ecs_service.app"
DAYS3 = 3 * 1440


def wave_load(tasks: float = 4.0) -> dict:
    t = np.arange(DAYS3)
    cpu = 25 + 10 * np.sin(t * 2 * np.pi / 1440)  # % of `tasks` x 0.5 vCPU
    return metrics(
        series(SVC, "CPUUtilization", cpu), series(SVC, "RunningTaskCount", np.full(DAYS3, tasks))
    )


def test_low_target_is_raised_and_the_seed_target_costs_more() -> None:
    res = fargate_service(512, 1024, desired=4) + autoscaling(target=30, low=2, high=12)
    f = one(run("autoscaling", context(res, wave_load())), address=SVC)
    assert f.status is FindingStatus.OPPORTUNITY
    rec = f.recommendation
    assert rec is not None and rec.phase is Phase.ADVANCED
    replay = {r["label"]: r for r in rec.evidence["replay"]}
    assert Decimal(replay["current"]["monthly_cost"]) == rec.monthly_cost_before.quantize(
        Decimal("0.01")
    )
    assert rec.monthly_cost_after < rec.monthly_cost_before
    assert rec.evidence["optimizer"]["breach_share"] <= 0.001
    target_change = next(c for c in rec.changes if c.path.endswith("target_value"))
    assert (
        target_change.path
        == "aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration.target_value"
    )
    assert target_change.before == 30 and target_change.after > 30
    # The seed's 60% sits between: cheaper than 30% here, but never cheaper than a higher target.
    seed = next(r for r in rec.evidence["replay"] if r["label"] == "target 60%")
    assert Decimal(seed["monthly_cost"]) <= Decimal(replay["current"]["monthly_cost"])


def test_lowering_the_target_to_60_never_runs_fewer_tasks() -> None:
    res = fargate_service(512, 1024, desired=4) + autoscaling(target=70, low=1, high=12)
    f = one(run("autoscaling", context(res, wave_load()), min_capacity_floor=1), address=SVC)
    replay = {r["label"]: r for r in f.evidence["replay"]}
    seed = next(r for r in f.evidence["replay"] if r["label"] == "target 60%")
    assert Decimal(seed["task_hours"]) >= Decimal(replay["current"]["task_hours"])
    assert "60%" in f.summary


def test_min_capacity_floor_is_kept() -> None:
    res = fargate_service(512, 1024, desired=3) + autoscaling(target=70, low=3, high=12)
    f = one(run("autoscaling", context(res, wave_load(3))), address=SVC)
    if f.recommendation:
        for c in f.recommendation.changes:
            if c.path.endswith("min_capacity"):
                assert c.after >= 2


def test_without_a_policy_or_data() -> None:
    plain = fargate_service()
    assert (
        one(run("autoscaling", context(plain, wave_load())), address=SVC).status
        is FindingStatus.NOT_APPLICABLE
    )
    res = fargate_service() + autoscaling()
    assert (
        one(run("autoscaling", context(res)), address=SVC).status is FindingStatus.INSUFFICIENT_DATA
    )


def test_a_step_policy_without_an_alarm_never_fires() -> None:
    step = res(
        "aws_appautoscaling_policy.cost_based",
        {
            "name": "cost_based",
            "policy_type": "StepScaling",
            "step_scaling_policy_configuration": [
                {
                    "adjustment_type": "ChangeInCapacity",
                    "cooldown": 300,
                    "step_adjustment": [
                        {"metric_interval_lower_bound": 0, "scaling_adjustment": -1}
                    ],
                }
            ],
        },
        {"resource_id": ["aws_appautoscaling_target.app"]},
    )
    res_ = fargate_service(512, 1024, desired=4) + autoscaling(target=70, low=2, high=12) + [step]
    f = one(run("autoscaling", context(res_, wave_load())), address=SVC)
    assert f.evidence["policies_without_alarm"] == ["aws_appautoscaling_policy.cost_based"]
    assert "never fires" in f.summary


def test_a_current_policy_that_misses_the_slo_is_not_called_the_cheapest() -> None:
    # Demand jumps every two hours; at target 90% each jump runs above 90% CPU until new tasks
    # start, so the current policy breaches far more than 0.1% of minutes.
    t = np.arange(DAYS3)
    cpu = np.where((t // 120) % 2 == 0, 20.0, 60.0)  # % of 4 x 0.5 vCPU
    load = metrics(
        series(SVC, "CPUUtilization", cpu), series(SVC, "RunningTaskCount", np.full(DAYS3, 4.0))
    )
    res = fargate_service(512, 1024, desired=4) + autoscaling(target=90, low=1, high=12)
    f = one(run("autoscaling", context(res, load), min_capacity_floor=1), address=SVC)
    replay = {r["label"]: r for r in f.evidence["replay"]}
    assert replay["current"]["breach_share"] > 0.001
    assert "already the cheapest" not in f.summary
    if f.status is FindingStatus.NO_CHANGE:
        assert "misses the SLO" in f.summary
        assert Decimal(replay["optimizer"]["monthly_cost"]) >= Decimal(
            replay["current"]["monthly_cost"]
        )
    else:
        rec = f.recommendation
        assert rec is not None and rec.evidence["optimizer"]["breach_share"] <= 0.001
