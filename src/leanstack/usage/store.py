"""The metric store: an embedded DuckDB file holding every recorded point behind the analysis.

Layout (schema version 1):

* `series`: one row per (resource, metric, statistic, period_s) with unit, time range and
  point count, so listing never scans the points;
* `points`: (sid, ts, value) with `ts` in UTC epoch seconds. No index: DuckDB's zone maps on
  data appended in (sid, ts) order make per-series reads cheap, and an ART index over tens of
  millions of rows would cost more memory than the data;
* `covered`: half-open [start, end) ranges that were fetched or imported per series, so a
  second fetch asks CloudWatch only for what is missing (CloudWatch returns no point at all for
  idle minutes, so the points alone cannot tell "idle" from "never asked").

All bulk work happens inside DuckDB (Arrow scans, read_csv/read_parquet, set-based
anti-joins); Python only touches per-series metadata.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from leanstack.model import Issue
from leanstack.usage.catalog import default_statistic
from leanstack.usage.series import MetricSeries

SCHEMA_VERSION = "1"
DEFAULT_STORE_RELPATH = Path(".leanstack") / "metrics.duckdb"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    resource VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    statistic VARCHAR NOT NULL,
    period_s INTEGER NOT NULL,
    unit VARCHAR NOT NULL DEFAULT '',
    start_s BIGINT,
    end_s BIGINT,
    points BIGINT NOT NULL DEFAULT 0,
    source VARCHAR NOT NULL DEFAULT '',
    UNIQUE (resource, metric, statistic, period_s)
);
CREATE TABLE IF NOT EXISTS points (sid INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS covered (sid INTEGER NOT NULL, start_s BIGINT NOT NULL,
                                    end_s BIGINT NOT NULL);
"""


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> tuple[Any, ...] | None:
    """First row of a query, with the result fully consumed.

    DuckDB 2 refuses new work on a connection while a result is partly fetched, so never
    use `fetchone()` on the shared connection.
    """
    rows = con.execute(sql, list(params)).fetchall()
    return tuple(rows[0]) if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    """Single value of a query (None when no row)."""
    row = first_row(con, sql, params)
    return None if row is None else row[0]


def default_store_path(stack: Path) -> Path:
    """`.leanstack/metrics.duckdb` beside the analyzed stack (a directory or a plan file)."""
    base = stack if stack.is_dir() else stack.parent
    return base / DEFAULT_STORE_RELPATH


def store_problem(path: Path) -> str | None:
    """Why `path` cannot be a metric store (it exists but is not a DuckDB file), else None.

    DuckDB's own errors for such a file ("Cannot launch in-memory database in read-only
    mode!", "not a valid DuckDB database file") do not say what is wrong.
    """
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None if not path.is_dir() else "is a directory, not a metric store file"
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if head[8:12] != b"DUCK":
        return "not a metric store (not a DuckDB database file)"
    return None


def describe_store_error(exc: BaseException) -> str:
    """One plain line for a DuckDB error met opening a store."""
    text = str(exc).strip()
    lock = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", text)
    if lock:
        return (
            f"the metric store is in use by another process (PID {lock.group(1)}); "
            "retry when it has finished"
        )
    first = text.splitlines()[0] if text else type(exc).__name__
    # DuckDB prefixes "IO Error: ", "Catalog Error: " etc.; keep the substance.
    head, sep, rest = first.partition(": ")
    return f"cannot open the metric store: {rest if sep and head.endswith('Error') else first}"


