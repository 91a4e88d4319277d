"""Synthetic but realistic CloudWatch-style load for a stack, reproducible from a seed.

One traffic driver per stack (daily and weekly seasonality, autocorrelated noise, bursts)
feeds every resource, so the series are consistent with each other:

* requests hit the ALB at rate r(t); each waits on an upstream model for a lognormal latency
  (median ~2 s), so by Little's law concurrency = r x mean latency, and the ECS tasks' CPU and
  memory follow concurrency per task;
* jobs go to SQS at a fraction of the request rate, the database and cache see queries
  proportional to traffic, with a nightly maintenance burst on the database;
* T-class instances spend and earn CPU credits from the simulated CPU.

Calibrated on examples/raptorflow (2 Fargate tasks at 0.5 vCPU / 1 GB, db.t3.micro,
cache.t3.micro): service CPU averages ~25% with peaks ~65%, memory ~40% of 1 GB, database
CPU ~7% (below the t3.micro 10% baseline), redis ~100-200 MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from leanstack.model import Resource
from leanstack.model.resource import is_known
from leanstack.usage.catalog import default_unit
from leanstack.usage.series import MetricSeries

Array = npt.NDArray[np.float64]
PERIOD_S = 60

# Memory of managed instance classes (GiB) and their vCPUs, for the memory and credit models.
_DB_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_CACHE_MAXMEMORY_MB = {"micro": 512, "small": 1400, "medium": 3090, "large": 6380, "xlarge": 13300}
_T_CREDITS_PER_HOUR = {"micro": 12, "small": 24, "medium": 24, "large": 36}


@dataclass(frozen=True, slots=True)
class Traffic:
    """The shared driver: request rate per second and mean latency per minute."""

    rate: Array  # requests per second, averaged over each minute
    latency_s: Array  # mean request latency in seconds
    load: Array  # normalised load (mean 1)


def _traffic(rng: np.random.Generator, n: int, start: datetime, base_rps: float) -> Traffic:
    minutes = np.arange(n)
    t0 = start.astimezone(UTC)
    hour = (t0.hour + t0.minute / 60 + minutes / 60.0) % 24
    weekday = (t0.weekday() + (t0.hour * 60 + t0.minute + minutes) // 1440) % 7
    # US-centric business day: trough ~08:00 UTC, broad peak ~16:00 UTC.
    daily = (
        0.45
        + 0.75 * np.exp(-0.5 * ((hour - 16.0) / 3.5) ** 2)
        + 0.2 * np.exp(-0.5 * ((hour - 21.0) / 2.0) ** 2)
    )
    weekly = np.where(weekday >= 5, 0.65, 1.0)
    # AR(1) multiplicative noise: minutes are correlated, as real traffic is.
    eps = rng.normal(0.0, 0.05, n)
    ar = np.empty(n)
    acc = 0.0
    for i in range(n):  # n is ~20k for two weeks; a Python loop costs milliseconds
        acc = 0.9 * acc + eps[i]
        ar[i] = acc
    noise = np.exp(ar - ar.var() / 2)
    bursts = np.ones(n)
    for _ in range(rng.poisson(n / 1440 * 0.6)):
        at = int(rng.integers(0, n))
        width = int(rng.integers(8, 35))
        amp = float(rng.uniform(0.2, 0.5))
        ramp = np.sin(np.linspace(0, np.pi, width)) * amp
        bursts[at : at + width] += ramp[: max(0, min(width, n - at))]
    load = daily * weekly * noise * bursts
    load /= load.mean()
    # Latency rises gently with load (queueing at the upstream model).
    latency = 2.3 * (1 + 0.08 * (load - 1)) * np.exp(rng.normal(0, 0.04, n))
    return Traffic(rate=base_rps * load, latency_s=latency, load=load)


def _num(value: object, default: float) -> float:
    if not is_known(value) or value is None:
        return default
    try:
        return float(str(value))
    except ValueError:
        return default


def _size(instance_class: object) -> str:
    text = str(instance_class) if is_known(instance_class) and instance_class else ""
    return text.rsplit(".", 1)[-1] if "." in text else "micro"


def _series(
    res: Resource, metric: str, values: Array, start: datetime, stat: str = ""
) -> MetricSeries:
    from leanstack.usage.catalog import default_statistic

    return MetricSeries(
        resource=res.address,
        metric=metric,
        statistic=stat or default_statistic(metric),
        period_s=PERIOD_S,
        start=start,
        values=values,
        unit=default_unit(metric),
    )


def _r(values: Array, digits: int) -> Array:
    # Rounded like CloudWatch consoles show them; also lets DuckDB compress the store well.
    return np.round(values, digits)


def synthesize(
    resources: Sequence[Resource],
    days: int,
    seed: int,
    start: datetime | None = None,
) -> list[MetricSeries]:
    """1-minute series for every supported resource of a stack.

    `start` defaults to midnight UTC `days` days before today. Same resources, days, seed and
    start give identical series. Unsupported resource types yield nothing.
    """
    if start is None:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - timedelta(days=days)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    n = days * 1440
    rng = np.random.default_rng(seed)
    by_address = {r.address: r for r in resources}
    base_rps = 1.2
    traffic = _traffic(rng, n, start, base_rps)
    out: list[MetricSeries] = []
    services = [r for r in resources if r.type == "aws_ecs_service"]
    total_tasks = 0.0
    for res in resources:
        # Each resource gets its own child generator so adding a resource to the stack does
        # not change the series of the others.
        sub = np.random.default_rng([seed, *res.address.encode()])
        if res.type == "aws_ecs_service":
            share = 1.0 / max(1, len(services))
            series, tasks = _ecs(res, by_address, traffic, share, sub, start)
            total_tasks += tasks
            out += series
        elif (
            res.type in ("aws_lb", "aws_alb")
            and str(res.get("load_balancer_type", "application")) == "application"
        ):
            out += _alb(res, traffic, sub, start)
        elif res.type == "aws_db_instance":
            out += _rds(res, traffic, sub, start, n)
        elif res.type in ("aws_elasticache_cluster", "aws_elasticache_replication_group"):
            out += _cache(res, traffic, sub, start, n)
        elif res.type == "aws_sqs_queue":
            out += _sqs(res, traffic, sub, start, n)
        elif res.type == "aws_lambda_function":
            out += _lambda(res, traffic, sub, start, n)
        elif res.type == "aws_nat_gateway":
            bytes_out = traffic.rate * 60 * 6_000 * np.exp(sub.normal(0, 0.1, n))
            out.append(_series(res, "BytesOutToDestination", _r(bytes_out, 0), start))
    return out


def _ecs(
    res: Resource,
    by_address: dict[str, Resource],
    traffic: Traffic,
    share: float,
    rng: np.random.Generator,
    start: datetime,
) -> tuple[list[MetricSeries], float]:
    taskdef = next(
        (by_address[a] for a in res.refs.get("task_definition", ()) if a in by_address), None
    )
    cpu_units = _num(taskdef.get("cpu") if taskdef else None, 256)
    memory_mb = _num(taskdef.get("memory") if taskdef else None, 512)
    desired = max(1.0, _num(res.get("desired_count"), 1))
    n = traffic.rate.size
    concurrency = traffic.rate * share * traffic.latency_s  # Little's law, whole service
    per_service = concurrency / concurrency.mean()
    # CPU work in vCPU: an idle Node.js process per task plus streaming work proportional to
    # open requests (0.44 vCPU on average at 2 tasks of 0.5 vCPU, so busy hours need a third task).
    work = 0.22 * desired * per_service * np.exp(rng.normal(0, 0.06, n))
    scaling = _cpu_target_tracking(res, by_address)
    running = _replay_target_tracking(work, cpu_units / 1024, desired, scaling)
    idle = 0.015 * (cpu_units / 1024) * running
    cpu = np.clip((work + idle) / (running * cpu_units / 1024) * 100.0, 0.5, 100.0)
    per = concurrency / running / (concurrency / desired).mean()
    # Memory: runtime baseline plus buffers per open request; slow drift from the heap.
    drift = np.cumsum(rng.normal(0, 0.15, n))
    drift -= np.linspace(0, drift[-1], n)
    mem_mb = (300.0 + 95.0 * per + drift + rng.normal(0, 4, n)) * (memory_mb / 1024) ** 0.3
    mem_pct = np.clip(mem_mb / memory_mb * 100.0, 1.0, 100.0)
    cpu_max = np.minimum(cpu * (1 + np.abs(rng.normal(0.1, 0.05, n))), 100.0)
    mem_max = np.minimum(mem_pct * (1 + np.abs(rng.normal(0.04, 0.02, n))), 100.0)
    tasks = float(running.mean())
    series = [
        _series(res, "CPUUtilization", _r(cpu, 3), start),
        _series(res, "CPUUtilization", _r(cpu_max, 3), start, "Maximum"),
        _series(res, "MemoryUtilization", _r(mem_pct, 3), start),
        _series(res, "MemoryUtilization", _r(mem_max, 3), start, "Maximum"),
        _series(res, "CpuUtilized", _r(cpu / 100 * cpu_units * running, 2), start),
        _series(res, "MemoryUtilized", _r(mem_pct / 100 * memory_mb * running, 1), start),
        _series(res, "RunningTaskCount", running, start),
    ]
    return series, tasks


@dataclass(frozen=True, slots=True)
class _Scaling:
    target: float
    min_tasks: float
    max_tasks: float


def _cpu_target_tracking(res: Resource, by_address: dict[str, Resource]) -> _Scaling | None:
    """The service's CPU target-tracking policy and capacity bounds, when the stack has one."""
    target = next(
        (
            r
            for r in by_address.values()
            if r.type == "aws_appautoscaling_target"
            and res.address in r.refs.get("resource_id", ())
        ),
        None,
    )
    if target is None:
        return None
    for policy in by_address.values():
        if policy.type != "aws_appautoscaling_policy" or target.address not in {
            a for refs in policy.refs.values() for a in refs
        }:
            continue
        config = policy.block("target_tracking_scaling_policy_configuration")
        metric = (config.get("predefined_metric_specification") or [{}])[0]
        if metric.get("predefined_metric_type") == "ECSServiceAverageCPUUtilization":
            return _Scaling(
                target=_num(config.get("target_value"), 70),
                min_tasks=_num(target.get("min_capacity"), 1),
                max_tasks=_num(target.get("max_capacity"), 1),
            )
    return None


