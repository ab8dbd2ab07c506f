"""The Dockerfile, its ignore file, and docs/deploy.md."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from collabgap.services.coordinator import load_run_file

from ._files import (
    DEPLOY,
    DEPLOY_PAGE,
    DOCKERFILE,
    DOCKERIGNORE,
    ENVIRON,
    IMAGE_UID,
    REPO,
    _Ok,
    cli_options,
    dockerfile_instructions,
    instruction,
    option,
)
from ._validators import (
    HADOLINT,
    Validators,
)

# ---- the image ---------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint(tools: Validators) -> None:
    hadolint = tools.executable("hadolint", HADOLINT)
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_installs_the_project_and_runs_collabgap_as_a_non_root_user() -> None:
    assert dockerfile_instructions()[:2] == [("ARG", "BASE_IMAGE=python:3.11-slim"), ("FROM", "${BASE_IMAGE}")]
    assert any("pip install --no-cache-dir \".[postgres]\"" in args for args in instruction("RUN"))
    [user] = instruction("USER")
    assert user.split(":")[0] == str(IMAGE_UID)
    assert any(f"--uid {IMAGE_UID}" in args for args in instruction("RUN"))
    assert [json.loads(args) for args in instruction("ENTRYPOINT")] == [["collabgap"]]
    assert [json.loads(args) for args in instruction("CMD")] == [["--help"]]
    assert [args.split() for args in instruction("EXPOSE")] == [["8760", "8770"]]
    assert instruction("WORKDIR")[-1] == "/app"  # `runs_dir = "runs"` lands in /app/runs, the volume


def test_the_ca_bundle_reaches_only_the_install_step_as_a_build_secret() -> None:
    """pip trusts the `pip-ca` secret when one is given; no file of the build machine is copied into a layer."""
    [install] = [args for args in instruction("RUN") if "pip install" in args]
    assert install.startswith("--mount=type=secret,id=pip-ca ")
    assert "PIP_CERT=/run/secrets/pip-ca" in install
    assert not instruction("ADD")
    assert all("cert" not in args.lower() and "ca-" not in args for args in instruction("COPY"))
    assert not [args for args in instruction("ENV") if "CERT" in args or "CA_BUNDLE" in args]


def test_image_healthcheck_fetches_healthz_on_the_port_its_variable_names(http_ok: int) -> None:
    """The HEALTHCHECK command, run for real: healthy against a live port, unhealthy against a closed one."""
    [healthcheck] = instruction("HEALTHCHECK")
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python" and "/healthz" in command[-1]
    run = [sys.executable, *command[1:]]
    live = subprocess.run(run, env={"COLLABGAP_HEALTHCHECK_PORT": str(http_ok)}, capture_output=True, timeout=30,
                          check=False)
    assert live.returncode == 0, live.stderr
    with ThreadingHTTPServer(("127.0.0.1", 0), _Ok) as closed:
        port = closed.server_address[1]  # closed when the block ends: nothing listens there
    dead = subprocess.run(run, env={"COLLABGAP_HEALTHCHECK_PORT": str(port)}, capture_output=True, timeout=30,
                          check=False)
    assert dead.returncode != 0


def test_dockerignore_lets_in_exactly_what_the_image_copies() -> None:
    """The ignore file admits the files the COPY lines name, and those are all the distribution is built from."""
    lines = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    admitted = {line[1:] for line in lines if line.startswith("!")}
    copied = {source for args in instruction("COPY") for source in args.split()[:-1]}
    assert copied == admitted
    assert all((REPO / source).exists() for source in copied)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["readme"] in copied
    packages = set(project["tool"]["setuptools"]["package-dir"].values())  # the folders collabgap.* installs from
    assert packages | {"pyproject.toml", project["project"]["readme"]} == copied


# ---- the page ----------------------------------------------------------------------------------------------


def page_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DEPLOY_PAGE.read_text(), flags=re.DOTALL)


def page_collabgap_commands() -> list[list[str]]:
    commands = []
    for block in page_blocks("bash"):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("collabgap"):
                commands.append([word for word in words[1:] if word != "&"])
    return commands


def test_deploy_page_commands_use_only_options_the_cli_has() -> None:
    commands = page_collabgap_commands()
    assert {tuple(c[:2]) for c in commands} >= {("referee", "serve"), ("agent", "serve"), ("run", "laptop-run.toml"),
                                                ("report", "runs/laptop")}
    for words in commands:
        path, names = cli_options(words)
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in names, (path, word)


def test_deploy_page_run_files_load(tmp_path: Path) -> None:
    [laptop] = page_blocks("toml")
    path = tmp_path / "laptop-run.toml"
    path.write_text(laptop)
    run = load_run_file(path, environ=ENVIRON)
    ports = {option(c, "--port") for c in page_collabgap_commands() if c[:2] in (["referee", "serve"],
                                                                                 ["agent", "serve"])}
    assert run.referee is not None
    assert {str(urlsplit(str(a.url)).port) for a in run.agents.values()} | {str(run.referee.url.port)} == ports


def test_deploy_page_names_every_deployment_file_and_the_commands_to_run_them() -> None:
    page = DEPLOY_PAGE.read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert path.name in page, path
    assert "docker compose -f deploy/compose.yaml up --build --abort-on-container-exit coordinator" in page
    assert "kubectl apply -k deploy/k8s" in page
    assert "--ray" in page
