"""Optimizer, oracle, baselines, the backtest on NAB series and the `leanstack backtest` CLI."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.simulate import (
    BASELINES,
    Load,
    SearchSpace,
    ServiceConfig,
    SimulationSettings,
    SloSettings,
    TargetTrackingPolicy,
    backtest,
    fargate_rates,
    optimize,
    oracle,
    simulate,
)
from leanstack.simulate.series_io import read_csv

# The NAB series are kept once, with their SOURCE.txt and licence, in the metrics fixtures.
FIXTURES = (
    Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "nab" / "realAWSCloudwatch"
)
NAB_825 = FIXTURES / "ec2_cpu_utilization_825cc2.csv"


def _daily_load(days: int = 4, tasks: int = 6) -> Load:
    rng = np.random.default_rng(2)
    t = np.arange(days * 1440)
    util = np.clip(45 + 30 * np.sin(2 * np.pi * t / 1440) + rng.normal(0, 3, t.size), 0, 100)
    return Load.from_utilization(util, tasks=tasks, task_cpu_units=512, name="daily")


def test_optimizer_choice_meets_slo_and_is_verified_by_reference_simulator() -> None:
    load = _daily_load()
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=30, desired=6
    )
    slo = SloSettings()
    result = optimize(load, cfg, slo=slo, space=SearchSpace(max_candidates=60, refine_top=2))
    assert result.best is not None and result.meets_slo
    best = result.best
    replay = simulate(
        load,
        best.candidate.config,
        [best.candidate.policy],
        settings=SimulationSettings(record_series=False),
    )
    assert replay.breach_minutes == best.breach_minutes
    assert replay.monthly_cost == best.monthly_cost
    assert best.breach_minutes <= slo.max_breach_share * load.minutes
    # Cheapest among the feasible candidates it scored.
    feasible = [s for s in result.scores if s.meets_slo]
    assert best.monthly_cost == min(s.monthly_cost for s in feasible)


def test_optimizer_reports_insufficient_data_instead_of_raising() -> None:
    load = Load.from_utilization(np.full(30, 50.0), tasks=1, task_cpu_units=512, name="short")
    result = optimize(load, ServiceConfig())
    assert result.best is None
    assert any(i.code == "insufficient_data" for i in result.issues)


def test_oracle_is_the_floor_for_breach_free_static_fleets() -> None:
    load = _daily_load()
    rates, _ = fargate_rates()
    assert rates is not None
    cfg = ServiceConfig(task_cpu_units=512, task_memory_mib=1024)
    floor = oracle(load, cfg, rates=rates)
    # Independent check: at 90 % per task and one minute of start latency.
    need = np.maximum(np.ceil(load.demand_vcpu / (0.5 * 0.9) - 1e-9), 1)
    billed = np.maximum(need, np.append(need[1:], need[-1]))
    assert floor.task_minutes == int(billed.sum())
    peak = int(need.max())
    static = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=peak, max_capacity=peak, desired=peak
    )
    fleet = simulate(load, static, [], rates=rates)
    assert fleet.breach_minutes == 0
    assert floor.monthly_cost <= fleet.monthly_cost


def test_backtest_on_nab_series_has_every_row_and_consistent_ratios() -> None:
    series, issues = read_csv(NAB_825)
    assert not issues and len(series) == 1
    s = series[0]
    load = Load.from_utilization(s.cpu_pct, tasks=4, task_cpu_units=512, start=s.start, name=s.name)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=20, desired=4
    )
    result = backtest(
        load,
        cfg,
        [TargetTrackingPolicy(target=70)],
        train_minutes=7 * 1440,
        space=SearchSpace(
            task_sizes=((256, 512), (512, 1024), (1024, 2048)), max_candidates=80, refine_top=2
        ),
    )
    policies = [r.policy for r in result.rows]
    assert policies == [
        "current",
        "optimizer",
        "oracle",
        "hourly-oracle",
        "reactive-bound",
        *[b.name for b in BASELINES],
    ]
    oracle_row = result.row("oracle")
    assert oracle_row is not None and oracle_row.breach_minutes == 0
    for row in result.rows:
        assert row.cost_vs_oracle == (row.monthly_cost / oracle_row.monthly_cost).quantize(
            Decimal("0.001")
        )
        assert row.breach_share == pytest.approx(row.breach_minutes / result.test_minutes)
        if row.breach_minutes == 0:
            assert row.monthly_cost >= oracle_row.monthly_cost
    # KRR simple sizes at p95 of demand with no headroom: on this flat-and-high series it breaches
    krr = result.row("krr-simple")
    assert krr is not None and krr.breach_minutes > 0


def test_cli_backtest_table_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(app, ["backtest", str(NAB_825), "--tasks", "4", "--sizes", "256,512"])
    assert table.exit_code == 0, table.output
    for name in ("current", "optimizer", "oracle", "krr-simple", "vpa-like", "static-peak"):
        assert name in table.stdout
    assert table.stdout.count("clairvoyant, ") == 1  # the table is printed once
    out = tmp_path / "bt.json"
    res = runner.invoke(
        app,
        [
            "backtest",
            str(NAB_825),
            "--tasks",
            "4",
            "--sizes",
            "256,512",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert {r["policy"] for r in rows} >= {"current", "optimizer", "oracle"}
    for r in rows:
        assert set(r) >= {
            "series",
            "policy",
            "monthly_cost",
            "cost_vs_oracle",
            "breach_minutes",
            "breach_share",
        }
        Decimal(r["monthly_cost"])  # a decimal string
        assert r["monthly_cost"].count(".") == 1 and len(r["monthly_cost"].split(".")[1]) == 2
    oracle_cost = Decimal(next(r["monthly_cost"] for r in rows if r["policy"] == "oracle"))
    assert oracle_cost > 0


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2026-01-01 00:00:00,5\nnot-a-time,7\n")
    res = CliRunner().invoke(app, ["backtest", str(bad)])
    assert res.exit_code != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and f"{bad}:3" in lines[0]
    assert "Traceback" not in res.output


def test_cli_missing_path_fails_cleanly(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["backtest", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_recorded_count_and_size_set_the_demand() -> None:
    series, _ = read_csv(NAB_825)
    s = series[0]
    one = Load.from_utilization(s.cpu_pct, tasks=1, task_cpu_units=512)
    four = Load.from_utilization(s.cpu_pct, tasks=4, task_cpu_units=1024)
    ok = ~np.isnan(one.demand_vcpu)
    assert np.allclose(four.demand_vcpu[ok], 8 * one.demand_vcpu[ok])
    assert math.isclose(float(np.nanmax(one.demand_vcpu)), float(np.nanmax(s.cpu_pct)) / 100 * 0.5)


def test_requests_per_task_ceiling_adds_tasks_when_cpu_alone_would_not() -> None:
    minutes = 2 * 1440
    util = np.full(minutes, 20.0)  # CPU is light ...
    requests = np.full(minutes, 900.0)  # ... but each minute brings 900 requests
    load = Load.from_utilization(util, tasks=2, task_cpu_units=512, requests=requests, name="rq")
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=20, desired=2
    )
    space = SearchSpace(min_capacities=(1, 2, 3, 4, 5, 6), refine_top=0)
    free = optimize(load, cfg, space=space)
    capped = optimize(load, cfg, space=space, slo=SloSettings(requests_per_task_ceiling=200.0))
    assert free.best is not None and capped.best is not None and capped.meets_slo
    # 900 requests at <= 200 per task needs 5 tasks, whatever the CPU says.
    assert capped.best.candidate.config.min_capacity >= math.ceil(900 / 200)
    assert capped.best.request_violations <= 0.001 * minutes
    assert free.best.monthly_cost < capped.best.monthly_cost


def test_default_search_sizes_min_capacity_for_the_request_ceiling() -> None:
    minutes = 1440
    load = Load.from_utilization(
        np.full(minutes, 20.0),
        tasks=2,
        task_cpu_units=512,
        requests=np.full(minutes, 900.0),
        name="rq",
    )
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=20, desired=2
    )
    result = optimize(load, cfg, slo=SloSettings(requests_per_task_ceiling=200.0))
    assert result.meets_slo and result.best is not None
    assert result.best.candidate.config.min_capacity == math.ceil(900 / 200)


def test_cli_short_series_is_a_not_enough_data_result(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    lines = ["timestamp,value"] + [
        f"2026-01-01 {m // 60:02d}:{m % 60:02d}:00,50" for m in range(0, 100, 5)
    ]
    short.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(app, ["backtest", str(short)])
    assert res.exit_code == 0
    assert "not enough data" in res.stdout and "Traceback" not in res.output


def test_cli_deployments_hold_back_scale_in(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["backtest", str(FIXTURES / "ec2_cpu_utilization_77c1ca.csv"), "--sizes", "256"]
    plain = runner.invoke(app, [*base, "--format", "json"])
    frozen = runner.invoke(
        app, [*base, "--format", "json", "--deploy", "rate(2 hours)", "--deploy-minutes", "60"]
    )
    assert plain.exit_code == 0 and frozen.exit_code == 0, frozen.output

    def current(output: str) -> dict[str, object]:
        rows = json.loads(output)["rows"]
        return next(r for r in rows if r["policy"] == "current")

    # Half of every day frozen: the current policy scales in later, so it runs more task-hours.
    assert Decimal(str(current(frozen.output)["task_hours"])) > Decimal(
        str(current(plain.output)["task_hours"])
    )
    bad = runner.invoke(app, [*base, "--deploy", "cron(bad)"])
    assert bad.exit_code != 0
    lines = [line for line in bad.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cron(bad)" in lines[0]
