"""aws_db_instance: instance hours, storage and IOPS, backup beyond the free amount,
Performance Insights paid retention and T-class CPU credits."""

from __future__ import annotations

from decimal import Decimal

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import (
    Components,
    MissingValue,
    need,
    number,
    refs_of,
    soft,
    soft_flag,
    soft_number,
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
    is_aurora,
    is_burstable_unlimited,
    rds_instance_hourly,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

__all__ = ["price", "rds_instance_hourly"]

USAGE = (
    UsageKey("additional_backup_storage_gb", "backup storage beyond the free amount", "GB"),
    CPU_CREDIT_USAGE,
    VCPU_USAGE,
)

GP3_BASELINE_SMALL = (Decimal(3000), Decimal(125))  # IOPS, MiBps below 400 GB
GP3_BASELINE_LARGE = (Decimal(12000), Decimal(500))
GP3_LARGE_FROM_GB = Decimal(400)


def _storage_query(
    region: str, engine: str, volume: str, multi_az: bool, usage_type: str | None = None
) -> PriceQuery:
    return PriceQuery.of(
        "rds",
        region,
        usage_type=usage_type,
        engine=catalog_engine(engine),
        volume=volume,
        deployment="multi-az" if multi_az else "single-az",
    )


@cost_model("aws_db_instance", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price one RDS instance."""
    instance_class = need(resource, "instance_class")
    if instance_class is None:
        raise MissingValue("instance_class", "is not set")
    engine = need(resource, "engine")
    source = refs_of(ctx, resource, "replicate_source_db", "aws_db_instance")
    if engine is None and source:
        # A read replica inherits the engine (and storage) of its source instance.
        engine = need(source[0], "engine")
    if engine is None:
        raise MissingValue("engine", "is not set (a snapshot restore inherits it)")
    instance_class, engine = str(instance_class), str(engine)
    multi_az = soft_flag(resource, "multi_az")
    components = Components(resource, ctx)
    region = components.region
    add_instance(components, "Database instance", instance_class, engine, multi_az)

    if not is_aurora(engine):
        _add_storage(components, resource, engine, multi_az, source[0] if source else None)
        retention = soft_number(resource, "backup_retention_period", 1)
        if retention is not None and retention > 0:
            backup = usage_number(ctx, "additional_backup_storage_gb")
            components.add(
                "Additional backup storage",
                "GB-months",
                backup,
                PriceQuery.of(
                    "rds",
                    region,
                    usage_type="RDS:ChargedBackupUsage",
                    engine=catalog_engine(engine),
                ),
                what=f"{catalog_engine(engine)} backup storage",
                usage_based=True,
                note="backup up to the allocated storage is free",
            )

    if soft_flag(resource, "performance_insights_enabled"):
        retention_days = soft_number(
            resource, "performance_insights_retention_period", FREE_PI_RETENTION_DAYS
        )
        if retention_days is not None and retention_days > FREE_PI_RETENTION_DAYS:
            add_performance_insights(components, ctx, instance_class, engine, retention_days)
    if is_burstable_unlimited(instance_class):
        add_cpu_credits(components, ctx, instance_class, engine)
    return components.result(
        details={"instance_class": instance_class, "engine": engine, "multi_az": multi_az}
    )


def _add_storage(
    components: Components,
    resource: Resource,
    engine: str,
    multi_az: bool,
    source: Resource | None = None,
) -> None:
    region = components.region
    inherited = soft_number(source, "allocated_storage") if source else None
    size = number(resource, "allocated_storage", inherited if inherited is not None else 20)
    assert size is not None
    iops = soft_number(resource, "iops")
    storage_type = soft(resource, "storage_type")
    volume = str(storage_type).lower() if storage_type is not None else ("io1" if iops else "gp2")
    deployment = "Multi-AZ" if multi_az else "Single-AZ"
    components.add(
        f"Storage ({volume}, {deployment})",
        "GB-months",
        size,
        _storage_query(region, engine, volume, multi_az),
        what=f"RDS {volume} storage ({deployment.lower()})",
        price_unit="GB-month",
    )
    if volume == "gp3":
        base_iops, base_tput = (
            GP3_BASELINE_LARGE if size >= GP3_LARGE_FROM_GB else GP3_BASELINE_SMALL
        )
        if iops is not None and iops > base_iops:
            components.add(
                f"Provisioned gp3 IOPS (above {base_iops:,})",
                "IOPS-months",
                iops - base_iops,
                _storage_query(region, engine, "gp3", multi_az),
                what="RDS gp3 IOPS",
                price_unit="IOPS-month",
            )
        throughput = soft_number(resource, "storage_throughput")
        if throughput is not None and throughput > base_tput:
            components.add(
                f"Provisioned gp3 throughput (above {base_tput} MiBps)",
                "MBps-months",
                throughput - base_tput,
                _storage_query(region, engine, "gp3", multi_az),
                what="RDS gp3 throughput",
                price_unit="MBps-month",
            )
    elif volume in ("io1", "io2"):
        components.add(
            f"Provisioned IOPS ({volume})",
            "IOPS-months",
            iops if iops is not None else Decimal(1000),
            _storage_query(region, engine, volume, multi_az),
            what=f"RDS {volume} IOPS",
            price_unit="IOPS-month",
            note="" if iops is not None else "iops not set; AWS minimum of 1,000 assumed",
        )
