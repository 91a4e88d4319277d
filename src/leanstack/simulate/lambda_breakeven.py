"""Would this service be cheaper on Lambda? Monthly cost curves over request volume.

The same requests are priced on Lambda (requests + GB-seconds of *wall* time: a request waiting
on an upstream model is billed for the wait, API Gateway HTTP/REST API or an ALB in front,
provisioned concurrency when cold starts matter) and on Fargate as simulated (the service's
target-tracking policy replayed over the demand scaled to each volume, plus its ALB). Curves
scale the recorded request series (shape kept) by factors; the break-even is where the curves
cross. Lambda limits are checked: 15-minute maximum duration, the account concurrency quota
(1,000 by default) and the 6 MB synchronous payload.

All prices come from the catalog (services "lambda", "apigateway", "alb"). Free tiers are left
out by default (they are per account, not per service); `include_free_tier` applies them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from leanstack.catalog import Catalog, default_local_catalogs, load_catalog
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import HOURS_PER_MONTH, money_str
from leanstack.model.pricing import PriceQuery
from leanstack.simulate.ecs import Load
from leanstack.simulate.policies import ServiceConfig, SimulationSettings, TargetTrackingPolicy
from leanstack.simulate.pricing import FargateRates, fargate_rates
from leanstack.simulate.vector import MAX_LATENCY_MIN, CandidateArrays, replay_target_tracking

FloatArray = npt.NDArray[np.float64]

MAX_DURATION_S = 900.0
PAYLOAD_LIMIT_MB = 6.0
SECONDS_PER_MONTH = float(HOURS_PER_MONTH) * 3600.0
MINUTES_PER_MONTH = float(HOURS_PER_MONTH) * 60.0
_Z95 = 1.6448536269514722


class Front(StrEnum):
    """What receives the HTTP requests in front of the function."""

    HTTP_API = "http-api"
    REST_API = "rest-api"
    ALB = "alb"
    NONE = "none"  # function URL: no per-request front cost


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationProfile:
    """Response time (wall time) of one request, in seconds.

    From p50/p95: a log-normal through both (mean = exp(mu + sigma^2 / 2)); from a per-minute
    series: its request-weighted mean, with p95 its 95th percentile.
    """

    mean_s: float
    p95_s: float

    @staticmethod
    def from_percentiles(p50_s: float, p95_s: float) -> DurationProfile:
        """Log-normal fit through p50 and p95."""
        if p50_s <= 0 or p95_s < p50_s:
            raise ValueError("need 0 < p50 <= p95")
        mu = math.log(p50_s)
        sigma = (math.log(p95_s) - mu) / _Z95
        return DurationProfile(mean_s=math.exp(mu + sigma * sigma / 2), p95_s=p95_s)

    @staticmethod
    def from_series(
        durations_s: npt.ArrayLike, weights: npt.ArrayLike | None = None
    ) -> DurationProfile:
        """Mean (weighted by requests when given) and p95 of a per-minute response-time series."""
        d = np.asarray(durations_s, dtype=np.float64)
        keep = ~np.isnan(d)
        if weights is None:
            w = np.ones_like(d)
        else:
            w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0)
        if not keep.any():
            raise ValueError("duration series has no data")
        total = float(w[keep].sum())
        mean = float((d[keep] * w[keep]).sum() / total) if total > 0 else float(d[keep].mean())
        return DurationProfile(mean_s=mean, p95_s=float(np.percentile(d[keep], 95)))


@dataclass(frozen=True, slots=True, kw_only=True)
class LambdaSetup:
    """The function the service would become."""

    memory_mb: int = 1024
    arch: str = "x86_64"
    front: Front = Front.HTTP_API
    provisioned_concurrency: int | None = None  # None: chosen from the load when cold starts matter
    cold_starts_matter: bool = False
    concurrency_quota: int = 1000
    payload_mb: float | None = None
    include_free_tier: bool = False
    bytes_per_request_kb: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CurvePoint:
    """Monthly cost of both options at one request volume."""

    monthly_requests: float
    lambda_cost: Decimal
    fargate_cost: Decimal
    lambda_peak_concurrency: float

    def to_json(self) -> dict[str, Any]:
        """JSON form (money as decimal strings)."""
        return {
            "monthly_requests": round(self.monthly_requests),
            "lambda_monthly_cost": money_str(self.lambda_cost),
            "fargate_monthly_cost": money_str(self.fargate_cost),
            "lambda_peak_concurrency": round(self.lambda_peak_concurrency, 1),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakevenResult:
    """Cost curves, where they cross, and where the service is today.

    `breakeven_requests` is the monthly volume below which Lambda is cheaper (None when one
    option is cheaper over the whole curve: see `cheaper_below_range`). `blockers` lists Lambda
    limits the current load breaks (then Lambda is not an option as is).
    """

    points: tuple[CurvePoint, ...]
    current: CurvePoint
    breakeven_requests: float | None
    cheaper_below_range: str
    duration: DurationProfile
    setup: LambdaSetup
    blockers: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def lambda_cheaper_today(self) -> bool:
        """Whether Lambda costs less than Fargate at today's volume (ignoring blockers)."""
        return self.current.lambda_cost < self.current.fargate_cost

    def to_json(self) -> dict[str, Any]:
        """JSON form for the report."""
        return {
            "points": [p.to_json() for p in self.points],
            "current": self.current.to_json(),
            "breakeven_monthly_requests": None
            if self.breakeven_requests is None
            else round(self.breakeven_requests),
            "cheaper_below_range": self.cheaper_below_range,
            "lambda_cheaper_today": self.lambda_cheaper_today,
            "duration_mean_s": round(self.duration.mean_s, 4),
            "duration_p95_s": round(self.duration.p95_s, 4),
            "memory_mb": self.setup.memory_mb,
            "front": str(self.setup.front),
            "blockers": list(self.blockers),
            "assumptions": list(self.assumptions),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Tier:
    limit: float  # upper bound of the tier in units (inf for the last)
    price: Decimal


def _scale(text: str) -> float:
    match = re.search(r"([\d.]+)\s*([KMB]?)", text, re.IGNORECASE)
    if not match:
        return math.inf
    mult = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9}[match.group(2).upper()]
    return float(match.group(1)) * mult


