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
from leanstack.simulate.backtest import BacktestResult, backtest
from leanstack.simulate.ecs import Load
from leanstack.simulate.optimizer import SearchSpace, SloSettings, memory_for
from leanstack.simulate.policies import (
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
        "CPU only: memory is scaled with CPU (same GB per vCPU) because no memory series is used",
        "oracle: clairvoyant minimum capacity at <= breach threshold each minute, "
        "billed from launch",
    ]
    index: dict[str, Resource] = {}
    if path.is_dir() and (path / STORE_RELPATH).is_file():
        index, stack_issues = _stack_scaling(path)
        issues.extend(stack_issues)
    results: list[BacktestResult] = []
    for s in series:
        config, policies, recorded = _setup(s, index, options, issues)
        settings = SimulationSettings(
            start_latency_s=options.start_latency_s, breach_threshold=options.slo.breach_threshold
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
        mem_per_vcpu = config.task_memory_mib / (config.task_cpu_units / 1024.0)
        sizes = tuple(
            sorted(
                {(cpu, memory_for(cpu, mem_per_vcpu)) for cpu in options.candidate_cpu}
                | {(config.task_cpu_units, config.task_memory_mib)}
            )
        )
        result = backtest(
            load,
            config,
            policies,
            train_minutes=train_minutes,
            slo=options.slo,
            space=SearchSpace(task_sizes=sizes),
            settings=settings,
        )
        results.append(result)
        issues.extend(result.issues)
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
