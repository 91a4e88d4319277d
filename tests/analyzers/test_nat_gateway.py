"""NAT gateway data and the gateway endpoint that carries S3/DynamoDB traffic free."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from analyzer_helpers import MINUTES_14D, context, metrics, one, price, res, run, series

from leanstack.model.findings import FindingStatus

NAT = "aws_nat_gateway.main"
GIB = 2**30


def traffic(gb_per_minute: float) -> dict:
    return metrics(
        series(
            NAT, "BytesOutToDestination", np.full(MINUTES_14D, gb_per_minute * GIB), statistic="Sum"
        )
    )


def test_no_share_measured_is_no_change_with_the_cost() -> None:
    f = one(run("nat_gateway", context([res(NAT)], traffic(0.01))), address=NAT)
    assert f.status is FindingStatus.NO_CHANGE
    gb = 0.01 * 60 * 730
    assert f.evidence["monthly_gb"] == round(gb, 3)
    assert Decimal(f.evidence["data_processing_monthly"]) == (
        Decimal(str(round(gb, 6))) * price("nat-gateway", "GB")
    ).quantize(Decimal("0.01"))


def test_gateway_endpoint_share() -> None:
    f = one(
        run("nat_gateway", context([res(NAT)], traffic(0.01)), gateway_endpoint_share=0.4),
        address=NAT,
    )
    rec = f.recommendation
    assert f.status is FindingStatus.OPPORTUNITY and rec is not None
    assert rec.monthly_savings == rec.monthly_cost_before * Decimal("0.4")
    assert rec.changes[0].new_block and "Gateway" in rec.changes[0].new_block


def test_no_series() -> None:
    assert (
        one(run("nat_gateway", context([res(NAT)])), address=NAT).status
        is FindingStatus.INSUFFICIENT_DATA
    )
