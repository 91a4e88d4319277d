"""Helpers shared by the patch tests: paths, tree digests, change builders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from leanstack.model.findings import AttributeChange
from leanstack.patch import PatchRequest

HERE = Path(__file__).resolve().parent
STACKS = HERE / "fixtures" / "stacks"
GOLDEN = HERE / "golden"
REPO = HERE.parent.parent


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and directory under root with a content hash: any change shows."""
    digest: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            digest[rel + "/"] = "dir"
        else:
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def req(rec: str, path: str, before: Any, after: Any, new_block: str | None = None) -> PatchRequest:
    """A PatchRequest in one line."""
    return PatchRequest(
        recommendation=rec,
        change=AttributeChange(path=path, before=before, after=after, new_block=new_block),
    )
