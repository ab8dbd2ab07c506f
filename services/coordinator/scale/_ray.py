"""`collabgap run FILE --ray ADDRESS`: a run's episodes, played by a pool of Ray actors across a cluster.

    driver (collabgap run)             worker nodes                            head node
    ──────────────────────             ─────────────────────────────────       ─────────────────────────
    keeps `concurrency.games`    ───►  EpisodePlayer, one per CPU: its own     EndpointLimiter, named
    episodes in flight, checks         referee and agent connections and       per run: leases for a
    the budget before each      ◄───   store; plays several episodes at once   game slot and each agent
    one, counts what comes back        and saves each record itself            URL, which expire unless
                                                                               their holder renews them

The driver is the run's runner (`runs.Runner`): before it sends an episode to a player it checks the budget and
claims the episode in the store. It never writes an episode: each player plays it with the run's
`EpisodeEngine` (the attempts, the save, one transaction per episode) and sends the record back so the driver can
count progress and spend the budget. Ctrl-C or SIGTERM kills the players, episodes in flight unsaved. Failures:

- A player that dies (its process, or its whole node) fails its calls with `RayActorError`. The driver kills
  it for good, frees its leases, starts a replacement where the cluster has room, and gives each unfinished
  episode to another player. That player first asks the store whether the lost one had saved it already.
- A save that fails is retried by the player; a save that committed before the connection broke is absorbed
  by the store's UNIQUE episode id, so a retried episode is never stored twice. A player that still cannot
  save raises `StoreError`, and the episode goes to another player.
- An episode that fails on `RESUBMISSIONS + 1` players stops the run; a rerun resumes it.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
except ImportError:  # Ray is optional (`collabgap[ray]`): play_plan_on_ray says how to install it
    ray = None  # type: ignore[assignment]

from .._errors import ConfigError, CoordinatorError, InfrastructureError, StoreError
from .._records import EpisodeSpec
from ..game._episode import MessageListener, episode_agents
from ..runs._engine import EngineSettings
from ..runs._runfile import RunFile
from ..runs._runner import Runner, agent_limit
from ..runs._store import Store
from ._ray_actors import (
    _CLOSE_TIMEOUT_S,
    _CONNECT_TIMEOUT_S,
    _POLL_S,
    _SPAWNS_PER_PLAYER,
    _TOP_UP_EVERY_S,
    _WARM_UP_S,
    NAMESPACE,
    RESUBMISSIONS,
    START_TIMEOUT_S,
    EndpointLimiter,
    EpisodePlayer,
    LeaseLostError,
    PlayedEpisode,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RayBackend:
    """The run's episodes on the Ray cluster at `address` (`execute_run(..., backend=RayBackend(address))`).

    The store is the run's own, reached by each player from `settings.store_url`; `on_message` is heard only on
    the local backend.
    """

    address: str

    def play(self, run: RunFile, runner: Runner, settings: EngineSettings, store: Store,
             on_message: MessageListener | None) -> None:
        play_plan_on_ray(run, runner, settings, self.address)


def play_plan_on_ray(run: RunFile, runner: Runner, settings: EngineSettings, ray_address: str) -> None:
    """The Ray backend: play `runner.todo` on the Ray cluster at `ray_address`, as `LocalBackend` does here.

    Connects to the cluster unless this process already did (`ray.init`), and disconnects afterwards if it
    connected. Workers import collabgap themselves: on this machine from the same environment, elsewhere from
    their image or a runtime environment (docs/ray.md).

    Raises:
        ConfigError: the cluster cannot be reached, or its workers on other machines could not reach the
            referee, an agent or the store.
        StoreError: an episode could not be saved by any of the players it was given to.
        CoordinatorError: no player could start, or an episode's players kept dying.
    """
    if ray is None:
        raise ConfigError("--ray needs Ray, which is not installed here: pip install 'collabgap[ray]'")
    todo = runner.todo
    if not todo:
        return
    owns_connection = not ray.is_initialized()
    if owns_connection:
        _probe(ray_address)
        try:
            ray.init(address=ray_address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError) as exc:
            raise ConfigError(f"cannot join the Ray cluster at {ray_address}: {exc}") from exc
        runner.signals.reclaim()
    try:
        urls = sorted({agent.url for spec in todo for agent in episode_agents(spec)})
        _check_reachable(settings.store_url, [settings.referee_url, *urls])
        limiter = ray.remote(EndpointLimiter).options(
            name=f"collabgap-limits-{settings.run_id}", get_if_exists=True, num_cpus=0, max_restarts=-1,
            max_task_retries=-1, max_concurrency=max(1000, 4 * run.concurrency.games),
            resources={"node:__internal_head__": 0.001}).remote()
        limits = {url: agent_limit(run, url, todo) for url in urls}
        try:
            configured = limiter.configure.remote(  # type: ignore[attr-defined]
                run.concurrency.games, run.concurrency.per_agent, limits, run.limits.game_timeout_s)
            ray.get(configured, timeout=START_TIMEOUT_S)
        except GetTimeoutError as exc:
            raise CoordinatorError(f"the run's limiter did not start on the Ray head node within "
                                   f"{START_TIMEOUT_S:g} s (`ray status`)") from exc
        _Scheduler(run, runner, settings, limiter).run()
    finally:
        if owns_connection:
            ray.shutdown()


def _probe(address: str) -> None:
    """Fail fast when nothing listens at `host:port`: `ray.init` would retry for many minutes."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # `auto`, `local` and other forms Ray resolves itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(f"nothing answers at the Ray address {address} ({exc}): start the cluster "
                          "(`ray start --head`) or correct --ray") from exc


