"""Terraform's built-in functions, over plain Python values, with UNKNOWN propagation.

Values are None, bool, int, float, str, list (tuples, lists and sets) and dict (maps and
objects). A function that reads the filesystem, the clock or the network returns UNKNOWN:
the stack is priced as written, not as it would be on someone's machine.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import posixpath
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from leanstack.model import UNKNOWN, Unknown


class EvalError(Exception):
    """An expression that Terraform itself would reject (bad index, wrong type, ...)."""


def has_unknown(value: Any) -> bool:
    """True when UNKNOWN appears anywhere inside `value`."""
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    return False


def normalize_number(value: float | int) -> int | float:
    """Terraform has one number type; keep integral values as int so "512" prints as 512."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def to_number(value: Any) -> int | float:
    """Terraform's automatic string -> number conversion."""
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, int | float):
        return normalize_number(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                return normalize_number(float(value.strip()))
            except ValueError as exc:
                raise EvalError(f"cannot convert {value!r} to a number") from exc
    raise EvalError(f"cannot convert {type_name(value)} to a number")


def to_string(value: Any) -> str:
    """Terraform's automatic primitive -> string conversion."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(normalize_number(value)) if not value.is_integer() else str(int(value))
    if value is None:
        raise EvalError("null value cannot be used as a string")
    raise EvalError(f"cannot convert {type_name(value)} to a string")


def to_bool(value: Any) -> bool:
    """Terraform's automatic string -> bool conversion."""
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"cannot convert {value!r} to a bool")


def type_name(value: Any) -> str:
    """Name of a value's type, for error messages."""
    if value is None:
        return "null"
    if value is UNKNOWN:
        return "unknown value"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "object"


def sorted_items(value: dict[str, Any]) -> list[tuple[str, Any]]:
    """Terraform iterates maps and objects in lexical key order."""
    return sorted(value.items(), key=lambda kv: kv[0])


def as_list(value: Any, fname: str) -> list[Any]:
    """A list/tuple/set argument (maps are rejected like Terraform does)."""
    if isinstance(value, list):
        return value
    raise EvalError(f"{fname}: expected a list, got {type_name(value)}")


def as_map(value: Any, fname: str) -> dict[str, Any]:
    """A map/object argument."""
    if isinstance(value, dict):
        return value
    raise EvalError(f"{fname}: expected a map, got {type_name(value)}")


def make_set(items: list[Any]) -> list[Any]:
    """Sets are lists without duplicates; sets of strings are ordered lexically like Terraform."""
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    if out and all(isinstance(i, str) for i in out):
        out.sort()
    return out


