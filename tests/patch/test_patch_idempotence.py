"""Patching twice changes nothing twice: on examples/raptorflow, through the CLI.

`analyze` then `patch --write`; the same report again says it is applied (exit 0, nothing
written, no second backup); a new `analyze` proposes nothing for what was applied, and its
patch neither adds a second budget nor fails its own check.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from patch_helpers import REPO, tree_digest
from typer.testing import CliRunner

from leanstack.cli import app

RAPTORFLOW_DIR = REPO / "examples" / "raptorflow"
runner = CliRunner()


def _analyze(root: Path) -> dict[str, Any]:
    (root / ".leanstack" / "report").mkdir(parents=True, exist_ok=True)
    # The Spot stress replay only adds evidence; off, each analysis is a few seconds faster.
    fast = "fargate_spot.stress_interruptions_per_task_day=0"
    result = runner.invoke(app, ["analyze", str(root), "--set", fast])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads((root / ".leanstack" / "report" / "report.json").read_text())
    return data


def _backups(root: Path) -> list[Path]:
    return sorted((root / ".leanstack" / "backup").iterdir())


def test_patch_then_analyze_again_proposes_nothing_already_applied(tmp_path: Path) -> None:
    if not (RAPTORFLOW_DIR / ".leanstack" / "metrics.duckdb").is_file():
        pytest.skip("examples/raptorflow has no recorded load")
    root = tmp_path / "raptorflow"
    shutil.copytree(RAPTORFLOW_DIR, root, ignore=shutil.ignore_patterns("report"))
    first = _analyze(root)
    report = tmp_path / "first.json"
    shutil.copy(root / ".leanstack" / "report" / "report.json", report)
    ids = [r["id"] for r in first["recommendations"]]
    assert any(i.startswith("cost_alarms:") for i in ids), ids

    written = runner.invoke(app, ["patch", str(report), "--write"])
    assert written.exit_code == 0, written.stderr
    applied = {
        line.rsplit("(", 1)[1].rstrip(")")
        for line in written.stdout.splitlines()
        if line.startswith("+# ") and line.endswith(")")
    }
    applied |= {i for i in ids if f"[{i}] left out" not in written.stderr}
    assert len(_backups(root)) == 1

    # The same report again: already applied, nothing written, no second backup.
    patched = tree_digest(root)
    again = runner.invoke(app, ["patch", str(report), "--write"])
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    assert "already applied, nothing to change" in again.stderr
    assert "changed since the report" not in again.stderr
    assert tree_digest(root) == patched

    second = _analyze(root)
    budgets = [
        f
        for f in second["findings"]
        if f["analyzer"] == "cost_alarms" and f["address"].startswith("aws_budgets_budget.")
    ]
    assert budgets and all(f["status"] == "no_change" for f in budgets), budgets
    again_ids = {r["id"] for r in second["recommendations"]}
    assert not again_ids & applied, again_ids & applied

    shown = runner.invoke(app, ["patch", str(root / ".leanstack" / "report" / "report.json")])
    assert shown.exit_code == 0, shown.stderr
    assert "would not verify" not in shown.stderr
    added = [line for line in shown.stdout.splitlines() if line.startswith("+")]
    for kind in ("aws_budgets_budget", "aws_cloudwatch_metric_alarm", "variable", "provider"):
        assert not any(kind in line for line in added), (kind, shown.stdout)
    titles = [line for line in added if line.startswith("+# ")]
    assert not any(i in line for i in applied for line in titles), titles
