"""Loading HCL directories: instances, modules, variables, regions, references, spans, errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from leanstack.model import UNKNOWN, IssueCode, Resource, SourceSpan
from leanstack.terraform import load_stack

StackWriter = Callable[[dict[str, str]], Path]


def by_address(resources: tuple[Resource, ...]) -> dict[str, Resource]:
    return {r.address: r for r in resources}


def test_count_and_for_each_addresses(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            variable "queues" {
              default = ["a", "b"]
            }

            resource "aws_sqs_queue" "q" {
              count = length(var.queues)
              name  = "q-${count.index}-${var.queues[count.index]}"
            }

            resource "aws_sqs_queue" "none" {
              count = 0
              name  = "never"
            }

            resource "aws_lambda_function" "fn" {
              for_each      = { small = 128, big = 2048 }
              function_name = each.key
              memory_size   = each.value
            }

            resource "aws_sqs_queue" "set" {
              for_each = toset(["z", "y"])
              name     = "set-${each.value}"
            }
            """
        }
    )
    resources = by_address(load_stack(root).resources)
    assert list(resources) == [
        "aws_sqs_queue.q[0]",
        "aws_sqs_queue.q[1]",
        'aws_lambda_function.fn["big"]',
        'aws_lambda_function.fn["small"]',
        'aws_sqs_queue.set["y"]',
        'aws_sqs_queue.set["z"]',
    ]
    assert resources["aws_sqs_queue.q[1]"].attrs["name"] == "q-1-b"
    assert resources['aws_lambda_function.fn["big"]'].attrs == {
        "function_name": "big",
        "memory_size": 2048,
    }
    assert resources['aws_sqs_queue.set["y"]'].attrs["name"] == "set-y"
    assert resources["aws_sqs_queue.q[0]"].name == "q"
    assert resources["aws_sqs_queue.q[0]"].type == "aws_sqs_queue"


def test_modules_inputs_outputs_and_addresses(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            module "svc" {
              source   = "./modules/svc"
              for_each = { api = 512, web = 256 }
              name     = each.key
              cpu      = each.value
              cluster  = aws_ecs_cluster.main.id
            }

            module "counted" {
              source = "./modules/svc"
              count  = 1
              name   = "batch"
              cluster = local.cluster_id
            }

            locals {
              cluster_id = aws_ecs_cluster.main.id
            }

            resource "aws_ecs_cluster" "main" {
              name = "main"
            }

            resource "aws_ssm_parameter" "family" {
              name  = "family"
              value = module.svc["api"].family
            }

            resource "aws_ssm_parameter" "arn" {
              name  = "arn"
              value = module.counted[0].task_arn
            }
            """,
            "modules/svc/main.tf": """
            variable "name" {}
            variable "cluster" {}
            variable "cpu" {
              type    = number
              default = "1024"
            }

            resource "aws_ecs_task_definition" "t" {
              family = "fam-${var.name}"
              cpu    = var.cpu
              memory = var.cpu * 2
            }

            resource "aws_ecs_service" "s" {
              name            = var.name
              cluster         = var.cluster
              task_definition = aws_ecs_task_definition.t.arn
            }

            module "inner" {
              source = "./inner"
              parent_family = aws_ecs_task_definition.t.family
            }

            output "family" {
              value = aws_ecs_task_definition.t.family
            }

            output "task_arn" {
              value = aws_ecs_task_definition.t.arn
            }
            """,
            "modules/svc/inner/main.tf": """
            variable "parent_family" {}

            resource "aws_sqs_queue" "q" {
              name = "${var.parent_family}-q"
            }
            """,
        }
    )
    result = load_stack(root)
    resources = by_address(result.resources)
    api_task = resources['module.svc["api"].aws_ecs_task_definition.t']
    assert api_task.attrs == {"family": "fam-api", "cpu": 512, "memory": 1024}
    assert api_task.module == 'module.svc["api"]'
    assert resources['module.svc["web"].aws_ecs_task_definition.t'].attrs["cpu"] == 256
    batch = resources["module.counted[0].aws_ecs_task_definition.t"]
    assert batch.attrs["cpu"] == 1024  # default "1024" converted by `type = number`
    inner = resources['module.svc["web"].module.inner.aws_sqs_queue.q']
    assert inner.attrs["name"] == "fam-web-q"
    assert inner.module == 'module.svc["web"].module.inner'

    service = resources['module.svc["api"].aws_ecs_service.s']
    assert service.refs["task_definition"] == ('module.svc["api"].aws_ecs_task_definition.t',)
    assert service.refs["cluster"] == ("aws_ecs_cluster.main",)  # through a module input
    assert service.attrs["cluster"] is UNKNOWN
    # through a local, then a module input
    assert resources["module.counted[0].aws_ecs_service.s"].refs["cluster"] == (
        "aws_ecs_cluster.main",
    )
    # through a module output
    family = resources["aws_ssm_parameter.family"]
    assert family.attrs["value"] == "fam-api"
    assert family.refs["value"] == ('module.svc["api"].aws_ecs_task_definition.t',)
    assert resources["aws_ssm_parameter.arn"].refs["value"] == (
        "module.counted[0].aws_ecs_task_definition.t",
    )
    assert resources["aws_ssm_parameter.arn"].attrs["value"] is UNKNOWN
    assert not result.issues


def test_references_resolve_to_instances(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            resource "aws_subnet" "s" {
              count = 3
              cidr_block = cidrsubnet("10.0.0.0/16", 8, count.index)
            }

            resource "aws_lb" "one" {
              subnets = [aws_subnet.s[1].id]
            }

            resource "aws_lb" "all" {
              subnets = aws_subnet.s[*].id
            }

            resource "aws_ecs_cluster" "c" {
              name = "c"
            }

            resource "aws_appautoscaling_target" "t" {
              resource_id = "service/${aws_ecs_cluster.c.name}/x"
              min_capacity = 1
            }
            """
        }
    )
    resources = by_address(load_stack(root).resources)
    assert resources["aws_subnet.s[2]"].attrs["cidr_block"] == "10.0.2.0/24"
    assert resources["aws_lb.one"].refs == {"subnets": ("aws_subnet.s[1]",)}
    assert resources["aws_lb.all"].refs == {
        "subnets": ("aws_subnet.s[0]", "aws_subnet.s[1]", "aws_subnet.s[2]")
    }
    target = resources["aws_appautoscaling_target.t"]
    assert target.attrs["resource_id"] == "service/c/x"
    assert target.refs == {"resource_id": ("aws_ecs_cluster.c",)}
    assert "min_capacity" not in target.refs


