"""What `pip install .` installs: a wheel whose only top-level name is `collabgap`, holding every module and data
file of the three folders, and metadata that declares every third-party distribution the packages import.

The wheel is built from a copy of the sources (so no `build/` or `*.egg-info` lands in the checkout) with the
setuptools of this environment (`--no-build-isolation`: no index needed).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest

from ._imports import FOLDERS, ROOT, all_imports, within

# A distribution imported only where it is needed (inside a function, or in its home below) -> the extra that
# installs it.
LAZY_EXTRAS = {"ray": "ray", "pyarrow": "parquet", "psycopg": "postgres"}
# The Ray backend's subpackage imports Ray at its top; only `collabgap run --ray` imports the subpackage, lazily.
LAZY_HOMES = {"ray": "collabgap.services.coordinator.scale"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "-w", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("collabgap-*.whl")
    with zipfile.ZipFile(path) as opened:
        yield opened


def distribution_name(name: str) -> str:
    """A distribution's name as registries compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {distribution_name(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]) for requirement in requirements}


@functools.cache
def installed() -> dict[str, list[str]]:
    """Top-level import name -> the installed distributions that provide it (read once: it walks them all)."""
    return dict(packages_distributions())


@functools.cache
def providing(module: str) -> str | None:
    """The installed distribution that provides `module`; where several share its first name (`google`), the one
    whose files hold the module's folder."""
    candidates = installed().get(module.split(".")[0], [])
    if len(candidates) > 1:
        folder = "/".join(module.split(".")[:2]) + "/"
        candidates = [name for name in candidates
                      if any(str(file).startswith(folder) for file in distribution(name).files or ())]
    return distribution_name(candidates[0]) if candidates else None


def test_the_wheel_adds_only_collabgap_to_the_top_level(wheel: zipfile.ZipFile) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    top = {name.split("/")[0] for name in wheel.namelist()}
    assert top == {"collabgap", f"collabgap-{version}.dist-info"}


def test_the_wheel_holds_every_module_and_data_file(wheel: zipfile.ZipFile) -> None:
    shipped = set(wheel.namelist())
    sources = {f"collabgap/{path.relative_to(ROOT).as_posix()}" for folder in FOLDERS
               for path in (ROOT / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert sources - shipped == set()
    # The ones a user notices first when missing: the face, the typing marker, the prompts, pages and tables.
    assert {"collabgap/protocol/__init__.py", "collabgap/protocol/py.typed", "collabgap/services/py.typed",
            "collabgap/services/agent/prompts/system.md", "collabgap/services/agent/human/page.html",
            "collabgap/services/coordinator/game/prices.toml", "collabgap/services/coordinator/report/view/page.html",
            "collabgap/services/coordinator/analysis/data/paper_pairs.csv"} <= shipped


def test_every_imported_distribution_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = declared(project["dependencies"])
    extras = {extra: declared(requirements) for extra, requirements in project["optional-dependencies"].items()}
    undeclared: list[str] = []
    unknown: list[str] = []
    for edge in all_imports():
        top = edge.target.split(".")[0]
        if top in sys.stdlib_module_names or top == "collabgap":
            continue
        name = providing(edge.target)
        lazy_extra = LAZY_EXTRAS.get(top) if edge.lazy or within(edge.importer, LAZY_HOMES.get(top, "-")) else None
        if name is None:
            unknown.append(str(edge))
        elif name not in required and (lazy_extra is None or name not in extras[lazy_extra]):
            undeclared.append(f"{edge} -> {name}" + (f" (belongs in the {lazy_extra!r} extra)" if lazy_extra else ""))
    assert not unknown, "imported but not installed:\n" + "\n".join(unknown)
    assert not undeclared, "imported but not declared in pyproject.toml:\n" + "\n".join(undeclared)


def test_an_extras_home_is_imported_only_lazily() -> None:
    eager = [str(edge) for edge in all_imports() for home in LAZY_HOMES.values()
             if within(edge.target, home) and not within(edge.importer, home) and not edge.lazy]
    assert not eager, "imported eagerly, so the extra would be needed everywhere:\n" + "\n".join(eager)
