"""The versioned report: the one JSON contract every format is rendered from.

These are pydantic models because the report is an edge: it is written to disk, read back by
`leanstack render` and `leanstack patch`, and published as a JSON Schema. Internal types stay
frozen dataclasses (`leanstack.model`); `build_report` converts them.

Money is a decimal string with cents (`"18.02"`), unit prices and quantities are decimal strings
with as many digits as the catalog has, metric statistics are plain numbers (they are
measurements, not money).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)

from leanstack.model.money import money_str, quantize_money

SCHEMA_VERSION = "1.0"
REPORT_KIND = "leanstack.report"

_MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
_DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def _money_to_str(value: Decimal) -> str:
    text = money_str(value)
    assert text is not None  # a Decimal in, a string out
    return text


def _decimal_to_str(value: Decimal) -> str:
    # normalize() would print 1E+1 for 10; format with "f" keeps plain digits.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


Money = Annotated[
    Decimal,
    # Cents from the start, so a fresh report and one read back from JSON render the same.
    AfterValidator(quantize_money),
    PlainSerializer(_money_to_str, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": _MONEY_PATTERN, "description": "USD, cents"}),
]
"""Money: Decimal in Python, a decimal string with cents in JSON."""

DecimalStr = Annotated[
    Decimal,
    PlainSerializer(_decimal_to_str, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": _DECIMAL_PATTERN}),
]
"""An exact decimal (unit price, quantity): Decimal in Python, a decimal string in JSON."""


class ReportError(Exception):
    """A report file that cannot be read; `str(error)` is the one line to show."""


class ReportVersionError(ReportError):
    """A report written with another schema version than this leanstack reads."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StackInfo(_Model):
    """What was analyzed: the stack root, how it was read, and a hash of every input file."""

    path: str
    input_kind: str = Field(description="hcl, plan or report")
    files: dict[str, str] = Field(default_factory=dict, description="relpath -> sha256 hex")
    var_files: list[str] = Field(
        default_factory=list, description="extra tfvars files given with --var-file, relpaths"
    )


class DerivedPrice(_Model):
    """A catalog price that is not a published list price (derived, illustrative, observed)."""

    service: str
    region: str
    product: str
    usage_type: str
    unit: str
    unit_price: DecimalStr
    price_basis: str
    source: str
    source_date: str
    used_by: list[str] = Field(default_factory=list, description="resource addresses")


class CatalogInfo(_Model):
    """The dated price catalog every figure comes from."""

    date: str
    source: str
    derived_prices_used: list[DerivedPrice] = Field(default_factory=list)


class SourceRef(_Model):
    """Where a resource is written: file relative to the stack root, 1-based inclusive lines."""

    file: str
    start_line: int
    end_line: int


class CostComponent(_Model):
    """One priced line: monthly quantity x unit price, and the catalog row behind it."""

    name: str
    unit: str
    monthly_quantity: DecimalStr | None
    unit_price: DecimalStr | None
    monthly_cost: Money | None
    usage_based: bool = False
    price_source: str | None = None
    price_date: str | None = None
    price_basis: str | None = Field(
        default=None, description="set when the price is not a published list price"
    )
    usage_type: str | None = None
    service: str | None = None
    note: str = ""
    price_error: str | None = None


class ResourceCost(_Model):
    """One resource's monthly cost, its range under autoscaling and its components."""

    address: str
    type: str
    region: str
    status: str = Field(description="priced, free, unsupported or unknown")
    service: str
    monthly_cost: Money = Field(
        description="what the resource adds to the total: the sum of its component lines in "
        "cents; 0.00 unless priced (an unknown resource's priced lines are listed, not counted)"
    )
    monthly_cost_min: Money | None = None
    monthly_cost_max: Money | None = None
    source: SourceRef | None = None
    reason: str = ""
    components: list[CostComponent] = Field(default_factory=list)


class ServiceCost(_Model):
    """Monthly cost of one AWS service across the stack."""

    service: str
    monthly_cost: Money
    share: float = Field(description="share of the total, 0..1")
    resources: list[str] = Field(default_factory=list)


class CostSection(_Model):
    """Current cost by resource and by service, from the catalog."""

    resources: list[ResourceCost] = Field(default_factory=list)
    by_service: list[ServiceCost] = Field(default_factory=list)
    total: Money
    total_min: Money | None = None
    total_max: Money | None = None


class LoadWindow(_Model):
    """The recorded window of a series."""

    start: str
    end: str
    days: float


class SeriesSample(_Model):
    """A downsampled series for charts: one value per bucket, null = gap.

    The bucket keeps its max, or its min for a Minimum statistic (healthy hosts), so that the
    chart shows the worst moment rather than an average that hides it.
    """

    aggregation: Literal["max", "min"] = "max"
    bucket_s: int
    start: str
    values: list[float | None]


class CapacityLine(_Model):
    """A horizontal line on a load chart, in the metric's unit."""

    label: str
    value: float
    kind: Literal["before", "after", "target"]
    recommendation_id: str | None = None


class MetricLoad(_Model):
    """Recorded statistics of one metric of one resource."""

    metric: str
    statistic: str
    unit: str = ""
    period_s: int
    window: LoadWindow
    coverage: float
    points: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    series: SeriesSample
    capacity: list[CapacityLine] = Field(default_factory=list)


