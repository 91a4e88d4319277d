"""Graviton moves priced from the catalog, each with its migration effort."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from analyzer_helpers import (
    MINUTES_14D,
    context,
    fargate_service,
    metrics,
    one,
    price,
    res,
    run,
    series,
)

from leanstack.model.findings import FindingStatus, Phase
from leanstack.model.money import quantize_money

DB = "module.rds.aws_db_instance.main"


def test_db_t3_micro_to_t4g_micro_saves_1_46_a_month() -> None:
    db = res(DB, {"instance_class": "db.t3.micro", "engine": "postgres", "multi_az": False})
    finding = one(run("graviton", context([db])), address=DB)
    rec = finding.recommendation
    assert finding.status is FindingStatus.OPPORTUNITY and rec is not None
    t3 = price(
        "rds",
        "instance-hour",
        engine="postgresql",
        instance_type="db.t3.micro",
        deployment="single-az",
    )
    t4g = price(
        "rds",
        "instance-hour",
        engine="postgresql",
        instance_type="db.t4g.micro",
        deployment="single-az",
    )
    expected = (t3 - t4g) * 730
    assert rec.monthly_savings == expected
    assert quantize_money(rec.monthly_savings) == Decimal("1.46")
    assert rec.changes[0].path == f"{DB}.instance_class" and rec.changes[0].after == "db.t4g.micro"
    assert rec.evidence["migration_effort"] == "Low"
    assert rec.exclusive_group == f"db-class:{DB}"


@pytest.mark.parametrize(
    ("cls", "target"),
    [
        ("db.m5.large", "db.m7g.large"),
        ("db.r5.large", "db.r7g.large"),
        ("db.t3.medium", "db.t4g.medium"),
    ],
)
def test_rds_families(cls: str, target: str) -> None:
    db = res(DB, {"instance_class": cls, "engine": "postgres", "multi_az": True})
    finding = one(run("graviton", context([db])), address=DB)
    rec = finding.recommendation
    assert rec is not None and rec.changes[0].after == target
    before = price(
        "rds", "instance-hour", engine="postgresql", instance_type=cls, deployment="multi-az"
    )
    after = price(
        "rds", "instance-hour", engine="postgresql", instance_type=target, deployment="multi-az"
    )
    assert rec.monthly_cost_before == before * 730 and rec.monthly_cost_after == after * 730


def test_already_graviton_is_no_change() -> None:
    db = res(DB, {"instance_class": "db.t4g.micro", "engine": "postgres"})
    assert one(run("graviton", context([db])), address=DB).status is FindingStatus.NO_CHANGE


def test_fargate_arm64_is_a_migration() -> None:
    svc = "aws_ecs_service.app"
    ctx = context(fargate_service(1024, 2048, desired=3))
    finding = one(run("graviton", ctx), address=svc)
    rec = finding.recommendation
    assert rec is not None and rec.phase is Phase.MIGRATION
    x86 = price(
        "fargate", "vCPU-hour", os="linux", arch="x86_64", capacity="on-demand"
    ) + 2 * price("fargate", "GB-hour", os="linux", arch="x86_64", capacity="on-demand")
    arm = price("fargate", "vCPU-hour", os="linux", arch="arm64", capacity="on-demand") + 2 * price(
        "fargate", "GB-hour", os="linux", arch="arm64", capacity="on-demand"
    )
    assert rec.monthly_savings == 3 * (x86 - arm) * 730
    assert rec.changes[0].path == "aws_ecs_task_definition.app.runtime_platform"
    assert rec.changes[0].after == [
        {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
    ]
    assert any("arm64" in r for r in rec.risks)
    arm_svc = one(run("graviton", context(fargate_service(arch="ARM64"))), address=svc)
    assert arm_svc.status is FindingStatus.NO_CHANGE


def test_elasticache_nodes() -> None:
    cache = res(
        "aws_elasticache_cluster.redis",
        {"node_type": "cache.t3.small", "engine": "redis", "num_cache_nodes": 2},
    )
    rec = one(run("graviton", context([cache]), valkey=False), address=cache.address).recommendation
    assert rec is not None and rec.changes[0].after == "cache.t4g.small"
    t3 = price("elasticache", "node-hour", engine="redis", instance_type="cache.t3.small")
    t4g = price("elasticache", "node-hour", engine="redis", instance_type="cache.t4g.small")
    assert rec.monthly_savings == 2 * (t3 - t4g) * 730


def test_lambda_arm64_from_recorded_invocations() -> None:
    fn = res("aws_lambda_function.api", {"memory_size": 1024, "architectures": ["x86_64"]})
    inv = np.full(MINUTES_14D, 10.0)
    dur = np.full(MINUTES_14D, 200.0)
    ctx = context(
        [fn],
        metrics(
            series(fn.address, "Invocations", inv, statistic="Sum"),
            series(fn.address, "Duration", dur),
        ),
    )
    rec = one(run("graviton", ctx), address=fn.address).recommendation
    assert rec is not None and rec.changes[0].after == ["arm64"]
    gbs = 10 * 60 * 730 * 0.2 * 1.0  # per month: 10/min x 0.2 s x 1 GB
    x86 = price("lambda", "GB-second", arch="x86_64", tier="1")
    arm = price("lambda", "GB-second", arch="arm64", tier="1")
    assert float(rec.monthly_savings) == pytest.approx(gbs * float(x86 - arm), rel=1e-6)


def test_lambda_without_usage_is_insufficient_data() -> None:
    fn = res("aws_lambda_function.api", {"memory_size": 512})
    assert (
        one(run("graviton", context([fn])), address=fn.address).status
        is FindingStatus.INSUFFICIENT_DATA
    )


def test_graviton_and_valkey_together_for_redis() -> None:
    cache = res("aws_elasticache_cluster.redis", {"node_type": "cache.t3.micro", "engine": "redis"})
    findings = run("graviton", context([cache]))
    combined = next(
        f.recommendation
        for f in findings
        if f.recommendation and "Valkey" in f.recommendation.title
    )
    assert combined is not None
    t3 = price("elasticache", "node-hour", engine="redis", instance_type="cache.t3.micro")
    arm_valkey = price("elasticache", "node-hour", engine="valkey", instance_type="cache.t4g.micro")
    assert combined.monthly_savings == (t3 - arm_valkey) * 730
    alone = next(
        f.recommendation
        for f in findings
        if f.recommendation and "Valkey" not in f.recommendation.title
    )
    assert alone is not None and combined.monthly_savings > alone.monthly_savings
    assert combined.exclusive_group == alone.exclusive_group
    assert len(run("graviton", context([cache]), valkey=False)) == 1


DAY = 24 * 60  # one day of 1-minute points: past 100 points, short of the 30 hours required


def test_a_day_of_task_counts_does_not_size_the_fargate_saving() -> None:
    # arm64 is cheaper whatever the load; a day of RunningTaskCount (7 tasks) is set aside
    # and the configured 3 tasks size the saving, as with no series at all.
    svc = "aws_ecs_service.app"
    plain = one(run("graviton", context(fargate_service(desired=3))), address=svc)
    short = context(
        fargate_service(desired=3), metrics(series(svc, "RunningTaskCount", np.full(DAY, 7.0)))
    )
    finding = one(run("graviton", short), address=svc)
    assert finding.recommendation is not None and plain.recommendation is not None
    assert finding.recommendation.monthly_savings == plain.recommendation.monthly_savings
    assert finding.evidence["tasks"] == 3
    assert "not enough RunningTaskCount: 24.0 h of data" in finding.evidence["tasks_basis"]
    assert "Sized on desired_count (not enough RunningTaskCount" in finding.summary
    assert "Sized on" not in plain.summary
    two_weeks = context(
        fargate_service(desired=3),
        metrics(series(svc, "RunningTaskCount", np.full(MINUTES_14D, 7.0))),
    )
    assert one(run("graviton", two_weeks), address=svc).evidence["tasks"] == 7


def test_a_day_of_lambda_invocations_is_not_enough_data() -> None:
    fn = res("aws_lambda_function.api", {"memory_size": 1024, "architectures": ["x86_64"]})
    ctx = context(
        [fn],
        metrics(
            series(fn.address, "Invocations", np.full(DAY, 10.0), statistic="Sum"),
            series(fn.address, "Duration", np.full(DAY, 200.0)),
        ),
    )
    finding = one(run("graviton", ctx), address=fn.address)
    assert finding.status is FindingStatus.INSUFFICIENT_DATA and finding.recommendation is None
    assert finding.summary.startswith("Not enough data (Invocations: 24.0 h of data")
