"""A reusable check that a package's public surface is exactly its sorted `__all__` (STYLE.md §2.2)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from types import ModuleType


def _target_names(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _target_names(element)}
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return set()


def _defined_names(body: list[ast.stmt]) -> set[str]:
    """Names a module body binds itself (defs, classes, assignments), not the ones it imports."""
    names: set[str] = set()
    type_alias = getattr(ast, "TypeAlias", None)
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names |= _target_names(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names |= _target_names(node.target)
        elif type_alias is not None and isinstance(node, type_alias):
            names |= _target_names(node.name)
        elif isinstance(node, ast.If):
            names |= _defined_names(node.body) | _defined_names(node.orelse)
        elif isinstance(node, ast.Try):
            names |= _defined_names(node.body) | _defined_names(node.orelse) | _defined_names(node.finalbody)
            for handler in node.handlers:
                names |= _defined_names(handler.body)
    return names


def _private_modules(package: ModuleType) -> list[ModuleType]:
    """The package's `_name` submodules (not dunder ones such as `__main__`)."""
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") and not info.name.startswith("__"):
            found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return found


def assert_public_surface(package: ModuleType) -> None:
    """Assert `__all__` is sorted, names only real attributes, and lists every re-export of a `_private` module."""
    exported = list(package.__all__)
    assert exported == sorted(exported), f"{package.__name__}.__all__ is not sorted"
    duplicates = sorted({name for name in exported if exported.count(name) > 1})
    assert not duplicates, f"{package.__name__}.__all__ lists {duplicates} twice"
    missing = [name for name in exported if not hasattr(package, name)]
    assert not missing, f"{package.__name__}.__all__ names {missing}, which the package does not define"

    definers: dict[str, list[ModuleType]] = {}
    for module in _private_modules(package):
        for name in _defined_names(ast.parse(inspect.getsource(module)).body):
            definers.setdefault(name, []).append(module)
    unlisted = sorted(
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and name not in exported
        and any(getattr(module, name, object()) is value for module in definers.get(name, []))
    )
    assert not unlisted, f"{package.__name__} re-exports {unlisted} from its private modules without listing them"
