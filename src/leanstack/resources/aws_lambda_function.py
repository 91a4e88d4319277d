"""aws_lambda_function: requests and GB-seconds (x86_64 or arm64, tiered), ephemeral storage
above 512 MB, with the monthly free tier as its own lines."""

from __future__ import annotations

import math
from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import UNKNOWN, Resource
from leanstack.resources._common import (
    MILLION,
    Components,
    MissingValue,
    arch_of,
    plain,
    soft,
    soft_number,
    split_tiers,
    to_decimal,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model
from leanstack.resources.aws_sqs_queue import free_tier_line

USAGE = (
    UsageKey("monthly_requests", "invocations per month", "requests"),
    UsageKey("request_duration_ms", "average duration of one invocation", "ms"),
)

FREE_REQUESTS = Decimal(1_000_000)
FREE_GB_SECONDS = Decimal(400_000)
INCLUDED_EPHEMERAL_MB = Decimal(512)
TIERS = {
    "x86_64": (
        ("first 6B GB-s", Decimal(6_000_000_000)),
        ("next 9B GB-s", Decimal(9_000_000_000)),
        ("over 15B GB-s", None),
    ),
    "arm64": (
        ("first 7.5B GB-s", Decimal(7_500_000_000)),
        ("next 11.25B GB-s", Decimal(11_250_000_000)),
        ("over 18.75B GB-s", None),
    ),
}


def function_arch(resource: Resource) -> str:
    """x86_64 or arm64 from `architectures`."""
    value = soft(resource, "architectures", ["x86_64"])
    if value is UNKNOWN:
        raise MissingValue("architectures")
    first = value[0] if isinstance(value, list) and value else "x86_64"
    return arch_of(first, "architectures")


def memory_mb(resource: Resource) -> Decimal:
    """`memory_size`, 128 MB by default."""
    value = soft_number(resource, "memory_size", 128)
    assert value is not None
    return value


@cost_model("aws_lambda_function", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a function from its invocations and duration."""
    arch = function_arch(resource)
    memory = memory_mb(resource)
    ephemeral = to_decimal(resource.block("ephemeral_storage").get("size")) or INCLUDED_EPHEMERAL_MB
    components = Components(resource, ctx)
    region = components.region
    requests = usage_number(ctx, "monthly_requests")
    duration_ms = usage_number(ctx, "request_duration_ms")

    def duration_query(tier: int) -> PriceQuery:
        return PriceQuery.of(
            "lambda",
            region,
            usage_type="Lambda-GB-Second-ARM" if arch == "arm64" else "Lambda-GB-Second",
            arch=arch,
            tier=str(tier),
        )

    def add_ephemeral(seconds: Decimal | None) -> None:
        if ephemeral <= INCLUDED_EPHEMERAL_MB:
            return
        components.add(
            "Ephemeral storage above 512 MB",
            "GB-seconds",
            None if seconds is None else seconds * (ephemeral - INCLUDED_EPHEMERAL_MB) / 1024,
            PriceQuery.of(
                "lambda",
                region,
                usage_type="Lambda-Storage-GB-Second-ARM"
                if arch == "arm64"
                else "Lambda-Storage-GB-Second",
                arch=arch,
            ),
            what=f"Lambda {arch} ephemeral storage",
            usage_based=True,
        )

    request_query = PriceQuery.of(
        "lambda", region, usage_type="Request-ARM" if arch == "arm64" else "Request", arch=arch
    )

    if requests is None:
        components.add(
            "Requests",
            "1M requests",
            None,
            request_query,
            what=f"Lambda {arch} requests",
            usage_based=True,
        )
        components.add(
            "Duration",
            "GB-seconds",
            None,
            duration_query(1),
            what=f"Lambda {arch} duration",
            usage_based=True,
        )
        add_ephemeral(None)
        return components.result(details={"arch": arch, "memory_mb": int(memory)})

    free_requests = min(requests, FREE_REQUESTS)
    free_tier_line(
        components,
        "lambda",
        free_requests,
        "1M requests",
        MILLION,
        "Requests (free tier, first 1M)",
        "1M requests",
    )
    components.add(
        "Requests",
        "1M requests",
        (requests - free_requests) / MILLION,
        request_query,
        what=f"Lambda {arch} requests",
        usage_based=True,
    )

    if duration_ms is None:
        components.add(
            "Duration",
            "GB-seconds",
            None,
            duration_query(1),
            what=f"Lambda {arch} duration",
            usage_based=True,
        )
        add_ephemeral(None)
        return components.result(details={"arch": arch, "memory_mb": int(memory)})
    # Duration is billed per 1 ms, rounded up.
    seconds = requests * Decimal(math.ceil(duration_ms)) / 1000
    gb_seconds = seconds * memory / 1024
    free_gbs = min(gb_seconds, FREE_GB_SECONDS)
    free_tier_line(
        components,
        "lambda",
        free_gbs,
        "GB-seconds",
        Decimal(1),
        "Duration (free tier, first 400,000 GB-s)",
        "GB-second",
    )
    amounts = split_tiers(gb_seconds, [size for _, size in TIERS[arch]])
    amounts[0] -= free_gbs
    for position, ((label, _), amount) in enumerate(zip(TIERS[arch], amounts, strict=True)):
        if amount <= 0 and position > 0:
            continue
        components.add(
            f"Duration ({label})",
            "GB-seconds",
            amount,
            duration_query(position + 1),
            what=f"Lambda {arch} duration tier {position + 1}",
            usage_based=True,
            note=f"{plain(memory)} MB x {plain(duration_ms)} ms",
        )
    add_ephemeral(seconds)
    return components.result(
        details={"arch": arch, "memory_mb": int(memory), "gb_seconds": str(gb_seconds)}
    )
