"""Resolve one AttributeChange to the place in the source where its value is written.

The walk follows what Terraform would evaluate: the resource block (inside local modules
too), nested blocks, then through `var.x` to the module call argument, the tfvars assignment
or the variable default, and through `local.x` to the locals block. Anything it cannot edit
safely becomes a `Skip` with a one-line reason instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import tree_sitter

from leanstack.model.findings import AttributeChange
from leanstack.patch import _hcl
from leanstack.patch._path import ChangePath, Segment, parse_change_path
from leanstack.patch._stack import (
    ModuleCall,
    SourceFile,
    StackSource,
    json_value_span,
    may_repeat,
    rel,
)

Node = tree_sitter.Node
MAX_FOLLOW = 10
RECOMMENDATIONS_FILE = "leanstack_recommendations.tf"


@dataclass(frozen=True, slots=True)
class Skip:
    """A change the patcher will not make, and why."""

    reason: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class ValueTarget:
    """An existing literal to replace: file, expression byte span, its current value."""

    file: str
    start: int
    end: int
    literal: _hcl.Literal | None  # None for tfvars.json values (see json_old)
    dir: str
    chain: tuple[ModuleCall, ...]
    line: int
    json_old: Any = None
    notes: tuple[str, ...] = ()

    @property
    def is_json(self) -> bool:
        """True for a value in a `.tfvars.json` file."""
        return self.literal is None

    @property
    def current(self) -> Any:
        """The value written there now."""
        return self.json_old if self.literal is None else self.literal.value


@dataclass(frozen=True, slots=True)
class Missing:
    """The attribute (or nested blocks) is not written yet: where to insert it."""

    file: str
    block: Node  # the innermost existing block
    segments: tuple[Segment, ...]  # what is missing below `block`, last one the attribute
    dir: str
    chain: tuple[ModuleCall, ...]
    line: int


@dataclass(frozen=True, slots=True)
class AttrToRemove:
    """An attribute written literally in the block, to delete."""

    file: str
    attr: Node
    dir: str
    chain: tuple[ModuleCall, ...]
    line: int


@dataclass(frozen=True, slots=True)
class BlockList:
    """Nested blocks of one name replaced as a whole (`capacity_provider_strategy`)."""

    file: str
    parent: Node
    name: str
    existing: tuple[Node, ...]
    dir: str
    chain: tuple[ModuleCall, ...]
    line: int
    current: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class NewBlock:
    """A resource that does not exist yet, for the recommendations file of a module dir."""

    file: str
    text: str
    dir: str
    chain: tuple[ModuleCall, ...]
    exists_at: str = ""


Resolved = ValueTarget | Missing | AttrToRemove | BlockList | NewBlock | Skip


@dataclass(slots=True)
class Resolver:
    """Resolves change paths against one StackSource."""

    stack: StackSource
    _instances: dict[str, list[tuple[ModuleCall, ...]]] | None = field(default=None)

    def instances(self) -> dict[str, list[tuple[ModuleCall, ...]]]:
        """Module dir -> call chains reaching it (cached)."""
        if self._instances is None:
            self._instances = self.stack.instances()
        return self._instances

    # -- entry point ---------------------------------------------------------------------------

    def resolve(self, change: AttributeChange) -> Resolved:
        """Where `change` applies, or why it cannot be applied."""
        if change.new_block is not None:
            return self._new_block(change)
        path = parse_change_path(change.path)
        if path is None:
            return Skip(f"cannot read the change path {change.path!r}")
        located = self._module_dir(path)
        if isinstance(located, Skip):
            return located
        dir_, chain = located
        found = self.stack.find_block(dir_, path.mode, [path.type, path.name])
        if found is None:
            place = "the stack root" if dir_ == "." else dir_
            return Skip(f"{path.address} is not declared in a .tf file of {place}")
        source, block = found
        body = _hcl.body_of(block)
        if _may_repeat_here(body, path.index):
            return Skip(
                "the resource uses count/for_each; an edit would change every instance",
                where(source, block),
            )
        return self._descend(source, block, path.attrs, change, dir_, chain)

    # -- modules ---------------------------------------------------------------------------------

    def _module_dir(self, path: ChangePath) -> tuple[str, tuple[ModuleCall, ...]] | Skip:
        dir_ = "."
        chain: tuple[ModuleCall, ...] = ()
        for segment in path.modules:
            call = next((c for c in self.stack.module_calls(dir_) if c.name == segment.name), None)
            if call is None:
                source = self.stack.module_source(dir_, segment.name)
                if source is None:
                    return Skip(f"module {segment.name!r} is not called in {dir_}")
                return Skip(
                    f"{path.address} is inside module {segment.name!r} from {source}, which is "
                    "not in this stack; change it through that module's inputs"
                )
            if call.multi:
                return Skip(
                    f"module {segment.name!r} uses count/for_each; an edit in {call.dir} would "
                    "change every instance",
                    f"{call.file}",
                )
            dir_ = call.dir
            chain = (*chain, call)
        return dir_, chain

    # -- new resources -------------------------------------------------------------------------

    def _new_block(self, change: AttributeChange) -> Resolved:
        assert change.new_block is not None
        text = change.new_block.strip("\n") + "\n"
        tree = _hcl.parse(text.encode("utf-8"))
        bad = _hcl.first_error(tree)
        if bad is not None:
            return Skip(f"the new block for {change.path} does not parse (its line {bad})")
        path = parse_change_path(change.path, address_only=True) or parse_change_path(change.path)
        modules = path.modules if path is not None else ()
        located = (
            self._module_dir(ChangePath(modules, "resource", "x", "y", None, ()))
            if modules
            else (".", ())
        )
        if isinstance(located, Skip):
            return located
        dir_, chain = located
        if len(self.instances().get(dir_, [()])) > 1:
            return Skip(f"{dir_} is used by more than one module call; add {change.path} by hand")
        exists_at = ""
        for block in _hcl.blocks(_hcl.body_of(tree.root_node)):
            labels = _hcl.block_labels(block)
            kind = _hcl.block_type(block)
            for found_source, found in self.stack.top_blocks(dir_, kind):
                same_alias = provider_alias(found) == provider_alias(block)
                if _hcl.block_labels(found) == labels and same_alias:
                    exists_at = where(found_source, found)
                    break
            if exists_at:
                break
        return NewBlock(rel(dir_, RECOMMENDATIONS_FILE), text, dir_, chain, exists_at)

    # -- inside the resource -------------------------------------------------------------------

    def _descend(
        self,
        source: SourceFile,
        block: Node,
        segments: tuple[Segment, ...],
        change: AttributeChange,
        dir_: str,
        chain: tuple[ModuleCall, ...],
    ) -> Resolved:
        current = block
        for depth, segment in enumerate(segments[:-1]):
            body = _hcl.body_of(current)
            if _dynamic(body, segment.name):
                return Skip(f"{segment.name} is written as a dynamic block", where(source, current))
            nested = _hcl.blocks(body, segment.name)
            if segment.index is not None:
                try:
                    idx = int(segment.index)
                except ValueError:
                    return Skip(f"{segment.name}[{segment.index}] is not a block index")
                if idx >= len(nested):
                    return Skip(f"there is no {segment.name}[{idx}] block", where(source, current))
                current = nested[idx]
            elif len(nested) == 1:
                current = nested[0]
            elif not nested:
                attr = _hcl.find_attr(body, segment.name)
                if attr is not None:
                    rest = segments[depth + 1 :]
                    return self._object_key(source, attr, rest, change, dir_, chain)
                return Missing(
                    source.relpath, current, segments[depth:], dir_, chain, line(current)
                )
            else:
                return Skip(
                    f"{len(nested)} {segment.name} blocks; the path must say which one",
                    where(source, current),
                )
        last = segments[-1]
        body = _hcl.body_of(current)
        attr = _hcl.find_attr(body, last.name)
        is_block_list = (
            isinstance(change.after, list)
            and all(isinstance(v, dict) for v in change.after)
            and bool(change.after)
        )
        existing_blocks = _hcl.blocks(body, last.name)
        if attr is None and (is_block_list or existing_blocks):
            if _dynamic(body, last.name):
                return Skip(f"{last.name} is written as a dynamic block", where(source, current))
            existing = tuple(_hcl.blocks(body, last.name))
            return BlockList(
                source.relpath,
                current,
                last.name,
                existing,
                dir_,
                chain,
                line(existing[0]) if existing else line(current),
                _blocks_value(existing),
            )
        if attr is None:
            return Missing(source.relpath, current, (last,), dir_, chain, line(current))
        expr = _hcl.attr_expr(attr)
        if expr is None:
            return Skip(f"{last.name} has no value", where(source, attr))
        if change.after is None:
            return AttrToRemove(source.relpath, attr, dir_, chain, line(attr))
        return self._follow(source, expr, dir_, chain, 0)

    def _object_key(
        self,
        source: SourceFile,
        attr: Node,
        rest: tuple[Segment, ...],
        change: AttributeChange,
        dir_: str,
        chain: tuple[ModuleCall, ...],
    ) -> Resolved:
        # Only one level into a literal map (`tags.Name`) is supported: deeper maps are rare.
        expr = _hcl.attr_expr(attr)
        if expr is None or len(rest) != 1 or change.after is None:
            return Skip(f"{_hcl.attr_name(attr)} is a map, not a block", where(source, attr))
        obj = _hcl.unwrap(expr)
        if obj.type == "collection_value" and obj.named_child_count == 1:
            obj = obj.named_children[0]
        if obj.type != "object":
            return Skip(f"{_hcl.attr_name(attr)} {_hcl.describe(expr)}", where(source, attr))
        for elem in obj.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            key = _hcl.literal(exprs[0]) if len(exprs) == 2 else None
            name = str(key.value) if key is not None else _hcl.text(exprs[0]).strip()
            if len(exprs) == 2 and name == rest[0].name:
                return self._follow(source, exprs[1], dir_, chain, 0)
        return Skip(
            f"{_hcl.attr_name(attr)} has no key {rest[0].name!r}; add it by hand",
            where(source, attr),
        )

    # -- following references --------------------------------------------------------------------

    def _follow(
        self,
        source: SourceFile,
        expr: Node,
        dir_: str,
        chain: tuple[ModuleCall, ...],
        depth: int,
        keys: tuple[str, ...] = (),
    ) -> Resolved:
        """Follow `expr` (and then `keys` into maps) to the literal that holds the value."""
        if depth > MAX_FOLLOW:
            return Skip("too many references to follow", where(source, expr))
        ref = _hcl.direct_reference(expr)
        if keys and ref is None:
            obj = _hcl.object_node(expr)
            if obj is None:
                return Skip(
                    f"the map holding {'.'.join(keys)} {_hcl.describe(expr)}", where(source, expr)
                )
            member = _hcl.object_member(obj, keys[0])
            if member is None:
                return Skip(f"the map has no key {keys[0]!r}", where(source, expr))
            return self._follow(source, member, dir_, chain, depth + 1, keys[1:])
        lit = _hcl.literal(expr)
        if lit is not None:
            return ValueTarget(
                source.relpath, expr.start_byte, expr.end_byte, lit, dir_, chain, line(expr)
            )
        if ref is None:
            return Skip(f"the value {_hcl.describe(expr)}", where(source, expr))
        kind, name, ref_keys = ref
        keys = (*ref_keys, *keys)
        notes = self._shared_use_note(dir_, kind, name)
        if kind == "local":
            for local_source, block in self.stack.top_blocks(dir_, "locals"):
                attr = _hcl.find_attr(_hcl.body_of(block), name)
                local_expr = _hcl.attr_expr(attr) if attr is not None else None
                if local_expr is not None:
                    return _with_notes(
                        self._follow(local_source, local_expr, dir_, chain, depth + 1, keys), notes
                    )
            return Skip(f"local.{name} is not defined in {dir_}", where(source, expr))
        if chain:
            call = chain[-1]
            parent = self.stack.file(call.file)
            call_block = next(
                (b for b in _hcl.blocks(parent.body, "module") if b.start_byte == call.block_start),
                None,
            )
            arg = _hcl.find_attr(_hcl.body_of(call_block), name) if call_block else None
            arg_expr = _hcl.attr_expr(arg) if arg is not None else None
            if arg_expr is not None:
                return _with_notes(
                    self._follow(parent, arg_expr, call.parent_dir, chain[:-1], depth + 1, keys),
                    notes,
                )
        else:
            found = self._tfvars(name, keys, depth)
            if found is not None:
                return _with_notes(found, notes)
        variable = self.stack.find_block(dir_, "variable", [name])
        if variable is None:
            return Skip(f"var.{name} is not declared in {dir_}", where(source, expr))
        var_source, var_block = variable
        default = _hcl.find_attr(_hcl.body_of(var_block), "default")
        default_expr = _hcl.attr_expr(default) if default is not None else None
        if default_expr is None:
            return Skip(
                f"var.{name} has no default and no value in a tfvars file; set it where you "
                "pass it",
                where(var_source, var_block),
            )
        return _with_notes(
            self._follow(var_source, default_expr, dir_, chain, depth + 1, keys), notes
        )

    def _tfvars(self, name: str, keys: tuple[str, ...], depth: int) -> Resolved | None:
        for relpath in reversed(self.stack.tfvars_files()):
            try:
                source = self.stack.file(relpath)
            except OSError:
                continue
            if relpath.endswith(".json"):
                if json_value_span(source.data, (name,)) is None:
                    continue
                span = json_value_span(source.data, (name, *keys))
                if span is None:
                    return Skip(
                        f"{relpath} sets var.{name} but has no {'.'.join(keys)} in it", relpath
                    )
                start, end, value = span
                line_no = source.data[:start].count(b"\n") + 1
                if isinstance(value, dict | list):
                    return Skip(f"the value is a {type(value).__name__}", f"{relpath}:{line_no}")
                return ValueTarget(relpath, start, end, None, ".", (), line_no, json_old=value)
            attr = _hcl.find_attr(source.body, name)
            expr = _hcl.attr_expr(attr) if attr is not None else None
            if expr is not None:
                return self._follow(source, expr, ".", (), depth + 1, keys)
        return None

    def _shared_use_note(self, dir_: str, kind: str, name: str) -> tuple[str, ...]:
        uses = self.stack.uses(dir_, f"{kind}.{name}")
        if uses > 1:
            where_ = "the stack root" if dir_ == "." else dir_
            return (
                f"{kind}.{name} is used {uses} times in {where_}; the new value applies to all",
            )
        return ()


def _with_notes(resolved: Resolved, notes: tuple[str, ...]) -> Resolved:
    if isinstance(resolved, ValueTarget) and notes:
        return ValueTarget(
            resolved.file,
            resolved.start,
            resolved.end,
            resolved.literal,
            resolved.dir,
            resolved.chain,
            resolved.line,
            resolved.json_old,
            (*resolved.notes, *notes),
        )
    return resolved


def provider_alias(block: Node) -> str:
    """A provider block's alias ("" for the default provider and for other blocks)."""
    attr = _hcl.find_attr(_hcl.body_of(block), "alias")
    expr = _hcl.attr_expr(attr) if attr is not None else None
    lit = _hcl.literal(expr) if expr is not None else None
    return str(lit.value) if lit is not None else ""