def _replay_target_tracking(
    work: Array, task_vcpu: float, desired: float, scaling: _Scaling | None
) -> Array:
    """Running tasks of a service that autoscaled on CPU while recording this load.

    The recorded utilization of such a service is per task at the count it ran, so the
    synthetic series must carry that count too. A coarse replay is enough here (3 minutes
    above target to add, 15 below 0.9 x target to remove, 5-minute scale-in cooldown); the
    simulator in leanstack.simulate is the exact one.
    """
    n = work.size
    if scaling is None:
        return np.full(n, desired)
    running = np.empty(n)
    tasks = min(max(desired, scaling.min_tasks), scaling.max_tasks)
    above = below = 0
    last_in = -10**9
    for i in range(n):
        util = work[i] / (tasks * task_vcpu) * 100.0
        above = above + 1 if util > scaling.target else 0
        below = below + 1 if util < 0.9 * scaling.target else 0
        if above >= 3:
            tasks = min(scaling.max_tasks, float(np.ceil(tasks * util / scaling.target)))
            above = 0
        elif below >= 15 and i - last_in >= 5:
            wanted = max(scaling.min_tasks, float(np.ceil(tasks * util / scaling.target)))
            if wanted < tasks:
                tasks, last_in = wanted, i
            below = 0
        running[i] = tasks
    return running


