"""Bulk import of clean long-format Parquet: Arrow batches and numpy, no SQL per row.

Most large exports are already clean: series stored one after the other, timestamps
increasing, a period column. For those, two streaming passes over the file's record batches
do everything the general pipeline does (count NaN and impossible values, detect disorder,
duplicates and gaps) with dictionary codes instead of strings, then append straight into the
store. Anything else (string timestamps, missing periods, disorder, duplicates, overlap with
stored points, malformed rows) returns None and the general DuckDB pipeline takes over, so
the results and the summary are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leanstack.usage.catalog import default_statistic, default_unit, possible_range

if TYPE_CHECKING:
    from leanstack.usage.store import MetricStore, UpsertSummary

_BATCH = 1 << 22
_MAX_RUNS_PER_BATCH = 50_000
_INSERT_ROWS = 8_000_000
_NAMES = {
    "timestamp": ("timestamp", "time", "ts", "datetime", "date"),
    "value": ("value", "val"),
    "resource": ("resource", "address"),
    "metric": ("metric", "metric_name"),
    "statistic": ("statistic", "stat"),
    "period": ("period", "period_s"),
    "unit": ("unit",),
}
_TS_DIV = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


class _NotApplicable(Exception):
    """The file needs the general pipeline."""


@dataclass
class _Key:
    resource: str
    metric: str
    statistic: str | None
    period: int
    unit: str | None = None
    nan: int = 0
    inf: int = 0
    neg: int = 0
    gt100: int = 0
    gt1000: int = 0
    lo: int | None = None
    hi: int | None = None
    staged: int = 0


@dataclass
class _Codes:
    """Global ids of the distinct strings of one column across batches."""

    ids: dict[str | None, int] = field(default_factory=dict)
    values: list[str | None] = field(default_factory=list)

    def codes(self, arr: pa.Array, required: bool) -> np.ndarray[Any, Any]:
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        if required and arr.null_count:
            raise _NotApplicable
        local = []
        for v in arr.dictionary.to_pylist():
            key = None if v is None else str(v)
            if key not in self.ids:
                self.ids[key] = len(self.values)
                self.values.append(key)
            local.append(self.ids[key])
        if None not in self.ids:
            self.ids[None] = len(self.values)
            self.values.append(None)
        lut = np.array([*local, self.ids[None]], dtype=np.int64)
        idx = pc.fill_null(arr.indices, len(local)).to_numpy(zero_copy_only=False)
        out: np.ndarray[Any, Any] = lut[idx.astype(np.int64, copy=False)]
        return out


def _columns(schema: pa.Schema) -> dict[str, str]:
    lower = {n.strip().lower(): n for n in schema.names}
    found: dict[str, str] = {}
    for logical, names in _NAMES.items():
        for n in names:
            if n in lower:
                found[logical] = lower[n]
                break
    return found


def _epoch_seconds(col: pa.Array) -> np.ndarray[Any, Any]:
    if col.null_count:
        raise _NotApplicable
    t = col.type
    if pa.types.is_timestamp(t):
        raw: np.ndarray[Any, Any] = col.cast(pa.int64()).to_numpy()
        return np.floor_divide(raw, _TS_DIV[t.unit])  # type: ignore[no-any-return]
    if pa.types.is_integer(t):
        ints: np.ndarray[Any, Any] = col.cast(pa.int64()).to_numpy()
        return np.where(np.abs(ints) > 10**11, ints // 1000, ints)
    raise _NotApplicable


class _Reader:
    def __init__(
        self,
        path: Path,
        resource: str | None,
        metric: str | None,
        statistic: str | None,
        period_s: int | None,
    ):
        self.path = path
        self.parquet = _is_parquet(path)
        schema = pq.ParquetFile(path).schema_arrow if self.parquet else self._csv().schema
        self.cols = _columns(schema)
        if "timestamp" not in self.cols or "value" not in self.cols:
            raise _NotApplicable
        self.fixed = {"resource": resource, "metric": metric, "statistic": statistic}
        self.period_s = period_s
        for logical in ("resource", "metric"):
            if self.fixed[logical] is None and logical not in self.cols:
                raise _NotApplicable
        if period_s is None and "period" not in self.cols:
            raise _NotApplicable
        self.codes = {k: _Codes() for k in ("resource", "metric", "statistic", "unit")}
        self.keys: dict[tuple[int, int, int, int], int] = {}
        self.key_list: list[_Key] = []

    def _csv(self) -> Any:
        # Large blocks keep the per-batch work (dictionary codes, run detection) negligible;
        # dictionary-encoded strings avoid hashing every row's address.
        return pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=1 << 26),
            convert_options=pacsv.ConvertOptions(
                auto_dict_encode=True, auto_dict_max_cardinality=1 << 16, strings_can_be_null=True
            ),
        )

    def batches(self) -> Any:
        if not self.parquet:
            return self._csv()
        names = sorted(set(self.cols.values()))
        return pq.ParquetFile(self.path).iter_batches(
            batch_size=_BATCH, columns=names, use_threads=True
        )

    def _code(self, batch: pa.RecordBatch, logical: str, n: int) -> np.ndarray[Any, Any]:
        fixed = self.fixed.get(logical)
        if fixed is not None or logical not in self.cols:
            arr = pa.array([fixed] * 1, pa.string())
            code = self.codes[logical].codes(arr, required=False)[0]
            return np.full(n, code, dtype=np.int64)
        return self.codes[logical].codes(
            batch.column(self.cols[logical]), required=logical in ("resource", "metric")
        )

    def decode(self, batch: pa.RecordBatch) -> tuple[np.ndarray[Any, Any], ...]:
        """(key id per row, epoch seconds, values) of one batch."""
        n = batch.num_rows
        r = self._code(batch, "resource", n)
        m = self._code(batch, "metric", n)
        s = self._code(batch, "statistic", n)
        u = self._code(batch, "unit", n)
        if self.period_s is not None:
            p = np.full(n, int(self.period_s), dtype=np.int64)
        else:
            pcol = batch.column(self.cols["period"])
            if pcol.null_count or not pa.types.is_integer(pcol.type):
                raise _NotApplicable
            p = pcol.cast(pa.int64()).to_numpy()
            if (p <= 0).any():
                raise _NotApplicable
        change = np.ones(n, dtype=bool)
        change[1:] = (r[1:] != r[:-1]) | (m[1:] != m[:-1]) | (s[1:] != s[:-1]) | (p[1:] != p[:-1])
        starts = np.flatnonzero(change)
        if starts.size > _MAX_RUNS_PER_BATCH:
            raise _NotApplicable  # interleaved series: the general pipeline sorts them out
        run_ids = np.empty(starts.size, dtype=np.int64)
        for i, at in enumerate(starts):
            tup = (int(r[at]), int(m[at]), int(s[at]), int(p[at]))
            kid = self.keys.get(tup)
            if kid is None:
                kid = len(self.key_list)
                self.keys[tup] = kid
                self.key_list.append(
                    _Key(
                        resource=str(self.codes["resource"].values[tup[0]]),
                        metric=str(self.codes["metric"].values[tup[1]]),
                        statistic=self.codes["statistic"].values[tup[2]],
                        period=tup[3],
                    )
                )
            key = self.key_list[kid]
            if key.unit is None:
                key.unit = self.codes["unit"].values[int(u[at])]
            run_ids[i] = kid
        lengths = np.diff(np.append(starts, n))
        kid_rows = np.repeat(run_ids, lengths)
        ts = _epoch_seconds(batch.column(self.cols["timestamp"]))
        vcol = batch.column(self.cols["value"])
        if not (pa.types.is_floating(vcol.type) or pa.types.is_integer(vcol.type)):
            raise _NotApplicable
        v = vcol.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return kid_rows, ts, v


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def fast_import(
    store: MetricStore,
    path: Path,
    label: str,
    *,
    resource: str | None = None,
    metric: str | None = None,
    statistic: str | None = None,
    period_s: int | None = None,
) -> UpsertSummary | None:
    """Import a clean long-format Parquet or CSV file, or return None for the general pipeline.

    The caller holds the transaction.
    """
    from leanstack.usage.store import SeriesKey, UpsertSummary

    try:
        reader = _Reader(path, resource, metric, statistic, period_s)
        rows, runs, last_k, last_t = 0, 0, -1, 0
        gaps = missing = 0
        caps: list[float] = []
        # Decoded batches are kept (20 bytes a row) so the file is read once.
        kept: list[tuple[np.ndarray[Any, Any], ...]] = []
        for batch in reader.batches():
            k, ts, v = reader.decode(batch)
            kept.append((k.astype(np.int32), ts, v))
            rows += k.size
            while len(caps) < len(reader.key_list):
                key = reader.key_list[len(caps)]
                caps.append(possible_range(key.resource, key.metric).high)
            nk = len(reader.key_list)
            finite = np.isfinite(v)
            all_finite = bool(finite.all())
            nonneg = v >= 0
            all_staged = all_finite and bool(nonneg.all())
            # Clean batches (the usual case) skip every full-size masked copy.
            counts: dict[str, np.ndarray[Any, Any]] = {}
            if not all_finite:
                nan = np.isnan(v)
                counts["nan"] = np.bincount(k[nan], minlength=nk)
                counts["inf"] = np.bincount(k[~finite & ~nan], minlength=nk)
            if not all_staged:
                counts["neg"] = np.bincount(k[finite & ~nonneg], minlength=nk)
            big = v > 100  # NaN compares False
            if big.any():
                kb, vb = k[big], v[big]
                counts["gt100"] = np.bincount(kb, minlength=nk)
                counts["gt1000"] = np.bincount(kb[vb > 1000], minlength=nk)
            staged = slice(None) if all_staged else (finite & nonneg)
            counts["staged"] = np.bincount(k[staged], minlength=nk)
            for name, arr in counts.items():
                for kid in np.flatnonzero(arr):
                    key = reader.key_list[int(kid)]
                    setattr(key, name, getattr(key, name) + int(arr[kid]))
            ks, tss = (k, ts) if all_finite else (k[finite], ts[finite])
            if ks.size:
                # Rows of a series are contiguous here, so first/last are its min/max when
                # timestamps increase; disorder is caught below and sends us to SQL anyway.
                change = np.ones(ks.size, dtype=bool)
                change[1:] = ks[1:] != ks[:-1]
                heads = np.flatnonzero(change)
                tails = np.append(heads[1:], ks.size) - 1
                for h, t in zip(heads, tails, strict=True):
                    key = reader.key_list[int(ks[h])]
                    key.lo = int(tss[h]) if key.lo is None else min(key.lo, int(tss[h]))
                    key.hi = int(tss[t]) if key.hi is None else max(key.hi, int(tss[t]))
            k2, t2 = (k, ts) if all_staged else (k[staged], ts[staged])
            if k2.size == 0:
                continue
            kk = np.concatenate(([last_k], k2)) if last_k >= 0 else k2
            tt = np.concatenate(([last_t], t2)) if last_k >= 0 else t2
            if last_k < 0:
                runs += 1
            same = kk[1:] == kk[:-1]
            runs += int(np.count_nonzero(~same))
            d = tt[1:] - tt[:-1]
            if np.count_nonzero(same & (d <= 0)):
                raise _NotApplicable  # duplicates or disorder
            periods = np.array([key.period for key in reader.key_list], dtype=np.int64)
            per: Any = int(periods[0]) if np.all(periods == periods[0]) else periods[kk[1:]]
            gap = same & (d * 2 >= per * 3)
            if gap.any():
                gaps += int(np.count_nonzero(gap))
                pg = per if isinstance(per, int) else per[gap]
                missing += int(np.sum(np.rint(d[gap] / pg).astype(np.int64) - 1))
            last_k, last_t = int(kk[-1]), int(tt[-1])
        live = [key for key in reader.key_list]
        if runs != sum(1 for key in live if key.staged):
            raise _NotApplicable  # a series appears in several places of the file
    except _NotApplicable:
        return None
    except (pa.ArrowException, OSError):
        return None  # let the general pipeline report the problem with its row
    for key in live:
        if key.statistic is None:
            key.statistic = default_statistic(key.metric)
        if not key.unit:
            key.unit = default_unit(key.metric)
    skeys = [SeriesKey(key.resource, key.metric, str(key.statistic), key.period) for key in live]
    if len(set(skeys)) != len(skeys):
        return None  # an explicit and a default statistic name the same series
    sids = store.ensure_series(
        [(sk, key.unit or "", label) for sk, key in zip(skeys, live, strict=True)]
    )
    if not _fresh(store, sids, live):
        return None
    sid_of = np.array(sids, dtype=np.int32)
    cap_of = np.array([possible_range(key.resource, key.metric).high for key in live])
    added = 0
    con = store.con
    con.execute("SET preserve_insertion_order = false")
    try:
        # Few large appends: DuckDB's per-statement cost dominates small ones.
        group: list[tuple[np.ndarray[Any, Any], ...]] = []
        size = 0
        for i in range(len(kept)):
            group.append(kept[i])
            kept[i] = ()  # drop our reference as soon as the part is grouped
            size += group[-1][0].size
            if size < _INSERT_ROWS and i + 1 < len(kept):
                continue
            k = np.concatenate([g[0] for g in group])
            ts = np.concatenate([g[1] for g in group])
            v = np.concatenate([g[2] for g in group])
            group, size = [], 0
            ok = np.isfinite(v) & (v >= 0) & (v <= cap_of[k])
            tbl = pa.table({"sid": sid_of[k[ok]], "ts": ts[ok], "value": v[ok]})
            del k, ts, v
            con.register("_fast_batch", tbl)
            try:
                con.execute("INSERT INTO points SELECT sid, ts, value FROM _fast_batch")
            finally:
                con.unregister("_fast_batch")
            added += tbl.num_rows
            del tbl
    finally:
        con.execute("SET preserve_insertion_order = true")
    store.add_covered(
        [
            (sid, key.lo, key.hi + key.period)
            for sid, key in zip(sids, live, strict=True)
            if key.lo is not None and key.hi is not None
        ]
    )
    store._refresh(sorted(set(sids)))
    detail: dict[str, int] = {}
    impossible = 0
    for key in live:
        rng = possible_range(key.resource, key.metric)
        above = key.gt100 if rng.high == 100.0 else key.gt1000 if rng.high == 1000.0 else 0
        for what, n in (("negative", key.neg), (rng.reason_high, above), ("infinite", key.inf)):
            if n:
                detail[what] = detail.get(what, 0) + n
                impossible += n
    return UpsertSummary(
        source=label,
        rows=rows,
        series=len(set(sids)),
        added=added,
        nan=sum(key.nan for key in live),
        impossible=impossible,
        gaps=gaps,
        missing_points=missing,
        impossible_detail=tuple(f"{n} {what}" for what, n in sorted(detail.items())),
    )


def _fresh(store: MetricStore, sids: list[int], live: list[_Key]) -> bool:
    """True when no stored point of these series can fall in the incoming ranges."""
    stored = {
        int(r[0]): (int(r[1]), int(r[2]))
        for r in store.con.execute(
            "SELECT id, start_s, end_s FROM series WHERE start_s IS NOT NULL AND points > 0"
        ).fetchall()
    }
    for sid, key in zip(sids, live, strict=True):
        rng = stored.get(sid)
        if rng is None or key.lo is None or key.hi is None:
            continue
        if rng[0] <= key.hi and key.lo <= rng[1]:
            return False
    return True
