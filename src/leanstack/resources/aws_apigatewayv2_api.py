"""aws_apigatewayv2_api: HTTP API requests in 512 KB increments (tiered); WebSocket messages
and connection minutes when the catalog has them."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    MILLION,
    Components,
    ceil_div,
    soft,
    split_tiers,
    unsupported,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("monthly_requests", "HTTP API requests per month", "requests"),
    UsageKey("request_size_kb", "average request size; billed in 512 KB increments", "KB"),
    UsageKey("monthly_messages", "WebSocket messages per month", "messages"),
    UsageKey("message_size_kb", "average message size; billed in 32 KB increments", "KB"),
    UsageKey("monthly_connection_mins", "WebSocket connection minutes per month", "minutes"),
)

HTTP_TIERS: tuple[tuple[str, Decimal | None], ...] = (
    ("first 300M", Decimal(300_000_000)),
    ("over 300M", None),
)


@cost_model("aws_apigatewayv2_api", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price an HTTP or WebSocket API."""
    protocol = str(soft(resource, "protocol_type", "HTTP")).upper()
    components = Components(resource, ctx)
    region = components.region
    if protocol == "WEBSOCKET":
        message_query = PriceQuery.of("apigateway", region, api_type="websocket")
        if components.lookup(message_query) is None:
            return unsupported(resource, f"no WebSocket API prices in the catalog for {region}")
        messages = usage_number(ctx, "monthly_messages")
        size = usage_number(ctx, "message_size_kb")
        chunks = ceil_div(size, Decimal(32)) if size is not None else Decimal(1)
        components.add(
            "Messages",
            "1M messages",
            None if messages is None else messages * chunks / MILLION,
            message_query,
            what="API Gateway WebSocket messages",
            usage_based=True,
        )
        minutes = usage_number(ctx, "monthly_connection_mins")
        components.add(
            "Connection duration",
            "1M minutes",
            None if minutes is None else minutes / MILLION,
            PriceQuery.of("apigateway", region, api_type="websocket-connection"),
            what="API Gateway WebSocket connection minutes",
            usage_based=True,
        )
        return components.result(details={"protocol": protocol})

    def query(tier: int) -> PriceQuery:
        return PriceQuery.of("apigateway", region, api_type="http", tier=str(tier))

    requests = usage_number(ctx, "monthly_requests")
    if requests is None:
        components.add(
            "Requests",
            "1M requests",
            None,
            query(1),
            what="API Gateway HTTP requests",
            usage_based=True,
        )
        return components.result(details={"protocol": protocol})
    size = usage_number(ctx, "request_size_kb")
    billed = requests * (ceil_div(size, Decimal(512)) if size is not None else Decimal(1))
    for position, ((label, _), amount) in enumerate(
        zip(HTTP_TIERS, split_tiers(billed, [s for _, s in HTTP_TIERS]), strict=True)
    ):
        if amount <= 0 and position > 0:
            continue
        components.add(
            f"Requests ({label})",
            "1M requests",
            amount / MILLION,
            query(position + 1),
            what=f"API Gateway HTTP requests tier {position + 1}",
            usage_based=True,
        )
    return components.result(details={"protocol": protocol})
