"""`price_resource`: dispatch to the type's cost model, never raising."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource
from leanstack.model.resource import UNKNOWN, Resource
from leanstack.resources._common import MissingValue, free, unknown, unsupported
from leanstack.resources._free import PAID_WITHOUT_MODEL
from leanstack.resources._registry import PricingContext, free_reason, is_regional, model_for


def price_resource(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price one resource: PRICED, FREE, UNSUPPORTED or UNKNOWN with a reason. Never raises."""
    model = model_for(resource.type)
    if model is None:
        reason = free_reason(resource.type)
        if reason is not None:
            return free(resource, reason)
        if not resource.type.startswith("aws_"):
            return free(resource, "not an AWS resource; no AWS charge")
        return unsupported(
            resource,
            PAID_WITHOUT_MODEL.get(
                resource.type, f"no cost model for {resource.type}; it may be billed"
            ),
        )
    if is_regional(resource.type):
        region: object = resource.region
        if region is UNKNOWN or not isinstance(region, str) or not region:
            return unknown(resource, "the provider region is unknown")
        if region not in ctx.catalog.regions():
            known = ", ".join(sorted(r for r in ctx.catalog.regions() if r != "global"))
            return unknown(
                resource, f"region {region} is not in the price catalog (it has {known})"
            )
    try:
        return model(resource, ctx)
    except MissingValue as missing:
        return unknown(resource, str(missing))
    except Exception as exc:  # a model bug must not sink the whole estimate
        return unknown(resource, f"cost model failed: {type(exc).__name__}: {exc}")
