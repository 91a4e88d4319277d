"""`build_report`: plain inputs (priced resources, findings, metric series, issues) to a Report.

Every figure in the report is computed here from the inputs; nothing is hard-coded. The
function takes plain values so it does not depend on how the estimate, the analyzers or the
metrics store are wired together.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

import numpy as np

from leanstack.analysis import tier_savings
from leanstack.estimate import counted_range
from leanstack.model.findings import Finding, FindingStatus, Phase, Recommendation
from leanstack.model.issues import Issue
from leanstack.model.money import HOURS_PER_MONTH, quantize_money
from leanstack.model.pricing import PricedResource, PricingStatus
from leanstack.report._types import (
    CapacityLine,
    CatalogInfo,
    ChangeOut,
    CostComponent,
    CostSection,
    DerivedPrice,
    FindingOut,
    IssueOut,
    LoadSection,
    LoadWindow,
    MetricLoad,
    MonitoringBlock,
    MonitoringSection,
    PhaseOut,
    RecommendationOut,
    Report,
    ResourceCost,
    ResourceLoad,
    SeriesSample,
    ServiceCost,
    SourceRef,
    StackInfo,
    SuccessMetric,
    Totals,
)
from leanstack.usage.series import MetricSeries

MAX_SERIES_POINTS = 400
BUDGET_HEADROOM = Decimal("1.2")
AVAILABILITY_TARGET = Decimal("99.9")

# Catalog service name -> label shown in the report.
SERVICE_LABELS: Mapping[str, str] = {
    "fargate": "ECS/Fargate",
    "rds": "RDS",
    "elasticache": "ElastiCache",
    "lambda": "Lambda",
    "sqs": "SQS",
    "apigateway": "API Gateway",
    "cloudfront": "CloudFront",
    "cloudwatch": "CloudWatch",
    "nat-gateway": "NAT Gateway",
    "alb": "ALB",
    "data-transfer": "Data transfer",
    "secretsmanager": "Secrets Manager",
    "ecr": "ECR",
}

# Resource type prefix -> label, for resources with no priced component (free, unsupported).
_TYPE_LABELS: tuple[tuple[str, str], ...] = (
    ("aws_ecs_", "ECS/Fargate"),
    ("aws_db_", "RDS"),
    ("aws_rds_", "RDS"),
    ("aws_elasticache_", "ElastiCache"),
    ("aws_lambda_", "Lambda"),
    ("aws_sqs_", "SQS"),
    ("aws_api_gateway", "API Gateway"),
    ("aws_apigatewayv2", "API Gateway"),
    ("aws_cloudfront_", "CloudFront"),
    ("aws_cloudwatch_", "CloudWatch"),
    ("aws_nat_gateway", "NAT Gateway"),
    ("aws_lb", "ALB"),
    ("aws_alb", "ALB"),
    ("aws_secretsmanager_", "Secrets Manager"),
    ("aws_ecr_", "ECR"),
    ("aws_budgets_", "Budgets"),
    ("aws_appautoscaling_", "Application Auto Scaling"),
)

# The ServiceName dimension of AWS/Billing EstimatedCharges for each catalog service. Load
# balancers and NAT gateways are billed under EC2, Fargate under ECS.
BILLING_SERVICE_NAMES: Mapping[str, str] = {
    "fargate": "AmazonECS",
    "rds": "AmazonRDS",
    "elasticache": "AmazonElastiCache",
    "lambda": "AWSLambda",
    "sqs": "AWSQueueService",
    "apigateway": "AmazonApiGateway",
    "cloudfront": "AmazonCloudFront",
    "cloudwatch": "AmazonCloudWatch",
    "nat-gateway": "AmazonEC2",
    "alb": "AmazonEC2",
    "data-transfer": "AWSDataTransfer",
    "secretsmanager": "AWSSecretsManager",
    "ecr": "AmazonECR",
}

PHASE_TEXT: Mapping[Phase, tuple[str, str]] = {
    Phase.QUICK_WIN: ("Quick wins", "Configuration changes with no behaviour risk."),
    Phase.ADVANCED: ("Advanced", "Policy changes to watch after applying."),
    Phase.MIGRATION: ("Migration", "Architectural moves that need engineering work."),
}
_PHASE_ORDER = (Phase.QUICK_WIN, Phase.ADVANCED, Phase.MIGRATION)

SAVINGS_METHOD = (
    "Within an exclusive group only one recommendation counts, so overlapping changes on one "
    "resource are never added; a group never counts below zero. Expected: the largest saving "
    "of each group. Low: only high- and medium-confidence recommendations, at their low "
    "estimate. High: every recommendation at its high estimate. Phases apply in order: each "
    "adds its expected saving to the phases before it (the additions sum to the total), and "
    "its range is the saving once it and every earlier phase are done. Annual = 12 x monthly."
)

_CAPACITY_ATTRS: Mapping[str, tuple[str, ...]] = {
    "CPUUtilization": ("cpu",),
    "MemoryUtilization": ("memory",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StackInput:
    """What was analyzed: `files` maps a path relative to `path` to its sha256."""

    path: str
    input_kind: str = "hcl"
    files: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    var_files: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityInput:
    """An explicit capacity line for the load chart of one resource metric."""

    address: str
    metric: str
    label: str
    value: float
    kind: str = "before"
    recommendation_id: str | None = None


MetricsInput = Mapping[str, Iterable[MetricSeries] | Mapping[str, MetricSeries]]
"""Series per resource address: a list, or a dict keyed by metric (as the store returns)."""


def build_report(
    *,
    priced: Sequence[PricedResource],
    findings: Sequence[Finding] = (),
    metrics: MetricsInput | None = None,
    issues: Sequence[Issue] = (),
    catalog_date: str,
    catalog_source: str,
    stack: StackInput,
    recommendations: Sequence[Recommendation] = (),
    capacity: Sequence[CapacityInput] = (),
    generated_at: datetime | None = None,
    tool_version: str | None = None,
) -> Report:
    """Assemble the report from the estimate, the findings and the recorded load.

    `recommendations` adds recommendations that are not attached to a finding (ids already
    seen are skipped). `capacity` adds chart lines; lines for utilisation metrics are also
    derived from the recommendations' cpu/memory changes.
    """
    if tool_version is None:
        from leanstack import __version__

        tool_version = __version__
    when = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    recs = _collect_recommendations(findings, recommendations)
    cost = _cost_section(priced)
    counted = _counted_ids(recs)
    rec_out = [_recommendation_out(r, r.id in counted) for r in recs]
    rec_out.sort(key=lambda r: (-r.monthly_savings, r.id))
    phases, totals = _phases_and_totals(recs, cost.total)
    series = {
        addr: list(items.values() if isinstance(items, Mapping) else items)
        for addr, items in (metrics or {}).items()
    }

    return Report(
        generated_at=when.isoformat().replace("+00:00", "Z"),
        tool_version=tool_version,
        stack=StackInfo(
            path=stack.path,
            input_kind=stack.input_kind,
            files=dict(sorted(stack.files.items())),
            var_files=list(stack.var_files),
        ),
        catalog=CatalogInfo(
            date=catalog_date, source=catalog_source, derived_prices_used=_derived_prices(priced)
        ),
        hours_per_month=int(HOURS_PER_MONTH),
        cost=cost,
        load=_load_section(series, recs, capacity),
        findings=[_finding_out(f) for f in findings],
        recommendations=rec_out,
        phases=phases,
        monitoring=_monitoring(recs, priced, cost.total, stack),
        success_metrics=_success_metrics(series, totals),
        totals=totals,
        issues=[
            IssueOut(code=str(i.code), message=i.message, where=i.where, severity=str(i.severity))
            for i in issues
        ],
    )


def report_from_pipeline(
    *,
    loaded: Any,
    estimate: Any,
    analysis: Any = None,
    metrics: MetricsInput | None = None,
    stack_path: str | None = None,
    capacity: Sequence[CapacityInput] = (),
    generated_at: datetime | None = None,
    var_files: Sequence[str] = (),
) -> Report:
    """build_report from the pipeline's own results, read by attribute name.

    `loaded` is a terraform LoadResult (`root`, `files`, `input_kind`, `issues`), `estimate`
    an Estimate (`resources`, `issues`, `catalog_date`, `catalog_source`) and `analysis` an
    AnalysisResult (`findings`, `recommendations`, `issues`) or None. Issues repeated by
    several stages are listed once.
    """
    issues: dict[tuple[str, str, str], Issue] = {}
    for stage in (loaded, estimate, analysis):
        for issue in getattr(stage, "issues", ()) or ():
            issues.setdefault((str(issue.code), issue.where, issue.message), issue)
    root = getattr(loaded, "root", None)
    path = stack_path if stack_path is not None else str(root or "")
    return build_report(
        priced=list(estimate.resources),
        findings=list(getattr(analysis, "findings", ()) or ()),
        recommendations=list(getattr(analysis, "recommendations", ()) or ()),
        metrics=metrics,
        issues=list(issues.values()),
        catalog_date=estimate.catalog_date,
        catalog_source=estimate.catalog_source,
        stack=StackInput(
            path=path,
            input_kind=getattr(loaded, "input_kind", "hcl"),
            files=dict(getattr(loaded, "files", {}) or {}),
            var_files=tuple(var_files),
        ),
        capacity=capacity,
        generated_at=generated_at,
    )


# --- cost -----------------------------------------------------------------------------------


def _label_for_type(resource_type: str) -> str:
    for prefix, label in _TYPE_LABELS:
        if resource_type.startswith(prefix):
            return label
    return resource_type.removeprefix("aws_").replace("_", " ")


def _component_service(item: PricedResource, index: int) -> str | None:
    component = item.components[index]
    if component.price is not None:
        return component.price.service
    if component.query is not None:
        return component.query.service
    return None


def _resource_service(item: PricedResource) -> str:
    best: tuple[Decimal, str] | None = None
    for index, component in enumerate(item.components):
        service = _component_service(item, index)
        if service is None:
            continue
        cost = component.monthly_cost or Decimal(0)
        if best is None or cost > best[0]:
            best = (cost, service)
    if best is None:
        return _label_for_type(item.type)
    return SERVICE_LABELS.get(best[1], best[1])


def _cost_section(priced: Sequence[PricedResource]) -> CostSection:
    resources: list[ResourceCost] = []
    by_service: dict[str, Decimal] = defaultdict(Decimal)
    service_members: dict[str, list[str]] = defaultdict(list)
    total = Decimal(0)
    total_min = Decimal(0)
    total_max = Decimal(0)
    has_range = False
    for item in priced:
        resource_service = _resource_service(item)
        components: list[CostComponent] = []
        for index, component in enumerate(item.components):
            raw_service = _component_service(item, index)
            label = SERVICE_LABELS.get(raw_service, raw_service) if raw_service else None
            cost = component.line_cost
            # An unknown resource's priced lines are shown but, like the resource, not summed.
            if cost is not None and item.status is PricingStatus.PRICED:
                key = label or resource_service
                by_service[key] += cost
                if item.address not in service_members[key]:
                    service_members[key].append(item.address)
            price = component.price
            components.append(
                CostComponent(
                    name=component.name,
                    unit=component.unit,
                    monthly_quantity=component.monthly_quantity,
                    unit_price=component.unit_price,
                    monthly_cost=cost,
                    usage_based=component.usage_based,
                    price_source=price.source if price else None,
                    price_date=price.source_date if price else None,
                    price_basis=price.basis if price else None,
                    usage_type=price.usage_type if price else None,
                    service=label,
                    note=component.note,
                    price_error=component.price_error,
                )
            )
        # Lines are in cents and the resource is their sum, so every printed total adds up;
        # an unknown resource adds nothing (the headline says how many are left out).
        monthly = item.counted_cost
        total += monthly
        low, high = counted_range(item)
        has_range = has_range or low != monthly or high != monthly
        total_min += low
        total_max += high
        src = item.source
        resources.append(
            ResourceCost(
                address=item.address,
                type=item.type,
                region=item.region,
                status=str(item.status),
                service=resource_service,
                monthly_cost=monthly,
                monthly_cost_min=item.monthly_cost_min,
                monthly_cost_max=item.monthly_cost_max,
                source=SourceRef(file=src.file, start_line=src.start_line, end_line=src.end_line)
                if src
                else None,
                reason=_resource_note(item),
                components=components,
            )
        )
    resources.sort(key=lambda r: (-r.monthly_cost, r.address))
    services = [
        ServiceCost(
            service=name,
            monthly_cost=cost,
            share=round(float(cost / total), 4) if total else 0.0,
            resources=service_members[name],
        )
        for name, cost in sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return CostSection(
        resources=resources,
        by_service=services,
        total=total,
        total_min=total_min if has_range else None,
        total_max=total_max if has_range else None,
    )


def _derived_prices(priced: Sequence[PricedResource]) -> list[DerivedPrice]:
    seen: dict[tuple[str, str, str, str], DerivedPrice] = {}
    users: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for item in priced:
        for component in item.components:
            price = component.price
            if price is None or price.basis is None:
                continue
            key = (price.service, price.region, price.usage_type, price.basis)
            if item.address not in users[key]:
                users[key].append(item.address)
            seen[key] = DerivedPrice(
                service=price.service,
                region=price.region,
                product=price.product,
                usage_type=price.usage_type,
                unit=price.unit,
                unit_price=price.price,
                price_basis=price.basis,
                source=price.source,
                source_date=price.source_date,
            )
    return [seen[key].model_copy(update={"used_by": users[key]}) for key in sorted(seen)]


def _resource_note(item: PricedResource) -> str:
    """The cost model's reason and its one-line summary (e.g. the price of one task)."""
    summary = item.details.get("summary") if item.details else None
    parts = [str(summary)] if summary else []
    if item.reason:
        parts.append(item.reason)
    return "; ".join(parts)


