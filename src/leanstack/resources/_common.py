"""Helpers shared by the cost models: value parsing, ref lookups, catalog components, tiers.

A model reads attributes through `need()` / `number()`, which raise `MissingValue` when a value
the price depends on is unknown before apply; `price_resource` turns that into an UNKNOWN
resource whose reason names the attribute, so no model has to thread that case by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import (
    Price,
    PriceComponent,
    PricedResource,
    PriceQuery,
    PricingStatus,
)
from leanstack.model.resource import UNKNOWN, Resource
from leanstack.resources._registry import PricingContext

HOURS = HOURS_PER_MONTH
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
MILLION = Decimal(1_000_000)


class MissingValue(Exception):
    """A value a price needs is unknown before apply, or has a form we cannot read."""

    def __init__(self, attribute: str, detail: str = "is unknown before apply") -> None:
        super().__init__(f"{attribute} {detail}")
        self.attribute = attribute


def to_decimal(value: Any) -> Decimal | None:
    """A number from an HCL/JSON value (int, float, numeric string); None when not numeric."""
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # str() gives the shortest repr, so 0.5 stays 0.5 rather than a binary expansion.
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def need(resource: Resource, key: str, default: Any = None) -> Any:
    """An attribute value; raises MissingValue when it is UNKNOWN."""
    value = resource.attrs.get(key)
    if value is UNKNOWN:
        raise MissingValue(key)
    return default if value is None else value


def number(resource: Resource, key: str, default: Decimal | int | None = None) -> Decimal | None:
    """A numeric attribute; MissingValue when unknown or not a number, default when unset."""
    value = need(resource, key)
    if value is None:
        return None if default is None else Decimal(default)
    result = to_decimal(value)
    if result is None:
        raise MissingValue(key, f"is not a number ({value!r})")
    return result


def soft(resource: Resource, key: str, default: Any = None) -> Any:
    """An optional attribute whose absence has a known meaning: UNKNOWN and unset give `default`.

    Plan JSON marks optional+computed attributes that the configuration leaves unset as
    unknown; treating those as unset keeps HCL and plan prices the same.
    """
    value = resource.attrs.get(key)
    return default if value is None or value is UNKNOWN else value


def soft_number(
    resource: Resource, key: str, default: Decimal | int | None = None
) -> Decimal | None:
    """`soft()` for numbers; a value that is set but not numeric raises MissingValue."""
    value = soft(resource, key)
    if value is None:
        return None if default is None else Decimal(default)
    result = to_decimal(value)
    if result is None:
        raise MissingValue(key, f"is not a number ({value!r})")
    return result


def soft_flag(resource: Resource, key: str, default: bool = False) -> bool:
    """`soft()` for booleans."""
    value = soft(resource, key)
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def block_value(block: Mapping[str, Any], key: str, where: str) -> Any:
    """A nested block attribute; MissingValue (naming `where.key`) when it is UNKNOWN."""
    value = block.get(key)
    if value is UNKNOWN:
        raise MissingValue(f"{where}.{key}")
    return value


def usage_number(ctx: PricingContext, key: str) -> Decimal | None:
    """A numeric usage value, or None when the usage was not given."""
    value = ctx.usage.get(key)
    if value is None:
        return None
    return to_decimal(value)


# --- references ------------------------------------------------------------------------

_INDEX_SUFFIX = re.compile(r"\[[^\[\]]*\]$")


def base_address(address: str) -> str:
    """`aws_x.y[0]` -> `aws_x.y` (the index of the last step only)."""
    return _INDEX_SUFFIX.sub("", address)


def instance_key(address: str) -> str:
    """`aws_x.y["a"]` -> `["a"]`, `aws_x.y` -> ``."""
    match = _INDEX_SUFFIX.search(address)
    return match.group(0) if match else ""


@dataclass(slots=True)
class _IndexView:
    index: Mapping[str, Resource]
    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    by_base: dict[str, list[Resource]] = field(default_factory=dict)


_VIEWS: list[_IndexView] = []


def _view(index: Mapping[str, Resource]) -> _IndexView:
    # The index is rebuilt per estimate; keep the last few views so that every service in a
    # 2,000-resource stack does not rescan it (identity check: the view holds the index).
    for view in _VIEWS:
        if view.index is index:
            return view
    view = _IndexView(index)
    for address, res in index.items():
        view.by_type.setdefault(res.type, []).append(res)
        view.by_base.setdefault(base_address(address), []).append(res)
    _VIEWS.insert(0, view)
    del _VIEWS[4:]
    return view


def of_type(ctx: PricingContext, resource_type: str) -> list[Resource]:
    """Every resource of a type in the stack."""
    return _view(ctx.index).by_type.get(resource_type, [])


def lookup_address(
    ctx: PricingContext, address: str, near: Resource | None = None
) -> Resource | None:
    """The resource at an address; a ref without an index picks the instance with the same
    index as `near` (a `count` service referencing a `count` task definition), else the only one.
    """
    found = ctx.index.get(address)
    if found is not None:
        return found
    candidates = _view(ctx.index).by_base.get(base_address(address), [])
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if near is not None:
        key = instance_key(near.address)
        for candidate in candidates:
            if instance_key(candidate.address) == key:
                return candidate
    return candidates[0]


def refs_of(
    ctx: PricingContext, resource: Resource, attribute: str, resource_type: str
) -> list[Resource]:
    """Resources of `resource_type` that `resource.<attribute>` references."""
    out: list[Resource] = []
    for address in resource.refs.get(attribute, ()):
        target = lookup_address(ctx, address, resource)
        if target is not None and target.type == resource_type and target not in out:
            out.append(target)
    return out


def same_value(
    ctx: PricingContext, resource_type: str, attribute: str, value: Any
) -> list[Resource]:
    """Resources of a type whose `attribute` equals a known string (a ref the loader resolved
    to its value, like `cluster_identifier = aws_rds_cluster.main.id` -> "main")."""
    if not isinstance(value, str) or not value:
        return []
    return [r for r in of_type(ctx, resource_type) if r.attrs.get(attribute) == value]


def references(
    resource: Resource, target: Resource, attributes: Iterable[str] | None = None
) -> bool:
    """True when `resource` references `target` (by exact or base address)."""
    names = (target.address, base_address(target.address))
    for attribute, addresses in resource.refs.items():
        if attributes is not None and attribute not in attributes:
            continue
        if any(a in names for a in addresses):
            return True
    return False


# --- components ------------------------------------------------------------------------


def arch_of(value: Any, where: str) -> str:
    """x86_64 or arm64 from `ARM64`, `arm64`, `X86_64`..."""
    if value is UNKNOWN:
        raise MissingValue(where)
    text = str(value or "x86_64").strip().lower()
    return "arm64" if text in ("arm64", "aarch64", "arm") else "x86_64"


class Components:
    """Builds a resource's components against the catalog, collecting missing prices."""

    def __init__(self, resource: Resource, ctx: PricingContext, region: str | None = None) -> None:
        self.resource = resource
        self.ctx = ctx
        self.region = region or resource.region
        self.items: list[PriceComponent] = []

    def lookup(self, query: PriceQuery, unit: str | None = None) -> Price | None:
        """Best catalog row, optionally restricted to a unit."""
        if unit is None:
            return self.ctx.catalog.lookup(query)
        for price in self.ctx.catalog.matches(query):
            if price.unit == unit:
                return price
        return None

    def add(
        self,
        name: str,
        unit: str,
        quantity: Decimal | None,
        query: PriceQuery,
        *,
        what: str,
        usage_based: bool = False,
        note: str = "",
        price_unit: str | None = None,
    ) -> PriceComponent:
        """A component priced from the catalog; `what` names the price in "no price for" lines."""
        price = self.lookup(query, price_unit)
        notes = [note] if note else []
        if price is not None and price.basis:
            notes.append(basis_note(price))
        component = PriceComponent(
            name=name,
            unit=unit,
            monthly_quantity=quantity,
            unit_price=price.price if price else None,
            query=query,
            price=price,
            usage_based=usage_based,
            price_error=None if price else f"no price for {what} in {query.region}",
            note="; ".join(notes),
        )
        self.items.append(component)
        return component

    def add_fixed(
        self,
        name: str,
        unit: str,
        quantity: Decimal | None,
        unit_price: Decimal,
        *,
        price: Price | None = None,
        usage_based: bool = False,
        note: str = "",
    ) -> None:
        """A component with a known price (the free-tier lines, priced at 0)."""
        self.items.append(
            PriceComponent(
                name=name,
                unit=unit,
                monthly_quantity=quantity,
                unit_price=unit_price,
                price=price,
                usage_based=usage_based,
                note=note,
            )
        )

    def result(
        self,
        *,
        cost_min: Decimal | None = None,
        cost_max: Decimal | None = None,
        details: Mapping[str, object] | None = None,
        reason: str = "",
    ) -> PricedResource:
        """The PricedResource for these components."""
        return PricedResource(
            address=self.resource.address,
            type=self.resource.type,
            region=self.region,
            status=PricingStatus.PRICED,
            components=tuple(self.items),
            monthly_cost_min=cost_min,
            monthly_cost_max=cost_max,
            source=self.resource.source,
            reason=reason,
            details=dict(details or {}),
        )


