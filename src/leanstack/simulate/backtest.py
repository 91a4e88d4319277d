"""Fit on the first part of a recorded load, evaluate on the rest, against an oracle and baselines.

Rows per series:
- `current`: the policy the service has (from Terraform or the CLI flags);
- `optimizer`: `optimize()` fitted on the training window;
- `oracle`: the cheapest capacity that keeps every minute at or under the breach threshold,
  knowing the future, given start latency (tasks launch early and are billed while starting);
- `hourly-oracle` and `reactive-bound` (see `leanstack.simulate.bounds`): what a perfect hourly
  forecast, and the best policy that only reacts to the load, would have cost; they tell a
  missed target that needs foresight from one a better policy could meet;
- static baselines sized from the training window, each the cheapest (count x size) over the
  candidate sizes that covers a demand level:
  - `krr-simple`: p95 of CPU demand (KRR "simple": request = p95, no limit; memory peak + 15 %
    needs a memory series, which the CPU-only backtest does not have);
  - `vpa-like`: p90 x 1.15 (VPA target percentile and safety margin);
  - `compute-optimizer-like`: p99.5 at <= 80 % utilization (P99.5 threshold, 20 % headroom);
  - `static-peak`: the training peak at <= the breach threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import money_str
from leanstack.simulate.bounds import Bound, clairvoyant, hourly_oracle, reactive_bound
from leanstack.simulate.ecs import Load, SimulationResult, simulate
from leanstack.simulate.optimizer import (
    Candidate,
    SearchSpace,
    SloSettings,
    optimize,
)
from leanstack.simulate.policies import (
    Policy,
    ServiceConfig,
    SimulationSettings,
    TargetTrackingPolicy,
)
from leanstack.simulate.pricing import FargateRates, fargate_rates

RATIO_PLACES = Decimal("0.001")
# The issue's bar: the optimizer within 1.15x of the oracle's cost.
TARGET_RATIO = Decimal("1.15")


def _times(ratio: Decimal | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """A static sizing rule: cover `quantile` of training demand times `factor`."""

    name: str
    description: str
    quantile: float
    factor: float


BASELINES: tuple[Baseline, ...] = (
    Baseline(name="krr-simple", description="KRR simple: p95 CPU", quantile=95.0, factor=1.0),
    Baseline(name="vpa-like", description="VPA-like: p90 + 15%", quantile=90.0, factor=1.15),
    Baseline(
        name="compute-optimizer-like",
        description="Compute Optimizer-like: p99.5 at <= 80%",
        quantile=99.5,
        factor=1 / 0.8,
    ),
    Baseline(
        name="static-peak", description="static peak at <= 90%", quantile=100.0, factor=1 / 0.9
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestRow:
    """One policy's realized cost and shortfall over the evaluation window."""

    series: str
    policy: str
    detail: str
    monthly_cost: Decimal
    cost_vs_oracle: Decimal | None
    breach_minutes: int
    breach_share: float
    task_hours: Decimal

    def to_json(self) -> dict[str, Any]:
        """The JSON row (money and ratios as decimal strings)."""
        return {
            "series": self.series,
            "policy": self.policy,
            "detail": self.detail,
            "monthly_cost": money_str(self.monthly_cost),
            "cost_vs_oracle": None if self.cost_vs_oracle is None else str(self.cost_vs_oracle),
            "breach_minutes": self.breach_minutes,
            "breach_share": round(self.breach_share, 6),
            "task_hours": str(self.task_hours.quantize(Decimal("0.01"))),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Rows for one series, the split used, and whether the optimizer met its target."""

    series: str
    train_minutes: int
    test_minutes: int
    rows: tuple[BacktestRow, ...]
    issues: tuple[Issue, ...] = ()

    def row(self, policy: str) -> BacktestRow | None:
        """The row of one policy."""
        return next((r for r in self.rows if r.policy == policy), None)

    @property
    def optimizer_within_target(self) -> bool | None:
        """Optimizer <= 1.15 x oracle cost and no more breach minutes than the best baseline."""
        opt, oracle = self.row("optimizer"), self.row("oracle")
        baselines = [self.row(b.name) for b in BASELINES]
        present = [b for b in baselines if b is not None]
        if opt is None or oracle is None or not present:
            return None
        cheap = opt.monthly_cost <= oracle.monthly_cost * TARGET_RATIO
        return cheap and opt.breach_minutes <= min(b.breach_minutes for b in present)

    @property
    def target_explanation(self) -> str:
        """Why the target was met or missed, from the bounds: a missed target that the best
        reactive policy in hindsight also misses needs foresight, not a better policy."""
        verdict = self.optimizer_within_target
        opt, reactive, hourly = (
            self.row("optimizer"),
            self.row("reactive-bound"),
            self.row("hourly-oracle"),
        )
        if verdict is None or opt is None:
            return "no verdict: the optimizer or the oracle has no row"
        if verdict:
            return "met"
        parts = [f"not met: the optimizer costs {_times(opt.cost_vs_oracle)} the oracle"]
        if reactive is not None and reactive.cost_vs_oracle is not None:
            if reactive.cost_vs_oracle > TARGET_RATIO:
                parts.append(
                    f"no reactive policy gets under {TARGET_RATIO}x: the best one in hindsight "
                    f"costs {_times(reactive.cost_vs_oracle)} at {reactive.breach_minutes} "
                    "breach minutes"
                )
            else:
                parts.append(
                    f"a reactive policy could: the best one in hindsight costs "
                    f"{_times(reactive.cost_vs_oracle)}"
                )
        if hourly is not None and hourly.cost_vs_oracle is not None:
            parts.append(f"a perfect hourly forecast costs {_times(hourly.cost_vs_oracle)}")
        return "; ".join(parts)

    @property
    def target_needs_foresight(self) -> bool | None:
        """True when the target is missed and even the reactive bound misses it."""
        verdict = self.optimizer_within_target
        reactive = self.row("reactive-bound")
        if verdict is None or reactive is None or reactive.cost_vs_oracle is None:
            return None
        return not verdict and reactive.cost_vs_oracle > TARGET_RATIO


def _sizes(config: ServiceConfig, sizes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    return list(sizes) or [(config.task_cpu_units, config.task_memory_mib)]


def oracle(
    load: Load,
    config: ServiceConfig,
    *,
    sizes: Sequence[tuple[int, int]] = (),
    settings: SimulationSettings | None = None,
    rates: FargateRates,
    min_capacity: int = 1,
) -> Bound:
    """The cheapest capacity keeping every minute at or under the breach threshold.

    A task serving minute t must launch `start_latency` earlier and is billed from then, so the
    billed count at minute s is the largest need over [s, s + latency].
    """
    settings = settings or SimulationSettings()
    return clairvoyant(
        load,
        _sizes(config, sizes),
        rates=rates,
        breach_threshold=settings.breach_threshold,
        start_latency_min=settings.start_latency_min,
        min_capacity=min_capacity,
    )


def static_size(
    train: Load,
    config: ServiceConfig,
    baseline: Baseline,
    *,
    sizes: Sequence[tuple[int, int]] = (),
    rates: FargateRates,
) -> tuple[int, int, int]:
    """(count, cpu units, memory MiB): the cheapest static fleet covering the baseline's level."""
    data = train.demand_vcpu[~np.isnan(train.demand_vcpu)]
    level = float(np.percentile(data, baseline.quantile)) * baseline.factor if data.size else 0.0
    best: tuple[Decimal, int, int, int] | None = None
    for cpu, mem in _sizes(config, sizes):
        count = max(1, math.ceil(level / (cpu / 1024.0) - 1e-9))
        price = rates.task_hour(cpu, mem) * count
        if best is None or price < best[0]:
            best = (price, count, cpu, mem)
    assert best is not None
    return best[1], best[2], best[3]


def _ratio(cost: Decimal, floor: Decimal) -> Decimal | None:
    if floor <= 0:
        return None
    return (cost / floor).quantize(RATIO_PLACES)


def _row(
    series: str, policy: str, detail: str, result: SimulationResult, floor: Decimal
) -> BacktestRow:
    return BacktestRow(
        series=series,
        policy=policy,
        detail=detail,
        monthly_cost=result.monthly_cost,
        cost_vs_oracle=_ratio(result.monthly_cost, floor),
        breach_minutes=result.breach_minutes,
        breach_share=result.breach_share,
        task_hours=result.task_hours,
    )


def _bound_row(series: str, bound: Bound, floor: Decimal, minutes: int) -> BacktestRow:
    return BacktestRow(
        series=series,
        policy=bound.name,
        detail=bound.detail,
        monthly_cost=bound.monthly_cost,
        cost_vs_oracle=_ratio(bound.monthly_cost, floor),
        breach_minutes=bound.breach_minutes,
        breach_share=bound.breach_minutes / minutes,
        task_hours=Decimal(bound.task_minutes) / Decimal(60),
    )


def describe_policies(config: ServiceConfig, policies: Sequence[Policy]) -> str:
    """Short text for the current setup."""
    parts = [
        f"{config.min_capacity}-{config.max_capacity} x "
        f"{config.task_cpu_units}/{config.task_memory_mib}"
    ]
    for p in policies:
        if isinstance(p, TargetTrackingPolicy):
            parts.append(f"target {p.target:g}%")
        else:
            parts.append(f"step {p.name}" + ("" if p.alarm else " (no alarm)"))
    return ", ".join(parts)


def backtest(
    load: Load,
    config: ServiceConfig,
    policies: Sequence[Policy],
    *,
    train_minutes: int,
    slo: SloSettings | None = None,
    space: SearchSpace | None = None,
    settings: SimulationSettings | None = None,
    rates: FargateRates | None = None,
) -> BacktestResult:
    """Fit on minutes [0, train_minutes), evaluate every row on the rest.

    Policies replay the whole series and are counted on the evaluation window only, so they
    enter it in the state they would really be in.
    """
    slo = slo or SloSettings()
    space = space or SearchSpace()
    settings = replace(
        settings or SimulationSettings(), breach_threshold=slo.breach_threshold, record_series=False
    )
    issues: list[Issue] = []
    if rates is None:
        rates, rate_issues = fargate_rates(config.region, config.arch)
        issues.extend(rate_issues)
        if rates is None:
            return BacktestResult(
                series=load.name, train_minutes=0, test_minutes=0, rows=(), issues=tuple(issues)
            )
    test_minutes = load.minutes - train_minutes
    present = np.count_nonzero(~np.isnan(load.demand_vcpu))
    if train_minutes < 60 or test_minutes < 60 or present < 120:
        issues.append(
            Issue(
                code=IssueCode.INSUFFICIENT_DATA,
                message=(
                    f"{load.minutes} minutes ({present} with data) cannot be split into "
                    f"{train_minutes} training and {test_minutes} evaluation minutes"
                ),
                where=load.name,
                severity=Severity.WARNING,
            )
        )
        return BacktestResult(
            series=load.name,
            train_minutes=max(train_minutes, 0),
            test_minutes=max(test_minutes, 0),
            rows=(),
            issues=tuple(issues),
        )
    train = load.slice(0, train_minutes)
    test = load.slice(train_minutes)
    sizes = _sizes(config, space.task_sizes)
    floor = oracle(test, config, sizes=sizes, settings=settings, rates=rates)
    rows: list[BacktestRow] = []

    current = simulate(
        load, config, policies, settings=settings, rates=rates, warmup_minutes=train_minutes
    )
    issues.extend(current.issues)
    rows.append(
        _row(load.name, "current", describe_policies(config, policies), current, floor.monthly_cost)
    )

    fitted = optimize(train, config, slo=slo, space=space, settings=settings, rates=rates)
    issues.extend(fitted.issues)
    if fitted.best is not None:
        cand: Candidate = fitted.best.candidate
        result = simulate(
            load,
            cand.config,
            [cand.policy],
            settings=settings,
            rates=rates,
            warmup_minutes=train_minutes,
        )
        rows.append(_row(load.name, "optimizer", cand.describe(), result, floor.monthly_cost))

    rows.append(_bound_row(load.name, floor, floor.monthly_cost, test_minutes))
    baseline_rows: list[BacktestRow] = []
    for baseline in BASELINES:
        count, cpu, mem = static_size(train, config, baseline, sizes=sizes, rates=rates)
        static = replace(
            config,
            task_cpu_units=cpu,
            task_memory_mib=mem,
            min_capacity=count,
            max_capacity=count,
            desired=count,
        )
        result = simulate(test, static, (), settings=settings, rates=rates)
        baseline_rows.append(
            _row(
                load.name,
                baseline.name,
                f"{baseline.description}: {count} x {cpu}/{mem}",
                result,
                floor.monthly_cost,
            )
        )
    # The bounds answer "could any policy have met the target?": the hourly oracle for a
    # perfect forecast, the reactive bound for a policy that only follows the load it has seen,
    # held to the breach budget the optimizer's verdict uses.
    budget = min(
        min(r.breach_minutes for r in baseline_rows),
        math.floor(slo.max_breach_share * test_minutes),
    )
    latency = settings.start_latency_min
    hourly = hourly_oracle(
        test,
        sizes,
        rates=rates,
        breach_threshold=slo.breach_threshold,
        start_latency_min=latency,
    )
    reactive = reactive_bound(
        test,
        sizes,
        rates=rates,
        max_breach_minutes=budget,
        breach_threshold=slo.breach_threshold,
        start_latency_min=latency,
    )
    for bound in (hourly, reactive):
        if bound is not None:
            rows.append(_bound_row(load.name, bound, floor.monthly_cost, test_minutes))
    rows.extend(baseline_rows)
    return BacktestResult(
        series=load.name,
        train_minutes=train_minutes,
        test_minutes=test_minutes,
        rows=tuple(rows),
        issues=tuple(issues),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetComparisonRow:
    """One target value replayed with everything else as configured."""

    label: str
    target: float
    task_hours: Decimal
    monthly_cost: Decimal
    breach_minutes: int
    breach_share: float

    def to_json(self) -> dict[str, Any]:
        """JSON form (money as a decimal string)."""
        return {
            "label": self.label,
            "target": self.target,
            "task_hours": str(self.task_hours.quantize(Decimal("0.01"))),
            "monthly_cost": money_str(self.monthly_cost),
            "breach_minutes": self.breach_minutes,
            "breach_share": round(self.breach_share, 6),
        }


def compare_targets(
    load: Load,
    config: ServiceConfig,
    current: TargetTrackingPolicy,
    targets: Sequence[float | str] = ("current", 60.0, "optimizer"),
    *,
    settings: SimulationSettings | None = None,
    slo: SloSettings | None = None,
    rates: FargateRates | None = None,
) -> list[TargetComparisonRow]:
    """Task-hours, cost and breach minutes of the same service at several target values.

    "current" is the policy's own target; "optimizer" is the cheapest target meeting the SLO
    with min/max, task size and cooldowns held as configured. Everything else is unchanged, so
    the rows isolate the target's effect (a lower target means more tasks, never fewer).
    """
    slo = slo or SloSettings()
    settings = replace(
        settings or SimulationSettings(), breach_threshold=slo.breach_threshold, record_series=False
    )
    if rates is None:
        found, _ = fargate_rates(config.region, config.arch)
        if found is None:
            return []
        rates = found
    rows: list[TargetComparisonRow] = []
    for item in targets:
        label = str(item)
        value: float | None
        if item == "current":
            value = current.target
        elif item == "optimizer":
            space = SearchSpace(
                targets=tuple(float(t) for t in range(30, 96, 5)),
                min_capacities=(config.min_capacity,),
                max_capacity=config.max_capacity,
                scale_out_cooldowns_s=(current.scale_out_cooldown_s,),
                scale_in_cooldowns_s=(current.scale_in_cooldown_s,),
                task_sizes=((config.task_cpu_units, config.task_memory_mib),),
                refine_top=0,
            )
            fitted = optimize(load, config, slo=slo, space=space, settings=settings, rates=rates)
            value = fitted.best.candidate.policy.target if fitted.best else None
        else:
            value = float(item)
            label = f"target {value:g}%"
        if value is None:
            continue
        policy = replace(current, target=value)
        result = simulate(load, config, [policy], settings=settings, rates=rates)
        rows.append(
            TargetComparisonRow(
                label=label,
                target=value,
                task_hours=result.task_hours,
                monthly_cost=result.monthly_cost,
                breach_minutes=result.breach_minutes,
                breach_share=result.breach_share,
            )
        )
    return rows
