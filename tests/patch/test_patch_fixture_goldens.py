"""Golden patches on the four real fixture stacks, with changes written by hand.

The values are read back through the Terraform loader after the patch is applied.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from patch_helpers import GOLDEN, REPO, req

from leanstack.patch import PatchRequest, apply_patch, plan_patch
from leanstack.terraform import load_stack

FIXTURES = REPO / "tests" / "fixtures" / "terraform"

CAPACITY = (
    'resource "aws_ecs_cluster_capacity_providers" "cluster" {\n'
    "  cluster_name = aws_ecs_cluster.cluster.name\n"
    '  capacity_providers = ["FARGATE", "FARGATE_SPOT"]\n'
    "}\n"
)

CASES: dict[str, tuple[str, tuple[PatchRequest, ...]]] = {
    "duduribeiro": (
        "duduribeiro__terraform_ecs_fargate_example",
        (
            req("web-size", "module.ecs.aws_ecs_task_definition.web.cpu", "256", "512"),
            req("web-size", "module.ecs.aws_ecs_task_definition.web.memory", "512", "1024"),
            req(
                "db", "module.rds.aws_db_instance.rds.instance_class", "db.t2.micro", "db.t4g.micro"
            ),
            req("scale", "module.ecs.aws_appautoscaling_target.target.max_capacity", 4, 6),
            req(
                "spot",
                "module.ecs.aws_ecs_cluster_capacity_providers.cluster",
                None,
                None,
                CAPACITY,
            ),
        ),
    ),
    "langfuse": (
        "imran-KG__langfuse-ecs-fargate-terraform/infra",
        (
            req("web", "module.langfuse.aws_ecs_task_definition.web.cpu", 1024, 512),
            req("web", "module.langfuse.aws_ecs_task_definition.web.memory", 2048, 1024),
            req(
                "cache",
                "module.langfuse.aws_elasticache_cluster.main.node_type",
                "cache.t4g.micro",
                "cache.t4g.small",
            ),
            req("logs", "module.langfuse.aws_cloudwatch_log_group.web.retention_in_days", 30, 14),
        ),
    ),
    "ecs-blueprints": (
        "aws-ia__ecs-blueprints/terraform/fargate-examples/backstage",
        (
            req(
                "spec",
                "module.codebuild_ci.aws_codebuild_project.this.source.buildspec",
                "./templates/buildspec.yml",
                "./templates/buildspec-arm.yml",
            ),
        ),
    ),
    "opg-lpa": (
        "ministryofjustice__opg-lpa/terraform/environment",
        (
            req("api", "module.eu-west-1.aws_ecs_task_definition.api.cpu", 512, 256),
            req("api", "module.eu-west-2.aws_ecs_task_definition.api.cpu", 512, 256),
            req("api", "module.eu-west-1.aws_ecs_task_definition.api.memory", 1024, 512),
            req("api", "module.eu-west-2.aws_ecs_task_definition.api.memory", 1024, 512),
            # Only one region: the module file is shared, so this one is skipped.
            req("pdf", "module.eu-west-1.aws_ecs_task_definition.pdf.cpu", 2048, 1024),
        ),
    ),
}


def _stack(name: str, copy_stack: Callable[[Path], Path] | None = None) -> Path:
    relpath = CASES[name][0]
    if not (FIXTURES / relpath).is_dir():
        pytest.skip(f"{relpath} is not among the fixture stacks")
    if copy_stack is None:
        return FIXTURES / relpath
    top = copy_stack(FIXTURES / relpath.split("/")[0])
    return top / Path(*relpath.split("/")[1:])


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_patch_matches_golden(name: str, golden: Callable[[Path, str], None]) -> None:
    plan = plan_patch(_stack(name), CASES[name][1])
    golden(GOLDEN / "fixtures" / f"{name}.diff", plan.diff())


TOUCHED: dict[str, dict[str, tuple[str, ...]]] = {
    "duduribeiro": {
        "modules/ecs/main.tf": ('cpu                      = "256"', "max_capacity       = 4"),
        "production.tf": ('instance_class    = "db.t2.micro"',),
    },
    "langfuse": {
        "modules/langfuse/web.tf": ("retention_in_days = 30",),
        "variables.tf": (
            'default     = "cache.t4g.micro"',
            "default     = 1024",
            "default     = 2048",
        ),
    },
    "ecs-blueprints": {"codepipeline.tf": ('buildspec_path = "./templates/buildspec.yml"',)},
    "opg-lpa": {"modules/environment/ecs_api.tf": ("cpu                      = 512",)},
}
"""For each stack, lines (found by their text) whose neighbourhood the patch may change: the
line itself, and for `cpu` the `memory` line right after it."""


def _lines(path: Path, needle: str) -> set[int]:
    lines = path.read_text().splitlines()
    found = {i + 1 for i, line in enumerate(lines) if needle in line}
    assert found, (path, needle)
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_patch_touches_only_the_intended_lines(name: str) -> None:
    root = _stack(name)
    plan = plan_patch(root, CASES[name][1])
    expected = TOUCHED[name]
    assert {p.relpath for p in plan.files if p.before is not None} == set(expected)
    for patch in plan.files:
        if patch.before is None:
            continue
        allowed: set[int] = set()
        for needle in expected[patch.relpath]:
            for line in _lines(root / patch.relpath, needle):
                allowed.update({line, line + 1} if "cpu " in needle else {line})
        old = patch.before.decode().splitlines()
        new = patch.after.decode().splitlines()
        touched: set[int] = set()
        for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
            if tag in ("replace", "delete"):
                touched.update(range(i1 + 1, i2 + 1))
        assert touched and touched <= allowed, (patch.relpath, touched, allowed)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_patch_reads_back(name: str, copy_stack: Callable[[Path], Path]) -> None:
    root = _stack(name, copy_stack)
    plan = plan_patch(root, CASES[name][1])
    result = apply_patch(plan, run_fmt=False)
    assert result.ok, [p.line() for p in result.problems]
    resources = {r.address: r for r in load_stack(root).resources}
    for change in plan.changes:
        if change.kind == "new_block" or not any(change.path.startswith(a) for a in resources):
            continue  # a new resource, or a module instance the loader evaluates to none
        # The longest resource address the path starts with (nested attributes go deeper).
        address = max((a for a in resources if change.path.startswith(a + ".")), key=len)
        attrs = resources[address].attrs
        for part in change.path[len(address) + 1 :].split("."):
            attrs = attrs[0] if isinstance(attrs, list) else attrs
            attrs = attrs[part]
        assert str(attrs) == str(change.after), change.path
