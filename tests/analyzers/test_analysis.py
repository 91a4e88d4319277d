"""run_analysis: totals never add overlapping savings; bad settings are issues, not crashes."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from analyzer_helpers import MINUTES_14D, fargate_service, metrics, series

from leanstack.analysis import run_analysis, total_savings
from leanstack.catalog import embedded_catalog
from leanstack.model.findings import Confidence, FindingStatus, Phase, Recommendation
from leanstack.model.issues import IssueCode

SVC = "aws_ecs_service.app"


def overprovisioned() -> tuple[list, dict]:
    res = fargate_service(2048, 8192, desired=4)
    m = metrics(
        series(SVC, "CPUUtilization", np.full(MINUTES_14D, 4.0)),
        series(SVC, "MemoryUtilization", np.full(MINUTES_14D, 6.0)),
        series(SVC, "RunningTaskCount", np.full(MINUTES_14D, 4.0)),
    )
    return res, m


def test_overlapping_rightsizing_graviton_and_spot_count_the_best_not_the_sum() -> None:
    res, m = overprovisioned()
    result = run_analysis(
        [], res, m, embedded_catalog(), only=["fargate_rightsizing", "graviton", "fargate_spot"]
    )
    recs = [r for r in result.recommendations if r.address == SVC]
    assert {r.analyzer for r in recs} == {"fargate_rightsizing", "graviton", "fargate_spot"}
    assert {r.exclusive_group for r in recs} == {f"compute:{SVC}"}
    savings = [r.monthly_savings for r in recs]
    assert all(s > 0 for s in savings)
    assert result.totals.monthly_savings == max(savings)
    assert result.totals.monthly_savings < sum(savings)
    assert result.totals.annual_savings == 12 * max(savings)


def rec(
    group: str, before: str, after: str, confidence: Confidence = Confidence.HIGH, **evidence: str
) -> Recommendation:
    return Recommendation(
        id=f"x:{group}:{before}:{after}",
        analyzer="x",
        address="a",
        title="t",
        phase=Phase.QUICK_WIN,
        changes=(),
        monthly_cost_before=Decimal(before),
        monthly_cost_after=Decimal(after),
        confidence=confidence,
        evidence=evidence,
        exclusive_group=group,
    )


def test_totals_by_group_with_ranges_and_no_negative_groups() -> None:
    recs = [
        rec("g1", "10", "4"),  # 6
        rec("g1", "10", "7"),  # 3, same group
        rec("g2", "5", "3", Confidence.LOW),  # 2, low confidence: not in the low end
        rec("g3", "1", "2"),  # costs more: counts 0
        rec("", "3", "2", monthly_savings_low="0.5", monthly_savings_high="1"),  # its own group
    ]
    best, low, high = total_savings(recs)
    assert best == Decimal(6 + 2 + 0 + 1)
    assert low == Decimal("6.5")
    assert high == Decimal(6 + 2 + 0) + Decimal(1)


def test_bad_settings_and_unknown_analyzers_are_issues() -> None:
    res, m = overprovisioned()
    result = run_analysis(
        [],
        res,
        m,
        embedded_catalog(),
        only=["fargate_rightsizing", "nope"],
        settings={"fargate_rightsizing.cpu_headroom": 2, "nosuch.x": 1},
    )
    messages = [i.message for i in result.issues]
    assert any("nope" in msg for msg in messages)
    assert any("nosuch.x" in msg for msg in messages)
    assert any("cpu_headroom" in msg for msg in messages)
    assert all(i.code is IssueCode.USAGE_ERROR for i in result.issues)
    assert result.findings == ()  # the only valid analyzer had a bad setting


def test_every_resource_gets_a_finding_and_settings_apply() -> None:
    res, m = overprovisioned()
    result = run_analysis(
        [], res, m, embedded_catalog(), settings={"fargate_rightsizing.cpu_headroom": 0.5}
    )
    addresses = {f.address for f in result.findings}
    assert {r.address for r in res} <= addresses
    cluster = [f for f in result.findings if f.address == "aws_ecs_cluster.main"]
    assert cluster and all(f.status is FindingStatus.NOT_APPLICABLE for f in cluster)
    sizing = next(f for f in result.findings if f.analyzer == "fargate_rightsizing")
    at = sizing.evidence["cpu_sizing"]
    assert at["with_headroom_vcpu"] == round(at["at_percentile_vcpu"] / 0.5, 4)
