"""`price_resource`: dispatch to the type's cost model, never raising."""

from __future__ import annotations

from dataclasses import replace

from leanstack.model.pricing import PricedResource, PricingStatus
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
        return _missing_prices_unknown(model(resource, ctx))
    except MissingValue as missing:
        return unknown(resource, str(missing))
    except Exception as exc:  # a model bug must not sink the whole estimate
        return unknown(resource, f"cost model failed: {type(exc).__name__}: {exc}")


def _missing_prices_unknown(result: PricedResource) -> PricedResource:
    """A priced resource with a billed line the catalog has no price for becomes UNKNOWN.

    Its other lines stay (they show what is known), but the resource no longer counts in any
    total: adding the known lines alone would pass the missing one off as $0.
    """
    missing = result.unpriced_components if result.status is PricingStatus.PRICED else ()
    if not missing:
        return result
    first = missing[0]
    reason = first.price_error or f"no price for {first.name}"
    if len(missing) > 1:
        reason += f" (and {len(missing) - 1} more line(s) without a price)"
    if result.reason:
        reason += f"; {result.reason}"
    return replace(result, status=PricingStatus.UNKNOWN, reason=reason)