def _tiers(rows: Sequence[tuple[str, Decimal]]) -> list[_Tier]:
    """(range text, price) rows, in tier order, into cumulative limits."""
    out: list[_Tier] = []
    upper = 0.0
    for text, price in rows:
        text = text.lower()
        if text.startswith("over") or not text:
            out.append(_Tier(limit=math.inf, price=price))
            break
        upper = _scale(text) if text.startswith("first") else upper + _scale(text)
        out.append(_Tier(limit=upper, price=price))
    if out and out[-1].limit != math.inf:
        out[-1] = replace(out[-1], limit=math.inf)
    return out


def _tiered(quantity: float, tiers: Sequence[_Tier]) -> Decimal:
    cost = Decimal(0)
    done = 0.0
    for tier in tiers:
        take = min(quantity, tier.limit) - done
        if take <= 0:
            break
        cost += Decimal(str(take)) * tier.price
        done += take
    return cost


@dataclass(frozen=True, slots=True, kw_only=True)
class _Prices:
    request_per_million: Decimal
    duration: list[_Tier]
    provisioned: Decimal | None
    provisioned_duration: Decimal | None
    front: list[_Tier]  # per million requests (API Gateway)
    alb_hour: Decimal | None
    alb_lcu_hour: Decimal | None
    free_requests: float
    free_gb_s: float


