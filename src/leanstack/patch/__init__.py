"""Write a report's recommendations into the stack's Terraform as a reviewable patch.

Edits are made by source span (tree-sitter-hcl), so comments, alignment and layout outside the
changed expressions are kept. `plan_patch` only reads; `apply_patch` writes atomically, keeps a
backup and verifies the result.
"""

from leanstack.patch._apply import (
    ApplyResult,
    FmtResult,
    apply_patch,
    check_in_copy,
    sha256_file,
    stale_files,
    terraform_fmt,
    unwritable,
    verify,
)
from leanstack.patch._engine import (
    FilePatch,
    PatchPlan,
    PatchRequest,
    PlannedChange,
    Skipped,
    plan_patch,
    unified_diff,
)
from leanstack.patch.report import ReportChanges, read_report, report_changes

__all__ = [
    "ApplyResult",
    "FilePatch",
    "FmtResult",
    "PatchPlan",
    "PatchRequest",
    "PlannedChange",
    "ReportChanges",
    "Skipped",
    "apply_patch",
    "check_in_copy",
    "plan_patch",
    "read_report",
    "report_changes",
    "sha256_file",
    "stale_files",
    "terraform_fmt",
    "unified_diff",
    "unwritable",
    "verify",
]
