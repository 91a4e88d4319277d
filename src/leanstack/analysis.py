"""Run the analyzers over a priced stack and its recorded load, and total the savings.

Totals never add savings that overlap: recommendations sharing an `exclusive_group` (for
example rightsizing, Graviton and Spot on one service) count once, at the best of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leanstack.analyzers import registry
from leanstack.analyzers._base import AnalysisContext, Analyzer
from leanstack.catalog import Catalog
from leanstack.model.findings import Confidence, Finding, FindingStatus, Phase, Recommendation
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.pricing import PricedResource, PricingStatus
from leanstack.model.resource import Resource
from leanstack.usage.series import MetricSeries

INVENTORY = "inventory"


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Current monthly cost and the savings the recommendations support.

    `monthly_savings` counts the best recommendation of each exclusive group. The range runs
    from `monthly_savings_low` (only high- and medium-confidence recommendations, at their
    low estimate) to `monthly_savings_high` (every recommendation at its high estimate).
    """

    monthly_cost: Decimal
    monthly_savings: Decimal
    monthly_savings_low: Decimal
    monthly_savings_high: Decimal

    @property
    def annual_savings(self) -> Decimal:
        """Twelve months of `monthly_savings`."""
        return self.monthly_savings * 12


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisResult:
    """Findings for every resource, the recommendations among them, totals and issues."""

    findings: tuple[Finding, ...]
    recommendations: tuple[Recommendation, ...]
    totals: Totals
    issues: tuple[Issue, ...] = ()
    analyzers: tuple[str, ...] = ()


def index_metrics(series: Iterable[MetricSeries]) -> dict[str, dict[str, MetricSeries]]:
    """Series by resource: `Metric:Statistic` for each, and `Metric` for the default statistic.

    The default is CloudWatch's (Sum for counts, Average otherwise), else the first recorded;
    of several periods the finest wins.
    """
    from leanstack.usage.catalog import default_statistic

    out: dict[str, dict[str, MetricSeries]] = defaultdict(dict)
    for s in sorted(series, key=lambda s: (s.resource, s.metric, s.statistic, -s.period_s)):
        by_metric = out[s.resource]
        by_metric[f"{s.metric}:{s.statistic}"] = s
        plain = by_metric.get(s.metric)
        if plain is None or (
            s.statistic == default_statistic(s.metric)
            and (plain.statistic != s.statistic or s.period_s <= plain.period_s)
        ):
            by_metric[s.metric] = s
    return dict(out)


def read_metric_store(
    store_path: Path, addresses: Iterable[str]
) -> dict[str, dict[str, MetricSeries]]:
    """Every stored series of these resources, indexed for the analyzers (`index_metrics`).

    `leanstack analyze` and `leanstack patch` read the store this way so they agree.
    """
    from leanstack.usage.store import MetricStore

    with MetricStore(store_path, read_only=True) as store:
        return index_metrics(s for a in addresses for s in store.all_series(a))


def _priced_map(estimate_or_priced: Any) -> dict[str, PricedResource]:
    items: Iterable[Any]
    if hasattr(estimate_or_priced, "resources"):
        items = estimate_or_priced.resources
    elif isinstance(estimate_or_priced, Mapping):
        items = estimate_or_priced.values()
    else:
        items = estimate_or_priced or ()
    return {p.address: p for p in items if isinstance(p, PricedResource)}


def parse_settings(
    settings: Mapping[str, Any], names: Iterable[str]
) -> tuple[dict[str, Any], list[Issue]]:
    """Check `analyzer.setting` keys name a known analyzer; bad keys become issues."""
    known = set(names)
    good: dict[str, Any] = {}
    issues = []
    for key, value in settings.items():
        analyzer, _, setting = key.partition(".")
        if not setting or analyzer not in known:
            issues.append(
                Issue(
                    code=IssueCode.USAGE_ERROR,
                    message=(
                        f"unknown setting {key!r} (use analyzer.setting; see `leanstack analyzers`)"
                    ),
                    where="--set",
                    severity=Severity.ERROR,
                )
            )
            continue
        good[key] = value
    return good, issues


def _estimate(rec: Recommendation, key: str) -> Decimal:
    """The recommendation's own low or high estimate (from its evidence), else its saving."""
    value = rec.evidence.get(key)
    if value is None:
        return rec.monthly_savings
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return rec.monthly_savings
    return number if number.is_finite() else rec.monthly_savings


def recommendation_savings(rec: Recommendation, tier: str) -> Decimal | None:
    """What a recommendation counts for at one end of the range (`low`, `expected`, `high`).

    None when it does not count there: a low-confidence change is left out of the low end.
    """
    if tier == "low":
        if rec.confidence is Confidence.LOW:
            return None
        return _estimate(rec, "monthly_savings_low")
    if tier == "high":
        return _estimate(rec, "monthly_savings_high")
    return rec.monthly_savings


def tier_savings(
    recs: Sequence[Recommendation], tier: str, phases: Iterable[Phase] | None = None
) -> Decimal:
    """Sum over exclusive groups of the best value in `tier` (among `phases`, default all).

    A group never counts below zero: a change that would cost more is not part of the plan.
    """
    allowed = set(phases) if phases is not None else set(Phase)
    groups: dict[str, list[Recommendation]] = defaultdict(list)
    for rec in recs:
        # An empty group means the recommendation overlaps with nothing.
        groups[rec.exclusive_group or f"rec:{rec.id}"].append(rec)
    total = Decimal(0)
    for members in groups.values():
        values = [
            v
            for r in members
            if r.phase in allowed and (v := recommendation_savings(r, tier)) is not None
        ]
        if values:
            total += max(Decimal(0), max(values))
    return total


