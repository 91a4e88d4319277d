"""Findings and recommendations produced by analyzers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class FindingStatus(StrEnum):
    """What an analyzer concluded about one resource."""

    OPPORTUNITY = "opportunity"
    NO_CHANGE = "no_change"
    INSUFFICIENT_DATA = "insufficient_data"
    NOT_APPLICABLE = "not_applicable"


class Phase(StrEnum):
    """When to apply a recommendation."""

    QUICK_WIN = "quick_win"  # configuration change with no behaviour risk
    ADVANCED = "advanced"  # policy change to watch after applying
    MIGRATION = "migration"  # architectural move


class Confidence(StrEnum):
    """How strongly the recorded load supports the recommendation."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeChange:
    """One Terraform attribute change.

    `path` is dotted from the resource address: `aws_ecs_task_definition.app.cpu`, or for
    nested blocks `aws_ecs_service.app.capacity_provider_strategy` (whole block list replaced).
    `before`/`after` are JSON-able values; `after=None` removes the attribute.
    `new_block` is HCL text for a resource that does not exist yet (budget, alarm, capacity
    provider); then `path` is the new resource's address.
    """

    path: str
    before: Any
    after: Any
    new_block: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    """A priced change: before and after monthly cost from the catalog."""

    id: str
    analyzer: str
    address: str
    title: str
    phase: Phase
    changes: tuple[AttributeChange, ...]
    monthly_cost_before: Decimal
    monthly_cost_after: Decimal
    confidence: Confidence
    evidence: Mapping[str, Any] = field(default_factory=dict)
    risks: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    exclusive_group: str = ""

    @property
    def monthly_savings(self) -> Decimal:
        """Before minus after (negative when the change costs more)."""
        return self.monthly_cost_before - self.monthly_cost_after


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """An analyzer's conclusion about one resource, with the evidence behind it."""

    analyzer: str
    address: str
    status: FindingStatus
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    recommendation: Recommendation | None = None
