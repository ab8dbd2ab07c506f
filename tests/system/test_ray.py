"""`collabgap run FILE --ray ADDRESS`: episodes spread over a Ray cluster, each stored exactly once (docs/ray.md).

The cluster is real: a head node without CPUs and worker nodes, each its own `ray start --block` process group.
It lives in a network namespace that the test makes (`_netns.NetnsLab`), and so does the driver: the run, with
the referee and agents it starts, in a child process. Ray swaps a loopback node address for the machine's own
address, so on the machine itself the cluster would talk over that address. The namespace's own address is
Ray's node address instead, and the machine's addresses have no route from the namespace; the test checks that
every socket of the cluster and the driver is on the namespace's address or its loopback.

Needs root and iproute2, like test_netns.py: it skips elsewhere, unless COLLABGAP_NETNS_REQUIRED=1 makes that a
failure. Nodes are torn down by process id and with their namespace (never `ray stop`, which would stop every Ray
on the machine).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="Ray is not installed: `pip install 'collabgap[ray]'` runs these tests")

from collabgap.services.coordinator import Store, load_run_file  # noqa: E402
from collabgap.services.coordinator.runs._run import plan_run  # noqa: E402
from collabgap.services.coordinator.scale._ray_actors import EndpointLimiter, LeaseLostError  # noqa: E402

from ._netns import NetnsLab, child_env, open_lab  # noqa: E402

REPO = Path(__file__).parents[2]
ROLE = "ray"
"""The lab's one host: every node and the driver."""
RAY = [sys.executable, "-m", "ray.scripts.scripts"]
"""The `ray` command of this environment, so the cluster runs the same Python and collabgap as the tests."""
NODE_START_S = 180.0
"""Bound on one `ray start`: Python processes start slowly on a busy two-core machine."""
RUN_TIMEOUT_S = 600.0
POLL_S = 0.5
HEAD_PORT = 6379
FIRST_PORT = 6380
"""Ports of the nodes' other servers, counted up: the namespace is new, so every port in it is free."""
REPORT = "driver-report "
KILL_AT = 1 / 3
"""The share of the plan stored when the victim node is killed."""

DRIVER = f"""
import json, logging, sys
from pathlib import Path
from collabgap.services.coordinator import RunProgress, execute_run, load_run_file
from collabgap.services.coordinator.scale import RayBackend

path, address, kill_at = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
nodes, lost, told = set(), [], []

class Watch(logging.Handler):
    def emit(self, record):
        if hasattr(record, "episode_id"):
            nodes.add(record.node_id)
        if hasattr(record, "lost_player"):
            lost.append(record.lost_player)

logger = logging.getLogger("collabgap.services.coordinator.scale._ray")
logger.setLevel(logging.INFO)
logger.addHandler(Watch())

def report(**fields):
    print({REPORT!r} + json.dumps(fields), flush=True)

def tell_at_kill_at(progress):
    if kill_at and not told and progress.done >= progress.planned * kill_at:
        told.append(progress.done)
        report(kill=progress.done)

outcome = execute_run(load_run_file(path), path, progress=RunProgress(listeners=[tell_at_kill_at]),
                      backend=RayBackend(address))
report(complete=outcome.complete, errors=outcome.errors, played=outcome.played, planned=outcome.planned,
       nodes=sorted(nodes), lost=lost)
"""
"""The driver: `execute_run` on the cluster, in the namespace. It reports (a line `driver-report {{json}}`)
when `kill_at` of the plan is stored, and at the end the outcome, the nodes that stored episodes and the
players it saw lost."""

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

    name: str
    process: subprocess.Popen[bytes]

    def tree(self) -> list[int]:
        """The node's process and every process it started."""
        children, pids, frontier = _children(), [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            frontier.extend(children.get(pid, []))
        return pids

    def kill(self) -> None:
        """SIGKILL the node and every process it started (collected by process id before any dies)."""
        for pid in self.tree():
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
    """A Ray cluster in the lab's one namespace: `address` for `--ray`, nodes to kill."""

    lab: NetnsLab
    temp_dir: Path
    nodes: list[RayNode] = field(default_factory=list)
    ports: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_PORT))

    @property
    def ip(self) -> str:
        """The namespace's address: Ray's node address, and the only one besides loopback that it can use."""
        return self.lab.hosts[ROLE].ip

    @property
    def address(self) -> str:
        return f"{self.ip}:{HEAD_PORT}"

    def start_node(self, *options: str, name: str) -> RayNode:
        """Start a node and wait until it has joined; a busy machine can miss Ray's own 30 s startup deadline,
        so a node that fails to start is killed and started once more."""
        for attempt in (1, 2):
            node = self._launch(options, f"{name}-{attempt}")
            deadline = time.monotonic() + NODE_START_S
            while node.process.poll() is None and time.monotonic() < deadline:
                if "Ray runtime started" in self.lab.log_tail(node.name, chars=100_000):
                    return node
                time.sleep(0.1)
            node.kill()
        raise AssertionError(f"ray node {name} did not start:\n{self.lab.log_tail(node.name)}")

    def _launch(self, options: tuple[str, ...], name: str) -> RayNode:
        flags = ["--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
                 "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port"]
        command = [*RAY, "start", "--block", "--disable-usage-stats", "--node-ip-address", self.ip,
                   "--object-store-memory", "100000000", "--include-log-monitor=false", *options,
                   *(item for flag in flags for item in (flag, str(next(self.ports))))]
        node = RayNode(name, self.lab.spawn(ROLE, name, command, env=child_env(), cwd=REPO))
        self.nodes.append(node)
        return node

    def start_worker(self, name: str, cpus: int = 2) -> RayNode:
        return self.start_node("--address", self.address, "--num-cpus", str(cpus), name=name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A head node with no CPU (so it plays nothing) and two worker nodes with two CPUs each, in a namespace."""
    temp_dir = Path(tempfile.mkdtemp(prefix="cgray", dir="/tmp"))  # Ray's socket paths must stay short
    # Node deaths are noticed within about two seconds, not the default fifteen.
    fast_health = json.dumps({"health_check_period_ms": 500, "health_check_failure_threshold": 3})
    try:
        with open_lab([ROLE], tmp_path_factory.mktemp("ray-logs")) as lab:
            cluster = LocalCluster(lab, temp_dir)
            cluster.start_node("--head", "--port", str(HEAD_PORT), "--num-cpus", "0", "--include-dashboard=false",
                               "--dashboard-port", str(next(cluster.ports)), "--ray-client-server-port",
                               str(next(cluster.ports)), "--temp-dir", str(temp_dir), "--system-config",
                               fast_health, name="head")
            cluster.start_worker("worker-1")
            cluster.start_worker("worker-2")
            yield cluster
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


@dataclass
class Played:
    """What the driver reported, and every address that a socket in the namespace used while it ran."""

    report: dict[str, Any]
    addresses: set[str]


def play(cluster: LocalCluster, path: Path, victim: RayNode | None = None) -> Played:
    """Run the driver in the namespace until it ends; kill `victim` once `KILL_AT` of the plan is stored."""
    name = f"driver-{path.parent.name}"
    process = cluster.lab.spawn(ROLE, name, [sys.executable, "-c", DRIVER, str(path), cluster.address,
                                             str(KILL_AT if victim else 0)], env=child_env(), cwd=REPO)
    addresses: set[str] = set()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while process.poll() is None:
        assert time.monotonic() < deadline, f"the run did not end in {RUN_TIMEOUT_S:g} s:\n" + \
            cluster.lab.log_tail(name)
        addresses |= {host for ends in cluster.lab.connections(ROLE) for host, _ in ends}
        if victim is not None and victim.process.poll() is None and driver_reports(cluster, name):
            victim.kill()
        time.sleep(POLL_S)
    reports = driver_reports(cluster, name)
    assert process.returncode == 0 and reports, cluster.lab.log_tail(name)
    return Played(reports[-1], addresses)


def driver_reports(cluster: LocalCluster, name: str) -> list[dict[str, Any]]:
    log = cluster.lab.log_tail(name, chars=10_000_000)
    return [json.loads(line.removeprefix(REPORT)) for line in log.splitlines() if line.startswith(REPORT)]


def machine_addresses() -> set[str]:
    """This machine's own global addresses (in the namespace the tests started in)."""
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True, timeout=10).stdout
    return {info["local"] for link in json.loads(out) for info in link.get("addr_info", [])
            if info.get("scope") == "global"}


