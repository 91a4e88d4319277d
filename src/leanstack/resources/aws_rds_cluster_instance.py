"""aws_rds_cluster_instance: Aurora instance hours (Standard or I/O-Optimized, from the
cluster's storage_type), or Serverless v2 ACU-hours for `db.serverless`."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    HOURS,
    Components,
    MissingValue,
    block_value,
    need,
    refs_of,
    same_value,
    soft,
    soft_flag,
    soft_number,
    to_decimal,
    usage_number,
)
from leanstack.resources._rds import (
    CPU_CREDIT_USAGE,
    FREE_PI_RETENTION_DAYS,
    VCPU_USAGE,
    add_cpu_credits,
    add_instance,
    add_performance_insights,
    catalog_engine,
    storage_config,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("capacity_units_per_hr", "average Aurora Serverless v2 ACUs", "ACUs"),
    CPU_CREDIT_USAGE,
    VCPU_USAGE,
)


@cost_model("aws_rds_cluster_instance", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price one Aurora cluster instance."""
    instance_class = need(resource, "instance_class")
    if instance_class is None:
        raise MissingValue("instance_class", "is not set")
    instance_class = str(instance_class)
    clusters = refs_of(ctx, resource, "cluster_identifier", "aws_rds_cluster") or same_value(
        ctx, "aws_rds_cluster", "cluster_identifier", resource.attrs.get("cluster_identifier")
    )
    cluster = clusters[0] if clusters else None
    engine = need(resource, "engine")
    if engine is None and cluster is not None:
        engine = need(cluster, "engine")
    engine = str(engine or "aurora")
    config = storage_config(soft(cluster, "storage_type") if cluster else None)
    components = Components(resource, ctx)
    cost_min = cost_max = None
    if instance_class == "db.serverless":
        optimized = config == "aurora-io-optimized"
        query = PriceQuery.of(
            "rds",
            components.region,
            usage_type="Aurora:ServerlessV2IOOptimizedUsage"
            if optimized
            else "Aurora:ServerlessV2Usage",
            engine=catalog_engine(engine),
        )
        acus = usage_number(ctx, "capacity_units_per_hr")
        scaling = cluster.block("serverlessv2_scaling_configuration") if cluster else {}
        low = to_decimal(block_value(scaling, "min_capacity", "serverlessv2_scaling_configuration"))
        high = to_decimal(
            block_value(scaling, "max_capacity", "serverlessv2_scaling_configuration")
        )
        note = ""
        if acus is None and low is not None:
            acus = low
            note = "no usage given: billed at least min_capacity; actual ACUs depend on load"
        component = components.add(
            "Aurora Serverless v2 capacity",
            "ACU-hours",
            None if acus is None else acus * HOURS,
            query,
            what=f"Aurora Serverless v2 ({catalog_engine(engine)})",
            usage_based=True,
            note=note,
        )
        if note and component.unit_price is not None and high is not None and low is not None:
            cost_min = low * HOURS * component.unit_price
            cost_max = high * HOURS * component.unit_price
    else:
        add_instance(components, "Database instance", instance_class, engine, False, config=config)
        if usage_number(ctx, "monthly_cpu_credit_hrs") is not None:
            add_cpu_credits(components, ctx, instance_class, engine)
    if soft_flag(resource, "performance_insights_enabled"):
        days = soft_number(
            resource, "performance_insights_retention_period", FREE_PI_RETENTION_DAYS
        )
        if days is not None and days > FREE_PI_RETENTION_DAYS and instance_class != "db.serverless":
            add_performance_insights(components, ctx, instance_class, engine, days)
    return components.result(
        cost_min=cost_min,
        cost_max=cost_max,
        details={"instance_class": instance_class, "engine": engine, "storage_config": config},
        reason="" if cluster else "cluster not found in the stack; Aurora Standard storage assumed",
    )


__all__ = ["price"]