def test_nested_and_dynamic_blocks(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            locals {
              strategy = { FARGATE = 1, FARGATE_SPOT = 3 }
            }

            resource "aws_ecs_service" "s" {
              name = "s"
              dynamic "capacity_provider_strategy" {
                for_each = local.strategy
                iterator = cp
                content {
                  capacity_provider = cp.key
                  weight            = cp.value
                  base              = cp.key == "FARGATE" ? 1 : 0
                }
              }
              network_configuration {
                subnets = ["a"]
              }
              lifecycle {
                ignore_changes = [desired_count]
              }
            }

            resource "aws_ecs_task_definition" "t" {
              runtime_platform {
                cpu_architecture = "ARM64"
              }
              ephemeral_storage {
                size_in_gib = 30
              }
            }
            """
        }
    )
    resources = by_address(load_stack(root).resources)
    service = resources["aws_ecs_service.s"]
    assert service.blocks("capacity_provider_strategy") == [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    assert service.attrs["network_configuration"] == [{"subnets": ["a"]}]
    assert "lifecycle" not in service.attrs
    task = resources["aws_ecs_task_definition.t"]
    assert task.block("runtime_platform") == {"cpu_architecture": "ARM64"}
    assert task.block("ephemeral_storage") == {"size_in_gib": 30}


def test_variable_precedence_and_spans(write_stack: StackWriter, tmp_path: Path) -> None:
    root = write_stack(
        {
            "variables.tf": """
            variable "a" {
              default = "default"
            }
            variable "b" {
              default = "default"
            }
            variable "c" {
              default = "default"
            }
            variable "d" {
              default = "default"
            }
            variable "e" {
              default = "default"
            }
            variable "cpu" {
              type    = number
              default = 256
            }
            variable "subnets" {
              type    = list(string)
              default = []
            }
            """,
            "main.tf": """
            resource "test_vars" "v" {
              a       = var.a
              b       = var.b
              c       = var.c
              d       = var.d
              e       = var.e
              cpu     = var.cpu
              subnets = var.subnets
              literal = "x-${var.a}"
            }
            """,
            "terraform.tfvars": 'b = "tfvars"\nc = "tfvars"\nd = "tfvars"\ne = "tfvars"\n',
            "b.auto.tfvars": 'c = "auto-b"\nd = "auto-b"\ne = "auto-b"\n',
            "a.auto.tfvars": 'c = "auto-a"\n',
        }
    )
    extra = tmp_path / "extra.tfvars"
    extra.write_text('d = "var-file"\ne = "var-file"\n')
    result = load_stack(
        root,
        var_files=[extra],
        variables={"e": "cli", "cpu": "1024", "subnets": '["s1", "s2"]'},
    )
    (res,) = result.resources
    assert res.attrs == {
        "a": "default",
        "b": "tfvars",
        "c": "auto-b",  # auto.tfvars files apply in lexical order: b after a
        "d": "var-file",
        "e": "cli",
        "cpu": 1024,
        "subnets": ["s1", "s2"],
        "literal": "x-default",
    }
    assert res.attr_sources["a"] == SourceSpan(file="variables.tf", start_line=2, end_line=2)
    assert res.attr_sources["b"] == SourceSpan(file="terraform.tfvars", start_line=1, end_line=1)
    assert res.attr_sources["c"] == SourceSpan(file="b.auto.tfvars", start_line=1, end_line=1)
    assert res.attr_sources["d"].file == "../extra.tfvars"
    assert res.attr_sources["d"].start_line == 1
    # a value from the command line has no file: the attribute itself is the place to edit
    assert res.attr_sources["e"] == SourceSpan(file="main.tf", start_line=6, end_line=6)
    assert res.attr_sources["literal"] == SourceSpan(file="main.tf", start_line=9, end_line=9)
    assert res.source == SourceSpan(file="main.tf", start_line=1, end_line=10)
    assert not result.issues


def test_module_argument_span_follows_variables(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "variables.tf": 'variable "db_class" {\n  default = "db.t3.micro"\n}\n',
            "main.tf": """
            module "db" {
              source         = "./db"
              instance_class = var.db_class
              storage        = 50
            }
            """,
            "db/main.tf": """
            variable "instance_class" {}
            variable "storage" {}
            variable "engine" {
              default = "postgres"
            }
            resource "aws_db_instance" "this" {
              instance_class    = var.instance_class
              allocated_storage = var.storage
              engine            = var.engine
            }
            """,
        }
    )
    (db,) = load_stack(root).resources
    assert db.attrs == {
        "instance_class": "db.t3.micro",
        "allocated_storage": 50,
        "engine": "postgres",
    }
    assert db.attr_sources["instance_class"] == SourceSpan(
        file="variables.tf", start_line=2, end_line=2
    )
    assert db.attr_sources["allocated_storage"] == SourceSpan(
        file="main.tf", start_line=4, end_line=4
    )
    assert db.attr_sources["engine"] == SourceSpan(file="db/main.tf", start_line=4, end_line=4)
    assert db.source == SourceSpan(file="db/main.tf", start_line=6, end_line=10)


def test_regions_from_providers(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            variable "region" {
              default = "eu-west-1"
            }
            provider "aws" {
              region = var.region
            }
            provider "aws" {
              alias  = "use1"
              region = "us-east-1"
            }
            resource "aws_sqs_queue" "default" {}
            resource "aws_sqs_queue" "aliased" {
              provider = aws.use1
            }
            module "inherits" {
              source = "./child"
            }
            module "mapped" {
              source = "./child"
              providers = {
                aws = aws.use1
              }
            }
            """,
            "child/main.tf": 'resource "aws_sqs_queue" "q" {}\n',
        }
    )
    regions = {r.address: r.region for r in load_stack(root).resources}
    assert regions == {
        "aws_sqs_queue.default": "eu-west-1",
        "aws_sqs_queue.aliased": "us-east-1",
        "module.inherits.aws_sqs_queue.q": "eu-west-1",
        "module.mapped.aws_sqs_queue.q": "us-east-1",
    }
    moved = load_stack(root, variables={"region": "ap-south-1"})
    regions = {r.address: r.region for r in moved.resources}
    assert regions["module.inherits.aws_sqs_queue.q"] == "ap-south-1"


