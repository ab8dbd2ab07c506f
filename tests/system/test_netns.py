"""A run across four hosts: referee, two agents and the coordinator, each in its own network namespace.

The four namespaces share only a bridge (in a fifth, "switch" namespace), so every byte between services
crosses a veth: the referee and the agents bind to their namespace's address alone (a loopback connection
to them is refused), the coordinator's namespace serves nothing, and the loopback interfaces carry not a
single packet while the run plays — the coordinator's never does at all.

Needs root and iproute2; it skips where namespaces cannot be made (an unprivileged container), unless
COLLABGAP_NETNS_REQUIRED=1 makes that a failure (for CI machines that must run it).
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from collabgap.services.coordinator import Store, load_run_file
from collabgap.services.coordinator.runs._run import plan_run
from tests._command import COLLABGAP

from ._netns import NetnsLab, child_env, open_lab

REPO = Path(__file__).parents[2]
ROLES = ("referee", "agent-a", "agent-b", "coordinator")
REFEREE_PORT = 8760
AGENT_PORT = 8770
TOKEN_ENV = "COLLABGAP_REFEREE_TOKEN"
READY_TIMEOUT_S = 90.0  # three services import a2a-sdk and mcp at once; slow on a busy 2-core runner
SETTLE_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 180.0
RUN_NAME = "netns-four-hosts"
MAZES = 3

PROBE = r"""
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
health, cards = {}, {}
for base in sys.argv[1:]:
    try:
        with opener.open(base + "/healthz", timeout=1.0) as response:
            health[base] = response.status
    except Exception as exc:
        health[base] = f"{type(exc).__name__}: {exc}"
for base in sys.argv[2:]:
    if health[base] == 200:
        with opener.open(base + "/.well-known/agent-card.json", timeout=2.0) as response:
            cards[base] = json.load(response)
print(json.dumps({"health": health, "cards": cards}))
"""
"""Run in the coordinator's namespace: /healthz of every URL, and the agent card of every URL but the first."""

REFUSED = r"""
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2.0).close()
except ConnectionRefusedError:
    print("refused")
else:
    print("accepted")
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[NetnsLab]:
    logs = tmp_path / "logs"
    logs.mkdir()
    with open_lab(ROLES, logs) as lab:
        yield lab


def _serve(lab: NetnsLab, role: str, kind: str, port: int, *options: str, env: dict[str, str]) -> str:
    ip = lab.hosts[role].ip
    url = f"http://{ip}:{port}"
    lab.spawn(role, role, [*COLLABGAP, kind, "serve", *options, "--host", ip,
                           "--port", str(port), "--public-url", url], env=env, cwd=REPO)
    return url


def _wait_ready(lab: NetnsLab, referee: str, agents: list[str]) -> dict[str, Any]:
    """Probe from the coordinator's namespace until every service answers; the agents' cards."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if dead := lab.dead():
            pytest.fail("a service died while starting:\n" + "\n".join(dead))
        probe = lab.run("coordinator", [sys.executable, "-c", PROBE, referee, *agents], env=child_env(),
                        timeout=PROBE_TIMEOUT_S)
        assert probe.returncode == 0, probe.stderr
        last = json.loads(probe.stdout)
        if all(status == 200 for status in last["health"].values()):
            cards: dict[str, Any] = last["cards"]
            return cards
        time.sleep(0.5)
    logs = "\n".join(f"--- {role}:\n{lab.log_tail(role)}" for role in ROLES[:3])
    pytest.fail(f"services not ready from the coordinator's namespace within {READY_TIMEOUT_S:g} s: "
                f"{last.get('health')}\n{logs}")


def _settled_lo(lab: NetnsLab) -> dict[str, tuple[int, int]]:
    """Loopback packet counters of every host, once they stop moving (the services' self-checks of their
    public URL go over their own loopback while they start)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    before = None
    while time.monotonic() < deadline:
        now = {role: (c.rx_packets, c.tx_packets) for role in ROLES for c in [lab.lo_counters(role)]}
        if now == before:
            return now
        before = now
        time.sleep(0.5)
    pytest.fail(f"loopback traffic did not settle within {SETTLE_TIMEOUT_S:g} s: {before}")


def _urls(value: object) -> list[str]:
    """Every http(s) URL anywhere in a JSON value."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in _urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in _urls(item)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) else []