def _check_reachable(store_url: str, urls: list[str]) -> None:
    """Refuse loopback URLs and a SQLite file when some of the cluster's workers run on other machines."""
    here = ray.util.get_node_ip_address()
    elsewhere = sorted({node["NodeManagerAddress"] for node in ray.nodes()
                        if node["Alive"] and node["Resources"].get("CPU")} - {here})
    elsewhere = [address for address in elsewhere if not _is_loopback(address)]
    if not elsewhere:
        return
    local = [url for url in urls if _is_loopback(urlsplit(url).hostname or "")]
    if local:
        raise ConfigError(f"the Ray cluster has workers on other machines ({', '.join(elsewhere)}), which cannot "
                          f"reach {', '.join(local)}: run the referee and agents where the workers can reach them "
                          "and name them in the run file ([referee] url, agents.*.url)")
    if store_url.startswith("sqlite"):
        raise ConfigError(f"the Ray cluster has workers on other machines ({', '.join(elsewhere)}), which cannot "
                          "write this machine's SQLite store: set `store = \"postgresql://…\"` in the run file")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(eq=False)
class _Player:
    name: str
    actor: Any
    ready: bool = False
    node_id: str = ""
    running: int = 0


@dataclass(eq=False)
class _Job:
    spec: EpisodeSpec
    submissions: int = 0


