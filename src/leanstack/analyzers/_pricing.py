"""Catalog prices the analyzers compare: a resource as it is, and as it would be.

Hourly rates come from the cost models' helpers (`leanstack.resources.fargate_hourly`,
`rds_instance_hourly`, `elasticache_node_hourly`), so an analyzer's "before" matches the
estimate; the catalog rows behind them are looked up too, so a finding can say where each
figure comes from. None means "no catalog price": the analyzer then says so instead of
showing $0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from leanstack.catalog import Catalog
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import Price, PriceQuery
from leanstack.resources import (
    PriceNotFound,
    elasticache_node_hourly,
    fargate_hourly,
    rds_instance_hourly,
)


@dataclass(frozen=True, slots=True)
class Rate:
    """An hourly rate built from one or more catalog rows."""

    hourly: Decimal
    prices: tuple[Price, ...]

    @property
    def monthly(self) -> Decimal:
        """The rate over a 730-hour month."""
        return self.hourly * HOURS_PER_MONTH

    def sources(self) -> list[str]:
        """`product: price/unit (source, date)` lines for evidence."""
        return [
            f"{p.product}: ${p.price}/{p.unit} ({p.source_date}"
            + (f", {p.basis}" if p.basis else "")
            + ")"
            for p in self.prices
        ]

    @property
    def observed(self) -> bool:
        """True when a row is not a published list price (Spot observation, derived value)."""
        return any(p.basis is not None for p in self.prices)


def unit_price(
    catalog: Catalog,
    service: str,
    region: str,
    *,
    unit: str | None = None,
    usage_type: str | None = None,
    **attrs: str,
) -> Price | None:
    """Best catalog row for the filters (and unit, when given)."""
    for price in catalog.matches(PriceQuery.of(service, region, usage_type, **attrs)):
        if unit is None or price.unit == unit:
            return price
    return None


def fargate_rate(
    catalog: Catalog,
    region: str,
    cpu_units: int,
    memory_mib: int,
    *,
    arch: str = "x86_64",
    capacity: str = "on-demand",
) -> Rate | None:
    """Hourly price of one Fargate task: vCPU x vCPU-hour + GB x GB-hour."""
    vcpu = unit_price(
        catalog, "fargate", region, unit="vCPU-hour", os="linux", arch=arch, capacity=capacity
    )
    mem = unit_price(
        catalog, "fargate", region, unit="GB-hour", os="linux", arch=arch, capacity=capacity
    )
    if vcpu is None or mem is None:
        return None
    try:
        hourly = fargate_hourly(catalog, region, cpu_units, memory_mib, arch, capacity)
    except PriceNotFound:
        return None
    return Rate(hourly, (vcpu, mem))


RDS_ENGINES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mariadb",
}


def rds_engine(engine: object) -> str | None:
    """Terraform `engine` to the catalog's engine name."""
    return RDS_ENGINES.get(str(engine).lower()) if isinstance(engine, str) else None


def rds_rate(
    catalog: Catalog, region: str, instance_class: str, engine: str, multi_az: bool
) -> Rate | None:
    """Hourly on-demand price of one RDS instance."""
    price = unit_price(
        catalog,
        "rds",
        region,
        unit="instance-hour",
        engine=engine,
        instance_type=instance_class,
        deployment="multi-az" if multi_az else "single-az",
    )
    hourly = rds_instance_hourly(catalog, region, instance_class, engine, multi_az)
    return Rate(hourly, (price,)) if price is not None and hourly is not None else None


def rds_classes(catalog: Catalog, region: str, engine: str, multi_az: bool) -> list[str]:
    """Every RDS class the catalog prices for this engine and deployment."""
    deployment = "multi-az" if multi_az else "single-az"
    out = set()
    for price in catalog.matches(
        PriceQuery.of("rds", region, engine=engine, deployment=deployment)
    ):
        itype = price.attributes.get("instance_type")
        if itype and price.unit == "instance-hour":
            out.add(itype)
    return sorted(out)


def cache_rate(catalog: Catalog, region: str, node_type: str, engine: str) -> Rate | None:
    """Hourly on-demand price of one ElastiCache node."""
    price = unit_price(
        catalog, "elasticache", region, unit="node-hour", engine=engine, instance_type=node_type
    )
    hourly = elasticache_node_hourly(catalog, region, node_type, engine)
    return Rate(hourly, (price,)) if price is not None and hourly is not None else None


def cache_node_types(catalog: Catalog, region: str, engine: str) -> list[str]:
    """Every node type the catalog prices for this engine."""
    out = set()
    for price in catalog.matches(PriceQuery.of("elasticache", region, engine=engine)):
        itype = price.attributes.get("instance_type")
        if itype and price.unit == "node-hour":
            out.add(itype)
    return sorted(out)


def rds_credit_price(catalog: Catalog, region: str, engine: str, family: str) -> Price | None:
    """Unlimited-mode CPU credit price per vCPU-hour for a T family.

    The catalog only sources db.t3's rate; db.t4g uses the same rate (AWS bills T3 and T4g
    surplus credits alike for open-source engines) and callers say so.
    """
    for fam in (f"db.{family}", "db.t3"):
        price = unit_price(
            catalog, "rds", region, unit="vCPU-hour", engine=engine, instance_family=fam
        )
        if price is not None:
            return price
        if region != "us-east-1":
            # Surplus credits cost the same in every region (reference §4.7).
            price = unit_price(
                catalog, "rds", "us-east-1", unit="vCPU-hour", engine=engine, instance_family=fam
            )
            if price is not None:
                return price
    return None
