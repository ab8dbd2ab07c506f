"""`collabgap run FILE --ray ADDRESS`: a run's episodes, played by a pool of Ray actors across a cluster.

    driver (collabgap run)             worker nodes                            head node
    ──────────────────────             ─────────────────────────────────       ─────────────────────────
    keeps `concurrency.games`    ───►  EpisodePlayer, one per CPU: its own     EndpointLimiter, named
    episodes in flight, checks         referee and agent connections and       per run: leases for a
    the budget before each      ◄───   store; plays several episodes at once   game slot and each agent
    one, counts what comes back        and saves each record itself            URL, which expire unless
                                                                               their holder renews them

The driver never writes an episode: each player saves its records into the shared store, one transaction per
episode, and sends the record back so the driver can count progress and spend the budget. Failures:

- A player that dies (its process, or its whole node) fails its calls with `RayActorError`. The driver kills
  it for good, frees its leases, starts a replacement where the cluster has room, and gives each unfinished
  episode to another player. That player first asks the store whether the lost one had saved it already.
- A save that fails is retried by the player; a save that committed before the connection broke is absorbed
  by the store's UNIQUE episode id, so a retried episode is never stored twice. A player that still cannot
  save raises `StoreError`, and the episode goes to another player.
- An episode that fails on `RESUBMISSIONS + 1` players stops the run; a rerun resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
except ImportError:  # Ray is optional (`collabgap[ray]`): play_plan_on_ray says how to install it
    ray = None  # type: ignore[assignment]

from ._episode import episode_agents, play_episode
from ._errors import ConfigError, CoordinatorError, InfrastructureError, StoreError
from ._prices import PriceTable
from ._prompts import Prompts
from ._records import EpisodeRecord, EpisodeSpec
from ._referee_client import RefereeClient
from ._run import RunProgress, _agent_limit, _Budget, _remote_url
from ._runfile import RunFile
from ._seat_client import AgentConnection
from ._store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

RESUBMISSIONS = 3
"""How often one episode goes to another player after its player was lost or could not save it."""
SAVE_ATTEMPTS = 3
"""Tries a player makes to save one record (1 s, then 2 s apart) before it gives the episode back."""
START_TIMEOUT_S = 300.0
"""How long the driver waits, with episodes to play, for a player to start (image pulls, autoscaling)."""
NAMESPACE = "collabgap"
"""The Ray namespace of a run's actors, when `collabgap run` connects to the cluster itself."""
_GAMES = "*games*"
_POLL_S = 0.5
_CLOSE_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 10.0
_TOP_UP_EVERY_S = 5.0
_WARM_UP_S = 30.0
_SPAWNS_PER_PLAYER = 4


class LeaseLostError(CoordinatorError):
    """The limiter dropped a lease: its holder was declared lost, or did not renew it within the game timeout."""


@dataclass
class _Lease:
    holder: str
    held: list[str] = field(default_factory=list)
    expires: float = math.inf
    closed: bool = False


