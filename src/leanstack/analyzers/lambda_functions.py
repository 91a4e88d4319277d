"""Lambda functions: memory from duration and memory use, and timeouts far above the longest run."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    as_number,
    confidence_of,
    dec,
    gate,
    gated,
    register,
    window,
)
from leanstack.analyzers._pricing import unit_price
from leanstack.analyzers._services import lambda_arch, lambda_memory_mb, lambda_usage
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.resource import Resource, is_known

MEMORY_METRIC = "used_memory_max"  # Lambda Insights, MB


class LambdaSettings(DataGateSettings):
    """When a function's memory or timeout is worth changing.

    Compute Optimizer needs at least 50 invocations in 14 days and does not size functions
    above 1,792 MB; the same limits apply. Memory is sized from the peak memory used (Lambda
    Insights `used_memory_max`) plus 20%, in 64 MB steps. Below 1,769 MB memory also sets the
    CPU share, so a CPU-bound function runs longer with less memory: the saving is shown as a
    range from 0 (CPU-bound: same GB-seconds) to the full cut (I/O-bound: same duration). A
    timeout more than 3 times the longest recorded run only makes a hung invocation costlier.
    """

    min_invocations: int = Field(50, ge=1, description="Fewest invocations in the window.")
    max_memory_mb: int = Field(1792, ge=128, description="Largest configured memory analyzed.")
    memory_margin: float = Field(0.20, ge=0, description="Margin above the peak memory used.")
    timeout_factor: float = Field(
        3.0, gt=1, description="Timeout above this x the longest run is excessive."
    )


@register
class LambdaFunctions(Analyzer[LambdaSettings]):
    """Size Lambda memory from memory use and duration; flag timeouts far above the longest run."""

    name = "lambda_functions"
    title = "Lambda memory and timeout"
    applies_to = frozenset({"aws_lambda_function"})
    needs = frozenset({"Invocations", "Duration", MEMORY_METRIC})
    settings_model = LambdaSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: LambdaSettings
    ) -> Iterable[Finding]:
        usage = lambda_usage(resource, ctx, settings)
        dur = usage.duration if usage else None
        _, reason = gated(ctx, resource.address, "Duration", settings)
        if reason is None and dur is None:
            _, reason = gated(ctx, resource.address, "Invocations", settings)
        if usage is None or dur is None or reason:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough recorded invocations: {reason or 'no series'}.",
            )
            return
        invocations = usage.monthly_invocations * dur.days * 24 / 730
        if invocations < settings.min_invocations:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"{invocations:.0f} invocations in the window, fewer than "
                f"{settings.min_invocations}.",
            )
            return
        if not all(is_known(resource.get(k)) for k in ("memory_size", "timeout", "architectures")):
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "memory_size, timeout or architectures is not known before apply.",
            )
            return
        memory = lambda_memory_mb(resource)
        price = unit_price(
            ctx.catalog,
            "lambda",
            resource.region,
            unit="GB-second",
            arch=lambda_arch(resource),
            tier="1",
        )
        if price is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Lambda price in {resource.region}.",
            )
            return
        cost = dec(usage.monthly_gb_seconds) * price.price
        yield self._memory(
            resource, ctx, settings, memory, usage.monthly_gb_seconds, cost, price.price
        )
        yield self._timeout(resource, settings, float(dur.present.max()), memory, price.price)

    def _memory(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: LambdaSettings,
        memory: float,
        gbs: float,
        cost: Decimal,
        rate: Decimal,
    ) -> Finding:
        evidence: dict[str, object] = {"memory_mb": memory, "monthly_gb_seconds": round(gbs, 1)}
        if memory > s.max_memory_mb:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"{memory:g} MB is above {s.max_memory_mb} MB: not sized (as Compute Optimizer).",
                evidence,
            )
        used_s = ctx.series(resource.address, MEMORY_METRIC)
        used = window(used_s, s.lookback_days) if used_s else None
        reason = gate(used, s, MEMORY_METRIC)
        if used is None or reason:
            return self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Memory use not recorded ({reason}); memory is not cut without it.",
                evidence,
            )
        peak = float(used.present.max())
        new = max(128, int(math.ceil(peak * (1 + s.memory_margin) / 64) * 64))
        evidence["memory"] = used.evidence(unit="MB")
        evidence["recommended_memory_mb"] = new
        if new >= memory:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Peak memory use {peak:.0f} MB leaves no room to cut {memory:g} MB.",
                evidence,
            )
        after = cost * Decimal(new) / Decimal(str(memory))
        evidence["monthly_savings_low"] = "0"
        evidence["monthly_savings_high"] = str((cost - after).quantize(Decimal("0.01")))
        rec = Recommendation(
            id=self.rec_id(resource.address, "memory"),
            analyzer=self.name,
            address=resource.address,
            title=f"Set memory_size to {new} MB (from {memory:g})",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.memory_size",
                    before=resource.get("memory_size"),
                    after=new,
                ),
            ),
            monthly_cost_before=cost,
            monthly_cost_after=after,
            confidence=confidence_of(used),
            evidence=evidence,
            risks=(
                "Less memory also means less CPU: a CPU-bound function runs longer (cost "
                "unchanged, latency up).",
            ),
            assumptions=(f"Duration unchanged (I/O-bound); GB-seconds at ${rate}.",),
            exclusive_group=f"lambda:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: saves $0-${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )

    def _timeout(
        self, resource: Resource, s: LambdaSettings, longest_ms: float, memory: float, rate: Decimal
    ) -> Finding:
        timeout = as_number(resource.get("timeout", 3)) or 3.0
        longest = longest_ms / 1000
        limit = float(max(3, math.ceil(longest * s.timeout_factor)))
        evidence: dict[str, object] = {"timeout_s": timeout, "longest_run_s": round(longest, 3)}
        if timeout <= max(10.0, s.timeout_factor * longest):
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"Timeout {timeout:g} s fits the longest run ({longest:.1f} s).",
                evidence,
            )
        per_hung = dec(timeout * memory / 1024) * rate
        per_hung_after = dec(limit * memory / 1024) * rate
        evidence["cost_per_hung_invocation"] = str(per_hung)
        evidence["cost_per_hung_invocation_after"] = str(per_hung_after)
        rec = Recommendation(
            id=self.rec_id(resource.address, "timeout"),
            analyzer=self.name,
            address=resource.address,
            title=f"Lower the timeout from {timeout:g} s to {limit:g} s",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.timeout",
                    before=resource.get("timeout"),
                    after=int(limit),
                ),
            ),
            monthly_cost_before=Decimal(0),
            monthly_cost_after=Decimal(0),
            confidence=Confidence.MEDIUM,
            evidence=evidence,
            risks=("A run longer than any recorded one would now time out.",),
            assumptions=("No saving in normal runs: it caps what a hung invocation costs.",),
            exclusive_group=f"lambda-timeout:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"Timeout {timeout:g} s is over {s.timeout_factor:g}x the longest run ({longest:.1f} "
            "s): a hung invocation "
            f"costs ${per_hung:.5f} instead of ${per_hung_after:.5f}.",
            evidence,
            rec,
        )