def tf_equal(a: Any, b: Any) -> bool:
    """`==` in Terraform: no string/number coercion, numbers compare by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    return bool(a == b)


# --- individual functions ------------------------------------------------------------------


def _format_verb(verb: str, value: Any) -> str:
    if verb.endswith("%"):
        return "%"
    if value is UNKNOWN:
        raise _UnknownResult
    kind = verb[-1]
    flags = verb[1:-1]
    if kind == "s":
        return ("%" + flags + "s") % to_string(value)
    if kind == "d":
        return ("%" + flags + "d") % int(to_number(value))
    if kind in "feEgG":
        return ("%" + flags + kind) % float(to_number(value))
    if kind == "t":
        return "true" if to_bool(value) else "false"
    if kind == "q":
        return json.dumps(to_string(value))
    if kind in "vV":
        if isinstance(value, list | dict):
            return json.dumps(value, separators=(",", ":"))
        return to_string(value)
    if kind == "x":
        return ("%" + flags + "x") % int(to_number(value))
    raise EvalError(f"format: unsupported verb {verb!r}")


class _UnknownResult(Exception):
    pass


_VERB = re.compile(r"%%|%[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]")


def fn_format(fmt: Any, *args: Any) -> Any:
    """`format("%s-%d", ...)` with the common verbs."""
    if fmt is UNKNOWN:
        return UNKNOWN
    position = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal position
        verb = match.group(0)
        if verb == "%%":
            return "%"
        if position >= len(args):
            raise EvalError("format: not enough arguments")
        value = args[position]
        position += 1
        return _format_verb(verb, value)

    try:
        return _VERB.sub(repl, to_string(fmt))
    except _UnknownResult:
        return UNKNOWN


def fn_formatlist(fmt: Any, *args: Any) -> Any:
    """`formatlist` over lists of equal length (scalars repeat)."""
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist: lists of different lengths")
    count = lengths.pop() if lengths else 1
    return [
        fn_format(fmt, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(count)
    ]


def fn_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    """`lookup(map, key, default)`."""
    if mapping is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    mapping = as_map(mapping, "lookup")
    key = to_string(key)
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"lookup: no key {key!r} and no default")


def fn_merge(*maps: Any) -> Any:
    """`merge(a, b, ...)`; later keys win; null arguments are skipped."""
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if m is UNKNOWN:
            return UNKNOWN
        out.update(as_map(m, "merge"))
    return out


def fn_coalesce(*values: Any) -> Any:
    """First argument that is not null or an empty string."""
    for value in values:
        if value is UNKNOWN:
            return UNKNOWN
        if value is not None and value != "":
            return value
    raise EvalError("coalesce: no non-null, non-empty argument")


def fn_coalescelist(*values: Any) -> Any:
    """First non-empty list."""
    for value in values:
        if value is UNKNOWN:
            return UNKNOWN
        if as_list(value, "coalescelist"):
            return value
    return []


def fn_concat(*lists: Any) -> Any:
    """Join lists."""
    out: list[Any] = []
    for item in lists:
        if item is UNKNOWN:
            return UNKNOWN
        out.extend(as_list(item, "concat"))
    return out


def fn_tonumber(value: Any) -> Any:
    """`tonumber`; null stays null."""
    return None if value is None else to_number(value)


def fn_tostring(value: Any) -> Any:
    """`tostring`; null stays null."""
    return None if value is None else to_string(value)


def fn_tobool(value: Any) -> Any:
    """`tobool`; null stays null."""
    return None if value is None else to_bool(value)


def fn_jsonencode(value: Any) -> Any:
    """Compact JSON like Terraform's (keys sorted)."""
    if has_unknown(value):
        return UNKNOWN
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def fn_jsondecode(text: Any) -> Any:
    """Parse JSON, numbers as int when integral."""
    try:
        return json.loads(to_string(text))
    except json.JSONDecodeError as exc:
        raise EvalError(f"jsondecode: {exc.msg}") from exc


def _numbers(values: tuple[Any, ...], fname: str) -> list[int | float]:
    if not values:
        raise EvalError(f"{fname}: needs at least one argument")
    return [to_number(v) for v in values]


def fn_max(*values: Any) -> Any:
    """Largest number."""
    return max(_numbers(values, "max"))


def fn_min(*values: Any) -> Any:
    """Smallest number."""
    return min(_numbers(values, "min"))


def fn_element(items: Any, index: Any) -> Any:
    """`element(list, i)` wraps around."""
    items = as_list(items, "element")
    if not items:
        raise EvalError("element: empty list")
    return items[int(to_number(index)) % len(items)]


def fn_length(value: Any) -> Any:
    """Length of a list, map or string."""
    if isinstance(value, list | dict | str):
        return len(value)
    raise EvalError(f"length: cannot take the length of {type_name(value)}")


def fn_keys(value: Any) -> Any:
    """Map keys, sorted."""
    return [k for k, _ in sorted_items(as_map(value, "keys"))]


def fn_values(value: Any) -> Any:
    """Map values, in key order."""
    return [v for _, v in sorted_items(as_map(value, "values"))]


def fn_join(sep: Any, *lists: Any) -> Any:
    """`join(sep, list)`."""
    items: list[Any] = []
    for item in lists:
        items.extend(as_list(item, "join"))
    if has_unknown(items) or sep is UNKNOWN:
        return UNKNOWN
    return to_string(sep).join(to_string(i) for i in items)


def fn_split(sep: Any, text: Any) -> Any:
    """`split(sep, string)`."""
    return to_string(text).split(to_string(sep))