def _change_value(value: Any) -> Any:
    """A Terraform value as JSON: numbers stay numbers, so a patch writes `75`, not `"75"`."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return json_value(value)


# --- findings and recommendations -----------------------------------------------------------


def json_value(value: Any) -> Any:
    """Evidence and change values as JSON data: Decimals as strings, NaN as null."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else round(number, 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_value(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _collect_recommendations(
    findings: Sequence[Finding], extra: Sequence[Recommendation]
) -> list[Recommendation]:
    out: dict[str, Recommendation] = {}
    for finding in findings:
        # Only an opportunity is a recommendation; other findings keep their evidence.
        if finding.recommendation is not None and finding.status is FindingStatus.OPPORTUNITY:
            out.setdefault(finding.recommendation.id, finding.recommendation)
    for rec in extra:
        out.setdefault(rec.id, rec)
    return list(out.values())


def _finding_out(finding: Finding) -> FindingOut:
    return FindingOut(
        analyzer=finding.analyzer,
        address=finding.address,
        status=finding.status.value,
        summary=finding.summary,
        evidence=json_value(dict(finding.evidence)),
        recommendation_id=finding.recommendation.id
        if finding.recommendation is not None and finding.status is FindingStatus.OPPORTUNITY
        else None,
    )


def _recommendation_out(rec: Recommendation, counted: bool) -> RecommendationOut:
    return RecommendationOut(
        id=rec.id,
        analyzer=rec.analyzer,
        address=rec.address,
        phase=rec.phase.value,
        title=rec.title,
        changes=[
            ChangeOut(
                path=c.path,
                before=_change_value(c.before),
                after=_change_value(c.after),
                new_block=c.new_block,
            )
            for c in rec.changes
        ],
        monthly_cost_before=rec.monthly_cost_before,
        monthly_cost_after=rec.monthly_cost_after,
        monthly_savings=rec.monthly_savings,
        confidence=rec.confidence.value,
        evidence=json_value(dict(rec.evidence)),
        risks=list(rec.risks),
        assumptions=list(rec.assumptions),
        exclusive_group=rec.exclusive_group,
        counted=counted,
    )


