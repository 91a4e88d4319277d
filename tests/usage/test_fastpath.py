"""The Parquet fast path gives the same store and summary as the general SQL pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leanstack.usage.fastpath import fast_import
from leanstack.usage.importer import import_file, ingest_relation, relation_from_file
from leanstack.usage.store import MetricStore

START = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())


def _table(rng: np.random.Generator) -> pa.Table:
    parts = []
    for resource, metric, stat, n in (
        ("aws_db_instance.db", "CPUUtilization", "Average", 500),
        ("aws_ecs_service.api", "CPUUtilization", None, 400),
        ("aws_lb.api", "RequestCount", "Sum", 300),
    ):
        ts = START + np.arange(n, dtype=np.int64) * 60
        keep = rng.random(n) > 0.05  # gaps
        ts = ts[keep]
        v = np.round(rng.uniform(0, 90, ts.size), 3)
        v[rng.random(ts.size) < 0.02] = np.nan
        v[rng.random(ts.size) < 0.01] = -1.0
        v[rng.random(ts.size) < 0.01] = 150.0  # impossible on RDS only
        v[rng.random(ts.size) < 0.005] = 5000.0  # impossible everywhere but counts
        parts.append(
            pa.table(
                {
                    "timestamp": pa.array(ts * 1000, pa.timestamp("ms", tz="UTC")),
                    "resource": [resource] * ts.size,
                    "metric": [metric] * ts.size,
                    "statistic": pa.array([stat] * ts.size, pa.string()),
                    "period": pa.array(np.full(ts.size, 60), pa.int32()),
                    "value": v,
                }
            )
        )
    return pa.concat_tables(parts)


def _dump(store: MetricStore) -> list[tuple[str, str, str, int, list[float]]]:
    out = []
    for info in store.list_series():
        s = store.series(info.key.resource, info.key.metric, info.key.statistic, info.key.period_s)
        assert s is not None
        out.append(
            (
                *(info.key.resource, info.key.metric, info.key.statistic),
                info.key.period_s,
                s.values.tolist(),
            )
        )
    return out


def test_fast_path_matches_general_pipeline(tmp_path: Path) -> None:
    table = _table(np.random.default_rng(5))
    pq.write_table(table, tmp_path / "clean.parquet")
    csv_table = table.set_column(
        0, "timestamp", pa.array([t.isoformat() for t in table.column("timestamp").to_pylist()])
    )
    pacsv.write_csv(csv_table, tmp_path / "clean.csv")

    with MetricStore(tmp_path / "a.duckdb") as a:
        with a.transaction():
            fast = fast_import(a, tmp_path / "clean.parquet", "x")
        assert fast is not None
        fast_dump = _dump(a)
    with MetricStore(tmp_path / "b.duckdb") as b:
        # The general SQL pipeline, called directly (import_file would take the fast path).
        with b.transaction():
            slow = ingest_relation(b, relation_from_file(b, tmp_path / "clean.csv"), "x")
        slow_dump = _dump(b)
    with MetricStore(tmp_path / "c.duckdb") as c:
        with c.transaction():
            fast_csv = fast_import(c, tmp_path / "clean.csv", "x")
        assert fast_csv is not None
        csv_dump = _dump(c)
    assert slow.ok, slow.line()
    fields = (
        "rows",
        "series",
        "added",
        "updated",
        "unchanged",
        "duplicates",
        "out_of_order",
        "nan",
        "impossible",
        "gaps",
        "missing_points",
        "impossible_detail",
    )
    assert {f: getattr(fast, f) for f in fields} == {f: getattr(slow, f) for f in fields}
    assert {f: getattr(fast_csv, f) for f in fields} == {f: getattr(slow, f) for f in fields}
    assert fast.impossible > 0 and fast.gaps > 0 and fast.nan > 0
    assert len(fast_dump) == 3
    for x, y, z in zip(fast_dump, slow_dump, csv_dump, strict=True):
        assert x[:4] == y[:4] == z[:4]
        assert np.array_equal(np.array(x[4]), np.array(y[4]), equal_nan=True)
        assert np.array_equal(np.array(z[4]), np.array(y[4]), equal_nan=True)


def test_disordered_parquet_falls_back_with_the_same_counts(tmp_path: Path) -> None:
    table = _table(np.random.default_rng(6))
    order = np.random.default_rng(1).permutation(table.num_rows)
    shuffled = table.take(pa.array(order))
    dup = pa.concat_tables([shuffled, shuffled.slice(0, 10)])
    pq.write_table(dup, tmp_path / "messy.parquet")
    with MetricStore(tmp_path / "a.duckdb") as a:
        with a.transaction():
            assert fast_import(a, tmp_path / "messy.parquet", "x") is None
        summary = import_file(a, tmp_path / "messy.parquet")
        # The 10 repeated rows are duplicates, except those dropped as NaN or impossible.
        assert summary.ok and 0 < summary.duplicates <= 10
        assert summary.out_of_order > 0
        again = import_file(a, tmp_path / "messy.parquet")
        assert again.added == 0 and again.unchanged == summary.added
