"""aws_ecr_repository: image storage from usage."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import Components, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (UsageKey("storage_gb", "image data stored", "GB"),)


@cost_model("aws_ecr_repository", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a repository's storage."""
    components = Components(resource, ctx)
    components.add(
        "Storage",
        "GB-months",
        usage_number(ctx, "storage_gb"),
        PriceQuery.of("ecr", components.region, usage_type="TimedStorage-ByteHrs"),
        what="ECR storage",
        usage_based=True,
    )
    return components.result()
