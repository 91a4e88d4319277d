"""Renderers for `leanstack estimate`: a table (Rich), versioned JSON, and Markdown for PRs.

The JSON document is described by `schema/estimate.schema.json` (`estimate_json_schema()`).
Money is a decimal string with cents; unit prices keep the catalog's precision.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from rich.text import Text

from leanstack.estimate import Estimate
from leanstack.model.money import HOURS_PER_MONTH, format_usd, money_str
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus
from leanstack.report._format import MISSING_QUANTITY, excluded_text, usd_range

SCHEMA_VERSION = "1"
CURRENCY = "USD"
STATUS_ORDER = (
    PricingStatus.PRICED,
    PricingStatus.FREE,
    PricingStatus.UNSUPPORTED,
    PricingStatus.UNKNOWN,
)
STATUS_WORDS = {
    PricingStatus.PRICED: "estimated",
    PricingStatus.FREE: "free",
    PricingStatus.UNSUPPORTED: "unsupported",
    PricingStatus.UNKNOWN: "unknown",
}


# --- formatting ------------------------------------------------------------------------


def usd(value: Decimal | None) -> str:
    """`$1,234.56`."""
    return format_usd(value)


def unit_price(value: Decimal | None) -> str:
    """A unit price at the catalog's precision: `$0.04048`, `$0.0000166667`, `$0.00`."""
    if value is None:
        return "no price"
    if value == 0:
        return "$0.00"
    text = format(value.normalize(), "f")
    if "." not in text or len(text.split(".")[1]) < 2:
        text = f"{value:.2f}"
    return f"${text}"


def quantity(value: Decimal | None) -> str:
    """Up to 4 decimals, thousands separators, no trailing zeros; `usage?` when it depends on
    usage not given (the same marker as the report)."""
    if value is None:
        return MISSING_QUANTITY
    rounded = value.quantize(Decimal("0.0001")) if abs(value) >= Decimal("0.0001") else value
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def plain_decimal(value: Decimal | None) -> str | None:
    """A decimal string without exponent (JSON quantities and prices)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _component_cost(component: PriceComponent) -> str:
    if component.unit_price is None:
        # Never "-" or $0: the line has a cost the catalog cannot give.
        return "unknown"
    if component.monthly_quantity is None:
        return "depends on usage"
    return usd(component.line_cost)


def excluded_note(result: Estimate) -> str:
    """What the total leaves out (`excludes 1 unknown ... resource(s) ...`), or empty."""
    return excluded_text(
        result.count(PricingStatus.UNKNOWN), result.count(PricingStatus.UNSUPPORTED)
    )


def total_text(result: Estimate) -> str:
    """The total as printed: `not known` when nothing could be priced (never a bare $0.00).

    A stack of free resources only really costs $0; so does one with no resources at all,
    but then there is nothing to say it for.
    """
    left_out = result.count(PricingStatus.UNKNOWN) + result.count(PricingStatus.UNSUPPORTED)
    if not result.resources or (not result.count(PricingStatus.PRICED) and left_out):
        return "not known"
    priced = [r for r in result.resources if r.status is PricingStatus.PRICED]
    if priced and all(_resource_cost(r) == "depends on usage" for r in priced):
        # $0.00 would read as a free stack: every cost waits for usage figures.
        return "depends on usage"
    return usd(result.monthly_cost)


def _resource_cost(resource: PricedResource) -> str:
    """A priced resource's cost, or `depends on usage` when none of its lines is known."""
    known = any(c.monthly_cost is not None for c in resource.components)
    return usd(resource.monthly_cost) if known else "depends on usage"


def _range_text(resource: PricedResource) -> str | None:
    if resource.monthly_cost_max is None:
        return None
    low = (
        resource.monthly_cost_min
        if resource.monthly_cost_min is not None
        else resource.monthly_cost
    )
    details = resource.details
    label = "autoscaling range"
    if "tasks_min" in details:
        label = f"autoscaling range {details['tasks_min']}..{details['tasks_max']} tasks"
    elif "nodes_min" in details:
        label = f"autoscaling range {details['nodes_min']}..{details['nodes_max']} nodes"
    return f"{label}: {usd_range(low, resource.monthly_cost_max)}"


