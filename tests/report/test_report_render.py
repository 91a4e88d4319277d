"""Renderers: golden files from the canonical report, the Markdown size cap, self-containment."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from report_canonical import FIXTURE, STACK, priced

from leanstack.model.findings import AttributeChange, Confidence, Phase, Recommendation
from leanstack.model.pricing import PricedResource
from leanstack.report import build_report, load_report
from leanstack.report.model import Report
from leanstack.report.render import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {"table": "txt", "markdown": "md", "html": "html", "json": "json"}


@pytest.fixture(scope="module")
def report() -> Report:
    return load_report(FIXTURE)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_golden(report: Report, fmt: str, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / f"canonical.{SUFFIX[fmt]}", render(report, fmt))


def test_json_renderer_is_the_report_itself(report: Report) -> None:
    # The fixture is the JSON golden file.
    assert render(report, "json") == FIXTURE.read_text(encoding="utf-8")


def test_unknown_format_is_one_line(report: Report) -> None:
    with pytest.raises(ValueError, match=r"unknown format 'pdf' \(choose from table, markdown"):
        render(report, "pdf")


def test_table_is_summary_first_and_fits_100_columns(report: Report) -> None:
    text = render(report, "table")
    assert max(len(line) for line in text.splitlines()) <= 100
    head = text[: text.index("Cost by service")]
    t = report.totals
    for figure in (t.monthly_cost, t.monthly_savings, t.annual_savings, t.monthly_cost_after):
        assert f"${figure:,.2f}" in head
    assert f"${t.monthly_savings_low:,.2f}–${t.monthly_savings_high:,.2f}" in head
    best = max(report.recommendations, key=lambda r: (r.counted, r.monthly_savings))
    assert best.title in head


def test_markdown_summary_first_details_folded(report: Report) -> None:
    text = render(report, "markdown")
    first_details = text.index("<details>")
    t = report.totals
    # Dollars are escaped, or GitHub reads "$15.70–$22.55" as inline math.
    assert f"\\${t.monthly_savings:,.2f}" in text[:first_details]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    assert re.search(r"(?<!\\)\$", prose) is None
    assert text.count("<details>") == text.count("</details>") >= 5
    assert "Truncated" not in text
    for rec in report.recommendations:
        assert rec.title in text


def _huge_report(resources: int, recommendations: int) -> Report:
    template = priced()[0]
    items: list[PricedResource] = [
        replace(template, address=f"aws_ecs_service.svc_{i:05d}") for i in range(resources)
    ]
    recs = [
        Recommendation(
            id=f"rightsizing:svc_{i:05d}", analyzer="rightsizing",
            address=f"aws_ecs_service.svc_{i:05d}", title=f"Right-size svc_{i:05d} to 0.25 vCPU",
            phase=Phase.QUICK_WIN,
            changes=(AttributeChange(path=f"aws_ecs_task_definition.svc_{i:05d}.cpu",
                                     before="512", after="256"),),
            monthly_cost_before=Decimal("36.04"), monthly_cost_after=Decimal("18.02"),
            confidence=Confidence.MEDIUM, evidence={"cpu_p95_pct": 21.2},
            risks=("latency may rise at peak " * 5,), exclusive_group=f"svc_{i:05d}",
        )
        for i in range(recommendations)
    ]
    return build_report(priced=items, recommendations=recs, catalog_date="2026-11-26",
                        catalog_source="test", stack=STACK, tool_version="t",
                        generated_at=datetime(2026, 11, 26, tzinfo=UTC))


def test_markdown_stays_under_github_limit_with_a_truncation_note() -> None:
    huge = _huge_report(resources=2500, recommendations=600)
    text = render(huge, "markdown")
    assert len(text) <= 65_536
    assert "**Truncated:**" in text
    assert text.index("**Truncated:**") < text.index("<details>")  # seen before the details
    match = re.search(r"omits (.+?)\. The full report", text)
    assert match is not None and "recommendations" in match.group(1)
    # What was dropped is counted: shown + omitted recommendations = all of them.
    shown = text.count("#### Right-size svc_")
    omitted = int(re.search(r"(\d+) recommendations", match.group(1)).group(1))  # type: ignore[union-attr]
    assert shown + omitted == 600
    assert text.count("<details>") == text.count("</details>")
    assert f"\\${huge.totals.monthly_savings:,.2f}" in text[: text.index("<details>")]


def test_markdown_cap_is_configurable_and_exact() -> None:
    from leanstack.report.render import render_markdown

    huge = _huge_report(resources=50, recommendations=40)
    text = render_markdown(huge, max_chars=12_000)
    assert len(text) <= 12_000 and "**Truncated:**" in text


def test_html_is_self_contained(report: Report) -> None:
    html = render(report, "html")
    # No external fetch of any kind: scripts, styles, images, fonts, imports.
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(" not in html
    external = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert external <= {"http://www.w3.org/2000/svg"}
    breakevens = sum(1 for f in report.findings
                     if f.analyzer == "serverless" and "curve" in f.evidence)
    assert breakevens == 1
    assert html.count('<svg class="chart"') == 4 + breakevens + len(
        {(r.address, m.metric) for r in report.load.resources for m in r.metrics})
    assert report.catalog.date in html and report.catalog.source in html


def test_html_escapes_text_from_the_report(report: Report) -> None:
    data = report.to_json()
    data["recommendations"][0]["title"] = "<script>alert(1)</script>"
    data["cost"]["resources"][0]["address"] = 'aws_x.y"><b>'
    html = render(Report.from_json(data), "html")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'aws_x.y"><b>' not in html


def test_html_charts_one_statistic_per_metric() -> None:
    import numpy as np

    from leanstack.usage.series import MetricSeries

    start = datetime(2026, 11, 1, tzinfo=UTC)
    series = [
        MetricSeries(resource="aws_lb.main", metric="TargetResponseTime", statistic=stat,
                     period_s=60, start=start, values=np.full(600, value))
        for stat, value in (("p99", 0.9), ("Average", 0.1), ("p50", 0.08))
    ]
    built = build_report(priced=priced(), metrics={"aws_lb.main": series},
                         catalog_date="2026-11-26", catalog_source="test", stack=STACK,
                         tool_version="t", generated_at=start)
    html = render(built, "html")
    assert html.count('<svg class="chart"') == 4 + 1
    assert "(Average per 60 s)" in html and "(p99 per 60 s)" not in html
    assert render(built, "markdown").count("| TargetResponseTime (") == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_stack_renders(fmt: str) -> None:
    empty = build_report(priced=[], catalog_date="2026-11-26", catalog_source="test",
                         stack=STACK, tool_version="t",
                         generated_at=datetime(2026, 11, 26, tzinfo=UTC))
    text = render(empty, fmt)
    assert "0.00" in text
    if fmt == "html":
        assert "No recommendation" in text


def test_table_sums_up_what_a_terminal_should_not_list() -> None:
    from leanstack.report._table import MAX_RECOMMENDATIONS, MAX_RESOURCES

    huge = _huge_report(resources=MAX_RESOURCES + 25, recommendations=MAX_RECOMMENDATIONS + 7)
    text = render(huge, "table")
    assert "… 25 more resources" in text
    assert "… 7 more recommendations" in text
    rest = huge.cost.resources[MAX_RESOURCES:]
    assert f"${sum(r.monthly_cost for r in rest):,.2f}" in text


def test_table_lists_every_unpriced_resource_even_past_the_cut() -> None:
    from leanstack.report._table import MAX_RESOURCES

    huge = _huge_report(resources=MAX_RESOURCES + 5, recommendations=1)
    last = huge.cost.resources[-1]
    lost = last.model_copy(update={"status": "unknown", "reason": "no catalog price in mars-1",
                                   "monthly_cost": Decimal(0)})
    huge = huge.model_copy(update={"cost": huge.cost.model_copy(
        update={"resources": [*huge.cost.resources[:-1], lost]})})
    text = render(huge, "table")
    assert lost.address in text and "no catalog price in mars-1" in text
    assert "… 4 more resources" in text


def test_replays_show_every_policy_and_the_break_even_in_every_format(report: Report) -> None:
    replay = next(f for f in report.findings if f.analyzer == "autoscaling")
    curve = next(f for f in report.findings if f.analyzer == "serverless")
    for fmt in ("table", "markdown", "html"):
        text = render(report, fmt)
        for row in replay.evidence["replay"]:
            assert row["label"] in text
            assert f"{Decimal(row['task_hours']):,.1f}" in text
            assert f"{row['breach_minutes']} ({row['breach_share']:.2%})" in text
        for point in curve.evidence["curve"]["points"]:
            assert f"{point['monthly_requests']:,}" in text
    html = render(report, "html")
    assert "break-even 1.84M" in html and "today 3.15M" in html
    # The today marker sits on the curve's x axis between its first and last volume.
    assert html.count('class="marker"') == 2


def test_replay_evidence_from_an_older_report_is_skipped_not_guessed(report: Report) -> None:
    from leanstack.report._simulations import break_evens, replays

    broken = report.model_copy(update={"findings": [
        f.model_copy(update={"evidence": {"replay": [{"label": "current"}], "curve": {}}})
        for f in report.findings]})
    assert replays(broken) == [] and break_evens(broken) == []
    assert "Replays of the recorded load" not in render(broken, "html")
