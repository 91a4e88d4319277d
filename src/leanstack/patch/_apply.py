"""Write a PatchPlan to disk: checks first, atomic replace, backup, then verify the result."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leanstack.model.findings import AttributeChange
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.model.resource import is_known
from leanstack.patch import _hcl
from leanstack.patch._engine import PatchPlan, PlannedChange
from leanstack.patch._path import parse_change_path
from leanstack.patch._resolve import (
    BlockList,
    Missing,
    Resolver,
    ValueTarget,
    loose_equal,
    provider_alias,
)
from leanstack.patch._stack import StackSource

BACKUP_DIR = ".leanstack/backup"
# In each backup: what the patch turned each file into, so a later run of the same report
# can tell "changed by that patch" from "edited since the report".
MANIFEST = "PATCHED.json"


def _issue(where: str, message: str, code: IssueCode = IssueCode.USAGE_ERROR) -> Issue:
    return Issue(code=code, message=message, where=where, severity=Severity.ERROR)


FMT_TIMEOUT_S = 60


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _patched_by_leanstack(root: Path) -> dict[str, dict[str, set[str]]]:
    """`{relpath: {sha before: {sha after}}}` from the manifests of earlier `patch --write`s."""
    edges: dict[str, dict[str, set[str]]] = {}
    backups = root / BACKUP_DIR
    if not backups.is_dir():
        return edges
    for manifest in sorted(backups.glob(f"*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged manifest only means that patch is not recognised
        files = data.get("files") if isinstance(data, dict) else None
        for relpath, shas in (files or {}).items() if isinstance(files, dict) else ():
            if isinstance(shas, dict) and isinstance(shas.get("after"), str):
                before = str(shas.get("before") or "")
                edges.setdefault(relpath, {}).setdefault(before, set()).add(shas["after"])
    return edges


def _reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def stale_files(root: Path, expected: Mapping[str, str]) -> list[Issue]:
    """One Issue per file whose sha256 differs from the report's (or that is gone).

    A file that only `leanstack patch --write` changed since (its backup manifest leads from
    the report's hash to the current one) is not stale: the patch engine finds the changes
    already made and says so, instead of asking for a new analysis.
    """
    problems: list[Issue] = []
    patched: dict[str, dict[str, set[str]]] | None = None
    for relpath, digest in sorted(expected.items()):
        path = root / relpath
        try:
            actual = sha256_file(path)
        except IsADirectoryError:
            problems.append(_issue(relpath, "is now a directory; the report is stale"))
            continue
        except OSError:
            problems.append(_issue(relpath, "missing since the report was written"))
            continue
        want = digest.lower().removeprefix("sha256:")
        if actual != want:
            if patched is None:
                patched = _patched_by_leanstack(root)
            if _reaches(patched.get(relpath, {}), want, actual):
                continue
            problems.append(
                _issue(
                    relpath,
                    f"changed since the report was written (sha256 {actual[:12]}, "
                    f"report has {digest.removeprefix('sha256:')[:12]}); re-run the analysis",
                )
            )
    return problems


def _tmp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.leanstack.tmp")


def unwritable(plan: PatchPlan) -> list[Issue]:
    """One Issue per target that cannot be written (checked before anything is touched)."""
    problems: list[Issue] = []
    for patch in plan.files:
        target = plan.root / patch.relpath
        if target.exists() and not target.is_file():
            problems.append(_issue(patch.relpath, "cannot write: not a regular file"))
            continue
        current = target.read_bytes() if target.is_file() else None
        if current != patch.before:
            problems.append(_issue(patch.relpath, "changed while the patch was being made"))
            continue
        if not target.parent.is_dir():
            problems.append(
                _issue(patch.relpath, f"cannot write: {target.parent} is not a directory")
            )
            continue
        tmp = _tmp_path(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            problems.append(_issue(patch.relpath, f"cannot write: {exc.strerror or exc}"))
            continue
        os.close(fd)
        tmp.unlink()
    backup = plan.root / BACKUP_DIR
    probe = backup.parent if not backup.exists() else backup
    while not probe.exists() and probe != plan.root:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        problems.append(_issue(BACKUP_DIR, "cannot create the backup directory"))
    return problems


@dataclass(frozen=True, slots=True, kw_only=True)
class FmtResult:
    """`terraform fmt -check -diff` on the written files."""

    ok: bool
    output: str
    unformatted_before: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    """What `apply_patch` did: files written, where the backup is, what the checks said."""

    written: tuple[str, ...]
    backup_dir: Path | None
    problems: tuple[Issue, ...]
    rolled_back: bool
    fmt: FmtResult | None
    loader_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when the patch is on disk and verified."""
        return not self.problems and not self.rolled_back


def apply_patch(plan: PatchPlan, *, run_fmt: bool = True) -> ApplyResult:
    """Write the plan atomically with a backup, then verify it (rolling back if it fails).

    Callers should first check `stale_files` and `unwritable`; this function re-checks
    writability and refuses before touching anything.
    """
    blocked = unwritable(plan)
    if blocked:
        return ApplyResult(
            written=(), backup_dir=None, problems=tuple(blocked), rolled_back=False, fmt=None
        )
    root = plan.root
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup_dir = root / BACKUP_DIR / stamp
    temps: list[tuple[Path, Path]] = []
    try:
        for patch in plan.files:
            target = root / patch.relpath
            tmp = _tmp_path(target)
            with open(tmp, "wb") as handle:
                handle.write(patch.after)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                shutil.copymode(target, tmp)
            temps.append((tmp, target))
        for patch in plan.files:
            if patch.before is not None:
                copy = backup_dir / patch.relpath
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(patch.before)
        (backup_dir).mkdir(parents=True, exist_ok=True)
        new_files = [p.relpath for p in plan.files if p.before is None]
        (backup_dir / "NEW_FILES").write_text("".join(f"{n}\n" for n in new_files))
        (backup_dir / MANIFEST).write_text(json.dumps(_manifest(plan), indent=2) + "\n")
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        _drop_backup(backup_dir)
        return ApplyResult(
            written=(),
            backup_dir=None,
            problems=(_issue(str(exc.filename or ""), f"cannot write: {exc.strerror or exc}"),),
            rolled_back=False,
            fmt=None,
        )
    written: list[str] = []
    try:
        for (tmp, target), patch in zip(temps, plan.files, strict=True):
            os.replace(tmp, target)
            written.append(patch.relpath)
    except OSError as exc:
        _restore(plan, written)
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        _drop_backup(backup_dir)
        return ApplyResult(
            written=(),
            backup_dir=None,
            problems=(_issue(str(exc.filename or ""), f"cannot write: {exc.strerror or exc}"),),
            rolled_back=True,
            fmt=None,
        )
    problems, checked = verify(plan)
    if problems:
        _restore(plan, written)
        _drop_backup(backup_dir)
        return ApplyResult(
            written=(),
            backup_dir=None,
            problems=tuple(problems),
            rolled_back=True,
            fmt=None,
        )
    fmt = terraform_fmt(plan) if run_fmt else None
    return ApplyResult(
        written=tuple(written),
        backup_dir=backup_dir,
        problems=(),
        rolled_back=False,
        fmt=fmt,
        loader_checked=checked,
    )


def _manifest(plan: PatchPlan) -> dict[str, Any]:
    return {
        "files": {
            p.relpath: {
                "before": hashlib.sha256(p.before).hexdigest() if p.before is not None else None,
                "after": hashlib.sha256(p.after).hexdigest(),
            }
            for p in plan.files
        }
    }


def _drop_backup(backup_dir: Path) -> None:
    """Remove the backup of a write that was rolled back (nothing changed, nothing to keep).

    The parents (`.leanstack/backup`, `.leanstack`) go too when this left them empty.
    """
    shutil.rmtree(backup_dir, ignore_errors=True)
    for parent in (backup_dir.parent, backup_dir.parent.parent):
        try:
            parent.rmdir()
        except OSError:
            break  # not empty (other backups, a report, a metric store): keep it


_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".terraform", ".leanstack", "*.tfstate", "*.tfstate.*"
)


