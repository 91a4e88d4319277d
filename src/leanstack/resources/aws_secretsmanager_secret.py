"""aws_secretsmanager_secret: one secret-month plus API calls from usage."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import Components, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (UsageKey("monthly_requests", "API calls per month", "requests"),)


@cost_model("aws_secretsmanager_secret", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a secret (replicas in other regions are billed as further secrets)."""
    replicas = Decimal(len(resource.blocks("replica")))
    components = Components(resource, ctx)
    components.add(
        "Secret",
        "months",
        1 + replicas,
        PriceQuery.of("secretsmanager", components.region, usage_type="AWSSecretsManager-Secrets"),
        what="Secrets Manager secret",
        note=f"{replicas} replica(s) billed as secrets" if replicas else "",
    )
    requests = usage_number(ctx, "monthly_requests")
    components.add(
        "API requests",
        "10k requests",
        None if requests is None else requests / 10_000,
        PriceQuery.of(
            "secretsmanager", components.region, usage_type="AWSSecretsManager-APIRequest"
        ),
        what="Secrets Manager API calls",
        usage_based=True,
    )
    return components.result()
