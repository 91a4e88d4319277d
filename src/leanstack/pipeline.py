"""The whole job as plain functions: load -> price -> read load -> analyze -> report.

The CLI commands `estimate`, `analyze` and `patch PATH` call these, so they agree with each
other. Nothing here prints or exits: problems are Issues, or a `PipelineError` for a request
that cannot be carried out at all (a path that does not exist, a missing metric store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from leanstack.analysis import AnalysisResult, read_metric_store, run_analysis
from leanstack.catalog import Catalog, default_local_catalogs, load_catalog
from leanstack.estimate import Estimate, estimate
from leanstack.model.issues import Issue
from leanstack.report import CapacityInput, Report, report_from_pipeline
from leanstack.terraform import LoadResult, load_stack
from leanstack.usage.derive import DerivedUsage, derive_usage
from leanstack.usage.series import MetricSeries
from leanstack.usage.store import default_store_path
from leanstack.usage.usage_file import find_usage_file, load_usage_file

Progress = Callable[[str], None]


class PipelineError(Exception):
    """A request that cannot be carried out; its message is the one line the user sees."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineOptions:
    """Inputs beyond the stack path; the defaults find everything beside the stack."""

    var_files: Sequence[Path] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    usage: Path | None = None
    catalogs: Sequence[Path] = ()
    store: Path | None = None
    use_metrics: bool | None = None  # None: on when the store exists
    only: Sequence[str] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineResult:
    """Every stage's output, and the report built from them."""

    loaded: LoadResult
    catalog: Catalog
    estimate: Estimate
    metrics: Mapping[str, Mapping[str, MetricSeries]]
    store_path: Path | None
    derived: DerivedUsage | None = None
    analysis: AnalysisResult | None = None
    report: Report | None = None
    issues: tuple[Issue, ...] = ()


def _quiet(_: str) -> None:
    return None


def _check_inputs(path: Path, options: PipelineOptions) -> None:
    if not path.exists():
        raise PipelineError(f"{path}: no such file or directory")
    for local in options.catalogs:
        if not local.is_file():
            raise PipelineError(f"--catalog {local}: no such file")
    for tfvars in options.var_files:
        if not tfvars.is_file():
            raise PipelineError(f"--var-file {tfvars}: no such file")
    if options.usage is not None and not options.usage.is_file():
        raise PipelineError(f"--usage {options.usage}: no such file")


def stack_dir(path: Path) -> Path:
    """The directory a stack lives in (a plan JSON's own directory)."""
    return path if path.is_dir() else path.parent


def price_stack(
    path: Path, options: PipelineOptions = PipelineOptions(), progress: Progress = _quiet
) -> PipelineResult:
    """Load and price a stack; with metrics, usage-based components come from recorded load."""
    _check_inputs(path, options)
    catalog = load_catalog([*default_local_catalogs(), *options.catalogs])
    progress("Loading Terraform")
    loaded = load_stack(path, var_files=list(options.var_files), variables=options.variables)
    usage_path = options.usage if options.usage is not None else find_usage_file(path)
    usage_file = load_usage_file(usage_path) if usage_path is not None else None

    store_path = options.store or default_store_path(stack_dir(path))
    use_metrics = options.use_metrics if options.use_metrics is not None else store_path.is_file()
    if use_metrics and not store_path.is_file():
        raise PipelineError(
            f"{store_path}: no metric store (run `leanstack metrics import`, `fetch` or `synth`)"
        )
    metrics: dict[str, dict[str, MetricSeries]] = {}
    derived: DerivedUsage | None = None
    overrides: dict[str, dict[str, Decimal]] = {}
    issues: list[Issue] = []
    if use_metrics:
        progress("Reading recorded load")
        try:
            metrics = read_metric_store(store_path, [r.address for r in loaded.resources])
            derived = _derived_usage(store_path, loaded)
            overrides = {
                address: {key: Decimal(str(value)) for key, value in keys.items()}
                for address, keys in derived.as_usage_file().items()
            }
            issues.extend(derived.issues)
        except PipelineError:
            raise
        except Exception as exc:  # a corrupt or locked store is one line, not a traceback
            raise PipelineError(f"{store_path}: cannot read the metric store: {exc}") from exc
    progress("Pricing")
    priced = estimate(loaded, catalog, usage_file, usage_overrides=overrides)
    return PipelineResult(
        loaded=loaded,
        catalog=catalog,
        estimate=priced,
        metrics=metrics,
        store_path=store_path if use_metrics else None,
        derived=derived,
        issues=tuple(issues),
    )


def _derived_usage(store_path: Path, loaded: LoadResult) -> DerivedUsage:
    """Usage keys (monthly requests, GB processed...) from the recorded load."""
    from leanstack.usage.store import MetricStore

    with MetricStore(store_path, read_only=True) as store:
        return derive_usage(store, loaded.resources)


def analyze_stack(
    path: Path, options: PipelineOptions = PipelineOptions(), progress: Progress = _quiet
) -> PipelineResult:
    """Price the stack, run the analyzers over its recorded load, and build the report."""
    priced = price_stack(path, options, progress)
    if not priced.loaded.resources:
        return priced
    progress("Analyzing and replaying the load")
    analysis = run_analysis(
        priced.estimate,
        priced.loaded.resources,
        priced.metrics,
        priced.catalog,
        only=list(options.only) if options.only else None,
        settings=dict(options.settings),
    )
    progress("Building the report")
    report = report_from_pipeline(
        loaded=priced.loaded,
        estimate=priced.estimate,
        analysis=analysis,
        metrics=_series_by_address(priced.metrics),
        stack_path=str(path),
        capacity=_scaling_targets(priced.loaded),
        var_files=[_relative(v, priced.loaded.root) for v in options.var_files],
    )
    return PipelineResult(
        loaded=priced.loaded,
        catalog=priced.catalog,
        estimate=priced.estimate,
        metrics=priced.metrics,
        store_path=priced.store_path,
        derived=priced.derived,
        analysis=analysis,
        report=report,
        issues=priced.issues,
    )


def _relative(path: Path, root: Path) -> str:
    """A path as the patcher reads it: relative to the stack root when it lies inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


_TRACKED_METRIC = {
    "ECSServiceAverageCPUUtilization": "CPUUtilization",
    "ECSServiceAverageMemoryUtilization": "MemoryUtilization",
}


def _scaling_targets(loaded: LoadResult) -> list[CapacityInput]:
    """Each ECS service's target-tracking target, drawn on its utilization chart."""
    from leanstack.simulate import policies_from_terraform

    index = {r.address: r for r in loaded.resources}
    lines: list[CapacityInput] = []
    for resource in loaded.resources:
        if resource.type != "aws_ecs_service":
            continue
        for policy in policies_from_terraform(resource, index).policies:
            metric = _TRACKED_METRIC.get(getattr(policy, "metric", ""))
            target = getattr(policy, "target", None)
            if metric is not None and isinstance(target, int | float):
                lines.append(
                    CapacityInput(
                        address=resource.address,
                        metric=metric,
                        label=f"scaling target {target:g}%",
                        value=float(target),
                        kind="target",
                    )
                )
    return lines


def _series_by_address(
    metrics: Mapping[str, Mapping[str, MetricSeries]],
) -> dict[str, list[MetricSeries]]:
    """Each stored series once per address (the analyzers' index lists some twice)."""
    out: dict[str, list[MetricSeries]] = {}
    for address, by_key in metrics.items():
        seen: dict[int, MetricSeries] = {}
        for series in by_key.values():
            seen.setdefault(id(series), series)
        out[address] = list(seen.values())
    return out
