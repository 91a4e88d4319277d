"""The embedded, dated AWS price catalog, and local catalogs that override it.

`aws-prices.csv` in `data/` is built from the team's sourced price list: every row keeps its
source and the date of that source; `data/catalog.json` records the catalog date, source, row
count and sha256. Rows with a `price_basis` attribute are derived values, not published list
prices, and say so wherever they are used (`Catalog.explain`).

Local catalogs (same CSV format) come from `leanstack catalog import` (AWS offer files) or
`leanstack catalog fetch` (Pricing API). Every command should build its catalog with
`load_catalog(default_local_catalogs())` so that the default local catalog
(`$LEANSTACK_HOME/catalog.csv`, else `~/.cache/leanstack/catalog.csv`) overrides the embedded
rows; problems reading it are in `Catalog.issues`, never raised.
"""

from leanstack.catalog._catalog import (
    CATALOG_DATE,
    Catalog,
    Manifest,
    default_local_catalog_path,
    default_local_catalogs,
    embedded_catalog,
    embedded_manifest,
    format_price,
    leanstack_home,
    load_catalog,
    no_price_message,
    read_price_csv,
    verify_embedded,
    write_price_csv,
)

__all__ = [
    "CATALOG_DATE",
    "Catalog",
    "Manifest",
    "default_local_catalog_path",
    "default_local_catalogs",
    "embedded_catalog",
    "embedded_manifest",
    "format_price",
    "leanstack_home",
    "load_catalog",
    "no_price_message",
    "read_price_csv",
    "verify_embedded",
    "write_price_csv",
]
