"""Shared helpers for the metric store tests: fixture paths and hand-built resources."""

from __future__ import annotations

from pathlib import Path

from leanstack.model import Resource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"
NAB = FIXTURES / "nab" / "realAWSCloudwatch"


def res(
    address: str,
    type_: str,
    attrs: dict[str, object] | None = None,
    refs: dict[str, tuple[str, ...]] | None = None,
) -> Resource:
    """A hand-built Resource (tests do not depend on the Terraform loader)."""
    return Resource(
        address=address,
        type=type_,
        name=address.rsplit(".", 1)[-1],
        attrs=attrs or {},
        refs=refs or {},
    )


def raptorflow_resources() -> list[Resource]:
    """The shape of examples/raptorflow, built by hand."""
    return [
        res("aws_ecs_cluster.main", "aws_ecs_cluster", {"name": "raptorflow-production"}),
        res(
            "aws_ecs_task_definition.api",
            "aws_ecs_task_definition",
            {"cpu": "512", "memory": "1024"},
        ),
        res(
            "aws_ecs_service.api",
            "aws_ecs_service",
            {"name": "raptorflow-production-api", "desired_count": 2},
            {
                "task_definition": ("aws_ecs_task_definition.api",),
                "cluster": ("aws_ecs_cluster.main",),
            },
        ),
        res(
            "aws_appautoscaling_target.api",
            "aws_appautoscaling_target",
            {"min_capacity": 2, "max_capacity": 6, "service_namespace": "ecs"},
            {"resource_id": ("aws_ecs_cluster.main", "aws_ecs_service.api")},
        ),
        res(
            "aws_appautoscaling_policy.api_cpu",
            "aws_appautoscaling_policy",
            {
                "policy_type": "TargetTrackingScaling",
                "target_tracking_scaling_policy_configuration": [
                    {
                        "target_value": 70,
                        "predefined_metric_specification": [
                            {"predefined_metric_type": "ECSServiceAverageCPUUtilization"}
                        ],
                    }
                ],
            },
            {"resource_id": ("aws_appautoscaling_target.api",)},
        ),
        res(
            "aws_lb.api",
            "aws_lb",
            {"name": "raptorflow-production-api", "load_balancer_type": "application"},
        ),
        res(
            "module.rds.aws_db_instance.main",
            "aws_db_instance",
            {
                "identifier": "raptorflow-production-db",
                "instance_class": "db.t3.micro",
                "allocated_storage": 20,
            },
        ),
        res(
            "aws_elasticache_cluster.redis",
            "aws_elasticache_cluster",
            {"cluster_id": "raptorflow-production-cache", "node_type": "cache.t3.micro"},
        ),
        res("aws_sqs_queue.jobs", "aws_sqs_queue", {"name": "raptorflow-production-jobs"}),
    ]
