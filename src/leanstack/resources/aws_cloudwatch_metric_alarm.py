"""aws_cloudwatch_metric_alarm: per alarm metric, standard or high resolution (period < 60 s);
metric-math alarms pay for each metric in the query, anomaly detection for three."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import Components, soft, soft_number
from leanstack.resources._registry import PricingContext, cost_model

ANOMALY_OPERATORS = {
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
}


@cost_model("aws_cloudwatch_metric_alarm")
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price one alarm."""
    queries = resource.blocks("metric_query")
    metrics = sum(1 for q in queries if q.get("metric")) if queries else 1
    period = soft_number(resource, "period")
    if period is None and queries:
        periods = [
            p
            for q in queries
            for m in (q.get("metric") or [])
            if isinstance(m, dict)
            for p in [m.get("period")]
            if p
        ]
        period = Decimal(str(min(periods))) if periods else None
    high_res = period is not None and period < 60
    anomaly = soft(resource, "comparison_operator") in ANOMALY_OPERATORS
    quantity = Decimal(max(metrics, 1) * (3 if anomaly else 1))
    alarm_type = "high-resolution" if high_res else "standard"
    components = Components(resource, ctx)
    note = "anomaly detection bills 3 metrics per metric" if anomaly else ""
    components.add(
        f"{'High' if high_res else 'Standard'} resolution alarm metrics",
        "alarm metrics",
        quantity,
        PriceQuery.of("cloudwatch", components.region, alarm_type=alarm_type),
        what=f"CloudWatch {alarm_type} alarm",
        note=note,
    )
    return components.result()
