"""RDS class sizing with the T-class credit model, idle databases and Multi-AZ."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from analyzer_helpers import MINUTES_14D, context, metrics, price, res, run, series

from leanstack.analyzers._specs import rds_spec
from leanstack.model.findings import FindingStatus

DB = "aws_db_instance.main"
GIB = 2**30


def db(cls: str, multi_az: bool = False, **attrs: object) -> list:
    return [
        res(
            DB,
            {
                "instance_class": cls,
                "engine": "postgres",
                "multi_az": multi_az,
                "allocated_storage": 20,
                **attrs,
            },
        )
    ]


def load(cpu_pct: float | np.ndarray, conns: float = 20, free_gib: float | None = None) -> dict:
    cpu = np.full(MINUTES_14D, cpu_pct) if np.isscalar(cpu_pct) else cpu_pct
    items = [
        series(DB, "CPUUtilization", cpu),
        series(DB, "DatabaseConnections", np.full(MINUTES_14D, conns)),
    ]
    if free_gib is not None:
        items.append(series(DB, "FreeableMemory", np.full(MINUTES_14D, free_gib * GIB)))
    return metrics(*items)


def credit_rate() -> Decimal:
    return price("rds", "vCPU-hour", engine="postgresql", instance_family="db.t3")


def expected_credits(util: float, cls: str) -> Decimal:
    """Constant load: the surplus is used - earned - the full starting balance."""
    spec = rds_spec(cls)
    assert spec is not None and spec.baseline is not None
    hours = 14 * 24
    surplus = max(0.0, (util - spec.baseline) * spec.vcpu * hours - 24 * spec.baseline * spec.vcpu)
    return Decimal(str(round(surplus * 730 / hours, 6))) * credit_rate()


def test_t_class_above_baseline_shows_credits_and_moves_to_a_fixed_class() -> None:
    findings = run("rds", context(db("db.t3.large"), load(70.0)))
    finding = next(f for f in findings if f.address == DB)
    rec = finding.recommendation
    assert finding.status is FindingStatus.OPPORTUNITY and rec is not None
    credits = expected_credits(0.70, "db.t3.large")
    assert Decimal(finding.evidence["credit_charges_monthly"]) == credits.quantize(Decimal("0.01"))
    instance = (
        price(
            "rds",
            "instance-hour",
            engine="postgresql",
            instance_type="db.t3.large",
            deployment="single-az",
        )
        * 730
    )
    assert abs(rec.monthly_cost_before - (instance + credits)) < Decimal("0.01")
    new = rec.changes[0].after
    assert not rds_spec(new).burstable  # a fixed-performance class
    fixed = (
        price(
            "rds", "instance-hour", engine="postgresql", instance_type=new, deployment="single-az"
        )
        * 730
    )
    assert rec.monthly_cost_after == fixed
    assert fixed < instance + credits  # the burstable instance costs more than the fixed class
    assert "credits" in finding.summary


def test_t_micro_above_baseline_keeps_class_but_shows_credits_and_fixed_option() -> None:
    finding = next(f for f in run("rds", context(db("db.t3.micro"), load(40.0))) if f.address == DB)
    assert finding.status is FindingStatus.NO_CHANGE
    assert Decimal(finding.evidence["credit_charges_monthly"]) == expected_credits(
        0.40, "db.t3.micro"
    ).quantize(Decimal("0.01"))
    classes = [o["class"] for o in finding.evidence["options"]]
    assert any(not rds_spec(c).burstable for c in classes)


def test_oversized_fixed_class_is_cut() -> None:
    finding = next(
        f
        for f in run("rds", context(db("db.m5.2xlarge"), load(5.0, free_gib=28)))
        if f.address == DB
    )
    rec = finding.recommendation
    assert rec is not None
    new = rds_spec(rec.changes[0].after)
    # 5% of 8 vCPU = 0.4 vCPU, / 0.8 = 0.5; 4 GiB used x 1.2 = 4.8 GiB
    assert new is not None and new.vcpu >= 0.5 and new.memory_gib >= 4.8
    assert rec.monthly_cost_after < rec.monthly_cost_before


def test_memory_in_use_blocks_a_cut() -> None:
    finding = next(
        f
        for f in run("rds", context(db("db.r5.large"), load(5.0, free_gib=1.0)))
        if f.address == DB
    )
    assert (
        finding.recommendation is None
        or rds_spec(finding.recommendation.changes[0].after).memory_gib >= 15 * 1.2
    )


def test_idle_database() -> None:
    finding = next(
        f for f in run("rds", context(db("db.t3.micro"), load(2.0, conns=0))) if f.address == DB
    )
    assert finding.status is FindingStatus.OPPORTUNITY and "Idle" in finding.summary
    rec = finding.recommendation
    assert rec is not None and rec.changes[0].after is None
    backup = price("rds", "GB-month", usage_type="RDS:ChargedBackupUsage", engine="postgresql")
    assert rec.monthly_cost_after == 20 * backup


def test_too_little_data() -> None:
    short = metrics(series(DB, "CPUUtilization", np.full(600, 10.0)))
    finding = next(f for f in run("rds", context(db("db.t3.micro"), short)) if f.address == DB)
    assert finding.status is FindingStatus.INSUFFICIENT_DATA


@pytest.mark.parametrize("multi_az", [True, False])
def test_multi_az_is_an_availability_choice(multi_az: bool) -> None:
    findings = run("rds", context(db("db.t3.micro", multi_az=multi_az), load(5.0)))
    notes = [f for f in findings if "Multi-AZ" in f.summary]
    if not multi_az:
        assert notes == []
        return
    assert (
        len(notes) == 1
        and notes[0].status is FindingStatus.NO_CHANGE
        and notes[0].recommendation is None
    )
    single = price(
        "rds",
        "instance-hour",
        engine="postgresql",
        instance_type="db.t3.micro",
        deployment="single-az",
    )
    multi = price(
        "rds",
        "instance-hour",
        engine="postgresql",
        instance_type="db.t3.micro",
        deployment="multi-az",
    )
    assert Decimal(notes[0].evidence["multi_az_extra_monthly"]) == (multi - single) * 730


def test_too_small_class_is_not_called_the_cheapest_fit() -> None:
    # 95% of a db.m5.large's 2 vCPU: the P99.5 with headroom needs more than 2 vCPU.
    finding = next(f for f in run("rds", context(db("db.m5.large"), load(95.0))) if f.address == DB)
    assert finding.evidence["current_fits"] is False
    assert finding.status is FindingStatus.NO_CHANGE
    assert "Under-provisioned" in finding.summary
