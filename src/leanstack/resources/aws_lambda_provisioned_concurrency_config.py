"""aws_lambda_provisioned_concurrency_config: the provisioned GB-seconds of the referenced
function around the clock, plus invocation duration at the provisioned rate (from usage)."""

from __future__ import annotations

import math
from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    SECONDS_PER_MONTH,
    Components,
    MissingValue,
    number,
    plain,
    refs_of,
    unknown,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model
from leanstack.resources.aws_lambda_function import function_arch, memory_mb

USAGE = (
    UsageKey(
        "monthly_requests", "invocations served by provisioned instances per month", "requests"
    ),
    UsageKey("request_duration_ms", "average duration of one invocation", "ms"),
)


@cost_model("aws_lambda_provisioned_concurrency_config", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price the provisioned concurrency of one function alias or version."""
    concurrency = number(resource, "provisioned_concurrent_executions")
    if concurrency is None:
        raise MissingValue("provisioned_concurrent_executions", "is not set")
    functions = refs_of(ctx, resource, "function_name", "aws_lambda_function")
    if not functions:
        return unknown(
            resource, "function_name does not reference an aws_lambda_function in this stack"
        )
    function = functions[0]
    arch = function_arch(function)
    memory = memory_mb(function)
    components = Components(resource, ctx)
    suffix = "-ARM" if arch == "arm64" else ""
    components.add(
        "Provisioned concurrency",
        "GB-seconds",
        concurrency * memory / 1024 * SECONDS_PER_MONTH,
        PriceQuery.of(
            "lambda",
            components.region,
            usage_type=f"Lambda-Provisioned-Concurrency{suffix}",
            arch=arch,
        ),
        what=f"Lambda {arch} provisioned concurrency",
        note=f"{plain(concurrency)} x {plain(memory)} MB around the clock; no free tier",
    )
    requests = usage_number(ctx, "monthly_requests")
    duration = usage_number(ctx, "request_duration_ms")
    gb_seconds = None
    if requests is not None and duration is not None:
        gb_seconds = requests * Decimal(math.ceil(duration)) / 1000 * memory / 1024
    components.add(
        "Duration (provisioned)",
        "GB-seconds",
        gb_seconds,
        PriceQuery.of(
            "lambda",
            components.region,
            usage_type=f"Lambda-Provisioned-GB-Second{suffix}",
            arch=arch,
        ),
        what=f"Lambda {arch} provisioned duration",
        usage_based=True,
    )
    return components.result(
        details={"function": function.address, "concurrency": int(concurrency)}
    )
