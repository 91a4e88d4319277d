"""SQS: idle queues and long polling."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from analyzer_helpers import MINUTES_14D, context, metrics, one, price, res, run, series

from leanstack.model.findings import FindingStatus
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus

Q = "aws_sqs_queue.jobs"


def traffic(sent: float, received: float, empty: float) -> dict:
    return metrics(
        series(Q, "NumberOfMessagesSent", np.full(MINUTES_14D, sent), statistic="Sum"),
        series(Q, "NumberOfMessagesReceived", np.full(MINUTES_14D, received), statistic="Sum"),
        series(Q, "NumberOfEmptyReceives", np.full(MINUTES_14D, empty), statistic="Sum"),
    )


def test_empty_receives_get_long_polling() -> None:
    f = one(run("sqs", context([res(Q)], traffic(10, 10, 500)), pollers=2), address=Q)
    rec = f.recommendation
    assert f.status is FindingStatus.OPPORTUNITY and rec is not None
    assert rec.changes[0].path == f"{Q}.receive_wait_time_seconds" and rec.changes[0].after == 20
    per_m = price("sqs", "1M requests", queue_type="standard", tier="1")
    empty_month = 500 * 60 * 730
    after = 2 * 3 * 60 * 730
    assert rec.monthly_cost_before == Decimal(str(empty_month / 1e6)) * per_m
    assert rec.monthly_cost_after == Decimal(str(after / 1e6)) * per_m


@pytest.mark.parametrize(
    ("wait", "empty", "status"),
    [(20, 500, FindingStatus.NO_CHANGE), (0, 2, FindingStatus.NO_CHANGE)],
)
def test_no_long_polling_change(wait: int, empty: float, status: FindingStatus) -> None:
    f = one(
        run("sqs", context([res(Q, {"receive_wait_time_seconds": wait})], traffic(10, 10, empty))),
        address=Q,
    )
    assert f.status is status and f.recommendation is None


def test_idle_queue() -> None:
    priced = PricedResource(
        address=Q,
        type="aws_sqs_queue",
        region="us-east-1",
        status=PricingStatus.PRICED,
        components=(
            PriceComponent(
                name="requests",
                unit="1M requests",
                monthly_quantity=Decimal("2"),
                unit_price=Decimal("0.40"),
            ),
        ),
    )
    f = one(run("sqs", context([res(Q)], traffic(0, 0, 50), priced=[priced])), address=Q)
    assert f.status is FindingStatus.OPPORTUNITY and "Idle" in f.summary
    assert f.recommendation is not None and f.recommendation.monthly_savings == Decimal("0.80")


def test_no_series() -> None:
    assert one(run("sqs", context([res(Q)])), address=Q).status is FindingStatus.INSUFFICIENT_DATA


def test_a_day_of_empty_receives_is_not_enough_data() -> None:
    day = 24 * 60
    m = traffic(10, 10, 500)
    m[Q]["NumberOfEmptyReceives"] = series(
        Q, "NumberOfEmptyReceives", np.full(day, 500.0), statistic="Sum"
    )
    f = one(run("sqs", context([res(Q)], m), pollers=2), address=Q)
    assert f.status is FindingStatus.INSUFFICIENT_DATA and f.recommendation is None
    assert "NumberOfEmptyReceives: 24.0 h of data" in f.summary
