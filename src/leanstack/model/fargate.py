"""The valid Fargate task sizes (Linux), an AWS fact shared by the rightsizer and the optimizer.

Source: the ECS developer guide's Fargate task size table (aws-semantics.md §4.5). 8 and 16 vCPU
need platform version 1.4.0 or later.
"""

from __future__ import annotations

from typing import Final

# CPU units -> the memory sizes (MiB) allowed with them.
FARGATE_TASK_SIZES: Final[dict[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
