"""Backtest inputs: resampling, CSV formats, and a stack with a real DuckDB metric store."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from leanstack.simulate import BacktestOptions, run_backtest
from leanstack.simulate.series_io import load_inputs, read_csv, resample_minutes
from leanstack.usage.series import MetricSeries
from leanstack.usage.store import MetricStore

# The NAB series are kept once, with their SOURCE.txt and licence, in the metrics fixtures.
FIXTURES = (
    Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "nab" / "realAWSCloudwatch"
)


def test_five_minute_points_are_held_for_five_minutes() -> None:
    base = 1_700_000_000 - 1_700_000_000 % 60
    ts = [base, base + 300, base + 600, base + 1500]  # a gap after the third point
    start, values = resample_minutes(ts, [10.0, 20.0, 30.0, 40.0])
    assert start == base
    assert list(values[:15]) == [10.0] * 5 + [20.0] * 5 + [30.0] * 5
    assert np.isnan(values[15:25]).all()  # longer than one period: no data, not a guess
    assert (values[25:30] == 40.0).all()


def test_nab_file_resamples_to_one_minute_with_the_same_values() -> None:
    path = FIXTURES / "ec2_cpu_utilization_77c1ca.csv"
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=1)
    series, issues = read_csv(path)
    assert not issues
    s = series[0]
    assert s.start == datetime(2014, 4, 2, 14, 25, tzinfo=UTC)
    present = s.cpu_pct[~np.isnan(s.cpu_pct)]
    assert set(np.unique(present)) <= set(np.unique(raw))
    assert np.isclose(present.max(), raw.max()) and np.isclose(present.min(), raw.min())
    # every 5-minute point held 5 times (no gaps in this file)
    assert present.size == raw.size * 5


def test_long_format_with_requests(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    lines = ["timestamp,resource,metric,value,unit,statistic,period"]
    for m in range(120):
        stamp = f"2026-01-01T{m // 60:02d}:{m % 60:02d}:00Z"
        lines.append(f"{stamp},aws_ecs_service.api,CPUUtilization,{40 + m % 7},Percent,Average,60")
        lines.append(f"{stamp},aws_ecs_service.api,RequestCount,{100 + m},Count,Sum,60")
    path.write_text("\n".join(lines) + "\n")
    series, issues = read_csv(path)
    assert not issues and len(series) == 1
    s = series[0]
    assert s.requests is not None
    assert s.cpu_pct[3] == 43 and s.requests[5] == 105


def test_non_cpu_file_is_skipped_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "net.csv"
    path.write_text("timestamp,value\n2026-01-01 00:00:00,250000\n2026-01-01 00:05:00,260000\n")
    series, issues = read_csv(path)
    assert series == [] and len(issues) == 1 and str(path) in issues[0].line()


def test_directory_reads_every_csv(tmp_path: Path) -> None:
    for name in ("ec2_cpu_utilization_77c1ca.csv", "ec2_cpu_utilization_825cc2.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    series, issues = load_inputs(tmp_path)
    assert sorted(s.name for s in series) == [
        "ec2_cpu_utilization_77c1ca",
        "ec2_cpu_utilization_825cc2",
    ]
    assert not issues


def test_directory_reads_subdirectories_but_not_hidden_ones(tmp_path: Path) -> None:
    nested = tmp_path / "realAWSCloudwatch"
    hidden = tmp_path / ".cache"
    nested.mkdir()
    hidden.mkdir()
    shutil.copy(FIXTURES / "ec2_cpu_utilization_77c1ca.csv", nested)
    shutil.copy(FIXTURES / "ec2_cpu_utilization_825cc2.csv", hidden)
    series, issues = load_inputs(tmp_path)
    assert [s.name for s in series] == ["ec2_cpu_utilization_77c1ca"]
    assert not issues


def test_cli_empty_directory_fails_with_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from leanstack.cli import app

    result = CliRunner().invoke(app, ["backtest", str(tmp_path)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(tmp_path) in lines[0] and ":0" not in lines[0]


STACK = """
resource "aws_ecs_cluster" "main" {
  name = "main"
}
resource "aws_ecs_task_definition" "api" {
  family = "api"
  cpu    = "512"
  memory = "1024"
  container_definitions = "[]"
}
resource "aws_ecs_service" "api" {
  name            = "api"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 3
}
resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 9
}
resource "aws_appautoscaling_policy" "cpu" {
  name               = "cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    target_value = 55
  }
}
"""


def test_stack_with_metric_store_uses_terraform_policy(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(STACK)
    minutes = 3 * 1440
    rng = np.random.default_rng(4)
    t = np.arange(minutes)
    cpu = np.clip(40 + 20 * np.sin(2 * np.pi * t / 1440) + rng.normal(0, 3, minutes), 0, 100)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    with MetricStore(tmp_path / ".leanstack" / "metrics.duckdb") as store:
        store.upsert_series(
            [
                MetricSeries(
                    resource="aws_ecs_service.api",
                    metric="CPUUtilization",
                    statistic="Average",
                    period_s=60,
                    start=start,
                    values=cpu,
                    unit="Percent",
                ),
            ]
        )
    series, issues = load_inputs(tmp_path)
    assert not issues and [s.name for s in series] == ["aws_ecs_service.api"]
    assert np.allclose(series[0].cpu_pct, cpu)
    report = run_backtest(tmp_path, BacktestOptions(train_days=1.5, candidate_cpu=(512,)))
    assert len(report.results) == 1
    current = report.results[0].row("current")
    assert (
        current is not None and "target 55%" in current.detail and current.detail.startswith("2-9")
    )
    data = report.to_json()
    assert {r["policy"] for r in data["rows"]} >= {"current", "optimizer", "oracle"}


def test_backtest_keeps_analyzes_floor_of_two_tasks(tmp_path: Path) -> None:
    # A quiet service (2 tasks at 10% CPU) that one task could carry: like analyze, the
    # optimizer keeps two for a service configured with at least two; lowering the floor to
    # one lets it drop to one.
    (tmp_path / "main.tf").write_text(STACK)
    cpu = np.full(3 * 1440, 10.0)
    with MetricStore(tmp_path / ".leanstack" / "metrics.duckdb") as store:
        store.upsert_series(
            [
                MetricSeries(
                    resource="aws_ecs_service.api",
                    metric="CPUUtilization",
                    statistic="Average",
                    period_s=60,
                    start=datetime(2026, 2, 1, tzinfo=UTC),
                    values=cpu,
                    unit="Percent",
                )
            ]
        )

    def optimizer_range(floor: int) -> str:
        options = BacktestOptions(train_days=1.5, candidate_cpu=(512,), min_capacity_floor=floor)
        row = run_backtest(tmp_path, options).results[0].row("optimizer")
        assert row is not None
        return row.detail.split(", ")[1]

    assert optimizer_range(2).startswith("2-")
    assert optimizer_range(1).startswith("1-")


def test_candidate_sizes_keep_memory_ratio_and_recorded_peak() -> None:
    from leanstack.simulate import ServiceConfig
    from leanstack.simulate.run import candidate_sizes

    cfg = ServiceConfig(task_cpu_units=512, task_memory_mib=1024)
    plain = dict(candidate_sizes(cfg, (256, 512, 1024), None))
    assert plain == {256: 512, 512: 1024, 1024: 2048}
    # 57 % of 1024 MiB peak per task + 15 % = 671 MiB: no task may get less.
    peak = dict(candidate_sizes(cfg, (256, 512, 1024), 57.0))
    assert peak[256] == 1024 and peak[512] == 1024 and peak[1024] == 2048
    assert all(mib >= 0.57 * 1024 * 1.15 for mib in peak.values())


def test_raptorflow_lowering_the_target_to_60_does_not_lower_cost(
    tmp_path: Path, repo_root: Path
) -> None:
    import shutil

    from typer.testing import CliRunner

    from leanstack.cli import app
    from leanstack.simulate.run import compare_targets_for_stack

    stack = tmp_path / "raptorflow"
    shutil.copytree(
        repo_root / "examples" / "raptorflow", stack, ignore=shutil.ignore_patterns(".leanstack")
    )
    res = CliRunner().invoke(app, ["metrics", "synth", str(stack), "--days", "14", "--seed", "1"])
    assert res.exit_code == 0, res.output
    comparisons, issues = compare_targets_for_stack(stack)
    assert not [i for i in issues if i.severity == "error"]
    api = next(c for c in comparisons if c.address == "aws_ecs_service.api")
    rows = {r.label: r for r in api.rows}
    assert rows["current"].target == 70.0
    assert rows["target 60%"].monthly_cost >= rows["current"].monthly_cost
    assert rows["target 60%"].task_hours >= rows["current"].task_hours
    # The optimizer may only cost more than the current policy when that policy misses the SLO.
    assert (
        rows["optimizer"].monthly_cost <= rows["current"].monthly_cost
        or rows["optimizer"].breach_minutes < rows["current"].breach_minutes
    )
