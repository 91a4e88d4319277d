"""aws_rds_cluster (Aurora): storage, I/O requests and backup beyond the free amount, all
from usage. Instances are priced on aws_rds_cluster_instance."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    MILLION,
    SECONDS_PER_MONTH,
    Components,
    soft,
    soft_number,
    unsupported,
    usage_number,
)
from leanstack.resources._rds import catalog_engine, is_aurora, storage_config
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("storage_gb", "average cluster volume size", "GB"),
    UsageKey("write_requests_per_sec", "average write I/O operations per second", "IOPS"),
    UsageKey("read_requests_per_sec", "average read I/O operations per second", "IOPS"),
    UsageKey("backup_snapshot_size_gb", "size of one backup snapshot", "GB"),
)


@cost_model("aws_rds_cluster", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price the cluster-level (storage) part of an Aurora cluster."""
    engine = str(soft(resource, "engine", "aurora"))
    if not is_aurora(engine):
        return unsupported(
            resource,
            f"engine {engine}: Multi-AZ DB clusters (non-Aurora) are not priced by leanstack",
        )
    mode = str(soft(resource, "engine_mode", "provisioned"))
    cat_engine = catalog_engine(engine)
    config = storage_config(soft(resource, "storage_type"))
    optimized = config == "aurora-io-optimized"
    components = Components(resource, ctx)
    region = components.region
    if mode == "serverless":
        components.add(
            "Aurora Serverless v1 capacity",
            "ACU-hours",
            None,
            PriceQuery.of("rds", region, usage_type="Aurora:ServerlessUsage", engine=cat_engine),
            what="Aurora Serverless v1 capacity",
            usage_based=True,
        )
    components.add(
        "Storage (I/O-Optimized)" if optimized else "Storage",
        "GB-months",
        usage_number(ctx, "storage_gb"),
        PriceQuery.of(
            "rds",
            region,
            usage_type="Aurora:IO-OptimizedStorageUsage" if optimized else "Aurora:StorageUsage",
            engine=cat_engine,
        ),
        what=f"{cat_engine} storage",
        usage_based=True,
    )
    if not optimized:
        writes = usage_number(ctx, "write_requests_per_sec")
        reads = usage_number(ctx, "read_requests_per_sec")
        requests = None
        if writes is not None or reads is not None:
            requests = (
                ((writes or Decimal(0)) + (reads or Decimal(0))) * SECONDS_PER_MONTH / MILLION
            )
        components.add(
            "I/O requests",
            "1M requests",
            requests,
            PriceQuery.of("rds", region, usage_type="Aurora:StorageIOUsage", engine=cat_engine),
            what=f"{cat_engine} I/O requests",
            usage_based=True,
        )
    retention = soft_number(resource, "backup_retention_period", 1)
    snapshot = usage_number(ctx, "backup_snapshot_size_gb")
    backup = None
    if snapshot is not None and retention is not None:
        # Aurora keeps one snapshot's worth free; each further retained day is billed
        # (infracost's model: snapshot x (retention - 1)).
        backup = snapshot * max(retention - 1, Decimal(0))
    components.add(
        "Backup storage",
        "GB-months",
        backup,
        PriceQuery.of("rds", region, usage_type="Aurora:BackupUsage", engine=cat_engine),
        what=f"{cat_engine} backup storage",
        usage_based=True,
    )
    return components.result(details={"engine": engine, "storage_config": config})
