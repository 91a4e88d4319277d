"""Project-wide pytest options and fixtures.

`pytest --update-golden` rewrites every golden file instead of comparing against it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files with the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(update_golden: bool) -> Callable[[Path, str], None]:
    """Compare text with a golden file, or rewrite the file under --update-golden."""

    def check(path: Path, actual: str) -> None:
        if update_golden or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not update_golden:
                pytest.fail(f"golden file {path} was missing and has been written; re-run")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path} (run pytest --update-golden)"

    return check


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT
