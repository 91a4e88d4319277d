"""Offer files (JSON, CSV, per-SKU items) into local catalog rows."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from leanstack.catalog import embedded_catalog, load_catalog
from leanstack.catalog._catalog import read_price_csv_checked
from leanstack.catalog.importer import import_offer_files, write_local_catalog
from leanstack.catalog.mapping import arch_of, strip_region_prefix, unit_family
from leanstack.catalog.offers import read_offer_file
from leanstack.model.pricing import Price

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"
SAMPLES = FIXTURES / "samples"
HANDMADE = FIXTURES / "handmade"


def _by(prices: list[Price], **want: str) -> list[Price]:
    def ok(p: Price) -> bool:
        fields = {"service": p.service, "region": p.region, "usage_type": p.usage_type}
        return all(fields.get(k, p.attributes.get(k)) == v for k, v in want.items())

    return [p for p in prices if ok(p)]


def test_rds_items_fixture() -> None:
    result = import_offer_files([SAMPLES / "AmazonRDS-get-products-items-fixture-2019.json"])
    assert result.issues == []
    # Two SKUs, one On-Demand dimension each. The Tokyo MariaDB product's terms all name the
    # Oregon Oracle SKU ("Oracle SE1 (BYOL)" dimensions): importing them priced MariaDB at
    # Oracle's BYOL rate (audit's cat.csv), so they are skipped and counted.
    assert len(result.prices) == 1
    assert result.skipped == {
        "reserved or other non-On-Demand term": 4,
        "term filed under another product's SKU (inconsistent input)": 5,
    }
    [oregon] = result.prices
    assert oregon.region == "us-west-2"  # from `location`: the 2019 data has no regionCode
    assert oregon.usage_type == "Multi-AZUsage:db.m4.large"  # USW2- prefix removed
    assert dict(oregon.attributes) == {
        "engine": "oracle-se1",
        "instance_type": "db.m4.large",
        "deployment": "multi-az",
        "arch": "x86_64",
        "license": "byol",
    }
    assert oregon.price == Decimal("0.35")
    assert oregon.unit == "instance-hour"
    # No publication date in these objects: the term's effective date, and the source says so.
    assert oregon.source_date == "2017-03-01"
    assert oregon.source.startswith("AmazonRDS-get-products-items-fixture-2019.json (AmazonRDS")
    assert "effective date" in oregon.source
    assert "UHQB4SMCY7W62UNV" in oregon.notes


def test_elasticache_excerpt_reserved_terms_under_ondemand_are_skipped() -> None:
    data = read_offer_file(SAMPLES / "AmazonElastiCache-offer-excerpt-v20250624130639.json")
    assert data.meta.offer_code == "AmazonElastiCache"
    assert data.meta.version == "20250624130639"
    assert data.rates and all(r.term_type == "OnDemand" for r in data.rates)
    assert not any(r.is_on_demand for r in data.rates)
    assert {r.attr["instancetype"] for r in data.rates} == {"cache.c7gn.large"}
    result = import_offer_files([SAMPLES / "AmazonElastiCache-offer-excerpt-v20250624130639.json"])
    assert result.prices == []
    assert result.skipped == {"reserved or other non-On-Demand term": len(data.rates)}


def test_csv_offer_of_an_unpriced_service_is_counted() -> None:
    path = SAMPLES / "comprehend-ap-south-1-offer-excerpt-v20260116160258.csv"
    data = read_offer_file(path)
    assert data.meta.offer_code == "comprehend"
    assert data.meta.publication_date == "2026-01-16T16:02:58Z"
    assert len(data.rates) == 6
    tiers = sorted(
        (r for r in data.rates if r.sku == "3AXMQWKDDFYP7NT5"), key=lambda r: r.begin_range
    )
    assert [r.tier for r in tiers] == ["1", "2", "3", "4"]
    assert tiers[-1].end_range is None
    assert tiers[0].attr["usagetype"] == "APS3-DetectPiiEntities"
    assert tiers[0].attr["regioncode"] == "ap-south-1"
    result = import_offer_files([path])
    assert result.prices == []
    assert result.skipped == {"comprehend: service not priced": 6}
    assert result.summary() == (
        "imported 0 prices (none) from 1 source; skipped 6 rows (comprehend: service not priced: 6)"
    )


def test_handmade_fargate() -> None:
    result = import_offer_files([HANDMADE / "AmazonECS-handmade.json"])
    prices = result.prices
    x86 = _by(prices, region="us-east-1", usage_type="Fargate-vCPU-Hours:perCPU")
    assert [p.price for p in x86] == [Decimal("0.04048")]
    assert dict(x86[0].attributes) == {"os": "linux", "arch": "x86_64", "capacity": "on-demand"}
    assert x86[0].unit == "vCPU-hour"
    assert (
        x86[0].source == "AmazonECS-handmade.json (AmazonECS, version 20260911124425, "
        "published 2026-09-11T12:44:25Z)"
    )
    assert x86[0].source_date == "2026-09-11"
    assert [p.price for p in _by(prices, usage_type="Fargate-ARM-GB-Hours")] == [Decimal("0.00356")]
    ephemeral = _by(prices, usage_type="Fargate-EphemeralStorage-GB-Hours")
    assert ephemeral[0].attributes["included_gb"] == "20"
    # location-only product
    assert _by(prices, region="eu-west-1", usage_type="Fargate-vCPU-Hours:perCPU")
    # Windows and the $0 ECS-on-EC2 row are not Fargate Linux prices
    assert result.skipped == {"AmazonECS: not a Linux Fargate usage type": 2}
    assert not any(p.price == 0 for p in prices)


def test_handmade_rds_and_elasticache() -> None:
    result = import_offer_files(
        [HANDMADE / "AmazonRDS-handmade.json", HANDMADE / "AmazonElastiCache-handmade.json"]
    )
    prices = result.prices
    t3 = _by(prices, service="rds", instance_type="db.t3.micro")
    assert len(t3) == 1  # the extended-support surcharge is not the instance price
    assert t3[0].price == Decimal("0.018")
    assert t3[0].usage_type == "InstanceUsage:db.t3.micro"
    frankfurt = _by(prices, region="eu-central-1")[0]
    assert frankfurt.usage_type == "Multi-AZUsage:db.t4g.micro"
    assert frankfurt.attributes["arch"] == "arm64"
    assert frankfurt.attributes["deployment"] == "multi-az"
    gp2 = _by(prices, usage_type="RDS:GP2-Storage")[0]
    assert (gp2.unit, gp2.price, gp2.attributes["volume"]) == ("GB-month", Decimal("0.115"), "gp2")
    piops = _by(prices, usage_type="RDS:PIOPS")[0]
    assert (piops.unit, piops.attributes["engine"]) == ("IOPS-month", "any")
    oracle = _by(prices, engine="oracle-se2")[0]
    assert oracle.usage_type == "InstanceUsage:db.m5.xl"
    assert oracle.attributes["instance_type"] == "db.m5.xlarge"
    assert not _by(prices, instance_type="db.t3.medium")  # Db2 not priced
    nodes = _by(prices, service="elasticache")
    assert sorted(
        (p.attributes["engine"], p.attributes["instance_type"], p.price) for p in nodes
    ) == [
        ("redis", "cache.t3.micro", Decimal("0.017")),
        ("valkey", "cache.t4g.micro", Decimal("0.0128")),
    ]
    assert result.skipped["AmazonElastiCache: surcharge or other usage type"] == 2
    assert result.skipped["reserved or other non-On-Demand term"] == 1
    assert result.skipped["AmazonRDS: instance surcharge or other usage type"] == 1
    assert result.skipped["AmazonRDS: engine 'Db2' not priced"] == 1


def test_handmade_tiers_and_request_scaling() -> None:
    result = import_offer_files(
        [HANDMADE / "AWSLambda-handmade.json", HANDMADE / "AWSQueueService-us-east-2-handmade.csv"]
    )
    prices = result.prices
    duration = sorted(
        _by(prices, service="lambda", usage_type="Lambda-GB-Second"),
        key=lambda p: p.attributes["tier"],
    )
    assert [(p.attributes["tier"], p.price) for p in duration] == [
        ("1", Decimal("0.0000166667")),
        ("2", Decimal("0.000015")),
        ("3", Decimal("0.0000133334")),
    ]
    assert duration[0].attributes["range"] == "0-6B/month"
    assert duration[2].attributes["range"] == ">15B/month"
    requests = _by(prices, service="lambda", usage_type="Request-ARM")[0]
    assert (requests.unit, requests.price, requests.attributes["arch"]) == (
        "1M requests",
        Decimal("0.2"),
        "arm64",
    )
    standard = {p.attributes["tier"]: p for p in _by(prices, service="sqs", queue_type="standard")}
    assert {t: p.price for t, p in standard.items()} == {
        "free": Decimal(0),
        "1": Decimal("0.4"),
        "2": Decimal("0.3"),
        "3": Decimal("0.24"),
    }
    assert standard["1"].region == "us-east-2"
    assert standard["1"].usage_type == "Requests-Tier1"
    assert standard["1"].unit == "1M requests"
    assert standard["1"].attributes["range"] == "1M-100B/month"
    fifo = {p.attributes["tier"]: p.price for p in _by(prices, service="sqs", queue_type="fifo")}
    assert fifo == {"1": Decimal("0.5"), "2": Decimal("0.4"), "3": Decimal("0.35")}
    # the broken CSV row: one issue naming file and line, the rest imported
    assert [i.line() for i in result.issues] == [
        f"{HANDMADE / 'AWSQueueService-us-east-2-handmade.csv'}:14: "
        "unreadable PricePerUnit 'n/a'; row skipped"
    ]
    assert result.skipped == {"AWSLambda: group not priced": 1}


def test_bad_files_are_one_line_each(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"products": {\n  "A": [1, 2,\n')
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    shape = tmp_path / "index.json"
    shape.write_text(json.dumps({"offers": {}}))
    missing = tmp_path / "missing.json"
    result = import_offer_files([broken, other, shape, missing])
    assert result.prices == []
    lines = [i.line() for i in result.issues]
    assert lines[0].startswith(f"{broken}:3: invalid JSON")
    assert (
        lines[1]
        == f"{other}: not an AWS Price List offer file (expected JSON or the CSV offer format)"
    )
    assert lines[2] == f"{shape}: JSON is neither an offer file nor get_products output"
    assert lines[3].startswith(f"{missing}: cannot read")
    assert result.fatal


def test_get_products_response_file(tmp_path: Path) -> None:
    items = json.loads((SAMPLES / "AmazonRDS-get-products-items-fixture-2019.json").read_text())
    saved = {
        "FormatVersion": "aws_v1",
        "PriceList": [
            json.dumps(
                {**item, "version": "20260901000000", "publicationDate": "2026-09-01T00:00:00Z"}
            )
            for item in items.values()
        ],
    }
    path = tmp_path / "rds-response.json"
    path.write_text(json.dumps(saved))
    result = import_offer_files([path])
    assert len(result.prices) == 1  # the Tokyo product's terms name another SKU
    assert {p.source_date for p in result.prices} == {"2026-09-01"}
    assert all("version 20260901000000" in p.source for p in result.prices)


def test_write_merge_and_layer(tmp_path: Path) -> None:
    out = tmp_path / "cache" / "catalog.csv"
    first = import_offer_files([HANDMADE / "AmazonECS-handmade.json"])
    path, rows, issues = write_local_catalog(first.prices, out)
    assert (path, rows, issues) == (out, len(first.prices), [])
    second = import_offer_files([HANDMADE / "AmazonRDS-handmade.json"])
    _, rows, _ = write_local_catalog(second.prices, out)
    assert rows == len(first.prices) + len(second.prices)  # merged, not replaced
    written, problems = read_price_csv_checked(out.read_text().splitlines())
    assert problems == []
    assert sorted(written, key=repr) == sorted(first.prices + second.prices, key=repr)
    _, rows, _ = write_local_catalog(second.prices, out, replace=True)
    assert rows == len(second.prices)

    catalog = load_catalog([out])
    price = catalog.find(
        "rds",
        "eu-central-1",
        engine="postgresql",
        instance_type="db.t4g.micro",
        deployment="multi-az",
    )
    assert price is not None and price.price == Decimal("0.037")
    assert catalog.layer_of(price) == str(out)
    assert "AmazonRDS-handmade.json" in catalog.explain(price)
    # embedded rows not covered by the import are still there
    assert catalog.find("fargate", "us-east-1", arch="x86_64", usage_type="Fargate-GB-Hours")
    assert len(catalog) >= len(embedded_catalog())


def test_import_every_fixture_at_once(tmp_path: Path) -> None:
    files = (
        sorted(HANDMADE.glob("*.json"))
        + sorted(HANDMADE.glob("*.csv"))
        + sorted(SAMPLES.glob("*.json"))
    )
    result = import_offer_files(files)
    per_service = {p.service for p in result.prices}
    assert per_service == {"fargate", "rds", "elasticache", "lambda", "sqs"}
    summary = result.summary()
    assert summary.startswith(
        f"imported {len(result.prices)} prices (elasticache 2, fargate 6, lambda 4, rds 6, sqs 7)"
    )
    assert "\n" not in summary
    assert f"skipped {sum(result.skipped.values())} rows" in summary


def test_helpers() -> None:
    assert strip_region_prefix("USE1-Fargate-GB-Hours", "us-east-1") == "Fargate-GB-Hours"
    assert (
        strip_region_prefix("EU-InstanceUsage:db.t4g.micro", "eu-west-1")
        == "InstanceUsage:db.t4g.micro"
    )
    assert strip_region_prefix("APN2-CachedData:Valkey", "ap-northeast-2") == "CachedData:Valkey"
    assert strip_region_prefix("NatGateway-Hours", "us-east-1") == "NatGateway-Hours"
    assert strip_region_prefix("RDS:GP2-Storage", "us-east-1") == "RDS:GP2-Storage"
    assert strip_region_prefix("XYZ9-Thing", "xx-new-1") == "Thing"
    assert arch_of("db.t4g.micro") == "arm64"
    assert arch_of("cache.c7gn.large") == "arm64"
    assert arch_of("db.m6gd.large") == "arm64"
    assert arch_of("db.m5.xlarge") == "x86_64"
    assert arch_of("db.m6i.large") == "x86_64"
    assert [
        unit_family(u) for u in ("Hrs", "hours", "GB-Mo", "Lambda-GB-Second", "GB", "Requests")
    ] == ["hour", "hour", "month", "second", "gb", "count"]


@pytest.mark.parametrize(
    "name", ["AmazonECS-handmade.json", "AWSQueueService-us-east-2-handmade.csv"]
)
def test_file_type_is_sniffed_not_taken_from_the_name(tmp_path: Path, name: str) -> None:
    copy = tmp_path / "download.bin"
    shutil.copy(HANDMADE / name, copy)
    assert import_offer_files([copy]).prices