class EndpointLimiter:
    """Game slots and per-agent slots for every player of a run; runs as one named Ray actor on the head node.

    A lease takes one game slot, then one slot of each of the episode's agent URLs in sorted order, the order
    `_play_plan` takes its semaphores in, so two episodes never wait on each other's agents. Its holder renews it
    while the episode runs; a lease not renewed for `ttl_s` (the game timeout) expires, so a player that died
    cannot keep its slots. The class is plain asyncio: the Ray actor is `ray.remote(EndpointLimiter)`.
    """

    def __init__(self) -> None:
        self._limits: dict[str, int] = {}
        self._default = 1
        self._used: dict[str, int] = {}
        self._leases: dict[str, _Lease] = {}
        self._ttl_s = 1800.0
        self._changed = asyncio.Event()

    async def configure(self, games: int, per_agent: int, agents: dict[str, int], ttl_s: float) -> None:
        """Set the game limit, the limit of agents not named in `agents`, and the lease lifetime."""
        self._limits.update({_GAMES: games, **agents})
        self._default, self._ttl_s = per_agent, ttl_s
        self._notify()

    async def acquire(self, holder: str, urls: list[str]) -> str:
        """Wait for a game slot and a slot of each agent URL; returns the lease id.

        Raises:
            LeaseLostError: the holder was released (declared lost) while it waited.
        """
        lease_id = uuid.uuid4().hex
        lease = self._leases[lease_id] = _Lease(holder)
        try:
            for key in [_GAMES, *sorted(set(urls))]:
                while not (lease.closed or self._used.get(key, 0) < self._limits.get(key, self._default)):
                    await self._wait_for_change()
                if lease.closed:
                    raise LeaseLostError(f"the lease of {holder} was released while it waited for {key}")
                self._used[key] = self._used.get(key, 0) + 1
                lease.held.append(key)
        except BaseException:
            self.release(lease_id)
            raise
        lease.expires = time.monotonic() + self._ttl_s
        return lease_id

    def renew(self, lease_id: str) -> bool:
        """Push the lease's expiry one game timeout ahead; False if the limiter no longer knows it."""
        lease = self._leases.get(lease_id)
        if lease is None:
            return False
        lease.expires = time.monotonic() + self._ttl_s
        return True

    def release(self, lease_id: str) -> None:
        """Give the lease's slots back (releasing twice is harmless)."""
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            return
        lease.closed = True
        for key in lease.held:
            self._used[key] -= 1
        self._notify()

    def release_holder(self, holder: str) -> int:
        """Release every lease of a lost player, including those still waiting; returns how many."""
        lost = [lease_id for lease_id, lease in self._leases.items() if lease.holder == holder]
        for lease_id in lost:
            self.release(lease_id)
        return len(lost)

    def usage(self) -> dict[str, int]:
        """Slots in use: `*games*` and each agent URL."""
        return {key: count for key, count in self._used.items() if count}

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for_change(self) -> None:
        """Wait until a lease is released or configured, or the next lease expires (only waiters need expiry)."""
        self._expire()
        deadline = min((lease.expires for lease in self._leases.values()), default=math.inf)
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), None if deadline == math.inf else deadline - time.monotonic())
        self._expire()

    def _expire(self) -> None:
        now = time.monotonic()
        for lease_id in [i for i, lease in self._leases.items() if lease.expires <= now]:
            logger.warning("a lease of %s expired unrenewed; its slots are free again", self._leases[lease_id].holder)
            self.release(lease_id)


@dataclass(frozen=True)
class PlayerSettings:
    """What every player of a run needs; secrets stay `SecretStr` on their way through the cluster."""

    run_id: str
    store_url: str
    referee_url: str
    referee_token: SecretStr
    agent_tokens: dict[str, SecretStr]
    """Agent URL → bearer token, for agents whose run-file entry names a `token_env`."""
    turn_timeout_s: float
    lease_ttl_s: float
    retries: int
    prompts: Prompts
    prices: PriceTable


@dataclass(frozen=True)
class PlayedEpisode:
    """What a player sends back for one episode, whose record is already in the store."""

    record: EpisodeRecord
    retries: int
    """Attempts beyond the first, after infrastructure errors."""
    player: str
    node_id: str
    """The Ray node whose player saved (or found) the record."""
    found_stored: bool = False
    """True when a player lost earlier had saved the episode before it died; nothing was played again."""


class _Held(Generic[T]):
    """An async context entered and left by one long-lived task, so many episodes (each its own task) can share
    it: the referee's MCP session and the A2A clients run task groups that must close where they opened."""

    def __init__(self, opener: AbstractAsyncContextManager[T]) -> None:
        self._opener = opener
        self._ready: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._hold())

    async def _hold(self) -> None:
        try:
            async with self._opener as value:
                self._ready.set_result(value)
                await self._stop.wait()
        except Exception as exc:  # noqa: BLE001 - handed to whoever awaits `get`, or logged once it was in use
            if self._ready.done():
                logger.warning("a held connection ended with an error: %s", exc)
            else:
                self._ready.set_exception(exc)

    @property
    def ended(self) -> bool:
        """The context closed (its connection failed, or `close` was called): open a new one for later episodes."""
        return self._task.done()

    async def get(self) -> T:
        return await asyncio.shield(self._ready)

    async def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), _CLOSE_TIMEOUT_S)