def _group(rec: Recommendation) -> str:
    # An empty group means the recommendation overlaps with nothing.
    return rec.exclusive_group or f"__own__:{rec.id}"


def _best(recs: Iterable[Recommendation]) -> Recommendation | None:
    best: Recommendation | None = None
    for rec in recs:
        if best is None or (rec.monthly_savings, rec.id) > (best.monthly_savings, best.id):
            best = rec
    return best


def _groups(recs: Iterable[Recommendation]) -> dict[str, list[Recommendation]]:
    groups: dict[str, list[Recommendation]] = defaultdict(list)
    for rec in recs:
        groups[_group(rec)].append(rec)
    return groups


def _range(recs: Sequence[Recommendation], phases: set[Phase]) -> tuple[Decimal, Decimal, Decimal]:
    """(low, expected, high) in cents, with low <= expected <= high."""
    expected = quantize_money(tier_savings(recs, "expected", phases))
    low = quantize_money(tier_savings(recs, "low", phases))
    high = quantize_money(tier_savings(recs, "high", phases))
    return min(low, expected), expected, max(high, expected)


def _counted_ids(recs: Sequence[Recommendation]) -> set[str]:
    counted: set[str] = set()
    for members in _groups(recs).values():
        best = _best(members)
        if best is not None and best.monthly_savings > 0:
            counted.add(best.id)
    return counted