def check_in_copy(plan: PatchPlan) -> tuple[list[Issue], int]:
    """Verify a plan without touching the stack: patch a temporary copy and re-read it.

    Same checks as after `apply_patch` (parses, values read back, loader agrees); returns the
    problems and how many values the loader confirmed.
    """
    if plan.empty:
        return [], 0
    with tempfile.TemporaryDirectory(prefix="leanstack-patch-") as tmp:
        copy = Path(tmp) / "stack"
        shutil.copytree(plan.root, copy, ignore=_COPY_IGNORE, symlinks=True)
        for patch in plan.files:
            target = copy / patch.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(patch.after)
        return verify(replace(plan, root=copy))


def _restore(plan: PatchPlan, written: list[str]) -> None:
    by_path = {p.relpath: p for p in plan.files}
    for relpath in written:
        patch = by_path[relpath]
        target = plan.root / relpath
        if patch.before is None:
            target.unlink(missing_ok=True)
        else:
            tmp = _tmp_path(target)
            tmp.write_bytes(patch.before)
            os.replace(tmp, target)


def verify(plan: PatchPlan) -> tuple[list[Issue], int]:
    """Re-read the patched tree: it parses, and every change reads back as recommended.

    Returns the problems and how many values the Terraform loader confirmed.
    """
    problems: list[Issue] = []
    for patch in plan.files:
        problems.extend(_syntax(plan.root, patch.relpath))
    if problems:
        return problems, 0
    resolver = Resolver(StackSource(plan.root, plan.var_files))
    for change in plan.changes:
        attribute_change = AttributeChange(
            path=change.path,
            before=None,
            after=change.after,
            new_block="" if change.kind == "new_block" else None,
        )
        if change.kind == "new_block":
            continue
        resolved = resolver.resolve(attribute_change)
        if change.kind == "remove":
            ok = isinstance(resolved, Missing)
            current: Any = "still present"
        elif isinstance(resolved, ValueTarget | BlockList):
            ok, current = loose_equal(resolved.current, change.after), resolved.current
        else:
            ok, current = False, getattr(resolved, "reason", type(resolved).__name__)
        if not ok:
            problems.append(
                _issue(
                    f"{change.file}:{change.line}",
                    f"{change.path} reads back as {current!r}, not {change.after!r}",
                    IssueCode.EVALUATION_ERROR,
                )
            )
    new_blocks = [c for c in plan.changes if c.kind == "new_block"]
    for change in new_blocks:
        if not _declared(resolver, change):
            problems.append(
                _issue(
                    change.file,
                    f"{change.path} is not declared after the patch",
                    IssueCode.EVALUATION_ERROR,
                )
            )
    loader_problems, checked = _loader_check(plan)
    return problems + loader_problems, checked


