"""aws_api_gateway_rest_api: REST API requests, tiered (333M / 667M / 19B / over 20B)."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import MILLION, Components, split_tiers, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (UsageKey("monthly_requests", "REST API requests per month", "requests"),)

TIERS: tuple[tuple[str, Decimal | None], ...] = (
    ("first 333M", Decimal(333_000_000)),
    ("next 667M", Decimal(667_000_000)),
    ("next 19B", Decimal(19_000_000_000)),
    ("over 20B", None),
)


@cost_model("aws_api_gateway_rest_api", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a REST API's requests (the cache cluster lives on aws_api_gateway_stage)."""
    components = Components(resource, ctx)

    def query(tier: int) -> PriceQuery:
        return PriceQuery.of("apigateway", components.region, api_type="rest", tier=str(tier))

    requests = usage_number(ctx, "monthly_requests")
    if requests is None:
        components.add(
            "Requests",
            "1M requests",
            None,
            query(1),
            what="API Gateway REST requests",
            usage_based=True,
        )
        return components.result()
    for position, ((label, _), amount) in enumerate(
        zip(TIERS, split_tiers(requests, [s for _, s in TIERS]), strict=True)
    ):
        if amount <= 0 and position > 0:
            continue
        components.add(
            f"Requests ({label})",
            "1M requests",
            amount / MILLION,
            query(position + 1),
            what=f"API Gateway REST requests tier {position + 1}",
            usage_based=True,
        )
    return components.result()
