"""report_from_pipeline over the real loader, estimate and analyzers on a tiny stack."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from leanstack.analysis import run_analysis
from leanstack.catalog import embedded_catalog
from leanstack.estimate import estimate
from leanstack.model.money import quantize_money
from leanstack.report import report_from_pipeline
from leanstack.report.render import render
from leanstack.terraform import load_stack

STACK = Path(__file__).parent / "fixtures" / "tiny_stack"


def test_report_from_the_pipeline() -> None:
    catalog = embedded_catalog()
    loaded = load_stack(STACK)
    priced = estimate(loaded, catalog, None)
    analysis = run_analysis(priced, loaded.resources, {}, catalog)
    report = report_from_pipeline(loaded=loaded, estimate=priced, analysis=analysis,
                                  stack_path="tiny_stack")
    digest = hashlib.sha256((STACK / "main.tf").read_bytes()).hexdigest()
    assert report.stack.files == {"main.tf": digest}
    assert report.stack.path == "tiny_stack" and report.stack.input_kind == "hcl"
    assert report.catalog.date == catalog.date
    assert report.cost.total == quantize_money(priced.monthly_cost)
    db = next(r for r in report.cost.resources if r.address == "aws_db_instance.main")
    assert db.monthly_cost == quantize_money(Decimal("0.018") * 730 + Decimal("0.115") * 20)
    assert report.totals.monthly_savings == quantize_money(analysis.totals.monthly_savings)
    assert {f.address for f in report.findings} >= {"aws_db_instance.main", "aws_sqs_queue.jobs"}
    keys = [(i.code, i.where, i.message) for i in report.issues]
    assert len(keys) == len(set(keys))
    for fmt in ("table", "markdown", "html", "json"):
        assert render(report, fmt)
