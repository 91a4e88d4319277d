"""Serverless break-even: the service's recorded requests priced on Lambda against Fargate."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    confidence_of,
    gate,
    register,
    window,
)
from leanstack.analyzers._ecs import fargate_service
from leanstack.analyzers._replay import aligned, service_load
from leanstack.model.findings import Finding, FindingStatus, Phase, Recommendation
from leanstack.model.resource import Resource

FRONTS = {"alb": "alb", "http_api": "http-api", "rest_api": "rest-api", "none": "none"}


class ServerlessSettings(DataGateSettings):
    """The Lambda configuration the service's work is priced on.

    512 MB is the seed's proposed function size. Lambda bills wall time, so the recorded
    response time is the billed duration: an API that waits seconds on an upstream model pays
    for the wait. The front door defaults to the ALB the service already has (it stays in
    front of the function); `http_api`/`rest_api` price API Gateway instead, `none` a function
    URL. Free tiers are left out: they are per account, not per service.
    """

    memory_mb: int = Field(512, ge=128, le=10240, description="Lambda memory to price with (MB).")
    front_door: str = Field(
        "alb",
        pattern="^(alb|http_api|rest_api|none)$",
        description="Front door of the function: alb, http_api, rest_api or none.",
    )
    arch: str = Field(
        "x86_64", pattern="^(x86_64|arm64)$", description="Lambda architecture priced."
    )
    cold_starts_matter: bool = Field(
        False, description="Price provisioned concurrency sized from the recorded load."
    )


@register
class Serverless(Analyzer[ServerlessSettings]):
    """Price the service's recorded requests x response time on Lambda and find the break-even.

    Uses the simulator's break-even (`leanstack.simulate.lambda_breakeven`): Fargate is the
    service's own policy replayed over the scaled demand, Lambda is requests plus GB-seconds of
    wall time, both from the catalog. Recommends the migration only when Lambda is cheaper
    under the recorded load and no Lambda limit is broken; otherwise a no_change finding gives
    both costs, the break-even volume and where the service is today.
    """

    name = "serverless"
    title = "Lambda break-even"
    applies_to = frozenset({"aws_ecs_service"})
    needs = frozenset({"CPUUtilization", "RequestCount", "TargetResponseTime", "RunningTaskCount"})
    settings_model = ServerlessSettings

    def _request_source(self, resource: Resource, ctx: AnalysisContext) -> str:
        """Where the service's requests are recorded: itself, or the ALB in front of it."""
        if ctx.series(resource.address, "RequestCount") is not None:
            return resource.address
        for tg in ctx.referenced(resource, "load_balancer"):
            for listener in ctx.referencing(tg.address, "aws_lb_listener"):
                for lb in ctx.referenced(listener, "load_balancer_arn"):
                    if ctx.series(lb.address, "RequestCount") is not None:
                        return lb.address
        lbs = [
            r
            for r in ctx.of_type("aws_lb", "aws_alb")
            if ctx.series(r.address, "RequestCount") is not None
        ]
        return lbs[0].address if len(lbs) == 1 else resource.address

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: ServerlessSettings
    ) -> Iterable[Finding]:
        from leanstack.simulate.lambda_breakeven import (
            DurationProfile,
            Front,
            LambdaSetup,
            lambda_breakeven,
        )
        from leanstack.simulate.terraform import policies_from_terraform

        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            yield self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
            return
        s = settings
        source = self._request_source(resource, ctx)
        cpu = ctx.series(resource.address, "CPUUtilization", ("Average",))
        req_s = ctx.series(source, "RequestCount", ("Sum",))
        # Lambda bills the mean duration: the Average, not a percentile.
        rt_s = ctx.series(source, "TargetResponseTime", ("Average",))
        wins = {
            "CPUUtilization": window(cpu, s.lookback_days) if cpu else None,
            "RequestCount": window(req_s, s.lookback_days) if req_s else None,
            "TargetResponseTime": window(rt_s, s.lookback_days) if rt_s else None,
        }
        reasons = [r for m, w in wins.items() if (r := gate(w, s, m))]
        if reasons or cpu is None or req_s is None or rt_s is None:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                "Cannot price the work on Lambda: " + "; ".join(reasons) + ".",
            )
            return
        scaling = policies_from_terraform(resource, ctx.resources)
        replay = service_load(
            ctx, resource.address, cpu, s.lookback_days, svc.vcpu, scaling.config.desired
        )
        rpm = aligned(req_s, replay.start_s, replay.minutes, per_minute=True)
        times = aligned(rt_s, replay.start_s, replay.minutes)
        if np.all(np.isnan(times)) or np.all(np.isnan(rpm)):
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"The requests recorded on {source} do not overlap the service's CPU window.",
            )
            return
        duration = DurationProfile.from_series(times, weights=rpm)
        setup = LambdaSetup(
            memory_mb=s.memory_mb,
            arch=s.arch,
            front=Front(FRONTS[s.front_door]),
            cold_starts_matter=s.cold_starts_matter,
        )
        result = lambda_breakeven(
            replay.load,
            scaling.config,
            scaling.target_tracking,
            rpm,
            duration,
            setup=setup,
            catalog=ctx.catalog,
            fargate_has_alb=s.front_door == "alb",
        )
        if result is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Lambda/Fargate price in {resource.region} for the break-even.",
            )
            return
        yield self._finding(resource, s, source, result, [w for w in wins.values() if w])

    def _finding(
        self, resource: Resource, s: ServerlessSettings, source: str, result: Any, wins: list[Any]
    ) -> Finding:
        now = result.current
        evidence: dict[str, Any] = {
            "requests_source": source,
            "response_time_statistic": wins[2].series.statistic,
            "monthly_requests": round(now.monthly_requests),
            "lambda_monthly": str(now.lambda_cost.quantize(Decimal("0.01"))),
            "fargate_monthly": str(now.fargate_cost.quantize(Decimal("0.01"))),
            "break_even_requests_per_month": None
            if result.breakeven_requests is None
            else round(result.breakeven_requests),
            "curve": result.to_json(),
            "RequestCount": wins[1].evidence(),
            "TargetResponseTime": wins[2].evidence(unit="s"),
        }
        where = (
            f"{now.monthly_requests / 1e6:,.2f}M requests/month at "
            f"{result.duration.mean_s:.2f} s each (wall time, billed) would cost "
            f"${now.lambda_cost:.2f}/month on Lambda ({s.memory_mb} MB) vs "
            f"${now.fargate_cost:.2f} on Fargate; "
            + (
                f"break-even at {result.breakeven_requests / 1e6:,.2f}M requests/month."
                if result.breakeven_requests is not None
                else f"{result.cheaper_below_range}."
            )
        )
        if result.blockers:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                "Lambda is not an option as is: " + "; ".join(result.blockers) + ". " + where,
                evidence,
            )
        if not result.lambda_cheaper_today:
            return self.finding(
                resource, FindingStatus.NO_CHANGE, "Stay on Fargate: " + where, evidence
            )
        rec = Recommendation(
            id=self.rec_id(resource.address, "lambda"),
            analyzer=self.name,
            address=resource.address,
            title=f"Move the service's requests to Lambda ({s.memory_mb} MB)",
            phase=Phase.MIGRATION,
            changes=(),
            monthly_cost_before=now.fargate_cost,
            monthly_cost_after=now.lambda_cost,
            confidence=confidence_of(*wins),
            evidence=evidence,
            risks=(
                "Cold starts add latency; provisioned concurrency to hide them costs extra.",
                "Streaming responses and long-lived connections need Lambda response streaming "
                "or a redesign.",
                "Above the break-even volume Lambda costs more than Fargate.",
            ),
            assumptions=tuple(result.assumptions),
            exclusive_group=f"compute:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            "Lambda is cheaper at the recorded load: " + where,
            evidence,
            rec,
        )
