"""Hardware facts the analyzers size against (not prices: those come from the catalog).

Sources: ../shared/reference/aws-semantics.md §4.5 (Fargate sizes), §4.7 (burstable credits),
§4.8 (ElastiCache maxmemory), and the RDS / ElastiCache instance-class pages for vCPU and memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from leanstack.model.fargate import FARGATE_TASK_SIZES
from leanstack.model.findings import AttributeChange
from leanstack.model.resource import Resource

FARGATE_GRID = FARGATE_TASK_SIZES


def fargate_sizes() -> list[tuple[int, int]]:
    """Every valid (cpu units, memory MiB) Fargate Linux task size."""
    return [(cpu, mem) for cpu, mems in FARGATE_GRID.items() for mem in mems]


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """vCPUs, memory and, for burstable classes, the baseline share per vCPU."""

    vcpu: int
    memory_gib: float
    baseline: float | None = None  # None: fixed performance

    @property
    def burstable(self) -> bool:
        """True for T-class instances."""
        return self.baseline is not None


# T-class sizes: same for t3 and t4g (reference §4.7).
_T_SIZES: dict[str, InstanceSpec] = {
    "micro": InstanceSpec(2, 1, 0.10),
    "small": InstanceSpec(2, 2, 0.20),
    "medium": InstanceSpec(2, 4, 0.20),
    "large": InstanceSpec(2, 8, 0.30),
    "xlarge": InstanceSpec(4, 16, 0.40),
    "2xlarge": InstanceSpec(8, 32, 0.40),
}
_M_SIZES = {"large": (2, 8.0), "xlarge": (4, 16.0), "2xlarge": (8, 32.0), "4xlarge": (16, 64.0)}
_R_SIZES = {"large": (2, 16.0), "xlarge": (4, 32.0), "2xlarge": (8, 64.0), "4xlarge": (16, 128.0)}


def rds_spec(instance_class: str) -> InstanceSpec | None:
    """vCPU / memory / baseline of an RDS class like `db.t3.micro`, None when unknown."""
    parts = instance_class.split(".")
    if len(parts) != 3 or parts[0] != "db":
        return None
    family, size = parts[1], parts[2]
    if family in ("t3", "t4g", "t2"):
        return _T_SIZES.get(size)
    if family in ("m5", "m6g", "m6i", "m7g", "m6gd", "m7i"):
        spec = _M_SIZES.get(size)
        return InstanceSpec(*spec) if spec else None
    if family in ("r5", "r6g", "r6i", "r7g", "r7i"):
        spec = _R_SIZES.get(size)
        return InstanceSpec(*spec) if spec else None
    return None


# ElastiCache node memory (GiB) and maxmemory (bytes) where AWS publishes it (§4.8).
_CACHE_MEMORY_GIB: dict[str, float] = {
    "micro": 0.5,
    "small": 1.37,
    "medium": 3.09,
}
_CACHE_MAXMEMORY: dict[str, int] = {
    "micro": 536_870_912,
    "small": 1_471_026_299,
    "medium": 3_317_862_236,
}
_CACHE_FIXED: dict[str, tuple[int, float]] = {
    "m4.large": (2, 6.42),
    "m5.large": (2, 6.38),
    "m6g.large": (2, 6.38),
    "m7g.large": (2, 6.38),
    "r5.large": (2, 13.07),
    "r6g.large": (2, 13.07),
    "r7g.large": (2, 13.07),
    "r5.4xlarge": (16, 105.81),
    "m6g.12xlarge": (48, 157.12),
}


def cache_spec(node_type: str) -> InstanceSpec | None:
    """vCPU / memory / baseline of an ElastiCache node type like `cache.t3.micro`."""
    parts = node_type.split(".", 1)
    if len(parts) != 2 or parts[0] != "cache":
        return None
    family, _, size = parts[1].partition(".")
    if family in ("t3", "t4g", "t2"):
        t = _T_SIZES.get(size)
        mem = _CACHE_MEMORY_GIB.get(size)
        return InstanceSpec(t.vcpu, mem, t.baseline) if t and mem else None
    fixed = _CACHE_FIXED.get(parts[1])
    return InstanceSpec(fixed[0], fixed[1]) if fixed else None


def cache_maxmemory_bytes(node_type: str) -> int | None:
    """Redis `maxmemory` of a node type (fixed per type), None when unknown."""
    parts = node_type.split(".")
    if len(parts) == 3 and parts[1] in ("t3", "t4g", "t2"):
        return _CACHE_MAXMEMORY.get(parts[2])
    spec = cache_spec(node_type)
    # Outside the T family AWS sets maxmemory to the node's memory; use it.
    return int(spec.memory_gib * 2**30) if spec else None


# Graviton equivalents: same size, arm64 family.
_GRAVITON_FAMILY = {
    "t2": "t4g",
    "t3": "t4g",
    "m4": "m7g",
    "m5": "m7g",
    "m6i": "m7g",
    "m6g": "m7g",
    "r5": "r7g",
    "r6i": "r7g",
    "r6g": "r7g",
}
ARM_FAMILIES = frozenset({"t4g", "m6g", "m7g", "r6g", "r7g", "m6gd"})


def graviton_equivalent(instance_class: str) -> str | None:
    """`db.t3.micro` -> `db.t4g.micro`, `cache.m5.large` -> `cache.m7g.large`; None if none."""
    parts = instance_class.split(".")
    if len(parts) != 3:
        return None
    family = _GRAVITON_FAMILY.get(parts[1])
    if family is None or family == parts[1]:
        return None
    return f"{parts[0]}.{family}.{parts[2]}"


def family_of(instance_class: str) -> str:
    """`db.t3.micro` -> `t3`."""
    parts = instance_class.split(".")
    return parts[1] if len(parts) == 3 else ""


def is_arm(instance_class: str) -> bool:
    """True for Graviton classes."""
    return family_of(instance_class) in ARM_FAMILIES


def valkey_engine_changes(
    resource: Resource, node_type: str | None = None
) -> list[AttributeChange]:
    """The attribute changes that move a Redis OSS cache to Valkey 7.2 (and, given, a node type).

    The default Redis parameter groups do not apply to Valkey, so a `default.redis*` group is
    swapped for `default.valkey7`; a custom group is left for the team to port.
    """
    address = resource.address
    changes: list[AttributeChange] = []
    current_node = resource.get("node_type")
    if node_type is not None and node_type != current_node:
        changes.append(
            AttributeChange(path=f"{address}.node_type", before=current_node, after=node_type)
        )
    changes.append(
        AttributeChange(path=f"{address}.engine", before=resource.get("engine"), after="valkey")
    )
    version = resource.get("engine_version")
    if version is not None:
        changes.append(
            AttributeChange(path=f"{address}.engine_version", before=version, after="7.2")
        )
    group = resource.get("parameter_group_name")
    if isinstance(group, str) and group.startswith("default.redis"):
        changes.append(
            AttributeChange(
                path=f"{address}.parameter_group_name", before=group, after="default.valkey7"
            )
        )
    return changes
