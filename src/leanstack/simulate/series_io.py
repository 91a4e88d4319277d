"""Load CPU (and request) series for the backtest: CSV files, directories, or the metric store.

Every input ends up as a 1-minute CPU% array. Coarser series (NAB and CloudWatch 5-minute
data) hold each value until the next point, up to one period; longer gaps stay NaN.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.usage.series import MetricSeries

FloatArray = npt.NDArray[np.float64]

CPU_METRICS = ("CPUUtilization",)
REQUEST_METRICS = ("RequestCount",)
STORE_RELPATH = Path(".leanstack") / "metrics.duckdb"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CpuSeries:
    """A 1-minute CPU% series (NaN = no data), with requests per minute when recorded."""

    name: str
    start: datetime
    cpu_pct: FloatArray
    requests: FloatArray | None = None
    tasks: FloatArray | None = None
    memory_peak_pct: float | None = None
    source: str = ""

    @property
    def minutes(self) -> int:
        """Length in minutes."""
        return len(self.cpu_pct)


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def resample_minutes(epoch_s: npt.ArrayLike, values: npt.ArrayLike) -> tuple[int, FloatArray]:
    """Points at arbitrary times onto a 1-minute grid, holding each value for one period.

    Returns (first minute as epoch seconds, values). The period is the median spacing; a value
    is held until the next point or for one period, whichever comes first.
    """
    ts = np.asarray(epoch_s, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    if ts.size == 0:
        return 0, np.zeros(0)
    order = np.argsort(ts, kind="stable")
    ts, vals = ts[order], vals[order]
    minute = ts // 60
    first = int(minute[0])
    n = int(minute[-1]) - first + 1
    period = int(np.median(np.diff(minute))) if minute.size > 1 else 1
    period = max(period, 1)
    grid = np.full(n + period - 1, np.nan)
    idx = minute - first
    grid[idx] = vals  # a duplicate minute keeps the later value
    position = np.where(~np.isnan(grid), np.arange(grid.size), -1)
    last = np.maximum.accumulate(position)
    held = (last >= 0) & (np.arange(grid.size) - last < period)
    out = np.where(held, grid[np.clip(last, 0, None)], np.nan)
    return first * 60, out[: n + period - 1]


def _rows_issue(path: Path, line: int, message: str) -> Issue:
    # Line 0 means "the file (or directory) as a whole": no line number to name.
    where = f"{path}:{line}" if line > 0 else str(path)
    return Issue(code=IssueCode.USAGE_ERROR, message=message, where=where, severity=Severity.ERROR)


def read_csv(path: Path) -> tuple[list[CpuSeries], list[Issue]]:
    """A two-column `timestamp,value` CPU% file, or a long-format file.

    Long format: `timestamp,resource,metric,value[,unit,statistic,period]`; each resource with a
    CPUUtilization metric becomes a series, with its RequestCount (Sum per period) as requests.
    """
    issues: list[Issue] = []
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        return [], [_rows_issue(path, 0, f"cannot read: {exc.strerror or exc}")]
    with handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        if not header:
            return [], [_rows_issue(path, 1, "empty file")]
        long_format = {"timestamp", "resource", "metric", "value"} <= set(header)
        if not long_format and header[:2] != ["timestamp", "value"]:
            return [], [
                _rows_issue(
                    path,
                    1,
                    "expected a `timestamp,value` header or the long format "
                    "`timestamp,resource,metric,value`",
                )
            ]
        col = {name: i for i, name in enumerate(header)}
        groups: dict[tuple[str, str], tuple[list[int], list[float], list[int]]] = defaultdict(
            lambda: ([], [], [])
        )
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            try:
                ts = int(_parse_time(row[col["timestamp"]]).timestamp())
                value = float(row[col["value"]])
            except (ValueError, IndexError):
                return [], [_rows_issue(path, line, f"cannot read timestamp/value from {row!r}")]
            if long_format:
                key = (row[col["resource"]].strip(), row[col["metric"]].strip())
                period = row[col["period"]] if "period" in col and len(row) > col["period"] else ""
                per = int(period) if period.strip().isdigit() else 0
            else:
                key, per = (path.stem, "CPUUtilization"), 0
            bucket = groups[key]
            bucket[0].append(ts)
            bucket[1].append(value)
            bucket[2].append(per)
    out: list[CpuSeries] = []
    for (resource, metric), (ts_list, values, _) in sorted(groups.items()):
        if metric not in CPU_METRICS:
            continue
        arr = np.asarray(values)
        if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 100):
            issues.append(
                _rows_issue(
                    path,
                    2,
                    f"{resource}: values from {np.nanmin(arr):g} to {np.nanmax(arr):g} "
                    "are not a CPU percentage; series skipped",
                )
            )
            continue
        start_s, cpu = resample_minutes(ts_list, values)
        requests = None
        req = groups.get((resource, "RequestCount"))
        if req is not None and req[0]:
            r_start, r_vals = resample_minutes(req[0], req[1])
            per_min = np.median(np.diff(np.sort(np.asarray(req[0])))) / 60 if len(req[0]) > 1 else 1
            explicit = [p for p in req[2] if p]
            if explicit:
                per_min = explicit[0] / 60
            requests = _align(r_start, r_vals / max(per_min, 1.0), start_s, cpu.size)
        name = path.stem if not long_format else f"{path.stem}:{resource}"
        out.append(
            CpuSeries(
                name=name,
                start=datetime.fromtimestamp(start_s, tz=UTC),
                cpu_pct=cpu,
                requests=requests,
                source=str(path),
            )
        )
    if not out and not issues:
        issues.append(_rows_issue(path, 1, "no CPUUtilization series in the file"))
    return out, issues


def _align(start_s: int, values: FloatArray, target_start_s: int, length: int) -> FloatArray:
    out = np.full(length, np.nan)
    offset = (start_s - target_start_s) // 60
    src_lo = max(0, -offset)
    dst_lo = max(0, offset)
    count = min(len(values) - src_lo, length - dst_lo)
    if count > 0:
        out[dst_lo : dst_lo + count] = values[src_lo : src_lo + count]
    return out


def from_metric_series(cpu: MetricSeries, requests: MetricSeries | None = None) -> CpuSeries:
    """Adapter from the metric store's MetricSeries (any period) to a 1-minute CpuSeries."""
    start_s = int(cpu.start.timestamp())
    ts = start_s + cpu.period_s * np.arange(len(cpu.values))
    keep = ~np.isnan(cpu.values)
    first, values = resample_minutes(ts[keep], cpu.values[keep])
    req = None
    if requests is not None:
        r_ts = int(requests.start.timestamp()) + requests.period_s * np.arange(len(requests.values))
        r_keep = ~np.isnan(requests.values)
        r_first, r_vals = resample_minutes(r_ts[r_keep], requests.values[r_keep])
        req = _align(r_first, r_vals / max(requests.period_s / 60, 1.0), first, values.size)
    return CpuSeries(
        name=cpu.resource,
        start=datetime.fromtimestamp(first, tz=UTC),
        cpu_pct=values,
        requests=req,
        source=cpu.resource,
    )


