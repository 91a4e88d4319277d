"""Idle load balancers."""

from __future__ import annotations

import numpy as np
from analyzer_helpers import MINUTES_14D, context, metrics, one, price, res, run, series

from leanstack.model.findings import FindingStatus

LB = "aws_lb.api"


def requests(n: float) -> dict:
    return metrics(series(LB, "RequestCount", np.full(MINUTES_14D, n), statistic="Sum"))


def test_idle_alb_is_priced_by_the_hour() -> None:
    f = one(
        run(
            "load_balancer", context([res(LB, {"load_balancer_type": "application"})], requests(0))
        ),
        address=LB,
    )
    assert f.status is FindingStatus.OPPORTUNITY
    assert f.recommendation is not None
    assert f.recommendation.monthly_savings == price("alb", "hour", lb_type="application") * 730


def test_busy_alb() -> None:
    f = one(run("load_balancer", context([res(LB)], requests(5))), address=LB)
    assert f.status is FindingStatus.NO_CHANGE and f.evidence["requests_per_month"] == 5 * 60 * 730


def test_network_lb_and_missing_data() -> None:
    nlb = res(LB, {"load_balancer_type": "network"})
    assert (
        one(run("load_balancer", context([nlb])), address=LB).status is FindingStatus.NOT_APPLICABLE
    )
    assert (
        one(run("load_balancer", context([res(LB)])), address=LB).status
        is FindingStatus.INSUFFICIENT_DATA
    )
