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
    Window,
    confidence_of,
    dec,
    gate,
    register,
    window,
)
from leanstack.analyzers._ecs import fargate_service, task_count
from leanstack.analyzers._pricing import fargate_rate, unit_price
from leanstack.model.findings import Finding, FindingStatus, Phase, Recommendation
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource

LAMBDA_MAX_S = 900.0


class ServerlessSettings(DataGateSettings):
    """The Lambda configuration the service's work is priced on.

    512 MB is the seed's proposed function size. Lambda bills wall time, so the recorded
    response time is the billed duration: an API that waits seconds on an upstream model pays
    for the wait. The front door defaults to the existing ALB (a Lambda target adds no
    per-request charge); `http_api` adds API Gateway HTTP API requests instead.
    """

    memory_mb: int = Field(512, ge=128, le=10240, description="Lambda memory to price with (MB).")
    front_door: str = Field(
        "alb", pattern="^(alb|http_api)$", description="alb (keep the ALB) or http_api."
    )
    arch: str = Field(
        "x86_64", pattern="^(x86_64|arm64)$", description="Lambda architecture priced."
    )


@register
class Serverless(Analyzer[ServerlessSettings]):
    """Price the service's recorded requests x response time on Lambda and find the break-even.

    Recommends the migration only when Lambda is cheaper under the recorded load; otherwise a
    no_change finding gives both costs, the break-even volume and where the service is today.
    Free tiers are left out (they are per account, not per service).
    """

    name = "serverless"
    title = "Lambda break-even"
    applies_to = frozenset({"aws_ecs_service"})
    needs = frozenset({"RequestCount", "TargetResponseTime", "RunningTaskCount"})
    settings_model = ServerlessSettings

    def _request_source(self, resource: Resource, ctx: AnalysisContext) -> str:
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
        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            yield self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
            return
        source = self._request_source(resource, ctx)
        req_s = ctx.series(source, "RequestCount")
        # Lambda bills the mean duration: the Average, not a percentile.
        rt_s = ctx.series(source, "TargetResponseTime", ("Average",))
        req = window(req_s, settings.lookback_days) if req_s else None
        rt = window(rt_s, settings.lookback_days) if rt_s else None
        reason = gate(req, settings, "RequestCount") or gate(rt, settings, "TargetResponseTime")
        if reason or req is None or rt is None:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Cannot price the work on Lambda: {reason}.",
            )
            return
        yield self._compare(resource, ctx, settings, svc, source, req, rt)

    def _compare(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: ServerlessSettings,
        svc: Any,
        source: str,
        req: Window,
        rt: Window,
    ) -> Finding:
        region = resource.region
        n = min(len(req.values), len(rt.values))
        counts = np.nan_to_num(req.values[-n:])
        times = rt.values[-n:]
        ok = ~np.isnan(times) & (counts > 0)
        total = float(counts.sum())
        hours = req.days * 24
        monthly_requests = total * float(HOURS_PER_MONTH) / hours if hours else 0.0
        avg_s = float(np.sum(counts[ok] * times[ok]) / counts[ok].sum()) if ok.any() else 0.0
        p99_s = (
            float(np.percentile(times[~np.isnan(times)], 99)) if np.any(~np.isnan(times)) else 0.0
        )
        if p99_s > LAMBDA_MAX_S:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"P99 response time {p99_s:.0f} s exceeds Lambda's 15-minute limit.",
            )
        req_price = unit_price(
            ctx.catalog,
            "lambda",
            region,
            unit="1M requests",
            arch=s.arch,
            group="AWS-Lambda-Requests" + ("-ARM" if s.arch == "arm64" else ""),
        )
        gbs_price = unit_price(
            ctx.catalog, "lambda", region, unit="GB-second", arch=s.arch, tier="1"
        )
        fd_price = (
            unit_price(
                ctx.catalog, "apigateway", region, unit="1M requests", api_type="http", tier="1"
            )
            if s.front_door == "http_api"
            else None
        )
        od = fargate_rate(ctx.catalog, region, svc.cpu_units, svc.memory_mib, arch=svc.arch)
        if (
            req_price is None
            or gbs_price is None
            or od is None
            or (s.front_door == "http_api" and fd_price is None)
        ):
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Lambda/Fargate price in {region}.",
            )
        gb = dec(s.memory_mb / 1024)
        per_request = req_price.price / Decimal(1_000_000) + dec(avg_s) * gb * gbs_price.price
        if fd_price is not None:
            per_request += fd_price.price / Decimal(1_000_000)
        lam = dec(monthly_requests) * per_request
        tasks, basis = task_count(svc, ctx, s.lookback_days)
        fargate = dec(tasks) * od.hourly * HOURS_PER_MONTH
        break_even = fargate / per_request if per_request > 0 else Decimal(0)
        evidence = {
            "requests_source": source,
            "RequestCount": req.evidence(),
            "TargetResponseTime": rt.evidence(unit="s"),
            "monthly_requests": round(monthly_requests, 0),
            "avg_response_s": round(avg_s, 4),
            "response_time_statistic": rt.series.statistic,
            "lambda_memory_mb": s.memory_mb,
            "lambda_per_million_requests": str((per_request * 1_000_000).quantize(Decimal("0.01"))),
            "lambda_monthly": str(lam.quantize(Decimal("0.01"))),
            "fargate_monthly": str(fargate.quantize(Decimal("0.01"))),
            "fargate_tasks": round(tasks, 3),
            "fargate_tasks_basis": basis,
            "break_even_requests_per_month": int(break_even),
            "front_door": s.front_door,
        }
        where = (
            f"{monthly_requests / 1e6:,.2f}M requests/month at {avg_s:.2f} s each (wall time, "
            "billed) "
            f"would cost ${lam:.2f}/month on Lambda ({s.memory_mb} MB) vs ${fargate:.2f} on "
            "Fargate; "
            f"break-even at {float(break_even) / 1e6:,.2f}M requests/month."
        )
        if lam >= fargate:
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
            monthly_cost_before=fargate,
            monthly_cost_after=lam,
            confidence=confidence_of(req, rt),
            evidence=evidence,
            risks=(
                "Cold starts add latency; provisioned concurrency to hide them costs extra.",
                "Streaming responses and long-lived connections need Lambda response streaming or "
                "a redesign.",
                "Above the break-even volume Lambda costs more than Fargate.",
            ),
            assumptions=("Billed duration = recorded response time; free tiers excluded.",),
            exclusive_group=f"compute:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            "Lambda is cheaper at the recorded load: " + where,
            evidence,
            rec,
        )
