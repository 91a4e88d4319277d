"""Synthetic load (calibration, reproducibility, Little's law) and usage derived from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from metrics_helpers import raptorflow_resources, res

from leanstack.usage.derive import derive_usage
from leanstack.usage.series import MetricSeries
from leanstack.usage.store import MetricStore
from leanstack.usage.synth import synthesize

START = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def series() -> dict[tuple[str, str, str], MetricSeries]:
    out = synthesize(raptorflow_resources(), 14, 7, START)
    return {(s.resource, s.metric, s.statistic): s for s in out}


def test_reproducible_from_seed() -> None:
    a = synthesize(raptorflow_resources(), 2, 3, START)
    b = synthesize(raptorflow_resources(), 2, 3, START)
    c = synthesize(raptorflow_resources(), 2, 4, START)
    assert [(s.resource, s.metric, s.statistic) for s in a] == [
        (s.resource, s.metric, s.statistic) for s in b
    ]
    assert all(
        np.array_equal(x.values, y.values, equal_nan=True) for x, y in zip(a, b, strict=True)
    )
    assert not all(
        np.array_equal(x.values, y.values, equal_nan=True) for x, y in zip(a, c, strict=True)
    )


def test_grid_and_supported_types(series: dict[tuple[str, str, str], MetricSeries]) -> None:
    for s in series.values():
        assert s.period_s == 60 and s.start == START and len(s.values) == 14 * 1440
    resources = {k[0] for k in series}
    assert resources == {
        "aws_ecs_service.api",
        "aws_lb.api",
        "module.rds.aws_db_instance.main",
        "aws_elasticache_cluster.redis",
        "aws_sqs_queue.jobs",
    }


def test_calibrated_for_raptorflow(series: dict[tuple[str, str, str], MetricSeries]) -> None:
    cpu = series[("aws_ecs_service.api", "CPUUtilization", "Average")]
    mem = series[("aws_ecs_service.api", "MemoryUtilization", "Average")]
    tasks = series[("aws_ecs_service.api", "RunningTaskCount", "Average")]
    # Recorded under the stack's CPU target tracking (70%, 2..6 tasks): the count rises in
    # busy hours, and per-task CPU mostly stays below the target.
    assert tasks.values.min() == 2 and 3 <= tasks.max() <= 6 and 2 < tasks.mean() < 3
    assert 30 <= cpu.mean() <= 50 and cpu.percentile(95) <= 75 and cpu.max() <= 100
    assert 35 <= mem.mean() <= 45 and mem.max() < 60
    db = series[("module.rds.aws_db_instance.main", "CPUUtilization", "Average")]
    assert 6 <= db.mean() <= 8 and db.max() > 15  # below the 10% baseline, with bursts
    redis = series[("aws_elasticache_cluster.redis", "BytesUsedForCache", "Average")]
    assert 100 * 2**20 <= redis.mean() <= 200 * 2**20
    p50 = series[("aws_lb.api", "TargetResponseTime", "p50")]
    assert 1.5 <= p50.percentile(50) <= 3.0


def test_fixed_count_without_autoscaling() -> None:
    resources = [r for r in raptorflow_resources() if "appautoscaling" not in r.type]
    out = synthesize(resources, 2, 7, START)
    tasks = next(s for s in out if s.metric == "RunningTaskCount")
    assert set(np.unique(tasks.values)) == {2.0}


def test_cpu_follows_concurrency(series: dict[tuple[str, str, str], MetricSeries]) -> None:
    # Little's law: concurrency = rate x latency; the tasks' CPU must track it.
    rate = series[("aws_lb.api", "RequestCount", "Sum")].values / 60
    latency = series[("aws_lb.api", "TargetResponseTime", "Average")].values
    cpu = series[("aws_ecs_service.api", "CPUUtilization", "Average")].values
    ok = ~np.isnan(latency)
    hourly = lambda a: a[: len(a) // 60 * 60].reshape(-1, 60).mean(axis=1)  # noqa: E731
    concurrency = hourly(np.where(ok, rate * latency, 0))
    assert np.corrcoef(concurrency, hourly(cpu))[0, 1] > 0.9
    # Weekly seasonality: weekends are quieter than weekdays.
    days = cpu.reshape(14, 1440).mean(axis=1)
    weekday = np.array([(START + timedelta(days=i)).weekday() for i in range(14)])
    assert days[weekday >= 5].mean() < 0.85 * days[weekday < 5].mean()


def test_derive_usage_from_synthetic_store(store: MetricStore) -> None:
    resources = [
        *raptorflow_resources(),
        res("aws_lambda_function.fn", "aws_lambda_function", {"function_name": "fn"}),
        res("aws_nat_gateway.nat", "aws_nat_gateway", {}),
    ]
    series = synthesize(resources, 3, 5, START)
    store.upsert_series(series)
    usage = derive_usage(store, resources)
    by = {(s.resource, s.metric, s.statistic): s for s in series}
    hours = 3 * 24

    def monthly(key: tuple[str, str, str]) -> float:
        return float(np.nansum(by[key].values)) / hours * 730

    sqs = usage.values["aws_sqs_queue.jobs"]["monthly_requests"]
    expected = (
        monthly(("aws_sqs_queue.jobs", "NumberOfMessagesSent", "Sum"))
        + 2 * monthly(("aws_sqs_queue.jobs", "NumberOfMessagesReceived", "Sum"))
        + monthly(("aws_sqs_queue.jobs", "NumberOfEmptyReceives", "Sum"))
    )
    assert sqs.value == pytest.approx(expected)
    assert sqs.start == START and sqs.days == pytest.approx(3.0)
    alb = usage.usage_for("aws_lb.api")
    assert alb["monthly_requests"] == pytest.approx(monthly(("aws_lb.api", "RequestCount", "Sum")))
    assert alb["request_duration_ms"] == pytest.approx(
        np.nanmean(by[("aws_lb.api", "TargetResponseTime", "Average")].values) * 1000
    )
    fn = usage.usage_for("aws_lambda_function.fn")
    inv = by[("aws_lambda_function.fn", "Invocations", "Sum")].values
    dur = by[("aws_lambda_function.fn", "Duration", "Average")].values
    ok = ~np.isnan(dur) & (inv > 0)
    assert fn["monthly_requests"] == pytest.approx(
        monthly(("aws_lambda_function.fn", "Invocations", "Sum"))
    )
    assert fn["request_duration_ms"] == pytest.approx(np.sum(dur[ok] * inv[ok]) / np.sum(inv[ok]))
    nat = usage.usage_for("aws_nat_gateway.nat")
    assert nat["monthly_data_processed_gb"] == pytest.approx(
        monthly(("aws_nat_gateway.nat", "BytesOutToDestination", "Sum")) / 2**30
    )
    # What autoscaling actually ran is what Fargate bills.
    ecs = usage.usage_for("aws_ecs_service.api")
    assert ecs == {
        "average_task_count": pytest.approx(
            np.nanmean(by[("aws_ecs_service.api", "RunningTaskCount", "Average")].values)
        )
    }
    assert set(usage.as_usage_file()) == {
        "aws_ecs_service.api",
        "aws_sqs_queue.jobs",
        "aws_lb.api",
        "aws_lambda_function.fn",
        "aws_nat_gateway.nat",
        "module.rds.aws_db_instance.main",
    }


def test_short_window_is_not_enough_data(store: MetricStore) -> None:
    queue = [res("aws_sqs_queue.q", "aws_sqs_queue", {"name": "q"})]
    short = [
        MetricSeries(
            resource="aws_sqs_queue.q",
            metric="NumberOfMessagesSent",
            statistic="Sum",
            period_s=60,
            start=START,
            values=np.ones(120),
        )
    ]
    store.upsert_series(short)
    usage = derive_usage(store, queue)
    assert usage.values == {}
    assert usage.issues and "only 2.0 h" in usage.issues[0].message
