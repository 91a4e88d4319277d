"""The versioned report (`schema_version` 1.0): its types, `build_report` and the JSON Schema.

This module is the public face of the report; the types live in `_types` and the assembly in
`_build` so that each stays readable.
"""

from __future__ import annotations

from leanstack.report._build import (
    SAVINGS_METHOD,
    CapacityInput,
    MetricsInput,
    StackInput,
    build_report,
    json_value,
    report_from_pipeline,
)
from leanstack.report._types import (
    REPORT_KIND,
    SCHEMA_VERSION,
    CostSection,
    FindingOut,
    LoadSection,
    MetricLoad,
    MonitoringSection,
    PhaseOut,
    RecommendationOut,
    Report,
    ReportError,
    ReportVersionError,
    ResourceCost,
    SuccessMetric,
    Totals,
    load_report,
    report_json_schema,
)

__all__ = [
    "REPORT_KIND",
    "SAVINGS_METHOD",
    "SCHEMA_VERSION",
    "CapacityInput",
    "CostSection",
    "FindingOut",
    "LoadSection",
    "MetricLoad",
    "MetricsInput",
    "MonitoringSection",
    "PhaseOut",
    "RecommendationOut",
    "Report",
    "ReportError",
    "ReportVersionError",
    "ResourceCost",
    "StackInput",
    "SuccessMetric",
    "Totals",
    "build_report",
    "json_value",
    "load_report",
    "report_from_pipeline",
    "report_json_schema",
]
