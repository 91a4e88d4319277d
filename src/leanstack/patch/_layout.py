"""Line-level layout helpers: indentation, terraform-fmt alignment groups, rendering of blocks.

`terraform fmt` aligns the `=` of consecutive single-line attributes (a blank line, a comment
line or a multi-line attribute ends a group) and the trailing comments within a group. New
lines follow the same rules so that an fmt-clean file stays fmt-clean after the patch.
"""

from __future__ import annotations

from typing import Any

import tree_sitter

from leanstack.patch import _hcl

Node = tree_sitter.Node


def line_start(data: bytes, pos: int) -> int:
    """Offset of the first byte of the line containing `pos`."""
    return data.rfind(b"\n", 0, pos) + 1


def line_end(data: bytes, pos: int) -> int:
    """Offset just past the newline ending the line containing `pos` (or end of data)."""
    idx = data.find(b"\n", pos)
    return len(data) if idx < 0 else idx + 1


def indent_at(data: bytes, pos: int) -> str:
    """The leading whitespace of the line containing `pos`."""
    start = line_start(data, pos)
    end = start
    while end < len(data) and data[end : end + 1] in (b" ", b"\t"):
        end += 1
    return data[start:end].decode("utf-8")


def _single_line(node: Node) -> bool:
    return bool(node.start_point[0] == node.end_point[0])


def _heredoc(attr: Node) -> bool:
    expr = _hcl.attr_expr(attr)
    return expr is not None and _hcl.text(expr).lstrip().startswith("<<")


def _groupable(data: bytes, attr: Node) -> bool:
    # fmt aligns single-line attributes; a heredoc counts as one line (its first).
    return (_single_line(attr) or _heredoc(attr)) and _starts_line(data, attr)


def _starts_line(data: bytes, node: Node) -> bool:
    return not data[line_start(data, node.start_byte) : node.start_byte].strip()


def group_of(data: bytes, attr: Node) -> list[Node]:
    """The fmt alignment group an attribute belongs to (empty if it is multi-line)."""
    body = attr.parent
    if body is None or not _groupable(data, attr):
        return []
    attrs = _hcl.attributes(body)
    idx = next(i for i, a in enumerate(attrs) if a.start_byte == attr.start_byte)
    group = [attr]
    i, last = idx - 1, attr
    while i >= 0 and _groupable(data, attrs[i]):
        if attrs[i].end_point[0] != last.start_point[0] - 1:
            break
        group.insert(0, attrs[i])
        last = attrs[i]
        i -= 1
    i, last = idx + 1, attr
    while i < len(attrs) and _groupable(data, attrs[i]):
        if attrs[i].start_point[0] != last.end_point[0] + 1:
            break
        group.append(attrs[i])
        last = attrs[i]
        i += 1
    return group


def eq_column(data: bytes, attr: Node) -> int:
    """Byte column of an attribute's `=`."""
    for child in attr.children:
        if child.type == "=":
            return child.start_byte - line_start(data, child.start_byte)
    return -1


def trailing_comment(data: bytes, pos: int) -> int | None:
    """Offset of a `#`/`//` comment that follows `pos` on the same line, else None."""
    end = line_end(data, pos)
    rest = data[pos:end]
    stripped = rest.lstrip(b" \t")
    if stripped.startswith((b"#", b"//", b"/*")):
        return pos + (len(rest) - len(stripped))
    return None


def comment_gap(data: bytes, attr: Node, expr_end: int, delta: int) -> int | None:
    """Spaces to put before the trailing comment of `attr` when its value grows by `delta`.

    None when the line has no trailing comment. The comment stays in the column of the other
    trailing comments of its fmt group (where terraform fmt puts it, unless this value is the
    group's longest), else keeps its gap.
    """
    comment = trailing_comment(data, expr_end)
    if comment is None:
        return None
    new_end = expr_end - line_start(data, expr_end) + delta
    columns = []
    for other in group_of(data, attr):
        if other.start_byte == attr.start_byte:
            continue
        expr = _hcl.attr_expr(other)
        other_comment = trailing_comment(data, expr.end_byte) if expr is not None else None
        if other_comment is not None:
            columns.append(other_comment - line_start(data, other_comment))
    if not columns:
        return comment - expr_end
    return max(1, max(columns) - new_end)