class EpisodePlayer:
    """Plays episodes on one Ray worker process, several at once on its event loop (a Ray async actor).

    It opens its own referee and agent connections on first use and keeps them for every later episode, and
    writes each record to the store itself. The class is plain asyncio: the actor is `ray.remote(EpisodePlayer)`.
    """

    def __init__(self, name: str, settings: PlayerSettings, limiter: Any) -> None:
        self._name = name
        self._settings = settings
        self._limiter = limiter
        self._store: Store | None = None
        self._referee: _Held[RefereeClient] | None = None
        self._agents: dict[str, _Held[AgentConnection]] = {}

    async def start(self) -> str:
        """Open the store; returns the Ray node this player runs on.

        Raises:
            StoreError: the store cannot be reached from this node.
        """
        self._store = await asyncio.to_thread(Store.open, self._settings.store_url)
        return str(ray.get_runtime_context().get_node_id())

    async def play(self, spec: EpisodeSpec, resubmitted: bool) -> PlayedEpisode:
        """Play one episode (retrying infrastructure errors as the run file says) and save its record.

        Raises:
            StoreError: the record could not be saved; the driver gives the episode to another player.
            InfrastructureError: the referee cannot be reached from this node.
        """
        node_id = str(ray.get_runtime_context().get_node_id())
        if resubmitted and (earlier := await asyncio.to_thread(self._stored_record, spec.episode_id)) is not None:
            return PlayedEpisode(earlier, 0, self._name, node_id, found_stored=True)
        urls = sorted({agent.url for agent in episode_agents(spec)})
        retries = 0
        async with self._lease(urls):
            referee = await self._connect_referee()
            for attempt in range(1, self._settings.retries + 2):
                agents = await self._connect_agents(urls)
                record = await play_episode(spec, referee, agents, prompts=self._settings.prompts,
                                            prices=self._settings.prices)
                record = record.model_copy(update={"attempt": attempt})
                if record.status != "error" or record.error is None or record.error.kind == "internal":
                    break
                if attempt <= self._settings.retries:
                    retries += 1
        await self._save(record)
        return PlayedEpisode(record, retries, self._name, node_id)

    async def close(self) -> None:
        """Close the connections and the store (the driver calls this before it lets the actor go)."""
        for held in [*self._agents.values(), *([self._referee] if self._referee else [])]:
            await held.close()
        self._agents, self._referee = {}, None
        if self._store is not None:
            self._store.close()

    @contextlib.asynccontextmanager
    async def _lease(self, urls: list[str]) -> AsyncIterator[None]:
        lease_id: str = await self._limiter.acquire.remote(self._name, urls)
        renewal = asyncio.create_task(self._renew(lease_id))
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await self._limiter.release.remote(lease_id)

    async def _renew(self, lease_id: str) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_ttl_s / 3)
            if not await self._limiter.renew.remote(lease_id):
                logger.warning("the limiter lost lease %s (it restarted?); limits hold again from the next episode",
                               lease_id)
                return

    async def _connect_referee(self) -> RefereeClient:
        if self._referee is None or self._referee.ended:
            opener = RefereeClient.connect(self._settings.referee_url,
                                           self._settings.referee_token.get_secret_value())
            self._referee = _Held(opener)
        held = self._referee
        try:
            return await held.get()
        except InfrastructureError:
            if self._referee is held:
                self._referee = None  # the next episode tries again
            raise

    async def _connect_agents(self, urls: list[str]) -> dict[str, AgentConnection]:
        """Cached connections to `urls`; an agent that cannot be reached is left out, so its episode ends as an
        `agent_unreachable` error (and the next attempt tries to connect again)."""
        connections: dict[str, AgentConnection] = {}
        for url in urls:
            held = self._agents.get(url)
            if held is None or held.ended:
                token = self._settings.agent_tokens.get(url)
                held = self._agents[url] = _Held(AgentConnection.open(
                    url, token=token.get_secret_value() if token else None, timeout=self._settings.turn_timeout_s))
            try:
                connections[url] = await held.get()
            except InfrastructureError as exc:
                logger.warning("player %s cannot connect to %s: %s", self._name, url, exc)
                if self._agents.get(url) is held:
                    del self._agents[url]
        return connections

    async def _save(self, record: EpisodeRecord) -> None:
        store = self._store
        assert store is not None, "start() opens the store before any episode"
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                # False means the episode is stored already: by a save of ours that committed before its
                # connection broke, or by a lost player. Either way it is in the store exactly once.
                await asyncio.to_thread(store.save_episode, self._settings.run_id, record)
                return
            except StoreError as exc:
                if attempt == SAVE_ATTEMPTS:
                    raise
                logger.warning("player %s could not save episode %s (try %d): %s", self._name,
                               record.spec.episode_id, attempt, exc)
                await asyncio.sleep(2 ** (attempt - 1))

    def _stored_record(self, episode_id: str) -> EpisodeRecord | None:
        store = self._store
        assert store is not None, "start() opens the store before any episode"
        if episode_id not in store.stored_episode_ids(self._settings.run_id):
            return None
        return next((r for r in store.episodes(self._settings.run_id) if r.spec.episode_id == episode_id), None)


