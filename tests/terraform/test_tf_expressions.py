"""Expression evaluation: operators, templates, for expressions, functions, unknowns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leanstack.model import UNKNOWN, IssueCode
from leanstack.terraform import LoadResult, load_stack

PRELUDE = """
locals {
  m    = { b = 2, a = 1, c = null }
  l    = ["x", "y", "x"]
  nums = [3, 9, 4]
  obj  = { list = [10, { name = "deep" }] }
}

resource "test_thing" "named" {
  name = "the-name"
}

data "aws_caller_identity" "me" {}
"""


StackWriter = Callable[[dict[str, str]], Path]


def _load(write_stack: StackWriter, expr: str) -> tuple[Any, LoadResult]:
    root = write_stack({"main.tf": PRELUDE + f'\nresource "test_probe" "p" {{\n  v = {expr}\n}}\n'})
    result = load_stack(root)
    probe = next(r for r in result.resources if r.address == "test_probe.p")
    return probe.attrs["v"], result


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("10 - 2 - 3", 5),
        ("16 / 4 / 2", 2),
        ("true || false && false", True),
        ("false ? 1 : true ? 2 : 3", 2),
        ("1 - -1", 2),
        ("(1 + 2) * 3", 9),
        ("10 / 4", 2.5),
        ("8 / 4", 2),
        ("7 % 3", 1),
        ("-(2 - 5)", 3),
        ("2 < 3 && 3 >= 3", True),
        ("!true || false", False),
        ('1 == 1.0 && "1" != 1', True),
        ('true ? "yes" : "no"', "yes"),
        ('length(local.l) > 5 ? "big" : "small"', "small"),
        ('"a-${1 + 1}-b"', "a-2-b"),
        (r'"quote \" and $${literal}"', 'quote " and ${literal}'),
        ('"%{ if true }on%{ else }off%{ endif }"', "on"),
        ('"%{ for s in local.nums }${s},%{ endfor }"', "3,9,4,"),
        ("local.obj.list[1].name", "deep"),
        ('local.m["b"]', 2),
        ("local.l.1", "y"),
        ("[for s in local.l : upper(s)]", ["X", "Y", "X"]),
        ("[for k, v in local.m : k if v != null]", ["a", "b"]),
        ("{ for k, v in local.m : v => k if v != null }", {"2": "b", "1": "a"}),
        ("{ for s in local.l : s => s... }", {"x": ["x", "x"], "y": ["y"]}),
        ("[{ a = 1 }, { a = 2 }][*].a", [1, 2]),
        ("test_thing.named.name", "the-name"),
        ('lookup(local.m, "a", 0)', 1),
        ('lookup(local.m, "zz", "dflt")', "dflt"),
        ("merge({ a = 1, b = 1 }, { b = 2 })", {"a": 1, "b": 2}),
        ('try(local.m.missing, "fallback")', "fallback"),
        ("try(local.m.a, 5)", 1),
        ('coalesce(null, "", "first")', "first"),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ('format("%s-%03d-%.1f", "x", 7, 2.25)', "x-007-2.2"),
        ('tonumber("42")', 42),
        ("tostring(5)", "5"),
        ('jsonencode({ b = [1, true], a = "s" })', '{"a":"s","b":[1,true]}'),
        ('jsondecode("{\\"cpu\\": 256}").cpu', 256),
        ("max(local.nums...)", 9),
        ("min(3, 1, 2)", 1),
        ("element(local.l, 4)", "y"),
        ("length(local.m)", 3),
        ("keys(local.m)", ["a", "b", "c"]),
        ("values({ b = 2, a = 1 })", [1, 2]),
        ('lower("ABC")', "abc"),
        ('join("-", ["a", "b"])', "a-b"),
        ('split(",", "a,b")', ["a", "b"]),
        ('replace("a.b.c", ".", "/")', "a/b/c"),
        ('contains(local.l, "y")', True),
        ("toset(local.l)", ["x", "y"]),
        ("flatten([[1], [2, [3]]])", [1, 2, 3]),
        ("distinct(local.l)", ["x", "y"]),
        ("ceil(1.2) + floor(1.8) + abs(-1)", 4),
        ("can(local.m.nope)", False),
        ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
        ('substr("fargate", 0, 4)', "farg"),
        ("one([7])", 7),
        ("sum([1, 2, 3])", 6),
        ("alltrue([true, 1 < 2])", True),
        ('strcontains("fargate-spot", "spot")', True),
        ("nonsensitive(sensitive(3))", 3),
        ("pow(2, 10)", 1024),
        ('yamldecode("a: [1, 2]")', {"a": [1, 2]}),
        ('setproduct([1, 2], ["a"])', [[1, "a"], [2, "a"]]),
        ('regex("db\\\\.(t[0-9])", "db.t3.micro")', ["t3"]),
        ("range(3)", [0, 1, 2]),
        ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
        ('trimprefix("cache.t3.micro", "cache.")', "t3.micro"),
    ],
)
def test_expression_values(write_stack: StackWriter, expr: str, expected: Any) -> None:
    value, result = _load(write_stack, expr)
    assert value == expected
    assert not [i for i in result.issues if i.code == IssueCode.EVALUATION_ERROR]


def test_heredoc_strips_common_indent(write_stack: StackWriter) -> None:
    value, _ = _load(write_stack, "<<-EOT\n    first ${1 + 1}\n      second\n    EOT")
    assert value == "first 2\n  second\n"


@pytest.mark.parametrize(
    "expr",
    [
        "data.aws_caller_identity.me.account_id",
        '"arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"',
        "test_thing.named.arn",
        'file("policy.json")',
        'templatefile("tpl.json", {})',
        "timestamp()",
        "upper(test_thing.named.id)",
        "jsonencode({ a = test_thing.named.arn })",
    ],
)
def test_values_known_only_after_apply_are_unknown(write_stack: StackWriter, expr: str) -> None:
    value, result = _load(write_stack, expr)
    assert value is UNKNOWN
    assert not [i for i in result.issues if i.code == IssueCode.EVALUATION_ERROR]


def test_unknown_inside_a_collection_stays_local(write_stack: StackWriter) -> None:
    value, _ = _load(write_stack, '[test_thing.named.arn, "known"]')
    assert value == [UNKNOWN, "known"]
    value, _ = _load(write_stack, "length([data.aws_caller_identity.me.id, 1])")
    assert value == 2


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("nosuchfunction(1)", "nosuchfunction() is not supported"),
        ("local.m.missing", "no attribute 'missing'"),
        ("local.l[7]", "out of range"),
        ("var.undeclared", "var.undeclared is not declared"),
        ('"x" + 1', "cannot convert 'x' to a number"),
    ],
)
def test_evaluation_errors_become_unknown_with_an_issue(
    write_stack: StackWriter, expr: str, fragment: str
) -> None:
    value, result = _load(write_stack, expr)
    assert value is UNKNOWN
    errors = [i for i in result.issues if i.code == IssueCode.EVALUATION_ERROR]
    assert len(errors) == 1
    assert fragment in errors[0].message
    assert errors[0].where == "main.tf:15"  # the line of `v = ...`


def test_loader_never_raises_on_odd_input(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    (root / "main.tf").write_text(
        'resource "a_b" "c" {\n  v = [for x in 5 : x]\n  w = {(null) = 1}\n  u = 1 / 0\n}\n'
    )
    result = load_stack(root)
    (res,) = result.resources
    assert res.attrs == {"v": UNKNOWN, "w": UNKNOWN, "u": UNKNOWN}
    assert {i.where for i in result.issues} == {"main.tf:2", "main.tf:3", "main.tf:4"}
