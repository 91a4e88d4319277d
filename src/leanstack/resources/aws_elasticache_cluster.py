"""aws_elasticache_cluster: node hours and (Redis/Valkey) snapshot storage.

A cluster that belongs to a replication group is priced on the group, so it is FREE here."""

from __future__ import annotations

from decimal import Decimal

from leanstack.catalog import Catalog
from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    HOURS,
    Components,
    MissingValue,
    free,
    need,
    soft,
    soft_number,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

SNAPSHOT_USAGE = UsageKey("snapshot_storage_size_gb", "size of one backup snapshot", "GB")
USAGE = (SNAPSHOT_USAGE,)


def node_query(region: str, node_type: str, engine: str) -> PriceQuery:
    """Catalog query for an on-demand node-hour."""
    return PriceQuery.of("elasticache", region, engine=engine.lower(), instance_type=node_type)


def elasticache_node_hourly(
    catalog: Catalog, region: str, node_type: str, engine: str
) -> Decimal | None:
    """On-demand hourly price of one node, None when the catalog lacks it."""
    price = catalog.lookup(node_query(region, node_type, engine))
    return price.price if price else None


def add_nodes(
    components: Components, node_type: str, engine: str, nodes: Decimal, note: str = ""
) -> None:
    """The node-hours line."""
    components.add(
        f"ElastiCache {engine} (on-demand, {node_type})",
        "node-hours",
        nodes * HOURS,
        node_query(components.region, node_type, engine),
        what=f"{node_type} ({engine})",
        note=note,
    )


def add_snapshots(
    components: Components, ctx: PricingContext, engine: str, retention: Decimal | None
) -> None:
    """Snapshot storage beyond the free one (Redis/Valkey only)."""
    if engine == "memcached" or not retention:
        return
    size = usage_number(ctx, "snapshot_storage_size_gb")
    components.add(
        "Backup storage",
        "GB-months",
        None if size is None else size * max(retention - 1, Decimal(0)),
        PriceQuery.of("elasticache", components.region, usage_type="BackupUsage", engine=engine),
        what=f"ElastiCache {engine} backup storage",
        usage_based=True,
        note="one snapshot per cluster is free",
    )


@cost_model("aws_elasticache_cluster", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a standalone cache cluster."""
    if soft(resource, "replication_group_id") is not None:
        return free(resource, "member of a replication group; its nodes are priced on the group")
    node_type = need(resource, "node_type")
    if node_type is None:
        raise MissingValue("node_type", "is not set")
    engine = str(soft(resource, "engine", "redis")).lower()
    nodes = soft_number(resource, "num_cache_nodes", 1)
    assert nodes is not None
    components = Components(resource, ctx)
    add_nodes(components, str(node_type), engine, nodes)
    add_snapshots(components, ctx, engine, soft_number(resource, "snapshot_retention_limit", 0))
    return components.result(
        details={"node_type": node_type, "engine": engine, "nodes": int(nodes)}
    )