class _Scheduler:
    """The driver's loop: a window of `concurrency.games` episodes over the ready players, least busy first."""

    def __init__(self, run: RunFile, runner: Runner, settings: EngineSettings, limiter: Any) -> None:
        self._games = run.concurrency.games
        self._pending = deque(_Job(spec) for spec in runner.todo)
        self._runner = runner
        self._settings = settings
        self._limiter = limiter
        self._tag = uuid.uuid4().hex[:6]
        self._player_class = ray.remote(EpisodePlayer)
        self._players: list[_Player] = []
        self._starting: dict[Any, _Player] = {}
        self._running: dict[Any, tuple[_Job, _Player]] = {}
        self._counted: set[str] = set()
        self._stop: str | None = None
        self._spawned = 0
        self._topped_up = 0.0
        self._first_ready: float | None = None
        self._warm = False
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self._target = max(1, min(self._games, cpus))  # with no CPU yet, one pending player asks the autoscaler

    def run(self) -> None:
        for _ in range(self._target):
            self._spawn()
        self._topped_up = time.monotonic()
        finished = False
        try:
            with self._runner.signals.watch(lambda: None):  # the loop sees `interrupted` within one poll
                self._loop()
            finished = not self._runner.interrupted
        finally:
            self._let_go(graceful=finished)

    def _loop(self) -> None:
        waiting_since = time.monotonic()
        while not self._runner.interrupted:
            self._top_up()
            self._submit()
            if not self._running and (not self._pending or self._stop is not None):
                return
            refs = [*self._running, *self._starting]
            if refs:
                done, rest = ray.wait(refs, num_returns=1, timeout=_POLL_S)
                if done and rest:  # take everything else that is ready too
                    done += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            else:  # every player was lost: wait for room to start another (a replaced node, say)
                done = []
                time.sleep(_POLL_S)
            for ref in done:
                if ref in self._starting:
                    self._started(ref)
                else:
                    self._finished(ref)
            if self._running or any(player.ready for player in self._players):
                waiting_since = time.monotonic()
            elif time.monotonic() - waiting_since > START_TIMEOUT_S:
                raise CoordinatorError(f"no Ray player was ready for {START_TIMEOUT_S:g} s: does the cluster have a "
                                       "worker node with a free CPU (`ray status`)? Run again to resume")

    def _submit(self) -> None:
        if self._warming_up():
            return
        # Each player takes its share of the window, so a player that starts first does not take all of it.
        share = math.ceil(self._games / max(1, len(self._players)))
        while self._pending and self._stop is None and len(self._running) < self._games:
            ready = [p for p in self._players if p.ready and p.running < share]
            player = min(ready, key=lambda p: p.running, default=None)
            if player is None:
                return
            job = self._pending.popleft()
            if job.submissions == 0 and not self._runner.take(job.spec):  # the budget is spent, or another runner
                self._stop = self._runner.stop                              # plays it
                continue
            ref = player.actor.play.remote(job.spec, self._runner.earlier(job.spec), job.submissions > 0)
            job.submissions += 1
            player.running += 1
            self._running[ref] = (job, player)

    def _warming_up(self) -> bool:
        """Hold the first episodes until every first player is ready (at most `_WARM_UP_S` after the first one),
        so that the work spreads over the whole cluster from the start."""
        if not self._warm:
            waited = time.monotonic() - (self._first_ready or math.inf)
            self._warm = not self._starting or waited >= _WARM_UP_S
        return not self._warm

    def _started(self, ref: Any) -> None:
        player = self._starting.pop(ref)
        try:
            player.node_id = ray.get(ref)
        except (RayActorError, RayTaskError) as exc:
            if self._first_ready is None:
                cause = exc.cause if isinstance(exc, RayTaskError) else None
                if isinstance(cause, CoordinatorError):
                    raise cause from exc
                raise CoordinatorError(f"the Ray cluster cannot start a collabgap player ({exc}): install collabgap "
                                       "where the workers run, or give the job a runtime_env (docs/ray.md)") from exc
            self._lose(player, exc)
            return
        player.ready = True
        self._first_ready = self._first_ready or time.monotonic()

    def _finished(self, ref: Any) -> None:
        job, player = self._running.pop(ref)
        player.running -= 1
        try:
            played: PlayedEpisode = ray.get(ref)
        except RayActorError as exc:
            self._lose(player, exc)
            self._resubmit(job, exc)
            return
        except RayTaskError as exc:
            if not isinstance(exc.cause, (StoreError, InfrastructureError, LeaseLostError)):
                raise
            logger.warning("player %s could not finish episode %s: %s", player.name, job.spec.episode_id, exc.cause)
            self._resubmit(job, exc.cause)
            return
        self._count(played)

    def _count(self, played: PlayedEpisode) -> None:
        record = played.record
        episode_id = record.spec.episode_id
        if episode_id in self._counted:
            return
        self._counted.add(episode_id)
        self._runner.finish(record, played.retries)
        logger.info("episode %s stored (%s) by %s on node %s", episode_id, record.status, played.player,
                    played.node_id, extra={"episode_id": episode_id, "node_id": played.node_id,
                                           "player": played.player, "found_stored": played.found_stored})

    def _resubmit(self, job: _Job, reason: BaseException) -> None:
        if job.submissions > RESUBMISSIONS:
            if isinstance(reason, CoordinatorError):
                raise reason
            raise CoordinatorError(f"episode {job.spec.episode_id} was lost with {job.submissions} Ray players in "
                                   f"turn (last: {reason}); run again to resume") from reason
        self._pending.appendleft(job)

    def _lose(self, player: _Player, reason: BaseException) -> None:
        if player not in self._players:
            return
        self._players.remove(player)
        self._starting = {ref: p for ref, p in self._starting.items() if p is not player}
        logger.warning("Ray player %s on node %s was lost (%s); its episodes go to other players", player.name,
                       player.node_id or "?", type(reason).__name__,
                       extra={"lost_player": player.name, "node_id": player.node_id})
        ray.kill(player.actor, no_restart=True)
        self._limiter.release_holder.remote(player.name)
        self._topped_up = 0.0  # look for room for a replacement now

    def _top_up(self) -> None:
        """Replace lost players where the cluster has a free CPU (a new node, say); at most every few seconds."""
        if len(self._players) >= self._target or time.monotonic() - self._topped_up < _TOP_UP_EVERY_S:
            return
        self._topped_up = time.monotonic()
        free = int(ray.available_resources().get("CPU", 0))
        for _ in range(min(free, self._target - len(self._players))):
            self._spawn()

    def _spawn(self) -> None:
        if self._spawned >= _SPAWNS_PER_PLAYER * self._target:
            return
        self._spawned += 1
        name = f"player-{self._tag}-{self._spawned}"
        actor = self._player_class.options(num_cpus=1, max_restarts=0, max_concurrency=self._games + 4,
                                      scheduling_strategy="SPREAD").remote(name, self._settings, self._limiter)
        player = _Player(name, actor)
        self._players.append(player)
        self._starting[actor.start.remote()] = player  # type: ignore[attr-defined]

    def _let_go(self, graceful: bool) -> None:
        if graceful:
            closing = [player.actor.close.remote() for player in self._players if player.ready]
            if closing:
                ray.wait(closing, num_returns=len(closing), timeout=_CLOSE_TIMEOUT_S)
        for player in self._players:
            ray.kill(player.actor, no_restart=True)
        self._players.clear()

