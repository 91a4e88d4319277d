"""Builders shared by the simulator tests: 1 vCPU loads and configs, noisy loads, random lanes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from leanstack.simulate import Load, ServiceConfig, TargetTrackingPolicy
from leanstack.simulate.vector import CandidateArrays

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
CPU = 1024  # 1 vCPU tasks keep the arithmetic readable


def load_of(util: list[float] | np.ndarray, tasks: int, start: datetime = START) -> Load:
    """A load recorded at `tasks` 1 vCPU tasks running at `util` percent."""
    return Load.from_utilization(
        np.asarray(util, dtype=float), tasks=tasks, task_cpu_units=CPU, start=start
    )


def config(desired: int, low: int = 1, high: int = 20) -> ServiceConfig:
    """A service of 1 vCPU / 2 GiB tasks."""
    return ServiceConfig(
        task_cpu_units=CPU,
        task_memory_mib=2048,
        min_capacity=low,
        max_capacity=high,
        desired=desired,
    )


def noisy_load(
    minutes: int,
    seed: int,
    *,
    period: float = 180,
    noise: float = 10,
    gap: tuple[int, int] = (300, 320),
    start: datetime | None = None,
) -> Load:
    """A sine wave with Gaussian noise, rare spikes and a gap of missing datapoints.

    Recorded at 4 tasks of 0.5 vCPU; `start=None` keeps `Load`'s own default start.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)
    # Noise is drawn before the spikes: the order fixes the series for a seed.
    util = (
        45
        + 35 * np.sin(t / period)
        + rng.normal(0, noise, minutes)
        + (rng.random(minutes) < 0.01) * 50
    )
    util = np.clip(util, 0, 100)
    util[gap[0] : gap[1]] = np.nan  # no datapoints, no scaling
    return Load.from_utilization(util, tasks=4, task_cpu_units=512, start=start)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Lanes:
    """Random target tracking candidates, one value per lane, started at `initial` tasks."""

    target: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    out_cd: npt.NDArray[np.int64]  # seconds
    in_cd: npt.NDArray[np.int64]  # seconds
    cpu: npt.NDArray[np.int64]  # CPU units
    scale_in: npt.NDArray[np.bool_]
    initial: int = 4

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        k: int,
        *,
        targets: Sequence[float],
        lows: Sequence[float],
        highs: Sequence[float],
        out_cds: Sequence[int],
        in_cds: Sequence[int],
        cpus: Sequence[int],
        scale_in_share: float | None = None,
    ) -> Lanes:
        """Draw `k` lanes in field order; `scale_in_share=None` enables scale-in everywhere
        without drawing from `rng`."""
        target = rng.choice(targets, k)
        low = rng.choice(lows, k)
        high = rng.choice(highs, k)
        out_cd = rng.choice(out_cds, k)
        in_cd = rng.choice(in_cds, k)
        cpu = rng.choice(cpus, k)
        scale_in = np.ones(k, bool) if scale_in_share is None else rng.random(k) < scale_in_share
        return cls(
            target=target,
            low=low,
            high=high,
            out_cd=out_cd,
            in_cd=in_cd,
            cpu=cpu,
            scale_in=scale_in,
        )

    def __len__(self) -> int:
        return len(self.target)

    def arrays(self) -> CandidateArrays:
        """The lanes as batch replay input."""
        return CandidateArrays(
            target=self.target,
            min_capacity=self.low,
            max_capacity=self.high,
            scale_out_cooldown_min=np.ceil(self.out_cd / 60),
            scale_in_cooldown_min=np.ceil(self.in_cd / 60),
            task_vcpu=self.cpu / 1024,
            initial=np.full(len(self), float(self.initial)),
            scale_in=self.scale_in,
        )

    def config(self, lane: int) -> ServiceConfig:
        """The reference simulator's service for one lane (2 MiB of memory per CPU unit)."""
        cpu = int(self.cpu[lane])
        return ServiceConfig(
            task_cpu_units=cpu,
            task_memory_mib=2 * cpu,
            min_capacity=int(self.low[lane]),
            max_capacity=int(self.high[lane]),
            desired=self.initial,
        )

    def policy(self, lane: int) -> TargetTrackingPolicy:
        """The reference simulator's policy for one lane."""
        return TargetTrackingPolicy(
            target=float(self.target[lane]),
            scale_out_cooldown_s=int(self.out_cd[lane]),
            scale_in_cooldown_s=int(self.in_cd[lane]),
            disable_scale_in=not bool(self.scale_in[lane]),
        )
