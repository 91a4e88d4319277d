"""The changes the patch tests apply to each fixture stack (shared by engine and CLI tests)."""

from __future__ import annotations

from patch_helpers import req

from leanstack.patch import PatchRequest

BUDGET = """resource "aws_budgets_budget" "monthly" {
  name = "basic-monthly"
  budget_type = "COST"
  limit_amount = "100"  # dollars
  limit_unit = "USD"
  time_unit = "MONTHLY"
}
"""

BASIC: tuple[PatchRequest, ...] = (
    req("rightsize-task", "aws_ecs_task_definition.app.cpu", "512", 256),
    req("rightsize-task", "aws_ecs_task_definition.app.memory", 1024, 512),
    req(
        "target",
        "aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration.target_value",
        70,
        55,
    ),
    req(
        "graviton-cache",
        "aws_elasticache_cluster.cache.node_type",
        "cache.t3.micro",
        "cache.t4g.micro",
    ),
    req(
        "graviton-db",
        "module.db.aws_db_instance.main.instance_class",
        "db.t3.micro",
        "db.t4g.micro",
    ),
    req("storage", "module.db.aws_db_instance.main.max_allocated_storage", 100, 50),
    req(
        "spot",
        "aws_ecs_service.app.capacity_provider_strategy",
        None,
        [
            {"capacity_provider": "FARGATE_SPOT", "weight": 70},
            {"capacity_provider": "FARGATE", "weight": 30, "base": 1},
        ],
    ),
    req("spot", "aws_ecs_service.app.launch_type", "FARGATE", None),
    req("min-tasks", "aws_appautoscaling_target.app.min_capacity", 1, 2),
    req("tags", "module.db.aws_db_instance.main.tags.Tier", "data", "db"),
    req("public-ip", "aws_ecs_service.app.network_configuration.assign_public_ip", None, False),
    req("breaker", "aws_ecs_service.app.deployment_circuit_breaker.enable", None, True),
    req("budget", "aws_budgets_budget.monthly", None, None, BUDGET),
)
"""Every kind of edit on the basic stack: variable default (string and number), tfvars, nested
block attribute, module input in the parent, module literal, block list, removal, local,
map key, new attribute in a nested block, new nested block, new resource."""

EDGE: tuple[PatchRequest, ...] = (
    req("local-map", "aws_ecs_task_definition.worker.cpu", 256, 512),
    req("tfvars-json", "aws_ecs_task_definition.worker.memory", 1024, 2048),
    req("conditional", "aws_ecs_service.worker.desired_count", 2, 1),
    req("count", "aws_cloudwatch_log_group.per_env[0].retention_in_days", 30, 14),
    req("function", "aws_ecs_task_definition.worker.container_definitions", None, "[]"),
    req("empty-block", "aws_sqs_queue.jobs.message_retention_seconds", None, 86400),
    req(
        "strategy",
        "aws_ecs_service.worker.capacity_provider_strategy",
        [{"capacity_provider": "FARGATE", "weight": 1}],
        [
            {"capacity_provider": "FARGATE_SPOT", "weight": 3},
            {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
        ],
    ),
    req("shared-one", "module.svc_a.aws_lambda_function.fn.memory_size", 512, 256),
    req("stale-before", "module.svc_b.aws_lambda_function.fn.timeout", 60, 10),
    req("aligned-comment", "aws_lambda_function.api.timeout", 30, 900),
)
"""Edge cases: only the first two, `empty-block`, `strategy` and `aligned-comment` apply."""

RAPTORFLOW: tuple[PatchRequest, ...] = (
    req("fargate-rightsize", "aws_ecs_task_definition.api.cpu", "512", "256"),
    req("fargate-rightsize", "aws_ecs_task_definition.api.memory", "1024", "512"),
    req(
        "rds-graviton",
        "module.rds.aws_db_instance.main.instance_class",
        "db.t3.micro",
        "db.t4g.micro",
    ),
    req("rds-storage", "module.rds.aws_db_instance.main.max_allocated_storage", 100, 50),
    req(
        "redis-graviton",
        "aws_elasticache_cluster.redis.node_type",
        "cache.t3.micro",
        "cache.t4g.micro",
    ),
    req(
        "autoscaling-target",
        "aws_appautoscaling_policy.api_cpu.target_tracking_scaling_policy_configuration.target_value",
        70,
        75,
    ),
    req(
        "fargate-spot",
        "aws_ecs_service.api.capacity_provider_strategy",
        None,
        [
            {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
            {"capacity_provider": "FARGATE_SPOT", "weight": 2},
        ],
    ),
    req("fargate-spot", "aws_ecs_service.api.launch_type", "FARGATE", None),
    req(
        "fargate-spot",
        "aws_ecs_cluster_capacity_providers.main",
        None,
        None,
        'resource "aws_ecs_cluster_capacity_providers" "main" {\n'
        "  cluster_name       = aws_ecs_cluster.main.name\n"
        '  capacity_providers = ["FARGATE", "FARGATE_SPOT"]\n'
        "}\n",
    ),
)
"""What the seed asked for on raptorflow, with the values leanstack recommends."""
