"""The stack's source files as the patcher sees them: parsed .tf/.tfvars files and local modules."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import tree_sitter

from leanstack.patch import _hcl

MAX_MODULE_DEPTH = 12
_REFERENCE = re.compile(r"\b(?:var|local)\.[A-Za-z_][A-Za-z0-9_-]*(?![A-Za-z0-9_-])")


@dataclass(slots=True)
class SourceFile:
    """One file's bytes and parse tree (HCL), read once per patch run."""

    relpath: str
    data: bytes
    tree: tree_sitter.Tree | None  # None for JSON files

    @property
    def body(self) -> tree_sitter.Node | None:
        """Top-level body of an HCL file."""
        return None if self.tree is None else _hcl.body_of(self.tree.root_node)


@dataclass(frozen=True, slots=True)
class ModuleCall:
    """A `module "name"` block with a local source, and the directory it instantiates."""

    name: str
    parent_dir: str
    dir: str
    file: str
    block_start: int  # byte offset of the block, to find it again in `file`
    multi: bool  # count/for_each that may yield more than one instance


@dataclass(slots=True)
class StackSource:
    """Reads and parses files under the stack root; resolves local module calls."""

    root: Path
    var_files: tuple[str, ...] = ()
    _files: dict[str, SourceFile] = field(default_factory=dict)
    # Files do not change while a plan is made, so directory lookups are computed once.
    _tf_files: dict[str, list[str]] = field(default_factory=dict)
    _blocks: dict[str, dict[str, list[tuple[SourceFile, tree_sitter.Node]]]] = field(
        default_factory=dict
    )
    _calls: dict[str, list[ModuleCall]] = field(default_factory=dict)
    _uses: dict[str, Counter[str]] = field(default_factory=dict)

    def file(self, relpath: str) -> SourceFile:
        """Parsed file by stack-relative path (cached)."""
        cached = self._files.get(relpath)
        if cached is None:
            data = (self.root / relpath).read_bytes()
            tree = None if relpath.endswith(".json") else _hcl.parse(data)
            cached = SourceFile(relpath, data, tree)
            self._files[relpath] = cached
        return cached

    def tf_files(self, dir_: str) -> list[str]:
        """The `.tf` files of one module directory, sorted, as stack-relative paths."""
        cached = self._tf_files.get(dir_)
        if cached is None:
            path = self.root / dir_
            names = (
                sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix == ".tf")
                if path.is_dir()
                else []
            )
            cached = self._tf_files[dir_] = [rel(dir_, name) for name in names]
        return cached

    def top_blocks(self, dir_: str, type_: str) -> list[tuple[SourceFile, tree_sitter.Node]]:
        """All top-level blocks of a type in a module directory, with their file."""
        index = self._blocks.get(dir_)
        if index is None:
            index = self._blocks[dir_] = {}
            for relpath in self.tf_files(dir_):
                source = self.file(relpath)
                for block in _hcl.blocks(source.body):
                    index.setdefault(_hcl.block_type(block), []).append((source, block))
        return index.get(type_, [])

    def find_block(
        self, dir_: str, type_: str, labels: list[str]
    ) -> tuple[SourceFile, tree_sitter.Node] | None:
        """The top-level block with these labels in a module directory."""
        for source, block in self.top_blocks(dir_, type_):
            if _hcl.block_labels(block) == labels:
                return source, block
        return None

    def module_calls(self, dir_: str) -> list[ModuleCall]:
        """Local module calls (`source = "./..."`) in a module directory."""
        cached = self._calls.get(dir_)
        if cached is not None:
            return cached
        calls: list[ModuleCall] = self._calls.setdefault(dir_, [])
        for source, block in self.top_blocks(dir_, "module"):
            labels = _hcl.block_labels(block)
            body = _hcl.body_of(block)
            src_attr = _hcl.find_attr(body, "source")
            if not labels or src_attr is None:
                continue
            expr = _hcl.attr_expr(src_attr)
            lit = _hcl.literal(expr) if expr is not None else None
            if lit is None or not isinstance(lit.value, str):
                continue
            target = local_module_dir(dir_, lit.value)
            if target is None:
                continue
            calls.append(
                ModuleCall(
                    name=labels[0],
                    parent_dir=dir_,
                    dir=target,
                    file=source.relpath,
                    block_start=block.start_byte,
                    multi=may_repeat(body),
                )
            )
        return calls

    def uses(self, dir_: str, reference: str) -> int:
        """How many times `var.x` / `local.x` appears in a module directory's .tf files."""
        counts = self._uses.get(dir_)
        if counts is None:
            counts = self._uses[dir_] = Counter()
            for relpath in self.tf_files(dir_):
                text = self.file(relpath).data.decode("utf-8", "replace")
                counts.update(m.group(0) for m in _REFERENCE.finditer(text))
        return counts[reference]

    def module_source(self, dir_: str, name: str) -> str | None:
        """The `source` string of a module call, local or not."""
        found = self.find_block(dir_, "module", [name])
        if found is None:
            return None
        attr = _hcl.find_attr(_hcl.body_of(found[1]), "source")
        expr = _hcl.attr_expr(attr) if attr is not None else None
        lit = _hcl.literal(expr) if expr is not None else None
        return str(lit.value) if lit is not None else None

    def instances(self) -> dict[str, list[tuple[ModuleCall, ...]]]:
        """Every module directory with the call chains that reach it (root: one empty chain)."""
        found: dict[str, list[tuple[ModuleCall, ...]]] = {".": [()]}
        stack: list[tuple[str, tuple[ModuleCall, ...]]] = [(".", ())]
        while stack:
            dir_, chain = stack.pop()
            if len(chain) >= MAX_MODULE_DEPTH:
                continue
            for call in self.module_calls(dir_):
                if any(c.dir == call.dir for c in chain):
                    continue  # a cycle: Terraform would reject it too
                new_chain = (*chain, call)
                found.setdefault(call.dir, []).append(new_chain)
                stack.append((call.dir, new_chain))
        return found

    def tfvars_files(self) -> list[str]:
        """Root variable files in increasing precedence (the last one that sets a value wins)."""
        names = sorted(p.name for p in self.root.iterdir() if p.is_file())
        ordered: list[str] = [
            n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names
        ]
        ordered += [n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json"))]
        ordered += list(self.var_files)
        return ordered


def rel(dir_: str, name: str) -> str:
    """Join a stack-relative directory and a file name."""
    return name if dir_ in (".", "") else f"{dir_}/{name}"


def local_module_dir(parent: str, source: str) -> str | None:
    """Stack-relative dir of a local module source (None for registry/git sources).

    A module beside the stack (`../../modules/x`) comes back as `../../modules/x`: it is read
    to follow values, but the patch never edits a file outside the stack root.
    """
    if not source.startswith(("./", "../")):
        return None
    joined = os.path.normpath(str(PurePosixPath(parent) / source))
    return joined.replace(os.sep, "/")


def outside(relpath: str) -> bool:
    """True for a path that leaves the stack root."""
    return relpath == ".." or relpath.startswith("../")


def may_repeat(body: tree_sitter.Node | None) -> bool:
    """True when count/for_each may give more than one instance of a block."""
    if _hcl.find_attr(body, "for_each") is not None:
        return True
    count = _hcl.find_attr(body, "count")
    if count is None:
        return False
    expr = _hcl.attr_expr(count)
    if expr is None:
        return True
    source = _hcl.text(expr).strip()
    if source in ("0", "1"):
        return False
    # `cond ? 1 : 0` yields at most one instance, so editing the block edits that one instance.
    return re.search(r"\?\s*[01]\s*:\s*[01]\s*$", source) is None


def json_value_span(data: bytes, keys: tuple[str, ...]) -> tuple[int, int, object] | None:
    """Byte span and value of a key path in a JSON object file (tfvars.json)."""
    text = data.decode("utf-8")
    span = _member_span(text, _skip_ws(text, 0), keys)
    if span is None:
        return None
    start, end, value = span
    return len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8")), value


def _member_span(text: str, i: int, keys: tuple[str, ...]) -> tuple[int, int, object] | None:
    decoder = json.JSONDecoder()
    if not keys:
        value, end = decoder.raw_decode(text, i)
        return i, end, value
    if i >= len(text) or text[i] != "{":
        return None
    i += 1
    while True:
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] != '"':
            return None
        name, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _skip_ws(text, i)
        if i >= len(text) or text[i] != ":":
            return None
        i = _skip_ws(text, i + 1)
        if name == keys[0]:
            return _member_span(text, i, keys[1:])
        _, end = decoder.raw_decode(text, i)
        i = _skip_ws(text, end)
        if i < len(text) and text[i] == ",":
            i += 1


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i
