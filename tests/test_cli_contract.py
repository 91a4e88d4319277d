"""The CLI contract, command by command: exit codes (0 done, 1 nothing estimated, 2 bad
arguments or unreadable input), one line per issue and no output on failure, --out/--format
agreement, `--version`, and a light `import leanstack.cli`.

Every stack is written into tmp_path; nothing here reads ../shared or examples/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leanstack import __version__
from leanstack.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No user-level local catalog may leak into the prices under test.
    monkeypatch.setenv("LEANSTACK_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def write_stack(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


PRICED = """
    provider "aws" {
      region = "us-east-1"
    }

    resource "aws_elasticache_cluster" "cache" {
      cluster_id = "c"
      engine     = "redis"
      node_type  = "cache.t3.micro"
    }

    resource "aws_sqs_queue" "q" {
      name = "q"
    }
"""

# Stacks that the commands cannot price, and the exit code each must give.
BROKEN: dict[str, tuple[dict[str, str], int, str]] = {
    "syntax error": (
        {"main.tf": PRICED + '\nresource "aws_sqs_queue" "broken" {\n  name = \n'},
        2,
        "main.tf:",
    ),
    "no .tf files": ({"README.md": "not terraform\n"}, 2, "no Terraform files"),
    "region not in the catalog": (
        {"main.tf": PRICED.replace("us-east-1", "ap-south-1")},
        1,
        "no resource",
    ),
    "unknown variable, unsupported type": (
        {
            "main.tf": """
                provider "aws" {
                  region = "us-east-1"
                }

                resource "aws_db_instance" "db" {
                  instance_class    = var.nope
                  engine            = "postgres"
                  allocated_storage = 20
                }

                resource "aws_instance" "web" {
                  ami           = "ami-123"
                  instance_type = "t3.micro"
                }
            """
        },
        1,
        "no resource",
    ),
    "modules not downloaded": (
        {
            "main.tf": """
                provider "aws" {
                  region = "us-east-1"
                }

                module "vpc" {
                  source = "terraform-aws-modules/vpc/aws"
                }
            """
        },
        1,
        "terraform init",
    ),
}


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def _cmd(command: str, path: Path) -> list[str]:
    if command == "analyze":
        return ["analyze", str(path), "--no-metrics", "--no-write-reports"]
    return [command, str(path)]


@pytest.mark.parametrize("command", ["estimate", "analyze", "patch"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_stacks_exit_per_contract_with_nothing_on_stdout(
    tmp_path: Path, command: str, case: str
) -> None:
    files, code, says = BROKEN[case]
    root = write_stack(tmp_path / "stack", files)
    exit_code, stdout, stderr = _run(*_cmd(command, root))
    assert exit_code == code, stderr
    assert stdout == ""
    assert says in stderr
    assert all(line.startswith(("error:", "warning:", "info:")) for line in stderr.splitlines())


@pytest.mark.parametrize("command", ["estimate", "analyze"])
def test_tfvars_syntax_error_stops_the_command(tmp_path: Path, command: str) -> None:
    root = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    bad = tmp_path / "bad.tfvars"
    bad.write_text("desired_count = \n", encoding="utf-8")
    exit_code, stdout, stderr = _run(*_cmd(command, root), "--var-file", str(bad))
    assert (exit_code, stdout) == (2, "")
    assert [line for line in stderr.splitlines() if "bad.tfvars:1" in line], stderr


@pytest.mark.parametrize("command", ["estimate", "analyze"])
def test_usage_file_errors_stop_the_command_one_plain_line_each(
    tmp_path: Path, command: str
) -> None:
    root = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    usage = tmp_path / "u.yml"
    usage.write_text(
        "version: 0.1\nresource_usage:\n  aws_sqs_queue.q:\n    monthly_requests: -12\n"
        "    request_size_kb: four\n",
        encoding="utf-8",
    )
    exit_code, stdout, stderr = _run(*_cmd(command, root), "--usage", str(usage))
    assert (exit_code, stdout) == (2, "")
    lines = stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0] == f"error: {usage}:4: aws_sqs_queue.q.monthly_requests: -12 is negative " + (
        "(it must be 0 or more)"
    )
    assert f"{usage}:5" in lines[1]


def test_usage_file_yaml_error_is_plain(tmp_path: Path) -> None:
    root = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    usage = tmp_path / "u.yml"
    usage.write_text(
        "version: 0.1\nresource_usage:\n  aws_sqs_queue.q:\n  monthly_requests: 5\n : bad: [\n",
        encoding="utf-8",
    )
    exit_code, stdout, stderr = _run("estimate", str(root), "--usage", str(usage))
    assert (exit_code, stdout) == (2, "")
    assert "<block" not in stderr and "check the indentation" in stderr
    assert stderr.startswith(f"error: {usage}:")


def test_a_stack_with_warnings_is_done_exit_0(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path / "stack",
        {"main.tf": PRICED + '\nresource "aws_instance" "web" {\n  instance_type = var.nope\n}\n'},
    )
    exit_code, stdout, stderr = _run("estimate", str(root))
    assert exit_code == 0 and "$" in stdout
    assert "var.nope" in stderr


def test_analyze_prints_each_load_issue_once(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path / "stack",
        {"main.tf": PRICED + '\nresource "aws_instance" "web" {\n  instance_type = var.nope\n}\n'},
    )
    exit_code, _, stderr = _run(*_cmd("analyze", root))
    assert exit_code == 0
    lines = stderr.splitlines()
    assert len(lines) == len(set(lines)), lines
    assert sum("var.nope is not declared" in line for line in lines) == 1


# -- diff --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["syntax error", "no .tf files"])
@pytest.mark.parametrize("broken_side", ["base", "head"])
def test_diff_refuses_a_side_that_does_not_load(
    tmp_path: Path, case: str, broken_side: str
) -> None:
    good = write_stack(tmp_path / "good", {"main.tf": PRICED})
    bad = write_stack(tmp_path / "bad", BROKEN[case][0])
    base, head = (bad, good) if broken_side == "base" else (good, bad)
    for fmt in ("table", "json", "markdown"):
        exit_code, stdout, stderr = _run("diff", str(base), str(head), "--format", fmt)
        assert (exit_code, stdout) == (2, ""), stderr
        assert "no cost diff" in stderr and "-100" not in stderr


def test_diff_missing_path_and_unpriceable_side(tmp_path: Path) -> None:
    good = write_stack(tmp_path / "good", {"main.tf": PRICED})
    assert _run("diff", str(good), str(tmp_path / "nope"))[:2] == (2, "")
    region = write_stack(tmp_path / "region", BROKEN["region not in the catalog"][0])
    exit_code, stdout, stderr = _run("diff", str(good), str(region))
    assert (exit_code, stdout) == (1, "")
    assert "region/main.tf:" in stderr  # each side's lines name that side's file


def test_diff_of_two_loadable_stacks_still_works(tmp_path: Path) -> None:
    base = write_stack(tmp_path / "base", {"main.tf": PRICED})
    head = write_stack(
        tmp_path / "head", {"main.tf": PRICED.replace("cache.t3.micro", "cache.t3.small")}
    )
    exit_code, stdout, _ = _run("diff", str(base), str(head), "--format", "json")
    assert exit_code == 0
    doc = json.loads(stdout)
    assert [r["address"] for r in doc["resources"]] == ["aws_elasticache_cluster.cache"]
    assert doc["resources"][0]["change"] == "changed"


# -- --out and --format ------------------------------------------------------------------------


def test_estimate_out_picks_the_format_from_the_extension(tmp_path: Path) -> None:
    root = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    assert _run("estimate", str(root), "--out", "e.md")[0] == 0
    assert Path("e.md").read_text(encoding="utf-8").startswith("### leanstack estimate")
    assert _run("estimate", str(root), "--out", "e.json")[0] == 0
    assert "resources" in json.loads(Path("e.json").read_text(encoding="utf-8"))


def _out_args(command: str, tmp_path: Path) -> list[str]:
    """Arguments that make `command` valid up to its --out."""
    stack = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    if command == "analyze":
        return ["analyze", str(stack), "--no-metrics", "--no-write-reports"]
    if command == "diff":
        return ["diff", str(stack), str(stack)]
    if command == "backtest":
        series = tmp_path / "cpu.csv"
        series.write_text("timestamp,value\n2026-01-01 00:00:00,5\n", encoding="utf-8")
        return ["backtest", str(series)]
    if command == "render":
        report = tmp_path / "report.json"
        report.write_text("{}", encoding="utf-8")
        return ["render", str(report)]
    return [command, str(stack)]


COMMANDS_WITH_OUT = ["estimate", "analyze", "render", "diff", "backtest"]


@pytest.mark.parametrize("command", COMMANDS_WITH_OUT)
def test_unknown_out_extension_is_a_usage_error(tmp_path: Path, command: str) -> None:
    exit_code, stdout, stderr = _run(*_out_args(command, tmp_path), "--out", "x.pdf")
    assert (exit_code, stdout) == (2, "")
    assert ".pdf" in stderr and len(stderr.splitlines()) == 1
    assert not Path("x.pdf").exists()


@pytest.mark.parametrize("command", COMMANDS_WITH_OUT)
def test_out_extension_contradicting_format_names_both(tmp_path: Path, command: str) -> None:
    exit_code, stdout, stderr = _run(
        *_out_args(command, tmp_path), "--out", "x.json", "--format", "table"
    )
    assert (exit_code, stdout) == (2, "")
    assert "x.json" in stderr and "json" in stderr and "table" in stderr
    assert not Path("x.json").exists()


@pytest.mark.parametrize("command", COMMANDS_WITH_OUT)
def test_out_into_a_missing_directory_creates_nothing(tmp_path: Path, command: str) -> None:
    target = tmp_path / "no" / "such" / "x.json"
    exit_code, stdout, stderr = _run(*_out_args(command, tmp_path), "--out", str(target))
    assert (exit_code, stdout) == (2, "")
    assert "does not exist" in stderr
    assert not (tmp_path / "no").exists()


def test_analyze_out_dir_with_a_missing_parent_is_refused(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    exit_code, _, stderr = _run(
        "analyze", str(stack), "--no-metrics", "--out-dir", str(tmp_path / "a" / "b")
    )
    assert exit_code == 2 and "does not exist" in stderr
    assert not (tmp_path / "a").exists()


# -- arguments ---------------------------------------------------------------------------------


def test_backtest_min_above_max_is_a_usage_error(tmp_path: Path) -> None:
    args = _out_args("backtest", tmp_path)
    exit_code, stdout, stderr = _run(*args, "--min", "5", "--max", "2")
    assert (exit_code, stdout) == (2, "")
    assert "--min 5" in stderr and "--max 2" in stderr


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["analyzers", "--format", "yaml"], "'yaml'"),
        (["estimate", ".", "--format", "yaml"], "'yaml'"),
        (["backtest", ".", "--min", "x"], "--min"),
        (["estimate", ".", "--bogus"], "--bogus"),
    ],
)
def test_bad_option_values_are_one_plain_line(args: list[str], names: str) -> None:
    exit_code, stdout, stderr = _run(*args)
    assert (exit_code, stdout) == (2, "")
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and names in lines[0]
    assert "Value error" not in stderr and "Input should be" not in stderr


def test_unknown_analyzer_setting_is_plain(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack", {"main.tf": PRICED})
    exit_code, _, stderr = _run(*_cmd("analyze", stack), "--set", "fargate_rightsizing.nope=3")
    assert exit_code == 2
    assert "Extra inputs" not in stderr and "unknown setting" in stderr


def test_version_option() -> None:
    exit_code, stdout, _ = _run("--version")
    assert (exit_code, stdout) == (0, f"leanstack {__version__}\n")


def test_importing_the_cli_leaves_heavy_libraries_unloaded() -> None:
    heavy = ["numpy", "duckdb", "jinja2", "boto3", "pydantic", "pyarrow", "leanstack.report"]
    code = (
        "import sys, leanstack.cli; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip() == ""


def test_show_commands_pick_the_format_from_out_like_the_others(tmp_path: Path) -> None:
    from leanstack.cli import app

    runner = CliRunner()
    bad = runner.invoke(app, ["catalog", "show", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2 and "x.pdf" in bad.output
    out = tmp_path / "prices.json"
    ok = runner.invoke(app, ["catalog", "show", "--service", "sqs", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.read_text())["count"] > 0
    clash = runner.invoke(
        app, ["metrics", "show", "--store", str(tmp_path / "m.duckdb"), "--format", "table",
              "--out", str(tmp_path / "m.json")]
    )
    assert clash.exit_code == 2 and "--format" in clash.output


def test_a_problem_repeated_by_each_module_instance_is_one_line() -> None:
    from leanstack.cli._common import fold_module_copies
    from leanstack.model.issues import Issue, IssueCode, Severity

    def unknown_count(instance: str, where: str = "modules/region/a.tf:8") -> Issue:
        return Issue(
            code=IssueCode.EVALUATION_ERROR,
            message=f"count of module.{instance}.aws_sqs_queue.q is known only after apply",
            where=where,
            severity=Severity.WARNING,
        )

    folded = fold_module_copies(
        [
            unknown_count("eu-west-1"),
            unknown_count("eu-west-2"),
            unknown_count('app["b"]'),
            unknown_count("eu-west-1", where="modules/region/a.tf:9"),
        ]
    )
    assert [(issue.where, more) for issue, more in folded] == [
        ("modules/region/a.tf:8", 2),
        ("modules/region/a.tf:9", 0),
    ]
    assert "eu-west-1" in folded[0][0].message
