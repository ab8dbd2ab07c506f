"""A run waits for the referee and agents it names by URL: it may start before them (compose, a Job), and one
that never comes up ends the run at the deadline with a message naming it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabgap.services.coordinator import (
    ConfigError,
    ServiceGroup,
    Store,
    execute_run,
    free_port,
    load_run_file,
    plan_run,
)
from tests._command import COLLABGAP

REFEREE_TOKEN = "readiness-referee-token"
AGENT_TOKEN = "readiness-agent-token"
RUN_FILE = """\
name = "readiness"
runs_dir = "{runs}"

[referee]
url = "{referee}"
token_env = "READINESS_REFEREE_TOKEN"

[agents.cartographer]
url = "{cartographer}"

[agents.follower]
url = "http://127.0.0.1:{follower_port}"
token_env = "READINESS_FOLLOWER_TOKEN"

[mazes]
count = 2
size = 5

[[conditions]]
kind = "pair"
agents = ["cartographer", "follower"]
pairing = "all"
"""
STARTED_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A referee and the cartographer, up before any run starts."""
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("readiness-logs")) as group:
        yield {"referee": group.start_referee(REFEREE_TOKEN),
               "cartographer": group.start_agent("scripted:cartographer")}


def write_run(tmp_path: Path, services: dict[str, str], follower_port: int) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(RUN_FILE.format(runs=tmp_path / "runs", follower_port=follower_port, **services))
    return path


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("READINESS_REFEREE_TOKEN", REFEREE_TOKEN)
    monkeypatch.setenv("READINESS_FOLLOWER_TOKEN", AGENT_TOKEN)
    return dict(os.environ)


def test_a_run_started_before_its_agent_waits_for_it_and_then_plays(
        tmp_path: Path, services: dict[str, str], environ: dict[str, str]) -> None:
    port = free_port()
    path = write_run(tmp_path, services, port)
    run = subprocess.Popen([*COLLABGAP, "run", str(path)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=environ)
    agent = None
    try:
        store = tmp_path / "runs" / "readiness" / "store.db"
        started = time.monotonic() + STARTED_TIMEOUT_S
        while not store.exists() and run.poll() is None and time.monotonic() < started:
            time.sleep(0.05)  # the run has opened its store: it is under way, and its follower is not up
        assert run.poll() is None, run.communicate()[0]
        agent = subprocess.Popen([*COLLABGAP, "agent", "serve", "--player", "scripted:follower",
                                  "--port", str(port)], env={**environ, "COLLABGAP_AGENT_TOKEN": AGENT_TOKEN},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        output, _ = run.communicate(timeout=300)
    finally:
        for process in (run, agent):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
    assert run.returncode == 0, output
    with Store.open(f"sqlite:///{store}") as opened:
        records = opened.episodes("readiness")
    assert {r.spec.episode_id for r in records} == {s.episode_id for s in plan_run(load_run_file(path), path)}
    assert all(record.status != "error" for record in records)


def test_an_agent_that_never_comes_up_ends_the_run_at_the_deadline_naming_it(
        tmp_path: Path, services: dict[str, str], environ: dict[str, str]) -> None:
    port = free_port()
    path = write_run(tmp_path, services, port)
    with pytest.raises(ConfigError) as failed:
        execute_run(load_run_file(path), path, ready_timeout_s=1.5)
    message = str(failed.value)
    assert message.startswith("not ready after 1.5 s: agent follower "
                              f"(http://127.0.0.1:{port}/.well-known/agent-card.json: ConnectError")
    assert "referee" not in message and "cartographer" not in message
    assert "correct its URL in the run file" in message


def test_a_card_that_never_answers_cannot_stretch_the_deadline(
        tmp_path: Path, services: dict[str, str], environ: dict[str, str]) -> None:
    """A listener that takes the connection and never replies: the wait still ends at its deadline."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        path = write_run(tmp_path, services, silent.getsockname()[1])
        with pytest.raises(ConfigError, match=r"^not ready after 1 s: agent follower \(.*: no answer within"):
            execute_run(load_run_file(path), path, ready_timeout_s=1)
