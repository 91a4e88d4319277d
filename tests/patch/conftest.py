"""Fixtures for the patch tests. Golden files use the project-wide `golden` fixture
(`pytest --update-golden` rewrites them)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

STACKS = Path(__file__).resolve().parent / "fixtures" / "stacks"


@pytest.fixture
def copy_stack(tmp_path: Path) -> Callable[[str | Path], Path]:
    """Copy a fixture stack (by name, or any directory) into a temp dir and return it."""

    def copy(name: str | Path) -> Path:
        source = Path(name) if isinstance(name, Path) else STACKS / name
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    return copy