def _prices(
    catalog: Catalog, region: str, arch: str, front: Front, issues: list[Issue]
) -> _Prices | None:
    rows = catalog.matches(PriceQuery.of("lambda", region, arch=arch))
    requests = next(
        (p.price for p in rows if p.unit == "1M requests" and "tier" not in p.attributes), None
    )
    duration_rows = sorted(
        (
            p
            for p in rows
            if p.unit == "GB-second"
            and p.attributes.get("tier", "").isdigit()
            and "provisioned" not in p.product.lower()
        ),
        key=lambda p: int(p.attributes["tier"]),
    )
    provisioned = next(
        (p.price for p in rows if p.product.lower().startswith("lambda provisioned concurrency")),
        None,
    )
    provisioned_duration = next(
        (p.price for p in rows if "duration while provisioned" in p.product.lower()), None
    )
    if requests is None or not duration_rows:
        issues.append(
            Issue(
                code=IssueCode.PRICE_NOT_FOUND,
                message=f"no Lambda request/duration price for {arch} in {region}",
                where=f"lambda {region}",
                severity=Severity.ERROR,
            )
        )
        return None
    free_requests = free_gb_s = 0.0
    for p in catalog.matches(PriceQuery.of("lambda", region, tier="free")):
        if p.unit == "1M requests":
            free_requests = 1e6
        elif p.unit == "GB-second":
            free_gb_s = 400_000.0
    front_tiers: list[_Tier] = []
    if front in (Front.HTTP_API, Front.REST_API):
        api_type = "http" if front is Front.HTTP_API else "rest"
        api_rows = sorted(
            catalog.matches(PriceQuery.of("apigateway", region, api_type=api_type)),
            key=lambda p: int(p.attributes.get("tier", "0") or 0),
        )
        front_tiers = _tiers([(p.attributes.get("range", ""), p.price) for p in api_rows])
        # Ranges are written in requests ("first 300M"); prices are per million.
        if not front_tiers:
            issues.append(
                Issue(
                    code=IssueCode.PRICE_NOT_FOUND,
                    message=f"no API Gateway {api_type} price in {region}",
                    where=f"apigateway {region}",
                    severity=Severity.ERROR,
                )
            )
            return None
    alb_hour = catalog.find("alb", region, "LoadBalancerUsage")
    alb_lcu = catalog.find("alb", region, "LCUUsage")
    return _Prices(
        request_per_million=requests,
        duration=_tiers([(p.attributes.get("range", ""), p.price) for p in duration_rows]),
        provisioned=provisioned,
        provisioned_duration=provisioned_duration,
        front=front_tiers,
        alb_hour=alb_hour.price if alb_hour else None,
        alb_lcu_hour=alb_lcu.price if alb_lcu else None,
        free_requests=free_requests,
        free_gb_s=free_gb_s,
    )


def _alb_monthly(prices: _Prices, requests_per_s: FloatArray, kb_per_request: float) -> Decimal:
    """ALB hours plus LCUs: new connections at 25/s per LCU or processed GB/h, the larger."""
    if prices.alb_hour is None or prices.alb_lcu_hour is None:
        return Decimal(0)
    gb_per_hour = requests_per_s * 3600.0 * kb_per_request / 1e6
    lcu = np.maximum(requests_per_s / 25.0, gb_per_hour)
    mean_lcu = float(np.nanmean(lcu)) if lcu.size else 0.0
    return (
        prices.alb_hour + prices.alb_lcu_hour * Decimal(str(round(mean_lcu, 6)))
    ) * HOURS_PER_MONTH


def _lambda_monthly(
    prices: _Prices, setup: LambdaSetup, rpm: FloatArray, duration: DurationProfile, pc: int
) -> tuple[Decimal, float]:
    """Monthly Lambda cost for a per-minute request series, and its peak concurrency."""
    minutes = max(int(np.count_nonzero(~np.isnan(rpm))), 1)
    scale = MINUTES_PER_MONTH / minutes
    rpm = np.nan_to_num(rpm, nan=0.0)
    monthly_requests = float(rpm.sum()) * scale
    gb = setup.memory_mb / 1024.0
    # Little's law per minute: concurrent executions = arrival rate x wall time.
    concurrency = rpm / 60.0 * duration.mean_s
    on_pc = np.minimum(concurrency, pc) if pc else np.zeros_like(concurrency)
    pc_gb_s = float(on_pc.sum()) * 60.0 * gb * scale
    total_gb_s = monthly_requests * duration.mean_s * gb
    ondemand_gb_s = max(0.0, total_gb_s - pc_gb_s)
    billable_requests = monthly_requests
    if setup.include_free_tier:
        billable_requests = max(0.0, monthly_requests - prices.free_requests)
        ondemand_gb_s = max(0.0, ondemand_gb_s - prices.free_gb_s)
    cost = prices.request_per_million * Decimal(str(billable_requests / 1e6))
    cost += _tiered(ondemand_gb_s, prices.duration)
    if pc and prices.provisioned is not None and prices.provisioned_duration is not None:
        cost += prices.provisioned * Decimal(str(pc * gb * SECONDS_PER_MONTH))
        cost += prices.provisioned_duration * Decimal(str(pc_gb_s))
    if setup.front is Front.ALB:
        cost += _alb_monthly(prices, rpm / 60.0, setup.bytes_per_request_kb)
    elif setup.front is not Front.NONE:
        cost += _tiered(monthly_requests, prices.front) / Decimal(1_000_000)
    return cost, float(concurrency.max()) if concurrency.size else 0.0