def _phases_and_totals(
    recs: Sequence[Recommendation], monthly_cost: Decimal
) -> tuple[list[PhaseOut], Totals]:
    phases: list[PhaseOut] = []
    before: set[Phase] = set()
    for phase in _PHASE_ORDER:
        upto = before | {phase}
        low, expected, high = _range(recs, upto)
        previous = _range(recs, before)[1]
        title, description = PHASE_TEXT[phase]
        members = sorted(
            (r for r in recs if r.phase == phase), key=lambda r: (-r.monthly_savings, r.id)
        )
        phases.append(
            PhaseOut(
                phase=phase.value,
                title=title,
                description=description,
                recommendation_ids=[r.id for r in members],
                monthly_savings_added=expected - previous,
                cumulative_monthly_savings_low=low,
                cumulative_monthly_savings=expected,
                cumulative_monthly_savings_high=high,
            )
        )
        before = upto
    # Monthly figures are in cents first, so that annual = 12 x the monthly figure shown.
    low, expected, high = _range(recs, set(_PHASE_ORDER))
    totals = Totals(
        monthly_cost=quantize_money(monthly_cost),
        monthly_cost_after=quantize_money(monthly_cost) - expected,
        monthly_savings=expected,
        monthly_savings_low=low,
        monthly_savings_high=high,
        annual_savings=expected * 12,
        annual_savings_low=low * 12,
        annual_savings_high=high * 12,
        method=SAVINGS_METHOD,
    )
    return phases, totals


