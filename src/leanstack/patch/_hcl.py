"""tree-sitter-hcl helpers: locate blocks, attributes and expression byte spans, read literals.

Edits are made on the original bytes at the spans found here, so comments, alignment and layout
outside the changed expression survive untouched (python-hcl2's writer would drop comments).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import tree_sitter
import tree_sitter_hcl

Node = tree_sitter.Node


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


def parse(data: bytes) -> tree_sitter.Tree:
    """Parse HCL bytes (never raises; syntax errors show up as ERROR/missing nodes)."""
    return _parser().parse(data)


def first_error(tree: tree_sitter.Tree) -> int | None:
    """1-based line of the first ERROR or missing node, None when the tree is clean."""
    if not tree.root_node.has_error:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node.start_point[0] + 1
        stack.extend(reversed(node.children))
    return tree.root_node.start_point[0] + 1


def text(node: Node) -> str:
    """Source text of a node."""
    return (node.text or b"").decode("utf-8")


def body_of(node: Node) -> Node | None:
    """The `body` child of a config_file or block (None for an empty block `{}`)."""
    for child in node.children:
        if child.type == "body":
            return child
    return None


def block_type(block: Node) -> str:
    """First identifier of a block: `resource`, `variable`, `locals`, a nested block name."""
    for child in block.children:
        if child.type == "identifier":
            return text(child)
    return ""


def block_labels(block: Node) -> list[str]:
    """The labels after the block type (quoted or bare)."""
    labels: list[str] = []
    seen_type = False
    for child in block.children:
        if child.type == "block_start":
            break
        if child.type == "identifier":
            if seen_type:
                labels.append(text(child))
            seen_type = True
        elif child.type == "string_lit":
            labels.append("".join(text(c) for c in child.children if c.type == "template_literal"))
    return labels


def blocks(body: Node | None, type_: str | None = None) -> list[Node]:
    """Child blocks of a body, optionally of one type."""
    if body is None:
        return []
    return [
        c for c in body.children if c.type == "block" and (type_ is None or block_type(c) == type_)
    ]


def attributes(body: Node | None) -> list[Node]:
    """Child attributes of a body, in source order."""
    if body is None:
        return []
    return [c for c in body.children if c.type == "attribute"]


def attr_name(attr: Node) -> str:
    """Name of an attribute node."""
    for child in attr.children:
        if child.type == "identifier":
            return text(child)
    return ""


def attr_expr(attr: Node) -> Node | None:
    """The expression node of an attribute."""
    for child in attr.children:
        if child.type == "expression":
            return child
    return None


def find_attr(body: Node | None, name: str) -> Node | None:
    """The attribute of that name in a body, or None."""
    for attr in attributes(body):
        if attr_name(attr) == name:
            return attr
    return None


def unwrap(expr: Node) -> Node:
    """The single meaningful child of an `expression` wrapper, or the node itself."""
    node = expr
    while node.type in ("expression", "literal_value", "operation") and node.named_child_count == 1:
        child = node.named_children[0]
        if child.type == "variable_expr":
            break
        node = child
    return node


_REF = re.compile(
    r"^(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\"[^\"]*\"\])*)$"
)
_KEY = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\["([^"]*)"\]')


def direct_reference(expr: Node) -> tuple[str, str, tuple[str, ...]] | None:
    """`("var", "x", ("a",))` for `var.x.a` or the legacy `"${var.x.a}"`; also `local.x`.

    Only plain attribute/key access is followed: an index by number or by expression is not a
    place a value can be written back to.
    """
    source = text(expr).strip()
    legacy = re.fullmatch(r'"\$\{\s*(.*?)\s*\}"', source)
    if legacy is not None and "${" not in legacy.group(1):
        source = legacy.group(1)
    match = _REF.match(source)
    if match is None:
        return None
    keys = tuple(a or b for a, b in _KEY.findall(match.group(3)))
    return match.group(1), match.group(2), keys


def object_node(expr: Node) -> Node | None:
    """The `object` node of a map literal expression, else None."""
    node = unwrap(expr)
    if node.type == "collection_value" and node.named_child_count == 1:
        node = node.named_children[0]
    return node if node.type == "object" else None


def object_member(obj: Node, key: str) -> Node | None:
    """The value expression of `key` in an object literal."""
    for elem in obj.named_children:
        if elem.type != "object_elem":
            continue
        exprs = [c for c in elem.named_children if c.type == "expression"]
        if len(exprs) != 2:
            continue
        key_lit = literal(exprs[0])
        name = str(key_lit.value) if key_lit is not None else text(exprs[0]).strip()
        if name == key:
            return exprs[1]
    return None


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value read from source, with how it was written."""

    value: Any
    style: str  # "string", "number", "bool", "null", "tuple", "object"
    raw: str


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).replace("$${", "${").replace("%%{", "%{")


def _number(raw: str) -> int | Decimal:
    value = Decimal(raw)
    if value == value.to_integral_value() and "." not in raw and "e" not in raw.lower():
        return int(value)
    return value


