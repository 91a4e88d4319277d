"""estimate() on hand-built LoadResults: usage precedence, totals and ranges, issues, renderers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from leanstack.catalog import embedded_catalog
from leanstack.estimate import estimate
from leanstack.model import IssueCode, Resource, Severity, SourceSpan
from leanstack.model.money import quantize_money
from leanstack.model.pricing import PricingStatus
from leanstack.report.estimate import render_markdown, render_table, render_table_rich
from leanstack.resources import PriceNotFound, fargate_hourly
from leanstack.terraform import LoadResult
from leanstack.usage.usage_file import load_usage_file


def resource(address: str, attrs: dict[str, object], **kw: object) -> Resource:
    rtype, name = address.split(".")[-2:]
    span = SourceSpan(file="main.tf", start_line=3, end_line=9)
    return Resource(address=address, type=rtype, name=name, attrs=attrs, source=span, **kw)  # type: ignore[arg-type]


def stack(*resources: Resource) -> LoadResult:
    return LoadResult(root=Path("."), resources=resources, issues=())


SERVICE = (
    resource(
        "aws_ecs_task_definition.t",
        {"cpu": 512, "memory": 1024, "requires_compatibilities": ["FARGATE"]},
    ),
    resource(
        "aws_ecs_service.s",
        {
            "name": "s",
            "desired_count": 3,
            "capacity_provider_strategy": [
                {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1},
            ],
        },
        refs={"task_definition": ("aws_ecs_task_definition.t",)},
    ),
    resource(
        "aws_appautoscaling_target.s",
        {
            "service_namespace": "ecs",
            "min_capacity": 1,
            "max_capacity": 4,
            "resource_id": "service/c/s",
        },
    ),
)


def test_usage_overrides_win_over_the_usage_file(tmp_path: Path) -> None:
    path = tmp_path / "u.yml"
    path.write_text("resource_usage:\n  aws_sqs_queue.q:\n    monthly_requests: 3000000\n")
    queue = resource("aws_sqs_queue.q", {})
    from_file = estimate(stack(queue), embedded_catalog(), load_usage_file(path))
    assert from_file.monthly_cost == 2 * Decimal("0.40")
    overridden = estimate(
        stack(queue),
        embedded_catalog(),
        load_usage_file(path),
        usage_overrides={"aws_sqs_queue.q": {"monthly_requests": Decimal(11_000_000)}},
    )
    assert overridden.monthly_cost == 10 * Decimal("0.40")


def test_totals_ranges_counts_and_derived_prices() -> None:
    result = estimate(
        stack(*SERVICE, resource("aws_iam_role.r", {}), resource("aws_kms_key.k", {})),
        embedded_catalog(),
        None,
    )
    service = next(r for r in result.resources if r.type == "aws_ecs_service")
    assert result.monthly_cost == service.monthly_cost
    # The range ends are the resource's own, in cents (each printed figure adds up).
    assert service.monthly_cost_min is not None and service.monthly_cost_max is not None
    assert result.monthly_cost_min == quantize_money(service.monthly_cost_min)
    assert result.monthly_cost_min < result.monthly_cost
    assert result.monthly_cost_max == quantize_money(service.monthly_cost_max)
    assert result.monthly_cost_max > result.monthly_cost
    assert result.count(PricingStatus.PRICED) == 1
    assert result.count(PricingStatus.FREE) == 3  # task definition, autoscaling target, IAM
    assert result.count(PricingStatus.UNSUPPORTED) == 1
    assert any("observed" in note for note in result.derived_prices)
    (unsupported,) = [i for i in result.issues if i.code is IssueCode.UNSUPPORTED_RESOURCE]
    assert unsupported.severity is Severity.INFO and unsupported.where == "main.tf:3"


def test_data_sources_are_not_priced() -> None:
    data = Resource(
        address="data.aws_db_instance.x", type="aws_db_instance", name="x", mode="data", attrs={}
    )
    result = estimate(stack(data), embedded_catalog(), None)
    assert result.resources == ()


def test_unknown_value_becomes_an_issue_with_the_location() -> None:
    from leanstack.model import UNKNOWN

    db = resource("aws_db_instance.db", {"engine": "postgres", "instance_class": UNKNOWN})
    result = estimate(stack(db), embedded_catalog(), None)
    (issue,) = result.issues
    assert issue.code is IssueCode.UNKNOWN_VALUE
    assert issue.where == "main.tf:3" and "instance_class" in issue.message


def test_rich_and_plain_tables_have_the_same_text() -> None:
    result = estimate(stack(*SERVICE), embedded_catalog(), None)
    assert render_table_rich(result).plain == render_table(result)
    markdown = render_markdown(result)
    assert "| `aws_ecs_service.s` |" in markdown and "autoscaling range 1..4 tasks" in markdown


def test_fargate_hourly_raises_for_a_missing_price() -> None:
    with pytest.raises(PriceNotFound):
        fargate_hourly(embedded_catalog(), "eu-north-1", 512, 1024)


def test_free_tier_is_given_out_once_per_stack(tmp_path: Path) -> None:
    path = tmp_path / "u.yml"
    path.write_text(
        "resource_type_default_usage:\n  aws_sqs_queue:\n    monthly_requests: 700000\n"
    )
    queues = [resource(f"aws_sqs_queue.q{i}", {}) for i in range(3)]
    result = estimate(stack(*queues), embedded_catalog(), load_usage_file(path))
    free_lines = [r.components[0].monthly_quantity for r in result.resources]
    # 1M free requests a month for the account: 0.7M + 0.3M + 0.
    assert free_lines == [Decimal("0.7"), Decimal("0.3"), Decimal(0)]
    assert result.monthly_cost == (Decimal("2.1") - 1) * Decimal("0.40")
    assert "already used by earlier resources" in result.resources[1].components[0].note


def test_markdown_lists_unsupported_types_and_escapes_the_usage_marker() -> None:
    queue = resource("aws_sqs_queue.q", {})
    result = estimate(stack(queue, resource("aws_kms_key.k", {})), embedded_catalog(), None)
    lines = render_markdown(result).splitlines()
    (unsupported,) = [line for line in lines if "aws_kms_key" in line and "x1" in line]
    assert unsupported.startswith("- unsupported: aws_kms_key x1")
    marker = next(line for line in lines if "usage-based cost" in line)
    assert marker.startswith("\\* usage-based")  # not a bullet
    assert any(line.startswith("| `aws_sqs_queue.q` \\* | depends on usage |") for line in lines)


@pytest.mark.parametrize("limit", [4_000, None])
def test_markdown_stays_under_the_github_limit_with_a_truncation_note(limit: int | None) -> None:
    queues = [resource(f"aws_sqs_queue.q{i}", {}) for i in range(1_200)]
    result = estimate(stack(*queues), embedded_catalog(), None)
    full = render_markdown(result, max_chars=10**9)
    assert len(full) > 65_536 and "Truncated" not in full
    text = render_markdown(result) if limit is None else render_markdown(result, max_chars=limit)
    assert len(text) <= (limit or 65_000)
    assert "**Truncated:** GitHub limits a comment to 65,536 characters" in text
    lines = text.splitlines()
    notes = [line for line in lines if "not shown (truncated)" in line]
    assert notes  # whatever is cut is counted
    dropped = {
        what: int(line.split("… ")[1].split(" ")[0])
        for line in notes
        for what in ("resources", "components")
        if f"more {what} " in line
    }
    resources = sum(
        1
        for line in lines
        if line.startswith("| `aws_sqs_queue.q") and "\\* |" in line and line.count("|") == 4
    )
    components = sum(
        1 for line in lines if line.startswith("| `aws_sqs_queue.q") and line.count("|") == 7
    )
    assert resources + dropped.get("resources", 0) == 1_200
    assert components + dropped.get("components", 0) == 1_200
    assert text.rstrip().endswith("730 hours a month.")  # the footer is never cut
