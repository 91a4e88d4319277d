"""Target tracking on hand-made series: alarms, capacity math, cooldowns, combination rules."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from sim_helpers import CPU, START, config, load_of

from leanstack.catalog import embedded_catalog
from leanstack.simulate import (
    Load,
    ScheduledAction,
    ServiceConfig,
    SimulationSettings,
    TargetTrackingPolicy,
    compare_targets,
    simulate,
)


def test_step_up_scales_out_on_the_third_datapoint_to_ceil_running_x_metric_over_target() -> None:
    target, tasks, high_util = 70.0, 2, 95.0
    util = [50.0] * 10 + [high_util] * 30
    result = simulate(load_of(util, tasks), config(tasks), [TargetTrackingPolicy(target=target)])
    first = result.events[0]
    assert first.minute == 10 + 2  # datapoints at minutes 10, 11, 12
    assert first.after == math.ceil(tasks * high_util / target)
    # Launched at the end of minute 12, serving after the 60 s start latency.
    running = result.running_on_demand
    assert running[13] == tasks and running[14] == first.after


def test_spike_shorter_than_three_minutes_does_not_scale_out() -> None:
    # 58 % sits between 0.9 x 60 and 60: neither alarm counts it.
    util = [58.0] * 20 + [100.0, 100.0] + [58.0] * 20
    result = simulate(load_of(util, 3), config(3), [TargetTrackingPolicy(target=60)])
    assert result.events == ()
    assert result.breach_minutes == 2


def test_slow_decline_scales_in_only_after_15_minutes_below_ninety_percent_of_target() -> None:
    target, tasks = 50.0, 4
    # Linear decline from the target to 20 % over 60 minutes, then flat.
    util = np.concatenate([np.linspace(target, 20, 60), np.full(60, 20.0)])
    result = simulate(load_of(util, tasks), config(tasks), [TargetTrackingPolicy(target=target)])
    below = np.nonzero(util < 0.9 * target)[0]
    first_low = int(below[0])
    scale_ins = [e for e in result.events if e.after < e.before]
    assert scale_ins, "expected a scale-in"
    first_in = scale_ins[0]
    # The alarm is in ALARM from the 15th low datapoint on; the first minute from then on where
    # rounding up still removes a task is when the scale-in happens.
    expected = next(
        m for m in range(first_low + 14, len(util)) if math.ceil(tasks * util[m] / target) < tasks
    )
    assert first_in.minute == expected
    assert first_in.minute >= first_low + 14
    # Desired from the running count and the datapoint of that minute, rounded up.
    assert first_in.after == math.ceil(tasks * util[first_in.minute] / target)
    # Nothing scaled out on the way down (the metric never rose above target on 4 tasks) ...
    assert all(e.after < e.before for e in result.events)
    # ... and the next scale-in waits for the 300 s scale-in cooldown.
    if len(scale_ins) > 1:
        assert scale_ins[1].minute - first_in.minute >= 5


def test_values_between_ninety_percent_and_target_never_scale_in() -> None:
    target = 50.0
    util = [0.92 * target] * 200
    result = simulate(load_of(util, 4), config(4), [TargetTrackingPolicy(target=target)])
    assert result.events == ()


def test_disable_scale_in_keeps_capacity() -> None:
    util = [95.0] * 10 + [5.0] * 120
    policy = TargetTrackingPolicy(target=70, disable_scale_in=True)
    result = simulate(load_of(util, 2), config(2), [policy])
    assert all(e.after > e.before for e in result.events)
    assert result.running_on_demand[-1] == max(e.after for e in result.events)


def test_max_capacity_caps_scale_out_and_breaches_are_counted() -> None:
    util = [100.0] * 60
    result = simulate(load_of(util, 4), config(4, high=5), [TargetTrackingPolicy(target=50)])
    assert result.peak_tasks == 5
    # 4 tasks of demand on 5 tasks is 80 %: after the scale-out no minute breaches 90 %.
    serving_from = result.events[0].minute + 2
    assert result.breach_minutes == serving_from


def test_scale_out_cooldown_counts_capacity_just_added() -> None:
    # Metric capped at 100 %: each scale-out can ask for at most ceil(base x 100 / target).
    target, tasks = 50.0, 2
    util = [100.0] * 30
    demand_tasks = 40  # far more work than any count reached in 30 minutes
    load = Load.from_utilization(
        np.full(30, 100.0), tasks=demand_tasks, task_cpu_units=CPU, start=START
    )
    result = simulate(load, config(tasks, high=100), [TargetTrackingPolicy(target=target)])
    assert len(util) == 30
    first = result.events[0]
    assert first.after == math.ceil(tasks * 100 / target)
    # During the 300 s cooldown the base stays at 2, so nothing larger than 4 is asked:
    # the next scale-out comes when the cooldown ends, from the tasks then running.
    second = result.events[1]
    assert second.minute == first.minute + 5
    assert second.after == math.ceil(result.running_on_demand[second.minute] * 100 / target)


def test_scale_out_cancels_scale_in_cooldown() -> None:
    target, tasks = 50.0, 6
    util = [10.0] * 16 + [95.0] * 10
    result = simulate(
        load_of(util, tasks),
        config(tasks),
        [TargetTrackingPolicy(target=target, scale_in_cooldown_s=3600)],
    )
    kinds = ["in" if e.after < e.before else "out" for e in result.events]
    assert kinds[:2] == ["in", "out"]


def test_out_if_any_policy_asks_in_only_if_all_do() -> None:
    tasks = 4
    util = [30.0] * 60
    low_target = TargetTrackingPolicy(name="cpu-25", target=25.0)  # wants 30 > 25: out
    high_target = TargetTrackingPolicy(name="cpu-80", target=80.0)  # wants in
    both = simulate(load_of(util, tasks), config(tasks), [low_target, high_target])
    assert both.events and both.events[0].after > tasks and both.events[0].cause == "cpu-25"

    no_in = TargetTrackingPolicy(name="keep", target=32.0)  # 30 is above 0.9 x 32: no scale-in
    only_in = simulate(load_of(util, tasks), config(tasks), [high_target, no_in])
    assert only_in.events == ()
    alone = simulate(load_of(util, tasks), config(tasks), [high_target])
    assert alone.events and alone.events[0].after < tasks


def test_scheduled_action_raises_min_at_its_time() -> None:
    util = [20.0] * 180
    action = ScheduledAction(name="morning", at=START + timedelta(minutes=60), min_capacity=5)
    result = simulate(load_of(util, 2), config(2), [TargetTrackingPolicy(target=70)], [action])
    assert result.running_on_demand[59] <= 2
    raise_event = next(e for e in result.events if e.cause == "morning")
    assert raise_event.minute == 60 and raise_event.after == 5
    assert min(result.running_on_demand[62:]) == 5


def test_cron_schedule_fires_daily() -> None:
    util = [20.0] * (3 * 1440)
    up = ScheduledAction(name="up", schedule="cron(0 8 * * ? *)", min_capacity=4)
    down = ScheduledAction(name="down", schedule="cron(0 20 * * ? *)", min_capacity=1)
    result = simulate(load_of(util, 1), config(1), [TargetTrackingPolicy(target=70)], [up, down])
    ups = [e.minute for e in result.events if e.cause == "up"]
    assert ups == [8 * 60 + d * 1440 for d in range(3)]


def test_bad_schedule_is_an_issue_not_an_exception() -> None:
    action = ScheduledAction(name="weird", schedule="every tuesday", min_capacity=3)
    result = simulate(load_of([20.0] * 30, 1), config(1), [], [action])
    assert any("weird" in i.where for i in result.issues)


def test_cost_is_task_minutes_times_catalog_price() -> None:
    util = [50.0] * 120
    result = simulate(load_of(util, 3), config(3), [TargetTrackingPolicy(target=70)])
    catalog = embedded_catalog()
    vcpu = catalog.find(
        "fargate",
        "us-east-1",
        arch="x86_64",
        capacity="on-demand",
        usage_type="Fargate-vCPU-Hours:perCPU",
    )
    gb = catalog.find(
        "fargate", "us-east-1", arch="x86_64", capacity="on-demand", usage_type="Fargate-GB-Hours"
    )
    assert vcpu is not None and gb is not None
    hourly = vcpu.price * 1 + gb.price * 2
    assert result.task_minutes_on_demand == 3 * 120
    assert result.cost == hourly * 3 * 2
    assert result.monthly_cost == hourly * 3 * 730


def test_demand_reprojects_onto_another_task_size() -> None:
    # 60 % of 2 x 1 vCPU is 1.2 vCPU of work: on 0.5 vCPU tasks that is 240 % of one task.
    load = load_of([60.0] * 10, 2)
    assert np.allclose(load.demand_vcpu, 1.2)
    small = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=4, max_capacity=4, desired=4
    )
    result = simulate(load, small, [])
    assert np.allclose(result.utilization, 100 * 1.2 / (4 * 0.5))


def test_lowering_target_from_70_to_60_raises_task_hours_and_cost() -> None:
    rng = np.random.default_rng(7)
    minutes = 3 * 1440
    t = np.arange(minutes)
    # Daily cycle between ~20 % and ~80 % of 6 tasks, with noise.
    util = np.clip(50 + 30 * np.sin(2 * np.pi * t / 1440) + rng.normal(0, 4, minutes), 0, 100)
    load = load_of(util, 6)
    cfg = config(6, low=1, high=30)
    at70 = simulate(load, cfg, [TargetTrackingPolicy(target=70)], settings=SimulationSettings())
    at60 = simulate(load, cfg, [TargetTrackingPolicy(target=60)], settings=SimulationSettings())
    assert at60.task_hours > at70.task_hours
    assert at60.monthly_cost > at70.monthly_cost

    rows = compare_targets(load, cfg, TargetTrackingPolicy(target=70))
    by_label = {r.label: r for r in rows}
    assert by_label["current"].target == 70
    assert by_label["target 60%"].monthly_cost > by_label["current"].monthly_cost
    assert by_label["target 60%"].task_hours > by_label["current"].task_hours
    assert "optimizer" in by_label


def test_sudden_drop_scales_in_on_the_fifteenth_low_datapoint() -> None:
    target, tasks, low = 50.0, 4, 10.0
    util = [target] * 10 + [low] * 40
    result = simulate(load_of(util, tasks), config(tasks), [TargetTrackingPolicy(target=target)])
    first = result.events[0]
    assert (first.minute, first.before) == (10 + 14, tasks)
    assert first.after == math.ceil(tasks * low / target)


def test_scale_to_zero_starts_one_task_after_one_datapoint() -> None:
    util = [0.0] * 5 + [30.0] * 10  # work arrives at minute 5 while no task runs
    load = load_of(util, 1)
    cfg = ServiceConfig(task_cpu_units=CPU, task_memory_mib=2048, min_capacity=0, max_capacity=4,
                        desired=0)
    result = simulate(load, cfg, [TargetTrackingPolicy(target=70)])
    first = result.events[0]
    assert (first.minute, first.before, first.after) == (5, 0, 1)
    assert result.unmet_vcpu_hours > 0  # the work waited for the task to start
