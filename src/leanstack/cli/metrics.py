"""`leanstack metrics`: import, fetch, synthesize and show the recorded load of a stack."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanstack.cli._common import (
    choose_format,
    err_console,
    fail,
    format_option,
    out_option,
    warn,
    write_output,
)

if TYPE_CHECKING:
    from leanstack.model import Resource
    from leanstack.usage.store import MetricStore

metrics_app = typer.Typer(
    name="metrics",
    help="Recorded load: import files, fetch CloudWatch, synthesize a demo load, show series.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_SPARKS = "▁▂▃▄▅▆▇█"


class ShowFormat(StrEnum):
    """Output formats of `leanstack metrics show`."""

    TABLE = "table"
    JSON = "json"


def _store_path(store: Path | None, stack: Path | None) -> Path:
    from leanstack.usage.store import default_store_path

    if store is not None:
        return store
    if stack is not None and not stack.exists():
        fail(f"{stack}: no such file or directory")
    return default_store_path(stack if stack is not None else Path.cwd())


def _open(path: Path, *, read_only: bool = False) -> MetricStore:
    import duckdb

    from leanstack.usage.store import MetricStore, describe_store_error, store_problem

    if read_only and not path.exists():
        fail(f"{path}: no metric store (run `leanstack metrics import`, `fetch` or `synth`)")
    problem = store_problem(path)
    if problem is not None:
        fail(f"{path}: {problem}")
    try:
        return MetricStore(path, read_only=read_only)
    except duckdb.Error as exc:
        fail(f"{path}: {describe_store_error(exc)}")
    except OSError as exc:
        fail(f"{path}: cannot open the metric store: {exc.strerror or exc}")


@contextmanager
def _writing(path: Path) -> Iterator[tuple[MetricStore, list[bool]]]:
    """Open a store for writing; remove it again if this command created it and wrote nothing.

    The caller appends True to the list once a point is in the store. A failed import or an
    unreachable endpoint must not leave an empty store (DuckDB allocates ~800 KB) behind.
    """
    created = not path.exists()
    new_dirs: list[Path] = []  # the directories MetricStore will create, innermost first
    for d in path.absolute().parents:
        if d.exists():
            break
        new_dirs.append(d)
    wrote: list[bool] = []
    st = _open(path)
    try:
        yield st, wrote
    finally:
        st.close()
        if created and not any(wrote):
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
            for d in new_dirs:
                with suppress(OSError):
                    d.rmdir()  # only when empty


def _load_resources(path: Path) -> tuple[Resource, ...]:
    from leanstack.model import IssueCode, Severity
    from leanstack.terraform import load_stack

    if not path.exists():
        fail(f"{path}: no such file or directory")
    loaded = load_stack(path)
    # As estimate and analyze: a stack that cannot be parsed stops the command (exit 2)
    # before anything is fetched or written.
    stopping = {IssueCode.PARSE_ERROR, IssueCode.PLAN_ERROR}
    errors = [i for i in loaded.issues if i.severity is Severity.ERROR and i.code in stopping]
    for issue in errors or loaded.issues:
        text = issue.line().removesuffix(" (blocks with errors are skipped)")
        err_console.print(f"{issue.severity}: {text}", markup=False)
    if errors:
        raise typer.Exit(2)
    return loaded.resources


def parse_duration(text: str) -> timedelta:
    """`14d`, `36h`, `90m`, `2w` -> timedelta."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text)
    if not m:
        raise ValueError(f"{text!r}: expected a duration like 14d, 36h, 90m or 2w")
    n = float(m.group(1))
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    return timedelta(**{unit: n})


def sparkline(values: Any, width: int = 24) -> str:
    """Unicode sparkline of a series (bucket means, NaN buckets as spaces)."""
    import numpy as np

    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return ""
    buckets = np.array_split(data, min(width, data.size))
    means = np.array(
        [np.nanmean(b) if np.any(~np.isnan(b)) else np.nan for b in buckets], dtype=np.float64
    )
    present = means[~np.isnan(means)]
    if present.size == 0:
        return " " * len(means)
    lo, hi = float(present.min()), float(present.max())
    span = hi - lo or 1.0
    return "".join(
        " " if math.isnan(v) else _SPARKS[min(7, int((v - lo) / span * 7.999))] for v in means
    )


def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    # Six characters at most, so that the table fits 100 columns.
    if a >= 1e9:
        return f"{v / 1e9:.1f}G"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _json_float(v: float) -> float | None:
    return None if v is None or math.isnan(v) else float(v)


