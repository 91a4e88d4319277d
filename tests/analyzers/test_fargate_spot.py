"""Fargate Spot: base on FARGATE, the rest on Spot by weight, priced at the catalog Spot rate."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from analyzer_helpers import MINUTES_14D, context, fargate_service, metrics, one, run, series

from leanstack.analyzers.fargate_spot import split_tasks
from leanstack.catalog import embedded_catalog
from leanstack.model.findings import FindingStatus
from leanstack.model.pricing import PriceQuery

SVC = "aws_ecs_service.app"


@pytest.mark.parametrize(
    ("tasks", "base", "od_w", "spot_w", "want"),
    [
        (10, 2, 1, 3, (4, 6)),  # the worked example of reference §4.4
        (1, 1, 1, 3, (1, 0)),
        (2, 1, 1, 3, (1, 1)),
        (5, 1, 0, 1, (1, 4)),
        (0, 1, 1, 3, (0, 0)),
    ],
)
def test_split(tasks: int, base: int, od_w: int, spot_w: int, want: tuple[int, int]) -> None:
    assert split_tasks(tasks, base, od_w, spot_w) == want


def spot_rates() -> tuple[Decimal, Decimal, Decimal, Decimal]:
    cat = embedded_catalog()

    def pick(capacity: str, unit: str) -> Decimal:
        rows = [
            p
            for p in cat.matches(
                PriceQuery.of("fargate", "us-east-1", os="linux", arch="x86_64", capacity=capacity)
            )
            if p.unit == unit
        ]
        if capacity == "spot":  # the newest observation
            rows = sorted(rows, key=lambda p: p.attributes.get("observed_on", ""), reverse=True)
        return rows[0].price

    return (
        pick("on-demand", "vCPU-hour"),
        pick("on-demand", "GB-hour"),
        pick("spot", "vCPU-hour"),
        pick("spot", "GB-hour"),
    )


def test_stateless_service_gets_a_priced_spot_share() -> None:
    tasks = np.full(MINUTES_14D, 4.0)
    tasks[: MINUTES_14D // 2] = 2.0
    ctx = context(
        fargate_service(1024, 2048, desired=2), metrics(series(SVC, "RunningTaskCount", tasks))
    )
    finding = one(run("fargate_spot", ctx), address=SVC)
    assert finding.status is FindingStatus.OPPORTUNITY
    rec = finding.recommendation
    assert rec is not None
    od_v, od_m, sp_v, sp_m = spot_rates()
    od = 1 * od_v + 2 * od_m
    sp = 1 * sp_v + 2 * sp_m
    # half the window at 2 tasks (1 + 1), half at 4 (2 + 2): averages 1.5 / 1.5
    assert rec.monthly_cost_before == Decimal("3.0") * od * 730
    assert rec.monthly_cost_after == (Decimal("1.5") * od + Decimal("1.5") * sp) * 730
    risks = " ".join(rec.risks)
    assert "Spot prices move" in risks and "observed" in risks
    paths = {c.path: c for c in rec.changes}
    strategy = paths[f"{SVC}.capacity_provider_strategy"].after
    assert {"capacity_provider": "FARGATE", "base": 1, "weight": 1} in strategy
    assert {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3} in strategy
    assert paths[f"{SVC}.launch_type"].after is None
    new = [c for c in rec.changes if c.new_block]
    assert new and "FARGATE_SPOT" in (new[0].new_block or "")


@pytest.mark.parametrize(
    ("kwargs", "settings", "reason"),
    [
        ({"desired": 1}, {}, "as few as 1"),
        ({"containers": json.dumps([{"name": "a", "stopTimeout": 300}])}, {}, "stopTimeout"),
        ({}, {"stateful_services": [SVC]}, "stateful"),
    ],
)
def test_not_proposed_where_an_interruption_is_unsafe(
    kwargs: dict, settings: dict, reason: str
) -> None:
    args = {"desired": 3, **kwargs}
    finding = one(
        run("fargate_spot", context(fargate_service(512, 1024, **args)), **settings), address=SVC
    )
    assert finding.status is FindingStatus.NOT_APPLICABLE
    assert reason in finding.summary
    assert finding.recommendation is None


def test_volume_means_state() -> None:
    res = fargate_service(512, 1024, desired=3)
    td = res[1]
    res[1] = type(td)(
        address=td.address,
        type=td.type,
        name=td.name,
        attrs={
            **td.attrs,
            "volume": [{"name": "data", "efs_volume_configuration": [{"file_system_id": "fs-1"}]}],
        },
    )
    finding = one(run("fargate_spot", context(res)), address=SVC)
    assert finding.status is FindingStatus.NOT_APPLICABLE and "volume" in finding.summary


def test_minimum_running_count_decides() -> None:
    tasks = np.full(MINUTES_14D, 3.0)
    tasks[100:200] = 1.0  # it ran a single task for a while
    ctx = context(fargate_service(desired=3), metrics(series(SVC, "RunningTaskCount", tasks)))
    finding = one(run("fargate_spot", ctx), address=SVC)
    assert finding.status is FindingStatus.NOT_APPLICABLE


def test_long_queue_jobs_are_a_risk() -> None:
    res_ = fargate_service(512, 1024, desired=3)
    td = res_[1]
    res_[1] = type(td)(
        address=td.address,
        type=td.type,
        name=td.name,
        attrs=td.attrs,
        refs={"container_definitions": ("aws_sqs_queue.jobs",)},
    )
    queue = type(td)(
        address="aws_sqs_queue.jobs",
        type="aws_sqs_queue",
        name="jobs",
        attrs={"visibility_timeout_seconds": 300},
    )
    finding = one(run("fargate_spot", context([*res_, queue])), address=SVC)
    rec = finding.recommendation
    assert rec is not None
    assert any("300 s" in r and "aws_sqs_queue.jobs" in r for r in rec.risks)
    assert rec.confidence.value == "low"


def _busy_service_ctx() -> object:
    # 4 tasks at 80% CPU: one lost task pushes the rest to 100% until it is replaced.
    return context(
        fargate_service(512, 1024, desired=4),
        metrics(
            series(SVC, "CPUUtilization", np.full(MINUTES_14D, 80.0)),
            series(SVC, "RunningTaskCount", np.full(MINUTES_14D, 4.0)),
        ),
    )


def test_stress_replay_counts_interruptions_and_what_they_cost_the_slo() -> None:
    finding = one(run("fargate_spot", _busy_service_ctx()), address=SVC)
    rec = finding.recommendation
    assert rec is not None
    stress = rec.evidence["stress_replay"]
    # 4 tasks split base 1 + weights 1:3 -> 2 on-demand, 2 Spot: 2 x 14 task-days at one
    # interruption a task-day is 28 expected.
    assert 25 <= stress["interruptions"] <= 60
    assert stress["breach_minutes_on_demand"] == 0
    # Each interruption leaves 3 tasks for 4 tasks' work (107% > 90%) until the replacement
    # starts 5 minutes later plus the start latency.
    assert stress["breach_minutes_spot"] >= 5 * stress["interruptions"]
    assert stress["breach_share_added"] > 0.001
    assert any("Stress replay" in r and "more than the 0.1%" in r for r in rec.risks)
    # The replayed Spot cost agrees with the analytic split (Spot tasks are billed while
    # replacements start, so within a few percent).
    assert float(stress["monthly_cost_spot"]) == pytest.approx(
        float(rec.monthly_cost_after), rel=0.05
    )


def test_no_stress_replay_when_disabled_or_without_cpu() -> None:
    off = one(
        run("fargate_spot", _busy_service_ctx(), stress_interruptions_per_task_day=0), address=SVC
    )
    assert off.recommendation is not None and "stress_replay" not in off.recommendation.evidence
    tasks = np.full(MINUTES_14D, 4.0)
    ctx = context(
        fargate_service(512, 1024, desired=4), metrics(series(SVC, "RunningTaskCount", tasks))
    )
    plain = one(run("fargate_spot", ctx), address=SVC)
    assert plain.recommendation is not None and "stress_replay" not in plain.recommendation.evidence


DAY = 24 * 60  # one day of 1-minute points: past 100 points, short of the 30 hours required


def test_a_day_of_task_counts_is_not_enough_to_propose_spot() -> None:
    ctx = context(
        fargate_service(512, 1024, desired=4),
        metrics(series(SVC, "RunningTaskCount", np.full(DAY, 4.0))),
    )
    finding = one(run("fargate_spot", ctx), address=SVC)
    assert finding.status is FindingStatus.INSUFFICIENT_DATA and finding.recommendation is None
    assert "24.0 h of data, less than the 30 h required" in finding.summary
    # The same day passes once the gate asks for less: the gate, not the data, decided.
    relaxed = one(run("fargate_spot", ctx, min_hours=20), address=SVC)
    assert relaxed.recommendation is not None


def test_a_short_series_that_shows_a_single_task_is_conclusive() -> None:
    tasks = np.full(DAY, 4.0)
    tasks[10:20] = 1.0
    ctx = context(
        fargate_service(512, 1024, desired=4), metrics(series(SVC, "RunningTaskCount", tasks))
    )
    finding = one(run("fargate_spot", ctx), address=SVC)
    assert finding.status is FindingStatus.NOT_APPLICABLE
    assert "as few as 1 task" in finding.summary


def test_a_short_cpu_series_runs_no_stress_replay() -> None:
    ctx = context(
        fargate_service(512, 1024, desired=4),
        metrics(
            series(SVC, "RunningTaskCount", np.full(MINUTES_14D, 4.0)),
            series(SVC, "CPUUtilization", np.full(DAY, 80.0)),
        ),
    )
    rec = one(run("fargate_spot", ctx), address=SVC).recommendation
    assert rec is not None and "stress_replay" not in rec.evidence
    assert "24.0 h of data" in str(rec.evidence["stress_replay_skipped"])
