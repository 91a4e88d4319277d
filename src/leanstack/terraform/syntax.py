"""HCL source -> a small expression tree, with line spans, via tree-sitter-hcl.

tree-sitter gives positions for every node (python-hcl2 8.x does not, and re-serializes
expressions to strings that would need a second parser), tolerates errors so one bad block
does not hide the rest of a file, and parses in C, which keeps a 500-file stack fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import tree_sitter
import tree_sitter_hcl

# --- expression tree -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of all expression nodes; `line` is 1-based, for issue messages."""

    line: int


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """A number, bool, null or a string without interpolation."""

    value: Any


@dataclass(frozen=True, slots=True)
class TemplateIf:
    """`%{ if cond }...%{ else }...%{ endif }` inside a template."""

    cond: Expr
    then: tuple[TemplatePart, ...]
    other: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class TemplateFor:
    """`%{ for k, v in coll }...%{ endfor }` inside a template."""

    key: str | None
    value: str
    coll: Expr
    body: tuple[TemplatePart, ...]


TemplatePart = str | Expr | TemplateIf | TemplateFor


@dataclass(frozen=True, slots=True)
class Template(Expr):
    """A string with interpolations or directives."""

    parts: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class Variable(Expr):
    """A bare name: `var`, `local`, `aws_instance`, a for-expression symbol."""

    name: str


@dataclass(frozen=True, slots=True)
class GetAttr:
    """`.name` step of a traversal."""

    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """`[expr]` (or legacy `.0`) step of a traversal."""

    key: Expr


@dataclass(frozen=True, slots=True)
class Splat:
    """`[*]` or `.*` followed by the steps applied to each element."""

    steps: tuple[Step, ...]


Step = GetAttr | Index | Splat


@dataclass(frozen=True, slots=True)
class Traversal(Expr):
    """An expression followed by attribute, index and splat steps."""

    base: Expr
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function call; `expand` is true when the last argument ends with `...`."""

    name: str
    args: tuple[Expr, ...]
    expand: bool = False


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    """`[a, b, c]`."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr(Expr):
    """`{ k = v, ... }`; a bare identifier key is already a Literal string."""

    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class ForExpr(Expr):
    """`[for k, v in coll : value if cond]` or `{for ... : key => value...}`."""

    key_var: str | None
    value_var: str
    coll: Expr
    value: Expr
    key: Expr | None = None
    cond: Expr | None = None
    group: bool = False


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    """`cond ? a : b`."""

    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """`a op b`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    """`!a` or `-a`."""

    op: str
    operand: Expr


# --- configuration structure -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """File (relative to the stack root) and 1-based inclusive lines."""

    file: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Attribute:
    """`name = expr` with its span."""

    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Block:
    """`type "label" ... { body }` with its span."""

    type: str
    labels: tuple[str, ...]
    attrs: dict[str, Attribute]
    blocks: tuple[Block, ...]
    span: Span

    def blocks_of(self, kind: str) -> list[Block]:
        """Nested blocks of one type, in source order."""
        return [b for b in self.blocks if b.type == kind]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Top-level blocks (or, for tfvars, attributes) of one file plus syntax errors."""

    rel: str
    blocks: tuple[Block, ...] = ()
    attrs: dict[str, Attribute] = field(default_factory=dict)
    errors: tuple[tuple[int, str], ...] = ()


# --- conversion from tree-sitter -----------------------------------------------------------

_BINARY_OPS = frozenset({"+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"})
_ESCAPES = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


def _unescape(match: re.Match[str]) -> str:
    text = match.group(0)
    if text == "$${":
        return "${"
    if text == "%%{":
        return "%{"
    esc = match.group(1)
    if esc[0] in "uU" and len(esc) > 1:
        return chr(int(esc[1:], 16))
    return _SIMPLE_ESCAPES.get(esc, esc)


def _unescape_heredoc(match: re.Match[str]) -> str:
    text = match.group(0)
    return {"$${": "${", "%%{": "%{"}.get(text, text)


