"""Minute-by-minute replay of ECS Service Auto Scaling over a recorded load.

This is the reference simulator: every feature (target tracking, step scaling, scheduled
actions, several policies, start latency, Fargate Spot interruptions and the capacity provider
split) in plain Python, one minute at a time. `leanstack.simulate.vector` replays target
tracking alone over many candidate policies at once and is tested against this one.

Timing model (one step = one minute t):
1. scheduled actions due in minute t change min/max and clamp the desired count;
2. tasks whose start latency has elapsed start serving; Spot tasks may be interrupted;
3. the minute's datapoint is the service's average CPU: demand / running capacity, capped at
   100 % because a Fargate task cannot use more than its size;
4. alarms see the datapoint at the end of the minute and policies act; launched tasks are billed
   from minute t+1 and serve from minute t+1+ceil(start_latency/60); stopped tasks are billed
   through minute t (per-second billing approximated per minute). In a minute during an ECS
   deployment (`SimulationSettings.deployments`) no policy scales in; scale-out goes on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.simulate.policies import (
    AdjustmentType,
    CapacityProviderItem,
    Policy,
    ScheduledAction,
    ServiceConfig,
    SimulationSettings,
    StepAdjustment,
    StepScalingPolicy,
    TargetTrackingPolicy,
)
from leanstack.simulate.pricing import FargateRates, fargate_rates
from leanstack.simulate.schedule import deployment_mask, occurrences

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Float noise in running x metric / target must not add a task (70 x 1 / 70 is 1, not 1.0000001).
_EPS = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Load:
    """Demand as work: vCPU in use each minute, independent of how many tasks served it.

    A CPU% series recorded at `tasks` tasks of `task_cpu_units` becomes
    demand_vcpu[t] = utilization[t] / 100 x tasks x task_vcpu, which re-projects onto any other
    task size or count. NaN marks a minute without data (no alarm datapoint).
    `requests` (per minute), when known, feeds the requests-per-task SLO.
    """

    name: str
    start: datetime
    demand_vcpu: FloatArray
    requests: FloatArray | None = None

    @staticmethod
    def from_utilization(
        utilization_pct: npt.ArrayLike,
        *,
        tasks: float | npt.ArrayLike,
        task_cpu_units: int,
        start: datetime | None = None,
        name: str = "",
        requests: npt.ArrayLike | None = None,
    ) -> Load:
        """Build the load from a 1-minute CPU% series recorded at a known size and count.

        `tasks` is one count or a per-minute series (ECS RunningTaskCount).
        """
        util = np.asarray(utilization_pct, dtype=np.float64)
        count = np.asarray(tasks, dtype=np.float64)
        demand = util / 100.0 * count * (task_cpu_units / 1024.0)
        req = None if requests is None else np.asarray(requests, dtype=np.float64)
        return Load(
            name=name,
            start=start or datetime(2026, 1, 1, tzinfo=UTC),
            demand_vcpu=demand,
            requests=req,
        )

    @property
    def minutes(self) -> int:
        """Length in minutes."""
        return len(self.demand_vcpu)

    def slice(self, begin: int, end: int | None = None) -> Load:
        """Minutes [begin, end) as a new load."""
        stop = self.minutes if end is None else end
        return Load(
            name=self.name,
            start=self.start + timedelta(minutes=begin),
            demand_vcpu=self.demand_vcpu[begin:stop],
            requests=None if self.requests is None else self.requests[begin:stop],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScalingEvent:
    """One change of the desired count, and which policy caused it."""

    minute: int
    before: int
    after: int
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SimulationResult:
    """What a policy would have done over the load, per minute and in total.

    Per-minute arrays are empty when `record_series` was off. Money is Decimal, computed from
    whole task-minutes times the catalog's per-task-minute price; `monthly_cost` normalises the
    window to 730 h. `scale_in_frozen_minutes` counts the minutes in which the policies agreed to
    scale in but a deployment held it back.
    """

    minutes: int
    task_minutes_on_demand: int
    task_minutes_spot: int
    cost: Decimal
    monthly_cost: Decimal
    breach_minutes: int
    breach_threshold: float
    unmet_vcpu_hours: float
    peak_tasks: int
    running_on_demand: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    running_spot: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    utilization: FloatArray = field(default_factory=lambda: np.zeros(0))
    unmet_vcpu: FloatArray = field(default_factory=lambda: np.zeros(0))
    cost_per_minute: FloatArray = field(default_factory=lambda: np.zeros(0))
    events: tuple[ScalingEvent, ...] = ()
    spot_interruptions: int = 0
    scale_in_frozen_minutes: int = 0
    issues: tuple[Issue, ...] = ()

    @property
    def task_hours(self) -> Decimal:
        """Billed task-hours over the window (pending tasks included: Fargate bills them)."""
        return Decimal(self.task_minutes_on_demand + self.task_minutes_spot) / Decimal(60)

    @property
    def breach_share(self) -> float:
        """Share of minutes with utilization above the breach threshold."""
        return self.breach_minutes / self.minutes if self.minutes else 0.0

    @property
    def unmet_demand(self) -> float:
        """vCPU-hours of demand that had no capacity to run on."""
        return self.unmet_vcpu_hours


# --------------------------------------------------------------------------- step scaling math


def percent_adjustment(
    current: int, percent: float, min_adjustment_magnitude: int | None = None
) -> int:
    """Tasks added (or removed, negative) by a PercentChangeInCapacity step.

    AWS rounding: values above 1 round down, 0 < x < 1 becomes 1, -1 < x < 0 becomes -1, values
    below -1 round toward zero; MinAdjustmentMagnitude then floors the size of the change.
    """
    raw = current * percent / 100.0
    if raw >= 1:
        delta = math.floor(raw + _EPS)
    elif raw > 0:
        delta = 1
    elif raw > -1:
        delta = -1 if raw < 0 else 0
    else:
        delta = math.ceil(raw - _EPS)
    if min_adjustment_magnitude and delta != 0 and abs(delta) < min_adjustment_magnitude:
        delta = min_adjustment_magnitude if delta > 0 else -min_adjustment_magnitude
    return delta


def find_step(steps: Sequence[StepAdjustment], offset: float) -> StepAdjustment | None:
    """The step whose bounds contain `offset` (metric minus threshold).

    At or above the threshold the lower bound is inclusive and the upper exclusive; below it
    the reverse (AWS step-scaling rules).
    """
    for step in steps:
        low = -math.inf if step.lower is None else step.lower
        high = math.inf if step.upper is None else step.upper
        if offset >= 0:
            if low <= offset < high:
                return step
        elif low < offset <= high:
            return step
    return None


def step_capacity(policy: StepScalingPolicy, step: StepAdjustment, base: int) -> int:
    """Capacity a step asks for, from the base count."""
    if policy.adjustment_type is AdjustmentType.EXACT_CAPACITY:
        return int(step.adjustment)
    if policy.adjustment_type is AdjustmentType.PERCENT_CHANGE_IN_CAPACITY:
        return base + percent_adjustment(base, step.adjustment, policy.min_adjustment_magnitude)
    return base + int(step.adjustment)


# --------------------------------------------------------------------------- capacity split


def split_table(strategy: Sequence[CapacityProviderItem], up_to: int) -> tuple[IntArray, IntArray]:
    """On-demand and Spot task counts for every desired count 0..up_to (§4.4 model).

    The provider with a base gets its base first; each further task goes to the provider with the
    smallest placed/weight (first listed on a tie).
    """
    od = np.zeros(up_to + 1, dtype=np.int64)
    spot = np.zeros(up_to + 1, dtype=np.int64)
    items = [i for i in strategy if i.weight > 0 or i.base > 0]
    if not items:
        od[:] = np.arange(up_to + 1)
        return od, spot
    base_item = next((i for i in items if i.base > 0), None)
    weighted = [i for i in items if i.weight > 0]
    placed = [0] * len(weighted)
    count_od = count_spot = 0
    for n in range(1, up_to + 1):
        if base_item is not None and n <= base_item.base:
            spot_task = base_item.spot
        elif weighted:
            best = min(range(len(weighted)), key=lambda k: (placed[k] / weighted[k].weight, k))
            placed[best] += 1
            spot_task = weighted[best].spot
        else:
            spot_task = base_item.spot if base_item else False
        if spot_task:
            count_spot += 1
        else:
            count_od += 1
        od[n], spot[n] = count_od, count_spot
    return od, spot


# --------------------------------------------------------------------------- policy state


@dataclass(slots=True)
class _Proposal:
    direction: int  # +1 out, -1 in
    capacity: int


class _PolicyState:
    """Alarm counters and cooldown clocks of one policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.high = 0
        self.low = 0
        self.history: list[bool] = []
        self.out_until = -1  # scale-out cooldown active while minute < out_until
        self.out_base = 0
        self.in_until = -1

    @property
    def can_scale_in(self) -> bool:
        policy = self.policy
        if isinstance(policy, TargetTrackingPolicy):
            return not policy.disable_scale_in
        if policy.alarm is None:
            return False
        if policy.adjustment_type is AdjustmentType.EXACT_CAPACITY:
            return True
        return any(s.adjustment < 0 for s in policy.steps)

    def base(self, t: int, running: int) -> int:
        """Scale-out base: during a scale-out cooldown the capacity just added counts."""
        return self.out_base if t < self.out_until else running

    def evaluate(self, t: int, metric: float, running: int, desired: int) -> _Proposal | None:
        policy = self.policy
        if isinstance(policy, TargetTrackingPolicy):
            return self._target_tracking(policy, t, metric, running, desired)
        return self._step(policy, t, metric, running, desired)

    def _target_tracking(
        self, policy: TargetTrackingPolicy, t: int, metric: float, running: int, desired: int
    ) -> _Proposal | None:
        if math.isnan(metric):
            # Insufficient data: no scaling at all, and the alarms start counting again.
            self.high = self.low = 0
            return None
        self.high = self.high + 1 if metric > policy.target else 0
        self.low = self.low + 1 if metric < policy.scale_in_ratio * policy.target else 0
        if running == 0:
            # Scaled to zero: one datapoint with work waiting starts one task (§4.1).
            return _Proposal(1, 1) if metric > 0 and desired < 1 else None
        if self.high >= policy.scale_out_datapoints:
            wanted = math.ceil(self.base(t, running) * metric / policy.target - _EPS)
            return _Proposal(1, wanted) if wanted > desired else None
        if (
            self.low >= policy.scale_in_datapoints
            and not policy.disable_scale_in
            and t >= self.in_until
        ):
            wanted = math.ceil(running * metric / policy.target - _EPS)
            return _Proposal(-1, wanted) if wanted < desired else None
        return None

    def _step(
        self, policy: StepScalingPolicy, t: int, metric: float, running: int, desired: int
    ) -> _Proposal | None:
        alarm = policy.alarm
        if alarm is None:
            return None
        self.history.append(alarm.comparison.breaches(metric, alarm.threshold))
        window = self.history[-alarm.evaluation_periods :]
        needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
        if len(window) < alarm.evaluation_periods or sum(window) < needed or math.isnan(metric):
            return None
        step = find_step(policy.steps, metric - alarm.threshold)
        if step is None:
            return None
        wanted = step_capacity(policy, step, self.base(t, running))
        if wanted > desired:
            return _Proposal(1, wanted)
        if wanted < desired and t >= self.in_until:
            wanted = step_capacity(policy, step, running)
            return _Proposal(-1, wanted) if wanted < desired else None
        return None

    def scaled_out(self, t: int, running: int) -> None:
        policy = self.policy
        cooldown = (
            policy.scale_out_cooldown_s
            if isinstance(policy, TargetTrackingPolicy)
            else policy.cooldown_s
        )
        if t >= self.out_until:
            self.out_base = running
        self.out_until = t + math.ceil(cooldown / 60)

    def scaled_in(self, t: int) -> None:
        policy = self.policy
        cooldown = (
            policy.scale_in_cooldown_s
            if isinstance(policy, TargetTrackingPolicy)
            else policy.cooldown_s
        )
        self.in_until = t + math.ceil(cooldown / 60)