def fn_replace(text: Any, old: Any, new: Any) -> Any:
    """`replace(s, old, new)`; `/re/` patterns are regular expressions."""
    text, old, new = to_string(text), to_string(old), to_string(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return re.sub(old[1:-1], re.sub(r"\$(\d+)", r"\\\1", new), text)
    return text.replace(old, new)


def fn_contains(items: Any, value: Any) -> Any:
    """Whether a list contains a value."""
    items = as_list(items, "contains")
    if has_unknown(items) or value is UNKNOWN:
        return UNKNOWN
    return any(tf_equal(i, value) for i in items)


def fn_tomap(value: Any) -> Any:
    """`tomap`."""
    return dict(as_map(value, "tomap"))


def fn_tolist(value: Any) -> Any:
    """`tolist`."""
    return list(as_list(value, "tolist"))


def fn_toset(value: Any) -> Any:
    """`toset`: dedupe; string sets sort."""
    return make_set(as_list(value, "toset"))


def fn_flatten(value: Any) -> Any:
    """Flatten nested lists."""
    out: list[Any] = []
    for item in as_list(value, "flatten"):
        if isinstance(item, list):
            out.extend(fn_flatten(item))
        else:
            out.append(item)
    return out


def fn_distinct(value: Any) -> Any:
    """Remove duplicates, keep order."""
    out: list[Any] = []
    for item in as_list(value, "distinct"):
        if item not in out:
            out.append(item)
    return out


def fn_compact(value: Any) -> Any:
    """Drop null and empty strings."""
    return [i for i in as_list(value, "compact") if i is not None and i != ""]


def fn_one(value: Any) -> Any:
    """The single element of a list, null for an empty one."""
    items = as_list(value, "one")
    if len(items) > 1:
        raise EvalError("one: list has more than one element")
    return items[0] if items else None


def fn_slice(items: Any, start: Any, end: Any) -> Any:
    """`slice(list, start, end)`."""
    return as_list(items, "slice")[int(to_number(start)) : int(to_number(end))]


def fn_sort(items: Any) -> Any:
    """Lexical sort of strings."""
    return sorted(to_string(i) for i in as_list(items, "sort"))


def fn_reverse(items: Any) -> Any:
    """Reverse a list."""
    return list(reversed(as_list(items, "reverse")))


def fn_range(*args: Any) -> Any:
    """`range(end)`, `range(start, end[, step])`."""
    nums = [to_number(a) for a in args]
    if len(nums) == 1:
        nums = [0, nums[0]]
    start, end = nums[0], nums[1]
    step = nums[2] if len(nums) > 2 else (1 if end >= start else -1)
    out: list[Any] = []
    value = start
    while (step > 0 and value < end) or (step < 0 and value > end):
        out.append(value)
        value = normalize_number(value + step)
        if len(out) > 1024:
            raise EvalError("range: more than 1024 elements")
    return out


def fn_zipmap(keys: Any, values: Any) -> Any:
    """Map from a list of keys and a list of values."""
    keys, values = as_list(keys, "zipmap"), as_list(values, "zipmap")
    return {to_string(k): v for k, v in zip(keys, values, strict=False)}


def fn_index(items: Any, value: Any) -> Any:
    """Position of a value in a list."""
    for i, item in enumerate(as_list(items, "index")):
        if tf_equal(item, value):
            return i
    raise EvalError("index: value not in list")


def fn_sum(items: Any) -> Any:
    """Sum of numbers."""
    return normalize_number(sum(to_number(i) for i in as_list(items, "sum")))


def fn_substr(text: Any, offset: Any, length: Any) -> Any:
    """`substr(s, offset, length)`; length -1 means to the end."""
    text = to_string(text)
    start = int(to_number(offset))
    size = int(to_number(length))
    if start < 0:
        start += len(text)
    return text[start:] if size < 0 else text[start : start + size]


def fn_regex(pattern: Any, text: Any) -> Any:
    """First match: the string, a list of groups, or a map of named groups."""
    match = re.search(to_string(pattern), to_string(text))
    if match is None:
        raise EvalError("regex: no match")
    if match.re.groupindex:
        return match.groupdict()
    return list(match.groups()) if match.re.groups else match.group(0)


def fn_regexall(pattern: Any, text: Any) -> Any:
    """All matches."""
    compiled = re.compile(to_string(pattern))
    out: list[Any] = []
    for match in compiled.finditer(to_string(text)):
        if compiled.groupindex:
            out.append(match.groupdict())
        elif compiled.groups:
            out.append(list(match.groups()))
        else:
            out.append(match.group(0))
    return out


def fn_cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> Any:
    """Compute a subnet of a CIDR block, like Terraform."""
    network = ipaddress.ip_network(to_string(prefix), strict=False)
    new_prefix = network.prefixlen + int(to_number(newbits))
    if new_prefix > network.max_prefixlen:
        raise EvalError("cidrsubnet: not enough bits")
    size = 1 << (network.max_prefixlen - new_prefix)
    address = int(network.network_address) + int(to_number(netnum)) * size
    return str(ipaddress.ip_network((address, new_prefix)))


def fn_cidrhost(prefix: Any, hostnum: Any) -> Any:
    """Address of a host inside a CIDR block."""
    network = ipaddress.ip_network(to_string(prefix), strict=False)
    host = int(to_number(hostnum))
    base = int(network.broadcast_address) + 1 + host if host < 0 else int(network.network_address)
    return str(ipaddress.ip_address(base + (0 if host < 0 else host)))


def _string_fn(fn: Callable[[str], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        return fn(to_string(value))

    return wrapped


def _two_string_fn(fn: Callable[[str, str], Any]) -> Callable[[Any, Any], Any]:
    def wrapped(a: Any, b: Any) -> Any:
        return fn(to_string(a), to_string(b))

    return wrapped


def _hash(name: str) -> Callable[[Any], Any]:
    def digest(value: Any) -> Any:
        return hashlib.new(name, to_string(value).encode()).hexdigest()

    return digest


def _unknown(*_args: Any) -> Any:
    return UNKNOWN


def _math(fn: Callable[[float], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        return normalize_number(fn(to_number(value)))

    return wrapped


def _setop(kind: str) -> Callable[..., Any]:
    def op(*sets: Any) -> Any:
        lists = [as_list(s, kind) for s in sets]
        if not lists:
            return []
        out = list(lists[0])
        for other in lists[1:]:
            if kind == "setunion":
                out += [i for i in other if i not in out]
            elif kind == "setintersection":
                out = [i for i in out if i in other]
            else:
                out = [i for i in out if i not in other]
        return make_set(out)

    return op


def fn_alltrue(items: Any) -> Any:
    """True when every element is true."""
    values = as_list(items, "alltrue")
    if has_unknown(values):
        return UNKNOWN
    return all(to_bool(v) for v in values)


def fn_anytrue(items: Any) -> Any:
    """True when some element is true."""
    values = as_list(items, "anytrue")
    if any(v is not UNKNOWN and to_bool(v) for v in values):
        return True
    return UNKNOWN if has_unknown(values) else False


def fn_chunklist(items: Any, size: Any) -> Any:
    """Split a list into chunks."""
    values = as_list(items, "chunklist")
    step = int(to_number(size))
    if step <= 0:
        return [values]
    return [values[i : i + step] for i in range(0, len(values), step)]


def fn_setproduct(*sets: Any) -> Any:
    """Cartesian product of lists."""
    out: list[list[Any]] = [[]]
    for item in sets:
        out = [[*prefix, v] for prefix in out for v in as_list(item, "setproduct")]
    return out


def fn_parseint(text: Any, base: Any) -> Any:
    """Parse an integer in a base."""
    return int(to_string(text), int(to_number(base)))


def fn_yamldecode(text: Any) -> Any:
    """Parse YAML (safe loader)."""
    import yaml  # rarely used: keep it off the import path of every load

    try:
        return yaml.safe_load(to_string(text))
    except yaml.YAMLError as exc:
        raise EvalError(f"yamldecode: {exc}") from exc


def fn_yamlencode(value: Any) -> Any:
    """YAML text of a value."""
    import yaml

    if has_unknown(value):
        return UNKNOWN
    return yaml.safe_dump(value, sort_keys=True)


def fn_transpose(mapping: Any) -> Any:
    """Swap keys and list values of a map of lists."""
    out: dict[str, list[str]] = {}
    for key, values in sorted_items(as_map(mapping, "transpose")):
        for value in as_list(values, "transpose"):
            out.setdefault(to_string(value), []).append(key)
    return out


def _identity(value: Any) -> Any:
    return value


def _trim(text: Any, chars: Any) -> Any:
    return to_string(text).strip(to_string(chars))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _math(abs),
    "alltrue": fn_alltrue,
    "anytrue": fn_anytrue,
    "base64sha256": _string_fn(
        lambda s: base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
    ),
    "chunklist": fn_chunklist,
    "log": lambda x, b: normalize_number(math.log(to_number(x), to_number(b))),
    "nonsensitive": _identity,
    "parseint": fn_parseint,
    "pow": lambda x, y: normalize_number(to_number(x) ** to_number(y)),
    "sensitive": _identity,
    "setproduct": fn_setproduct,
    "strcontains": _two_string_fn(lambda s, sub: sub in s),
    "transpose": fn_transpose,
    "yamldecode": fn_yamldecode,
    "yamlencode": fn_yamlencode,
    "base64decode": _string_fn(lambda s: base64.b64decode(s).decode("utf-8", "replace")),
    "base64encode": _string_fn(lambda s: base64.b64encode(s.encode()).decode()),
    "basename": _string_fn(posixpath.basename),
    "ceil": _math(math.ceil),
    "chomp": _string_fn(lambda s: s.rstrip("\r\n")),
    "cidrhost": fn_cidrhost,
    "cidrsubnet": fn_cidrsubnet,
    "coalesce": fn_coalesce,
    "coalescelist": fn_coalescelist,
    "compact": fn_compact,
    "concat": fn_concat,
    "contains": fn_contains,
    "dirname": _string_fn(posixpath.dirname),
    "distinct": fn_distinct,
    "element": fn_element,
    "endswith": _two_string_fn(lambda s, suffix: s.endswith(suffix)),
    "flatten": fn_flatten,
    "floor": _math(math.floor),
    "format": fn_format,
    "formatlist": fn_formatlist,
    "index": fn_index,
    "join": fn_join,
    "jsondecode": fn_jsondecode,
    "jsonencode": fn_jsonencode,
    "keys": fn_keys,
    "length": fn_length,
    "lookup": fn_lookup,
    "lower": _string_fn(str.lower),
    "max": fn_max,
    "md5": _hash("md5"),
    "merge": fn_merge,
    "min": fn_min,
    "one": fn_one,
    "range": fn_range,
    "regex": fn_regex,
    "regexall": fn_regexall,
    "replace": fn_replace,
    "reverse": fn_reverse,
    "setintersection": _setop("setintersection"),
    "setsubtract": _setop("setsubtract"),
    "setunion": _setop("setunion"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "signum": _math(lambda x: (x > 0) - (x < 0)),
    "slice": fn_slice,
    "sort": fn_sort,
    "split": fn_split,
    "startswith": _two_string_fn(lambda s, prefix: s.startswith(prefix)),
    "strrev": _string_fn(lambda s: s[::-1]),
    "substr": fn_substr,
    "sum": fn_sum,
    "title": _string_fn(str.title),
    "tobool": fn_tobool,
    "tolist": fn_tolist,
    "tomap": fn_tomap,
    "tonumber": fn_tonumber,
    "toset": fn_toset,
    "tostring": fn_tostring,
    "trim": _trim,
    "trimprefix": _two_string_fn(lambda s, p: s.removeprefix(p)),
    "trimspace": _string_fn(str.strip),
    "trimsuffix": _two_string_fn(lambda s, p: s.removesuffix(p)),
    "upper": _string_fn(str.upper),
    "urlencode": _string_fn(lambda s: urllib.parse.quote(s, safe="")),
    "values": fn_values,
    "zipmap": fn_zipmap,
}

# Functions whose result depends on files, time, randomness or the network: not knowable
# from the configuration alone.
UNKNOWABLE = [
    "abspath",
    "bcrypt",
    "file",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "fileset",
    "filesha1",
    "filesha256",
    "filesha512",
    "pathexpand",
    "plantimestamp",
    "templatefile",
    "timeadd",
    "timestamp",
    "uuid",
    "uuidv5",
    "timecmp",
    "formatdate",
    "templatestring",
    "ephemeralasnull",
]
for _name in UNKNOWABLE:
    FUNCTIONS[_name] = _unknown


def call_function(name: str, args: list[Any]) -> Any:
    """Apply a built-in; unknown function names raise EvalError."""
    fn = FUNCTIONS.get(name.removeprefix("core::"))
    if fn is None:
        raise EvalError(f"function {name}() is not supported")
    # An unknown argument makes the result unknown; unknowns nested inside lists and maps
    # are handled by the functions that must see every element (jsonencode, join, ...).
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    try:
        return fn(*args)
    except EvalError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, re.error) as exc:
        raise EvalError(f"{name}(): {exc}") from exc


__all__ = ["UNKNOWN", "EvalError", "Unknown", "call_function", "has_unknown"]
