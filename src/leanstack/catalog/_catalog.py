"""Catalog lookups: a PriceQuery in, the one best-matching Price out."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.pricing import Price, PriceQuery

CSV_COLUMNS = (
    "service",
    "region",
    "product",
    "attributes",
    "usage_type",
    "unit",
    "price_usd",
    "source",
    "source_date",
    "notes",
)
_REQUIRED_COLUMNS = CSV_COLUMNS[:-1]

# Rows carrying one of these attributes describe a purchase option other than on-demand; a
# query sees them only when it asks for that attribute.
_OPT_IN_ATTRS = ("term", "purchase_option", "price_component", "plan")

_ATTR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_DATA = "data"
_MANIFEST = "catalog.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """What the embedded catalog is: its date, source, file, row count and checksum."""

    date: str
    source: str
    file: str
    rows: int
    sha256: str


@functools.cache
def embedded_manifest() -> Manifest:
    """The manifest shipped beside the embedded CSV (`data/catalog.json`)."""
    raw = json.loads(_data_file(_MANIFEST).read_text("utf-8"))
    return Manifest(
        date=str(raw["date"]),
        source=str(raw["source"]),
        file=str(raw["file"]),
        rows=int(raw["rows"]),
        sha256=str(raw["sha256"]),
    )


def _data_file(name: str) -> Any:
    return resources.files("leanstack.catalog").joinpath(f"{_DATA}/{name}")


CATALOG_DATE = embedded_manifest().date
EMBEDDED_SOURCE = embedded_manifest().source


def parse_attributes(text: str) -> dict[str, str]:
    """`k=v;k=v` into a dict.

    Values may contain `=`, and a few source values contain `;` (the gp3 baseline note): a
    part without `=` continues the previous value instead of being dropped.
    """
    out: dict[str, str] = {}
    last: str | None = None
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and _ATTR_KEY.fullmatch(key.strip()):
            last = key.strip()
            out[last] = value.strip()
        elif last is not None and part.strip():
            out[last] = f"{out[last]}; {part.strip()}"
    return out


def format_attributes(attributes: Mapping[str, str]) -> str:
    """The inverse of `parse_attributes` (insertion order kept)."""
    return ";".join(f"{k}={v}" for k, v in attributes.items())


def format_price(value: Decimal) -> str:
    """A unit price as plain decimal text without trailing zeros ("0.4", "0.0000166667")."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogLayer:
    """One source layered into a catalog: the embedded catalog or a local CSV.

    `date` is the embedded catalog's date; for a local layer, `first`..`last` span the
    source dates of its rows (a local file has no date of its own).
    """

    source: str
    embedded: bool
    rows: int
    date: str = ""
    first: str = ""
    last: str = ""

    def describe(self) -> str:
        """`embedded 2026-11-26` or `local cat.csv (2 prices from 2017-03-01..2019-06-01)`."""
        if self.embedded:
            return f"embedded {self.date}"
        span = self.first if self.first == self.last else f"{self.first}..{self.last}"
        word = "price" if self.rows == 1 else "prices"
        dated = f" from {span}" if span else ""
        return f"local {self.source} ({self.rows} {word}{dated})"


def _source_dates(rows: Iterable[Price]) -> list[str]:
    return sorted({p.source_date[:10] for p in rows if p.source_date[:4].isdigit()})


RowKey = tuple[str, str, str, str, tuple[tuple[str, str], ...]]


def row_key(p: Price) -> RowKey:
    """Identity of a row for overlays: service, region, usage type, unit and attributes.

    The unit is part of it because the free-tier allowance rows differ only by unit.
    """
    return (p.service, p.region, p.usage_type, p.unit, tuple(sorted(p.attributes.items())))