def test_default_region_without_provider_block(write_stack: StackWriter) -> None:
    root = write_stack({"main.tf": 'resource "aws_sqs_queue" "q" {}\n'})
    result = load_stack(root)
    assert result.resources[0].region == "us-east-1"
    assert not result.issues


def test_data_sources_are_not_resources(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            data "aws_vpc" "main" {
              default = true
            }
            data "aws_region" "current" {}
            resource "aws_security_group" "sg" {
              vpc_id = data.aws_vpc.main.id
              name   = "sg-${data.aws_region.current.name}"
            }
            """
        }
    )
    result = load_stack(root)
    (sg,) = result.resources
    assert sg.attrs["vpc_id"] is UNKNOWN
    assert sg.attrs["name"] == "sg-us-east-1"  # the region is known from the provider
    assert sg.refs == {}


def test_undefined_variable(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "variables.tf": '# sizes\nvariable "size" {\n  type = number\n}\n',
            "main.tf": 'resource "aws_db_instance" "db" {\n  allocated_storage = var.size\n}\n',
        }
    )
    result = load_stack(root)
    (db,) = result.resources
    assert db.attrs["allocated_storage"] is UNKNOWN
    (issue,) = result.issues
    assert issue.code == IssueCode.UNDEFINED_VARIABLE
    assert issue.where == "variables.tf:2"
    assert '"size"' in issue.message
    # supplying it makes the issue go away
    fixed = load_stack(root, variables={"size": "20"})
    assert fixed.resources[0].attrs["allocated_storage"] == 20
    assert not fixed.issues


def test_missing_registry_module(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            module "vpc" {
              source  = "terraform-aws-modules/vpc/aws"
              version = "5.0.0"
            }

            resource "aws_security_group" "sg" {
              vpc_id = module.vpc.vpc_id
            }
            """
        }
    )
    result = load_stack(root)
    (sg,) = result.resources
    assert sg.attrs["vpc_id"] is UNKNOWN
    (issue,) = result.issues
    assert issue.code == IssueCode.MISSING_MODULE
    assert issue.where == "main.tf:1"
    assert '"vpc"' in issue.message
    assert "terraform-aws-modules/vpc/aws" in issue.message


