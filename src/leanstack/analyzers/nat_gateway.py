"""NAT gateways: data that a free S3/DynamoDB gateway endpoint would carry instead."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np
from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    confidence_of,
    dec,
    gate,
    register,
    window,
)
from leanstack.analyzers._pricing import unit_price
from leanstack.model.findings import (
    AttributeChange,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.resource import Resource

GB = 2**30


class NatGatewaySettings(DataGateSettings):
    """Which share of NAT traffic an endpoint would carry.

    NAT metrics do not say where bytes go. S3 and DynamoDB traffic (ECR image layers come
    from S3) can go through a gateway endpoint, which has no hourly or data charge; that
    share is a setting, 0 by default, so nothing is claimed until you measure it (VPC Flow
    Logs). Interface endpoints for other services have an hourly and per-GB charge the
    catalog does not carry, so they are not priced.
    """

    gateway_endpoint_share: float = Field(
        0.0, ge=0, le=1, description="Share of NAT bytes bound for S3/DynamoDB (from flow logs)."
    )


@register
class NatGateway(Analyzer[NatGatewaySettings]):
    """Price NAT data processing from BytesOutToDestination and what a gateway endpoint saves."""

    name = "nat_gateway"
    title = "NAT gateway data"
    applies_to = frozenset({"aws_nat_gateway"})
    needs = frozenset({"BytesOutToDestination"})
    settings_model = NatGatewaySettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: NatGatewaySettings
    ) -> Iterable[Finding]:
        series = ctx.series(resource.address, "BytesOutToDestination")
        win = window(series, settings.lookback_days) if series else None
        reason = gate(win, settings, "BytesOutToDestination")
        if reason or win is None:
            yield self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                f"Not enough recorded NAT traffic: {reason}.",
            )
            return
        price = unit_price(ctx.catalog, "nat-gateway", resource.region, unit="GB")
        if price is None:
            yield self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog NAT price in {resource.region}.",
            )
            return
        monthly_gb = float(np.nansum(win.values)) / GB * float(HOURS_PER_MONTH) / (win.days * 24)
        data_cost = dec(monthly_gb) * price.price
        evidence = {
            "BytesOutToDestination": win.evidence(scale=1 / GB, unit="GB"),
            "monthly_gb": round(monthly_gb, 3),
            "data_processing_monthly": str(data_cost.quantize(Decimal("0.01"))),
            "gateway_endpoint_share": settings.gateway_endpoint_share,
        }
        share = settings.gateway_endpoint_share
        if share <= 0 or data_cost <= 0:
            yield self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"{monthly_gb:.1f} GB/month through NAT costs ${data_cost:.2f} in data "
                "processing; an "
                "S3/DynamoDB gateway endpoint carries that traffic free: measure its share (flow "
                "logs) "
                "and set nat_gateway.gateway_endpoint_share to price it.",
                evidence,
            )
            return
        vpc = next(iter(ctx.referenced(resource, "subnet_id")), None)
        name = "s3"
        block = (
            f'resource "aws_vpc_endpoint" "{name}" {{\n'
            "  vpc_id            = <your VPC id>\n"
            '  service_name      = "com.amazonaws.<region>.s3"\n'
            '  vpc_endpoint_type = "Gateway"\n'
            "  route_table_ids   = <private route table ids>\n"
            "}\n"
        ).replace("<region>", resource.region)
        rec = Recommendation(
            id=self.rec_id(resource.address, "gateway-endpoint"),
            analyzer=self.name,
            address=resource.address,
            title="Route S3/DynamoDB traffic through a gateway endpoint",
            phase=Phase.ADVANCED,
            changes=(
                AttributeChange(
                    path=f"aws_vpc_endpoint.{name}",
                    before=None,
                    after={"vpc_endpoint_type": "Gateway"},
                    new_block=block,
                ),
            ),
            monthly_cost_before=data_cost,
            monthly_cost_after=data_cost * (1 - dec(share)),
            confidence=confidence_of(win),
            evidence={**evidence, "subnet": vpc.address if vpc else None},
            risks=("Bucket policies that require a source IP must allow the endpoint instead.",),
            assumptions=(f"{share:.0%} of NAT bytes go to S3/DynamoDB (setting).",),
            exclusive_group=f"nat:{resource.address}",
        )
        yield self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: saves ${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )
