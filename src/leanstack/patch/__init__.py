"""Write a report's recommendations into the stack's Terraform as a reviewable patch.

Edits are made by source span (tree-sitter-hcl) on the original bytes, so comments, alignment
and layout outside the changed expressions are kept. Where a change goes:

- a literal in the resource block (nested blocks and literal map keys included) is replaced
  in place, keeping its type and quoting (`"512"` stays a string, `70.0` keeps its point);
- `var.x` is followed to the module call argument (for a resource in a local module), then
  to the last tfvars file that sets it (terraform.tfvars, terraform.tfvars.json,
  *.auto.tfvars, -var-file order) or to the variable's default; `local.x` to its locals
  entry; `var.x.key` / `local.x.key` into map literals and tfvars.json objects;
- a missing attribute is inserted after the block's attributes, padded to its terraform fmt
  alignment group (a longer name starts a new group after a blank line);
- a list of maps replaces nested blocks of that name (blocks holding expressions or comments
  are never rewritten); `after=None` removes the attribute's lines;
- a new resource (`new_block`) goes into `leanstack_recommendations.tf` of the directory that
  declares the resource's module (the stack root for root resources).

Never a guess: count/for_each, conditionals, function calls, templates, heredocs, index
expressions, registry modules, a module directory shared by calls the report leaves as is,
and a `before` value that does not match the source are skipped with a one-line reason.

`plan_patch` only reads; `check_in_copy` verifies a plan on a temporary copy; `apply_patch`
writes atomically with a backup under `.leanstack/backup/<time>/`, re-reads the tree (tree-
sitter, python-hcl2, the Terraform loader) and rolls back if a value does not read back (a
rolled-back write leaves no backup behind).

Re-running is safe: a change already in the stack (the value is already `after`, the block
is declared, a budget or billing alarm exists under another name) lands in
`PatchPlan.applied`, not in `skipped`, with one "already applied" note. Each backup keeps the
hashes it wrote (`PATCHED.json`), so `stale_files` accepts a file that only earlier
`patch --write` runs changed since the report, and still refuses any other edit.
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
from leanstack.patch.report import (
    ReportChanges,
    losing_alternatives,
    read_report,
    report_changes,
    requests_from_recommendations,
)

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
    "losing_alternatives",
    "plan_patch",
    "read_report",
    "report_changes",
    "requests_from_recommendations",
    "sha256_file",
    "stale_files",
    "terraform_fmt",
    "unified_diff",
    "unwritable",
    "verify",
]
