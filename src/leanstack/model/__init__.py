"""Pure data shared by every stage: no I/O, standard library only."""

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import HOURS_PER_MONTH, money, quantize_money
from leanstack.model.resource import UNKNOWN, Resource, SourceSpan, Unknown, is_known

__all__ = [
    "HOURS_PER_MONTH",
    "UNKNOWN",
    "Issue",
    "IssueCode",
    "Resource",
    "Severity",
    "SourceSpan",
    "Unknown",
    "is_known",
    "money",
    "quantize_money",
]
