"""End to end on examples/raptorflow and its recorded (synthetic) load.

Uses the metric store committed beside the example when it exists, else 14 days synthesized
with leanstack's own generator. Every resource gets a finding, the seed's db.t3.micro ->
db.t4g.micro move is worth $1.46 a month, and no recommendation contradicts its evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leanstack.analysis import AnalysisResult, index_metrics, run_analysis
from leanstack.analyzers._specs import cache_maxmemory_bytes, rds_spec
from leanstack.catalog import embedded_catalog
from leanstack.model.findings import FindingStatus, Recommendation
from leanstack.model.money import quantize_money

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "raptorflow"


@pytest.fixture(scope="module")
def analysis() -> tuple[AnalysisResult, dict[str, Any]]:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/raptorflow is not in the tree")
    from leanstack.estimate import estimate
    from leanstack.terraform import load_stack
    from leanstack.usage.store import MetricStore, default_store_path
    from leanstack.usage.usage_file import find_usage_file, load_usage_file

    loaded = load_stack(EXAMPLE)
    usage_path = find_usage_file(EXAMPLE)
    priced = estimate(
        loaded, embedded_catalog(), load_usage_file(usage_path) if usage_path else None
    )
    store = default_store_path(EXAMPLE)
    if store.is_file():
        with MetricStore(store, read_only=True) as db:
            series = [s for r in loaded.resources for s in db.all_series(r.address)]
    else:
        synth = pytest.importorskip("leanstack.usage.synth")
        series = synth.synthesize(loaded.resources, 14, 42, datetime(2026, 11, 1, tzinfo=UTC))
    result = run_analysis(priced, loaded.resources, index_metrics(series), embedded_catalog())
    return result, {r.address: r for r in loaded.resources}


def test_every_resource_gets_a_finding_and_nothing_failed(analysis: tuple) -> None:
    result, resources = analysis
    assert result.issues == ()
    covered = {f.address for f in result.findings}
    assert set(resources) <= covered
    analyzed = {f.address for f in result.findings if f.analyzer != "inventory"}
    assert {
        "aws_ecs_service.api",
        "module.rds.aws_db_instance.main",
        "aws_elasticache_cluster.redis",
        "aws_sqs_queue.jobs",
        "aws_lb.api",
        "aws_cloudwatch_log_group.api",
    } <= analyzed


def test_t3_micro_to_t4g_micro_is_1_46(analysis: tuple) -> None:
    result, _ = analysis
    rec = next(
        r for r in result.recommendations if r.analyzer == "graviton" and "db.t4g.micro" in r.title
    )
    assert quantize_money(rec.monthly_savings) == Decimal("1.46")


def test_totals_count_each_group_once(analysis: tuple) -> None:
    result, _ = analysis
    best: dict[str, Decimal] = {}
    for rec in result.recommendations:
        key = rec.exclusive_group or rec.id
        best[key] = max(best.get(key, Decimal(0)), rec.monthly_savings)
    assert result.totals.monthly_savings == sum(best.values())


def contradictions(rec: Recommendation, resources: dict[str, Any]) -> list[str]:
    """What in the recommendation its own evidence (or the stack) contradicts."""
    ev = rec.evidence
    out = []
    if rec.analyzer != "cost_alarms" and rec.monthly_savings < 0:
        out.append("costs more than it saves")
    for change in rec.changes:
        if change.new_block is None and not any(
            change.path == a or change.path.startswith(a + ".") for a in resources
        ):
            out.append(f"changes {change.path}, which is not in the stack")
    if rec.analyzer == "fargate_rightsizing":
        new = ev["recommended"]
        if (
            new["cpu"] / 1024 < ev["required"]["vcpu"] - 1e-9
            or new["memory"] < ev["required"]["memory_mib"] - 1e-9
        ):
            out.append("size below what the evidence requires")
        if ev.get("saturated_fraction_at_new_size", 0) > 0.001:
            out.append("saturates more than 0.1% of minutes")
        if "memory" in ev and new["memory"] < ev["memory"]["max"]:
            out.append("memory below the recorded peak")
    if rec.analyzer == "rds" and rec.changes and rec.changes[0].after:
        spec = rds_spec(rec.changes[0].after)
        if (
            spec is None
            or spec.vcpu < ev["required_vcpu"]
            or spec.memory_gib < ev["required_memory_gib"] - 1e-9
        ):
            out.append("class below the required vCPU or memory")
    if rec.analyzer == "elasticache" and rec.id.endswith(":node"):
        usable = (cache_maxmemory_bytes(rec.changes[0].after) or 0) * (
            1 - ev["reserved_memory_fraction"]
        )
        if usable / 2**20 < ev["required_usable_mib"]:
            out.append("node too small for the peak")
    if rec.analyzer == "autoscaling" and ev["optimizer"]["breach_share"] > 0.001:
        out.append("policy breaches the SLO")
    if rec.analyzer == "serverless" and Decimal(ev["lambda_monthly"]) >= Decimal(
        ev["fargate_monthly"]
    ):
        out.append("Lambda is not cheaper")
    if rec.analyzer == "fargate_spot" and (ev["min_tasks"] < 2 or ev["spot_tasks_avg"] <= 0):
        out.append("Spot for a single task")
    return out


def test_no_recommendation_contradicts_its_evidence(analysis: tuple) -> None:
    result, resources = analysis
    assert result.recommendations
    problems = {r.id: contradictions(r, resources) for r in result.recommendations}
    assert {k: v for k, v in problems.items() if v} == {}
    for finding in result.findings:
        if finding.status is FindingStatus.OPPORTUNITY:
            assert finding.recommendation is not None
        if finding.recommendation is not None:
            assert finding.status is FindingStatus.OPPORTUNITY
