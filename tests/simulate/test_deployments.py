"""ECS deployments suspend scale-in (aws-semantics §4.1): reference and batch replay, optimizer."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
from sim_helpers import START, Lanes, config, load_of, noisy_load

from leanstack.model.issues import Issue
from leanstack.simulate import (
    Comparison,
    Load,
    SearchSpace,
    ServiceConfig,
    SimulationSettings,
    StepAdjustment,
    StepAlarm,
    StepScalingPolicy,
    TargetTrackingPolicy,
    fargate_rates,
    optimize,
    simulate,
)
from leanstack.simulate.policies import Deployment
from leanstack.simulate.schedule import deployment_mask
from leanstack.simulate.vector import CandidateArrays, replay_target_tracking


def frozen_between(first: int, stop: int) -> SimulationSettings:
    """A deployment that freezes minutes [first, stop) exactly."""
    return SimulationSettings(
        deployments=(
            Deployment(at=START + timedelta(minutes=first), duration_s=60 * (stop - first)),
        )
    )


# --------------------------------------------------------------------------- reference replay


def test_slow_decline_during_a_deployment_scales_in_at_the_first_minute_after_it() -> None:
    target, tasks = 50.0, 4
    util = np.concatenate([np.linspace(target, 20, 40), np.full(60, 20.0)])
    policy = TargetTrackingPolicy(target=target)
    # The rules: the scale-in alarm is in ALARM from the 15th consecutive datapoint below
    # 0.9 x target; until a scale-in the running count stays 4, so the metric is util itself;
    # the policy removes tasks when ceil(running x metric / target) < desired.
    first_low = int(np.nonzero(util < policy.scale_in_ratio * target)[0][0])
    in_alarm = first_low + policy.scale_in_datapoints - 1

    def wants_in(m: int) -> bool:
        return m >= in_alarm and math.ceil(tasks * util[m] / target - 1e-9) < tasks

    unfrozen_minute = next(m for m in range(len(util)) if wants_in(m))
    # The freeze covers the minute the scale-in would have happened and ends 10 minutes later.
    freeze_first, freeze_stop = unfrozen_minute - 3, unfrozen_minute + 10

    plain = simulate(load_of(util, tasks), config(tasks), [policy])
    frozen = simulate(
        load_of(util, tasks),
        config(tasks),
        [policy],
        settings=frozen_between(freeze_first, freeze_stop),
    )
    assert plain.events[0].minute == unfrozen_minute  # the window really hides a scale-in
    assert plain.scale_in_frozen_minutes == 0

    ins = [e for e in frozen.events if e.after < e.before]
    assert ins, "expected a scale-in once the deployment ends"
    assert ins[0].minute == freeze_stop  # the alarm is still in ALARM: the first minute after
    assert ins[0].before == tasks
    assert ins[0].after == math.ceil(tasks * util[freeze_stop] / target - 1e-9)
    # The count stayed up through the window (tasks stop at the end of the scale-in minute).
    assert (frozen.running_on_demand[: freeze_stop + 1] == tasks).all()
    assert frozen.running_on_demand[freeze_stop + 1] == ins[0].after
    assert frozen.scale_in_frozen_minutes == sum(
        wants_in(m) for m in range(freeze_first, freeze_stop)
    )
    assert frozen.task_minutes_on_demand > plain.task_minutes_on_demand


def test_a_freeze_that_ends_before_the_alarm_fires_changes_nothing() -> None:
    target, tasks = 50.0, 4
    util = np.concatenate([np.full(20, 48.0), np.full(60, 20.0)])
    policy = TargetTrackingPolicy(target=target)
    plain = simulate(load_of(util, tasks), config(tasks), [policy])
    # Low datapoints start at 20 and the alarm needs 15: a freeze over 20..29 must not delay it,
    # because the alarm kept counting during the freeze.
    frozen = simulate(
        load_of(util, tasks), config(tasks), [policy], settings=frozen_between(20, 30)
    )
    assert plain.events[0].minute == 20 + policy.scale_in_datapoints - 1
    assert [(e.minute, e.after) for e in frozen.events] == [
        (e.minute, e.after) for e in plain.events
    ]
    assert frozen.scale_in_frozen_minutes == 0


def test_scale_out_goes_on_during_a_deployment() -> None:
    target, tasks, high_util = 70.0, 2, 95.0
    util = [50.0] * 10 + [high_util] * 30
    policy = TargetTrackingPolicy(target=target)
    frozen = simulate(
        load_of(util, tasks), config(tasks), [policy], settings=frozen_between(0, len(util))
    )
    ups = [e for e in frozen.events if e.after > e.before]
    assert ups and ups[0].minute == 10 + policy.scale_out_datapoints - 1
    assert ups[0].after == math.ceil(tasks * high_util / target)
    assert all(e.after >= e.before for e in frozen.events)
    plain = simulate(load_of(util, tasks), config(tasks), [policy])
    assert [(e.minute, e.after) for e in frozen.events] == [
        (e.minute, e.after) for e in plain.events
    ]


def test_step_scaling_scale_in_is_frozen_too() -> None:
    policy = StepScalingPolicy(
        name="down",
        steps=(StepAdjustment(lower=None, upper=0, adjustment=-1),),
        cooldown_s=60,
        alarm=StepAlarm(threshold=30, comparison=Comparison.LT),
    )
    util = [20.0] * 40
    plain = simulate(load_of(util, 4), config(4), [policy])
    frozen = simulate(load_of(util, 4), config(4), [policy], settings=frozen_between(0, 20))
    assert plain.events[0].minute == 0  # one breaching datapoint is enough for this alarm
    assert frozen.events[0].minute == 20
    assert (frozen.events[0].before, frozen.events[0].after) == (4, 3)


# --------------------------------------------------------------------------- batch replay


def test_batch_replay_matches_simulate_with_deployments() -> None:
    load = noisy_load(2 * 1440, seed=7, period=150, noise=8, gap=(500, 515), start=START)
    deployments = (
        Deployment(name="every-5h", schedule="rate(5 hours)", duration_s=2400),
        Deployment(name="nightly", schedule="cron(30 22 * * ? *)", duration_s=1800),
        Deployment(name="hotfix", at=START + timedelta(minutes=917, seconds=20), duration_s=300),
    )
    issues: list[Issue] = []
    mask = deployment_mask(deployments, load.start, load.minutes, issues)
    assert not issues and 0 < mask.sum() < load.minutes
    lanes = Lanes.draw(
        np.random.default_rng(3),
        16,
        targets=[40.0, 55.0, 70.0, 85.0],
        lows=[1.0, 2.0],
        highs=[6.0, 12.0, 30.0],
        out_cds=[60, 300],
        in_cds=[60, 300, 900],
        cpus=[256, 512, 1024],
    )
    arrays = lanes.arrays()
    batch = replay_target_tracking(
        load.demand_vcpu, arrays, start_latency_min=1, scale_in_frozen=mask
    )
    free = replay_target_tracking(load.demand_vcpu, arrays, start_latency_min=1)
    settings = SimulationSettings(record_series=False, deployments=deployments)
    held = 0
    for lane in range(len(lanes)):
        ref = simulate(load, lanes.config(lane), [lanes.policy(lane)], settings=settings)
        assert not ref.issues or all(i.where != "every-5h" for i in ref.issues)
        assert ref.task_minutes_on_demand == batch.task_minutes[lane], lane
        assert ref.breach_minutes == batch.breach_minutes[lane], lane
        assert math.isclose(ref.unmet_vcpu_hours * 60, batch.unmet_vcpu_minutes[lane], abs_tol=1e-6)
        assert ref.peak_tasks == batch.peak_tasks[lane], lane
        held += ref.scale_in_frozen_minutes
    # The deployments mattered: scale-ins were held back and lanes ran more tasks.
    assert held > 0
    assert (batch.task_minutes >= free.task_minutes).any()
    assert (batch.task_minutes != free.task_minutes).any()


def test_batch_replay_rejects_a_mask_of_the_wrong_length() -> None:
    arrays = CandidateArrays(
        target=np.array([50.0]),
        min_capacity=np.ones(1),
        max_capacity=np.full(1, 4.0),
        scale_out_cooldown_min=np.full(1, 5.0),
        scale_in_cooldown_min=np.full(1, 5.0),
        task_vcpu=np.full(1, 1.0),
        initial=np.ones(1),
        scale_in=np.ones(1, bool),
    )
    try:
        replay_target_tracking(np.ones(30), arrays, scale_in_frozen=np.zeros(29, bool))
    except ValueError as exc:
        assert "shape" in str(exc)
    else:
        raise AssertionError("a 29-minute mask for a 30-minute series must be refused")


# --------------------------------------------------------------------------- the mask


def _minutes(mask: np.ndarray) -> set[int]:
    return set(np.nonzero(mask)[0].tolist())


def test_cron_deployment_expands_to_weekday_windows() -> None:
    issues: list[Issue] = []
    week = 7 * 1440
    mask = deployment_mask(
        [Deployment(name="release", schedule="cron(0 10 ? * MON-FRI *)", duration_s=900)],
        START,
        week,
        issues,
    )
    assert not issues
    # START is a Monday: Monday..Friday at 10:00 for 15 minutes, nothing on the weekend.
    expected = {day * 1440 + 600 + m for day in range(5) for m in range(15)}
    assert _minutes(mask) == expected


def test_rate_deployment_expands_from_the_series_start() -> None:
    issues: list[Issue] = []
    mask = deployment_mask(
        [Deployment(schedule="rate(2 hours)", duration_s=1800)], START, 1440, issues
    )
    assert not issues
    assert _minutes(mask) == {k * 120 + m for k in range(12) for m in range(30)}


def test_overlapping_windows_merge_and_partial_minutes_count() -> None:
    issues: list[Issue] = []
    merged = deployment_mask(
        [Deployment(schedule="rate(10 minutes)", duration_s=900)], START, 120, issues
    )
    assert merged.all()
    # [00:01:30, 00:02:30) touches minutes 1 and 2.
    partial = deployment_mask(
        [Deployment(at=START + timedelta(seconds=90), duration_s=60)], START, 10, issues
    )
    assert _minutes(partial) == {1, 2}
    # Two overlapping one-off deployments are one freeze from the first start to the last end.
    pair = deployment_mask(
        [
            Deployment(at=START + timedelta(minutes=5), duration_s=600),
            Deployment(at=START + timedelta(minutes=10), duration_s=600),
        ],
        START,
        60,
        issues,
    )
    assert _minutes(pair) == set(range(5, 20))
    assert not issues


def test_a_deployment_that_began_before_the_series_still_freezes_its_first_minutes() -> None:
    issues: list[Issue] = []
    start = START + timedelta(minutes=5)  # 00:05; the cron deployment began at 23:50 the day before
    mask = deployment_mask(
        [Deployment(schedule="cron(50 23 * * ? *)", duration_s=1200)], start, 60, issues
    )
    assert not issues
    assert _minutes(mask) == set(range(0, 5))  # until 00:10
    naive = deployment_mask(
        [Deployment(at=datetime(2026, 3, 2, 0, 0), duration_s=600)], start, 60, issues
    )
    assert _minutes(naive) == set(range(0, 5))  # a naive time is UTC


def test_bad_deployments_become_issues_naming_them() -> None:
    deployments = (
        Deployment(name="typo", schedule="cron(every day)", duration_s=600),
        Deployment(name="zero-rate", schedule="rate(0 minutes)", duration_s=600),
        Deployment(name="nothing", duration_s=600),
        Deployment(name="instant", at=START, duration_s=0),
        Deployment(name="good", at=START + timedelta(minutes=3), duration_s=120),
    )
    issues: list[Issue] = []
    mask = deployment_mask(deployments, START, 30, issues)
    assert sorted(i.where for i in issues) == ["instant", "nothing", "typo", "zero-rate"]
    assert _minutes(mask) == {3, 4}  # the good one still counts
    # Through the simulator: a result with the issues, not a traceback.
    util = [20.0] * 30
    result = simulate(
        load_of(util, 2),
        config(2),
        [TargetTrackingPolicy(target=50)],
        settings=SimulationSettings(deployments=deployments),
    )
    assert {"typo", "zero-rate", "nothing", "instant"} <= {i.where for i in result.issues}
    assert all(i.message for i in result.issues)


# --------------------------------------------------------------------------- optimizer


def _evening_decline_load(days: int) -> Load:
    """Busy days that fall off between 18:00 and 20:00 UTC, quiet nights."""
    minute_of_day = np.arange(days * 1440) % 1440
    hours = minute_of_day / 60
    day = np.where(hours < 8, 15.0, 60.0)
    ramp_up = (hours >= 6) & (hours < 8)
    day = np.where(ramp_up, 15.0 + (hours - 6) / 2 * 45.0, day)
    decline = (hours >= 18) & (hours < 20)
    day = np.where(decline, 60.0 - (hours - 18) / 2 * 45.0, day)
    day = np.where(hours >= 20, 15.0, day)
    return Load.from_utilization(day, tasks=8, task_cpu_units=512, start=START, name="evening")


def test_optimizer_pays_for_deployments_during_the_decline() -> None:
    load = _evening_decline_load(3)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=30, desired=8
    )
    rates, _ = fargate_rates("us-east-1", "x86_64")
    assert rates is not None
    space = SearchSpace(refine_top=2)
    plain = optimize(load, cfg, space=space, rates=rates)
    nightly = (Deployment(name="evening", schedule="cron(0 18 * * ? *)", duration_s=2 * 3600),)
    frozen = optimize(
        load, cfg, space=space, rates=rates, settings=SimulationSettings(deployments=nightly)
    )
    assert plain.best is not None and frozen.best is not None
    assert not frozen.issues
    assert frozen.best.monthly_cost >= plain.best.monthly_cost
    assert frozen.best.monthly_cost > plain.best.monthly_cost  # the freeze is not free here
    # The chosen policy, replayed by the reference simulator, really holds scale-ins back.
    best = frozen.best.candidate
    replay = simulate(
        load, best.config, [best.policy], settings=SimulationSettings(deployments=nightly)
    )
    assert replay.scale_in_frozen_minutes > 0


def test_optimizer_reports_a_bad_deployment_schedule() -> None:
    load = _evening_decline_load(1)
    cfg = ServiceConfig(task_cpu_units=512, task_memory_mib=1024, desired=8, max_capacity=30)
    rates, _ = fargate_rates("us-east-1", "x86_64")
    result = optimize(
        load,
        cfg,
        space=SearchSpace(refine_top=1),
        rates=rates,
        settings=SimulationSettings(deployments=(Deployment(name="oops", schedule="weekly"),)),
    )
    assert result.best is not None
    assert [i.where for i in result.issues] == ["oops"]
