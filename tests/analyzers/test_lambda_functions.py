"""Lambda memory from memory use and duration; excessive timeouts."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from analyzer_helpers import MINUTES_14D, context, metrics, price, res, run, series

from leanstack.model.findings import FindingStatus

FN = "aws_lambda_function.worker"


def load(duration_ms: float, used_mb: float | None = None, invocations: float = 5.0) -> dict:
    items = [
        series(FN, "Invocations", np.full(MINUTES_14D, invocations), statistic="Sum"),
        series(FN, "Duration", np.full(MINUTES_14D, duration_ms)),
    ]
    if used_mb is not None:
        items.append(
            series(FN, "used_memory_max", np.full(MINUTES_14D, used_mb), statistic="Maximum")
        )
    return metrics(*items)


def test_memory_cut_from_peak_use_with_a_savings_range() -> None:
    fn = res(FN, {"memory_size": 1024, "timeout": 10})
    findings = run("lambda_functions", context([fn], load(300, used_mb=200)))
    mem = next(
        f for f in findings if "memory_size" in (f.recommendation.title if f.recommendation else "")
    )
    rec = mem.recommendation
    assert rec is not None and rec.changes[0].after == 256  # 200 x 1.2 = 240 -> 256
    gbs = 5 * 60 * 730 * 0.3 * 1.0
    rate = price("lambda", "GB-second", arch="x86_64", tier="1")
    assert abs(float(rec.monthly_cost_before) - gbs * float(rate)) < 1e-3
    assert rec.monthly_cost_after == rec.monthly_cost_before * Decimal(256) / Decimal(1024)
    assert rec.evidence["monthly_savings_low"] == "0"


def test_memory_not_cut_without_memory_use() -> None:
    fn = res(FN, {"memory_size": 1024, "timeout": 10})
    findings = run("lambda_functions", context([fn], load(300)))
    assert any(
        f.status is FindingStatus.INSUFFICIENT_DATA and "Memory use" in f.summary for f in findings
    )


def test_excessive_timeout() -> None:
    fn = res(FN, {"memory_size": 512, "timeout": 900})
    findings = run("lambda_functions", context([fn], load(2000, used_mb=400)))
    t = next(f for f in findings if "Timeout" in f.summary)
    assert t.status is FindingStatus.OPPORTUNITY
    assert t.recommendation is not None and t.recommendation.changes[0].after == 6  # 3 x 2 s
    fine = run(
        "lambda_functions",
        context([res(FN, {"memory_size": 512, "timeout": 8})], load(2000, used_mb=400)),
    )
    assert next(f for f in fine if "Timeout" in f.summary).status is FindingStatus.NO_CHANGE


def test_few_invocations_are_insufficient_data() -> None:
    fn = res(FN, {"memory_size": 512})
    inv = np.zeros(MINUTES_14D)
    inv[:10] = 1
    m = metrics(
        series(FN, "Invocations", inv, statistic="Sum"),
        series(FN, "Duration", np.full(MINUTES_14D, 100.0)),
    )
    findings = run("lambda_functions", context([fn], m))
    assert [f.status for f in findings] == [FindingStatus.INSUFFICIENT_DATA]
