"""Budgets and billing alarms that work."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from analyzer_helpers import context, fargate_service, one, res, run

from leanstack.model.findings import FindingStatus
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus
from leanstack.model.resource import Resource
from leanstack.terraform import load_stack


def priced(address: str, rtype: str, cost: str) -> PricedResource:
    return PricedResource(
        address=address,
        type=rtype,
        region="us-east-1",
        status=PricingStatus.PRICED,
        components=(
            PriceComponent(
                name="x", unit="hour", monthly_quantity=Decimal(1), unit_price=Decimal(cost)
            ),
        ),
    )


STACK = [*fargate_service(), res("aws_db_instance.main", {"engine": "postgres"})]
PRICED = [
    priced("aws_ecs_service.app", "aws_ecs_service", "36.04"),
    priced("aws_db_instance.main", "aws_db_instance", "15.44"),
]


def test_budget_with_actual_and_forecast_notifications() -> None:
    f = one(run("cost_alarms", context(STACK, priced=PRICED)), address="aws_budgets_budget.monthly")
    rec = f.recommendation
    assert rec is not None
    block = rec.changes[0].new_block or ""
    assert (
        'notification_type          = "ACTUAL"' in block
        and 'notification_type          = "FORECASTED"' in block
    )
    limit = -(-(36.04 + 15.44) * 1.2 // 1)
    assert f'limit_amount = "{int(limit)}"' in block


def test_billing_alarms_per_used_service_in_us_east_1() -> None:
    findings = run("cost_alarms", context(STACK, priced=PRICED), billing_alarm=True)
    f = next(f for f in findings if f.address == "aws_cloudwatch_metric_alarm.billing")
    rec = f.recommendation
    assert rec is not None
    services = {c.after["ServiceName"] for c in rec.changes}
    assert services == {"AmazonECS", "AmazonRDS"}  # not AmazonEC2
    ecs = next(c for c in rec.changes if c.after["ServiceName"] == "AmazonECS")
    assert ecs.after["threshold"] == 44  # 36.04 x 1.2 rounded up: a monthly threshold
    assert "provider" not in (ecs.new_block or "")
    assert rec.monthly_cost_after > 0  # alarms cost, they do not save


def test_the_seeds_alarm_is_flagged() -> None:
    seed = res(
        "aws_cloudwatch_metric_alarm.high_cost",
        {
            "metric_name": "EstimatedCharges",
            "namespace": "AWS/Billing",
            "threshold": "50",
            "period": "21600",
            "dimensions": {"Currency": "USD", "ServiceName": "AmazonEC2"},
        },
    )
    f = one(run("cost_alarms", context([*STACK, seed], priced=PRICED)), address=seed.address)
    assert f.status is FindingStatus.OPPORTUNITY
    assert "AmazonEC2" in f.summary and "does not use" in f.summary
    rec = f.recommendation
    assert rec is not None
    dims = next(c for c in rec.changes if c.path.endswith(".dimensions"))
    assert dims.after["ServiceName"] == "AmazonECS"
    other_region = res(
        "aws_cloudwatch_metric_alarm.eu",
        {"metric_name": "EstimatedCharges", "threshold": 500},
        region="eu-west-1",
    )
    f2 = one(
        run("cost_alarms", context([*STACK, other_region], priced=PRICED)),
        address=other_region.address,
    )
    assert "us-east-1" in f2.summary


def test_no_budget_limit_from_an_unpriced_stack() -> None:
    f = one(run("cost_alarms", context(STACK)), address="aws_budgets_budget.monthly")
    assert f.status is FindingStatus.NO_CHANGE and f.recommendation is None


def billing_alarm(name: str, service: str) -> Resource:
    return res(
        f"aws_cloudwatch_metric_alarm.{name}",
        {
            "metric_name": "EstimatedCharges",
            "namespace": "AWS/Billing",
            "threshold": 200,
            "dimensions": {"Currency": "USD", "ServiceName": service},
        },
    )


def test_billing_alarms_skip_the_services_already_watched() -> None:
    # Re-running after the alarms were added (by a patch, under any name) adds none again.
    ecs = billing_alarm("mine", "AmazonECS")
    findings = run("cost_alarms", context([*STACK, ecs], priced=PRICED), billing_alarm=True)
    f = one(findings, address="aws_cloudwatch_metric_alarm.billing")
    assert f.recommendation is not None
    assert [c.after["ServiceName"] for c in f.recommendation.changes] == ["AmazonRDS"]
    rds = billing_alarm("billing_amazonrds", "AmazonRDS")
    findings = run("cost_alarms", context([*STACK, ecs, rds], priced=PRICED), billing_alarm=True)
    f = one(findings, address="aws_cloudwatch_metric_alarm.billing")
    assert f.status is FindingStatus.NO_CHANGE and f.recommendation is None


def test_a_budget_in_the_recommendations_file_is_recognised(tmp_path: Path) -> None:
    # The form `leanstack patch` writes: another name, a string limit, emails from a variable.
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "us-east-1"\n}\n')
    (tmp_path / "leanstack_recommendations.tf").write_text(
        'variable "cost_alert_emails" {\n  type = list(string)\n}\n\n'
        'resource "aws_budgets_budget" "monthly_cost" {\n'
        '  budget_type  = "COST"\n  limit_amount = "85.49"\n  limit_unit   = "USD"\n'
        '  time_unit    = "MONTHLY"\n\n  notification {\n'
        '    comparison_operator        = "GREATER_THAN"\n    threshold                  = 100\n'
        '    threshold_type             = "PERCENTAGE"\n    notification_type          = "ACTUAL"\n'
        "    subscriber_email_addresses = var.cost_alert_emails\n  }\n}\n"
    )
    loaded = load_stack(tmp_path)
    findings = run("cost_alarms", context([*STACK, *loaded.resources], priced=PRICED))
    assert not [f for f in findings if f.recommendation is not None]
    f = one(findings, address="aws_budgets_budget.monthly_cost")
    assert f.status is FindingStatus.NO_CHANGE
    assert "Budget limit $85.49" in f.summary and "FORECASTED" in f.summary


def test_the_budget_counts_what_the_headline_counts() -> None:
    # The RDS instance has a priced storage line but no price for its class: it is UNKNOWN and
    # the stack total leaves it out, so the budget must too (not $15.44 of it).
    rds = PricedResource(
        address="aws_db_instance.main",
        type="aws_db_instance",
        region="us-east-1",
        status=PricingStatus.UNKNOWN,
        components=(
            PriceComponent(
                name="storage",
                unit="GB-month",
                monthly_quantity=Decimal(20),
                unit_price=Decimal("0.115"),
            ),
            PriceComponent(
                name="instance", unit="hour", monthly_quantity=Decimal(730), unit_price=None
            ),
        ),
    )
    priced_stack = [priced("aws_ecs_service.app", "aws_ecs_service", "36.04"), rds]
    f = one(
        run("cost_alarms", context(STACK, priced=priced_stack)),
        address="aws_budgets_budget.monthly",
    )
    assert f.recommendation is not None
    assert f.recommendation.evidence["monthly_cost"] == "36.04"
    limit = -(-36.04 * 1.2 // 1)
    assert f'limit_amount = "{int(limit)}"' in (f.recommendation.changes[0].new_block or "")
