"""The batch replay agrees with the reference simulator; Spot split and interruptions."""

from __future__ import annotations

import math

import numpy as np
from sim_helpers import Lanes, noisy_load

from leanstack.simulate import (
    CapacityProviderItem,
    Load,
    ServiceConfig,
    SimulationSettings,
    fargate_rates,
    simulate,
    split_table,
)
from leanstack.simulate.vector import CandidateArrays, replay_target_tracking


def test_batch_replay_matches_reference_simulator_lane_by_lane() -> None:
    load = noisy_load(3 * 1440, seed=11)
    lanes = Lanes.draw(
        np.random.default_rng(5),
        24,
        targets=[40.0, 55.0, 70.0, 85.0],
        lows=[1.0, 2.0, 3.0],
        highs=[5.0, 8.0, 30.0],
        out_cds=[60, 120, 300],
        in_cds=[300, 900],
        cpus=[256, 512, 1024],
        scale_in_share=0.8,
    )
    batch = replay_target_tracking(load.demand_vcpu, lanes.arrays(), start_latency_min=1)
    for lane in range(len(lanes)):
        ref = simulate(
            load,
            lanes.config(lane),
            [lanes.policy(lane)],
            settings=SimulationSettings(record_series=False),
        )
        assert ref.task_minutes_on_demand == batch.task_minutes[lane], lane
        assert ref.breach_minutes == batch.breach_minutes[lane], lane
        assert math.isclose(ref.unmet_vcpu_hours * 60, batch.unmet_vcpu_minutes[lane], abs_tol=1e-6)
        assert ref.peak_tasks == batch.peak_tasks[lane], lane


def test_batch_replay_over_several_series_matches_one_at_a_time() -> None:
    loads = [noisy_load(1440, seed=s) for s in (1, 2, 3)]
    demand = np.stack([ld.demand_vcpu for ld in loads], axis=1)
    arrays = CandidateArrays(
        target=np.array([[50.0, 70.0]]),
        min_capacity=np.ones((1, 2)),
        max_capacity=np.full((1, 2), 20.0),
        scale_out_cooldown_min=np.full((1, 2), 5.0),
        scale_in_cooldown_min=np.full((1, 2), 5.0),
        task_vcpu=np.full((1, 2), 0.5),
        initial=np.full((1, 2), 4.0),
        scale_in=np.ones((1, 2), bool),
    )
    together = replay_target_tracking(demand, arrays)
    for s, ld in enumerate(loads):
        alone = replay_target_tracking(ld.demand_vcpu, replace_shape(arrays))
        assert np.array_equal(together.task_minutes[s], alone.task_minutes)
        assert np.array_equal(together.breach_minutes[s], alone.breach_minutes)


def replace_shape(arrays: CandidateArrays) -> CandidateArrays:
    return CandidateArrays(
        target=arrays.target[0],
        min_capacity=arrays.min_capacity[0],
        max_capacity=arrays.max_capacity[0],
        scale_out_cooldown_min=arrays.scale_out_cooldown_min[0],
        scale_in_cooldown_min=arrays.scale_in_cooldown_min[0],
        task_vcpu=arrays.task_vcpu[0],
        initial=arrays.initial[0],
        scale_in=arrays.scale_in[0],
    )


def test_capacity_provider_split_matches_aws_example() -> None:
    strategy = (
        CapacityProviderItem(provider="FARGATE", base=2, weight=1),
        CapacityProviderItem(provider="FARGATE_SPOT", weight=3),
    )
    od, spot = split_table(strategy, 10)
    assert (od[10], spot[10]) == (4, 6)
    assert (od[2], spot[2]) == (2, 0)  # the base is placed first
    assert all(od[n] + spot[n] == n for n in range(11))


def test_spot_interruptions_are_seeded_and_replaced() -> None:
    load = Load.from_utilization(np.full(2 * 1440, 50.0), tasks=6, task_cpu_units=512)
    strategy = (
        CapacityProviderItem(provider="FARGATE", base=1, weight=0),
        CapacityProviderItem(provider="FARGATE_SPOT", weight=1),
    )
    cfg = ServiceConfig(
        task_cpu_units=512,
        task_memory_mib=1024,
        min_capacity=6,
        max_capacity=6,
        desired=6,
        capacity_strategy=strategy,
    )
    settings = SimulationSettings(
        spot_interruptions_per_task_hour=0.5, seed=3, spot_replacement_latency_s=180
    )
    first = simulate(load, cfg, [], settings=settings)
    again = simulate(load, cfg, [], settings=settings)
    assert first.spot_interruptions == again.spot_interruptions > 0
    assert np.array_equal(first.running_spot, again.running_spot)
    # Expected interruptions: 5 Spot tasks x 48 h x 0.5 per task-hour = 120, give or take.
    assert 60 < first.spot_interruptions < 200
    assert first.running_spot.min() < 5 and first.running_spot.max() == 5
    assert (first.running_on_demand == 1).all()
    # Interrupted tasks stop billing until their replacement launches: fewer Spot task-minutes.
    assert first.task_minutes_spot < 5 * load.minutes
    calm = simulate(load, cfg, [], settings=SimulationSettings())
    assert calm.task_minutes_spot == 5 * load.minutes


def test_spot_tasks_are_priced_at_the_spot_rate() -> None:
    rates, issues = fargate_rates("us-east-1", "x86_64")
    assert rates is not None and not issues
    load = Load.from_utilization(np.full(60, 50.0), tasks=4, task_cpu_units=512)
    strategy = (CapacityProviderItem(provider="FARGATE_SPOT", weight=1),)
    cfg = ServiceConfig(
        task_cpu_units=512,
        task_memory_mib=1024,
        min_capacity=4,
        max_capacity=4,
        desired=4,
        capacity_strategy=strategy,
    )
    result = simulate(load, cfg, [], rates=rates)
    assert result.task_minutes_spot == 4 * 60 and result.task_minutes_on_demand == 0
    assert result.cost == rates.task_minute(512, 1024, spot=True) * 240
    assert result.cost < rates.task_minute(512, 1024) * 240
