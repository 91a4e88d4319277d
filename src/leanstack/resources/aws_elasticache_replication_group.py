"""aws_elasticache_replication_group: node hours for every node of the group
(num_cache_clusters, or node groups x (replicas + 1)) and snapshot storage."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    Components,
    MissingValue,
    block_value,
    need,
    soft,
    soft_number,
    to_decimal,
)
from leanstack.resources._registry import PricingContext, cost_model
from leanstack.resources.aws_elasticache_cluster import USAGE, add_nodes, add_snapshots


def _node_count(resource: Resource) -> tuple[Decimal, str]:
    clusters = soft_number(resource, "num_cache_clusters") or soft_number(
        resource, "number_cache_clusters"
    )
    groups = soft_number(resource, "num_node_groups")
    replicas = soft_number(resource, "replicas_per_node_group")
    legacy = resource.block("cluster_mode")
    if groups is None and legacy:
        groups = to_decimal(block_value(legacy, "num_node_groups", "cluster_mode"))
        replicas = to_decimal(block_value(legacy, "replicas_per_node_group", "cluster_mode"))
    if clusters is not None and groups is None:
        return clusters, f"{clusters} node(s)"
    if groups is not None or replicas is not None:
        shards = groups if groups is not None else Decimal(1)
        per_shard = (replicas if replicas is not None else Decimal(0)) + 1
        return shards * per_shard, f"{shards} shard(s) x {per_shard} node(s)"
    if clusters is not None:
        return clusters, f"{clusters} node(s)"
    return Decimal(1), "num_cache_clusters not set; 1 node assumed"


@cost_model("aws_elasticache_replication_group", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price every node of the group."""
    node_type = need(resource, "node_type")
    if node_type is None:
        raise MissingValue("node_type", "is not set")
    engine = str(soft(resource, "engine", "redis")).lower()
    nodes, note = _node_count(resource)
    components = Components(resource, ctx)
    add_nodes(components, str(node_type), engine, nodes, note=note)
    add_snapshots(components, ctx, engine, soft_number(resource, "snapshot_retention_limit", 0))
    return components.result(
        details={"node_type": node_type, "engine": engine, "nodes": int(nodes)}
    )
