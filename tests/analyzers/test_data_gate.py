"""Meta-test: every analyzer that reads a metric series gates it (DataGateSettings).

Data that fails the gate (here one day, against the 30 hours required) must not move any
figure: each analyzer runs twice over the same stack, once with no recorded load and once
with a day of every metric it declares in `needs`. With the short day, a finding is either
"not enough data" / not applicable, or the very recommendation the run without load makes
(same changes, same costs): a figure that differs was drawn from data the gate refuses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analyzer_helpers import res

from leanstack.analyzers import registry
from leanstack.analyzers._base import AnalysisContext, DataGateSettings
from leanstack.catalog import embedded_catalog
from leanstack.model.findings import Finding
from leanstack.usage.series import MetricSeries

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "raptorflow"
NOW = datetime(2026, 11, 15, tzinfo=UTC)
DAY_POINTS = 1440  # one day of 1-minute points: more than 100 points, less than 30 hours

# What the example stack lacks and some analyzers read: a function and a NAT gateway.
EXTRA = [
    res(
        "aws_lambda_function.worker",
        {"memory_size": 1024, "architectures": ["x86_64"], "timeout": 30, "runtime": "python3.12"},
    ),
    res("aws_nat_gateway.main", {"connectivity_type": "public"}),
]


@pytest.fixture(scope="module")
def stack() -> tuple[list[Any], list[Any]]:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/raptorflow is not in the tree")
    from leanstack.estimate import estimate
    from leanstack.terraform import load_stack
    from leanstack.usage.usage_file import find_usage_file, load_usage_file

    loaded = load_stack(EXAMPLE)
    usage_path = find_usage_file(EXAMPLE)
    usage = load_usage_file(usage_path) if usage_path else None
    priced = estimate(loaded, embedded_catalog(), usage)
    return [*loaded.resources, *EXTRA], list(getattr(priced, "resources", priced))


def _thin(address: str, metric: str) -> MetricSeries:
    # Low, steady values: an analyzer that used them would downsize or re-price something.
    rng = np.random.default_rng(7)
    values = np.clip(3.0 + rng.normal(0, 0.3, DAY_POINTS), 0.5, None)
    return MetricSeries(
        resource=address,
        metric=metric,
        statistic="Average",
        period_s=60,
        start=NOW - timedelta(days=1),
        values=values,
    )


def _context(resources: list[Any], priced: list[Any], thin: bool) -> AnalysisContext:
    metrics: dict[str, dict[str, MetricSeries]] = {}
    if thin:
        wanted = {m for cls in registry().values() for m in cls.needs}
        for r in resources:
            if r.mode == "managed":
                metrics[r.address] = {m: _thin(r.address, m) for m in sorted(wanted)}
    return AnalysisContext(
        catalog=embedded_catalog(),
        resources={r.address: r for r in resources},
        priced={p.address: p for p in priced},
        metrics=metrics,
        now=NOW,
    )


def _figures(f: Finding) -> tuple[Any, ...] | None:
    rec = f.recommendation
    if rec is None:
        return None
    changes = tuple((c.path, repr(c.before), repr(c.after), c.new_block) for c in rec.changes)
    return (rec.id, changes, rec.monthly_cost_before, rec.monthly_cost_after)


READERS = sorted(n for n, cls in registry().items() if cls.needs)


def test_every_analyzer_that_reads_metrics_has_gate_settings() -> None:
    for name in READERS:
        model = registry()[name].settings_model
        assert issubclass(model, DataGateSettings), f"{name} reads metrics but has no data gate"


@pytest.mark.parametrize("name", READERS)
def test_data_below_the_gate_moves_no_figure(name: str, stack: tuple[list[Any], list[Any]]) -> None:
    resources, priced = stack
    analyzer = registry()[name]()
    settings = analyzer.settings({})
    without = list(analyzer.analyze(_context(resources, priced, False), settings))
    thin = list(analyzer.analyze(_context(resources, priced, True), settings))
    assert thin, name
    baseline = {f.recommendation.id: _figures(f) for f in without if f.recommendation}
    for f in thin:
        figures = _figures(f)
        if figures is None or f.recommendation is None:
            continue
        assert figures == baseline.get(f.recommendation.id), (
            f"{name} on {f.address}: a day of data (below the gate) changed the recommendation"
            f"\n  with it:    {figures}\n  without it: {baseline.get(f.recommendation.id)}"
        )
