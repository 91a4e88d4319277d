"""The analyzer framework: settings, input context, registry and finding helpers.

An analyzer is a pure plugin. It reads an `AnalysisContext` (resources, their prices, the
recorded metric series, the catalog) and returns `Finding`s. It does no I/O, never raises
for "not enough data" (that is an `insufficient_data` finding), and prices every figure it
shows from the catalog.
"""

from __future__ import annotations

import math
from abc import ABC
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from leanstack.catalog import Catalog
from leanstack.model.findings import Confidence, Finding, FindingStatus, Recommendation
from leanstack.model.pricing import PricedResource
from leanstack.model.resource import Resource, is_known
from leanstack.usage.series import MetricSeries

FloatArray = npt.NDArray[np.float64]


class AnalyzerSettings(BaseModel):
    """Base of every analyzer's settings: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DataGateSettings(AnalyzerSettings):
    """Settings for analyzers that read metric series.

    Defaults: Compute Optimizer needs at least 30 hours of metrics in its 14-day lookback
    (EC2 requirement, the only one AWS publishes); KRR's simple strategy needs 100 points.
    Coverage below one half means the window is mostly gaps, so percentiles say little.
    """

    lookback_days: float = Field(
        14.0,
        gt=0,
        description="Days of the most recent load to analyze (Compute Optimizer default).",
    )
    min_hours: float = Field(
        30.0, ge=0, description="Least hours of data before concluding anything."
    )
    min_points: int = Field(100, ge=1, description="Least data points before concluding anything.")
    min_coverage: float = Field(
        0.5, ge=0, le=1, description="Least share of the window's grid points that must be present."
    )


S = TypeVar("S", bound=AnalyzerSettings)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisContext:
    """What an analyzer may read. Everything is already loaded: analyzers do no I/O.

    `metrics` maps a resource address to its series by CloudWatch metric name. `settings`
    holds user overrides keyed `analyzer.setting`.
    """

    catalog: Catalog
    resources: Mapping[str, Resource]
    priced: Mapping[str, PricedResource] = field(default_factory=dict)
    metrics: Mapping[str, Mapping[str, MetricSeries]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def of_type(self, *types: str) -> list[Resource]:
        """Managed resources of these types, in address order."""
        return sorted(
            (r for r in self.resources.values() if r.type in types and r.mode == "managed"),
            key=lambda r: r.address,
        )

    def series(
        self, address: str, metric: str, prefer: tuple[str, ...] = ()
    ) -> MetricSeries | None:
        """The recorded series of one metric of one resource, if any.

        `metrics[address]` maps `Metric` to the default-statistic series and may also map
        `Metric:Statistic` to each statistic recorded; `prefer` names statistics to try first
        (the hottest task's `Maximum` for sizing, the `Average` target tracking sees).
        """
        by_metric = self.metrics.get(address, {})
        for statistic in prefer:
            found = by_metric.get(f"{metric}:{statistic}")
            if found is not None:
                return found
            plain = by_metric.get(metric)
            if plain is not None and plain.statistic == statistic:
                return plain
        return by_metric.get(metric)

    def referenced(self, resource: Resource, attr: str | None = None) -> list[Resource]:
        """Resources this one references (through one attribute, or any)."""
        names = [attr] if attr else list(resource.refs)
        out: dict[str, Resource] = {}
        for name in names:
            for address in resource.refs.get(name, ()):
                target = self.resources.get(address)
                if target is not None:
                    out[address] = target
        return list(out.values())

    def referencing(self, address: str, type_: str | None = None) -> list[Resource]:
        """Resources (of one type, or any) that reference `address` through any attribute."""
        out = []
        for res in self.resources.values():
            if type_ is not None and res.type != type_:
                continue
            if any(address in addrs for addrs in res.refs.values()):
                out.append(res)
        return sorted(out, key=lambda r: r.address)


class Analyzer(ABC, Generic[S]):
    """One analyzer: reads resources of `applies_to`, their `needs` metrics, returns findings.

    Subclasses set `name`, `title`, `applies_to`, `needs` and `settings_model`, and override
    `analyze_resource` (or `analyze` for stack-wide analyzers).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    applies_to: ClassVar[frozenset[str]] = frozenset()
    needs: ClassVar[frozenset[str]] = frozenset()
    settings_model: ClassVar[type[AnalyzerSettings]] = AnalyzerSettings

    def settings(self, overrides: Mapping[str, Any]) -> S:
        """This analyzer's settings with the `name.setting` overrides applied (validated)."""
        prefix = f"{self.name}."
        mine = {k[len(prefix) :]: v for k, v in overrides.items() if k.startswith(prefix)}
        return self.settings_model.model_validate(mine)  # type: ignore[return-value]

    def analyze(self, ctx: AnalysisContext, settings: S) -> Iterable[Finding]:
        """Findings for the whole stack; by default one call per applicable resource."""
        for resource in ctx.of_type(*sorted(self.applies_to)):
            yield from self.analyze_resource(resource, ctx, settings)

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: S
    ) -> Iterable[Finding]:
        """Findings for one resource."""
        return ()

    # Helpers shared by every analyzer -------------------------------------------------------

    def finding(
        self,
        resource: Resource | str,
        status: FindingStatus,
        summary: str,
        evidence: Mapping[str, Any] | None = None,
        recommendation: Recommendation | None = None,
    ) -> Finding:
        """A finding attributed to this analyzer."""
        address = resource if isinstance(resource, str) else resource.address
        return Finding(
            analyzer=self.name,
            address=address,
            status=status,
            summary=summary,
            evidence=dict(evidence or {}),
            recommendation=recommendation,
        )

    def rec_id(self, address: str, what: str) -> str:
        """A stable recommendation id."""
        return f"{self.name}:{address}:{what}"