def _is_ecs_service(address: str) -> bool:
    parts = [p for p in address.split(".") if not p.startswith("module")]
    return len(parts) >= 2 and parts[-2].split("[")[0] == "aws_ecs_service"


def read_store(path: Path) -> tuple[list[CpuSeries], list[Issue]]:
    """ECS services' CPUUtilization (and ALB-free RequestCount) from a metric store file.

    Reads the schema documented in `leanstack.usage.store` (tables `series`, `points`) with
    DuckDB directly, read-only.
    """
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return [], [_rows_issue(path, 0, f"cannot open the metric store: {exc}")]
    try:
        rows = con.execute(
            "SELECT id, resource, metric, statistic, period_s FROM series "
            "WHERE metric IN ('CPUUtilization', 'RequestCount', 'RunningTaskCount', "
            "'MemoryUtilization') "
            "ORDER BY resource, period_s"
        ).fetchall()
        picked: dict[tuple[str, str], tuple[int, int]] = {}
        for sid, resource, metric, statistic, period in rows:
            if not _is_ecs_service(resource):
                continue  # RDS and cache CPU are not task-scaled work
            wanted = {
                "CPUUtilization": "Average",
                "RequestCount": "Sum",
                "MemoryUtilization": "Maximum",  # the peak sizes memory (KRR: max + 15 %)
            }.get(metric, "Average")
            if statistic != wanted or (resource, metric) in picked:
                continue
            picked[(resource, metric)] = (int(sid), int(period))
        out: list[CpuSeries] = []
        for (resource, metric), (sid, _period) in sorted(picked.items()):
            if metric != "CPUUtilization":
                continue
            data = con.execute(
                "SELECT ts, value FROM points WHERE sid = ? ORDER BY ts", [sid]
            ).fetchnumpy()
            start_s, cpu = resample_minutes(data["ts"], data["value"])
            requests = None
            if (resource, "RequestCount") in picked:
                rsid, rperiod = picked[(resource, "RequestCount")]
                rdata = con.execute(
                    "SELECT ts, value FROM points WHERE sid = ? ORDER BY ts", [rsid]
                ).fetchnumpy()
                r_start, r_vals = resample_minutes(rdata["ts"], rdata["value"])
                requests = _align(r_start, r_vals / max(rperiod / 60, 1.0), start_s, cpu.size)
            tasks = None
            if (resource, "RunningTaskCount") in picked:
                tsid, _ = picked[(resource, "RunningTaskCount")]
                tdata = con.execute(
                    "SELECT ts, value FROM points WHERE sid = ? ORDER BY ts", [tsid]
                ).fetchnumpy()
                t_start, t_vals = resample_minutes(tdata["ts"], tdata["value"])
                tasks = _align(t_start, t_vals, start_s, cpu.size)
            memory_peak = None
            if (resource, "MemoryUtilization") in picked:
                msid, _ = picked[(resource, "MemoryUtilization")]
                row = con.execute("SELECT max(value) FROM points WHERE sid = ?", [msid]).fetchone()
                memory_peak = None if row is None or row[0] is None else float(row[0])
            out.append(
                CpuSeries(
                    name=resource,
                    start=datetime.fromtimestamp(start_s, tz=UTC),
                    cpu_pct=cpu,
                    requests=requests,
                    tasks=tasks,
                    memory_peak_pct=memory_peak,
                    source=str(path),
                )
            )
    except duckdb.Error as exc:
        return [], [_rows_issue(path, 0, f"cannot read the metric store: {exc}")]
    finally:
        con.close()
    if not out:
        message = "no ECS service CPUUtilization series in the metric store"
        return [], [_rows_issue(path, 0, message)]
    return out, []


def load_inputs(path: Path) -> tuple[list[CpuSeries], list[Issue]]:
    """A CSV file, a directory of CSV files, or a stack directory with a metric store."""
    if not path.exists():
        return [], [_rows_issue(path, 0, "no such file or directory")]
    if path.is_file():
        if path.suffix == ".duckdb":
            return read_store(path)
        return read_csv(path)
    store = path / STORE_RELPATH
    if store.is_file():
        return read_store(store)
    series: list[CpuSeries] = []
    issues: list[Issue] = []
    # Subdirectories too (NAB keeps its series in realAWSCloudwatch/), but not hidden ones.
    files = sorted(
        f
        for f in path.rglob("*.csv")
        if not any(part.startswith(".") for part in f.relative_to(path).parts)
    )
    if not files:
        return [], [
            _rows_issue(path, 0, "no CSV files (here or below) and no .leanstack/metrics.duckdb")
        ]
    for file in files:
        found, problems = read_csv(file)
        series.extend(found)
        issues.extend(problems)
    return series, issues


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end."""
    return math.floor((end - start).total_seconds() / 60)