def _run_file(tmp_path: Path, referee: str, cartographer: str, follower: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(f"""
name = "{RUN_NAME}"
runs_dir = "{tmp_path / 'runs'}"
retries = 0  # an infrastructure error must show, not be retried away

[referee]
url = "{referee}/mcp"
token_env = "{TOKEN_ENV}"

[agents.cartographer]
url = "{cartographer}"

[agents.follower]
url = "{follower}"

[mazes]
count = {MAZES}
size = 6
seed = 40

[[conditions]]
kind = "solo-full"
agents = ["cartographer"]

[[conditions]]
kind = "pair"
agents = ["cartographer", "follower"]
pairing = "explicit"
pairs = [["cartographer", "follower"]]

[limits]
turn_timeout_s = 20
game_timeout_s = 120

[concurrency]
games = 4
per_agent = 4
""")
    return path


def test_a_run_across_four_namespaces_never_touches_loopback(lab: NetnsLab, tmp_path: Path) -> None:
    begun = time.monotonic()
    token = secrets.token_urlsafe(24)
    service_env = child_env(**{TOKEN_ENV: token})
    referee = _serve(lab, "referee", "referee", REFEREE_PORT, env=service_env)
    cartographer = _serve(lab, "agent-a", "agent", AGENT_PORT, "--player", "scripted:cartographer",
                          env=child_env())
    follower = _serve(lab, "agent-b", "agent", AGENT_PORT, "--player", "scripted:follower", env=child_env())
    agent_urls = {"agent-a": cartographer, "agent-b": follower}

    cards = _wait_ready(lab, referee, list(agent_urls.values()))
    ready_s = time.monotonic() - begun

    # Each agent's card sends callers to its own namespace address, never to loopback.
    for role, url in agent_urls.items():
        advertised = _urls(cards[url])
        assert advertised, f"the card of {url} names no URL: {cards[url]}"
        assert {urlsplit(u).hostname for u in advertised} == {lab.hosts[role].ip}, advertised

    # Each service listens on its namespace address alone: loopback connections to it are refused.
    for role, port in (("referee", REFEREE_PORT), ("agent-a", AGENT_PORT), ("agent-b", AGENT_PORT)):
        assert lab.listening(role) == [(lab.hosts[role].ip, port)], lab.listening(role)
        refused = lab.run(role, [sys.executable, "-c", REFUSED, str(port)], env=child_env(), timeout=PROBE_TIMEOUT_S)
        assert refused.stdout.strip() == "refused", refused.stdout + refused.stderr
    assert lab.listening("coordinator") == []

    path = _run_file(tmp_path, referee, cartographer, follower)
    plan = sorted(spec.episode_id for spec in plan_run(load_run_file(path, environ={TOKEN_ENV: token}), path))
    assert len(plan) == 2 * MAZES

    lo_before = _settled_lo(lab)
    assert lo_before["coordinator"] == (0, 0)
    started = time.monotonic()
    run = lab.run("coordinator", [*COLLABGAP, "run", str(path)],
                  env=child_env(**{TOKEN_ENV: token}), timeout=RUN_TIMEOUT_S, cwd=REPO)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n" + "\n".join(lab.dead())
    summary = rf"\b{len(plan)} planned,.*\b{len(plan)} played now,\s+0 errors\b"
    assert re.search(summary, run.stdout, re.S), run.stdout
    assert not lab.dead(), lab.dead()

    # Nothing crossed any loopback interface while the run played; the coordinator's carried nothing ever.
    assert _settled_lo(lab) == lo_before
    assert lab.lo_counters("coordinator").rx_packets == 0
    assert lab.listening("coordinator") == []

    database = tmp_path / "runs" / RUN_NAME / "store.db"
    with Store.open(f"sqlite:///{database}") as store:
        records = store.episodes(RUN_NAME)
    assert sorted(record.spec.episode_id for record in records) == plan
    assert [r.spec.episode_id for r in records if r.status == "error" or r.error is not None] == []
    assert all(record.score is not None and record.game_id for record in records)
    assert {record.spec.condition for record in records} == {"solo-full", "pair"}
    for record in records:
        seats = [record.spec.seat_a, *([record.spec.seat_b] if record.spec.seat_b else [])]
        assert {seat.url for seat in seats} <= set(agent_urls.values())
        assert set(record.agents) == {seat.url for seat in seats}  # cards read over the bridge, per episode
    print(f"\nnamespaces {lab.prefix}-*: services ready in {ready_s:.1f} s; `collabgap run` of {len(plan)} "
          f"episodes took {elapsed:.1f} s; loopback packets while it ran: 0 "
          f"(rx/tx before, from the services' self-checks and the refused probes: {lo_before})")
