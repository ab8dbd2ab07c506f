"""`collabgap run FILE --ray ADDRESS`: episodes spread over a Ray cluster, each stored exactly once (docs/ray.md).

The cluster is real: a head node without CPUs and worker nodes, each its own `ray start --block` process group
on this machine, torn down by process id (never `ray stop`, which would stop every Ray on the machine).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed: `pip install 'collabgap[ray]'` runs these tests")

from services.coordinator import RunProgress, Store, execute_run, free_port, load_run_file  # noqa: E402
from services.coordinator._ray import EndpointLimiter, LeaseLostError  # noqa: E402
from services.coordinator._run import plan_run  # noqa: E402

RAY = [sys.executable, "-m", "ray.scripts.scripts"]
"""The `ray` command of this environment, so the cluster runs the same Python and collabgap as the tests."""
RAY_LOGGER = "services.coordinator._ray"
NODE_START_S = 180.0
"""Bound on one `ray start`: Python processes start slowly on a busy two-core machine."""

RUN_FILE = """\
name = "ray-run"
runs_dir = "{runs}"
retries = 2

[agents.cartographer]
player = "scripted:cartographer"

[agents.follower]
player = "scripted:follower"

[mazes]
count = {mazes}
size = 6
seed = 100

[[conditions]]
kind = "solo-full"
agents = ["cartographer", "follower"]

[[conditions]]
kind = "pair"
agents = ["cartographer", "follower"]
pairing = "all"

[[conditions]]
kind = "relay"
relay = "primer"
strong = "cartographer"
weak = ["follower"]
k = [2, 4]

[limits]
turn_timeout_s = 30

[concurrency]
games = 8
per_agent = 6
"""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


@dataclass
class RayNode:
    """One `ray start --block`: its process group holds the raylet; Ray's workers are its descendants."""

    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the node and every process it started (collected by process id before any dies)."""
        tree, pids, frontier = _children(), [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            frontier.extend(tree.get(pid, []))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:  # what a `ray start` that failed left behind, reparented but still in its process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@dataclass
class LocalCluster:
    """A Ray cluster on this machine: `address` for `--ray`, nodes to kill."""

    address: str
    temp_dir: Path
    nodes: list[RayNode] = field(default_factory=list)

    def start_node(self, *options: str, name: str) -> RayNode:
        """Start a node and wait until it has joined; a busy machine can miss Ray's own 30 s startup deadline,
        so a node that fails to start is killed and started once more."""
        for attempt in (1, 2):
            node = self._launch(options, self.temp_dir / f"{name}-{attempt}.log")
            started = threading.Event()
            for _ in range(int(NODE_START_S / 0.1)):
                if b"Ray runtime started" in node.log.read_bytes() or node.process.poll() is not None:
                    started.set()
                    break
                started.wait(0.1)
            if node.process.poll() is None and started.is_set():
                return node
            node.kill()
        raise AssertionError(f"ray node {name} did not start:\n{node.log.read_text()}")

    def _launch(self, options: tuple[str, ...], log: Path) -> RayNode:
        flags = ["--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
                 "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port"]
        command = [*RAY, "start", "--block", "--disable-usage-stats", "--node-ip-address", "127.0.0.1",
                   "--object-store-memory", "100000000", "--include-log-monitor=false", *options,
                   *(item for flag in flags for item in (flag, str(free_port())))]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        node = RayNode(process, log)
        self.nodes.append(node)
        return node

    def start_worker(self, name: str, cpus: int = 2) -> RayNode:
        return self.start_node("--address", self.address, "--num-cpus", str(cpus), name=name)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A head node with no CPU (so it plays nothing) and two worker nodes with two CPUs each."""
    temp_dir = Path(tempfile.mkdtemp(prefix="cgray", dir="/tmp"))  # Ray's socket paths must stay short
    port = free_port()
    cluster = LocalCluster(address=f"127.0.0.1:{port}", temp_dir=temp_dir)
    # Node deaths are noticed within about two seconds, not the default fifteen.
    fast_health = json.dumps({"health_check_period_ms": 500, "health_check_failure_threshold": 3})
    try:
        cluster.start_node("--head", "--port", str(port), "--num-cpus", "0", "--include-dashboard=false",
                           "--dashboard-port", str(free_port()), "--ray-client-server-port", str(free_port()),
                           "--temp-dir", str(temp_dir), "--system-config", fast_health, name="head")
        cluster.start_worker("worker-1")
        cluster.start_worker("worker-2")
        yield cluster
    finally:
        for node in reversed(cluster.nodes):
            node.kill()
        shutil.rmtree(temp_dir, ignore_errors=True)