# --- load -----------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _stat(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _downsample(series: MetricSeries) -> SeriesSample:
    values = series.values
    period = series.period_s
    total_s = len(values) * period
    bucket_s = max(period, 3600)
    if total_s / bucket_s > MAX_SERIES_POINTS:
        bucket_s = math.ceil(total_s / MAX_SERIES_POINTS / 3600) * 3600
    per_bucket = max(1, bucket_s // period)
    bucket_s = per_bucket * period
    lowest = series.statistic.lower() in ("minimum", "min")
    out: list[float | None] = []
    for start in range(0, len(values), per_bucket):
        chunk = values[start : start + per_bucket]
        present = chunk[~np.isnan(chunk)]
        if not present.size:
            out.append(None)
            continue
        out.append(round(float(present.min() if lowest else present.max()), 4))
    return SeriesSample(
        aggregation="min" if lowest else "max",
        bucket_s=bucket_s,
        start=_iso(series.start),
        values=out,
    )


def _mentions(rec: Recommendation, address: str) -> bool:
    if rec.address == address:
        return True
    return any(v == address for v in rec.evidence.values() if isinstance(v, str))


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() and number > 0 else None


def _derived_capacity(
    address: str, series: MetricSeries, recs: Sequence[Recommendation]
) -> list[CapacityLine]:
    """Lines in % of today's capacity: 100% now, 100 x after/before for a resize."""
    attrs = _CAPACITY_ATTRS.get(series.metric)
    if attrs is None:
        return []
    lines = [CapacityLine(label="current capacity", value=100.0, kind="before")]
    for rec in sorted(recs, key=lambda r: r.id):
        if not _mentions(rec, address):
            continue
        for change in rec.changes:
            attr = change.path.rsplit(".", 1)[-1]
            if attr == "target_value" and _tracks(change.path) == series.metric:
                lines.extend(_target_lines(rec, change.before, change.after))
                continue
            if attr not in attrs:
                continue
            before, after = _number(change.before), _number(change.after)
            if before is None or after is None or before == after:
                continue
            lines.append(
                CapacityLine(
                    label=f"after: {rec.title}",
                    value=round(float(after / before * 100), 2),
                    kind="after",
                    recommendation_id=rec.id,
                )
            )
    return lines


def _tracks(path: str) -> str:
    """The utilisation metric a target-tracking policy follows, from its path."""
    return "MemoryUtilization" if "mem" in path.lower() else "CPUUtilization"


def _target_lines(rec: Recommendation, before: Any, after: Any) -> list[CapacityLine]:
    """A scaling policy's target today and after the change, in the metric's percent."""
    out = []
    for kind, value in (("now", before), ("after", after)):
        number = _number(value)
        if number is not None:
            out.append(
                CapacityLine(
                    label=f"target {kind}",
                    value=float(number),
                    kind="target",
                    recommendation_id=rec.id,
                )
            )
    if len(out) == 2 and out[0].value == out[1].value:
        out.pop()
    return out


def _metric_load(
    address: str,
    series: MetricSeries,
    recs: Sequence[Recommendation],
    capacity: Sequence[CapacityInput],
) -> MetricLoad:
    explicit = [
        CapacityLine(
            label=c.label,
            value=c.value,
            kind=c.kind if c.kind in ("before", "after", "target") else "target",  # type: ignore[arg-type]
            recommendation_id=c.recommendation_id,
        )
        for c in capacity
        if c.address == address and c.metric == series.metric
    ]
    return MetricLoad(
        metric=series.metric,
        statistic=series.statistic,
        unit=series.unit,
        period_s=series.period_s,
        window=LoadWindow(
            start=_iso(series.start), end=_iso(series.end), days=round(series.window_days, 3)
        ),
        coverage=round(series.coverage, 4),
        points=series.points,
        mean=_stat(series.mean()),
        p50=_stat(series.percentile(50)),
        p95=_stat(series.percentile(95)),
        p99=_stat(series.percentile(99)),
        max=_stat(series.max()),
        series=_downsample(series),
        capacity=explicit or _derived_capacity(address, series, recs),
    )


def _load_section(
    series: Mapping[str, list[MetricSeries]],
    recs: Sequence[Recommendation],
    capacity: Sequence[CapacityInput],
) -> LoadSection:
    resources = []
    for address in sorted(series):
        items = sorted(series[address], key=lambda s: (s.metric, s.statistic))
        resources.append(
            ResourceLoad(
                address=address, metrics=[_metric_load(address, s, recs, capacity) for s in items]
            )
        )
    return LoadSection(resources=resources)


# --- monitoring -----------------------------------------------------------------------------

_RESOURCE_TYPE = re.compile(
    r'^\s*(resource|provider|variable)\s+"([A-Za-z0-9_-]+)"(?:\s+"([A-Za-z0-9_-]+)")?', re.M
)
_LIMIT_AMOUNT = re.compile(r'limit_amount\s*=\s*"?([0-9]+(?:\.[0-9]+)?)"?')


def _block_kind(hcl: str) -> tuple[str, str]:
    match = _RESOURCE_TYPE.search(hcl)
    if match is None:
        return "other", ""
    keyword, first, second = match.groups()
    if keyword == "provider":
        return "provider", f"provider.{first}"
    if keyword == "variable":
        return "variable", f"var.{first}"
    address = f"{first}.{second}" if second else first
    if first == "aws_budgets_budget":
        return "budget", address
    if first == "aws_cloudwatch_metric_alarm":
        return "alarm", address
    return "other", address


def _is_monitoring(rec: Recommendation) -> bool:
    name = rec.analyzer.lower()
    if "alarm" in name or "budget" in name:
        return True
    return any(
        c.new_block and _block_kind(c.new_block)[0] in ("budget", "alarm") for c in rec.changes
    )


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-").lower()
    return slug or "stack"


def _hcl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _generated_blocks(name: str, budget: Decimal) -> list[MonitoringBlock]:
    amount = str(quantize_money(budget))
    variable = (
        'variable "cost_alert_emails" {\n'
        '  description = "Who receives budget and billing alarm notifications"\n'
        "  type        = list(string)\n"
        "}\n"
    )
    notifications = "".join(
        "\n"
        "  notification {\n"
        '    comparison_operator        = "GREATER_THAN"\n'
        "    threshold                  = 100\n"
        '    threshold_type             = "PERCENTAGE"\n'
        f'    notification_type          = "{kind}"\n'
        "    subscriber_email_addresses = var.cost_alert_emails\n"
        "  }\n"
        for kind in ("ACTUAL", "FORECASTED")
    )
    budget_hcl = (
        'resource "aws_budgets_budget" "monthly_cost" {\n'
        f"  name         = {_hcl_string(name + '-monthly-cost')}\n"
        '  budget_type  = "COST"\n'
        f'  limit_amount = "{amount}"\n'
        '  limit_unit   = "USD"\n'
        '  time_unit    = "MONTHLY"\n'
        f"{notifications}"
        "}\n"
    )
    provider = 'provider "aws" {\n  alias  = "billing"\n  region = "us-east-1"\n}\n'
    alarm = (
        'resource "aws_cloudwatch_metric_alarm" "estimated_charges" {\n'
        "  provider            = aws.billing\n"
        f"  alarm_name          = {_hcl_string(name + '-estimated-charges')}\n"
        '  alarm_description   = "Month-to-date estimated charges above the monthly budget"\n'
        '  namespace           = "AWS/Billing"\n'
        '  metric_name         = "EstimatedCharges"\n'
        '  statistic           = "Maximum"\n'
        "  period              = 21600\n"
        "  evaluation_periods  = 1\n"
        '  comparison_operator = "GreaterThanThreshold"\n'
        f"  threshold           = {amount}\n"
        '  treat_missing_data  = "notBreaching"\n'
        "\n"
        "  dimensions = {\n"
        '    Currency = "USD"\n'
        "  }\n"
        "}\n"
    )
    return [
        MonitoringBlock(address="var.cost_alert_emails", kind="variable", hcl=variable),
        MonitoringBlock(address="aws_budgets_budget.monthly_cost", kind="budget", hcl=budget_hcl),
        MonitoringBlock(address="provider.aws.billing", kind="provider", hcl=provider),
        MonitoringBlock(
            address="aws_cloudwatch_metric_alarm.estimated_charges", kind="alarm", hcl=alarm
        ),
    ]


def _monitoring(
    recs: Sequence[Recommendation],
    priced: Sequence[PricedResource],
    monthly_cost: Decimal,
    stack: StackInput,
) -> MonitoringSection:
    services: set[str] = set()
    for item in priced:
        for index, component in enumerate(item.components):
            service = _component_service(item, index)
            if service and (component.monthly_cost or component.usage_based):
                services.add(service)
    billing_names = sorted({BILLING_SERVICE_NAMES.get(s, s) for s in services})
    notes = [
        "AWS/Billing EstimatedCharges is published only in us-east-1 (an alarm on it needs a "
        "provider in us-east-1), and only after billing alerts are enabled in the account's "
        "billing preferences.",
        "EstimatedCharges is month-to-date: it grows through the month and resets on the 1st, "
        "so its threshold is a monthly amount, never a daily one; it is updated a few times a "
        "day, so a 6-hour period is the useful resolution.",
        "A per-service alarm adds the ServiceName dimension; for this stack the names are: "
        + (", ".join(billing_names) if billing_names else "(no priced service)")
        + ".",
        "AWS Budgets compares actual and forecast spend with the monthly limit and notifies "
        "before the month ends; the first two budgets of an account are free.",
    ]
    from_recs = [r for r in recs if _is_monitoring(r)]
    blocks: list[MonitoringBlock] = []
    budget: Decimal | None = None
    for rec in sorted(from_recs, key=lambda r: r.id):
        for change in rec.changes:
            if not change.new_block:
                continue
            kind, address = _block_kind(change.new_block)
            blocks.append(
                MonitoringBlock(
                    address=address or change.path,
                    kind=kind,  # type: ignore[arg-type]
                    hcl=change.new_block,
                    recommendation_id=rec.id,
                )
            )
            limit = _LIMIT_AMOUNT.search(change.new_block) if kind == "budget" else None
            if limit is not None and budget is None:
                budget = Decimal(limit.group(1))
    if blocks:
        return MonitoringSection(
            source="recommendations",
            monthly_budget=budget if budget is not None else monthly_cost * BUDGET_HEADROOM,
            blocks=blocks,
            billing_service_names=billing_names,
            notes=notes,
        )
    budget = quantize_money(monthly_cost * BUDGET_HEADROOM)
    existing = sorted(p.address for p in priced if p.type == "aws_budgets_budget")
    if existing:
        # A second budget would only duplicate the alerts (and `patch` would skip it anyway).
        return MonitoringSection(
            source="generated",
            monthly_budget=budget,
            blocks=[],
            billing_service_names=billing_names,
            notes=[
                f"The stack already has a budget ({', '.join(existing)}): no new budget or "
                f"alarm is proposed. Today's cost x {BUDGET_HEADROOM} is "
                f"${budget}; check the existing limit against it.",
                *notes,
            ],
        )
    name = _slug(stack.name or stack.path.rstrip("/").rsplit("/", 1)[-1])
    return MonitoringSection(
        source="generated",
        monthly_budget=budget,
        blocks=_generated_blocks(name, budget),
        billing_service_names=billing_names,
        notes=[
            f"Budget set at the current monthly cost x {BUDGET_HEADROOM} "
            f"(${quantize_money(monthly_cost)} x {BUDGET_HEADROOM}).",
            *notes,
        ],
    )


# --- success metrics ------------------------------------------------------------------------


def _find(
    series: Mapping[str, list[MetricSeries]], metric: str, prefer: Sequence[str] = ()
) -> list[MetricSeries]:
    """One series of `metric` per resource: the first preferred statistic, else the fullest."""
    rank = {stat.lower(): i for i, stat in enumerate(prefer)}
    out = []
    for items in series.values():
        candidates = [s for s in items if s.metric == metric]
        if candidates:
            out.append(
                min(candidates, key=lambda s: (rank.get(s.statistic.lower(), len(rank)), -s.points))
            )
    return out


def _monthly_total(items: Sequence[MetricSeries]) -> Decimal | None:
    """Monthly count from per-period sums: mean per present period x periods per month."""
    total = Decimal(0)
    found = False
    for s in items:
        if s.points == 0:
            continue
        per_month = HOURS_PER_MONTH * 3600 / Decimal(s.period_s)
        total += Decimal(repr(s.mean())) * per_month
        found = True
    return total if found else None


def _fmt(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _success_metrics(
    series: Mapping[str, list[MetricSeries]], totals: Totals
) -> list[SuccessMetric]:
    out: list[SuccessMetric] = []
    requests = _find(series, "RequestCount", ("Sum",))
    monthly_requests = _monthly_total(requests)
    if monthly_requests and monthly_requests > 0:
        million = Decimal(1_000_000)
        window = max(s.window_days for s in requests)
        out.append(
            SuccessMetric(
                name="Cost per 1M requests",
                current=_fmt(totals.monthly_cost / monthly_requests * million, "0.01"),
                target=_fmt(totals.monthly_cost_after / monthly_requests * million, "0.01"),
                unit="USD",
                direction="at_most",
                source=(
                    f"monthly cost / {int(_fmt(monthly_requests, '1')):,} requests a month "
                    f"(RequestCount over {window:.1f} days, scaled to 730 h)"
                ),
            )
        )
    else:
        out.append(
            SuccessMetric(
                name="Cost per 1M requests",
                current=None,
                target=None,
                unit="USD",
                direction="at_most",
                source="not recorded: no RequestCount series with data",
            )
        )
    reduction = (
        totals.monthly_savings / totals.monthly_cost * 100 if totals.monthly_cost else Decimal(0)
    )
    out.append(
        SuccessMetric(
            name="Infrastructure cost reduction",
            current="0.0",
            target=_fmt(reduction, "0.1"),
            unit="%",
            direction="at_least",
            source=(
                f"expected savings ${totals.monthly_savings} of ${totals.monthly_cost} a month "
                f"(range ${totals.monthly_savings_low}–${totals.monthly_savings_high})"
            ),
        )
    )
    for q in (50, 95):
        # A recorded pNN statistic is the real percentile of each period: report its median
        # (a typical period). Otherwise take the percentile of the per-period averages.
        latency = [s for s in _find(series, "TargetResponseTime", (f"p{q}", "Average")) if s.points]
        if latency:
            s = max(latency, key=lambda item: item.points)
            exact = s.statistic.lower() == f"p{q}"
            value = Decimal(repr(s.percentile(50 if exact else q))) * 1000
            how = (
                f"median over the periods of the recorded p{q}"
                if exact
                else f"p{q} of the per-period {s.statistic} values"
            )
            out.append(
                SuccessMetric(
                    name=f"Response time p{q}",
                    current=_fmt(value, "1"),
                    target=_fmt(value, "1"),
                    unit="ms",
                    direction="at_most",
                    source=(
                        f"{s.resource} TargetResponseTime per {s.period_s} s: {how}, over "
                        f"{s.window_days:.1f} days; target: no worse than today"
                    ),
                )
            )
        else:
            out.append(
                SuccessMetric(
                    name=f"Response time p{q}",
                    current=None,
                    target=None,
                    unit="ms",
                    direction="at_most",
                    source="not recorded: no TargetResponseTime series with data",
                )
            )
    errors = _find(series, "HTTPCode_Target_5XX_Count", ("Sum",)) + _find(
        series, "HTTPCode_ELB_5XX_Count", ("Sum",)
    )
    monthly_errors = _monthly_total(errors)
    if monthly_requests and monthly_errors is not None:
        availability = (1 - monthly_errors / monthly_requests) * 100
        out.append(
            SuccessMetric(
                name="Availability (requests without 5xx)",
                current=_fmt(availability, "0.001"),
                target=str(AVAILABILITY_TARGET),
                unit="%",
                direction="at_least",
                source="1 - (HTTPCode_Target_5XX_Count + HTTPCode_ELB_5XX_Count) / RequestCount",
            )
        )
    else:
        out.append(
            SuccessMetric(
                name="Availability (requests without 5xx)",
                current=None,
                target=str(AVAILABILITY_TARGET),
                unit="%",
                direction="at_least",
                source="not recorded: needs RequestCount and HTTPCode_*_5XX_Count series",
            )
        )
    healthy = [s for s in _find(series, "HealthyHostCount", ("Minimum",)) if s.points]
    if healthy:
        s = max(healthy, key=lambda item: item.points)
        present = s.present()
        share = Decimal(int(np.count_nonzero(present >= 1))) / Decimal(present.size) * 100
        out.append(
            SuccessMetric(
                name="Time with a healthy target",
                current=_fmt(share, "0.001"),
                target=str(AVAILABILITY_TARGET),
                unit="%",
                direction="at_least",
                source=f"{s.resource} HealthyHostCount >= 1, share of {s.period_s} s periods",
            )
        )
    return out
