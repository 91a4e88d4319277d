"""What aws_db_instance, aws_rds_cluster and aws_rds_cluster_instance share: engine names,
vCPU counts, the instance-hour lookup, Performance Insights and CPU credits."""

from __future__ import annotations

import re
from decimal import Decimal

from leanstack.catalog import Catalog
from leanstack.model.pricing import PriceQuery
from leanstack.resources._common import HOURS, Components, plain, usage_number
from leanstack.resources._registry import PricingContext, UsageKey

# Terraform's `engine` value -> the catalog's engine attribute.
ENGINES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "aurora": "aurora-mysql",
    "aurora-mysql": "aurora-mysql",
    "aurora-postgresql": "aurora-postgresql",
    "oracle-se2": "oracle-se2",
    "sqlserver-ex": "sqlserver-ex",
    "sqlserver-web": "sqlserver-web",
    "sqlserver-se": "sqlserver-se",
}

FREE_PI_RETENTION_DAYS = 7

CPU_CREDIT_USAGE = UsageKey(
    "monthly_cpu_credit_hrs",
    "vCPU-hours of burst above baseline per month (T classes)",
    "vCPU-hours",
)
VCPU_USAGE = UsageKey(
    "vcpu_count", "vCPUs of the instance class, when leanstack cannot infer it", "vCPUs"
)


def catalog_engine(engine: str) -> str:
    """The catalog's engine name for a Terraform engine value (unknown names pass through)."""
    return ENGINES.get(engine.strip().lower(), engine.strip().lower())


def is_aurora(engine: str) -> bool:
    """Aurora engines bill storage on the cluster, not on instances."""
    return catalog_engine(engine).startswith("aurora")


def storage_config(cluster_storage_type: object) -> str:
    """`aurora-iopt1` -> I/O-Optimized, anything else -> Standard."""
    return "aurora-io-optimized" if cluster_storage_type == "aurora-iopt1" else "aurora-standard"


def instance_query(
    region: str, instance_class: str, engine: str, multi_az: bool, config: str | None = None
) -> PriceQuery:
    """Catalog query for an instance-hour."""
    cat_engine = catalog_engine(engine)
    attrs = {
        "engine": cat_engine,
        "instance_type": instance_class,
        "deployment": "multi-az" if multi_az and not is_aurora(engine) else "single-az",
    }
    if is_aurora(engine):
        attrs["storage_config"] = config or "aurora-standard"
    return PriceQuery.of("rds", region, **attrs)


def rds_instance_hourly(
    catalog: Catalog, region: str, instance_class: str, engine: str, multi_az: bool
) -> Decimal | None:
    """On-demand hourly price of an RDS instance class, None when the catalog lacks it."""
    price = catalog.lookup(instance_query(region, instance_class, engine, multi_az))
    return price.price if price else None


_SIZE = re.compile(r"^db\.[a-z0-9-]+\.(\d*)x?large$")


def vcpus(instance_class: str, ctx: PricingContext) -> Decimal | None:
    """vCPUs of a class: usage `vcpu_count`, else from the size (large = 2, Nxlarge = 4N)."""
    given = usage_number(ctx, "vcpu_count")
    if given is not None:
        return given
    size = instance_class.rsplit(".", 1)[-1]
    if size in ("nano", "micro", "small", "medium", "large"):
        return Decimal(2)
    if size == "xlarge":
        return Decimal(4)
    match = re.fullmatch(r"(\d+)xlarge", size)
    return Decimal(4 * int(match.group(1))) if match else None


def family(instance_class: str) -> str:
    """`db.t3.micro` -> `db.t3`."""
    return instance_class.rsplit(".", 1)[0]


def is_burstable_unlimited(instance_class: str) -> bool:
    """RDS T3/T4g instances always run in Unlimited mode (surplus CPU is billed)."""
    return family(instance_class) in ("db.t3", "db.t4g")


def add_instance(
    components: Components,
    label: str,
    instance_class: str,
    engine: str,
    multi_az: bool,
    count: Decimal = Decimal(1),
    config: str | None = None,
) -> None:
    """The instance-hours line."""
    deployment = "Multi-AZ" if multi_az else "Single-AZ"
    components.add(
        f"{label} (on-demand, {deployment}, {instance_class})",
        "hours",
        count * HOURS,
        instance_query(components.region, instance_class, engine, multi_az, config),
        what=f"{instance_class} ({catalog_engine(engine)}, {deployment.lower()})",
    )


def add_performance_insights(
    components: Components,
    ctx: PricingContext,
    instance_class: str,
    engine: str,
    retention: Decimal,
) -> None:
    """Paid Performance Insights retention (beyond the free 7 days), per vCPU-month."""
    count = vcpus(instance_class, ctx)
    fam = family(instance_class)
    components.add(
        f"Performance Insights long-term retention ({plain(retention)} days)",
        "vCPU-months",
        count,
        PriceQuery.of("rds", components.region, engine=catalog_engine(engine), instance_family=fam),
        what=f"Performance Insights retention for {fam}",
        price_unit="vCPU-month",
        note="legacy per-family PI_LTR price; AWS now bills retention per vCPU (uncertain)",
    )


def add_cpu_credits(
    components: Components, ctx: PricingContext, instance_class: str, engine: str
) -> None:
    """Surplus CPU credits of an Unlimited T instance, from usage."""
    fam = family(instance_class)
    components.add(
        "CPU credits",
        "vCPU-hours",
        usage_number(ctx, "monthly_cpu_credit_hrs"),
        PriceQuery.of(
            "rds",
            components.region,
            usage_type=f"CPUCredits:{fam}",
            engine=catalog_engine(engine),
        ),
        what=f"CPU credits for {fam}",
        usage_based=True,
    )