def play_plan_on_ray(run: RunFile, plan: list[EpisodeSpec], store: Store, run_id: str, store_url: str,
                     referee_url: str, token: SecretStr, progress: RunProgress,
                     ray_address: str) -> tuple[int, int, str | None]:
    """Play the unstored part of `plan` on the Ray cluster at `ray_address`; returns (played, errors, budget note)
    with the meaning `_play_plan` gives them.

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
    stored = store.stored_episode_ids(run_id)
    todo = [spec for spec in plan if spec.episode_id not in stored]
    budget = _Budget(run, 0, 0.0)
    for record in store.episodes(run_id) if stored else []:
        budget.add(record)
    if not todo:
        return 0, 0, None
    owns_connection = not ray.is_initialized()
    if owns_connection:
        _probe(ray_address)
        try:
            ray.init(address=ray_address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError) as exc:
            raise ConfigError(f"cannot join the Ray cluster at {ray_address}: {exc}") from exc
    try:
        urls = sorted({agent.url for spec in todo for agent in episode_agents(spec)})
        _check_reachable(store_url, [referee_url, *urls])
        limiter = ray.remote(EndpointLimiter).options(
            name=f"collabgap-limits-{run_id}", get_if_exists=True, num_cpus=0, max_restarts=-1,
            max_task_retries=-1, max_concurrency=max(1000, 4 * run.concurrency.games),
            resources={"node:__internal_head__": 0.001}).remote()
        limits = {url: _agent_limit(run, url, todo) for url in urls}
        try:
            ray.get(limiter.configure.remote(run.concurrency.games, run.concurrency.per_agent, limits,
                                             run.limits.game_timeout_s), timeout=START_TIMEOUT_S)
        except GetTimeoutError as exc:
            raise CoordinatorError(f"the run's limiter did not start on the Ray head node within "
                                   f"{START_TIMEOUT_S:g} s (`ray status`)") from exc
        tokens = {url: SecretStr(value) for name, agent in run.agents.items()
                  if (url := _remote_url(run, name)) and agent.token_env and (value := os.environ.get(agent.token_env))}
        settings = PlayerSettings(
            run_id=run_id, store_url=store_url, referee_url=referee_url, referee_token=token, agent_tokens=tokens,
            turn_timeout_s=run.limits.turn_timeout_s, lease_ttl_s=run.limits.game_timeout_s, retries=run.retries,
            prompts=Prompts.load(run.prompts_dir), prices=PriceTable.load(run.prices_file))
        return _Scheduler(run, todo, budget, progress, settings, limiter).run()
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

    def __init__(self, run: RunFile, todo: list[EpisodeSpec], budget: _Budget, progress: RunProgress,
                 settings: PlayerSettings, limiter: Any) -> None:
        self._games = run.concurrency.games
        self._pending = deque(_Job(spec) for spec in todo)
        self._budget = budget
        self._progress = progress
        self._settings = settings
        self._limiter = limiter
        self._tag = uuid.uuid4().hex[:6]
        self._player_class = ray.remote(EpisodePlayer)
        self._players: list[_Player] = []
        self._starting: dict[Any, _Player] = {}
        self._running: dict[Any, tuple[_Job, _Player]] = {}
        self._counted: set[str] = set()
        self._errors = 0
        self._stop: str | None = None
        self._spawned = 0
        self._topped_up = 0.0
        self._first_ready: float | None = None
        self._warm = False
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self._target = max(1, min(self._games, cpus))  # with no CPU yet, one pending player asks the autoscaler

    def run(self) -> tuple[int, int, str | None]:
        for _ in range(self._target):
            self._spawn()
        self._topped_up = time.monotonic()
        finished = False
        try:
            self._loop()
            finished = True
        finally:
            self._let_go(graceful=finished)
        return len(self._counted), self._errors, self._stop

    def _loop(self) -> None:
        waiting_since = time.monotonic()
        while True:
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
            if (stop := self._budget.reached()) is not None:
                self._stop = stop
                return
            job = self._pending.popleft()
            ref = player.actor.play.remote(job.spec, job.submissions > 0)
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
        self._budget.add(record)
        self._errors += record.status == "error"
        self._progress.retries += played.retries
        self._progress.count(record)
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
        self._starting[actor.start.remote()] = player

    def _let_go(self, graceful: bool) -> None:
        if graceful:
            closing = [player.actor.close.remote() for player in self._players if player.ready]
            if closing:
                ray.wait(closing, num_returns=len(closing), timeout=_CLOSE_TIMEOUT_S)
        for player in self._players:
            ray.kill(player.actor, no_restart=True)
        self._players.clear()

