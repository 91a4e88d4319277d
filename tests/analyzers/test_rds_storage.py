"""RDS storage, backups, Performance Insights and Enhanced Monitoring."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from analyzer_helpers import MINUTES_14D, context, metrics, price, res, run, series

from leanstack.model.findings import FindingStatus

DB = "aws_db_instance.main"


def db(**attrs: object) -> list:
    base = {
        "instance_class": "db.t3.micro",
        "engine": "postgres",
        "allocated_storage": 20,
        "storage_type": "gp2",
        "backup_retention_period": 7,
    }
    return [res(DB, {**base, **attrs})]


def by_word(findings: list, word: str):
    return next(f for f in findings if word in f.summary)


def test_gp2_to_gp3_priced_and_max_allocated_storage_saves_nothing() -> None:
    findings = run("rds_storage", context(db(max_allocated_storage=100)))
    f = by_word(findings, "gp3")
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == "gp3"
    gp2 = price("rds", "GB-month", engine="postgresql", volume="gp2", deployment="single-az")
    gp3 = price("rds", "GB-month", engine="postgresql", volume="gp3", deployment="single-az")
    assert rec.monthly_savings == 20 * (gp2 - gp3)
    assert "3,000" in f.summary
    assert "saves nothing by itself" in f.summary


def test_backups_within_the_free_allowance() -> None:
    m = metrics(series(DB, "FreeStorageSpace", np.full(MINUTES_14D, 15 * 2**30)))
    f = by_word(run("rds_storage", context(db(), m)), "backups")
    assert f.status is FindingStatus.NO_CHANGE
    assert f.evidence["used_storage_gb"] == 5.0


def test_long_retention_beyond_the_free_allowance_is_priced() -> None:
    m = metrics(series(DB, "FreeStorageSpace", np.full(MINUTES_14D, 2 * 2**30)))
    findings = run("rds_storage", context(db(backup_retention_period=35), m))
    f = by_word(findings, "days of automated backups")
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == 7
    backup = price("rds", "GB-month", usage_type="RDS:ChargedBackupUsage", engine="postgresql")
    used = 18.0
    before = (used * (1 + 0.05 * 34) - 20) * float(backup)
    after = max(0.0, used * (1 + 0.05 * 6) - 20) * float(backup)
    assert (
        float(rec.monthly_cost_before) == round(before, 6)
        or abs(float(rec.monthly_cost_before) - before) < 1e-4
    )
    assert abs(float(rec.monthly_cost_after) - after) < 1e-4


def test_paid_performance_insights_retention() -> None:
    findings = run(
        "rds_storage",
        context(db(performance_insights_enabled=True, performance_insights_retention_period=731)),
    )
    f = by_word(findings, "Performance Insights")
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == 7
    assert rec.monthly_cost_before == 2 * price("rds", "vCPU-month", instance_family="db.t3")


def test_monitoring_off_says_it_adds_cost() -> None:
    findings = run("rds_storage", context(db()))
    f = by_word(findings, "Monitoring adds cost")
    assert f.status is FindingStatus.NO_CHANGE
    logs = price("cloudwatch", "GB", log_class="standard")
    gb = 730 * 3600 / 60 * 10 / 1024 / 1024
    assert Decimal(f.evidence["enhanced_monitoring_60s_monthly"]) == (
        Decimal(str(round(gb, 6))) * logs
    ).quantize(Decimal("0.01"))


def test_one_second_enhanced_monitoring_is_cut_to_60() -> None:
    f = by_word(run("rds_storage", context(db(monitoring_interval=1))), "Enhanced Monitoring")
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == 60
    assert rec.monthly_cost_before > rec.monthly_cost_after * 59


def test_a_day_of_free_storage_is_set_aside() -> None:
    # A day showing 18 GB used does not replace the allocated 20 GB as the backup basis.
    m = metrics(series(DB, "FreeStorageSpace", np.full(24 * 60, 2 * 2**30)))
    findings = run("rds_storage", context(db(backup_retention_period=35), m))
    f = by_word(findings, "days of automated backups")
    assert f.evidence["used_storage_gb"] == 20
    assert "FreeStorageSpace: 24.0 h of data" in f.evidence["used_basis"]
