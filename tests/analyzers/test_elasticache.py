"""ElastiCache node fit (25% reserved memory), T-class throttling, Valkey and snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from analyzer_helpers import MINUTES_14D, context, metrics, price, res, run, series

from leanstack.model.findings import FindingStatus

C = "aws_elasticache_cluster.redis"
MIB = 2**20


def cache(node: str, **attrs: object) -> list:
    return [
        res(
            C,
            {
                "node_type": node,
                "engine": "redis",
                "num_cache_nodes": 1,
                "parameter_group_name": "default.redis7",
                "engine_version": "7.1",
                **attrs,
            },
        )
    ]


def used(mib: float, host_cpu: float | None = None) -> dict:
    items = [series(C, "BytesUsedForCache", np.full(MINUTES_14D, mib * MIB))]
    if host_cpu is not None:
        items.append(series(C, "CPUUtilization", np.full(MINUTES_14D, host_cpu)))
    return metrics(*items)


def fit(findings: list):
    return next(
        f
        for f in findings
        if f.recommendation is None
        or f.recommendation.id.endswith(":node")
        or "node type" in f.summary
    )


def test_oversized_node_shrinks_to_what_holds_the_peak() -> None:
    f = fit(run("elasticache", context(cache("cache.t3.medium"), used(150))))
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == "cache.t3.micro"
    assert (
        rec.monthly_savings
        == (
            price("elasticache", "node-hour", engine="redis", instance_type="cache.t3.medium")
            - price("elasticache", "node-hour", engine="redis", instance_type="cache.t3.micro")
        )
        * 730
    )


@pytest.mark.parametrize(
    ("peak_mib", "reserved", "fits"), [(300, 0.25, True), (330, 0.25, False), (330, 0.0, True)]
)
def test_reserved_memory_decides_the_fit(peak_mib: float, reserved: float, fits: bool) -> None:
    # micro: maxmemory 512 MiB; 75% usable = 384 MiB; the peak needs +20%.
    f = fit(
        run(
            "elasticache",
            context(cache("cache.t3.micro"), used(peak_mib)),
            reserved_memory_fraction=reserved,
        )
    )
    assert f.status is FindingStatus.NO_CHANGE
    assert f.evidence["fits_current"] is fits
    assert ("Under-provisioned" in f.summary) is (not fits)


def test_t_nodes_that_would_run_out_of_credits_are_not_proposed() -> None:
    # 15% of 2 vCPU = 0.3 vCPU: above micro's 0.2 vCPU baseline, within small's 0.4.
    f = fit(run("elasticache", context(cache("cache.t3.medium"), used(100, host_cpu=15.0))))
    assert f.recommendation is not None and f.recommendation.changes[0].after == "cache.t3.small"
    throttled = fit(run("elasticache", context(cache("cache.t3.micro"), used(100, host_cpu=40.0))))
    assert throttled.evidence["throttled_vcpu_hours"] > 0
    assert "not billed" in throttled.evidence["throttling_note"]


def test_valkey_is_priced_from_the_catalog() -> None:
    findings = run("elasticache", context(cache("cache.t3.micro"), used(100)))
    f = next(f for f in findings if f.recommendation and f.recommendation.id.endswith(":valkey"))
    rec = f.recommendation
    assert rec is not None
    changes = {c.path.rsplit(".", 1)[1]: c.after for c in rec.changes}
    assert changes["engine"] == "valkey" and changes["parameter_group_name"] == "default.valkey7"
    assert (
        rec.monthly_cost_after
        == price("elasticache", "node-hour", engine="valkey", instance_type="cache.t3.micro") * 730
    )
    assert rec.exclusive_group == f"cache-node:{C}"


def test_snapshot_retention_default_zero_and_three_raises_cost() -> None:
    findings = run("elasticache", context(cache("cache.t3.micro"), used(200)))
    f = next(f for f in findings if "snapshot" in f.summary)
    assert (
        f.status is FindingStatus.NO_CHANGE
        and "defaults to 0" in f.summary
        and "raises cost" in f.summary
    )
    backup = price("elasticache", "GB-month", engine="redis")
    assert float(f.evidence["cost_if_3_monthly"]) == pytest.approx(
        2 * 200 / 1024 * float(backup), abs=1e-4
    )
    kept = run(
        "elasticache", context(cache("cache.t3.micro", snapshot_retention_limit=5), used(200))
    )
    rec = next(f for f in kept if "snapshot" in f.summary.lower()).recommendation
    assert rec is not None and rec.changes[0].after == 1
    assert float(rec.monthly_savings) == pytest.approx(4 * 200 / 1024 * float(backup), abs=1e-4)


def test_no_memory_series_is_insufficient_data() -> None:
    findings = run("elasticache", context(cache("cache.t3.micro")))
    assert any(f.status is FindingStatus.INSUFFICIENT_DATA for f in findings)
