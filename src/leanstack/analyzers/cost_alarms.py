"""Cost alarms: an AWS Budgets budget, and billing alarms that actually work."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    AnalyzerSettings,
    as_number,
    register,
)
from leanstack.analyzers._pricing import unit_price
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.resource import Resource

# Billing `ServiceName` dimension per Terraform type (the Price List service codes AWS uses
# in the AWS/Billing EstimatedCharges metric).
SERVICE_NAMES: dict[str, str] = {
    "aws_ecs_service": "AmazonECS",
    "aws_db_instance": "AmazonRDS",
    "aws_rds_cluster": "AmazonRDS",
    "aws_rds_cluster_instance": "AmazonRDS",
    "aws_elasticache_cluster": "AmazonElastiCache",
    "aws_elasticache_replication_group": "AmazonElastiCache",
    "aws_elasticache_serverless_cache": "AmazonElastiCache",
    "aws_sqs_queue": "AWSQueueService",
    "aws_lambda_function": "AWSLambda",
    "aws_lb": "AWSELB",
    "aws_alb": "AWSELB",
    "aws_nat_gateway": "AmazonEC2",
    "aws_instance": "AmazonEC2",
    "aws_cloudwatch_log_group": "AmazonCloudWatch",
    "aws_cloudwatch_metric_alarm": "AmazonCloudWatch",
    "aws_apigatewayv2_api": "AmazonApiGateway",
    "aws_api_gateway_rest_api": "AmazonApiGateway",
    "aws_secretsmanager_secret": "AWSSecretsManager",
    "aws_ecr_repository": "AmazonECR",
    "aws_cloudfront_distribution": "AmazonCloudFront",
}
BILLING_REGION = "us-east-1"


class CostAlarmSettings(AnalyzerSettings):
    """Budget and alarm thresholds.

    The budget's monthly limit is the estimated monthly cost plus 20%, rounded up to whole
    dollars, so normal month-to-month variation does not alert. AWS Budgets notifies on actual
    spend and on the end-of-month forecast; both fire at 100% of the limit. The CloudWatch
    EstimatedCharges alarm is optional (its metric exists only in us-east-1, is month-to-date,
    and updates every few hours) and costs one standard alarm per service.
    """

    margin: float = Field(0.20, ge=0, description="Budget limit = monthly cost x (1 + margin).")
    email: str = Field("billing-alerts@example.com", description="Who the budget notifies.")
    billing_alarm: bool = Field(False, description="Also add EstimatedCharges alarms per service.")


def _is_billing_alarm(resource: Resource) -> bool:
    return (
        resource.type == "aws_cloudwatch_metric_alarm"
        and resource.get("metric_name") == "EstimatedCharges"
    )


def _limit(cost: Decimal, margin: float) -> int:
    return max(1, math.ceil(float(cost) * (1 + margin)))


@register
class CostAlarms(Analyzer[CostAlarmSettings]):
    """Add an AWS Budgets budget with actual and forecast notifications; check billing alarms.

    Any existing budget counts, whatever its name or file (one added by `leanstack patch` in
    leanstack_recommendations.tf included): the stack then gets no second budget, only a
    check of the one it has. With `billing_alarm`, services an existing EstimatedCharges alarm
    already watches get no new alarm.

    An existing EstimatedCharges alarm is checked: it must be in us-east-1, treat the metric
    as month-to-date (a monthly threshold, not a daily one) and watch the ServiceName of
    services the stack uses (AmazonECS for Fargate, not AmazonEC2).
    """

    name = "cost_alarms"
    title = "Cost alarms"
    applies_to = frozenset({"aws_budgets_budget", "aws_cloudwatch_metric_alarm"})
    settings_model = CostAlarmSettings

    def analyze(self, ctx: AnalysisContext, settings: CostAlarmSettings) -> Iterable[Finding]:
        per_service: dict[str, Decimal] = defaultdict(Decimal)
        for address, priced in ctx.priced.items():
            res = ctx.resources.get(address)
            name = SERVICE_NAMES.get(res.type if res else priced.type)
            if name:
                per_service[name] += priced.counted_cost
        # Billing alarms do not make the stack a CloudWatch user worth its own alarm: counting
        # them would propose an AmazonCloudWatch alarm on the run after they were added.
        used = {
            SERVICE_NAMES[r.type]
            for r in ctx.resources.values()
            if r.type in SERVICE_NAMES and not _is_billing_alarm(r)
        }
        total = sum((p.counted_cost for p in ctx.priced.values()), Decimal(0))
        watched: set[str] = set()
        for alarm in ctx.of_type("aws_cloudwatch_metric_alarm"):
            if alarm.get("metric_name") == "EstimatedCharges":
                dims = alarm.get("dimensions")
                if isinstance(dims, dict) and isinstance(dims.get("ServiceName"), str):
                    watched.add(dims["ServiceName"])
                yield self._check_alarm(alarm, used, per_service, total, settings.margin)
            else:
                yield self.finding(alarm, FindingStatus.NOT_APPLICABLE, "Not a billing alarm.")
        budgets = ctx.of_type("aws_budgets_budget")
        if budgets:
            for budget in budgets:
                yield self._check_budget(budget, total)
        else:
            yield self._budget(ctx, settings, total)
        if settings.billing_alarm:
            if used - watched:
                yield self._alarms(ctx, settings, per_service, used - watched)
            else:
                yield self.finding(
                    "aws_cloudwatch_metric_alarm.billing",
                    FindingStatus.NO_CHANGE,
                    "Every service this stack uses already has an EstimatedCharges alarm.",
                    {"services": sorted(used)},
                )

    def _check_budget(self, budget: Resource, total: Decimal) -> Finding:
        notes = [str(n.get("notification_type")) for n in budget.blocks("notification")]
        missing = [t for t in ("ACTUAL", "FORECASTED") if t not in notes]
        limit = as_number(budget.get("limit_amount"))
        summary = (
            f"Budget limit ${limit:,.2f} against ${total:.2f}/month estimated."
            if limit
            else "Budget present."
        )
        if missing:
            summary += f" Missing {' and '.join(missing)} notification(s)."
        return self.finding(budget, FindingStatus.NO_CHANGE, summary, {"notifications": notes})

    def _check_alarm(
        self,
        alarm: Resource,
        used: set[str],
        per_service: dict[str, Decimal],
        total: Decimal,
        margin: float,
    ) -> Finding:
        problems = []
        dims = alarm.get("dimensions") or {}
        service = dims.get("ServiceName") if isinstance(dims, dict) else None
        if alarm.region != BILLING_REGION:
            problems.append(
                f"EstimatedCharges exists only in {BILLING_REGION}; this alarm is in "
                f"{alarm.region} and never gets data"
            )
        if service and service not in used:
            problems.append(
                f"it watches ServiceName={service}, which this stack does not use (it uses "
                f"{', '.join(sorted(used))})"
            )
        threshold = as_number(alarm.get("threshold"))
        expected = per_service.get(str(service), total) if service else total
        if threshold is not None and expected > 0 and Decimal(str(threshold)) < expected:
            problems.append(
                f"EstimatedCharges is month-to-date: a threshold of {threshold:g} is crossed "
                "every month "
                f"by the expected ${expected:.2f}; use a monthly threshold"
            )
        evidence = {
            "service": service,
            "threshold": threshold,
            "expected_monthly": str(expected.quantize(Decimal("0.01"))),
        }
        if not problems:
            return self.finding(
                alarm, FindingStatus.NO_CHANGE, "The billing alarm is set up correctly.", evidence
            )
        changes = []
        new_service = service
        if service and service not in used and per_service:
            new_service = max(per_service, key=lambda k: per_service[k])
            changes.append(
                AttributeChange(
                    path=f"{alarm.address}.dimensions",
                    before=dims,
                    after={**dims, "ServiceName": new_service},
                )
            )
        monthly = per_service.get(str(new_service), total) if new_service else total
        new_threshold = _limit(monthly, margin)
        if threshold is None or threshold != new_threshold:
            changes.append(
                AttributeChange(
                    path=f"{alarm.address}.threshold",
                    before=alarm.get("threshold"),
                    after=new_threshold,
                )
            )
        risks = ["Billing metrics need 'Receive Billing Alerts' turned on in the account."]
        if alarm.region != BILLING_REGION:
            risks.append(
                f"Move the alarm to {BILLING_REGION} (a provider alias), where the metric exists."
            )
        rec = Recommendation(
            id=self.rec_id(alarm.address, "fix"),
            analyzer=self.name,
            address=alarm.address,
            title="Make the billing alarm watch this stack's services with a monthly threshold",
            phase=Phase.QUICK_WIN,
            changes=tuple(changes),
            monthly_cost_before=Decimal(0),
            monthly_cost_after=Decimal(0),
            confidence=Confidence.HIGH,
            evidence=evidence,
            risks=tuple(risks),
            exclusive_group=f"alarm:{alarm.address}",
        )
        return self.finding(
            alarm,
            FindingStatus.OPPORTUNITY,
            "Billing alarm will not work as intended: " + "; ".join(problems) + ".",
            evidence,
            rec,
        )

    def _budget(self, ctx: AnalysisContext, s: CostAlarmSettings, total: Decimal) -> Finding:
        name = "monthly"
        address = f"aws_budgets_budget.{name}"
        if total < 1:
            # Nothing priced (usage unknown): a limit derived from $0 would alert on day one.
            return self.finding(
                address,
                FindingStatus.NO_CHANGE,
                f"No budget, but the estimate is ${total:.2f}/month (usage-based costs unknown): "
                "add an AWS Budgets budget at the spend you expect, with actual and forecast "
                "notifications.",
                {"monthly_cost": str(total.quantize(Decimal("0.01")))},
            )
        limit = _limit(total, s.margin)
        block = (
            f'resource "aws_budgets_budget" "{name}" {{\n'
            f'  name         = "monthly-cost"\n'
            '  budget_type  = "COST"\n'
            f'  limit_amount = "{limit}"\n'
            '  limit_unit   = "USD"\n'
            '  time_unit    = "MONTHLY"\n'
        )
        for kind in ("ACTUAL", "FORECASTED"):
            block += (
                "\n  notification {\n"
                '    comparison_operator        = "GREATER_THAN"\n'
                "    threshold                  = 100\n"
                '    threshold_type             = "PERCENTAGE"\n'
                f'    notification_type          = "{kind}"\n'
                f'    subscriber_email_addresses = ["{s.email}"]\n'
                "  }\n"
            )
        block += "}\n"
        evidence = {
            "monthly_cost": str(total.quantize(Decimal("0.01"))),
            "limit_usd": limit,
            "margin": s.margin,
        }
        rec = Recommendation(
            id=self.rec_id(address, "budget"),
            analyzer=self.name,
            address=address,
            title=f"Add a monthly budget of ${limit} with actual and forecast alerts",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=address, before=None, after={"limit_amount": str(limit)}, new_block=block
                ),
            ),
            monthly_cost_before=Decimal(0),
            monthly_cost_after=Decimal(0),
            confidence=Confidence.HIGH,
            evidence=evidence,
            risks=(f"Replace {s.email} with a monitored address.",),
            assumptions=(
                "AWS Budgets: the first two budgets of an account are free (not a catalog price).",
            ),
            exclusive_group=f"alarm:{address}",
        )
        return self.finding(
            address,
            FindingStatus.OPPORTUNITY,
            f"No budget: add one at ${limit}/month (estimate ${total:.2f} + {s.margin:.0%}) that "
            "emails on "
            "actual and forecast spend. It guards cost; it does not save.",
            evidence,
            rec,
        )

    def _alarms(
        self,
        ctx: AnalysisContext,
        s: CostAlarmSettings,
        per_service: dict[str, Decimal],
        used: set[str],
    ) -> Finding:
        price = unit_price(
            ctx.catalog,
            "cloudwatch",
            BILLING_REGION,
            unit="alarm-metric-month",
            alarm_type="standard",
        )
        regions = {r.region for r in ctx.resources.values()}
        provider = "" if regions <= {BILLING_REGION} else "  provider            = aws.us_east_1\n"
        blocks = []
        changes = []
        for service in sorted(used):
            threshold = _limit(per_service.get(service, Decimal(0)), s.margin)
            name = f"billing_{service.lower()}"
            block = (
                f'resource "aws_cloudwatch_metric_alarm" "{name}" {{\n'
                + provider
                + f'  alarm_name          = "estimated-charges-{service}"\n'
                '  namespace           = "AWS/Billing"\n'
                '  metric_name         = "EstimatedCharges"\n'
                '  statistic           = "Maximum"\n'
                "  period              = 21600\n"
                "  evaluation_periods  = 1\n"
                '  comparison_operator = "GreaterThanThreshold"\n'
                f"  threshold           = {threshold}\n"
                f'  alarm_description   = "{service} month-to-date charges above '
                f'the monthly {threshold} USD"\n'
                f'  dimensions = {{\n    Currency    = "USD"\n    ServiceName = "{service}"\n  }}\n'
                "}\n"
            )
            blocks.append(block)
            changes.append(
                AttributeChange(
                    path=f"aws_cloudwatch_metric_alarm.{name}",
                    before=None,
                    after={"ServiceName": service, "threshold": threshold},
                    new_block=block,
                )
            )
        cost = price.price * len(changes) if price else Decimal(0)
        address = "aws_cloudwatch_metric_alarm.billing"
        rec = Recommendation(
            id=self.rec_id(address, "billing-alarms"),
            analyzer=self.name,
            address=address,
            title=(
                f"Add {len(changes)} EstimatedCharges alarm(s), one per service used, in us-east-1"
            ),
            phase=Phase.QUICK_WIN,
            changes=tuple(changes),
            monthly_cost_before=Decimal(0),
            monthly_cost_after=cost,
            confidence=Confidence.HIGH,
            evidence={"services": sorted(used), "alarm_price": str(price.price) if price else None},
            risks=(
                "Billing metrics need 'Receive Billing Alerts' turned on in the account's billing "
                "preferences.",
                "EstimatedCharges is month-to-date and resets on the 1st; it updates every few "
                "hours.",
            ),
            assumptions=(f"{len(changes)} standard alarm(s) at the catalog alarm price.",),
            exclusive_group=f"alarm:{address}",
        )
        return self.finding(
            address,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: they cost ${cost:.2f}/month and alert on each service's monthly "
            "threshold.",
            rec.evidence,
            rec,
        )
