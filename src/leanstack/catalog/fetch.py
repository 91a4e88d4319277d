"""Fetch current prices from the AWS Pricing API (`get_products`) into catalog rows.

Needs AWS credentials (any identity may call the Pricing API). The endpoint lives in
us-east-1 but answers for every region. Each leanstack service maps to one offer code and a
few `TERM_MATCH` filter sets that keep the answer small; the rows then go through the same
mapping as offer files.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leanstack.catalog.importer import ImportResult, convert_rates, keep_priced
from leanstack.catalog.offers import OfferMeta, OfferRate, number_tiers, rates_from_item
from leanstack.model.issues import Issue, IssueCode, Severity

API_ORIGIN = "AWS Pricing API get_products"
PRICING_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """How to ask the Pricing API for one service's prices.

    `region_field` is the attribute filtered on the region (None: not regional, asked once);
    each filter set in `filter_sets` is one paginated `get_products` call per region.
    """

    offer_code: str
    region_field: str | None = "regionCode"
    filter_sets: tuple[tuple[tuple[str, str], ...], ...] = ((),)


FETCH_PLANS: dict[str, FetchPlan] = {
    "fargate": FetchPlan("AmazonECS"),
    "rds": FetchPlan(
        "AmazonRDS",
        filter_sets=tuple(
            (("productFamily", family),)
            for family in (
                "Database Instance",
                "Database Storage",
                "Provisioned IOPS",
                "Storage Snapshot",
                "CPU Credits",
            )
        ),
    ),
    "elasticache": FetchPlan("AmazonElastiCache"),
    "lambda": FetchPlan("AWSLambda"),
    "sqs": FetchPlan("AWSQueueService"),
    "apigateway": FetchPlan("AmazonApiGateway"),
    "cloudfront": FetchPlan(
        "AmazonCloudFront",
        region_field=None,
        filter_sets=tuple(
            (("usagetype", f"{edge}-{what}"),)
            for edge in ("US", "EU")
            for what in ("DataTransfer-Out-Bytes", "Requests-Tier1", "Requests-Tier2-HTTPS")
        ),
    ),
    "cloudwatch": FetchPlan("AmazonCloudWatch"),
    "nat-gateway": FetchPlan("AmazonEC2", filter_sets=((("productFamily", "NAT Gateway"),),)),
    "alb": FetchPlan("AWSELB", filter_sets=((("productFamily", "Load Balancer-Application"),),)),
    "data-transfer": FetchPlan(
        "AWSDataTransfer",
        region_field="fromRegionCode",
        filter_sets=((("transferType", "AWS Outbound"),),),
    ),
    "secretsmanager": FetchPlan("AWSSecretsManager"),
    "ecr": FetchPlan("AmazonECR"),
}


def plan_calls(
    services: Sequence[str], regions: Sequence[str]
) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(service, offer code, filters) for every `get_products` call a fetch makes."""
    calls: list[tuple[str, str, list[dict[str, str]]]] = []
    for service in services:
        plan = FETCH_PLANS[service]
        region_list: Sequence[str | None] = regions if plan.region_field else [None]
        for region in region_list:
            for filter_set in plan.filter_sets:
                filters = [
                    {"Type": "TERM_MATCH", "Field": field, "Value": value}
                    for field, value in filter_set
                ]
                if plan.region_field and region:
                    filters.insert(
                        0, {"Type": "TERM_MATCH", "Field": plan.region_field, "Value": region}
                    )
                calls.append((service, plan.offer_code, filters))
    return calls


def describe_aws_error(exc: BaseException) -> str:
    """One line for an AWS client error: what failed and what to do."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            "AWS Pricing API: no AWS credentials found (use --profile, set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or import offer files offline with "
            "`leanstack catalog import`)"
        )
    if isinstance(exc, bx.ProfileNotFound):
        return f"AWS Pricing API: {exc}"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return f"AWS Pricing API: cannot reach the endpoint ({exc})"
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        message = error.get("Message", str(exc))
        return f"AWS Pricing API: {code}: {message}"
    return f"AWS Pricing API: {type(exc).__name__}: {exc}"


def make_pricing_client(profile: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 Pricing client (us-east-1) for a named profile or the default chain.

    Raises botocore's ProfileNotFound for an unknown profile; `describe_aws_error` words it.
    """
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile) if profile else boto3.Session()
    # Retries follow the profile / AWS_MAX_ATTEMPTS so that users (and tests) can tune them.
    config = Config(connect_timeout=10, read_timeout=60)
    return session.client(
        "pricing", region_name=PRICING_REGION, endpoint_url=endpoint_url, config=config
    )


def fetch_prices(
    client: Any,
    services: Sequence[str] = tuple(FETCH_PLANS),
    regions: Sequence[str] = ("us-east-1",),
    *,
    page_size: int = 100,
) -> ImportResult:
    """Call `get_products` for each service and region and convert the On-Demand prices.

    An AWS error (credentials, endpoint, access) stops the fetch and comes back as one
    ERROR issue; rows converted before it are kept.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    result = ImportResult()
    unknown = [s for s in services if s not in FETCH_PLANS]
    if unknown:
        result.issues.append(
            Issue(
                code=IssueCode.USAGE_ERROR,
                message=(
                    f"unknown service(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(FETCH_PLANS))}"
                ),
                severity=Severity.ERROR,
            )
        )
        return result
    grouped: dict[OfferMeta, list[OfferRate]] = defaultdict(list)
    paginator = client.get_paginator("get_products")
    for service, offer_code, filters in plan_calls(services, regions):
        try:
            pages = paginator.paginate(
                ServiceCode=offer_code,
                Filters=filters,
                FormatVersion="aws_v1",
                PaginationConfig={"PageSize": page_size},
            )
            for page in pages:
                _collect(page.get("PriceList", ()), grouped, result, service)
        except (BotoCoreError, ClientError) as exc:
            result.issues.append(
                Issue(
                    code=IssueCode.EVALUATION_ERROR,
                    message=describe_aws_error(exc),
                    where=f"get_products {offer_code}",
                    severity=Severity.ERROR,
                )
            )
            break
    for meta, rates in grouped.items():
        result.extend(convert_rates(number_tiers(rates), meta))
    return result


def _collect(
    elements: Iterable[object],
    grouped: dict[OfferMeta, list[OfferRate]],
    result: ImportResult,
    service: str,
) -> None:
    for index, element in enumerate(elements):
        try:
            item = json.loads(element) if isinstance(element, str | bytes) else element
        except json.JSONDecodeError as exc:
            result.issues.append(
                Issue(
                    code=IssueCode.PARSE_ERROR,
                    message=f"PriceList element {index} is not JSON ({exc.msg}); skipped",
                    where=f"get_products {service}",
                )
            )
            continue
        if not isinstance(item, Mapping):
            result.skipped["PriceList element is not a product object"] += 1
            continue
        meta = OfferMeta(
            offer_code=str(item.get("serviceCode", "")),
            version=str(item.get("version", "")),
            publication_date=str(item.get("publicationDate", "")),
            origin=API_ORIGIN,
        )
        for rate in rates_from_item(item, where=API_ORIGIN):
            reason = keep_priced(rate)
            if reason is None:
                grouped[meta].append(rate)
            else:
                result.skipped[reason] += 1