FREE_TIER_NOTE = "account-wide monthly allowance"


def is_free_tier(component: PriceComponent) -> bool:
    """True for the $0 free-allowance lines (SQS and Lambda free tiers)."""
    return component.unit_price == 0 and component.note.startswith(FREE_TIER_NOTE)


def basis_note(price: Price) -> str:
    """The sentence that says a price is derived, not a published list price."""
    basis = price.basis or ""
    observed = price.attributes.get("observed_on")
    if basis == "observed":
        return f"price observed on {observed}, not a list price (Spot prices vary)"
    if basis.startswith("illustrative"):
        return f"illustrative price ({basis}), not a list price"
    if basis.startswith("derived"):
        return f"derived price ({basis}), not a published list price"
    return f"price basis: {basis}"


def split_tiers(quantity: Decimal, sizes: Sequence[Decimal | None]) -> list[Decimal]:
    """How much of `quantity` falls in each tier; `sizes` are tier widths, None = unbounded."""
    out: list[Decimal] = []
    remaining = max(quantity, Decimal(0))
    for size in sizes:
        take = remaining if size is None else min(remaining, size)
        out.append(take)
        remaining -= take
    return out


def _without_components(
    resource: Resource, status: PricingStatus, reason: str
) -> PricedResource:
    return PricedResource(
        address=resource.address,
        type=resource.type,
        region=resource.region,
        status=status,
        source=resource.source,
        reason=reason,
    )


def unknown(resource: Resource, reason: str) -> PricedResource:
    """A resource that cannot be priced because an input is unknown."""
    return _without_components(resource, PricingStatus.UNKNOWN, reason)


def unsupported(resource: Resource, reason: str) -> PricedResource:
    """A resource leanstack does not price, with the reason."""
    return _without_components(resource, PricingStatus.UNSUPPORTED, reason)


def free(resource: Resource, reason: str) -> PricedResource:
    """A resource with no charge of its own."""
    return _without_components(resource, PricingStatus.FREE, reason)


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 200, 0.5, 1.25."""
    text = format(value.normalize(), "f")
    return text


def ceil_div(value: Decimal, step: Decimal) -> Decimal:
    """Number of `step`-sized chunks covering `value` (at least 1)."""
    if value <= 0:
        return Decimal(1)
    return Decimal(math.ceil(value / step))


class PriceNotFound(LookupError):
    """Raised by the hypothetical-configuration helpers when the catalog lacks a price."""