# --------------------------------------------------------------------------- the replay


def _schedule_minutes(
    actions: Sequence[ScheduledAction], start: datetime, minutes: int, issues: list[Issue]
) -> dict[int, list[ScheduledAction]]:
    by_minute: dict[int, list[ScheduledAction]] = {}
    end = start + timedelta(minutes=minutes)
    for action in actions:
        try:
            times = occurrences(action, start, end)
        except ValueError as exc:
            issues.append(
                Issue(code=IssueCode.EVALUATION_ERROR, message=str(exc), where=action.name)
            )
            continue
        for when in times:
            start_utc = start if start.tzinfo else start.replace(tzinfo=UTC)
            minute = max(0, int((when - start_utc).total_seconds() // 60))
            by_minute.setdefault(minute, []).append(action)
    return by_minute


def simulate(
    load: Load,
    config: ServiceConfig,
    policies: Sequence[Policy] = (),
    scheduled: Sequence[ScheduledAction] = (),
    settings: SimulationSettings | None = None,
    rates: FargateRates | None = None,
    *,
    warmup_minutes: int = 0,
) -> SimulationResult:
    """Replay the policies over the load and price the tasks they run.

    The first `warmup_minutes` are replayed but not counted: a backtest replays the training
    window so that the policy enters the evaluation window in the state it would really be in.

    Deployments (`settings.deployments`) suspend scale-in, by target tracking and step scaling
    alike, in every minute a deployment overlaps; scale-out and scheduled actions go on. The
    alarms keep evaluating through a freeze and no scale-in cooldown starts, so a scale-in still
    wanted when the freeze ends happens in the first minute after it. The counted minutes in
    which a scale-in was held back are `scale_in_frozen_minutes`.
    """
    settings = settings or SimulationSettings()
    issues: list[Issue] = []
    if rates is None:
        rates, rate_issues = fargate_rates(config.region, config.arch)
        issues.extend(rate_issues)
    n_minutes = load.minutes
    latency = settings.start_latency_min
    spot_latency = (
        latency
        if settings.spot_replacement_latency_s is None
        else max(0, math.ceil(settings.spot_replacement_latency_s / 60))
    )
    horizon = n_minutes + max(latency, spot_latency) + 2
    arrive_od = np.zeros(horizon, dtype=np.int64)
    arrive_spot = np.zeros(horizon, dtype=np.int64)

    schedule = _schedule_minutes(scheduled, load.start, n_minutes, issues)
    # A list, not the array: one cheap index a minute in the loop below.
    frozen: list[bool] | None = (
        deployment_mask(settings.deployments, load.start, n_minutes, issues).tolist()
        if settings.deployments
        else None
    )
    frozen_minutes = 0
    ceiling = max(
        [config.max_capacity, config.desired]
        + [a.max_capacity or 0 for a in scheduled]
        + [a.min_capacity or 0 for a in scheduled]
    )
    split_od, split_spot = split_table(config.capacity_strategy, ceiling)
    uses_spot = bool(split_spot[-1] > 0)
    spot_price_missing = uses_spot and rates is not None and rates.spot_vcpu_hour is None
    if spot_price_missing:
        issues.append(
            Issue(
                code=IssueCode.PRICE_NOT_FOUND,
                message=f"no Fargate Spot price for {config.arch} in {config.region}; "
                "Spot tasks are priced at the on-demand rate",
                where=f"fargate {config.region}",
            )
        )

    min_cap, max_cap = config.min_capacity, config.max_capacity
    desired = min(max(config.desired, min_cap), max_cap)
    running_od, running_spot = int(split_od[desired]), int(split_spot[desired])
    pending_od = pending_spot = 0
    states = [_PolicyState(p) for p in policies]
    rng = np.random.default_rng(settings.seed)
    p_interrupt = settings.spot_interruptions_per_task_hour / 60.0
    vcpu = config.task_vcpu
    threshold = settings.breach_threshold
    record = settings.record_series

    size = n_minutes if record else 0
    run_od, run_spot = [0] * size, [0] * size
    util_out, unmet_out = [0.0] * size, [0.0] * size
    billed_od_out, billed_spot_out = [0] * size, [0] * size
    billed_od_total = billed_spot_total = 0
    breaches = 0
    unmet_total = 0.0
    interruptions = 0
    peak = 0
    events: list[ScalingEvent] = []
    demand = load.demand_vcpu.tolist()
    arrive_od_l = arrive_od.tolist()
    arrive_spot_l = arrive_spot.tolist()

    for t in range(n_minutes):
        for action in schedule.get(t, ()):
            if action.min_capacity is not None:
                min_cap = action.min_capacity
            if action.max_capacity is not None:
                max_cap = action.max_capacity
            clamped = min(max(desired, min_cap), max_cap)
            if clamped != desired:
                events.append(
                    ScalingEvent(minute=t, before=desired, after=clamped, cause=action.name)
                )
                desired = clamped
        running_od += arrive_od_l[t]
        pending_od -= arrive_od_l[t]
        running_spot += arrive_spot_l[t]
        pending_spot -= arrive_spot_l[t]
        interrupted = 0
        if p_interrupt > 0 and running_spot > 0:
            interrupted = int(rng.binomial(running_spot, min(1.0, p_interrupt)))
            running_spot -= interrupted
            interruptions += interrupted

        running = running_od + running_spot
        d = demand[t]
        capacity = running * vcpu
        if math.isnan(d):
            metric = math.nan
            unmet = 0.0
        elif capacity > 0:
            metric = min(100.0, 100.0 * d / capacity)
            unmet = max(0.0, d - capacity)
        else:
            metric = 100.0 if d > 0 else math.nan
            unmet = d
        billed_od = running_od + pending_od
        billed_spot = running_spot + pending_spot
        if t >= warmup_minutes:
            if metric > threshold:
                breaches += 1
            unmet_total += unmet
            billed_od_total += billed_od
            billed_spot_total += billed_spot
            peak = max(peak, running)
        if record:
            run_od[t], run_spot[t] = running_od, running_spot
            util_out[t], unmet_out[t] = metric, unmet
            billed_od_out[t], billed_spot_out[t] = billed_od, billed_spot

        proposals = [(s, s.evaluate(t, metric, running, desired)) for s in states]
        outs = [(s, p) for s, p in proposals if p is not None and p.direction > 0]
        new_desired = desired
        cause = ""
        if outs:
            state, best = max(outs, key=lambda sp: sp[1].capacity)
            new_desired = min(max(best.capacity, min_cap), max_cap)
            cause = state.policy.name
            if new_desired > desired:
                for s, _ in outs:
                    s.scaled_out(t, running)
                for s in states:
                    s.in_until = -1  # a scale-out cancels scale-in cooldowns
        else:
            voters = [(s, p) for s, p in proposals if s.can_scale_in]
            if voters and all(p is not None and p.direction < 0 for _, p in voters):
                wanted = max(p.capacity for _, p in voters if p is not None)
                new_desired = min(max(wanted, min_cap), max_cap)
                cause = "+".join(s.policy.name for s, _ in voters)
                if new_desired < desired and frozen is not None and frozen[t]:
                    # ECS suspends scale-in during a deployment. The CloudWatch alarms are not
                    # suspended (their streaks above went on counting) and no cooldown starts,
                    # so if the alarm is still in ALARM when the deployment ends, the scale-in
                    # happens in the first minute after it.
                    new_desired = desired
                    if t >= warmup_minutes:
                        frozen_minutes += 1
                elif new_desired < desired:
                    for s, _ in voters:
                        s.scaled_in(t)
        if new_desired != desired:
            events.append(ScalingEvent(minute=t, before=desired, after=new_desired, cause=cause))
            desired = new_desired

        # The scheduler keeps each provider at its share of the desired count.
        want_od, want_spot = int(split_od[desired]), int(split_spot[desired])
        for is_spot in (False, True):
            want = want_spot if is_spot else want_od
            have_running = running_spot if is_spot else running_od
            have_pending = pending_spot if is_spot else pending_od
            arrivals = arrive_spot_l if is_spot else arrive_od_l
            gap = want - (have_running + have_pending)
            if gap > 0:
                replaced = min(gap, interrupted) if is_spot else 0
                arrivals[t + 1 + spot_latency] += replaced
                arrivals[t + 1 + latency] += gap - replaced
                have_pending += gap
            elif gap < 0:
                excess = -gap
                # Stop tasks still starting before serving ones, latest first.
                for k in range(horizon - 1, t, -1):
                    if excess == 0:
                        break
                    take = min(excess, arrivals[k])
                    arrivals[k] -= take
                    have_pending -= take
                    excess -= take
                have_running -= excess
            if is_spot:
                running_spot, pending_spot = have_running, have_pending
            else:
                running_od, pending_od = have_running, have_pending

    od_minute = rates.task_minute(config.task_cpu_units, config.task_memory_mib) if rates else None
    spot_minute = od_minute
    if rates is not None and uses_spot and not spot_price_missing:
        spot_minute = rates.task_minute(config.task_cpu_units, config.task_memory_mib, spot=True)
    billed_od_arr = np.asarray(billed_od_out, dtype=np.int64)
    billed_spot_arr = np.asarray(billed_spot_out, dtype=np.int64)
    if od_minute is None or spot_minute is None:
        cost = Decimal(0)
        cost_series = np.zeros(size)
    else:
        cost = od_minute * billed_od_total + spot_minute * billed_spot_total
        cost_series = billed_od_arr * float(od_minute) + billed_spot_arr * float(spot_minute)
    counted = max(0, n_minutes - warmup_minutes)
    hours = Decimal(counted) / Decimal(60)
    monthly = cost * HOURS_PER_MONTH / hours if counted else Decimal(0)
    if counted == 0:
        issues.append(
            Issue(
                code=IssueCode.INSUFFICIENT_DATA,
                message="empty load series: nothing to simulate",
                where=load.name,
                severity=Severity.WARNING,
            )
        )
    return SimulationResult(
        minutes=counted,
        task_minutes_on_demand=billed_od_total,
        task_minutes_spot=billed_spot_total,
        cost=cost,
        monthly_cost=monthly,
        breach_minutes=breaches,
        breach_threshold=threshold,
        unmet_vcpu_hours=unmet_total / 60.0,
        peak_tasks=peak,
        running_on_demand=np.asarray(run_od, dtype=np.int64),
        running_spot=np.asarray(run_spot, dtype=np.int64),
        utilization=np.asarray(util_out, dtype=np.float64),
        unmet_vcpu=np.asarray(unmet_out, dtype=np.float64),
        cost_per_minute=cost_series,
        events=tuple(events),
        spot_interruptions=interruptions,
        scale_in_frozen_minutes=frozen_minutes,
        issues=tuple(issues),
    )
