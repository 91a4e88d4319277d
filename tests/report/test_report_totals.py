"""Totals never hide a missing price and always add up to the cent, in every format."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from report_canonical import STACK, priced

from leanstack.model.findings import Confidence, Phase, Recommendation
from leanstack.model.money import HOURS_PER_MONTH
from leanstack.model.pricing import PriceComponent, PricedResource, PricingStatus
from leanstack.report import build_report
from leanstack.report.model import Report
from leanstack.report.render import render

WHEN = datetime(2026, 11, 26, tzinfo=UTC)


def _flat(text: str) -> str:
    """One line of words: no panel borders, no wrapping."""
    return " ".join(text.replace("│", " ").split())


def _build(resources: list[PricedResource]) -> Report:
    return build_report(priced=resources, catalog_date="2026-11-26", catalog_source="test",
                        stack=STACK, tool_version="t", generated_at=WHEN)


def _line(name: str, quantity: str | None, price: str | None, *, usage: bool = False,
          error: str | None = None) -> PriceComponent:
    return PriceComponent(name=name, unit="hours",
                          monthly_quantity=None if quantity is None else Decimal(quantity),
                          unit_price=None if price is None else Decimal(price),
                          usage_based=usage, price_error=error)


# An RDS instance whose class has no catalog price: storage priced, the instance hours not.
UNPRICED_DB = PricedResource(
    address="aws_db_instance.old", type="aws_db_instance", region="us-east-1",
    status=PricingStatus.UNKNOWN, reason="no price for db.t2.micro in us-east-1",
    components=(
        _line("Database instance", "730", None, error="no price for db.t2.micro in us-east-1"),
        _line("Storage (gp2)", "20", "0.115"),
    ),
)
UNSUPPORTED = PricedResource(address="aws_s3_bucket.b", type="aws_s3_bucket",
                             region="us-east-1", status=PricingStatus.UNSUPPORTED,
                             reason="S3 is not priced")


def test_an_unknown_resource_shows_its_lines_but_adds_nothing() -> None:
    base = _build(priced())
    report = _build([*priced(), UNPRICED_DB])
    # The $2.30 of storage is shown but not added: the total is the priced resources' alone.
    assert report.cost.total == base.cost.total
    assert sum(s.monthly_cost for s in report.cost.by_service) == report.cost.total
    row = next(r for r in report.cost.resources if r.address == UNPRICED_DB.address)
    assert row.status == "unknown" and row.monthly_cost == 0
    table = render(report, "table")
    db_rows = table[table.index("aws_db_instance.old"):].splitlines()[:4]
    assert db_rows[0].rstrip().endswith("unknown")
    instance = next(line for line in db_rows if "Database instance" in line)
    assert instance.rstrip().endswith("unknown") and "depends on usage" not in instance
    markdown = render(report, "markdown")
    assert "| **unknown** |" in markdown
    old_row = next(line for line in markdown.splitlines() if "aws_db_instance.old" in line)
    assert "0.00" not in old_row
    html = render(report, "html")
    assert ">unknown<" in html


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_the_headline_says_what_the_total_leaves_out(fmt: str) -> None:
    report = _build([*priced(), UNPRICED_DB, UNSUPPORTED])
    text = _flat(render(report, fmt))
    paid = sum(1 for r in priced() if r.status is PricingStatus.PRICED)
    free = sum(1 for r in priced() if r.status is PricingStatus.FREE)
    assert f"for {paid} priced and {free} free resource(s)" in text
    assert "excludes 1 unknown and 1 unsupported resource(s)" in text
    # Everything priced: no caveat.
    clean = _flat(render(_build(priced()), fmt))
    assert "excludes" not in clean


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_nothing_priced_is_not_a_zero_dollar_stack(fmt: str) -> None:
    report = _build([UNPRICED_DB, UNSUPPORTED])
    text = _flat(render(report, fmt))
    assert "no resource could be priced" in text
    assert "$0.00" not in text.split("xpected savings")[0].replace("\\$", "$")
    assert "not known" in text


def test_every_total_is_the_sum_of_its_printed_lines() -> None:
    # 0.0225 x 730 = 16.425 and 0.008 x 28.125 = 0.225: each line rounds up (16.43 + 0.23),
    # so rounding the exact sum (16.65) would print a total one cent off its lines (16.66).
    alb = PricedResource(
        address="aws_lb.api", type="aws_lb", region="us-east-1", status=PricingStatus.PRICED,
        components=(_line("Load balancer", str(HOURS_PER_MONTH), "0.0225"),
                    _line("LCUs", "28.125", "0.008", usage=True)),
    )
    report = _build([*priced(), alb])
    row = next(r for r in report.cost.resources if r.address == "aws_lb.api")
    lines = [c.monthly_cost for c in row.components]
    assert lines == [Decimal("16.43"), Decimal("0.23")]
    assert row.monthly_cost == Decimal("16.66")
    for resource in report.cost.resources:
        known = [c.monthly_cost for c in resource.components if c.monthly_cost is not None]
        if resource.status == "priced":
            assert resource.monthly_cost == sum(known, Decimal(0))
    assert report.cost.total == sum(r.monthly_cost for r in report.cost.resources)
    assert report.cost.total == sum(s.monthly_cost for s in report.cost.by_service)
    assert report.totals.monthly_cost == report.cost.total


def _recommendation(rec_id: str, savings: str, group: str) -> Recommendation:
    return Recommendation(
        id=rec_id, analyzer="test", address="aws_ecs_service.app", title=f"Do {rec_id}",
        phase=Phase.QUICK_WIN, changes=(), monthly_cost_before=Decimal(50),
        monthly_cost_after=Decimal(50) - Decimal(savings), confidence=Confidence.HIGH,
        exclusive_group=group,
    )


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_lone_or_zero_saving_recommendation_is_never_an_alternative(fmt: str) -> None:
    recs = [
        _recommendation("budget", "0", "alarm:aws_budgets_budget.monthly"),  # alone, saves $0
        _recommendation("gp3", "0", "db-storage:aws_db_instance.main"),  # alone, saves $0
        _recommendation("big", "9", "compute"),
        _recommendation("small", "4", "compute"),  # a real alternative to "big"
    ]
    report = build_report(priced=priced(), recommendations=recs, catalog_date="2026-11-26",
                          catalog_source="test", stack=STACK, tool_version="t",
                          generated_at=WHEN)
    text = _flat(render(report, fmt))
    assert text.count("alternative, not added") == (0 if fmt == "html" else 1)
    if fmt == "html":
        assert text.count('<span class="badge">alternative</span>') == 1
        assert text.count('<span class="badge">no saving</span>') == 2
    else:
        assert text.count("no saving to count") == 2
        assert "group alarm:aws_budgets_budget.monthly (alternative" not in text


def test_the_load_table_never_cuts_names() -> None:
    import numpy as np

    from leanstack.usage.series import MetricSeries

    values = np.arange(60 * 24, dtype=float)
    series = {
        "module.rds.aws_db_instance.main": [
            MetricSeries(resource="module.rds.aws_db_instance.main", metric="CPUUtilization",
                         statistic="Average", period_s=60, start=WHEN, values=values)],
        "aws_sqs_queue.jobs": [
            MetricSeries(resource="aws_sqs_queue.jobs", metric=metric, statistic="Average",
                         period_s=60, start=WHEN, values=values)
            for metric in ("ApproximateNumberOfMessagesVisible",
                           "ApproximateNumberOfMessagesNotVisible")],
    }
    report = build_report(priced=priced(), metrics=series, catalog_date="2026-11-26",
                          catalog_source="test", stack=STACK, tool_version="t",
                          generated_at=WHEN)
    table = render(report, "table")
    load = table[table.index("Recorded load"):table.index("Monitoring")]
    assert "…" not in load
    for name in ("module.rds.aws_db_instance.main", "ApproximateNumberOfMessagesVisible",
                 "ApproximateNumberOfMessagesNotVisible"):
        assert name in load


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_stack_whose_every_cost_waits_for_usage_is_not_a_free_stack(fmt: str) -> None:
    queue = PricedResource(
        address="aws_sqs_queue.q", type="aws_sqs_queue", region="us-east-1",
        status=PricingStatus.PRICED,
        components=(_line("Requests", None, "0.40", usage=True),),
    )
    text = _flat(render(_build([queue]), fmt))
    assert "depends on usage" in text.split("xpected savings")[0]
    assert "$0.00/month today" not in text.replace("\\$", "$")
