"""`leanstack catalog`: import offer files, fetch from the Pricing API, show and describe prices.

Every command reads the embedded catalog with the default local catalog
(`$LEANSTACK_HOME/catalog.csv`, else `~/.cache/leanstack/catalog.csv`) layered over it;
`import` and `fetch` write that local catalog unless `--out` says otherwise.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leanstack.catalog._catalog import (
    Catalog,
    default_local_catalog_path,
    embedded_catalog,
    embedded_manifest,
    format_attributes,
    format_price,
    load_catalog,
    load_local_catalog,
    verify_embedded,
)
from leanstack.catalog._catalog import default_local_catalogs as _default_local_catalogs
from leanstack.catalog.importer import ImportResult, import_offer_files, write_local_catalog
from leanstack.cli._common import choose_format, fail, format_option, out_option, warn, write_output
from leanstack.model.issues import Severity
from leanstack.model.pricing import Price


class OutputFormat(StrEnum):
    """Output formats of `catalog show`."""

    TABLE = "table"
    JSON = "json"


_SHOW_SUFFIXES = {".json": OutputFormat.JSON, ".txt": OutputFormat.TABLE}


_OUT_HELP = (
    "Local catalog CSV to write (default: $LEANSTACK_HOME/catalog.csv, else "
    "~/.cache/leanstack/catalog.csv, which every command layers over the embedded catalog; "
    "another file is used with `estimate/analyze --catalog FILE`)."
)
_CATALOG_HELP = "Another local catalog CSV layered on top, as with estimate/analyze (repeatable)."
_REPLACE_HELP = "Start the local catalog afresh instead of merging into the rows already there."


def _current_catalog(embedded_only: bool, extra: list[Path] | None = None) -> Catalog:
    for path in extra or ():
        if not path.is_file():
            fail(f"--catalog {path}: no such file")
        # A file named on the command line that is not a catalog stops the command, as in
        # estimate and analyze; the default local catalog only warns.
        errors = [i for i in load_local_catalog(path).issues if i.severity is Severity.ERROR]
        if errors:
            fail(errors[0].line())
    if embedded_only:
        return load_catalog(extra or [])
    catalog = load_catalog([*_default_local_catalogs(), *(extra or [])])
    for issue in catalog.issues:
        warn(issue.line())
    return catalog


def _finish_import(result: ImportResult, out: Path | None, replace: bool, what: str) -> None:
    fatal = [i for i in result.issues if i.severity is Severity.ERROR]
    for issue in result.issues:
        if issue.severity is not Severity.ERROR:
            warn(issue.line())
    if fatal and not result.prices:
        for issue in fatal[1:]:
            warn(issue.line())
        fail(fatal[0].line(), 2)
    for issue in fatal:
        warn(issue.line())
    typer.echo(result.summary())
    if not result.prices:
        fail(f"no prices leanstack uses were found in the {what}; nothing written", 1)
    try:
        path, rows, issues = write_local_catalog(result.prices, out, replace=replace)
    except OSError as exc:
        fail(f"{out or 'local catalog'}: cannot write: {exc.strerror or exc}", 2)
    for issue in issues:
        warn(issue.line())
    default = default_local_catalog_path()
    what_rows = f"{rows} row" if rows == 1 else f"{rows} rows"
    if _same_file(path, default):
        typer.echo(
            f"wrote {rows} rows to {path} (layered over the embedded catalog by every command)"
        )
    else:
        typer.echo(
            f"wrote {what_rows} to {path} (use it with --catalog {path}; only {default} "
            "is layered by every command)"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _import(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="AWS Price List offer files (JSON or CSV) or saved get_products output."
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", help=_OUT_HELP)] = None,
    replace: Annotated[bool, typer.Option("--replace", help=_REPLACE_HELP)] = False,
) -> None:
    """Convert AWS Price List offer files into the local catalog."""
    _finish_import(import_offer_files(files), out, replace, "given files")


def _fetch(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="leanstack service to fetch (repeatable; default all)."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", help="Region to fetch (repeatable; default the embedded catalog's)."
        ),
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile to use.")] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="Pricing API endpoint (default AWS's us-east-1)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help=_OUT_HELP)] = None,
    replace: Annotated[bool, typer.Option("--replace", help=_REPLACE_HELP)] = False,
) -> None:
    """Fetch current On-Demand prices from the AWS Pricing API into the local catalog."""
    from botocore.exceptions import BotoCoreError

    from leanstack.catalog.fetch import (
        FETCH_PLANS,
        describe_aws_error,
        fetch_prices,
        make_pricing_client,
    )

    services = service or sorted(FETCH_PLANS)
    unknown = [s for s in services if s not in FETCH_PLANS]
    if unknown:
        fail(f"unknown service {', '.join(unknown)} (known: {', '.join(sorted(FETCH_PLANS))})", 2)
    regions = region or sorted(r for r in embedded_catalog().regions() if r != "global")
    try:
        client = make_pricing_client(profile, endpoint_url)
    except BotoCoreError as exc:
        fail(describe_aws_error(exc), 2)
    result = fetch_prices(client, services, regions)
    if result.fatal:
        fail(next(i for i in result.issues if i.severity is Severity.ERROR).line(), 2)
    _finish_import(result, out, replace, "Pricing API answers")


def _selected(
    catalog: Catalog, service: str | None, region: str | None, grep: str | None
) -> list[Price]:
    needle = grep.lower() if grep else None
    rows: list[Price] = []
    for price in catalog.prices():
        if service and price.service != service:
            continue
        if region and price.region != region:
            continue
        if needle is not None:
            text = " ".join(
                (price.product, format_attributes(price.attributes), price.usage_type, price.source)
            ).lower()
            if needle not in text:
                continue
        rows.append(price)
    rows.sort(key=lambda p: (p.service, p.region))
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _show(
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service (e.g. rds).")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only this region.")] = None,
    grep: Annotated[
        str | None,
        typer.Option(
            "--grep", help="Only rows whose product, attributes, usage type or source contain TEXT."
        ),
    ] = None,
    output_format: Annotated[OutputFormat | None, format_option("table or json")] = None,
    embedded_only: Annotated[
        bool, typer.Option("--embedded-only", help="Ignore the local catalog.")
    ] = False,
    catalog_files: Annotated[
        list[Path] | None, typer.Option("--catalog", metavar="CSV", help=_CATALOG_HELP)
    ] = None,
    out: Annotated[Path | None, out_option(".json, .txt")] = None,
) -> None:
    """List prices with their provenance (sources numbered below the table).

    Exit 2 for an unknown --service or --region (the line lists the known ones).
    """
    fmt = choose_format(out, output_format, OutputFormat.TABLE, _SHOW_SUFFIXES)
    catalog = _current_catalog(embedded_only, catalog_files)
    if service is not None and service not in catalog.services():
        known = ", ".join(sorted(catalog.services()))
        fail(f"--service {service!r}: unknown service (known: {known})")
    if region is not None and region not in catalog.regions():
        known = ", ".join(sorted(catalog.regions()))
        fail(f"--region {region!r}: no prices in this region (known: {known})")
    rows = _selected(catalog, service, region, grep)
    if fmt is OutputFormat.JSON:
        doc = {
            "catalog": {
                "date": catalog.date,
                "source": catalog.source,
                "layers": list(catalog.layers),
                "layer_details": [
                    {
                        "source": layer.source,
                        "embedded": layer.embedded,
                        "rows": layer.rows,
                        "date": layer.date if layer.embedded else None,
                        "first_source_date": layer.first or None,
                        "last_source_date": layer.last or None,
                    }
                    for layer in catalog.layer_details
                ],
            },
            "count": len(rows),
            "prices": [
                {
                    "service": p.service,
                    "region": p.region,
                    "product": p.product,
                    "attributes": dict(p.attributes),
                    "usage_type": p.usage_type,
                    "unit": p.unit,
                    "price_usd": format_price(p.price),
                    "source": p.source,
                    "source_date": p.source_date,
                    "derived": p.basis,
                    "notes": p.notes,
                    "layer": catalog.layer_of(p),
                    "explain": catalog.explain(p),
                }
                for p in rows
            ],
        }
        write_output(json.dumps(doc, indent=2), out)
        return
    if not rows:
        write_output(f"no prices match (catalog {catalog.describe()})", out)
        return
    write_output(f"catalog: {catalog.describe()}\n{_price_table(rows)}\n{len(rows)} prices", out)


_WIDTH = 100


def _price_table(rows: list[Price]) -> str:
    """The prices in 100 columns: long cells wrap, sources are numbered in a legend."""
    from io import StringIO

    from rich import box
    from rich.console import Console
    from rich.table import Table

    sources: dict[str, int] = {}
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), show_lines=False
    )
    table.add_column("service / region", no_wrap=True)
    table.add_column("product / usage_type / attributes", overflow="fold")
    table.add_column("price_usd", justify="right", no_wrap=True)
    table.add_column("unit", max_width=14, overflow="fold")
    table.add_column("date", no_wrap=True)
    table.add_column("src", no_wrap=True)
    for p in rows:
        ref = sources.setdefault(p.source, len(sources) + 1)
        attrs = [f"{k}={v}" for k, v in p.attributes.items() if k != "price_basis"]
        table.add_row(
            f"{p.service}\n{p.region}",
            "\n".join([p.product, p.usage_type, *attrs]),
            format_price(p.price) + ("*" if p.basis else ""),
            p.unit,
            p.source_date[:10],
            f"[{ref}]",
            end_section=True,
        )
    buf = StringIO()
    Console(file=buf, width=_WIDTH, highlight=False, color_system=None).print(table)
    lines = [line.rstrip() for line in buf.getvalue().rstrip("\n").splitlines()]
    if any(p.basis for p in rows):
        bases = sorted({p.basis for p in rows if p.basis})
        note = f"* derived, not a published list price ({', '.join(bases)})"
        lines.extend(textwrap.wrap(note, _WIDTH, subsequent_indent="  "))
    for src, n in sources.items():
        lines.extend(textwrap.wrap(f"[{n}] {src}", _WIDTH, subsequent_indent="    "))
    return "\n".join(lines)


def _info(
    embedded_only: Annotated[
        bool, typer.Option("--embedded-only", help="Ignore the local catalog.")
    ] = False,
    catalog_files: Annotated[
        list[Path] | None, typer.Option("--catalog", metavar="CSV", help=_CATALOG_HELP)
    ] = None,
) -> None:
    """Catalog date, source, rows per service and region, and derived rows by basis."""
    catalog = _current_catalog(embedded_only, catalog_files)
    manifest = embedded_manifest()
    problems = verify_embedded()
    lines = [
        f"catalog date: {catalog.date}"
        + (f" (embedded catalog {manifest.date})" if catalog.date != manifest.date else ""),
        f"source: {catalog.source}",
        f"embedded: {manifest.file}, {manifest.rows} rows, sha256 {manifest.sha256[:12]}… "
        + ("verified" if not problems else "MISMATCH: " + "; ".join(p.message for p in problems)),
    ]
    for layer in catalog.layer_details[1:]:
        lines.append(f"local catalog: {layer.describe().removeprefix('local ')}")
    prices = list(catalog.prices())
    lines.append(f"rows: {len(prices)}")
    counts = Counter((p.service, p.region) for p in prices)
    regions = sorted({r for _, r in counts}, key=lambda r: (r == "global", r))
    services = sorted({s for s, _ in counts})
    matrix = [
        [
            s,
            *[str(counts.get((s, r), "")) for r in regions],
            str(sum(counts.get((s, r), 0) for r in regions)),
        ]
        for s in services
    ]
    lines.append("")
    lines.append(_table(["service", *regions, "total"], matrix))
    derived = Counter(p.basis for p in prices if p.basis is not None)
    lines.append("")
    lines.append(f"derived rows (not a published list price): {sum(derived.values())}")
    lines.extend(f"  {basis}: {n}" for basis, n in sorted(derived.items()))
    write_output("\n".join(lines), None)


def register(app: typer.Typer) -> None:
    """Add the `catalog` command group to the root app."""
    group = typer.Typer(
        name="catalog",
        help="The price catalog: show it, import AWS offer files, fetch from the Pricing API.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    group.command("import")(_import)
    group.command("fetch")(_fetch)
    group.command("show")(_show)
    group.command("info")(_info)
    app.add_typer(group, name="catalog")