def attribute_line(data: bytes, anchor: Node | None, name: str, value: str, indent: str) -> str:
    """The text of a new attribute line placed right after `anchor`, aligned like its group."""
    if anchor is None or "\n" in value:
        return f"{indent}{name} = {value}\n"
    group = group_of(data, anchor)
    if not group:
        return f"{indent}{name} = {value}\n"
    width = max(len(_hcl.attr_name(a)) for a in group)
    aligned = all(eq_column(data, a) == len(indent) + width + 1 for a in group)
    if not aligned:
        return f"{indent}{name} = {value}\n"
    if len(name) <= width:
        return f"{indent}{name.ljust(width)} = {value}\n"
    # A longer name would make fmt re-pad the whole group; a blank line starts a new group.
    return f"\n{indent}{name} = {value}\n"


def is_block_list(value: Any) -> bool:
    """A non-empty list of dicts: written as repeated nested blocks."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def render_block(name: str, value: dict[str, Any], indent: str) -> str:
    """A nested block `name { ... }` with fmt-aligned attributes, ending with a newline."""
    inner = indent + "  "
    rendered = [(k, _hcl.render(v, None, inner)) for k, v in value.items() if not is_block_list(v)]
    one_line = [(k, t) for k, t in rendered if "\n" not in t]
    multi = [(k, t) for k, t in rendered if "\n" in t]
    width = max((len(k) for k, _ in one_line), default=0)
    lines = [f"{inner}{k.ljust(width)} = {t}" for k, t in one_line]
    lines += [f"{inner}{k} = {t}" for k, t in multi]
    for key, items in ((k, v) for k, v in value.items() if is_block_list(v)):
        if lines:
            lines.append("")
        lines.extend(render_block(key, item, inner).rstrip("\n") for item in items)
    if not lines:
        return f"{indent}{name} {{\n{indent}}}\n"
    return f"{indent}{name} {{\n" + "\n".join(lines) + f"\n{indent}}}\n"


def render_nested(segments: list[str], value: Any, indent: str) -> str:
    """Blocks `a { b { attr = value } }` for a path whose blocks do not exist yet."""
    if len(segments) == 1:
        return f"{indent}{segments[0]} = {_hcl.render(value, None, indent)}\n"
    inner = render_nested(segments[1:], value, indent + "  ")
    return f"{indent}{segments[0]} {{\n{inner}{indent}}}\n"


def align(text: str) -> str:
    """fmt-style alignment of `=` and trailing comments in HCL text (for new blocks)."""
    data = text.encode("utf-8")
    tree = _hcl.parse(data)
    if tree.root_node.has_error:
        return text
    edits: list[tuple[int, int, bytes]] = []
    seen: set[int] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "attribute" or node.start_byte in seen:
            continue
        group = group_of(data, node)
        seen.update(a.start_byte for a in group)
        if not group:
            continue
        width = max(len(_hcl.attr_name(a)) for a in group)
        ends: dict[int, int] = {}
        for attr in group:
            ident = next(c for c in attr.children if c.type == "identifier")
            expr = _hcl.attr_expr(attr)
            if expr is None:
                continue
            pad = " " * (width - len(_hcl.attr_name(attr)))
            edits.append((ident.end_byte, expr.start_byte, f"{pad} = ".encode()))
            if trailing_comment(data, expr.end_byte) is not None:
                col = len(indent_at(data, attr.start_byte)) + width + 3 + len(_hcl.text(expr))
                ends[attr.start_byte] = col
        if ends:
            column = max(ends.values()) + 1
            for attr in group:
                expr = _hcl.attr_expr(attr)
                if expr is None or attr.start_byte not in ends:
                    continue
                comment = trailing_comment(data, expr.end_byte)
                assert comment is not None
                gap = column - ends[attr.start_byte]
                edits.append((expr.end_byte, comment, b" " * gap))
    out = data
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out.decode("utf-8")
