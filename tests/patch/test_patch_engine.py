"""The patch engine on hand-made stacks: golden diffs, only intended lines, comments kept,
values re-read through the real loader, terraform fmt, skips with reasons."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
from patch_cases import BASIC, EDGE
from patch_helpers import GOLDEN, STACKS, req, tree_digest

from leanstack.patch import FilePatch, PatchPlan, PatchRequest, _hcl, apply_patch, plan_patch
from leanstack.terraform import load_stack

TERRAFORM = shutil.which("terraform")


def changed_old_lines(before: str, after: str) -> tuple[set[int], list[str]]:
    """1-based numbers of the original lines replaced or deleted, and the lines added."""
    old = before.splitlines()
    new = after.splitlines()
    removed: set[int] = set()
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed.update(range(i1 + 1, i2 + 1))
        if tag in ("replace", "insert"):
            added.extend(new[j1:j2])
    return removed, added


def line_of(path: Path, needle: str) -> int:
    """1-based line of the only line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(path.read_text().splitlines()) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def comments(data: bytes) -> Counter[str]:
    """Every comment in an HCL file, as a multiset."""
    tree = _hcl.parse(data)
    found: Counter[str] = Counter()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            found[_hcl.text(node).strip()] += 1
        stack.extend(node.children)
    return found


def value_at(attrs: Any, dotted: str) -> Any:
    """Walk a loader Resource's attrs by attribute/block names (a single block is entered)."""
    value = attrs
    for name in dotted.split("."):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        value = value[name]
    return value


def loose(value: Any) -> Any:
    """Normalise "256" and 256, 55 and 55.0 for comparison with the loader's values."""
    if isinstance(value, list):
        return [loose(v) for v in value]
    if isinstance(value, dict):
        return {k: loose(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(str(value))
    except ValueError:
        return value


# -- the basic stack ----------------------------------------------------------------------------


def test_basic_diff_matches_golden(golden: Callable[[Path, str], None]) -> None:
    plan = plan_patch(STACKS / "basic", BASIC)
    assert not plan.skipped, [s.line() for s in plan.skipped]
    golden(GOLDEN / "basic.diff", plan.diff())


def test_basic_diff_touches_only_intended_lines() -> None:
    root = STACKS / "basic"
    plan = plan_patch(root, BASIC)
    by_file = {f.relpath: f for f in plan.files}
    expected = {
        "variables.tf": {
            line_of(root / "variables.tf", '"512"'),
            line_of(root / "variables.tf", "1024"),
        },
        "terraform.tfvars": {line_of(root / "terraform.tfvars", "cache.t3.micro")},
        "main.tf": {
            line_of(root / "main.tf", "min_tasks = 1"),
            line_of(root / "main.tf", 'launch_type     = "FARGATE"'),
            line_of(root / "main.tf", "target_value"),
            line_of(root / "main.tf", 'instance_class = "db.t3.micro"'),
        },
        "modules/db/main.tf": {
            line_of(root / "modules/db/main.tf", "max_allocated_storage"),
            line_of(root / "modules/db/main.tf", 'Tier = "data"'),
        },
    }
    assert set(by_file) == {*expected, "leanstack_recommendations.tf"}
    for relpath, lines in expected.items():
        patch = by_file[relpath]
        assert patch.before is not None
        removed, _ = changed_old_lines(patch.before.decode(), patch.after.decode())
        assert removed == lines, relpath
    # The new file holds only the new resource (and its header comments).
    new = by_file["leanstack_recommendations.tf"]
    assert new.before is None
    assert b'resource "aws_budgets_budget" "monthly"' in new.after


def test_basic_keeps_comments_types_and_alignment() -> None:
    plan = plan_patch(STACKS / "basic", BASIC)
    for patch in plan.files:
        if patch.before is None:
            continue
        # Every comment of the original is still there (trailing ones included).
        assert not comments(patch.before) - comments(patch.after), patch.relpath
    after = {f.relpath: f.after.decode() for f in plan.files}
    # A string default stays a string, a number stays a number, 70.0 keeps its decimal point.
    assert 'default     = "256"' in after["variables.tf"]
    assert "default     = 512\n" in after["variables.tf"]
    assert "target_value       = 55.0 # percent" in after["main.tf"]
    # The trailing comment keeps its column after the value got one character shorter.
    assert "max_allocated_storage = 50 # autoscaling ceiling" in after["modules/db/main.tf"]
    # New nested blocks are aligned like terraform fmt writes them.
    assert '    capacity_provider = "FARGATE"\n    weight            = 30\n' in after["main.tf"]


def test_basic_patched_tree_reparses_to_recommended_values(
    copy_stack: Callable[[str], Path],
) -> None:
    root = copy_stack("basic")
    result = apply_patch(plan_patch(root, BASIC), run_fmt=False)
    assert result.ok, result.problems
    for path in [*root.rglob("*.tf"), *root.rglob("*.tfvars")]:
        data = path.read_bytes()
        assert _hcl.first_error(_hcl.parse(data)) is None, path
        hcl2.loads(data.decode())
    loaded = load_stack(root)
    resources = {r.address: r for r in loaded.resources}
    for request in BASIC:
        change = request.change
        if change.new_block is not None:
            assert change.path in resources
            continue
        address, attr = _split(change.path, resources)
        if change.after is None:
            assert attr not in resources[address].attrs
            continue
        assert loose(value_at(resources[address].attrs, attr)) == loose(change.after), change.path
    # The backup holds the original bytes.
    assert result.backup_dir is not None
    original = (STACKS / "basic" / "variables.tf").read_bytes()
    assert (result.backup_dir / "variables.tf").read_bytes() == original


def _split(path: str, resources: dict[str, Any]) -> tuple[str, str]:
    """(resource address, attribute path) of a change path: the longest address that fits."""
    for address in sorted(resources, key=len, reverse=True):
        if path.startswith(address + "."):
            return address, path[len(address) + 1 :]
    raise AssertionError(f"no resource for {path}")


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
@pytest.mark.parametrize(("name", "requests"), [("basic", BASIC), ("edge", EDGE)])
def test_patched_files_pass_terraform_fmt(
    name: str, requests: tuple[PatchRequest, ...], copy_stack: Callable[[str], Path]
) -> None:
    root = copy_stack(name)
    plan = plan_patch(root, requests)
    result = apply_patch(plan)
    assert result.ok and result.fmt is not None and result.fmt.ok, result.fmt
    proc = subprocess.run(
        [str(TERRAFORM), "fmt", "-check", "-recursive", "-diff", "-no-color"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )
    assert proc.returncode == 0, proc.stdout


def test_planning_writes_nothing(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    before = tree_digest(root)
    plan = plan_patch(root, BASIC)
    assert plan.diff()
    assert tree_digest(root) == before


def test_reapplying_is_a_no_op(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    assert apply_patch(plan_patch(root, BASIC), run_fmt=False).ok
    again = plan_patch(root, BASIC)
    assert again.empty
    # Applied before: reported as applied, not as skipped (nothing to warn about).
    assert not again.skipped
    assert {a.recommendation for a in again.applied} == {r.recommendation for r in BASIC}
    assert all(a.already and "already" in a.reason for a in again.applied)
    assert any(n.startswith("already applied, nothing to change: [") for n in again.notes)


def test_failed_verification_rolls_back(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    original = (root / "main.tf").read_bytes()
    before = tree_digest(root)
    broken = PatchPlan(
        root=root,
        files=(FilePatch(relpath="main.tf", before=original, after=original + b"resource {\n"),),
        changes=(),
        skipped=(),
    )
    result = apply_patch(broken, run_fmt=False)
    assert result.rolled_back and not result.ok
    assert result.problems[0].line().startswith("main.tf:")
    assert "does not parse" in result.problems[0].line()
    assert (root / "main.tf").read_bytes() == original
    # Rolled back means nothing changed: no backup directory of a write that did not happen.
    assert result.backup_dir is None
    assert tree_digest(root) == before


# -- the edge stack -----------------------------------------------------------------------------


def test_edge_diff_matches_golden(golden: Callable[[Path, str], None]) -> None:
    plan = plan_patch(STACKS / "edge", EDGE)
    golden(GOLDEN / "edge.diff", plan.diff())


def test_edge_unsafe_changes_are_skipped_with_a_reason() -> None:
    plan = plan_patch(STACKS / "edge", EDGE)
    reasons = {s.recommendation: s for s in plan.skipped}
    assert set(reasons) == {"conditional", "count", "function", "shared-one", "stale-before"}
    assert "conditional" in reasons["conditional"].reason
    assert reasons["conditional"].where == "main.tf:" + str(
        line_of(STACKS / "edge" / "main.tf", "var.enabled ? 2 : 0")
    )
    assert "count/for_each" in reasons["count"].reason
    assert "function call" in reasons["function"].reason
    assert "module.svc_b" in reasons["shared-one"].reason
    assert "expected 60" in reasons["stale-before"].reason
    for skipped in plan.skipped:
        assert "\n" not in skipped.line()
    applied = {c.recommendation for c in plan.changes}
    assert applied == {"local-map", "tfvars-json", "empty-block", "strategy", "aligned-comment"}


def test_edge_map_values_are_edited_where_they_are_written() -> None:
    root = STACKS / "edge"
    plan = plan_patch(root, EDGE)
    by_file = {f.relpath: f for f in plan.files}
    tfvars = by_file["terraform.tfvars.json"]
    assert tfvars.before is not None
    removed, added = changed_old_lines(tfvars.before.decode(), tfvars.after.decode())
    assert removed == {line_of(root / "terraform.tfvars.json", '"memory": 1024')}
    assert added == ['    "memory": 2048,']
    assert json.loads(tfvars.after)["worker"] == {"memory": 2048, "image": "worker:1.4.2"}
    main = by_file["main.tf"].after.decode()
    assert "      cpu    = 512 # vCPU units\n" in main
    assert 'resource "aws_sqs_queue" "jobs" {\n  message_retention_seconds = 86400\n}\n' in main
    # The trailing comment stays in its group's comment column, as terraform fmt wants it.
    assert "  memory_size   = 1024 # MiB\n  timeout       = 900  # seconds\n" in main


def test_edge_values_read_back_through_the_loader(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("edge")
    result = apply_patch(plan_patch(root, EDGE), run_fmt=False)
    assert result.ok, result.problems
    resources = {r.address: r for r in load_stack(root).resources}
    assert resources["aws_ecs_task_definition.worker"].attrs["cpu"] == 512
    assert resources["aws_ecs_task_definition.worker"].attrs["memory"] == 2048
    assert resources["aws_sqs_queue.jobs"].attrs["message_retention_seconds"] == 86400
    assert loose(resources["aws_ecs_service.worker"].attrs["capacity_provider_strategy"]) == loose(
        [
            {"capacity_provider": "FARGATE_SPOT", "weight": 3},
            {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
        ]
    )
    # Untouched: the module shared by two calls and the conditional.
    assert resources["module.svc_a.aws_lambda_function.fn"].attrs["memory_size"] == 512
    assert resources["aws_ecs_service.worker"].attrs["desired_count"] == 2


def test_shared_module_is_edited_when_every_call_gets_the_change() -> None:
    both = [
        req("mem", "module.svc_a.aws_lambda_function.fn.memory_size", 512, 256),
        req("mem", "module.svc_b.aws_lambda_function.fn.memory_size", 512, 256),
    ]
    plan = plan_patch(STACKS / "edge", both)
    assert not plan.skipped
    assert [f.relpath for f in plan.files] == ["modules/svc/main.tf"]
    assert "memory_size   = 256 # MiB" in plan.files[0].after.decode()
    different = [both[0], req("mem", "module.svc_b.aws_lambda_function.fn.memory_size", 512, 128)]
    assert plan_patch(STACKS / "edge", different).empty


def test_new_block_already_declared_is_skipped() -> None:
    block = 'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n'
    plan = plan_patch(STACKS / "edge", [req("dup", "aws_sqs_queue.jobs", None, None, block)])
    assert plan.empty and not plan.skipped
    assert plan.applied[0].reason == "already declared at main.tf:" + str(
        line_of(STACKS / "edge" / "main.tf", 'resource "aws_sqs_queue" "jobs" {}')
    )


def test_unknown_resource_and_bad_path_are_skipped() -> None:
    plan = plan_patch(
        STACKS / "basic",
        [
            req("a", "aws_ecs_service.nope.desired_count", 2, 1),
            req("b", "not a path", 1, 2),
            req("c", "module.missing.aws_x.y.z", 1, 2),
        ],
    )
    assert plan.empty
    lines = [s.line() for s in plan.skipped]
    assert "not declared" in lines[0]
    assert "cannot read the change path" in lines[1]
    assert "module 'missing' is not called" in lines[2]


def test_file_changed_between_plan_and_apply_is_refused(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    plan = plan_patch(root, BASIC)
    with open(root / "terraform.tfvars", "a") as handle:
        handle.write("# a late edit\n")
    before = tree_digest(root)
    result = apply_patch(plan, run_fmt=False)
    assert not result.ok and not result.written
    assert [p.line() for p in result.problems] == [
        "terraform.tfvars: changed while the patch was being made"
    ]
    assert tree_digest(root) == before


def test_crlf_files_keep_their_line_endings(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    main = root / "main.tf"
    main.write_bytes(main.read_bytes().replace(b"\n", b"\r\n"))
    plan = plan_patch(root, [r for r in BASIC if r.recommendation in ("spot", "target")])
    after = next(f.after for f in plan.files if f.relpath == "main.tf")
    assert after.count(b"\n") == after.count(b"\r\n")
    assert b"target_value       = 55.0 # percent\r\n" in after
    assert b"  capacity_provider_strategy {\r\n" in after


def test_a_map_replaces_a_single_nested_block() -> None:
    root = STACKS / "basic"
    change = req(
        "platform",
        "aws_ecs_task_definition.app.runtime_platform",
        None,
        {"operating_system_family": "LINUX", "cpu_architecture": "ARM64"},
    )
    plan = plan_patch(root, [change])
    assert not plan.skipped
    removed, added = changed_old_lines(plan.files[0].before.decode(), plan.files[0].after.decode())
    assert removed == {line_of(root / "main.tf", 'cpu_architecture        = "X86_64"')}
    assert added == ['    cpu_architecture        = "ARM64"']


def test_blocks_with_expressions_are_skipped(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    main = root / "main.tf"
    main.write_text(
        main.read_text().replace('subnets = ["subnet-1", "subnet-2"]', "subnets = var.subnets")
    )
    change = req(
        "net", "aws_ecs_service.app.network_configuration", None, [{"subnets": ["subnet-9"]}]
    )
    plan = plan_patch(root, [change])
    assert plan.empty
    assert "hold expressions or comments" in plan.skipped[0].reason


def test_attribute_before_commented_nested_block(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    (root / "extra.tf").write_text(
        'resource "aws_ecs_service" "worker" {\n'
        "  # Spot first, on-demand as the base\n"
        "  capacity_provider_strategy {\n"
        '    capacity_provider = "FARGATE_SPOT"\n'
        "    weight            = 1\n"
        "  }\n"
        "}\n"
    )
    plan = plan_patch(root, [req("count", "aws_ecs_service.worker.desired_count", None, 1)])
    assert not plan.skipped
    assert (
        plan.files[0]
        .after.decode()
        .startswith(
            'resource "aws_ecs_service" "worker" {\n'
            "  desired_count = 1\n"
            "\n"
            "  # Spot first, on-demand as the base\n"
            "  capacity_provider_strategy {\n"
        )
    )


def test_attribute_after_a_heredoc_aligns_with_it(copy_stack: Callable[[str], Path]) -> None:
    root = copy_stack("basic")
    (root / "extra.tf").write_text(
        'resource "aws_cloudwatch_query_definition" "errors" {\n'
        '  name = "errors"\n'
        "\n"
        "  query_string = <<-EOF\n"
        "  fields @timestamp, msg\n"
        "  EOF\n"
        "}\n"
    )
    path = "aws_cloudwatch_query_definition.errors.log_group_names"
    plan = plan_patch(root, [req("logs", path, None, ["app"])])
    after = next(f.after.decode() for f in plan.files if f.relpath == "extra.tf")
    # terraform fmt counts a heredoc as one line of its alignment group: a longer name than
    # the group's starts a new group, a shorter one is padded to it.
    assert '  EOF\n\n  log_group_names = ["app"]\n}\n' in after
    short = plan_patch(root, [req("logs", "aws_cloudwatch_query_definition.errors.tags", None, {})])
    after = next(f.after.decode() for f in short.files if f.relpath == "extra.tf")
    assert "  EOF\n  tags         = {}\n}\n" in after


def test_check_in_copy_verifies_without_touching_the_stack(
    copy_stack: Callable[[str], Path],
) -> None:
    from leanstack.patch import check_in_copy

    root = copy_stack("basic")
    before = tree_digest(root)
    problems, checked = check_in_copy(plan_patch(root, BASIC))
    assert problems == [] and checked >= 10
    original = (root / "variables.tf").read_bytes()
    wrong = PatchPlan(
        root=root,
        files=(
            FilePatch(
                relpath="variables.tf",
                before=original,
                after=original.replace(b'"512"', b'"1024"'),
            ),
        ),
        changes=plan_patch(root, BASIC[:1]).changes,
        skipped=(),
    )
    problems, _ = check_in_copy(wrong)
    at = f"variables.tf:{line_of(root / 'variables.tf', '512')}"
    assert [p.line() for p in problems] == [
        f"{at}: aws_ecs_task_definition.app.cpu reads back as '1024', not 256",
        f"{at}: the loader reads aws_ecs_task_definition.app.cpu as '1024', not 256",
    ]
    assert tree_digest(root) == before
