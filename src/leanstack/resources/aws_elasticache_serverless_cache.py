"""aws_elasticache_serverless_cache: data stored (GB-hours, with the minimum metered amount)
and ElastiCache Processing Units, both from usage."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import HOURS, MILLION, Components, plain, soft, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("storage_gb", "average data stored", "GB"),
    UsageKey("monthly_ecpus", "ElastiCache Processing Units consumed per month", "ECPUs"),
)

# AWS meters at least this much data per cache (Redis OSS / Memcached 1 GB, Valkey 100 MB).
MINIMUM_GB = {"valkey": Decimal("0.1")}
DEFAULT_MINIMUM_GB = Decimal(1)


@cost_model("aws_elasticache_serverless_cache", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a serverless cache from usage."""
    engine = str(soft(resource, "engine", "redis")).lower()
    label = {"redis": "Redis", "valkey": "Valkey", "memcached": "Memcached"}.get(engine, engine)
    components = Components(resource, ctx)
    stored = usage_number(ctx, "storage_gb")
    minimum = MINIMUM_GB.get(engine, DEFAULT_MINIMUM_GB)
    components.add(
        "Data stored",
        "GB-hours",
        None if stored is None else max(stored, minimum) * HOURS,
        PriceQuery.of("elasticache", components.region, usage_type=f"CachedData:{label}"),
        what=f"ElastiCache Serverless {engine} data stored",
        usage_based=True,
        note=f"at least {plain(minimum)} GB is metered",
    )
    ecpus = usage_number(ctx, "monthly_ecpus")
    components.add(
        "ElastiCache Processing Units",
        "1M ECPUs",
        None if ecpus is None else ecpus / MILLION,
        PriceQuery.of(
            "elasticache", components.region, usage_type=f"ElastiCacheProcessingUnits:{label}"
        ),
        what=f"ElastiCache Serverless {engine} ECPUs",
        usage_based=True,
    )
    return components.result(details={"engine": engine})
