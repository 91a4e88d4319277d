"""Metric series on a regular time grid, gaps explicit (NaN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MetricSeries:
    """One metric of one resource: `values[i]` is the point at `start + i * period_s`.

    Missing points are NaN, so `coverage` is the share of grid points that are present.
    Metric names follow CloudWatch (`CPUUtilization`, `MemoryUtilization`, `RequestCount`...);
    `resource` is the Terraform address.
    """

    resource: str
    metric: str
    statistic: str
    period_s: int
    start: datetime
    values: npt.NDArray[np.float64]
    unit: str = ""

    @property
    def end(self) -> datetime:
        """Timestamp of the last grid point."""
        return self.start + timedelta(seconds=self.period_s * max(len(self.values) - 1, 0))

    @property
    def points(self) -> int:
        """Number of present (non-NaN) points."""
        return int(np.count_nonzero(~np.isnan(self.values)))

    @property
    def coverage(self) -> float:
        """Share of expected grid points that are present."""
        return self.points / len(self.values) if len(self.values) else 0.0

    @property
    def window_days(self) -> float:
        """Length of the grid in days."""
        return len(self.values) * self.period_s / 86400.0

    def present(self) -> npt.NDArray[np.float64]:
        """The present values only."""
        return self.values[~np.isnan(self.values)]

    def percentile(self, q: float) -> float:
        """q-th percentile (0..100) of present values, NaN when there are none."""
        data = self.present()
        return float(np.percentile(data, q)) if data.size else float("nan")

    def max(self) -> float:
        """Largest present value, NaN when there are none."""
        data = self.present()
        return float(data.max()) if data.size else float("nan")

    def mean(self) -> float:
        """Mean of present values, NaN when there are none."""
        data = self.present()
        return float(data.mean()) if data.size else float("nan")
