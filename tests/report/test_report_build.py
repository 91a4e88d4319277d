"""build_report: every figure comes from the inputs, and savings never double-count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from report_canonical import (
    FARGATE_GB,
    FARGATE_VCPU,
    STACK,
    canonical_report,
    priced,
)

from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus
from leanstack.report import CapacityInput, StackInput, build_report
from leanstack.report.model import Report
from leanstack.report.render import render
from leanstack.usage.series import MetricSeries

START = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(rec_id: str, savings: str, *, group: str = "",
         confidence: Confidence = Confidence.HIGH, phase: Phase = Phase.QUICK_WIN,
         before: str = "100", changes: tuple[AttributeChange, ...] = (),
         address: str = "aws_ecs_service.app", analyzer: str = "test") -> Recommendation:
    return Recommendation(
        id=rec_id, analyzer=analyzer, address=address, title=rec_id, phase=phase,
        changes=changes, monthly_cost_before=Decimal(before),
        monthly_cost_after=Decimal(before) - Decimal(savings), confidence=confidence,
        exclusive_group=group,
    )


def _build(recs: list[Recommendation] | None = None, *,
           resources: list[PricedResource] | None = None,
           metrics: dict[str, list[MetricSeries]] | None = None,
           capacity: tuple[CapacityInput, ...] = ()) -> Report:
    return build_report(
        priced=priced() if resources is None else resources, recommendations=recs or [],
        metrics=metrics, catalog_date="2026-11-26", catalog_source="test catalog",
        stack=StackInput(path="stacks/demo"), capacity=capacity, tool_version="test",
        generated_at=START,
    )


def _series(metric: str, values: np.ndarray, *, statistic: str = "Average", period_s: int = 60,
            resource: str = "aws_lb.main") -> MetricSeries:
    return MetricSeries(resource=resource, metric=metric, statistic=statistic, period_s=period_s,
                        start=START, values=values.astype(float))


def test_costs_come_from_quantities_and_catalog_prices() -> None:
    report = canonical_report()
    per_task = (Decimal("0.5") * FARGATE_VCPU.price + FARGATE_GB.price) * HOURS_PER_MONTH
    service = next(r for r in report.cost.resources if r.address == "aws_ecs_service.app")
    assert service.monthly_cost == (per_task * 2).quantize(Decimal("0.01"))
    assert str(per_task.quantize(Decimal("0.01"))) == "18.02"  # the seed said $29.15
    assert report.cost.total == sum(r.monthly_cost for r in report.cost.resources)
    assert sum(s.monthly_cost for s in report.cost.by_service) == report.cost.total
    fargate = next(s for s in report.cost.by_service if s.service == "ECS/Fargate")
    assert fargate.monthly_cost == service.monthly_cost
    assert report.cost.total_min is not None and report.cost.total_max is not None
    assert report.cost.total_min < report.cost.total < report.cost.total_max
    comp = service.components[0]
    assert comp.price_source == FARGATE_VCPU.source and comp.price_date == FARGATE_VCPU.source_date


def test_exclusive_groups_are_never_added() -> None:
    rightsize = replace(_rec("rightsize", "18", group="svc", confidence=Confidence.MEDIUM),
                        evidence={"monthly_savings_low": "15", "monthly_savings_high": "20"})
    report = _build([
        rightsize,
        _rec("spot", "12", group="svc", confidence=Confidence.MEDIUM, phase=Phase.ADVANCED),
        _rec("graviton", "7", group="svc", confidence=Confidence.HIGH, phase=Phase.MIGRATION),
        _rec("db", "1.46", group="db"),
        _rec("valkey", "3", group="cache", confidence=Confidence.LOW, phase=Phase.MIGRATION),
        _rec("lonely", "2", confidence=Confidence.MEDIUM),
    ])
    t = report.totals
    # expected: the best of each group -> rightsize 18 + db 1.46 + valkey 3 + lonely 2
    assert t.monthly_savings == Decimal("24.46")
    # low: no low-confidence, low estimates -> rightsize 15 + db 1.46 + lonely 2
    assert t.monthly_savings_low == Decimal("18.46")
    # high: high estimates, still one per group -> 20 + 1.46 + 3 + 2
    assert t.monthly_savings_high == Decimal("26.46")
    assert t.annual_savings == t.monthly_savings * 12
    assert t.annual_savings_low == t.monthly_savings_low * 12
    assert t.annual_savings_high == t.monthly_savings_high * 12
    assert t.monthly_cost_after == t.monthly_cost - t.monthly_savings
    counted = {r.id for r in report.recommendations if r.counted}
    assert counted == {"rightsize", "db", "valkey", "lonely"}
    assert [r.id for r in report.recommendations][:2] == ["rightsize", "spot"]


def test_phases_add_up_to_the_totals_and_ranges_are_ordered() -> None:
    report = _build([
        _rec("rightsize", "18", group="svc", confidence=Confidence.MEDIUM),
        _rec("spot", "25", group="svc", confidence=Confidence.MEDIUM, phase=Phase.ADVANCED),
        _rec("graviton", "7", group="svc", phase=Phase.MIGRATION),
        _rec("valkey", "3", group="cache", confidence=Confidence.LOW, phase=Phase.MIGRATION),
    ])
    phases = {p.phase: p for p in report.phases}
    assert list(phases) == ["quick_win", "advanced", "migration"]
    assert phases["quick_win"].monthly_savings_added == Decimal(18)
    # spot replaces rightsizing in the same group: it adds only the difference
    assert phases["advanced"].monthly_savings_added == Decimal(7)
    assert phases["migration"].monthly_savings_added == Decimal(3)
    assert sum(p.monthly_savings_added for p in report.phases) == report.totals.monthly_savings
    for p in report.phases:
        assert (p.cumulative_monthly_savings_low <= p.cumulative_monthly_savings
                <= p.cumulative_monthly_savings_high)
    assert [p.cumulative_monthly_savings_low for p in report.phases] == [18, 25, 25]
    last = report.phases[-1]
    assert last.cumulative_monthly_savings_low == report.totals.monthly_savings_low
    assert last.cumulative_monthly_savings_high == report.totals.monthly_savings_high
    assert phases["migration"].recommendation_ids == ["graviton", "valkey"]


def test_a_change_that_costs_more_is_never_counted_as_a_saving() -> None:
    report = _build([
        _rec("pi", "-3.10", group="db"),
        _rec("alarm", "-0.10"),
        _rec("resize", "5", confidence=Confidence.MEDIUM),
    ])
    t = report.totals
    assert (t.monthly_savings_low, t.monthly_savings, t.monthly_savings_high) == (5, 5, 5)
    assert {r.id for r in report.recommendations if r.counted} == {"resize"}


def test_only_opportunities_are_recommendations() -> None:
    rec = _rec("lower-target", "-4")
    finding = Finding(analyzer="autoscaling", address="aws_appautoscaling_policy.cpu",
                      status=FindingStatus.NO_CHANGE, summary="raises cost", recommendation=rec)
    report = build_report(priced=[], findings=[finding], catalog_date="d", catalog_source="s",
                          stack=STACK, generated_at=START, tool_version="t")
    assert report.recommendations == []
    assert report.findings[0].recommendation_id is None


def test_generated_monitoring_budget_and_billing_alarm() -> None:
    report = _build([])
    mon = report.monitoring
    assert mon.source == "generated"
    assert mon.monthly_budget == (report.totals.monthly_cost * Decimal("1.2")).quantize(
        Decimal("0.01"))
    budget = next(b for b in mon.blocks if b.kind == "budget").hcl
    assert f'limit_amount = "{mon.monthly_budget}"' in budget
    assert 'notification_type          = "ACTUAL"' in budget
    assert 'notification_type          = "FORECASTED"' in budget
    assert 'name         = "demo-monthly-cost"' in budget
    alarm = next(b for b in mon.blocks if b.kind == "alarm").hcl
    assert '"EstimatedCharges"' in alarm and "aws.billing" in alarm
    assert f"threshold           = {mon.monthly_budget}" in alarm
    provider = next(b for b in mon.blocks if b.kind == "provider").hcl
    assert 'region = "us-east-1"' in provider
    # Fargate bills under ECS, the ALB under EC2, the queue under AWSQueueService.
    assert {"AmazonECS", "AmazonEC2", "AWSQueueService", "AmazonRDS"} <= set(
        mon.billing_service_names)
    assert "AmazonEC2" in mon.billing_service_names
    assert any("month-to-date" in n for n in mon.notes)


def test_monitoring_comes_from_the_cost_alarm_recommendations_when_present() -> None:
    block = ('resource "aws_budgets_budget" "b" {\n  limit_amount = "250"\n}\n')
    report = _build([
        Recommendation(
            id="cost_alarms:budget", analyzer="cost_alarms", address="aws_budgets_budget.b",
            title="budget", phase=Phase.QUICK_WIN,
            changes=(AttributeChange(path="aws_budgets_budget.b", before=None, after=None,
                                     new_block=block),),
            monthly_cost_before=Decimal(0), monthly_cost_after=Decimal(0),
            confidence=Confidence.HIGH),
    ])
    mon = report.monitoring
    assert mon.source == "recommendations"
    assert mon.monthly_budget == Decimal(250)
    assert [(b.kind, b.address, b.recommendation_id) for b in mon.blocks] == [
        ("budget", "aws_budgets_budget.b", "cost_alarms:budget")]


def test_success_metrics_from_load_balancer_series() -> None:
    n = 2 * 24 * 60
    latency = np.full(n, 0.2)
    latency[: n // 2] = 0.1
    report = _build([_rec("r", "10")], metrics={"aws_lb.main": [
        _series("RequestCount", np.full(n, 100), statistic="Sum"),
        _series("HTTPCode_Target_5XX_Count", np.full(n, 1), statistic="Sum"),
        _series("TargetResponseTime", latency),
    ]})
    metrics = {m.name: m for m in report.success_metrics}
    monthly_requests = Decimal(100) * HOURS_PER_MONTH * 60
    cost = report.totals.monthly_cost
    per_million = metrics["Cost per 1M requests"]
    assert per_million.current == str(
        (cost / monthly_requests * 1_000_000).quantize(Decimal("0.01")))
    assert per_million.target == str(
        (report.totals.monthly_cost_after / monthly_requests * 1_000_000).quantize(
            Decimal("0.01")))
    assert metrics["Availability (requests without 5xx)"].current == "99.000"
    assert metrics["Response time p50"].current == "150"  # median of half 100 ms, half 200 ms
    assert metrics["Response time p95"].current == "200"
    assert "per-period Average" in metrics["Response time p95"].source
    reduction = metrics["Infrastructure cost reduction"]
    assert reduction.target == str((Decimal(10) / cost * 100).quantize(Decimal("0.1")))


def test_recorded_percentile_statistics_are_preferred() -> None:
    n = 24 * 60
    p95 = np.full(n, 0.5)
    p95[:10] = 3.0  # a few slow minutes do not make the typical p95
    report = _build(metrics={"aws_lb.main": [
        _series("TargetResponseTime", np.full(n, 0.1)),
        _series("TargetResponseTime", p95, statistic="p95"),
        _series("TargetResponseTime", np.full(n, 9.0), statistic="p99"),
    ]})
    metrics = {m.name: m for m in report.success_metrics}
    assert metrics["Response time p95"].current == "500"
    assert "recorded p95" in metrics["Response time p95"].source
    assert metrics["Response time p50"].current == "100"  # from Average, never from p99


def test_success_metrics_without_series_say_not_recorded() -> None:
    metrics = {m.name: m for m in _build([]).success_metrics}
    assert metrics["Cost per 1M requests"].current is None
    assert metrics["Response time p95"].current is None
    assert "not recorded" in metrics["Availability (requests without 5xx)"].source


def test_load_statistics_downsampling_and_capacity_lines() -> None:
    n = 90 * 24 * 60  # 90 days of 1-minute points
    cpu = np.full(n, 10.0)
    cpu[5000] = 97.0  # one minute at the peak must survive downsampling
    cpu[100:200] = np.nan
    resize = _rec("resize", "5", changes=(
        AttributeChange(path="aws_ecs_task_definition.app.cpu", before="1024", after="256"),))
    report = _build([resize], metrics={"aws_ecs_service.app": [
        _series("CPUUtilization", cpu, resource="aws_ecs_service.app")]})
    metric = report.load.resources[0].metrics[0]
    assert len(metric.series.values) <= 400
    assert max(v for v in metric.series.values if v is not None) == 97.0
    assert metric.max == 97.0 and metric.p50 == 10.0
    assert metric.coverage == round((n - 100) / n, 4)
    assert metric.window.days == 90.0
    assert [(c.kind, c.value) for c in metric.capacity] == [("before", 100.0), ("after", 25.0)]


def test_scaling_target_lines_follow_the_policy_change() -> None:
    policy = _rec("autoscaling", "1", changes=(AttributeChange(
        path="aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration"
             ".target_value", before=70, after=75),))
    cpu = _series("CPUUtilization", np.full(600, 40.0), resource="aws_ecs_service.app")
    memory = _series("MemoryUtilization", np.full(600, 30.0), resource="aws_ecs_service.app")
    report = _build([policy], metrics={"aws_ecs_service.app": [cpu, memory]})
    lines = {m.metric: [(c.kind, c.label, c.value) for c in m.capacity]
             for m in report.load.resources[0].metrics}
    assert lines["CPUUtilization"] == [
        ("before", "current capacity", 100.0),
        ("target", "target now", 70.0),
        ("target", "target after", 75.0),
    ]
    assert lines["MemoryUtilization"] == [("before", "current capacity", 100.0)]


def test_explicit_capacity_and_minimum_statistic() -> None:
    healthy = np.full(48 * 60, 2.0)
    healthy[30] = 0.0
    report = _build(metrics={"aws_lb.main": [
        _series("HealthyHostCount", healthy, statistic="Minimum")]},
        capacity=(CapacityInput(address="aws_lb.main", metric="HealthyHostCount",
                                label="desired", value=2.0),))
    metric = report.load.resources[0].metrics[0]
    assert metric.series.aggregation == "min"
    assert metric.series.values[0] == 0.0  # the dip is kept, not hidden by a max
    assert [(c.label, c.value) for c in metric.capacity] == [("desired", 2.0)]


def test_no_data_is_a_result_not_a_crash() -> None:
    empty = np.full(100, np.nan)
    report = _build(metrics={"aws_lb.main": [_series("RequestCount", empty, statistic="Sum")]})
    metric = report.load.resources[0].metrics[0]
    assert (metric.points, metric.p95, metric.max) == (0, None, None)
    assert set(metric.series.values) == {None}
    assert Report.from_json(report.to_json()) == report  # money is in cents from the start


def test_evidence_and_findings_become_json() -> None:
    rec = _rec("r", "1")
    finding = Finding(
        analyzer="a", address="aws_lb.main", status=FindingStatus.OPPORTUNITY,
        summary="s", evidence={"p95": np.float64(1.5), "nan": float("nan"),
                               "price": Decimal("0.0405"), "when": START, "tags": {"b", "a"}},
        recommendation=rec)
    report = build_report(priced=[], findings=[finding], catalog_date="d", catalog_source="s",
                          stack=STACK, generated_at=START, tool_version="t")
    out = report.to_json()["findings"][0]
    assert out["evidence"] == {"p95": 1.5, "nan": None, "price": "0.0405",
                               "when": "2026-01-01T00:00:00+00:00", "tags": ["a", "b"]}
    assert out["recommendation_id"] == "r"
    assert [r.id for r in report.recommendations] == ["r"]


def test_derived_prices_are_listed_with_their_users() -> None:
    report = canonical_report()
    derived = report.catalog.derived_prices_used
    assert [(d.service, d.price_basis, d.used_by) for d in derived] == [
        ("cloudwatch", "list_per_metric", ["aws_cloudwatch_metric_alarm.cpu_high"])]


def test_unpriced_components_do_not_become_zero_silently() -> None:
    res = PricedResource(
        address="aws_nat_gateway.x", type="aws_nat_gateway", region="us-east-1",
        status=PricingStatus.UNKNOWN,
        components=(PriceComponent(name="Data processed", unit="GB", monthly_quantity=None,
                                   unit_price=Decimal("0.045"), usage_based=True),),
    )
    report = _build(resources=[res])
    comp = report.cost.resources[0].components[0]
    assert comp.monthly_quantity is None and comp.monthly_cost is None
    assert report.cost.resources[0].status == "unknown"
    assert report.to_json()["cost"]["resources"][0]["components"][0]["monthly_cost"] is None


@pytest.mark.parametrize("fmt", ["2026-11-26T12:00:00Z"])
def test_generated_at_is_utc_iso(fmt: str) -> None:
    assert canonical_report().generated_at == fmt


def test_no_second_budget_when_the_stack_has_one() -> None:
    budget = PricedResource(address="aws_budgets_budget.monthly", type="aws_budgets_budget",
                            region="us-east-1", status=PricingStatus.FREE)
    report = _build([], resources=[*priced(), budget])
    mon = report.monitoring
    assert mon.blocks == []
    assert "aws_budgets_budget.monthly" in mon.notes[0]
    for fmt in ("table", "markdown", "html"):
        text = render(report, fmt)
        assert "already" in text and "monthly_cost" not in text.split("Monitoring")[-1]
