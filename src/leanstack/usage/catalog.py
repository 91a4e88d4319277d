"""What leanstack knows about each metric: default statistic, unit, and physically possible range.

Kept apart from the store so import, fetch, synth and derive agree on one table.
"""

from __future__ import annotations

from dataclasses import dataclass

# Metrics that are counts over a period: CloudWatch sums them, and a missing point means zero.
SUM_METRICS: frozenset[str] = frozenset(
    {
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_Target_4XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "NewConnectionCount",
        "ActiveConnectionCount",
        "ProcessedBytes",
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
        "NumberOfEmptyReceives",
        "Invocations",
        "Errors",
        "Throttles",
        "BytesOutToDestination",
        "BytesOutToSource",
        "BytesInFromSource",
        "BytesInFromDestination",
        "ReadIOPS",
        "WriteIOPS",
    }
)

# Rates that CloudWatch reports per second (not summed) despite looking like counts.
_RATE_METRICS: frozenset[str] = frozenset({"ReadIOPS", "WriteIOPS"})

UNITS: dict[str, str] = {
    "CPUUtilization": "Percent",
    "MemoryUtilization": "Percent",
    "DatabaseMemoryUsagePercentage": "Percent",
    "EngineCPUUtilization": "Percent",
    "CpuUtilized": "None",
    "CpuReserved": "None",
    "MemoryUtilized": "Megabytes",
    "MemoryReserved": "Megabytes",
    "RunningTaskCount": "Count",
    "RequestCount": "Count",
    "TargetResponseTime": "Seconds",
    "HTTPCode_Target_5XX_Count": "Count",
    "NewConnectionCount": "Count",
    "ActiveConnectionCount": "Count",
    "ProcessedBytes": "Bytes",
    "FreeableMemory": "Bytes",
    "DatabaseConnections": "Count",
    "CPUCreditBalance": "Count",
    "FreeStorageSpace": "Bytes",
    "ReadIOPS": "Count/Second",
    "WriteIOPS": "Count/Second",
    "BytesUsedForCache": "Bytes",
    "CurrConnections": "Count",
    "NumberOfMessagesSent": "Count",
    "NumberOfMessagesReceived": "Count",
    "NumberOfEmptyReceives": "Count",
    "ApproximateNumberOfMessagesVisible": "Count",
    "Invocations": "Count",
    "Duration": "Milliseconds",
    "ConcurrentExecutions": "Count",
    "Errors": "Count",
    "Throttles": "Count",
    "BytesOutToDestination": "Bytes",
}


def default_statistic(metric: str) -> str:
    """The statistic CloudWatch consoles show by default for a metric."""
    if metric in SUM_METRICS and metric not in _RATE_METRICS:
        return "Sum"
    return "Average"


def default_unit(metric: str) -> str:
    """CloudWatch unit of a known metric, '' when unknown."""
    return UNITS.get(metric, "")


def is_percent(metric: str) -> bool:
    """True for metrics expressed in percent."""
    return UNITS.get(metric) == "Percent" or metric.endswith(("Utilization", "Percentage"))


def resource_type(address: str) -> str:
    """Terraform type of an address (`module.db.aws_db_instance.main[0]` -> `aws_db_instance`)."""
    parts = [p for p in address.split(".") if p]
    # Walk `module.<name>` pairs, then the type is the next part.
    i = 0
    while i + 1 < len(parts) and parts[i] == "module":
        i += 2
    return parts[i] if i < len(parts) else ""


@dataclass(frozen=True, slots=True)
class ValueRange:
    """Inclusive range of physically possible values; outside it a point is impossible."""

    low: float
    high: float
    reason_high: str = ""


def possible_range(resource: str, metric: str) -> ValueRange:
    """Range of possible values for a metric of a resource.

    Every metric leanstack handles is non-negative, and a percentage lies in 0..100. ECS on
    EC2 capacity can report a service above 100 % when tasks burst past their reservation,
    but leanstack sizes Fargate tasks, which cannot; such points are counted as impossible
    and not stored, so the import line shows how many there were.
    """
    del resource  # the range depends on the metric alone today; callers pass both
    if is_percent(metric):
        return ValueRange(0.0, 100.0, "above 100%")
    return ValueRange(0.0, float("inf"))
