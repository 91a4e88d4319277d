"""The estimate pipeline: loaded resources + catalog + usage -> priced resources and issues.

Library code only: problems become Issues on the Estimate; the CLI decides exit codes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from leanstack.catalog import Catalog
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import quantize_money
from leanstack.model.pricing import PricedResource, PricingStatus
from leanstack.model.resource import SourceSpan
from leanstack.resources import (
    PricingContext,
    aws_lambda_function,
    aws_sqs_queue,
    is_free_tier,
    price_resource,
)
from leanstack.terraform import LoadResult
from leanstack.usage.usage_file import UsageFile

__all__ = ["Estimate", "counted_range", "estimate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """A priced stack.

    `monthly_cost` sums the counted cost of every resource (each line in cents; UNKNOWN
    resources add nothing and are counted in `counts`); `monthly_cost_min`/`_max` replace
    each resource's cost by its own range where it has one (autoscaling, Serverless v2).
    `derived_prices` lists each non-list price used (price_basis) once, for the footer.
    """

    resources: tuple[PricedResource, ...]
    issues: tuple[Issue, ...]
    catalog_date: str
    catalog_source: str
    monthly_cost: Decimal
    monthly_cost_min: Decimal
    monthly_cost_max: Decimal
    counts: Mapping[PricingStatus, int] = field(default_factory=dict)
    input_kind: str = "hcl"
    usage_file: str = ""

    @property
    def has_range(self) -> bool:
        """True when some resource's cost is a range."""
        return any(r.monthly_cost_max is not None for r in self.resources)

    @property
    def derived_prices(self) -> tuple[str, ...]:
        """One note per distinct derived price used (Spot observations, derived Multi-AZ...)."""
        notes: dict[str, None] = {}
        for resource in self.resources:
            for component in resource.components:
                price = component.price
                if price is not None and price.basis and component.monthly_quantity != 0:
                    notes[
                        f"{price.product} ({price.region}): {price.basis}"
                        + (
                            f" {price.attributes['observed_on']}"
                            if "observed_on" in price.attributes
                            else ""
                        )
                        + f"; source {price.source_date}"
                    ] = None
        return tuple(notes)

    def count(self, status: PricingStatus) -> int:
        """How many resources came out with that status."""
        return self.counts.get(status, 0)


