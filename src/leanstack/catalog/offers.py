"""Read AWS Price List data: bulk offer files (JSON or CSV) and Pricing API `get_products` items.

Every reader yields `OfferRate`s: one price dimension of one term of one product (SKU), with
the product attributes under normalised names (lower case, letters and digits only, so the
JSON `usagetype` and the CSV `usageType` are both `usagetype`). Nothing here decides what
leanstack prices; `leanstack.catalog.mapping` does that.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from leanstack.model.issues import Issue, IssueCode, Severity

ON_DEMAND_TERM_CODE = "JRTCKXETXF"
NOT_ON_DEMAND = "reserved or other non-On-Demand term"
_RESERVED_TERM_KEYS = ("LeaseContractLength", "PurchaseOption", "OfferingClass")

# CSV columns that describe the term or the price dimension, not the product.
_CSV_TERM_COLUMNS = {
    "sku": "sku",
    "offertermcode": "offer_term_code",
    "ratecode": "rate_code",
    "termtype": "term_type",
    "pricedescription": "description",
    "effectivedate": "effective_date",
    "startingrange": "begin_range",
    "endingrange": "end_range",
    "unit": "unit",
    "priceperunit": "price",
    "currency": "currency",
    "leasecontractlength": "LeaseContractLength",
    "purchaseoption": "PurchaseOption",
    "offeringclass": "OfferingClass",
}


@functools.lru_cache(maxsize=4096)
def norm_key(name: str) -> str:
    """Attribute name as used internally: `usageType`, `usagetype`, `Usage Type` -> `usagetype`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferMeta:
    """Where a set of rates came from: offer code, version, publication date, file or call."""

    offer_code: str
    version: str = ""
    publication_date: str = ""
    origin: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRate:
    """One price dimension of one term of one product.

    `price` is USD per AWS `unit`; `end_range` None means unbounded ("Inf"). `tier` ("" when
    the term has one dimension, else "free", "1", "2", ...) and `tier_count` are filled in by
    `number_tiers` from the term's other dimensions.
    """

    offer_code: str
    sku: str
    product_family: str
    attributes: Mapping[str, str]
    term_type: str
    term_attributes: Mapping[str, str]
    unit: str
    price: Decimal
    begin_range: Decimal = Decimal(0)
    end_range: Decimal | None = None
    description: str = ""
    rate_code: str = ""
    effective_date: str = ""
    where: str = ""
    term_key: str = ""
    tier: str = ""
    tier_count: int = 1
    # The `sku` the term itself names; a term filed under another product's SKU is
    # inconsistent input (its price belongs to that other product) and is skipped.
    term_sku: str = ""

    @property
    def attr(self) -> _AttrGetter:
        """`rate.attr["usagetype"]`-style access with "" for a missing attribute."""
        return _AttrGetter(self.attributes)

    @property
    def is_on_demand(self) -> bool:
        """On-Demand term (not a reservation filed under the wrong key)."""
        if any(self.term_attributes.get(k) for k in _RESERVED_TERM_KEYS):
            return False
        return self.term_type.lower() == "ondemand"


@dataclass(frozen=True, slots=True)
class _AttrGetter:
    attributes: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.attributes.get(key, "")


@dataclass(slots=True)
class OfferData:
    """The rates read from one source, with its metadata and the problems met."""

    meta: OfferMeta
    rates: list[OfferRate] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def keep_only(self, rates: Iterable[OfferRate], keep: Keep | None) -> list[OfferRate]:
        """The rates `keep` accepts; the others are counted in `skipped` by reason."""
        if keep is None:
            return list(rates)
        kept: list[OfferRate] = []
        for rate in rates:
            reason = keep(rate)
            if reason is None:
                kept.append(rate)
            else:
                self.skipped[reason] += 1
        return kept


# Decides early whether a rate is wanted: None keeps it, a string is the reason to drop it.
# Dropping while reading keeps memory flat on large offer files.
Keep = Callable[[OfferRate], str | None]


