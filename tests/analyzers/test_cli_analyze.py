"""`leanstack analyzers` and `leanstack analyze` through the real CLI, with a real DuckDB store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from analyzer_helpers import series
from typer.testing import CliRunner

from leanstack.analyzers import registry
from leanstack.cli import app
from leanstack.usage.store import MetricStore, default_store_path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "raptorflow"
SVC = "aws_ecs_service.api"
DB = "module.rds.aws_db_instance.main"
REC_KEYS = {
    "id",
    "analyzer",
    "address",
    "phase",
    "changes",
    "monthly_cost_before",
    "monthly_cost_after",
    "monthly_savings",
    "confidence",
    "evidence",
    "risks",
    "exclusive_group",
}


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/raptorflow is not in the tree")
    dest = tmp_path / "raptorflow"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".leanstack"))
    return dest


def test_analyzers_lists_settings_and_needs() -> None:
    result = CliRunner().invoke(app, ["analyzers", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["analyzers"]}
    assert set(rows) == set(registry())
    assert "CPUUtilization" in rows["fargate_rightsizing"]["needs"]
    for row in rows.values():
        for setting in row["settings"]:
            assert setting["description"]
    text = CliRunner().invoke(app, ["analyzers"])
    assert "--set fargate_rightsizing.cpu_percentile=99.5" in text.stdout


def test_analyze_without_metrics(stack: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(stack), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["totals"]) >= {"monthly_cost", "monthly_savings", "annual_savings"}
    assert doc["recommendations"]
    for rec in doc["recommendations"]:
        assert set(rec) >= REC_KEYS
        for change in rec["changes"]:
            assert {"path", "before", "after"} <= set(change)
    graviton = next(
        r for r in doc["recommendations"] if r["address"] == DB and r["analyzer"] == "graviton"
    )
    assert graviton["monthly_savings"] == "1.46"
    sizing = next(f for f in doc["findings"] if f["analyzer"] == "fargate_rightsizing")
    assert sizing["status"] == "insufficient_data"
    assert doc["totals"]["annual_savings"] == f"{12 * float(doc['totals']['monthly_savings']):.2f}"


def test_analyze_reads_the_store_beside_the_stack(stack: Path, tmp_path: Path) -> None:
    n = 3 * 1440
    rng = np.random.default_rng(1)
    with MetricStore(default_store_path(stack)) as store:
        store.upsert_series(
            [
                series(SVC, "CPUUtilization", np.clip(rng.normal(12, 2, n), 0, 100)),
                series(SVC, "MemoryUtilization", np.full(n, 30.0)),
            ],
            source="test",
        )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["analyze", str(stack), "--only", "fargate_rightsizing", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    finding = next(f for f in doc["findings"] if f["address"] == SVC)
    assert finding["status"] != "insufficient_data"
    assert finding["evidence"]["memory"]["points"] == n
    off = CliRunner().invoke(
        app,
        [
            "analyze",
            str(stack),
            "--no-metrics",
            "--only",
            "fargate_rightsizing",
            "--format",
            "json",
        ],
    )
    off_finding = next(f for f in json.loads(off.stdout)["findings"] if f["address"] == SVC)
    assert off_finding["status"] == "insufficient_data"


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "fargate_rightsizing.cpu_headroom=3"],
        ["--set", "nosuch.x=1"],
        ["--only", "nope"],
        ["--set", "oops"],
    ],
)
def test_bad_options_are_one_line(stack: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["analyze", str(stack), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_store_with_metrics(stack: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(stack), "--metrics"])
    assert result.exit_code == 2 and "metric store" in result.output


def test_empty_or_missing_stack(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["analyze", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = 1\n}\n')
    empty = CliRunner().invoke(app, ["analyze", str(tmp_path)])
    assert empty.exit_code == 1 and "no resource to analyze" in empty.output
