"""Load `terraform show -json` output (a plan, or a state) into Resource instances.

Values come from `planned_values`; whatever `resource_changes[].change.after_unknown` marks
becomes UNKNOWN. References come from the `configuration` section's expression
`references`, followed through module inputs and outputs, and mapped to instance addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from leanstack.model import UNKNOWN, Issue, IssueCode, Resource, Severity

DEFAULT_REGION = "us-east-1"
_NOT_RESOURCES = frozenset(
    {"var", "local", "module", "data", "count", "each", "path", "self", "terraform"}
)
_INDEX_RE = re.compile(r"\[[^\]]*\]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class PlanError(Exception):
    """The JSON is not `terraform show -json` output."""


def is_plan(data: object) -> bool:
    """Whether decoded JSON looks like `terraform show -json` output."""
    return (
        isinstance(data, dict)
        and "format_version" in data
        and ("planned_values" in data or "values" in data or "resource_changes" in data)
    )


def _strip_index(address: str) -> str:
    return _INDEX_RE.sub("", address)


def _merge_unknown(value: Any, unknown: Any) -> Any:
    """Overlay `after_unknown` (True where a value is known only after apply) on values."""
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict):
        base = dict(value) if isinstance(value, dict) else {}
        for key, marker in unknown.items():
            base[key] = _merge_unknown(base.get(key), marker)
        return base
    if isinstance(unknown, list):
        base_list = list(value) if isinstance(value, list) else []
        for i, marker in enumerate(unknown):
            if i < len(base_list):
                base_list[i] = _merge_unknown(base_list[i], marker)
            elif marker is True:
                base_list.append(UNKNOWN)
        return base_list
    return value


@dataclass(frozen=True, slots=True)
class _ConfigModule:
    """One module of the `configuration` section with its path of call names."""

    body: Mapping[str, Any]
    call_path: tuple[str, ...]


def _config_modules(configuration: Mapping[str, Any]) -> dict[tuple[str, ...], _ConfigModule]:
    out: dict[tuple[str, ...], _ConfigModule] = {}

    def walk(body: Mapping[str, Any], path: tuple[str, ...]) -> None:
        out[path] = _ConfigModule(body, path)
        for name, call in (body.get("module_calls") or {}).items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict):
                walk(call["module"], (*path, name))

    root = configuration.get("root_module")
    if isinstance(root, dict):
        walk(root, ())
    return out


def _call_path(module_address: str) -> tuple[str, ...]:
    """`module.a["x"].module.b[0]` -> ("a", "b")."""
    names = re.findall(r'module\.([^.\[]+)(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])?', module_address)
    return tuple(names)


def _parent_instance(module_address: str) -> str:
    """Instance address of the parent module ("" for the root)."""
    parts = re.findall(r'module\.[^.\[]+(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])?', module_address)
    return ".".join(parts[:-1])


class _Refs:
    """Turns configuration references into instance addresses of managed resources."""

    def __init__(
        self, configs: dict[tuple[str, ...], _ConfigModule], instances: dict[str, list[str]]
    ):
        self.configs = configs
        # config address with module instance prefix ("module.a[0].aws_x.y") -> instance addresses
        self.instances = instances
        self.module_instances: dict[tuple[str, ...], list[str]] = {}
        for address in instances:
            prefix = address.rsplit(".", 2)[0] if address.count(".") >= 2 else ""
            if prefix.startswith("module."):
                self.module_instances.setdefault(_call_path(prefix), [])
                if prefix not in self.module_instances[_call_path(prefix)]:
                    self.module_instances[_call_path(prefix)].append(prefix)

    def resolve(self, refs: list[str], module: str, depth: int = 0) -> set[str]:
        """Addresses reached by `refs` written in module instance `module`."""
        out: set[str] = set()
        if depth > 16:
            return out
        path = _call_path(module)
        config = self.configs.get(path)
        # Terraform lists a reference and its prefixes ("aws_x.y[0].id", "aws_x.y[0]",
        # "aws_x.y"); the bare prefix must not widen an indexed reference to every instance.
        indexed_bases = {
            _strip_index(".".join(r.split(".")[:2]))
            for r in refs
            if len(r.split(".")) >= 2 and "[" in r.split(".")[1]
        }
        for ref in refs:
            parts = ref.split(".")
            head = parts[0]
            if head == "var" and len(parts) > 1 and module:
                out |= self._through_input(module, _strip_index(parts[1]), depth)
            elif head == "module" and len(parts) > 2 and config is not None:
                out |= self._through_output(module, parts, depth)
            elif head not in _NOT_RESOURCES and len(parts) >= 2:
                name = parts[1]
                indexed = "[" in name
                base = f"{head}.{_strip_index(name)}"
                full = f"{module}.{base}" if module else base
                known = self.instances.get(full, [])
                if indexed:
                    wanted = f"{module}.{head}.{name}" if module else f"{head}.{name}"
                    out |= {a for a in known if a == wanted} or set(known)
                elif base not in indexed_bases:
                    out |= set(known)
        return out

    def _through_input(self, module: str, var: str, depth: int) -> set[str]:
        parent = _parent_instance(module)
        path = _call_path(module)
        parent_config = self.configs.get(path[:-1])
        if parent_config is None:
            return set()
        call = (parent_config.body.get("module_calls") or {}).get(path[-1], {})
        expression = (call.get("expressions") or {}).get(var)
        return self.resolve(_references(expression), parent, depth + 1)

    def _through_output(self, module: str, parts: list[str], depth: int) -> set[str]:
        call_name = _strip_index(parts[1])
        output = _strip_index(parts[2])
        path = (*_call_path(module), call_name)
        child = self.configs.get(path)
        if child is None:
            return set()
        expression = ((child.body.get("outputs") or {}).get(output) or {}).get("expression")
        out: set[str] = set()
        prefix = f"{module}.module.{call_name}" if module else f"module.{call_name}"
        indexed = "[" in parts[1]
        for instance in self.module_instances.get(path, []):
            if indexed and instance != (
                f"{module}.module.{parts[1]}" if module else f"module.{parts[1]}"
            ):
                continue
            if not instance.startswith(prefix):
                continue
            out |= self.resolve(_references(expression), instance, depth + 1)
        return out


def _references(expression: Any) -> list[str]:
    """Every `references` entry inside an expression tree (nested blocks included)."""
    found: list[str] = []
    if isinstance(expression, dict):
        refs = expression.get("references")
        if isinstance(refs, list):
            found.extend(str(r) for r in refs)
        for key, value in expression.items():
            if key != "references" and isinstance(value, dict | list):
                found.extend(_references(value))
    elif isinstance(expression, list):
        for item in expression:
            found.extend(_references(item))
    return found


def _check_module(module: Mapping[str, Any], where: str) -> None:
    resources = module.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise PlanError(f"{where}.resources is not a list of objects")
    children = module.get("child_modules", [])
    if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
        raise PlanError(f"{where}.child_modules is not a list of objects")
    for i, child in enumerate(children):
        _check_module(child, f"{where}.child_modules[{i}]")


def _walk_planned(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in module.get("resources") or []:
        if isinstance(resource, dict):
            yield resource
    for child in module.get("child_modules") or []:
        if isinstance(child, dict):
            yield from _walk_planned(child)


def _provider_regions(data: Mapping[str, Any]) -> dict[str, Any]:
    configuration = data.get("configuration") or {}
    variables = data.get("variables") or {}
    regions: dict[str, Any] = {}
    for key, provider in (configuration.get("provider_config") or {}).items():
        if not isinstance(provider, dict) or provider.get("name") != "aws":
            continue
        region_expr = (provider.get("expressions") or {}).get("region")
        region: Any = DEFAULT_REGION
        if isinstance(region_expr, dict):
            if "constant_value" in region_expr:
                region = region_expr["constant_value"]
            else:
                refs = region_expr.get("references") or []
                var_refs = [r for r in refs if r.startswith("var.")]
                region = UNKNOWN
                if var_refs and ":" not in key:
                    value = (variables.get(var_refs[0][4:]) or {}).get("value")
                    region = value if isinstance(value, str) else UNKNOWN
        regions[key] = region
    return regions


def load_plan(data: Mapping[str, Any], where: str) -> tuple[list[Resource], list[Issue]]:
    """Resources of a decoded plan (or state) JSON document."""
    issues: list[Issue] = []
    if not is_plan(data):
        raise PlanError("not `terraform show -json` output")
    values_root = data.get("planned_values", data.get("values", {}))
    if not isinstance(values_root, dict):
        raise PlanError("planned_values is not an object")
    root_module = values_root.get("root_module") or {}
    if not isinstance(root_module, dict):
        raise PlanError("planned_values.root_module is not an object")
    _check_module(root_module, "root_module")
    changes: dict[str, Any] = {}
    for change in data.get("resource_changes") or []:
        if isinstance(change, dict) and "address" in change:
            changes[str(change["address"])] = change.get("change") or {}
    configuration = data.get("configuration") or {}
    configs = _config_modules(configuration)
    regions = _provider_regions(data)

    planned = [r for r in _walk_planned(root_module) if r.get("mode", "managed") == "managed"]
    instances: dict[str, list[str]] = {}
    for resource in planned:
        address = str(resource.get("address", ""))
        instances.setdefault(_strip_index(address), []).append(address)
    resolver = _Refs(configs, instances)

    resources: list[Resource] = []
    for resource in planned:
        address = str(resource.get("address", ""))
        rtype = str(resource.get("type", ""))
        name = str(resource.get("name", ""))
        base = _strip_index(address)
        module = base[: -len(f"{rtype}.{name}")].rstrip(".")
        values = resource.get("values") or {}
        change = changes.get(address, {})
        if change.get("after_unknown"):
            values = _merge_unknown(values, change["after_unknown"])
        config = configs.get(_call_path(module))
        resource_config: Mapping[str, Any] = {}
        if config is not None:
            for candidate in config.body.get("resources") or []:
                if (
                    candidate.get("type") == rtype
                    and candidate.get("name") == name
                    and (candidate.get("mode", "managed") == "managed")
                ):
                    resource_config = candidate
                    break
        refs: dict[str, tuple[str, ...]] = {}
        for attr, expression in (resource_config.get("expressions") or {}).items():
            found = resolver.resolve(_references(expression), module)
            found.discard(address)
            if found:
                refs[attr] = tuple(sorted(found))
        region = _region(values, resource_config, regions)
        if region is UNKNOWN:
            message = (
                f'the region of provider "{resource_config.get("provider_config_key", "aws")}" '
                f"cannot be determined from the plan; its resources are assumed to be in "
                f"{DEFAULT_REGION}"
            )
            if not any(i.message == message for i in issues):
                issues.append(
                    Issue(
                        code=IssueCode.UNKNOWN_VALUE,
                        message=message,
                        where=where,
                        severity=Severity.WARNING,
                    )
                )
            region = DEFAULT_REGION
        resources.append(
            Resource(
                address=address,
                type=rtype,
                name=name,
                module=module,
                region=str(region),
                attrs=values,
                refs=refs,
                source=None,
            )
        )
    return resources, issues


def _region(
    values: Mapping[str, Any], resource_config: Mapping[str, Any], regions: Mapping[str, Any]
) -> Any:
    own = values.get("region")
    if isinstance(own, str) and _REGION_RE.match(own):
        return own
    key = str(resource_config.get("provider_config_key") or "aws")
    if key in regions:
        return regions[key]
    if ":" in key:
        # Older formats prefix the key with the module path ("module.a:aws" or "a:aws").
        short = key.rsplit(":", 1)[1]
        if short in regions:
            return regions[short]
    return regions.get("aws", DEFAULT_REGION)
