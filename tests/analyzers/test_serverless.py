"""Lambda break-even: recommended only when cheaper under the recorded load."""

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


def stack() -> list:
    return [
        *fargate_service(512, 1024, desired=2),
        res("aws_lb_target_group.app"),
        res(LB),
        res(
            "aws_lb_listener.https",
            refs={"load_balancer_arn": [LB], "default_action": ["aws_lb_target_group.app"]},
        ),
    ]


def with_lb(resources: list) -> list:
    svc = resources[2]
    resources[2] = type(svc)(
        address=svc.address,
        type=svc.type,
        name=svc.name,
        attrs=svc.attrs,
        refs={**svc.refs, "load_balancer": ("aws_lb_target_group.app",)},
    )
    return resources


def load(per_minute: float, seconds: float) -> dict:
    return metrics(
        series(LB, "RequestCount", np.full(MINUTES_14D, per_minute), statistic="Sum"),
        series(LB, "TargetResponseTime", np.full(MINUTES_14D, seconds)),
    )


def lambda_monthly(per_minute: float, seconds: float, mb: int = 512) -> Decimal:
    reqs = Decimal(str(per_minute * 60 * 730))
    per_req = price("lambda", "1M requests", arch="x86_64", group="AWS-Lambda-Requests") / 1_000_000
    gbs = price("lambda", "GB-second", arch="x86_64", tier="1")
    return reqs * (per_req + Decimal(str(seconds)) * Decimal(mb) / 1024 * gbs)


@pytest.mark.parametrize(("per_minute", "seconds", "cheaper"), [(60, 3.0, False), (0.5, 0.1, True)])
def test_break_even(per_minute: float, seconds: float, cheaper: bool) -> None:
    f = one(run("serverless", context(with_lb(stack()), load(per_minute, seconds))), address=SVC)
    lam = Decimal(f.evidence["lambda_monthly"])
    assert lam == lambda_monthly(per_minute, seconds).quantize(Decimal("0.01"))
    fargate = Decimal(f.evidence["fargate_monthly"])
    assert (lam < fargate) is cheaper
    if cheaper:
        assert f.status is FindingStatus.OPPORTUNITY and f.recommendation is not None
        assert f.recommendation.phase is Phase.MIGRATION
    else:
        assert f.status is FindingStatus.NO_CHANGE and f.recommendation is None
        assert "break-even" in f.summary
    per_req = lambda_monthly(1, seconds) / Decimal(60 * 730)
    # fargate_monthly in the evidence is rounded to cents, hence the tolerance
    assert f.evidence["break_even_requests_per_month"] == pytest.approx(
        float(fargate / per_req), rel=1e-4
    )


def test_no_request_series() -> None:
    f = one(run("serverless", context(stack())), address=SVC)
    assert f.status is FindingStatus.INSUFFICIENT_DATA
