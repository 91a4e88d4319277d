"""Benchmark: 1,000 services x 14 days at 1 minute, 50 candidate target-tracking policies each.

Runs the batch replay (`leanstack.simulate.vector`) over chunks of services in worker processes
(default 2, one per core) and prints wall time, candidate-minutes per second and peak memory
(resident set of the parent plus the largest worker). Targets: under 60 s and under 4 GB.

    python benchmarks/bench_simulate.py [--services 1000] [--days 14] [--candidates 50]
                                        [--workers 2] [--chunk 100]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np

from leanstack.simulate.vector import CandidateArrays, replay_target_tracking

TARGETS = np.array([40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 90.0])
MIN_CHOICES = np.array([1.0, 2.0, 3.0, 4.0, 6.0])


@dataclass(frozen=True)
class Job:
    first: int
    count: int
    minutes: int
    candidates: int
    seed: int


def synth_demand(first: int, count: int, minutes: int, seed: int) -> np.ndarray:
    """vCPU demand, (minutes, count): daily and weekly cycles, noise and bursts, per service."""
    rng = np.random.default_rng(seed + first)
    t = np.arange(minutes, dtype=np.float64)[:, None]
    level = rng.uniform(0.5, 8.0, count)[None, :]
    daily = 1 + 0.5 * np.sin(2 * np.pi * (t / 1440 + rng.random(count)[None, :]))
    weekly = 1 + 0.15 * np.sin(2 * np.pi * t / (7 * 1440))
    noise = rng.normal(1.0, 0.08, (minutes, count))
    bursts = 1 + (rng.random((minutes, count)) < 0.002) * rng.uniform(0.5, 2.0, (minutes, count))
    return np.maximum(level * daily * weekly * noise * bursts, 0.0)


def run_chunk(job: Job) -> tuple[int, float, float, int, float]:
    """Replay one chunk: (lanes, task-hours, seconds, peak RSS KiB, CPU seconds) of the worker."""
    cpu_start = time.process_time()
    demand = synth_demand(job.first, job.count, job.minutes, job.seed)
    k = job.candidates
    grid = [(t, m) for t in TARGETS for m in MIN_CHOICES][:k]
    target = np.array([g[0] for g in grid])[None, :]
    low = np.array([g[1] for g in grid])[None, :]
    start = time.perf_counter()
    arrays = CandidateArrays(
        target=target,
        min_capacity=low,
        max_capacity=np.full((1, k), 60.0),
        scale_out_cooldown_min=np.full((1, k), 5.0),
        scale_in_cooldown_min=np.full((1, k), 5.0),
        task_vcpu=np.full((1, k), 0.5),
        initial=np.maximum(np.ceil(demand[0][:, None] / (0.5 * target / 100)), low),
        scale_in=np.ones((1, k), dtype=bool),
    )
    result = replay_target_tracking(demand, arrays, start_latency_min=1)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time() - cpu_start
    return job.count * k, float(result.task_minutes.sum() / 60.0), seconds, rss, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=100, help="services per batch replay")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    minutes = int(args.days * 1440)
    jobs = [
        Job(
            first=i,
            count=min(args.chunk, args.services - i),
            minutes=minutes,
            candidates=args.candidates,
            seed=args.seed,
        )
        for i in range(0, args.services, args.chunk)
    ]
    wall = time.perf_counter()
    ctx = mp.get_context("fork")
    # maxtasksperchild=1: each chunk in a fresh process, so the peak is per chunk, not cumulative.
    with ctx.Pool(processes=args.workers, maxtasksperchild=1) as pool:
        results = pool.map(run_chunk, jobs, chunksize=1)
    elapsed = time.perf_counter() - wall
    lanes = sum(r[0] for r in results)
    task_hours = sum(r[1] for r in results)
    worker_peak_kib = max(r[3] for r in results)
    parent_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Workers run side by side: the machine's peak is about workers x the largest worker.
    peak_gib = (parent_kib + args.workers * worker_peak_kib) / 1024 / 1024
    candidate_minutes = lanes * minutes
    print(f"services            {args.services}")
    print(f"days x minutes      {args.days:g} x 1440 = {minutes}")
    print(f"candidates/service  {args.candidates}  (lanes {lanes})")
    print(f"workers / chunk     {args.workers} / {args.chunk} services")
    print(f"wall time           {elapsed:.1f} s   (target < 60 s)")
    cpu_total = sum(r[4] for r in results)
    print(
        f"replay time (sum)   {sum(r[2] for r in results):.1f} s of worker wall time, "
        f"{cpu_total:.1f} s CPU"
    )
    print(
        f"CPU-bound estimate  {cpu_total / args.workers:.1f} s on {args.workers} idle cores "
        f"(load average at start {os.getloadavg()[0]:.1f})"
    )
    print(f"throughput          {candidate_minutes / elapsed / 1e6:.1f} M candidate-minutes/s")
    print(
        f"peak memory         {peak_gib:.2f} GiB  (parent {parent_kib / 1024:.0f} MiB + "
        f"{args.workers} x worker {worker_peak_kib / 1024:.0f} MiB; target < 4 GB)"
    )
    print(f"total task-hours    {task_hours:,.0f} (checksum)")
    ok = elapsed < 60 and peak_gib < 4
    print("result              " + ("within targets" if ok else "OUTSIDE targets"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
