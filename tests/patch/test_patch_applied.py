"""What a patch recognises as already in the stack, and what it leaves behind when it fails."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from patch_helpers import req, tree_digest

from leanstack.patch import apply_patch, check_in_copy, plan_patch, stale_files
from leanstack.patch.report import report_changes

MAIN = """provider "aws" {
  region = "eu-west-1"
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}
"""

VARIABLE = 'variable "cost_alert_emails" {\n  type = list(string)\n}\n'
PROVIDER = 'provider "aws" {\n  alias  = "billing"\n  region = "us-east-1"\n}\n'


def budget(name: str, emails: str = "var.cost_alert_emails") -> str:
    return (
        f'resource "aws_budgets_budget" "{name}" {{\n'
        '  budget_type  = "COST"\n'
        '  limit_amount = "100"\n'
        '  limit_unit   = "USD"\n'
        '  time_unit    = "MONTHLY"\n'
        "  notification {\n"
        '    comparison_operator        = "GREATER_THAN"\n'
        "    threshold                  = 100\n"
        '    threshold_type             = "PERCENTAGE"\n'
        '    notification_type          = "ACTUAL"\n'
        f"    subscriber_email_addresses = {emails}\n"
        "  }\n"
        "}\n"
    )


def alarm(name: str, service: str | None) -> str:
    dims = f'    ServiceName = "{service}"\n' if service else ""
    return (
        f'resource "aws_cloudwatch_metric_alarm" "{name}" {{\n'
        "  provider            = aws.billing\n"
        f'  alarm_name          = "{name}"\n'
        '  namespace           = "AWS/Billing"\n'
        '  metric_name         = "EstimatedCharges"\n'
        '  statistic           = "Maximum"\n'
        "  period              = 21600\n"
        "  evaluation_periods  = 1\n"
        '  comparison_operator = "GreaterThanThreshold"\n'
        "  threshold           = 100\n"
        f'  dimensions = {{\n    Currency = "USD"\n{dims}  }}\n'
        "}\n"
    )


def stack(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "stack"
    root.mkdir()
    (root / "main.tf").write_text(MAIN)
    for name, text in files.items():
        (root / name.replace("__", ".")).write_text(text)
    return root


def test_new_variable_and_provider_blocks_verify(tmp_path: Path) -> None:
    # The check after the patch looked a `variable` or `provider` block up as a resource
    # ("var.cost_alert_emails is not declared after the patch") although it was written.
    root = stack(tmp_path)
    plan = plan_patch(
        root,
        [
            req("m", "var.cost_alert_emails", None, None, VARIABLE),
            req("m", "provider.aws.billing", None, None, PROVIDER),
            req("m", "aws_budgets_budget.monthly_cost", None, None, budget("monthly_cost")),
        ],
    )
    assert [c.kind for c in plan.changes] == ["new_block"] * 3
    problems, _ = check_in_copy(plan)
    assert problems == []
    result = apply_patch(plan, run_fmt=False)
    assert result.ok, [p.line() for p in result.problems]


def test_a_budget_under_another_name_covers_a_new_budget(tmp_path: Path) -> None:
    root = stack(tmp_path, leanstack_recommendations__tf=budget("monthly", '["a@b.c"]'))
    plan = plan_patch(
        root,
        [
            req("cost", "var.cost_alert_emails", None, None, VARIABLE),
            req("cost", "aws_budgets_budget.monthly_cost", None, None, budget("monthly_cost")),
        ],
    )
    assert plan.empty and not plan.skipped
    reasons = {a.path: a.reason for a in plan.applied}
    assert reasons["aws_budgets_budget.monthly_cost"] == (
        "the stack already has a budget, aws_budgets_budget.monthly at "
        "leanstack_recommendations.tf:1"
    )
    # The variable only served the budget: alone it would be an unused required input.
    assert "only needed by blocks the stack already has" in reasons["var.cost_alert_emails"]
    assert plan.notes == (
        "already applied, nothing to change: [cost] (the stack already has a budget, "
        "aws_budgets_budget.monthly at leanstack_recommendations.tf:1)",
    )


def test_billing_alarms_are_covered_per_service(tmp_path: Path) -> None:
    root = stack(tmp_path, billing__tf=PROVIDER + "\n" + alarm("ecs", "AmazonECS"))
    plan = plan_patch(
        root,
        [
            req("a", "aws_cloudwatch_metric_alarm.x", None, None, alarm("x", "AmazonECS")),
            req("b", "aws_cloudwatch_metric_alarm.y", None, None, alarm("y", "AmazonRDS")),
            req("c", "aws_cloudwatch_metric_alarm.z", None, None, alarm("z", None)),
        ],
    )
    assert [a.recommendation for a in plan.applied] == ["a"]
    assert "already has a billing alarm, aws_cloudwatch_metric_alarm.ecs at billing.tf:6" in (
        plan.applied[0].reason
    )
    assert sorted(c.recommendation for c in plan.changes) == ["b", "c"]


def test_the_reports_generated_monitoring_is_left_out_once_a_budget_exists(
    tmp_path: Path,
) -> None:
    root = stack(tmp_path, budget__tf=budget("mine", '["a@b.c"]'))
    blocks = [
        {"address": "var.cost_alert_emails", "kind": "variable", "hcl": VARIABLE},
        {"address": "aws_budgets_budget.monthly_cost", "kind": "budget", "hcl": budget("mc")},
        {"address": "provider.aws.billing", "kind": "provider", "hcl": PROVIDER},
        {
            "address": "aws_cloudwatch_metric_alarm.estimated_charges",
            "kind": "alarm",
            "hcl": alarm("estimated_charges", None),
        },
    ]
    data = {"schema_version": "1.0", "recommendations": [], "monitoring": {"blocks": blocks}}
    changes = report_changes(data, tmp_path / "report.json")
    assert not hasattr(changes, "code"), changes
    plan = plan_patch(root, changes.requests)  # type: ignore[union-attr]
    assert plan.empty and not plan.skipped
    assert len(plan.applied) == 4
    # Without a budget in the stack, all four are added.
    (root / "budget.tf").unlink()
    fresh = plan_patch(root, changes.requests)  # type: ignore[union-attr]
    assert len(fresh.changes) == 4 and not fresh.applied


def test_a_file_changed_only_by_earlier_patches_is_not_stale(tmp_path: Path) -> None:
    root = stack(tmp_path)
    digest = {"main.tf": hashlib.sha256(MAIN.encode()).hexdigest()}
    first = req("one", "aws_sqs_queue.jobs.delay_seconds", None, 5)
    second = req("two", "aws_sqs_queue.jobs.max_message_size", None, 2048)
    assert apply_patch(plan_patch(root, [first]), run_fmt=False).ok
    assert apply_patch(plan_patch(root, [second]), run_fmt=False).ok
    # Two patches from the report's state: still the report's file, changed only by them.
    assert stale_files(root, digest) == []
    again = plan_patch(root, [first, second])
    assert again.empty and {a.recommendation for a in again.applied} == {"one", "two"}
    with open(root / "main.tf", "a") as handle:
        handle.write("# edited by hand\n")
    stale = stale_files(root, digest)
    assert [p.where for p in stale] == ["main.tf"]
    assert "changed since the report" in stale[0].message
    # A damaged manifest only means that patch is not recognised.
    manifest = next((root / ".leanstack" / "backup").glob("*/PATCHED.json"))
    manifest.write_text("{not json")
    assert stale_files(root, digest)


def test_a_value_already_recommended_is_applied_even_if_before_differs(tmp_path: Path) -> None:
    root = stack(tmp_path)
    (root / "main.tf").write_text(MAIN.replace('= "jobs"', '= "jobs"\n  delay_seconds = 5'))
    plan = plan_patch(root, [req("r", "aws_sqs_queue.jobs.delay_seconds", 0, 5)])
    assert plan.empty and not plan.skipped
    assert plan.applied[0].reason == "already 5"
    other = plan_patch(root, [req("r", "aws_sqs_queue.jobs.delay_seconds", 0, 9)])
    assert "expected 0 but the source has 5" in other.skipped[0].reason


def test_a_failed_write_leaves_no_backup_directory(tmp_path: Path) -> None:
    root = stack(tmp_path)
    before = tree_digest(root)
    # The written file does not parse: the write is rolled back.
    plan = plan_patch(root, [req("r", "aws_sqs_queue.jobs.delay_seconds", None, 5)])
    broken = type(plan)(
        root=plan.root,
        files=tuple(
            type(f)(relpath=f.relpath, before=f.before, after=f.after + b"resource {\n")
            for f in plan.files
        ),
        changes=plan.changes,
        skipped=(),
    )
    result = apply_patch(broken, run_fmt=False)
    assert result.rolled_back and result.backup_dir is None
    assert tree_digest(root) == before
    assert not (root / ".leanstack").exists()


def test_a_budget_in_json_syntax_covers_a_new_budget(tmp_path: Path) -> None:
    budget_json = {"resource": {"aws_budgets_budget": {"team": {"budget_type": "COST"}}}}
    root = stack(tmp_path, budget__tf__json=json.dumps(budget_json))
    plan = plan_patch(root, [req("cost", "aws_budgets_budget.m", None, None, budget("m"))])
    assert plan.empty and not plan.skipped
    assert plan.applied[0].reason == (
        "the stack already has a budget, aws_budgets_budget.team in budget.tf.json"
    )
