"""`collabgap --help` and `--version` import none of the services (issue 11 part 7): they answer at once."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests._command import COLLABGAP

HEAVY = ("a2a", "mcp", "uvicorn", "starlette", "sqlalchemy", "numpy", "pyarrow", "psycopg", "httpx", "matplotlib",
         "ray", "collabgap.referee", "collabgap.services.agent", "collabgap.services.coordinator",
         "collabgap.services.fake_llm")
"""What the commands import inside themselves, never at the top of `collabgap.services._cli`."""

LOADED_AFTER = """
import json, sys
from collabgap.services._cli import main
sys.argv = ["collabgap", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_loaded_by(*args: str) -> tuple[str, set[str]]:
    """Run `collabgap ARGS` in a fresh interpreter; its stdout, and every module it imported."""
    done = subprocess.run([sys.executable, "-c", LOADED_AFTER, *args], capture_output=True, text=True, timeout=60)
    return done.stdout, set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.startswith(tuple(f"{h}." for h in HEAVY)) or name in HEAVY)


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("run", "--help"), ("agent", "serve", "--help")],
                         ids=" ".join)
def test_help_and_version_import_none_of_the_services(args: tuple[str, ...]) -> None:
    out, modules = modules_loaded_by(*args)
    assert out
    assert heavy(modules) == []


def test_the_module_itself_imports_none_of_the_services() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import collabgap.services._cli"],
                          capture_output=True, text=True, timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "collabgap.services._cli" in imported
    assert heavy(imported) == []


def test_version_prints_the_installed_version() -> None:
    done = subprocess.run([*COLLABGAP, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"collabgap {version('collabgap')}\n"
    assert version("collabgap") == "0.1.0"


def test_help_lists_every_command_and_the_version_option() -> None:
    done = subprocess.run([*COLLABGAP, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for word in ("--version", "demo", "run", "report", "play", "check-agent", "referee", "agent", "fake-llm"):
        assert word in done.stdout
