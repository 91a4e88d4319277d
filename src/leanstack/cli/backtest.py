"""`leanstack backtest`: replay autoscaling policies over recorded load against baselines."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leanstack.cli._common import (
    EXIT_NOTHING_DONE,
    EXIT_USAGE,
    choose_format,
    fail,
    format_option,
    out_option,
    print_issues,
    stopping_issues,
    write_output,
)

if TYPE_CHECKING:
    from leanstack.simulate.policies import Deployment


class BacktestFormat(StrEnum):
    """Output formats of `leanstack backtest`."""

    TABLE = "table"
    JSON = "json"


def _parse_sizes(text: str) -> tuple[int, ...]:
    from leanstack.simulate.optimizer import FARGATE_SIZES

    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) not in FARGATE_SIZES:
            fail(
                f"--sizes {text!r}: {part!r} is not a Fargate CPU size "
                f"({', '.join(map(str, FARGATE_SIZES))})"
            )
        out.append(int(part))
    return tuple(out)


def _parse_deployments(expressions: list[str], minutes: int) -> tuple[Deployment, ...]:
    from datetime import UTC, datetime

    from leanstack.model.issues import Issue
    from leanstack.simulate.policies import Deployment
    from leanstack.simulate.schedule import deployment_mask

    if expressions and minutes <= 0:
        fail(f"--deploy-minutes {minutes}: must be positive")
    out = tuple(
        Deployment(name=f"--deploy {text!r}", schedule=text.strip(), duration_s=minutes * 60)
        for text in expressions
    )
    # Check the expressions now, so a typo is one line before any work starts.
    problems: list[Issue] = []
    deployment_mask(out, datetime(2026, 1, 1, tzinfo=UTC), 1440, problems)
    if problems:
        fail(problems[0].line())
    return out


def register(app: typer.Typer) -> None:
    """Add `backtest` to the root app."""

    @app.command("backtest")
    def backtest_command(
        path: Annotated[
            Path,
            typer.Argument(
                metavar="PATH",
                help="CPU-percent CSV (timestamp,value or long format), a directory of CSVs, or a "
                "stack directory with .leanstack/metrics.duckdb",
            ),
        ],
        train_days: Annotated[
            float | None,
            typer.Option(
                "--train-days",
                metavar="DAYS",
                help="days to fit on  [default: 7, or half the series]",
            ),
        ] = None,
        output_format: Annotated[
            BacktestFormat | None,
            format_option("table or json"),
        ] = None,
        task_cpu: Annotated[
            int | None,
            typer.Option(
                "--task-cpu", metavar="UNITS", help="CPU units the series was recorded at"
            ),
        ] = None,
        task_memory: Annotated[
            int | None, typer.Option("--task-memory", metavar="MIB", help="task memory MiB")
        ] = None,
        tasks: Annotated[
            float | None,
            typer.Option("--tasks", metavar="N", help="tasks running when the series was recorded"),
        ] = None,
        target: Annotated[
            float | None,
            typer.Option(
                "--target", metavar="PERCENT", help="current target-tracking target, percent"
            ),
        ] = None,
        min_capacity: Annotated[
            int | None, typer.Option("--min", metavar="N", help="current min capacity")
        ] = None,
        max_capacity: Annotated[
            int | None, typer.Option("--max", metavar="N", help="current max capacity")
        ] = None,
        sizes: Annotated[
            str,
            typer.Option(
                "--sizes", metavar="LIST", help="candidate task CPU sizes for the optimizer"
            ),
        ] = "256,512,1024,2048",
        max_requests_per_task: Annotated[
            float | None,
            typer.Option(
                "--max-requests-per-task",
                metavar="N",
                help="SLO latency proxy: max requests per task per minute (needs RequestCount)",
            ),
        ] = None,
        start_latency: Annotated[
            int,
            typer.Option(
                "--start-latency", metavar="SECONDS", help="task start latency in seconds"
            ),
        ] = 60,
        deploy: Annotated[
            list[str] | None,
            typer.Option(
                "--deploy",
                metavar="SCHEDULE",
                help="when deployments run (scale-in is suspended during them): "
                "cron(...), rate(...) or at(...), UTC; repeatable",
            ),
        ] = None,
        deploy_minutes: Annotated[
            int,
            typer.Option(
                "--deploy-minutes", metavar="MINUTES", help="how long each deployment lasts"
            ),
        ] = 10,
        out: Annotated[
            Path | None,
            out_option(".json, .txt"),
        ] = None,
    ) -> None:
        """Fit on the first days of each series, replay the rest: current policy, optimizer,
        oracle and static baselines (KRR, VPA, Compute Optimizer-like, peak)."""
        from leanstack.simulate.optimizer import SloSettings
        from leanstack.simulate.run import BacktestOptions, run_backtest

        fmt = choose_format(out, output_format, BacktestFormat.TABLE, _FORMAT_BY_SUFFIX)
        if not path.exists():
            fail(f"{path}: no such file or directory")
        if min_capacity is not None and min_capacity < 0:
            fail(f"--min {min_capacity}: must be 0 or more")
        if max_capacity is not None and max_capacity < 1:
            fail(f"--max {max_capacity}: must be 1 or more")
        if min_capacity is not None and max_capacity is not None and min_capacity > max_capacity:
            fail(f"--min {min_capacity} is above --max {max_capacity}")
        if task_memory is not None and task_memory <= 0:
            fail(f"--task-memory {task_memory}: must be positive")
        if start_latency < 0:
            fail(f"--start-latency {start_latency}: must be 0 or more")
        if task_cpu is not None and task_cpu not in (256, 512, 1024, 2048, 4096, 8192, 16384):
            fail(f"--task-cpu {task_cpu}: not a Fargate CPU size")
        if tasks is not None and tasks <= 0:
            fail(f"--tasks {tasks}: must be positive")
        if target is not None and not 0 < target <= 100:
            fail(f"--target {target}: must be in (0, 100]")
        if max_requests_per_task is not None and max_requests_per_task <= 0:
            fail(f"--max-requests-per-task {max_requests_per_task}: must be positive")
        if train_days is not None and train_days <= 0:
            fail(f"--train-days {train_days}: must be positive")
        deployments = _parse_deployments(deploy or [], deploy_minutes)
        options = BacktestOptions(
            deployments=deployments,
            train_days=train_days,
            task_cpu_units=task_cpu,
            task_memory_mib=task_memory,
            tasks=tasks,
            target=target,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            candidate_cpu=_parse_sizes(sizes),
            start_latency_s=start_latency,
            slo=SloSettings(requests_per_task_ceiling=max_requests_per_task),
        )
        report = run_backtest(path, options)
        if not report.results:
            # A file that cannot be read is exit 2; readable input without a series is exit 1.
            stopping = stopping_issues(report.issues)
            if stopping:
                print_issues(stopping)
                raise typer.Exit(EXIT_USAGE)
            print_issues(report.issues)
            fail(f"{path}: no series could be backtested", EXIT_NOTHING_DONE)
        print_issues(report.issues)
        # A series too short to backtest is a result ("not enough data"), shown in the table.
        if fmt is BacktestFormat.JSON:
            write_output(json.dumps(report.to_json(), indent=2), out)
            return
        write_output(_table(report), out)


_FORMAT_BY_SUFFIX = {".json": BacktestFormat.JSON, ".txt": BacktestFormat.TABLE}


def _table(report: object) -> str:
    from rich.console import Console
    from rich.table import Table

    from leanstack.simulate.run import BacktestReport

    assert isinstance(report, BacktestReport)
    # Render into a buffer: the text goes out once, through write_output (stdout or --out).
    console = Console(
        file=io.StringIO(), record=True, width=150, force_terminal=False, color_system=None
    )
    for result in report.results:
        if not result.rows:
            reasons = "; ".join(i.message for i in result.issues) or "no rows"
            console.print(f"{result.series}: not enough data to backtest ({reasons})")
            console.print()
            continue
        table = Table(
            title=f"{result.series}: fit {result.train_minutes / 1440:.1f} d, "
            f"evaluated {result.test_minutes / 1440:.1f} d",
            title_justify="left",
        )
        for name, justify in (
            ("policy", "left"),
            ("$/month", "right"),
            ("vs oracle", "right"),
            ("breach min", "right"),
            ("breach %", "right"),
            ("detail", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for row in result.rows:
            ratio = "-" if row.cost_vs_oracle is None else f"{row.cost_vs_oracle:.2f}x"
            table.add_row(
                row.policy,
                f"{row.monthly_cost.quantize(Decimal('0.01')):,}",
                ratio,
                str(row.breach_minutes),
                f"{row.breach_share:.2%}",
                row.detail,
            )
        console.print(table)
        if result.optimizer_within_target is not None:
            console.print(
                "optimizer target (<= 1.15x oracle, breaches <= best baseline): "
                + result.target_explanation
            )
        console.print()
    for note in report.notes:
        console.print(f"note: {note}")
    console.print(f"prices: embedded catalog {report.catalog_date}")
    return console.export_text()
