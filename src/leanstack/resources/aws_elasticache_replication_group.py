"""aws_elasticache_replication_group: node hours for every node of the group
(num_cache_clusters, or node groups x (replicas + 1)) and snapshot storage. An
aws_appautoscaling_target on the group's shards or replicas turns the cost into a range."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    HOURS,
    Components,
    MissingValue,
    block_value,
    need,
    of_type,
    references,
    soft,
    soft_number,
    to_decimal,
)
from leanstack.resources._registry import PricingContext, cost_model
from leanstack.resources.aws_elasticache_cluster import USAGE, add_nodes, add_snapshots

SHARDS = "elasticache:replication-group:NodeGroups"
REPLICAS = "elasticache:replication-group:Replicas"


def _layout(resource: Resource) -> tuple[Decimal, Decimal, str]:
    """(shards, nodes per shard, how it was read)."""
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
        return Decimal(1), clusters, f"{clusters} node(s)"
    if groups is not None or replicas is not None:
        shards = groups if groups is not None else Decimal(1)
        per_shard = (replicas if replicas is not None else Decimal(0)) + 1
        return shards, per_shard, f"{shards} shard(s) x {per_shard} node(s)"
    return Decimal(1), Decimal(1), "num_cache_clusters not set; 1 node assumed"


def _scaling(resource: Resource, ctx: PricingContext) -> dict[str, tuple[Decimal, Decimal]]:
    """Autoscaling min/max per scalable dimension for this group."""
    group_id = resource.attrs.get("replication_group_id")
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for target in of_type(ctx, "aws_appautoscaling_target"):
        if target.attrs.get("service_namespace") not in ("elasticache", None):
            continue
        resource_id = target.attrs.get("resource_id")
        by_name = isinstance(group_id, str) and resource_id == f"replication-group/{group_id}"
        if not (by_name or references(target, resource, ("resource_id",))):
            continue
        low = to_decimal(target.attrs.get("min_capacity"))
        high = to_decimal(target.attrs.get("max_capacity"))
        dimension = target.attrs.get("scalable_dimension")
        if low is not None and high is not None and dimension in (SHARDS, REPLICAS):
            out[str(dimension)] = (low, high)
    return out


@cost_model("aws_elasticache_replication_group", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price every node of the group."""
    node_type = need(resource, "node_type")
    if node_type is None:
        raise MissingValue("node_type", "is not set")
    engine = str(soft(resource, "engine", "redis")).lower()
    shards, per_shard, note = _layout(resource)
    components = Components(resource, ctx)
    add_nodes(components, str(node_type), engine, shards * per_shard, note=note)
    add_snapshots(components, ctx, engine, soft_number(resource, "snapshot_retention_limit", 0))
    details: dict[str, object] = {
        "node_type": node_type,
        "engine": engine,
        "nodes": int(shards * per_shard),
    }
    cost_min = cost_max = None
    scaling = _scaling(resource, ctx)
    node_price = components.items[0].unit_price
    if scaling and node_price is not None:
        shard_range = scaling.get(SHARDS, (shards, shards))
        replica_range = scaling.get(REPLICAS, (per_shard - 1, per_shard - 1))
        low_nodes = shard_range[0] * (replica_range[0] + 1)
        high_nodes = shard_range[1] * (replica_range[1] + 1)
        nodes_cost = components.items[0].line_cost or Decimal(0)
        others = components.result().monthly_cost - nodes_cost
        cost_min = low_nodes * HOURS * node_price + others
        cost_max = high_nodes * HOURS * node_price + others
        details["nodes_min"], details["nodes_max"] = int(low_nodes), int(high_nodes)
    return components.result(cost_min=cost_min, cost_max=cost_max, details=details)