def _alb(
    res: Resource, traffic: Traffic, rng: np.random.Generator, start: datetime
) -> list[MetricSeries]:
    n = traffic.rate.size
    requests = rng.poisson(traffic.rate * 60).astype(np.float64)
    sigma = 0.55  # lognormal spread of one request's latency
    median = traffic.latency_s / np.exp(sigma**2 / 2)
    jitter = np.exp(rng.normal(0, 0.05, n))
    p50 = median * jitter
    p95 = median * np.exp(1.645 * sigma) * jitter
    p99 = median * np.exp(2.326 * sigma) * np.exp(rng.normal(0, 0.08, n))
    errors = rng.poisson(0.002 * requests + (rng.random(n) < 0.002) * 5).astype(np.float64)
    # CloudWatch publishes nothing for a minute without requests.
    idle = requests == 0
    avg = np.where(idle, np.nan, traffic.latency_s * jitter)
    conns = rng.poisson(requests * 0.35).astype(np.float64)
    active = np.round(traffic.rate * traffic.latency_s * 60 / 20 + rng.normal(0, 2, n).clip(0))
    processed = requests * rng.lognormal(np.log(9_000), 0.2, n)
    return [
        _series(res, "RequestCount", requests, start),
        _series(res, "TargetResponseTime", _r(avg, 4), start, "Average"),
        _series(res, "TargetResponseTime", _r(np.where(idle, np.nan, p50), 4), start, "p50"),
        _series(res, "TargetResponseTime", _r(np.where(idle, np.nan, p95), 4), start, "p95"),
        _series(res, "TargetResponseTime", _r(np.where(idle, np.nan, p99), 4), start, "p99"),
        _series(res, "HTTPCode_Target_5XX_Count", errors, start),
        _series(res, "NewConnectionCount", conns, start),
        _series(res, "ActiveConnectionCount", active, start),
        _series(res, "ProcessedBytes", _r(processed, 0), start),
    ]


