"""Evaluate HCL expressions against a module instance, collecting resource references.

Evaluation is lazy and memoized: a local, an output, a module input or another resource's
attribute is computed the first time something reads it. While an attribute is evaluated,
every managed resource it reaches (directly, or through locals, module inputs and outputs)
is recorded, which gives `Resource.refs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol

from leanstack.model import UNKNOWN
from leanstack.terraform.functions import (
    EvalError,
    call_function,
    make_set,
    normalize_number,
    sorted_items,
    tf_equal,
    to_bool,
    to_number,
    to_string,
    type_name,
)
from leanstack.terraform.syntax import (
    Binary,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    Index,
    Literal,
    ObjectExpr,
    Splat,
    Step,
    Template,
    TemplateFor,
    TemplateIf,
    TemplatePart,
    Traversal,
    TupleExpr,
    Unary,
    Variable,
)

Refs = frozenset[str]
_PYTHON_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
)
NO_REFS: Refs = frozenset()


class LazyObject(Protocol):
    """A resource instance or module instance seen as a value: attributes computed on demand."""

    def get_attr(self, name: str, ev: Evaluator) -> Any:
        """Value of one attribute (UNKNOWN when computed by the provider)."""


class Module(Protocol):
    """What the evaluator needs from a module instance."""

    def lookup(self, name: str, steps: tuple[Step, ...], ctx: Ctx, ev: Evaluator) -> Any:
        """Resolve a root name (`var`, `local`, a resource type...) consuming steps."""


class Ctx:
    """Where an expression is evaluated: a module instance plus local symbols."""

    __slots__ = ("module", "scope")

    def __init__(self, module: Module, scope: dict[str, Any] | None = None) -> None:
        self.module = module
        self.scope = scope or {}

    def child(self, **symbols: Any) -> Ctx:
        """A context with extra symbols (for-expression variables, iterators)."""
        return Ctx(self.module, {**self.scope, **symbols})


class Evaluator:
    """Expression evaluation with a stack of reference collectors and a memo with cycle guard."""

    def __init__(self) -> None:
        self._collectors: list[set[str]] = []
        self._memo: dict[object, tuple[Any, Refs]] = {}
        self._running: set[object] = set()

    # --- references -----------------------------------------------------------------------

    def add_refs(self, refs: Refs | set[str]) -> None:
        """Record resource addresses reached by the expression being evaluated."""
        if self._collectors and refs:
            self._collectors[-1].update(refs)

    @contextmanager
    def collecting(self) -> Iterator[set[str]]:
        """Collect references made inside the block into a fresh set."""
        refs: set[str] = set()
        self._collectors.append(refs)
        try:
            yield refs
        finally:
            self._collectors.pop()

    def memo(self, key: object, compute: Callable[[], Any]) -> tuple[Any, Refs]:
        """Memoized (value, refs) of a named symbol; a cycle yields UNKNOWN instead of recursing."""
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if key in self._running:
            return UNKNOWN, NO_REFS
        self._running.add(key)
        try:
            with self.collecting() as refs:
                try:
                    value = compute()
                except EvalError:
                    self._running.discard(key)
                    raise
            result = (value, frozenset(refs))
            self._memo[key] = result
            return result
        finally:
            self._running.discard(key)

    # --- expressions ----------------------------------------------------------------------

    def eval(self, expr: Expr, ctx: Ctx) -> Any:
        """Value of an expression; raises EvalError where Terraform would report an error."""
        try:
            return self._eval(expr, ctx)
        except EvalError:
            raise
        except _PYTHON_ERRORS as exc:
            # A value shape the evaluator did not foresee must not crash the whole load.
            raise EvalError(f"cannot evaluate this expression ({type(exc).__name__})") from exc

    def _eval(self, expr: Expr, ctx: Ctx) -> Any:
        kind = type(expr)
        if kind is Literal:
            return expr.value  # type: ignore[attr-defined]
        if kind is Traversal:
            return self._traversal(expr, ctx)  # type: ignore[arg-type]
        if kind is Variable:
            return ctx.module.lookup(expr.name, (), ctx, self)  # type: ignore[attr-defined]
        if kind is Template:
            return self._template(expr.parts, ctx, whole=True)  # type: ignore[attr-defined]
        if kind is Call:
            return self._call(expr, ctx)  # type: ignore[arg-type]
        if kind is TupleExpr:
            return [self.eval(item, ctx) for item in expr.items]  # type: ignore[attr-defined]
        if kind is ObjectExpr:
            return self._object(expr, ctx)  # type: ignore[arg-type]
        if kind is Conditional:
            return self._conditional(expr, ctx)  # type: ignore[arg-type]
        if kind is Binary:
            return self._binary(expr, ctx)  # type: ignore[arg-type]
        if kind is Unary:
            return self._unary(expr, ctx)  # type: ignore[arg-type]
        if kind is ForExpr:
            return self._for(expr, ctx)  # type: ignore[arg-type]
        raise EvalError(f"cannot evaluate {kind.__name__}")

    def _traversal(self, expr: Traversal, ctx: Ctx) -> Any:
        if isinstance(expr.base, Variable):
            return ctx.module.lookup(expr.base.name, expr.steps, ctx, self)
        return self.apply_steps(self.eval(expr.base, ctx), expr.steps, ctx)

    def apply_steps(self, value: Any, steps: tuple[Step, ...], ctx: Ctx) -> Any:
        """Apply `.attr`, `[index]` and splat steps to a value."""
        for i, step in enumerate(steps):
            if value is UNKNOWN:
                return UNKNOWN
            if type(step) is GetAttr:
                value = self.get_attr(value, step.name)
            elif type(step) is Index:
                value = self.index(value, self.eval(step.key, ctx))
            else:
                assert isinstance(step, Splat)
                rest = steps[i + 1 :]
                if value is None:
                    items: list[Any] = []
                elif isinstance(value, list):
                    items = value
                else:
                    items = [value]
                value = [self.apply_steps(item, step.steps, ctx) for item in items]
                return self.apply_steps(value, rest, ctx) if rest else value
        return value

    def get_attr(self, value: Any, name: str) -> Any:
        """`value.name`."""
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, dict):
            if name in value:
                return value[name]
            raise EvalError(f"object has no attribute {name!r}")
        if hasattr(value, "get_attr"):
            return value.get_attr(name, self)
        if value is None:
            raise EvalError(f"cannot read attribute {name!r} of null")
        raise EvalError(f"cannot read attribute {name!r} of a {type_name(value)}")

    def index(self, value: Any, key: Any) -> Any:
        """`value[key]`."""
        if value is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(value, list):
            pos = int(to_number(key))
            if 0 <= pos < len(value):
                return value[pos]
            raise EvalError(f"index {pos} out of range for a list of {len(value)}")
        if isinstance(value, dict):
            name = to_string(key)
            if name in value:
                return value[name]
            raise EvalError(f"no element with key {name!r}")
        if hasattr(value, "get_attr"):
            return value.get_attr(to_string(key), self)
        if value is None:
            raise EvalError("cannot index null")
        raise EvalError(f"cannot index a {type_name(value)}")

    def _template(self, parts: tuple[TemplatePart, ...], ctx: Ctx, *, whole: bool) -> Any:
        # "${x}" alone yields x itself (a list stays a list), as in HCL.
        if whole and len(parts) == 1 and isinstance(parts[0], Expr):
            return self.eval(parts[0], ctx)
        out: list[str] = []
        unknown = False
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            if isinstance(part, TemplateIf):
                cond = self.eval(part.cond, ctx)
                if cond is UNKNOWN:
                    unknown = True
                    continue
                value = self._template(part.then if to_bool(cond) else part.other, ctx, whole=False)
            elif isinstance(part, TemplateFor):
                value = self._template_for(part, ctx)
            else:
                value = self.eval(part, ctx)
            if value is UNKNOWN:
                unknown = True
            elif not unknown:
                out.append(to_string(_plain(value)))
        return UNKNOWN if unknown else "".join(out)

    def _template_for(self, part: TemplateFor, ctx: Ctx) -> Any:
        coll = self.eval(part.coll, ctx)
        if coll is UNKNOWN:
            return UNKNOWN
        out: list[str] = []
        for key, value in _iterate(coll):
            symbols = {part.value: value}
            if part.key:
                symbols[part.key] = key
            text = self._template(part.body, ctx.child(**symbols), whole=False)
            if text is UNKNOWN:
                return UNKNOWN
            out.append(text)
        return "".join(out)

    def _call(self, expr: Call, ctx: Ctx) -> Any:
        name = expr.name
        if name in ("try", "can"):
            return self._try(expr, ctx)
        args = [_plain(self.eval(arg, ctx)) for arg in expr.args]
        if expr.expand and args:
            last = args.pop()
            if last is UNKNOWN:
                return UNKNOWN
            if not isinstance(last, list):
                raise EvalError(f"{name}(...): the expanded argument is not a list")
            args.extend(last)
        return call_function(name, args)

    def _try(self, expr: Call, ctx: Ctx) -> Any:
        for arg in expr.args:
            try:
                value = self.eval(arg, ctx)
            except EvalError:
                continue
            if expr.name == "can":
                return UNKNOWN if value is UNKNOWN else True
            return value
        if expr.name == "can":
            return False
        raise EvalError("try(): no argument could be evaluated")

    def _object(self, expr: ObjectExpr, ctx: Ctx) -> Any:
        out: dict[str, Any] = {}
        for key_expr, value_expr in expr.items:
            key = self.eval(key_expr, ctx)
            value = self.eval(value_expr, ctx)
            if key is UNKNOWN:
                return UNKNOWN
            out[to_string(key)] = value
        return out

    def _conditional(self, expr: Conditional, ctx: Ctx) -> Any:
        cond = self.eval(expr.cond, ctx)
        if cond is UNKNOWN:
            # Both branches are still walked so their references are recorded.
            for branch in (expr.then, expr.other):
                with suppress(EvalError):
                    self.eval(branch, ctx)
            return UNKNOWN
        return self.eval(expr.then if to_bool(cond) else expr.other, ctx)

    def _binary(self, expr: Binary, ctx: Ctx) -> Any:
        op = expr.op
        left = self.eval(expr.left, ctx)
        if op in ("&&", "||"):
            if left is not UNKNOWN:
                lb = to_bool(left)
                if (op == "&&" and not lb) or (op == "||" and lb):
                    return lb
            right = self.eval(expr.right, ctx)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return to_bool(right)
        right = self.eval(expr.right, ctx)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if op == "==":
            return tf_equal(_plain(left), _plain(right))
        if op == "!=":
            return not tf_equal(_plain(left), _plain(right))
        a, b = to_number(left), to_number(right)
        if op == "+":
            return normalize_number(a + b)
        if op == "-":
            return normalize_number(a - b)
        if op == "*":
            return normalize_number(a * b)
        if op == "/":
            if b == 0:
                raise EvalError("division by zero")
            return normalize_number(a / b)
        if op == "%":
            if b == 0:
                raise EvalError("modulo by zero")
            return normalize_number(a % b)
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        raise EvalError(f"unknown operator {op}")

    def _unary(self, expr: Unary, ctx: Ctx) -> Any:
        value = self.eval(expr.operand, ctx)
        if value is UNKNOWN:
            return UNKNOWN
        if expr.op == "!":
            return not to_bool(value)
        return normalize_number(-to_number(value))

    def _for(self, expr: ForExpr, ctx: Ctx) -> Any:
        coll = self.eval(expr.coll, ctx)
        if coll is UNKNOWN:
            return UNKNOWN
        as_object = expr.key is not None
        items: list[Any] = []
        mapping: dict[str, Any] = {}
        for key, value in _iterate(coll):
            symbols = {expr.value_var: value}
            if expr.key_var:
                symbols[expr.key_var] = key
            inner = ctx.child(**symbols)
            if expr.cond is not None:
                keep = self.eval(expr.cond, inner)
                if keep is UNKNOWN:
                    return UNKNOWN
                if not to_bool(keep):
                    continue
            result = self.eval(expr.value, inner)
            if not as_object:
                items.append(result)
                continue
            assert expr.key is not None
            map_key = self.eval(expr.key, inner)
            if map_key is UNKNOWN:
                return UNKNOWN
            name = to_string(map_key)
            if expr.group:
                mapping.setdefault(name, []).append(result)
            elif name in mapping:
                raise EvalError(f"for expression produced the key {name!r} twice")
            else:
                mapping[name] = result
        return mapping if as_object else items


def _iterate(coll: Any) -> list[tuple[Any, Any]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return sorted_items(coll)
    if coll is None:
        raise EvalError("cannot iterate over null")
    raise EvalError(f"cannot iterate over a {type_name(coll)}")


def _plain(value: Any) -> Any:
    """Replace lazy resource/module objects with UNKNOWN before handing values to functions."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "get_attr"):
        return UNKNOWN
    return value


