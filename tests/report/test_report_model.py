"""The report JSON: the canonical fixture, its published schema, versions and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_canonical import FIXTURE, canonical_json_text

from leanstack.report.model import (
    SCHEMA_VERSION,
    Report,
    ReportError,
    ReportVersionError,
    load_report,
    report_json_schema,
)

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2] / "src/leanstack/report/schema/report.schema.json"
)


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_canonical_fixture_is_what_build_report_makes(golden: Callable[[Path, str], None]) -> None:
    golden(FIXTURE, canonical_json_text())


def test_published_schema_is_generated_from_the_models(
    golden: Callable[[Path, str], None],
) -> None:
    golden(SCHEMA_FILE, json.dumps(report_json_schema(), indent=2, sort_keys=True) + "\n")


def test_canonical_report_validates_against_the_published_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(_fixture())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("totals", "monthly_cost"), 85.2),  # money must be a decimal string, not a float
        (("totals", "monthly_cost"), "85.2"),  # with cents
        (("schema_version",), "2.0"),
        (("recommendations", 0, "phase"), "someday"),
    ],
)
def test_schema_rejects_malformed_reports(path: tuple[str | int, ...], value: object) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = _fixture()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(data)


def test_round_trip_keeps_every_field() -> None:
    data = _fixture()
    assert Report.from_json(data).to_json() == data


def test_money_is_decimal_strings_and_annual_is_twelve_months() -> None:
    totals = _fixture()["totals"]
    assert totals["annual_savings"] == f"{float(totals['monthly_savings']) * 12:.2f}"
    assert all(isinstance(v, str) for k, v in totals.items() if k != "method")


def test_other_schema_version_is_one_clear_line(tmp_path: Path) -> None:
    data = _fixture()
    data["schema_version"] = "2.0"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReportVersionError) as info:
        load_report(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and "'2.0'" in message and SCHEMA_VERSION in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"kind": "leanstack.report",\n "schema_version": "1.0",,}', ":2: not valid JSON"),
        ("[1, 2]", "not a leanstack report"),
        ('{"kind": "infracost"}', "not a leanstack report"),
        ('{"kind": "leanstack.report", "schema_version": "1.0"}', "invalid report at"),
    ],
)
def test_bad_report_files_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as info:
        load_report(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot read"):
        load_report(tmp_path / "absent.json")


def test_reading_the_fixture_gives_the_built_report() -> None:
    from report_canonical import canonical_report

    assert load_report(FIXTURE) == canonical_report()
