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

# Resource types whose utilization percentages are hard-capped at 100 (a VM or a managed
# node cannot report more than all of its CPU); ECS services can burst past their
# reservation on EC2 capacity, so they get the looser cap.
_HARD_CAPPED_PREFIXES = (
    "aws_db_instance",
    "aws_rds_",
    "aws_elasticache_",
    "aws_instance",
)
BURST_PERCENT_CAP = 1000.0


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

    Every metric leanstack handles is non-negative. Percentages are capped at 100 on resources
    that cannot exceed their capacity, and at 1000 elsewhere (ECS on EC2 can burst past its
    reservation, but not tenfold).
    """
    if is_percent(metric):
        rtype = resource_type(resource)
        if rtype.startswith(_HARD_CAPPED_PREFIXES):
            return ValueRange(0.0, 100.0, "above 100%")
        return ValueRange(0.0, BURST_PERCENT_CAP, "above 1000%")
    return ValueRange(0.0, float("inf"))