# --- table -----------------------------------------------------------------------------

HEADERS = ("Name", "Monthly qty", "Unit", "Unit price", "Monthly cost")
RIGHT = (False, True, False, True, True)
GAP = "   "

_Cells = tuple[str, str, str, str, str]
_Row = tuple[_Cells, str]  # cells, style ("bold", "dim", "rule" or "")
_EMPTY: _Cells = ("", "", "", "", "")


def _resource_label(resource: PricedResource) -> str:
    where = f"  ({resource.source.where()})" if resource.source else ""
    return resource.address + where


def _resource_rows(resource: PricedResource, cost: str, notes: list[str]) -> list[_Row]:
    """A resource's bold row, one row per component, then its notes as branches."""
    rows: list[_Row] = [((_resource_label(resource), "", "", "", cost), "bold")]
    count = len(resource.components) + len(notes)
    for position, component in enumerate(resource.components):
        branch = "└─" if position == count - 1 else "├─"
        name = f"{branch} {component.name}{' *' if component.usage_based else ''}"
        cells = (
            name,
            quantity(component.monthly_quantity),
            component.unit,
            unit_price(component.unit_price),
            _component_cost(component),
        )
        rows.append((cells, ""))
    for position, line in enumerate(notes):
        branch = "└─" if position == len(notes) - 1 else "├─"
        rows.append(((f"{branch} {line}", "", "", "", ""), "dim"))
    rows.append((_EMPTY, ""))
    return rows


def _table_rows(result: Estimate) -> list[_Row]:
    rows: list[_Row] = []
    for resource in result.resources:
        if resource.status is not PricingStatus.PRICED:
            continue
        cost = _resource_cost(resource)
        extra: list[str] = []
        summary = resource.details.get("summary")
        if isinstance(summary, str):
            extra.append(summary)
        range_text = _range_text(resource)
        if range_text:
            extra.append(range_text)
        if resource.reason:
            extra.append(f"note: {resource.reason}")
        rows.extend(_resource_rows(resource, cost, extra))
    for resource in result.resources:
        if resource.status is PricingStatus.UNKNOWN:
            # Its priced lines (if any) stay visible, but the resource is not in the total.
            rows.extend(_resource_rows(resource, "unknown", [f"not priced: {resource.reason}"]))
    rows.append((_EMPTY, "rule"))
    rows.append((("OVERALL TOTAL", "", "", "", total_text(result)), "bold"))
    note = excluded_note(result)
    if note:
        # A total that leaves resources out must say so, or it reads as their cost being $0.
        rows.append(((note, "", "", "", ""), "dim"))
    if result.has_range:
        span = usd_range(result.monthly_cost_min, result.monthly_cost_max)
        rows.append((("range (autoscaling min–max)", "", "", "", span), ""))
    return rows


# The Name column never gets narrower than this when the table is fitted to a width.
MIN_NAME_WIDTH = 20


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """`text` in lines of at most `width`; continuation lines keep the tree's `│` rail."""
    if width <= 0 or len(text) <= width:
        return [text]
    return textwrap.wrap(
        text, width=width, subsequent_indent=indent, break_long_words=True,
        break_on_hyphens=False,
    ) or [text]


def _continuation(cell: str) -> str:
    return "│  " if cell.startswith("├─") else "   "


