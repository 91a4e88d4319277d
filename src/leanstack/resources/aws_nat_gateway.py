"""aws_nat_gateway: hours and data processed."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import HOURS, Components, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (UsageKey("monthly_data_processed_gb", "data processed per month", "GB"),)


@cost_model("aws_nat_gateway", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a NAT gateway (private NAT gateways are billed the same per hour and GB)."""
    components = Components(resource, ctx)
    components.add(
        "NAT gateway",
        "hours",
        HOURS,
        PriceQuery.of("nat-gateway", components.region, usage_type="NatGateway-Hours"),
        what="NAT gateway hours",
    )
    components.add(
        "Data processed",
        "GB",
        usage_number(ctx, "monthly_data_processed_gb"),
        PriceQuery.of("nat-gateway", components.region, usage_type="NatGateway-Bytes"),
        what="NAT gateway data processed",
        usage_based=True,
    )
    return components.result()
