"""Target tracking replayed for many candidate policies at once (numpy over the candidate axis).

The time loop stays in Python (each minute depends on the last), but every operation in it works
on a whole (services x candidates) array, so 200 candidates cost little more than one. Minutes in
which no candidate's alarm fires skip the scaling arithmetic entirely.

Same semantics and timing as `leanstack.simulate.ecs.simulate` for one target-tracking policy on
on-demand capacity, with two restrictions that keep the state small:
- min capacity >= 1 (the scalar simulator handles scale-to-zero);
- start latency under 13 minutes, so no task is still starting when a scale-in fires (a
  scale-in needs 15 low datapoints, which cannot follow a scale-out that closely).
`tests/simulate/test_vector.py` checks that both agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-9
MAX_LATENCY_MIN = 12


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CandidateArrays:
    """One value per candidate (shape (K,)) or per service and candidate (shape (S, K))."""

    target: FloatArray
    min_capacity: FloatArray
    max_capacity: FloatArray
    scale_out_cooldown_min: FloatArray
    scale_in_cooldown_min: FloatArray
    task_vcpu: FloatArray
    initial: FloatArray
    scale_in: BoolArray

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the candidate arrays."""
        return tuple(
            np.broadcast_shapes(self.target.shape, self.task_vcpu.shape, self.initial.shape)
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BatchResult:
    """Totals per lane: billed task-minutes, breach minutes, unmet vCPU-minutes, peak tasks."""

    task_minutes: FloatArray
    breach_minutes: FloatArray
    unmet_vcpu_minutes: FloatArray
    request_violations: FloatArray
    peak_tasks: FloatArray
    minutes: int


def replay_target_tracking(
    demand: FloatArray,
    candidates: CandidateArrays,
    *,
    start_latency_min: int = 1,
    breach_threshold: float = 90.0,
    scale_out_datapoints: int = 3,
    scale_in_datapoints: int = 15,
    scale_in_ratio: float = 0.9,
    requests: FloatArray | None = None,
    requests_per_task_ceiling: float | None = None,
) -> BatchResult:
    """Replay target tracking for every lane.

    `demand` is vCPU per minute, shape (T,) for one series or (T, S) for S series; with (T, S)
    the candidate arrays have shape (S, K) or (1, K). `requests` has the same shape as `demand`.
    """
    if not 0 <= start_latency_min <= MAX_LATENCY_MIN:
        raise ValueError(f"start latency must be 0..{MAX_LATENCY_MIN} minutes for the batch replay")
    demand = np.asarray(demand, dtype=np.float64)
    multi = demand.ndim == 2
    c = candidates
    shape = c.shape
    if multi:
        shape = tuple(np.broadcast_shapes(shape, (demand.shape[1], 1)))
    target = np.broadcast_to(c.target, shape)
    low_threshold = scale_in_ratio * target
    vcpu = np.broadcast_to(c.task_vcpu, shape)
    cap_min = np.broadcast_to(c.min_capacity, shape)
    cap_max = np.broadcast_to(c.max_capacity, shape)
    if np.any(cap_min < 1):
        raise ValueError("min capacity must be at least 1 for the batch replay")
    cd_out = np.broadcast_to(c.scale_out_cooldown_min, shape)
    cd_in = np.broadcast_to(c.scale_in_cooldown_min, shape)
    scale_in = np.broadcast_to(c.scale_in, shape)

    desired = np.minimum(np.maximum(np.broadcast_to(c.initial, shape), cap_min), cap_max).astype(
        np.float64
    )
    running = desired.copy()
    ring_size = start_latency_min + 2
    ring = np.zeros((ring_size, *shape))
    arrival_minutes: set[int] = set()
    # Minute of the last datapoint that was not above target (not below the scale-in
    # threshold): the alarm streaks are t minus these, two operations a minute each.
    last_not_high = np.full(shape, -1.0)
    last_not_low = np.full(shape, -1.0)
    out_until = np.full(shape, -1.0)
    out_base = np.zeros(shape)
    in_until = np.full(shape, -1.0)
    # 100 / task vCPU, so that the minute's metric is demand x scale / running in two operations
    scale = 100.0 / vcpu

    n_minutes = demand.shape[0]
    # Per-minute running and desired counts; totals are computed after the loop in bulk, which
    # keeps the loop down to the operations the alarms need. float32 holds counts exactly.
    running_hist = np.empty((n_minutes, *shape), dtype=np.float32)
    desired_hist = np.empty((n_minutes, *shape), dtype=np.float32)
    metric = np.empty(shape)
    flag = np.empty(shape, dtype=np.bool_)
    for t in range(n_minutes):
        if t in arrival_minutes:
            slot = ring[t % ring_size]
            running += slot
            slot[:] = 0.0
            arrival_minutes.discard(t)
        running_hist[t] = running
        desired_hist[t] = desired
        d = demand[t][:, None] if multi else demand[t]
        # utilization of the minute, capped at 100 % (a Fargate task cannot use more)
        np.multiply(scale, d, out=metric)
        metric /= running
        np.minimum(metric, 100.0, out=metric)
        # NaN (no data) compares False on both sides, so it breaks both streaks.
        np.greater(metric, target, out=flag)
        np.logical_not(flag, out=flag)
        np.copyto(last_not_high, t, where=flag)
        np.less(metric, low_threshold, out=flag)
        np.logical_not(flag, out=flag)
        np.copyto(last_not_low, t, where=flag)

        if last_not_high.min() <= t - scale_out_datapoints:
            fire_out = last_not_high <= t - scale_out_datapoints
            in_cooldown = t < out_until
            base = np.where(in_cooldown, out_base, running)
            wanted = np.ceil(base * metric / target - _EPS)
            np.minimum(wanted, cap_max, out=wanted)
            act = fire_out & (wanted > desired)
            if act.any():
                arrival = t + 1 + start_latency_min
                ring[arrival % ring_size] += np.where(act, wanted - desired, 0.0)
                arrival_minutes.add(arrival)
                out_base = np.where(act & ~in_cooldown, running, out_base)
                out_until = np.where(act, t + cd_out, out_until)
                in_until = np.where(act, -1.0, in_until)
                desired = np.where(act, wanted, desired)
            # A lane at max cannot scale out until a scale-in, and a scale-in needs low
            # datapoints that reset this counter anyway: dropping it now skips this branch.
            np.copyto(last_not_high, t, where=desired >= cap_max)
        if last_not_low.min() <= t - scale_in_datapoints:
            fire_in = (last_not_low <= t - scale_in_datapoints) & (t >= in_until) & scale_in
            wanted = np.maximum(np.ceil(running * metric / target - _EPS), cap_min)
            act = fire_in & (wanted < desired)
            if act.any():
                running = np.where(act, running - (desired - wanted), running)
                desired = np.where(act, wanted, desired)
                in_until = np.where(act, t + cd_in, in_until)
            # Same for lanes at min or with scale-in disabled: only a scale-out (which needs high
            # datapoints, resetting this counter) could make them scale in again.
            np.copyto(last_not_low, t, where=(desired <= cap_min) | ~scale_in)

    d_all = demand[:, :, None] if multi else demand.reshape((n_minutes,) + (1,) * len(shape))
    capacity = running_hist * vcpu
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.minimum(d_all * 100.0 / capacity, 100.0)
    breaches = np.count_nonzero(util > breach_threshold, axis=0).astype(np.float64)
    unmet = np.fmax(d_all - capacity, 0.0).sum(axis=0)
    billed = desired_hist.sum(axis=0, dtype=np.float64)
    violations = np.zeros(shape)
    if requests is not None and requests_per_task_ceiling is not None:
        req = np.asarray(requests, dtype=np.float64)
        r_all = req[:, :, None] if multi else req.reshape((n_minutes,) + (1,) * len(shape))
        violations = np.count_nonzero(r_all > running_hist * requests_per_task_ceiling, axis=0)
        violations = violations.astype(np.float64)

    return BatchResult(
        task_minutes=billed,
        breach_minutes=breaches,
        unmet_vcpu_minutes=unmet,
        request_violations=violations,
        peak_tasks=running_hist.max(axis=0).astype(np.float64) if n_minutes else desired,
        minutes=n_minutes,
    )