class Catalog:
    """An indexed set of prices with a date and a source.

    `date` is the date of the base (embedded) catalog and stays so when local catalogs are
    layered over it: a one-file override must not re-date the whole catalog. `source` names
    every layer with its own dates (`layer_details`).

    Later sources override earlier ones: a local catalog (offer-file import or Pricing API
    fetch) is layered over the embedded one, row by row on `row_key` (service, region,
    usage_type, unit, attributes);
    where rows of both layers match a query, the newer layer's row wins (published prices
    still before derived ones). `issues` holds problems met while loading local files.
    """

    def __init__(
        self,
        prices: Iterable[Price],
        *,
        date: str,
        source: str,
        issues: Sequence[Issue] = (),
        layer: CatalogLayer | None = None,
    ) -> None:
        self.date = date
        self.source = source
        self.issues: tuple[Issue, ...] = tuple(issues)
        self._by_service_region: dict[tuple[str, str], list[tuple[int, Price]]] = defaultdict(list)
        self._cache: dict[PriceQuery, tuple[Price, ...]] = {}
        self._index: dict[tuple[str, str, str], list[int]] | None = None
        self._layers: tuple[str, ...] = (source,)
        rows = list(prices)
        for price in rows:
            self._by_service_region[(price.service, price.region)].append((0, price))
        if layer is None:
            dates = _source_dates(rows)
            layer = CatalogLayer(
                source=source,
                embedded=False,
                rows=len(rows),
                date=date,
                first=dates[0] if dates else "",
                last=dates[-1] if dates else "",
            )
        self._layer_info: tuple[CatalogLayer, ...] = (layer,)

    @classmethod
    def _from_entries(
        cls,
        entries: Iterable[tuple[int, Price]],
        *,
        date: str,
        source: str,
        layers: tuple[str, ...],
        layer_info: tuple[CatalogLayer, ...],
        issues: Sequence[Issue],
    ) -> Catalog:
        catalog = cls((), date=date, source=source, issues=issues)
        catalog._layers = layers
        catalog._layer_info = layer_info
        for layer, price in entries:
            catalog._by_service_region[(price.service, price.region)].append((layer, price))
        return catalog

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_service_region.values())

    @property
    def layers(self) -> tuple[str, ...]:
        """The sources layered into this catalog, oldest (the embedded one) first."""
        return self._layers

    @property
    def layer_details(self) -> tuple[CatalogLayer, ...]:
        """Each layer with its rows and dates, oldest (the embedded one) first."""
        return self._layer_info

    def describe(self) -> str:
        """`embedded 2026-11-26 + local cat.csv (2 prices from 2017-03-01..2019-06-01)`."""
        return " + ".join(layer.describe() for layer in self._layer_info)

    def prices(self) -> Iterable[Price]:
        """Every row."""
        for rows in self._by_service_region.values():
            for _, price in rows:
                yield price

    def layer_of(self, price: Price) -> str:
        """The source (layer) a row of this catalog came from."""
        for layer, row in self._by_service_region.get((price.service, price.region), ()):
            if row is price:
                return self._layers[layer]
        return ""

    def regions(self, service: str | None = None) -> set[str]:
        """Regions with at least one price (for one service, or any)."""
        return {r for (s, r) in self._by_service_region if service is None or s == service}

    def services(self) -> set[str]:
        """Services with at least one price."""
        return {s for (s, _) in self._by_service_region}

    def matches(self, query: PriceQuery) -> list[Price]:
        """All rows matching the query, best first."""
        cached = self._cache.get(query)
        if cached is None:
            cached = tuple(self._match(query))
            self._cache[query] = cached
        return list(cached)

    def _match(self, query: PriceQuery) -> list[Price]:
        wanted = dict(query.attrs)
        found: list[tuple[int, Price]] = []
        for layer, price in self._candidates(query, wanted):
            if query.usage_type is not None and price.usage_type != query.usage_type:
                continue
            attrs = price.attributes
            if any(k in attrs and k not in wanted for k in _OPT_IN_ATTRS):
                continue
            if (
                "capacity" in attrs
                and "capacity" not in wanted
                and attrs["capacity"] != "on-demand"
            ):
                continue
            if all(k in attrs and _value_matches(v, attrs[k]) for k, v in wanted.items()):
                found.append((layer, price))
        # Stable sort: published before derived, then the newest layer, then file order.
        found.sort(key=lambda item: (_preference(item[1]), -item[0]))
        return [price for _, price in found]

    def _candidates(
        self, query: PriceQuery, wanted: Mapping[str, str]
    ) -> Sequence[tuple[int, Price]]:
        """Rows that can match, in catalog order.

        Most lookups name an instance type; an index on it avoids scanning the few hundred
        rows of a service and region. Rows without the attribute can never match such a
        query; rows whose value lists alternatives (or `any`) are kept under the key "*".
        """
        rows = self._by_service_region.get((query.service, query.region), [])
        wanted_type = wanted.get("instance_type")
        if wanted_type is None or len(rows) < 64:
            return rows
        if self._index is None:
            index: dict[tuple[str, str, str], list[int]] = defaultdict(list)
            for (service, region), entries in self._by_service_region.items():
                for position, (_, price) in enumerate(entries):
                    have = price.attributes.get("instance_type")
                    if have is not None:
                        plain = have != "any" and not any(c in have for c in "|+")
                        index[(service, region, have if plain else "*")].append(position)
            self._index = index
        positions = self._index.get((query.service, query.region, wanted_type), [])
        multi = self._index.get((query.service, query.region, "*"), [])
        if multi:
            positions = sorted([*positions, *multi])
        return [rows[p] for p in positions]

    def lookup(self, query: PriceQuery) -> Price | None:
        """The best row for the query, or None when the catalog has no price for it."""
        found = self.matches(query)
        return found[0] if found else None

    def find(
        self, service: str, region: str, usage_type: str | None = None, **attrs: str
    ) -> Price | None:
        """Shorthand for `lookup(PriceQuery.of(...))`."""
        return self.lookup(PriceQuery.of(service, region, usage_type, **attrs))

    def overlay(self, other: Catalog) -> Catalog:
        """A catalog where `other`'s rows replace this one's rows with the same key."""
        offset = len(self._layers)
        merged: dict[RowKey, tuple[int, Price]] = {}
        for rows in self._by_service_region.values():
            for layer, price in rows:
                merged[row_key(price)] = (layer, price)
        for rows in other._by_service_region.values():
            for layer, price in rows:
                merged[row_key(price)] = (layer + offset, price)
        layer_info = self._layer_info + other._layer_info
        base = self._layer_info[0]
        # The base keeps its own wording; each local layer is named with its dates.
        source = " + ".join(
            [base.source if base.embedded else base.describe()]
            + [layer.describe() for layer in layer_info[1:]]
        )
        return Catalog._from_entries(
            merged.values(),
            date=self.date,
            source=source,
            layers=self._layers + other._layers,
            layer_info=layer_info,
            issues=self.issues + other.issues,
        )

    def with_issues(self, issues: Sequence[Issue]) -> Catalog:
        """The same rows with more load issues attached."""
        return Catalog._from_entries(
            (entry for rows in self._by_service_region.values() for entry in rows),
            date=self.date,
            source=self.source,
            layers=self._layers,
            layer_info=self._layer_info,
            issues=self.issues + tuple(issues),
        )

    def explain(self, price: Price) -> str:
        """One-hop provenance: product, unit price, unit, source, source date, derivation."""
        text = (
            f"{price.product} ({price.service} {price.region}): "
            f"{format_price(price.price)} USD per {price.unit}; "
            f"source: {price.source}; source date: {price.source_date}"
        )
        if price.basis is not None:
            text += f"; derived: {price.basis}"
        return text


