"""The four real-world stacks load, and the priced resources a reader finds are there with sizes.

Each expected value below was read off the .tf files by hand (file noted in the comment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leanstack.model import UNKNOWN, IssueCode, Resource
from leanstack.terraform import LoadResult, load_stack

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform"
DUDU = FIXTURES / "duduribeiro__terraform_ecs_fargate_example"
LANGFUSE = FIXTURES / "imran-KG__langfuse-ecs-fargate-terraform"
OPG = FIXTURES / "ministryofjustice__opg-lpa" / "terraform"
BLUEPRINTS = FIXTURES / "aws-ia__ecs-blueprints" / "terraform" / "fargate-examples"

PRICED = {
    "aws_ecs_service",
    "aws_ecs_task_definition",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_sqs_queue",
    "aws_lambda_function",
}


def priced(result: LoadResult) -> dict[str, Resource]:
    return {r.address: r for r in result.resources if r.type in PRICED}


def sizes(resource: Resource, *keys: str) -> dict[str, Any]:
    return {k: resource.attrs.get(k) for k in keys}


def test_duduribeiro_terraform_011_stack() -> None:
    result = load_stack(DUDU)
    found = priced(result)
    assert set(found) == {
        "module.rds.aws_db_instance.rds",
        "module.ecs.aws_ecs_task_definition.web",
        "module.ecs.aws_ecs_task_definition.db_migrate",
        "module.ecs.aws_ecs_service.web",
    }
    # modules/rds/main.tf, instance_class from production.tf, region from terraform.tfvars
    db = found["module.rds.aws_db_instance.rds"]
    assert sizes(db, "instance_class", "engine", "allocated_storage") == {
        "instance_class": "db.t2.micro",
        "engine": "postgres",
        "allocated_storage": "20",
    }
    assert db.region == "us-east-1"
    # modules/ecs/main.tf: cpu "256", memory "512"
    web = found["module.ecs.aws_ecs_task_definition.web"]
    assert sizes(web, "cpu", "memory") == {"cpu": "256", "memory": "512"}
    service = found["module.ecs.aws_ecs_service.web"]
    assert sizes(service, "desired_count", "launch_type") == {
        "desired_count": 2,
        "launch_type": "FARGATE",
    }
    assert service.refs["task_definition"] == ("module.ecs.aws_ecs_task_definition.web",)
    assert service.refs["cluster"] == ("module.ecs.aws_ecs_cluster.cluster",)
    assert service.source is not None
    assert service.source.file == "modules/ecs/main.tf"
    scaling = next(r for r in result.resources if r.type == "aws_appautoscaling_target")
    assert (scaling.attrs["min_capacity"], scaling.attrs["max_capacity"]) == (2, 4)
    assert "module.ecs.aws_ecs_service.web" in scaling.refs["resource_id"]
    assert not [i for i in result.issues if i.code != IssueCode.UNKNOWN_VALUE]


def test_langfuse_stack_with_var_file() -> None:
    result = load_stack(LANGFUSE / "infra", var_files=[LANGFUSE / "tfvars" / "example.tfvars"])
    found = priced(result)
    assert set(found) == {
        "module.rds.aws_db_instance.main",
        "module.langfuse.aws_elasticache_cluster.main",
        "module.langfuse.aws_ecs_task_definition.web",
        "module.langfuse.aws_ecs_service.web",
        "module.langfuse.aws_ecs_task_definition.worker",
        "module.langfuse.aws_ecs_service.worker",
        "module.clickhouse.aws_ecs_task_definition.main",
        "module.clickhouse.aws_ecs_service.main",
    }
    # region = "ap-northeast-1" in tfvars/example.tfvars
    assert {r.region for r in found.values()} == {"ap-northeast-1"}
    assert found["module.rds.aws_db_instance.main"].attrs["instance_class"] == "db.t4g.micro"
    assert found["module.rds.aws_db_instance.main"].attrs["allocated_storage"] == 20
    cache = found["module.langfuse.aws_elasticache_cluster.main"]
    assert sizes(cache, "node_type", "num_cache_nodes") == {
        "node_type": "cache.t4g.micro",
        "num_cache_nodes": 1,
    }
    for name, cpu, memory in [
        ("module.langfuse.aws_ecs_task_definition.web", 1024, 2048),
        ("module.langfuse.aws_ecs_task_definition.worker", 1024, 2048),
        ("module.clickhouse.aws_ecs_task_definition.main", 2048, 4096),
    ]:
        task = found[name]
        assert sizes(task, "cpu", "memory") == {"cpu": cpu, "memory": memory}, name
        assert task.block("runtime_platform")["cpu_architecture"] == "ARM64"
    # clickhouse's service runs in the langfuse module's cluster: a reference across modules
    clickhouse = found["module.clickhouse.aws_ecs_service.main"]
    assert clickhouse.refs["cluster"] == ("module.langfuse.aws_ecs_cluster.main",)
    assert clickhouse.refs["task_definition"] == ("module.clickhouse.aws_ecs_task_definition.main",)
    # the VPC's subnet count depends on a data source: counted once, with an issue
    unknown = [i for i in result.issues if i.code == IssueCode.UNKNOWN_VALUE]
    assert unknown and all(i.where.startswith("modules/") for i in unknown)
    assert not [i for i in result.issues if i.code == IssueCode.EVALUATION_ERROR]


def test_langfuse_without_var_file_reports_undefined_variables() -> None:
    result = load_stack(LANGFUSE / "infra")
    undefined = [i for i in result.issues if i.code == IssueCode.UNDEFINED_VARIABLE]
    assert undefined
    assert all(i.where.startswith("variables.tf:") for i in undefined)
    assert priced(result)  # the rest still loads


def test_opg_environment_stack() -> None:
    result = load_stack(OPG / "environment")
    found = priced(result)
    prefix = "module.eu-west-1."
    tasks = {
        "aws_ecs_task_definition.admin": (256, 512),
        "aws_ecs_task_definition.api": (512, 1024),
        "aws_ecs_task_definition.api_cron": (512, 1024),
        "aws_ecs_task_definition.migrations": (512, 1024),
        "aws_ecs_task_definition.front": (1024, 2048),
        "aws_ecs_task_definition.pdf": (2048, 4096),
        "aws_ecs_task_definition.seeding[0]": (2048, 4096),
        "module.mock_onelogin.aws_ecs_task_definition.mock_onelogin": (256, 512),
    }
    for address, (cpu, memory) in tasks.items():
        task = found[prefix + address]
        assert sizes(task, "cpu", "memory") == {"cpu": cpu, "memory": memory}, address
        assert task.region == "eu-west-1"
    for service in ("admin", "api", "front", "pdf"):
        resource = found[f"{prefix}aws_ecs_service.{service}"]
        assert resource.refs["task_definition"] == (f"{prefix}aws_ecs_task_definition.{service}",)
    spot = found[prefix + "module.mock_onelogin.aws_ecs_service.mock_onelogin"]
    assert spot.blocks("capacity_provider_strategy") == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 100}
    ]
    queue = found[prefix + "aws_sqs_queue.pdf_fifo_queue"]
    assert queue.attrs["fifo_queue"] is True
    # the "default" workspace uses aurora_serverless = true: the provisioned variant has count 0
    aurora = prefix + "module.api_aurora[0]."
    assert (
        found[aurora + "aws_rds_cluster_instance.serverless_instances[0]"].attrs["instance_class"]
        == "db.serverless"
    )
    cluster = found[aurora + "aws_rds_cluster.cluster_serverless[0]"]
    assert cluster.block("serverlessv2_scaling_configuration") == {
        "min_capacity": 0.5,
        "max_capacity": 4,
    }
    assert not any("aws_rds_cluster.cluster[" in a for a in found)
    # module "eu-west-2" has count = 0 (DR disabled in terraform.tfvars.json)
    assert not any(a.startswith("module.eu-west-2") for a in found)
    autoscaling = [r for r in result.resources if r.type == "aws_appautoscaling_target"]
    front = next(r for r in autoscaling if "front_ecs_autoscaling" in r.address)
    assert (front.attrs["min_capacity"], front.attrs["max_capacity"]) == (1, 5)
    assert prefix + "aws_ecs_service.front" in front.refs["resource_id"]
    missing = [i for i in result.issues if i.code == IssueCode.MISSING_MODULE]
    assert [i.where for i in missing] == ["modules/environment/vpc_data_sources.tf:1"]


def test_opg_environment_production_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_WORKSPACE", "production")
    found = priced(load_stack(OPG / "environment"))
    prefix = "module.eu-west-1."
    assert found[prefix + "aws_ecs_service.api"].attrs["desired_count"] == 3
    assert found[prefix + "aws_ecs_service.pdf"].attrs["desired_count"] == 2
    instances = [a for a in found if "serverless_instances[" in a]
    assert len(instances) == 3


def test_opg_region_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_WORKSPACE", "development")
    result = load_stack(OPG / "region")
    found = priced(result)
    caches = {a: r for a, r in found.items() if r.type == "aws_elasticache_replication_group"}
    # node type per region from terraform.tfvars.json, keyed by data.aws_region.current
    assert {
        a: (r.region, r.attrs["node_type"], r.attrs["num_cache_clusters"])
        for a, r in caches.items()
    } == {
        "module.eu-west-1.aws_elasticache_replication_group.new_front_cache": (
            "eu-west-1",
            "cache.t2.micro",
            2,
        ),
        "module.eu-west-1.aws_elasticache_replication_group.front_cache": (
            "eu-west-1",
            "cache.t2.micro",
            2,
        ),
        "module.eu-west-2[0].aws_elasticache_replication_group.new_front_cache": (
            "eu-west-2",
            "cache.t3.micro",
            2,
        ),
        "module.eu-west-2[0].aws_elasticache_replication_group.front_cache": (
            "eu-west-2",
            "cache.t3.micro",
            2,
        ),
    }
    lambdas = {a for a, r in found.items() if r.type == "aws_lambda_function"}
    assert lambdas == {
        "module.eu-west-1.module.ip_blocker.aws_lambda_function.block_ips_lambda",
        "module.eu-west-1.module.aurora_scheduler[0].aws_lambda_function.lambda_function",
        "module.eu-west-2[0].module.ip_blocker.aws_lambda_function.block_ips_lambda",
        "module.eu-west-2[0].module.aurora_scheduler[0].aws_lambda_function.lambda_function",
    }
    missing = {i.message.split('"')[1] for i in result.issues if i.code == IssueCode.MISSING_MODULE}
    assert "network" in missing
    assert "elasticache_encryption_key" in missing


def test_opg_region_default_workspace_has_unknown_sizes() -> None:
    # Terraform itself cannot plan this in the "default" workspace: the account lookup fails.
    result = load_stack(OPG / "region")
    caches = [r for r in result.resources if r.type == "aws_elasticache_replication_group"]
    assert caches and all(r.attrs["node_type"] is UNKNOWN for r in caches)
    # reported once, where the lookup is written: `account = var.accounts[local.account_name]`
    errors = [i for i in result.issues if i.code == IssueCode.EVALUATION_ERROR]
    assert [i.where for i in errors] == ["locals.tf:3"]
    assert "'default'" in errors[0].message


@pytest.mark.parametrize(
    ("example", "modules"),
    [
        ("backend-service", {"ecs_service"}),
        ("backstage", {"ecr", "codepipeline_s3_bucket", "ecs_service", "alb", "aurora_postgresdb"}),
        ("core-infra", {"ecs_cluster", "vpc"}),
        ("lb-service", {"ecs_service", "alb"}),
        ("prometheus", {"ecs_service"}),
        ("queue-processing", {"ecs_service", "lambda_function", "sqs", "ecr"}),
        ("sqs-dynamic-target-tracking", {"ecs_service", "processing_queue"}),
        ("graviton", {"ecs_service_amd64", "ecs_service_arm64"}),
        ("vpc-endpoints", {"vpc_endpoints"}),
    ],
)
def test_blueprints_registry_modules_are_missing_module_issues(
    example: str, modules: set[str]
) -> None:
    result = load_stack(BLUEPRINTS / example)
    missing = [i for i in result.issues if i.code == IssueCode.MISSING_MODULE]
    names = {i.message.split('"')[1] for i in missing}
    assert modules <= names
    for issue in missing:
        assert 'source "' in issue.message
        file, line = issue.where.split(":")
        assert (BLUEPRINTS / example / file).is_file()
        text = (BLUEPRINTS / example / file).read_text().splitlines()[int(line) - 1]
        assert text.startswith("module ")
    assert not [i for i in result.issues if i.code == IssueCode.PARSE_ERROR]


def test_blueprints_local_task_definition() -> None:
    found = priced(load_stack(BLUEPRINTS / "sqs-dynamic-target-tracking"))
    task = found["aws_ecs_task_definition.this"]
    assert sizes(task, "cpu", "memory") == {"cpu": 256, "memory": 512}
    assert task.region == "us-west-2"
