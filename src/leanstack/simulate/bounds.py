"""How cheap could any policy have been? The floors a backtest measures the optimizer against.

- `oracle`: knows every future minute; the absolute floor (see `backtest.oracle`).
- `hourly_oracle`: knows the future one clock hour at a time and holds the hour's peak, the
  best a perfect forecast can do at the one-hour granularity predictive scaling plans in.
- `reactive_bound`: the cheapest *reactive* policy in hindsight. It sees each minute's true
  demand (more than a CPU alarm sees: no 100 % cap) and acts on it at once, so capacity at
  minute t can follow demand up to minute t - 1 - start latency; it acts on a level held for
  1 or 3 minutes, keeps the highest such need of the last `hold` minutes, provisioned for a
  utilization level, above a floor (or never scales, a static fleet). Its settings
  are chosen on the evaluation window itself, so no policy that only reacts to the load it
  has seen, as target tracking and step scaling do, can beat it by much: when it misses a
  cost target, the target needs foresight, not a better policy.

All three bill a task from its launch, `start latency` before it serves, like the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from leanstack.simulate.ecs import Load
from leanstack.simulate.pricing import FargateRates

FloatArray = npt.NDArray[np.float64]

# Utilization levels the reactive bound may provision for, and how long it may hold a peak.
REACTIVE_LEVELS: tuple[float, ...] = tuple(float(x) for x in range(30, 91, 5))
REACTIVE_HOLDS_MIN: tuple[int, ...] = (
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440,
)  # fmt: skip
REACTIVE_PERSIST_MIN: tuple[int, ...] = (1, 3)
_FLOOR_QUANTILES = (0.0, 25.0, 50.0, 75.0, 90.0, 99.0, 100.0)
_EPS = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Bound:
    """One floor's cost over a window, the task size it used, and how it got there."""

    name: str
    detail: str
    monthly_cost: Decimal
    task_minutes: int
    breach_minutes: int
    task_cpu_units: int
    task_memory_mib: int


def trailing_max(values: FloatArray, window: int) -> FloatArray:
    """out[t] = max(values[max(0, t - window + 1) .. t]) in O(n) (van Herk / Gil-Werman)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if window <= 1 or n == 0:
        return x.copy()
    w = min(window, n)
    # Pad in front with -inf so every window is full, and at the end to whole blocks.
    blocks = math.ceil((n + w - 1) / w)
    padded = np.full(blocks * w, -np.inf)
    padded[w - 1 : w - 1 + n] = x
    grid = padded.reshape(blocks, w)
    prefix = np.maximum.accumulate(grid, axis=1).reshape(-1)
    suffix = np.maximum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    # Window [i, i + w - 1] in padded coordinates: suffix of i's block, prefix of the end's.
    starts = np.arange(n)
    return np.maximum(suffix[starts], prefix[starts + w - 1])


def billed_from_launch(counts: FloatArray, latency_min: int) -> FloatArray:
    """Tasks billed each minute when a task serving minute t launched `latency_min` earlier.

    The billed count at minute s is the largest count needed over [s, s + latency].
    """
    if latency_min <= 0 or counts.size == 0:
        return counts
    out = counts.copy()
    for shift in range(1, latency_min + 1):
        # Past the end the last count holds, as if the load went on.
        np.maximum(out[:-shift], counts[shift:], out=out[:-shift])
    return out


def _need(demand: FloatArray, vcpu: float, level_pct: float, floor: int = 0) -> FloatArray:
    return np.maximum(np.ceil(demand / (vcpu * level_pct / 100.0) - _EPS), floor)


def _held_per_block(need: FloatArray, block: int, offset: int) -> FloatArray:
    """Each clock-aligned block of `block` minutes held at its peak; `offset` is how many
    minutes of the first block had passed when the series starts."""
    n = need.size
    counts = np.empty(n)
    head = min((block - offset % block) % block, n)
    if head:
        counts[:head] = need[:head].max()
    body = need[head:]
    whole = body.size // block * block
    if whole:
        counts[head : head + whole] = body[:whole].reshape(-1, block).max(axis=1).repeat(block)
    if body.size > whole:
        counts[head + whole :] = body[whole:].max()
    return counts


def clairvoyant(
    load: Load,
    sizes: Sequence[tuple[int, int]],
    *,
    rates: FargateRates,
    breach_threshold: float = 90.0,
    start_latency_min: int = 1,
    min_capacity: int = 1,
    block_minutes: int = 1,
) -> Bound:
    """The cheapest capacity that keeps every minute at or under the breach threshold, knowing
    the future, set once per clock-aligned block of `block_minutes` (1: every minute, the
    oracle; 60: every clock hour, a perfect hourly forecast). Tasks bill from their launch."""
    if not sizes:
        raise ValueError("no task size to price")
    demand = np.nan_to_num(load.demand_vcpu, nan=0.0)
    n = demand.size
    offset = (load.start.hour * 60 + load.start.minute) % max(block_minutes, 1)
    best: Bound | None = None
    for cpu, mem in sizes:
        need = _need(demand, cpu / 1024.0, breach_threshold, min_capacity)
        counts = need if block_minutes <= 1 or n == 0 else _held_per_block(
            need, block_minutes, offset
        )
        billed = int(billed_from_launch(counts, start_latency_min).sum())
        per = "clairvoyant" if block_minutes <= 1 else "clairvoyant per clock hour"
        if block_minutes not in (1, 60):
            per = f"clairvoyant per {block_minutes} min"
        bound = Bound(
            name="oracle" if block_minutes <= 1 else "hourly-oracle",
            detail=f"{per}, {cpu}/{mem}",
            monthly_cost=rates.monthly(cpu, mem, billed, n),
            task_minutes=billed,
            breach_minutes=0,
            task_cpu_units=cpu,
            task_memory_mib=mem,
        )
        if best is None or bound.monthly_cost < best.monthly_cost:
            best = bound
    assert best is not None
    return best


def hourly_oracle(
    load: Load,
    sizes: Sequence[tuple[int, int]],
    *,
    rates: FargateRates,
    breach_threshold: float = 90.0,
    start_latency_min: int = 1,
    min_capacity: int = 1,
) -> Bound:
    """The clairvoyant capacity set once per clock hour (UTC): a perfect forecast at
    predictive scaling's one-hour granularity."""
    return clairvoyant(
        load,
        sizes,
        rates=rates,
        breach_threshold=breach_threshold,
        start_latency_min=start_latency_min,
        min_capacity=min_capacity,
        block_minutes=60,
    )


