"""Turn AttributeChanges into byte edits of the stack's files, and those into a unified diff."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leanstack.model.findings import AttributeChange
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.patch import _hcl, _layout
from leanstack.patch._covered import MONITORING_ID, covered_by, support_names, uses
from leanstack.patch._resolve import (
    AttrToRemove,
    BlockList,
    Missing,
    NewBlock,
    Resolved,
    Resolver,
    Skip,
    ValueTarget,
    loose_equal,
)
from leanstack.patch._stack import ModuleCall, SourceFile, StackSource, outside

RECOMMENDATIONS_HEADER = (
    "# Added by `leanstack patch`: resources recommended by the leanstack report.\n"
    "# Review them like any other change before `terraform apply`.\n"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchRequest:
    """One change to make, with the recommendation it comes from."""

    recommendation: str
    change: AttributeChange
    title: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A change left out of the patch, with a one-line reason."""

    recommendation: str
    path: str
    reason: str
    where: str = ""
    # True when the change is already in the stack (the patch was applied before).
    already: bool = False

    def line(self) -> str:
        """`where: [id] path: reason`, the form printed to the user."""
        return self.issue().line()

    def issue(self) -> Issue:
        """The skip as a warning Issue (for reports that collect issues)."""
        return Issue(
            code=IssueCode.USAGE_ERROR,
            message=f"[{self.recommendation}] {self.path}: {self.reason}",
            where=self.where,
            severity=Severity.WARNING,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedChange:
    """A change the patch makes: where, how, and the value it writes."""

    recommendation: str
    path: str
    file: str
    line: int
    kind: str  # replace | insert | remove | blocks | new_block
    after: Any
    notes: tuple[str, ...] = ()
    block: str = ""  # the new block's text (new_block only), to find it again after writing


@dataclass(frozen=True, slots=True, kw_only=True)
class FilePatch:
    """A file's content before (None for a new file) and after the patch."""

    relpath: str
    before: bytes | None
    after: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchPlan:
    """Everything `leanstack patch` would do; nothing is written until `apply_patch`."""

    root: Path
    files: tuple[FilePatch, ...]
    changes: tuple[PlannedChange, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...] = ()
    var_files: tuple[str, ...] = ()
    # Changes already in the stack (an earlier patch, or the user): nothing to do for them.
    applied: tuple[Skipped, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the patch changes no file."""
        return not self.files

    def diff(self) -> str:
        """Unified diff of all files, `a/`/`b/` paths relative to the stack root."""
        return "".join(unified_diff(f) for f in self.files)


@dataclass(slots=True)
class _Edit:
    file: str
    start: int
    end: int
    text: str
    key: tuple[str, int, str]
    dir: str
    chain: tuple[ModuleCall, ...]
    requests: list[tuple[PatchRequest, PlannedChange]] = field(default_factory=list)


def unified_diff(patch: FilePatch) -> str:
    """`git diff`-style text for one file."""
    before = (patch.before or b"").decode("utf-8").splitlines(keepends=True)
    after = patch.after.decode("utf-8").splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(
            before,
            after,
            fromfile="/dev/null" if patch.before is None else f"a/{patch.relpath}",
            tofile=f"b/{patch.relpath}",
        )
    )
    out: list[str] = []
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def plan_patch(
    root: Path | str,
    requests: Iterable[PatchRequest],
    *,
    var_files: Sequence[str] = (),
) -> PatchPlan:
    """Work out the edits for `requests` on the stack at `root` (reads, never writes).

    `var_files` are extra tfvars files (relative to root) passed to the loader with -var-file,
    in the order Terraform reads them.
    """
    root = Path(root)
    stack = StackSource(root, tuple(var_files))
    resolver = Resolver(stack)
    edits: list[_Edit] = []
    skipped: list[Skipped] = []
    applied: list[Skipped] = []
    new_blocks: dict[str, list[tuple[PatchRequest, NewBlock]]] = {}
    resolved_all = [(request, resolver.resolve(request.change)) for request in requests]
    # The report's own budget-and-alarm set stands in for "the stack has no cost guard": once
    # the stack has any budget or billing alarm, none of it is proposed again.
    guard = next(
        (
            found
            for request, resolved in resolved_all
            if request.recommendation == MONITORING_ID and isinstance(resolved, NewBlock)
            if (found := covered_by(stack, resolved.dir, resolved.text))
        ),
        "",
    )
    for request, resolved in resolved_all:
        if isinstance(resolved, NewBlock):
            covered = "" if resolved.exists_at else covered_by(stack, resolved.dir, resolved.text)
            if request.recommendation == MONITORING_ID and guard:
                covered = covered or guard
            if outside(resolved.file):
                skipped.append(_skip(request, f"{resolved.dir} is outside the stack"))
            elif resolved.exists_at:
                applied.append(
                    _skip(request, f"already declared at {resolved.exists_at}", already=True)
                )
            elif covered:
                applied.append(_skip(request, covered, already=True))
            else:
                new_blocks.setdefault(resolved.file, []).append((request, resolved))
            continue
        made = _edit_for(stack, request, resolved)
        if isinstance(made, Skipped):
            (applied if made.already else skipped).append(made)
        else:
            edits.append(made)
    _drop_orphan_support(new_blocks, applied)
    edits = _merge_shared(edits, resolver, skipped)
    edits = _drop_conflicts(edits, skipped)
    files: list[FilePatch] = []
    changes: list[PlannedChange] = []
    by_file: dict[str, list[_Edit]] = {}
    for edit in edits:
        by_file.setdefault(edit.file, []).append(edit)
        changes.extend(planned for _, planned in edit.requests)
    for relpath in sorted(set(by_file) | set(new_blocks)):
        exists = (root / relpath).is_file()
        before = stack.file(relpath).data if exists else None
        after = _apply_edits(before or b"", by_file.get(relpath, []))
        if relpath in new_blocks:
            after = _append_blocks(after, before is None, new_blocks[relpath])
            for request, block in new_blocks[relpath]:
                changes.append(
                    PlannedChange(
                        recommendation=request.recommendation,
                        path=request.change.path,
                        file=block.file,
                        line=1,
                        kind="new_block",
                        after=request.change.path,
                        block=block.text,
                    )
                )
        if after != before:
            files.append(FilePatch(relpath=relpath, before=before, after=after))
    notes = tuple(dict.fromkeys(n for c in changes for n in c.notes))
    if applied:
        notes += (_applied_note(applied, changes, skipped),)
    return PatchPlan(
        root=root,
        files=tuple(files),
        changes=tuple(changes),
        skipped=tuple(skipped),
        notes=notes,
        var_files=tuple(var_files),
        applied=tuple(applied),
    )


def _applied_note(
    applied: Sequence[Skipped], changes: Sequence[PlannedChange], skipped: Sequence[Skipped]
) -> str:
    """One line naming the recommendations whose changes are all in the stack already."""
    pending = {c.recommendation for c in changes} | {s.recommendation for s in skipped}
    done = [r for r in dict.fromkeys(a.recommendation for a in applied) if r not in pending]
    # A block covered by another of the same kind says which one (it was not this patch's).
    why = {a.recommendation: a.reason for a in applied if a.reason.startswith("the stack ")}
    ids = ", ".join(f"[{r}]" + (f" ({why[r]})" if r in why else "") for r in done)
    if not pending:
        return f"already applied, nothing to change: {ids}"
    if done:
        return f"already applied: {ids}"
    return f"{len(applied)} change(s) already in the stack"


def _drop_orphan_support(
    new_blocks: dict[str, list[tuple[PatchRequest, NewBlock]]], applied: list[Skipped]
) -> None:
    """Leave out a variable or provider added only for blocks that are already in the stack.

    A report's budget comes with `variable "cost_alert_emails"` and a us-east-1 provider
    alias; once the budget is covered by an existing one, adding them alone would leave an
    unused variable that Terraform then asks a value for.
    """
    covered = {a.recommendation for a in applied}
    for relpath, items in new_blocks.items():
        kept: list[tuple[PatchRequest, NewBlock]] = []
        for request, block in items:
            name = support_names(block.text) if request.recommendation in covered else None
            if name is not None and not any(
                uses(other.text, name) for _, other in items if other is not block
            ):
                applied.append(
                    _skip(
                        request,
                        "only needed by blocks the stack already has",
                        relpath,
                        already=True,
                    )
                )
                continue
            kept.append((request, block))
        new_blocks[relpath] = kept
    for relpath in [k for k, v in new_blocks.items() if not v]:
        del new_blocks[relpath]


def _skip(request: PatchRequest, reason: str, where: str = "", *, already: bool = False) -> Skipped:
    return Skipped(
        recommendation=request.recommendation,
        path=request.change.path,
        reason=reason,
        where=where,
        already=already,
    )


def _edit_for(stack: StackSource, request: PatchRequest, resolved: Resolved) -> _Edit | Skipped:
    change = request.change
    if isinstance(resolved, Skip):
        return _skip(request, resolved.reason, resolved.where)
    if outside(resolved.file):
        line = getattr(resolved, "line", 0)
        return _skip(
            request,
            "the value is written outside the stack, in a module other stacks may share; "
            "change it there by hand",
            f"{resolved.file}:{line}" if line else resolved.file,
        )
    if isinstance(resolved, ValueTarget):
        return _replace(stack, request, resolved)
    if isinstance(resolved, Missing):
        if change.after is None or change.after == []:
            return _skip(request, "already absent", already=True)
        return _insert(stack.file(resolved.file), request, resolved)
    if isinstance(resolved, AttrToRemove):
        return _remove(stack.file(resolved.file), request, resolved)
    if isinstance(resolved, BlockList):
        return _blocks(stack.file(resolved.file), request, resolved)
    return _skip(request, "unsupported change")


def _planned(
    request: PatchRequest, file: str, line: int, kind: str, notes: tuple[str, ...] = ()
) -> PlannedChange:
    return PlannedChange(
        recommendation=request.recommendation,
        path=request.change.path,
        file=file,
        line=line,
        kind=kind,
        after=request.change.after,
        notes=notes,
    )


def _replace(stack: StackSource, request: PatchRequest, target: ValueTarget) -> _Edit | Skipped:
    change = request.change
    where = f"{target.file}:{target.line}"
    # Checked before `before`: after an earlier patch the source no longer has `before`.
    if loose_equal(target.current, change.after):
        return _skip(request, f"already {change.after!r}", where, already=True)
    if change.before is not None and not loose_equal(target.current, change.before):
        return _skip(
            request, f"expected {change.before!r} but the source has {target.current!r}", where
        )
    source = stack.file(target.file)
    data = source.data
    if target.is_json:
        new = _hcl.render_json(change.after, target.json_old)
        end, text = target.end, new
    else:
        indent = _layout.indent_at(data, target.start)
        try:
            new = _hcl.render(change.after, target.literal, indent)
        except TypeError as exc:
            return _skip(request, str(exc), where)
        end, text = target.end, new
        attr = _attribute_at(source, target.start, target.end)
        delta = len(new.encode()) - (target.end - target.start)
        gap = (
            _layout.comment_gap(data, attr, target.end, delta)
            if attr is not None and "\n" not in new
            else None
        )
        comment = _layout.trailing_comment(data, target.end)
        if gap is not None and comment is not None:
            end, text = comment, new + " " * max(gap, 1)
    planned = _planned(request, target.file, target.line, "replace", target.notes)
    return _Edit(
        target.file,
        target.start,
        end,
        text,
        (target.file, target.start, "value"),
        target.dir,
        target.chain,
        [(request, planned)],
    )


def _attribute_at(source: SourceFile, start: int, end: int) -> Any:
    if source.tree is None:
        return None
    node = source.tree.root_node.descendant_for_byte_range(start, end)
    while node is not None and node.type != "attribute":
        node = node.parent
    return node


def _insert(source: SourceFile, request: PatchRequest, missing: Missing) -> _Edit | Skipped:
    data = source.data
    block = missing.block
    body = _hcl.body_of(block)
    names = [s.name for s in missing.segments]
    block_indent = _layout.indent_at(data, block.start_byte)
    items = [c for c in body.named_children if c.type in ("attribute", "block")] if body else []
    indent = _layout.indent_at(data, items[0].start_byte) if items else block_indent + "  "
    after = request.change.after
    where = f"{missing.file}:{missing.line}"
    if len(names) > 1:
        text = _layout.render_nested(names, after, indent)
        pos, text = _at_body_end(data, block, text, bool(items))
    else:
        value = _hcl.render(after, None, indent)
        anchor = None
        for item in items:
            if item.type == "block":
                break
            anchor = item
        if anchor is not None:
            pos = _layout.line_end(data, anchor.end_byte)
            text = _layout.attribute_line(data, anchor, names[0], value, indent)
        elif items:
            # Only nested blocks so far: the attribute goes first, right after the `{` line,
            # so a comment above the first block stays with it.
            opening = next(c for c in block.children if c.type == "block_start")
            pos = _layout.line_end(data, opening.end_byte)
            text = f"{indent}{names[0]} = {value}\n"
            if data[pos : _layout.line_end(data, pos)].strip():
                text += "\n"
        else:
            pos, text = _at_body_end(data, block, f"{indent}{names[0]} = {value}\n", False)
    if pos < 0:
        return _skip(request, "the block is written on one line; add the attribute by hand", where)
    planned = _planned(request, missing.file, missing.line, "insert")
    return _Edit(
        missing.file,
        pos,
        pos,
        text,
        (missing.file, block.start_byte, ".".join(names)),
        missing.dir,
        missing.chain,
        [(request, planned)],
    )


def _at_body_end(data: bytes, block: Any, text: str, has_items: bool) -> tuple[int, str]:
    """Insert `text` (full lines) just before the block's closing brace line."""
    close = next((c for c in block.children if c.type == "block_end"), None)
    if close is None:
        return -1, text
    start = _layout.line_start(data, close.start_byte)
    if data[start : close.start_byte].strip():
        opening = next((c for c in block.children if c.type == "block_start"), None)
        if has_items or opening is None or opening.start_point[0] != close.start_point[0]:
            return -1, text
        # `name {}` on one line: open it up.
        indent = _layout.indent_at(data, block.start_byte)
        return opening.end_byte, "\n" + text + indent
    return start, ("\n" + text if has_items else text)


def _remove(source: SourceFile, request: PatchRequest, target: AttrToRemove) -> _Edit | Skipped:
    data = source.data
    attr = target.attr
    start = _layout.line_start(data, attr.start_byte)
    where = f"{target.file}:{target.line}"
    if data[start : attr.start_byte].strip():
        return _skip(request, "the attribute shares its line; remove it by hand", where)
    end = _layout.line_end(data, attr.end_byte)
    planned = _planned(request, target.file, target.line, "remove")
    return _Edit(
        target.file,
        start,
        end,
        "",
        (target.file, attr.start_byte, "remove"),
        target.dir,
        target.chain,
        [(request, planned)],
    )


def _blocks(source: SourceFile, request: PatchRequest, target: BlockList) -> _Edit | Skipped:
    data = source.data
    after = request.change.after
    if isinstance(after, dict):
        after = [after]  # one block given as a map
    where = f"{target.file}:{target.line}"
    if not _layout.is_block_list(after) and after not in (None, []):
        return _skip(request, f"{target.name} is a block; the new value must be a list of maps")
    if target.current is not None and loose_equal(target.current, after or []):
        return _skip(request, "already as recommended", where, already=True)
    if target.existing and (
        target.current is None or any(_has_comment(b) for b in target.existing)
    ):
        # Re-writing these blocks would lose their expressions or comments.
        return _skip(
            request,
            f"the {target.name} blocks hold expressions or comments; replace them by hand",
            where,
        )
    planned = _planned(request, target.file, target.line, "blocks")
    planned = PlannedChange(
        recommendation=planned.recommendation,
        path=planned.path,
        file=planned.file,
        line=planned.line,
        kind=planned.kind,
        after=after,
    )
    items = list(after or [])
    if target.existing:
        first, last = target.existing[0], target.existing[-1]
        body = _hcl.body_of(target.parent)
        siblings = list(body.named_children) if body is not None else []
        inside = [c for c in siblings if first.start_byte <= c.start_byte <= last.start_byte]
        if any(c.type not in ("block", "comment") for c in inside) or any(
            c.type == "block" and _hcl.block_type(c) != target.name for c in inside
        ):
            return _skip(request, f"{target.name} blocks are interleaved with other lines", where)
        indent = _layout.indent_at(data, first.start_byte)
        start = _layout.line_start(data, first.start_byte)
        end = _layout.line_end(data, last.end_byte)
        text = "".join(_layout.render_block(target.name, item, indent) for item in items)
    else:
        body = _hcl.body_of(target.parent)
        has_items = body is not None and bool(body.named_children)
        indent = (
            _layout.indent_at(data, body.named_children[0].start_byte)
            if has_items and body is not None
            else _layout.indent_at(data, target.parent.start_byte) + "  "
        )
        rendered = "".join(_layout.render_block(target.name, item, indent) for item in items)
        start, text = _at_body_end(data, target.parent, rendered, has_items)
        if start < 0:
            return _skip(request, "the block is written on one line; edit it by hand", where)
        end = start
    return _Edit(
        target.file,
        start,
        end,
        text,
        (target.file, target.parent.start_byte, target.name),
        target.dir,
        target.chain,
        [(request, planned)],
    )


def _has_comment(node: Any) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "comment":
            return True
        stack.extend(current.children)
    return False


def _chain_names(chain: tuple[ModuleCall, ...]) -> tuple[str, ...]:
    return tuple(c.name for c in chain)


def _merge_shared(edits: list[_Edit], resolver: Resolver, skipped: list[Skipped]) -> list[_Edit]:
    """One edit per location; a location in a module used by several calls needs them all."""
    groups: dict[tuple[str, int, str], list[_Edit]] = {}
    for edit in edits:
        groups.setdefault(edit.key, []).append(edit)
    merged: list[_Edit] = []
    instances = resolver.instances()
    for group in groups.values():
        first = group[0]
        reqs = [r for e in group for r in e.requests]
        texts = {e.text for e in group}
        sharers = instances.get(first.dir, [()])
        needed = {_chain_names(c) for c in sharers}
        covered = {_chain_names(e.chain) for e in group}
        reason = ""
        if len(texts) > 1:
            reason = f"other changes write a different value at {first.file}"
        elif any(call.multi for chain in sharers for call in chain):
            reason = f"{first.dir} is instantiated with count/for_each; edit it by hand"
        elif len(needed) > 1 and covered != needed:
            missing = sorted(".".join("module." + n for n in c) for c in needed - covered)
            reason = (
                f"{first.file} is shared with {', '.join(missing)}, which the report leaves as is"
            )
        if reason:
            skipped.extend(_skip(request, reason, f"{p.file}:{p.line}") for request, p in reqs)
            continue
        first.requests = reqs
        merged.append(first)
    return merged


def _drop_conflicts(edits: list[_Edit], skipped: list[Skipped]) -> list[_Edit]:
    kept: list[_Edit] = []
    for edit in edits:
        clash = next(
            (
                k
                for k in kept
                if k.file == edit.file
                and k.start < edit.end
                and edit.start < k.end
                and not (k.start == k.end == edit.start == edit.end)
            ),
            None,
        )
        if clash is not None:
            skipped.extend(
                _skip(request, "overlaps another change in the patch", f"{p.file}:{p.line}")
                for request, p in edit.requests
            )
            continue
        kept.append(edit)
    return kept


def _apply_edits(data: bytes, edits: list[_Edit]) -> bytes:
    out: list[bytes] = []
    pos = 0
    # New lines follow the file's line endings (a CRLF file stays CRLF).
    crlf = b"\r\n" in data
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(data[pos : edit.start])
        text = edit.text.replace("\r\n", "\n").replace("\n", "\r\n") if crlf else edit.text
        out.append(text.encode("utf-8"))
        pos = max(pos, edit.end)
    out.append(data[pos:])
    return b"".join(out)


def _append_blocks(
    data: bytes, new_file: bool, blocks: list[tuple[PatchRequest, NewBlock]]
) -> bytes:
    parts: list[str] = [RECOMMENDATIONS_HEADER] if new_file else []
    for request, block in blocks:
        if request.title:
            title = f"# {' '.join(request.title.split())} ({request.recommendation})\n"
        else:
            title = f"# {request.recommendation}: {request.change.path}\n"
        parts.append("\n" + title + _layout.align(block.text))
    text = "".join(parts)
    if not new_file and data and not data.endswith(b"\n"):
        text = "\n" + text
    return data + text.encode("utf-8")