def _decimal(text: object) -> Decimal | None:
    if text is None:
        return None
    value = str(text).strip()
    if value.lower() in ("inf", "infinity", ""):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _terms_of(terms_by_type: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(term type, term key, term) from `terms`, in bulk (`OnDemand.<sku>.<key>`) or
    per-SKU (`OnDemand.<key>`) shape."""
    for term_type, by_key in terms_by_type.items():
        if not isinstance(by_key, Mapping):
            continue
        for key, value in by_key.items():
            if not isinstance(value, Mapping):
                continue
            if "priceDimensions" in value:
                yield term_type, key, value
                continue
            for sub_key, term in value.items():
                if isinstance(term, Mapping) and "priceDimensions" in term:
                    yield term_type, sub_key, term


def rates_from_product(
    offer_code: str,
    product: Mapping[str, Any],
    terms: Iterable[tuple[str, str, Mapping[str, Any]]],
    *,
    where: str,
) -> Iterator[OfferRate]:
    """Rates of one product from its terms (JSON shape)."""
    attributes = {norm_key(k): str(v) for k, v in (product.get("attributes") or {}).items()}
    sku = str(product.get("sku", ""))
    family = str(product.get("productFamily", ""))
    code = offer_code or attributes.get("servicecode", "")
    for term_type, term_key, term in terms:
        term_attributes = {str(k): str(v) for k, v in (term.get("termAttributes") or {}).items()}
        if term.get("offerTermCode") == ON_DEMAND_TERM_CODE and not term_attributes:
            term_type = "OnDemand"
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = _decimal((dimension.get("pricePerUnit") or {}).get("USD"))
            if usd is None:
                continue
            yield OfferRate(
                offer_code=code,
                sku=sku,
                product_family=family,
                attributes=attributes,
                term_type=term_type,
                term_attributes=term_attributes,
                unit=str(dimension.get("unit", "")),
                price=usd,
                begin_range=_decimal(dimension.get("beginRange")) or Decimal(0),
                end_range=_decimal(dimension.get("endRange")),
                description=str(dimension.get("description", "")),
                rate_code=str(dimension.get("rateCode", "")),
                effective_date=str(term.get("effectiveDate", "")),
                where=f"{where} sku {sku}",
                term_key=f"{sku}.{term_key}",
                term_sku=str(term.get("sku") or ""),
            )


def rates_from_item(item: Mapping[str, Any], *, where: str) -> list[OfferRate]:
    """Rates of one `get_products` PriceList element (decoded) or one per-SKU object."""
    product = item.get("product") or {}
    offer_code = str(item.get("serviceCode") or "")
    return list(
        rates_from_product(offer_code, product, _terms_of(item.get("terms") or {}), where=where)
    )


def number_tiers(rates: Iterable[OfferRate]) -> list[OfferRate]:
    """Name each dimension's tier within its term (ordered by `begin_range`).

    A term with one priced dimension is not tiered (`tier` ""). Otherwise a $0 first
    dimension is tier "free" and the paid ones are "1", "2", ... as in aws-prices.csv.
    """
    groups: dict[str, list[OfferRate]] = defaultdict(list)
    for rate in rates:
        groups[rate.term_key].append(rate)
    out: list[OfferRate] = []
    for group in groups.values():
        priced = sorted(
            (r for r in group if r.unit.lower() != "quantity"), key=lambda r: r.begin_range
        )
        out.extend(r for r in group if r.unit.lower() == "quantity")
        if len(priced) <= 1:
            out.extend(priced)
            continue
        paid = 0
        for rate in priced:
            if rate.price == 0 and rate.begin_range == 0:
                tier = "free"
            else:
                paid += 1
                tier = str(paid)
            out.append(dataclasses.replace(rate, tier=tier, tier_count=len(priced)))
    return out


def read_offer_file(path: Path, keep: Keep | None = None) -> OfferData:
    """Read a bulk offer file (JSON or CSV), a saved get_products response, or per-SKU items.

    With `keep`, only the rates it accepts are kept (the others are counted in `skipped`).
    Problems (unreadable file, unknown shape) come back as Issues naming the file.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
    except OSError as exc:
        return _failed(path, f"cannot read: {exc.strerror or exc}")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith(b"{") or head.startswith(b"["):
        return _read_json(path, keep)
    if head.startswith(b'"FormatVersion"') or head.startswith(b"FormatVersion"):
        return _read_csv(path, keep)
    return _failed(path, "not an AWS Price List offer file (expected JSON or the CSV offer format)")


def _failed(path: Path, message: str, line: int | None = None) -> OfferData:
    where = f"{path}:{line}" if line else str(path)
    issue = Issue(code=IssueCode.PARSE_ERROR, message=message, where=where, severity=Severity.ERROR)
    return OfferData(meta=OfferMeta(offer_code="", origin=path.name), issues=[issue])


def _read_json(path: Path, keep: Keep | None) -> OfferData:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        return _failed(path, f"invalid JSON: {exc.msg}", exc.lineno)
    except (OSError, UnicodeDecodeError) as exc:
        return _failed(path, f"cannot read: {exc}")
    name = path.name
    if isinstance(doc, Mapping) and "products" in doc and "terms" in doc:
        meta = OfferMeta(
            offer_code=str(doc.get("offerCode", "")),
            version=str(doc.get("version", "")),
            publication_date=str(doc.get("publicationDate", "")),
            origin=name,
        )
        products = doc.get("products") or {}
        terms_by_sku: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = defaultdict(list)
        for term_type, by_sku in (doc.get("terms") or {}).items():
            for sku, terms in (by_sku or {}).items():
                for key, term in (terms or {}).items():
                    terms_by_sku[sku].append((term_type, key, term))
        data = OfferData(meta=meta)
        rates: list[OfferRate] = []
        for sku, product in products.items():
            found = rates_from_product(
                meta.offer_code, product, terms_by_sku.get(sku, ()), where=name
            )
            rates.extend(data.keep_only(found, keep))
        data.rates = number_tiers(rates)
        return data
    items = _items_of(doc)
    if items is None:
        return _failed(path, "JSON is neither an offer file nor get_products output")
    first: Mapping[str, Any] = items[0] if items else {}
    meta = OfferMeta(
        offer_code=str(first.get("serviceCode", "")),
        version=str(first.get("version", "")),
        publication_date=str(first.get("publicationDate", "")),
        origin=name,
    )
    data = OfferData(meta=meta)
    rates = []
    for item in items:
        rates.extend(data.keep_only(rates_from_item(item, where=name), keep))
    data.rates = number_tiers(rates)
    return data


def _items_of(doc: object) -> list[Mapping[str, Any]] | None:
    """Per-SKU items from: a get_products response, a list of items (or JSON strings), one
    item, or a mapping SKU -> item."""
    if isinstance(doc, Mapping) and "PriceList" in doc:
        doc = doc["PriceList"]
    if isinstance(doc, Mapping) and "product" in doc:
        return [doc]
    if isinstance(doc, Mapping):
        values = list(doc.values())
        if values and all(isinstance(v, Mapping) and "product" in v for v in values):
            return values
        return None
    if isinstance(doc, list):
        items: list[Mapping[str, Any]] = []
        for element in doc:
            decoded = json.loads(element) if isinstance(element, str) else element
            if not isinstance(decoded, Mapping) or "product" not in decoded:
                return None
            items.append(decoded)
        return items
    return None


def _read_csv(path: Path, keep: Keep | None) -> OfferData:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        return _failed(path, f"cannot read: {exc.strerror or exc}")
    with handle:
        reader = csv.reader(handle)
        meta_values: dict[str, str] = {}
        header: list[str] | None = None
        try:
            for row in reader:
                if row and norm_key(row[0]) == "sku":
                    header = row
                    break
                if len(row) >= 2:
                    meta_values[norm_key(row[0])] = row[1]
            if header is None:
                return _failed(path, "CSV offer file has no header row (SKU, OfferTermCode, ...)")
            meta = OfferMeta(
                offer_code=meta_values.get("offercode", ""),
                version=meta_values.get("version", ""),
                publication_date=meta_values.get("publicationdate", ""),
                origin=path.name,
            )
            data = OfferData(meta=meta)
            columns = [norm_key(c) for c in header]
            term_type_at = columns.index("termtype") if "termtype" in columns else None
            rates: list[OfferRate] = []
            for row in reader:
                if not row:
                    continue
                # Reserved rows are most of a large file: drop them before building anything.
                if (
                    keep is not None
                    and term_type_at is not None
                    and len(row) > term_type_at
                    and row[term_type_at] != "OnDemand"
                ):
                    data.skipped[NOT_ON_DEMAND] += 1
                    continue
                rate = _csv_rate(meta, columns, row, f"{path.name}:{reader.line_num}")
                if isinstance(rate, str):
                    data.issues.append(
                        Issue(
                            code=IssueCode.PARSE_ERROR,
                            message=rate,
                            where=f"{path}:{reader.line_num}",
                        )
                    )
                elif keep is None or (reason := keep(rate)) is None:
                    rates.append(rate)
                else:
                    data.skipped[reason] += 1
        except csv.Error as exc:
            return _failed(path, f"malformed CSV: {exc}", reader.line_num)
    data.rates = number_tiers(rates)
    return data


def _csv_rate(meta: OfferMeta, columns: list[str], row: list[str], where: str) -> OfferRate | str:
    term: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for column, value in zip(columns, row, strict=False):
        if column in _CSV_TERM_COLUMNS:
            term[_CSV_TERM_COLUMNS[column]] = value
        elif value != "":
            attributes[column] = value
    price = _decimal(term.get("price"))
    if price is None:
        return f"unreadable PricePerUnit {term.get('price')!r}; row skipped"
    term_attributes = {k: term[k] for k in _RESERVED_TERM_KEYS if term.get(k)}
    return OfferRate(
        offer_code=meta.offer_code or attributes.get("servicecode", ""),
        sku=term.get("sku", ""),
        product_family=attributes.get("productfamily", ""),
        attributes=attributes,
        term_type=term.get("term_type", ""),
        term_attributes=term_attributes,
        unit=term.get("unit", ""),
        price=price,
        begin_range=_decimal(term.get("begin_range")) or Decimal(0),
        end_range=_decimal(term.get("end_range")),
        description=term.get("description", ""),
        rate_code=term.get("rate_code", ""),
        effective_date=term.get("effective_date", ""),
        where=where,
        term_key=f"{term.get('sku', '')}.{term.get('offer_term_code', '')}",
    )
