"""Cost models: one module per Terraform type, registered into an explicit registry.

Public API (other stages code against it):

- `price_resource(resource, ctx) -> PricedResource` (never raises)
- `supported_types()`, `free_types()`, `usage_keys(type)`
- `PricingContext`, `UsageKey`
- helpers for hypothetical configurations: `fargate_hourly`, `rds_instance_hourly`,
  `elasticache_node_hourly`
"""

from leanstack.resources import (
    _free,
    aws_api_gateway_rest_api,
    aws_apigatewayv2_api,
    aws_cloudfront_distribution,
    aws_cloudwatch_log_group,
    aws_cloudwatch_metric_alarm,
    aws_db_instance,
    aws_ecr_repository,
    aws_ecs_service,
    aws_elasticache_cluster,
    aws_elasticache_replication_group,
    aws_elasticache_serverless_cache,
    aws_lambda_function,
    aws_lambda_provisioned_concurrency_config,
    aws_lb,
    aws_nat_gateway,
    aws_rds_cluster,
    aws_rds_cluster_instance,
    aws_secretsmanager_secret,
    aws_sqs_queue,
    aws_vpc_endpoint,
)
from leanstack.resources._common import PriceNotFound, is_free_tier
from leanstack.resources._pricing import price_resource
from leanstack.resources._rds import rds_instance_hourly
from leanstack.resources._registry import (
    PricingContext,
    UsageKey,
    free_types,
    supported_types,
    usage_keys,
)
from leanstack.resources.aws_ecs_service import fargate_hourly, split_tasks
from leanstack.resources.aws_elasticache_cluster import elasticache_node_hourly

__all__ = [
    "PriceNotFound",
    "PricingContext",
    "UsageKey",
    "_free",
    "aws_api_gateway_rest_api",
    "aws_apigatewayv2_api",
    "aws_cloudfront_distribution",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_metric_alarm",
    "aws_db_instance",
    "aws_ecr_repository",
    "aws_ecs_service",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_lambda_function",
    "aws_lambda_provisioned_concurrency_config",
    "aws_lb",
    "aws_nat_gateway",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_secretsmanager_secret",
    "aws_sqs_queue",
    "aws_vpc_endpoint",
    "elasticache_node_hourly",
    "fargate_hourly",
    "free_types",
    "is_free_tier",
    "price_resource",
    "rds_instance_hourly",
    "split_tasks",
    "supported_types",
    "usage_keys",
]
