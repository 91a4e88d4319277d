"""The monthly cost change between two versions of a stack, by resource and in total.

`diff_costs` compares two lists of PricedResource (or a report's cost section read back into
`CostEntry`s); the renderers turn the result into a Rich table, Markdown for a pull request
comment, or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.money import format_usd, quantize_money
from leanstack.model.pricing import PricedResource


class ChangeKind(StrEnum):
    """How a resource differs between base and head."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True, kw_only=True)
class CostEntry:
    """One resource's monthly cost on one side of the diff."""

    address: str
    type: str
    monthly_cost: Decimal
    status: str = "priced"


@dataclass(frozen=True, slots=True, kw_only=True)
class CostLine:
    """One resource's cost before and after (None where the resource does not exist)."""

    address: str
    type: str
    kind: ChangeKind
    before: Decimal | None
    after: Decimal | None
    note: str = ""

    @property
    def delta(self) -> Decimal:
        """After minus before (a removed resource saves its whole cost)."""
        return (self.after or Decimal(0)) - (self.before or Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class CostDiff:
    """All resources whose monthly cost differs, and the totals of both sides."""

    base_label: str
    head_label: str
    lines: tuple[CostLine, ...]
    total_before: Decimal
    total_after: Decimal
    unchanged: int
    issues: tuple[Issue, ...] = ()

    @property
    def delta(self) -> Decimal:
        """Head total minus base total."""
        return self.total_after - self.total_before

    @property
    def percent(self) -> Decimal | None:
        """Relative change of the total, None when the base costs nothing."""
        if self.total_before == 0:
            return None
        return (self.delta / self.total_before * 100).quantize(Decimal("0.1"))


def entries_from_priced(priced: Iterable[PricedResource]) -> list[CostEntry]:
    """CostEntries from PricedResources (the estimate's output)."""
    return [
        CostEntry(address=p.address, type=p.type, monthly_cost=p.monthly_cost, status=str(p.status))
        for p in priced
    ]


def diff_costs(
    base: Sequence[CostEntry],
    head: Sequence[CostEntry],
    *,
    base_label: str = "base",
    head_label: str = "head",
    issues: Sequence[Issue] = (),
) -> CostDiff:
    """Compare two sides by resource address; resources whose cost is equal are counted only."""
    before = {e.address: e for e in base}
    after = {e.address: e for e in head}
    lines: list[CostLine] = []
    unchanged = 0
    for address in sorted(before.keys() | after.keys()):
        old, new = before.get(address), after.get(address)
        note = ""
        for entry in (new, old):
            if entry is not None and entry.status not in ("priced", "free"):
                note = f"{entry.status}: cost may be incomplete"
                break
        if old is None and new is not None:
            lines.append(
                CostLine(
                    address=address,
                    type=new.type,
                    kind=ChangeKind.ADDED,
                    before=None,
                    after=new.monthly_cost,
                    note=note,
                )
            )
        elif new is None and old is not None:
            lines.append(
                CostLine(
                    address=address,
                    type=old.type,
                    kind=ChangeKind.REMOVED,
                    before=old.monthly_cost,
                    after=None,
                    note=note,
                )
            )
        elif old is not None and new is not None:
            if quantize_money(old.monthly_cost) == quantize_money(new.monthly_cost):
                unchanged += 1
                continue
            lines.append(
                CostLine(
                    address=address,
                    type=new.type,
                    kind=ChangeKind.CHANGED,
                    before=old.monthly_cost,
                    after=new.monthly_cost,
                    note=note,
                )
            )
    # Largest absolute change first: what a reviewer should look at.
    lines.sort(key=lambda line: (-abs(line.delta), line.address))
    return CostDiff(
        base_label=base_label,
        head_label=head_label,
        lines=tuple(lines),
        total_before=sum((e.monthly_cost for e in base), Decimal(0)),
        total_after=sum((e.monthly_cost for e in head), Decimal(0)),
        unchanged=unchanged,
        issues=tuple(issues),
    )


def entries_from_report(data: Any, where: str) -> list[CostEntry] | Issue:
    """The per-resource costs of a report JSON (`cost.resources[]`)."""
    cost = data.get("cost") if isinstance(data, Mapping) else None
    resources = cost.get("resources") if isinstance(cost, Mapping) else None
    if not isinstance(resources, list):
        return Issue(
            code=IssueCode.USAGE_ERROR,
            message="the report has no cost.resources list",
            where=where,
            severity=Severity.ERROR,
        )
    entries: list[CostEntry] = []
    for index, item in enumerate(resources):
        try:
            entries.append(
                CostEntry(
                    address=str(item["address"]),
                    type=str(item.get("type", "")),
                    monthly_cost=Decimal(str(item["monthly_cost"])),
                    status=str(item.get("status", "priced")),
                )
            )
        except (KeyError, TypeError, AttributeError, InvalidOperation):
            return Issue(
                code=IssueCode.USAGE_ERROR,
                message=f"cost.resources[{index}] has no address or monthly_cost",
                where=where,
                severity=Severity.ERROR,
            )
    return entries


def estimate_stack(
    path: Path, *, recorded_load: bool = False
) -> tuple[list[CostEntry], list[Issue]]:
    """Price a stack directory with the embedded catalog and its usage file, if any.

    `recorded_load` prices it as `analyze` does (usage-based components from the stack's
    metric store when it has one), so that it compares with a saved report on the same basis.
    Every issue is returned (load errors, missing modules, unpriced resources): the caller
    decides whether a side that failed to load may be compared at all.
    """
    from leanstack.catalog import default_local_catalogs, load_catalog
    from leanstack.estimate import estimate
    from leanstack.terraform import load_stack
    from leanstack.usage.usage_file import find_usage_file, load_usage_file

    if recorded_load:
        from leanstack.pipeline import PipelineError, price_stack

        try:
            priced = price_stack(path)
        except PipelineError as exc:
            return [], [
                Issue(
                    code=IssueCode.USAGE_ERROR,
                    message=str(exc),
                    where=str(path),
                    severity=Severity.ERROR,
                )
            ]
        return entries_from_priced(priced.estimate.resources), [
            *priced.estimate.issues,
            *priced.issues,
        ]
    loaded = load_stack(path)
    usage_path = find_usage_file(path)
    usage = load_usage_file(usage_path) if usage_path is not None else None
    result = estimate(loaded, load_catalog(default_local_catalogs()), usage)
    return entries_from_priced(result.resources), list(result.issues)


# -- rendering ---------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return format_usd(value)


def _signed(value: Decimal) -> str:
    return format_usd(value, sign=True)


def _headline(diff: CostDiff) -> str:
    pct = diff.percent
    rel = f" ({'+' if pct is not None and pct > 0 else ''}{pct}%)" if pct is not None else ""
    return (
        f"Monthly cost {_money(diff.total_before)} → {_money(diff.total_after)}: "
        f"{_signed(diff.delta)}{rel}"
    )


def render_table(diff: CostDiff) -> Group:
    """The terminal form: what is compared, the table, then the headline.

    The labels and the headline are lines of their own: as a table title and caption they
    would be wrapped to the width of a table that may be only a few columns wide.
    """
    table = Table(title_justify="left")
    table.add_column("Resource")
    table.add_column("Change")
    table.add_column("Before", justify="right")
    table.add_column("After", justify="right")
    table.add_column("Delta", justify="right")
    for line in diff.lines:
        table.add_row(
            line.address + (f" ({line.note})" if line.note else ""),
            str(line.kind),
            _money(line.before),
            _money(line.after),
            _signed(line.delta),
        )
    table.add_section()
    table.add_row(
        "Total", "", _money(diff.total_before), _money(diff.total_after), _signed(diff.delta)
    )
    headline = _headline(diff) + (
        f"; {diff.unchanged} resources unchanged" if diff.unchanged else ""
    )
    return Group(
        Text(f"{diff.base_label} → {diff.head_label}", style="bold"),
        table,
        Text(headline),
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


MARKDOWN_LIMIT = 60_000
"""Stay under GitHub's 65,536-character comment limit, with room for a header."""


def render_markdown(diff: CostDiff, *, limit: int = MARKDOWN_LIMIT) -> str:
    """Markdown for a pull request comment: headline, then the table (truncated with a note)."""
    out = [f"### {_headline(diff)}", ""]
    out.append(f"`{_md_cell(diff.base_label)}` -> `{_md_cell(diff.head_label)}`")
    out.append("")
    if not diff.lines:
        out.append("No resource changes its monthly cost.")
    else:
        out.append("| Resource | Change | Before | After | Delta |")
        out.append("|---|---|---:|---:|---:|")
        used = sum(len(x) + 1 for x in out) + 1_000  # the total row and notes
        for index, line in enumerate(diff.lines):
            name = f"`{_md_cell(line.address)}`" + (
                f" ({_md_cell(line.note)})" if line.note else ""
            )
            row = (
                f"| {name} | {line.kind} | {_money(line.before)} | {_money(line.after)} "
                f"| {_signed(line.delta)} |"
            )
            if used + len(row) + 1 > limit:
                rest = diff.lines[index:]
                rest_delta = sum((r.delta for r in rest), Decimal(0))
                out.append(
                    f"| *{len(rest)} more resources ({_signed(rest_delta)}) "
                    "not shown: the comment would exceed GitHub's size limit* | | | | |"
                )
                break
            used += len(row) + 1
            out.append(row)
        out.append(
            f"| **Total** | | {_money(diff.total_before)} | {_money(diff.total_after)} "
            f"| **{_signed(diff.delta)}** |"
        )
    if diff.unchanged:
        out.append("")
        out.append(f"{diff.unchanged} other resources keep their cost.")
    for issue in diff.issues:
        out.append("")
        out.append(f"> {issue.line()}")
    return "\n".join(out) + "\n"


def to_json(diff: CostDiff) -> dict[str, Any]:
    """JSON-able form (money as decimal strings with cents)."""

    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(quantize_money(value))

    return {
        "kind": "leanstack.cost_diff",
        "base": diff.base_label,
        "head": diff.head_label,
        "currency": "USD",
        "total_before": money(diff.total_before),
        "total_after": money(diff.total_after),
        "delta": money(diff.delta),
        "percent": None if diff.percent is None else str(diff.percent),
        "unchanged": diff.unchanged,
        "resources": [
            {
                "address": line.address,
                "type": line.type,
                "change": str(line.kind),
                "before": money(line.before),
                "after": money(line.after),
                "delta": money(line.delta),
                "note": line.note,
            }
            for line in diff.lines
        ],
        "issues": [issue.line() for issue in diff.issues],
    }