def test_downloaded_module_found_through_manifest(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": (
                'module "queue" {\n  source = "terraform-aws-modules/sqs/aws"\n  name = "jobs"\n}\n'
            ),
            ".terraform/modules/queue/main.tf": (
                'variable "name" {}\nresource "aws_sqs_queue" "this" {\n  name = var.name\n}\n'
            ),
            ".terraform/modules/modules.json": json.dumps(
                {
                    "Modules": [
                        {"Key": "", "Source": "", "Dir": "."},
                        {
                            "Key": "queue",
                            "Source": "registry.terraform.io/terraform-aws-modules/sqs/aws",
                            "Version": "4.0.0",
                            "Dir": ".terraform/modules/queue",
                        },
                    ]
                }
            ),
        }
    )
    result = load_stack(root)
    (queue,) = result.resources
    assert queue.address == "module.queue.aws_sqs_queue.this"
    assert queue.attrs["name"] == "jobs"
    assert queue.source is not None
    assert queue.source.file == ".terraform/modules/queue/main.tf"
    assert not result.issues


def test_malformed_file_is_reported_and_others_still_load(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "good.tf": 'resource "aws_sqs_queue" "ok" {\n  name = "ok"\n}\n',
            "bad.tf": 'resource "aws_sqs_queue" "broken" {\n  name = \n\n  delay = [1, 2\n}\n',
        }
    )
    result = load_stack(root)
    assert [r.address for r in result.resources] == ["aws_sqs_queue.ok"]
    (issue,) = result.issues
    assert issue.code == IssueCode.PARSE_ERROR
    assert issue.where == "bad.tf:2"  # `name =` with no value
    assert issue.message.startswith("syntax error")


def test_files_are_hashed(write_stack: StackWriter) -> None:
    text = 'resource "aws_sqs_queue" "q" {}\n'
    root = write_stack({"main.tf": text, "terraform.tfvars": "", "notes.txt": "x"})
    result = load_stack(root)
    assert result.files == {
        "main.tf": hashlib.sha256(text.encode()).hexdigest(),
        "terraform.tfvars": hashlib.sha256(b"").hexdigest(),
    }
    assert result.input_kind == "hcl"
    assert result.root == root.resolve()


