"""Importing the NAB CloudWatch exports: counts, ranges and percentiles checked independently."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from metrics_helpers import NAB

from leanstack.usage.importer import import_file
from leanstack.usage.store import MetricStore

FILES = sorted(NAB.glob("*.csv"))


def _reference(path: Path) -> tuple[list[int], np.ndarray, int]:
    """Distinct timestamps (epoch s) and their values, duplicates resolved to the max."""
    points: dict[int, float] = {}
    rows = 0
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows += 1
            ts = int(
                datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S")
                .replace(tzinfo=UTC)
                .timestamp()
            )
            v = float(row["value"])
            points[ts] = max(points.get(ts, v), v)
    keys = sorted(points)
    return keys, np.array([points[k] for k in keys]), rows


def test_fixture_files_present() -> None:
    assert len(FILES) == 8
    assert (NAB.parent / "SOURCE.txt").is_file()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_nab_file_imports_exactly(store: MetricStore, path: Path) -> None:
    address = f"aws_instance.{path.stem}"
    summary = import_file(
        store, path, resource=address, metric="CPUUtilization" if "cpu" in path.name else "Value"
    )
    assert summary.ok, summary.line()
    stamps, values, rows = _reference(path)
    assert summary.rows == rows
    assert summary.added == len(stamps)
    assert summary.duplicates == rows - len(stamps)
    [info] = store.list_series(address)
    assert info.points == len(stamps)
    assert info.key.period_s == int(np.median(np.diff(stamps)))
    assert info.start == datetime.fromtimestamp(stamps[0], UTC)
    assert info.end == datetime.fromtimestamp(stamps[-1], UTC)
    [stats] = store.stats(address)
    for q, got in ((50, stats.p50), (95, stats.p95), (99, stats.p99)):
        assert got == pytest.approx(np.percentile(values, q), rel=1e-9, abs=1e-9)
    assert stats.max == pytest.approx(values.max())
    assert stats.mean == pytest.approx(values.mean(), rel=1e-9)
    series = store.series(address, info.key.metric)
    assert series is not None
    assert series.points == len(stamps)
    assert np.allclose(np.sort(series.present()), np.sort(values))
    expected_grid = (stamps[-1] - stamps[0]) // info.key.period_s + 1
    assert len(series.values) == expected_grid
    assert summary.missing_points == expected_grid - len(stamps)


def test_reimport_adds_nothing(store: MetricStore) -> None:
    path = NAB / "rds_cpu_utilization_cc0c53.csv"
    first = import_file(
        store, path, resource="module.db.aws_db_instance.main", metric="CPUUtilization"
    )
    second = import_file(
        store, path, resource="module.db.aws_db_instance.main", metric="CPUUtilization"
    )
    assert first.added == first.rows
    assert (second.added, second.updated, second.unchanged) == (0, 0, first.added)
    assert store.list_series()[0].points == first.added
