"""Fixtures for the metric store tests: a fresh store file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leanstack.usage.store import MetricStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetricStore]:
    with MetricStore(tmp_path / "metrics.duckdb") as st:
        yield st
