"""Fargate task rightsizing on hand-made CPU/memory series."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from analyzer_helpers import (
    MINUTES_14D,
    autoscaling,
    context,
    fargate_service,
    metrics,
    one,
    price,
    run,
    series,
)

from leanstack.analyzers._specs import FARGATE_GRID
from leanstack.model.findings import FindingStatus
from leanstack.model.resource import UNKNOWN

SVC = "aws_ecs_service.app"
RNG = np.random.default_rng(7)


def hourly(cpu: int, mem: int) -> Decimal:
    vcpu = price("fargate", "vCPU-hour", os="linux", arch="x86_64", capacity="on-demand")
    gb = price("fargate", "GB-hour", os="linux", arch="x86_64", capacity="on-demand")
    return Decimal(cpu) / 1024 * vcpu + Decimal(mem) / 1024 * gb


def expected_size(cpu_pct: np.ndarray, mem_pct: np.ndarray, cpu: int, mem: int) -> tuple[int, int]:
    """The cheapest grid size holding P99.5/0.8, the 99.9th percentile and peak memory x 1.2."""
    usage = cpu_pct / 100 * cpu / 1024
    need_cpu = max(np.percentile(usage, 99.5) / 0.8, np.percentile(usage, 99.9))
    need_mem = mem_pct.max() / 100 * mem * 1.2
    sizes = [
        (c, m)
        for c, ms in FARGATE_GRID.items()
        for m in ms
        if c / 1024 >= need_cpu and m >= need_mem
    ]
    return min(sizes, key=lambda s: (hourly(*s), abs(s[0] - cpu), abs(s[1] - mem)))


CASES = {
    # name: (cpu units, memory MiB, cpu% series, memory% series)
    "steady-low": (
        1024,
        2048,
        np.clip(RNG.normal(10, 2, MINUTES_14D), 0, 100),
        np.full(MINUTES_14D, 20.0),
    ),
    "steady-mid": (
        2048,
        4096,
        np.clip(RNG.normal(30, 5, MINUTES_14D), 0, 100),
        np.full(MINUTES_14D, 40.0),
    ),
    "daily-wave": (
        1024,
        4096,
        20 + 15 * np.sin(np.arange(MINUTES_14D) * 2 * np.pi / 1440),
        30 + 5 * np.sin(np.arange(MINUTES_14D) * 2 * np.pi / 1440),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_chooses_cheapest_valid_size(name: str) -> None:
    cpu, mem, cpu_pct, mem_pct = CASES[name]
    res = fargate_service(cpu, mem, desired=2)
    ctx = context(
        res,
        metrics(series(SVC, "CPUUtilization", cpu_pct), series(SVC, "MemoryUtilization", mem_pct)),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    want = expected_size(cpu_pct, mem_pct, cpu, mem)
    assert finding.evidence["recommended"] == {"cpu": want[0], "memory": want[1]}
    if want == (cpu, mem):
        assert finding.status is FindingStatus.NO_CHANGE
        return
    assert finding.status is FindingStatus.OPPORTUNITY
    rec = finding.recommendation
    assert rec is not None
    assert rec.monthly_cost_before == 2 * hourly(cpu, mem) * 730
    assert rec.monthly_cost_after == 2 * hourly(*want) * 730
    paths = {c.path: c.after for c in rec.changes}
    assert paths.get("aws_ecs_task_definition.app.cpu", str(cpu)) == str(want[0])
    assert paths.get("aws_ecs_task_definition.app.memory", str(mem)) == str(want[1])
    assert rec.exclusive_group == f"compute:{SVC}"


def test_bursty_service_keeps_room_for_its_peaks() -> None:
    # 4 vCPU task: p95 is 5% (0.2 vCPU) but 2% of minutes burst to 60% (2.4 vCPU).
    cpu_pct = np.full(MINUTES_14D, 5.0)
    burst = RNG.choice(MINUTES_14D, size=MINUTES_14D // 50, replace=False)
    cpu_pct[burst] = 60.0
    assert np.percentile(cpu_pct, 95) == 5.0
    res = fargate_service(4096, 8192)
    ctx = context(
        res,
        metrics(
            series(SVC, "CPUUtilization", cpu_pct),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 10.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    new_vcpu = finding.evidence["recommended"]["cpu"] / 1024
    peak_vcpu = 0.60 * 4
    assert new_vcpu >= peak_vcpu / 0.8  # peak with 20% headroom, not p95 (0.2 vCPU)
    usage = cpu_pct / 100 * 4
    assert np.mean(usage > new_vcpu) <= 0.001


def test_rare_bursts_still_fit_under_the_saturation_guard() -> None:
    # Bursts in 0.3% of minutes: below the P99.5, above the 0.1% saturation budget.
    cpu_pct = np.full(MINUTES_14D, 5.0)
    cpu_pct[RNG.choice(MINUTES_14D, size=int(MINUTES_14D * 0.003), replace=False)] = 90.0
    ctx = context(
        fargate_service(4096, 8192),
        metrics(
            series(SVC, "CPUUtilization", cpu_pct),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 10.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    new_vcpu = finding.evidence["recommended"]["cpu"] / 1024
    assert np.mean(cpu_pct / 100 * 4 > new_vcpu) <= 0.001
    assert new_vcpu >= 0.9 * 4


def test_memory_near_the_limit_is_not_cut() -> None:
    mem_pct = np.clip(RNG.normal(80, 3, MINUTES_14D), 0, 92)
    ctx = context(
        fargate_service(2048, 4096),
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 5.0)),
            series(SVC, "MemoryUtilization", mem_pct),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    assert finding.evidence["recommended"]["memory"] >= 4096
    if finding.recommendation:
        for change in finding.recommendation.changes:
            if change.path.endswith(".memory"):
                assert int(change.after) >= 4096


@pytest.mark.parametrize(
    ("minutes", "period", "nan_share", "reason"),
    [
        (20 * 60, 60, 0.0, "h of data"),  # 20 hours: under 30 h
        (90, 3600, 0.0, "points"),  # 90 hourly points: under 100
        (7 * 1440, 60, 0.7, "coverage"),  # 70% gaps (50 h present)
    ],
)
def test_too_little_data_is_a_finding(
    minutes: int, period: int, nan_share: float, reason: str
) -> None:
    cpu = np.full(minutes, 10.0)
    cpu[: int(minutes * nan_share)] = np.nan
    ctx = context(
        fargate_service(),
        metrics(
            series(SVC, "CPUUtilization", cpu, period),
            series(SVC, "MemoryUtilization", cpu, period),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    assert finding.status is FindingStatus.INSUFFICIENT_DATA
    assert reason in finding.summary
    assert finding.recommendation is None


def test_no_series_is_insufficient_data() -> None:
    finding = one(run("fargate_rightsizing", context(fargate_service())), address=SVC)
    assert finding.status is FindingStatus.INSUFFICIENT_DATA


def test_cpu_dimension_left_to_autoscaling_when_it_tracks_cpu() -> None:
    res = fargate_service(2048, 8192) + autoscaling()
    ctx = context(
        res,
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 3.0)),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 10.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    assert finding.evidence["recommended"]["cpu"] == 2048
    assert finding.evidence["recommended"]["memory"] < 8192
    assert any("autoscaling analyzer" in n for n in finding.evidence["notes"])
    off = one(run("fargate_rightsizing", ctx, respect_autoscaling=False), address=SVC)
    assert off.evidence["recommended"]["cpu"] < 2048


def test_container_limits_must_still_fit() -> None:
    containers = json.dumps(
        [
            {"name": "app", "cpu": 512, "memory": 1536},
            {"name": "sidecar", "cpu": 256, "memoryReservation": 512},
        ]
    )
    ctx = context(
        fargate_service(2048, 4096, containers=containers),
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 1.0)),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 5.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    rec = finding.evidence["recommended"]
    assert rec["cpu"] >= 768 and rec["memory"] >= 2048
    assert finding.evidence["containers"] == {"cpu": 768, "memory": 2048}


def test_unknown_container_definitions_are_a_risk() -> None:
    ctx = context(
        fargate_service(2048, 4096, containers=UNKNOWN),
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 1.0)),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 5.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    assert finding.recommendation is not None
    assert any("container_definitions" in r for r in finding.recommendation.risks)


def test_not_fargate_is_not_applicable() -> None:
    res = fargate_service(extra={"launch_type": "EC2"})
    finding = one(run("fargate_rightsizing", context(res)), address=SVC)
    assert finding.status is FindingStatus.NOT_APPLICABLE


@pytest.mark.parametrize("desired", [2, 4, 7])
def test_before_matches_the_estimate_for_a_service_on_spot(desired: int) -> None:
    from leanstack.catalog import embedded_catalog
    from leanstack.resources import PricingContext, price_resource

    strategy = [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    res = fargate_service(
        2048,
        8192,
        desired=desired,
        extra={"launch_type": None, "capacity_provider_strategy": strategy},
    )
    index = {r.address: r for r in res}
    priced = price_resource(
        index[SVC], PricingContext(catalog=embedded_catalog(), index=index, usage={})
    )
    ctx = context(
        res,
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 3.0)),
            series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 5.0)),
        ),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    rec = finding.recommendation
    assert rec is not None
    assert abs(rec.monthly_cost_before - priced.monthly_cost) < Decimal("0.01")