class _Best:
    """The cheapest reactive setting found so far (cost, then breach minutes)."""

    def __init__(self, *, n: int, budget: int, latency: int, rates: FargateRates) -> None:
        self.n, self.budget, self.latency, self.rates = n, budget, latency, rates
        self.key: tuple[Decimal, int] | None = None
        self.bound: Bound | None = None

    def consider(
        self,
        counts: FloatArray,
        need: FloatArray,
        size: tuple[int, int],
        details: Sequence[str],
    ) -> None:
        """Score every row of `counts` (one candidate capacity series per row)."""
        cpu, mem = size
        rate = self.rates.task_minute(cpu, mem)
        breaches = np.count_nonzero(need[None, :] > counts, axis=1)
        served = counts.sum(axis=1)
        for k in np.flatnonzero(breaches <= self.budget):
            # Billing from launch only adds minutes: the served count is a lower bound.
            if self.key is not None and rate * int(served[k]) > self.key[0]:
                continue
            billed = int(billed_from_launch(counts[k], self.latency).sum())
            key = (rate * billed, int(breaches[k]))
            if self.key is not None and key >= self.key:
                continue
            self.key = key
            self.bound = Bound(
                name="reactive-bound",
                detail=f"reactive, in hindsight: {details[int(k)]} x {cpu}/{mem}",
                monthly_cost=self.rates.monthly(cpu, mem, billed, self.n),
                task_minutes=billed,
                breach_minutes=int(breaches[k]),
                task_cpu_units=cpu,
                task_memory_mib=mem,
            )


def reactive_bound(
    load: Load,
    sizes: Sequence[tuple[int, int]],
    *,
    rates: FargateRates,
    max_breach_minutes: int,
    breach_threshold: float = 90.0,
    start_latency_min: int = 1,
    min_capacity: int = 1,
    levels: Sequence[float] = REACTIVE_LEVELS,
    holds_min: Sequence[int] = REACTIVE_HOLDS_MIN,
) -> Bound | None:
    """The cheapest idealised reactive policy with at most `max_breach_minutes` over the load.

    Capacity at minute t is max(floor, highest need at `level` over the `hold` minutes ending
    at t - 1 - latency): the datapoint of minute t - 1 - latency is seen at its end, and a task
    launched then serves from minute t. The first 1 + latency minutes start at the oracle's
    count. None when no setting stays within the breach budget (a floor at the peak always
    does, so only for an empty load).
    """
    demand = np.nan_to_num(load.demand_vcpu, nan=0.0)
    n = demand.size
    if n == 0:
        return None
    delay = 1 + start_latency_min
    best = _Best(n=n, budget=max_breach_minutes, latency=start_latency_min, rates=rates)
    for cpu, mem in sizes:
        vcpu = cpu / 1024.0
        need = _need(demand, vcpu, breach_threshold, min_capacity)
        floors = sorted({min_capacity} | {int(np.percentile(need, q)) for q in _FLOOR_QUANTILES})
        floor_col = np.asarray(floors, dtype=np.float64)[:, None]
        # Not reacting at all is a reactive policy too (riding out spikes it cannot catch).
        best.consider(
            np.broadcast_to(floor_col, (len(floors), n)),
            need,
            (cpu, mem),
            [f"static {f}" for f in floors],
        )
        for level in sorted({*levels, breach_threshold}):
            raw = _need(demand, vcpu, level, min_capacity)
            for persist in REACTIVE_PERSIST_MIN:
                # Acting only on a level held for `persist` minutes, as alarms need datapoints.
                seen = raw if persist == 1 else -trailing_max(-raw, persist)
                for hold in holds_min:
                    held = trailing_max(seen, hold)
                    follow = np.empty(n)
                    follow[:delay] = need[:delay].max()
                    follow[delay:] = held[: n - delay]
                    best.consider(
                        np.maximum(follow[None, :], floor_col),
                        need,
                        (cpu, mem),
                        [
                            f"{level:g}% need held {persist} min, kept {hold} min, floor {f}"
                            for f in floors
                        ],
                    )
    return best.bound
