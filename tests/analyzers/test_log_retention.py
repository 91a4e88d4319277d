"""Log groups kept forever get a retention."""

from __future__ import annotations

from decimal import Decimal

import pytest
from analyzer_helpers import context, one, price, res, run

from leanstack.model.findings import FindingStatus
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus

LG = "aws_cloudwatch_log_group.api"


def priced(ingest: str, stored: str) -> PricedResource:
    return PricedResource(
        address=LG,
        type="aws_cloudwatch_log_group",
        region="us-east-1",
        status=PricingStatus.PRICED,
        components=(
            PriceComponent(
                name="Data ingested",
                unit="GB",
                monthly_quantity=Decimal(ingest),
                unit_price=Decimal("0.50"),
            ),
            PriceComponent(
                name="Archival storage",
                unit="GB-months",
                monthly_quantity=Decimal(stored),
                unit_price=Decimal("0.03"),
            ),
        ),
    )


def test_retention_priced_from_the_estimate_usage() -> None:
    f = one(run("log_retention", context([res(LG)], priced=[priced("6", "12")])), address=LG)
    rec = f.recommendation
    assert rec is not None and rec.changes[0].after == 30
    storage = price("cloudwatch", "GB-month", log_class="standard")
    steady = 6 * 30 / (730 / 24)
    assert rec.monthly_cost_before == 12 * storage
    assert abs(float(rec.monthly_cost_after) - steady * float(storage)) < 1e-6


def test_already_retained() -> None:
    assert (
        one(run("log_retention", context([res(LG, {"retention_in_days": 14})])), address=LG).status
        is FindingStatus.NO_CHANGE
    )


def test_unknown_volume_still_recommended_without_a_price() -> None:
    f = one(run("log_retention", context([res(LG)])), address=LG)
    assert f.status is FindingStatus.OPPORTUNITY and f.recommendation is not None
    assert f.recommendation.monthly_savings == 0 and "not priced" in f.summary


def test_invalid_retention_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be one of"):
        run("log_retention", context([res(LG)]), retention_days=31)
