"""`leanstack render`: every format from a saved report; bad input is one line, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_canonical import FIXTURE
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.report import load_report
from leanstack.report.render import render

runner = CliRunner()


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_render_to_file_matches_the_library(tmp_path: Path, fmt: str) -> None:
    suffix = {"table": "txt", "markdown": "md"}.get(fmt, fmt)
    out = tmp_path / "sub" / f"report.{suffix}"
    out.parent.mkdir()  # --out does not create directories
    result = runner.invoke(app, ["render", str(FIXTURE), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render(load_report(FIXTURE), fmt)


def test_render_to_stdout_defaults_to_table() -> None:
    result = runner.invoke(app, ["render", str(FIXTURE)])
    assert result.exit_code == 0
    assert "Current monthly cost" in result.stdout


def test_other_schema_version_is_refused_with_one_line(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data["schema_version"] = "0.9"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["render", str(path), "--format", "html", "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "'0.9'" in lines[0] and str(path) in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["render", str(FIXTURE), "--format", "pdf"])
    assert result.exit_code == 2


def test_unwritable_target_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["render", str(FIXTURE), "--out", str(blocker / "r.txt")])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
