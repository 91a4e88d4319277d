"""aws_vpc_endpoint: Gateway endpoints (S3, DynamoDB) are free; Interface and Gateway Load
Balancer endpoints are billed per hour and GB, which the catalog does not price yet."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource
from leanstack.model.resource import Resource
from leanstack.resources._common import MissingValue, free, need, unsupported
from leanstack.resources._registry import PricingContext, cost_model

# Terraform's default: an endpoint without vpc_endpoint_type is a Gateway endpoint.
DEFAULT_TYPE = "Gateway"
GATEWAY_FREE = "Gateway endpoints (S3, DynamoDB) have no hourly or data charge"
NOT_PRICED = "{kind} endpoints are billed per hour and GB; not priced"


# Not regional: a Gateway endpoint is free in every region, catalogued or not.
@cost_model("aws_vpc_endpoint", regional=False)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """A Gateway endpoint is free; other kinds are listed as not priced, with the reason."""
    kind = need(resource, "vpc_endpoint_type", DEFAULT_TYPE)
    if not isinstance(kind, str):
        raise MissingValue("vpc_endpoint_type", f"is not a string ({kind!r})")
    if kind.strip().lower() == "gateway":
        return free(resource, GATEWAY_FREE)
    return unsupported(resource, NOT_PRICED.format(kind=kind.strip()))
