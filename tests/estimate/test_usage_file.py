"""The usage file: infracost keys, wildcards, defaults, and one clear line per mistake."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

from leanstack.model import IssueCode
from leanstack.usage.usage_file import find_usage_file, load_usage_file


def write(tmp_path: Path, text: str, name: str = "usage.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_defaults_wildcards_and_exact_entries_merge_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        version: 0.1
        resource_type_default_usage:
          aws_lambda_function:
            monthly_requests: 1_000_000
            request_duration_ms: 100
        resource_usage:
          aws_lambda_function.workers[*]:
            request_duration_ms: 250
          aws_lambda_function.workers["big"]:
            request_duration_ms: 900
          module.api.aws_sqs_queue.jobs:
            monthly_requests: 2.5e6
        """,
    )
    usage = load_usage_file(path)
    assert usage.issues == ()
    assert usage.for_resource('aws_lambda_function.workers["big"]', "aws_lambda_function") == {
        "monthly_requests": Decimal(1_000_000),
        "request_duration_ms": Decimal(900),
    }
    assert usage.for_resource('aws_lambda_function.workers["small"]', "aws_lambda_function") == {
        "monthly_requests": Decimal(1_000_000),
        "request_duration_ms": Decimal(250),
    }
    assert usage.for_resource("aws_lambda_function.other", "aws_lambda_function") == {
        "monthly_requests": Decimal(1_000_000),
        "request_duration_ms": Decimal(100),
    }
    jobs = usage.for_resource("module.api.aws_sqs_queue.jobs", "aws_sqs_queue")
    assert jobs == {"monthly_requests": Decimal("2.5e6")}
    assert usage.for_resource("aws_sqs_queue.jobs", "aws_sqs_queue") == {}


def test_typo_names_file_line_and_closest_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        version: 0.1
        resource_usage:
          aws_sqs_queue.jobs:
            monthly_request: 5000
            request_size_kb: 4
        """,
    )
    usage = load_usage_file(path)
    (issue,) = usage.issues
    assert issue.code is IssueCode.USAGE_ERROR
    assert issue.where == f"{path}:4"
    assert "monthly_request" in issue.message and "did you mean 'monthly_requests'" in issue.message
    # The valid key beside the typo is still used.
    assert usage.for_resource("aws_sqs_queue.jobs", "aws_sqs_queue") == {
        "request_size_kb": Decimal(4)
    }


def test_bad_values_types_and_sections_are_issues(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        version: 0.2
        resource_usage:
          aws_sqs_queue.jobs:
            monthly_requests: lots
          aws_iam_role.task:
            monthly_requests: 1
          aws_lamda_function.f:
            monthly_requests: 1
        resource_usgae: {}
        """,
    )
    lines = [(i.where.rsplit(":", 1)[1], i.message) for i in load_usage_file(path).issues]
    assert lines[0][0] == "1" and "version" in lines[0][1]
    assert lines[1][0] == "4" and "'lots' is not a number" in lines[1][1]
    assert lines[2][0] == "5" and "aws_iam_role" in lines[2][1]
    assert lines[3][0] == "7" and "did you mean 'aws_lambda_function'" in lines[3][1]
    assert lines[4][0] == "9" and "did you mean 'resource_usage'" in lines[4][1]


def test_invalid_yaml_is_one_line_with_position(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 0.1\nresource_usage:\n  aws_sqs_queue.q: [\n")
    (issue,) = load_usage_file(path).issues
    assert issue.where.startswith(f"{path}:") and "invalid YAML" in issue.message


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    (issue,) = load_usage_file(tmp_path / "nope.yml").issues
    assert "cannot read usage file" in issue.message


def test_nested_keys_are_flattened_for_cloudfront(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        resource_usage:
          aws_cloudfront_distribution.cdn:
            monthly_data_transfer_to_internet_gb:
              us: 100
              mars: 1
        """,
    )
    usage = load_usage_file(path)
    assert usage.for_resource("aws_cloudfront_distribution.cdn", "aws_cloudfront_distribution") == {
        "monthly_data_transfer_to_internet_gb.us": Decimal(100)
    }
    (issue,) = usage.issues
    assert "monthly_data_transfer_to_internet_gb.mars" in issue.message
    assert issue.where == f"{path}:5"


def test_unmatched_addresses_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "resource_usage:\n  aws_sqs_queue.jbos:\n    monthly_requests: 1\n")
    (issue,) = load_usage_file(path).unmatched(["aws_sqs_queue.jobs", "aws_lb.api"])
    assert issue.where == f"{path}:2" and "did you mean aws_sqs_queue.jobs" in issue.message


def test_usage_file_beside_the_stack_is_found(tmp_path: Path) -> None:
    assert find_usage_file(tmp_path) is None
    path = write(tmp_path, "version: 0.1\n", name="leanstack-usage.yml")
    assert find_usage_file(tmp_path) == path
    assert find_usage_file(tmp_path / "plan.json") == path
