"""Load balancers that served no request over the window."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    confidence_of,
    gate,
    register,
    window,
)
from leanstack.analyzers._pricing import unit_price
from leanstack.model.findings import (
    AttributeChange,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource


class LoadBalancerSettings(DataGateSettings):
    """Idle rule: no request over the whole window (the data gate's 30 h / 100 points apply)."""


@register
class LoadBalancer(Analyzer[LoadBalancerSettings]):
    """Flag application load balancers with no requests over the window; they bill by the hour."""

    name = "load_balancer"
    title = "Idle load balancers"
    applies_to = frozenset({"aws_lb", "aws_alb"})
    needs = frozenset({"RequestCount"})
    settings_model = LoadBalancerSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: LoadBalancerSettings
    ) -> Iterable[Finding]:
        lb_type = str(resource.get("load_balancer_type") or "application")
        if lb_type != "application":
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"{lb_type} load balancers are not analyzed.",
            )
            return
        series = ctx.series(resource.address, "RequestCount")
        win = window(series, settings.lookback_days) if series else None
        reason = gate(win, settings, "RequestCount")
        if reason or win is None:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough recorded requests: {reason}.",
            )
            return
        total = float(np.nansum(win.values))
        monthly = total * float(HOURS_PER_MONTH) / (win.days * 24)
        evidence = {"RequestCount": win.evidence(), "requests_per_month": round(monthly, 0)}
        if total > 0:
            yield self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"In use: {monthly:,.0f} requests a month.",
                evidence,
            )
            return
        priced = ctx.priced.get(resource.address)
        hour = unit_price(ctx.catalog, "alb", resource.region, unit="hour", lb_type="application")
        before = (
            priced.monthly_cost
            if priced is not None and priced.monthly_cost > 0
            else (hour.price * HOURS_PER_MONTH if hour else None)
        )
        if before is None:
            yield self.finding(
                resource, FindingStatus.NO_CHANGE, "Idle, but no catalog price to show.", evidence
            )
            return
        rec = Recommendation(
            id=self.rec_id(resource.address, "idle"),
            analyzer=self.name,
            address=resource.address,
            title="Delete the idle load balancer",
            phase=Phase.ADVANCED,
            changes=(AttributeChange(path=resource.address, before="present", after=None),),
            monthly_cost_before=before,
            monthly_cost_after=Decimal(0),
            confidence=confidence_of(win),
            evidence=evidence,
            risks=("DNS names pointing at it stop resolving to a target.",),
            exclusive_group=f"lb:{resource.address}",
        )
        yield self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"Idle: no request in {win.days:.1f} days; deleting it saves ${before:.2f}/month.",
            evidence,
            rec,
        )
