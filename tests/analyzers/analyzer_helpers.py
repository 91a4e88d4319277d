"""Builders for analyzer tests: hand-made Resources, numpy series and a context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from leanstack.analyzers import registry
from leanstack.analyzers._base import AnalysisContext
from leanstack.catalog import Catalog, embedded_catalog
from leanstack.model.findings import Finding
from leanstack.model.pricing import PricedResource, PriceQuery
from leanstack.model.resource import Resource
from leanstack.usage.series import MetricSeries

START = datetime(2026, 11, 1, tzinfo=UTC)
MINUTES_14D = 14 * 24 * 60


def res(
    address: str,
    attrs: Mapping[str, Any] | None = None,
    refs: Mapping[str, Sequence[str]] | None = None,
    region: str = "us-east-1",
) -> Resource:
    """A managed resource from its address."""
    parts = address.split(".")
    rtype, name = parts[-2], parts[-1]
    return Resource(
        address=address,
        type=rtype,
        name=name,
        region=region,
        attrs=dict(attrs or {}),
        refs={k: tuple(v) for k, v in (refs or {}).items()},
    )


def series(
    address: str, metric: str, values: Any, period_s: int = 60, statistic: str = "Average"
) -> MetricSeries:
    """A series on a regular grid from START."""
    return MetricSeries(
        resource=address,
        metric=metric,
        statistic=statistic,
        period_s=period_s,
        start=START,
        values=np.asarray(values, dtype=np.float64),
    )


def metrics(*items: MetricSeries) -> dict[str, dict[str, MetricSeries]]:
    """Series grouped by resource and metric."""
    out: dict[str, dict[str, MetricSeries]] = {}
    for s in items:
        out.setdefault(s.resource, {})[s.metric] = s
    return out


def context(
    resources: Sequence[Resource],
    metric_map: Mapping[str, Mapping[str, MetricSeries]] | None = None,
    priced: Sequence[PricedResource] = (),
    catalog: Catalog | None = None,
) -> AnalysisContext:
    """An AnalysisContext over hand-built inputs and the embedded catalog."""
    return AnalysisContext(
        catalog=catalog or embedded_catalog(),
        resources={r.address: r for r in resources},
        priced={p.address: p for p in priced},
        metrics=dict(metric_map or {}),
    )


def run(name: str, ctx: AnalysisContext, **overrides: Any) -> list[Finding]:
    """Run one registered analyzer with `setting=value` overrides."""
    analyzer = registry()[name]()
    settings = analyzer.settings({f"{name}.{k}": v for k, v in overrides.items()})
    return list(analyzer.analyze(ctx, settings))


def price(service: str, unit: str, **attrs: str) -> Decimal:
    """A catalog price looked up directly (what the test expects the analyzer to use)."""
    for p in embedded_catalog().matches(
        PriceQuery.of(service, attrs.pop("region", "us-east-1"), **attrs)
    ):
        if p.unit == unit:
            return p.price
    raise LookupError(f"{service} {unit} {attrs}")


def fargate_service(
    cpu: int = 1024,
    memory: int = 2048,
    desired: int = 2,
    *,
    containers: Any = None,
    arch: str | None = None,
    extra: Mapping[str, Any] | None = None,
    name: str = "app",
) -> list[Resource]:
    """A cluster, task definition and Fargate service."""
    td_attrs: dict[str, Any] = {
        "cpu": str(cpu),
        "memory": str(memory),
        "requires_compatibilities": ["FARGATE"],
    }
    if containers is not None:
        td_attrs["container_definitions"] = containers
    if arch:
        td_attrs["runtime_platform"] = [
            {"operating_system_family": "LINUX", "cpu_architecture": arch}
        ]
    svc_attrs = {"launch_type": "FARGATE", "desired_count": desired, **(extra or {})}
    return [
        res("aws_ecs_cluster.main", {"name": "main"}),
        res(f"aws_ecs_task_definition.{name}", td_attrs),
        res(
            f"aws_ecs_service.{name}",
            svc_attrs,
            {
                "cluster": ["aws_ecs_cluster.main"],
                "task_definition": [f"aws_ecs_task_definition.{name}"],
            },
        ),
    ]


def autoscaling(
    service: str = "aws_ecs_service.app",
    metric: str = "ECSServiceAverageCPUUtilization",
    target: float = 70,
    low: int = 2,
    high: int = 6,
) -> list[Resource]:
    """A scalable target and a target-tracking policy on the service."""
    return [
        res(
            "aws_appautoscaling_target.app",
            {
                "min_capacity": low,
                "max_capacity": high,
                "service_namespace": "ecs",
                "scalable_dimension": "ecs:service:DesiredCount",
            },
            {"resource_id": [service, "aws_ecs_cluster.main"]},
        ),
        res(
            "aws_appautoscaling_policy.cpu",
            {
                "name": "cpu",
                "policy_type": "TargetTrackingScaling",
                "target_tracking_scaling_policy_configuration": [
                    {
                        "target_value": target,
                        "predefined_metric_specification": [{"predefined_metric_type": metric}],
                        "scale_in_cooldown": 300,
                        "scale_out_cooldown": 60,
                    }
                ],
            },
            {"resource_id": ["aws_appautoscaling_target.app"]},
        ),
    ]


def one(findings: Sequence[Finding], **match: Any) -> Finding:
    """The single finding whose attributes equal `match`."""
    found = [f for f in findings if all(getattr(f, k) == v for k, v in match.items())]
    assert len(found) == 1, (
        f"expected one finding matching {match}, got {[(f.status, f.summary) for f in findings]}"
    )
    return found[0]