def no_price_message(query: PriceQuery, catalog: Catalog | None = None) -> str:
    """The one line shown when the catalog lacks a price, e.g.
    "no price for rds instance_type=db.x.large in eu-north-1".

    With a catalog, says whether the region is covered at all for that service.
    """
    message = f"no price for {query.describe()}"
    if catalog is None:
        return message
    regions = sorted(catalog.regions(query.service))
    if not regions:
        return f"{message} (catalog {catalog.date} has no {query.service} prices)"
    if query.region not in regions:
        return (
            f"{message} (catalog {catalog.date} has no {query.service} prices in "
            f"{query.region}; it covers {', '.join(regions)})"
        )
    return f"{message} (catalog {catalog.date})"


def read_price_csv(lines: Iterable[str], *, where: str = "") -> list[Price]:
    """Rows of the aws-prices.csv format into Prices (bad rows are skipped silently).

    Use `read_price_csv_checked` to get an Issue per bad row.
    """
    return read_price_csv_checked(lines, where=where)[0]


def read_price_csv_checked(
    lines: Iterable[str], *, where: str = ""
) -> tuple[list[Price], list[Issue]]:
    """Rows of the aws-prices.csv format into Prices, and one Issue per row that is unusable."""
    out: list[Price] = []
    issues: list[Issue] = []
    reader = csv.DictReader(lines)
    missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        issues.append(
            Issue(
                code=IssueCode.PARSE_ERROR,
                message=f"not a price catalog CSV: missing column(s) {', '.join(missing)}",
                where=f"{where}:1" if where else "",
                severity=Severity.ERROR,
            )
        )
        return out, issues
    for row in reader:
        try:
            price = Decimal(row["price_usd"])
            if not price.is_finite():
                raise InvalidOperation
            out.append(
                Price(
                    service=row["service"],
                    region=row["region"],
                    product=row["product"],
                    attributes=parse_attributes(row["attributes"] or ""),
                    usage_type=row["usage_type"],
                    unit=row["unit"],
                    price=price,
                    source=row["source"],
                    source_date=row["source_date"],
                    notes=row.get("notes") or "",
                )
            )
        except (InvalidOperation, TypeError, AttributeError):
            issues.append(
                Issue(
                    code=IssueCode.PARSE_ERROR,
                    message=f"unusable catalog row (price_usd={row.get('price_usd')!r}); skipped",
                    where=f"{where}:{reader.line_num}" if where else f"line {reader.line_num}",
                )
            )
    return out, issues