@metrics_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files")],
    resource: Annotated[
        str | None, typer.Option("--resource", help="Terraform address (two-column files)")
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="CloudWatch metric name (two-column files)")
    ] = None,
    statistic: Annotated[
        str | None, typer.Option("--statistic", help="statistic when the file has none")
    ] = None,
    period: Annotated[
        int | None, typer.Option("--period", help="period in seconds (default: inferred)")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="metric store file (default: the --stack's store)"),
    ] = None,
    stack: Annotated[
        Path | None,
        typer.Option(
            "--stack",
            help="stack whose store to use, DIR/.leanstack/metrics.duckdb "
            "(default: the current directory)",
        ),
    ] = None,
) -> None:
    """Import CSV/Parquet metric files into the store, one summary line per file.

    Long files have columns timestamp,resource,metric,value[,unit,statistic,period];
    two-column files (timestamp,value) need --resource and --metric. Bad rows (wrong number
    of columns, blank, unparseable timestamp or value) are counted and skipped, the first few
    named with their line; impossible values (negative, a percentage above 100) are counted
    and not stored. A file whose header is unusable is rejected whole.

    Without --store or --stack, the store is .leanstack/metrics.duckdb in the current
    directory (the line "store: PATH" on stderr says so). A store this command creates is
    removed again when nothing could be imported. Exit 1 when a file is rejected or has no
    usable row (the other files are still imported), 2 when a file cannot be read.
    """
    from leanstack.usage.importer import import_file

    if period is not None and period < 1:
        fail(f"--period {period}: must be a number of seconds, 1 or more")
    for f in files:
        if not f.is_file():
            fail(f"{f}: no such file" if not f.exists() else f"{f}: not a file")
        try:
            with f.open("rb"):
                pass
        except OSError as exc:
            fail(f"{f}: cannot read: {exc.strerror or exc}")
    path = _store_path(store, stack)
    if store is None and stack is None:
        err_console.print(f"store: {path}", markup=False)
    failed = 0
    with _writing(path) as (st, wrote):
        for f in files:
            summary = import_file(
                st, f, resource=resource, metric=metric, statistic=statistic, period_s=period
            )
            if summary.ok:
                typer.echo(summary.line())
                for issue in summary.issues:
                    warn(issue.line())
                wrote.append(summary.wrote)
                if summary.rows - summary.skipped == 0:
                    failed += 1
            else:
                failed += 1
                err_console.print(f"error: {summary.line()}", markup=False)
    if failed:
        raise typer.Exit(1)


