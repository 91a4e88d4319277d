"""Fargate Spot: run the share of a stateless service above an on-demand base on Spot."""

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
    as_number,
    dec,
    gate,
    gated,
    register,
    window,
)
from leanstack.analyzers._ecs import FargateService, fargate_service, task_count
from leanstack.analyzers._pricing import fargate_rate
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource
from leanstack.resources import split_tasks as place_tasks
from leanstack.resources.aws_ecs_service import StrategyItem

SPOT_WARNING_S = 120


class FargateSpotSettings(DataGateSettings):
    """Capacity-provider strategy to propose and when Spot is unsafe.

    A Spot task gets a 2-minute warning and the scheduler does not fall back to on-demand, so
    an on-demand `base` of at least one task keeps the service up through a Spot shortage;
    the seed's 70/30 split is close to the 1:3 weight used here (75% of the tasks above the
    base on Spot). Services with fewer than two tasks cannot keep a base and a Spot share.
    A stop timeout above 120 s cannot finish within the Spot warning.
    """

    on_demand_base: int = Field(1, ge=1, description="Tasks always placed on FARGATE (on-demand).")
    on_demand_weight: int = Field(1, ge=0, description="FARGATE weight above the base.")
    spot_weight: int = Field(3, ge=1, description="FARGATE_SPOT weight above the base.")
    min_tasks: int = Field(2, ge=2, description="Fewest tasks a service must run to use Spot.")
    stateful_services: tuple[str, ...] = Field(
        (), description="Service addresses that hold state and must not run on Spot."
    )
    lookback_days: float = Field(14.0, gt=0, description="Days of RunningTaskCount to read.")
    stress_interruptions_per_task_day: float = Field(
        1.0,
        ge=0,
        description="Spot interruptions per Spot task per day in the stress replay (AWS "
        "publishes no Fargate Spot interruption rate; one a day is a pessimistic stress).",
    )
    stress_replacement_minutes: int = Field(
        5,
        ge=0,
        description="Minutes before an interrupted Spot task is replaced in the stress replay "
        "(replacements wait for Spot capacity; there is no fallback to on-demand).",
    )
    max_breach_share: float = Field(
        0.001,
        ge=0,
        le=1,
        description="Share of minutes above 90% CPU the stress replay may add before Spot is "
        "reported as a risk to the SLO.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StressReplay:
    """The recorded load replayed on-demand and on the proposed Spot split, interrupted."""

    days: float
    interruptions: int
    breach_minutes_on_demand: int
    breach_minutes_spot: int
    breach_share_added: float
    monthly_cost_on_demand: Decimal
    monthly_cost_spot: Decimal
    spot_task_hours: Decimal

    def to_json(self) -> dict[str, object]:
        """Evidence form (money and hours as decimal strings)."""
        return {
            "days": self.days,
            "interruptions": self.interruptions,
            "breach_minutes_on_demand": self.breach_minutes_on_demand,
            "breach_minutes_spot": self.breach_minutes_spot,
            "breach_share_added": self.breach_share_added,
            "monthly_cost_on_demand": str(self.monthly_cost_on_demand),
            "monthly_cost_spot": str(self.monthly_cost_spot),
            "spot_task_hours": str(self.spot_task_hours),
        }


def split_tasks(tasks: int, base: int, od_weight: int, spot_weight: int) -> tuple[int, int]:
    """(on-demand, spot) tasks under the proposed strategy, with the estimate's placement model.

    The strategy lists FARGATE_SPOT first, so a tie after the base goes to Spot (AWS does not
    document the rounding; reference §4.4: 10 tasks, base 2, weights 1:3 -> 4 on-demand, 6 Spot).
    """
    placed = place_tasks(tasks, _strategy(base, od_weight, spot_weight))
    return placed.get("FARGATE", 0), placed.get("FARGATE_SPOT", 0)


def _strategy(base: int, od_weight: int, spot_weight: int) -> list[StrategyItem]:
    return [
        StrategyItem("FARGATE_SPOT", 0, spot_weight),
        StrategyItem("FARGATE", base, od_weight),
    ]


@register
class FargateSpot(Analyzer[FargateSpotSettings]):
    """Propose a FARGATE base plus FARGATE_SPOT weights for stateless services with >= 2 tasks.

    Priced with the catalog's Spot rate, which is an observed, not a published, price: Spot
    prices move. Not proposed for a single task, a stop timeout above 120 s, or a stateful
    service (EFS or host volumes, or listed in `stateful_services`).

    Recorded load decides: the fewest tasks the service ran (is a Spot interruption safe?) and
    the split's average. RunningTaskCount must pass the data gate (DataGateSettings) to
    decide; below it the finding is "not enough data", unless the short series already shows
    the service down to a single task (then Spot is conclusively unsafe). With no series at
    all, the configured floor (min_capacity, desired_count) decides, at low confidence, as an
    estimate does. CPUUtilization feeds only the stress replay, which runs only on a series
    that passes the gate.
    """

    name = "fargate_spot"
    title = "Fargate Spot"
    applies_to = frozenset({"aws_ecs_service"})
    # CPUUtilization feeds the stress replay only; without it the split is still priced.
    needs = frozenset({"RunningTaskCount", "CPUUtilization"})
    settings_model = FargateSpotSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: FargateSpotSettings
    ) -> Iterable[Finding]:
        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            yield self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
            return
        yield self._analyze(svc, ctx, settings)

    def _unsafe(self, svc: FargateService, s: FargateSpotSettings, min_tasks: int) -> str | None:
        if svc.service.address in s.stateful_services:
            return "it is listed as stateful"
        for vol in svc.task_def.blocks("volume"):
            if vol.get("efs_volume_configuration") or vol.get("host_path"):
                return "its task definition mounts a volume (state)"
        stop = svc.containers.max_stop_timeout_s
        if stop is not None and stop > SPOT_WARNING_S:
            return f"a container's stopTimeout is {stop} s, longer than the 120 s Spot warning"
        if min_tasks < s.min_tasks:
            return (
                f"it runs as few as {min_tasks} task(s): with no second task, a Spot "
                "interruption takes it down (no fallback to on-demand)"
            )
        if svc.spot_share > 0:
            return f"it already runs {svc.spot_share:.0%} of its tasks on FARGATE_SPOT"
        return None

    def _analyze(
        self, svc: FargateService, ctx: AnalysisContext, s: FargateSpotSettings
    ) -> Finding:
        address = svc.service.address
        region = svc.service.region
        counts_series = ctx.series(address, "RunningTaskCount")
        counts: np.ndarray | None = None
        short: str | None = None  # why a recorded series is too short to decide
        short_min: int | None = None
        if counts_series is not None:
            win = window(counts_series, s.lookback_days)
            observed = np.rint(win.present).astype(int) if win.points else None
            short = gate(win, s, "RunningTaskCount")
            if short is None:
                counts = observed
            elif observed is not None:
                short_min = int(observed.min())
        desired = as_number(svc.service.get("desired_count"))
        floor_candidates = [
            v
            for v in (svc.min_capacity, None if svc.min_capacity is not None else desired)
            if v is not None
        ]
        min_tasks = (
            int(counts.min()) if counts is not None else int(min(floor_candidates, default=1))
        )
        if short_min is not None:
            # Too short to show the floor holds, but a dip it shows did happen.
            min_tasks = min(min_tasks, short_min)
        evidence: dict[str, object] = {"min_tasks": min_tasks}
        unsafe = self._unsafe(svc, s, min_tasks)
        if unsafe:
            return self.finding(
                address, FindingStatus.NOT_APPLICABLE, f"Spot not proposed: {unsafe}.", evidence
            )
        if short is not None:
            evidence["data_gate"] = short
            return self.finding(
                address,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough data to propose Spot: {short}.",
                evidence,
            )
        od_rate = fargate_rate(ctx.catalog, region, svc.cpu_units, svc.memory_mib, arch=svc.arch)
        spot_rate = fargate_rate(
            ctx.catalog, region, svc.cpu_units, svc.memory_mib, arch=svc.arch, capacity="spot"
        )
        if od_rate is None or spot_rate is None:
            return self.finding(
                address,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Fargate Spot price for {svc.arch} in {region}.",
            )
        if counts is not None:
            # Split each distinct count once, then weight by how often it ran.
            values, freq = np.unique(counts, return_counts=True)
            splits = np.array(
                [
                    split_tasks(int(c), s.on_demand_base, s.on_demand_weight, s.spot_weight)
                    for c in values
                ]
            )
            od_avg = float((splits[:, 0] * freq).sum() / freq.sum())
            spot_avg = float((splits[:, 1] * freq).sum() / freq.sum())
            basis = "RunningTaskCount over the window"
        else:
            tasks, basis = task_count(svc, ctx, s)
            od_n, spot_n = split_tasks(
                round(tasks), s.on_demand_base, s.on_demand_weight, s.spot_weight
            )
            od_avg, spot_avg = float(od_n), float(spot_n)
        before = dec(od_avg + spot_avg) * od_rate.hourly * HOURS_PER_MONTH
        after = (dec(od_avg) * od_rate.hourly + dec(spot_avg) * spot_rate.hourly) * HOURS_PER_MONTH
        evidence.update(
            {
                "tasks_basis": basis,
                "on_demand_tasks_avg": round(od_avg, 3),
                "spot_tasks_avg": round(spot_avg, 3),
                "spot_rate_hourly": str(spot_rate.hourly),
                "on_demand_rate_hourly": str(od_rate.hourly),
                "spot_price_basis": sorted({p.basis or "published" for p in spot_rate.prices}),
            }
        )
        strategy = [
            {"capacity_provider": i.provider, "base": i.base, "weight": i.weight}
            for i in _strategy(s.on_demand_base, s.on_demand_weight, s.spot_weight)
        ]
        changes = [
            AttributeChange(
                path=f"{address}.capacity_provider_strategy",
                before=svc.service.get("capacity_provider_strategy"),
                after=strategy,
            )
        ]
        if svc.service.get("launch_type") is not None:
            # launch_type and capacity_provider_strategy are mutually exclusive.
            changes.append(
                AttributeChange(
                    path=f"{address}.launch_type", before=svc.service.get("launch_type"), after=None
                )
            )
        changes.extend(self._cluster_change(svc, ctx))
        risks = [
            "Spot prices move: the rate used is an observed price, not a published list price "
            f"({'; '.join(spot_rate.sources())}).",
            "A Spot task gets a 2-minute warning (SIGTERM); the scheduler replaces it on Spot only "
            "when capacity exists and never falls back to on-demand.",
            f"The {s.on_demand_base} on-demand base task(s) keep the service up through a Spot "
            "shortage.",
            "In-flight work must survive a SIGTERM: jobs taken from a queue must be idempotent "
            "and return to the queue when a task stops.",
        ]
        long_jobs = [
            (q.address, timeout)
            for q in ctx.referenced(svc.task_def)
            if q.type == "aws_sqs_queue"
            and (timeout := as_number(q.get("visibility_timeout_seconds"))) is not None
            and timeout > SPOT_WARNING_S
        ]
        for queue, timeout in long_jobs:
            risks.append(
                f"Tasks take jobs from {queue} whose visibility timeout is {timeout:g} s: a job "
                "can outlast the 2-minute warning, so it must checkpoint or be safe to retry "
                "(an interrupted job reappears after the visibility timeout)."
            )
        cpu_win, cpu_short = gated(ctx, address, "CPUUtilization", s, ("Average",))
        stress = self._stress_replay(svc, ctx, s) if cpu_win is not None else None
        if cpu_short is not None and not cpu_short.startswith("no "):
            evidence["stress_replay_skipped"] = f"not enough data: {cpu_short}"
        if stress is not None:
            evidence["stress_replay"] = stress.to_json()
            risks.append(
                f"Stress replay of the recorded load at {s.stress_interruptions_per_task_day:g} "
                f"interruption(s) per Spot task a day, replaced after "
                f"{s.stress_replacement_minutes} min: {stress.interruptions} interruptions, "
                f"{stress.breach_minutes_spot} minute(s) above 90% CPU against "
                f"{stress.breach_minutes_on_demand} on-demand"
                + (
                    f" (adds more than the {s.max_breach_share:.1%} of minutes allowed)."
                    if stress.breach_share_added > s.max_breach_share
                    else "."
                )
            )
        if svc.arch == "arm64":
            risks.append(
                "Fargate Spot on ARM64: AWS documents disagree (the older user guide says not "
                "supported); check in the target region first."
            )
        rec = Recommendation(
            id=self.rec_id(address, "spot"),
            analyzer=self.name,
            address=address,
            title=(
                f"Run tasks above a base of {s.on_demand_base} on Fargate Spot "
                f"(weights FARGATE {s.on_demand_weight} : FARGATE_SPOT {s.spot_weight})"
            ),
            phase=Phase.ADVANCED,
            changes=tuple(changes),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=Confidence.MEDIUM
            if counts is not None and not long_jobs
            else Confidence.LOW,
            evidence=evidence,
            risks=tuple(risks),
            assumptions=(f"Task split from {basis}.", *od_rate.sources(), *spot_rate.sources()),
            exclusive_group=f"compute:{address}",
        )
        if rec.monthly_savings <= 0:
            return self.finding(
                address, FindingStatus.NO_CHANGE, "Spot would not save here.", evidence
            )
        return self.finding(
            address,
            FindingStatus.OPPORTUNITY,
            f"{spot_avg:.1f} of {od_avg + spot_avg:.1f} tasks on Spot saves about "
            f"${rec.monthly_savings:.2f}/month at the observed Spot rate (Spot prices move).",
            evidence,
            rec,
        )

    @staticmethod
    def _stress_replay(
        svc: FargateService, ctx: AnalysisContext, s: FargateSpotSettings
    ) -> StressReplay | None:
        """Replay the recorded CPU on-demand and with the proposed Spot split under a seeded
        interruption process; None without a CPU series or a price."""
        from dataclasses import replace

        from leanstack.analyzers._replay import service_load
        from leanstack.simulate.ecs import simulate
        from leanstack.simulate.policies import CapacityProviderItem, SimulationSettings
        from leanstack.simulate.pricing import fargate_rates
        from leanstack.simulate.terraform import policies_from_terraform

        cpu = ctx.series(svc.service.address, "CPUUtilization", ("Average",))
        if cpu is None or s.stress_interruptions_per_task_day <= 0:
            return None
        scaling = policies_from_terraform(svc.service, ctx.resources)
        config = scaling.config
        load = service_load(
            ctx, svc.service.address, cpu, s.lookback_days, config.task_vcpu, config.desired
        ).load
        if load.minutes < 60:
            return None
        on_demand = replace(config, capacity_strategy=())
        spot = replace(
            config,
            capacity_strategy=tuple(
                CapacityProviderItem(provider=i.provider, weight=i.weight, base=i.base)
                for i in _strategy(s.on_demand_base, s.on_demand_weight, s.spot_weight)
            ),
        )
        calm = SimulationSettings(record_series=False)
        # A fixed seed: the same stack gives the same report.
        stressed = replace(
            calm,
            spot_interruptions_per_task_hour=s.stress_interruptions_per_task_day / 24.0,
            spot_replacement_latency_s=s.stress_replacement_minutes * 60,
            seed=0,
        )
        rates, _ = fargate_rates(config.region, config.arch, ctx.catalog)
        if rates is None or rates.spot_vcpu_hour is None:
            return None
        base = simulate(
            load, on_demand, scaling.policies, scaling.scheduled, settings=calm, rates=rates
        )
        hit = simulate(
            load, spot, scaling.policies, scaling.scheduled, settings=stressed, rates=rates
        )
        return StressReplay(
            days=round(load.minutes / 1440, 1),
            interruptions=hit.spot_interruptions,
            breach_minutes_on_demand=base.breach_minutes,
            breach_minutes_spot=hit.breach_minutes,
            breach_share_added=round(
                max(0, hit.breach_minutes - base.breach_minutes) / max(load.minutes, 1), 6
            ),
            monthly_cost_on_demand=base.monthly_cost.quantize(Decimal("0.01")),
            monthly_cost_spot=hit.monthly_cost.quantize(Decimal("0.01")),
            spot_task_hours=(Decimal(hit.task_minutes_spot) / 60).quantize(Decimal("0.1")),
        )

    @staticmethod
    def _cluster_change(svc: FargateService, ctx: AnalysisContext) -> list[AttributeChange]:
        clusters = ctx.referenced(svc.service, "cluster")
        if not clusters:
            return []
        cluster = clusters[0]
        existing = ctx.referencing(cluster.address, "aws_ecs_cluster_capacity_providers")
        if existing:
            cp = existing[0]
            providers = list(cp.get("capacity_providers") or [])
            if "FARGATE_SPOT" in providers:
                return []
            return [
                AttributeChange(
                    path=f"{cp.address}.capacity_providers",
                    before=providers,
                    after=sorted({*providers, "FARGATE", "FARGATE_SPOT"}),
                )
            ]
        name = f"{cluster.name}_spot" if cluster.name else "spot"
        block = (
            f'resource "aws_ecs_cluster_capacity_providers" "{name}" {{\n'
            f"  cluster_name       = {cluster.address}.name\n"
            '  capacity_providers = ["FARGATE", "FARGATE_SPOT"]\n'
            "}\n"
        )
        prefix = cluster.address.rsplit(cluster.type, 1)[0]
        return [
            AttributeChange(
                path=f"{prefix}aws_ecs_cluster_capacity_providers.{name}",
                before=None,
                after={
                    "cluster_name": f"{cluster.address}.name",
                    "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
                },
                new_block=block,
            )
        ]