class SyntaxErrorInFile(Exception):
    """Raised inside the converter for a construct it cannot read; becomes a PARSE_ERROR."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Converter:
    """Walks one tree-sitter tree; `src` is the file's bytes."""

    def __init__(self, src: bytes, rel: str) -> None:
        self.src = src
        self.rel = rel

    def text(self, node: tree_sitter.Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def span(self, node: tree_sitter.Node) -> Span:
        end = node.end_point[0] + 1
        # A node ending at column 0 really ends on the previous line (trailing newline).
        if node.end_point[1] == 0 and end > node.start_point[0] + 1:
            end -= 1
        return Span(self.rel, node.start_point[0] + 1, end)

    # structure

    def body(self, node: tree_sitter.Node | None) -> tuple[dict[str, Attribute], list[Block]]:
        attrs: dict[str, Attribute] = {}
        blocks: list[Block] = []
        if node is None:
            return attrs, blocks
        for child in node.named_children:
            if child.has_error:
                continue
            if child.type == "attribute":
                attr = self.attribute(child)
                attrs[attr.name] = attr
            elif child.type == "block":
                blocks.append(self.block(child))
        return attrs, blocks

    def attribute(self, node: tree_sitter.Node) -> Attribute:
        named = node.named_children
        return Attribute(self.text(named[0]), self.expr(named[1]), self.span(node))

    def block(self, node: tree_sitter.Node) -> Block:
        kind = ""
        labels: list[str] = []
        body: tree_sitter.Node | None = None
        for child in node.named_children:
            if child.type == "identifier":
                if kind:
                    labels.append(self.text(child))
                else:
                    kind = self.text(child)
            elif child.type == "string_lit":
                labels.append(self.string_lit(child))
            elif child.type == "body":
                body = child
        attrs, blocks = self.body(body)
        return Block(kind, tuple(labels), attrs, tuple(blocks), self.span(node))

    def string_lit(self, node: tree_sitter.Node) -> str:
        start = node.children[0].end_byte
        end = node.children[-1].start_byte
        raw = self.src[start:end].decode("utf-8", "replace")
        return _ESCAPES.sub(_unescape, raw)

    # expressions

    def line(self, node: tree_sitter.Node) -> int:
        return int(node.start_point[0]) + 1

    def expr(self, node: tree_sitter.Node) -> Expr:
        kind = node.type
        if kind == "expression":
            return self.term(node.children)
        if kind == "literal_value":
            return self.literal(node.named_children[0])
        if kind == "variable_expr":
            return Variable(self.line(node), self.text(node))
        if kind == "template_expr":
            return self.template(node.named_children[0])
        if kind == "function_call":
            return self.call(node)
        if kind == "collection_value":
            return self.collection(node.named_children[0])
        if kind == "for_expr":
            return self.for_expr(node.named_children[0])
        if kind == "operation":
            return self.operation(node.named_children[0])
        if kind == "conditional":
            parts = [c for c in node.named_children if c.type == "expression"]
            return Conditional(
                self.line(node), self.expr(parts[0]), self.expr(parts[1]), self.expr(parts[2])
            )
        if kind in ("tuple", "object"):
            return self.collection(node)
        if kind == "string_lit":
            return Literal(self.line(node), self.string_lit(node))
        raise SyntaxErrorInFile(self.line(node), f"unexpected {kind}")

    def term(self, nodes: list[tree_sitter.Node]) -> Expr:
        """A primary (possibly parenthesized) followed by attribute/index/splat steps."""
        if not nodes:
            raise SyntaxErrorInFile(0, "empty expression")
        if nodes[0].type == "(":
            base = self.expr(nodes[1])
            rest = nodes[3:]
        else:
            base = self.expr(nodes[0])
            rest = nodes[1:]
        steps = self.steps(rest)
        return Traversal(base.line, base, steps) if steps else base

    def steps(self, nodes: list[tree_sitter.Node]) -> tuple[Step, ...]:
        steps: list[Step] = []
        for node in nodes:
            if node.type == "get_attr":
                steps.append(GetAttr(self.text(node.named_children[0])))
            elif node.type == "index":
                inner = node.named_children[0]
                if inner.type == "legacy_index":
                    digits = self.text(inner).lstrip(".")
                    steps.append(Index(Literal(self.line(node), int(digits))))
                else:
                    key = next(c for c in inner.named_children if c.type == "expression")
                    steps.append(Index(self.expr(key)))
            elif node.type == "splat":
                inner = node.named_children[0]
                steps.append(Splat(self.steps(inner.named_children)))
        return tuple(steps)

    def literal(self, node: tree_sitter.Node) -> Expr:
        text = self.text(node)
        line = self.line(node)
        if node.type == "numeric_lit":
            try:
                return Literal(line, int(text))
            except ValueError:
                value = float(text)
                return Literal(line, int(value) if value.is_integer() else value)
        if node.type == "bool_lit":
            return Literal(line, text == "true")
        if node.type == "null_lit":
            return Literal(line, None)
        if node.type == "string_lit":
            return Literal(line, self.string_lit(node))
        raise SyntaxErrorInFile(line, f"unexpected literal {text!r}")

    def call(self, node: tree_sitter.Node) -> Expr:
        name = self.text(node.named_children[0])
        args: list[Expr] = []
        expand = False
        for child in node.named_children[1:]:
            if child.type == "function_arguments":
                for arg in child.named_children:
                    if arg.type == "expression":
                        args.append(self.expr(arg))
                    elif arg.type == "ellipsis":
                        expand = True
        return Call(self.line(node), name, tuple(args), expand)

    def collection(self, node: tree_sitter.Node) -> Expr:
        line = self.line(node)
        if node.type == "tuple":
            items = tuple(self.expr(c) for c in node.named_children if c.type == "expression")
            return TupleExpr(line, items)
        pairs: list[tuple[Expr, Expr]] = []
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            key_node = elem.child_by_field_name("key")
            val_node = elem.child_by_field_name("val")
            if key_node is None or val_node is None:
                continue
            pairs.append((self.object_key(key_node), self.expr(val_node)))
        return ObjectExpr(line, tuple(pairs))

    def object_key(self, node: tree_sitter.Node) -> Expr:
        # A bare identifier key is a literal name, not a variable reference.
        if len(node.children) == 1 and node.children[0].type == "variable_expr":
            return Literal(self.line(node), self.text(node.children[0]))
        return self.expr(node)

    def for_expr(self, node: tree_sitter.Node) -> Expr:
        intro = next(c for c in node.named_children if c.type == "for_intro")
        names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
        coll = self.expr(next(c for c in intro.named_children if c.type == "expression"))
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        exprs = [c for c in node.named_children if c.type == "expression"]
        cond_node = next((c for c in node.named_children if c.type == "for_cond"), None)
        cond = None
        if cond_node is not None:
            cond = self.expr(next(c for c in cond_node.named_children if c.type == "expression"))
        line = self.line(node)
        if node.type == "for_tuple_expr":
            return ForExpr(line, key_var, value_var, coll, self.expr(exprs[0]), cond=cond)
        group = any(c.type == "ellipsis" for c in node.named_children)
        return ForExpr(
            line,
            key_var,
            value_var,
            coll,
            self.expr(exprs[1]),
            key=self.expr(exprs[0]),
            cond=cond,
            group=group,
        )

    def operation(self, node: tree_sitter.Node) -> Expr:
        children = node.children
        line = self.line(node)
        if node.type == "unary_operation":
            return Unary(line, children[0].type, self.term(children[1:]))
        depth = 0
        for i, child in enumerate(children):
            if child.type == "(":
                depth += 1
            elif child.type == ")":
                depth -= 1
            elif depth == 0 and not child.is_named and child.type in _BINARY_OPS and i > 0:
                return Binary(
                    line, child.type, self.term(children[:i]), self.term(children[i + 1 :])
                )
        raise SyntaxErrorInFile(line, "cannot read operation")

    # templates

    def template(self, node: tree_sitter.Node) -> Expr:
        line = self.line(node)
        if node.type == "quoted_template":
            start = node.children[0].end_byte
            end = node.children[-1].start_byte
            parts = self.template_parts(node.children[1:-1], start, end, _unescape, None)
        else:
            parts = self.heredoc(node)
        if len(parts) == 1 and isinstance(parts[0], str):
            return Literal(line, parts[0])
        if not parts:
            return Literal(line, "")
        return Template(line, parts)

    def heredoc(self, node: tree_sitter.Node) -> tuple[TemplatePart, ...]:
        idents = [c for c in node.children if c.type == "heredoc_identifier"]
        opener = node.children[0]
        strip = self.text(opener).startswith("<<-")
        first_nl = self.src.find(b"\n", idents[0].end_byte)
        start = first_nl + 1
        closing = idents[-1] if len(idents) > 1 else None
        end = self.src.rfind(b"\n", start, closing.start_byte) + 1 if closing else node.end_byte
        end = max(start, end)
        indent: int | None = None
        if strip:
            raw = self.src[start:end].decode("utf-8", "replace")
            widths = [len(ln) - len(ln.lstrip(" \t")) for ln in raw.split("\n") if ln.strip()]
            indent = min(widths) if widths else 0
        inner = [c for c in node.children if c.start_byte >= start and c.end_byte <= end]
        return self.template_parts(inner, start, end, _unescape_heredoc, indent)

    def template_parts(
        self,
        children: list[tree_sitter.Node],
        start: int,
        end: int,
        unescape: Any,
        indent: int | None,
    ) -> tuple[TemplatePart, ...]:
        """Literal text is taken from the byte gaps between interpolations and directives."""
        parts: list[TemplatePart] = []
        pos = start
        for child in children:
            if child.type not in ("template_interpolation", "template_directive"):
                continue
            self.literal_chunk(parts, pos, child.start_byte, start, unescape, indent)
            if child.type == "template_interpolation":
                inner = next(c for c in child.named_children if c.type == "expression")
                parts.append(self.expr(inner))
            else:
                parts.append(self.directive(child.named_children[0], unescape, indent))
            pos = child.end_byte
        self.literal_chunk(parts, pos, end, start, unescape, indent)
        return tuple(parts)

    def literal_chunk(
        self,
        parts: list[TemplatePart],
        lo: int,
        hi: int,
        region_start: int,
        unescape: Any,
        indent: int | None,
    ) -> None:
        if hi <= lo:
            return
        text = self.src[lo:hi].decode("utf-8", "replace")
        if indent:
            lines = text.split("\n")
            for i, ln in enumerate(lines):
                at_line_start = i > 0 or lo == region_start or self.src[lo - 1 : lo] == b"\n"
                if at_line_start:
                    cut = 0
                    while cut < indent and cut < len(ln) and ln[cut] in " \t":
                        cut += 1
                    lines[i] = ln[cut:]
            text = "\n".join(lines)
        text = re.sub(_ESCAPES, unescape, text)
        if parts and isinstance(parts[-1], str):
            parts[-1] += text
        else:
            parts.append(text)

    def directive(self, node: tree_sitter.Node, unescape: Any, indent: int | None) -> TemplatePart:
        children = node.named_children
        if node.type == "template_if":
            intro = children[0]
            cond = self.expr(next(c for c in intro.named_children if c.type == "expression"))
            else_node = next((c for c in children if c.type == "template_else_intro"), None)
            end_node = children[-1]
            split = else_node.start_byte if else_node else end_node.start_byte
            then = self.template_parts(
                [c for c in children if intro.end_byte <= c.start_byte < split],
                intro.end_byte,
                split,
                unescape,
                indent,
            )
            other: tuple[TemplatePart, ...] = ()
            if else_node is not None:
                other = self.template_parts(
                    [
                        c
                        for c in children
                        if else_node.end_byte <= c.start_byte < end_node.start_byte
                    ],
                    else_node.end_byte,
                    end_node.start_byte,
                    unescape,
                    indent,
                )
            return TemplateIf(cond, then, other)
        if node.type == "template_for":
            intro = children[0]
            names = [self.text(c) for c in intro.named_children if c.type == "identifier"]
            coll = self.expr(next(c for c in intro.named_children if c.type == "expression"))
            end_node = children[-1]
            body = self.template_parts(
                [c for c in children if intro.end_byte <= c.start_byte < end_node.start_byte],
                intro.end_byte,
                end_node.start_byte,
                unescape,
                indent,
            )
            key, value = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            return TemplateFor(key, value, coll, body)
        raise SyntaxErrorInFile(self.line(node), f"unsupported template directive {node.type}")


def _first_error(node: tree_sitter.Node, src: bytes) -> tuple[int, str]:
    """Line and description of the first ERROR or MISSING node under `node`."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_missing:
            return current.start_point[0] + 1, f"syntax error: missing {current.type!r}"
        if current.is_error:
            snippet = src[current.start_byte : current.end_byte].decode("utf-8", "replace")
            snippet = snippet.strip().splitlines()[0][:40] if snippet.strip() else ""
            detail = f" near {snippet!r}" if snippet else ""
            return current.start_point[0] + 1, f"syntax error{detail}"
        stack.extend(reversed([c for c in current.children if c.has_error or c.is_missing]))
    return node.start_point[0] + 1, "syntax error"


def _diagnose(src: bytes) -> tuple[int, str] | None:
    """python-hcl2's LALR parser usually names the exact line of a syntax error.

    tree-sitter recovers from errors (so the other blocks still load) but reports where
    recovery ended, which can be lines later; the second opinion is only asked for broken files.
    """
    # Imported here: building python-hcl2's grammar costs ~0.1 s, paid only for broken files.
    import hcl2
    import lark

    try:
        hcl2.loads(src.decode("utf-8", "replace"))
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            found = "end of file"
        else:
            text = str(token.value).strip().splitlines()
            found = repr(text[0][:30]) if text else "a line break"
        return int(exc.line), f"syntax error: unexpected {found}"
    except lark.exceptions.UnexpectedCharacters as exc:
        return int(exc.line), f"syntax error: unexpected character {exc.char!r}"
    except Exception:  # any other failure: fall back to tree-sitter's position
        return None
    return None


def parse_hcl(src: bytes, rel: str) -> ParsedFile:
    """Parse one .tf or .tfvars file; blocks with syntax errors are dropped and reported."""
    tree = _parser().parse(src)
    root = tree.root_node
    converter = _Converter(src, rel)
    errors: list[tuple[int, str]] = []
    blocks: list[Block] = []
    attrs: dict[str, Attribute] = {}
    body = next((c for c in root.named_children if c.type == "body"), None)
    if root.has_error:
        errors.append(_diagnose(src) or _first_error(root, src))
    if body is not None:
        for child in body.named_children:
            if child.has_error or child.type == "ERROR":
                continue
            try:
                if child.type == "block":
                    blocks.append(converter.block(child))
                elif child.type == "attribute":
                    attr = converter.attribute(child)
                    attrs[attr.name] = attr
            except SyntaxErrorInFile as exc:
                errors.append((exc.line or child.start_point[0] + 1, exc.message))
            except (IndexError, StopIteration, ValueError):
                errors.append((child.start_point[0] + 1, "cannot read this construct"))
    return ParsedFile(rel, tuple(blocks), attrs, tuple(errors))


def parse_expression(text: str) -> Expr | None:
    """Parse a lone expression (used for `--var` values of complex types)."""
    parsed = parse_hcl(b"v = " + text.encode("utf-8"), "<var>")
    attr = parsed.attrs.get("v")
    return None if parsed.errors or attr is None else attr.expr
