"""The packages type-check (mypy with the pydantic plugin, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_packages_type_check() -> None:
    pytest.importorskip("mypy", reason="install the test extra to type-check")
    done = subprocess.run([sys.executable, "-m", "mypy", "protocol", "referee", "services"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
