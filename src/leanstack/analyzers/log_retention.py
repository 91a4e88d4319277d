"""CloudWatch log groups kept forever: set a retention so storage stops growing."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np
from pydantic import Field, field_validator

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    as_number,
    dec,
    gated,
    register,
)
from leanstack.analyzers._pricing import unit_price
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource, is_known

VALID_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
DAYS_PER_MONTH = 730 / 24


class LogRetentionSettings(DataGateSettings):
    """Retention to propose for log groups that keep logs forever.

    30 days covers a monthly incident review and is a common default for application logs;
    the value must be one CloudWatch accepts. When the stored volume is unknown, the cost
    "before" is one year of ingestion kept (12 months of growth).
    """

    retention_days: int = Field(
        30, description="retention_in_days to propose (a CloudWatch value)."
    )

    @field_validator("retention_days")
    @classmethod
    def _valid(cls, value: int) -> int:
        if value not in VALID_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, VALID_DAYS))}")
        return value


@register
class LogRetention(Analyzer[LogRetentionSettings]):
    """Propose `retention_in_days` for log groups without one; price the storage it stops."""

    name = "log_retention"
    title = "Log retention"
    applies_to = frozenset({"aws_cloudwatch_log_group"})
    needs = frozenset({"IncomingBytes"})
    settings_model = LogRetentionSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: LogRetentionSettings
    ) -> Iterable[Finding]:
        if not is_known(resource.get("retention_in_days")):
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "retention_in_days is not known before apply.",
            )
            return
        days = as_number(resource.get("retention_in_days"))
        if days:
            yield self.finding(resource, FindingStatus.NO_CHANGE, f"Logs are kept {days:g} days.")
            return
        ingest_gb, stored_gb, basis = self._volumes(resource, ctx, settings)
        price = unit_price(
            ctx.catalog, "cloudwatch", resource.region, unit="GB-month", log_class="standard"
        )
        keep = settings.retention_days
        evidence: dict[str, object] = {
            "retention_in_days": None,
            "monthly_ingested_gb": ingest_gb,
            "stored_gb": stored_gb,
            "basis": basis,
        }
        change = AttributeChange(
            path=f"{resource.address}.retention_in_days",
            before=resource.get("retention_in_days"),
            after=keep,
        )
        if price is None or ingest_gb is None:
            rec = Recommendation(
                id=self.rec_id(resource.address, "retention"),
                analyzer=self.name,
                address=resource.address,
                title=f"Keep logs {keep} days instead of forever",
                phase=Phase.QUICK_WIN,
                changes=(change,),
                monthly_cost_before=Decimal(0),
                monthly_cost_after=Decimal(0),
                confidence=Confidence.LOW,
                evidence=evidence,
                risks=(f"Logs older than {keep} days are deleted.",),
                assumptions=(
                    "Ingestion volume unknown: the saving cannot be priced, only the growth "
                    "stopped.",
                ),
                exclusive_group=f"logs:{resource.address}",
            )
            yield self.finding(
                resource,
                FindingStatus.OPPORTUNITY,
                "Logs are kept forever, so storage grows every month; the volume is unknown, so "
                "the saving is not priced.",
                evidence,
                rec,
            )
            return
        steady = ingest_gb * keep / DAYS_PER_MONTH
        if stored_gb is None:
            stored_gb = ingest_gb * 12
            evidence["stored_gb"] = stored_gb
            evidence["basis"] = f"{basis}; stored volume assumed to be 12 months of ingestion"
        before = dec(stored_gb) * price.price
        after = dec(min(stored_gb, steady)) * price.price
        evidence["stored_gb_after"] = round(min(stored_gb, steady), 3)
        rec = Recommendation(
            id=self.rec_id(resource.address, "retention"),
            analyzer=self.name,
            address=resource.address,
            title=f"Keep logs {keep} days instead of forever",
            phase=Phase.QUICK_WIN,
            changes=(change,),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=Confidence.MEDIUM,
            evidence=evidence,
            risks=(
                f"Logs older than {keep} days are deleted; export them to S3 first if they are "
                "needed.",
            ),
            assumptions=(
                f"Storage at ${price.price}/GB-month; stored volume settles at {keep} days of "
                "ingestion.",
                f"Without retention the stored volume grows by {ingest_gb:g} GB every month.",
            ),
            exclusive_group=f"logs:{resource.address}",
        )
        yield self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"Logs are kept forever ({stored_gb:g} GB, +{ingest_gb:g} GB/month); {keep} days "
            "keeps about "
            f"{min(stored_gb, steady):.1f} GB: saves ${rec.monthly_savings:.2f}/month now, more "
            "every month.",
            evidence,
            rec,
        )

    @staticmethod
    def _volumes(
        resource: Resource, ctx: AnalysisContext, s: LogRetentionSettings
    ) -> tuple[float | None, float | None, str]:
        ingest = stored = None
        basis = "no usage"
        priced = ctx.priced.get(resource.address)
        if priced is not None:
            for comp in priced.components:
                if comp.monthly_quantity is None:
                    continue
                if comp.unit == "GB" and "ingest" in comp.name.lower() and ingest is None:
                    ingest = float(comp.monthly_quantity)
                    basis = "the estimate's usage"
                elif comp.unit.startswith("GB-month") and stored is None:
                    stored = float(comp.monthly_quantity)
        # IncomingBytes replaces the estimate's ingestion only when it passes the data gate.
        win, _ = gated(ctx, resource.address, "IncomingBytes", s)
        if win is not None:
            hours = win.days * 24
            ingest = float(np.nansum(win.values)) / 2**30 * float(HOURS_PER_MONTH) / hours
            basis = "IncomingBytes over the window"
        return ingest, stored, basis