@metrics_app.command("fetch")
def fetch_command(
    path: Annotated[Path, typer.Argument(help="Terraform directory or plan JSON")],
    since: Annotated[str, typer.Option("--since", help="look-back window (14d, 36h...)")] = "14d",
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="CloudWatch-compatible endpoint")
    ] = None,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", help="attempts per request (throttling, errors)")
    ] = 6,
    store: Annotated[Path | None, typer.Option("--store", help="metric store file")] = None,
) -> None:
    """Fetch the stack's CloudWatch metrics into the store (only what it lacks).

    Exit 2 when CloudWatch cannot be asked at all (credentials, endpoint, region); a store
    this command created is then removed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from leanstack.usage.cloudwatch import FetchError, fetch_metrics

    try:
        window = parse_duration(since)
    except ValueError as exc:
        fail(f"--since {exc}")
    resources = _load_resources(path)
    with (
        _writing(_store_path(store, path)) as (st, wrote),
        Progress(
            TextColumn("fetching metrics"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            disable=not sys.stderr.isatty(),
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("fetch", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = fetch_metrics(
                st,
                resources,
                since=window,
                profile=profile,
                region=region,
                endpoint_url=endpoint_url,
                max_attempts=max_attempts,
                progress=progress,
            )
        except FetchError as exc:
            # Nothing could be asked (credentials, endpoint, region): as `catalog fetch`.
            fail(exc.issue.message, 2)
        wrote.append(summary.points > 0)
    for issue in summary.issues:
        warn(issue.line())
    typer.echo(
        f"fetched {summary.start:%Y-%m-%d %H:%M} -> {summary.end:%Y-%m-%d %H:%M} UTC at "
        f"{summary.period_s} s: {summary.targets} series, {summary.queries} queries in "
        f"{summary.calls} calls ({summary.retries} retries), {summary.points} new points"
    )


@metrics_app.command("synth")
def synth_command(
    path: Annotated[Path, typer.Argument(help="Terraform directory or plan JSON")],
    days: Annotated[int, typer.Option("--days", help="days of 1-minute points")] = 14,
    seed: Annotated[int, typer.Option("--seed", help="random seed")] = 7,
    start: Annotated[
        str | None, typer.Option("--start", help="first day, YYYY-MM-DD (default: days ago)")
    ] = None,
    store: Annotated[Path | None, typer.Option("--store", help="metric store file")] = None,
) -> None:
    """Write a realistic, reproducible synthetic load for every resource of the stack."""
    from leanstack.usage.synth import synthesize

    if days < 1:
        fail("--days must be at least 1")
    first: datetime | None = None
    if start is not None:
        try:
            first = datetime.strptime(start, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            fail(f"--start {start!r}: expected YYYY-MM-DD")
    resources = _load_resources(path)
    series = synthesize(resources, days, seed, first)
    if not series:
        fail(f"{path}: no resource leanstack can synthesize load for", 1)
    with _open(_store_path(store, path)) as st:
        summary = st.upsert_series(series, source=f"synth seed={seed}")
    typer.echo(summary.line())


@metrics_app.command("show")
def show_command(
    path: Annotated[Path | None, typer.Argument(help="stack (to find its default store)")] = None,
    output_format: Annotated[ShowFormat | None, format_option("table or json")] = None,
    store: Annotated[Path | None, typer.Option("--store", help="metric store file")] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="only this Terraform address")
    ] = None,
    out: Annotated[Path | None, out_option(".json, .txt")] = None,
) -> None:
    """Per resource and metric: points, window, coverage, mean, p50/p95/p99, max, sparkline."""
    output_format = choose_format(
        out, output_format, ShowFormat.TABLE, {".json": ShowFormat.JSON, ".txt": ShowFormat.TABLE}
    )
    with _open(_store_path(store, path), read_only=True) as st:
        stats = st.stats(resource)
        if resource is not None and not stats:
            known = sorted({i.key.resource for i in st.list_series()})
            listed = ", ".join(known[:20]) + (
                f" and {len(known) - 20} more" if len(known) > 20 else ""
            )
            fail(f"--resource {resource!r}: no series in {st.path} (stored: {listed or 'none'})")
        buckets = (
            st.bucket_means(_SPARK_WIDTH, resource) if output_format is ShowFormat.TABLE else {}
        )
    rows: list[dict[str, Any]] = []
    sparks: list[str] = []
    for s in stats:
        info = s.info
        rows.append(
            {
                "resource": info.key.resource,
                "metric": info.key.metric,
                "statistic": info.key.statistic,
                "period_s": info.key.period_s,
                "points": info.points,
                "start": info.start.isoformat() if info.start else None,
                "end": info.end.isoformat() if info.end else None,
                "coverage": round(info.coverage, 6),
                "mean": _json_float(s.mean),
                "p50": _json_float(s.p50),
                "p95": _json_float(s.p95),
                "p99": _json_float(s.p99),
                "max": _json_float(s.max),
            }
        )
        sparks.append(sparkline(buckets.get(info.id, []), _SPARK_WIDTH))
    if output_format is ShowFormat.JSON:
        write_output(json.dumps({"series": rows}, indent=2), out)
        return
    if not rows:
        write_output("no series stored", out)
        return
    write_output(_table(rows, sparks), out)


_WIDTH = 100
_STAT_ABBREV = {"Average": "avg", "Maximum": "max", "Minimum": "min", "Sum": "sum"}
_SPARK_WIDTH = 12


def _table(rows: list[dict[str, Any]], sparks: list[str]) -> str:
    """One line per series under a line per resource (its window), 100 columns wide."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    # One space between columns: the usual two do not fit 100 columns.
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    table.add_column("  metric", no_wrap=True, max_width=26, overflow="ellipsis")
    for col, justify in (
        ("stat", "left"),
        ("period", "right"),
        ("points", "right"),
        ("cover", "right"),
        ("mean", "right"),
        ("p50", "right"),
        ("p95", "right"),
        ("p99", "right"),
        ("max", "right"),
        ("load", "left"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r, spark in zip(rows, sparks, strict=True):
        table.add_row(
            f"  {r['metric']}",
            _STAT_ABBREV.get(r["statistic"], r["statistic"]),
            f"{r['period_s']}s",
            str(r["points"]),
            f"{r['coverage']:.0%}",
            *(
                _num(r[k] if r[k] is not None else float("nan"))
                for k in ("mean", "p50", "p95", "p99", "max")
            ),
            spark,
        )
    buf = StringIO()
    Console(file=buf, width=_WIDTH, highlight=False, color_system=None).print(table)
    lines = [line.rstrip() for line in buf.getvalue().splitlines()]
    out = [lines[0]]
    windows: dict[str, tuple[str, str]] = {}
    for r in rows:
        lo, hi = windows.get(r["resource"], (r["start"] or "", r["end"] or ""))
        windows[r["resource"]] = (min(lo, r["start"] or lo), max(hi, r["end"] or hi))
    last = None
    for r, line in zip(rows, lines[1:], strict=True):
        if r["resource"] != last:
            lo, hi = (w[:16].replace("T", " ") for w in windows[r["resource"]])
            out.append(f"{r['resource']}  {lo} -> {hi} UTC" if lo else r["resource"])
            last = r["resource"]
        out.append(line)
    return "\n".join(out) + "\n"


def register(app: typer.Typer) -> None:
    """Add the `metrics` group to the root app."""
    app.add_typer(metrics_app, name="metrics")
