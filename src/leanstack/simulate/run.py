"""`leanstack backtest` as a library call: inputs in, one report of rows per series out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from leanstack.catalog import CATALOG_DATE
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.resource import Resource
from leanstack.simulate.backtest import (
    BacktestResult,
    TargetComparisonRow,
    backtest,
    compare_targets,
)
from leanstack.simulate.ecs import Load
from leanstack.simulate.optimizer import (
    DEFAULT_MIN_CAPACITY_FLOOR,
    SearchSpace,
    SloSettings,
    memory_for,
)
from leanstack.simulate.policies import (
    Deployment,
    Policy,
    ServiceConfig,
    SimulationSettings,
    TargetTrackingPolicy,
)
from leanstack.simulate.series_io import STORE_RELPATH, CpuSeries, load_inputs
from leanstack.simulate.terraform import policies_from_terraform


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestOptions:
    """CLI knobs. None means "from Terraform when there is a stack, else the default".

    Defaults for a bare series: recorded on 1 task of 512 CPU / 1024 MiB, current policy target
    tracking at 70 % with min 1 and max 10. `train_days` None: 7 days, or half the series when
    it is shorter than 10 days.
    """

    train_days: float | None = None
    task_cpu_units: int | None = None
    task_memory_mib: int | None = None
    tasks: float | None = None
    target: float | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    candidate_cpu: tuple[int, ...] = (256, 512, 1024, 2048)
    start_latency_s: int = 60
    slo: SloSettings = field(default_factory=SloSettings)
    deployments: tuple[Deployment, ...] = ()
    min_capacity_floor: int = DEFAULT_MIN_CAPACITY_FLOOR


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestReport:
    """Every series' backtest, with the issues met on the way."""

    source: str
    results: tuple[BacktestResult, ...]
    issues: tuple[Issue, ...]
    catalog_date: str = CATALOG_DATE
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """`rows[]` {series, policy, monthly_cost, cost_vs_oracle, breach_minutes, breach_share}."""
        return {
            "source": self.source,
            "catalog_date": self.catalog_date,
            "rows": [row.to_json() for r in self.results for row in r.rows],
            "series": [
                {
                    "series": r.series,
                    "train_minutes": r.train_minutes,
                    "test_minutes": r.test_minutes,
                    "optimizer_within_target": r.optimizer_within_target,
                    "target_needs_foresight": r.target_needs_foresight,
                    "target_explanation": r.target_explanation,
                }
                for r in self.results
            ],
            "notes": list(self.notes),
            "issues": [
                {"where": i.where, "message": i.message, "severity": str(i.severity)}
                for i in self.issues
            ],
        }


def _stack_scaling(root: Path) -> tuple[dict[str, Resource], list[Issue]]:
    if not any(root.glob("*.tf")):
        return {}, []
    from leanstack.terraform import load_stack

    loaded = load_stack(root)
    return {r.address: r for r in loaded.resources}, list(loaded.issues)


def _fill(
    tasks: np.ndarray[Any, np.dtype[np.float64]], fallback: float
) -> np.ndarray[Any, np.dtype[np.float64]]:
    out = tasks.copy()
    present = out[~np.isnan(out)]
    out[np.isnan(out)] = float(np.median(present)) if present.size else fallback
    return out


def run_backtest(path: Path, options: BacktestOptions | None = None) -> BacktestReport:
    """Load the series at `path`, backtest each, and collect the rows."""
    options = options or BacktestOptions()
    series, issues = load_inputs(path)
    notes = [
        "memory: same GB per vCPU as today, and never under the recorded peak per task + 15% "
        "when a MemoryUtilization series exists",
        "oracle: clairvoyant minimum capacity at <= breach threshold each minute, "
        "billed from launch",
        "hourly-oracle: the same, but capacity is set once per clock hour (a perfect forecast "
        "at predictive scaling's granularity)",
        "reactive-bound: the cheapest policy that follows the true demand it has already seen "
        "(acting at once, holding peaks), settings chosen in hindsight, within the breach "
        "minutes of the best baseline; a target it misses needs foresight",
    ]
    index: dict[str, Resource] = {}
    if path.is_dir() and (path / STORE_RELPATH).is_file():
        index, stack_issues = _stack_scaling(path)
        issues.extend(stack_issues)
    results: list[BacktestResult] = []
    for s in series:
        config, policies, recorded = _setup(s, index, options, issues)
        settings = SimulationSettings(
            start_latency_s=options.start_latency_s,
            breach_threshold=options.slo.breach_threshold,
            deployments=options.deployments,
        )
        tasks_arg: float | np.ndarray[Any, np.dtype[np.float64]] = recorded
        if s.tasks is not None and options.tasks is None:
            tasks_arg = _fill(s.tasks, recorded)
        load = Load.from_utilization(
            s.cpu_pct,
            tasks=tasks_arg,
            task_cpu_units=config.task_cpu_units,
            start=s.start,
            name=s.name,
            requests=s.requests,
        )
        train_minutes = _train_minutes(s.minutes, options.train_days)
        sizes = candidate_sizes(config, options.candidate_cpu, s.memory_peak_pct)
        # The same floor as analyze: never below two tasks for a service that runs two today.
        floor = min(options.min_capacity_floor, config.min_capacity)
        result = backtest(
            load,
            config,
            policies,
            train_minutes=train_minutes,
            slo=options.slo,
            space=SearchSpace(task_sizes=sizes, min_capacity_floor=floor),
            settings=settings,
        )
        results.append(result)
        # The current policy's replay and the optimizer's meet the same schedule problems.
        issues.extend(i for i in result.issues if i not in issues)
    if not series and not any(i.severity is Severity.ERROR for i in issues):
        issues.append(
            Issue(
                code=IssueCode.INSUFFICIENT_DATA,
                message="no CPU series found",
                where=str(path),
                severity=Severity.ERROR,
            )
        )
    return BacktestReport(
        source=str(path), results=tuple(results), issues=tuple(issues), notes=tuple(notes)
    )


