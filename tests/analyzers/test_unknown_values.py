"""Values unknown before apply never crash an analyzer, and are never changed blindly."""

from __future__ import annotations

import numpy as np
from analyzer_helpers import MINUTES_14D, metrics, res, series

from leanstack.analysis import run_analysis
from leanstack.catalog import embedded_catalog
from leanstack.model.resource import UNKNOWN, Unknown

ATTRS = {
    "aws_ecs_task_definition.app": ["cpu", "memory", "container_definitions", "runtime_platform"],
    "aws_ecs_service.app": ["desired_count", "launch_type"],
    "aws_db_instance.db": [
        "instance_class",
        "engine",
        "multi_az",
        "allocated_storage",
        "storage_type",
    ],
    "aws_elasticache_cluster.c": ["node_type", "engine", "num_cache_nodes"],
    "aws_sqs_queue.q": ["receive_wait_time_seconds", "fifo_queue"],
    "aws_lambda_function.f": ["memory_size", "timeout", "architectures"],
    "aws_cloudwatch_log_group.l": ["retention_in_days"],
    "aws_lb.lb": ["load_balancer_type"],
    "aws_nat_gateway.n": ["subnet_id"],
}


def stack(unknown: str) -> list:
    base = {
        "aws_ecs_task_definition.app": {"cpu": "512", "memory": "1024"},
        "aws_ecs_service.app": {"desired_count": 2, "launch_type": "FARGATE"},
        "aws_db_instance.db": {
            "instance_class": "db.t3.micro",
            "engine": "postgres",
            "allocated_storage": 20,
            "storage_type": "gp2",
        },
        "aws_elasticache_cluster.c": {
            "node_type": "cache.t3.micro",
            "engine": "redis",
            "num_cache_nodes": 1,
        },
        "aws_sqs_queue.q": {},
        "aws_lambda_function.f": {"memory_size": 1024, "timeout": 900},
        "aws_cloudwatch_log_group.l": {},
        "aws_lb.lb": {},
        "aws_nat_gateway.n": {},
    }
    base[unknown.rsplit(".", 1)[0]][unknown.rsplit(".", 1)[1]] = UNKNOWN
    refs = {"aws_ecs_service.app": {"task_definition": ["aws_ecs_task_definition.app"]}}
    return [res(a, attrs, refs.get(a)) for a, attrs in base.items()]


def load() -> dict:
    flat = np.full(MINUTES_14D, 5.0)
    return metrics(
        series("aws_ecs_service.app", "CPUUtilization", flat),
        series("aws_ecs_service.app", "MemoryUtilization", flat),
        series("aws_db_instance.db", "CPUUtilization", flat),
        series("aws_elasticache_cluster.c", "BytesUsedForCache", flat * 2**20),
        series("aws_sqs_queue.q", "NumberOfMessagesSent", flat),
        series("aws_sqs_queue.q", "NumberOfEmptyReceives", flat * 100),
        series("aws_lambda_function.f", "Invocations", flat),
        series("aws_lambda_function.f", "Duration", flat * 10),
        series("aws_lambda_function.f", "used_memory_max", flat * 10),
        series("aws_lb.lb", "RequestCount", flat),
        series("aws_nat_gateway.n", "BytesOutToDestination", flat),
    )


def test_each_unknown_attribute_alone() -> None:
    for address, attrs in ATTRS.items():
        for attr in attrs:
            resources = stack(f"{address}.{attr}")
            result = run_analysis([], resources, load(), embedded_catalog())
            assert result.issues == (), f"{address}.{attr}: {result.issues}"
            for rec in result.recommendations:
                for change in rec.changes:
                    assert not isinstance(change.before, Unknown), (
                        f"{change.path} changed from an unknown value"
                    )
