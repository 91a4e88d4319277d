"""ECS target tracking: the load replayed at the current, a lower and the best target."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    confidence_of,
    gate,
    register,
    same_kind,
    window,
)
from leanstack.analyzers._ecs import fargate_service
from leanstack.analyzers._replay import service_load
from leanstack.model.findings import AttributeChange, Finding, FindingStatus, Phase, Recommendation
from leanstack.model.resource import Resource
from leanstack.simulate.optimizer import DEFAULT_MIN_CAPACITY_FLOOR


class AutoscalingSettings(DataGateSettings):
    """What the replay compares and what counts as meeting the SLO.

    Lowering the target is common advice "so fewer instances run"; a lower target runs more
    tasks, so a lower target (60% by default) is always replayed next to the current one to
    show what it would cost. The SLO is the
    simulator's default: at most 0.1% of minutes above 90% average CPU (beyond that, requests
    queue). Targets are searched from 30% to 90% in 5-point steps.
    """

    lower_target: float = Field(
        60.0,
        gt=0,
        le=100,
        description="A lower CPU target replayed next to the current one, to show its cost.",
    )
    breach_threshold: float = Field(
        90.0, gt=0, le=100, description="Average CPU above which a minute breaches the SLO."
    )
    max_breach_share: float = Field(
        0.001, ge=0, le=1, description="Largest share of breaching minutes allowed."
    )
    search_min_capacity: bool = Field(
        True, description="Let the optimizer change min_capacity too."
    )
    min_capacity_floor: int = Field(
        DEFAULT_MIN_CAPACITY_FLOOR,
        ge=0,
        description="Lowest min_capacity proposed (two tasks survive the loss of one task or AZ).",
    )


@register
class Autoscaling(Analyzer[AutoscalingSettings]):
    """Replay the service's target-tracking policy over the recorded CPU with the simulator.

    Compares the current target, a lower one (60%) and the optimizer's choice (target and
    min_capacity) by task-hours, monthly cost and breach minutes, and proposes the optimizer's
    policy when it costs less and meets the SLO. Changes go on the aws_appautoscaling_policy
    target_value and the aws_appautoscaling_target min/max capacity.
    """

    name = "autoscaling"
    title = "Autoscaling policy"
    applies_to = frozenset({"aws_ecs_service"})
    needs = frozenset({"CPUUtilization", "RunningTaskCount"})
    settings_model = AutoscalingSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: AutoscalingSettings
    ) -> Iterable[Finding]:
        from leanstack.simulate.backtest import compare_targets
        from leanstack.simulate.optimizer import Candidate, SearchSpace, SloSettings, optimize
        from leanstack.simulate.policies import StepScalingPolicy
        from leanstack.simulate.terraform import policies_from_terraform

        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            yield self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
            return
        scaling = policies_from_terraform(resource, ctx.resources)
        tt = scaling.target_tracking
        # A step policy with no CloudWatch alarm behind it never fires (the seed's
        # "cost-based" policy): say so, whatever else is found.
        silent = [
            scaling.policy_addresses.get(p.name, p.name)
            for p in scaling.policies
            if isinstance(p, StepScalingPolicy) and p.alarm is None
        ]
        silent_note = (
            f" {', '.join(silent)}: a step policy with no alarm behind it never fires."
            if silent
            else ""
        )
        if tt is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "No target-tracking policy to replay." + silent_note,
                {"policies_without_alarm": silent},
            )
            return
        policy_address = scaling.policy_addresses.get(tt.name, "")
        cpu = ctx.series(resource.address, "CPUUtilization", ("Average",))
        win = window(cpu, settings.lookback_days) if cpu else None
        reason = gate(win, settings, "CPUUtilization")
        if reason or win is None or cpu is None:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough recorded CPU to replay the policy: {reason}.",
            )
            return
        load = service_load(
            ctx,
            resource.address,
            cpu,
            settings.lookback_days,
            scaling.config.task_vcpu,
            scaling.config.desired,
        ).load
        slo = SloSettings(
            breach_threshold=settings.breach_threshold, max_breach_share=settings.max_breach_share
        )
        rows = compare_targets(
            load, scaling.config, tt, ("current", settings.lower_target), slo=slo
        )
        if not rows:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Fargate price in {resource.region} for the replay.",
            )
            return
        evidence: dict[str, Any] = {
            "cpu": win.evidence(unit="%"),
            # Current and lower-target rows keep the configured capacity range.
            "replay": [
                {
                    **r.to_json(),
                    "min_capacity": scaling.config.min_capacity,
                    "max_capacity": scaling.config.max_capacity,
                }
                for r in rows
            ],
            "policy": policy_address,
            "breach_threshold": settings.breach_threshold,
            "window_days": round(load.minutes / 1440, 2),
            "max_breach_share": settings.max_breach_share,
            "model": "leanstack.simulate (minute-by-minute target tracking, 3/15 datapoint alarms)",
            "policies_without_alarm": silent,
        }
        current = next(r for r in rows if r.label == "current")
        lower = next(
            (r for r in rows if r.target == settings.lower_target and r.label != "current"), None
        )
        lower_note = silent_note
        if lower is not None and lower.target < current.target:
            if lower.monthly_cost > current.monthly_cost:
                lower_note += (
                    f" Lowering the target to {lower.target:g}% would cost "
                    f"${lower.monthly_cost:.2f}/month "
                    f"({lower.task_hours:.1f} task-hours vs {current.task_hours:.1f} over the "
                    f"{load.minutes / 1440:.1f} days replayed): a lower target runs more tasks, "
                    "not fewer."
                )
            else:
                lower_note += (
                    f" Lowering the target to {lower.target:g}% would cost the same here "
                    f"(${lower.monthly_cost:.2f}/month): min_capacity holds the task count; a "
                    "lower target never runs fewer tasks."
                )
        cur_min = scaling.config.min_capacity
        floor = min(settings.min_capacity_floor, cur_min)
        mins = tuple(range(floor, cur_min + 1)) if settings.search_min_capacity else (cur_min,)
        space = SearchSpace(
            targets=tuple(float(t) for t in range(30, 91, 5)),
            min_capacities=mins,
            max_capacity=scaling.config.max_capacity,
            scale_out_cooldowns_s=(tt.scale_out_cooldown_s,),
            scale_in_cooldowns_s=(tt.scale_in_cooldown_s,),
            task_sizes=((scaling.config.task_cpu_units, scaling.config.task_memory_mib),),
            refine_top=0,
        )
        fitted = optimize(
            load,
            scaling.config,
            slo=slo,
            space=space,
            extra=[Candidate(config=scaling.config, policy=tt)],
        )
        best = fitted.best
        if best is None or not best.meets_slo:
            yield self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                "No policy in the search meets the SLO on the recorded load; keep the current one."
                + lower_note,
                evidence,
            )
            return
        chosen = best.candidate
        evidence["optimizer"] = {
            "choice": chosen.describe(),
            "monthly_cost": str(best.monthly_cost.quantize(Decimal("0.01"))),
            "task_hours": str(best.task_hours.quantize(Decimal("0.01"))),
            "breach_minutes": best.breach_minutes,
            "breach_share": round(best.breach_share, 6),
        }
        evidence["replay"].append(
            {
                "label": "optimizer",
                "target": chosen.policy.target,
                "min_capacity": chosen.config.min_capacity,
                "max_capacity": chosen.config.max_capacity,
                "task_hours": evidence["optimizer"]["task_hours"],
                "monthly_cost": evidence["optimizer"]["monthly_cost"],
                "breach_minutes": best.breach_minutes,
                "breach_share": round(best.breach_share, 6),
            }
        )
        current_cost = current.monthly_cost
        same = (
            chosen.policy.target == tt.target
            and chosen.config.min_capacity == scaling.config.min_capacity
        )
        current_meets = current.breach_share <= settings.max_breach_share
        if (same or best.monthly_cost >= current_cost) and not current_meets:
            # Nothing cheaper meets the SLO, and the current policy does not meet it either:
            # say what meeting it would cost rather than calling today's policy the cheapest.
            yield self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"The current target {tt.target:g}% misses the SLO on the recorded load: "
                f"{current.breach_minutes} minute(s) above {settings.breach_threshold:g}% CPU "
                f"({current.breach_share:.2%}; at most {settings.max_breach_share:.2%} allowed). "
                f"The optimizer's choice ({chosen.describe()}) meets it for "
                f"${best.monthly_cost:.2f}/month "
                f"(+${best.monthly_cost - current_cost:.2f}).{lower_note}",
                evidence,
            )
            return
        if same or best.monthly_cost >= current_cost:
            yield self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"The current target {tt.target:g}% is already the cheapest policy that meets the "
                "SLO "
                f"(${current_cost:.2f}/month).{lower_note}",
                evidence,
            )
            return
        changes = []
        if chosen.policy.target != tt.target and policy_address:
            before = (
                ctx.resources[policy_address]
                .block("target_tracking_scaling_policy_configuration")
                .get("target_value")
            )
            changes.append(
                AttributeChange(
                    path=f"{policy_address}.target_tracking_scaling_policy_configuration.target_value",
                    before=before,
                    after=same_kind(before, chosen.policy.target),
                )
            )
        if scaling.target_address:
            target = ctx.resources[scaling.target_address]
            for attr, new in (
                ("min_capacity", chosen.config.min_capacity),
                ("max_capacity", chosen.config.max_capacity),
            ):
                before = target.get(attr)
                if new != getattr(scaling.config, attr):
                    changes.append(
                        AttributeChange(
                            path=f"{target.address}.{attr}",
                            before=before,
                            after=same_kind(before, new),
                        )
                    )
        rec = Recommendation(
            id=self.rec_id(resource.address, "policy"),
            analyzer=self.name,
            address=resource.address,
            title=f"Autoscale at {chosen.describe()}",
            phase=Phase.ADVANCED,
            changes=tuple(changes),
            monthly_cost_before=current_cost,
            monthly_cost_after=best.monthly_cost,
            confidence=confidence_of(win),
            evidence=evidence,
            risks=(
                f"Replayed on {win.days:.1f} days of load: {best.breach_minutes} minute(s) above "
                f"{settings.breach_threshold:g}% CPU (SLO allows {settings.max_breach_share:.1%}).",
                "Watch p95 latency after the change; a higher target leaves less room for a burst "
                "while new tasks start (about a minute).",
            ),
            assumptions=(
                "Task start latency 60 s; scale-out after 3 datapoints, scale-in after 15 below "
                "0.9 x target.",
            ),
            exclusive_group=f"compute:{resource.address}",
        )
        yield self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: ${current_cost:.2f} → ${best.monthly_cost:.2f}/month within the "
            f"SLO.{lower_note}",
            evidence,
            rec,
        )
