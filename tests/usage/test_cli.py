"""`leanstack metrics` commands through the Typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from metrics_helpers import NAB
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.cli.metrics import parse_duration, sparkline

KEYS = {
    "resource",
    "metric",
    "statistic",
    "period_s",
    "points",
    "start",
    "end",
    "coverage",
    "mean",
    "p50",
    "p95",
    "p99",
    "max",
}


def test_import_then_show_json(tmp_path: Path) -> None:
    store = tmp_path / "m.duckdb"
    src = NAB / "rds_cpu_utilization_cc0c53.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2024-01-01,1\n2024-01-01 00:01,x\n")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "metrics",
            "import",
            str(src),
            str(bad),
            "--resource",
            "aws_db_instance.db",
            "--metric",
            "CPUUtilization",
            "--store",
            str(store),
        ],
    )
    # One bad value is counted and skipped, not a rejection of the file (audit item 10).
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 2 and "4032 rows" in result.stdout
    assert "2 rows, 1 skipped (1 bad value)" in result.stdout
    assert f"warning: {bad}:3: cannot parse value 'x'; skipped" in result.stderr
    shown = runner.invoke(app, ["metrics", "show", "--store", str(store), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    # The bad file's one good point is a series of its own (60 s, the default period).
    [row] = [r for r in json.loads(shown.stdout)["series"] if r["period_s"] == 300]
    assert set(row) == KEYS
    values = np.loadtxt(src, delimiter=",", skiprows=1, usecols=1, converters={0: lambda s: 0.0})
    assert row["points"] == values.size
    assert row["p95"] == pytest.approx(np.percentile(values, 95), rel=1e-12)
    assert row["max"] == values.max()
    assert row["period_s"] == 300 and row["start"].startswith("2014-02-14T14:30:00")


def test_synth_then_table(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text(
        'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n'
        'resource "aws_db_instance" "db" {\n  identifier = "db"\n'
        '  instance_class = "db.t3.micro"\n  allocated_storage = 20\n}\n'
    )
    runner = CliRunner()
    made = runner.invoke(
        app, ["metrics", "synth", str(stack), "--days", "2", "--seed", "1", "--start", "2026-01-05"]
    )
    assert made.exit_code == 0, made.output
    assert (stack / ".leanstack" / "metrics.duckdb").is_file()
    again = runner.invoke(
        app, ["metrics", "synth", str(stack), "--days", "2", "--seed", "1", "--start", "2026-01-05"]
    )
    assert " 0 added" in again.stdout  # reproducible: the same points again
    shown = runner.invoke(app, ["metrics", "show", str(stack)])
    assert shown.exit_code == 0
    assert "aws_db_instance.db" in shown.stdout and "CPUCreditBalance" in shown.stdout
    assert any(ch in shown.stdout for ch in "▁▂▃▄▅▆▇█")
    # Audit UX item: the table was 200 columns wide; it fits 100, with the window on the
    # resource's own line ("aws_db_instance.db  2026-01-05 00:00 -> 2026-01-06 23:59 UTC").
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "aws_db_instance.db  2026-01-05 00:00 -> 2026-01-06 23:59 UTC" in lines
    [credit] = [line for line in lines if line.split()[:2] == ["CPUCreditBalance", "avg"]]
    assert credit.split()[2:5] == ["60s", "2880", "100%"]
    # An unknown --resource is an error naming what is stored, not an empty table.
    unknown = runner.invoke(app, ["metrics", "show", str(stack), "--resource", "aws_sqs_queue.x"])
    assert unknown.exit_code == 2 and unknown.stdout == ""
    assert "aws_db_instance.db" in unknown.stderr and "'aws_sqs_queue.x'" in unknown.stderr
    missing = runner.invoke(app, ["metrics", "show", "--store", str(tmp_path / "none.duckdb")])
    assert missing.exit_code != 0 and "no metric store" in missing.stderr


def test_synth_into_copied_example_store_is_small(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "raptorflow"
    if not example.is_dir():
        return
    stack = tmp_path / "raptorflow"
    shutil.copytree(example, stack, ignore=shutil.ignore_patterns(".leanstack"))
    result = CliRunner().invoke(
        app,
        ["metrics", "synth", str(stack), "--days", "14", "--seed", "7", "--start", "2026-11-02"],
    )
    assert result.exit_code == 0, result.output
    assert (stack / ".leanstack" / "metrics.duckdb").stat().st_size < 6 * 2**20


def test_helpers() -> None:
    assert parse_duration("14d").days == 14
    assert parse_duration("36h").total_seconds() == 36 * 3600
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([1.0, float("nan")], 2) == "▁ "


def test_failed_import_leaves_no_store_and_exits_1(tmp_path: Path) -> None:
    # Audit item 13: a failed import used to leave an empty (800 KB) store behind.
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    allbad = tmp_path / "allbad.csv"
    allbad.write_text("timestamp,value\nnot-a-date,1\n")
    store = tmp_path / "new" / ".leanstack" / "m.duckdb"
    runner = CliRunner()
    for f in (bad, allbad):
        args = ["--resource", "aws_ecs_service.a", "--metric", "CPUUtilization"]
        result = runner.invoke(app, ["metrics", "import", str(f), "--store", str(store), *args])
        assert result.exit_code == 1, result.output
        assert not store.exists() and not (tmp_path / "new").exists()
    # A store that existed before is kept, whatever happens.
    good = tmp_path / "good.csv"
    good.write_text("timestamp,value\n2024-01-01,1\n")
    args = ["--resource", "aws_ecs_service.a", "--metric", "CPUUtilization"]
    ok = runner.invoke(app, ["metrics", "import", str(good), "--store", str(store), *args])
    assert ok.exit_code == 0 and store.exists()
    again = runner.invoke(app, ["metrics", "import", str(bad), "--store", str(store), *args])
    assert again.exit_code == 1 and store.exists()


def test_import_names_default_store_and_missing_file_is_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.csv"
    good.write_text("timestamp,value\n2024-01-01,1\n")
    args = ["--resource", "aws_ecs_service.a", "--metric", "CPUUtilization"]
    runner = CliRunner()
    result = runner.invoke(app, ["metrics", "import", str(good), *args])
    assert result.exit_code == 0, result.output
    default = tmp_path / ".leanstack" / "metrics.duckdb"
    assert f"store: {default}" in result.stderr.splitlines()
    assert default.exists()
    missing = runner.invoke(app, ["metrics", "import", str(tmp_path / "nope.csv"), *args])
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    # --period 0 was silently replaced by the inferred period.
    zero = runner.invoke(app, ["metrics", "import", str(good), *args, "--period", "0"])
    assert zero.exit_code == 2 and "--period 0" in zero.stderr


def test_show_without_store_is_2(tmp_path: Path) -> None:
    # Audit item 4: "no metric store" is 2 everywhere (it was 1 here, 2 in estimate/analyze).
    result = CliRunner().invoke(app, ["metrics", "show", "--store", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert "no metric store" in result.stderr and not (tmp_path / "x.duckdb").exists()


def test_store_that_is_not_a_duckdb_file_is_one_plain_line(tmp_path: Path) -> None:
    # DuckDB said "Catalog Error: Cannot launch in-memory database in read-only mode!".
    other = tmp_path / "data.csv"
    other.write_text("timestamp,value\n2024-01-01,1\n")
    runner = CliRunner()
    shown = runner.invoke(app, ["metrics", "show", "--store", str(other)])
    assert shown.exit_code == 2
    assert (
        shown.stderr.strip() == f"error: {other}: not a metric store (not a DuckDB database file)"
    )
    args = ["--resource", "aws_ecs_service.a", "--metric", "CPUUtilization"]
    imp = runner.invoke(app, ["metrics", "import", str(other), "--store", str(other), *args])
    assert imp.exit_code == 2 and "not a metric store" in imp.stderr
    assert other.read_text() == "timestamp,value\n2024-01-01,1\n"


def test_synth_on_a_stack_that_cannot_be_parsed_is_2_and_writes_nothing(tmp_path: Path) -> None:
    # As estimate/analyze: a syntax error or a directory without .tf files stops the command.
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text('resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n')
    runner = CliRunner()
    broken = runner.invoke(app, ["metrics", "synth", str(stack), "--days", "1"])
    assert broken.exit_code == 2 and "syntax error" in broken.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["metrics", "synth", str(empty), "--days", "1"])
    assert nothing.exit_code == 2 and "no Terraform files" in nothing.stderr
    assert not (stack / ".leanstack").exists() and not (empty / ".leanstack").exists()
