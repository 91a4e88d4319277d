"""The explicit registry of cost models, free types and usage keys.

Each `resources/<terraform type>.py` module registers its model with `@cost_model(...)`;
`resources/__init__.py` imports every module by name, so the registry is complete as soon as
the package is imported and nothing is discovered by scanning the file system.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from leanstack.catalog import Catalog
from leanstack.model.pricing import PricedResource
from leanstack.model.resource import Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingContext:
    """What a cost model may look at besides the resource itself.

    `index` holds every resource of the stack by address, so a service can follow its refs to
    the task definition, cluster and autoscaling target. `usage` holds the usage keys for the
    resource being priced (from a usage file or from recorded metrics), already merged.
    """

    catalog: Catalog
    index: Mapping[str, Resource]
    usage: Mapping[str, Decimal | str]


@dataclass(frozen=True, slots=True)
class UsageKey:
    """One usage key a type understands (the infracost vocabulary where one exists).

    `unit` is what the number counts (`requests/month`, `GB`, `ms`...); `text` marks a key
    whose value is a word rather than a number.
    """

    name: str
    description: str
    unit: str


CostModel = Callable[[Resource, PricingContext], PricedResource]


@dataclass(frozen=True, slots=True)
class _Entry:
    model: CostModel
    usage: tuple[UsageKey, ...]
    regional: bool


_MODELS: dict[str, _Entry] = {}
_FREE: dict[str, str] = {}


def cost_model(
    *types: str, usage: tuple[UsageKey, ...] = (), regional: bool = True
) -> Callable[[CostModel], CostModel]:
    """Register `fn` as the cost model of each Terraform type in `types`.

    `regional=False` marks a global service (CloudFront) whose prices do not depend on the
    resource's region, so an unknown region does not stop it being priced.
    """

    def register(fn: CostModel) -> CostModel:
        for resource_type in types:
            if resource_type in _MODELS:
                raise ValueError(f"two cost models for {resource_type}")
            _MODELS[resource_type] = _Entry(fn, usage, regional)
        return fn

    return register


def register_free(reasons: Mapping[str, str]) -> None:
    """Declare types that AWS does not bill for (type -> why it is free)."""
    _FREE.update(reasons)


def model_for(resource_type: str) -> CostModel | None:
    """The registered cost model, or None."""
    entry = _MODELS.get(resource_type)
    return entry.model if entry else None


def is_regional(resource_type: str) -> bool:
    """False for global services (their prices ignore the resource's region)."""
    entry = _MODELS.get(resource_type)
    return entry.regional if entry else True


def free_reason(resource_type: str) -> str | None:
    """Why a type is free, or None when it is not on the free list."""
    return _FREE.get(resource_type)


def supported_types() -> frozenset[str]:
    """Types with a cost model."""
    return frozenset(_MODELS)


def free_types() -> frozenset[str]:
    """Types listed as free of charge."""
    return frozenset(_FREE)


def usage_keys(resource_type: str) -> tuple[UsageKey, ...]:
    """The usage keys a type understands (empty for free, unsupported or unknown types)."""
    entry = _MODELS.get(resource_type)
    return entry.usage if entry else ()