plain = _plain


# --- type constraints -----------------------------------------------------------------------


def convert(value: Any, type_expr: Expr | None) -> Any:
    """Apply a variable's `type` the way Terraform converts input values (best effort)."""
    if type_expr is None or value is UNKNOWN or value is None:
        return value
    name, args = _type_parts(type_expr)
    try:
        if name == "string" and isinstance(value, bool | int | float):
            return to_string(value)
        if name == "number" and isinstance(value, str):
            return to_number(value)
        if name == "bool" and isinstance(value, str):
            return to_bool(value)
    except EvalError:
        return value
    if name in ("list", "set", "tuple") and isinstance(value, list):
        if name == "tuple" and args and isinstance(args[0], TupleExpr):
            types = args[0].items
            return [convert(v, types[i] if i < len(types) else None) for i, v in enumerate(value)]
        inner = args[0] if args else None
        items = [convert(v, inner) for v in value]
        return make_set(items) if name == "set" else items
    if name == "map" and isinstance(value, dict):
        inner = args[0] if args else None
        return {k: convert(v, inner) for k, v in value.items()}
    if name == "object" and isinstance(value, dict) and args and isinstance(args[0], ObjectExpr):
        out: dict[str, Any] = {}
        for key_expr, attr_type in args[0].items:
            if not isinstance(key_expr, Literal):
                continue
            key = str(key_expr.value)
            attr_name, attr_args = _type_parts(attr_type)
            if attr_name == "optional":
                inner_type = attr_args[0] if attr_args else None
                if value.get(key) is None:
                    default = _literal_value(attr_args[1]) if len(attr_args) > 1 else None
                    out[key] = convert(default, inner_type)
                else:
                    out[key] = convert(value[key], inner_type)
            else:
                out[key] = convert(value.get(key), attr_type)
        return out
    return value


