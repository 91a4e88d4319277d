"""Load a Terraform configuration directory into Resource instances.

Root module variables come from defaults, terraform.tfvars(.json), *.auto.tfvars(.json),
then `var_files` and `variables` in that order (later wins), as Terraform does. Local child
modules are loaded from disk; registry and git modules only if `terraform init` left them
in `.terraform/modules/modules.json`, otherwise they are reported as MISSING_MODULE.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leanstack.model import UNKNOWN, Issue, IssueCode, Resource, Severity, SourceSpan
from leanstack.terraform.evaluator import (
    NO_REFS,
    Ctx,
    Evaluator,
    Refs,
    constant_value,
    convert,
    plain,
    type_is_string,
)
from leanstack.terraform.functions import (
    EvalError,
    has_unknown,
    make_set,
    to_number,
    to_string,
    type_name,
)
from leanstack.terraform.syntax import (
    Attribute,
    Block,
    Expr,
    GetAttr,
    Index,
    Literal,
    ObjectExpr,
    ParsedFile,
    Span,
    Step,
    Traversal,
    Variable,
    parse_expression,
    parse_hcl,
)

DEFAULT_REGION = "us-east-1"
_RESOURCE_META = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle"})
_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
_MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


@dataclass(frozen=True, slots=True)
class Binding:
    """A variable's value, the resources it was computed from, and where it was written."""

    value: Any
    refs: Refs
    span: Span | None


@dataclass(slots=True)
class ModuleConfig:
    """The parsed files of one module directory."""

    directory: Path
    variables: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, Attribute] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    resource_types: set[str] = field(default_factory=set)
    modules: dict[str, Block] = field(default_factory=dict)
    providers: list[Block] = field(default_factory=list)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)


def _key_suffix(key: int | str | None) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


def _provider_key(expr: Expr) -> str | None:
    """`aws.west` written as a bare traversal -> "aws.west"."""
    if isinstance(expr, Variable):
        return expr.name
    if isinstance(expr, Traversal) and isinstance(expr.base, Variable):
        names = [expr.base.name]
        for step in expr.steps:
            if not isinstance(step, GetAttr):
                return None
            names.append(step.name)
        return ".".join(names)
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


class _Expansion:
    """count/for_each of a block: instance keys and their `count`/`each` symbols."""

    def __init__(self, keys: list[tuple[int | str | None, dict[str, Any]]], mode: str) -> None:
        self.keys = keys
        self.mode = mode  # "single" | "count" | "for_each" | "unknown"


class ResourceInstance:
    """One instance of a resource block in one module instance; attributes are lazy."""

    def __init__(
        self, group: ResourceGroup, key: int | str | None, symbols: dict[str, Any]
    ) -> None:
        self.group = group
        self.key = key
        self.address = group.base_address + _key_suffix(key)
        self.ctx = Ctx(group.module, symbols)

    def attr(self, name: str, ev: Evaluator) -> tuple[Any, Refs]:
        """(value, refs) of a top-level attribute or nested block type."""
        return ev.memo(("attr", self.address, name), lambda: self._compute(name, ev))

    def _compute(self, name: str, ev: Evaluator) -> Any:
        block = self.group.block
        attr = block.attrs.get(name)
        if attr is not None:
            return ev.eval(attr.expr, self.ctx)
        if any(b.type == name for b in block.blocks) or any(
            b.type == "dynamic" and b.labels and b.labels[0] == name for b in block.blocks
        ):
            return self.group.module.stack.nested_blocks(block, name, self.ctx, ev)
        return UNKNOWN

    def get_attr(self, name: str, ev: Evaluator) -> Any:
        """Reading `aws_x.y.name` from elsewhere: the configured value, without its refs."""
        if name in _RESOURCE_META:
            return UNKNOWN
        try:
            value, _refs = self.attr(name, ev)
        except EvalError:
            return UNKNOWN
        return value


