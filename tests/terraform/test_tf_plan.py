"""Plan JSON: the same stack gives the same resources from HCL and from `terraform show -json`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from leanstack.model import UNKNOWN, IssueCode, Resource
from leanstack.terraform import load_stack

PARITY = Path(__file__).resolve().parent.parent / "fixtures" / "terraform" / "plan-parity"

# Attributes the cost models read for the types in the parity stack.
PRICING_ATTRS = {
    "aws_ecs_service": ["desired_count", "launch_type", "capacity_provider_strategy"],
    "aws_ecs_task_definition": ["cpu", "memory", "runtime_platform", "requires_compatibilities"],
    "aws_sqs_queue": ["fifo_queue"],
    "aws_lambda_function": ["memory_size", "architectures"],
    "aws_db_instance": ["instance_class", "engine", "allocated_storage", "storage_type"],
    "aws_ecs_cluster": ["name"],
    "aws_ssm_parameter": ["type"],
}


def _scalar(value: Any) -> Any:
    # The provider schema types cpu/memory as strings ("512"); HCL keeps what was written (512).
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    if isinstance(value, dict):
        return {k: _scalar(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return value
    return str(value)


def _pricing_view(resource: Resource) -> dict[str, Any]:
    wanted = PRICING_ATTRS[resource.type]
    attrs = {k: _scalar(resource.attrs.get(k)) for k in wanted}
    # An empty list of blocks in a plan means the same as no block in HCL.
    attrs = {k: (None if v == [] else v) for k, v in attrs.items()}
    return {
        "type": resource.type,
        "name": resource.name,
        "module": resource.module,
        "region": resource.region,
        "attrs": attrs,
        "refs": dict(resource.refs),
    }


def test_hcl_and_plan_give_the_same_resources() -> None:
    hcl = load_stack(PARITY)
    plan = load_stack(PARITY / "plan.json")
    assert hcl.input_kind == "hcl"
    assert plan.input_kind == "plan"
    assert not hcl.issues
    assert not plan.issues
    hcl_view = {r.address: _pricing_view(r) for r in hcl.resources}
    plan_view = {r.address: _pricing_view(r) for r in plan.resources}
    assert sorted(hcl_view) == sorted(plan_view)
    for address, view in hcl_view.items():
        assert plan_view[address] == view, address
    # and the checks above are not vacuous
    assert hcl_view["aws_ecs_service.app"]["refs"] == {
        "cluster": ("aws_ecs_cluster.main",),
        "task_definition": ("aws_ecs_task_definition.app",),
    }
    assert hcl_view["module.db.aws_db_instance.this"]["refs"] == {
        "tags": ("aws_sqs_queue.jobs[1]",)
    }
    assert plan_view["aws_ecs_task_definition.app"]["region"] == "eu-west-1"


def test_plan_values_and_unknowns() -> None:
    plan = {r.address: r for r in load_stack(PARITY / "plan.json").resources}
    task = plan["aws_ecs_task_definition.app"]
    assert task.attrs["cpu"] == "512"
    assert task.block("runtime_platform") == {
        "cpu_architecture": "ARM64",
        "operating_system_family": "LINUX",
    }
    assert task.attrs["arn"] is UNKNOWN
    service = plan["aws_ecs_service.app"]
    assert service.attrs["cluster"] is UNKNOWN
    assert service.attrs["desired_count"] == 2
    small = plan['aws_lambda_function.worker["small"]']
    assert small.attrs["memory_size"] == 128
    assert small.blocks("environment") == [{"variables": {"QUEUE_URL": UNKNOWN}}]
    assert small.refs == {"environment": ("aws_sqs_queue.jobs[0]",)}
    db = plan["module.db.aws_db_instance.this"]
    assert db.module == "module.db"
    assert db.attrs["tags"] == {"queue": UNKNOWN}
    assert plan["aws_ssm_parameter.db_address"].refs == {
        "value": ("module.db.aws_db_instance.this",)
    }


def test_plan_next_to_config_gets_source_spans() -> None:
    hcl = {r.address: r for r in load_stack(PARITY).resources}
    result = load_stack(PARITY / "plan.json")
    for resource in result.resources:
        assert resource.source == hcl[resource.address].source, resource.address
        assert resource.attr_sources == hcl[resource.address].attr_sources
    assert hcl["aws_ecs_task_definition.app"].attr_sources["cpu"].file == "variables.tf"
    assert set(result.files) == {"plan.json", "main.tf", "variables.tf", "modules/db/main.tf"}


def test_plan_alone_has_no_spans(tmp_path: Path) -> None:
    lone = tmp_path / "plan.json"
    shutil.copy(PARITY / "plan.json", lone)
    result = load_stack(lone)
    assert len(result.resources) == 9
    assert all(r.source is None for r in result.resources)
    assert result.root == tmp_path.resolve()
    assert set(result.files) == {"plan.json"}


def test_plan_region_from_constant_and_resource_region(tmp_path: Path) -> None:
    document = json.loads((PARITY / "plan.json").read_text())
    document["configuration"]["provider_config"]["aws"]["expressions"]["region"] = {
        "constant_value": "ap-southeast-2"
    }
    queue = document["planned_values"]["root_module"]["resources"][-2]
    assert queue["type"] == "aws_sqs_queue"
    queue["values"]["region"] = "sa-east-1"  # AWS provider 6 writes the region per resource
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    regions = {r.address: r.region for r in load_stack(path).resources}
    assert regions["aws_ecs_cluster.main"] == "ap-southeast-2"
    assert regions["module.db.aws_db_instance.this"] == "ap-southeast-2"
    assert regions[queue["address"]] == "sa-east-1"


@pytest.mark.parametrize(
    "document",
    [
        {"format_version": "1.0"},
        {"format_version": "1.2", "planned_values": []},
        {"format_version": "1.2", "planned_values": {"root_module": {"resources": "nope"}}},
    ],
)
def test_malformed_plans_are_one_line_issues(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = load_stack(path)
    assert result.resources == ()
    assert [i.code for i in result.issues] == [IssueCode.PLAN_ERROR]
    assert "\n" not in result.issues[0].line()


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_parity_stack_is_valid_terraform_syntax() -> None:
    # `terraform fmt` parses HCL offline; it fails on any syntax error.
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", str(PARITY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_state_json_from_terraform_show(tmp_path: Path) -> None:
    # `terraform show -json` without a plan file prints the state: same modules, under "values".
    plan = json.loads((PARITY / "plan.json").read_text())
    state = {
        "format_version": "1.0",
        "terraform_version": "1.11.4",
        "values": plan["planned_values"],
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    result = load_stack(path)
    assert not result.issues
    addresses = {r.address for r in result.resources}
    assert addresses == {r.address for r in load_stack(PARITY).resources}
    assert all(r.refs == {} for r in result.resources)  # a state has no configuration
