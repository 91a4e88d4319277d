"""Bulk ingestion into the metric store: CSV/Parquet files and Arrow tables, one pipeline.

The work is set-based inside DuckDB, in two scans of the input:

1. an aggregate per series key (grouped on a 64-bit hash of the key columns) that counts
   unparseable, NaN, negative and out-of-range values and gives each key's time range;
2. a projection into a staging table `(h, ts, v)`. Projections keep input order (joins do
   not), so a streaming numpy pass over the staging table counts out-of-order rows and
   duplicates exactly and tells whether the fast path applies: every series contiguous and
   strictly increasing -> append without any sort or group-by.

A file whose header is unusable (no timestamp or value column, no key) is rejected whole
inside the caller's transaction. Bad rows of a good file (a short or long row, a blank row, an
unparseable timestamp or value, a missing key) are counted and skipped, and the first few are
reported with their line.
"""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from leanstack.model import Issue, IssueCode, Severity
from leanstack.usage.catalog import default_statistic, default_unit, possible_range

if TYPE_CHECKING:
    from leanstack.usage.store import MetricStore, UpsertSummary

_TS_NAMES = ("timestamp", "time", "ts", "datetime", "date")
_VALUE_NAMES = ("value", "val")
_OPTIONAL = {
    "resource": ("resource", "address"),
    "metric": ("metric", "metric_name"),
    "statistic": ("statistic", "stat"),
    "period": ("period", "period_s"),
    "unit": ("unit",),
}


class RejectedInput(Exception):
    """A rejected input; carries the one-line Issue."""

    def __init__(self, issue: Issue):
        super().__init__(issue.line())
        self.issue = issue


def _lit(value: str) -> str:
    """SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Source:
    """A SQL-readable input with how to find each logical column in it."""

    label: str
    from_sql: str
    columns: dict[str, tuple[str, str]]  # lower-case name -> (original name, DuckDB type)
    row_offset: int  # line of the first data row minus one (1 for a CSV with header)
    row_word: str
    # The same read with DuckDB's rejects table on (CSV only): rows with the wrong number of
    # columns are skipped by both and recorded, with their line, by this one.
    audit_sql: str | None = None
    delimiter: str = ","


def _describe(con: duckdb.DuckDBPyConnection, from_sql: str) -> dict[str, tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {from_sql}").fetchall()
    return {str(r[0]).strip().lower(): (str(r[0]), str(r[1])) for r in rows}


def relation_from_arrow(store: MetricStore, table: pa.Table, label: str) -> Source:
    """Source over an in-memory Arrow table (fetch, synth, library callers)."""
    name = "_upsert_in"
    with contextlib.suppress(duckdb.Error):
        store.con.unregister(name)
    store.con.register(name, table)
    return Source(label, name, _describe(store.con, name), 0, "row")


def relation_from_file(store: MetricStore, path: Path) -> Source:
    """Source over a CSV or Parquet file (format from the magic bytes, then the suffix)."""
    label = str(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise RejectedInput(_err(label, f"cannot read: {exc.strerror or exc}")) from exc
    try:
        if magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
            from_sql = f"read_parquet({_lit(str(path))})"
            return Source(label, from_sql, _describe(store.con, from_sql), 0, "row")
        names, delim = _csv_header(path, label)
        # Explicit columns instead of DuckDB's sniffer: a ragged row must not change what the
        # header means, and it must be skipped with its line, not reject the file.
        cols = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
        base = (
            f"read_csv({_lit(str(path))}, header = true, auto_detect = false, "
            f"delim = {_lit(delim)}, quote = '\"', escape = '\"', columns = {cols}, "
            "ignore_errors = true"
        )
        from_sql = base + ")"
        audit_sql = base + f", store_rejects = true, rejects_table = {_lit(_REJECTS)}, "
        audit_sql += f"rejects_scan = {_lit(_REJECTS + '_scan')})"
        columns = {n.strip().lower(): (n, "VARCHAR") for n in names}
        return Source(label, from_sql, columns, 1, "line", audit_sql, delim)
    except duckdb.Error as exc:
        raise RejectedInput(_err(label, _duck_msg(exc))) from exc


_REJECTS = "_import_rejects"
_DELIMITERS = ",;\t|"


def _csv_header(path: Path, label: str) -> tuple[list[str], str]:
    """Column names of a CSV's header line and its delimiter."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise RejectedInput(_err(f"{label}:1", "not a UTF-8 text CSV file")) from exc
    except OSError as exc:
        raise RejectedInput(_err(label, f"cannot read: {exc.strerror or exc}")) from exc
    if not first.strip():
        raise RejectedInput(
            _err(
                f"{label}:1",
                "no header line (expected timestamp,value or "
                "timestamp,resource,metric,value[,unit,statistic,period])",
            )
        )
    delim = max(_DELIMITERS, key=first.count) if any(d in first for d in _DELIMITERS) else ","
    raw = next(csv.reader([first], delimiter=delim), [])
    names: list[str] = []
    for i, name in enumerate(raw):
        # DuckDB needs distinct, non-empty names; the logical columns are looked up by name.
        n = name.strip() or f"column{i + 1}"
        while n in names:
            n += "_"
        names.append(n)
    return names, delim