class ResourceGroup:
    """A resource block within a module instance, expanded on first use."""

    def __init__(self, module: ModuleInstance, block: Block) -> None:
        self.module = module
        self.block = block
        self.type, self.name = block.labels[0], block.labels[1]
        local = f"{self.type}.{self.name}"
        self.base_address = f"{module.prefix}.{local}" if module.prefix else local
        self._instances: list[ResourceInstance] | None = None
        self.mode = "single"

    def instances(self, ev: Evaluator) -> list[ResourceInstance]:
        """All instances (count/for_each expanded)."""
        if self._instances is None:
            self._instances = []  # guards against self-reference during expansion
            expansion = self.module.stack.expand(
                self.block, Ctx(self.module), ev, self.base_address
            )
            self.mode = expansion.mode
            self._instances = [ResourceInstance(self, k, s) for k, s in expansion.keys]
        return self._instances

    def value(self, ev: Evaluator) -> Any:
        """The resource as a value: an instance, a list (count) or a map (for_each)."""
        instances = self.instances(ev)
        if self.mode == "count":
            return instances
        if self.mode == "for_each":
            return {str(i.key): i for i in instances}
        if self.mode == "unknown":
            return UNKNOWN
        return instances[0] if instances else UNKNOWN


class ModuleOutputs:
    """A module instance seen as a value: `module.a.output_name`."""

    def __init__(self, module: ModuleInstance) -> None:
        self.module = module

    def get_attr(self, name: str, ev: Evaluator) -> Any:
        """An output's value; its resource references flow to the reader."""
        block = self.module.config.outputs.get(name)
        if block is None or "value" not in block.attrs:
            raise EvalError(f"module {self.module.prefix} has no output {name!r}")
        attr = block.attrs["value"]
        value, refs = ev.memo(
            ("output", self.module.prefix, name),
            lambda: self.module.stack.eval_here(attr, Ctx(self.module), ev),
        )
        ev.add_refs(refs)
        return value


class ModuleCall:
    """A module block within a module instance, expanded on first use."""

    def __init__(self, parent: ModuleInstance, block: Block, config: ModuleConfig | None) -> None:
        self.parent = parent
        self.block = block
        self.name = block.labels[0]
        self.config = config
        self.mode = "single"
        self._instances: list[ModuleInstance] | None = None
        self._keys: list[int | str | None] = []

    def instances(self, ev: Evaluator) -> list[ModuleInstance]:
        """Child module instances (empty when the module is not on disk)."""
        if self._instances is None:
            self._instances = []
            if self.config is None:
                return self._instances
            base = f"module.{self.name}"
            prefix = f"{self.parent.prefix}.{base}" if self.parent.prefix else base
            expansion = self.parent.stack.expand(self.block, Ctx(self.parent), ev, prefix)
            self.mode = expansion.mode
            for key, symbols in expansion.keys:
                self._keys.append(key)
                self._instances.append(
                    ModuleInstance(
                        self.parent.stack,
                        self.config,
                        prefix + _key_suffix(key),
                        (*self.parent.call_path, self.name),
                        parent=self.parent,
                        call=self.block,
                        call_ctx=Ctx(self.parent, symbols),
                    )
                )
        return self._instances

    def value(self, ev: Evaluator) -> Any:
        """The module as a value: its outputs, a list (count) or a map (for_each)."""
        if self.config is None:
            return UNKNOWN
        instances = self.instances(ev)
        outputs = [ModuleOutputs(m) for m in instances]
        if self.mode == "count":
            return outputs
        if self.mode == "for_each":
            return {str(k): o for k, o in zip(self._keys, outputs, strict=True)}
        if self.mode == "unknown":
            return UNKNOWN
        return outputs[0] if outputs else UNKNOWN


