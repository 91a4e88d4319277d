"""SQS queues: idle queues, and empty receives that long polling removes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    Window,
    as_number,
    confidence_of,
    dec,
    gate,
    gated,
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
from leanstack.model.pricing import Price
from leanstack.model.resource import Resource, is_known

LONG_POLL_S = 20


class SqsSettings(DataGateSettings):
    """When a queue is idle or wastes receives.

    Idle: nothing sent over the window (Compute Optimizer-style idle rule applied to queues).
    Empty receives: with long polling (`receive_wait_time_seconds = 20`, the maximum) a poller
    waiting on an empty queue makes at most 3 receives a minute; the number of pollers is
    not in CloudWatch, so it is a setting (2, a small service's task count).
    """

    pollers: int = Field(2, ge=1, description="Consumers polling the queue at the same time.")
    min_empty_receive_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of receives that must be empty before long polling is proposed.",
    )


@register
class Sqs(Analyzer[SqsSettings]):
    """Flag idle queues; propose long polling (receive_wait_time_seconds = 20) for empty receives.

    Savings are the receive requests long polling removes, at the catalog's per-request price.
    """

    name = "sqs"
    title = "SQS queues"
    applies_to = frozenset({"aws_sqs_queue"})
    needs = frozenset({"NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfEmptyReceives"})
    settings_model = SqsSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: SqsSettings
    ) -> Iterable[Finding]:
        sent_s = ctx.series(resource.address, "NumberOfMessagesSent")
        sent = window(sent_s, settings.lookback_days) if sent_s else None
        reason = gate(sent, settings, "NumberOfMessagesSent")
        if reason or sent is None:
            yield self.finding(
                resource, FindingStatus.INSUFFICIENT_DATA, f"Not enough recorded traffic: {reason}."
            )
            return
        fifo = bool(resource.get("fifo_queue"))
        price = unit_price(
            ctx.catalog,
            "sqs",
            resource.region,
            unit="1M requests",
            queue_type="fifo" if fifo else "standard",
            tier="1",
        )
        total_sent = float(np.nansum(sent.values))
        priced = ctx.priced.get(resource.address)
        if total_sent == 0:
            before = priced.monthly_cost if priced is not None else None
            evidence = {"NumberOfMessagesSent": sent.evidence(), "messages_sent": 0}
            rec = None
            if before is not None and before > 0:
                rec = Recommendation(
                    id=self.rec_id(resource.address, "idle"),
                    analyzer=self.name,
                    address=resource.address,
                    title="Delete the idle queue (and stop its pollers)",
                    phase=Phase.ADVANCED,
                    changes=(AttributeChange(path=resource.address, before="present", after=None),),
                    monthly_cost_before=before,
                    monthly_cost_after=dec(0),
                    confidence=confidence_of(sent),
                    evidence=evidence,
                    risks=(
                        "A producer that sends less often than the window would lose its queue.",
                    ),
                    exclusive_group=f"queue:{resource.address}",
                )
            yield self.finding(
                resource,
                FindingStatus.OPPORTUNITY if rec else FindingStatus.NO_CHANGE,
                f"Idle: no message sent in {sent.days:.1f} days"
                + (
                    f"; deleting it saves ${before:.2f}/month."
                    if rec and before is not None
                    else "; it costs nothing measurable."
                ),
                evidence,
                rec,
            )
            return
        yield self._long_polling(resource, ctx, settings, sent, price)

    def _long_polling(
        self,
        resource: Resource,
        ctx: AnalysisContext,
        s: SqsSettings,
        sent: Window,
        price: Price | None,
    ) -> Finding:
        if not is_known(resource.get("receive_wait_time_seconds")):
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "receive_wait_time_seconds is not known before apply.",
            )
        wait = as_number(resource.get("receive_wait_time_seconds")) or 0.0
        empty_s = ctx.series(resource.address, "NumberOfEmptyReceives")
        recv_s = ctx.series(resource.address, "NumberOfMessagesReceived")
        evidence: dict[str, object] = {
            "receive_wait_time_seconds": wait,
            "messages_sent_per_month": round(
                float(np.nansum(sent.values)) * float(HOURS_PER_MONTH) / (sent.days * 24), 0
            ),
        }
        empty_w, why = gated(ctx, resource.address, "NumberOfEmptyReceives", s)
        if empty_s is None or empty_w is None:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE if wait >= LONG_POLL_S else FindingStatus.INSUFFICIENT_DATA,
                "Long polling is on."
                if wait >= LONG_POLL_S
                else "No NumberOfEmptyReceives recorded: empty receives cannot be counted."
                if empty_s is None
                else f"Not enough data to count empty receives: {why}.",
                evidence,
            )
        empty = empty_w
        hours = empty.days * 24
        empty_total = float(np.nansum(empty.values))
        received = float(np.nansum(window(recv_s, s.lookback_days).values)) if recv_s else 0.0
        share = empty_total / (empty_total + received) if empty_total + received else 0.0
        monthly_empty = empty_total * float(HOURS_PER_MONTH) / hours if hours else 0.0
        # With 20 s long polling each idle poller makes at most 3 receives a minute.
        floor = s.pollers * 3 * 60 * float(HOURS_PER_MONTH)
        after_empty = min(monthly_empty, floor)
        evidence.update(
            {
                "NumberOfEmptyReceives": empty.evidence(),
                "empty_receives_per_month": round(monthly_empty, 0),
                "empty_share": round(share, 4),
                "empty_receives_after_per_month": round(after_empty, 0),
            }
        )
        if wait >= LONG_POLL_S:
            return self.finding(
                resource, FindingStatus.NO_CHANGE, "Long polling is already at 20 s.", evidence
            )
        if price is None:
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "No catalog SQS price.", evidence
            )
        if share < s.min_empty_receive_share or after_empty >= monthly_empty:
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"{share:.0%} of receives are empty: long polling would save little.",
                evidence,
            )
        before = dec(monthly_empty / 1e6) * price.price
        after = dec(after_empty / 1e6) * price.price
        rec = Recommendation(
            id=self.rec_id(resource.address, "long-polling"),
            analyzer=self.name,
            address=resource.address,
            title="Turn on long polling (receive_wait_time_seconds = 20)",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.receive_wait_time_seconds",
                    before=resource.get("receive_wait_time_seconds"),
                    after=LONG_POLL_S,
                ),
            ),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=confidence_of(empty),
            evidence=evidence,
            risks=(
                "A consumer's receive call waits up to 20 s: check its HTTP timeout is longer.",
            ),
            assumptions=(
                f"{s.pollers} poller(s) (setting); empty receives at ${price.price} per 1M "
                "requests, before the free tier.",
            ),
            exclusive_group=f"queue:{resource.address}",
        )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{share:.0%} of receives are empty ({monthly_empty:,.0f}/month); long polling saves "
            f"${rec.monthly_savings:.2f}/month.",
            evidence,
            rec,
        )
