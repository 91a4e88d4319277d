"""The report: one versioned JSON document, and the renderers that turn it into text."""

from leanstack.report.model import (
    CapacityInput,
    Report,
    ReportError,
    ReportVersionError,
    StackInput,
    build_report,
    json_value,
    load_report,
    report_from_pipeline,
    report_json_schema,
)

__all__ = [
    "CapacityInput",
    "Report",
    "ReportError",
    "ReportVersionError",
    "StackInput",
    "build_report",
    "json_value",
    "load_report",
    "report_from_pipeline",
    "report_json_schema",
]
