"""Golden tables per resource type: testdata/<type>/{main.tf, usage.yml?, expected.txt}.

Each case is loaded with the real Terraform loader, priced against the embedded catalog and
rendered with the table renderer. `pytest --update-golden` rewrites expected.txt.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from leanstack.catalog import embedded_catalog
from leanstack.estimate import estimate
from leanstack.report.estimate import render_table
from leanstack.terraform import load_stack
from leanstack.usage.usage_file import load_usage_file

TESTDATA = Path(__file__).parent / "testdata"
CASES = sorted(p.name for p in TESTDATA.iterdir() if (p / "main.tf").is_file())


@pytest.mark.parametrize("case", CASES)
def test_golden_table(
    case: str, golden: Callable[[Path, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = TESTDATA / case
    # Relative paths keep file names in the rendered table independent of the checkout.
    monkeypatch.chdir(folder)
    loaded = load_stack(Path("."))
    usage = load_usage_file(Path("usage.yml")) if Path("usage.yml").is_file() else None
    if usage is not None:
        assert usage.issues == ()
    result = estimate(loaded, embedded_catalog(), usage)
    golden(folder / "expected.txt", render_table(result))


def test_every_cost_model_has_a_golden_case() -> None:
    from leanstack.resources import supported_types

    covered = set(CASES) | {"aws_alb"}  # aws_alb shares aws_lb's case
    assert supported_types() <= covered
