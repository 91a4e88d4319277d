"""Search target-tracking settings (and task size) for the cheapest policy that meets an SLO.

Candidates are replayed together with `leanstack.simulate.vector`; the chosen one is then
re-run through the reference simulator so that the reported figures come from `simulate()`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from leanstack.model.fargate import FARGATE_TASK_SIZES
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.simulate.ecs import Load
from leanstack.simulate.policies import ServiceConfig, SimulationSettings, TargetTrackingPolicy
from leanstack.simulate.pricing import FargateRates, fargate_rates
from leanstack.simulate.schedule import deployment_mask
from leanstack.simulate.vector import (
    MAX_LATENCY_MIN,
    BoolArray,
    CandidateArrays,
    replay_target_tracking,
)

FARGATE_SIZES = FARGATE_TASK_SIZES
# Two tasks survive the loss of one task or AZ: the lowest min capacity proposed for a
# service that already runs at least two (analyze and backtest share it).
DEFAULT_MIN_CAPACITY_FLOOR = 2


def memory_for(cpu_units: int, memory_per_vcpu_mib: float) -> int:
    """Smallest valid memory for `cpu_units` with at least that much memory per vCPU.

    Without a memory series, memory is assumed to scale with the work a task does, so a task
    of half the CPU keeps the same memory per vCPU (never below Fargate's minimum).
    """
    choices = FARGATE_SIZES.get(cpu_units)
    if not choices:
        raise ValueError(f"{cpu_units} is not a Fargate CPU size")
    wanted = cpu_units / 1024.0 * memory_per_vcpu_mib
    for mib in choices:
        if mib >= wanted - 1e-6:
            return mib
    return choices[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class SloSettings:
    """What "meets the SLO" means.

    Defaults: at most 0.1 % of minutes above 90 % average CPU. Where a request series exists,
    `requests_per_task_ceiling` (requests per task per minute) is a latency proxy held to the
    same share.
    """

    breach_threshold: float = 90.0
    max_breach_share: float = 0.001
    requests_per_task_ceiling: float | None = None
    max_request_violation_share: float = 0.001


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchSpace:
    """The grid searched. Empty `min_capacities` derives them from the demand quantiles.

    `task_sizes` are (cpu units, memory MiB) pairs from the caller (the rightsizer); empty keeps
    the service's size. Stage 1 searches target x min x size with the first cooldown pair;
    stage 2 tries every cooldown pair on the best `refine_top` of stage 1. No derived min
    capacity goes below `min_capacity_floor` (two tasks survive the loss of one task or AZ;
    `DEFAULT_MIN_CAPACITY_FLOOR` is what `analyze` uses).
    """

    targets: tuple[float, ...] = (40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0)
    min_capacities: tuple[int, ...] = ()
    min_quantiles: tuple[float, ...] = (0.0, 50.0, 90.0, 99.0, 100.0)
    max_capacity: int | None = None
    scale_out_cooldowns_s: tuple[int, ...] = (300, 60, 120)
    scale_in_cooldowns_s: tuple[int, ...] = (300, 600, 900)
    task_sizes: tuple[tuple[int, int], ...] = ()
    max_candidates: int = 200
    refine_top: int = 8
    min_capacity_floor: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A service configuration and its target-tracking policy."""

    config: ServiceConfig
    policy: TargetTrackingPolicy

    def describe(self) -> str:
        """Short form: `target 65%, 1-8 x 512/1024, cooldowns 60/300 s`."""
        c, p = self.config, self.policy
        return (
            f"target {p.target:g}%, {c.min_capacity}-{c.max_capacity} x "
            f"{c.task_cpu_units}/{c.task_memory_mib}, cooldowns "
            f"{p.scale_out_cooldown_s}/{p.scale_in_cooldown_s} s"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateScore:
    """A candidate's replay over the fitting window."""

    candidate: Candidate
    monthly_cost: Decimal
    task_hours: Decimal
    breach_minutes: int
    breach_share: float
    request_violations: int
    meets_slo: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OptimizationResult:
    """The best candidate (None without data), every candidate scored, and the issues."""

    best: CandidateScore | None
    scores: tuple[CandidateScore, ...]
    minutes: int
    issues: tuple[Issue, ...] = ()

    @property
    def meets_slo(self) -> bool:
        """Whether the best candidate meets the SLO (otherwise it is the least-breaching one)."""
        return self.best is not None and self.best.meets_slo


def _initial_count(load: Load, vcpu: float, target: float) -> int:
    head = load.demand_vcpu[:60]
    head = head[~np.isnan(head)]
    level = float(head.mean()) if head.size else 0.0
    return max(1, math.ceil(level / (vcpu * target / 100.0) - 1e-9))


def _sizes(config: ServiceConfig, space: SearchSpace) -> list[tuple[int, int]]:
    return list(space.task_sizes) or [(config.task_cpu_units, config.task_memory_mib)]


def _min_candidates(load: Load, vcpu: float, space: SearchSpace, threshold: float) -> list[int]:
    if space.min_capacities:
        return sorted(set(space.min_capacities))
    floor = max(1, space.min_capacity_floor)
    data = load.demand_vcpu[~np.isnan(load.demand_vcpu)]
    if not data.size:
        return [floor]
    out = {floor}
    for q in space.min_quantiles:
        level = float(np.percentile(data, q))
        out.add(max(floor, math.ceil(level / (vcpu * threshold / 100.0) - 1e-9)))
    return sorted(out)


def _max_for(load: Load, vcpu: float, space: SearchSpace, floor: int) -> int:
    if space.max_capacity is not None:
        return max(space.max_capacity, floor)
    data = load.demand_vcpu[~np.isnan(load.demand_vcpu)]
    peak = float(data.max()) if data.size else 0.0
    # Generous: room for twice the recorded peak at the lowest target searched.
    return max(floor, math.ceil(2.0 * peak / (vcpu * 0.4)) + 1)


def score_candidates(
    load: Load,
    candidates: Sequence[Candidate],
    *,
    rates: FargateRates,
    slo: SloSettings,
    settings: SimulationSettings,
    scale_in_frozen: BoolArray | None = None,
) -> list[CandidateScore]:
    """Replay every candidate at once and score it against the SLO.

    `scale_in_frozen` is the per-minute deployment mask of `load`; None builds it from
    `settings.deployments` (its issues are reported by `optimize`, which passes the mask in).
    """
    if not candidates:
        return []
    if scale_in_frozen is None and settings.deployments:
        scale_in_frozen = deployment_mask(settings.deployments, load.start, load.minutes, [])
    latency = min(settings.start_latency_min, MAX_LATENCY_MIN)
    arrays = CandidateArrays(
        target=np.array([c.policy.target for c in candidates], dtype=np.float64),
        min_capacity=np.array([c.config.min_capacity for c in candidates], dtype=np.float64),
        max_capacity=np.array([c.config.max_capacity for c in candidates], dtype=np.float64),
        scale_out_cooldown_min=np.array(
            [math.ceil(c.policy.scale_out_cooldown_s / 60) for c in candidates], dtype=np.float64
        ),
        scale_in_cooldown_min=np.array(
            [math.ceil(c.policy.scale_in_cooldown_s / 60) for c in candidates], dtype=np.float64
        ),
        task_vcpu=np.array([c.config.task_vcpu for c in candidates], dtype=np.float64),
        initial=np.array([c.config.desired for c in candidates], dtype=np.float64),
        scale_in=np.array([not c.policy.disable_scale_in for c in candidates], dtype=np.bool_),
    )
    batch = replay_target_tracking(
        load.demand_vcpu,
        arrays,
        start_latency_min=latency,
        breach_threshold=slo.breach_threshold,
        requests=load.requests if slo.requests_per_task_ceiling is not None else None,
        requests_per_task_ceiling=slo.requests_per_task_ceiling,
        scale_in_frozen=scale_in_frozen,
    )
    minutes = max(load.minutes, 1)
    out: list[CandidateScore] = []
    for k, cand in enumerate(candidates):
        task_minutes = int(batch.task_minutes[k])
        breach = int(batch.breach_minutes[k])
        violations = int(batch.request_violations[k])
        meets = breach <= slo.max_breach_share * minutes and (
            slo.requests_per_task_ceiling is None
            or load.requests is None
            or violations <= slo.max_request_violation_share * minutes
        )
        out.append(
            CandidateScore(
                candidate=cand,
                monthly_cost=rates.monthly(
                    cand.config.task_cpu_units, cand.config.task_memory_mib, task_minutes, minutes
                ),
                task_hours=Decimal(task_minutes) / Decimal(60),
                breach_minutes=breach,
                breach_share=breach / minutes,
                request_violations=violations,
                meets_slo=meets,
            )
        )
    return out


def _rank(score: CandidateScore) -> tuple[int, Decimal, int]:
    # Feasible first and cheapest; among infeasible ones the fewest breaches.
    if score.meets_slo:
        return (0, score.monthly_cost, score.breach_minutes)
    return (1, Decimal(score.breach_minutes + score.request_violations), 0)


def optimize(
    load: Load,
    config: ServiceConfig,
    *,
    slo: SloSettings | None = None,
    space: SearchSpace | None = None,
    settings: SimulationSettings | None = None,
    rates: FargateRates | None = None,
    extra: Sequence[Candidate] = (),
) -> OptimizationResult:
    """Find the cheapest target-tracking setup that meets the SLO over `load`.

    `extra` candidates (for instance the current policy) are scored alongside the grid. With no
    candidate meeting the SLO, `best` is the one with the fewest breaches and `meets_slo` is
    False; with no data at all, `best` is None and an INSUFFICIENT_DATA issue says so.
    """
    slo = slo or SloSettings()
    space = space or SearchSpace()
    settings = settings or SimulationSettings()
    issues: list[Issue] = []
    present = load.demand_vcpu[~np.isnan(load.demand_vcpu)]
    if present.size < 60:
        issues.append(
            Issue(
                code=IssueCode.INSUFFICIENT_DATA,
                message=f"{present.size} minutes of data; at least 60 are needed to fit a policy",
                where=load.name,
                severity=Severity.WARNING,
            )
        )
        return OptimizationResult(best=None, scores=(), minutes=load.minutes, issues=tuple(issues))
    if rates is None:
        rates, rate_issues = fargate_rates(config.region, config.arch)
        issues.extend(rate_issues)
        if rates is None:
            return OptimizationResult(
                best=None, scores=(), minutes=load.minutes, issues=tuple(issues)
            )
    if settings.start_latency_min > MAX_LATENCY_MIN:
        issues.append(
            Issue(
                code=IssueCode.EVALUATION_ERROR,
                message=f"start latency capped at {MAX_LATENCY_MIN} min for the policy search",
                where=load.name,
            )
        )

    # Built once for both stages; a bad deployment schedule is reported here, once.
    frozen = (
        deployment_mask(settings.deployments, load.start, load.minutes, issues)
        if settings.deployments
        else None
    )

    out_cd, in_cd = space.scale_out_cooldowns_s[0], space.scale_in_cooldowns_s[0]
    stage1: list[Candidate] = []
    for cpu, mem in _sizes(config, space):
        vcpu = cpu / 1024.0
        mins = _min_candidates(load, vcpu, space, slo.breach_threshold)
        if slo.requests_per_task_ceiling and load.requests is not None and not space.min_capacities:
            # CPU target tracking does not see requests: floors sized for them are candidates.
            req = load.requests[~np.isnan(load.requests)]
            if req.size:
                mins = sorted(
                    set(mins)
                    | {
                        max(
                            1,
                            math.ceil(float(np.percentile(req, q)) / slo.requests_per_task_ceiling),
                        )
                        for q in space.min_quantiles
                    }
                )
        top = _max_for(load, vcpu, space, max(mins))
        for target, low in itertools.product(space.targets, mins):
            cfg = replace(
                config,
                task_cpu_units=cpu,
                task_memory_mib=mem,
                min_capacity=low,
                max_capacity=top,
                desired=min(max(_initial_count(load, vcpu, target), low), top),
            )
            policy = TargetTrackingPolicy(
                name="optimized",
                target=target,
                scale_out_cooldown_s=out_cd,
                scale_in_cooldown_s=in_cd,
            )
            stage1.append(Candidate(config=cfg, policy=policy))
    if len(stage1) > space.max_candidates:
        # Keep an even spread over the grid rather than its first rows.
        keep = np.linspace(0, len(stage1) - 1, space.max_candidates).round().astype(int)
        stage1 = [stage1[i] for i in sorted(set(keep.tolist()))]
    scores = score_candidates(
        load, [*stage1, *extra], rates=rates, slo=slo, settings=settings, scale_in_frozen=frozen
    )
    scores.sort(key=_rank)

    stage2: list[Candidate] = []
    for score in [s for s in scores if s.candidate not in extra][: space.refine_top]:
        for o, i in itertools.product(space.scale_out_cooldowns_s, space.scale_in_cooldowns_s):
            if (o, i) == (out_cd, in_cd):
                continue
            policy = replace(score.candidate.policy, scale_out_cooldown_s=o, scale_in_cooldown_s=i)
            stage2.append(Candidate(config=score.candidate.config, policy=policy))
    scores.extend(
        score_candidates(
            load, stage2, rates=rates, slo=slo, settings=settings, scale_in_frozen=frozen
        )
    )
    scores.sort(key=_rank)
    best = next((s for s in scores if s.candidate not in extra), None)
    if best is not None and not best.meets_slo:
        issues.append(
            Issue(
                code=IssueCode.EVALUATION_ERROR,
                message=(
                    f"no candidate met the SLO (<= {slo.max_breach_share:.2%} of minutes above "
                    f"{slo.breach_threshold:g}%); the least-breaching one is reported"
                ),
                where=load.name,
                severity=Severity.INFO,
            )
        )
    return OptimizationResult(
        best=best, scores=tuple(scores), minutes=load.minutes, issues=tuple(issues)
    )