def _rds(
    res: Resource, traffic: Traffic, rng: np.random.Generator, start: datetime, n: int
) -> list[MetricSeries]:
    size = _size(res.get("instance_class"))
    memory_mb = _DB_MEMORY_GIB.get(size, 1) * 1024
    load = traffic.load
    cpu = 3.6 + 3.0 * load * np.exp(rng.normal(0, 0.12, n))
    # Nightly maintenance (vacuum, reports) at 02:00 UTC, 20 minutes.
    minute_of_day = (start.hour * 60 + start.minute + np.arange(n)) % 1440
    nightly = (minute_of_day >= 120) & (minute_of_day < 140)
    cpu = np.where(nightly, cpu + rng.uniform(14, 22, n), cpu)
    # Occasional slow-query bursts.
    for _ in range(rng.poisson(n / 1440 * 0.5)):
        at = int(rng.integers(0, n))
        width = int(rng.integers(3, 12))
        cpu[at : at + width] += rng.uniform(10, 30)
    cpu = np.clip(cpu, 0.5, 100.0)
    series = [
        _series(res, "CPUUtilization", _r(cpu, 3), start),
        _series(
            res, "DatabaseConnections", np.round(6 + 4 * load + rng.normal(0, 1, n)).clip(1), start
        ),
        _series(
            res,
            "FreeableMemory",
            _r((memory_mb * 0.42 - 30 * load + rng.normal(0, 6, n)) * 2**20, 0),
            start,
        ),
        _series(res, "ReadIOPS", _r((0.8 + 1.5 * load) * np.exp(rng.normal(0, 0.3, n)), 3), start),
        _series(
            res, "WriteIOPS", _r((1.5 + 2.5 * load) * np.exp(rng.normal(0, 0.25, n)), 3), start
        ),
    ]
    storage_gb = _num(res.get("allocated_storage"), 20)
    used = 2.4e9 + np.linspace(0, 0.15e9, n) + rng.normal(0, 2e6, n)
    series.append(_series(res, "FreeStorageSpace", _r(storage_gb * 2**30 - used, 0), start))
    instance_class = str(res.get("instance_class", ""))
    if ".t" in instance_class:
        vcpus = 2.0
        earn = _T_CREDITS_PER_HOUR.get(size, 12) / 60.0
        cap = earn * 60 * 24
        spend = vcpus * cpu / 100.0
        balance = np.empty(n)
        b = cap
        for i in range(n):
            b = min(cap, max(0.0, b + earn - spend[i]))
            balance[i] = b
        series.append(_series(res, "CPUCreditBalance", _r(balance, 2), start))
    return series


def _cache(
    res: Resource, traffic: Traffic, rng: np.random.Generator, start: datetime, n: int
) -> list[MetricSeries]:
    size = _size(res.get("node_type"))
    maxmemory = _CACHE_MAXMEMORY_MB.get(size, 512) * 2**20
    load = traffic.load
    # Keys with TTLs: usage follows traffic an hour behind, over a slowly growing base.
    lagged = np.convolve(load, np.ones(60) / 60, mode="same")
    used = (95 + np.linspace(0, 25, n) + 45 * lagged + rng.normal(0, 1.5, n)) * 2**20
    return [
        _series(res, "BytesUsedForCache", _r(used, 0), start),
        _series(res, "DatabaseMemoryUsagePercentage", _r(used / maxmemory * 100, 3), start),
        _series(
            res,
            "EngineCPUUtilization",
            _r(0.6 + 1.6 * load * np.exp(rng.normal(0, 0.1, n)), 3),
            start,
        ),
        _series(
            res, "CurrConnections", np.round(4 + 2 * load + rng.normal(0, 0.7, n)).clip(1), start
        ),
    ]


def _sqs(
    res: Resource, traffic: Traffic, rng: np.random.Generator, start: datetime, n: int
) -> list[MetricSeries]:
    jobs = traffic.rate * 60 * 0.28  # ~0.28 background jobs per API request
    sent = rng.poisson(jobs).astype(np.float64)
    # Workers drain within a minute or two.
    received = np.round(np.convolve(sent, [0.7, 0.25, 0.05], mode="full")[:n])
    empty = rng.poisson(np.clip(3.0 - jobs / 10, 0.2, None)).astype(np.float64)
    visible = rng.poisson(sent * 0.3).astype(np.float64)
    return [
        _series(res, "NumberOfMessagesSent", sent, start),
        _series(res, "NumberOfMessagesReceived", received, start),
        _series(res, "NumberOfEmptyReceives", empty, start),
        _series(res, "ApproximateNumberOfMessagesVisible", visible, start, "Average"),
    ]


def _lambda(
    res: Resource, traffic: Traffic, rng: np.random.Generator, start: datetime, n: int
) -> list[MetricSeries]:
    invocations = rng.poisson(traffic.rate * 60 * 0.5).astype(np.float64)
    duration = 120 * np.exp(rng.normal(0, 0.15, n))
    concurrent = np.ceil(invocations / 60 * duration / 1000 * 3)
    errors = rng.poisson(invocations * 0.003).astype(np.float64)
    idle = invocations == 0
    return [
        _series(res, "Invocations", invocations, start),
        _series(res, "Duration", _r(np.where(idle, np.nan, duration), 2), start),
        _series(res, "ConcurrentExecutions", concurrent, start, "Maximum"),
        _series(res, "Errors", errors, start),
        _series(res, "Throttles", np.zeros(n), start),
    ]
