"""The Ray actors of a run: `EndpointLimiter` leases game and agent slots across workers; `EpisodePlayer`
plays episodes on a worker and saves them into the shared store (see `_ray` for the whole picture)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

try:
    import ray
except ImportError:  # Ray is optional (`collabgap[ray]`): play_plan_on_ray says how to install it
    ray = None  # type: ignore[assignment]

from .._errors import CoordinatorError
from .._records import EpisodeRecord, EpisodeSpec
from ..game._episode import episode_agents
from ..runs._engine import EngineSettings, EpisodeEngine
from ..runs._store import Store

logger = logging.getLogger(__name__)

RESUBMISSIONS = 3
"""How often one episode goes to another player after its player was lost or could not save it."""
START_TIMEOUT_S = 300.0
"""How long the driver waits, with episodes to play, for a player to start (image pulls, autoscaling)."""
NAMESPACE = "collabgap"
"""The Ray namespace of a run's actors, when `collabgap run` connects to the cluster itself."""
_GAMES = "*games*"
_POLL_S = 0.5
_CLOSE_TIMEOUT_S = 10.0
"""How long the driver waits for its players to close their connections."""
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
    the local backend (`_run._play_locally`) takes its semaphores in, so two episodes never wait on each other's
    agents. Its holder renews it while the episode runs; a lease not renewed for `ttl_s` (the game timeout)
    expires, so a player that died cannot keep its slots. The class is plain asyncio: the Ray actor is
    `ray.remote(EndpointLimiter)`.
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
class PlayedEpisode:
    """What a player sends back for one episode, whose record is already in the store."""

    record: EpisodeRecord
    retries: int
    """Attempts beyond the first, after platform errors."""
    player: str
    node_id: str
    """The Ray node whose player saved (or found) the record."""
    found_stored: bool = False
    """True when a player lost earlier had saved the episode before it died; nothing was played again."""


class EpisodePlayer:
    """Plays episodes on one Ray worker process, several at once, with the run's `EpisodeEngine` (a Ray async
    actor); the engine saves each record into the shared store. The class is plain asyncio: the actor is
    `ray.remote(EpisodePlayer)`.
    """

    def __init__(self, name: str, settings: EngineSettings, limiter: Any) -> None:
        self._name = name
        self._settings = settings
        self._limiter = limiter
        self._store: Store | None = None
        self._engine: EpisodeEngine | None = None

    async def start(self) -> str:
        """Open the store; returns the Ray node this player runs on.

        Raises:
            StoreError: the store cannot be reached from this node.
        """
        self._store = await asyncio.to_thread(Store.open, self._settings.store_url)
        self._engine = EpisodeEngine(self._settings, self._store)
        return str(ray.get_runtime_context().get_node_id())

    async def play(self, spec: EpisodeSpec, earlier: EpisodeRecord | None, resubmitted: bool) -> PlayedEpisode:
        """Play one episode (replacing `earlier`, a stored platform error, when given) and save its record.

        Raises:
            StoreError: the record could not be saved; the driver gives the episode to another player.
        """
        store, engine = self._store, self._engine
        assert store is not None and engine is not None, "start() opens the store before any episode"
        node_id = str(ray.get_runtime_context().get_node_id())
        if resubmitted:
            stored = await asyncio.to_thread(store.episode, self._settings.run_id, spec.episode_id)
            if stored is not None and stored != earlier:
                return PlayedEpisode(stored, 0, self._name, node_id, found_stored=True)
        async with self._lease(sorted({agent.url for agent in episode_agents(spec)})):
            played = await engine.play(spec, earlier)
        await engine.save(played.record, replace_error=earlier is not None)
        return PlayedEpisode(played.record, played.retries, self._name, node_id)

    async def close(self) -> None:
        """Close the connections and the store (the driver calls this before it lets the actor go)."""
        if self._engine is not None:
            await self._engine.close()
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
