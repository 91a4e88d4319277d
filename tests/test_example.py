"""The README's main command on the bundled example, end to end through the real CLI.

`leanstack analyze examples/raptorflow` reads the stack and the 14 days of recorded load
shipped with it, and writes the report in every format. The seed analysis got three figures
wrong; the report must carry the right ones, computed here from catalog prices.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from leanstack.catalog import embedded_catalog

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "raptorflow"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    stack = tmp_path_factory.mktemp("example") / "raptorflow"
    shutil.copytree(EXAMPLE, stack, ignore=shutil.ignore_patterns("report"))
    proc = subprocess.run(
        [sys.executable, "-m", "leanstack", "analyze", str(stack)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return stack, proc


def _price(**attrs: str) -> Decimal:
    service = attrs.pop("service")
    price = embedded_catalog().find(service, "us-east-1", **attrs)
    assert price is not None
    return price.price


def test_writes_every_format(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    stack, proc = run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = stack / ".leanstack" / "report"
    for name in ("report.json", "report.md", "report.html", "report.txt"):
        assert (out / name).stat().st_size > 1000, name
    # The terminal gets the summary first.
    assert proc.stdout.lstrip().startswith("╭") and "Current monthly cost" in proc.stdout
    doc = json.loads((out / "report.json").read_text())
    schema_path = (
        Path(__file__).resolve().parent.parent
        / "src/leanstack/report/schema/report.schema.json"
    )
    jsonschema.validate(doc, json.loads(schema_path.read_text()))


def test_seed_errors_are_corrected(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    stack, _ = run
    doc = json.loads((stack / ".leanstack" / "report" / "report.json").read_text())
    markdown = (stack / ".leanstack" / "report" / "report.md").read_text()

    # A 0.5 vCPU / 1 GB Fargate task, priced from the catalog: $18.02 a month, not $29.15.
    vcpu = _price(service="fargate", arch="x86_64", usage_type="Fargate-vCPU-Hours:perCPU")
    gb = _price(service="fargate", arch="x86_64", usage_type="Fargate-GB-Hours")
    per_task = ((Decimal("0.5") * vcpu + 1 * gb) * 730).quantize(Decimal("0.01"))
    assert per_task == Decimal("18.02")
    service = next(r for r in doc["cost"]["resources"] if r["address"] == "aws_ecs_service.api")
    assert f"${per_task}" in service["reason"]
    assert f"${per_task}" in markdown.replace("\\$", "$")

    # db.t3.micro -> db.t4g.micro saves $1.46 a month, not ~$5.
    t3 = _price(service="rds", engine="postgresql", instance_type="db.t3.micro",
                deployment="single-az")
    t4g = _price(service="rds", engine="postgresql", instance_type="db.t4g.micro",
                 deployment="single-az")
    saving = ((t3 - t4g) * 730).quantize(Decimal("0.01"))
    rec = next(
        r
        for r in doc["recommendations"]
        if r["address"] == "module.rds.aws_db_instance.main" and r["analyzer"] == "graviton"
    )
    assert Decimal(rec["monthly_savings"]) == saving == Decimal("1.46")

    # Lowering the target-tracking target adds tasks: the replay shows it costs more.
    finding = next(
        f
        for f in doc["findings"]
        if f["analyzer"] == "autoscaling" and f["address"] == "aws_ecs_service.api"
    )
    rows = {r["label"]: r for r in finding["evidence"]["replay"]}
    lower, current = rows["target 60%"], rows["current"]
    assert Decimal(lower["monthly_cost"]) > Decimal(current["monthly_cost"])
    assert Decimal(lower["task_hours"]) > Decimal(current["task_hours"])
    assert "breach_minutes" in lower and "optimizer" in rows


def test_totals_check(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    stack, _ = run
    doc = json.loads((stack / ".leanstack" / "report" / "report.json").read_text())
    totals = doc["totals"]
    assert Decimal(totals["annual_savings"]) == 12 * Decimal(totals["monthly_savings"])
    costs = sum(Decimal(r["monthly_cost"]) for r in doc["cost"]["resources"])
    assert costs == Decimal(totals["monthly_cost"])
    # Overlapping recommendations (one exclusive group) are counted once.
    best: dict[str, Decimal] = {}
    for rec in doc["recommendations"]:
        group = rec["exclusive_group"] or rec["id"]
        best[group] = max(best.get(group, Decimal(0)), Decimal(rec["monthly_savings"]))
    assert Decimal(totals["monthly_savings"]) == sum(best.values())
    assert Decimal(totals["monthly_savings"]) < sum(
        Decimal(r["monthly_savings"]) for r in doc["recommendations"]
    )


def test_estimate_prices_usage_from_recorded_load(tmp_path: Path) -> None:
    import numpy as np

    from leanstack.usage.store import MetricStore

    stack = tmp_path / "raptorflow"
    shutil.copytree(EXAMPLE, stack, ignore=shutil.ignore_patterns("report"))
    proc = subprocess.run(
        [sys.executable, "-m", "leanstack", "estimate", str(stack), "--metrics", "--format",
         "json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage from metrics: aws_sqs_queue.jobs monthly_requests" in proc.stderr
    assert "14.0 days" in proc.stderr
    doc = json.loads(proc.stdout)
    sqs = next(r for r in doc["resources"] if r["address"] == "aws_sqs_queue.jobs")
    billed = sum(Decimal(c["monthly_quantity"]) for c in sqs["components"])

    # Independently: SQS API calls = sends + receives + deletes (one per received message)
    # + empty receives, over the recorded window, scaled to a 730-hour month.
    with MetricStore(stack / ".leanstack" / "metrics.duckdb", read_only=True) as store:
        total = 0.0
        hours = 0.0
        for metric, weight in (("NumberOfMessagesSent", 1), ("NumberOfMessagesReceived", 2),
                               ("NumberOfEmptyReceives", 1)):
            series = store.series("aws_sqs_queue.jobs", metric, "Sum")
            assert series is not None
            total += weight * float(np.nansum(series.values))
            hours = len(series.values) * series.period_s / 3600
    expected = Decimal(str(total / hours * 730 / 1e6))
    assert abs(billed - expected) < Decimal("0.001")


def test_patch_follows_var_files_recorded_in_the_report(tmp_path: Path) -> None:
    stack = tmp_path / "raptorflow"
    shutil.copytree(EXAMPLE, stack, ignore=shutil.ignore_patterns("report"))
    (stack / "prod.tfvars").write_text('db_instance_class = "db.t3.micro"\n')
    report = tmp_path / "report.json"
    analyzed = subprocess.run(
        [sys.executable, "-m", "leanstack", "analyze", str(stack), "--var-file",
         str(stack / "prod.tfvars"), "--no-write-reports", "--out", str(report)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(report.read_text())["stack"]["var_files"] == ["prod.tfvars"]
    patched = subprocess.run(
        [sys.executable, "-m", "leanstack", "patch", str(report)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert patched.returncode == 0, patched.stderr
    # The class is set in prod.tfvars for this run, so that is where the change goes.
    assert '--- a/prod.tfvars' in patched.stdout
    assert '+db_instance_class = "db.t4g.micro"' in patched.stdout
    assert 'default = "db.t4g.micro"' not in patched.stdout