def _declared(resolver: Resolver, change: PlannedChange) -> bool:
    """True when the patched tree declares the block a new_block change added.

    The block is looked up by its own kind and labels (a `variable "x"` or an aliased
    `provider` has no resource address), in the directory it was written to.
    """
    if change.block:
        tree = _hcl.parse(change.block.encode("utf-8"))
        blocks = _hcl.blocks(_hcl.body_of(tree.root_node))
        dir_ = posixpath.dirname(change.file) or "."
        return bool(blocks) and all(
            any(
                _hcl.block_labels(found) == _hcl.block_labels(block)
                and provider_alias(found) == provider_alias(block)
                for _, found in resolver.stack.top_blocks(dir_, _hcl.block_type(block))
            )
            for block in blocks
        )
    path = parse_change_path(change.path, address_only=True)
    if path is None:
        return True
    found = resolver.stack.find_block(
        posixpath.dirname(change.file) or ".", path.mode, [path.type, path.name]
    )
    return found is not None


def _syntax(root: Path, relpath: str) -> list[Issue]:
    data = (root / relpath).read_bytes()
    if relpath.endswith(".json"):
        try:
            json.loads(data)
        except ValueError as exc:
            return [
                _issue(relpath, f"not valid JSON after the patch: {exc}", IssueCode.PARSE_ERROR)
            ]
        return []
    bad = _hcl.first_error(_hcl.parse(data))
    if bad is not None:
        return [_issue(f"{relpath}:{bad}", "does not parse after the patch", IssueCode.PARSE_ERROR)]
    import hcl2

    try:
        hcl2.parses_to_tree(data.decode("utf-8"))
    except Exception as exc:  # python-hcl2 raises lark errors of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [
            _issue(
                relpath,
                f"python-hcl2 cannot load it after the patch: {first}",
                IssueCode.PARSE_ERROR,
            )
        ]
    return []