def _duck_msg(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    # DuckDB prefixes "Invalid Input Error: " etc.; keep the substance.
    return first.split(": ", 1)[1] if ": " in first and first.index(": ") < 30 else first


def _err(where: str, message: str) -> Issue:
    return Issue(
        code=IssueCode.METRICS_ERROR, message=message, where=where, severity=Severity.ERROR
    )


def _find(columns: dict[str, tuple[str, str]], names: tuple[str, ...]) -> tuple[str, str] | None:
    for n in names:
        if n in columns:
            return columns[n]
    return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ts_expr(col: str, typ: str) -> str:
    t = typ.upper()
    c = _ident(col)
    if t.startswith("TIMESTAMP"):
        # epoch() of a naive TIMESTAMP reads it as UTC, of a TIMESTAMPTZ as the instant; no
        # cast between the two, which would go through ICU for every row.
        return f"CAST(floor(epoch({c})) AS BIGINT)"
    if t.startswith("DATE"):
        return f"CAST(epoch(CAST({c} AS TIMESTAMP)) AS BIGINT)"
    numeric = ("BIGINT", "INTEGER", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL", "UBIGINT")
    if t.startswith(numeric) or t in ("UINTEGER", "SMALLINT"):
        # Epoch seconds, or milliseconds when too large to be seconds (year > 5138).
        return f"CAST(floor(CASE WHEN abs({c}) > 1e11 THEN {c} / 1000 ELSE {c} END) AS BIGINT)"
    return f"CAST(floor(epoch(TRY_CAST(trim(CAST({c} AS VARCHAR)) AS TIMESTAMPTZ))) AS BIGINT)"


def _value_exprs(col: str, typ: str) -> tuple[str, str]:
    c = _ident(col)
    if typ.upper() in ("VARCHAR", "BLOB"):
        v = f"TRY_CAST(trim({c}) AS DOUBLE)"
        return v, f"({c} IS NOT NULL AND trim({c}) <> '' AND {v} IS NULL)"
    return f"CAST({c} AS DOUBLE)", "false"


def _build_view(
    store: MetricStore,
    src: Source,
    *,
    resource: str | None,
    metric: str | None,
    statistic: str | None,
    period_s: int | None,
    from_sql: str | None = None,
) -> None:
    """TEMP VIEWs `_all` (normalised columns and why a row is bad) and `_src` (its good rows).

    Rejects a source whose columns are unusable.
    """
    ts = _find(src.columns, _TS_NAMES)
    val = _find(src.columns, _VALUE_NAMES)
    if ts is None or val is None:
        missing = "timestamp" if ts is None else "value"
        raise RejectedInput(
            _err(
                f"{src.label}:1" if src.row_word == "line" else src.label,
                f"no '{missing}' column (expected timestamp,value or "
                "timestamp,resource,metric,value[,unit,statistic,period])",
            )
        )
    exprs = {
        "ts": _ts_expr(*ts),
        "ts_raw": f"CAST({_ident(ts[0])} AS VARCHAR)",
        "v_raw": f"CAST({_ident(val[0])} AS VARCHAR)",
    }
    v, v_bad = _value_exprs(*val)
    exprs["v"] = v
    exprs["v_bad"] = v_bad
    fixed = {
        "resource": resource,
        "metric": metric,
        "statistic": statistic,
        "period": None if period_s is None else str(int(period_s)),
    }
    for logical, names in _OPTIONAL.items():
        given = fixed.get(logical)
        found = _find(src.columns, names)
        if given is not None:
            exprs[logical] = given if logical == "period" else _lit(given)
        elif found is not None:
            c = _ident(found[0])
            if logical == "period":
                exprs[logical] = f"TRY_CAST({c} AS INTEGER)"
            elif found[1].upper() == "VARCHAR" and src.row_word == "line":
                exprs[logical] = f"nullif(trim({c}), '')"
            else:
                # Typed sources (Parquet, Arrow) carry clean strings; trimming 50M of them
                # would double the import time.
                exprs[logical] = f"CAST({c} AS VARCHAR)"
        else:
            exprs[logical] = (
                "CAST(NULL AS INTEGER)" if logical == "period" else "CAST(NULL AS VARCHAR)"
            )
    if exprs["resource"].startswith("CAST(NULL") or exprs["metric"].startswith("CAST(NULL"):
        what = "resource" if exprs["resource"].startswith("CAST(NULL") else "metric"
        raise RejectedInput(
            _err(src.label, f"two-column file: give --{what} (the file has no '{what}' column)")
        )
    # Blank rows (every field empty), as spreadsheets leave them behind, are told apart.
    # Typed sources (Parquet, Arrow) have no such rows worth the per-row test.
    exprs["all_blank"] = (
        " AND ".join(
            f"nullif(trim(CAST({_ident(n)} AS VARCHAR)), '') IS NULL"
            for n, _ in src.columns.values()
        )
        if src.row_word == "line"
        else "false"
    )
    inner = ", ".join(f"{e} AS {k}" for k, e in exprs.items())
    # Why a row is unusable; NULL when it is fine.
    bad = (
        "CASE WHEN all_blank THEN 'blank' WHEN ts IS NULL THEN 'timestamp' "
        "WHEN v_bad THEN 'value' WHEN resource IS NULL THEN 'resource' "
        "WHEN metric IS NULL THEN 'metric' END"
    )
    store.con.execute(
        f"CREATE OR REPLACE TEMP VIEW _all AS SELECT *, {bad} AS bad,"
        " hash(resource, metric, statistic, period) AS h"
        f" FROM (SELECT {inner} FROM {from_sql or src.from_sql})"
    )
    store.con.execute("CREATE OR REPLACE TEMP VIEW _src AS SELECT * FROM _all WHERE bad IS NULL")


@dataclass
class _Key:
    h: int
    resource: str
    metric: str
    statistic: str
    period: int | None
    unit: str
    rows: int
    nan: int
    inf: int
    neg: int
    gt100: int
    gt1000: int
    lo_ts: int | None
    hi_ts: int | None
    sid: int = 0
    cap: float = float("inf")


_SHOWN_BAD_ROWS = 5
_BAD_WORDS = {
    "malformed": "malformed",
    "blank": "blank",
    "timestamp": "bad timestamp",
    "value": "bad value",
    "resource": "no resource",
    "metric": "no metric",
}


def _drop_rejects(store: MetricStore) -> None:
    for table in (_REJECTS, _REJECTS + "_scan"):
        store.con.execute(f"DROP TABLE IF EXISTS {table}")


def _rejected_lines(store: MetricStore) -> dict[int, str]:
    """Lines DuckDB skipped for their number of columns, with the cause in plain words."""
    try:
        rows = store.con.execute(
            f"SELECT line, error_type, error_message FROM {_REJECTS} ORDER BY line"
        ).fetchall()
    except duckdb.Error:  # pragma: no cover - the table exists after any store_rejects scan
        return {}
    found: dict[int, list[int]] = {}
    other: dict[int, str] = {}
    for line, kind, message in rows:
        m = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", str(message))
        if m and str(kind) in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            found.setdefault(int(line), []).extend((int(m.group(1)), int(m.group(2))))
        else:
            other.setdefault(int(line), str(message).strip().splitlines()[0])
    out = dict(other)
    for line, nums in found.items():
        expected, counts = nums[0], nums[1::2]
        # A short row is reported once per missing column; the smallest count is the real one.
        n = min(counts) if min(counts) < expected else max(counts)
        out[line] = f"{n} {'column' if n == 1 else 'columns'}, expected {expected}"
    return out


def _lines_of_rows(
    path: Path, delimiter: str, rows: list[int], rejected: set[int]
) -> dict[int, int]:
    """File line of each wanted data row, as DuckDB numbers rows.

    DuckDB skips empty and rejected lines and a quoted field may span lines, so the line is
    found by reading the file up to the last wanted row (only done when rows were skipped).
    """
    wanted = set(rows)
    out: dict[int, int] = {}
    if not wanted:
        return out
    last = max(wanted)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader, None)
            index, start = 0, reader.line_num + 1
            for record in reader:
                here, start = start, reader.line_num + 1
                if not record or here in rejected:
                    continue
                index += 1
                if index in wanted:
                    out[index] = here
                    if index >= last:
                        break
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # the row numbers stay approximate
    return out


def _bad_row_issues(
    store: MetricStore, src: Source, rejected: dict[int, str], limit: int
) -> list[Issue]:
    """The first `limit` skipped rows (unparseable fields, blank, wrong column count)."""
    rows = (
        store.con.execute(
            f"""
            SELECT rn, ts_raw, v_raw, bad FROM (
                SELECT row_number() OVER () AS rn, ts_raw, v_raw, bad FROM _all)
            WHERE bad IS NOT NULL ORDER BY rn LIMIT {int(limit)}
            """
        ).fetchall()
        if limit > 0
        else []
    )
    lines = (
        _lines_of_rows(Path(src.label), src.delimiter, [int(r[0]) for r in rows], set(rejected))
        if src.row_word == "line"
        else {}
    )
    found: list[tuple[int, str]] = []
    for rn, ts_raw, v_raw, bad in rows:
        line = lines.get(int(rn), int(rn) + src.row_offset)
        if bad == "blank":
            msg = "blank row"
        elif bad == "timestamp":
            msg = (
                "missing timestamp"
                if ts_raw is None or not str(ts_raw).strip()
                else f"cannot parse timestamp {ts_raw!r}"
            )
        elif bad == "value":
            msg = f"cannot parse value {v_raw!r}"
        else:
            msg = f"missing {bad}"
        found.append((line, msg))
    found.extend(rejected.items())
    found.sort()
    return [
        Issue(
            code=IssueCode.METRICS_ERROR,
            message=f"{msg}; skipped",
            where=f"{src.label}:{line}" if src.row_word == "line" else f"{src.label} row {line}",
        )
        for line, msg in found[:limit]
    ]


@dataclass
class _Scan:
    rows: int = 0
    runs: int = 0
    non_increasing: int = 0
    out_of_order: int = 0
    gaps: int = 0
    missing: int = 0


def _scan(store: MetricStore, sql: str, periods: dict[int, int]) -> _Scan:
    """Stream (key, ts) in stored order, counting order breaks and gaps per key."""
    keys = np.array(sorted(periods), dtype=np.uint64)
    pers = np.array([periods[int(k)] for k in keys], dtype=np.int64)
    # One period for every key (the usual case) avoids a per-row lookup.
    single = int(pers[0]) if pers.size and np.all(pers == pers[0]) else 0
    out = _Scan()
    prev_k: np.ndarray[Any, Any] | None = None
    prev_t: np.ndarray[Any, Any] | None = None
    reader = store.con.sql(sql).to_arrow_reader(4_000_000)
    for batch in reader:
        k = batch.column(0).to_numpy().astype(np.uint64, copy=False)
        t = batch.column(1).to_numpy().astype(np.int64, copy=False)
        if k.size == 0:
            continue
        out.rows += k.size
        if prev_k is None:
            out.runs += 1
        else:
            k = np.concatenate((prev_k, k))
            t = np.concatenate((prev_t, t))  # type: ignore[arg-type]
        same = k[1:] == k[:-1]
        out.runs += k.size - 1 - int(np.count_nonzero(same))
        d = t[1:] - t[:-1]
        d[~same] = 1  # steps across series boundaries are neither disorder nor gaps
        out.non_increasing += int(np.count_nonzero(d <= 0))
        out.out_of_order += int(np.count_nonzero(d < 0))
        p: Any = single if single else pers[np.searchsorted(keys, k[1:])]
        # A step of 1.5 periods or more is a gap (jittered exports step by ~1 period).
        gap = d * 2 >= p * 3
        if gap.any():
            pg = p if single else p[gap]
            out.gaps += int(np.count_nonzero(gap))
            out.missing += int(np.sum(np.rint(d[gap] / pg).astype(np.int64) - 1))
        prev_k, prev_t = k[-1:], t[-1:]
    return out


def ingest_relation(
    store: MetricStore,
    src: Source,
    label: str,
    *,
    resource: str | None = None,
    metric: str | None = None,
    statistic: str | None = None,
    period_s: int | None = None,
) -> UpsertSummary:
    """Validate, count and merge one source into the store (the caller holds the transaction).

    Bad rows are counted and skipped. Raises RejectedInput for a source whose columns are
    unusable; the caller rolls back.
    """
    from leanstack.usage.store import SeriesKey, UpsertSummary, scalar

    con = store.con
    if src.audit_sql is not None:
        _drop_rejects(store)
    _build_view(
        store,
        src,
        resource=resource,
        metric=metric,
        statistic=statistic,
        period_s=period_s,
        from_sql=src.audit_sql,
    )
    try:
        agg_rows = con.execute(
            """
            SELECT h, any_value(resource), any_value(metric), any_value(statistic),
                   any_value(period), max(unit) FILTER (bad IS NULL),
                   count(*) FILTER (bad IS NULL),
                   count(*) FILTER (bad = 'blank'), count(*) FILTER (bad = 'timestamp'),
                   count(*) FILTER (bad = 'value'),
                   count(*) FILTER (bad = 'resource'), count(*) FILTER (bad = 'metric'),
                   count_if(bad IS NULL AND (v IS NULL OR isnan(v))),
                   count_if(bad IS NULL AND isinf(v)),
                   count_if(bad IS NULL AND isfinite(v) AND v < 0),
                   count_if(bad IS NULL AND isfinite(v) AND v > 100),
                   count_if(bad IS NULL AND isfinite(v) AND v > 1000),
                   min(ts) FILTER (bad IS NULL AND isfinite(v)),
                   max(ts) FILTER (bad IS NULL AND isfinite(v))
            FROM _all GROUP BY h
            """
        ).fetchall()
        rejected = _rejected_lines(store) if src.audit_sql is not None else {}
    finally:
        if src.audit_sql is not None:
            _drop_rejects(store)
    if src.audit_sql is not None:
        _build_view(
            store, src, resource=resource, metric=metric, statistic=statistic, period_s=period_s
        )
    bad_counts = {"malformed": len(rejected)}
    for i, what in enumerate(("blank", "timestamp", "value", "resource", "metric")):
        bad_counts[what] = sum(int(r[7 + i]) for r in agg_rows)
    skipped = sum(bad_counts.values())
    skipped_detail = tuple(f"{n} {_BAD_WORDS[w]}" for w, n in bad_counts.items() if n)
    shown = _bad_row_issues(store, src, rejected, _SHOWN_BAD_ROWS if skipped else 0)
    if skipped > len(shown):
        more = skipped - len(shown)
        shown.append(
            Issue(
                code=IssueCode.METRICS_ERROR,
                message=f"{more} more skipped {'row' if more == 1 else 'rows'} not listed",
                where=label,
            )
        )
    row_issues = tuple(shown)
    # From here on, r[7:12] (bad-row counts) are consumed; good-row columns follow.
    agg = [(*r[:7], *r[12:]) for r in agg_rows if int(r[6])]
    total_rows = sum(int(r[6]) for r in agg)
    if total_rows == 0:
        what = "no usable data rows" if skipped else "no data rows"
        return UpsertSummary(
            source=label,
            rows=skipped,
            skipped=skipped,
            skipped_detail=skipped_detail,
            issues=(
                *row_issues,
                Issue(code=IssueCode.INSUFFICIENT_DATA, message=what, where=label),
            ),
        )
    keys = [
        _Key(
            h=int(r[0]),
            resource=r[1],
            metric=r[2],
            statistic=r[3] or default_statistic(r[2]),
            period=int(r[4]) if r[4] is not None and int(r[4]) > 0 else None,
            unit=r[5] or default_unit(r[2]),
            rows=int(r[6]),
            nan=int(r[7]),
            inf=int(r[8]),
            neg=int(r[9]),
            gt100=int(r[10]),
            gt1000=int(r[11]),
            lo_ts=None if r[12] is None else int(r[12]),
            hi_ts=None if r[13] is None else int(r[13]),
        )
        for r in agg
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _stage AS SELECT h, ts, v FROM _src"
        " WHERE isfinite(v) AND v >= 0"
    )
    _infer_periods(store, keys)

    impossible = 0
    detail: dict[str, int] = {}
    for k in keys:
        rng = possible_range(k.resource, k.metric)
        k.cap = rng.high
        above = k.gt100 if rng.high == 100.0 else k.gt1000 if rng.high == 1000.0 else 0
        for what, n in (("negative", k.neg), (rng.reason_high, above), ("infinite", k.inf)):
            if n:
                detail[what] = detail.get(what, 0) + n
                impossible += n
    live = [k for k in keys if k.period is not None]
    ids = store.ensure_series(
        [(SeriesKey(k.resource, k.metric, k.statistic, k.period or 0), k.unit, label) for k in live]
    )
    for k, sid in zip(live, ids, strict=True):
        k.sid = sid
    con.register(
        "_map",
        pa.table(
            {
                "h": pa.array([k.h for k in live], pa.uint64()),
                "sid": pa.array([k.sid for k in live], pa.int32()),
                "cap": pa.array([k.cap for k in live], pa.float64()),
            }
        ),
    )
    try:
        scan = _scan(store, "SELECT h, ts FROM _stage", {k.h: k.period or 60 for k in live})
        injective = len({k.sid for k in live}) == len(live)
        fast = injective and scan.non_increasing == 0 and scan.runs == len(live)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _final AS SELECT m.sid, s.ts, s.v AS value"
            " FROM _stage s JOIN _map m ON s.h = m.h WHERE s.v <= m.cap"
        )
        staged = scan.rows - sum(
            k.gt100 if k.cap == 100.0 else k.gt1000 if k.cap == 1000.0 else 0 for k in live
        )
        gaps, missing = scan.gaps, scan.missing
        duplicates = 0
        target = "_final"
        if not fast:
            # Keep the largest of duplicated points: for sizing, a lost peak is the costly error.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _dedup AS SELECT sid, ts, max(value) AS value"
                " FROM _final GROUP BY sid, ts ORDER BY sid, ts"
            )
            deduped = int(scalar(con, "SELECT count(*) FROM _dedup"))
            duplicates = staged - deduped
            periods = {k.sid: k.period or 60 for k in live}
            rescan = _scan(store, "SELECT sid, ts FROM _dedup", periods)
            gaps, missing = rescan.gaps, rescan.missing
            target = "_dedup"
        fresh = _is_fresh(store, live)
        added, updated, unchanged = store._merge_stage(target, fresh=fresh)
        store.add_covered(
            [
                (k.sid, k.lo_ts, k.hi_ts + (k.period or 60))
                for k in live
                if k.lo_ts is not None and k.hi_ts is not None
            ]
        )
        store._refresh(sorted({k.sid for k in live}))
    finally:
        con.unregister("_map")
        con.execute("DROP VIEW IF EXISTS _final")
        con.execute("DROP TABLE IF EXISTS _dedup")
        con.execute("DROP TABLE IF EXISTS _stage")
        con.execute("DROP VIEW IF EXISTS _src")
        con.execute("DROP VIEW IF EXISTS _all")
    return UpsertSummary(
        source=label,
        rows=total_rows + skipped,
        skipped=skipped,
        skipped_detail=skipped_detail,
        issues=row_issues,
        series=len({k.sid for k in live}),
        added=added,
        updated=updated,
        unchanged=unchanged,
        duplicates=duplicates,
        out_of_order=scan.out_of_order,
        nan=sum(k.nan for k in keys),
        impossible=impossible,
        gaps=gaps,
        missing_points=missing,
        impossible_detail=tuple(f"{n} {what}" for what, n in sorted(detail.items())),
    )