def layout_tree(
    rows: Sequence[tuple[tuple[str, ...], str]],
    *,
    headers: tuple[str, ...] = HEADERS,
    gap: str = GAP,
    width: int | None = None,
    rule_width: int | None = None,
) -> list[tuple[str, str]]:
    """(line, style) pairs of a tree table: five columns (name, quantity, unit, unit price,
    cost), one row per `(cells, style)`; with `width`, no line is longer than that (names and
    notes wrap under themselves; the figures keep their columns).

    Styles: "bold" for a resource's own row (its name may run over the empty figure cells),
    "dim" with only a first cell for a note across the row, "rule" for a line, "" otherwise.
    `rule_width` sets the length of the rules (default: the table's width). Laid out by hand
    rather than with rich.table: Rich measures and renders every cell, which took over 10 s
    for a 2,000-resource stack; the look (tree branches, right-aligned numbers, a rule under
    the header) is the same.
    """
    widths = [len(h) for h in headers]
    for cells, style in rows:
        # Notes and reasons run across the row: they do not widen the Name column.
        spans = style == "dim" and not any(cells[1:])
        for index, cell in enumerate(cells):
            if not (index == 0 and spans):
                widths[index] = max(widths[index], len(cell))
    gaps = len(gap) * (len(widths) - 1)
    if width is not None and sum(widths) + gaps > width:
        widths[0] = max(MIN_NAME_WIDTH, width - sum(widths[1:]) - gaps)
    total_width = sum(widths) + gaps
    rule = "─" * (rule_width if rule_width is not None else total_width)
    room = width if width is not None else None

    def line(cells: tuple[str, ...]) -> list[str]:
        if not any(cells[1:4]) and room is not None:
            # A resource's own row has only its cost: the name may run over the empty cells.
            name_room = total_width - widths[4] - len(gap)
            heads = _wrap(cells[0], name_room, "   ")
            head = (heads[0].ljust(name_room) + gap + cells[4].rjust(widths[4])).rstrip()
            return [head, *heads[1:]]
        names = _wrap(cells[0], widths[0], _continuation(cells[0])) if room else [cells[0]]
        parts = [
            cell.rjust(w) if right else cell.ljust(w)
            for cell, w, right in zip((names[0], *cells[1:]), widths, RIGHT, strict=True)
        ]
        return [gap.join(parts).rstrip(), *names[1:]]

    out = [(line(headers)[0], "bold"), (rule, "")]
    for cells, style in rows:
        if style == "rule":
            out.append((rule, ""))
        elif style == "dim" and not any(cells[1:]):
            for text in _wrap(cells[0], room or 0, _continuation(cells[0])):
                out.append((text, style))
        else:
            out.extend((text, style) for text in line(cells))
    return out


def _layout(result: Estimate, width: int | None = None) -> list[tuple[str, str]]:
    """(line, style) pairs of the estimate's table (see `layout_tree`)."""
    return layout_tree(_table_rows(result), width=width)


def render_table(result: Estimate, *, width: int | None = None) -> str:
    """The tree-per-resource table with totals and the footer, as plain text.

    `width` (a terminal's columns) wraps names and notes so no table line is wider.
    """
    lines = [text for text, _ in _layout(result, width)]
    lines.append("")
    lines.extend(footer_lines(result))
    return "\n".join(lines) + "\n"


def render_table_rich(result: Estimate, *, width: int | None = None) -> Text:
    """The same table as styled Rich Text (bold resources and totals, dim notes), for a TTY."""
    text = Text()
    for content, style in _layout(result, width):
        text.append(content + "\n", style=style or None)
    text.append("\n")
    for footer in footer_lines(result):
        text.append(footer + "\n", style="dim" if footer.startswith(("  ", "*")) else None)
    return text


def footer_lines(result: Estimate) -> list[str]:
    """Counts, unsupported types, usage marker, catalog and derived-price notes."""
    total = len(result.resources)
    counts = ", ".join(f"{result.count(s)} {STATUS_WORDS[s]}" for s in STATUS_ORDER)
    lines = [f"{total} resource{'' if total == 1 else 's'}: {counts}."]
    unsupported: dict[str, list[PricedResource]] = {}
    for resource in result.resources:
        if resource.status is PricingStatus.UNSUPPORTED:
            unsupported.setdefault(resource.type, []).append(resource)
    for resource_type, items in sorted(unsupported.items()):
        lines.append(f"  unsupported: {resource_type} x{len(items)} - {items[0].reason}")
    if any(c.usage_based for r in result.resources for c in r.components):
        source = f"from {result.usage_file}" if result.usage_file else "none given (no usage file)"
        lines.append(f"* usage-based cost; usage {source}; 'depends on usage' where it is missing.")
    lines.append(
        f"Prices: {result.catalog_source}; catalog dated {result.catalog_date}. "
        f"{CURRENCY}, {HOURS_PER_MONTH} hours a month."
    )
    derived = result.derived_prices
    if derived:
        lines.append("Derived prices used (not published list prices):")
        lines.extend(f"  - {note}" for note in derived)
    return lines


