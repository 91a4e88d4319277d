"""aws_lb / aws_alb: load balancer hours and LCU-hours.

LCUs follow AWS's per-hour dimensions for an Application Load Balancer (25 new connections/s,
3,000 active connections/min, 1 GB processed/h, 1,000 rule evaluations/s); infracost divides
new connections by 100, which understates them. Usage keys keep infracost's names and units.
"""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import HOURS, Components, plain, soft, unsupported, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("new_connections", "new connections per second, on average", "connections/s"),
    UsageKey("active_connections", "active connections per minute, on average", "connections/min"),
    UsageKey("processed_bytes_gb", "data processed per hour, on average", "GB/hour"),
    UsageKey("rule_evaluations", "rule evaluations per second, on average", "evaluations/s"),
)

# Per-LCU capacity of each ALB dimension (per hour of LCU).
ALB_LCU = {
    "new_connections": Decimal(25),
    "active_connections": Decimal(3000),
    "processed_bytes_gb": Decimal(1),
    "rule_evaluations": Decimal(1000),
}
FREE_RULES_PER_REQUEST = Decimal(10)


@cost_model("aws_lb", "aws_alb", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a load balancer."""
    lb_type = str(soft(resource, "load_balancer_type", "application")).lower()
    components = Components(resource, ctx)
    hour_query = PriceQuery.of(
        "alb", components.region, usage_type="LoadBalancerUsage", lb_type=lb_type
    )
    if components.lookup(hour_query) is None and lb_type != "application":
        return unsupported(
            resource, f"no {lb_type} load balancer prices in the catalog for {components.region}"
        )
    label = {"application": "Application", "network": "Network", "gateway": "Gateway"}.get(
        lb_type, lb_type
    )
    components.add(
        f"{label} load balancer", "hours", HOURS, hour_query, what=f"{lb_type} load balancer hours"
    )
    given = {key: usage_number(ctx, key) for key in ALB_LCU}
    lcu_hours = None
    note = ""
    if any(v is not None for v in given.values()):
        per_dimension = {key: (value or Decimal(0)) / ALB_LCU[key] for key, value in given.items()}
        dominant = max(per_dimension, key=lambda k: per_dimension[k])
        lcu_hours = per_dimension[dominant] * HOURS
        note = f"{plain(per_dimension[dominant])} LCU per hour, set by {dominant}"
    components.add(
        "Load balancer capacity units",
        "LCU-hours",
        lcu_hours,
        PriceQuery.of("alb", components.region, usage_type="LCUUsage", lb_type=lb_type),
        what=f"{lb_type} load balancer LCU",
        usage_based=True,
        note=note,
    )
    return components.result(details={"load_balancer_type": lb_type})
