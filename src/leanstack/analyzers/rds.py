"""RDS instance class: sized from CPU, FreeableMemory and connections, with T-class credits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    Window,
    as_number,
    confidence_of,
    dec,
    gate,
    register,
    window,
)
from leanstack.analyzers._credits import hourly_means, surplus_vcpu_hours
from leanstack.analyzers._pricing import (
    Rate,
    rds_classes,
    rds_credit_price,
    rds_engine,
    rds_rate,
    unit_price,
)
from leanstack.analyzers._specs import InstanceSpec, family_of, is_arm, rds_spec
from leanstack.model.findings import (
    AttributeChange,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import Price
from leanstack.model.resource import Resource, is_known

GIB = 2**30


class RdsSettings(DataGateSettings):
    """How an RDS class is sized.

    CPU: Compute Optimizer's P99.5 with 20% headroom, plus a burst guard (at most 0.1% of the
    window above 100% of the new vCPUs). Memory: a database uses memory as cache, so the new
    class keeps the memory in use (total minus the lowest FreeableMemory) plus 20%. Connections:
    the peak plus 20% must stay under the engine's default max_connections for the new memory.
    Idle: Compute Optimizer's RDS idle rule, no connections over the window. Architecture moves
    are left to the Graviton analyzer unless `allow_arch_change` is set.
    """

    cpu_percentile: float = Field(
        99.5, gt=0, le=100, description="Percentile of CPU use to size for."
    )
    cpu_headroom: float = Field(0.20, ge=0, lt=1, description="Share of the new vCPUs kept free.")
    max_saturated_fraction: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Largest share of minutes allowed above 100% of the new vCPUs.",
    )
    memory_margin: float = Field(0.20, ge=0, description="Margin above the memory in use.")
    connections_margin: float = Field(
        0.20, ge=0, description="Margin above the peak connection count."
    )
    allow_arch_change: bool = Field(
        False, description="Consider classes of the other architecture (x86 <-> Graviton)."
    )


@dataclass(frozen=True, slots=True)
class Option:
    """One class priced under the recorded load: instance hours plus surplus CPU credits."""

    instance_class: str
    spec: InstanceSpec
    rate: Rate
    credit_vcpu_hours: float  # monthly surplus, 0 for fixed classes
    credit_price: Price | None
    fits: bool = True  # holds the required vCPU, memory and connections

    @property
    def instance_monthly(self) -> Decimal:
        """Instance hours over a month."""
        return self.rate.monthly

    @property
    def credits_monthly(self) -> Decimal:
        """Surplus credits over a month (unlimited mode)."""
        if self.credit_vcpu_hours <= 0 or self.credit_price is None:
            return Decimal(0)
        return dec(self.credit_vcpu_hours) * self.credit_price.price

    @property
    def total(self) -> Decimal:
        """Instance plus credits."""
        return self.instance_monthly + self.credits_monthly

    def row(self) -> dict[str, object]:
        """Evidence row."""
        return {
            "class": self.instance_class,
            "instance_monthly": str(self.instance_monthly.quantize(Decimal("0.01"))),
            "credit_vcpu_hours_monthly": round(self.credit_vcpu_hours, 2),
            "credits_monthly": str(self.credits_monthly.quantize(Decimal("0.01"))),
            "total_monthly": str(self.total.quantize(Decimal("0.01"))),
        }


def max_connections(engine: str, memory_gib: float) -> int:
    """Engine default max_connections for an instance memory."""
    if engine == "postgresql":
        return int(min(memory_gib * GIB / 9_531_392, 5000))
    return int(memory_gib * GIB / 12_582_880)


@register
class RdsRightsizing(Analyzer[RdsSettings]):
    """Size an RDS instance from CPU, FreeableMemory and DatabaseConnections; count T credits.

    A T-class instance (db.t3/db.t4g) runs in unlimited mode: CPU above its baseline is billed
    per vCPU-hour at the catalog's CPUCredits rate, so an instance above baseline all day can
    cost more than a fixed-performance class; every option is priced with its credits. Idle
    databases (no connections over the window) are flagged. Multi-AZ is shown as an
    availability choice, not a saving.
    """

    name = "rds"
    title = "RDS instance class"
    applies_to = frozenset({"aws_db_instance"})
    needs = frozenset(
        {"CPUUtilization", "FreeableMemory", "DatabaseConnections", "CPUCreditBalance"}
    )
    settings_model = RdsSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: RdsSettings
    ) -> Iterable[Finding]:
        cls = resource.get("instance_class")
        engine = rds_engine(resource.get("engine"))
        spec = rds_spec(cls) if isinstance(cls, str) else None
        if not isinstance(cls, str) or engine is None or spec is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"Class {cls!r} / engine {resource.get('engine')!r} is unknown or not sized here.",
            )
            return
        multi_az = bool(resource.get("multi_az")) if is_known(resource.get("multi_az")) else False
        yield self._class_finding(resource, ctx, settings, cls, engine, spec, multi_az)
        if multi_az:
            yield self._multi_az(resource, ctx, cls, engine)

    def _multi_az(self, resource: Resource, ctx: AnalysisContext, cls: str, engine: str) -> Finding:
        multi = rds_rate(ctx.catalog, resource.region, cls, engine, True)
        single = rds_rate(ctx.catalog, resource.region, cls, engine, False)
        extra = (multi.monthly - single.monthly) if multi and single else None
        return self.finding(
            resource,
            FindingStatus.NO_CHANGE,
            "Multi-AZ is an availability choice, not a saving: a standby takes over in about a "
            "minute or two"
            + (f"; it costs ${extra:.2f}/month more than Single-AZ." if extra is not None else "."),
            {"multi_az_extra_monthly": str(extra) if extra is not None else None},
        )

    def _class_finding(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: RdsSettings,
        cls: str,
        engine: str,
        spec: InstanceSpec,
        multi_az: bool,
    ) -> Finding:
        address = resource.address
        region = resource.region
        cpu_s = ctx.series(address, "CPUUtilization")
        cpu_w = window(cpu_s, s.lookback_days) if cpu_s else None
        conn_s = ctx.series(address, "DatabaseConnections")
        conn_w = window(conn_s, s.lookback_days) if conn_s else None
        mem_s = ctx.series(address, "FreeableMemory")
        mem_w = window(mem_s, s.lookback_days) if mem_s else None
        if (
            conn_w is not None
            and gate(conn_w, s, "DatabaseConnections") is None
            and float(conn_w.present.max()) == 0
        ):
            return self._idle(resource, ctx, conn_w, cls, engine, multi_az)
        reason = gate(cpu_w, s, "CPUUtilization")
        if reason or cpu_w is None:
            return self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough recorded load to size {cls}: {reason}.",
            )
        usage = cpu_w.present / 100.0 * spec.vcpu
        usage_hourly = hourly_means(cpu_w) / 100.0 * spec.vcpu
        at_pct = float(np.percentile(usage, s.cpu_percentile))
        need_vcpu = max(
            at_pct / (1 - s.cpu_headroom),
            float(np.percentile(usage, 100 * (1 - s.max_saturated_fraction))),
        )
        evidence: dict[str, object] = {
            "cpu": cpu_w.evidence(scale=spec.vcpu / 100.0, unit="vCPU"),
            "required_vcpu": round(need_vcpu, 4),
            "current": {
                "class": cls,
                "vcpu": spec.vcpu,
                "memory_gib": spec.memory_gib,
                "baseline": spec.baseline,
            },
        }
        need_mem = spec.memory_gib  # without FreeableMemory, never cut memory
        if mem_w is not None and gate(mem_w, s, "FreeableMemory") is None:
            used = spec.memory_gib - float(mem_w.present.min()) / GIB
            need_mem = max(0.0, used) * (1 + s.memory_margin)
            evidence["memory_used_gib"] = round(used, 3)
            evidence["FreeableMemory"] = mem_w.evidence(scale=1 / GIB, unit="GiB")
        evidence["required_memory_gib"] = round(need_mem, 3)
        need_conn = 0.0
        if conn_w is not None and conn_w.points:
            need_conn = float(conn_w.present.max()) * (1 + s.connections_margin)
            evidence["DatabaseConnections"] = conn_w.evidence()
        evidence["required_connections"] = round(need_conn, 1)
        credit_price = rds_credit_price(ctx.catalog, region, engine, family_of(cls))
        options: list[Option] = []
        for candidate in rds_classes(ctx.catalog, region, engine, multi_az):
            c_spec = rds_spec(candidate)
            if c_spec is None:
                continue
            if not s.allow_arch_change and is_arm(candidate) != is_arm(cls):
                continue
            fits = (
                c_spec.vcpu >= need_vcpu - 1e-9
                and c_spec.memory_gib >= need_mem - 1e-9
                and max_connections(engine, c_spec.memory_gib) >= need_conn
            )
            if not fits and candidate != cls:
                continue  # the current class stays listed, to price it even when it is too small
            rate = rds_rate(ctx.catalog, region, candidate, engine, multi_az)
            if rate is None:
                continue
            surplus = surplus_vcpu_hours(usage_hourly, c_spec)
            monthly_surplus = surplus * float(HOURS_PER_MONTH) / max(len(usage_hourly), 1)
            if monthly_surplus > 0 and credit_price is None:
                continue  # cannot price its credits: not a fair comparison
            options.append(Option(candidate, c_spec, rate, monthly_surplus, credit_price, fits))
        current = next((o for o in options if o.instance_class == cls), None)
        if current is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog price for {cls} ({engine}) in {region}.",
            )
        options.sort(key=lambda o: (o.total, o.instance_class != cls))
        fitting = [o for o in options if o.fits]
        fixed = [o for o in fitting if not o.spec.burstable]
        shown = fitting[:4] + [o for o in fixed[:1] if o not in fitting[:4]]
        evidence["options"] = [o.row() for o in shown]
        evidence["current_fits"] = current.fits
        if current.credits_monthly > 0:
            evidence["credit_charges_monthly"] = str(
                current.credits_monthly.quantize(Decimal("0.01"))
            )
            evidence["credit_rate"] = (
                f"${current.credit_price.price}/vCPU-hour ({current.credit_price.usage_type})"
                if current.credit_price
                else None
            )
        conf = confidence_of(cpu_w)
        credit_note = (
            f" It runs above its {spec.baseline:.0%} baseline: "
            f"${current.credits_monthly:.2f}/month "
            "of surplus CPU credits on top of the instance."
            if current.credits_monthly > 0 and spec.baseline is not None
            else ""
        )
        if not fitting:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Under-provisioned: the load needs {need_vcpu:.2f} vCPU and {need_mem:.1f} GiB, "
                "more than any class the catalog prices here.",
                evidence,
            )
        best = fitting[0]
        if not current.fits and best.total >= current.total:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Under-provisioned: the load needs {need_vcpu:.2f} vCPU and {need_mem:.1f} GiB; "
                f"{best.instance_class} holds it for ${best.total - current.total:.2f}/month more."
                + credit_note,
                evidence,
            )
        if best.instance_class == cls or best.total >= current.total:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"{cls} is the cheapest class that fits the load "
                f"(${current.total:.2f}/month).{credit_note}",
                evidence,
            )
        risks = [
            "Changing the class restarts the instance (minutes of downtime without Multi-AZ).",
            f"Sized for P{s.cpu_percentile:g} CPU with {s.cpu_headroom:.0%} headroom over "
            f"{cpu_w.days:.1f} days; check again if the load grows.",
        ]
        if best.spec.burstable:
            risks.append("A burstable class bills CPU above its baseline (unlimited mode).")
        if best.spec.memory_gib < spec.memory_gib:
            risks.append(
                "Less memory means a smaller buffer cache: watch read IOPS after the change."
            )
        assumptions = [*current.rate.sources(), *best.rate.sources()]
        if (current.credits_monthly > 0 or best.credits_monthly > 0) and credit_price is not None:
            assumptions.append(
                f"Surplus credits at ${credit_price.price}/vCPU-hour ({credit_price.usage_type}"
                + (
                    "; the catalog has no db.t4g rate, the db.t3 rate is used"
                    if family_of(cls) == "t4g" or family_of(best.instance_class) == "t4g"
                    else ""
                )
                + "); the credit balance starts full."
            )
        rec = Recommendation(
            id=self.rec_id(address, "class"),
            analyzer=self.name,
            address=address,
            title=f"Change {cls} to {best.instance_class}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{address}.instance_class", before=cls, after=best.instance_class
                ),
            ),
            monthly_cost_before=current.total,
            monthly_cost_after=best.total,
            confidence=conf,
            evidence=evidence,
            risks=tuple(risks),
            assumptions=tuple(assumptions),
            exclusive_group=f"db-class:{address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{cls} → {best.instance_class}: ${current.total:.2f} → ${best.total:.2f}/month."
            + credit_note,
            evidence,
            rec,
        )

    def _idle(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        conn_w: Window,
        cls: str,
        engine: str,
        multi_az: bool,
    ) -> Finding:
        rate = rds_rate(ctx.catalog, resource.region, cls, engine, multi_az)
        priced = ctx.priced.get(resource.address)
        before = (
            priced.monthly_cost
            if priced is not None and priced.monthly_cost > 0
            else (rate.monthly if rate else None)
        )
        storage = as_number(resource.get("allocated_storage")) or 0.0
        backup = unit_price(
            ctx.catalog,
            "rds",
            resource.region,
            unit="GB-month",
            usage_type="RDS:ChargedBackupUsage",
            engine=engine,
        )
        evidence = {"DatabaseConnections": conn_w.evidence()}
        if before is None or backup is None:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"No connections in {conn_w.days:.1f} days, but the instance cannot be priced "
                "here.",
                evidence,
            )
        after = dec(storage) * backup.price
        rec = Recommendation(
            id=self.rec_id(resource.address, "idle"),
            analyzer=self.name,
            address=resource.address,
            title="Delete the idle database, keeping a final snapshot",
            phase=Phase.ADVANCED,
            changes=(AttributeChange(path=resource.address, before="present", after=None),),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=confidence_of(conn_w),
            evidence=evidence,
            risks=(
                "A client that connects less often than the window (a monthly job) would break; "
                "check the owners first.",
            ),
            assumptions=(
                f"The final snapshot is at most the allocated {storage:g} GB, billed as backup "
                "storage.",
            ),
            exclusive_group=f"db-class:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"Idle: no connections in {conn_w.days:.1f} days; deleting it (final snapshot kept) "
            "saves "
            f"${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )
