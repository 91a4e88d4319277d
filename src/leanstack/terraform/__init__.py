"""Terraform loading: an HCL directory or a `terraform show -json` file -> Resource instances.

`load_stack` never raises for bad input (except a path that does not exist): problems come
back as Issues, and whatever could be loaded is still returned.

What consumers can rely on in `Resource.attrs`:
- only managed resources, one per count/for_each instance, addressed like Terraform
  (`aws_x.y[0]`, `aws_x.y["k"]`, `module.a[0].module.b.aws_x.y`);
- values as written and evaluated: numbers are int (or float when fractional), but a number
  may also arrive as a string: HCL `cpu = "512"` stays "512", and a plan always gives the
  provider's type (ECS `cpu` is a string there), so cost models should coerce;
- nested blocks are lists of dicts, `dynamic` blocks expanded; an unset attribute is absent
  (HCL) or None (plan); anything known only after apply is `UNKNOWN`;
- `terraform.workspace` is "default", or `TF_WORKSPACE` from the environment as Terraform
  itself does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from leanstack.model import Issue, IssueCode, Resource, Severity, SourceSpan
from leanstack.terraform.hcl import load_hcl
from leanstack.terraform.plan import PlanError, is_plan, load_plan

__all__ = ["LoadResult", "load_stack"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """Resources of one stack with the issues found and the files read.

    `root` is the stack directory (or the plan file's directory); `files` maps each file read,
    relative to `root`, to its sha256, so a later patch can tell whether the files changed.
    `input_kind` is "hcl" or "plan".
    """

    root: Path
    resources: tuple[Resource, ...]
    issues: tuple[Issue, ...]
    files: Mapping[str, str] = field(default_factory=dict)
    input_kind: str = "hcl"


def load_stack(
    path: Path,
    *,
    var_files: Sequence[Path] = (),
    variables: Mapping[str, str] = {},
) -> LoadResult:
    """Load a configuration directory or a plan JSON file (detected by content).

    Raises FileNotFoundError only when `path` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return _load_directory(path, var_files, variables)
    data = path.read_bytes()
    if _looks_like_json(data):
        return _load_plan_file(path, data, var_files, variables)
    # A single .tf file: load the configuration directory it belongs to.
    return _load_directory(path.parent, var_files, variables)


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[")


def _load_directory(
    root: Path, var_files: Sequence[Path], variables: Mapping[str, str]
) -> LoadResult:
    try:
        resources, stack = load_hcl(root.resolve(), var_files, variables)
    except Exception as exc:  # a loader bug must still end in one line, not a traceback
        issue = Issue(
            code=IssueCode.EVALUATION_ERROR,
            message=f"internal error while loading the configuration ({type(exc).__name__}: {exc})",
            where=str(root),
            severity=Severity.ERROR,
        )
        return LoadResult(root=root.resolve(), resources=(), issues=(issue,), input_kind="hcl")
    if not resources and not stack.files:
        stack.issue(
            IssueCode.PARSE_ERROR,
            "no Terraform files (*.tf) in this directory",
            str(root),
            Severity.ERROR,
        )
    return LoadResult(
        root=root.resolve(),
        resources=tuple(resources),
        issues=tuple(stack.issues),
        files=dict(stack.files),
        input_kind="hcl",
    )


def _load_plan_file(
    path: Path, data: bytes, var_files: Sequence[Path], variables: Mapping[str, str]
) -> LoadResult:
    root = path.parent.resolve()
    files = {path.name: hashlib.sha256(data).hexdigest()}
    try:
        document = json.loads(data)
    except ValueError as exc:
        issue = Issue(
            code=IssueCode.PLAN_ERROR,
            message=f"not valid JSON ({exc.msg}, line {exc.lineno})"
            if isinstance(exc, json.JSONDecodeError)
            else "not valid JSON",
            where=path.name,
            severity=Severity.ERROR,
        )
        return LoadResult(root=root, resources=(), issues=(issue,), files=files, input_kind="plan")
    if not is_plan(document):
        issue = Issue(
            code=IssueCode.PLAN_ERROR,
            message="JSON file is not a Terraform plan: expected the output of "
            "`terraform show -json PLANFILE` (format_version, planned_values)",
            where=path.name,
            severity=Severity.ERROR,
        )
        return LoadResult(root=root, resources=(), issues=(issue,), files=files, input_kind="plan")
    try:
        resources, issues = load_plan(document, path.name)
    except (PlanError, AttributeError, TypeError, ValueError) as exc:
        issue = Issue(
            code=IssueCode.PLAN_ERROR,
            message=f"malformed plan JSON: {exc}",
            where=path.name,
            severity=Severity.ERROR,
        )
        return LoadResult(root=root, resources=(), issues=(issue,), files=files, input_kind="plan")
    if any(p.suffix == ".tf" for p in root.iterdir()):
        resources, hcl_files = _attach_spans(root, resources, var_files, variables)
        files.update(hcl_files)
    return LoadResult(
        root=root,
        resources=tuple(resources),
        issues=tuple(issues),
        files=files,
        input_kind="plan",
    )


def _attach_spans(
    root: Path,
    resources: list[Resource],
    var_files: Sequence[Path],
    variables: Mapping[str, str],
) -> tuple[list[Resource], dict[str, str]]:
    """Give plan resources the source spans of the configuration next to the plan."""
    # The configuration is read with the caller's variables, not the plan's, so that a value
    # from a tfvars file still points at its line; addresses that differ fall back to the
    # block's span by configuration address.
    try:
        hcl_resources, stack = load_hcl(root, var_files, variables)
    except Exception:
        return resources, {}
    by_address = {r.address: r for r in hcl_resources}
    by_config: dict[str, Resource] = {}
    for r in hcl_resources:
        by_config.setdefault(_config_address(r.address), r)
    out: list[Resource] = []
    for resource in resources:
        match = by_address.get(resource.address) or by_config.get(_config_address(resource.address))
        if match is None:
            out.append(resource)
            continue
        sources: dict[str, SourceSpan] = dict(match.attr_sources)
        out.append(replace(resource, source=match.source, attr_sources=sources))
    return out, dict(stack.files)


def _config_address(address: str) -> str:
    return re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", address)