def lambda_breakeven(
    load: Load,
    config: ServiceConfig,
    policy: TargetTrackingPolicy | None,
    requests_per_minute: npt.ArrayLike,
    duration: DurationProfile,
    *,
    setup: LambdaSetup | None = None,
    factors: Sequence[float] | None = None,
    settings: SimulationSettings | None = None,
    catalog: Catalog | None = None,
    fargate_has_alb: bool = True,
) -> BreakevenResult | None:
    """Price the recorded requests on Lambda and on Fargate across request volumes.

    `load` is the CPU demand that serves `requests_per_minute` (same grid); scaling the volume
    by f scales both. Fargate replays `policy` (static `config.desired` tasks when None).
    Returns None when prices are missing (see the issues in the log) - never a $0 curve.
    """
    setup = setup or LambdaSetup()
    settings = settings or SimulationSettings()
    catalog = catalog or load_catalog(default_local_catalogs())
    issues: list[Issue] = []
    rpm = np.asarray(requests_per_minute, dtype=np.float64)
    if rpm.shape != load.demand_vcpu.shape:
        raise ValueError("requests and load must be on the same 1-minute grid")
    prices = _prices(catalog, config.region, setup.arch, setup.front, issues)
    rates: FargateRates | None
    rates, rate_issues = fargate_rates(config.region, config.arch, catalog)
    issues.extend(rate_issues)
    if prices is None or rates is None:
        return None
    factor_list = sorted(set(factors or [0.01 * (10 ** (k / 4)) for k in range(17)] + [1.0]))
    if 1.0 not in factor_list:
        factor_list = sorted([*factor_list, 1.0])

    # Fargate for every factor in one vectorised replay: lanes are the scaled demands.
    target = policy.target if policy else 100.0
    demand = np.nan_to_num(load.demand_vcpu, nan=0.0)
    scaled = demand[:, None] * np.asarray(factor_list)[None, :]
    static = policy is None
    arrays = CandidateArrays(
        target=np.full((1, 1), target),
        min_capacity=np.full((1, 1), float(max(config.min_capacity, 1))),
        max_capacity=np.full((1, 1), float(config.desired if static else config.max_capacity)),
        scale_out_cooldown_min=np.full(
            (1, 1), math.ceil((policy.scale_out_cooldown_s if policy else 300) / 60)
        ),
        scale_in_cooldown_min=np.full(
            (1, 1), math.ceil((policy.scale_in_cooldown_s if policy else 300) / 60)
        ),
        task_vcpu=np.full((1, 1), config.task_vcpu),
        initial=np.full((1, 1), float(config.desired)),
        scale_in=np.full((1, 1), not static and not (policy and policy.disable_scale_in)),
    )
    if static:
        arrays = replace(arrays, min_capacity=np.full((1, 1), float(max(config.desired, 1))))
    else:
        # The same work at f x the volume: max_capacity grows with it, or the curve would price
        # a capped fleet that cannot serve the load (cheap only because it falls short).
        peak = float(demand.max()) if demand.size else 0.0
        per_task = config.task_vcpu * target / 100.0
        needed = [math.ceil(2.0 * f * peak / per_task) + 1 for f in factor_list]
        arrays = replace(
            arrays,
            max_capacity=np.array(
                [[float(max(config.max_capacity, n))] for n in needed], dtype=np.float64
            ),
        )
    batch = replay_target_tracking(
        scaled,
        arrays,
        start_latency_min=min(settings.start_latency_min, MAX_LATENCY_MIN),
        breach_threshold=settings.breach_threshold,
    )
    minutes = max(load.minutes, 1)

    pc = 0
    if setup.provisioned_concurrency is not None:
        pc = setup.provisioned_concurrency
    elif setup.cold_starts_matter:
        base_conc = np.nan_to_num(rpm, nan=0.0) / 60.0 * duration.mean_s
        pc = max(1, math.ceil(float(np.percentile(base_conc, 50)))) if base_conc.size else 1

    points: list[CurvePoint] = []
    current: CurvePoint | None = None
    for j, f in enumerate(factor_list):
        scaled_rpm = rpm * f
        lam, peak = _lambda_monthly(
            prices, setup, scaled_rpm, duration, math.ceil(pc * f) if pc else 0
        )
        far = rates.monthly(
            config.task_cpu_units, config.task_memory_mib, int(batch.task_minutes[j, 0]), minutes
        )
        if fargate_has_alb:
            far += _alb_monthly(
                prices, np.nan_to_num(scaled_rpm, nan=0.0) / 60.0, setup.bytes_per_request_kb
            )
        present = max(int(np.count_nonzero(~np.isnan(rpm))), 1)
        monthly_requests = float(np.nansum(scaled_rpm)) * MINUTES_PER_MONTH / present
        point = CurvePoint(
            monthly_requests=monthly_requests,
            lambda_cost=lam,
            fargate_cost=far,
            lambda_peak_concurrency=peak,
        )
        points.append(point)
        if f == 1.0:
            current = point
    assert current is not None

    breakeven: float | None = None
    for a, b in itertools.pairwise(points):
        da = float(a.lambda_cost - a.fargate_cost)
        db = float(b.lambda_cost - b.fargate_cost)
        if da < 0 <= db:
            # Linear between the two points: Lambda grows linearly, Fargate in steps.
            share = -da / (db - da) if db != da else 0.0
            breakeven = a.monthly_requests + share * (b.monthly_requests - a.monthly_requests)
            break
    if all(p.lambda_cost < p.fargate_cost for p in points):
        below = "lambda cheaper across the whole range"
    elif all(p.lambda_cost >= p.fargate_cost for p in points):
        below = "fargate cheaper across the whole range"
    else:
        below = "lambda cheaper below the break-even volume"

    blockers: list[str] = []
    if duration.p95_s > MAX_DURATION_S:
        blockers.append(f"p95 response time {duration.p95_s:.0f} s exceeds Lambda's 900 s maximum")
    if current.lambda_peak_concurrency > setup.concurrency_quota:
        blockers.append(
            f"peak concurrency {current.lambda_peak_concurrency:.0f} exceeds the account quota "
            f"{setup.concurrency_quota} (requests would be throttled without an increase)"
        )
    if setup.payload_mb is not None and setup.payload_mb > PAYLOAD_LIMIT_MB:
        blockers.append(f"payload {setup.payload_mb:g} MB exceeds Lambda's 6 MB synchronous limit")
    assumptions = [
        f"Lambda bills wall time: mean {duration.mean_s:.3f} s per request at {setup.memory_mb} MB",
        "free tier excluded" if not setup.include_free_tier else "free tier applied",
        f"front: {setup.front}",
        f"provisioned concurrency: {pc}"
        if pc
        else "no provisioned concurrency (cold starts accepted)",
        "Fargate: the service's policy replayed over the scaled demand"
        + (", plus its ALB" if fargate_has_alb else ""),
    ]
    return BreakevenResult(
        points=tuple(points),
        current=current,
        breakeven_requests=breakeven,
        cheaper_below_range=below,
        duration=duration,
        setup=setup,
        blockers=tuple(blockers),
        assumptions=tuple(assumptions),
        issues=tuple(issues),
    )
