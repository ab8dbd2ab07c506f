"""The code keeps its imports in order and its lines within 120 characters (ruff; settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_imports_are_sorted_and_lines_fit() -> None:
    pytest.importorskip("ruff", reason="install the test extra to check the style")
    folders = ["protocol", "referee", "services", "tests", "benchmarks", "docs/examples"]
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *folders], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
