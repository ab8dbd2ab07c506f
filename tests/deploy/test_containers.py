"""deploy/Dockerfile built and deploy/compose.yaml played for real: podman with runc, podman-compose, every
service in its own container on the project's podman network, on a base image made here with debootstrap.

Skips where podman cannot run (see `require_podman`); CI sets COLLABGAP_CONTAINERS_REQUIRED=1, so there it fails
instead. The base image is built once per machine; the project image, compose run and cleanup take a few minutes.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collabgap.services.coordinator import EpisodeRecord, load_records, load_run_file, plan_run

from ._files import AGENT_TOKENS, DEPLOY, IMAGE_UID, REFEREE_TOKEN_ENV, compose_mount, compose_services
from ._podman import ComposeProject, build_base_image, build_image, podman, require_podman

RUN_FILE = DEPLOY / compose_mount(compose_services()["coordinator"], "/config/run.toml")[0]
SERVICES = ("referee", "cartographer", "follower", "fake-llm", "llm-agent")
"""The long-running services; the coordinator is the job that plays the run and exits."""
TOKENS = (REFEREE_TOKEN_ENV, *AGENT_TOKENS.values())


@dataclass
class Played:
    """A compose project after its coordinator exited; its services still run."""

    project: ComposeProject
    exit_status: int
    records: list[EpisodeRecord]
    planned: set[str]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    require_podman()
    image = build_image(build_base_image())
    tokens = {name: secrets.token_urlsafe(24) for name in TOKENS}
    project = ComposeProject(f"collabgap-test-{secrets.token_hex(4)}", {**tokens, "COLLABGAP_IMAGE": image})
    try:
        project.compose("up", "--detach", "--no-build")
        status = project.wait("coordinator")
        run_dir = tmp_path_factory.mktemp("volume") / "compose-benchmark"
        run = load_run_file(RUN_FILE, environ=tokens)
        shutil.copytree(project.volume("runs") / run.name, run_dir)
        planned = {spec.episode_id for spec in plan_run(run, RUN_FILE)}
        yield Played(project, status, load_records(run_dir), planned)
    finally:
        project.remove()


def test_compose_stores_every_planned_episode_in_the_runs_volume(played: Played) -> None:
    logs = podman("logs", played.project.container("coordinator"), check=False)
    assert played.exit_status == 0, logs.stdout[-3000:] + logs.stderr[-3000:]
    assert {record.spec.episode_id for record in played.records} == played.planned
    assert len(played.records) == len(played.planned) > 0
    assert all(record.status != "error" for record in played.records)
    assert {record.spec.seat_a.name for record in played.records} >= {"cartographer", "follower", "llm"}


def test_every_service_runs_in_its_own_runc_container_on_the_project_network(played: Played) -> None:
    network = f"{played.project.name}_default"
    ids = set()
    for service in (*SERVICES, "coordinator"):
        container = played.project.inspect(service)
        ids.add(container["Id"])
        assert container["OCIRuntime"] == "runc", service
        assert set(container["NetworkSettings"]["Networks"]) == {network}, service
    assert len(ids) == len(SERVICES) + 1


def test_containers_run_as_the_image_user_with_a_read_only_root(played: Played) -> None:
    for service in (*SERVICES, "coordinator"):
        container = played.project.inspect(service)
        assert container["HostConfig"]["ReadonlyRootfs"] is True, service
        assert container["Config"]["User"].split(":")[0] == str(IMAGE_UID), service
    for service in SERVICES:
        pid = played.project.inspect(service)["State"]["Pid"]
        status = Path(f"/proc/{pid}/status").read_text()
        [uids] = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
        assert set(uids) == {str(IMAGE_UID)}, service  # real, effective, saved and filesystem uid
        write = podman("exec", played.project.container(service), "python", "-c", "open('/probe', 'w')",
                       check=False)
        assert write.returncode != 0 and "Read-only file system" in write.stderr, service
    stored = played.project.volume("runs")
    assert {path.stat().st_uid for path in stored.rglob("*")} == {IMAGE_UID}


def test_every_agent_refuses_a_request_without_its_token(played: Played) -> None:
    """From inside the project network: the card is public, the A2A endpoint answers 401 without the token."""
    probe = ("import sys, urllib.error, urllib.request\n"
             "base = sys.argv[1]\n"
             "urllib.request.urlopen(base + '/.well-known/agent-card.json', timeout=10).close()\n"
             "request = urllib.request.Request(base + '/a2a/jsonrpc/', data=b'{}', method='POST',\n"
             "                                 headers={'Content-Type': 'application/json'})\n"
             "try:\n"
             "    urllib.request.urlopen(request, timeout=10)\n"
             "except urllib.error.HTTPError as exc:\n"
             "    print(exc.code)\n")
    for agent in AGENT_TOKENS:
        answer = podman("exec", played.project.container("fake-llm"), "python", "-c", probe, f"http://{agent}:8770")
        assert answer.stdout.strip() == "401", agent