def test_unknown_count_is_counted_once_with_an_issue(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            data "aws_availability_zones" "azs" {}
            resource "aws_nat_gateway" "nat" {
              count = length(data.aws_availability_zones.azs.names)
            }
            """
        }
    )
    result = load_stack(root)
    assert [r.address for r in result.resources] == ["aws_nat_gateway.nat"]
    (issue,) = result.issues
    assert issue.code == IssueCode.UNKNOWN_VALUE
    assert issue.where == "main.tf:3"


def test_path_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_stack(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = load_stack(empty)
    assert result.resources == ()
    assert [i.code for i in result.issues] == [IssueCode.PARSE_ERROR]


def test_json_that_is_not_a_plan(tmp_path: Path) -> None:
    not_plan = tmp_path / "state.json"
    not_plan.write_text('{"hello": "world"}')
    result = load_stack(not_plan)
    (issue,) = result.issues
    assert issue.code == IssueCode.PLAN_ERROR
    assert issue.where == "state.json"
    assert "\n" not in issue.message
    broken = tmp_path / "broken.json"
    broken.write_text('{"format_version": "1.2",\n  "planned_values": {')
    (issue,) = load_stack(broken).issues
    assert issue.code == IssueCode.PLAN_ERROR
    assert "line 2" in issue.message


def test_unknown_provider_region_is_one_issue(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            variable "region" {}
            provider "aws" {
              region = var.region
            }
            resource "aws_sqs_queue" "a" {}
            resource "aws_sqs_queue" "b" {}
            module "child" {
              source = "./child"
            }
            """,
            "child/main.tf": 'resource "aws_sqs_queue" "c" {}\n',
        }
    )
    result = load_stack(root)
    assert {r.region for r in result.resources} == {"us-east-1"}
    codes = sorted((i.code, i.where) for i in result.issues)
    assert codes == [
        (IssueCode.UNDEFINED_VARIABLE, "main.tf:1"),
        (IssueCode.UNKNOWN_VALUE, "main.tf:3"),
    ]


def test_bad_variable_values_are_issues(write_stack: StackWriter) -> None:
    root = write_stack(
        {
            "main.tf": """
            variable "size" {
              type = number
            }
            variable "name" {}
            resource "aws_db_instance" "db" {
              allocated_storage = var.size
              identifier        = var.name
            }
            """,
            "terraform.tfvars": "name = local.nope\n",
        }
    )
    result = load_stack(root, variables={"size": "[unclosed"})
    (db,) = result.resources
    assert db.attrs == {"allocated_storage": UNKNOWN, "identifier": UNKNOWN}
    wheres = sorted(i.where for i in result.issues)
    assert wheres == ["--var size", "terraform.tfvars:1"]
    assert all(i.code == IssueCode.EVALUATION_ERROR for i in result.issues)


def test_for_each_of_a_wrong_type(write_stack: StackWriter) -> None:
    root = write_stack(
        {"main.tf": 'resource "aws_sqs_queue" "q" {\n  for_each = [1, 2]\n  name = "x"\n}\n'}
    )
    result = load_stack(root)
    assert [r.address for r in result.resources] == ["aws_sqs_queue.q"]
    (issue,) = result.issues
    assert issue.code == IssueCode.EVALUATION_ERROR
    assert "must be a map or a set of strings" in issue.message
    assert issue.where == "main.tf:2"


def test_json_tfvars_and_long_reference_chains(write_stack: StackWriter) -> None:
    chain = "\n".join(f"  l{i} = local.l{i - 1} + 1" for i in range(1, 400))
    root = write_stack(
        {
            "main.tf": f"""
variable "class" {{}}
variable "flags" {{
  type = object({{ multi_az = bool, storage = optional(number, 20) }})
}}
locals {{
  l0 = 0
{chain}
}}
resource "aws_db_instance" "db" {{
  instance_class    = var.class
  multi_az          = var.flags.multi_az
  allocated_storage = var.flags.storage
  iops              = local.l399
}}
""",
            "terraform.tfvars.json": json.dumps(
                {"class": "db.r6g.large", "flags": {"multi_az": True}}, indent=2
            ),
        }
    )
    result = load_stack(root)
    (db,) = result.resources
    assert db.attrs == {
        "instance_class": "db.r6g.large",
        "multi_az": True,
        "allocated_storage": 20,  # optional() default
        "iops": 399,
    }
    assert db.attr_sources["instance_class"] == SourceSpan(
        file="terraform.tfvars.json", start_line=2, end_line=2
    )
    assert not result.issues