def total_savings(recs: Sequence[Recommendation]) -> tuple[Decimal, Decimal, Decimal]:
    """(best, low, high) monthly savings, each exclusive group counted once, never negative."""
    return (
        tier_savings(recs, "expected"),
        tier_savings(recs, "low"),
        tier_savings(recs, "high"),
    )


def _neighbours(res_map: Mapping[str, Resource]) -> dict[str, list[str]]:
    """Each address's neighbours: resources referencing it first, then those it references."""
    incoming: dict[str, set[str]] = defaultdict(set)
    for res in res_map.values():
        for addrs in res.refs.values():
            for other in addrs:
                incoming[other].add(res.address)
    out: dict[str, list[str]] = defaultdict(list)
    for res in res_map.values():
        outgoing = {a for addrs in res.refs.values() for a in addrs}
        out[res.address] = sorted(incoming[res.address]) + sorted(outgoing - incoming[res.address])
    return out


def _inventory(
    res_map: Mapping[str, Resource], priced: Mapping[str, PricedResource], covered: set[str]
) -> list[Finding]:
    """A not_applicable finding for each resource no analyzer spoke about, saying why."""
    links = _neighbours(res_map)
    out = []
    for address, res in sorted(res_map.items()):
        if address in covered or res.mode != "managed":
            continue
        p = priced.get(address)
        cost = p.monthly_cost if p is not None else None
        # The analyzed resource this one belongs to (task definition -> service), two hops at most.
        near = [a for a in links[address] if a in covered] or [
            b for a in links[address] for b in links[a] if b in covered
        ]
        if p is not None and p.status is PricingStatus.FREE:
            summary = "Free: no cost of its own" + (
                f"; analyzed through {near[0]}." if near else "."
            )
        elif cost is not None:
            summary = f"No analyzer covers {res.type}; it costs ${cost:.2f}/month as priced."
        else:
            summary = f"No analyzer covers {res.type}, and it was not priced."
        out.append(
            Finding(
                analyzer=INVENTORY,
                address=address,
                status=FindingStatus.NOT_APPLICABLE,
                summary=summary,
                evidence={"monthly_cost": str(cost) if cost is not None else None, "related": near},
            )
        )
    return out


def run_analysis(
    estimate_or_priced: Any,
    resources: Iterable[Resource] | Mapping[str, Resource],
    metrics: Mapping[str, Mapping[str, MetricSeries]] | None,
    catalog: Catalog,
    *,
    only: Iterable[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AnalysisResult:
    """Run the registered analyzers (or `only` those) and total their savings.

    `estimate_or_priced` is an Estimate (anything with `.resources` of PricedResource) or
    PricedResources. Bad settings and analyzer failures become issues, never exceptions.
    """
    res_map = (
        dict(resources) if isinstance(resources, Mapping) else {r.address: r for r in resources}
    )
    priced = _priced_map(estimate_or_priced)
    analyzers = registry()
    issues: list[Issue] = []
    selected = list(analyzers)
    if only is not None:
        wanted = [name.strip() for name in only if name.strip()]
        for name in wanted:
            if name not in analyzers:
                issues.append(
                    Issue(
                        code=IssueCode.USAGE_ERROR,
                        message=f"unknown analyzer {name!r} (known: {', '.join(analyzers)})",
                        where="--only",
                        severity=Severity.ERROR,
                    )
                )
        selected = [n for n in selected if n in wanted]
    overrides, bad = parse_settings(settings or {}, analyzers)
    issues.extend(bad)
    ctx = AnalysisContext(
        catalog=catalog,
        resources=res_map,
        priced=priced,
        metrics=metrics or {},
        settings=overrides,
        now=now or datetime.now(UTC),
    )
    findings: list[Finding] = []
    for name in selected:
        analyzer: Analyzer[Any] = analyzers[name]()
        try:
            conf = analyzer.settings(overrides)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                issues.append(
                    Issue(
                        code=IssueCode.USAGE_ERROR,
                        message=f"{name}.{loc}: {err['msg']}",
                        where="--set",
                        severity=Severity.ERROR,
                    )
                )
            continue
        try:
            findings.extend(analyzer.analyze(ctx, conf))
        except Exception as exc:  # a bug in one analyzer must not hide the others' findings
            issues.append(
                Issue(
                    code=IssueCode.EVALUATION_ERROR,
                    message=f"analyzer {name} failed: {type(exc).__name__}: {exc}",
                    where=name,
                    severity=Severity.ERROR,
                )
            )
    covered = {f.address for f in findings}
    if only is None:
        findings.extend(_inventory(res_map, priced, covered))
    findings.sort(key=lambda f: (f.address, f.analyzer))
    recs = tuple(
        f.recommendation
        for f in findings
        if f.recommendation is not None and f.status is FindingStatus.OPPORTUNITY
    )
    best, low, high = total_savings(recs)
    totals = Totals(
        monthly_cost=sum((p.counted_cost for p in priced.values()), Decimal(0)),
        monthly_savings=best,
        monthly_savings_low=min(low, best),
        monthly_savings_high=max(high, best),
    )
    return AnalysisResult(
        findings=tuple(findings),
        recommendations=recs,
        totals=totals,
        issues=tuple(issues),
        analyzers=tuple(selected),
    )
