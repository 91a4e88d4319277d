"""Read the changes to patch from a report JSON (read as plain JSON: only the keys it needs)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from leanstack.model.findings import AttributeChange
from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.patch._covered import MONITORING_ID
from leanstack.patch._engine import PatchRequest

SUPPORTED_MAJOR = 1
REPORT_KIND = "leanstack.report"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportChanges:
    """The patchable content of a report: its recommendations' changes and the stack's hashes."""

    source: Path
    schema_version: str
    stack_path: Path | None
    files: Mapping[str, str]
    requests: tuple[PatchRequest, ...]
    recommendation_ids: tuple[str, ...]
    var_files: tuple[str, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)
    input_kind: str = "hcl"
    alternatives: Mapping[str, str] = field(default_factory=dict)

    def default_selection(self) -> tuple[ReportChanges, tuple[str, ...]]:
        """Every recommendation but the losing alternatives of an exclusive group.

        Recommendations in one exclusive group are alternatives for the same resource
        (rightsizing, Graviton, Spot...): the patch takes the one that saves most, like the
        report's totals do; `--only` can pick another. Returns the selection and one note per
        alternative left out.
        """
        if not self.alternatives:
            return self, ()
        notes = tuple(
            f"[{loser}] left out: an alternative to [{winner}] (use --only {loser} to apply it "
            "instead)"
            for loser, winner in self.alternatives.items()
        )
        kept = [i for i in self.recommendation_ids if i not in self.alternatives]
        selected = self.only(kept)
        assert isinstance(selected, ReportChanges)
        return selected, notes

    def only(self, ids: Sequence[str]) -> ReportChanges | Issue:
        """Keep the changes of these recommendation ids (an Issue names any unknown id)."""
        unknown = [i for i in ids if i not in self.recommendation_ids]
        if unknown:
            return _issue(
                self.source,
                f"no recommendation {', '.join(unknown)} in the report "
                f"(it has {', '.join(self.recommendation_ids) or 'none'})",
            )
        wanted = set(ids)
        return ReportChanges(
            source=self.source,
            schema_version=self.schema_version,
            stack_path=self.stack_path,
            files=self.files,
            requests=tuple(r for r in self.requests if r.recommendation in wanted),
            recommendation_ids=tuple(i for i in self.recommendation_ids if i in wanted),
            var_files=self.var_files,
            titles=self.titles,
            input_kind=self.input_kind,
            alternatives={k: v for k, v in self.alternatives.items() if k in wanted},
        )


def _issue(path: Path, message: str) -> Issue:
    return Issue(
        code=IssueCode.USAGE_ERROR, message=message, where=str(path), severity=Severity.ERROR
    )


def schema_major(version: Any) -> int | None:
    """Major number of a schema version like `1`, `"1.2"` or `"1.2.0"`."""
    head = str(version).strip().lstrip("v").split(".")[0]
    return int(head) if head.isdigit() else None


def read_report(path: Path) -> ReportChanges | Issue:
    """Load a report JSON; an Issue (one line) when it cannot be used."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        return _issue(path, f"cannot read the report: {exc.strerror or exc}")
    try:
        data = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        return Issue(
            code=IssueCode.PARSE_ERROR,
            message=f"not valid JSON: {exc.msg}",
            where=f"{path}:{exc.lineno}",
            severity=Severity.ERROR,
        )
    return report_changes(data, path)