class ModuleInstance:
    """One instance of a module (the root, or a child call, or one count/for_each key of it)."""

    def __init__(
        self,
        stack: Stack,
        config: ModuleConfig,
        prefix: str,
        call_path: tuple[str, ...],
        *,
        parent: ModuleInstance | None = None,
        call: Block | None = None,
        call_ctx: Ctx | None = None,
    ) -> None:
        self.stack = stack
        self.config = config
        self.prefix = prefix
        self.call_path = call_path
        self.parent = parent
        self.call = call
        self.call_ctx = call_ctx
        self.resource_groups = {
            key: ResourceGroup(self, block) for key, block in config.resources.items()
        }
        self.module_calls = {
            name: ModuleCall(self, block, stack.child_config(self, block))
            for name, block in config.modules.items()
        }
        self._regions: dict[str, Any] | None = None
        # Provider key -> where its region is written (the provider's `region` line, or the
        # variable default / tfvars line it reads), so a region problem points there.
        self._region_spans: dict[str, Span] = {}
        rel = os.path.relpath(config.directory, stack.root)
        self.path_module = "." if rel == "." else rel.replace(os.sep, "/")

    # --- names -----------------------------------------------------------------------------

    def lookup(self, name: str, steps: tuple[Step, ...], ctx: Ctx, ev: Evaluator) -> Any:
        """Resolve the first name of a traversal, then apply the remaining steps."""
        if name in ctx.scope:
            return ev.apply_steps(ctx.scope[name], steps, ctx)
        first = steps[0].name if steps and isinstance(steps[0], GetAttr) else None
        rest = steps[1:]
        if name == "var":
            if first is None:
                raise EvalError("var must be followed by a variable name")
            binding = self.var(first, ev)
            ev.add_refs(binding.refs)
            return ev.apply_steps(binding.value, rest, ctx)
        if name == "local":
            if first is None or first not in self.config.locals:
                raise EvalError(f"local.{first} is not declared")
            value, refs = self.local(first, ev)
            ev.add_refs(refs)
            return ev.apply_steps(value, rest, ctx)
        if name == "module":
            call = self.module_calls.get(first or "")
            if call is None:
                raise EvalError(f"module.{first} is not declared")
            return ev.apply_steps(call.value(ev), rest, ctx)
        if name == "data":
            return self._data(steps, ctx, ev)
        if name == "path":
            if first == "module":
                return ev.apply_steps(self.path_module, rest, ctx)
            return ev.apply_steps(".", rest, ctx)
        if name == "terraform":
            workspace = os.environ.get("TF_WORKSPACE", "default")
            return ev.apply_steps(workspace if first == "workspace" else UNKNOWN, rest, ctx)
        if name in ("self", "count", "each"):
            return UNKNOWN
        if name in self.config.resource_types and first is not None:
            group = self.resource_groups.get((name, first))
            if group is None:
                raise EvalError(f"resource {name}.{first} is not declared")
            return self._resource_ref(group, rest, ctx, ev)
        if "_" in name and first is not None:
            raise EvalError(f"resource {name}.{first} is not declared")
        raise EvalError(f"unknown name {name!r}")

    def _data(self, steps: tuple[Step, ...], ctx: Ctx, ev: Evaluator) -> Any:
        """Data sources are read at plan time: UNKNOWN, except the region of `aws_region`."""
        if len(steps) < 3 or not all(isinstance(s, GetAttr) for s in steps[:2]):
            return UNKNOWN
        kind, name = steps[0].name, steps[1].name  # type: ignore[union-attr]
        block = self.config.data.get((kind, name))
        attr = steps[2]
        if (
            kind != "aws_region"
            or block is None
            or "count" in block.attrs
            or "for_each" in block.attrs
            or not isinstance(attr, GetAttr)
            or attr.name not in ("name", "region", "id")
        ):
            return UNKNOWN
        for own in ("region", "name"):
            if own in block.attrs:
                return ev.apply_steps(ev.eval(block.attrs[own].expr, Ctx(self)), steps[3:], ctx)
        region = self.region_for(block, {}, ev)
        return ev.apply_steps(region, steps[3:], ctx)

    def _resource_ref(
        self, group: ResourceGroup, steps: tuple[Step, ...], ctx: Ctx, ev: Evaluator
    ) -> Any:
        instances = group.instances(ev)
        touched = instances
        if steps and isinstance(steps[0], Index) and group.mode in ("count", "for_each"):
            try:
                key = ev.eval(steps[0].key, ctx)
            except EvalError:
                key = UNKNOWN
            if key is not UNKNOWN:
                wanted = _key_suffix(int(to_number(key)) if group.mode == "count" else str(key))
                touched = [i for i in instances if _key_suffix(i.key) == wanted] or instances
        ev.add_refs({i.address for i in touched})
        return ev.apply_steps(group.value(ev), steps, ctx)

    def var(self, name: str, ev: Evaluator) -> Binding:
        """A variable's binding (memoized)."""
        cached = self.stack.bindings.get((self.prefix, name))
        if cached is not None:
            return cached
        block = self.config.variables.get(name)
        if block is None:
            raise EvalError(f"var.{name} is not declared")
        self.stack.bindings[(self.prefix, name)] = Binding(UNKNOWN, NO_REFS, None)  # cycle guard
        binding = self._compute_var(name, block, ev)
        self.stack.bindings[(self.prefix, name)] = binding
        return binding

    def _compute_var(self, name: str, block: Block, ev: Evaluator) -> Binding:
        type_attr = block.attrs.get("type")
        type_expr = type_attr.expr if type_attr else None
        if self.parent is None:
            supplied = self.stack.root_inputs.get(name)
            if supplied is not None:
                return self.stack.root_binding(name, supplied, type_expr)
        elif self.call is not None and self.call_ctx is not None and name in self.call.attrs:
            arg = self.call.attrs[name]
            with ev.collecting() as refs:
                try:
                    value = ev.eval(arg.expr, self.call_ctx)
                except EvalError as exc:
                    self.stack.eval_issue(exc, arg.span)
                    value = UNKNOWN
            span = self.stack.value_span(arg, self.parent, ev)
            return Binding(convert(value, type_expr), frozenset(refs), span)
        default = block.attrs.get("default")
        if default is not None:
            try:
                value = ev.eval(default.expr, Ctx(self))
            except EvalError as exc:
                self.stack.eval_issue(exc, default.span)
                value = UNKNOWN
            return Binding(convert(value, type_expr), NO_REFS, default.span)
        where = block.span if self.call is None else self.call.span
        what = "" if self.parent is None else f" (module {self.prefix})"
        self.stack.issue(
            IssueCode.UNDEFINED_VARIABLE,
            f'variable "{name}"{what} has no value and no default; its value is unknown',
            where,
        )
        return Binding(UNKNOWN, NO_REFS, None)

    def local(self, name: str, ev: Evaluator) -> tuple[Any, Refs]:
        """A local value with its references (memoized)."""
        attr = self.config.locals[name]
        return ev.memo(
            ("local", self.prefix, name), lambda: self.stack.eval_here(attr, Ctx(self), ev)
        )

    # --- providers ------------------------------------------------------------------------

    def regions(self, ev: Evaluator) -> dict[str, Any]:
        """Provider configuration key ("aws", "aws.west") -> region (or UNKNOWN)."""
        if self._regions is not None:
            return self._regions
        regions: dict[str, Any] = {}
        spans = self._region_spans
        if self.parent is None:
            regions["aws"] = DEFAULT_REGION
        else:
            parent_regions = self.parent.regions(ev)
            parent_spans = self.parent._region_spans
            regions["aws"] = parent_regions.get("aws", DEFAULT_REGION)
            if "aws" in parent_spans:
                spans["aws"] = parent_spans["aws"]
            mapping = self.call.attrs.get("providers") if self.call else None
            if mapping is not None and isinstance(mapping.expr, ObjectExpr):
                for key_expr, value_expr in mapping.expr.items:
                    child_key = _provider_key(key_expr)
                    parent_key = _provider_key(value_expr)
                    if isinstance(key_expr, Literal):
                        child_key = str(key_expr.value)
                    if child_key and parent_key and parent_key.split(".")[0] == "aws":
                        regions[child_key] = parent_regions.get(
                            parent_key, parent_regions.get("aws", DEFAULT_REGION)
                        )
                        span = parent_spans.get(parent_key, parent_spans.get("aws"))
                        if span is not None:
                            spans[child_key] = span
        self._regions = regions  # provider blocks below may read locals that need regions
        for block in self.config.providers:
            if not block.labels or block.labels[0] != "aws":
                continue
            alias_attr = block.attrs.get("alias")
            alias = None
            if alias_attr is not None:
                try:
                    alias = to_string(ev.eval(alias_attr.expr, Ctx(self)))
                except EvalError:
                    continue
            key = f"aws.{alias}" if alias else "aws"
            region_attr = block.attrs.get("region")
            if region_attr is None:
                regions[key] = regions.get("aws", DEFAULT_REGION) if alias else DEFAULT_REGION
                if alias and "aws" in spans:
                    spans[key] = spans["aws"]
                else:
                    spans.pop(key, None)
                continue
            spans[key] = self.stack.value_span(region_attr, self, ev)
            try:
                region = ev.eval(region_attr.expr, Ctx(self))
            except EvalError as exc:
                self.stack.eval_issue(exc, region_attr.span)
                region = UNKNOWN
            if not isinstance(region, str):
                # Reported once here, at the provider block, not once per resource.
                self.stack.issue(
                    IssueCode.UNKNOWN_VALUE,
                    f'the region of provider "{key}" cannot be determined; '
                    f"its resources are assumed to be in {DEFAULT_REGION}",
                    region_attr.span,
                )
                region = UNKNOWN
            regions[key] = region
        return regions

    def region_for(self, block: Block, attrs: Mapping[str, Any], ev: Evaluator) -> str:
        """Region of a resource: its own `region` (AWS provider 6), else its provider's."""
        own = attrs.get("region")
        if isinstance(own, str) and _REGION_RE.match(own):
            return own
        key = "aws"
        provider_attr = block.attrs.get("provider")
        if provider_attr is not None:
            key = _provider_key(provider_attr.expr) or "aws"
        regions = self.regions(ev)
        region = regions.get(key, regions.get("aws", DEFAULT_REGION))
        return region if isinstance(region, str) else DEFAULT_REGION

    def region_span_for(self, block: Block, attrs: Mapping[str, Any], ev: Evaluator) -> Span | None:
        """Where the region of `region_for` is written; None for the built-in default."""
        own = attrs.get("region")
        if isinstance(own, str) and _REGION_RE.match(own):
            return None  # the resource's own `region` attribute has its own source span
        key = "aws"
        provider_attr = block.attrs.get("provider")
        if provider_attr is not None:
            key = _provider_key(provider_attr.expr) or "aws"
        self.regions(ev)
        return self._region_spans.get(key, self._region_spans.get("aws"))