# --- JSON ------------------------------------------------------------------------------


def _component_json(component: PriceComponent) -> dict[str, Any]:
    price = component.price
    return {
        "name": component.name,
        "unit": component.unit,
        "monthly_quantity": plain_decimal(component.monthly_quantity),
        "unit_price": plain_decimal(component.unit_price),
        "monthly_cost": money_str(component.line_cost),
        "usage_based": component.usage_based,
        "price_error": component.price_error,
        "note": component.note,
        "price_basis": price.basis if price else None,
        "price_source": price.source if price else None,
        "price_date": price.source_date if price else None,
    }


def _resource_json(resource: PricedResource) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": resource.address,
        "type": resource.type,
        "region": resource.region,
        "status": str(resource.status),
        "monthly_cost": money_str(resource.counted_cost),
    }
    if resource.monthly_cost_max is not None:
        low = (
            resource.monthly_cost_min
            if resource.monthly_cost_min is not None
            else resource.monthly_cost
        )
        out["monthly_cost_min"] = money_str(low)
        out["monthly_cost_max"] = money_str(resource.monthly_cost_max)
    out["reason"] = resource.reason
    out["source"] = (
        {
            "file": resource.source.file,
            "start_line": resource.source.start_line,
            "end_line": resource.source.end_line,
        }
        if resource.source
        else None
    )
    out["components"] = [_component_json(c) for c in resource.components]
    out["details"] = {key: _jsonable(value) for key, value in resource.details.items()}
    return out


