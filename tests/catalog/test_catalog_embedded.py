"""The embedded catalog: manifest, key prices, provenance, missing prices, local overlays."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from leanstack.catalog import (
    CATALOG_DATE,
    Catalog,
    default_local_catalog_path,
    default_local_catalogs,
    embedded_catalog,
    embedded_manifest,
    load_catalog,
    no_price_message,
    verify_embedded,
    write_price_csv,
)
from leanstack.catalog._catalog import parse_attributes, read_price_csv_checked
from leanstack.model.pricing import Price, PriceQuery

DATA = resources.files("leanstack.catalog").joinpath("data")


def test_manifest_matches_the_shipped_csv() -> None:
    manifest = embedded_manifest()
    raw = DATA.joinpath(manifest.file).read_bytes()
    assert manifest.file == "aws-prices.csv"
    assert manifest.date == "2026-11-26" == CATALOG_DATE
    assert hashlib.sha256(raw).hexdigest() == manifest.sha256
    data_rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert len(data_rows) == manifest.rows
    assert len(embedded_catalog()) == manifest.rows
    assert verify_embedded() == []
    assert embedded_catalog().issues == ()


def test_every_row_keeps_source_and_date() -> None:
    catalog = embedded_catalog()
    assert catalog.date == "2026-11-26"
    for price in catalog.prices():
        assert price.source.strip(), price
        assert price.source_date.strip(), price


@pytest.mark.parametrize(
    ("service", "region", "attrs", "expected", "unit"),
    [
        (
            "fargate",
            "us-east-1",
            {"arch": "x86_64", "usage_type": "Fargate-vCPU-Hours:perCPU"},
            "0.04048",
            "vCPU-hour",
        ),
        (
            "fargate",
            "us-east-1",
            {"arch": "x86_64", "usage_type": "Fargate-GB-Hours"},
            "0.004445",
            "GB-hour",
        ),
        (
            "fargate",
            "us-east-1",
            {"arch": "arm64", "usage_type": "Fargate-ARM-vCPU-Hours:perCPU"},
            "0.03238",
            "vCPU-hour",
        ),
        (
            "fargate",
            "us-east-1",
            {"arch": "arm64", "usage_type": "Fargate-ARM-GB-Hours"},
            "0.00356",
            "GB-hour",
        ),
        (
            "rds",
            "us-east-1",
            {"engine": "postgresql", "instance_type": "db.t3.micro", "deployment": "single-az"},
            "0.018",
            "instance-hour",
        ),
        (
            "rds",
            "us-east-1",
            {"engine": "postgresql", "instance_type": "db.t4g.micro", "deployment": "single-az"},
            "0.016",
            "instance-hour",
        ),
        (
            "rds",
            "us-east-1",
            {"engine": "postgresql", "volume": "gp2", "deployment": "single-az"},
            "0.115",
            "GB-month",
        ),
        (
            "elasticache",
            "us-east-1",
            {"engine": "redis", "instance_type": "cache.t3.micro"},
            "0.017",
            "node-hour",
        ),
        ("sqs", "us-east-1", {"queue_type": "standard", "tier": "1"}, "0.40", "1M requests"),
        ("lambda", "us-east-1", {"arch": "x86_64", "tier": "1"}, "0.0000166667", "GB-second"),
    ],
)
def test_key_prices(
    service: str, region: str, attrs: dict[str, str], expected: str, unit: str
) -> None:
    query_attrs = dict(attrs)
    usage_type = query_attrs.pop("usage_type", None)
    price = embedded_catalog().find(service, region, usage_type, **query_attrs)
    assert price is not None
    assert price.price == Decimal(expected)
    assert price.unit == unit
    assert price.basis is None  # a published price, not a derived one


def test_region_the_catalog_lacks_returns_none() -> None:
    catalog = embedded_catalog()
    assert "eu-north-1" not in catalog.regions()
    assert (
        catalog.find("rds", "eu-north-1", engine="postgresql", instance_type="db.t3.micro") is None
    )
    assert catalog.find("fargate", "eu-north-1", arch="x86_64") is None
    # the same query in a covered region does find a price
    assert catalog.find("rds", "eu-west-1", engine="postgresql", instance_type="db.t3.micro")


def test_no_price_message() -> None:
    query = PriceQuery.of("rds", "eu-north-1", instance_type="db.x.large")
    assert no_price_message(query) == "no price for rds instance_type=db.x.large in eu-north-1"
    with_catalog = no_price_message(query, embedded_catalog())
    assert with_catalog.startswith("no price for rds instance_type=db.x.large in eu-north-1 (")
    assert "no rds prices in eu-north-1" in with_catalog
    assert "us-east-1" in with_catalog
    covered = no_price_message(
        PriceQuery.of("rds", "us-east-1", instance_type="db.x.large"), embedded_catalog()
    )
    assert covered == "no price for rds instance_type=db.x.large in us-east-1 (catalog 2026-11-26)"
    assert "\n" not in with_catalog


def test_explain_published_and_derived() -> None:
    catalog = embedded_catalog()
    published = catalog.find(
        "rds", "us-east-1", engine="postgresql", instance_type="db.t3.micro", deployment="single-az"
    )
    assert published is not None
    line = catalog.explain(published)
    assert line.startswith(
        "RDS for PostgreSQL on-demand instance (rds us-east-1): 0.018 USD per instance-hour;"
    )
    assert f"source: {published.source};" in line
    assert line.endswith("source date: 2022-01-18")
    assert "derived" not in line

    derived = catalog.find(
        "elasticache", "us-east-1", engine="valkey", instance_type="cache.t3.micro"
    )
    assert derived is not None and derived.basis == "derived_0.8x_redis"
    assert catalog.explain(derived).endswith("; derived: derived_0.8x_redis")
    assert "\n" not in catalog.explain(derived)


def test_attribute_values_with_semicolons_survive() -> None:
    assert parse_attributes("a=1;b=x (<4); y (>=4);c=z") == {
        "a": "1",
        "b": "x (<4); y (>=4)",
        "c": "z",
    }
    gp3 = embedded_catalog().find("rds", "us-east-1", "RDS:GP3-Storage", engine="postgresql")
    assert gp3 is not None
    assert set(gp3.attributes) == {"engine", "volume", "deployment", "baseline"}
    assert gp3.attributes["baseline"].endswith("(>=400 GB)")


def _row(price: str, source: str = "local test", **attrs: str) -> Price:
    return Price(
        service="rds",
        region="us-east-1",
        product="RDS for PostgreSQL on-demand instance",
        attributes=attrs,
        usage_type="InstanceUsage:db.t3.micro",
        unit="instance-hour",
        price=Decimal(price),
        source=source,
        source_date="2026-11-20",
    )


def test_local_catalog_overrides_even_with_other_attributes(tmp_path: Path) -> None:
    local = tmp_path / "local.csv"
    # Fewer attributes than the embedded row: not the same key, still preferred.
    local.write_text(
        write_price_csv(
            [
                _row(
                    "0.0185",
                    engine="postgresql",
                    instance_type="db.t3.micro",
                    deployment="single-az",
                )
            ]
        )
    )
    catalog = load_catalog([local])
    price = catalog.find(
        "rds", "us-east-1", engine="postgresql", instance_type="db.t3.micro", deployment="single-az"
    )
    assert price is not None and price.price == Decimal("0.0185")
    assert catalog.layer_of(price) == str(local)
    assert catalog.layers == (embedded_catalog().source, str(local))
    # rows the local file does not cover still come from the embedded catalog
    other = catalog.find(
        "rds",
        "us-east-1",
        engine="postgresql",
        instance_type="db.t4g.micro",
        deployment="single-az",
    )
    assert other is not None and other.price == Decimal("0.016")
    assert len(catalog) == len(embedded_catalog()) + 1


def test_same_key_replaces_row(tmp_path: Path) -> None:
    embedded = embedded_catalog().find(
        "rds", "us-east-1", engine="postgresql", instance_type="db.t3.micro", deployment="single-az"
    )
    assert embedded is not None
    local = tmp_path / "local.csv"
    local.write_text(write_price_csv([_row("0.02", **dict(embedded.attributes))]))
    catalog = load_catalog([local])
    assert len(catalog) == len(embedded_catalog())
    found = catalog.matches(
        PriceQuery.of(
            "rds",
            "us-east-1",
            engine="postgresql",
            instance_type="db.t3.micro",
            deployment="single-az",
        )
    )
    assert [p.price for p in found] == [Decimal("0.02")]


def test_bad_local_catalog_gives_issues_not_exceptions(tmp_path: Path) -> None:
    bad_row = tmp_path / "bad.csv"
    text = write_price_csv([_row("0.02", engine="postgresql")])
    bad_row.write_text(text + "rds,us-east-1,x,engine=postgresql,U,instance-hour,abc,s,2026,\n")
    catalog = load_catalog([bad_row])
    assert [i.where for i in catalog.issues] == [f"{bad_row}:3"]
    assert "abc" in catalog.issues[0].message
    assert catalog.find("rds", "us-east-1", "InstanceUsage:db.t3.micro", engine="postgresql")

    not_csv = tmp_path / "notes.csv"
    not_csv.write_text("hello,world\n1,2\n")
    missing = tmp_path / "missing.csv"
    catalog = load_catalog([not_csv, missing])
    assert len(catalog) == len(embedded_catalog())
    assert catalog.date == embedded_catalog().date
    lines = [i.line() for i in catalog.issues]
    assert lines[0].startswith(f"{not_csv}:1: not a price catalog CSV: missing column(s)")
    assert lines[1].startswith(f"{missing}: cannot read local catalog")


def test_csv_round_trip() -> None:
    rows = list(embedded_catalog().prices())[:50]
    again, issues = read_price_csv_checked(write_price_csv(rows).splitlines())
    assert issues == []
    assert again == rows


def test_default_local_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEANSTACK_HOME", str(tmp_path / "home"))
    assert default_local_catalog_path() == tmp_path / "home" / "catalog.csv"
    assert default_local_catalogs() == []
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "catalog.csv").write_text(write_price_csv([_row("0.03", engine="x")]))
    assert default_local_catalogs() == [tmp_path / "home" / "catalog.csv"]
    monkeypatch.delenv("LEANSTACK_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_local_catalog_path() == tmp_path / ".cache" / "leanstack" / "catalog.csv"


def test_lookup_results_are_stable_copies() -> None:
    catalog = Catalog(list(embedded_catalog().prices()), date="d", source="s")
    query = PriceQuery.of("sqs", "us-east-1", queue_type="standard")
    first = catalog.matches(query)
    first.clear()
    assert catalog.matches(query)


def _brute_force(catalog: Catalog, query: PriceQuery) -> list[Price]:
    """The documented matching rules applied to every row, for comparison with the index."""
    wanted = dict(query.attrs)
    found = []
    for price in catalog.prices():
        if (price.service, price.region) != (query.service, query.region):
            continue
        attrs = price.attributes
        if any(
            k in attrs and k not in wanted
            for k in ("term", "purchase_option", "price_component", "plan")
        ):
            continue
        if attrs.get("capacity", "on-demand") != "on-demand" and "capacity" not in wanted:
            continue
        if all(
            k in attrs and (attrs[k] in (v, "any") or v in attrs[k].replace("+", "|").split("|"))
            for k, v in wanted.items()
        ):
            found.append(price)
    return found


def test_instance_type_index_agrees_with_a_full_scan() -> None:
    catalog = embedded_catalog()
    types = sorted(
        {p.attributes["instance_type"] for p in catalog.prices() if "instance_type" in p.attributes}
    )
    checked = 0
    for service, engine in (("rds", "postgresql"), ("elasticache", "redis")):
        for instance_type in [*types, "db.none.large"]:
            query = PriceQuery.of(service, "us-east-1", engine=engine, instance_type=instance_type)
            found = catalog.matches(query)
            assert sorted(map(repr, found)) == sorted(map(repr, _brute_force(catalog, query)))
            checked += bool(found)
    assert checked > 30


def test_instance_type_alternatives_are_indexed() -> None:
    rows = [
        _row(f"0.{i + 10}", engine="postgresql", instance_type=f"db.x{i}.large") for i in range(70)
    ]
    rows.append(_row("0.5", engine="postgresql", instance_type="db.a.large|db.b.large"))
    rows.append(_row("0.6", engine="mysql", instance_type="any"))
    catalog = Catalog(rows, date="d", source="s")
    assert (
        catalog.find("rds", "us-east-1", instance_type="db.b.large", engine="postgresql")
        == rows[70]
    )
    assert (
        catalog.find("rds", "us-east-1", instance_type="db.x5.large", engine="postgresql")
        == rows[5]
    )
    assert catalog.find("rds", "us-east-1", instance_type="db.q.large", engine="mysql") == rows[71]
    assert catalog.find("rds", "us-east-1", instance_type="db.q.large", engine="postgresql") is None
