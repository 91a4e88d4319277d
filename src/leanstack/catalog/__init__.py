"""The embedded, dated AWS price catalog, and local catalogs that override it.

`aws-prices.csv` in `data/` is built from the team's sourced price list: every row keeps its
source and the date of that source. Rows with a `price_basis` attribute are derived values, not
published list prices, and say so wherever they are used.
"""

from leanstack.catalog._catalog import (
    CATALOG_DATE,
    Catalog,
    embedded_catalog,
    load_catalog,
)

__all__ = ["CATALOG_DATE", "Catalog", "embedded_catalog", "load_catalog"]
