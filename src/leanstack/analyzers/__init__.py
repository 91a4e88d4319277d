"""Analyzers: pure plugins that turn resources, prices and recorded load into findings.

Each analyzer lives in its own module and registers itself with `@register`; importing this
package imports every one of them (explicitly, in sorted order) so the registry is complete.
"""

from leanstack.analyzers import (
    autoscaling,
    cost_alarms,
    elasticache,
    fargate_rightsizing,
    fargate_spot,
    graviton,
    lambda_functions,
    load_balancer,
    log_retention,
    nat_gateway,
    rds,
    rds_storage,
    serverless,
    sqs,
)
from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    AnalyzerSettings,
    DataGateSettings,
    register,
    registry,
)

ANALYZER_MODULES = (
    autoscaling,
    cost_alarms,
    elasticache,
    fargate_rightsizing,
    fargate_spot,
    graviton,
    lambda_functions,
    load_balancer,
    log_retention,
    nat_gateway,
    rds,
    rds_storage,
    serverless,
    sqs,
)

__all__ = [
    "ANALYZER_MODULES",
    "AnalysisContext",
    "Analyzer",
    "AnalyzerSettings",
    "DataGateSettings",
    "register",
    "registry",
]