_REGISTRY: dict[str, type[Analyzer[Any]]] = {}

A = TypeVar("A", bound=type[Analyzer[Any]])


def register(cls: A) -> A:
    """Class decorator adding an analyzer to the registry (names must be unique)."""
    if not cls.__doc__:
        raise TypeError(f"analyzer {cls.__name__} has no docstring")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"two analyzers named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Analyzer[Any]]]:
    """Every registered analyzer by name, sorted."""
    return dict(sorted(_REGISTRY.items()))


# Data gate and evidence ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """The analyzed part of one series: the last `lookback_days`, NaN gaps kept."""

    series: MetricSeries
    values: FloatArray

    @property
    def present(self) -> FloatArray:
        """Present values only."""
        return self.values[~np.isnan(self.values)]

    @property
    def points(self) -> int:
        """Present points."""
        return int(np.count_nonzero(~np.isnan(self.values)))

    @property
    def coverage(self) -> float:
        """Share of grid points present."""
        return self.points / len(self.values) if len(self.values) else 0.0

    @property
    def hours(self) -> float:
        """Hours of present data."""
        return self.points * self.series.period_s / 3600.0

    @property
    def days(self) -> float:
        """Length of the window in days."""
        return len(self.values) * self.series.period_s / 86400.0

    def pct(self, q: float) -> float:
        """q-th percentile of present values (linear interpolation), NaN when empty."""
        data = self.present
        return float(np.percentile(data, q)) if data.size else math.nan

    def evidence(self, scale: float = 1.0, unit: str = "") -> dict[str, Any]:
        """Window facts and the usual percentiles, for a finding's evidence."""
        data = self.present * scale
        out: dict[str, Any] = {
            "metric": self.series.metric,
            "statistic": self.series.statistic,
            "window_days": round(self.days, 2),
            "coverage": round(self.coverage, 4),
            "points": self.points,
            "period_s": self.series.period_s,
        }
        if unit:
            out["unit"] = unit
        if data.size:
            for q in (50, 95, 99, 99.5):
                out[f"p{q:g}".replace(".", "_")] = round(float(np.percentile(data, q)), 4)
            out["mean"] = round(float(data.mean()), 4)
            out["max"] = round(float(data.max()), 4)
        return out


def window(series: MetricSeries, lookback_days: float) -> Window:
    """The last `lookback_days` of a series."""
    keep = max(1, round(lookback_days * 86400 / series.period_s))
    values = np.asarray(series.values, dtype=np.float64)
    return Window(series, values[-keep:])


def gate(win: Window | None, settings: DataGateSettings, metric: str) -> str | None:
    """Why the data is not enough to conclude (None when it is)."""
    if win is None:
        return f"no {metric} series recorded"
    if win.points < settings.min_points:
        return f"{metric}: {win.points} points, fewer than the {settings.min_points} required"
    if win.hours < settings.min_hours:
        return (
            f"{metric}: {win.hours:.1f} h of data, less than the {settings.min_hours:g} h required"
        )
    if win.coverage < settings.min_coverage:
        return (
            f"{metric}: coverage {win.coverage:.0%} of the window, below the "
            f"{settings.min_coverage:.0%} required"
        )
    return None


def gated(
    ctx: AnalysisContext,
    address: str,
    metric: str,
    settings: DataGateSettings,
    prefer: tuple[str, ...] = (),
) -> tuple[Window | None, str | None]:
    """A recorded series' window when it passes the data gate, else None and why not.

    The one way for an analyzer to read a series it draws a figure from: data that fails the
    gate is never used, so a day of data cannot move a monthly figure.
    """
    series = ctx.series(address, metric, prefer)
    win = window(series, settings.lookback_days) if series is not None else None
    reason = gate(win, settings, metric)
    return (win, None) if reason is None else (None, reason)


def confidence_of(*wins: Window) -> Confidence:
    """High with two weeks at >= 90% coverage, medium with a week at >= 70%, else low."""
    days = min(w.days for w in wins)
    cov = min(w.coverage for w in wins)
    if days >= 13.5 and cov >= 0.9:
        return Confidence.HIGH
    if days >= 7 and cov >= 0.7:
        return Confidence.MEDIUM
    return Confidence.LOW


# Small conversions -------------------------------------------------------------------------


def dec(value: float | int | Decimal) -> Decimal:
    """A float quantity as Decimal (six decimals, so no binary noise leaks into money)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(round(float(value), 6)))


def as_number(value: Any) -> float | None:
    """A Terraform scalar ("512", 512, 0.5) as float; None when unset, unknown or not a number."""
    if value is None or not is_known(value) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def same_kind(before: Any, value: float | int) -> Any:
    """`value` written like `before`: a string stays a string, an int stays an int."""
    number: float | int = int(value) if float(value).is_integer() else value
    if isinstance(before, str):
        return str(number)
    return number
