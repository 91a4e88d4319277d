"""A Terraform resource instance as loaded from HCL or plan JSON, with its source span."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final


class Unknown:
    """A value that cannot be known before apply (an ARN, an id, a data source)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = Unknown()


def is_known(value: object) -> bool:
    """True unless the value is UNKNOWN (None is known: it means unset)."""
    return value is not UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpan:
    """Where a block is written: file relative to the stack root, 1-based inclusive lines."""

    file: str
    start_line: int
    end_line: int

    def where(self) -> str:
        """`file:line`, the form every issue uses."""
        return f"{self.file}:{self.start_line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One resource instance.

    `attrs` holds evaluated attribute values: scalars, lists, and dicts for nested blocks
    (a nested block that may repeat, like `capacity_provider_strategy`, is always a list of
    dicts). Values that cannot be known before apply are `UNKNOWN`.

    `refs` maps a top-level attribute name to the addresses of the resources its expression
    references (for example `task_definition -> ("aws_ecs_task_definition.app",)`), which is
    how a service finds its task definition, cluster and autoscaling target.

    `attr_sources` maps a top-level attribute name to where its value was written: the
    attribute itself, or, when the value came from a variable, the variable's default or the
    tfvars line. The patcher edits those spans.
    """

    address: str
    type: str
    name: str
    module: str = ""
    region: str = "us-east-1"
    attrs: Mapping[str, Any] = field(default_factory=dict)
    refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: SourceSpan | None = None
    attr_sources: Mapping[str, SourceSpan] = field(default_factory=dict)
    mode: str = "managed"

    def get(self, key: str, default: Any = None) -> Any:
        """Attribute value, `default` when unset (UNKNOWN is returned as is)."""
        value = self.attrs.get(key, default)
        return default if value is None else value

    def block(self, key: str) -> dict[str, Any]:
        """First nested block of that name, or an empty dict."""
        value = self.attrs.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0]
        if isinstance(value, dict):
            return value
        return {}

    def blocks(self, key: str) -> list[dict[str, Any]]:
        """All nested blocks of that name."""
        value = self.attrs.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
        if isinstance(value, dict):
            return [value]
        return []
