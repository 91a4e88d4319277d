"""The usage file: infracost's YAML format (`version: 0.1`, `resource_type_default_usage`,
`resource_usage` keyed by address with `[*]` wildcards), validated against each type's
usage keys. Every problem is an Issue naming file:line; bad entries are skipped, the rest used.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from leanstack.model.issues import Issue, IssueCode, Severity
from leanstack.resources import supported_types, usage_keys

SUPPORTED_VERSIONS = ("0.1",)
USAGE_FILE_NAMES = ("leanstack-usage.yml", "leanstack-usage.yaml", "infracost-usage.yml")

UsageValues = dict[str, Decimal | str]


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    regex: re.Pattern[str]
    values: UsageValues
    line: int

    @property
    def exact(self) -> bool:
        return "*" not in self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageFile:
    """Validated usage: per-type defaults and per-address values (exact or wildcard)."""

    path: str = ""
    defaults: Mapping[str, UsageValues] = field(default_factory=dict)
    patterns: tuple[_Pattern, ...] = ()
    issues: tuple[Issue, ...] = ()

    def for_resource(self, address: str, resource_type: str) -> dict[str, Decimal | str]:
        """Usage for one resource: type defaults, then wildcard entries, then its own entry."""
        out: dict[str, Decimal | str] = dict(self.defaults.get(resource_type, {}))
        matching = [p for p in self.patterns if p.regex.fullmatch(address)]
        # Wildcards first so an exact address entry wins over `aws_x.y[*]`.
        for pattern in sorted(matching, key=lambda p: p.exact):
            out.update(pattern.values)
        return out

    def unmatched(self, addresses: Iterable[str]) -> list[Issue]:
        """Warnings for resource_usage entries that match no resource of the stack."""
        known = list(addresses)
        issues: list[Issue] = []
        for pattern in self.patterns:
            if any(pattern.regex.fullmatch(a) for a in known):
                continue
            close = difflib.get_close_matches(pattern.text, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            issues.append(
                Issue(
                    code=IssueCode.USAGE_ERROR,
                    message=f"usage for {pattern.text} matches no resource in the stack{hint}",
                    where=f"{self.path}:{pattern.line}",
                )
            )
        return issues


def _address_regex(text: str) -> re.Pattern[str]:
    parts = re.split(r"(\[\*\]|\*)", text)
    out = []
    for part in parts:
        if part == "[*]":
            out.append(r"\[[^\]]+\]")
        elif part == "*":
            out.append(r"[^.\[\]]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _type_of(address: str) -> str | None:
    """`module.a.aws_x.y[0]` -> `aws_x`."""
    steps = re.sub(r"\[[^\]]*\]", "", address).split(".")
    while len(steps) >= 2 and steps[0] == "module":
        steps = steps[2:]
    return steps[0] if len(steps) == 2 else None


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.issues: list[Issue] = []

    def where(self, node: yaml.Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def error(self, node: yaml.Node | None, message: str) -> None:
        self.issues.append(
            Issue(
                code=IssueCode.USAGE_ERROR,
                message=message,
                where=self.where(node) if node is not None else str(self.path),
                severity=Severity.ERROR,
            )
        )

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping")
            return []
        out = []
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.error(key, f"{what}: keys must be plain names")
                continue
            first = seen.get(key.value)
            if first is not None:
                # YAML keeps the last of duplicated keys without a word; say which one wins.
                self.error(key, f"{what}: '{key.value}' is repeated (first on line {first})")
                continue
            seen[key.value] = key.start_mark.line + 1
            out.append((key, value))
        return out

    def values(self, node: yaml.Node, resource_type: str | None, owner: str) -> UsageValues:
        """Validated usage values of one entry (nested mappings flattened to dotted keys)."""
        allowed = {k.name: k for k in usage_keys(resource_type)} if resource_type else {}
        out: UsageValues = {}
        for key, value in self._flatten(node, owner):
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if resource_type is not None and name not in allowed:
                if not allowed:
                    self.error(key, f"{owner}: {resource_type} takes no usage keys")
                    continue
                close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                valid = ", ".join(sorted(allowed))
                self.error(
                    key, f"unknown usage key '{name}' for {resource_type}{hint} (valid: {valid})"
                )
                continue
            usage_key = allowed.get(name)
            parsed = self._value(value, usage_key.unit if usage_key else "")
            if isinstance(parsed, _Bad):
                self.error(value, f"{owner}.{name}: {parsed.why}")
                continue
            out[name] = parsed
        return out

    def _flatten(
        self, node: yaml.Node, owner: str
    ) -> list[tuple[yaml.ScalarNode, yaml.ScalarNode]]:
        out: list[tuple[yaml.ScalarNode, yaml.ScalarNode]] = []
        for key, value in self.mapping(node, owner):
            if isinstance(value, yaml.MappingNode):
                for sub_key, sub_value in self._flatten(value, f"{owner}.{key.value}"):
                    dotted = yaml.ScalarNode(
                        "tag:yaml.org,2002:str",
                        f"{key.value}.{sub_key.value}",
                        start_mark=sub_key.start_mark,
                        end_mark=sub_key.end_mark,
                    )
                    out.append((dotted, sub_value))
            elif isinstance(value, yaml.ScalarNode):
                out.append((key, value))
            else:
                self.error(value, f"{owner}.{key.value} must be a number")
        return out

    @staticmethod
    def _value(node: yaml.ScalarNode, unit: str) -> Decimal | str | _Bad:
        text = str(node.value).strip().replace("_", "")
        if unit == "text":
            return text
        try:
            number = Decimal(text)
        except InvalidOperation:
            return _Bad(f"'{node.value}' is not a number")
        if not number.is_finite():
            return _Bad(f"'{node.value}' is not a number")
        if number < 0:
            return _Bad(f"{node.value} is negative (it must be 0 or more)")
        if number > _MAX_QUANTITY:
            # Beyond any real monthly usage, and beyond what money arithmetic can round.
            return _Bad(f"{node.value} is too large (at most {_MAX_QUANTITY:.0e})")
        return number


@dataclass(frozen=True, slots=True)
class _Bad:
    """Why a usage value was refused."""

    why: str


_MAX_QUANTITY = Decimal("1e15")


def load_usage_file(path: Path | str) -> UsageFile:
    """Read and validate a usage file; problems become `issues`, never exceptions."""
    path = Path(path)
    reader = _Reader(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reader.error(None, f"cannot read usage file: {exc.strerror or exc}")
        return UsageFile(path=str(path), issues=tuple(reader.issues))
    except UnicodeDecodeError:
        reader.error(None, "not a UTF-8 text file (a usage file is YAML)")
        return UsageFile(path=str(path), issues=tuple(reader.issues))
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        issue = Issue(
            code=IssueCode.USAGE_ERROR,
            message=f"invalid YAML: {problem}",
            where=where,
            severity=Severity.ERROR,
        )
        return UsageFile(path=str(path), issues=(issue,))
    if root is None:
        return UsageFile(path=str(path))
    defaults: dict[str, UsageValues] = {}
    patterns: list[_Pattern] = []
    supported = supported_types()
    for key, value in reader.mapping(root, "usage file"):
        section = key.value
        if section == "version":
            if (
                str(value.value if isinstance(value, yaml.ScalarNode) else "")
                not in SUPPORTED_VERSIONS
            ):
                reader.error(
                    value, f"unsupported usage file version (expected {SUPPORTED_VERSIONS[0]})"
                )
        elif section == "resource_type_default_usage":
            for type_key, entry in reader.mapping(value, section):
                resource_type = type_key.value
                if resource_type not in supported:
                    reader.error(type_key, _unknown_type(resource_type, supported))
                    continue
                defaults[resource_type] = reader.values(entry, resource_type, resource_type)
        elif section == "resource_usage":
            for address_key, entry in reader.mapping(value, section):
                address = address_key.value
                resource_type = _type_of(address)
                if resource_type is None:
                    reader.error(address_key, f"'{address}' is not a resource address")
                    continue
                if resource_type not in supported:
                    reader.error(address_key, _unknown_type(resource_type, supported))
                    continue
                values = reader.values(entry, resource_type, address)
                patterns.append(
                    _Pattern(
                        address, _address_regex(address), values, address_key.start_mark.line + 1
                    )
                )
        else:
            close = difflib.get_close_matches(
                section, ["version", "resource_type_default_usage", "resource_usage"], n=1
            )
            hint = f"; did you mean '{close[0]}'?" if close else ""
            reader.error(key, f"unknown section '{section}'{hint}")
    return UsageFile(
        path=str(path), defaults=defaults, patterns=tuple(patterns), issues=tuple(reader.issues)
    )


def _unknown_type(resource_type: str, supported: frozenset[str]) -> str:
    close = difflib.get_close_matches(resource_type, sorted(supported), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{resource_type} has no usage-based costs in leanstack{hint}"


def find_usage_file(stack: Path) -> Path | None:
    """`leanstack-usage.yml` (or infracost's name) beside the stack, if present."""
    folder = stack if stack.is_dir() else stack.parent
    for name in USAGE_FILE_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