def candidate_sizes(
    config: ServiceConfig, cpus: tuple[int, ...], memory_peak_pct: float | None
) -> tuple[tuple[int, int], ...]:
    """(cpu, memory) pairs for the optimizer and baselines, plus the current size.

    Memory keeps the current GB per vCPU; with a recorded memory peak, no task gets less than
    that peak per task + 15 % (KRR "simple"), since part of a task's memory does not shrink
    with the work it is given.
    """
    per_vcpu = config.task_memory_mib / (config.task_cpu_units / 1024.0)
    floor = 0.0
    if memory_peak_pct is not None:
        floor = memory_peak_pct / 100.0 * config.task_memory_mib * 1.15
    out = {(config.task_cpu_units, config.task_memory_mib)}
    for cpu in cpus:
        wanted = max(per_vcpu, floor / (cpu / 1024.0))
        mib = memory_for(cpu, wanted)
        if mib >= floor:
            out.add((cpu, mib))
    return tuple(sorted(out))


def _train_minutes(minutes: int, train_days: float | None) -> int:
    if train_days is None:
        return 7 * 1440 if minutes >= 10 * 1440 else minutes // 2
    return min(minutes, math.floor(train_days * 1440))


def _setup(
    s: CpuSeries, index: dict[str, Resource], options: BacktestOptions, issues: list[Issue]
) -> tuple[ServiceConfig, list[Policy], float]:
    """(service config, current policies, task count the series was recorded at)."""
    config = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=10, desired=1
    )
    policies: list[Policy] = [TargetTrackingPolicy(name="current", target=70.0)]
    service = index.get(s.name)
    if service is not None and service.type == "aws_ecs_service":
        scaling = policies_from_terraform(service, index)
        issues.extend(scaling.issues)
        config = scaling.config
        policies = list(scaling.policies)
    if options.task_cpu_units is not None:
        config = replace(config, task_cpu_units=options.task_cpu_units)
        if options.task_memory_mib is None:
            config = replace(config, task_memory_mib=memory_for(options.task_cpu_units, 2048))
    if options.task_memory_mib is not None:
        config = replace(config, task_memory_mib=options.task_memory_mib)
    if options.min_capacity is not None:
        config = replace(config, min_capacity=options.min_capacity)
    if options.max_capacity is not None:
        config = replace(config, max_capacity=max(options.max_capacity, config.min_capacity))
    recorded = options.tasks if options.tasks is not None else float(max(config.desired, 1))
    config = replace(
        config, desired=min(max(round(recorded), config.min_capacity), config.max_capacity)
    )
    if options.target is not None:
        current = next((p for p in policies if isinstance(p, TargetTrackingPolicy)), None)
        if current is None:
            policies.append(TargetTrackingPolicy(name="current", target=options.target))
        else:
            policies = [replace(p, target=options.target) if p is current else p for p in policies]
    return config, policies, recorded


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTargetComparison:
    """`compare_targets` rows for one ECS service of a stack."""

    address: str
    current_target: float
    rows: tuple[TargetComparisonRow, ...]
    window_minutes: int


def compare_targets_for_stack(
    path: Path,
    targets: tuple[float | str, ...] = ("current", 60.0, "optimizer"),
    *,
    settings: SimulationSettings | None = None,
) -> tuple[list[ServiceTargetComparison], list[Issue]]:
    """For each ECS service with a CPU target-tracking policy and a recorded CPU series in the
    stack's metric store, replay the whole window at each target (see `compare_targets`)."""
    issues: list[Issue] = []
    store = path / STORE_RELPATH
    if not store.is_file():
        return [], [
            Issue(
                code=IssueCode.INSUFFICIENT_DATA,
                where=str(path),
                message="no .leanstack/metrics.duckdb: record or synthesize load first",
            )
        ]
    series, read_issues = load_inputs(path)
    issues.extend(read_issues)
    index, stack_issues = _stack_scaling(path)
    issues.extend(stack_issues)
    out: list[ServiceTargetComparison] = []
    for s in series:
        service = index.get(s.name)
        if service is None or service.type != "aws_ecs_service":
            continue
        scaling = policies_from_terraform(service, index)
        issues.extend(scaling.issues)
        current = scaling.target_tracking
        if current is None:
            continue
        config = scaling.config
        recorded: float | np.ndarray[Any, np.dtype[np.float64]] = float(max(config.desired, 1))
        if s.tasks is not None:
            recorded = _fill(s.tasks, float(max(config.desired, 1)))
        load = Load.from_utilization(
            s.cpu_pct,
            tasks=recorded,
            task_cpu_units=config.task_cpu_units,
            start=s.start,
            name=s.name,
            requests=s.requests,
        )
        rows = compare_targets(load, config, current, targets, settings=settings)
        out.append(
            ServiceTargetComparison(
                address=s.name,
                current_target=current.target,
                rows=tuple(rows),
                window_minutes=load.minutes,
            )
        )
    return out, issues
