"""Import edge cases: bad rows, time zones, disorder, duplicates, NaN, impossible values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leanstack.usage.importer import import_file
from leanstack.usage.store import MetricStore, SeriesKey


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_counted_and_skipped_with_their_line(
    store: MetricStore, tmp_path: Path
) -> None:
    # Audit item 10: one bad timestamp, value, blank, short or long row used to reject the
    # whole file (a ragged row as "line 1: no 'timestamp' column").
    header = "timestamp,resource,metric,value,unit,statistic,period\n"
    ok = "aws_ecs_service.api,CPUUtilization,{v},Percent,Average,60\n"
    text = (
        header
        + "2026-11-20T00:00:00Z," + ok.format(v=50)  # line 2
        + "2026-11-20T00:01:00Z," + ok.format(v="abc")  # 3: bad value
        + "not-a-date," + ok.format(v=40)  # 4: bad timestamp
        + "2026-11-20T00:02:00Z,aws_ecs_service.api\n"  # 5: two columns
        + ",,,,,,\n"  # 6: blank
        + "2026-11-20T00:03:00Z," + ok.format(v=30).rstrip("\n") + ",extra\n"  # 7: eight
        + "\n"  # 8: an empty line, skipped by the reader and not counted
        + "2026-11-20T00:04:00Z," + ok.format(v="")  # 9: empty value, counted as NaN
        + "2026-11-20T00:05:00Z," + ok.format(v="x")  # 10: bad value after the gaps
        + "2026-11-20T00:06:00Z," + ok.format(v=60)  # 11
    )
    f = _write(tmp_path / "g.csv", text)
    s = import_file(store, f)
    assert s.ok, s.line()
    assert (s.rows, s.skipped, s.added, s.nan) == (9, 6, 2, 1)
    assert "2 malformed" in s.line() and "1 blank" in s.line() and "2 bad value" in s.line()
    got = [(i.where, i.message) for i in s.issues]
    assert got[:5] == [
        (f"{f}:3", "cannot parse value 'abc'; skipped"),
        (f"{f}:4", "cannot parse timestamp 'not-a-date'; skipped"),
        (f"{f}:5", "2 columns, expected 7; skipped"),
        (f"{f}:6", "blank row; skipped"),
        (f"{f}:7", "8 columns, expected 7; skipped"),
    ]
    assert got[5:] == [(str(f), "1 more skipped row not listed")]
    series = store.series("aws_ecs_service.api", "CPUUtilization")
    assert series is not None
    assert [v for v in series.values.tolist() if v == v] == [50.0, 60.0]


def test_bad_row_after_skipped_lines_has_its_line(store: MetricStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "l.csv",
        'timestamp,value\n2024-01-01 00:00:00,1\n\n2024-01-01 00:01:00,"2"\n'
        "2024-01-01 00:02:00\n2024-01-01 00:03:00,y\n",
    )
    s = import_file(store, f, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert [i.where for i in s.issues] == [f"{f}:5", f"{f}:6"]
    assert s.added == 2


def test_file_of_bad_rows_imports_nothing_and_keeps_store(
    store: MetricStore, tmp_path: Path
) -> None:
    good = _write(
        tmp_path / "good.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\n"
    )
    assert import_file(store, good, resource="aws_ecs_service.a", metric="CPUUtilization").ok
    bad = _write(tmp_path / "bad.csv", "timestamp,value\nnot-a-date,5\n2024-01-02,zz\n")
    summary = import_file(store, bad, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert summary.ok and summary.skipped == 2 and not summary.wrote
    assert any("no usable data rows" in i.message for i in summary.issues)
    [info] = store.list_series()
    assert info.points == 2


def test_unusable_header_rejects_the_file(store: MetricStore, tmp_path: Path) -> None:
    nocol = _write(tmp_path / "n.csv", "when,value\n2024-01-01,1\n")
    summary = import_file(store, nocol, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert summary.error is not None and "timestamp" in summary.error.message
    assert summary.error.where == f"{nocol}:1"
    noaddr = _write(tmp_path / "a.csv", "timestamp,value\n2024-01-01,1\n")
    summary = import_file(store, noaddr)
    assert summary.error is not None and "--resource" in summary.error.message
    empty = _write(tmp_path / "e.csv", "")
    summary = import_file(store, empty, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert summary.error is not None and "no header line" in summary.error.message
    assert store.list_series() == []


def test_time_zones_are_honoured(store: MetricStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "tz.csv",
        "timestamp,value\n"
        "2024-03-10T01:00:00-05:00,1\n"  # 06:00 UTC
        "2024-03-10T08:01:00+02:00,2\n"  # 06:01 UTC
        "2024-03-10T06:02:00Z,3\n"
        "2024-03-10 06:03:00,4\n",
    )  # naive: UTC
    summary = import_file(store, f, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert summary.ok, summary.line()
    s = store.series("aws_ecs_service.a", "CPUUtilization")
    assert s is not None
    assert s.start == datetime(2024, 3, 10, 6, 0, tzinfo=UTC)
    assert s.period_s == 60
    assert s.values.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_disorder_duplicates_nan_impossible_are_counted(store: MetricStore, tmp_path: Path) -> None:
    rows = [
        ("2024-01-01 00:02:00", "30"),
        ("2024-01-01 00:00:00", "10"),  # out of order
        ("2024-01-01 00:01:00", "20"),
        ("2024-01-01 00:01:00", "25"),  # duplicate: the larger value is kept
        ("2024-01-01 00:03:00", "NaN"),
        ("2024-01-01 00:04:00", ""),
        ("2024-01-01 00:05:00", "-3"),  # negative utilisation
        ("2024-01-01 00:06:00", "250"),  # > 100 %: impossible on Fargate too
        ("2024-01-01 00:07:00", "40"),
        ("2024-01-01 00:10:00", "50"),  # gap of two points
    ]
    f = _write(tmp_path / "messy.csv", "timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows))
    s = import_file(store, f, resource="aws_ecs_service.a", metric="CPUUtilization")
    assert s.ok, s.line()
    assert (s.rows, s.nan, s.impossible, s.duplicates) == (10, 2, 2, 1)
    assert s.out_of_order == 1
    assert s.added == 5
    assert "1 negative" in s.line() and "1 above 100%" in s.line()
    series = store.series("aws_ecs_service.a", "CPUUtilization")
    assert series is not None
    expected = [10, 25, 30, np.nan, np.nan, np.nan, np.nan, 40, np.nan, np.nan, 50]
    assert np.array_equal(series.values, np.array(expected, dtype=float), equal_nan=True)
    # Every percentage lies in 0..100, whatever the resource (audit item 10).
    g = _write(tmp_path / "rds.csv", "timestamp,value\n2024-01-01,100.5\n2024-01-01 00:01,100\n")
    s2 = import_file(store, g, resource="aws_db_instance.db", metric="MemoryUtilization")
    assert s2.impossible == 1 and s2.added == 1


def test_long_csv_and_parquet_multi_series(store: MetricStore, tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    n = 120
    ts = [start + timedelta(minutes=i) for i in range(n)]
    rng = np.random.default_rng(3)
    cpu = np.round(rng.uniform(5, 60, n), 3)
    req = rng.integers(0, 100, n).astype(float)
    lines = ["timestamp,resource,metric,value,unit,statistic,period"]
    lines += [
        f"{t:%Y-%m-%dT%H:%M:%SZ},aws_ecs_service.api,CPUUtilization,{v},Percent,Average,60"
        for t, v in zip(ts, cpu, strict=True)
    ]
    lines += [
        f"{t:%Y-%m-%dT%H:%M:%SZ},aws_lb.api,RequestCount,{v},Count,Sum,60"
        for t, v in zip(ts, req, strict=True)
    ]
    # Rows shuffled: order must not matter.
    body = lines[1:]
    rng.shuffle(body)
    f = _write(tmp_path / "long.csv", "\n".join([lines[0], *body]) + "\n")
    s = import_file(store, f)
    assert s.ok, s.line()
    assert (s.series, s.added) == (2, 2 * n)
    cpu_s = store.series("aws_ecs_service.api", "CPUUtilization")
    req_s = store.series("aws_lb.api", "RequestCount")
    assert cpu_s is not None and req_s is not None
    assert np.array_equal(cpu_s.values, cpu) and np.array_equal(req_s.values, req)
    assert req_s.statistic == "Sum" and cpu_s.unit == "Percent"

    # The same points as Parquet (epoch seconds, no statistic column) change nothing...
    table = pa.table(
        {
            "timestamp": pa.array([int(t.timestamp()) for t in ts], pa.int64()),
            "resource": ["aws_ecs_service.api"] * n,
            "metric": ["CPUUtilization"] * n,
            "value": cpu,
        }
    )
    pq.write_table(table, tmp_path / "cpu.parquet")
    s2 = import_file(store, tmp_path / "cpu.parquet")
    assert s2.ok and (s2.added, s2.unchanged) == (0, n)
    # ...and a revised value is an update, not a second point.
    pq.write_table(table.set_column(3, "value", pa.array(cpu + 1)), tmp_path / "cpu2.parquet")
    s3 = import_file(store, tmp_path / "cpu2.parquet")
    assert (s3.added, s3.updated) == (0, n)
    again = store.series("aws_ecs_service.api", "CPUUtilization")
    assert again is not None and np.array_equal(again.values, cpu + 1)


def test_store_reads_and_missing_ranges(store: MetricStore, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "a.csv",
        "timestamp,value\n" + "".join(f"2024-01-01 00:{m:02d}:00,{m}\n" for m in (0, 1, 2, 5, 6)),
    )
    import_file(store, f, resource="aws_sqs_queue.q", metric="NumberOfMessagesSent")
    key = SeriesKey("aws_sqs_queue.q", "NumberOfMessagesSent", "Sum", 60)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    # Imported range [00:00, 00:07) counts as covered, the rest of the hour is missing.
    assert store.missing_ranges(key, t0, t0 + timedelta(hours=1)) == [
        (t0 + timedelta(minutes=7), t0 + timedelta(hours=1))
    ]
    clipped = store.series(
        "aws_sqs_queue.q",
        "NumberOfMessagesSent",
        start=t0 + timedelta(minutes=1, seconds=30),
        end=t0 + timedelta(minutes=5),
    )
    assert clipped is not None
    assert clipped.start == t0 + timedelta(minutes=2)
    assert np.array_equal(clipped.values, [2, np.nan, np.nan, 5], equal_nan=True)
    by_metric = store.for_resource("aws_sqs_queue.q")
    assert list(by_metric) == ["NumberOfMessagesSent"]
    assert by_metric["NumberOfMessagesSent"].coverage == pytest.approx(5 / 7)
    assert store.series("aws_sqs_queue.q", "Nope") is None


def test_upsert_numpy_columns_with_covered_ranges(store: MetricStore) -> None:
    ts = np.arange(1_700_000_000, 1_700_000_000 + 600, 60, dtype=np.int64)
    cols = {
        "resource": ["aws_lambda_function.f"] * ts.size,
        "metric": ["Invocations"] * ts.size,
        "statistic": ["Sum"] * ts.size,
        "period_s": np.full(ts.size, 60),
        "ts": ts,
        "value": np.arange(ts.size, dtype=float),
    }
    key = SeriesKey("aws_lambda_function.f", "Invocations", "Sum", 60)
    lo = datetime.fromtimestamp(int(ts[0]), UTC)
    wide = (key, int(ts[0]) - 3600, int(ts[-1]) + 3600)
    first = store.upsert(cols, source="test", covered=[wide])
    assert (first.added, first.series) == (ts.size, 1)
    assert store.missing_ranges(key, lo - timedelta(hours=2), lo + timedelta(hours=2)) == [
        (lo - timedelta(hours=2), lo - timedelta(hours=1)),
        (datetime.fromtimestamp(wide[2], UTC), lo + timedelta(hours=2)),
    ]
    again = store.upsert(cols, source="test")
    assert (again.added, again.unchanged) == (0, ts.size)