def report_changes(data: Any, path: Path) -> ReportChanges | Issue:
    """Validate a parsed report and extract its changes."""
    if not isinstance(data, Mapping):
        return _issue(path, "not a leanstack report (the JSON is not an object)")
    kind = data.get("kind")
    if kind is not None and kind != REPORT_KIND:
        return _issue(path, f"not a leanstack report (kind is {kind!r})")
    version = data.get("schema_version")
    if version is None:
        return _issue(path, "not a leanstack report (no schema_version)")
    major = schema_major(version)
    if major != SUPPORTED_MAJOR:
        return _issue(
            path,
            f"report schema version {version} is not supported (this leanstack reads "
            f"{SUPPORTED_MAJOR}.x); re-run `leanstack analyze` with this version",
        )
    stack = data.get("stack") if isinstance(data.get("stack"), Mapping) else {}
    assert isinstance(stack, Mapping)
    files = stack.get("files") or {}
    if not isinstance(files, Mapping):
        return _issue(path, "stack.files is not an object of {path: sha256}")
    stack_path = stack.get("path")
    recommendations = data.get("recommendations") or []
    if not isinstance(recommendations, list):
        return _issue(path, "recommendations is not a list")
    requests: list[PatchRequest] = []
    ids: list[str] = []
    titles: dict[str, str] = {}
    ranked: list[tuple[str, str, Decimal]] = []
    for index, rec in enumerate(recommendations):
        if not isinstance(rec, Mapping) or not isinstance(rec.get("id"), str):
            return _issue(path, f"recommendations[{index}] has no id")
        rec_id = rec["id"]
        ids.append(rec_id)
        ranked.append((rec_id, str(rec.get("exclusive_group") or ""), _decimal(rec)))
        titles[rec_id] = str(rec.get("title", ""))
        for c_index, change in enumerate(rec.get("changes") or []):
            if not isinstance(change, Mapping) or not isinstance(change.get("path"), str):
                return _issue(path, f"recommendation {rec_id}: changes[{c_index}] has no path")
            requests.append(
                PatchRequest(
                    recommendation=rec_id,
                    title=titles[rec_id],
                    change=AttributeChange(
                        path=change["path"],
                        before=change.get("before"),
                        after=change.get("after"),
                        new_block=change.get("new_block"),
                    ),
                )
            )
    # Monitoring blocks the report generated itself (budget, billing alarm) are patched as
    # recommendation "monitoring"; the ones that came from a recommendation already are.
    known_blocks = {r.change.path for r in requests if r.change.new_block}
    monitoring = data.get("monitoring")
    blocks = monitoring.get("blocks") if isinstance(monitoring, Mapping) else None
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping) or not isinstance(block.get("hcl"), str):
            continue
        address = str(block.get("address") or "")
        if address in known_blocks or block.get("recommendation_id"):
            continue
        if MONITORING_ID not in ids:
            ids.append(MONITORING_ID)
            titles[MONITORING_ID] = "Budget and billing alarm"
        requests.append(
            PatchRequest(
                recommendation=MONITORING_ID,
                title=f"Monitoring: {block.get('kind') or 'block'} {address}",
                change=AttributeChange(
                    path=address, before=None, after=None, new_block=block["hcl"]
                ),
            )
        )
    var_files = stack.get("var_files") or ()
    return ReportChanges(
        source=path,
        schema_version=str(version),
        stack_path=Path(stack_path) if isinstance(stack_path, str) and stack_path else None,
        files={str(k): str(v) for k, v in files.items()},
        requests=tuple(requests),
        recommendation_ids=tuple(ids),
        var_files=tuple(str(v) for v in var_files) if isinstance(var_files, list) else (),
        titles=titles,
        input_kind=str(stack.get("input_kind") or "hcl"),
        alternatives=losing_alternatives(ranked),
    )


def _decimal(rec: Mapping[str, Any]) -> Decimal:
    try:
        return Decimal(str(rec.get("monthly_savings", "0")))
    except ArithmeticError:
        return Decimal(0)


def losing_alternatives(ranked: Iterable[tuple[str, str, Decimal]]) -> dict[str, str]:
    """`{loser id: winner id}` for recommendations that share an exclusive group.

    The winner saves most (ties broken by id, as the report's totals do).
    """
    groups: dict[str, list[tuple[Decimal, str]]] = {}
    for rec_id, group, savings in ranked:
        if group:
            groups.setdefault(group, []).append((savings, rec_id))
    losers: dict[str, str] = {}
    for members in groups.values():
        winner = max(members)[1]
        for _, rec_id in members:
            if rec_id != winner:
                losers[rec_id] = winner
    return losers


def requests_from_recommendations(recommendations: Sequence[Any]) -> tuple[PatchRequest, ...]:
    """PatchRequests from Recommendation objects (the path form runs the analysis itself)."""
    requests: list[PatchRequest] = []
    for rec in recommendations:
        for change in getattr(rec, "changes", ()):
            requests.append(
                PatchRequest(
                    recommendation=str(rec.id), change=change, title=str(getattr(rec, "title", ""))
                )
            )
    return tuple(requests)