def literal(expr: Node) -> Literal | None:
    """The value of a literal expression (string, number, bool, null, tuples/objects of those)."""
    node = unwrap(expr)
    raw = text(expr)
    if node.type == "string_lit":
        inner = "".join(text(c) for c in node.children if c.type == "template_literal")
        return Literal(_unescape(inner), "string", raw)
    if node.type == "numeric_lit":
        try:
            return Literal(_number(text(node)), "number", raw)
        except InvalidOperation:
            return None
    if node.type == "bool_lit":
        return Literal(text(node) == "true", "bool", raw)
    if node.type == "null_lit":
        return Literal(None, "null", raw)
    if node.type == "unary_operation" and text(node).startswith("-"):
        inner_nodes = list(node.named_children)
        if len(inner_nodes) == 1:
            operand = literal(inner_nodes[0])
            if operand is not None and operand.style == "number":
                return Literal(-operand.value, "number", raw)
        return None
    if node.type == "template_expr":
        quoted = node.named_children[0] if node.named_child_count == 1 else None
        if (
            quoted is not None
            and quoted.type == "quoted_template"
            and all(
                c.type in ("quoted_template_start", "quoted_template_end", "template_literal")
                for c in quoted.children
            )
        ):
            inner = "".join(text(c) for c in quoted.children if c.type == "template_literal")
            return Literal(_unescape(inner), "string", raw)
        return None
    if node.type == "tuple":
        values = []
        for child in node.named_children:
            if child.type == "expression":
                item = literal(child)
                if item is None:
                    return None
                values.append(item.value)
        return Literal(values, "tuple", raw)
    if node.type == "object":
        obj: dict[str, Any] = {}
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                return None
            key_node = unwrap(exprs[0])
            key = text(exprs[0]).strip()
            if key_node.type in ("string_lit", "template_expr"):
                key_lit = literal(exprs[0])
                if key_lit is None:
                    return None
                key = str(key_lit.value)
            value = literal(exprs[1])
            if value is None:
                return None
            obj[key] = value.value
        return Literal(obj, "object", raw)
    if node.type == "collection_value" and node.named_child_count == 1:
        return literal(node.named_children[0])
    return None


def describe(expr: Node) -> str:
    """Why an expression cannot be edited as a value, in a few words."""
    node = unwrap(expr)
    source = text(expr)
    if "count.index" in source or "each." in source:
        return "depends on count/for_each"
    if "terraform.workspace" in source:
        return "depends on the workspace"
    if node.type == "expression" and any(c.type == "splat" for c in node.children):
        return "is a splat expression"
    if node.type == "expression" and any(c.type == "index" for c in node.children):
        return f"is selected by an index expression ({' '.join(source.split())[:60]})"
    kinds = {
        "conditional": "is a conditional expression",
        "function_call": "is computed by a function call",
        "for_expr": "is a for expression",
        "operation": "is computed by an operation",
        "binary_operation": "is computed by an operation",
        "unary_operation": "is computed by an operation",
        "heredoc_template": "is a heredoc",
        "template_expr": "is a string template",
        "splat": "is a splat expression",
    }
    if node.type == "collection_value":
        return "is a list or map that holds expressions"
    if node.type == "template_expr" and "<<" in source[:3]:
        return kinds["heredoc_template"]
    if node.type in kinds:
        return kinds[node.type]
    if re.match(r"^(data\.|module\.|[a-z0-9]+_[a-z0-9_]+\.)", source.strip()):
        return "comes from another resource or module output"
    return "is not a literal value"


# -- rendering ---------------------------------------------------------------------------------


def _looks_numeric(value: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value) is not None


def format_number(value: int | float | Decimal, like: str | None = None) -> str:
    """A number as HCL writes it; keeps a decimal point when the old literal had one."""
    if isinstance(value, bool):
        raise TypeError("bool is not a number")
    if isinstance(value, float):
        out = repr(value)
        if out.endswith(".0") and like is not None and "." not in like:
            out = out[:-2]
    elif isinstance(value, Decimal):
        out = format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    else:
        out = str(value)
    if like is not None and "." in like and re.fullmatch(r"-?\d+", out):
        out += ".0"
    return out


def quote(value: str) -> str:
    """An HCL quoted string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
        .replace("${", "$${")
        .replace("%{", "%%{")
    )
    return f'"{escaped}"'


def render(value: Any, like: Literal | None = None, indent: str = "") -> str:
    """HCL source for a JSON-able value, keeping the type/quoting style of the old literal."""
    style = like.style if like is not None else None
    raw = like.raw.strip() if like is not None else None
    if (
        style == "string"
        and isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
    ):
        return quote(format_number(value))
    if style == "string" and isinstance(value, bool):
        return quote("true" if value else "false")
    if style == "number" and isinstance(value, str) and _looks_numeric(value.strip()):
        return value.strip()
    if style == "bool" and isinstance(value, str) and value in ("true", "false"):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return format_number(value, raw if style == "number" else None)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v, None, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        width = max(len(_key(k)) for k in value)
        lines = [
            f"{inner}{_key(k).ljust(width)} = {render(v, None, inner)}" for k, v in value.items()
        ]
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _key(key: Any) -> str:
    name = str(key)
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else quote(name)


def render_json(value: Any, like: Any) -> str:
    """JSON source for a tfvars.json value, keeping a string a string."""
    if isinstance(like, str) and not isinstance(value, str):
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float | Decimal):
            value = format_number(value)
    numeric_like = isinstance(like, int | float) and not isinstance(like, bool)
    if numeric_like and isinstance(value, str) and _looks_numeric(value.strip()):
        return value.strip()
    if isinstance(value, Decimal):
        return format_number(value)
    return json.dumps(value)
