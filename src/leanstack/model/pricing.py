"""Prices, price components and priced resources.

A cost model turns a Resource into PriceComponents. Each component carries the PriceQuery it
was priced with and the catalog Price it found, so every figure traces back to a catalog row
(its source and date), a quantity and the usage behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from leanstack.model.money import CENT
from leanstack.model.resource import SourceSpan


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """One catalog row: a unit price and where it came from."""

    service: str
    region: str
    product: str
    attributes: Mapping[str, str]
    usage_type: str
    unit: str
    price: Decimal
    source: str
    source_date: str
    notes: str = ""

    @property
    def basis(self) -> str | None:
        """`price_basis` for derived values (not a published list price), else None."""
        return self.attributes.get("price_basis")


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceQuery:
    """A query into the catalog: service, region and attribute filters.

    A filter value matches a row value that equals it, that lists it among `|`/`+`
    alternatives, or that is `any`.
    """

    service: str
    region: str
    attrs: tuple[tuple[str, str], ...] = ()
    usage_type: str | None = None

    @staticmethod
    def of(service: str, region: str, usage_type: str | None = None, **attrs: str) -> PriceQuery:
        """Build a query from keyword filters."""
        return PriceQuery(
            service=service,
            region=region,
            attrs=tuple(sorted(attrs.items())),
            usage_type=usage_type,
        )

    def describe(self) -> str:
        """Human form used in "no price for ..." lines."""
        parts = [f"{k}={v}" for k, v in self.attrs]
        if self.usage_type:
            parts.append(f"usage_type={self.usage_type}")
        return f"{self.service} {' '.join(parts)} in {self.region}".replace("  ", " ")


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceComponent:
    """One line of a resource's cost: monthly quantity x unit price.

    `monthly_quantity is None` means the cost depends on usage that was not given;
    `unit_price is None` means the catalog has no price (see `price_error`).
    """

    name: str
    unit: str
    monthly_quantity: Decimal | None
    unit_price: Decimal | None
    query: PriceQuery | None = None
    price: Price | None = None
    usage_based: bool = False
    price_error: str | None = None
    note: str = ""

    @property
    def monthly_cost(self) -> Decimal | None:
        """Quantity x price, None when either is missing."""
        if self.monthly_quantity is None or self.unit_price is None:
            return None
        return self.monthly_quantity * self.unit_price

    @property
    def line_cost(self) -> Decimal | None:
        """`monthly_cost` rounded half-up to cents once: the figure every total adds up."""
        cost = self.monthly_cost
        return None if cost is None else cost.quantize(CENT, rounding=ROUND_HALF_UP)


class PricingStatus(StrEnum):
    """How a resource came out of pricing."""

    PRICED = "priced"
    FREE = "free"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"  # some input needed for a price is unknown before apply or missing


@dataclass(frozen=True, slots=True, kw_only=True)
class PricedResource:
    """A resource with its cost components.

    `monthly_cost_max` is set when the cost is a range (autoscaling min..max); then
    `monthly_cost` is the cost at the expected count and the range is shown beside it.
    """

    address: str
    type: str
    region: str
    status: PricingStatus
    components: tuple[PriceComponent, ...] = ()
    monthly_cost_min: Decimal | None = None
    monthly_cost_max: Decimal | None = None
    source: SourceSpan | None = None
    reason: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def monthly_cost(self) -> Decimal:
        """Sum of the components whose cost is known, each line in cents (`line_cost`).

        Lines are rounded once, like an invoice, so this equals the sum of the lines as
        printed. An UNKNOWN resource may have some: see `counted_cost` for totals.
        """
        total = Decimal(0)
        for component in self.components:
            cost = component.line_cost
            if cost is not None:
                total += cost
        return total

    @property
    def counted_cost(self) -> Decimal:
        """What the resource adds to a stack total: `monthly_cost`, or 0 when UNKNOWN.

        An UNKNOWN resource adds nothing even when some of its lines are priced: a total that
        counted them would pass the missing line off as $0. Totals say what they exclude.
        """
        if self.status is PricingStatus.UNKNOWN:
            return Decimal(0)
        return self.monthly_cost

    @property
    def unpriced_components(self) -> tuple[PriceComponent, ...]:
        """Lines with a quantity to bill but no catalog price: their cost is missing, not $0.

        A usage-based line without its usage is not one of them (its cost is shown as
        depending on usage), nor is a line whose quantity is zero.
        """
        return tuple(
            c
            for c in self.components
            if c.unit_price is None
            and not (c.usage_based and c.monthly_quantity is None)
            and c.monthly_quantity != 0
        )
