"""Whether a new cost-guard block is already covered by one the stack declares under another name.

A budget or a billing alarm is a singleton in spirit: a stack with `aws_budgets_budget.monthly`
does not need `aws_budgets_budget.monthly_cost` too, whoever added the first one (the user, or
an earlier `leanstack patch`). Matching by address alone would add a second budget each time a
report names it differently, so a new budget is covered by any budget of the same module
directory, and a new EstimatedCharges alarm by an existing one on the same ServiceName (or on
the whole bill when neither names a service).
"""

from __future__ import annotations

import json
import re

from tree_sitter import Node

from leanstack.patch import _hcl
from leanstack.patch._stack import StackSource

BUDGET = "aws_budgets_budget"
# The id under which a report's generated monitoring blocks (budget, billing alarm) are patched.
MONITORING_ID = "monitoring"
ALARM = "aws_cloudwatch_metric_alarm"
_ALIAS_USE = re.compile(r"\baws\.([A-Za-z_][A-Za-z0-9_-]*)")
_VAR_USE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def _literal_attr(body: Node | None, name: str) -> object:
    attr = _hcl.find_attr(body, name)
    expr = _hcl.attr_expr(attr) if attr is not None else None
    lit = _hcl.literal(expr) if expr is not None else None
    return lit.value if lit is not None else None


def billing_service(block: Node) -> str | None:
    """The ServiceName an EstimatedCharges alarm watches ("" for the whole bill), else None."""
    body = _hcl.body_of(block)
    if _literal_attr(body, "metric_name") != "EstimatedCharges":
        return None
    attr = _hcl.find_attr(body, "dimensions")
    expr = _hcl.attr_expr(attr) if attr is not None else None
    obj = _hcl.object_node(expr) if expr is not None else None
    member = _hcl.object_member(obj, "ServiceName") if obj is not None else None
    lit = _hcl.literal(member) if member is not None else None
    if member is not None and lit is None:
        return _hcl.text(member).strip()  # an expression: compared as written
    return str(lit.value) if lit is not None else ""


def _resource_kind(block: Node) -> tuple[str, str | None] | None:
    """("budget", None) or ("alarm", service) for a cost-guard resource block, else None."""
    if _hcl.block_type(block) != "resource":
        return None
    labels = _hcl.block_labels(block)
    if not labels:
        return None
    if labels[0] == BUDGET:
        return "budget", None
    if labels[0] == ALARM:
        service = billing_service(block)
        if service is not None:
            return "alarm", service
    return None


def covered_by(stack: StackSource, dir_: str, text: str) -> str:
    """Where the stack already has the budget / billing alarm `text` adds ("" if it has none)."""
    tree = _hcl.parse(text.encode("utf-8"))
    wanted = [k for b in _hcl.blocks(_hcl.body_of(tree.root_node)) if (k := _resource_kind(b))]
    if not wanted:
        return ""
    # Budgets and billing alarms are per account: one anywhere in the stack counts.
    dirs = [dir_, *sorted(d for d in stack.instances() if d != dir_)]
    for each in dirs:
        in_json = _covered_in_json(stack, each, wanted)
        if in_json:
            return in_json
        for source, found in stack.top_blocks(each, "resource"):
            kind = _resource_kind(found)
            if kind is not None and kind in wanted:
                labels = _hcl.block_labels(found)
                line = int(found.start_point[0]) + 1
                what = "a budget" if kind[0] == "budget" else "a billing alarm"
                return (
                    f"the stack already has {what}, {'.'.join(labels)} at {source.relpath}:{line}"
                )
    return ""


def _covered_in_json(stack: StackSource, dir_: str, wanted: list[tuple[str, str | None]]) -> str:
    """The same check on a directory's `.tf.json` files (JSON configuration syntax)."""
    path = stack.root / dir_
    if not path.is_dir():
        return ""
    for file in sorted(path.glob("*.tf.json")):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the loader reports a broken file; here it only covers nothing
        resources = data.get("resource") if isinstance(data, dict) else None
        for rtype, by_name in resources.items() if isinstance(resources, dict) else ():
            for name, body in by_name.items() if isinstance(by_name, dict) else ():
                body = body[0] if isinstance(body, list) and body else body
                kind: tuple[str, str | None] | None = None
                if rtype == BUDGET:
                    kind = ("budget", None)
                elif (
                    rtype == ALARM
                    and isinstance(body, dict)
                    and body.get("metric_name") == "EstimatedCharges"
                ):
                    dims = body.get("dimensions")
                    service = dims.get("ServiceName", "") if isinstance(dims, dict) else ""
                    kind = ("alarm", str(service))
                if kind is not None and kind in wanted:
                    what = "a budget" if kind[0] == "budget" else "a billing alarm"
                    where = file.relative_to(stack.root).as_posix()
                    return f"the stack already has {what}, {rtype}.{name} in {where}"
    return ""


def support_names(text: str) -> tuple[str, str] | None:
    """("var", name) for a `variable` block, ("aws", alias) for an aliased aws provider."""
    tree = _hcl.parse(text.encode("utf-8"))
    blocks = _hcl.blocks(_hcl.body_of(tree.root_node))
    if len(blocks) != 1:
        return None
    block = blocks[0]
    labels = _hcl.block_labels(block)
    if _hcl.block_type(block) == "variable" and labels:
        return "var", labels[0]
    if _hcl.block_type(block) == "provider" and labels == ["aws"]:
        alias = _literal_attr(_hcl.body_of(block), "alias")
        if isinstance(alias, str):
            return "aws", alias
    return None


def uses(text: str, name: tuple[str, str]) -> bool:
    """True when a block's text refers to `var.<name>` / `aws.<alias>`."""
    pattern = _VAR_USE if name[0] == "var" else _ALIAS_USE
    return any(m.group(1) == name[1] for m in pattern.finditer(text))
