"""Target tracking replayed for many candidate policies at once (numpy over the candidate axis).

The time loop stays in Python (each minute depends on the last), but every operation in it works
on a whole (services x candidates) array, so 200 candidates cost little more than one. Minutes in
which no candidate's alarm fires skip the scaling arithmetic entirely.

Same semantics and timing as `leanstack.simulate.ecs.simulate` for one target-tracking policy on
on-demand capacity, with two restrictions that keep the state small:
- min capacity >= 1 (the scalar simulator handles scale-to-zero);
- start latency under 13 minutes, so no task is still starting when a scale-in fires (a
  scale-in needs 15 low datapoints, which cannot follow a scale-out that closely).
Deployments come in as `scale_in_frozen`, a per-minute mask (`schedule.deployment_mask`): in a
frozen minute no lane scales in, while alarm streaks keep counting, as in `simulate()`.
`tests/simulate/test_vector.py` checks that both agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    scale_in_frozen: BoolArray | None = None,
) -> BatchResult:
    """Replay target tracking for every lane.

    `demand` is vCPU per minute, shape (T,) for one series or (T, S) for S series; with (T, S)
    the candidate arrays have shape (S, K) or (1, K). `requests` has the same shape as `demand`.
    `scale_in_frozen`, shape (T,), marks the minutes of an ECS deployment: no lane (of any
    series) scales in then, and the alarms go on counting, so a scale-in still wanted when the
    freeze ends happens in its first minute after.
    """
    if not 0 <= start_latency_min <= MAX_LATENCY_MIN:
        raise ValueError(f"start latency must be 0..{MAX_LATENCY_MIN} minutes for the batch replay")
    demand = np.asarray(demand, dtype=np.float64)
    multi = demand.ndim == 2
    c = candidates
    shape = c.shape
    if multi:
        shape = tuple(np.broadcast_shapes(shape, (demand.shape[1], 1)))

    def full(values: npt.ArrayLike, dtype: type = np.float64) -> npt.NDArray[Any]:
        # Contiguous copies, so that flat views can update single lanes in place.
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=dtype), shape))

    target = full(c.target)
    low_threshold = scale_in_ratio * target
    vcpu = full(c.task_vcpu)
    cap_min = full(c.min_capacity)
    cap_max = full(c.max_capacity)
    if np.any(cap_min < 1):
        raise ValueError("min capacity must be at least 1 for the batch replay")
    cd_out = full(c.scale_out_cooldown_min)
    cd_in = full(c.scale_in_cooldown_min)
    scale_in = full(c.scale_in, np.bool_)

    desired = np.minimum(np.maximum(full(c.initial), cap_min), cap_max)
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
    # 100 / (task vCPU x running): the minute's metric is demand x ratio, one operation. It is
    # refreshed only when the running count changes.
    scale = 100.0 / vcpu
    ratio = scale / running
    metric = np.empty(shape)
    flag = np.empty(shape, dtype=np.bool_)
    # Flat views of the same memory: scaling decisions touch only the lanes whose alarm fires.
    run_f, des_f, met_f = running.reshape(-1), desired.reshape(-1), metric.reshape(-1)
    tgt_f, min_f, max_f = target.reshape(-1), cap_min.reshape(-1), cap_max.reshape(-1)
    cdo_f, cdi_f, si_f = cd_out.reshape(-1), cd_in.reshape(-1), scale_in.reshape(-1)
    lnh_f, lnl_f = last_not_high.reshape(-1), last_not_low.reshape(-1)
    ou_f, ob_f, iu_f = out_until.reshape(-1), out_base.reshape(-1), in_until.reshape(-1)
    ratio_f, scale_f = ratio.reshape(-1), scale.reshape(-1)
    # Minutes where some series has no data take the slower path that lets NaN break streaks.
    gap_mask = np.isnan(demand).any(axis=1) if multi else np.isnan(demand)
    gaps: list[bool] = np.asarray(gap_mask, dtype=np.bool_).tolist()

    n_minutes = demand.shape[0]
    frozen: list[bool] | None = None
    if scale_in_frozen is not None:
        mask = np.asarray(scale_in_frozen, dtype=np.bool_)
        if mask.shape != (n_minutes,):
            raise ValueError(f"scale_in_frozen must have shape ({n_minutes},), got {mask.shape}")
        # A list checked once a minute: cheaper in this loop than any numpy call.
        frozen = mask.tolist() if mask.any() else None
    # Per-minute running and desired counts; totals are computed after the loop in bulk, which
    # keeps the loop down to the operations the alarms need. float32 holds counts exactly.
    running_hist = np.empty((n_minutes, *shape), dtype=np.float32)
    billed = np.zeros(shape)
    for t in range(n_minutes):
        if t in arrival_minutes:
            slot = ring[t % ring_size]
            running += slot
            slot[:] = 0.0
            arrival_minutes.discard(t)
            np.divide(scale, running, out=ratio)
        running_hist[t] = running
        billed += desired
        d = demand[t][:, None] if multi else demand[t]
        # The minute's utilization, uncapped: capping at 100 % (a Fargate task cannot use more)
        # does not change a comparison with a target <= 100, so it is applied where it matters.
        np.multiply(ratio, d, out=metric)
        if gaps[t]:
            # NaN (no data) compares False both ways, so it must break both streaks.
            np.greater(metric, target, out=flag)
            np.logical_not(flag, out=flag)
            np.copyto(last_not_high, t, where=flag)
            np.less(metric, low_threshold, out=flag)
            np.logical_not(flag, out=flag)
            np.copyto(last_not_low, t, where=flag)
        else:
            np.less_equal(metric, target, out=flag)
            np.copyto(last_not_high, t, where=flag)
            np.greater_equal(metric, low_threshold, out=flag)
            np.copyto(last_not_low, t, where=flag)

        # argmin then index: a third of the cost of .min() on small arrays
        if lnh_f[lnh_f.argmin()] <= t - scale_out_datapoints:
            idx = (lnh_f <= t - scale_out_datapoints).nonzero()[0]
            in_cooldown = t < ou_f[idx]
            base = np.where(in_cooldown, ob_f[idx], run_f[idx])
            capped = np.minimum(met_f[idx], 100.0)
            wanted = np.minimum(np.ceil(base * capped / tgt_f[idx] - _EPS), max_f[idx])
            current = des_f[idx]
            act = wanted > current
            if act.any():
                lanes = idx[act]
                arrival = t + 1 + start_latency_min
                ring[arrival % ring_size].reshape(-1)[lanes] += wanted[act] - current[act]
                arrival_minutes.add(arrival)
                fresh = lanes[~in_cooldown[act]]
                ob_f[fresh] = run_f[fresh]
                ou_f[lanes] = t + cdo_f[lanes]
                iu_f[lanes] = -1.0
                des_f[lanes] = wanted[act]
            # A lane at max cannot scale out until a scale-in, and a scale-in needs low
            # datapoints that reset this streak anyway: resetting it now skips this branch.
            lnh_f[idx[des_f[idx] >= max_f[idx]]] = t
        # During a deployment the whole scale-in step is skipped: no lane scales in, no
        # cooldown starts, and the low streaks (last_not_low) keep their values.
        if (frozen is None or not frozen[t]) and lnl_f[lnl_f.argmin()] <= t - scale_in_datapoints:
            firing = (lnl_f <= t - scale_in_datapoints).nonzero()[0]
            idx = firing[(t >= iu_f[firing]) & si_f[firing]]
            if idx.size:
                capped = np.minimum(met_f[idx], 100.0)
                wanted = np.ceil(run_f[idx] * capped / tgt_f[idx] - _EPS)
                np.maximum(wanted, min_f[idx], out=wanted)
                current = des_f[idx]
                act = wanted < current
                if act.any():
                    lanes = idx[act]
                    run_f[lanes] -= current[act] - wanted[act]
                    ratio_f[lanes] = scale_f[lanes] / run_f[lanes]
                    des_f[lanes] = wanted[act]
                    iu_f[lanes] = t + cdi_f[lanes]
            # Same for lanes at min or with scale-in disabled: only a scale-out (which needs high
            # datapoints, resetting this streak) could make them scale in again.
            lnl_f[firing[(des_f[firing] <= min_f[firing]) | ~si_f[firing]]] = t

    breaches = np.zeros(shape)
    unmet = np.zeros(shape)
    violations = np.zeros(shape)
    req = None if requests is None else np.asarray(requests, dtype=np.float64)
    ndim = len(shape)
    # Totals in blocks of a day, so the temporaries stay small next to the histories.
    for lo in range(0, n_minutes, 1440):
        hi = min(lo + 1440, n_minutes)
        block = demand[lo:hi]
        d_all = block[:, :, None] if multi else block.reshape((hi - lo,) + (1,) * len(shape))
        capacity = running_hist[lo:hi] * vcpu
        with np.errstate(invalid="ignore", divide="ignore"):
            util = np.minimum(d_all * 100.0 / capacity, 100.0)
        breaches += np.count_nonzero(util > breach_threshold, axis=0)
        unmet += np.fmax(d_all - capacity, 0.0).sum(axis=0)
        if req is not None and requests_per_task_ceiling is not None:
            r_block = req[lo:hi]
            r_all = r_block[:, :, None] if multi else r_block.reshape((hi - lo,) + (1,) * ndim)
            violations += np.count_nonzero(
                r_all > running_hist[lo:hi] * requests_per_task_ceiling, axis=0
            )

    return BatchResult(
        task_minutes=billed,
        breach_minutes=breaches,
        unmet_vcpu_minutes=unmet,
        request_violations=violations,
        peak_tasks=running_hist.max(axis=0).astype(np.float64) if n_minutes else desired,
        minutes=n_minutes,
    )