class ResourceLoad(_Model):
    """Every recorded metric of one resource."""

    address: str
    metrics: list[MetricLoad] = Field(default_factory=list)


class LoadSection(_Model):
    """Recorded load: percentiles, window and coverage per resource and metric."""

    resources: list[ResourceLoad] = Field(default_factory=list)


class ChangeOut(_Model):
    """One Terraform change: an attribute path with before/after, or a new block."""

    path: str
    before: Any = None
    after: Any = None
    new_block: str | None = None


class FindingOut(_Model):
    """An analyzer's conclusion about one resource."""

    analyzer: str
    address: str
    status: Literal["opportunity", "no_change", "insufficient_data", "not_applicable"]
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    recommendation_id: str | None = None


class RecommendationOut(_Model):
    """A priced change, with its evidence, confidence, risks and Terraform changes."""

    id: str
    analyzer: str
    address: str
    phase: Literal["quick_win", "advanced", "migration"]
    title: str
    changes: list[ChangeOut] = Field(default_factory=list)
    monthly_cost_before: Money
    monthly_cost_after: Money
    monthly_savings: Money
    confidence: Literal["high", "medium", "low"]
    evidence: dict[str, Any] = Field(default_factory=dict)
    risks: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    exclusive_group: str = ""
    counted: bool = Field(
        default=False, description="true when this is the recommendation its group counts in totals"
    )


class PhaseOut(_Model):
    """One implementation phase: what it adds, and the savings range once it is done.

    Phases are applied in order. `monthly_savings_added` is the expected saving this phase
    adds to the earlier ones (the phases' additions sum to the expected total). The
    `cumulative_*` figures are the savings after this phase and every earlier one, as a
    low-expected-high range; after the last phase they equal the totals.
    """

    phase: Literal["quick_win", "advanced", "migration"]
    title: str
    description: str
    recommendation_ids: list[str] = Field(default_factory=list)
    monthly_savings_added: Money
    cumulative_monthly_savings_low: Money
    cumulative_monthly_savings: Money
    cumulative_monthly_savings_high: Money


class MonitoringBlock(_Model):
    """One Terraform block (budget, alarm, provider) and why it is there."""

    address: str
    kind: Literal["budget", "alarm", "provider", "variable", "other"]
    hcl: str
    recommendation_id: str | None = None


class MonitoringSection(_Model):
    """Budget and alarms, written as Terraform, with the billing-metric semantics spelled out."""

    source: Literal["recommendations", "generated"]
    monthly_budget: Money
    blocks: list[MonitoringBlock] = Field(default_factory=list)
    billing_service_names: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SuccessMetric(_Model):
    """A measurable target with its current value (null when not recorded)."""

    name: str
    current: str | None
    target: str | None
    unit: str
    direction: Literal["at_most", "at_least"]
    source: str


class Totals(_Model):
    """Monthly and annual figures; savings never add two recommendations of one group."""

    monthly_cost: Money
    monthly_cost_after: Money
    monthly_savings: Money
    monthly_savings_low: Money
    monthly_savings_high: Money
    annual_savings: Money
    annual_savings_low: Money
    annual_savings_high: Money
    method: str


class IssueOut(_Model):
    """A problem met while loading, pricing or analyzing."""

    code: str
    message: str
    where: str = ""
    severity: str = "warning"


class Report(_Model):
    """The whole report: every renderer reads only this."""

    schema_version: Literal["1.0"] = "1.0"
    kind: Literal["leanstack.report"] = "leanstack.report"
    generated_at: str
    tool_version: str
    stack: StackInfo
    catalog: CatalogInfo
    currency: Literal["USD"] = "USD"
    hours_per_month: int = 730
    cost: CostSection
    load: LoadSection = Field(default_factory=LoadSection)
    findings: list[FindingOut] = Field(default_factory=list)
    recommendations: list[RecommendationOut] = Field(default_factory=list)
    phases: list[PhaseOut] = Field(default_factory=list)
    monitoring: MonitoringSection
    success_metrics: list[SuccessMetric] = Field(default_factory=list)
    totals: Totals
    issues: list[IssueOut] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-able data, keys in schema order."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Any, *, where: str = "report") -> Report:
        """Read a report dict; a wrong version or shape raises a ReportError with one line."""
        if not isinstance(data, dict):
            raise ReportError(f"{where}: not a leanstack report (expected a JSON object)")
        if data.get("kind") != REPORT_KIND:
            raise ReportError(f"{where}: not a leanstack report (kind is {data.get('kind')!r})")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ReportVersionError(
                f"{where}: report schema version {version!r} is not supported "
                f"(this leanstack reads {SCHEMA_VERSION}); re-run `leanstack analyze` to rebuild it"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(part) for part in first["loc"])
            raise ReportError(f"{where}: invalid report at {loc}: {first['msg']}") from None


def load_report(path: Path) -> Report:
    """Read a report JSON file; every failure is a ReportError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return Report.from_json(data, where=str(path))


def report_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the report, generated from the models."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:leanstack:schema:report:{SCHEMA_VERSION}"
    return schema
