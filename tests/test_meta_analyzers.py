"""Every analyzer module is imported, registered, documented, has described settings and tests."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import leanstack.analyzers as package
from leanstack.analyzers import ANALYZER_MODULES, registry

TESTS = Path(__file__).resolve().parent / "analyzers"
PUBLIC_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
)


def test_every_module_is_imported_explicitly_in_sorted_order() -> None:
    assert [m.__name__.rsplit(".", 1)[1] for m in ANALYZER_MODULES] == PUBLIC_MODULES
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "leanstack.analyzers"
        for alias in node.names
    ]
    assert imported == sorted(imported) == PUBLIC_MODULES


def test_every_module_registers_exactly_one_analyzer() -> None:
    by_module: dict[str, list[str]] = {}
    for name, cls in registry().items():
        by_module.setdefault(cls.__module__.rsplit(".", 1)[1], []).append(name)
    assert sorted(by_module) == PUBLIC_MODULES
    assert all(len(names) == 1 for names in by_module.values())


def test_analyzers_are_documented_with_described_settings() -> None:
    for name, cls in registry().items():
        module = __import__(cls.__module__, fromlist=["_"])
        assert module.__doc__ and module.__doc__.strip(), f"{cls.__module__} has no docstring"
        assert cls.__doc__ and len(cls.__doc__.strip()) > 40, f"{name} is not documented"
        assert cls.title and isinstance(cls.needs, frozenset)
        settings = cls.settings_model
        assert settings.__doc__ and settings.__doc__.strip(), (
            f"{name}: settings class has no docstring"
        )
        for field_name, info in settings.model_fields.items():
            assert info.description, f"{name}.{field_name} has no description"
        settings()  # every setting has a default


def test_every_analyzer_module_has_its_own_test_file() -> None:
    for module in PUBLIC_MODULES:
        path = TESTS / f"test_{module}.py"
        assert path.is_file(), f"no tests for analyzers/{module}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = [
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
        assert len(tests) >= 2, f"{path.name} has fewer than two tests"
