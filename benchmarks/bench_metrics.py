"""Benchmark the metric store: bulk import and per-series percentiles.

Generates a long-format Parquet file (default 620 ECS services x 4 metrics x 14 days at
1 minute = 49,996,800 points) in a temporary directory, then times only

* the import into a fresh DuckDB store (`import_file`, the path `leanstack metrics import` uses),
* mean/p50/p95/p99/max of every series (`MetricStore.stats`),

and prints points per second and the peak RSS of the process (resource.getrusage).

    python benchmarks/bench_metrics.py [--services 620] [--days 14] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leanstack.usage.importer import import_file
from leanstack.usage.store import MetricStore

METRICS = ("CPUUtilization", "MemoryUtilization", "RequestCount", "TargetResponseTime")


def generate(path: Path, services: int, days: int, seed: int = 1) -> int:
    """Write the Parquet input one service at a time (bounded memory); return the point count."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    start = 1_700_000_000 - 1_700_000_000 % 86400
    ts = start + np.arange(n, dtype=np.int64) * 60
    minute_of_day = np.arange(n) % 1440
    daily = 1.0 + 0.5 * np.sin(2 * np.pi * minute_of_day / 1440)
    schema = pa.schema(
        [
            ("timestamp", pa.timestamp("s", tz="UTC")),
            ("resource", pa.dictionary(pa.int32(), pa.string())),
            ("metric", pa.dictionary(pa.int32(), pa.string())),
            ("statistic", pa.dictionary(pa.int32(), pa.string())),
            ("period", pa.int32()),
            ("value", pa.float64()),
        ]
    )
    total = 0
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for i in range(services):
            cols: dict[str, list[pa.Array]] = {k: [] for k in schema.names}
            for metric in METRICS:
                base = rng.uniform(5, 60)
                values = np.round(base * daily * rng.lognormal(0, 0.2, n), 3)
                if metric.endswith("Utilization"):
                    values = np.minimum(values, 100.0)
                stat = "Sum" if metric == "RequestCount" else "Average"
                cols["timestamp"].append(pa.array(ts, pa.timestamp("s", tz="UTC")))
                cols["resource"].append(
                    pa.DictionaryArray.from_arrays(
                        np.zeros(n, np.int32), [f"aws_ecs_service.svc{i:04d}"]
                    )
                )
                cols["metric"].append(
                    pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), [metric])
                )
                cols["statistic"].append(
                    pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), [stat])
                )
                cols["period"].append(pa.array(np.full(n, 60, np.int32)))
                cols["value"].append(pa.array(values))
                total += n
            writer.write_table(
                pa.table({k: pa.concat_arrays(v) for k, v in cols.items()}, schema=schema)
            )
    return total


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=620)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = work / "points.parquet"
        t0 = time.perf_counter()
        points = generate(src, args.services, args.days)
        print(
            f"generated {points:,} points in {time.perf_counter() - t0:.1f} s "
            f"({src.stat().st_size / 1e6:.0f} MB parquet)"
        )
        rss_before = peak_rss_mb()

        store_path = work / "metrics.duckdb"
        store_path.unlink(missing_ok=True)
        store = MetricStore(store_path, memory_limit=args.memory_limit)
        t0 = time.perf_counter()
        summary = import_file(store, src)
        t_import = time.perf_counter() - t0
        if not summary.ok:
            print(summary.line(), file=sys.stderr)
            return 1
        print(summary.line())
        rss_import = peak_rss_mb()
        print(
            f"import: {summary.added:,} points in {t_import:.2f} s = "
            f"{summary.added / t_import / 1e6:.2f} M points/s"
        )

        t0 = time.perf_counter()
        stats = store.stats()
        t_stats = time.perf_counter() - t0
        scanned = sum(s.info.points for s in stats)
        print(
            f"percentiles: {len(stats):,} series, {scanned:,} points in {t_stats:.2f} s = "
            f"{scanned / t_stats / 1e6:.1f} M points/s"
        )
        store.close()
        print(f"store file: {store_path.stat().st_size / 1e6:.0f} MB")
        print(
            f"peak RSS: {peak_rss_mb():,.0f} MB (after generation: {rss_before:,.0f} MB, "
            f"after import: {rss_import:,.0f} MB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
