"""On the NAB CloudWatch CPU series, the chosen task size saturates at most 0.1% of minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from analyzer_helpers import context, fargate_service, metrics, one, run

from leanstack.model.findings import FindingStatus
from leanstack.usage.series import MetricSeries

# The NAB series are kept once, with their SOURCE.txt and licence, in the metrics fixtures.
NAB_ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "nab"
NAB = NAB_ROOT / "realAWSCloudwatch"
SVC = "aws_ecs_service.app"
FILES = sorted(p.name for p in NAB.glob("*_cpu_utilization_*.csv"))


def read_grid(path: Path) -> tuple[datetime, int, np.ndarray]:
    """The CSV on its regular grid (NaN where a timestamp is missing)."""
    rows = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=None, encoding="utf-8")
    stamps = np.array(
        [datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() for r in rows]
    )
    values = np.array([float(r[1]) for r in rows])
    period = int(np.median(np.diff(stamps)))
    index = np.rint((stamps - stamps[0]) / period).astype(int)
    grid = np.full(index.max() + 1, np.nan)
    grid[index] = values
    return datetime.fromtimestamp(stamps[0], tz=UTC), period, grid


def test_fixtures_present() -> None:
    assert len(FILES) == 5 and (NAB_ROOT / "SOURCE.txt").is_file()


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("task", [(1024, 2048), (4096, 8192)])
def test_chosen_size_saturates_at_most_a_thousandth_of_minutes(
    name: str, task: tuple[int, int]
) -> None:
    start, period, cpu_pct = read_grid(NAB / name)
    cpu, mem = task

    def ms(metric: str, values: np.ndarray) -> MetricSeries:
        return MetricSeries(
            resource=SVC,
            metric=metric,
            statistic="Average",
            period_s=period,
            start=start,
            values=values,
        )

    mem_pct = np.where(np.isnan(cpu_pct), np.nan, 25.0)
    ctx = context(
        fargate_service(cpu, mem),
        metrics(ms("CPUUtilization", cpu_pct), ms("MemoryUtilization", mem_pct)),
    )
    finding = one(run("fargate_rightsizing", ctx), address=SVC)
    assert finding.status in (FindingStatus.OPPORTUNITY, FindingStatus.NO_CHANGE)
    new_vcpu = finding.evidence["recommended"]["cpu"] / 1024
    present = cpu_pct[~np.isnan(cpu_pct)]
    usage = present / 100 * cpu / 1024
    # Each point stands for `period` seconds, so the share of points is the share of minutes.
    saturated = float(np.mean(usage > new_vcpu))
    assert saturated <= 0.001, f"{name}: {saturated:.4%} of minutes above the new {new_vcpu} vCPU"
    assert finding.evidence["saturated_fraction_at_new_size"] == pytest.approx(saturated, abs=1e-6)
