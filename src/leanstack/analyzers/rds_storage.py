"""RDS storage, backups and monitoring: what they cost, and which changes save."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    as_number,
    dec,
    gated,
    register,
)
from leanstack.analyzers._pricing import rds_engine, unit_price
from leanstack.analyzers._specs import family_of, rds_spec
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.resource import Resource, is_known

GIB = 2**30
SECONDS_PER_MONTH = 730 * 3600


class RdsStorageSettings(DataGateSettings):
    """Assumptions behind storage, backup and monitoring costs.

    Backups: RDS gives backup storage equal to the provisioned storage for free; beyond that it
    bills per GB-month. Without a backup-size metric the backup set is estimated as one full
    copy of the used storage plus a daily change rate (5% is a common planning figure for an
    OLTP database) for each further day kept. Enhanced Monitoring is billed as CloudWatch Logs
    ingestion of its RDSOSMetrics events; AWS does not publish the event size, so a planning
    figure of 10 KB per sample is used (set it from your log group's IncomingBytes).
    """

    daily_change_fraction: float = Field(
        0.05, ge=0, le=1, description="Share of used storage that changes per day (backup growth)."
    )
    enhanced_monitoring_kb_per_sample: float = Field(
        10.0, gt=0, description="Size of one Enhanced Monitoring event in CloudWatch Logs (KB)."
    )


@register
class RdsStorage(Analyzer[RdsStorageSettings]):
    """gp2 to gp3, backups beyond the free allowance, Performance Insights and Enhanced Monitoring.

    Also says what does not save: lowering `max_allocated_storage` only caps storage
    autoscaling (you pay for what is allocated), and turning on Performance Insights paid
    retention or Enhanced Monitoring adds cost.
    """

    name = "rds_storage"
    title = "RDS storage, backups and monitoring"
    applies_to = frozenset({"aws_db_instance"})
    needs = frozenset({"FreeStorageSpace"})
    settings_model = RdsStorageSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: RdsStorageSettings
    ) -> Iterable[Finding]:
        engine = rds_engine(resource.get("engine"))
        storage = as_number(resource.get("allocated_storage"))
        if engine is None or storage is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "Engine or allocated_storage unknown: storage not analyzed.",
            )
            return
        multi_az = bool(resource.get("multi_az")) if is_known(resource.get("multi_az")) else False
        yield self._volume(resource, ctx, engine, storage, multi_az)
        yield self._backups(resource, ctx, settings, engine, storage)
        yield from self._monitoring(resource, ctx, settings)

    def _volume(
        self, resource: Resource, ctx: AnalysisContext, engine: str, storage: float, multi_az: bool
    ) -> Finding:
        if not is_known(resource.get("storage_type")):
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "storage_type is not known before apply."
            )
        volume = str(resource.get("storage_type") or "gp2")
        deployment = "multi-az" if multi_az else "single-az"
        max_alloc = as_number(resource.get("max_allocated_storage"))
        note = (
            f" max_allocated_storage = {max_alloc:g} only caps storage autoscaling: the bill is "
            "for "
            f"the allocated {storage:g} GB, so lowering it saves nothing by itself."
            if max_alloc
            else ""
        )
        if volume != "gp2":
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Storage is {volume}.{note}",
                {"storage_gb": storage},
            )
        gp2 = unit_price(
            ctx.catalog,
            "rds",
            resource.region,
            unit="GB-month",
            engine=engine,
            volume="gp2",
            deployment=deployment,
        )
        gp3 = unit_price(
            ctx.catalog,
            "rds",
            resource.region,
            unit="GB-month",
            engine=engine,
            volume="gp3",
            deployment=deployment,
        )
        if gp2 is None or gp3 is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog gp2/gp3 price in {resource.region}.{note}",
            )
        before = dec(storage) * gp2.price
        after = dec(storage) * gp3.price
        gp2_iops = max(100, int(3 * storage))
        evidence = {
            "storage_gb": storage,
            "gp2_per_gb_month": str(gp2.price),
            "gp3_per_gb_month": str(gp3.price),
            "gp2_baseline_iops": gp2_iops,
            "gp3_baseline_iops": 3000,
        }
        saving = before - after
        rec = Recommendation(
            id=self.rec_id(resource.address, "gp3"),
            analyzer=self.name,
            address=resource.address,
            title="Move storage from gp2 to gp3",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.storage_type",
                    before=resource.get("storage_type"),
                    after="gp3",
                ),
            ),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=Confidence.HIGH,
            evidence=evidence,
            risks=("The volume converts online, but performance can vary while it converts.",),
            assumptions=(
                f"gp2 ${gp2.price} vs gp3 ${gp3.price} per GB-month ({gp3.source_date}).",
            ),
            exclusive_group=f"db-storage:{resource.address}",
        )
        summary = (
            f"gp2 -> gp3 saves ${saving:.2f}/month"
            if saving > 0
            else f"gp2 -> gp3 costs the same here (${gp3.price}/GB-month)"
        ) + f" and raises baseline IOPS from {gp2_iops} to 3,000.{note}"
        return self.finding(resource, FindingStatus.OPPORTUNITY, summary, evidence, rec)

    def _backups(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: RdsStorageSettings,
        engine: str,
        storage: float,
    ) -> Finding:
        retention = as_number(resource.get("backup_retention_period"))
        if retention is None:
            retention = 1.0  # the RDS API keeps 1 day when the attribute is unset
        price = unit_price(
            ctx.catalog,
            "rds",
            resource.region,
            unit="GB-month",
            usage_type="RDS:ChargedBackupUsage",
            engine=engine,
        )
        win, why = gated(ctx, resource.address, "FreeStorageSpace", s)
        used = storage
        basis = "allocated storage (" + (why or "") + ")"
        if win is not None:
            used = max(0.0, storage - float(win.present.min()) / GIB)
            basis = "allocated minus the lowest FreeStorageSpace"
        backup_gb = (
            0.0
            if retention == 0
            else used * (1 + s.daily_change_fraction * max(0.0, retention - 1))
        )
        billed = max(0.0, backup_gb - storage)
        evidence = {
            "backup_retention_days": retention,
            "used_storage_gb": round(used, 2),
            "used_basis": basis,
            "estimated_backup_gb": round(backup_gb, 2),
            "free_backup_gb": storage,
            "billed_backup_gb": round(billed, 2),
        }
        if price is None:
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "No catalog backup price.", evidence
            )
        cost = dec(billed) * price.price
        evidence["backup_monthly"] = str(cost.quantize(Decimal("0.01")))
        if billed <= 0:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"{retention:g} days of backups (about {backup_gb:.1f} GB) fit in the free "
                f"allowance of {storage:g} GB: no backup charge.",
                evidence,
            )
        keep = 7.0 if retention > 7 else max(1.0, retention)
        after_gb = used * (1 + s.daily_change_fraction * (keep - 1))
        after = dec(max(0.0, after_gb - storage)) * price.price
        if keep >= retention or after >= cost:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Backups beyond the free {storage:g} GB cost about ${cost:.2f}/month; retention "
                f"{retention:g} days is a recovery choice.",
                evidence,
            )
        rec = Recommendation(
            id=self.rec_id(resource.address, "backup"),
            analyzer=self.name,
            address=resource.address,
            title=f"Keep {keep:g} days of automated backups instead of {retention:g}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.backup_retention_period",
                    before=resource.get("backup_retention_period"),
                    after=int(keep),
                ),
            ),
            monthly_cost_before=cost,
            monthly_cost_after=after,
            confidence=Confidence.LOW,
            evidence=evidence,
            risks=(f"Point-in-time recovery reaches back {keep:g} days instead of {retention:g}.",),
            assumptions=(f"Daily change {s.daily_change_fraction:.0%} of used storage (setting).",),
            exclusive_group=f"db-backup:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: saves about ${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )

    def _monitoring(
        self, resource: Resource, ctx: AnalysisContext, s: RdsStorageSettings
    ) -> Iterable[Finding]:
        cls = resource.get("instance_class")
        spec = rds_spec(cls) if isinstance(cls, str) else None
        pi_on = resource.get("performance_insights_enabled") is True
        pi_days = as_number(resource.get("performance_insights_retention_period")) or 7.0
        family = family_of(cls) if isinstance(cls, str) else ""
        pi_price = unit_price(
            ctx.catalog, "rds", resource.region, unit="vCPU-month", instance_family=f"db.{family}"
        )
        pi_cost = dec(spec.vcpu) * pi_price.price if (pi_price and spec) else None
        em_interval = as_number(resource.get("monitoring_interval")) or 0.0
        logs = unit_price(
            ctx.catalog, "cloudwatch", resource.region, unit="GB", log_class="standard"
        )
        evidence: dict[str, object] = {
            "performance_insights_enabled": pi_on,
            "performance_insights_retention_days": pi_days,
            "monitoring_interval_s": em_interval,
        }

        def em_cost(interval: float) -> Decimal | None:
            if logs is None or interval <= 0:
                return None
            gb = SECONDS_PER_MONTH / interval * s.enhanced_monitoring_kb_per_sample / 1024 / 1024
            return dec(gb) * logs.price

        if pi_cost is not None:
            evidence["pi_paid_retention_monthly"] = str(pi_cost.quantize(Decimal("0.01")))
        em_60 = em_cost(60)
        if em_60 is not None:
            evidence["enhanced_monitoring_60s_monthly"] = str(em_60.quantize(Decimal("0.01")))
        if pi_on and pi_days > 7 and pi_cost is not None:
            rec = Recommendation(
                id=self.rec_id(resource.address, "pi"),
                analyzer=self.name,
                address=resource.address,
                title="Keep Performance Insights on the free 7-day retention",
                phase=Phase.QUICK_WIN,
                changes=(
                    AttributeChange(
                        path=f"{resource.address}.performance_insights_retention_period",
                        before=resource.get("performance_insights_retention_period"),
                        after=7,
                    ),
                ),
                monthly_cost_before=pi_cost,
                monthly_cost_after=Decimal(0),
                confidence=Confidence.MEDIUM,
                evidence=evidence,
                risks=("History older than 7 days is lost.",),
                assumptions=(
                    f"{pi_price.product if pi_price else ''}: "
                    f"${pi_price.price if pi_price else ''}/vCPU-month, an uncertain catalog row.",
                ),
                exclusive_group=f"db-pi:{resource.address}",
            )
            yield self.finding(
                resource,
                FindingStatus.OPPORTUNITY,
                f"{rec.title}: saves ${pi_cost:.2f}/month.",
                evidence,
                rec,
            )
        current_em = em_cost(em_interval)
        if current_em is not None and em_interval < 60 and em_60 is not None:
            rec = Recommendation(
                id=self.rec_id(resource.address, "em"),
                analyzer=self.name,
                address=resource.address,
                title=f"Sample Enhanced Monitoring every 60 s instead of {em_interval:g} s",
                phase=Phase.QUICK_WIN,
                changes=(
                    AttributeChange(
                        path=f"{resource.address}.monitoring_interval",
                        before=resource.get("monitoring_interval"),
                        after=60,
                    ),
                ),
                monthly_cost_before=current_em,
                monthly_cost_after=em_60,
                confidence=Confidence.LOW,
                evidence=evidence,
                risks=("Finer OS metrics are lost.",),
                assumptions=(f"{s.enhanced_monitoring_kb_per_sample:g} KB per sample (setting).",),
                exclusive_group=f"db-em:{resource.address}",
            )
            yield self.finding(
                resource,
                FindingStatus.OPPORTUNITY,
                f"{rec.title}: saves about ${rec.monthly_savings:.2f}/month.",
                evidence,
                rec,
            )
            return
        parts = []
        if pi_on:
            parts.append(
                f"Performance Insights keeps {pi_days:g} days"
                + (" (free tier)" if pi_days <= 7 else "")
            )
        elif pi_cost is not None:
            parts.append(
                "Performance Insights is off; its 7-day tier is free, paid retention would add "
                f"${pi_cost:.2f}/month"
            )
        if current_em is not None:
            parts.append(
                f"Enhanced Monitoring every {em_interval:g} s costs about ${current_em:.2f}/month "
                "in CloudWatch Logs"
            )
        elif em_60 is not None:
            parts.append(
                f"Enhanced Monitoring is off; at 60 s it would add about ${em_60:.2f}/month"
            )
        yield self.finding(
            resource,
            FindingStatus.NO_CHANGE,
            "Monitoring adds cost, it does not save: " + "; ".join(parts) + "."
            if parts
            else "No paid monitoring.",
            evidence,
        )
