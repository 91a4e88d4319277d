"""Fargate per-task prices from the catalog, for the simulator and the optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from leanstack.catalog import Catalog, default_local_catalogs, load_catalog
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import Price, PriceQuery
from leanstack.resources.aws_ecs_service import fargate_task_rate

_MINUTES_PER_HOUR = Decimal(60)


@dataclass(frozen=True, slots=True, kw_only=True)
class FargateRates:
    """vCPU-hour and GB-hour rates for one region and architecture.

    Spot rates are None when the catalog has none for the region/arch; a simulation that would
    place tasks on Spot then reports an Issue instead of pricing them at $0.
    """

    region: str
    arch: str
    vcpu_hour: Decimal
    gb_hour: Decimal
    spot_vcpu_hour: Decimal | None = None
    spot_gb_hour: Decimal | None = None
    sources: tuple[str, ...] = ()
    spot_basis: str | None = None

    def task_hour(self, cpu_units: int, memory_mib: int, *, spot: bool = False) -> Decimal:
        """Price of one task for one hour (per-second billing, so minutes pro-rate exactly)."""
        vcpu = Decimal(cpu_units) / Decimal(1024)
        gb = Decimal(memory_mib) / Decimal(1024)
        if spot:
            if self.spot_vcpu_hour is None or self.spot_gb_hour is None:
                raise LookupError(f"no Fargate Spot price for {self.arch} in {self.region}")
            return vcpu * self.spot_vcpu_hour + gb * self.spot_gb_hour
        return vcpu * self.vcpu_hour + gb * self.gb_hour

    def task_minute(self, cpu_units: int, memory_mib: int, *, spot: bool = False) -> Decimal:
        """Price of one task-minute."""
        return self.task_hour(cpu_units, memory_mib, spot=spot) / _MINUTES_PER_HOUR

    def monthly(
        self, cpu_units: int, memory_mib: int, task_minutes: int, window_minutes: int
    ) -> Decimal:
        """On-demand cost of `task_minutes` billed over a window, scaled to a 730-hour month."""
        hours = Decimal(max(window_minutes, 1)) / _MINUTES_PER_HOUR
        return self.task_minute(cpu_units, memory_mib) * task_minutes * HOURS_PER_MONTH / hours


def _pick(
    catalog: Catalog, region: str, arch: str, capacity: str
) -> tuple[Price | None, Price | None]:
    query = PriceQuery.of("fargate", region, os="linux", arch=arch, capacity=capacity)
    return (
        fargate_task_rate(catalog, query, "vCPU-hour"),
        fargate_task_rate(catalog, query, "GB-hour"),
    )


def fargate_rates(
    region: str = "us-east-1", arch: str = "x86_64", catalog: Catalog | None = None
) -> tuple[FargateRates | None, list[Issue]]:
    """Rates from the catalog, or None with an Issue when the catalog lacks on-demand prices."""
    catalog = catalog or load_catalog(default_local_catalogs())
    vcpu, gb = _pick(catalog, region, arch, "on-demand")
    if vcpu is None or gb is None:
        return None, [
            Issue(
                code=IssueCode.PRICE_NOT_FOUND,
                message=f"no Fargate on-demand vCPU/GB price for {arch} in {region} in the catalog",
                where=f"fargate {region}",
                severity=Severity.ERROR,
            )
        ]
    spot_vcpu, spot_gb = _pick(catalog, region, arch, "spot")
    have_spot = spot_vcpu is not None and spot_gb is not None
    return (
        FargateRates(
            region=region,
            arch=arch,
            vcpu_hour=vcpu.price,
            gb_hour=gb.price,
            spot_vcpu_hour=spot_vcpu.price if have_spot and spot_vcpu else None,
            spot_gb_hour=spot_gb.price if have_spot and spot_gb else None,
            sources=(vcpu.source, gb.source),
            spot_basis=spot_vcpu.basis if have_spot and spot_vcpu else None,
        ),
        [],
    )
