"""Step scaling: AWS's documented rounding, step bounds, and the cooldown arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leanstack.simulate import (
    AdjustmentType,
    Comparison,
    Load,
    ServiceConfig,
    SimulationSettings,
    StepAdjustment,
    StepAlarm,
    StepScalingPolicy,
    find_step,
    percent_adjustment,
    simulate,
)


def test_percent_of_11_by_30_rounds_down_to_3() -> None:
    # AWS example: 30 % of 11 = 3.3 -> 3
    assert percent_adjustment(11, 30) == 3


def test_min_adjustment_magnitude_raises_25_percent_of_4_to_2() -> None:
    # AWS example: 25 % of 4 = 1, MinAdjustmentMagnitude 2 -> 2
    assert percent_adjustment(4, 25) == 1
    assert percent_adjustment(4, 25, 2) == 2


def test_small_positive_fraction_becomes_one() -> None:
    assert percent_adjustment(2, 10) == 1  # 0.2 -> 1


def test_negative_values_round_toward_zero() -> None:
    assert percent_adjustment(10, -25) == -2  # -2.5 -> -2
    assert percent_adjustment(7, -50) == -3  # -3.5 -> -3


def test_small_negative_fraction_becomes_minus_one() -> None:
    assert percent_adjustment(3, -20) == -1  # -0.6 -> -1
    assert percent_adjustment(1, -10) == -1  # -0.1 -> -1


def test_min_adjustment_magnitude_applies_to_scale_in_too() -> None:
    assert percent_adjustment(10, -10, 3) == -3


STEPS = (
    StepAdjustment(lower=0, upper=10, adjustment=0),
    StepAdjustment(lower=10, upper=20, adjustment=10),
    StepAdjustment(lower=20, upper=None, adjustment=30),
)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0.0, 0), (9.99, 0), (10.0, 10), (19.9, 10), (20.0, 30), (75.0, 30)],
)
def test_bounds_above_threshold_lower_inclusive_upper_exclusive(
    offset: float, expected: float
) -> None:
    step = find_step(STEPS, offset)
    assert step is not None and step.adjustment == expected


def test_bounds_below_threshold_lower_exclusive_upper_inclusive() -> None:
    steps = (
        StepAdjustment(lower=-10, upper=0, adjustment=-1),
        StepAdjustment(lower=None, upper=-10, adjustment=-2),
    )
    assert find_step(steps, -10.0).adjustment == -2  # type: ignore[union-attr]
    assert find_step(steps, -9.5).adjustment == -1  # type: ignore[union-attr]
    assert find_step(steps, -0.0001).adjustment == -1  # type: ignore[union-attr]
    assert find_step(steps, -50.0).adjustment == -2  # type: ignore[union-attr]


def _load(util: list[float], tasks: int, cpu: int = 1024) -> Load:
    return Load.from_utilization(np.asarray(util, dtype=float), tasks=tasks, task_cpu_units=cpu)


def test_plus_two_then_plus_three_during_cooldown_adds_one() -> None:
    threshold = 50.0
    policy = StepScalingPolicy(
        name="out",
        adjustment_type=AdjustmentType.CHANGE_IN_CAPACITY,
        steps=(
            StepAdjustment(lower=0, upper=20, adjustment=2),
            StepAdjustment(lower=20, upper=None, adjustment=3),
        ),
        cooldown_s=300,
        alarm=StepAlarm(threshold=threshold, comparison=Comparison.GE, evaluation_periods=1),
    )
    # Demand in vCPU on 4 x 1 vCPU tasks: 60 % breaches by 10 (step +2); two minutes later the
    # metric rises to 80 % of the *running* capacity (step +3) while the +2 is in cooldown.
    base = 4
    demand_60 = 0.60 * base
    start_latency = 600  # the new tasks are not serving yet, so the metric reflects 4 tasks
    util = [10.0] * 3 + [60.0, 60.0, 80.0] + [80.0] * 3
    load = Load(name="t", start=_load([0], 1).start, demand_vcpu=np.asarray(util) / 100 * base)
    assert load.demand_vcpu[3] == pytest.approx(demand_60)
    config = ServiceConfig(
        task_cpu_units=1024, task_memory_mib=2048, min_capacity=1, max_capacity=20, desired=base
    )
    result = simulate(
        load, config, [policy], settings=SimulationSettings(start_latency_s=start_latency)
    )
    changes = [(e.before, e.after) for e in result.events]
    # +2 from 4 -> 6; then +3 from the same base 4 -> 7: one more task, not three.
    assert changes == [(base, base + 2), (base + 2, base + 3)]


def test_step_policy_without_alarm_never_fires() -> None:
    policy = StepScalingPolicy(
        name="cost-based",
        steps=(StepAdjustment(lower=0, upper=None, adjustment=-1),),
        alarm=None,
    )
    load = _load([5.0] * 120, tasks=4)
    config = ServiceConfig(
        task_cpu_units=1024, task_memory_mib=2048, min_capacity=1, max_capacity=8, desired=4
    )
    result = simulate(load, config, [policy])
    assert result.events == ()
    assert result.task_minutes_on_demand == 4 * 120


def test_percent_step_scale_out_uses_aws_rounding() -> None:
    policy = StepScalingPolicy(
        name="pct",
        adjustment_type=AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
        steps=(StepAdjustment(lower=0, upper=None, adjustment=30),),
        cooldown_s=3600,
        alarm=StepAlarm(threshold=70.0, evaluation_periods=2),
    )
    tasks = 11
    load = _load([50.0, 90.0, 90.0, 90.0, 90.0], tasks=tasks)
    config = ServiceConfig(
        task_cpu_units=1024, task_memory_mib=2048, min_capacity=1, max_capacity=100, desired=tasks
    )
    result = simulate(load, config, [policy])
    assert [(e.before, e.after) for e in result.events] == [
        (tasks, tasks + math.floor(0.3 * tasks))
    ]
    # Two datapoints are needed: the second breaching minute (index 2) is when it fires.
    assert result.events[0].minute == 2


def test_exact_capacity_step_sets_the_count() -> None:
    policy = StepScalingPolicy(
        name="in",
        adjustment_type=AdjustmentType.EXACT_CAPACITY,
        steps=(StepAdjustment(lower=None, upper=0, adjustment=2),),
        cooldown_s=300,
        alarm=StepAlarm(threshold=20.0, comparison=Comparison.LE, evaluation_periods=3),
    )
    load = _load([10.0] * 30, tasks=6)
    config = ServiceConfig(
        task_cpu_units=1024, task_memory_mib=2048, min_capacity=1, max_capacity=10, desired=6
    )
    result = simulate(load, config, [policy])
    assert [(e.before, e.after) for e in result.events] == [(6, 2)]
    assert result.events[0].minute == 2