def _loader_check(plan: PatchPlan) -> tuple[list[Issue], int]:
    """Compare with the Terraform loader's evaluation when the loader is available."""
    try:
        from leanstack.terraform import load_stack
    except ImportError:
        return [], 0
    try:
        loaded = load_stack(plan.root, var_files=[plan.root / v for v in plan.var_files])
    except Exception as exc:  # the loader is another component: report, never crash
        message = f"the Terraform loader failed on the patched tree: {exc}"
        return [_issue(str(plan.root), message, IssueCode.EVALUATION_ERROR)], 0
    resources = {r.address: r for r in getattr(loaded, "resources", ())}
    problems: list[Issue] = []
    checked = 0
    for change in plan.changes:
        if change.kind == "new_block":
            continue
        path = parse_change_path(change.path)
        if path is None:
            continue
        resource = resources.get(path.address) or resources.get(_without_index(path.address))
        if resource is None:
            continue
        value: Any = resource.attrs
        for segment in path.attrs:
            value = _step(value, segment.name, segment.index)
            if value is _MISSING:
                break
        if value is _MISSING or not _known(value):
            continue
        if change.kind == "remove":
            continue
        checked += 1
        if not loose_equal(value, change.after):
            problems.append(
                _issue(
                    f"{change.file}:{change.line}",
                    f"the loader reads {change.path} as {value!r}, not {change.after!r}",
                    IssueCode.EVALUATION_ERROR,
                )
            )
    return problems, checked


_MISSING = object()


def _step(value: Any, name: str, index: str | None) -> Any:
    if isinstance(value, list):
        if len(value) != 1:
            return _MISSING
        value = value[0]
    if not isinstance(value, Mapping) or name not in value:
        return _MISSING
    value = value[name]
    if index is not None:
        if not isinstance(value, list) or not index.isdigit() or int(index) >= len(value):
            return _MISSING
        value = value[int(index)]
    return value


def _known(value: Any) -> bool:
    return is_known(value)


def _without_index(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


def terraform_fmt(plan: PatchPlan) -> FmtResult | None:
    """`terraform fmt -check -diff` on the written HCL files, when terraform is installed."""
    binary = shutil.which("terraform")
    files = [p.relpath for p in plan.files if p.relpath.endswith((".tf", ".tfvars"))]
    if binary is None or not files:
        return None
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    # A missing CLI config file makes terraform print a warning box; fmt needs no config.
    if not Path(env.get("TF_CLI_CONFIG_FILE") or os.devnull).is_file():
        env["TF_CLI_CONFIG_FILE"] = os.devnull
    try:
        proc = subprocess.run(
            [binary, "fmt", "-check", "-diff", "-no-color", *files],
            cwd=plan.root,
            capture_output=True,
            text=True,
            timeout=FMT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return FmtResult(ok=False, output=f"terraform fmt could not run: {exc}")
    before_unformatted = []
    if proc.returncode != 0:
        by_path = {p.relpath: p for p in plan.files}
        for relpath in files:
            before = by_path[relpath].before
            if before is not None and not _fmt_clean(binary, before, env):
                before_unformatted.append(relpath)
    return FmtResult(
        ok=proc.returncode == 0,
        output=(proc.stdout + proc.stderr).strip(),
        unformatted_before=tuple(before_unformatted),
    )


def _fmt_clean(binary: str, data: bytes, env: Mapping[str, str]) -> bool:
    try:
        proc = subprocess.run(
            [binary, "fmt", "-"],
            input=data,
            capture_output=True,
            timeout=FMT_TIMEOUT_S,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout == data