def _dynamic(body: Node | None, name: str) -> bool:
    return any(_hcl.block_labels(b) == [name] for b in _hcl.blocks(body, "dynamic"))


def _may_repeat_here(body: Node | None, index: str | None) -> bool:
    # The index does not matter: an edit in the block reaches every instance either way.
    del index
    return may_repeat(body)


def _blocks_value(blocks: tuple[Node, ...]) -> list[dict[str, Any]] | None:
    values: list[dict[str, Any]] = []
    for block in blocks:
        value = block_value(block)
        if value is None:
            return None
        values.append(value)
    return values


def block_value(block: Node) -> dict[str, Any] | None:
    """A nested block's literal attributes and sub-blocks as a dict (None if not all literal)."""
    out: dict[str, Any] = {}
    body = _hcl.body_of(block)
    for attr in _hcl.attributes(body):
        expr = _hcl.attr_expr(attr)
        lit = _hcl.literal(expr) if expr is not None else None
        if lit is None:
            return None
        out[_hcl.attr_name(attr)] = lit.value
    for sub in _hcl.blocks(body):
        value = block_value(sub)
        if value is None:
            return None
        out.setdefault(_hcl.block_type(sub), []).append(value)
    return out


def line(node: Node) -> int:
    """1-based line of a node."""
    return int(node.start_point[0]) + 1


def where(source: SourceFile, node: Node) -> str:
    """`file:line` of a node."""
    return f"{source.relpath}:{line(node)}"


def loose_equal(a: Any, b: Any) -> bool:
    """Equality that treats "256" and 256, 60 and 60.0 as the same Terraform value."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(loose_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(loose_equal(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return _bool_text(a) == _bool_text(b)
    na, nb = _as_number(a), _as_number(b)
    if na is not None and nb is not None:
        return na == nb
    return bool(a == b)


def _bool_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None