def _infer_periods(store: MetricStore, keys: list[_Key]) -> None:
    """Period of keys without one: the median step between consecutive distinct timestamps."""
    todo = [k for k in keys if k.period is None]
    if not todo:
        return
    store.con.register("_todo", pa.table({"h": pa.array([k.h for k in todo], pa.uint64())}))
    try:
        rows = dict(
            store.con.execute(
                """
                SELECT h, median(d) FROM (
                    SELECT h, ts - lag(ts) OVER (PARTITION BY h ORDER BY ts) AS d
                    FROM (SELECT DISTINCT s.h, s.ts FROM _stage s SEMI JOIN _todo t ON s.h = t.h))
                WHERE d > 0 GROUP BY h
                """
            ).fetchall()
        )
    finally:
        store.con.unregister("_todo")
    for k in todo:
        step = rows.get(k.h)
        # A single point has no step: fall back on CloudWatch's standard minute.
        k.period = max(1, round(float(step))) if step is not None else 60


def _is_fresh(store: MetricStore, live: list[_Key]) -> bool:
    """True when no stored point of these series can fall in the incoming time ranges."""
    from leanstack.usage.store import scalar

    ranged = [k for k in live if k.lo_ts is not None and k.hi_ts is not None]
    if not ranged:
        return True
    store.con.register(
        "_ranges",
        pa.table(
            {
                "sid": pa.array([k.sid for k in ranged], pa.int32()),
                "lo": pa.array([k.lo_ts for k in ranged], pa.int64()),
                "hi": pa.array([k.hi_ts for k in ranged], pa.int64()),
            }
        ),
    )
    try:
        n = scalar(
            store.con,
            "SELECT count(*) FROM series s JOIN _ranges r ON s.id = r.sid"
            " WHERE s.start_s <= r.hi AND r.lo <= s.end_s",
        )
    finally:
        store.con.unregister("_ranges")
    return not n


def import_file(
    store: MetricStore,
    path: Path,
    *,
    resource: str | None = None,
    metric: str | None = None,
    statistic: str | None = None,
    period_s: int | None = None,
) -> UpsertSummary:
    """Import one CSV/Parquet file in its own transaction; a bad file changes nothing."""
    from leanstack.usage.store import UpsertSummary

    label = str(path)
    try:
        with store.transaction():
            from leanstack.usage.fastpath import fast_import

            fast = fast_import(
                store,
                path,
                label,
                resource=resource,
                metric=metric,
                statistic=statistic,
                period_s=period_s,
            )
            if fast is not None:
                return fast
            src = relation_from_file(store, path)
            return ingest_relation(
                store,
                src,
                label,
                resource=resource,
                metric=metric,
                statistic=statistic,
                period_s=period_s,
            )
    except RejectedInput as exc:
        return UpsertSummary(source=label, error=exc.issue)
    except duckdb.Error as exc:
        return UpsertSummary(
            source=label, error=_err(label, _duck_msg(exc) + "; file not imported")
        )
