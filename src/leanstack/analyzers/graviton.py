"""Graviton (arm64): the same capacity on AWS's ARM processors, priced from the catalog."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field

from leanstack.analyzers._base import (
    AnalysisContext,
    Analyzer,
    DataGateSettings,
    dec,
    gated,
    register,
)
from leanstack.analyzers._ecs import fargate_service, monthly_task_cost, task_count
from leanstack.analyzers._pricing import cache_rate, fargate_rate, rds_engine, rds_rate, unit_price
from leanstack.analyzers._services import (
    CACHE_TYPES,
    cache_engine,
    cache_nodes,
    lambda_arch,
    lambda_usage,
)
from leanstack.analyzers._specs import graviton_equivalent, is_arm, valkey_engine_changes
from leanstack.model.findings import (
    AttributeChange,
    Confidence,
    Finding,
    FindingStatus,
    Phase,
    Recommendation,
)
from leanstack.model.resource import Resource, is_known


class GravitonSettings(DataGateSettings):
    """Which Graviton moves to propose.

    Fargate and Lambda need the code built for arm64 (a multi-arch container image, native
    dependencies rebuilt), so they are a migration; RDS and ElastiCache run AWS's own engine
    builds, so moving them is a class change (a restart). Valkey is proposed by the
    ElastiCache analyzer, which compares engines.
    """

    fargate: bool = Field(True, description="Propose ARM64 for Fargate task definitions.")
    rds: bool = Field(True, description="Propose t4g/m7g/r7g for RDS instances.")
    elasticache: bool = Field(True, description="Propose t4g/m7g/r7g for ElastiCache nodes.")
    lambda_functions: bool = Field(True, description="Propose arm64 for Lambda functions.")
    valkey: bool = Field(
        True, description="Also price Graviton nodes with the Valkey engine for Redis OSS caches."
    )


@register
class Graviton(Analyzer[GravitonSettings]):
    """Propose arm64 for Fargate tasks, RDS and ElastiCache classes, and Lambda functions.

    Each proposal carries its migration effort: an image or package must be built for arm64
    before Fargate or Lambda can move; RDS and ElastiCache moves are a class change.

    Recorded load never decides whether to move: arm64 is cheaper per vCPU-hour, GB-second or
    node-hour whatever the load, so the decision is the catalog's. Load only sizes the saving
    (average RunningTaskCount; Invocations x Duration), and only when it passes the data gate
    (DataGateSettings). Below the gate the series is set aside, like no series at all: Fargate
    counts the configured tasks (min_capacity or desired_count) and says so in the basis;
    Lambda uses the estimate's usage, and without one says "not enough data".
    """

    name = "graviton"
    title = "Graviton (arm64)"
    applies_to = frozenset(
        {"aws_ecs_service", "aws_db_instance", "aws_lambda_function", *CACHE_TYPES}
    )
    needs = frozenset({"RunningTaskCount", "Invocations", "Duration"})
    settings_model = GravitonSettings

    def analyze_resource(
        self, resource: Resource, ctx: AnalysisContext, settings: GravitonSettings
    ) -> Iterable[Finding]:
        if resource.type == "aws_ecs_service" and settings.fargate:
            yield self._fargate(resource, ctx, settings)
        elif resource.type == "aws_db_instance" and settings.rds:
            yield self._rds(resource, ctx)
        elif resource.type in CACHE_TYPES and settings.elasticache:
            yield self._cache(resource, ctx)
            if settings.valkey and cache_engine(resource) == "redis":
                combined = self._cache_valkey(resource, ctx)
                if combined is not None:
                    yield combined
        elif resource.type == "aws_lambda_function" and settings.lambda_functions:
            yield self._lambda(resource, ctx, settings)

    def _fargate(self, resource: Resource, ctx: AnalysisContext, s: GravitonSettings) -> Finding:
        svc = fargate_service(resource, ctx)
        if isinstance(svc, str):
            return self.finding(resource, FindingStatus.NOT_APPLICABLE, f"Not analyzed: {svc}.")
        if svc.arch == "arm64":
            return self.finding(resource, FindingStatus.NO_CHANGE, "Tasks already run on ARM64.")
        region = resource.region
        x86 = fargate_rate(ctx.catalog, region, svc.cpu_units, svc.memory_mib)
        arm = fargate_rate(ctx.catalog, region, svc.cpu_units, svc.memory_mib, arch="arm64")
        if x86 is None or arm is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Fargate ARM64 price in {region}.",
            )
        tasks, basis = task_count(svc, ctx, s)
        before = monthly_task_cost(svc, ctx, tasks, svc.cpu_units, svc.memory_mib, "x86_64")
        after = monthly_task_cost(svc, ctx, tasks, svc.cpu_units, svc.memory_mib, "arm64")
        if before is None or after is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Fargate Spot price for ARM64 in {region}.",
            )
        td = svc.task_def
        platform = {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}
        rec = Recommendation(
            id=self.rec_id(resource.address, "arm64"),
            analyzer=self.name,
            address=resource.address,
            title="Run the tasks on Graviton (ARM64)",
            phase=Phase.MIGRATION,
            changes=(
                AttributeChange(
                    path=f"{td.address}.runtime_platform",
                    before=td.get("runtime_platform"),
                    after=[platform],
                ),
            ),
            monthly_cost_before=before,
            monthly_cost_after=after,
            confidence=Confidence.MEDIUM,
            evidence={
                "migration_effort": "Medium",
                "tasks": round(tasks, 3),
                "tasks_basis": basis,
                "x86_hourly": str(x86.hourly),
                "arm64_hourly": str(arm.hourly),
            },
            risks=(
                "The container image must be built for linux/arm64 (a multi-arch build) and its "
                "native dependencies must have arm64 builds; test before switching.",
                "Fargate Spot on ARM64 is documented inconsistently by AWS; check it before "
                "combining Graviton with Spot.",
            ),
            assumptions=(
                f"{tasks:.2f} tasks on average ({basis}).",
                *x86.sources(),
                *arm.sources(),
            ),
            exclusive_group=f"compute:{resource.address}",
        )
        # A recorded series set aside by the data gate is said where the figure is read.
        note = f" Sized on {basis}." if "not enough" in basis else ""
        return self._result(resource, rec, "ARM64 tasks", note)

    def _rds(self, resource: Resource, ctx: AnalysisContext) -> Finding:
        cls = resource.get("instance_class")
        engine = rds_engine(resource.get("engine"))
        if not isinstance(cls, str) or engine is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                "Instance class or engine unknown or not priced (PostgreSQL, MySQL, MariaDB).",
            )
        target = graviton_equivalent(cls)
        if target is None:
            if is_arm(cls):
                return self.finding(
                    resource, FindingStatus.NO_CHANGE, f"{cls} is already Graviton."
                )
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, f"{cls}: no Graviton class to propose."
            )
        multi_az = bool(resource.get("multi_az")) if is_known(resource.get("multi_az")) else False
        cur = rds_rate(ctx.catalog, resource.region, cls, engine, multi_az)
        new = rds_rate(ctx.catalog, resource.region, target, engine, multi_az)
        if cur is None or new is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog price for {cls if cur is None else target} ({engine}) in "
                f"{resource.region}.",
            )
        rec = Recommendation(
            id=self.rec_id(resource.address, "graviton"),
            analyzer=self.name,
            address=resource.address,
            title=f"Move {cls} to {target}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.instance_class", before=cls, after=target
                ),
            ),
            monthly_cost_before=cur.monthly,
            monthly_cost_after=new.monthly,
            confidence=Confidence.HIGH,
            evidence={
                "migration_effort": "Low",
                "before_hourly": str(cur.hourly),
                "after_hourly": str(new.hourly),
                "deployment": "multi-az" if multi_az else "single-az",
            },
            risks=(
                "Changing the class restarts the instance (minutes of downtime without Multi-AZ); "
                "apply in a maintenance window.",
                "Extensions with native code must exist for arm64 (the common ones do).",
            ),
            assumptions=(*cur.sources(), *new.sources()),
            exclusive_group=f"db-class:{resource.address}",
        )
        return self._result(resource, rec, target)

    def _cache(self, resource: Resource, ctx: AnalysisContext) -> Finding:
        node = resource.get("node_type")
        engine = cache_engine(resource)
        nodes = cache_nodes(resource)
        if not isinstance(node, str) or nodes is None:
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "Node type or count unknown."
            )
        target = graviton_equivalent(node)
        if target is None:
            if is_arm(node):
                return self.finding(
                    resource, FindingStatus.NO_CHANGE, f"{node} is already Graviton."
                )
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, f"{node}: no Graviton node type to propose."
            )
        cur = cache_rate(ctx.catalog, resource.region, node, engine)
        new = cache_rate(ctx.catalog, resource.region, target, engine)
        if cur is None or new is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog price for {node if cur is None else target} ({engine}) in "
                f"{resource.region}.",
            )
        rec = Recommendation(
            id=self.rec_id(resource.address, "graviton"),
            analyzer=self.name,
            address=resource.address,
            title=f"Move {node} to {target}",
            phase=Phase.QUICK_WIN,
            changes=(
                AttributeChange(path=f"{resource.address}.node_type", before=node, after=target),
            ),
            monthly_cost_before=cur.monthly * nodes,
            monthly_cost_after=new.monthly * nodes,
            confidence=Confidence.HIGH,
            evidence={"migration_effort": "Low", "nodes": nodes, "engine": engine},
            risks=(
                "Changing the node type replaces the node; a single-node cluster loses its cached "
                "data and is unavailable while it is replaced.",
            ),
            assumptions=(*cur.sources(), *new.sources()),
            exclusive_group=f"cache-node:{resource.address}",
        )
        return self._result(resource, rec, target)

    def _cache_valkey(self, resource: Resource, ctx: AnalysisContext) -> Finding | None:
        """Graviton node and Valkey engine together: the two discounts multiply."""
        node = resource.get("node_type")
        nodes = cache_nodes(resource)
        target = graviton_equivalent(node) if isinstance(node, str) else None
        if target is None or nodes is None or not isinstance(node, str):
            return None
        cur = cache_rate(ctx.catalog, resource.region, node, "redis")
        new = cache_rate(ctx.catalog, resource.region, target, "valkey")
        if cur is None or new is None:
            return None
        changes = valkey_engine_changes(resource, target)
        rec = Recommendation(
            id=self.rec_id(resource.address, "graviton-valkey"),
            analyzer=self.name,
            address=resource.address,
            title=f"Move {node} to {target} on the Valkey engine",
            phase=Phase.ADVANCED,
            changes=tuple(changes),
            monthly_cost_before=cur.monthly * nodes,
            monthly_cost_after=new.monthly * nodes,
            confidence=Confidence.MEDIUM,
            evidence={"migration_effort": "Low (node) + engine upgrade", "nodes": nodes},
            risks=(
                "The node is replaced (a single-node cluster loses its data) and the engine "
                "changes: test Lua scripts and modules on Valkey 7.2 first.",
            ),
            assumptions=(*cur.sources(), *new.sources()),
            exclusive_group=f"cache-node:{resource.address}",
        )
        return self._result(resource, rec, f"{target} on Valkey")

    def _lambda(self, resource: Resource, ctx: AnalysisContext, s: GravitonSettings) -> Finding:
        if not is_known(resource.get("architectures")):
            return self.finding(
                resource, FindingStatus.NOT_APPLICABLE, "architectures is not known before apply."
            )
        if lambda_arch(resource) == "arm64":
            return self.finding(
                resource, FindingStatus.NO_CHANGE, "The function already runs on arm64."
            )
        usage = lambda_usage(resource, ctx, s)
        if usage is None:
            _, why = gated(ctx, resource.address, "Invocations", s)
            if why is None or why.startswith("no "):
                _, why = gated(ctx, resource.address, "Duration", s)
            recorded = why is not None and not why.startswith("no ")
            return self.finding(
                resource,
                FindingStatus.INSUFFICIENT_DATA,
                (f"Not enough data ({why})" if recorded else "No Invocations/Duration series")
                + " and no estimated usage: the arm64 saving cannot be priced.",
            )
        x86 = unit_price(
            ctx.catalog, "lambda", resource.region, unit="GB-second", arch="x86_64", tier="1"
        )
        arm = unit_price(
            ctx.catalog, "lambda", resource.region, unit="GB-second", arch="arm64", tier="1"
        )
        if x86 is None or arm is None:
            return self.finding(
                resource,
                FindingStatus.NOT_APPLICABLE,
                f"No catalog Lambda price in {resource.region}.",
            )
        gbs = dec(usage.monthly_gb_seconds)
        rec = Recommendation(
            id=self.rec_id(resource.address, "arm64"),
            analyzer=self.name,
            address=resource.address,
            title="Run the function on arm64",
            phase=Phase.MIGRATION,
            changes=(
                AttributeChange(
                    path=f"{resource.address}.architectures",
                    before=resource.get("architectures"),
                    after=["arm64"],
                ),
            ),
            monthly_cost_before=gbs * x86.price,
            monthly_cost_after=gbs * arm.price,
            confidence=Confidence.MEDIUM,
            evidence={
                "migration_effort": "Low for interpreted code, Medium with native dependencies",
                "monthly_gb_seconds": round(usage.monthly_gb_seconds, 1),
                "basis": usage.basis,
            },
            risks=("The deployment package and its layers must be built for arm64.",),
            assumptions=(
                "Duration assumed unchanged on arm64; request charges are the same on both.",
                "Before the free tier (it applies to both architectures alike).",
            ),
            exclusive_group=f"lambda:{resource.address}",
        )
        return self._result(resource, rec, "arm64")

    def _result(
        self, resource: Resource, rec: Recommendation, what: str, note: str = ""
    ) -> Finding:
        if rec.monthly_savings <= Decimal(0):
            return self.finding(
                resource,
                FindingStatus.NO_CHANGE,
                f"{what} would not be cheaper at catalog prices "
                f"(${rec.monthly_cost_before:.2f} → ${rec.monthly_cost_after:.2f}/month).",
                dict(rec.evidence),
            )
        return self.finding(
            resource,
            FindingStatus.OPPORTUNITY,
            f"{rec.title}: ${rec.monthly_cost_before:.2f} → ${rec.monthly_cost_after:.2f}/month "
            f"(saves ${rec.monthly_savings:.2f}); migration effort "
            f"{rec.evidence.get('migration_effort')}.{note}",
            dict(rec.evidence),
            rec,
        )
