"""`leanstack patch` end to end: report JSON in, diff out; --write; the three refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from patch_cases import BASIC
from patch_helpers import tree_digest
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.patch import PatchRequest, plan_patch
from leanstack.terraform import load_stack

runner = CliRunner()


def write_report(
    root: Path,
    requests: Sequence[PatchRequest],
    out: Path,
    *,
    version: Any = "1.0",
    files: dict[str, str] | None = None,
) -> Path:
    """A report JSON as `leanstack analyze` writes it (only the keys patch reads, plus kind)."""
    recommendations: dict[str, list[dict[str, Any]]] = {}
    for request in requests:
        change = request.change
        recommendations.setdefault(request.recommendation, []).append(
            {
                "path": change.path,
                "before": change.before,
                "after": change.after,
                "new_block": change.new_block,
            }
        )
    data = {
        "schema_version": version,
        "kind": "leanstack.report",
        "stack": {
            "path": str(root),
            "input_kind": "hcl",
            "files": files if files is not None else dict(load_stack(root).files),
        },
        "recommendations": [
            {"id": rec_id, "title": "", "changes": changes}
            for rec_id, changes in recommendations.items()
        ],
    }
    out.write_text(json.dumps(data, indent=2))
    return out


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_patch_prints_the_diff_and_changes_nothing(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    before = tree_digest(root)
    result = runner.invoke(app, ["patch", str(report)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == plan_patch(root, BASIC).diff()
    assert "+++ b/variables.tf" in result.stdout
    assert "checked on a copy: the loader reads back" in result.stderr
    assert tree_digest(root) == before


def test_patch_only_selects_recommendations(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    result = runner.invoke(app, ["patch", str(report), "--only", "graviton-cache,storage"])
    assert result.exit_code == 0, result.stderr
    files = [line[6:] for line in result.stdout.splitlines() if line.startswith("+++ b/")]
    assert files == ["modules/db/main.tf", "terraform.tfvars"]
    assert result.stdout.count("\n-  ") + result.stdout.count("\n-cache") == 2
    unknown = runner.invoke(app, ["patch", str(report), "--only", "nope"])
    assert unknown.exit_code == 2
    assert "no recommendation nope" in one_error_line(unknown.stderr)


def test_patch_write_applies_verifies_and_keeps_a_backup(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_stack("basic")
    originals = {p: (root / p).read_bytes() for p in ("main.tf", "variables.tf")}
    report = write_report(root, BASIC, tmp_path / "report.json")
    result = runner.invoke(app, ["patch", str(report), "--write"])
    assert result.exit_code == 0, result.stderr
    assert 'default     = "256"' in (root / "variables.tf").read_text()
    assert (root / "leanstack_recommendations.tf").is_file()
    backups = list((root / ".leanstack" / "backup").iterdir())
    assert len(backups) == 1
    for relpath, data in originals.items():
        assert (backups[0] / relpath).read_bytes() == data
    assert "verified: the loader reads back" in result.stderr
    if shutil.which("terraform"):
        assert "terraform fmt -check: ok" in result.stderr
    # A second run of the same report finds its changes in place: nothing to write.
    patched = tree_digest(root)
    again = runner.invoke(app, ["patch", str(report), "--write"])
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    assert "already applied, nothing to change: [" in again.stderr
    assert "changed since the report" not in again.stderr
    assert tree_digest(root) == patched  # no file, no second backup
    # Edited after the patch: the file changed in another way, so the report is stale.
    with open(root / "variables.tf", "a") as handle:
        handle.write("# edited after the patch\n")
    edited = runner.invoke(app, ["patch", str(report), "--write"])
    assert edited.exit_code == 2
    assert "variables.tf: changed since the report" in one_error_line(edited.stderr)


def test_stale_file_is_refused(copy_stack: Callable[[str], Path], tmp_path: Path) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    with open(root / "variables.tf", "a") as handle:
        handle.write("# edited after the report\n")
    before = tree_digest(root)
    for args in (["patch", str(report)], ["patch", str(report), "--write"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        line = one_error_line(result.stderr)
        assert "variables.tf: changed since the report" in line and "nothing was changed" in line
        assert result.stdout == ""
    assert tree_digest(root) == before


def test_unwritable_target_is_refused(copy_stack: Callable[[str], Path], tmp_path: Path) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    # Tests run as root, so chmod cannot block a write: a directory where the patch must
    # create a file can. The temp file beside variables.tf and the new recommendations file:
    (root / ".variables.tf.leanstack.tmp").mkdir()
    before = tree_digest(root)
    result = runner.invoke(app, ["patch", str(report), "--write"])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "variables.tf: cannot write" in line and "nothing was changed" in line
    assert tree_digest(root) == before

    (root / ".variables.tf.leanstack.tmp").rmdir()
    (root / "leanstack_recommendations.tf").mkdir()
    before = tree_digest(root)
    result = runner.invoke(app, ["patch", str(report), "--write"])
    assert result.exit_code == 2
    assert "leanstack_recommendations.tf: cannot write: not a regular file" in one_error_line(
        result.stderr
    )
    assert tree_digest(root) == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema_version="2.0"), "report schema version 2.0 is not supported"),
        (lambda d: d.update(schema_version=2), "report schema version 2 is not supported"),
        (lambda d: d.pop("schema_version"), "no schema_version"),
        (lambda d: d.update(kind="leanstack.estimate"), "not a leanstack report"),
    ],
)
def test_other_schema_version_is_refused(
    copy_stack: Callable[[str], Path],
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    data = json.loads(report.read_text())
    mutate(data)
    report.write_text(json.dumps(data))
    before = tree_digest(root)
    result = runner.invoke(app, ["patch", str(report), "--write"])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert message in line and str(report) in line
    assert tree_digest(root) == before


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text('{\n  "schema_version": "1.0",\n  oops\n}\n')
    result = runner.invoke(app, ["patch", str(report)])
    assert result.exit_code == 2
    assert f"{report}:3: not valid JSON" in one_error_line(result.stderr)


def test_skipped_changes_are_warned_one_line_each(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    from patch_cases import EDGE

    root = copy_stack("edge")
    report = write_report(root, EDGE, tmp_path / "report.json")
    result = runner.invoke(app, ["patch", str(report)])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    skipped = {line.split("[")[1].split("]")[0] for line in warnings if "[" in line}
    assert skipped == {"conditional", "count", "function", "shared-one", "stale-before"}


def test_generated_monitoring_blocks_are_patched(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_stack("basic")
    report = write_report(root, [], tmp_path / "report.json")
    data = json.loads(report.read_text())
    data["monitoring"] = {
        "blocks": [
            {
                "address": "provider.aws.billing",
                "kind": "provider",
                "hcl": 'provider "aws" {\n  alias  = "billing"\n  region = "us-east-1"\n}\n',
                "recommendation_id": None,
            }
        ]
    }
    report.write_text(json.dumps(data))
    result = runner.invoke(app, ["patch", str(report), "--only", "monitoring"])
    assert result.exit_code == 0, result.stderr
    assert '+provider "aws" {' in result.stdout and '+  alias  = "billing"' in result.stdout


def test_patch_command_in_a_subprocess_can_be_applied_with_git(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    cmd = [sys.executable, "-c", "from leanstack.cli import main; main()"]
    proc = subprocess.run([*cmd, "patch", str(report)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "out.diff").write_text(proc.stdout)
    check = subprocess.run(
        [git, "apply", "--check", "--verbose", str(tmp_path / "out.diff")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_alternatives_in_one_exclusive_group_patch_the_best_one(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    from patch_helpers import req

    root = copy_stack("basic")
    alternatives = [
        req(
            "graviton",
            "aws_elasticache_cluster.cache.node_type",
            "cache.t3.micro",
            "cache.t4g.micro",
        ),
        req(
            "smaller", "aws_elasticache_cluster.cache.node_type", "cache.t3.micro", "cache.t2.micro"
        ),
    ]
    report = write_report(root, alternatives, tmp_path / "report.json")
    data = json.loads(report.read_text())
    savings = {"graviton": "1.46", "smaller": "0.90"}
    for rec in data["recommendations"]:
        rec["exclusive_group"] = "aws_elasticache_cluster.cache"
        rec["monthly_savings"] = savings[rec["id"]]
    report.write_text(json.dumps(data))
    result = runner.invoke(app, ["patch", str(report)])
    assert result.exit_code == 0, result.stderr
    assert '+cache_node_type = "cache.t4g.micro"' in result.stdout
    assert "cache.t2.micro" not in result.stdout
    assert "[smaller] left out: an alternative to [graviton]" in result.stderr
    chosen = runner.invoke(app, ["patch", str(report), "--only", "smaller"])
    assert '+cache_node_type = "cache.t2.micro"' in chosen.stdout


def test_path_form_runs_the_analysis_and_writes_nothing_without_write(
    copy_stack: Callable[[Path], Path],
) -> None:
    from patch_helpers import REPO

    root = copy_stack(REPO / "examples" / "raptorflow")
    before = tree_digest(root)
    result = runner.invoke(app, ["patch", str(root)])
    assert result.exit_code == 0, result.stderr
    assert tree_digest(root) == before
    if not result.stdout:
        return  # the analyzers found nothing to change without recorded load
    assert result.stdout.startswith("--- ")
    written = runner.invoke(app, ["patch", str(root), "--write"])
    assert written.exit_code == 0, written.stderr
    assert tree_digest(root) != before
    # What was written is what was shown, and the patched stack still loads cleanly.
    assert written.stdout == result.stdout
    assert not [i for i in load_stack(root).issues if i.severity == "error"]


def test_stack_option_overrides_the_reports_path(
    copy_stack: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_stack("basic")
    report = write_report(root, BASIC, tmp_path / "report.json")
    data = json.loads(report.read_text())
    data["stack"]["path"] = str(tmp_path / "moved-away")
    report.write_text(json.dumps(data))
    missing = runner.invoke(app, ["patch", str(report)])
    assert missing.exit_code == 2
    assert "moved-away: the stack directory does not exist; pass --stack" in one_error_line(
        missing.stderr
    )
    moved = runner.invoke(app, ["patch", str(report), "--stack", str(root)])
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout == plan_patch(root, BASIC).diff()


def test_diff_needs_two_stacks_or_a_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["diff", str(tmp_path)])
    assert result.exit_code == 2
    assert "pass BASE HEAD, or HEAD --compare-to REPORT" in one_error_line(result.stderr)
    missing = runner.invoke(app, ["diff", str(tmp_path / "a"), str(tmp_path)])
    assert missing.exit_code == 2 and "not a stack directory or plan JSON" in one_error_line(
        missing.stderr
    )
