"""`leanstack diff`: cost change by resource between two stacks or a stack and a report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from patch_cases import BASIC
from patch_helpers import GOLDEN
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus
from leanstack.patch import apply_patch, plan_patch
from leanstack.patch.costdiff import (
    ChangeKind,
    diff_costs,
    entries_from_priced,
    estimate_stack,
    render_markdown,
    to_json,
)

runner = CliRunner()


def priced(address: str, cost: str, status: PricingStatus = PricingStatus.PRICED) -> PricedResource:
    """A resource with one component: 1 unit a month at `cost`."""
    return PricedResource(
        address=address,
        type=address.split(".")[-2],
        region="us-east-1",
        status=status,
        components=(
            PriceComponent(
                name="hours", unit="month", monthly_quantity=Decimal(1), unit_price=Decimal(cost)
            ),
        ),
    )


BASE = [
    priced("aws_ecs_service.api", "36.0401"),
    priced("aws_db_instance.main", "15.44"),
    priced("aws_sqs_queue.jobs", "0.64"),
    priced("aws_nat_gateway.main", "32.85"),
]
HEAD = [
    priced("aws_ecs_service.api", "18.02005"),
    priced("aws_db_instance.main", "15.44"),
    priced("aws_sqs_queue.jobs", "0.64"),
    priced("aws_budgets_budget.monthly", "0", PricingStatus.FREE),
    priced("aws_lambda_function.api", "4.20", PricingStatus.UNKNOWN),
]


def test_diff_by_resource_and_total() -> None:
    diff = diff_costs(entries_from_priced(BASE), entries_from_priced(HEAD))
    kinds = {line.address: line.kind for line in diff.lines}
    assert kinds == {
        "aws_ecs_service.api": ChangeKind.CHANGED,
        "aws_nat_gateway.main": ChangeKind.REMOVED,
        "aws_lambda_function.api": ChangeKind.ADDED,
        "aws_budgets_budget.monthly": ChangeKind.ADDED,
    }
    assert diff.unchanged == 2
    # Totals are the sums of each side, and the lines account for the whole change.
    assert diff.total_before == sum(p.monthly_cost for p in BASE)
    assert diff.total_after == sum(p.monthly_cost for p in HEAD)
    assert sum(line.delta for line in diff.lines) == diff.delta
    # The largest change comes first; a resource whose cost is incomplete says so.
    assert diff.lines[0].address == "aws_nat_gateway.main"
    lambda_line = next(line for line in diff.lines if line.address == "aws_lambda_function.api")
    assert lambda_line.before is None and "incomplete" in lambda_line.note


def test_markdown_and_json(golden: Callable[[Path, str], None]) -> None:
    diff = diff_costs(
        entries_from_priced(BASE), entries_from_priced(HEAD), base_label="main", head_label="pr"
    )
    markdown = render_markdown(diff)
    golden(GOLDEN / "cost_diff.md", markdown)
    assert markdown.startswith("### Monthly cost $84.97 → $38.30: -$46.67 (-54.9%)")
    data = to_json(diff)
    assert data["delta"] == str((diff.total_after - diff.total_before).quantize(Decimal("0.01")))
    assert {r["address"]: r["change"] for r in data["resources"]}[
        "aws_nat_gateway.main"
    ] == "removed"


def test_no_change_says_so() -> None:
    diff = diff_costs(entries_from_priced(BASE), entries_from_priced(BASE))
    assert diff.lines == () and diff.delta == 0
    assert "No resource changes its monthly cost." in render_markdown(diff)


def test_cli_diff_between_two_stacks(copy_stack: Callable[[str], Path], tmp_path: Path) -> None:
    base = copy_stack("basic")
    head = tmp_path / "head"
    shutil.copytree(base, head)
    assert apply_patch(plan_patch(head, BASIC), run_fmt=False).ok
    result = runner.invoke(app, ["diff", str(base), str(head), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_address = {r["address"]: r for r in data["resources"]}
    base_entries, _ = estimate_stack(base)
    head_entries, _ = estimate_stack(head)
    base_cost = {e.address: e.monthly_cost for e in base_entries}
    head_cost = {e.address: e.monthly_cost for e in head_entries}
    # Smaller tasks and Graviton nodes cost less; the diff reports exactly the estimates.
    for address in ("aws_ecs_service.app", "aws_elasticache_cluster.cache"):
        assert head_cost[address] < base_cost[address]
        assert Decimal(by_address[address]["delta"]) == (
            head_cost[address] - base_cost[address]
        ).quantize(Decimal("0.01"))
    assert Decimal(data["delta"]) < 0
    markdown = runner.invoke(app, ["diff", str(base), str(head), "--format", "markdown"])
    assert "| `aws_ecs_service.app` | changed |" in markdown.stdout
    table = runner.invoke(app, ["diff", str(base), str(head)])
    assert table.exit_code == 0 and "aws_ecs_service.app" in table.stdout


def test_terminal_table_keeps_labels_and_headline_on_their_own_lines() -> None:
    # A narrow table (one short row) must not squeeze the labels or the headline into its
    # own width, as a Rich title and caption would.
    from io import StringIO

    from rich.console import Console

    from leanstack.patch.costdiff import render_table

    diff = diff_costs(entries_from_priced(BASE), entries_from_priced(BASE))
    diff = replace(
        diff, base_label="stacks/payments-api/base", head_label="stacks/payments-api/head"
    )
    buffer = StringIO()
    Console(file=buffer, width=100, color_system=None).print(render_table(diff))
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert lines[0] == "stacks/payments-api/base → stacks/payments-api/head"
    headline = lines[-1]
    assert headline.startswith("Monthly cost $") and headline.endswith("resources unchanged")


def test_cli_diff_against_a_report(copy_stack: Callable[[str], Path], tmp_path: Path) -> None:
    head = copy_stack("basic")
    base_entries, _ = estimate_stack(head)
    report = {
        "schema_version": "1.0",
        "kind": "leanstack.report",
        "cost": {
            "resources": [
                {"address": e.address, "type": e.type, "monthly_cost": str(e.monthly_cost)}
                for e in base_entries
            ]
        },
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert apply_patch(plan_patch(head, BASIC[:2]), run_fmt=False).ok
    result = runner.invoke(app, ["diff", str(head), "--compare-to", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["address"] for r in data["resources"]] == ["aws_ecs_service.app"]
    report["schema_version"] = "3.1"
    path.write_text(json.dumps(report))
    wrong = runner.invoke(app, ["diff", str(head), "--compare-to", str(path)])
    assert wrong.exit_code == 2 and "schema version 3.1 is not supported" in wrong.stderr


def test_markdown_stays_under_the_comment_limit() -> None:
    base = [priced(f"aws_sqs_queue.q{i:05d}", "1.00") for i in range(3000)]
    head = [priced(f"aws_sqs_queue.q{i:05d}", "2.00") for i in range(3000)]
    diff = diff_costs(entries_from_priced(base), entries_from_priced(head))
    markdown = render_markdown(diff, limit=20_000)
    assert len(markdown) <= 20_000
    shown = markdown.count("| changed |")
    assert 0 < shown < 3000
    assert f"*{3000 - shown} more resources (+${3000 - shown:,}.00) not shown" in markdown
    # The total still covers every resource.
    assert "| **Total** | | $3,000.00 | $6,000.00 | **+$3,000.00** |" in markdown


def test_cli_diff_accepts_a_plan_json() -> None:
    from patch_helpers import REPO

    stack = REPO / "tests" / "fixtures" / "terraform" / "plan-parity"
    if not (stack / "plan.json").is_file():
        pytest.skip("the plan-parity fixture is not there")
    result = runner.invoke(app, ["diff", str(stack), str(stack / "plan.json"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # The configuration and its plan price the same: no line, equal totals.
    assert data["resources"] == [] and data["delta"] == "0.00"
    assert Decimal(data["total_before"]) > 0 and data["unchanged"] > 0


def test_a_stack_compared_to_its_own_report_has_not_changed(tmp_path: Path) -> None:
    # The report prices usage from the recorded load; the stack must be priced the same way,
    # or every usage-based line (LCUs, requests, tasks) shows a change that is not there.
    from leanstack.cli import app

    example = Path(__file__).resolve().parents[2] / "examples" / "raptorflow"
    stack = tmp_path / "raptorflow"
    shutil.copytree(example, stack, ignore=shutil.ignore_patterns("report"))
    report = tmp_path / "report.json"
    runner = CliRunner()
    analyzed = runner.invoke(app, ["analyze", str(stack), "--format", "json", "--out", str(report)])
    assert analyzed.exit_code == 0, analyzed.output
    result = runner.invoke(
        app, ["diff", str(stack), "--compare-to", str(report), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert Decimal(data["delta"]) == 0
    assert json.loads(report.read_text())["totals"]["monthly_cost"] == data["total_after"]
