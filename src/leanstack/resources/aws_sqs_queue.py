"""aws_sqs_queue: requests in 64 KB chunks, standard or FIFO, tiered, with the 1M free
requests as their own line (the allowance is per account, shared by all queues)."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    FREE_TIER_NOTE,
    MILLION,
    Components,
    ceil_div,
    soft_flag,
    split_tiers,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("monthly_requests", "API requests per month (send, receive, delete...)", "requests"),
    UsageKey("request_size_kb", "average payload size; every 64 KB is billed as a request", "KB"),
)

FREE_REQUESTS = Decimal(1_000_000)
CHUNK_KB = Decimal(64)
# Standard and FIFO share the tier bounds: 0-100B, 100B-200B, over 200B requests a month.
TIERS: tuple[tuple[str, Decimal | None], ...] = (
    ("first 100B", Decimal(100_000_000_000)),
    ("next 100B", Decimal(100_000_000_000)),
    ("over 200B", None),
)


def free_tier_line(
    components: Components,
    service: str,
    used: Decimal,
    unit: str,
    divisor: Decimal,
    label: str,
    price_unit: str,
) -> None:
    """The free allowance as its own $0 line, from the catalog's allowance row when present."""
    query = PriceQuery.of(service, components.region, usage_type="(allowance)", tier="free")
    allowance = components.lookup(query, price_unit) or components.lookup(
        PriceQuery.of(service, "us-east-1", usage_type="(allowance)", tier="free"), price_unit
    )
    components.add_fixed(
        label,
        unit,
        used / divisor,
        Decimal(0),
        price=allowance,
        usage_based=True,
        note=f"{FREE_TIER_NOTE}, shared by every resource of this service in the stack",
    )


@cost_model("aws_sqs_queue", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a queue's requests."""
    fifo = soft_flag(resource, "fifo_queue") or str(resource.attrs.get("name", "")).endswith(
        ".fifo"
    )
    queue_type = "fifo" if fifo else "standard"
    label = "FIFO" if fifo else "Standard"
    components = Components(resource, ctx)
    requests = usage_number(ctx, "monthly_requests")
    size = usage_number(ctx, "request_size_kb")

    def query(tier: int) -> PriceQuery:
        return PriceQuery.of("sqs", components.region, queue_type=queue_type, tier=str(tier))

    if requests is None:
        components.add(
            f"Requests ({label})",
            "1M requests",
            None,
            query(1),
            what=f"SQS {label} requests",
            usage_based=True,
        )
        return components.result(details={"queue_type": queue_type})
    chunks = ceil_div(size, CHUNK_KB) if size is not None else Decimal(1)
    billed = requests * chunks
    free_used = min(billed, FREE_REQUESTS)
    free_tier_line(
        components,
        "sqs",
        free_used,
        "1M requests",
        MILLION,
        "Requests (free tier, first 1M)",
        "1M requests",
    )
    amounts = split_tiers(billed, [size_ for _, size_ in TIERS])
    amounts[0] -= free_used
    note = f"{chunks} x 64 KB chunk(s) per request" if chunks > 1 else ""
    for position, ((tier_label, _), amount) in enumerate(zip(TIERS, amounts, strict=True)):
        if amount <= 0 and position > 0:
            continue
        components.add(
            f"Requests ({label}, {tier_label})",
            "1M requests",
            amount / MILLION,
            query(position + 1),
            what=f"SQS {label} requests tier {position + 1}",
            usage_based=True,
            note=note,
        )
    return components.result(details={"queue_type": queue_type, "billed_requests": str(billed)})