def write_price_csv(prices: Iterable[Price]) -> str:
    """Prices as text in the aws-prices.csv format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in prices:
        writer.writerow(
            (
                p.service,
                p.region,
                p.product,
                format_attributes(p.attributes),
                p.usage_type,
                p.unit,
                format_price(p.price),
                p.source,
                p.source_date,
                p.notes,
            )
        )
    return buffer.getvalue()


def embedded_csv_bytes() -> bytes:
    """The embedded catalog CSV, exactly as shipped."""
    data: bytes = _data_file(embedded_manifest().file).read_bytes()
    return data


def verify_embedded() -> list[Issue]:
    """Check the embedded CSV against its manifest (row count and sha256)."""
    manifest = embedded_manifest()
    data = embedded_csv_bytes()
    issues: list[Issue] = []
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.sha256:
        issues.append(
            Issue(
                code=IssueCode.PARSE_ERROR,
                message=f"embedded catalog sha256 {digest} differs from manifest {manifest.sha256}",
                where=manifest.file,
                severity=Severity.ERROR,
            )
        )
    rows = len(embedded_catalog())
    if rows != manifest.rows:
        issues.append(
            Issue(
                code=IssueCode.PARSE_ERROR,
                message=f"embedded catalog has {rows} rows, manifest says {manifest.rows}",
                where=manifest.file,
                severity=Severity.ERROR,
            )
        )
    return issues


@functools.cache
def embedded_catalog() -> Catalog:
    """The catalog shipped in the package."""
    manifest = embedded_manifest()
    text = embedded_csv_bytes().decode("utf-8")
    prices, issues = read_price_csv_checked(text.splitlines(), where=manifest.file)
    layer = CatalogLayer(
        source=manifest.source, embedded=True, rows=len(prices), date=manifest.date
    )
    return Catalog(prices, date=manifest.date, source=manifest.source, issues=issues, layer=layer)


def load_local_catalog(path: Path) -> Catalog:
    """One local catalog CSV; an unreadable file gives an empty catalog with an Issue."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows, issues = read_price_csv_checked(handle, where=str(path))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        issue = Issue(
            code=IssueCode.PARSE_ERROR,
            message=f"cannot read local catalog: {exc}",
            where=str(path),
            severity=Severity.ERROR,
        )
        return Catalog((), date="", source=str(path), issues=(issue,))
    return Catalog(rows, date=_local_date(path, rows), source=str(path), issues=issues)


def load_catalog(local: Sequence[Path] = ()) -> Catalog:
    """The embedded catalog with each local catalog CSV layered over it, in order.

    Never raises for a bad local file: its problems are in the result's `issues`.
    """
    catalog = embedded_catalog()
    for path in local:
        layer = load_local_catalog(path)
        # An empty (unreadable) file must not change the catalog's date or source.
        catalog = catalog.overlay(layer) if len(layer) else catalog.with_issues(layer.issues)
    return catalog


def _local_date(path: Path, rows: Sequence[Price]) -> str:
    dates = sorted({p.source_date[:10] for p in rows if p.source_date[:4].isdigit()})
    return dates[-1] if dates else path.stem


def leanstack_home() -> Path:
    """Where leanstack keeps local state: `$LEANSTACK_HOME`, else `~/.cache/leanstack`."""
    env = os.environ.get("LEANSTACK_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "leanstack"


def default_local_catalog_path() -> Path:
    """The local catalog `catalog import` and `catalog fetch` write by default."""
    return leanstack_home() / "catalog.csv"


def default_local_catalogs() -> list[Path]:
    """The local catalogs every command layers over the embedded one (the default file, if any).

    Commands call `load_catalog(default_local_catalogs())`.
    """
    path = default_local_catalog_path()
    return [path] if path.is_file() else []


def iter_rows(catalog: Catalog) -> Iterator[Price]:
    """Every row of a catalog in a stable order (service, region, then file order)."""
    yield from sorted(catalog.prices(), key=lambda p: (p.service, p.region))
