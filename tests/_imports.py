"""Reading the imports of the packages from their source: the one AST scan the layering and distribution tests share.

The folders `protocol/`, `referee/` and `services/` install as `collabgap.*`; every module is named here as it is
imported. An import counts wherever it stands, inside a function too (marked lazy), but not under
`if TYPE_CHECKING:`, which never runs. Nothing is imported.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = ("protocol", "referee", "services")


@dataclass(frozen=True)
class Import:
    """One edge of an import statement: `importer` takes `names` from the module `target` at `where` (file:line);
    `lazy` when the statement waits inside a function."""

    importer: str
    target: str
    names: frozenset[str]
    where: str
    lazy: bool

    def __str__(self) -> str:
        taken = f" ({', '.join(sorted(self.names))})" if self.names else ""
        return f"{self.where}: {self.importer} imports {self.target}{taken}"


def module_files() -> dict[str, Path]:
    """Every module of the three folders by the name it is imported as."""
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = ".".join(("collabgap", *path.relative_to(ROOT).with_suffix("").parts))
            found[name.removesuffix(".__init__")] = path
    return found


def within(module: str, package: str) -> bool:
    """Whether `module` is `package` or one of its modules."""
    return module == package or module.startswith(package + ".")


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST, lazy: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """The import statements at any depth, each with whether it waits inside a function; the body of
    `if TYPE_CHECKING:` left out."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, lazy
        elif isinstance(child, ast.If) and is_type_checking(child.test):
            for branch in child.orelse:
                yield from runtime_imports(ast.Module(body=[branch], type_ignores=[]), lazy)
        else:
            function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from runtime_imports(child, lazy or function)


def imports_in(importer: str, source: str, where: str, is_package: bool, modules: frozenset[str]) -> Iterator[Import]:
    """The edges one module's source makes; a name that is a module of ours is an edge to that module."""
    package = importer if is_package else importer.rpartition(".")[0]
    for node, lazy in runtime_imports(ast.parse(source)):
        at = f"{where}:{node.lineno}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, frozenset(), at, lazy)
            continue
        depth = len(package.split(".")) - node.level + 1
        base = ".".join(package.split(".")[:depth]) if node.level else ""
        origin = ".".join(part for part in (base, node.module or "") if part)
        taken: dict[str, set[str]] = {}
        for alias in node.names:
            submodule = f"{origin}.{alias.name}"
            taken.setdefault(submodule if submodule in modules else origin, set()).add(alias.name)
        for target, names in taken.items():
            yield Import(importer, target, frozenset(names), at, lazy)


@functools.cache
def all_imports() -> tuple[Import, ...]:
    """Every import edge of the three folders."""
    files = module_files()
    modules = frozenset(files)
    return tuple(edge for name, path in files.items()
                 for edge in imports_in(name, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)),
                                        path.name == "__init__.py", modules))
