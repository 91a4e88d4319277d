"""aws_cloudwatch_log_group: ingestion, archival storage and Insights scans, from usage."""

from __future__ import annotations

from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.resources._common import Components, soft, usage_number
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

USAGE = (
    UsageKey("monthly_data_ingested_gb", "log data ingested per month", "GB"),
    UsageKey("storage_gb", "log data stored (archived)", "GB"),
    UsageKey("monthly_data_scanned_gb", "data scanned by Logs Insights queries per month", "GB"),
)


@cost_model("aws_cloudwatch_log_group", usage=USAGE)
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Price a log group."""
    log_class = str(soft(resource, "log_group_class", "STANDARD")).lower().replace("_", "-")
    components = Components(resource, ctx)
    region = components.region
    components.add(
        "Data ingested",
        "GB",
        usage_number(ctx, "monthly_data_ingested_gb"),
        PriceQuery.of("cloudwatch", region, usage_type="DataProcessing-Bytes", log_class=log_class),
        what=f"CloudWatch Logs {log_class} ingestion",
        usage_based=True,
    )
    components.add(
        "Archival storage",
        "GB-months",
        usage_number(ctx, "storage_gb"),
        PriceQuery.of("cloudwatch", region, usage_type="TimedStorage-ByteHrs", log_class=log_class),
        what=f"CloudWatch Logs {log_class} storage",
        usage_based=True,
    )
    components.add(
        "Insights queries data scanned",
        "GB",
        usage_number(ctx, "monthly_data_scanned_gb"),
        PriceQuery.of("cloudwatch", region, usage_type="DataScanned-Bytes"),
        what="CloudWatch Logs Insights scans",
        usage_based=True,
    )
    return components.result()
