"""`leanstack estimate` end to end through the Typer app: formats, --out, usage pick-up,
issues on stderr one line each, and exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leanstack.cli import app

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "terraform"
PARITY = FIXTURES / "plan-parity"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No user-level local catalog may leak into the prices under test.
    monkeypatch.setenv("LEANSTACK_HOME", str(tmp_path / "home"))


def stack(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "stack"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


SMALL = {
    "main.tf": """
        provider "aws" {
          region = var.region
        }

        variable "region" {
          default = "us-east-1"
        }

        variable "queues" {
          default = 1
        }

        resource "aws_elasticache_cluster" "cache" {
          cluster_id = "c"
          engine     = "redis"
          node_type  = "cache.t3.micro"
        }

        resource "aws_sqs_queue" "q" {
          count = var.queues
          name  = "q-${count.index}"
        }
    """,
}


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["estimate", *args])


def test_table_output_with_usage_file_beside_the_stack(tmp_path: Path) -> None:
    root = stack(
        tmp_path,
        {
            **SMALL,
            "leanstack-usage.yml": "version: 0.1\nresource_usage:\n  aws_sqs_queue.q[*]:\n"
            "    monthly_requests: 3000000\n",
        },
    )
    result = CliRunner().invoke(app, ["estimate", str(root)])
    assert result.exit_code == 0, result.output
    assert "aws_elasticache_cluster.cache" in result.stdout
    assert "$12.41" in result.stdout
    # 3M requests - 1M free = 2M x $0.40
    assert "$0.80" in result.stdout
    assert "OVERALL TOTAL" in result.stdout and "$13.21" in result.stdout
    assert "catalog dated" in result.stdout
    assert "2 resources: 2 estimated, 0 free, 0 unsupported, 0 unknown." in result.stdout


def test_json_to_file_and_var_override(tmp_path: Path) -> None:
    root = stack(tmp_path, SMALL)
    out = tmp_path / "out" / "estimate.json"
    out.parent.mkdir()  # --out does not create directories
    result = CliRunner().invoke(
        app, ["estimate", str(root), "--format", "json", "--out", str(out), "--var", "queues=3"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads(out.read_text())
    addresses = [r["address"] for r in document["resources"]]
    assert addresses.count("aws_sqs_queue.q[2]") == 1 and len(addresses) == 4
    assert document["totals"]["monthly_cost"] == "12.41"


def test_markdown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["estimate", str(stack(tmp_path, SMALL)), "--format", "markdown"]
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("### leanstack estimate: **$12.41/month**")
    assert "| `aws_elasticache_cluster.cache` | $12.41 |" in result.stdout


def test_usage_typo_is_one_line_on_stderr_and_the_estimate_is_still_made(tmp_path: Path) -> None:
    root = stack(tmp_path, SMALL)
    usage = tmp_path / "u.yml"
    usage.write_text(
        "version: 0.1\nresource_usage:\n  aws_sqs_queue.q[0]:\n    monthly_reqests: 5\n"
    )
    result = CliRunner().invoke(app, ["estimate", str(root), "--usage", str(usage)])
    # A usage file with errors is unreadable input (the CLI contract: exit 2, nothing on stdout).
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "monthly_reqests" in line]
    assert lines == [
        f"error: {usage}:4: unknown usage key 'monthly_reqests' for aws_sqs_queue; did you mean "
        "'monthly_requests'? (valid: monthly_requests, request_size_kb)"
    ]
    assert result.stdout == ""


def test_a_syntax_error_stops_with_one_line_naming_the_file(tmp_path: Path) -> None:
    broken = {**SMALL, "broken.tf": 'resource "aws_sqs_queue" "broken" {\n  name = \n'}
    result = CliRunner().invoke(app, ["estimate", str(stack(tmp_path, broken))])
    assert result.exit_code == 2 and result.stdout == ""
    assert any(line.startswith("error: broken.tf:") for line in result.stderr.splitlines())


def test_bad_input_lines_name_file_and_line(tmp_path: Path) -> None:
    root = stack(
        tmp_path,
        {
            **SMALL,
            "more.tf": """
                resource "aws_db_instance" "db" {
                  engine         = "postgres"
                  instance_class = var.undefined_class
                }

                module "remote" {
                  source = "terraform-aws-modules/vpc/aws"
                }

                resource "aws_db_instance" "nowhere" {
                  engine            = "postgres"
                  instance_class    = "db.x9.nothing"
                  allocated_storage = 20
                }
            """,
        },
    )
    result = CliRunner().invoke(app, ["estimate", str(root)])
    assert result.exit_code == 0
    stderr = result.stderr.splitlines()
    assert any("more.tf:" in line and "undefined_class" in line for line in stderr), stderr
    assert any(
        "more.tf:6" in line and "terraform-aws-modules/vpc/aws" in line for line in stderr
    ), stderr
    assert any(
        "more.tf:10" in line
        and "no price for db.x9.nothing (postgresql, single-az) in us-east-1" in line
        and "excluded from the total" in line
        for line in stderr
    ), stderr
    assert "$12.41" in result.stdout  # the rest of the estimate is still made


def test_unknown_region_only_means_nothing_estimated_exit_1(tmp_path: Path) -> None:
    root = stack(tmp_path, SMALL)
    result = CliRunner().invoke(app, ["estimate", str(root), "--var", "region=eu-north-1"])
    assert result.exit_code == 1
    region_lines = [line for line in result.stderr.splitlines() if "eu-north-1" in line]
    assert len(region_lines) == 1
    assert region_lines[0].startswith("error: main.tf:")
    assert "no resource could be estimated" in result.stderr


def test_plan_json_of_the_wrong_format(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"format_version": "1.2", "something_else": []}')
    result = CliRunner().invoke(app, ["estimate", str(plan)])
    assert result.exit_code != 0
    assert "plan.json" in result.stderr


def test_plan_json_gives_the_same_total_as_hcl() -> None:
    hcl = CliRunner().invoke(app, ["estimate", str(PARITY), "--format", "json"])
    plan = CliRunner().invoke(app, ["estimate", str(PARITY / "plan.json"), "--format", "json"])
    assert hcl.exit_code == plan.exit_code == 0
    assert json.loads(hcl.stdout)["totals"] == json.loads(plan.stdout)["totals"]


def test_missing_path_and_bad_var(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["estimate", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.stderr
    bad_var = CliRunner().invoke(app, ["estimate", str(stack(tmp_path, SMALL)), "--var", "novalue"])
    assert bad_var.exit_code == 2 and "NAME=VALUE" in bad_var.stderr


def test_local_catalog_overrides_a_price(tmp_path: Path) -> None:
    local = tmp_path / "local.csv"
    local.write_text(
        "service,region,product,attributes,usage_type,unit,price_usd,source,source_date,notes\n"
        "elasticache,us-east-1,ElastiCache node (Redis OSS) on-demand,"
        "engine=redis;instance_type=cache.t3.micro;arch=x86_64,NodeUsage:cache.t3.micro,"
        "node-hour,0.020,test,2026-12-01,\n"
    )
    result = CliRunner().invoke(
        app, ["estimate", str(stack(tmp_path, SMALL)), "--catalog", str(local)]
    )
    assert result.exit_code == 0, result.output
    assert "$14.60" in result.stdout  # 0.020 x 730
