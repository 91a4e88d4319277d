"""Helpers for the Terraform loader tests: write small stacks into a temp directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform"

StackWriter = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_stack(tmp_path: Path) -> StackWriter:
    """Write {relative path: HCL text} under a fresh directory and return it."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "stack"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return root

    return write