class Stack:
    """Everything read for one load: configs by directory, bindings, issues, file hashes."""

    def __init__(
        self,
        root: Path,
        var_files: Sequence[Path],
        variables: Mapping[str, str],
    ) -> None:
        self.root = root
        self.issues: list[Issue] = []
        self._issue_keys: set[tuple[str, str, str]] = set()
        self.files: dict[str, str] = {}
        self.configs: dict[Path, ModuleConfig] = {}
        self.bindings: dict[tuple[str, str], Binding] = {}
        self.manifest = self._read_manifest()
        self.ev = Evaluator()
        self.root_inputs: dict[str, tuple[str, Any, Span | None]] = {}
        self.root_config = self.load_config(root)
        self._read_root_inputs(var_files, variables)

    # --- files --------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """Path relative to the stack root, with forward slashes."""
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def read(self, path: Path) -> bytes:
        """Read a file and record its hash."""
        data = path.read_bytes()
        self.files[self.rel(path)] = hashlib.sha256(data).hexdigest()
        return data

    def issue(
        self,
        code: IssueCode,
        message: str,
        where: Span | str | None = None,
        severity: Severity = Severity.WARNING,
    ) -> None:
        """Record an issue once."""
        if isinstance(where, Span):
            where = f"{where.file}:{where.start}"
        key = (str(code), message, where or "")
        if key in self._issue_keys:
            return
        self._issue_keys.add(key)
        self.issues.append(Issue(code=code, message=message, where=where or "", severity=severity))

    def eval_issue(self, exc: EvalError, span: Span) -> None:
        """An expression that could not be evaluated: its value is UNKNOWN."""
        self.issue(
            IssueCode.EVALUATION_ERROR,
            f"{exc}; the value is treated as unknown",
            span,
            Severity.INFO,
        )

    def eval_here(self, attr: Attribute, ctx: Ctx, ev: Evaluator) -> Any:
        """Evaluate a local or an output; an error is reported at its own line, once.

        As in Terraform, a failing local is an error of the local, not something a reader's
        try() can catch: readers just see UNKNOWN.
        """
        try:
            return ev.eval(attr.expr, ctx)
        except EvalError as exc:
            self.eval_issue(exc, attr.span)
            return UNKNOWN

    def load_config(self, directory: Path) -> ModuleConfig:
        """Parse every .tf file of a directory once."""
        directory = directory.resolve()
        cached = self.configs.get(directory)
        if cached is not None:
            return cached
        config = ModuleConfig(directory)
        self.configs[directory] = config
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            self.issue(
                IssueCode.PARSE_ERROR, f"cannot read directory: {exc.strerror}", self.rel(directory)
            )
            return config
        for name in names:
            path = directory / name
            if name.endswith(".tf.json"):
                self.issue(
                    IssueCode.PARSE_ERROR,
                    "JSON configuration syntax (.tf.json) is not supported; file skipped",
                    self.rel(path),
                )
                continue
            if not name.endswith(".tf") or not path.is_file():
                continue
            try:
                parsed = parse_hcl(self.read(path), self.rel(path))
            except OSError as exc:
                self.issue(
                    IssueCode.PARSE_ERROR, f"cannot read file: {exc.strerror}", self.rel(path)
                )
                continue
            for line, message in parsed.errors:
                self.issue(
                    IssueCode.PARSE_ERROR,
                    f"{message} (blocks with errors are skipped)",
                    f"{parsed.rel}:{line}",
                    Severity.ERROR,
                )
            self._add_blocks(config, parsed)
        return config

    def _add_blocks(self, config: ModuleConfig, parsed: ParsedFile) -> None:
        for block in parsed.blocks:
            kind, labels = block.type, block.labels
            if kind == "resource" and len(labels) == 2:
                if (labels[0], labels[1]) in config.resources:
                    self.issue(
                        IssueCode.PARSE_ERROR,
                        f"duplicate resource {labels[0]}.{labels[1]}; the later block is used",
                        block.span,
                        Severity.ERROR,
                    )
                config.resources[(labels[0], labels[1])] = block
                config.resource_types.add(labels[0])
            elif kind == "variable" and labels:
                config.variables[labels[0]] = block
            elif kind == "locals":
                config.locals.update(block.attrs)
            elif kind == "output" and labels:
                config.outputs[labels[0]] = block
            elif kind == "module" and labels:
                config.modules[labels[0]] = block
            elif kind == "provider" and labels:
                config.providers.append(block)
            elif kind == "data" and len(labels) == 2:
                config.data[(labels[0], labels[1])] = block

    def _read_manifest(self) -> dict[str, Path]:
        path = self.root / ".terraform" / "modules" / "modules.json"
        if not path.is_file():
            return {}
        try:
            data = json.loads(self.read(path))
            return {
                str(m["Key"]): (self.root / str(m["Dir"])).resolve()
                for m in data.get("Modules", [])
                if isinstance(m, dict) and "Key" in m and "Dir" in m
            }
        except (OSError, ValueError, TypeError, AttributeError):
            self.issue(IssueCode.PARSE_ERROR, "unreadable module manifest; ignored", self.rel(path))
            return {}

    def child_config(self, parent: ModuleInstance, block: Block) -> ModuleConfig | None:
        """The configuration a module block points at, or None (and an issue) if not on disk."""
        name = block.labels[0]
        source_attr = block.attrs.get("source")
        source = ""
        if source_attr is not None and isinstance(source_attr.expr, Literal):
            source = str(source_attr.expr.value)
        if source.startswith(("./", "../")) or source in (".", ".."):
            directory = (parent.config.directory / source).resolve()
            if directory.is_dir():
                return self.load_config(directory)
        else:
            manifest_dir = self.manifest.get(".".join((*parent.call_path, name)))
            if manifest_dir is not None and manifest_dir.is_dir():
                return self.load_config(manifest_dir)
        self.issue(
            IssueCode.MISSING_MODULE,
            f'module "{name}" (source "{source}") is not on disk; its resources are not '
            "included and its outputs are unknown (run `terraform init` to download it)",
            block.span,
        )
        return None

    # --- root inputs --------------------------------------------------------------------

    def _read_root_inputs(self, var_files: Sequence[Path], variables: Mapping[str, str]) -> None:
        auto = [self.root / "terraform.tfvars", self.root / "terraform.tfvars.json"]
        auto += sorted(
            p
            for p in self.root.iterdir()
            if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")) and p.is_file()
        )
        for path in [p for p in auto if p.is_file()] + [Path(p) for p in var_files]:
            self._read_tfvars(path)
        for name, text in variables.items():
            self.root_inputs[name] = ("cli", text, None)

    def _read_tfvars(self, path: Path) -> None:
        try:
            data = self.read(path)
        except OSError as exc:
            self.issue(
                IssueCode.PARSE_ERROR, f"cannot read variables file: {exc.strerror}", str(path)
            )
            return
        rel = self.rel(path)
        if path.name.endswith(".json"):
            try:
                values = json.loads(data)
                if not isinstance(values, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                self.issue(
                    IssueCode.PARSE_ERROR, f"invalid variables file: {exc}", rel, Severity.ERROR
                )
                return
            text = data.decode("utf-8", "replace")
            for name, value in values.items():
                match = re.search(r'"' + re.escape(name) + r'"\s*:', text)
                line = text.count("\n", 0, match.start()) + 1 if match else 1
                self.root_inputs[name] = ("value", value, Span(rel, line, line))
            return
        parsed = parse_hcl(data, rel)
        for line, message in parsed.errors:
            self.issue(IssueCode.PARSE_ERROR, message, f"{rel}:{line}", Severity.ERROR)
        for name, attr in parsed.attrs.items():
            self.root_inputs[name] = ("expr", attr.expr, attr.span)

    def root_binding(
        self, name: str, supplied: tuple[str, Any, Span | None], type_expr: Expr | None
    ) -> Binding:
        """Binding of a root variable from a tfvars file or the command line."""
        kind, raw, span = supplied
        value: Any = raw
        try:
            if kind == "expr":
                value = constant_value(raw)
            elif kind == "cli" and not type_is_string(type_expr):
                parsed = parse_expression(str(raw))
                if parsed is None:
                    raise EvalError(f"cannot parse {raw!r} for a variable of a non-string type")
                value = constant_value(parsed)
        except EvalError as exc:
            where = f"{span.file}:{span.start}" if span else f"--var {name}"
            self.issue(IssueCode.EVALUATION_ERROR, f"{exc}; the value is unknown", where)
            value = UNKNOWN
        return Binding(convert(value, type_expr), NO_REFS, span)

    # --- expansion, nested blocks, spans -----------------------------------------------------

    def expand(self, block: Block, ctx: Ctx, ev: Evaluator, address: str) -> _Expansion:
        """Instance keys from `count` / `for_each`."""
        count_attr = block.attrs.get("count")
        each_attr = block.attrs.get("for_each")
        if count_attr is not None:
            try:
                count = ev.eval(count_attr.expr, ctx)
                count = UNKNOWN if count is UNKNOWN else int(to_number(count))
            except EvalError as exc:
                self.eval_issue(exc, count_attr.span)
                count = UNKNOWN
            if count is UNKNOWN:
                self.issue(
                    IssueCode.UNKNOWN_VALUE,
                    f"count of {address} is known only after apply; counted as 1",
                    count_attr.span,
                )
                return _Expansion([(None, {"count": {"index": 0}})], "unknown")
            return _Expansion([(i, {"count": {"index": i}}) for i in range(count)], "count")
        if each_attr is not None:
            try:
                each = ev.eval(each_attr.expr, ctx)
            except EvalError as exc:
                self.eval_issue(exc, each_attr.span)
                each = UNKNOWN
            keys: list[tuple[int | str | None, dict[str, Any]]] = []
            if isinstance(each, dict):
                for k in sorted(each):
                    keys.append((k, {"each": {"key": k, "value": each[k]}}))
            elif isinstance(each, list) and all(isinstance(v, str) for v in each):
                for k in make_set(list(each)):
                    keys.append((k, {"each": {"key": k, "value": k}}))
            else:
                if has_unknown(each):
                    message = f"for_each of {address} is known only after apply; counted as 1"
                    code = IssueCode.UNKNOWN_VALUE
                else:
                    message = (
                        f"for_each of {address} must be a map or a set of strings, not "
                        f"{type_name(each)}; counted as 1"
                    )
                    code = IssueCode.EVALUATION_ERROR
                self.issue(code, message, each_attr.span)
                return _Expansion([(None, {"each": {"key": UNKNOWN, "value": UNKNOWN}})], "unknown")
            return _Expansion(keys, "for_each")
        return _Expansion([(None, {})], "single")

    def nested_blocks(self, block: Block, name: str, ctx: Ctx, ev: Evaluator) -> Any:
        """All nested blocks of type `name` (static and dynamic) as a list of dicts."""
        out: list[Any] = []
        for child in block.blocks:
            if child.type == name:
                out.append(self.block_body(child, ctx, ev))
            elif child.type == "dynamic" and child.labels and child.labels[0] == name:
                expanded = self._dynamic(child, ctx, ev)
                if expanded is UNKNOWN:
                    return UNKNOWN
                out.extend(expanded)
        return out

    def _dynamic(self, block: Block, ctx: Ctx, ev: Evaluator) -> Any:
        each_attr = block.attrs.get("for_each")
        content = block.blocks_of("content")
        if each_attr is None or not content:
            return []
        coll = ev.eval(each_attr.expr, ctx)
        if coll is UNKNOWN:
            return UNKNOWN
        iterator = block.labels[0]
        iter_attr = block.attrs.get("iterator")
        if iter_attr is not None:
            iterator = _provider_key(iter_attr.expr) or iterator
        if isinstance(coll, dict):
            pairs: list[tuple[Any, Any]] = sorted(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            raise EvalError("dynamic block for_each must be a collection")
        out = []
        for key, value in pairs:
            inner = ctx.child(**{iterator: {"key": key, "value": value}})
            out.append(self.block_body(content[0], inner, ev))
        return out

    def block_body(self, block: Block, ctx: Ctx, ev: Evaluator) -> dict[str, Any]:
        """A nested block's attributes and its own nested blocks."""
        body: dict[str, Any] = {}
        for name, attr in block.attrs.items():
            try:
                body[name] = ev.eval(attr.expr, ctx)
            except EvalError as exc:
                self.eval_issue(exc, attr.span)
                body[name] = UNKNOWN
        names = {b.type if b.type != "dynamic" else (b.labels or ("",))[0] for b in block.blocks}
        for name in sorted(names - _META_BLOCKS):
            try:
                body[name] = self.nested_blocks(block, name, ctx, ev)
            except EvalError as exc:
                self.eval_issue(exc, block.span)
                body[name] = UNKNOWN
        return body

    def value_span(self, attr: Attribute, module: ModuleInstance, ev: Evaluator) -> Span:
        """Where a value is really written: follow `var.x` / `local.x` to the definition."""
        expr = attr.expr
        seen = 0
        while seen < 16:
            seen += 1
            if not (
                isinstance(expr, Traversal)
                and isinstance(expr.base, Variable)
                and len(expr.steps) == 1
                and isinstance(expr.steps[0], GetAttr)
            ):
                return attr.span
            kind, name = expr.base.name, expr.steps[0].name
            if kind == "var" and name in module.config.variables:
                try:
                    binding = module.var(name, ev)
                except EvalError:
                    return attr.span
                return binding.span or attr.span
            if kind == "local" and name in module.config.locals:
                attr = module.config.locals[name]
                expr = attr.expr
                continue
            return attr.span
        return attr.span


def _span(span: Span) -> SourceSpan:
    return SourceSpan(file=span.file, start_line=span.start, end_line=span.end)


def load_hcl(
    root: Path, var_files: Sequence[Path], variables: Mapping[str, str]
) -> tuple[list[Resource], Stack]:
    """Load a configuration directory: every managed resource instance, in module order."""
    # Each reference followed costs a handful of Python frames; a long chain of locals in a
    # real stack must not hit the default limit of 1,000.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return _load(root, var_files, variables)
    finally:
        sys.setrecursionlimit(limit)


def _load(
    root: Path, var_files: Sequence[Path], variables: Mapping[str, str]
) -> tuple[list[Resource], Stack]:
    stack = Stack(root, var_files, variables)
    ev = stack.ev
    root_module = ModuleInstance(stack, stack.root_config, "", ())
    for name, block in stack.root_config.variables.items():
        if name not in stack.root_inputs and "default" not in block.attrs:
            root_module.var(name, ev)  # reports UNDEFINED_VARIABLE even if nothing reads it
    resources: list[Resource] = []
    _collect(root_module, ev, resources)
    return resources, stack


def _collect(module: ModuleInstance, ev: Evaluator, out: list[Resource]) -> None:
    for group in module.resource_groups.values():
        for instance in group.instances(ev):
            out.append(_build(instance, ev))
    for call in module.module_calls.values():
        for child in call.instances(ev):
            _collect(child, ev, out)
    for call in module.module_calls.values():
        # Inputs nobody read are still evaluated, so bad expressions and missing values show up.
        for child in call.instances(ev):
            for name in child.config.variables:
                child.var(name, ev)


def _build(instance: ResourceInstance, ev: Evaluator) -> Resource:
    group = instance.group
    block = group.block
    stack = group.module.stack
    attrs: dict[str, Any] = {}
    refs: dict[str, tuple[str, ...]] = {}
    sources: dict[str, SourceSpan] = {}
    names = [n for n in block.attrs if n not in _RESOURCE_META]
    block_names: list[str] = []
    for child in block.blocks:
        name = child.labels[0] if child.type == "dynamic" and child.labels else child.type
        if name not in _META_BLOCKS and name not in block_names and name not in block.attrs:
            block_names.append(name)
    for name in names + block_names:
        try:
            value, found = instance.attr(name, ev)
        except EvalError as exc:
            span = block.attrs[name].span if name in block.attrs else block.span
            stack.eval_issue(exc, span)
            value, found = UNKNOWN, NO_REFS
        attrs[name] = plain(value)  # lazy resource/module objects -> UNKNOWN
        own = sorted(r for r in found if r != instance.address)
        if own:
            refs[name] = tuple(own)
        if name in block.attrs:
            sources[name] = _span(stack.value_span(block.attrs[name], group.module, ev))
        else:
            first = next(
                b
                for b in block.blocks
                if b.type == name or (b.type == "dynamic" and b.labels and b.labels[0] == name)
            )
            sources[name] = _span(first.span)
    region = group.module.region_for(block, attrs, ev)
    if "region" not in sources:
        region_span = group.module.region_span_for(block, attrs, ev)
        if region_span is not None:
            sources["region"] = _span(region_span)
    return Resource(
        address=instance.address,
        type=group.type,
        name=group.name,
        module=group.module.prefix,
        region=region,
        attrs=attrs,
        refs=refs,
        source=_span(block.span),
        attr_sources=sources,
    )