def to_epoch(value: datetime | int | float) -> int:
    """UTC epoch seconds; naive datetimes are taken as UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    return int(value)


def from_epoch(seconds: int | float) -> datetime:
    """Aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Identity of a stored series."""

    resource: str
    metric: str
    statistic: str
    period_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesInfo:
    """Metadata of a stored series, without its points."""

    id: int
    key: SeriesKey
    unit: str
    start: datetime | None
    end: datetime | None
    points: int
    source: str

    @property
    def expected_points(self) -> int:
        """Grid points between start and end inclusive."""
        if self.start is None or self.end is None:
            return 0
        return int((self.end - self.start).total_seconds()) // self.key.period_s + 1

    @property
    def coverage(self) -> float:
        """Share of grid points between start and end that are present."""
        expected = self.expected_points
        return self.points / expected if expected else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesStats:
    """Summary statistics of one stored series, computed inside DuckDB."""

    info: SeriesInfo
    mean: float
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertSummary:
    """What an upsert (import, fetch, synth) did, counted so nothing is dropped silently."""

    source: str
    rows: int = 0
    series: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    nan: int = 0
    impossible: int = 0
    gaps: int = 0
    missing_points: int = 0
    issues: tuple[Issue, ...] = ()
    error: Issue | None = None
    impossible_detail: tuple[str, ...] = field(default=())
    # Rows that could not be read at all (wrong column count, blank, unparseable timestamp or
    # value, no resource or metric): counted in `rows`, never stored.
    skipped: int = 0
    skipped_detail: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """False when the whole input was rejected."""
        return self.error is None

    @property
    def wrote(self) -> bool:
        """True when at least one point was added or updated."""
        return self.added > 0 or self.updated > 0

    def line(self) -> str:
        """The one-line import summary."""
        if self.error is not None:
            return self.error.line()
        detail = f" ({'; '.join(self.impossible_detail)})" if self.impossible_detail else ""
        skipped = (
            f", {self.skipped} skipped ({'; '.join(self.skipped_detail)})" if self.skipped else ""
        )
        return (
            f"{self.source}: {plural(self.rows, 'row')}{skipped}, "
            f"{self.series} series: {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged; "
            f"{plural(self.duplicates, 'duplicate')}, "
            f"{self.out_of_order} out of order, {self.nan} NaN/empty, "
            f"{self.impossible} impossible{detail}; {plural(self.gaps, 'gap')} "
            f"({plural(self.missing_points, 'missing point')})"
        )


def plural(n: int, word: str) -> str:
    """`1 row`, `2 rows`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class MetricStore:
    """Series of metric points in an embedded DuckDB file.

    Use as a context manager or call `close()`. `read_only=True` lets several readers share
    the file.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False, memory_limit: str = "3GB"):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self.con = duckdb.connect(str(path), read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if not read_only:
            self.con.execute(_SCHEMA)
            self.con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                [SCHEMA_VERSION],
            )

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint (so the file is compact) and close."""
        if not self.read_only:
            self.con.execute("CHECKPOINT")
        self.con.close()

    def __enter__(self) -> MetricStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block: a failing import leaves the store as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- series metadata ---------------------------------------------------------------------

    def _info_rows(self, where: str = "", params: Sequence[Any] = ()) -> list[SeriesInfo]:
        rows = self.con.execute(
            "SELECT id, resource, metric, statistic, period_s, unit, start_s, end_s, points, source"
            f" FROM series {where} ORDER BY resource, metric, statistic, period_s",
            list(params),
        ).fetchall()
        return [
            SeriesInfo(
                id=r[0],
                key=SeriesKey(r[1], r[2], r[3], r[4]),
                unit=r[5],
                start=from_epoch(r[6]) if r[6] is not None else None,
                end=from_epoch(r[7]) if r[7] is not None else None,
                points=r[8],
                source=r[9],
            )
            for r in rows
        ]

    def list_series(self, resource: str | None = None) -> list[SeriesInfo]:
        """Every stored series (of one resource when given), sorted by key."""
        if resource is None:
            return self._info_rows("WHERE points > 0")
        return self._info_rows("WHERE points > 0 AND resource = ?", [resource])

    def info(self, key: SeriesKey) -> SeriesInfo | None:
        """Metadata of one series, None when absent."""
        rows = self._info_rows(
            "WHERE resource = ? AND metric = ? AND statistic = ? AND period_s = ?",
            [key.resource, key.metric, key.statistic, key.period_s],
        )
        return rows[0] if rows else None

    def ensure_series(self, keys: Sequence[tuple[SeriesKey, str, str]]) -> list[int]:
        """Ids for (key, unit, source) triples, creating the missing series in one statement."""
        if not keys:
            return []
        incoming = pa.table(
            {
                "pos": pa.array(range(len(keys)), pa.int64()),
                "resource": pa.array([k.resource for k, _, _ in keys], pa.string()),
                "metric": pa.array([k.metric for k, _, _ in keys], pa.string()),
                "statistic": pa.array([k.statistic for k, _, _ in keys], pa.string()),
                "period_s": pa.array([k.period_s for k, _, _ in keys], pa.int32()),
                "unit": pa.array([u for _, u, _ in keys], pa.string()),
                "source": pa.array([src for _, _, src in keys], pa.string()),
            }
        )
        self.con.register("_keys_in", incoming)
        try:
            self.con.execute(
                """
                INSERT INTO series (id, resource, metric, statistic, period_s, unit, source)
                SELECT (SELECT coalesce(max(id), 0) FROM series)
                       + row_number() OVER (ORDER BY min(pos)),
                       resource, metric, statistic, period_s, max(unit), max(source)
                FROM (SELECT k.* FROM _keys_in k ANTI JOIN series s
                      ON s.resource = k.resource AND s.metric = k.metric
                      AND s.statistic = k.statistic AND s.period_s = k.period_s)
                GROUP BY resource, metric, statistic, period_s
                """
            )
            # A unit learned later (a fetch after a unit-less import) fills the blank.
            self.con.execute(
                """
                UPDATE series SET unit = k.unit FROM _keys_in k
                WHERE series.unit = '' AND k.unit <> '' AND series.resource = k.resource
                  AND series.metric = k.metric AND series.statistic = k.statistic
                  AND series.period_s = k.period_s
                """
            )
            rows = self.con.execute(
                """
                SELECT k.pos, s.id FROM _keys_in k JOIN series s
                  ON s.resource = k.resource AND s.metric = k.metric
                 AND s.statistic = k.statistic AND s.period_s = k.period_s
                ORDER BY k.pos
                """
            ).fetchall()
        finally:
            self.con.unregister("_keys_in")
        return [int(r[1]) for r in rows]

    def _refresh(self, sids: Sequence[int]) -> None:
        """Recompute time range and point count of the given series from their points."""
        if not sids:
            return
        self.con.register("_refresh_ids", pa.table({"sid": pa.array(list(sids), pa.int32())}))
        try:
            self.con.execute(
                """
                UPDATE series SET start_s = a.lo, end_s = a.hi, points = a.n
                FROM (SELECT p.sid, min(p.ts) AS lo, max(p.ts) AS hi, count(*) AS n
                      FROM points p SEMI JOIN _refresh_ids r ON p.sid = r.sid GROUP BY p.sid) a
                WHERE series.id = a.sid
                """
            )
        finally:
            self.con.unregister("_refresh_ids")

    # -- writing -----------------------------------------------------------------------------

    def _merge_stage(self, stage: str, *, fresh: bool) -> tuple[int, int, int]:
        """Merge a deduplicated `stage(sid, ts, value)` table into points.

        Returns (added, updated, unchanged). `fresh=True` means no stored point can overlap
        (checked by the caller), so the stage is appended as is.
        """
        if fresh:
            # Parallel, unordered append: the stage is already grouped by series, and the
            # order of rows inside a series does not matter to readers (they ORDER BY ts).
            self.con.execute("SET preserve_insertion_order = false")
            try:
                added = int(
                    scalar(self.con, f"INSERT INTO points SELECT sid, ts, value FROM {stage}")
                )
            finally:
                self.con.execute("SET preserve_insertion_order = true")
            return added, 0, 0
        total = int(scalar(self.con, f"SELECT count(*) FROM {stage}"))
        # A point that exists with another value is replaced: CloudWatch revises the last
        # minutes of a series, and a re-import is the user's latest word.
        updated = int(
            scalar(
                self.con,
                f"""
                UPDATE points SET value = s.value FROM {stage} s
                WHERE points.sid = s.sid AND points.ts = s.ts AND points.value <> s.value
                """,
            )
        )
        added = int(
            scalar(
                self.con,
                f"""
                INSERT INTO points
                SELECT s.sid, s.ts, s.value FROM {stage} s
                ANTI JOIN points p ON p.sid = s.sid AND p.ts = s.ts
                """,
            )
        )
        return added, updated, total - added - updated

    def add_covered(self, ranges: Sequence[tuple[int, int, int]]) -> None:
        """Record (sid, start_s, end_s) half-open ranges as fetched/imported."""
        if not ranges:
            return
        tbl = pa.table(
            {
                "sid": pa.array([r[0] for r in ranges], pa.int32()),
                "start_s": pa.array([r[1] for r in ranges], pa.int64()),
                "end_s": pa.array([r[2] for r in ranges], pa.int64()),
            }
        )
        self.con.register("_covered_in", tbl)
        try:
            self.con.execute("INSERT INTO covered SELECT * FROM _covered_in")
        finally:
            self.con.unregister("_covered_in")

    def upsert(
        self,
        points: pa.Table | Mapping[str, Any],
        *,
        source: str = "upsert",
        covered: Sequence[tuple[SeriesKey, int, int]] = (),
    ) -> UpsertSummary:
        """Idempotently store points.

        `points` has columns `resource, metric, statistic, period_s, ts, value` and optionally
        `unit`; `ts` is epoch seconds (int) or an Arrow timestamp (naive = UTC). Invalid,
        duplicate and impossible points are counted in the summary, as for a file import.
        `covered` records requested ranges (for fetch) even when they returned no point.
        A mapping of column name -> numpy array (or list) is accepted as well.
        """
        if not isinstance(points, pa.Table):
            points = pa.table(dict(points))
        from leanstack.usage.importer import RejectedInput, ingest_relation, relation_from_arrow

        try:
            with self.transaction():
                summary = (
                    ingest_relation(self, relation_from_arrow(self, points, source), source)
                    if points.num_rows
                    else UpsertSummary(source=source)
                )
                if covered:
                    ids = self.ensure_series([(k, "", source) for k, _, _ in covered])
                    self.add_covered([(i, s, e) for i, (_, s, e) in zip(ids, covered, strict=True)])
        except RejectedInput as exc:
            return UpsertSummary(source=source, error=exc.issue)
        finally:
            with suppress(duckdb.Error):
                self.con.unregister("_upsert_in")
        return summary

    def upsert_series(
        self, series: Sequence[MetricSeries], *, source: str = "synth"
    ) -> UpsertSummary:
        """Store MetricSeries objects (NaN points are gaps, not stored)."""
        cols: dict[str, list[Any]] = {
            k: [] for k in ("resource", "metric", "statistic", "period_s", "unit")
        }
        ts_parts: list[npt.NDArray[np.int64]] = []
        val_parts: list[npt.NDArray[np.float64]] = []
        counts: list[int] = []
        for s in series:
            mask = ~np.isnan(s.values)
            n = int(mask.sum())
            start = to_epoch(s.start)
            ts_parts.append(start + np.nonzero(mask)[0].astype(np.int64) * s.period_s)
            val_parts.append(s.values[mask])
            counts.append(n)
            for k, v in (
                ("resource", s.resource),
                ("metric", s.metric),
                ("statistic", s.statistic),
                ("period_s", s.period_s),
                ("unit", s.unit),
            ):
                cols[k].append(v)
        reps = np.array(counts, dtype=np.int64)
        table = pa.table(
            {
                "resource": pa.array(
                    np.repeat(np.array(cols["resource"], dtype=object), reps), pa.string()
                ),
                "metric": pa.array(
                    np.repeat(np.array(cols["metric"], dtype=object), reps), pa.string()
                ),
                "statistic": pa.array(
                    np.repeat(np.array(cols["statistic"], dtype=object), reps), pa.string()
                ),
                "period_s": pa.array(np.repeat(np.array(cols["period_s"], dtype=np.int64), reps)),
                "unit": pa.array(
                    np.repeat(np.array(cols["unit"], dtype=object), reps), pa.string()
                ),
                "ts": pa.array(np.concatenate(ts_parts) if ts_parts else np.zeros(0, np.int64)),
                "value": pa.array(np.concatenate(val_parts) if val_parts else np.zeros(0)),
            }
        )
        return self.upsert(table, source=source)

    # -- reading -----------------------------------------------------------------------------

    def _pick(
        self, resource: str, metric: str, statistic: str | None, period_s: int | None
    ) -> SeriesInfo | None:
        candidates = [
            i
            for i in self.list_series(resource)
            if i.key.metric == metric
            and (statistic is None or i.key.statistic == statistic)
            and (period_s is None or i.key.period_s == period_s)
        ]
        if not candidates:
            return None
        preferred = default_statistic(metric)
        # The default statistic first, then the finest period, then the most points.
        candidates.sort(key=lambda i: (i.key.statistic != preferred, i.key.period_s, -i.points))
        return candidates[0]

    def series(
        self,
        resource: str,
        metric: str,
        statistic: str | None = None,
        period_s: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> MetricSeries | None:
        """One series on its regular grid (NaN gaps), None when nothing is stored.

        Without `statistic`/`period_s`, the metric's default statistic at the finest period
        is chosen. `start`/`end` (inclusive) clip the grid; the grid stays anchored on the
        series' own timestamps.
        """
        info = self._pick(resource, metric, statistic, period_s)
        if info is None or info.start is None or info.end is None:
            return None
        return self._read(info, start, end)

    def _read(
        self, info: SeriesInfo, start: datetime | None, end: datetime | None
    ) -> MetricSeries | None:
        assert info.start is not None and info.end is not None
        period = info.key.period_s
        anchor = to_epoch(info.start)
        lo, hi = anchor, to_epoch(info.end)
        if start is not None:
            s = to_epoch(start)
            lo = max(lo, anchor + math.ceil((s - anchor) / period) * period)
        if end is not None:
            hi = min(hi, to_epoch(end))
        if hi < lo:
            return None
        data = self.con.execute(
            "SELECT ts, value FROM points WHERE sid = ? AND ts BETWEEN ? AND ? ORDER BY ts",
            [info.id, lo, hi],
        ).fetchnumpy()
        ts = np.asarray(data["ts"], dtype=np.int64)
        n = (hi - lo) // period + 1
        values = np.full(n, np.nan)
        # Off-grid timestamps (jittered exports) fall into the slot they started in.
        values[(ts - lo) // period] = np.asarray(data["value"], dtype=np.float64)
        return MetricSeries(
            resource=info.key.resource,
            metric=info.key.metric,
            statistic=info.key.statistic,
            period_s=period,
            start=from_epoch(lo),
            values=values,
            unit=info.unit,
        )

    def for_resource(self, address: str) -> dict[str, MetricSeries]:
        """Metric name -> preferred series (default statistic, finest period) of a resource."""
        out: dict[str, MetricSeries] = {}
        for metric in sorted({i.key.metric for i in self.list_series(address)}):
            s = self.series(address, metric)
            if s is not None:
                out[metric] = s
        return out

    def all_series(self, address: str) -> list[MetricSeries]:
        """Every stored series of a resource, all statistics and periods."""
        out: list[MetricSeries] = []
        for info in self.list_series(address):
            s = self._read(info, None, None)
            if s is not None:
                out.append(s)
        return out

    def missing_ranges(
        self, key: SeriesKey, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Parts of [start, end) not yet fetched or imported for a series."""
        lo, hi = to_epoch(start), to_epoch(end)
        info = self.info(key)
        if info is None:
            return [(start, end)] if hi > lo else []
        rows = self.con.execute(
            "SELECT start_s, end_s FROM covered WHERE sid = ? AND end_s > ? AND start_s < ?"
            " UNION ALL SELECT start_s, end_s + ? FROM series WHERE id = ? AND start_s IS NOT NULL"
            " ORDER BY 1",
            [info.id, lo, hi, key.period_s, info.id],
        ).fetchall()
        gaps: list[tuple[datetime, datetime]] = []
        cursor = lo
        for s, e in rows:
            if s > cursor:
                gaps.append((from_epoch(cursor), from_epoch(min(s, hi))))
            cursor = max(cursor, e)
            if cursor >= hi:
                break
        if cursor < hi:
            gaps.append((from_epoch(cursor), from_epoch(hi)))
        return [g for g in gaps if g[1] > g[0]]

    def stats(self, resource: str | None = None) -> list[SeriesStats]:
        """mean, p50, p95, p99 and max of every series (of one resource), grouped in SQL."""
        infos = {i.id: i for i in self.list_series(resource)}
        if not infos:
            return []
        where = (
            "" if resource is None else "WHERE sid IN (SELECT id FROM series WHERE resource = ?)"
        )
        rows = self.con.execute(
            f"""
            SELECT sid, avg(value), quantile_cont(value, [0.5, 0.95, 0.99]), max(value)
            FROM points {where} GROUP BY sid
            """,
            [] if resource is None else [resource],
        ).fetchall()
        out = [
            SeriesStats(
                info=infos[r[0]], mean=r[1], p50=r[2][0], p95=r[2][1], p99=r[2][2], max=r[3]
            )
            for r in rows
            if r[0] in infos
        ]
        out.sort(
            key=lambda s: (
                s.info.key.resource,
                s.info.key.metric,
                s.info.key.statistic,
                s.info.key.period_s,
            )
        )
        return out

    def bucket_means(self, width: int, resource: str | None = None) -> dict[int, list[float]]:
        """Per series id, the mean of `width` equal time buckets (NaN when empty), in SQL.

        What a sparkline of every series needs, without reading each series into Python.
        """
        where = "" if resource is None else "WHERE s.resource = ?"
        rows = self.con.execute(
            f"""
            SELECT p.sid,
                   least(CAST((p.ts - s.start_s) * ?
                              // greatest(s.end_s - s.start_s + s.period_s, 1) AS INTEGER),
                         ? - 1) AS b,
                   avg(p.value)
            FROM points p JOIN series s ON s.id = p.sid {where}
            GROUP BY ALL
            """,
            [width, width] + ([] if resource is None else [resource]),
        ).fetchall()
        out: dict[int, list[float]] = {}
        for sid, bucket, mean in rows:
            out.setdefault(int(sid), [float("nan")] * width)[int(bucket)] = float(mean)
        return out
