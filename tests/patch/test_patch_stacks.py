"""The patch on examples/raptorflow (the seed's changes) and on the real fixture stacks."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from patch_cases import RAPTORFLOW
from patch_helpers import GOLDEN, REPO, req

from leanstack.model.resource import is_known
from leanstack.patch import PatchRequest, apply_patch, plan_patch
from leanstack.patch.costdiff import diff_costs, estimate_stack
from leanstack.terraform import load_stack

RAPTORFLOW_DIR = REPO / "examples" / "raptorflow"
FIXTURES = REPO / "tests" / "fixtures" / "terraform"
TERRAFORM = shutil.which("terraform")


def test_raptorflow_diff_matches_golden(golden: Callable[[Path, str], None]) -> None:
    plan = plan_patch(RAPTORFLOW_DIR, RAPTORFLOW)
    assert not plan.skipped, [s.line() for s in plan.skipped]
    text = plan.diff()
    golden(GOLDEN / "raptorflow.diff", text)
    # The seed's values live in variable defaults and the module input: edited there.
    changed = sorted(line[6:] for line in text.splitlines() if line.startswith("+++ b/"))
    assert changed == [
        "leanstack_recommendations.tf",
        "main.tf",
        "modules/rds/main.tf",
        "variables.tf",
    ]
    assert '-  default = "512"\n+  default = "256"' in text
    assert '-  default = "db.t3.micro"\n+  default = "db.t4g.micro"' in text


def test_raptorflow_patched_reparses_and_costs_less(copy_stack: Callable[[Path], Path]) -> None:
    root = copy_stack(RAPTORFLOW_DIR)
    result = apply_patch(plan_patch(root, RAPTORFLOW), run_fmt=TERRAFORM is not None)
    assert result.ok, result.problems
    if TERRAFORM is not None:
        assert result.fmt is not None and result.fmt.ok, result.fmt.output
    resources = {r.address: r for r in load_stack(root).resources}
    task = resources["aws_ecs_task_definition.api"].attrs
    assert (str(task["cpu"]), str(task["memory"])) == ("256", "512")
    assert resources["module.rds.aws_db_instance.main"].attrs["instance_class"] == "db.t4g.micro"
    assert resources["aws_elasticache_cluster.redis"].attrs["node_type"] == "cache.t4g.micro"
    assert "launch_type" not in resources["aws_ecs_service.api"].attrs
    assert "aws_ecs_cluster_capacity_providers.main" in resources
    base, _ = estimate_stack(RAPTORFLOW_DIR)
    head, _ = estimate_stack(root)
    diff = diff_costs(base, head)
    deltas = {line.address: line.delta for line in diff.lines}
    for address in (
        "aws_ecs_service.api",
        "module.rds.aws_db_instance.main",
        "aws_elasticache_cluster.redis",
    ):
        assert deltas[address] < 0, address
    assert diff.delta < 0


def _literal_changes(root: Path) -> list[PatchRequest]:
    """One change per known scalar attribute of every managed resource the loader sees."""
    requests: list[PatchRequest] = []
    for resource in load_stack(root).resources:
        if resource.mode != "managed":
            continue
        for attr, value in resource.attrs.items():
            after: Any
            if isinstance(value, bool) or not is_known(value):
                continue
            if isinstance(value, int | Decimal):
                after = value + 1
            elif isinstance(value, str) and attr != "name":
                after = value + "-x"
            else:
                continue
            path = f"{resource.address}.{attr}"
            requests.append(req("all", path, value, after))
    return requests


STACK_DIRS = [
    "duduribeiro__terraform_ecs_fargate_example",
    "imran-KG__langfuse-ecs-fargate-terraform/infra",
    "aws-ia__ecs-blueprints/terraform/fargate-examples/backstage",
    "ministryofjustice__opg-lpa/terraform/region",
]


@pytest.mark.parametrize("relpath", STACK_DIRS)
def test_every_literal_of_a_real_stack_patches_and_reads_back(
    relpath: str, copy_stack: Callable[[Path], Path]
) -> None:
    source = FIXTURES / relpath
    if not source.is_dir():
        pytest.skip(f"{relpath} is not among the fixture stacks")
    # Copy the whole fixture repository: modules may live beside the stack directory.
    top = FIXTURES / relpath.split("/")[0]
    root = copy_stack(top) / Path(*relpath.split("/")[1:])
    requests = _literal_changes(root)
    plan = plan_patch(root, requests)
    assert plan.changes, "nothing could be patched"
    assert len(plan.changes) + len(plan.skipped) == len(requests)
    for skipped in plan.skipped:
        assert skipped.reason and "\n" not in skipped.line()
    edited = [p.relpath for p in plan.files if p.before is not None]
    unformatted_before = _unformatted(root, edited)
    result = apply_patch(plan, run_fmt=False)
    # apply_patch re-reads the tree with the loader and rolls back on any mismatch.
    assert result.ok, [p.line() for p in result.problems[:3]]
    assert result.loader_checked == len([c for c in plan.changes if c.kind == "replace"])
    resources = {r.address: r for r in load_stack(root).resources}
    for change in plan.changes:
        address, attr = change.path.rsplit(".", 1)
        value = resources[address].attrs[attr]
        assert str(value) == str(change.after), change.path
    # The fixtures are not all fmt-clean: the patch must not make a clean file unclean.
    assert _unformatted(root, edited) <= unformatted_before


def _unformatted(root: Path, files: list[str]) -> set[str]:
    if TERRAFORM is None or not files:
        return set()
    proc = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-list=true", "-no-color", *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 2 and len(files) > 1:
        # A file terraform itself rejects (duplicate arguments in an old fixture): check the
        # files one by one, and count the rejected one as unformatted on both sides.
        return set().union(*(_unformatted(root, [f]) for f in files))
    if proc.returncode == 2:
        return set(files)
    assert proc.returncode in (0, 3), proc.stderr
    return set(proc.stdout.split())


def _real_report(root: Path) -> dict[str, Any]:
    """The report the pipeline writes for a stack: loader, estimate, analyzers, build_report."""
    from leanstack.analysis import run_analysis
    from leanstack.catalog import embedded_catalog
    from leanstack.estimate import estimate
    from leanstack.report import StackInput, build_report
    from leanstack.usage.usage_file import find_usage_file, load_usage_file

    loaded = load_stack(root)
    catalog = embedded_catalog()
    usage_path = find_usage_file(root)
    priced = estimate(loaded, catalog, load_usage_file(usage_path) if usage_path else None)
    result = run_analysis(priced, loaded.resources, None, catalog)
    report = build_report(
        priced=priced.resources,
        findings=result.findings,
        recommendations=result.recommendations,
        catalog_date=priced.catalog_date,
        catalog_source=priced.catalog_source,
        stack=StackInput(path=str(root), files=loaded.files),
    )
    data: dict[str, Any] = report.to_json()
    return data


def test_report_from_the_pipeline_patches_raptorflow(
    copy_stack: Callable[[Path], Path], tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from leanstack.cli import app

    runner = CliRunner()
    root = copy_stack(RAPTORFLOW_DIR)
    data = _real_report(root)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(data))
    shown = runner.invoke(app, ["patch", str(report)])
    assert shown.exit_code == 0, shown.stderr
    # New resources of every recommendation are in the diff, except those of an alternative
    # that saves less than another one of its exclusive group.
    recs = data["recommendations"]

    def beaten(rec: dict[str, Any]) -> bool:
        return any(
            other["exclusive_group"] == rec["exclusive_group"]
            and (Decimal(other["monthly_savings"]), other["id"])
            > (Decimal(rec["monthly_savings"]), rec["id"])
            for other in recs
            if rec["exclusive_group"]
        )

    assert recs, "the analyzers found nothing to patch on raptorflow"
    for rec in recs:
        for change in rec["changes"]:
            if change["new_block"]:
                # Each new resource comes under a comment with its recommendation's title and id.
                title = f"+# {' '.join(rec['title'].split())} ({rec['id']})\n"
                assert (title in shown.stdout) == (not beaten(rec)), title
            if beaten(rec):
                assert f"[{rec['id']}] left out" in shown.stderr
    written = runner.invoke(app, ["patch", str(report), "--write"])
    assert written.exit_code == 0, written.stderr
    assert written.stdout == shown.stdout
    cost = runner.invoke(app, ["diff", str(root), "--compare-to", str(report), "--format", "json"])
    assert cost.exit_code == 0, cost.stderr
    delta = Decimal(json.loads(cost.stdout)["delta"])
    assert delta < 0


@pytest.mark.parametrize("relpath", STACK_DIRS)
def test_new_attributes_and_blocks_in_a_real_stack(
    relpath: str, copy_stack: Callable[[Path], Path]
) -> None:
    top = FIXTURES / relpath.split("/")[0]
    if not (FIXTURES / relpath).is_dir():
        pytest.skip(f"{relpath} is not among the fixture stacks")
    root = copy_stack(top) / Path(*relpath.split("/")[1:])
    requests: list[PatchRequest] = []
    for resource in load_stack(root).resources:
        if resource.mode == "managed":
            requests.append(req("attr", f"{resource.address}.leanstack_probe", None, 7))
            requests.append(req("block", f"{resource.address}.timeouts.create", None, "10m"))
    plan = plan_patch(root, requests)
    assert plan.changes
    edited = [p.relpath for p in plan.files if p.before is not None]
    unformatted_before = _unformatted(root, edited)
    result = apply_patch(plan, run_fmt=False)
    assert result.ok, [p.line() for p in result.problems[:3]]
    resources = {r.address: r for r in load_stack(root).resources}
    for change in plan.changes:
        address = change.path.removesuffix(".leanstack_probe").removesuffix(".timeouts.create")
        attrs = resources[address].attrs
        if change.path.endswith(".leanstack_probe"):
            assert attrs["leanstack_probe"] == 7
        else:
            timeouts = attrs["timeouts"]
            assert (timeouts[0] if isinstance(timeouts, list) else timeouts)["create"] == "10m"
    assert _unformatted(root, edited) <= unformatted_before


def test_module_outside_the_stack_is_read_but_never_edited(
    copy_stack: Callable[[Path], Path],
) -> None:
    relpath = "aws-ia__ecs-blueprints/terraform/fargate-examples/backstage"
    if not (FIXTURES / relpath).is_dir():
        pytest.skip(f"{relpath} is not among the fixture stacks")
    root = copy_stack(FIXTURES / "aws-ia__ecs-blueprints") / Path(*relpath.split("/")[1:])
    project = "module.codebuild_ci.aws_codebuild_project.this"
    plan = plan_patch(
        root,
        [
            # buildspec = var.buildspec_path, set by the module call in the stack: edited there.
            req("spec", f"{project}.source.buildspec", None, "./templates/buildspec-arm.yml"),
            # build_timeout = var.build_timeout, the default in ../../modules: not edited.
            req("timeout", f"{project}.build_timeout", 10, 20),
        ],
    )
    assert [f.relpath for f in plan.files] == ["codepipeline.tf"]
    assert [s.recommendation for s in plan.skipped] == ["timeout"]
    assert plan.skipped[0].where.startswith("../../modules/codebuild/variables.tf:")
    assert "outside the stack" in plan.skipped[0].reason
    result = apply_patch(plan, run_fmt=False)
    assert result.ok, [p.line() for p in result.problems]
    resources = {r.address: r for r in load_stack(root).resources}
    source = resources[project].attrs["source"]
    assert (source[0] if isinstance(source, list) else source)["buildspec"] == (
        "./templates/buildspec-arm.yml"
    )