def assert_stayed_in_namespace(cluster: LocalCluster, played: Played) -> None:
    """Every socket was on the namespace's address or loopback, every process of the cluster lives in the
    namespace, and the machine's own addresses are not even routable from it."""
    ip = cluster.ip
    inside = {ip, f"::ffff:{ip}", "127.0.0.1", "::ffff:127.0.0.1", "::1", "0.0.0.0", "::"}
    assert ip in played.addresses  # Ray did use the namespace's address
    assert played.addresses - inside == set()
    assert played.addresses & machine_addresses() == set()
    namespace = os.stat(f"/run/netns/{cluster.lab.hosts[ROLE].netns}").st_ino
    alive = [pid for node in cluster.nodes if node.process.poll() is None for pid in node.tree()]
    assert alive and {netns_of(pid) for pid in alive} - {None} == {namespace}
    assert [address for address in machine_addresses() if cluster.lab.routes_to(ROLE, address)] == []
    print(f"\n{played.report['played']} episodes in namespace {cluster.lab.hosts[ROLE].netns}; socket addresses: "
          f"{sorted(played.addresses)}; machine addresses (no route): {sorted(machine_addresses())}")


def netns_of(pid: int) -> int | None:
    """The network namespace (its inode) of a process; None once it is gone."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except (FileNotFoundError, ProcessLookupError):
        return None


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


def test_episodes_spread_over_both_worker_nodes_and_are_stored_once(cluster: LocalCluster, tmp_path: Path) -> None:
    """Each worker node's players play and store episodes; the driver only schedules (docs/ray.md)."""
    path = run_file(tmp_path, mazes=2)

    played = play(cluster, path)

    outcome = played.report
    assert outcome["complete"] and outcome["errors"] == 0
    assert outcome["played"] == outcome["planned"] == len(stored_once(path))
    assert len(outcome["nodes"]) == 2  # both worker nodes; the head node has no CPU for a player
    assert_stayed_in_namespace(cluster, played)


def test_a_killed_worker_node_loses_no_episode_and_stores_none_twice(cluster: LocalCluster, tmp_path: Path) -> None:
    """A node dies with episodes in flight: they go to the other nodes' players and each is stored once."""
    victim = cluster.start_worker("victim")
    path = run_file(tmp_path, mazes=6)

    played = play(cluster, path, victim=victim)

    outcome = played.report
    assert victim.process.poll() is not None  # killed while the run played
    assert outcome["complete"] and outcome["errors"] == 0
    assert outcome["played"] == outcome["planned"] == len(stored_once(path))
    assert outcome["lost"]  # the driver saw it go
    assert_stayed_in_namespace(cluster, played)


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