def run_file(tmp_path: Path, mazes: int) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(RUN_FILE.format(runs=tmp_path / "runs", mazes=mazes))
    return path


def stored_once(path: Path) -> list[str]:
    """The stored episode ids, after checking that they are exactly the plan's, each once and none an error."""
    run = load_run_file(path)
    plan = sorted(spec.episode_id for spec in plan_run(run, path))
    with Store.open(f"sqlite:///{run.runs_dir / run.name / 'store.db'}") as store:
        records = store.episodes(run.name)
    ids = sorted(record.spec.episode_id for record in records)
    assert ids == plan  # none lost, none twice
    assert [record.spec.episode_id for record in records if record.status == "error"] == []
    return ids


def test_episodes_spread_over_both_worker_nodes_and_are_stored_once(
        cluster: LocalCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each worker node's players play and store episodes; the driver only schedules (docs/ray.md)."""
    caplog.set_level(logging.INFO, logger=RAY_LOGGER)
    path = run_file(tmp_path, mazes=2)

    outcome = execute_run(load_run_file(path), path, ray_address=cluster.address)

    assert outcome.complete and outcome.errors == 0
    assert outcome.played == outcome.planned == len(stored_once(path))
    nodes = {getattr(record, "node_id") for record in caplog.records if hasattr(record, "episode_id")}
    assert len(nodes) == 2  # both worker nodes; the head node has no CPU for a player


def test_a_killed_worker_node_loses_no_episode_and_stores_none_twice(
        cluster: LocalCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A node dies with episodes in flight: they go to the other nodes' players and each is stored once."""
    caplog.set_level(logging.INFO, logger=RAY_LOGGER)
    victim = cluster.start_worker("victim")
    path = run_file(tmp_path, mazes=6)
    killed = threading.Event()

    def kill_a_third_in(progress: RunProgress) -> None:
        if not killed.is_set() and progress.done >= progress.planned // 3:
            killed.set()
            victim.kill()

    progress = RunProgress(listeners=[kill_a_third_in])
    outcome = execute_run(load_run_file(path), path, progress=progress, ray_address=cluster.address)

    assert killed.is_set()
    assert outcome.complete and outcome.errors == 0
    assert outcome.played == outcome.planned == len(stored_once(path))
    assert [record for record in caplog.records if hasattr(record, "lost_player")]  # the driver saw it go


async def test_limiter_holds_each_agent_to_its_limit_and_frees_a_lost_holders_slots() -> None:
    """Leases: one game slot, then each agent URL in sorted order; a lost player's leases are released."""
    limiter = EndpointLimiter()
    await limiter.configure(games=3, per_agent=1, agents={"http://a": 1}, ttl_s=60)
    first = await limiter.acquire("player-1", ["http://b", "http://a"])
    assert limiter.usage() == {"*games*": 1, "http://a": 1, "http://b": 1}

    waiting = asyncio.ensure_future(limiter.acquire("player-2", ["http://a"]))
    lost = asyncio.ensure_future(limiter.acquire("player-3", ["http://a"]))
    await asyncio.sleep(0)  # one turn of the loop: both reach their wait
    assert not waiting.done() and not lost.done()

    assert limiter.release_holder("player-3") == 1
    with pytest.raises(LeaseLostError):
        await asyncio.wait_for(lost, 5)
    limiter.release(first)
    second = await asyncio.wait_for(waiting, 5)
    assert limiter.usage() == {"*games*": 1, "http://a": 1}
    limiter.release(second)
    assert limiter.usage() == {}


async def test_limiter_lease_expires_when_its_holder_stops_renewing() -> None:
    """A player that dies without releasing cannot keep an agent's slot past the lease lifetime."""
    limiter = EndpointLimiter()
    await limiter.configure(games=2, per_agent=1, agents={}, ttl_s=0.05)
    await limiter.acquire("dead-player", ["http://a"])  # never renewed, never released

    lease = await asyncio.wait_for(limiter.acquire("player-2", ["http://a"]), 5)

    assert limiter.usage() == {"*games*": 1, "http://a": 1}
    limiter.release(lease)
