"""Podman for tests/deploy/test_containers.py: the programs it needs, and a compose project that a test plays
and then removes, every container, volume and network of it."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ._files import COMPOSE, DEPLOY, DOCKERFILE, REPO, SECRET_VARIABLE

CONTAINERS_CONF = DEPLOY / "podman" / "containers.conf"
BASE_SCRIPT = DEPLOY / "podman" / "build-base-image.sh"
BASE_IMAGE = "localhost/python:3.11-slim"
TEST_IMAGE = "localhost/collabgap:ci"
PROGRAMS = ("podman", "runc", "podman-compose", "debootstrap")
REQUIRED_ENV = "COLLABGAP_CONTAINERS_REQUIRED"
BUILD_TIMEOUT_S = 900
PLAY_TIMEOUT_S = 600


def require_podman() -> None:
    """Skip the test where containers cannot run here, unless CI demands them (then fail)."""
    missing = [program for program in PROGRAMS if shutil.which(program) is None]
    problem = (f"missing {', '.join(missing)} (apt-get install {' '.join(missing)})" if missing
               else None if os.geteuid() == 0 else "needs root (debootstrap builds the base image; runc runs rootful)")
    if problem is None:
        return
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"containers cannot run here, and {REQUIRED_ENV}=1 demands them: {problem}")
    pytest.skip(f"containers cannot run here: {problem}; set {REQUIRED_ENV}=1 to fail instead")


def podman_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the project's podman settings (runc, no default ulimits)."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF), **(extra or {})}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, env=podman_environ(),
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def build_base_image() -> str:
    """The debootstrap base, built once per machine (the script reuses what podman stores); returns its tag."""
    result = subprocess.run([str(BASE_SCRIPT), BASE_IMAGE], capture_output=True, text=True, env=podman_environ(),
                            timeout=BUILD_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return BASE_IMAGE


def build_image(base: str) -> str:
    """deploy/Dockerfile on `base`, the machine's CA bundle handed in as the build secret; returns the tag.

    The image it replaces is removed, so repeated runs leave no untagged images behind.
    """
    before = podman("image", "inspect", "--format", "{{.Id}}", TEST_IMAGE, check=False).stdout.strip()
    secret = []
    if (bundle := ssl.get_default_verify_paths().cafile) is not None:
        secret = ["--secret", f"id=pip-ca,src={bundle}"]
    podman("build", "--format", "docker", "--build-arg", f"BASE_IMAGE={base}", *secret, "-f", str(DOCKERFILE),
           "-t", TEST_IMAGE, str(REPO), timeout=BUILD_TIMEOUT_S)
    after = podman("image", "inspect", "--format", "{{.Id}}", TEST_IMAGE).stdout.strip()
    if before and before != after:
        podman("rmi", before, check=False)
    return TEST_IMAGE


@dataclass
class ComposeProject:
    """deploy/compose.yaml brought up under podman-compose as project `name`, with `environ` for its variables."""

    name: str
    environ: dict[str, str]

    def compose(self, *args: str, timeout: float = 300) -> None:
        command = ["podman-compose", "-p", self.name, "-f", str(COMPOSE), *args]
        result = subprocess.run(command, capture_output=True, text=True, env=podman_environ(self.environ),
                                timeout=timeout, check=False)
        assert result.returncode == 0, self._masked(f"podman-compose {args[0]} failed:\n{result.stdout[-3000:]}"
                                                    f"{result.stderr[-3000:]}")

    def _masked(self, text: str) -> str:
        """podman-compose echoes podman's command lines, `-e NAME=token` included: never show a token."""
        for name, value in self.environ.items():
            if SECRET_VARIABLE.search(name):
                text = text.replace(value, "***")
        return text

    def container(self, service: str) -> str:
        return f"{self.name}_{service}_1"

    def wait(self, service: str) -> int:
        """The exit status of the service's container, once it has exited."""
        return int(podman("wait", self.container(service), timeout=PLAY_TIMEOUT_S).stdout.strip())

    def inspect(self, service: str) -> dict[str, Any]:
        [found] = json.loads(podman("inspect", self.container(service)).stdout)
        assert isinstance(found, dict)
        return found

    def volume(self, name: str) -> Path:
        return Path(podman("volume", "inspect", "--format", "{{.Mountpoint}}", f"{self.name}_{name}").stdout.strip())

    def remove(self) -> None:
        """Every container, volume and network labelled with this project (whatever `up` got to make)."""
        label = f"label=io.podman.compose.project={self.name}"
        containers = podman("ps", "--all", "--quiet", "--filter", label, check=False).stdout.split()
        if containers:
            podman("rm", "--force", "--time", "2", *containers, check=False)
        volumes = podman("volume", "ls", "--quiet", "--filter", label, check=False).stdout.split()
        if volumes:
            podman("volume", "rm", "--force", *volumes, check=False)
        networks = podman("network", "ls", "--quiet", "--filter", label, check=False).stdout.split()
        if networks:
            podman("network", "rm", "--force", *networks, check=False)
