"""The packages and the tests type-check under `mypy --strict` (the pydantic plugin; settings in pyproject.toml).

The folders `protocol/`, `referee/` and `services/` install as `collabgap.protocol`, `collabgap.referee` and
`collabgap.services`. An editable install maps those names with an import hook, which mypy does not run, so the
test lays the three folders out under a `collabgap/` folder of symbolic links and checks them by the names they
are imported by, together with the tests that import them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("protocol", "referee", "services")


def namespace_tree(under: Path) -> Path:
    """`under/collabgap/{protocol,referee,services}` linked to the folders; returns `under`."""
    tree = under / "collabgap"
    tree.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        link = tree / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name, target_is_directory=True)
    return under


def test_packages_and_tests_type_check_strictly() -> None:
    pytest.importorskip("mypy", reason="install the test extra to type-check")
    search_path = namespace_tree(ROOT / ".mypy_cache" / "namespace")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--explicit-package-bases",
                           str(search_path / "collabgap"), "tests", "benchmarks"], cwd=ROOT,
                          env={**os.environ, "MYPYPATH": str(search_path)}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
