"""The floors the backtest measures the optimizer against: hourly oracle and reactive bound."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from leanstack.simulate import Load, fargate_rates
from leanstack.simulate.backtest import BASELINES, TARGET_RATIO, backtest, oracle
from leanstack.simulate.bounds import (
    billed_from_launch,
    hourly_oracle,
    reactive_bound,
    trailing_max,
)
from leanstack.simulate.optimizer import SearchSpace
from leanstack.simulate.policies import ServiceConfig, SimulationSettings, TargetTrackingPolicy
from leanstack.simulate.pricing import FargateRates
from leanstack.simulate.series_io import read_csv

NAB = Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "nab" / "realAWSCloudwatch"
SMALL = ((256, 512),)


@pytest.fixture(scope="module")
def rates() -> FargateRates:
    found, _ = fargate_rates()
    assert found is not None
    return found


def _load(tasks_needed: list[float] | np.ndarray, *, start: datetime | None = None) -> Load:
    """A load whose need at 90 % on 0.25 vCPU tasks is exactly `tasks_needed` each minute."""
    need = np.asarray(tasks_needed, dtype=np.float64)
    return Load(
        name="handmade",
        start=start or datetime(2026, 1, 1, tzinfo=UTC),
        demand_vcpu=need * 0.25 * 0.9,
    )


@pytest.mark.parametrize("window", [1, 2, 3, 7, 60, 500])
def test_trailing_max_matches_brute_force(window: int) -> None:
    rng = np.random.default_rng(window)
    for n in (1, 5, 59, 60, 61, 333):
        x = rng.normal(size=n)
        expected = np.array([x[max(0, t - window + 1) : t + 1].max() for t in range(n)])
        assert np.array_equal(trailing_max(x, window), expected)


def test_billing_starts_one_start_latency_before_serving() -> None:
    counts = np.array([1.0, 1, 1, 3, 3, 1, 1])
    assert billed_from_launch(counts, 0).tolist() == counts.tolist()
    assert billed_from_launch(counts, 1).tolist() == [1, 1, 3, 3, 3, 1, 1]
    assert billed_from_launch(counts, 2).tolist() == [1, 3, 3, 3, 3, 1, 1]


def test_reactive_bound_on_a_step_pays_the_reaction_delay(rates: FargateRates) -> None:
    n, step = 600, 100
    load = _load([1] * step + [3] * (n - step))
    # With two breach minutes allowed, the cheapest reactive policy follows the step as soon as
    # it sees it: the datapoint of minute 100 is seen at its end, the task launched then serves
    # from minute 102 (1 minute of start latency) and is billed from 101.
    bound = reactive_bound(load, SMALL, rates=rates, max_breach_minutes=2)
    assert bound is not None
    assert bound.breach_minutes == 2
    assert bound.task_minutes == 101 * 1 + (n - 101) * 3
    # With none allowed, nothing that only reacts can be ready in time: it must hold 3 throughout.
    strict = reactive_bound(load, SMALL, rates=rates, max_breach_minutes=0)
    assert strict is not None and strict.breach_minutes == 0
    assert strict.task_minutes == 3 * n
    floor = oracle(load, ServiceConfig(task_cpu_units=256, task_memory_mib=512), rates=rates)
    assert floor.task_minutes == 99 * 1 + (n - 99) * 3
    # Two breach minutes buy back the minute the oracle launches early; none cost a static fleet.
    assert bound.monthly_cost < floor.monthly_cost < strict.monthly_cost


def test_isolated_spikes_cannot_be_followed_reactively(rates: FargateRates) -> None:
    need = np.ones(1440)
    need[30::60] = 4  # one-minute spikes, every hour
    load = _load(need)
    bound = reactive_bound(load, SMALL, rates=rates, max_breach_minutes=0)
    assert bound is not None and bound.task_minutes == 4 * 1440
    # Allowing a breach per spike, it stays at 1 task and breaches on every spike.
    loose = reactive_bound(load, SMALL, rates=rates, max_breach_minutes=24)
    assert loose is not None
    assert loose.task_minutes == 1440 and loose.breach_minutes == 24
    # A perfect hourly forecast pays for the spike's hour in full, plus the launch minute.
    hourly = hourly_oracle(load, SMALL, rates=rates)
    assert hourly.task_minutes == 4 * 1440


def test_hourly_oracle_follows_clock_hours(rates: FargateRates) -> None:
    # Starts at 10:30: the first block is the half hour to 11:00, then whole clock hours.
    start = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    need = np.ones(150)
    need[20] = 3  # 10:50, in the first (half-hour) block
    need[100] = 2  # 12:10, in the 12:00-13:00 block
    hourly = hourly_oracle(_load(need, start=start), SMALL, rates=rates, start_latency_min=0)
    assert hourly.task_minutes == 30 * 3 + 60 * 1 + 60 * 2
    # With a minute of start latency, each rise is launched (and billed) a minute earlier.
    early = hourly_oracle(_load(need, start=start), SMALL, rates=rates, start_latency_min=1)
    assert early.task_minutes == 30 * 3 + 59 * 1 + 61 * 2


def test_bounds_sit_between_the_oracle_and_static_peak(rates: FargateRates) -> None:
    rng = np.random.default_rng(11)
    minutes = np.arange(3 * 1440)
    need = np.ceil(2 + 2 * np.sin(minutes / 200.0) ** 2 + rng.integers(0, 2, minutes.size))
    load = _load(need)
    cfg = ServiceConfig(task_cpu_units=256, task_memory_mib=512)
    floor = oracle(load, cfg, rates=rates)
    hourly = hourly_oracle(load, SMALL, rates=rates)
    bound = reactive_bound(load, SMALL, rates=rates, max_breach_minutes=0)
    assert bound is not None
    peak = int(need.max()) * minutes.size
    assert floor.task_minutes <= hourly.task_minutes <= peak
    assert floor.task_minutes <= bound.task_minutes <= peak


def test_backtest_says_when_the_target_needs_foresight() -> None:
    series, issues = read_csv(NAB / "ec2_cpu_utilization_77c1ca.csv")
    assert not issues
    s = series[0]
    load = Load.from_utilization(s.cpu_pct, tasks=1, task_cpu_units=512, start=s.start, name=s.name)
    cfg = ServiceConfig(task_cpu_units=512, task_memory_mib=1024, max_capacity=10)
    result = backtest(
        load,
        cfg,
        [TargetTrackingPolicy(target=70)],
        train_minutes=7 * 1440,
        space=SearchSpace(task_sizes=((256, 512), (512, 1024)), max_candidates=60, refine_top=2),
        settings=SimulationSettings(),
    )
    rows = {r.policy: r for r in result.rows}
    oracle_row, reactive, hourly = rows["oracle"], rows["reactive-bound"], rows["hourly-oracle"]
    assert oracle_row.monthly_cost <= hourly.monthly_cost
    assert oracle_row.monthly_cost <= reactive.monthly_cost
    # The reactive bound is held to the breach minutes of the best baseline.
    assert reactive.breach_minutes <= min(rows[b.name].breach_minutes for b in BASELINES)
    assert reactive.cost_vs_oracle is not None
    needs_foresight = not result.optimizer_within_target and reactive.cost_vs_oracle > TARGET_RATIO
    assert result.target_needs_foresight is needs_foresight
    text = result.target_explanation
    if needs_foresight:
        assert f"{reactive.cost_vs_oracle:.2f}x" in text and "no reactive policy" in text
    assert f"{hourly.cost_vs_oracle:.2f}x" in text or result.optimizer_within_target
