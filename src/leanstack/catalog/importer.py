"""Build a local catalog CSV from AWS Price List data (offer files or Pricing API items).

The local catalog has the embedded CSV's columns and conventions, so `load_catalog` layers it
over the embedded one. Each row's `source` names the file (or API call) with the offer
version and publication date; `source_date` is the publication date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leanstack.catalog._catalog import (
    RowKey,
    default_local_catalog_path,
    read_price_csv_checked,
    row_key,
    write_price_csv,
)
from leanstack.catalog.mapping import Skip, to_price
from leanstack.catalog.offers import OfferMeta, OfferRate, read_offer_file
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.pricing import Price


@dataclass(slots=True)
class ImportResult:
    """Rows converted, rows skipped (counted by reason) and problems met."""

    prices: list[Price] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def extend(self, other: ImportResult) -> None:
        """Add another result's rows, skips, issues and sources."""
        self.prices.extend(other.prices)
        self.skipped.update(other.skipped)
        self.issues.extend(other.issues)
        self.sources.extend(other.sources)

    @property
    def fatal(self) -> bool:
        """True when an error stopped the work (no usable input)."""
        return any(i.severity is Severity.ERROR for i in self.issues)

    def summary(self) -> str:
        """One line: rows imported per service, rows skipped with their top reasons."""
        per_service = Counter(p.service for p in self.prices)
        imported = ", ".join(f"{s} {n}" for s, n in sorted(per_service.items())) or "none"
        total_skipped = sum(self.skipped.values())
        line = (
            f"imported {_n(len(self.prices), 'price')} ({imported}) from "
            f"{_n(len(self.sources), 'source')}; skipped {_n(total_skipped, 'row')}"
        )
        if total_skipped:
            reasons = self.skipped.most_common()
            shown = "; ".join(f"{reason}: {n}" for reason, n in reasons[:4])
            more = f"; {len(reasons) - 4} more reasons" if len(reasons) > 4 else ""
            line += f" ({shown}{more})"
        return line


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def source_label(meta: OfferMeta) -> str:
    """`source` text of rows from one file or call: origin, offer code, version, date."""
    details = [meta.offer_code or "offer"]
    if meta.version:
        details.append(f"version {meta.version}")
    if meta.publication_date:
        details.append(f"published {meta.publication_date}")
    else:
        details.append("no publication date; source_date is the term's effective date")
    return f"{meta.origin} ({', '.join(details)})"


def convert_rates(rates: Iterable[OfferRate], meta: OfferMeta) -> ImportResult:
    """Rates into catalog rows; skipped rates counted by reason; later duplicates win."""
    result = ImportResult(sources=[source_label(meta)])
    label = source_label(meta)
    by_key: dict[RowKey, Price] = {}
    for rate in rates:
        date = (meta.publication_date or rate.effective_date or "n.d.")[:10]
        converted = to_price(rate, source=label, source_date=date)
        if isinstance(converted, Skip):
            result.skipped[converted.reason] += 1
            continue
        key = row_key(converted)
        if key in by_key:
            result.skipped["duplicate of an earlier row (same product and attributes)"] += 1
        by_key[key] = converted
    result.prices = list(by_key.values())
    return result


def import_offer_files(paths: Sequence[Path]) -> ImportResult:
    """Read each offer file and convert the prices leanstack uses."""
    result = ImportResult()
    for path in paths:
        data = read_offer_file(path, keep=keep_priced)
        result.issues.extend(data.issues)
        result.skipped.update(data.skipped)
        if data.meta.offer_code or data.rates:
            result.extend(convert_rates(data.rates, data.meta))
    return result


def keep_priced(rate: OfferRate) -> str | None:
    """Decide while reading (before tiers are numbered) whether a rate can become a row."""
    if rate.term_sku and rate.term_sku != rate.sku:
        return "term filed under another product's SKU (inconsistent input)"
    converted = to_price(rate, source="", source_date="")
    return converted.reason if isinstance(converted, Skip) else None


def merge_local(
    new: Sequence[Price], path: Path, *, replace: bool = False
) -> tuple[list[Price], list[Issue]]:
    """`new` rows over the rows already in the local catalog at `path` (unless `replace`)."""
    issues: list[Issue] = []
    existing: list[Price] = []
    if not replace and path.is_file():
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                existing, issues = read_price_csv_checked(handle, where=str(path))
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(
                Issue(
                    code=IssueCode.PARSE_ERROR,
                    message=f"cannot read the existing local catalog ({exc}); it will be replaced",
                    where=str(path),
                )
            )

    merged = {row_key(p): p for p in existing}
    merged.update({row_key(p): p for p in new})
    rows = sorted(merged.values(), key=lambda p: (p.service, p.region, p.usage_type))
    return rows, issues


def write_local_catalog(
    new: Sequence[Price], out: Path | None = None, *, replace: bool = False
) -> tuple[Path, int, list[Issue]]:
    """Merge `new` into the local catalog (default `default_local_catalog_path()`) and write it
    atomically. Returns the path, the row count written and any issues."""
    path = out or default_local_catalog_path()
    rows, issues = merge_local(new, path, replace=replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(write_price_csv(rows), encoding="utf-8")
    tmp.replace(path)
    return path, len(rows), issues