def _jsonable(value: object) -> object:
    """Details as JSON: Decimals as strings, mappings and sequences recursively."""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def estimate_to_dict(result: Estimate) -> dict[str, Any]:
    """The versioned JSON document as a dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "currency": CURRENCY,
        "hours_per_month": int(HOURS_PER_MONTH),
        "catalog": {"date": result.catalog_date, "source": result.catalog_source},
        "input": {"kind": result.input_kind, "usage_file": result.usage_file or None},
        "resources": [_resource_json(r) for r in result.resources],
        "totals": {
            "monthly_cost": money_str(result.monthly_cost),
            "monthly_cost_min": money_str(result.monthly_cost_min),
            "monthly_cost_max": money_str(result.monthly_cost_max),
            "resources": {STATUS_WORDS[s]: result.count(s) for s in STATUS_ORDER},
        },
        "derived_prices": list(result.derived_prices),
        "issues": [
            {
                "code": str(issue.code),
                "message": issue.message,
                "where": issue.where,
                "severity": str(issue.severity),
            }
            for issue in result.issues
        ],
    }


def render_json(result: Estimate) -> str:
    """The JSON document, indented."""
    return json.dumps(estimate_to_dict(result), indent=2) + "\n"


def estimate_json_schema() -> dict[str, Any]:
    """The JSON Schema of the estimate document."""
    text = (
        resources.files("leanstack.report")
        .joinpath("schema/estimate.schema.json")
        .read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


# --- Markdown --------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


GITHUB_COMMENT_LIMIT = 65_536
# Room for multi-byte characters and the truncation notes (as the report's Markdown does).
MARKDOWN_MAX_CHARS = 65_000


def _markdown_footer(result: Estimate) -> list[str]:
    """The footer as Markdown: unsupported types as a list, the usage marker escaped."""
    lines: list[str] = []
    items: list[str] = []
    for line in footer_lines(result):
        if line.startswith("  unsupported: "):
            items.append("- unsupported: " + _md(line.removeprefix("  unsupported: ")))
        elif line.startswith("  - "):
            items.append(line.lstrip())
        else:
            if items:
                lines += ["", *items, ""]
                items = []
            # A leading "*" would start a list item; the marker is the literal asterisk.
            lines.append(_md(line).replace("* usage-based", "\\* usage-based", 1))
    if items:
        lines += ["", *items]
    return lines


def _fill(
    rows: list[str], budget: int, what: str, *, table: bool = True
) -> tuple[list[str], int]:
    """As many rows as fit in `budget` characters, plus a note naming what was left out."""
    kept: list[str] = []
    spent = 0
    for row in rows:
        if spent + len(row) + 1 > budget:
            break
        kept.append(row)
        spent += len(row) + 1
    dropped = len(rows) - len(kept)
    if dropped:
        note = f"_… {dropped} more {what} not shown (truncated)_"
        kept.append(f"| {note} |" if table else f"- {note}")
    return kept, budget - spent


def render_markdown(result: Estimate, *, max_chars: int = MARKDOWN_MAX_CHARS) -> str:
    """A PR comment: per-resource totals, components folded, footer and issues.

    Never longer than `max_chars` (GitHub refuses comments over 65,536 characters): past it,
    component rows go first, then resource rows and issues, each cut counted in a note.
    """
    total = total_text(result)
    headline = f"**{total}/month**" if total.startswith("$") else f"**monthly cost {total}**"
    if result.has_range:
        headline += (
            f" (autoscaling range {usd_range(result.monthly_cost_min, result.monthly_cost_max)})"
        )
    if excluded_note(result):
        headline += f"; {excluded_note(result)}"
    head = [f"### leanstack estimate: {headline}", ""]
    head += ["| Resource | Monthly cost | Notes |", "|---|---:|---|"]
    resource_rows: list[str] = []
    for resource in result.resources:
        if resource.status is PricingStatus.PRICED:
            notes = [
                str(text)
                for text in (
                    resource.details.get("summary"),
                    _range_text(resource),
                    resource.reason,
                )
                if text
            ]
            usage = " \\*" if any(c.usage_based for c in resource.components) else ""
            cost = _resource_cost(resource)
            resource_rows.append(
                f"| `{resource.address}`{usage} | {cost} | {_md('; '.join(notes))} |"
            )
        elif resource.status is PricingStatus.UNKNOWN:
            resource_rows.append(f"| `{resource.address}` | unknown | {_md(resource.reason)} |")
    totals = [f"| **Total** | **{total_text(result)}** | |"]
    note = excluded_note(result)
    if note:
        totals.append(f"| _{note}_ | | |")
    components_head = ["", "<details><summary>Cost components</summary>", ""]
    components_head += ["| Resource | Component | Monthly qty | Unit | Unit price | Monthly cost |"]
    components_head += ["|---|---|---:|---|---:|---:|"]
    star = " \\*"
    component_rows = [
        f"| `{resource.address}` | {_md(component.name)}{star if component.usage_based else ''} | "
        f"{quantity(component.monthly_quantity)} | {component.unit} | "
        f"{unit_price(component.unit_price)} | {_component_cost(component)} |"
        for resource in result.resources
        for component in resource.components
    ]
    components_tail = ["", "</details>", ""]
    footer = _markdown_footer(result)
    shown = [i for i in result.issues if i.severity != "info"]
    issue_rows = [f"- `{_md(i.where)}` {_md(i.message)}" for i in shown]
    issues_head = ["", "<details><summary>Issues</summary>", ""] if shown else []
    issues_tail = ["", "</details>"] if shown else []

    def assemble(resources: list[str], components: list[str], issues: list[str]) -> str:
        lines = [*head, *resources, *totals, *components_head, *components]
        lines += [*components_tail, *footer, *issues_head, *issues, *issues_tail]
        return "\n".join(lines) + "\n"

    full = assemble(resource_rows, component_rows, issue_rows)
    if len(full) <= max_chars:
        return full
    truncation = (
        f"> **Truncated:** GitHub limits a comment to {GITHUB_COMMENT_LIMIT:,} characters; "
        "rows past that are counted below. The full estimate is in `--format json`."
    )
    head = [*head[:1], truncation, "", *head[1:]]
    fixed = len(assemble([], [], [])) + 3 * 80  # the three possible "… more" notes
    budget = max_chars - fixed
    resources, budget = _fill(resource_rows, budget, "resources")
    issues, budget = _fill(issue_rows, max(budget, 0), "issues", table=False)
    components, _ = _fill(component_rows, max(budget, 0), "components")
    return assemble(resources, components, issues)
