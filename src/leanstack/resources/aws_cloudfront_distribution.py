"""aws_cloudfront_distribution: data transfer out and HTTP/HTTPS requests per edge region
group, from usage keyed like infracost's (`monthly_data_transfer_to_internet_gb.us`)."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import Components, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

# usage suffix -> (catalog edge_region, label)
EDGE_REGIONS = {
    "us": ("us-mexico-canada", "US, Mexico, Canada"),
    "europe": ("europe-israel", "Europe, Israel"),
    "south_africa": ("south-africa-kenya-middle-east", "South Africa, Kenya, Middle East"),
    "south_america": ("south-america", "South America"),
    "japan": ("japan", "Japan"),
    "australia": ("australia-new-zealand", "Australia, New Zealand"),
    "asia_pacific": ("hong-kong-philippines-asia-pacific", "Hong Kong, Philippines, Asia Pacific"),
    "india": ("india", "India"),
}
FIRST_TIER_GB = Decimal(10 * 1024)

USAGE = tuple(
    UsageKey(f"{key}.{region}", description, unit)
    for key, description, unit in (
        ("monthly_data_transfer_to_internet_gb", "data transfer out to the internet", "GB"),
        ("monthly_http_requests", "HTTP requests", "requests"),
        ("monthly_https_requests", "HTTPS requests", "requests"),
    )
    for region in EDGE_REGIONS
)


@cost_model("aws_cloudfront_distribution", usage=USAGE, regional=False)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a distribution's edge traffic from usage (US lines shown when no usage is given)."""
    components = Components(resource, ctx, region="global")
    given = {key.split(".", 1)[1] for key in ctx.usage if "." in key}
    for suffix, (edge, label) in EDGE_REGIONS.items():
        if suffix != "us" and suffix not in given:
            continue
        transfer = usage_number(ctx, f"monthly_data_transfer_to_internet_gb.{suffix}")
        first = transfer if transfer is None else min(transfer, FIRST_TIER_GB)
        components.add(
            f"Data transfer out to internet ({label}, first 10 TB)",
            "GB",
            first,
            PriceQuery.of(
                "cloudfront",
                "global",
                edge_region=edge,
                usage_type=f"{_prefix(suffix)}-DataTransfer-Out-Bytes",
            ),
            what=f"CloudFront data transfer ({label})",
            usage_based=True,
        )
        if transfer is not None and transfer > FIRST_TIER_GB:
            components.add(
                f"Data transfer out to internet ({label}, over 10 TB)",
                "GB",
                transfer - FIRST_TIER_GB,
                PriceQuery.of("cloudfront", "global", edge_region=edge, tier="next 40 TB/month"),
                what=f"CloudFront data transfer over 10 TB ({label})",
                usage_based=True,
            )
        for key, name, usage_type in (
            ("monthly_http_requests", "HTTP requests", "Requests-Tier1"),
            ("monthly_https_requests", "HTTPS requests", "Requests-Tier2-HTTPS"),
        ):
            count = usage_number(ctx, f"{key}.{suffix}")
            if count is None and suffix != "us":
                continue
            components.add(
                f"{name} ({label})",
                "10k requests",
                None if count is None else count / 10_000,
                PriceQuery.of(
                    "cloudfront",
                    "global",
                    edge_region=edge,
                    usage_type=f"{_prefix(suffix)}-{usage_type}",
                ),
                what=f"CloudFront {name} ({label})",
                usage_based=True,
            )
    return components.result()


def _prefix(suffix: str) -> str:
    return {"us": "US", "europe": "EU"}.get(suffix, suffix.upper())
