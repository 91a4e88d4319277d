"""`catalog fetch` against a real boto3 Pricing client with botocore's Stubber (moto has no
Pricing API). Responses are built from the real per-SKU RDS sample in tests/fixtures/pricing."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from leanstack.catalog.fetch import FETCH_PLANS, fetch_prices, plan_calls
from leanstack.model.issues import Severity

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "pricing" / "samples"
VERSION = "20260925174521"
PUBLISHED = "2026-09-25T17:45:21Z"


def _items() -> list[dict[str, Any]]:
    items = json.loads((SAMPLES / "AmazonRDS-get-products-items-fixture-2019.json").read_text())
    # The 2019 fixture files the Tokyo product's terms under the Oregon SKU, which the importer
    # rejects as inconsistent (test_catalog_import); here each term names its own product, as
    # in real answers, so that both pages convert.
    for item in items.values():
        for by_key in item["terms"].values():
            for term in by_key.values():
                term["sku"] = item["product"]["sku"]
    # A real get_products element also carries the offer version and publication date.
    return [{**item, "version": VERSION, "publicationDate": PUBLISHED} for item in items.values()]


@pytest.fixture
def client() -> Iterator[Any]:
    pricing = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    yield pricing


def _filters(region: str, family: str) -> list[dict[str, str]]:
    return [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": family},
    ]


def test_plan_calls_cover_every_service() -> None:
    calls = plan_calls(sorted(FETCH_PLANS), ["us-east-1", "eu-west-1"])
    offer_codes = {code for _, code, _ in calls}
    assert {
        "AmazonECS",
        "AmazonRDS",
        "AmazonElastiCache",
        "AWSLambda",
        "AWSQueueService",
        "AmazonEC2",
        "AWSELB",
        "AWSDataTransfer",
    } <= offer_codes
    rds = [f for s, _, f in calls if s == "rds"]
    assert len(rds) == 10  # 5 product families x 2 regions
    assert rds[0] == _filters("us-east-1", "Database Instance")
    cloudfront = [f for s, _, f in calls if s == "cloudfront"]
    assert len(cloudfront) == 6 and all(f[0]["Field"] == "usagetype" for f in cloudfront)
    transfer = [f for s, _, f in calls if s == "data-transfer"]
    assert transfer[0][0] == {"Type": "TERM_MATCH", "Field": "fromRegionCode", "Value": "us-east-1"}


def test_fetch_paginates_and_converts(client: Any) -> None:
    oregon, tokyo = _items()
    families = FETCH_PLANS["rds"].filter_sets
    with Stubber(client) as stub:
        for (filter_set,) in families:
            family = filter_set[1]
            base = {
                "ServiceCode": "AmazonRDS",
                "Filters": _filters("us-west-2", family),
                "FormatVersion": "aws_v1",
                "MaxResults": 1,
            }
            if family == "Database Instance":
                stub.add_response(
                    "get_products",
                    {
                        "FormatVersion": "aws_v1",
                        "PriceList": [json.dumps(oregon)],
                        "NextToken": "page2",
                    },
                    base,
                )
                stub.add_response(
                    "get_products",
                    {"FormatVersion": "aws_v1", "PriceList": [json.dumps(tokyo)]},
                    {**base, "NextToken": "page2"},
                )
            else:
                stub.add_response(
                    "get_products", {"FormatVersion": "aws_v1", "PriceList": []}, base
                )
        result = fetch_prices(client, ["rds"], ["us-west-2"], page_size=1)
        stub.assert_no_pending_responses()
    assert result.issues == []
    assert sorted(p.region for p in result.prices) == ["ap-northeast-1", "us-west-2"]
    price = next(p for p in result.prices if p.region == "us-west-2")
    assert price.price == Decimal("0.35")
    assert price.usage_type == "Multi-AZUsage:db.m4.large"
    assert price.attributes["engine"] == "oracle-se1"
    assert (
        price.source
        == f"AWS Pricing API get_products (AmazonRDS, version {VERSION}, published {PUBLISHED})"
    )
    assert price.source_date == "2026-09-25"
    assert result.skipped == {"reserved or other non-On-Demand term": 8}
    assert result.summary().startswith("imported 2 prices (rds 2) from 1 source")


def test_access_denied_is_one_error(client: Any) -> None:
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_products",
            service_error_code="AccessDeniedException",
            service_message="User is not authorized to perform: pricing:GetProducts",
            http_status_code=400,
        )
        result = fetch_prices(client, ["fargate"], ["us-east-1"])
    assert result.prices == []
    assert result.fatal
    [issue] = result.issues
    assert issue.severity is Severity.ERROR
    assert issue.line() == (
        "get_products AmazonECS: AWS Pricing API: AccessDeniedException: "
        "User is not authorized to perform: pricing:GetProducts"
    )


def test_malformed_price_list_element(client: Any) -> None:
    with Stubber(client) as stub:
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": ["{not json"]})
        result = fetch_prices(client, ["ecr"], ["us-east-1"])
    assert result.prices == []
    assert not result.fatal
    assert [i.line() for i in result.issues] == [
        "get_products ecr: PriceList element 0 is not JSON "
        "(Expecting property name enclosed in double quotes); skipped"
    ]


def test_unknown_service_is_rejected(client: Any) -> None:
    result = fetch_prices(client, ["ec2-instances"], ["us-east-1"])
    assert result.fatal
    assert result.issues[0].message.startswith("unknown service(s) ec2-instances; known: alb, ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_endpoint_is_one_error() -> None:
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        endpoint_url=f"http://127.0.0.1:{_free_port()}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    result = fetch_prices(client, ["sqs"], ["us-east-1"])
    [issue] = result.issues
    assert issue.severity is Severity.ERROR
    assert "AWS Pricing API: cannot reach the endpoint" in issue.message
    assert "\n" not in issue.line()
