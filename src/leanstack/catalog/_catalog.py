"""Catalog lookups: a PriceQuery in, the one best-matching Price out."""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path

from leanstack.model.pricing import Price, PriceQuery

CATALOG_DATE = "2026-11-26"
EMBEDDED_SOURCE = "leanstack embedded catalog (aws-prices.csv, USD on-demand list prices)"

# Rows carrying one of these attributes describe a purchase option other than on-demand; a
# query sees them only when it asks for that attribute.
_OPT_IN_ATTRS = ("term", "purchase_option", "price_component", "plan")


def parse_attributes(text: str) -> dict[str, str]:
    """`k=v;k=v` into a dict (values may themselves contain `=`)."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _value_matches(wanted: str, have: str) -> bool:
    if have in (wanted, "any"):
        return True
    alternatives = have.replace("+", "|").split("|")
    return wanted in alternatives


def _preference(price: Price) -> tuple[int, str]:
    """Published prices first; among observed Spot prices the most recent one."""
    basis = price.basis
    if basis is None:
        return (0, "")
    if basis == "observed":
        # Invert the date so that the newest sorts first.
        observed = price.attributes.get("observed_on", "")
        return (1, "".join(chr(255 - ord(c)) for c in observed))
    return (2, basis)


class Catalog:
    """An indexed set of prices with a date and a source.

    Later sources override earlier ones: a local catalog (offer-file import or Pricing API
    fetch) is layered over the embedded one, row by row on (service, region, usage_type, attrs).
    """

    def __init__(self, prices: Iterable[Price], *, date: str, source: str) -> None:
        self.date = date
        self.source = source
        self._by_service_region: dict[tuple[str, str], list[Price]] = defaultdict(list)
        for price in prices:
            self._by_service_region[(price.service, price.region)].append(price)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_service_region.values())

    def prices(self) -> Iterable[Price]:
        """Every row."""
        for rows in self._by_service_region.values():
            yield from rows

    def regions(self, service: str | None = None) -> set[str]:
        """Regions with at least one price (for one service, or any)."""
        return {r for (s, r) in self._by_service_region if service is None or s == service}

    def matches(self, query: PriceQuery) -> list[Price]:
        """All rows matching the query, best first."""
        wanted = dict(query.attrs)
        found: list[Price] = []
        for price in self._by_service_region.get((query.service, query.region), ()):
            if query.usage_type is not None and price.usage_type != query.usage_type:
                continue
            attrs = price.attributes
            if any(k in attrs and k not in wanted for k in _OPT_IN_ATTRS):
                continue
            if "capacity" in attrs and "capacity" not in wanted and attrs["capacity"] != "on-demand":
                continue
            if all(k in attrs and _value_matches(v, attrs[k]) for k, v in wanted.items()):
                found.append(price)
        found.sort(key=_preference)
        return found

    def lookup(self, query: PriceQuery) -> Price | None:
        """The best row for the query, or None when the catalog has no price for it."""
        found = self.matches(query)
        return found[0] if found else None

    def find(self, service: str, region: str, usage_type: str | None = None, **attrs: str) -> Price | None:
        """Shorthand for `lookup(PriceQuery.of(...))`."""
        return self.lookup(PriceQuery.of(service, region, usage_type, **attrs))

    def overlay(self, other: Catalog) -> Catalog:
        """A catalog where `other`'s rows replace this one's rows with the same key."""

        def key(p: Price) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
            return (p.service, p.region, p.usage_type, tuple(sorted(p.attributes.items())))

        merged = {key(p): p for p in self.prices()}
        merged.update({key(p): p for p in other.prices()})
        return Catalog(merged.values(), date=other.date, source=f"{other.source} over {self.source}")


def read_price_csv(lines: Iterable[str]) -> list[Price]:
    """Rows of the aws-prices.csv format into Prices."""
    out: list[Price] = []
    for row in csv.DictReader(lines):
        out.append(
            Price(
                service=row["service"],
                region=row["region"],
                product=row["product"],
                attributes=parse_attributes(row["attributes"]),
                usage_type=row["usage_type"],
                unit=row["unit"],
                price=Decimal(row["price_usd"]),
                source=row["source"],
                source_date=row["source_date"],
                notes=row.get("notes") or "",
            )
        )
    return out


@functools.cache
def embedded_catalog() -> Catalog:
    """The catalog shipped in the package."""
    text = resources.files("leanstack.catalog").joinpath("data/aws-prices.csv").read_text("utf-8")
    return Catalog(read_price_csv(text.splitlines()), date=CATALOG_DATE, source=EMBEDDED_SOURCE)


def load_catalog(local: Sequence[Path] = ()) -> Catalog:
    """The embedded catalog with each local catalog CSV layered over it, in order."""
    catalog = embedded_catalog()
    for path in local:
        with path.open(encoding="utf-8") as handle:
            rows = read_price_csv(handle)
        catalog = catalog.overlay(Catalog(rows, date=_local_date(path, rows), source=str(path)))
    return catalog


def _local_date(path: Path, rows: Sequence[Price]) -> str:
    dates = sorted({p.source_date for p in rows if p.source_date[:4].isdigit()})
    return dates[-1] if dates else path.stem
