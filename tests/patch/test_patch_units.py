"""Small pieces of the patch engine: change paths, value rendering, loose equality."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from leanstack.patch import _hcl
from leanstack.patch._path import Segment, parse_change_path
from leanstack.patch._resolve import loose_equal


def test_change_paths() -> None:
    path = parse_change_path('module.a.module.b["k.z"].aws_x.y[0].blk.1.attr')
    assert path is not None
    assert path.modules == (Segment("a"), Segment("b", '"k.z"'))
    assert (path.type, path.name, path.index) == ("aws_x", "y", "0")
    assert path.attrs == (Segment("blk", "1"), Segment("attr"))
    assert path.address == 'module.a.module.b["k.z"].aws_x.y[0]'
    data = parse_change_path("data.aws_ami.x.id")
    assert data is not None and data.mode == "data"
    assert parse_change_path("aws_x.y") is None  # no attribute
    assert parse_change_path("aws_x.y", address_only=True) is not None
    assert parse_change_path("not a path") is None


def _literal(source: str) -> _hcl.Literal:
    tree = _hcl.parse(f"a = {source}\n".encode())
    attr = _hcl.attributes(_hcl.body_of(tree.root_node))[0]
    expr = _hcl.attr_expr(attr)
    assert expr is not None
    lit = _hcl.literal(expr)
    assert lit is not None, source
    return lit


@pytest.mark.parametrize(
    ("old", "new", "written"),
    [
        ('"512"', 256, '"256"'),  # a string stays a string
        ("512", "256", "256"),  # a number stays a number
        ("70.0", 55, "55.0"),  # and keeps its decimal point
        ("70", 55.5, "55.5"),
        ("-1", Decimal("2"), "2"),
        ("true", "false", "false"),
        ('"true"', False, '"false"'),
        ('"x"', 'say "hi" ${now}', '"say \\"hi\\" $${now}"'),
        ("[1, 2]", ["a", 3], '["a", 3]'),
        ("null", None, "null"),
    ],
)
def test_render_keeps_the_old_style(old: str, new: Any, written: str) -> None:
    assert _hcl.render(new, _literal(old)) == written


def test_render_round_trips_through_the_parser() -> None:
    value = {"Name": "x", "cost center": 'a "b"', "n": 3, "on": True, "list": [1, "two"]}
    text = _hcl.render(value, None)
    assert _literal(text).value == value


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("256", 256, True),
        (60, 60.0, True),
        (Decimal("0.10"), "0.1", True),
        (True, "true", True),
        (1, True, False),
        ("a", "b", False),
        ([1, "2"], ["1", 2], True),
        ({"k": 1}, {"k": "1"}, True),
        ({"k": 1}, {"j": 1}, False),
    ],
)
def test_loose_equal(a: Any, b: Any, equal: bool) -> None:
    assert loose_equal(a, b) is equal


def test_direct_references() -> None:
    def ref(source: str) -> Any:
        tree = _hcl.parse(f"a = {source}\n".encode())
        expr = _hcl.attr_expr(_hcl.attributes(_hcl.body_of(tree.root_node))[0])
        assert expr is not None
        return _hcl.direct_reference(expr)

    assert ref("var.x") == ("var", "x", ())
    assert ref('"${var.x}"') == ("var", "x", ())
    assert ref('local.m.a["b c"].d') == ("local", "m", ("a", "b c", "d"))
    assert ref("var.x[0]") is None
    assert ref('"${var.x}-suffix"') is None
    assert ref("aws_s3_bucket.b.id") is None


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("var.on ? 1 : 2", "is a conditional expression"),
        ("max(1, 2)", "is computed by a function call"),
        ("var.n * 2", "is computed by an operation"),
        ("!var.on", "is computed by an operation"),
        ("[for s in var.l : s]", "is a for expression"),
        ('"${var.a}-b"', "is a string template"),
        ("<<EOT\nx\nEOT", "is a heredoc"),
        ("count.index + 1", "depends on count/for_each"),
        ("aws_subnet.a[*].id", "is a splat expression"),
        ("aws_vpc.main.id", "comes from another resource or module output"),
    ],
)
def test_why_an_expression_is_not_editable(source: str, reason: str) -> None:
    tree = _hcl.parse(f"a = {source}\n".encode())
    expr = _hcl.attr_expr(_hcl.attributes(_hcl.body_of(tree.root_node))[0])
    assert expr is not None and _hcl.literal(expr) is None
    assert _hcl.describe(expr) == reason
