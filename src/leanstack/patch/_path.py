"""Split an AttributeChange path into module chain, resource address and attribute segments."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:"[^"]*"|[^\]]*)\])?)\s*(\.|$)')


@dataclass(frozen=True, slots=True)
class Segment:
    """One dotted name with its optional index (`name[0]` or `name["key"]`)."""

    name: str
    index: str | None = None


@dataclass(frozen=True, slots=True)
class ChangePath:
    """`module.a.module.b.aws_x.y.block.attr` split into its parts."""

    modules: tuple[Segment, ...]
    mode: str  # "resource" or "data"
    type: str
    name: str
    index: str | None
    attrs: tuple[Segment, ...]

    @property
    def address(self) -> str:
        """The resource address (module prefix included)."""
        parts = [f"module.{_fmt(m)}" for m in self.modules]
        head = "data." if self.mode == "data" else ""
        parts.append(head + self.type + "." + _fmt(Segment(self.name, self.index)))
        return ".".join(parts)


def _fmt(segment: Segment) -> str:
    return segment.name + (f"[{segment.index}]" if segment.index is not None else "")


def split_segments(path: str) -> list[Segment] | None:
    """Tokenize a dotted path; None when it is not well formed."""
    segments: list[Segment] = []
    pos = 0
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if match is None or match.end() == pos:
            return None
        index = match.group(2)[1:-1] if match.group(2) else None
        if re.fullmatch(r"\d+", match.group(1)) and segments:
            return None
        segments.append(Segment(match.group(1), index))
        pos = match.end()
        if match.group(3) == "" and pos < len(path):
            return None
    return segments


def parse_change_path(path: str, *, address_only: bool = False) -> ChangePath | None:
    """Parse a change path (or, with `address_only`, a bare resource address)."""
    # `foo.0.bar` indexes a block list the same way `foo[0].bar` does.
    normalized = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path.strip())
    segments = split_segments(normalized)
    if not segments:
        return None
    modules: list[Segment] = []
    i = 0
    while i + 1 < len(segments) and segments[i].name == "module" and segments[i].index is None:
        modules.append(segments[i + 1])
        i += 2
    mode = "resource"
    if i < len(segments) and segments[i].name == "data" and segments[i].index is None:
        mode = "data"
        i += 1
    if i + 1 >= len(segments) or segments[i].index is not None:
        return None
    rtype, rname = segments[i], segments[i + 1]
    attrs = tuple(segments[i + 2 :])
    if address_only and attrs:
        return None
    if not address_only and not attrs:
        return None
    return ChangePath(tuple(modules), mode, rtype.name, rname.name, rname.index, attrs)