def estimate(
    load: LoadResult,
    catalog: Catalog,
    usage: UsageFile | None,
    *,
    usage_overrides: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> Estimate:
    """Price every managed resource of a loaded stack.

    `usage_overrides` (address -> key -> value, e.g. derived from recorded metrics) win over
    the usage file.
    """
    overrides = usage_overrides or {}
    managed = [r for r in load.resources if r.mode == "managed"]
    index = {r.address: r for r in managed}
    priced: list[PricedResource] = []
    for resource in managed:
        values: dict[str, Decimal | str] = (
            usage.for_resource(resource.address, resource.type) if usage else {}
        )
        values.update(overrides.get(resource.address, {}))
        priced.append(
            price_resource(resource, PricingContext(catalog=catalog, index=index, usage=values))
        )

    priced = _share_free_tiers(priced)

    issues: list[Issue] = list(load.issues)
    issues.extend(catalog.issues)
    if usage is not None:
        issues.extend(usage.issues)
        issues.extend(usage.unmatched(index))
    region_sources = {
        r.address: r.attr_sources["region"] for r in managed if "region" in r.attr_sources
    }
    issues.extend(_pricing_issues(priced, region_sources))

    # Every figure is a sum of cent-rounded lines, so each printed total adds up to the cent.
    total = sum((r.counted_cost for r in priced), Decimal(0))
    low = sum((counted_range(r)[0] for r in priced), Decimal(0))
    high = sum((counted_range(r)[1] for r in priced), Decimal(0))
    return Estimate(
        resources=tuple(priced),
        issues=tuple(issues),
        catalog_date=catalog.date,
        catalog_source=catalog.source,
        monthly_cost=total,
        monthly_cost_min=low,
        monthly_cost_max=high,
        counts=dict(Counter(r.status for r in priced)),
        input_kind=load.input_kind,
        usage_file=usage.path if usage else "",
    )


def counted_range(resource: PricedResource) -> tuple[Decimal, Decimal]:
    """(low, high) a resource adds to the stack's range, in cents; (0, 0) when UNKNOWN.

    Without a range of its own both ends are its counted cost.
    """
    if resource.status is PricingStatus.UNKNOWN:
        return Decimal(0), Decimal(0)
    cost = resource.counted_cost
    low = cost if resource.monthly_cost_min is None else quantize_money(resource.monthly_cost_min)
    high = cost if resource.monthly_cost_max is None else quantize_money(resource.monthly_cost_max)
    return low, high


# Monthly free allowances are per account: (type, unit) -> allowance in that unit.
FREE_TIERS: dict[tuple[str, str], Decimal] = {
    ("aws_sqs_queue", "1M requests"): aws_sqs_queue.FREE_REQUESTS / 1_000_000,
    ("aws_lambda_function", "1M requests"): aws_lambda_function.FREE_REQUESTS / 1_000_000,
    ("aws_lambda_function", "GB-seconds"): aws_lambda_function.FREE_GB_SECONDS,
}


def _share_free_tiers(priced: list[PricedResource]) -> list[PricedResource]:
    """Give each account-wide free allowance out once across the stack, in resource order.

    Each cost model subtracts the whole allowance as if it were alone; here the part already
    granted to earlier resources moves back to the resource's first paid line.
    """
    remaining = dict(FREE_TIERS)
    out: list[PricedResource] = []
    for resource in priced:
        components = list(resource.components)
        changed = False
        for position, component in enumerate(components):
            key = (resource.type, component.unit)
            if not is_free_tier(component) or key not in remaining:
                continue
            wanted = component.monthly_quantity or Decimal(0)
            granted = min(wanted, remaining[key])
            remaining[key] -= granted
            excess = wanted - granted
            if excess <= 0:
                continue
            paid = next(
                (
                    i
                    for i in range(position + 1, len(components))
                    if components[i].unit == component.unit
                    and not is_free_tier(components[i])
                    and components[i].monthly_quantity is not None
                ),
                None,
            )
            if paid is None:
                continue
            note = f"{component.note}; {plain_number(excess)} already used by earlier resources"
            components[position] = replace(component, monthly_quantity=granted, note=note)
            moved = components[paid].monthly_quantity or Decimal(0)
            components[paid] = replace(components[paid], monthly_quantity=moved + excess)
            changed = True
        out.append(replace(resource, components=tuple(components)) if changed else resource)
    return out


def plain_number(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros."""
    return format(value.normalize(), "f")


def _where(resource: PricedResource) -> str:
    return resource.source.where() if resource.source else resource.address


def _pricing_issues(
    priced: list[PricedResource], region_sources: Mapping[str, SourceSpan] | None = None
) -> list[Issue]:
    """Issues for unknown, unsupported and partly unpriced resources.

    `region_sources` (address -> where its region is written) lets an unknown region point at
    the provider's `region` line or the variable it reads, not at the first resource.
    """
    region_sources = region_sources or {}
    issues: list[Issue] = []
    unknown_regions: dict[str, PricedResource] = {}
    unsupported: dict[str, list[PricedResource]] = {}
    # Resources left unknown by one missing catalog price, by that price: one line for the
    # 17 secrets of a region the catalog lacks, naming how many and which.
    missing_price: dict[str, list[PricedResource]] = {}
    for resource in priced:
        unpriced = resource.unpriced_components
        if resource.status is PricingStatus.UNKNOWN:
            if resource.reason.startswith("region "):
                unknown_regions.setdefault(resource.region, resource)
                continue
            if unpriced:
                key = unpriced[0].price_error or resource.reason
                missing_price.setdefault(key, []).append(resource)
            else:
                issues.append(
                    Issue(
                        code=IssueCode.UNKNOWN_VALUE,
                        message=f"{resource.address}: not priced: {resource.reason}",
                        where=_where(resource),
                    )
                )
        elif resource.status is PricingStatus.UNSUPPORTED:
            unsupported.setdefault(resource.type, []).append(resource)
        reported = unpriced if resource.status is PricingStatus.UNKNOWN else ()
        for component in resource.components:
            if component.price_error and component not in reported:
                # A missing price only matters once there is a quantity to multiply; a billed
                # line without one made its resource unknown and is reported with it, above.
                issues.append(
                    Issue(
                        code=IssueCode.PRICE_NOT_FOUND,
                        message=f"{resource.address}: {component.name}: {component.price_error}",
                        where=_where(resource),
                        severity=Severity.WARNING if component in unpriced else Severity.INFO,
                    )
                )
    for key, resources in missing_price.items():
        first = resources[0]
        if len(resources) == 1:
            message = f"{first.address}: not priced (excluded from the total): {first.reason}"
        else:
            names = ", ".join(r.address for r in resources[:3])
            more = f" and {len(resources) - 3} more" if len(resources) > 3 else ""
            message = (
                f"{key}: {len(resources)} resources not priced (excluded from the total): "
                f"{names}{more}"
            )
        issues.append(
            Issue(code=IssueCode.PRICE_NOT_FOUND, message=message, where=_where(first))
        )
    for region, first in unknown_regions.items():
        count = sum(
            1
            for r in priced
            if r.status is PricingStatus.UNKNOWN
            and r.region == region
            and r.reason.startswith("region ")
        )
        origin = region_sources.get(first.address)
        where = origin.where() if origin is not None else _where(first)
        issues.append(
            Issue(
                code=IssueCode.UNKNOWN_REGION,
                message=f"{first.reason}; {count} resource(s) not priced",
                where=where,
                severity=Severity.ERROR,
            )
        )
    for resource_type, resources in sorted(unsupported.items()):
        issues.append(
            Issue(
                code=IssueCode.UNSUPPORTED_RESOURCE,
                message=f"{resource_type} x{len(resources)}: {resources[0].reason}",
                where=_where(resources[0]),
                severity=Severity.INFO,
            )
        )
    return issues