def _type_parts(type_expr: Expr) -> tuple[str, tuple[Expr, ...]]:
    if isinstance(type_expr, Variable):
        return type_expr.name, ()
    if isinstance(type_expr, Call):
        return type_expr.name, type_expr.args
    if isinstance(type_expr, Literal) and isinstance(type_expr.value, str):
        # Terraform 0.11 wrote types as strings: type = "list".
        return type_expr.value, ()
    return "any", ()


def _literal_value(expr: Expr) -> Any:
    """Value of a constant expression (optional() defaults); UNKNOWN if it needs a scope."""
    try:
        return constant_value(expr)
    except EvalError:
        return UNKNOWN


def type_is_string(type_expr: Expr | None) -> bool:
    """True for `string`, or no type at all (a `--var` value is then taken as a string)."""
    return type_expr is None or _type_parts(type_expr)[0] in ("string", "any")


class _NoNames:
    """A module with no names: for expressions that may only hold constants."""

    def lookup(self, name: str, steps: tuple[Step, ...], ctx: Ctx, ev: Evaluator) -> Any:
        raise EvalError(f"{name} cannot be used here: only constant values are allowed")


def constant_value(expr: Expr) -> Any:
    """Evaluate an expression that may not reference anything (tfvars, `--var` values).

    Raises EvalError when it references something or is invalid.
    """
    return Evaluator().eval(expr, Ctx(_NoNames()))
