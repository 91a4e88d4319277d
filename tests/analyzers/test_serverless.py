"""Lambda break-even (via the simulator): recommended only when cheaper at the recorded load."""

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

SVC = "aws_ecs_service.app"
LB = "aws_lb.api"
DAYS3 = 3 * 1440


def stack() -> list:
    resources = fargate_service(512, 1024, desired=2)
    svc = resources[2]
    resources[2] = type(svc)(
        address=svc.address,
        type=svc.type,
        name=svc.name,
        attrs=svc.attrs,
        refs={**svc.refs, "load_balancer": ("aws_lb_target_group.app",)},
    )
    return [
        *resources,
        res("aws_lb_target_group.app"),
        res(LB, {"load_balancer_type": "application"}),
        res(
            "aws_lb_listener.https",
            refs={"load_balancer_arn": [LB], "default_action": ["aws_lb_target_group.app"]},
        ),
    ]


def load(per_minute: float, seconds: float, minutes: int = DAYS3) -> dict:
    return metrics(
        series(SVC, "CPUUtilization", np.full(minutes, 20.0)),
        series(SVC, "RunningTaskCount", np.full(minutes, 2.0)),
        series(LB, "RequestCount", np.full(minutes, per_minute), statistic="Sum"),
        series(LB, "TargetResponseTime", np.full(minutes, seconds)),
    )


def lambda_monthly(per_minute: float, seconds: float, mb: int = 512) -> Decimal:
    """Requests + GB-seconds of wall time, before free tiers, straight from catalog prices."""
    reqs = Decimal(str(per_minute * 60 * 730))
    per_req = price("lambda", "1M requests", arch="x86_64", group="AWS-Lambda-Requests") / 1_000_000
    gbs = price("lambda", "GB-second", arch="x86_64", tier="1")
    return reqs * (per_req + Decimal(str(seconds)) * Decimal(mb) / 1024 * gbs)


@pytest.mark.parametrize(("per_minute", "seconds"), [(60, 3.0), (0.5, 0.1)])
def test_lambda_side_is_requests_plus_wall_time(per_minute: float, seconds: float) -> None:
    f = one(
        run("serverless", context(stack(), load(per_minute, seconds)), front_door="none"),
        address=SVC,
    )
    assert Decimal(f.evidence["lambda_monthly"]) == lambda_monthly(per_minute, seconds).quantize(
        Decimal("0.01")
    )
    assert f.evidence["requests_source"] == LB


@pytest.mark.parametrize(("per_minute", "seconds", "cheaper"), [(60, 3.0, False), (0.5, 0.1, True)])
def test_recommended_only_when_cheaper(per_minute: float, seconds: float, cheaper: bool) -> None:
    f = one(run("serverless", context(stack(), load(per_minute, seconds))), address=SVC)
    lam = Decimal(f.evidence["lambda_monthly"])
    fargate = Decimal(f.evidence["fargate_monthly"])
    assert (lam < fargate) is cheaper
    breakeven = f.evidence["break_even_requests_per_month"]
    if cheaper:
        assert f.status is FindingStatus.OPPORTUNITY and f.recommendation is not None
        assert f.recommendation.phase is Phase.MIGRATION
        assert breakeven is None or f.evidence["monthly_requests"] < breakeven
    else:
        assert f.status is FindingStatus.NO_CHANGE and f.recommendation is None
        assert "Stay on Fargate" in f.summary
        assert breakeven is None or f.evidence["monthly_requests"] > breakeven


def test_lambda_limits_block_the_move() -> None:
    f = one(run("serverless", context(stack(), load(0.2, 1200.0))), address=SVC)
    assert f.status is FindingStatus.NO_CHANGE and "900 s" in f.summary


def test_no_request_series() -> None:
    minutes = MINUTES_14D
    only_cpu = metrics(series(SVC, "CPUUtilization", np.full(minutes, 20.0)))
    f = one(run("serverless", context(stack(), only_cpu)), address=SVC)
    assert f.status is FindingStatus.INSUFFICIENT_DATA
