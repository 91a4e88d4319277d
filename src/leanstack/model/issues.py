"""Problems found while loading, pricing or analyzing: collected, never raised past a stage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IssueCode(StrEnum):
    """What kind of problem an Issue reports."""

    PARSE_ERROR = "parse_error"
    UNDEFINED_VARIABLE = "undefined_variable"
    MISSING_MODULE = "missing_module"
    UNKNOWN_VALUE = "unknown_value"
    UNKNOWN_REGION = "unknown_region"
    UNSUPPORTED_RESOURCE = "unsupported_resource"
    PRICE_NOT_FOUND = "price_not_found"
    USAGE_ERROR = "usage_error"
    PLAN_ERROR = "plan_error"
    INSUFFICIENT_DATA = "insufficient_data"
    METRICS_ERROR = "metrics_error"
    EVALUATION_ERROR = "evaluation_error"
    AWS_API_ERROR = "aws_api_error"


class Severity(StrEnum):
    """How much an issue matters: errors make parts of the estimate impossible."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One problem, with where it was found ("file:line" or an address)."""

    code: IssueCode
    message: str
    where: str = ""
    severity: Severity = Severity.WARNING

    def line(self) -> str:
        """The one line a user sees: `where: message`."""
        return f"{self.where}: {self.message}" if self.where else self.message
