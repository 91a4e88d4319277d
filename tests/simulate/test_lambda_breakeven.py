"""Lambda vs Fargate break-even, checked against list-price arithmetic from the catalog."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leanstack.catalog import embedded_catalog
from leanstack.simulate import (
    DurationProfile,
    Front,
    LambdaSetup,
    Load,
    ServiceConfig,
    TargetTrackingPolicy,
    lambda_breakeven,
)

DAYS = 2
MINUTES = DAYS * 1440


def _catalog_prices() -> tuple[float, float, float, float]:
    cat = embedded_catalog()
    req = cat.find("lambda", "us-east-1", arch="x86_64", group="AWS-Lambda-Requests")
    gbs = cat.find("lambda", "us-east-1", arch="x86_64", tier="1")
    vcpu = cat.find(
        "fargate",
        "us-east-1",
        arch="x86_64",
        capacity="on-demand",
        usage_type="Fargate-vCPU-Hours:perCPU",
    )
    gbh = cat.find(
        "fargate", "us-east-1", arch="x86_64", capacity="on-demand", usage_type="Fargate-GB-Hours"
    )
    assert req and gbs and vcpu and gbh
    return float(req.price), float(gbs.price), float(vcpu.price), float(gbh.price)


def test_breakeven_matches_list_price_arithmetic_for_one_always_on_task() -> None:
    # aws-semantics §3.3: 512 MB, 200 ms vs 1 x 0.5 vCPU / 1 GB always on -> ~9.65 M requests/month.
    req_price, gbs_price, vcpu_price, gb_price = _catalog_prices()
    rpm = np.full(MINUTES, 100.0)
    load = Load.from_utilization(np.full(MINUTES, 10.0), tasks=1, task_cpu_units=512)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=1, desired=1
    )
    result = lambda_breakeven(
        load,
        cfg,
        None,
        rpm,
        DurationProfile(mean_s=0.2, p95_s=0.2),
        setup=LambdaSetup(memory_mb=512, front=Front.NONE),
        fargate_has_alb=False,
    )
    assert result is not None
    per_million = req_price + 0.5 * 0.2 * gbs_price * 1e6
    fargate_month = (0.5 * vcpu_price + 1 * gb_price) * 730
    expected = fargate_month / per_million * 1e6
    assert result.breakeven_requests is not None
    # The curve is sampled; the crossing is interpolated between samples on a straight Lambda
    # line against a flat Fargate line, so it is exact up to rounding.
    assert result.breakeven_requests == pytest.approx(expected, rel=1e-3)
    assert 9.5e6 < result.breakeven_requests < 9.8e6
    today = result.current
    assert today.monthly_requests == pytest.approx(100 * 60 * 730)
    assert float(today.lambda_cost) == pytest.approx(
        today.monthly_requests / 1e6 * per_million, rel=1e-6
    )


def test_long_wall_time_makes_lambda_dearer_and_front_costs_are_added() -> None:
    # An LLM proxy: requests wait seconds on the upstream model; Lambda bills the wait.
    rpm = 30 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(MINUTES) / 1440))
    duration = DurationProfile.from_percentiles(3.0, 9.0)
    assert duration.mean_s > 3.0  # log-normal mean sits above the median
    load = Load.from_utilization(np.clip(rpm / 30 * 25, 0, 100), tasks=2, task_cpu_units=512)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=2, max_capacity=6, desired=2
    )
    policy = TargetTrackingPolicy(target=70)
    http = lambda_breakeven(load, cfg, policy, rpm, duration, setup=LambdaSetup(memory_mb=1024))
    bare = lambda_breakeven(
        load, cfg, policy, rpm, duration, setup=LambdaSetup(memory_mb=1024, front=Front.NONE)
    )
    assert http is not None and bare is not None
    assert not http.lambda_cheaper_today
    monthly = float(np.sum(rpm)) * 730 * 60 / MINUTES
    assert float(http.current.lambda_cost - bare.current.lambda_cost) == pytest.approx(
        monthly / 1e6 * 1.00, rel=1e-6
    )
    # Costs rise with volume on both sides.
    lam = [p.lambda_cost for p in http.points]
    assert lam == sorted(lam)


def test_limits_are_reported_as_blockers() -> None:
    rpm = np.full(MINUTES, 600.0)
    load = Load.from_utilization(np.full(MINUTES, 50.0), tasks=4, task_cpu_units=1024)
    cfg = ServiceConfig(
        task_cpu_units=1024, task_memory_mib=2048, min_capacity=4, max_capacity=4, desired=4
    )
    result = lambda_breakeven(
        load,
        cfg,
        None,
        rpm,
        DurationProfile(mean_s=200.0, p95_s=1200.0),
        setup=LambdaSetup(payload_mb=8.0),
    )
    assert result is not None
    text = " ".join(result.blockers)
    assert "900 s" in text and "quota" in text and "6 MB" in text
    # 600/min x 200 s = 2,000 concurrent executions.
    assert math.isclose(result.current.lambda_peak_concurrency, 2000.0)


def test_provisioned_concurrency_adds_its_hourly_charge() -> None:
    rpm = np.full(MINUTES, 60.0)
    load = Load.from_utilization(np.full(MINUTES, 30.0), tasks=1, task_cpu_units=512)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=1, desired=1
    )
    duration = DurationProfile(mean_s=1.0, p95_s=1.0)
    plain = lambda_breakeven(load, cfg, None, rpm, duration, setup=LambdaSetup(front=Front.NONE))
    warm = lambda_breakeven(
        load,
        cfg,
        None,
        rpm,
        duration,
        setup=LambdaSetup(front=Front.NONE, provisioned_concurrency=1),
    )
    assert plain is not None and warm is not None
    pc = embedded_catalog().find(
        "lambda", "us-east-1", arch="x86_64", group="AWS-Lambda-Provisioned-Concurrency"
    )
    pcd = embedded_catalog().find(
        "lambda", "us-east-1", arch="x86_64", group="AWS-Lambda-Duration-Provisioned"
    )
    dur = embedded_catalog().find("lambda", "us-east-1", arch="x86_64", tier="1")
    assert pc and pcd and dur
    gb_s = 60 * 730 * 60 * 1.0 * 1.0  # all of it served by the one warm instance (concurrency 1)
    extra = float(pc.price) * 730 * 3600 + gb_s * (float(pcd.price) - float(dur.price))
    assert float(warm.current.lambda_cost - plain.current.lambda_cost) == pytest.approx(
        extra, rel=1e-6
    )


def test_fargate_grows_with_the_volume_past_the_configured_max_capacity() -> None:
    # Today the service needs about 2 tasks of a max of 4. At 100x the volume the same work
    # needs about 100 x as many tasks; a curve that kept max_capacity at 4 would price a fleet
    # that cannot serve it.
    _, _, vcpu_price, gb_price = _catalog_prices()
    rpm = np.full(MINUTES, 100.0)
    load = Load.from_utilization(np.full(MINUTES, 50.0), tasks=2, task_cpu_units=512)
    cfg = ServiceConfig(
        task_cpu_units=512, task_memory_mib=1024, min_capacity=1, max_capacity=4, desired=2
    )
    result = lambda_breakeven(
        load,
        cfg,
        TargetTrackingPolicy(target=50.0),
        rpm,
        DurationProfile(mean_s=0.2, p95_s=0.2),
        setup=LambdaSetup(memory_mb=512, front=Front.NONE),
        factors=[1.0, 100.0],
        fargate_has_alb=False,
    )
    assert result is not None
    by_volume = sorted(result.points, key=lambda p: p.monthly_requests)
    task_month = (0.5 * vcpu_price + 1 * gb_price) * 730
    # 0.5 vCPU of demand per task-equivalent at 50% target: 2 tasks today, 200 at 100x.
    assert float(by_volume[0].fargate_cost) == pytest.approx(2 * task_month, rel=0.02)
    assert float(by_volume[1].fargate_cost) == pytest.approx(200 * task_month, rel=0.02)
