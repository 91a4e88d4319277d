"""Usage-file inputs that used to crash or pass silently: each is one line naming file and line."""

from __future__ import annotations

from pathlib import Path

from leanstack.usage.usage_file import load_usage_file


def _lines(path: Path, text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return [issue.line() for issue in load_usage_file(path).issues]


def test_huge_nan_and_negative_quantities(tmp_path: Path) -> None:
    # 1e400 was accepted and crashed the estimate in Decimal.quantize (a traceback).
    f = tmp_path / "u.yml"
    lines = _lines(
        f,
        "version: 0.1\nresource_usage:\n  aws_lb.api:\n    new_connections: 1e400\n"
        "    processed_bytes_gb: .nan\n  aws_sqs_queue.q:\n    monthly_requests: -12\n",
    )
    assert lines == [
        f"{f}:4: aws_lb.api.new_connections: 1e400 is too large (at most 1e+15)",
        f"{f}:5: aws_lb.api.processed_bytes_gb: '.nan' is not a number",
        f"{f}:7: aws_sqs_queue.q.monthly_requests: -12 is negative (it must be 0 or more)",
    ]


def test_binary_file_is_one_line(tmp_path: Path) -> None:
    # A UnicodeDecodeError traceback before.
    f = tmp_path / "u.yml"
    assert _lines(f, b"\xff\xfe\x00bin") == [f"{f}: not a UTF-8 text file (a usage file is YAML)"]


def test_repeated_address_is_reported_not_silently_overwritten(tmp_path: Path) -> None:
    f = tmp_path / "u.yml"
    lines = _lines(
        f,
        "version: 0.1\nresource_usage:\n  aws_lb.api:\n    new_connections: 1\n"
        "  aws_lb.api:\n    new_connections: 2\n",
    )
    assert lines == [f"{f}:5: resource_usage: 'aws_lb.api' is repeated (first on line 3)"]
    usage = load_usage_file(f)
    assert str(usage.for_resource("aws_lb.api", "aws_lb")["new_connections"]) == "1"
